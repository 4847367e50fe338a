//! Users › "Remind all pending": a preview of how many pending members of the filter get a
//! reminder and over which channels, then the reminders' progress as the sweeps send them.

use crate::api::users::types::{RemindPlan, RemindProgress};
use crate::api::users::{remind_all_progress, PlanRemindAll, RemindAll};
use crate::components::{action_error, every, FormError, ProgressBar};
use crate::domain::members::MemberFilter;
use crate::domain::{grouped, MembershipStatus};
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Shown to those who manage users, unless the filter asks for another status than Pending.
/// The button stays; the preview and then the progress open below it, each taking the focus so
/// that keyboard and screen-reader users are where the content is, and Cancel gives it back.
#[component]
pub fn RemindAllPending(filter: MemberFilter) -> impl IntoView {
    let filter = MemberFilter { status: Some(MembershipStatus::Pending), ..filter };
    let filter = StoredValue::new(filter.normalized());
    let plan = ServerAction::<PlanRemindAll>::new();
    let send = ServerAction::<RemindAll>::new();
    let trigger = NodeRef::<html::Button>::new();
    let open = move || matches!(plan.value().get(), Some(Ok(_))) || matches!(send.value().get(), Some(Ok(_)));
    let ask = move |_| {
        send.value().set(None);
        plan.dispatch(PlanRemindAll { filter: filter.get_value() });
    };
    let cancel = move |_| {
        plan.value().set(None);
        if let Some(button) = trigger.get_untracked() {
            let _ = button.focus();
        }
    };
    view! {
        <div class="remind-all">
            <button type="button" class="button-quiet" node_ref=trigger on:click=ask
                disabled=move || plan.pending().get() || open()>
                <span aria-hidden="true">"✉ "</span>"Remind all pending…"
            </button>
            <FormError error=action_error(plan) all=true/>
            <FormError error=action_error(send) all=true/>
            {move || match (send.value().get(), plan.value().get()) {
                (Some(Ok(run)), _) => view! { <RunProgress id=run/> }.into_any(),
                (_, Some(Ok(p))) => {
                    let members = p.members;
                    let panel = NodeRef::<html::Div>::new();
                    focus_when_mounted(panel);
                    view! {
                        <div class="notice" tabindex="-1" node_ref=panel>
                            <p>{preview(&p)}</p>
                            <div class="row-actions">
                                {(members > 0).then(|| view! {
                                    <button type="button" class="button-primary" disabled=move || send.pending().get()
                                        on:click=move |_| { send.dispatch(RemindAll { filter: filter.get_value() }); }>
                                        {move || if send.pending().get() {
                                            "Sending…".to_string()
                                        } else {
                                            format!("Send {} reminder{}", grouped(members), if members == 1 { "" } else { "s" })
                                        }}
                                    </button>
                                })}
                                <button type="button" class="button-quiet" on:click=cancel>"Cancel"</button>
                            </div>
                        </div>
                    }
                    .into_any()
                }
                _ => ().into_any(),
            }}
        </div>
    }
}

/// Moves the focus to `node` once it is in the page. Browser only: effects do not run on the server.
fn focus_when_mounted(node: NodeRef<html::Div>) {
    Effect::new(move |_| {
        if let Some(element) = node.get() {
            let _ = element.focus();
        }
    });
}

/// "Remind 1,234 pending members now: 1,000 by email, 234 on Slack. …"
fn preview(p: &RemindPlan) -> String {
    if p.members == 0 {
        return "Nobody this filter matches is waiting to register: there is nobody to remind.".into();
    }
    let channels: Vec<String> = p
        .channels
        .iter()
        .map(|(channel, n)| match channel {
            crate::domain::onboarding::Channel::Email => format!("{} by email", grouped(*n)),
            other => format!("{} on {}", grouped(*n), other.label()),
        })
        .collect();
    let who = match p.members {
        1 => "1 pending member".to_string(),
        n => format!("{} pending members", grouped(n)),
    };
    let left_out = match p.left_out {
        0 => String::new(),
        1 => " 1 more is left out: their role has permissions you do not hold.".to_string(),
        n => format!(" {} more are left out: their role has permissions you do not hold.", grouped(n)),
    };
    format!(
        "Remind {who} now: {}. Reminders go out at up to {} a minute. Each carries a fresh link; the links of earlier emails keep working.{left_out}",
        channels.join(", "),
        grouped(p.per_minute)
    )
}

/// The run's progress, polled until every reminder is out.
#[component]
fn RunProgress(id: i64) -> impl IntoView {
    let progress = RwSignal::new(None::<RemindProgress>);
    let fetch = move || {
        spawn_local(async move {
            if let Ok(p) = remind_all_progress(id).await {
                if progress.get_untracked() != Some(p) {
                    progress.set(Some(p));
                }
            }
        })
    };
    fetch();
    every(1_000, move || {
        if progress.get_untracked().is_none_or(|p| p.done < p.total) {
            fetch();
        }
    });
    let panel = NodeRef::<html::Div>::new();
    focus_when_mounted(panel);
    // Only the start and the end are announced; the count and the bar change silently between.
    let announced = move || match progress.get() {
        Some(p) if p.done >= p.total && p.total == 1 => "The reminder is on its way.".to_string(),
        Some(p) if p.done >= p.total => format!("All {} reminders are on their way.", grouped(p.total)),
        _ => "Sending reminders…".to_string(),
    };
    view! {
        <div class="notice" tabindex="-1" node_ref=panel>
            <p role="status">{announced}</p>
            {move || progress.get().filter(|p| p.done < p.total).map(|p| view! {
                <p>{format!("Reminded {} of {}.", grouped(p.done), grouped(p.total))}</p>
                <ProgressBar label="Reminders queued" done=p.done total=p.total/>
            })}
        </div>
    }
}
