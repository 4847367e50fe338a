//! Settings › Outbox: every email and chat send, its state, and what it said.

use crate::api::outbox::types::{OutboxJob, OutboxOverview};
use crate::api::outbox::{load_outbox, RetryOutboxJob, SendTestEmail};
use crate::components::{action_error, FormError, Loaded};
use crate::domain::outbox::JobStatus;
use crate::domain::time;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn OutboxPage() -> impl IntoView {
    let retry = ServerAction::<RetryOutboxJob>::new();
    let test = ServerAction::<SendTestEmail>::new();
    let (refresh, set_refresh) = signal(0u32);
    let overview =
        Resource::new(move || (retry.version().get(), test.version().get(), refresh.get()), |_| load_outbox());
    view! {
        <Title text="Outbox · Onboard"/>
        <div class="page">
            <h1>"Outbox"</h1>
            <p class="lead">"Every email and chat message Onboard sends goes through here, and is retried with backoff until it is delivered."</p>
            <FormError error=action_error(test) all=true/>
            <FormError error=action_error(retry) all=true/>
            <div class="toolbar">
                <ActionForm action=test>
                    <button type="submit" class="button-primary">"Send me a test email"</button>
                </ActionForm>
                <button type="button" class="button-quiet" on:click=move |_| set_refresh.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <Loaded resource=overview let:o>
                <OutboxView overview=o retry/>
            </Loaded>
        </div>
    }
}

#[component]
fn OutboxView(overview: OutboxOverview, retry: ServerAction<RetryOutboxJob>) -> impl IntoView {
    let c = overview.counts;
    view! {
        {(!overview.smtp_configured).then(|| view! {
            <p class="notice" role="note">
                <strong>"Development mode: "</strong>
                "no SMTP server is configured, so emails are not sent but kept here to read. Invitation links "
                "are shown so you can try registering; codes never are. Set ONBOARD_SMTP_URL to deliver "
                "emails, and links are hidden here too."
            </p>
        })}
        <dl class="counts">
            <div><dt>"Queued"</dt><dd>{c.queued}</dd></div>
            <div><dt>"Sending"</dt><dd>{c.running}</dd></div>
            <div><dt>"Done"</dt><dd>{c.done}</dd></div>
            <div><dt>"Failed"</dt><dd>{c.failed}</dd></div>
        </dl>
        {if overview.jobs.is_empty() {
            view! { <p>"Nothing has been sent yet."</p> }.into_any()
        } else {
            view! {
                <ul class="jobs">
                    {overview.jobs.into_iter().map(|job| view! { <JobRow job retry/> }).collect_view()}
                </ul>
            }
                .into_any()
        }}
    }
}

#[component]
fn JobRow(job: OutboxJob, retry: ServerAction<RetryOutboxJob>) -> impl IntoView {
    let body = job.body.clone();
    let failed = job.status == JobStatus::Failed;
    let id = job.id;
    let state = match (job.status, job.delivery.as_deref()) {
        (JobStatus::Done, Some("logged")) => "Logged (no SMTP)".to_string(),
        (JobStatus::Done, _) => "Delivered".to_string(),
        (JobStatus::Queued, _) if job.attempts > 0 => format!("Retrying at {}", time::format_utc(job.run_at)),
        (JobStatus::Queued, _) => "Queued".to_string(),
        (JobStatus::Running, _) => "Sending".to_string(),
        (JobStatus::Failed, _) => "Failed".to_string(),
    };
    view! {
        <li class="job" data-status=job.status.key()>
            <details>
                <summary>
                    <span class=format!("badge badge-{}", job.status.key())>{state}</span>
                    <span class="job-subject">{job.subject.clone()}</span>
                    <span class="job-to">{format!("to {}", job.recipient)}</span>
                    <time>{time::format_utc(job.created_at)}</time>
                </summary>
                <p class="hint">
                    {format!("{} · attempt {} of {}", job.kind.key(), job.attempts, job.max_attempts)}
                    {job.last_error.map(|e| format!(" · last error: {e}"))}
                </p>
                {body.map(|b| view! { <pre class="mail-body">{b}</pre> })}
                {failed.then(|| view! {
                    <ActionForm action=retry>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button type="submit" class="button-quiet">"Try again"</button>
                    </ActionForm>
                })}
            </details>
        </li>
    }
}
