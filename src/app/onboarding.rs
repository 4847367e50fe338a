//! Tools › Onboarding: the organization's and each team's progress, live; the members of a
//! team with their onboarding status; and messaging the ones who have not onboarded.

use crate::api::onboarding::types::{OnboardingOverview, TeamMemberRow, TeamMembersPage, TeamSummary};
use crate::api::onboarding::*;
use crate::components::{
    action_error, every, field_error, FieldError, FormError, Live, PageLinks, Pager, ProgressBar, StatusBadge,
};
use crate::domain::onboarding::{percent, DeliveryStatus, OnboardingStatus, TeamFilter};
use crate::domain::time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

mod funnel;
mod message;
pub use funnel::FunnelPage;
use message::MessageModal;

/// How often the page looks again while it is open.
const REFRESH_MS: u32 = 3_000;

/// Whom the message modal is about: a team (`team`) or one member (`member`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Target {
    team: Option<i64>,
    member: Option<i64>,
}

/// What the page shares with its parts: the open modal, and a way to refresh now.
#[derive(Clone, Copy)]
struct Page {
    target: RwSignal<Option<Target>>,
    /// Bumped to make every live part fetch again at once (after a change).
    pulse: RwSignal<u32>,
}

#[component]
pub fn OnboardingPage() -> impl IntoView {
    let page = Page { target: RwSignal::new(None), pulse: RwSignal::new(0) };
    every(REFRESH_MS, move || page.pulse.update(|n| *n += 1));
    let query = use_query_map();
    let teams = Memo::new(move |_| query.with(|q| TeamFilter::from_query(|k| q.get(k))));
    let selected = Memo::new(move |_| {
        query.with(|q| {
            let team = q.get("team").and_then(|t| t.parse::<i64>().ok())?;
            Some((team, q.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).max(1)))
        })
    });
    view! {
        <Title text="Onboarding · Onboard"/>
        <div class="page">
            <h1>"Onboarding"</h1>
            <OnboardingTabs funnel=false/>
            <Live key=teams fetch=load_onboarding refresh=page.pulse let:data>
                <Overview data page/>
            </Live>
            <Live key=selected fetch=team_page refresh=page.pulse let:data>
                {data.get_untracked().map(|first| {
                    let data = Memo::new(move |_| data.get().unwrap_or_else(|| first.clone()));
                    view! { <TeamPanel data page teams=teams.get_untracked()/> }
                })}
            </Live>
            <MessageModal page/>
        </div>
    }
}

/// Tools › Onboarding's two views: progress by team, and the funnel.
#[component]
fn OnboardingTabs(funnel: bool) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Onboarding views">
            <a href="/onboarding" aria-current=(!funnel).then_some("page")>"Progress"</a>
            <a href="/onboarding/funnel" aria-current=funnel.then_some("page")>"Funnel"</a>
        </nav>
    }
}

/// The team the address selects, at its page of members; none when no team is selected.
async fn team_page(selected: Option<(i64, i64)>) -> Result<Option<TeamMembersPage>, crate::AppError> {
    match selected {
        Some((team, page)) => team_members(team, page).await.map(Some),
        None => Ok(None),
    }
}

#[component]
fn Overview(data: Memo<OnboardingOverview>, page: Page) -> impl IntoView {
    let create = ServerAction::<CreateTeam>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            page.pulse.update(|n| *n += 1);
        }
    });
    let overall = move || data.with(|d| d.overall.clone());
    view! {
        <section class="card" aria-labelledby="overall-heading">
            <h2 id="overall-heading">"Whole organization"</h2>
            {move || {
                let o = overall();
                view! {
                    <p class="overall-figure">
                        <strong>{format!("{}%", percent(o.onboarded, o.total))}</strong>
                        {format!(" onboarded: {} of {} members", o.onboarded, o.total)}
                    </p>
                    <ProgressBar label="Whole organization onboarded" done=o.onboarded total=o.total/>
                    <dl class="counts">
                        <div><dt>"Onboarded"</dt><dd>{o.onboarded}</dd></div>
                        <div><dt>"Notified"</dt><dd>{o.notified}</dd></div>
                        <div><dt>"Connected"</dt><dd>{o.connected}</dd></div>
                        <div><dt>"Not connected"</dt><dd>{o.not_connected()}</dd></div>
                    </dl>
                }
            }}
        </section>
        <section class="card" aria-labelledby="teams-heading">
            <h2 id="teams-heading">"Teams"</h2>
            <Show when=move || data.with(|d| d.can_edit_teams)>
                <FormError error=action_error(create)/>
                <ActionForm action=create attr:class="inline-form">
                    <label for="new-team-name">"New team"</label>
                    <input id="new-team-name" name="name" required aria-describedby="new-team-name-error"/>
                    <button type="submit" class="button-quiet">"Create team"</button>
                </ActionForm>
                <FieldError id="new-team-name-error" message=field_error(create, "name")/>
            </Show>
            <TeamFinder data/>
            <Show
                when=move || data.with(|d| !d.teams.is_empty())
                fallback=move || {
                    let searched = data.with(|d| !d.teams_filter.find.is_empty());
                    view! { <p>{if searched { "No team has that in its name." } else { "No teams yet." }}</p> }
                }
            >
                <div class="table-scroll" tabindex="0" role="region" aria-label="Progress by team">
                    <table class="teams">
                        <thead>
                            <tr>
                                <th scope="col">"Team"</th>
                                <th scope="col">"Onboarded"</th>
                                <th scope="col" class="bar-column">"Progress"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=move || data.with(|d| d.teams.clone()) key=|t| t.clone() let:team>
                                <TeamLine team can_message=data.with_untracked(|d| d.can_message) page
                                    teams=data.with_untracked(|d| d.teams_filter.clone())/>
                            </For>
                        </tbody>
                    </table>
                </div>
            </Show>
            <TeamPager data/>
        </section>
    }
}

