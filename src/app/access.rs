//! The Access Requests panel: live, new requests appear while it is open.

use crate::api::access::types::{AccessFilter, AccessRequestPage, AccessRequestRow};
use crate::api::access::*;
use crate::components::{action_error, every, Avatar, FormError, Live, PageLinks};
use crate::domain::chat_users::{display_name, AccessStatus, Decision};
use crate::domain::query;
use crate::domain::time;
use leptos::prelude::*;
use leptos::Params;
use leptos_meta::Title;
use leptos_router::hooks::use_query;
use leptos_router::params::Params;
use std::collections::BTreeSet;

/// How often the panel looks for new requests while it is open.
pub(super) const REFRESH_MS: u32 = 3_000;

pub(super) fn status_badge(status: AccessStatus) -> impl IntoView {
    let class = match status {
        AccessStatus::Approved => "status-onboarded",
        AccessStatus::Rejected => "status-not-connected",
        AccessStatus::Pending => "status-notified",
    };
    view! { <span class=format!("badge {class}")>{status.label()}</span> }
}

/// The Access Requests panel's address: `/access-requests?status=…&connector=…&search=…&page=…`.
#[derive(Params, Clone, Debug, Default, PartialEq)]
struct AccessQuery {
    /// An `AccessStatus` key, or `all`; pending when absent.
    status: Option<String>,
    connector: Option<i64>,
    search: Option<String>,
    page: Option<i64>,
}

impl AccessQuery {
    fn filter(self) -> AccessFilter {
        AccessFilter {
            status: self.status.unwrap_or_else(|| "pending".into()).replace("all", ""),
            connector: self.connector.unwrap_or(0),
            search: self.search.unwrap_or_default(),
            page: self.page.unwrap_or(1),
        }
    }
}

#[component]
pub fn AccessRequestsPage() -> impl IntoView {
    let query = use_query::<AccessQuery>();
    // An address that does not parse shows the default list rather than an error.
    let filter = Memo::new(move |_| query.get().unwrap_or_default().filter());
    let refresh = RwSignal::new(0u32);
    every(REFRESH_MS, move || refresh.update(|n| *n += 1));
    view! {
        <Title text="Access requests · Onboard"/>
        <div class="page">
            <h1>"Access requests"</h1>
            <p class="lead">"People who wrote to a connector with Onboarding on. Approve them to let them talk to the agent."</p>
            <Live key=filter fetch=access_requests refresh let:data>
                <Requests data filter=filter.get_untracked() refresh/>
            </Live>
        </div>
    }
}

fn filter_href(f: &AccessFilter) -> String {
    let status = if f.status.is_empty() { "all" } else { f.status.as_str() };
    let connector = if f.connector != 0 { f.connector.to_string() } else { String::new() };
    let page = if f.page > 1 { f.page.to_string() } else { String::new() };
    query::href(
        "/access-requests",
        &[("status", status.into()), ("connector", connector), ("search", f.search.clone()), ("page", page)],
    )
}

