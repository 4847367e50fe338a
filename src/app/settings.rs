//! Settings › Organization: general options, service areas, roles and permissions, EULA versions.

mod agreement;
mod reminders;

use crate::api::settings::types::{OrgSettings, Role, ServiceArea};
use crate::api::settings::*;
use crate::components::{action_error, field_error, CountrySelect, FieldError, FormError, Loaded};
use crate::domain::{time, Permission};
use leptos::prelude::*;
use leptos_meta::Title;

/// Every settings action, so the page can refetch after any of them.
#[derive(Clone, Copy)]
struct Actions {
    general: ServerAction<UpdateGeneralSettings>,
    add_area: ServerAction<AddServiceArea>,
    rename_area: ServerAction<RenameServiceArea>,
    delete_area: ServerAction<DeleteServiceArea>,
    add_role: ServerAction<AddRole>,
    rename_role: ServerAction<RenameRole>,
    set_permission: ServerAction<SetRolePermission>,
    delete_role: ServerAction<DeleteRole>,
    publish_eula: ServerAction<PublishEula>,
    reminders: ServerAction<UpdateReminderSettings>,
}

impl Actions {
    fn new() -> Self {
        Self {
            general: ServerAction::new(),
            add_area: ServerAction::new(),
            rename_area: ServerAction::new(),
            delete_area: ServerAction::new(),
            add_role: ServerAction::new(),
            rename_role: ServerAction::new(),
            set_permission: ServerAction::new(),
            delete_role: ServerAction::new(),
            publish_eula: ServerAction::new(),
            reminders: ServerAction::new(),
        }
    }