/// "Find a team": the teams whose name contains the text, from their first page.
#[component]
fn TeamFinder(data: Memo<OnboardingOverview>) -> impl IntoView {
    let find = data.with_untracked(|d| d.teams_filter.find.clone());
    view! {
        <Form method="GET" action="/onboarding" attr:class="inline-form" attr:role="search"
            attr:aria-label="Find a team">
            <label for="find-team">"Find a team"</label>
            <input id="find-team" name="find" type="search" value=find/>
            <button type="submit" class="button-quiet">"Find"</button>
        </Form>
    }
}

/// "Teams 51–100 of 10,000" with the pages before and after, when there is more than one.
#[component]
fn TeamPager(data: Memo<OnboardingOverview>) -> impl IntoView {
    move || {
        let (filter, shown, total) = data.with(|d| (d.teams_filter.clone(), d.teams.len() as i64, d.teams_total));
        let first = filter.offset() + 1;
        let last = filter.offset() + shown;
        view! {
            <Pager
                label="Team pages"
                position=format!("Teams {first}–{last} of {total}")
                previous=(filter.page > 1).then(|| filter.href_for_page(filter.page - 1))
                next=(last < total).then(|| filter.href_for_page(filter.page + 1))
                previous_text="‹ Previous teams"
                next_text="Next teams ›"
            />
        }
    }
}

#[component]
fn TeamLine(team: TeamSummary, can_message: bool, page: Page, teams: TeamFilter) -> impl IntoView {
    let TeamSummary { id, name, members, onboarded } = team;
    let href = teams.href_for_team(id, 1);
    let everyone_done = onboarded >= members;
    view! {
        <tr>
            <th scope="row"><a href=href>{name.clone()}</a></th>
            <td class="figure">{format!("{onboarded} / {members}")}</td>
            <td class="bar-column"><ProgressBar label=format!("{name} onboarded") done=onboarded total=members/></td>
            <td>
                {(can_message && !everyone_done).then(|| {
                    let label = format!("Message team {name}");
                    view! {
                        <button type="button" class="button-quiet" aria-label=label
                            on:click=move |_| page.target.set(Some(Target { team: Some(id), member: None }))>
                            "Message team"
                        </button>
                    }
                })}
            </td>
        </tr>
    }
}

