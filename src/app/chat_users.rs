//! The chat users, one per platform identity, each with their conversation (live while open).

use super::access::{status_badge, REFRESH_MS};
use crate::api::access::types::{ChatUserDetail, ChatUserPage, ChatUserRow};
use crate::api::access::*;
use crate::components::{every, Avatar, Live, Loaded, PageLinks};
use crate::domain::chat_users::{display_name, message_label, message_status};
use crate::domain::connectors::ChatProvider;
use crate::domain::query;
use crate::domain::time;
use leptos::prelude::*;
use leptos::Params;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query};
use leptos_router::params::Params;

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
            <td>{row.provider.label()}</td>
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
    let refresh = RwSignal::new(0u32);
    every(REFRESH_MS, move || refresh.update(|n| *n += 1));
    view! {
        <Title text="Chat user · Onboard"/>
        <div class="page">
            <p><a href="/chat-users">"← All chat users"</a></p>
            <Live key=id fetch=chat_user refresh let:data>
                <ChatUserView data/>
            </Live>
        </div>
    }
}

#[component]
fn ChatUserView(data: Memo<ChatUserDetail>) -> impl IntoView {
    let user = data.with_untracked(|d| d.user.clone());
    let name = display_name(&user.first_name, &user.last_name, &user.platform_id);
    let provider = user.provider;
    view! {
        <section class="card chat-profile" aria-labelledby="chat-user-name">
            <Avatar name=name.clone() url=user.avatar_url.clone()/>
            <h1 id="chat-user-name">{name}</h1>
            <dl class="connector-facts">
                <div><dt>"First name"</dt><dd>{if user.first_name.is_empty() { "—".to_string() } else { user.first_name.clone() }}</dd></div>
                <div><dt>"Last name"</dt><dd>{if user.last_name.is_empty() { "—".to_string() } else { user.last_name.clone() }}</dd></div>
                <div><dt>"Platform"</dt><dd>{provider.label()}</dd></div>
                <div><dt>{provider.platform_id_label()}</dt><dd>{user.platform_id.clone()}</dd></div>
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
                                <li>{r.connector_name.clone()} ": " {status_badge(r.status)}</li>
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
                    <li class=format!("chat-message chat-{}", m.direction.key())>
                        <p class="hint">
                            {format!("{} · {} · ", message_label(m.direction, m.kind), m.connector_name)}
                            <time>{time::format_utc(m.at)}</time>
                        </p>
                        <p class="chat-text">{m.text.clone()}</p>
                        <p class="hint">{message_status(m.status, &m.detail)}</p>
                    </li>
                </For>
            </ol>
        </section>
    }
}
