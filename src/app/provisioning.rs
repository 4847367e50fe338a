//! Settings › Provisioning: SCIM tokens for an identity provider (Microsoft Entra ID, Okta) to
//! create the organization's members and teams, each shown once, with the service area, role
//! and sending choice of the people it creates.

use crate::api::provisioning::*;
use crate::components::{action_error, FieldError, FormError, Loaded};
use crate::domain::provisioning::{ScimToken, ShownToken, TokenForm};
use crate::domain::settings::{Role, ServiceArea};
use crate::domain::time::format_utc;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProvisioningPage() -> impl IntoView {
    let create = ServerAction::<CreateScimToken>::new();
    // Bumped after each change that went through, to read the tokens again.
    let changed = RwSignal::new(0u32);
    let page = Resource::new(move || changed.get(), |_| provisioning());
    let adding = RwSignal::new(false);
    // The token just made: shown until dismissed, and never again.
    let shown = RwSignal::new(None::<ShownToken>);
    // The form that had focus goes; focus moves to the token, which screen readers then read.
    let token_field = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(Ok(token)) = create.value().get() {
            adding.set(false);
            shown.set(Some(token));
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let (Some(_), Some(field)) = (shown.get(), token_field.get()) {
            let _ = field.focus();
        }
    });
    let on_create = Callback::new(move |form: TokenForm| {
        create.dispatch(CreateScimToken { form });
    });
    view! {
        <Title text="Provisioning · Onboard"/>
        <div class="page">
            <h1>"Provisioning"</h1>
            <p class="lead">
                "Let Microsoft Entra ID, Okta or another SCIM 2.0 client create your members and teams: "
                "each user it assigns is invited, each user it disables is paused, and each group it pushes is a team. "
                "Give it the SCIM base URL below and a token made here."
            </p>
            <Show when=move || shown.get().is_some()>
                <section class="notice" aria-labelledby="token-heading">
                    <h2 id="token-heading">"New token"</h2>
                    <p>"Copy it into your identity provider now: Onboard shows it only once."</p>
                    <label for="shown-base-url">"SCIM base URL (Tenant URL)"</label>
                    <input id="shown-base-url" class="webhook-url" readonly
                        prop:value=move || shown.get().map(|s| s.base_url).unwrap_or_default()/>
                    <label for="shown-token">"Secret token"</label>
                    <input id="shown-token" class="webhook-url" readonly node_ref=token_field
                        prop:value=move || shown.get().map(|s| s.token).unwrap_or_default()/>
                    // Forgotten by the page too, not only hidden.
                    <button type="button" class="button-quiet" on:click=move |_| {
                        shown.set(None);
                        create.value().set(None);
                    }>"I have copied it"</button>
                </section>
            </Show>
            <Loaded resource=page let:page>
                {
                let (areas, roles) = (page.areas.clone(), page.roles.clone());
                view! {
                    <p>"SCIM base URL: "<code>{page.base_url.clone()}</code></p>
                    <Show when=move || !adding.get()
                        fallback=move || view! {
                            <section class="card" aria-labelledby="new-token-heading">
                                <h2 id="new-token-heading">"New token"</h2>
                                <TokenEditor prefix="new".to_string() initial=None areas=areas.clone() roles=roles.clone()
                                    error=action_error(create) pending=create.pending() on_save=on_create
                                    on_cancel=Callback::new(move |_| adding.set(false))/>
                            </section>
                        }>
                        <p>
                            <button type="button" class="button-primary" disabled=move || shown.with(Option::is_some)
                                on:click=move |_| adding.set(true)>"Add token"</button>
                        </p>
                    </Show>
                    {if page.tokens.is_empty() {
                        view! { <p class="notice" role="status">"No tokens yet. Add one for each identity provider."</p> }.into_any()
                    } else {
                        page.tokens.into_iter()
                            .map(|token| view! { <TokenCard token areas=page.areas.clone() roles=page.roles.clone() changed/> })
                            .collect_view()
                            .into_any()
                    }}
                }
                }
            </Loaded>
        </div>
    }
}