#[component]
fn TeamPanel(data: Memo<TeamMembersPage>, page: Page, teams: TeamFilter) -> impl IntoView {
    let team_id = data.with_untracked(|d| d.team.id);
    let all_teams = teams.href_for_page(teams.page);
    let (can_edit, can_message) = (data.with_untracked(|d| d.can_edit_teams), data.with_untracked(|d| d.can_message));
    let rename = ServerAction::<RenameTeam>::new();
    let add = ServerAction::<AddTeamMembers>::new();
    let remove = ServerAction::<RemoveTeamMember>::new();
    let delete = ServerAction::<DeleteTeam>::new();
    Effect::new(move |_| {
        let changed = [rename.version().get(), add.version().get(), remove.version().get()];
        if changed.iter().any(|v| *v > 0) {
            page.pulse.update(|n| *n += 1);
        }
    });
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            navigate("/onboarding", Default::default());
            page.pulse.update(|n| *n += 1);
        }
    });
    let heading = move || data.with(|d| d.team.name.clone());
    let added = move || match add.value().get() {
        Some(Ok((n, unknown))) if unknown.is_empty() => Some(format!("Added {n} member(s).")),
        Some(Ok((n, unknown))) => {
            Some(format!("Added {n} member(s). Not members of the organization: {}.", unknown.join(", ")))
        }
        _ => None,
    };
    view! {
        <section class="card team-panel" aria-labelledby="team-heading">
            <p><a href=all_teams>"← All teams"</a></p>
            <h2 id="team-heading">{heading}</h2>
            {move || {
                let t = data.with(|d| d.team.clone());
                view! {
                    <p>{format!("{} of {} members onboarded", t.onboarded, t.members)}</p>
                    <ProgressBar label=format!("{} members onboarded", t.name) done=t.onboarded total=t.members/>
                }
            }}
            {can_edit.then(|| view! {
                        <details class="team-edit">
                            <summary>"Edit team"</summary>
                            <FormError error=action_error(rename)/>
                            <ActionForm action=rename attr:class="inline-form">
                                <input type="hidden" name="id" value=team_id.to_string()/>
                                <label for="rename-team">"Team name"</label>
                                <input id="rename-team" name="name" value=heading() required/>
                                <button type="submit" class="button-quiet">"Rename"</button>
                            </ActionForm>
                            <FormError error=action_error(add)/>
                            <ActionForm action=add>
                                <input type="hidden" name="team" value=team_id.to_string()/>
                                <div class="field">
                                    <label for="add-members">"Add members by email"</label>
                                    <textarea id="add-members" name="emails" rows="3" required
                                        aria-describedby="add-members-hint add-members-error"></textarea>
                                    <p class="hint" id="add-members-hint">"Addresses of people already in the organization, one per line or comma-separated."</p>
                                    <FieldError id="add-members-error" message=field_error(add, "emails")/>
                                </div>
                                <button type="submit" class="button-quiet">"Add to team"</button>
                                {move || added().map(|m| view! { <span class="saved" role="status">{m}</span> })}
                            </ActionForm>
                            <FormError error=action_error(delete)/>
                            <ActionForm action=delete>
                                <input type="hidden" name="id" value=team_id.to_string()/>
                                <button type="submit" class="button-danger">"Delete team"</button>
                            </ActionForm>
                        </details>
                    })}
            <FormError error=action_error(remove) all=true/>
            <Show when=move || data.with(|d| !d.rows.is_empty()) fallback=|| view! { <p>"Nobody is on this team yet."</p> }>
                <div class="table-scroll" tabindex="0" role="region" aria-label="Team members">
                    <table class="members">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Email"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Last notified"</th>
                                <th scope="col">"Last message"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=move || data.with(|d| d.rows.clone()) key=|r| r.clone() let:row>
                                <MemberLine row team_id page remove can_message can_edit/>
                            </For>
                        </tbody>
                    </table>
                </div>
            </Show>
            {move || {
                let (total, page) = data.with(|d| (d.total, d.page));
                let teams = teams.clone();
                view! { <PageLinks label="Member pages" page total href=move |n| teams.href_for_team(team_id, n)/> }
            }}
        </section>
    }
}

/// "Delivered over Slack, 25 Nov 2026, 14:03 UTC", "Failed over email: …", "Sending over Teams…".
fn last_message(row: &TeamMemberRow) -> Option<String> {
    let channel = row.last_channel?.label();
    let at = row.last_at.map(time::format_utc).unwrap_or_default();
    Some(match (row.last_state?, &row.last_error) {
        (DeliveryStatus::Delivered, _) => format!("Delivered over {channel}, {at}"),
        (DeliveryStatus::Failed, error) => format!("Failed over {channel}: {}", error.clone().unwrap_or_default()),
        (DeliveryStatus::Queued, Some(error)) => format!("Retrying over {channel} ({error})"),
        (DeliveryStatus::Queued, None) => format!("Sending over {channel}…"),
    })
}

#[component]
fn MemberLine(
    row: TeamMemberRow,
    team_id: i64,
    page: Page,
    remove: ServerAction<RemoveTeamMember>,
    can_message: bool,
    can_edit: bool,
) -> impl IntoView {
    let status = row.status();
    let name = row.display_name();
    let notified = row.notified_at.map(time::format_utc).unwrap_or_else(|| "—".into());
    let outcome = last_message(&row).unwrap_or_else(|| "—".into());
    let failed = row.last_state == Some(DeliveryStatus::Failed);
    let member = row.membership_id;
    let (message_label, remove_label) = (format!("Message {name}"), format!("Remove {name} from the team"));
    view! {
        <tr>
            <td>{name.clone()}</td>
            <td>{row.email.clone()}</td>
            <td><StatusBadge status/></td>
            <td>{notified}</td>
            <td class:delivery-failed=failed>{outcome}</td>
            <td>
                <div class="row-actions">
                    {(can_message && status != OnboardingStatus::Onboarded).then(|| view! {
                        <MessageUserButton label=message_label member page/>
                    })}
                    {can_edit.then(|| view! {
                        <ActionForm action=remove>
                            <input type="hidden" name="team" value=team_id.to_string()/>
                            <input type="hidden" name="member" value=member.to_string()/>
                            <button type="submit" class="button-quiet" aria-label=remove_label>"Remove"</button>
                        </ActionForm>
                    })}
                </div>
            </td>
        </tr>
    }
}

/// Shown only to those who may message; the server checks again.
#[component]
fn MessageUserButton(label: String, member: i64, page: Page) -> impl IntoView {
    view! {
        <button type="button" class="button-quiet" aria-label=label
            on:click=move |_| page.target.set(Some(Target { team: None, member: Some(member) }))>
            "Message user"
        </button>
    }
}