    fn versions(&self) -> [usize; 10] {
        [
            self.general.version().get(),
            self.add_area.version().get(),
            self.rename_area.version().get(),
            self.delete_area.version().get(),
            self.add_role.version().get(),
            self.rename_role.version().get(),
            self.set_permission.version().get(),
            self.delete_role.version().get(),
            self.publish_eula.version().get(),
            self.reminders.version().get(),
        ]
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let actions = Actions::new();
    let settings = Resource::new(move || actions.versions(), |_| load_org_settings());
    view! {
        <Title text="Organization settings · Onboard"/>
        <Loaded resource=settings let:s>
            <SettingsView settings=s actions/>
        </Loaded>
    }
}

#[component]
fn SettingsView(settings: OrgSettings, actions: Actions) -> impl IntoView {
    let OrgSettings { general, areas, roles, eulas, agreement, reminders, audit, countries } = settings;
    let g = actions.general;
    let name_error = field_error(g, "name");
    let sender_error = field_error(g, "sender_name");
    let days_error = field_error(g, "invite_lifetime_days");
    let country_error = field_error(g, "default_country");
    let saved = move || matches!(g.value().get(), Some(Ok(())));
    view! {
        <div class="page">
            <h1>"Organization settings"</h1>
            <section class="card" aria-labelledby="general-heading">
                <h2 id="general-heading">"General"</h2>
                <FormError error=action_error(g)/>
                <ActionForm action=g>
                    <div class="field">
                        <label for="org-name">"Organization name"</label>
                        <input id="org-name" name="name" value=general.name.clone() required aria-describedby="org-name-error"/>
                        <FieldError id="org-name-error" message=name_error/>
                    </div>
                    <div class="field">
                        <label for="sender-name">"Sender name on emails"</label>
                        <input id="sender-name" name="sender_name" value=general.sender_name.clone() required aria-describedby="sender-name-error"/>
                        <FieldError id="sender-name-error" message=sender_error/>
                    </div>
                    <div class="field">
                        <label for="invite-days">"Invitation links stay valid for (days)"</label>
                        <input id="invite-days" name="invite_lifetime_days" type="number" inputmode="numeric"
                            value=general.invite_lifetime_days.to_string() required aria-describedby="invite-days-error"/>
                        <FieldError id="invite-days-error" message=days_error/>
                    </div>
                    <div class="field">
                        <label for="default-country">"Default country for mobile numbers"</label>
                        <CountrySelect id="default-country" name="default_country" countries
                            selected=general.default_country.clone() none="No default: numbers start with +"
                            describedby="default-country-hint default-country-error"/>
                        <p class="hint" id="default-country-hint">"Members registering can enter a national number, such as 07911 123456, for this country. They can still choose another."</p>
                        <FieldError id="default-country-error" message=country_error/>
                    </div>
                    <div class="field field-check">
                        <input id="require-2fa" name="require_2fa" type="checkbox" checked=general.require_2fa/>
                        <label for="require-2fa">"Require two-factor authentication for every member"</label>
                    </div>
                    <button type="submit" class="button-primary">"Save settings"</button>
                    <Show when=saved>
                        <span class="saved" role="status">"Saved."</span>
                    </Show>
                </ActionForm>
            </section>
            <AreasSection areas actions/>
            <RolesSection roles actions/>
            <agreement::AgreementSection eulas standing=agreement publish=actions.publish_eula/>
            <reminders::RemindersSection settings=reminders save=actions.reminders/>
            <section class="card" aria-labelledby="audit-heading">
                <h2 id="audit-heading">"Recent changes"</h2>
                {if audit.is_empty() {
                    view! { <p>"No changes yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="audit">
                            {audit
                                .into_iter()
                                .map(|entry| {
                                    view! {
                                        <li>
                                            <time>{time::format_utc(entry.at)}</time>
                                            " " <strong>{entry.actor.unwrap_or_else(|| "system".into())}</strong>
                                            " " {entry.action} ": " {entry.detail}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </section>
        </div>
    }
}

#[component]
fn AreasSection(areas: Vec<ServiceArea>, actions: Actions) -> impl IntoView {
    let add = actions.add_area;
    let add_error = field_error(add, "name");
    let row_error = Signal::derive(move || {
        action_error(actions.rename_area).get().or_else(|| action_error(actions.delete_area).get())
    });
    view! {
        <section class="card" aria-labelledby="areas-heading">
            <h2 id="areas-heading">"Service areas"</h2>
            <p class="hint">"Everyone invited joins one service area. An area with members cannot be deleted."</p>
            <FormError error=row_error all=true/>
            <ul class="rows">
                {areas
                    .into_iter()
                    .map(|area| {
                        let input_id = format!("area-{}", area.id);
                        let delete_label = format!("Delete service area {}", area.name);
                        view! {
                            <li class="row">
                                <ActionForm action=actions.rename_area attr:class="inline-form">
                                    <input type="hidden" name="id" value=area.id.to_string()/>
                                    <label for=input_id.clone() class="visually-hidden">"Name of service area " {area.name.clone()}</label>
                                    <input id=input_id name="name" value=area.name.clone() required/>
                                    <button type="submit" class="button-quiet">"Rename"</button>
                                </ActionForm>
                                <span class="count">{format!("{} member(s)", area.members)}</span>
                                <ActionForm action=actions.delete_area>
                                    <input type="hidden" name="id" value=area.id.to_string()/>
                                    <button type="submit" class="button-danger" aria-label=delete_label>
                                        "Delete"
                                    </button>
                                </ActionForm>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <ActionForm action=add attr:class="inline-form">
                <label for="new-area">"New service area"</label>
                <input id="new-area" name="name" required aria-describedby="new-area-error"/>
                <button type="submit" class="button-primary">"Add service area"</button>
            </ActionForm>
            <FieldError id="new-area-error" message=add_error/>
        </section>
    }
}

#[component]
fn RolesSection(roles: Vec<Role>, actions: Actions) -> impl IntoView {
    let add_error = field_error(actions.add_role, "name");
    let row_error = Signal::derive(move || {
        action_error(actions.set_permission)
            .get()
            .or_else(|| action_error(actions.rename_role).get())
            .or_else(|| action_error(actions.delete_role).get())
    });
    let header = roles.iter().map(|r| view! { <th scope="col">{r.name.clone()}</th> }).collect_view();
    let matrix = Permission::ALL
        .into_iter()
        .map(|permission| {
            let cells = roles
                .iter()
                .map(|role| {
                    let id = role.id;
                    let label = format!("{}: {}", role.name, permission.label());
                    view! {
                        <td>
                            <input type="checkbox" aria-label=label checked=role.permission_set().contains(permission)
                                disabled=role.locked
                                on:change=move |ev| {
                                    actions.set_permission.dispatch(SetRolePermission {
                                        id,
                                        permission: permission.key().to_string(),
                                        granted: event_target_checked(&ev),
                                    });
                                }/>
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{permission.label()} <code>{permission.key()}</code></th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="roles-heading">
            <h2 id="roles-heading">"Roles and permissions"</h2>
            <p class="hint">"The Owner role always has every permission. Changes apply at once to everyone with the role."</p>
            <FormError error=row_error all=true/>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Permissions by role">
                <table class="matrix">
                    <thead>
                        <tr><th scope="col">"Permission"</th>{header}</tr>
                    </thead>
                    <tbody>{matrix}</tbody>
                </table>
            </div>
            <ul class="rows">
                {roles
                    .into_iter()
                    .filter(|r| !r.locked)
                    .map(|role| {
                        let input_id = format!("role-{}", role.id);
                        let delete_label = format!("Delete role {}", role.name);
                        view! {
                            <li class="row">
                                <ActionForm action=actions.rename_role attr:class="inline-form">
                                    <input type="hidden" name="id" value=role.id.to_string()/>
                                    <label for=input_id.clone() class="visually-hidden">"Name of role " {role.name.clone()}</label>
                                    <input id=input_id name="name" value=role.name.clone() required/>
                                    <button type="submit" class="button-quiet">"Rename"</button>
                                </ActionForm>
                                <span class="count">{format!("{} member(s)", role.members)}</span>
                                <ActionForm action=actions.delete_role>
                                    <input type="hidden" name="id" value=role.id.to_string()/>
                                    <button type="submit" class="button-danger" aria-label=delete_label>
                                        "Delete"
                                    </button>
                                </ActionForm>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <ActionForm action=actions.add_role attr:class="inline-form">
                <label for="new-role">"New role"</label>
                <input id="new-role" name="name" required aria-describedby="new-role-error"/>
                <button type="submit" class="button-primary">"Add role"</button>
            </ActionForm>
            <FieldError id="new-role-error" message=add_error/>
        </section>
    }
}
