//! The Access Requests panel (live: new requests appear while it is open) and the chat users
//! with their conversations.

use crate::api::access::*;
use crate::api::types::{AccessFilter, AccessRequestPage, AccessRequestRow, ChatUserDetail, ChatUserPage, ChatUserRow};
use crate::components::{action_error, every, keep_fresh, Avatar, FormError, Loaded, PageLinks};
use crate::domain::connectors::{display_name, AccessStatus, ChatProvider, Decision};
use crate::domain::query;
use crate::domain::time;
use leptos::prelude::*;
use leptos::Params;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query};
use leptos_router::params::Params;
use std::collections::BTreeSet;

/// How often the panel looks for new requests while it is open.
const REFRESH_MS: u32 = 3_000;

fn provider_label(key: &str) -> &'static str {
    ChatProvider::parse(key).map(ChatProvider::label).unwrap_or("Unknown")
}

fn status_badge(status: &str) -> impl IntoView {
    let (class, label) = match AccessStatus::parse(status) {
        Some(AccessStatus::Approved) => ("status-onboarded", "Approved"),
        Some(AccessStatus::Rejected) => ("status-not-connected", "Rejected"),
        _ => ("status-notified", "Pending"),
    };
    view! { <span class=format!("badge {class}")>{label}</span> }
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
    let first = Resource::new(move || filter.get(), access_requests);
    view! {
        <Title text="Access requests · Onboard"/>
        <div class="page">
            <h1>"Access requests"</h1>
            <p class="lead">"People who wrote to a connector with Onboarding on. Approve them to let them talk to the agent."</p>
            <Loaded resource=first let:page>
                <Requests first=page filter=filter.get_untracked()/>
            </Loaded>
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
fn Requests(first: AccessRequestPage, filter: AccessFilter) -> impl IntoView {
    let data = RwSignal::new(first);
    let pulse = RwSignal::new(0u32);
    every(REFRESH_MS, move || pulse.update(|n| *n += 1));
    let fetch_filter = filter.clone();
    keep_fresh(data, pulse, move || access_requests(fetch_filter.clone()));
    let decide = ServerAction::<DecideAccess>::new();
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    Effect::new(move |_| {
        if matches!(decide.value().get(), Some(Ok(_))) {
            selected.set(BTreeSet::new());
            pulse.update(|n| *n += 1);
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
    let status = AccessStatus::parse(&row.status).unwrap_or(AccessStatus::Pending);
    let one = move |decision: Decision| {
        decide.dispatch(DecideAccess { ids: vec![id], decision });
    };
    let decided = row
        .decided_by
        .clone()
        .map(|by| format!("by {by}, {}", row.decided_at.map(time::format_utc).unwrap_or_default()));
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
                    <span class="hint">{format!(" {} · {}", provider_label(&row.provider), row.platform_id)}</span>
                </span>
            </td>
            <td>{row.connector_name.clone()}</td>
            <td class="first-message">{row.first_message.clone()}</td>
            <td><time>{time::format_utc(row.created_at)}</time></td>
            <td>{status_badge(&row.status)} {decided.map(|d| view! { <span class="hint">" "{d}</span> })}</td>
            <td class="row-actions">{actions}</td>
        </tr>
    }
}

/// The chat users' address: `/chat-users?provider=…&search=…&page=…`.
#[derive(Params, Clone, Debug, Default, PartialEq)]
struct ChatUsersQuery {
    /// A `ChatProvider` key, or none for every platform.
    provider: Option<String>,
    search: Option<String>,
    page: Option<i64>,
}

impl ChatUsersQuery {
    fn href(&self, page: i64) -> String {
        let (provider, search) = (self.provider.clone().unwrap_or_default(), self.search.clone().unwrap_or_default());
        let page = if page > 1 { page.to_string() } else { String::new() };
        query::href("/chat-users", &[("provider", provider), ("search", search), ("page", page)])
    }
}

#[component]
pub fn ChatUsersPage() -> impl IntoView {
    let query = use_query::<ChatUsersQuery>();
    let args = Memo::new(move |_| query.get().unwrap_or_default());
    let users = Resource::new(
        move || args.get(),
        |q| chat_users(q.provider.unwrap_or_default(), q.search.unwrap_or_default(), q.page.unwrap_or(1)),
    );
    view! {
        <Title text="Chat users · Onboard"/>
        <div class="page">
            <h1>"Chat users"</h1>
            <p class="lead">"Everyone who has written to a connector, one per platform: the same person on Slack and WhatsApp is two chat users."</p>
            <form class="filters" method="get" action="/chat-users">
                <div class="field">
                    <label for="chat-user-provider">"Platform"</label>
                    <select id="chat-user-provider" name="provider">
                        <option value="">"All platforms"</option>
                        {ChatProvider::ALL
                            .into_iter()
                            .map(|p| view! { <option value=p.key() selected=move || args.with(|a| a.provider.as_deref() == Some(p.key()))>{p.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="chat-user-search">"Search"</label>
                    <input id="chat-user-search" name="search" type="search" prop:value=move || args.with(|a| a.search.clone().unwrap_or_default())/>
                </div>
                <button type="submit" class="button-quiet">"Filter"</button>
            </form>
            <Loaded resource=users let:page>
                <ChatUserList page query=args.get_untracked()/>
            </Loaded>
        </div>
    }
}

/// One page of chat users; the links to the other pages keep the platform and search.
#[component]
fn ChatUserList(page: ChatUserPage, query: ChatUsersQuery) -> impl IntoView {
    let ChatUserPage { rows, total, page } = page;
    if rows.is_empty() {
        let filtered = query.provider.is_some_and(|p| !p.is_empty()) || query.search.is_some_and(|s| !s.is_empty());
        let notice =
            if filtered { "No chat user matches these filters." } else { "Nobody has written to a connector yet." };
        return view! { <p class="notice" role="status">{notice}</p> }.into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label="Chat users">
            <table class="chat-users">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Platform"</th>
                        <th scope="col">"Platform ID"</th>
                        <th scope="col">"Messages"</th>
                        <th scope="col">"Last message"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <ChatUserLine row/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <PageLinks page total href=move |n| query.href(n)/>
    }
    .into_any()
}

#[component]
fn ChatUserLine(row: ChatUserRow) -> impl IntoView {
    let name = display_name(&row.first_name, &row.last_name, &row.platform_id);
    view! {
        <tr>
            <td class="who">
                <Avatar name=name.clone() url=row.avatar_url.clone()/>
                <a href=format!("/chat-users/{}", row.id)>{name}</a>
            </td>
            <td>{provider_label(&row.provider)}</td>
            <td>{row.platform_id.clone()}</td>
            <td class="figure">{row.messages}</td>
            <td><time>{time::format_utc(row.last_seen_at)}</time></td>
        </tr>
    }
}

#[component]
pub fn ChatUserPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0)));
    let detail = Resource::new(move || id.get(), chat_user);
    view! {
        <Title text="Chat user · Onboard"/>
        <div class="page">
            <p><a href="/chat-users">"← All chat users"</a></p>
            <Loaded resource=detail let:detail>
                <ChatUserView first=detail/>
            </Loaded>
        </div>
    }
}

fn message_label(direction: &str, kind: &str) -> &'static str {
    match (direction, kind) {
        ("in", _) => "They wrote",
        (_, "onboarding") => "Onboarding message",
        (_, "rejection") => "Rejection notice",
        _ => "Agent replied",
    }
}

fn message_status(status: &str, detail: &str) -> String {
    let base = match status {
        "forwarded" => "sent to the agent",
        "answered" if detail == "no reply" => "the agent did not reply",
        "answered" => "answered by the agent",
        "held" => "kept: waiting for approval",
        "dropped" => "dropped: access rejected",
        "queued" => "sending…",
        "retrying" => "retrying",
        "delivered" => "delivered",
        "failed" => "failed",
        other => other,
    };
    if detail.is_empty() || detail == "no reply" {
        base.to_string()
    } else {
        format!("{base}: {detail}")
    }
}

#[component]
fn ChatUserView(first: ChatUserDetail) -> impl IntoView {
    let user_id = first.user.id;
    let data = RwSignal::new(first);
    let pulse = RwSignal::new(0u32);
    every(REFRESH_MS, move || pulse.update(|n| *n += 1));
    keep_fresh(data, pulse, move || chat_user(user_id));
    let user = data.with_untracked(|d| d.user.clone());
    let name = display_name(&user.first_name, &user.last_name, &user.platform_id);
    let provider = ChatProvider::parse(&user.provider);
    view! {
        <section class="card chat-profile" aria-labelledby="chat-user-name">
            <Avatar name=name.clone() url=user.avatar_url.clone()/>
            <h1 id="chat-user-name">{name}</h1>
            <dl class="connector-facts">
                <div><dt>"First name"</dt><dd>{if user.first_name.is_empty() { "—".to_string() } else { user.first_name.clone() }}</dd></div>
                <div><dt>"Last name"</dt><dd>{if user.last_name.is_empty() { "—".to_string() } else { user.last_name.clone() }}</dd></div>
                <div><dt>"Platform"</dt><dd>{provider.map(ChatProvider::label).unwrap_or("Unknown")}</dd></div>
                <div><dt>{provider.map(ChatProvider::platform_id_label).unwrap_or("Platform ID")}</dt><dd>{user.platform_id.clone()}</dd></div>
                <div><dt>"First seen"</dt><dd>{time::format_utc(user.created_at)}</dd></div>
            </dl>
        </section>
        <section class="card" aria-labelledby="chat-access-heading">
            <h2 id="chat-access-heading">"Access"</h2>
            {move || {
                let requests = data.with(|d| d.requests.clone());
                if requests.is_empty() {
                    view! { <p>"No access requests: every connector they wrote to lets everyone in."</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain-list">
                            {requests.into_iter().map(|r| view! {
                                <li>{r.connector_name.clone()} ": " {status_badge(&r.status)}</li>
                            }).collect_view()}
                        </ul>
                    }
                    .into_any()
                }
            }}
        </section>
        <section class="card" aria-labelledby="chat-history-heading">
            <h2 id="chat-history-heading">"Conversation"</h2>
            <ol class="conversation">
                <For each=move || data.with(|d| d.messages.clone()) key=|m| m.clone() let:m>
                    <li class=format!("chat-message chat-{}", m.direction)>
                        <p class="hint">
                            {format!("{} · {} · ", message_label(&m.direction, &m.kind), m.connector_name)}
                            <time>{time::format_utc(m.at)}</time>
                        </p>
                        <p class="chat-text">{m.text.clone()}</p>
                        <p class="hint">{message_status(&m.status, &m.detail)}</p>
                    </li>
                </For>
            </ol>
        </section>
    }
}
