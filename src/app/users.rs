//! Access management › Users.

mod remind;

use crate::api::invites::{ResendInvitation, RevokeInvitation};
use crate::api::users::types::{MemberPage, MemberRow};
use crate::api::users::{list_members, PauseMember, ResetSecondFactor, ResumeMember};
use crate::components::{action_error, DisclosureMenu, FormError, Loaded, Pager};
use crate::domain::members::{MemberFilter, Seek, PAGE_SIZE, SEARCH_COUNT_LIMIT};
use crate::domain::{grouped, time, MembershipStatus};
use leptos::either::EitherOf5;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(|q| MemberFilter::from_query(|k| q.get(k))));
    let actions = RowActions {
        pause: ServerAction::new(),
        resume: ServerAction::new(),
        resend: ServerAction::new(),
        revoke: ServerAction::new(),
        reset: ServerAction::new(),
    };
    let members = Resource::new(move || (filter.get(), actions.versions()), |(f, _)| list_members(f));
    view! {
        <Title text="Users · Onboard"/>
        <div class="page">
            <h1>"Users"</h1>
            <FormError error=action_error(actions.pause) all=true/>
            <FormError error=action_error(actions.resume) all=true/>
            <FormError error=action_error(actions.resend) all=true/>
            <FormError error=action_error(actions.revoke) all=true/>
            <FormError error=action_error(actions.reset) all=true/>
            <Show when=move || matches!(actions.reset.value().get(), Some(Ok(())))>
                <p class="notice" role="status">"Their second factor was reset and they were signed out everywhere."</p>
            </Show>
            <Show when=move || matches!(actions.resend.value().get(), Some(Ok(())))>
                <p class="notice" role="status">"A new invitation is on its way; the old link no longer works."</p>
            </Show>
            <Loaded resource=members let:page>
                <MembersView page filter=filter.get_untracked() actions/>
            </Loaded>
        </div>
    }
}

