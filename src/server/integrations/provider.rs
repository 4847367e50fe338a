//! What every provider call shares: how a failure is told, one HTTP client, a people cache.

use crate::server::mail::SendFailure;
use std::time::Duration;

/// A failed provider call: what it said, whether trying again could help, and when (a 429's
/// Retry-After, which the outbox honours instead of its own backoff).
#[derive(Clone, Debug)]
pub struct ProviderFailure {
    pub message: String,
    pub permanent: bool,
    pub retry_after_ms: Option<i64>,
}

impl ProviderFailure {
    pub fn transient(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: false, retry_after_ms: None }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: true, retry_after_ms: None }
    }

    /// From an HTTP answer that was not a success: 429 and 5xx may pass, other refusals will not.
    /// The remote's body is not kept: its raw words are shown to nobody.
    pub async fn from_response(provider: &str, response: reqwest::Response) -> Self {
        let status = response.status();
        let retry_after_ms = retry_after_ms(&response);
        Self {
            message: format!("{provider} answered {status}"),
            permanent: status.is_client_error() && status.as_u16() != 429,
            retry_after_ms,
        }
    }
}

impl From<SendFailure> for ProviderFailure {
    fn from(f: SendFailure) -> Self {
        Self { message: f.message, permanent: f.permanent, retry_after_ms: None }
    }
}

/// Retry-After in seconds (the form Slack and Microsoft use), as milliseconds.
fn retry_after_ms(response: &reqwest::Response) -> Option<i64> {
    let seconds: i64 = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(seconds.clamp(0, 3_600) * 1_000)
}

/// One HTTP client per provider: bounded waits, and no redirects (a token must never follow one).
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// A failed call, without the URL (a Telegram URL carries the bot token).
pub(super) fn unreachable(provider: &str, e: reqwest::Error) -> ProviderFailure {
    ProviderFailure::transient(format!("reaching {provider}: {}", crate::server::outbound::without_url(&e)))
}

/// A provider's people, kept for a few minutes: listing a large workspace takes many calls
/// against a tight rate limit, and every mapping page and choice needs the list.
#[derive(Clone, Default)]
pub struct DirectoryCache(
    std::sync::Arc<tokio::sync::Mutex<Option<(std::time::Instant, Vec<crate::api::identity::types::DirectoryUser>)>>>,
);

const DIRECTORY_FRESH_FOR: Duration = Duration::from_secs(300);

impl DirectoryCache {
    /// The cached list while fresh, else `fetch`'s answer. One fetch at a time: others wait for it.
    pub async fn get_or_fetch<F>(
        &self,
        fetch: F,
    ) -> Result<Vec<crate::api::identity::types::DirectoryUser>, ProviderFailure>
    where
        F: std::future::Future<Output = Result<Vec<crate::api::identity::types::DirectoryUser>, ProviderFailure>>,
    {
        let mut cached = self.0.lock().await;
        if let Some((at, users)) = cached.as_ref() {
            if at.elapsed() < DIRECTORY_FRESH_FOR {
                return Ok(users.clone());
            }
        }
        let users = fetch.await?;
        *cached = Some((std::time::Instant::now(), users.clone()));
        Ok(users)
    }
}
