//! Settings › Slack mappings and Settings › Microsoft Teams mappings: each member's chat
//! account, chosen from the provider's people or matched by email.

use crate::api::identity::types::{DirectoryUser, MappingPage, MappingRow};
use crate::api::identity::{identity_mappings, MatchIdentitiesByEmail, SetIdentityMapping};
use crate::components::{action_error, FormError, Loaded, PageLinks};
use crate::domain::onboarding::Provider;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SlackMappingsPage() -> impl IntoView {
    view! { <MappingsPage provider=Provider::Slack path="/settings/slack-mappings"/> }
}

#[component]
pub fn TeamsMappingsPage() -> impl IntoView {
    view! { <MappingsPage provider=Provider::Teams path="/settings/microsoftteams-mappings"/> }
}

#[component]
fn MappingsPage(provider: Provider, path: &'static str) -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| query.with(|q| q.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1)));
    let set = ServerAction::<SetIdentityMapping>::new();
    let matcher = ServerAction::<MatchIdentitiesByEmail>::new();
    let mappings = Resource::new(
        move || (page.get(), set.version().get(), matcher.version().get()),
        move |(page, _, _)| identity_mappings(provider.key().to_string(), page),
    );
    let title = format!("{} identity mappings", provider.label());
    view! {
        <Title text=format!("{title} · Onboard")/>
        <div class="page">
            <h1>{title}</h1>
            <p class="lead">
                {format!(
                    "Which {} account each member is. Onboarding messages go there; members without one get email.",
                    provider.label()
                )}
            </p>
            <FormError error=action_error(set) all=true/>
            <Loaded resource=mappings let:data>
                <MappingsView data set matcher path/>
            </Loaded>
        </div>
    }
}

#[component]
fn MappingsView(
    data: MappingPage,
    set: ServerAction<SetIdentityMapping>,
    matcher: ServerAction<MatchIdentitiesByEmail>,
    path: &'static str,
) -> impl IntoView {
    let MappingPage { provider, configured, rows, total, page, directory, directory_error } = data;
    let directory = StoredValue::new(directory);
    let editing = RwSignal::new(None::<i64>);
    // A saved choice closes the row's editor (the list reloads with it).
    Effect::new(move |_| {
        if set.version().get() > 0 {
            editing.set(None);
        }
    });
    let report = move || match matcher.value().get() {
        Some(Ok(r)) => {
            let unmatched = if r.unmatched.is_empty() {
                String::new()
            } else {
                format!(" Not found in {}: {}.", provider.label(), r.unmatched.join(", "))
            };
            Some(format!(
                "Matched {} member(s) by email; {} were already mapped.{unmatched}",
                r.matched, r.already_mapped
            ))
        }
        _ => None,
    };
    view! {
        {(!configured).then(|| view! {
            <p class="notice" role="status">
                {format!("{} is not set up on this Onboard, so its people cannot be listed. See the README's configuration table.", provider.label())}
            </p>
        })}
        {directory_error.map(|e| view! { <p class="notice notice-error" role="alert">{e}</p> })}
        {configured.then(|| view! {
            <section class="card">
                <ActionForm action=matcher>
                    <input type="hidden" name="provider" value=provider.key()/>
                    <button type="submit" class="button-primary" disabled=move || matcher.pending().get()>
                        {move || if matcher.pending().get() { "Matching…" } else { "Match by email" }}
                    </button>
                    <span class="hint">
                        {format!(" Maps every unmapped member whose email address {} knows. Its list of people is refreshed every five minutes.", provider.label())}
                    </span>
                </ActionForm>
                <FormError error=action_error(matcher) all=true/>
                {move || report().map(|r| view! { <p class="notice" role="status">{r}</p> })}
            </section>
        })}
        <div class="table-scroll" tabindex="0" role="region" aria-label="Members and their mappings">
            <table class="members">
                <thead>
                    <tr>
                        <th scope="col">"Member"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">{format!("{} account", provider.label())}</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| view! { <MappingLine row provider configured directory editing set/> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <PageLinks page total href=move |n| format!("{path}?page={n}")/>
    }
}

fn source_label(source: &str) -> &'static str {
    match source {
        "email" => "matched by email",
        "oauth" => "connected by the user",
        _ => "chosen by hand",
    }
}

#[component]
fn MappingLine(
    row: MappingRow,
    provider: Provider,
    configured: bool,
    directory: StoredValue<Vec<DirectoryUser>>,
    editing: RwSignal<Option<i64>>,
    set: ServerAction<SetIdentityMapping>,
) -> impl IntoView {
    let member = row.membership_id;
    let name = format!("{} {}", row.first_name, row.last_name).trim().to_string();
    let who = if name.is_empty() { row.email.clone() } else { name.clone() };
    let current = row.external_id.clone();
    let mapped = row.external_id.as_ref().map(|id| {
        let shown = row.external_name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| id.clone());
        (shown, format!("({})", source_label(row.source.as_deref().unwrap_or("manual"))))
    });
    let mapped_view = move || match mapped.clone() {
        Some((shown, how)) => view! { <span>{shown}</span> " " <span class="hint">{how}</span> }.into_any(),
        None => view! { <span class="hint">"Not mapped"</span> }.into_any(),
    };
    let select_id = format!("map-{member}");
    let edit_label = format!("Change the {} account of {who}", provider.label());
    let select_label = format!("{} account of {who}", provider.label());
    let editor = move || {
        let (select_id, select_label, current) = (select_id.clone(), select_label.clone(), current.clone());
        view! {
            <ActionForm action=set attr:class="inline-form">
                        <input type="hidden" name="provider" value=provider.key()/>
                        <input type="hidden" name="member" value=member.to_string()/>
                        <label for=select_id.clone() class="visually-hidden">{select_label.clone()}</label>
                        <select id=select_id.clone() name="external_id">
                            <option value="">"— Not mapped —"</option>
                            {directory.with_value(|users| {
                                users
                                    .iter()
                                    .map(|u| {
                                        let label = match &u.email {
                                            Some(e) => format!("{} ({e})", u.name),
                                            None => u.name.clone(),
                                        };
                                        view! { <option value=u.id.clone() selected=current.as_deref() == Some(u.id.as_str())>{label}</option> }
                                    })
                                    .collect_view()
                            })}
                        </select>
                        <button type="submit" class="button-primary">"Save"</button>
                        <button type="button" class="button-quiet" on:click=move |ev| {
                            ev.prevent_default();
                            editing.set(None);
                        }>"Cancel"</button>
                    </ActionForm>
        }
    };
    view! {
        <tr>
            <td>{if name.is_empty() { "—".to_string() } else { name }}</td>
            <td>{row.email.clone()}</td>
            <td>
                <Show when=move || editing.get() == Some(member) fallback=mapped_view>
                    {editor()}
                </Show>
            </td>
            <td>
                {configured.then(|| view! {
                    <button type="button" class="button-quiet" aria-label=edit_label.clone()
                        on:click=move |_| editing.set(Some(member))>"Change"</button>
                })}
            </td>
        </tr>
    }
}