#[component]
fn MembersView(page: MemberPage, filter: MemberFilter, actions: RowActions) -> impl IntoView {
    let MemberPage { rows, total, has_previous, has_next, areas, roles, can_manage, can_invite, my_membership_id } =
        page;
    let shown = match (rows.len(), total) {
        (0, _) => String::new(),
        (n, t) if t > SEARCH_COUNT_LIMIT => {
            format!("{n} shown of more than {} that match", grouped(SEARCH_COUNT_LIMIT))
        }
        (n, t) => format!("{n} shown of {} that match", grouped(t)),
    };
    // Keyset paging: the neighbours of this page start after its last address or end before its first.
    // An empty page after a place in the list (its neighbours were removed) leads back from that place.
    let back_from = rows.first().map(|r| r.email.clone()).or_else(|| filter.after.clone().or(filter.from.clone()));
    let previous = back_from.map(|key| filter.query_at(Seek::Before(key)));
    let next = rows.last().map(|r| filter.query_at(Seek::After(r.email.clone())));
    let statuses =
        [MembershipStatus::Active, MembershipStatus::Inactive, MembershipStatus::Pending, MembershipStatus::Expired];
    let f = filter.clone();
    view! {
        {can_invite.then(add_users)}
        {(can_manage && filter.status.is_none_or(|s| s == MembershipStatus::Pending))
            .then(|| view! { <remind::RemindAllPending filter=filter.clone()/> })}
        <Form method="GET" action="/users" attr:class="filters" attr:role="search" attr:aria-label="Find users">
            <div class="field">
                <label for="filter-q">"Search"</label>
                <input id="filter-q" name="q" type="search" value=f.search.clone() placeholder="Name or email" aria-describedby="filter-q-hint"/>
                <span class="hint" id="filter-q-hint">"Finds names and addresses with words starting with what you type (three characters or more); one or two characters match the start of an address."</span>
            </div>
            <div class="field">
                <label for="filter-status">"Status"</label>
                <select id="filter-status" name="status">
                    <option value="">"Any status"</option>
                    {statuses.into_iter().map(|s| view! { <option value=s.key() selected=f.status == Some(s)>{s.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-area">"Service area"</label>
                <select id="filter-area" name="area">
                    <option value="">"Any area"</option>
                    {areas.into_iter().map(|a| view! { <option value=a.id.to_string() selected=f.area == Some(a.id)>{a.name}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-role">"Role"</label>
                <select id="filter-role" name="role">
                    <option value="">"Any role"</option>
                    {roles.into_iter().map(|r| view! { <option value=r.id.to_string() selected=f.role == Some(r.id)>{r.name}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-agreement">"Agreement"</label>
                <select id="filter-agreement" name="agreement">
                    <option value="">"Any"</option>
                    <option value="pending" selected=f.agreement_pending>"Has not accepted the current version"</option>
                </select>
            </div>
            <button type="submit" class="button-primary">"Apply"</button>
        </Form>
        <p class="hint" aria-live="polite">{shown}</p>
        {if rows.is_empty() {
            view! { <p>"No members match."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll" tabindex="0" role="region" aria-label="Members">
                    <table class="members">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Email"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Service area"</th>
                                <th scope="col">"Role"</th>
                                <th scope="col">"Invited by"</th>
                                <th scope="col">"Since"</th>
                                {can_manage.then(|| view! { <th scope="col">"Actions"</th> })}
                            </tr>
                        </thead>
                        <tbody>
                            {rows
                                .into_iter()
                                .map(|row| {
                                    let mine = row.id == my_membership_id;
                                    member_line(row, can_manage, mine, actions)
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            }
                .into_any()
        }}
        <Pager
            label="Pages"
            position=format!("{PAGE_SIZE} per page, by email address")
            first=has_previous.then(|| filter.query_at(Seek::First))
            previous=previous.filter(|_| has_previous)
            previous_text="‹ Previous"
            next=next.filter(|_| has_next)
            next_text="Next ›"
            last=has_next.then(|| filter.query_at(Seek::Last))
        />
        <JumpTo filter=filter/>
    }
}

/// The product documents' "Add Users (+) → Invite Users"; later ways to add people join it.
fn add_users() -> impl IntoView {
    let label = || {
        view! {
            <span class="add-icon" aria-hidden="true">"+"</span>
            " Add users"
        }
    };
    view! {
        <DisclosureMenu id="add-users" class="add-users" button_class="button-link" label>
            <ul class="menu-links">
                <li><a href="/users/invite">"✈ Invite users"</a></li>
            </ul>
        </DisclosureMenu>
    }
}

/// "Jump to": the page starting at the first address from the typed letters on, keeping the
/// filter (a keyset list has no page numbers to jump to).
#[component]
fn JumpTo(filter: MemberFilter) -> impl IntoView {
    let hidden = [
        ("q", (!filter.search.is_empty()).then(|| filter.search.clone())),
        ("status", filter.status.map(|s| s.key().to_string())),
        ("area", filter.area.map(|a| a.to_string())),
        ("role", filter.role.map(|r| r.to_string())),
        ("agreement", filter.agreement_pending.then(|| "pending".to_string())),
    ];
    view! {
        <Form method="GET" action="/users" attr:class="filters jump-to" attr:aria-label="Jump to an address">
            {hidden
                .into_iter()
                .filter_map(|(name, value)| value.map(|value| view! { <input type="hidden" name=name value=value/> }))
                .collect_view()}
            <div class="field">
                <label for="jump-from">"Jump to addresses from"</label>
                <input id="jump-from" name="from" type="text" value=filter.from.clone() placeholder="m" size="12"/>
            </div>
            <button type="submit" class="button-quiet">"Go"</button>
        </Form>
    }
}

/// One member's row. A plain function, not a component: a component's view is type-erased
/// (`erase_components`), and boxing fifty rows and their actions cost 4% of the page's
/// instructions (BENCHMARKS.md, tenth step).
fn member_line(row: MemberRow, can_manage: bool, mine: bool, actions: RowActions) -> impl IntoView {
    let RowActions { pause, resume, resend, revoke, reset } = actions;
    let status = row.status;
    let since = time::format_date(row.activated_at.unwrap_or(row.created_at));
    let name = row.display_name();
    let id = row.id;
    let (pause_label, resume_label) = (format!("Pause {}", row.email), format!("Resume {}", row.email));
    let reset_label = format!("Reset the second factor of {}", row.email);
    let (resend_label, revoke_label) =
        (format!("Resend invitation to {}", row.email), format!("Revoke invitation to {}", row.email));
    let resend_form = move |label: String| {
        view! {
            <ActionForm action=resend>
                <input type="hidden" name="id" value=id.to_string()/>
                <button type="submit" class="button-quiet" aria-label=label>"✈ Resend"</button>
            </ActionForm>
        }
    };
    let action = can_manage.then(move || match status {
        _ if mine => EitherOf5::A(view! { <span class="hint">"You"</span> }),
        MembershipStatus::Active => EitherOf5::B(view! {
            <div class="row-actions">
                <ActionForm action=pause>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="button-quiet" aria-label=pause_label>"⏸ Pause"</button>
                </ActionForm>
                <ActionForm action=reset>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="button-quiet" aria-label=reset_label>"Reset 2FA"</button>
                </ActionForm>
            </div>
        }),
        MembershipStatus::Inactive => EitherOf5::C(view! {
            <ActionForm action=resume>
                <input type="hidden" name="id" value=id.to_string()/>
                <button type="submit" class="button-quiet" aria-label=resume_label>"▶ Resume"</button>
            </ActionForm>
        }),
        MembershipStatus::Pending => EitherOf5::D(view! {
            <div class="row-actions">
                {resend_form(resend_label.clone())}
                <ActionForm action=revoke>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="button-danger" aria-label=revoke_label.clone()>"Revoke"</button>
                </ActionForm>
            </div>
        }),
        MembershipStatus::Expired => EitherOf5::E(resend_form(resend_label.clone())),
    });
    view! {
        <tr>
            <td>{name}</td>
            <td>{row.email.clone()}</td>
            <td>
                <span class=format!("badge badge-{}", status.key())>{status.label()}</span>
                {row.invitation.map(|standing| view! { <span class="hint invitation-standing">{standing}</span> })}
            </td>
            <td>{row.area.unwrap_or_else(|| "—".into())}</td>
            <td>{row.role}</td>
            <td>{row.invited_by.unwrap_or_else(|| "—".into())}</td>
            <td>{since}</td>
            {action.map(|a| view! { <td>{a}</td> })}
        </tr>
    }
}

/// The actions a member row offers; the list refetches after any of them.
#[derive(Clone, Copy)]
struct RowActions {
    pause: ServerAction<PauseMember>,
    resume: ServerAction<ResumeMember>,
    resend: ServerAction<ResendInvitation>,
    revoke: ServerAction<RevokeInvitation>,
    reset: ServerAction<ResetSecondFactor>,
}

impl RowActions {
    fn versions(&self) -> [usize; 5] {
        [
            self.pause.version().get(),
            self.resume.version().get(),
            self.resend.version().get(),
            self.revoke.version().get(),
            self.reset.version().get(),
        ]
    }
}
