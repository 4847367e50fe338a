//! What the outbox holds: every email and chat send, its state, and what it said.

pub mod types;

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use types::OutboxOverview;

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::Permission;
#[cfg(feature = "ssr")]
use crate::server::outbox::{readable, Readers};

#[server(input = GetUrl, endpoint = "load_outbox")]
pub async fn load_outbox() -> Result<OutboxOverview, AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let state = state();
    Ok(OutboxOverview {
        counts: db::outbox::counts(&state.db, caller.org_id).await?,
        jobs: readable(db::outbox::recent(&state.db, caller.org_id, 200).await?, Readers::of(&state)),
        smtp_configured: !state.settings.mail.smtp_url.is_empty(),
    })
}

#[server(endpoint = "retry_outbox_job")]
pub async fn retry_outbox_job(id: i64) -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let mut change = AuditedChange::begin(&caller).await?;
    if !db::outbox::retry(&mut change, caller.org_id, id).await? {
        return Err(AppError::NotFound);
    }
    db::onboarding_messages::requeued_with_job(&mut change, id).await?;
    change.commit("outbox.retried", &format!("job #{id}")).await?;
    state().outbox_wake.notify_waiters();
    Ok(())
}

/// Queues a test email to the caller, to check the mail set-up end to end.
#[server(endpoint = "send_test_email")]
pub async fn send_test_email() -> Result<(), AppError> {
    let caller = require(Permission::OrgSettings).await?;
    let state = state();
    let message = crate::server::mail::EmailMessage {
        to: caller.membership.email.clone(),
        from_name: None,
        subject: format!("Test email from Onboard for {}", caller.membership.org_name),
        text: "This is a test email from Onboard. If you can read it, email delivery works.".into(),
        html: "<p>This is a test email from Onboard. If you can read it, email delivery works.</p>".into(),
    };
    let mut change = AuditedChange::begin(&caller).await?;
    crate::server::outbox::enqueue_email(&mut change, &state, caller.org_id, message).await?;
    change.commit("outbox.test_email", &caller.membership.email).await?;
    state.outbox_wake.notify_waiters();
    Ok(())
}