#[component]
fn Requests(data: Memo<AccessRequestPage>, filter: AccessFilter, refresh: RwSignal<u32>) -> impl IntoView {
    let decide = ServerAction::<DecideAccess>::new();
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    Effect::new(move |_| {
        if matches!(decide.value().get(), Some(Ok(_))) {
            selected.set(BTreeSet::new());
            refresh.update(|n| *n += 1);
        }
    });
    let decide_many = move |decision: Decision| {
        let ids: Vec<i64> = selected.get_untracked().into_iter().collect();
        decide.dispatch(DecideAccess { ids, decision });
    };
    let tabs = [("pending", "Pending"), ("approved", "Approved"), ("rejected", "Rejected"), ("", "All")];
    let current = filter.clone();
    let navigate = leptos_router::hooks::use_navigate();
    let go = StoredValue::new(move |f: AccessFilter| navigate(&filter_href(&f), Default::default()));
    let (connector_filter, search_filter) = (filter.clone(), filter.clone());
    let on_page = move || data.with(|d| d.rows.iter().map(|r| r.id).collect::<Vec<_>>());
    let all_selected = move || {
        let ids = on_page();
        !ids.is_empty() && selected.with(|s| ids.iter().all(|id| s.contains(id)))
    };
    view! {
        <nav class="tabs" aria-label="Request status">
            {tabs
                .into_iter()
                .map(|(status, label)| {
                    let href = filter_href(&AccessFilter { status: status.into(), page: 1, ..current.clone() });
                    let count = move || data.with(|d| match status {
                        "pending" => format!(" ({})", d.pending),
                        "approved" => format!(" ({})", d.approved),
                        "rejected" => format!(" ({})", d.rejected),
                        _ => String::new(),
                    });
                    let is_current = current.status == status;
                    view! {
                        <a href=href aria-current=is_current.then_some("page") class:tab-current=is_current>
                            {label}{count}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <form class="filters" on:submit=move |ev| {
            ev.prevent_default();
        }>
            <div class="field">
                <label for="request-connector">"Connector"</label>
                <select id="request-connector" on:change=move |ev| {
                    let connector = event_target_value(&ev).parse().unwrap_or(0);
                    go.with_value(|go| go(AccessFilter { connector, page: 1, ..connector_filter.clone() }));
                }>
                    <option value="0">"All connectors"</option>
                    {data.with_untracked(|d| d.connectors.clone())
                        .into_iter()
                        .map(|(id, name)| view! { <option value=id.to_string() selected=filter.connector == id>{name}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="request-search">"Search"</label>
                <input id="request-search" type="search" value=filter.search.clone()
                    placeholder="Name, number or message"
                    on:change=move |ev| {
                        let search = event_target_value(&ev);
                        go.with_value(|go| go(AccessFilter { search, page: 1, ..search_filter.clone() }));
                    }/>
            </div>
        </form>
        <FormError error=action_error(decide) all=true/>
        <div class="bulk-actions" role="group" aria-label="Selected requests">
            <span aria-live="polite">{move || format!("{} selected", selected.with(|s| s.len()))}</span>
            <button type="button" class="button-primary" disabled=move || selected.with(|s| s.is_empty()) || decide.pending().get()
                on:click=move |_| decide_many(Decision::Approve)>"Approve selected"</button>
            <button type="button" class="button-quiet" disabled=move || selected.with(|s| s.is_empty()) || decide.pending().get()
                on:click=move |_| decide_many(Decision::Reject)>"Reject selected"</button>
        </div>
        <p class="visually-hidden" aria-live="polite">{move || format!("{} pending requests", data.with(|d| d.pending))}</p>
        <Show when=move || data.with(|d| !d.rows.is_empty())
            fallback=|| view! { <p class="notice" role="status">"No requests here."</p> }>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Access requests">
                <table class="requests">
                    <thead>
                        <tr>
                            <th scope="col">
                                <input type="checkbox" aria-label="Select every request on this page"
                                    prop:checked=all_selected
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let ids = on_page();
                                        selected.update(|s| for id in ids {
                                            if on { s.insert(id); } else { s.remove(&id); }
                                        });
                                    }/>
                            </th>
                            <th scope="col">"Who"</th>
                            <th scope="col">"Connector"</th>
                            <th scope="col">"First message"</th>
                            <th scope="col">"Asked"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || data.with(|d| d.rows.clone()) key=|r| r.clone() let:row>
                            <RequestLine row selected decide/>
                        </For>
                    </tbody>
                </table>
            </div>
        </Show>
        {move || {
            let (page, filter) = (filter.page, filter.clone());
            let href = move |page| filter_href(&AccessFilter { page, ..filter.clone() });
            view! { <PageLinks page total=data.with(|d| d.total) href/> }
        }}
    }
}

#[component]
fn RequestLine(
    row: AccessRequestRow,
    selected: RwSignal<BTreeSet<i64>>,
    decide: ServerAction<DecideAccess>,
) -> impl IntoView {
    let id = row.id;
    let name = display_name(&row.first_name, &row.last_name, &row.platform_id);
    let status = row.status;
    let one = move |decision: Decision| {
        decide.dispatch(DecideAccess { ids: vec![id], decision });
    };
    let decided = match (row.decided_by.clone(), row.decided_at) {
        (Some(by), at) => Some(format!("by {by}, {}", at.map(time::format_utc).unwrap_or_default())),
        // Nobody decided it: the connector lets members in.
        (None, Some(at)) if status == AccessStatus::Approved => {
            Some(format!("automatically, as a member, {}", time::format_utc(at)))
        }
        _ => None,
    };
    let actions = match status {
        AccessStatus::Pending => view! {
            <button type="button" class="button-primary" aria-label=format!("Approve {name}") on:click=move |_| one(Decision::Approve)>"Approve"</button>
            <button type="button" class="button-quiet" aria-label=format!("Reject {name}") on:click=move |_| one(Decision::Reject)>"Reject"</button>
        }
        .into_any(),
        AccessStatus::Approved => view! {
            <button type="button" class="button-quiet" aria-label=format!("Undo the approval of {name}") on:click=move |_| one(Decision::Undo)>"Undo approval"</button>
        }
        .into_any(),
        AccessStatus::Rejected => view! {
            <button type="button" class="button-quiet" aria-label=format!("Undo the rejection of {name}") on:click=move |_| one(Decision::Undo)>"Undo rejection"</button>
        }
        .into_any(),
    };
    view! {
        <tr>
            <td>
                <input type="checkbox" aria-label=format!("Select {name}")
                    prop:checked=move || selected.with(|s| s.contains(&id))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| if on { s.insert(id); } else { s.remove(&id); });
                    }/>
            </td>
            <td class="who">
                <Avatar name=name.clone() url=row.avatar_url.clone()/>
                <span>
                    <a href=format!("/chat-users/{}", row.chat_user_id)>{name.clone()}</a>
                    <span class="hint">{format!(" {} · {}", row.provider.label(), row.platform_id)}</span>
                </span>
            </td>
            <td>{row.connector_name.clone()}</td>
            <td class="first-message">{row.first_message.clone()}</td>
            <td><time>{time::format_utc(row.created_at)}</time></td>
            <td>{status_badge(row.status)} {decided.map(|d| view! { <span class="hint">" "{d}</span> })}</td>
            <td class="row-actions">{actions}</td>
        </tr>
    }
}
