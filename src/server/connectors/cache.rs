//! The connectors the webhooks name, cached for the webhooks' hot path.

use crate::server::db;
use crate::server::integrations::connector::Connector;
use std::time::Duration;

/// Connectors by webhook key, kept for `FRESH_FOR`: webhooks arrive in bursts and connectors
/// rarely change. A change made on this instance clears it at once; other instances see it
/// within `FRESH_FOR`. Only known keys are kept, so requests with made-up keys cannot fill it.
#[derive(Clone)]
pub struct WebhookConnectors(moka::sync::Cache<String, Connector>);

const FRESH_FOR: Duration = Duration::from_secs(5);
/// Far more connectors than one instance serves; a bound all the same.
const MAX_CACHED: u64 = 10_000;

impl Default for WebhookConnectors {
    fn default() -> Self {
        Self(moka::sync::Cache::builder().max_capacity(MAX_CACHED).time_to_live(FRESH_FOR).build())
    }
}

impl WebhookConnectors {
    /// The connector a webhook URL names, `None` for an unknown key.
    pub async fn get(&self, db: &db::Db, key: &str) -> Result<Option<Connector>, sqlx::Error> {
        if let Some(connector) = self.0.get(key) {
            return Ok(Some(connector));
        }
        let connector = db::connectors::by_webhook_key(db, key).await?.map(Connector::try_from).transpose()?;
        if let Some(connector) = &connector {
            self.0.insert(key.to_string(), connector.clone());
        }
        Ok(connector)
    }

    /// How many webhook keys are cached.
    pub fn cached(&self) -> u64 {
        self.0.run_pending_tasks();
        self.0.entry_count()
    }

    pub fn forget_all(&self) {
        self.0.invalidate_all();
    }
}
