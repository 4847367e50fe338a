//! Registering from an invitation, step by step. Shared by the server and the browser.

use crate::api::settings::types::EulaVersion;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrationStep {
    Details,
    SecondFactor,
    Eula,
    /// The address already has an Onboard account: its owner signs in to join.
    SignIn,
    /// Signed in as the invited account: accept the agreement and join.
    Join,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistrationInfo {
    pub email: String,
    pub org_name: String,
    pub require_2fa: bool,
    /// Whether codes can go by text message (an SMS provider is configured).
    pub sms_available: bool,
    pub step: RegistrationStep,
    /// The current agreement, if the organization has published one.
    pub eula: Option<EulaVersion>,
    /// With `SignIn`: the other account this browser is signed in as, which cannot accept.
    pub signed_in_as: Option<String>,
    /// The organization's default country for mobile numbers (ISO 3166-1 alpha-2), or empty.
    pub default_country: String,
    /// With `Details`: the countries to choose from; empty at other steps.
    pub countries: Vec<CountryChoice>,
    /// With `Details`: what the inviter's sheet said, to start the form with; the person may
    /// change any of it.
    pub prefill: Prefill,
}

/// A person's details as an imported sheet gave them; empty where it gave none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefill {
    pub first_name: String,
    pub last_name: String,
    /// In E.164 form (`+447911123456`).
    pub mobile: String,
}

/// A country a mobile number may be in: ISO 3166-1 alpha-2 code, ISO name, calling code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountryChoice {
    pub code: String,
    pub name: String,
    pub calling_code: u16,
}

/// The second factor a person registering chose, ready to be proven with a code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SecondFactorSetup {
    /// A code went out by email or text message.
    CodeSent,
    /// An authenticator app: scan the QR code (an SVG image) or type the key, then its code.
    Authenticator { qr_svg: String, key: String },
}
