//! Text messages through Twilio's send API: `POST /2010-04-01/Accounts/{sid}/Messages.json`
//! with form fields To, From, Body and HTTP Basic authentication.

use super::config::SmsSettings;
use super::mail::SendFailure;
use super::secret::Secret;

#[derive(Clone)]
pub struct SmsSender {
    client: reqwest::Client,
    endpoint: String,
    account_sid: String,
    auth_token: Secret,
    from: String,
}

impl SmsSender {
    /// A sender when Twilio is configured.
    pub fn from_settings(settings: &SmsSettings) -> anyhow::Result<Option<Self>> {
        if !settings.configured() {
            return Ok(None);
        }
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let endpoint = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            settings.twilio_base_url.trim_end_matches('/'),
            settings.twilio_account_sid
        );
        Ok(Some(Self {
            client,
            endpoint,
            account_sid: settings.twilio_account_sid.clone(),
            auth_token: settings.twilio_auth_token.clone(),
            from: settings.twilio_from.clone(),
        }))
    }

    pub async fn send(&self, to: &str, body: &str) -> Result<(), SendFailure> {
        let transient = |message: String| SendFailure { message, permanent: false };
        let response = self
            .client
            .post(&self.endpoint)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
            .form(&[("To", to), ("From", self.from.as_str()), ("Body", body)])
            .send()
            .await
            .map_err(|e| transient(format!("reaching Twilio: {}", crate::server::outbound::without_url(&e))))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // 429 and 5xx may pass; any other refusal will not. Twilio's own words are not kept.
        let permanent = status.is_client_error() && status.as_u16() != 429;
        Err(SendFailure { message: format!("Twilio answered {status}"), permanent })
    }
}