/// A token's form: its name, and the service area, role and sending choice of the people it creates.
#[component]
fn TokenEditor(
    /// Makes the form's element ids unique on the page.
    prefix: String,
    initial: Option<ScimToken>,
    areas: Vec<ServiceArea>,
    roles: Vec<Role>,
    #[prop(into)] error: Signal<Option<crate::AppError>>,
    #[prop(into)] pending: Signal<bool>,
    on_save: Callback<TokenForm>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let name = RwSignal::new(initial.as_ref().map(|t| t.name.clone()).unwrap_or_default());
    let area =
        RwSignal::new(initial.as_ref().map(|t| t.service_area_id).or(areas.first().map(|a| a.id)).unwrap_or_default());
    let role = RwSignal::new(
        initial
            .as_ref()
            .map(|t| t.role_id)
            .or(roles.iter().find(|r| r.name == "Member").or(roles.first()).map(|r| r.id))
            .unwrap_or_default(),
    );
    let send = RwSignal::new(initial.as_ref().map(|t| t.send_invitations).unwrap_or(true));
    let field = move |name: &'static str| Signal::derive(move || error.get().and_then(|e| e.for_field(name)));
    let (name_id, area_id, role_id, send_id) =
        (format!("{prefix}-name"), format!("{prefix}-area"), format!("{prefix}-role"), format!("{prefix}-send"));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_save.run(TokenForm {
            name: name.get_untracked(),
            service_area_id: area.get_untracked(),
            role_id: role.get_untracked(),
            send_invitations: send.get_untracked(),
        });
    };
    view! {
        <form class="webhook-form" on:submit=submit>
            <FormError error/>
            <div class="field">
                <label for=name_id.clone()>"Name"</label>
                <input id=name_id.clone() autocomplete="off" required placeholder="Entra ID"
                    aria-describedby=format!("{name_id}-error") aria-invalid=move || field("name").get().is_some().to_string()
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <FieldError id=format!("{name_id}-error") message=field("name")/>
            </div>
            <div class="field">
                <label for=area_id.clone()>"Service area of the people it creates"</label>
                <select id=area_id.clone() aria-describedby=format!("{area_id}-error")
                    on:change=move |ev| area.set(event_target_value(&ev).parse().unwrap_or_default())>
                    {areas.into_iter().map(|a| view! { <option value=a.id selected=move || area.get() == a.id>{a.name}</option> }).collect_view()}
                </select>
                <FieldError id=format!("{area_id}-error") message=field("service_area_id")/>
            </div>
            <div class="field">
                <label for=role_id.clone()>"Role of the people it creates"</label>
                <select id=role_id.clone() aria-describedby=format!("{role_id}-error")
                    on:change=move |ev| role.set(event_target_value(&ev).parse().unwrap_or_default())>
                    {roles.into_iter().map(|r| view! { <option value=r.id selected=move || role.get() == r.id>{r.name}</option> }).collect_view()}
                </select>
                <FieldError id=format!("{role_id}-error") message=field("role_id")/>
            </div>
            <div class="field field-check">
                <input id=send_id.clone() type="checkbox" prop:checked=move || send.get()
                    on:change=move |ev| send.set(event_target_checked(&ev))/>
                <label for=send_id>"Send each created person their invitation at once (otherwise it waits on the Users list for you to send)"</label>
            </div>
            <button type="submit" class="button-primary" disabled=move || pending.get()>"Save token"</button>
            <button type="button" class="button-quiet" on:click=move |_| on_cancel.run(())>"Cancel"</button>
        </form>
    }
}

#[component]
fn TokenCard(token: ScimToken, areas: Vec<ServiceArea>, roles: Vec<Role>, changed: RwSignal<u32>) -> impl IntoView {
    let id = token.id;
    let update = ServerAction::<UpdateScimToken>::new();
    let delete = ServerAction::<DeleteScimToken>::new();
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(update.value().get(), Some(Ok(_))) {
            editing.set(false);
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(_))) {
            changed.update(|n| *n += 1);
        }
    });
    let heading_id = format!("token-{id}-heading");
    // Each card's buttons would be named alike: the token's name tells them apart.
    let (described, labelled_by, name) = (heading_id.clone(), heading_id.clone(), token.name.clone());
    let on_update = Callback::new(move |form: TokenForm| {
        update.dispatch(UpdateScimToken { id, form });
    });
    let sending =
        if token.send_invitations { "invites them at once" } else { "holds their invitations for you to send" };
    let used =
        token.last_used_at.map(|at| format!("Last used {}.", format_utc(at))).unwrap_or_else(|| "Not used yet.".into());
    let made = format!(
        "Made {}{}.",
        format_utc(token.created_at),
        token.created_by.as_ref().map(|by| format!(" by {by}")).unwrap_or_default()
    );
    let initial = token.clone();
    view! {
        <article class="card webhook-card" aria-labelledby=labelled_by>
            <header class="connector-head"><h2 id=heading_id>{token.name.clone()}</h2></header>
            <p>{format!("Creates people in {} as {}, and {sending}.", token.service_area, token.role)}</p>
            <p class="hint">{made}" "{used}</p>
            <Show when=move || editing.get()>
                <TokenEditor prefix=format!("token-{id}") initial=Some(initial.clone()) areas=areas.clone() roles=roles.clone()
                    error=action_error(update) pending=update.pending() on_save=on_update
                    on_cancel=Callback::new(move |_| editing.set(false))/>
            </Show>
            <FormError error=action_error(delete) all=true/>
            <div class="connector-actions">
                <button type="button" class="button-quiet" aria-label=format!("Edit {name}") on:click=move |_| editing.set(true)>"Edit"</button>
                <button type="button" class="button-quiet" aria-label=format!("Delete {name}") on:click=move |_| confirming.set(true)>"Delete"</button>
            </div>
            <Show when=move || confirming.get()>
                <p role="alert">
                    "Delete this token? Its identity provider can no longer provision until given a new one. "
                    <button type="button" class="button-danger" aria-describedby=described.clone()
                        on:click=move |_| { delete.dispatch(DeleteScimToken { id }); }>
                        "Yes, delete"
                    </button>
                    <button type="button" class="button-quiet" aria-describedby=described.clone() on:click=move |_| confirming.set(false)>"Cancel"</button>
                </p>
            </Show>
        </article>
    }
}
