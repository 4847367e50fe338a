//! Self-registration from an invitation link, on a phone: details, then the second factor
//! when the organization requires it, then the EULA. Only the last step spends the link.
//! What the person has entered so far waits in their session, not in the database.

use super::auth::caller_of;
use super::codes::{check_code, send_code, CodeTo, REGISTER};
use super::db::{self, funnel::Mark, invitations::Link, now_ms};
use super::events::{self, About};
use super::secret::{token_hash, Secret};
use super::sign_in::{enter, establish, hash_password, Entry, PassedFactor};
use super::totp;
use super::AppState;
use crate::api::account::types::SignInOutcome;
use crate::api::registration::types::{Prefill, RegistrationInfo, RegistrationStep, SecondFactorSetup};
use crate::domain::events::EventType;
use crate::domain::funnel::possible_scanner;
use crate::domain::second_factor::SecondFactor;
use crate::domain::{password, settings::name as person_name};
use crate::AppError;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const DRAFT_KEY: &str = "registration";

#[derive(Clone, Serialize, Deserialize)]
struct Draft {
    invitation_id: i64,
    first_name: String,
    last_name: String,
    mobile: String,
    password_hash: String,
    /// Where the last code came from, and so the second factor once proven.
    #[serde(default)]
    code_channel: Option<SecondFactor>,
    /// The authenticator app's secret, once chosen; kept so a reload does not void a scanned code.
    #[serde(default)]
    totp_secret: Option<String>,
    /// The time step of the authenticator code that proved it, so it cannot sign in again.
    #[serde(default)]
    totp_step: Option<i64>,
    second_factor_proven: bool,
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    AppError::Internal
}

/// The invitation behind a link, if it can still be used; otherwise a message saying what
/// happened and what to do. None of them reveals whether an address exists.
pub async fn usable_link(state: &AppState, token: &str) -> Result<Link, AppError> {
    let link = db::invitations::by_token_hash(&state.db, &token_hash(token)).await?;
    let conflict = |m: &str| Err(AppError::Conflict(m.into()));
    match link {
        None => Err(AppError::NotFound),
        Some(l) if l.status == "accepted" => {
            conflict("This invitation was already used to register. Sign in with your email address and password.")
        }
        Some(l) if l.status == "revoked" => {
            conflict("This invitation was withdrawn. Ask the person who invited you if you should still join.")
        }
        Some(l) if l.status == "replaced" => {
            conflict("A newer invitation was sent to you. Use the link in the most recent email.")
        }
        Some(l) if l.status == "expired" || l.expires_at <= now_ms() => {
            conflict("This invitation has expired. Ask the person who invited you to send a new one.")
        }
        // Registered, paused or withdrawn meanwhile (a resend racing a registration, say).
        Some(l) if l.membership_status != "pending" => conflict(
            "This invitation can no longer be used: you are already part of this organization, or it was withdrawn. Sign in with your email address and password.",
        ),
        Some(l) => Ok(l),
    }
}

/// A link that may be used to register: its address has no Onboard account yet. Whatever the
/// browser sends, an existing account's credentials are never set through a link.
async fn registrable_link(state: &AppState, token: &str) -> Result<Link, AppError> {
    let link = usable_link(state, token).await?;
    if link.registered {
        return Err(AppError::Conflict(already_registered(&link)));
    }
    Ok(link)
}

fn already_registered(link: &Link) -> String {
    format!("You already have an Onboard account: sign in to join {}.", link.org_name)
}

async fn draft(session: &Session, link: &Link) -> Result<Option<Draft>, AppError> {
    let draft: Option<Draft> = session.get(DRAFT_KEY).await.map_err(session_error)?;
    Ok(draft.filter(|d| d.invitation_id == link.id))
}

fn next_step(link: &Link, draft: &Option<Draft>) -> RegistrationStep {
    match draft {
        None => RegistrationStep::Details,
        Some(d) if link.require_2fa && !d.second_factor_proven => RegistrationStep::SecondFactor,
        Some(_) => RegistrationStep::Eula,
    }
}

/// Where the person is in registering. `head`: the page was asked for with HEAD, which the
/// funnel counts as a possible mail scanner's open.
pub async fn info(state: &AppState, session: &Session, token: &str, head: bool) -> Result<RegistrationInfo, AppError> {
    let link = usable_link(state, token).await?;
    count_open(state, &link, head).await;
    let mut signed_in_as = None;
    let step = if link.registered {
        match caller_of(state, session).await? {
            Some(caller) if caller.account_id == link.account_id => RegistrationStep::Join,
            Some(caller) => {
                signed_in_as = Some(caller.membership.email);
                RegistrationStep::SignIn
            }
            None => RegistrationStep::SignIn,
        }
    } else {
        next_step(&link, &draft(session, &link).await?)
    };
    let eula = db::eula::current(&state.db, link.org_id).await?;
    let details = step == RegistrationStep::Details;
    let countries = if details { super::phone::countries().to_vec() } else { Vec::new() };
    let prefill = if details {
        Prefill {
            first_name: link.prefill_first_name.clone(),
            last_name: link.prefill_last_name.clone(),
            mobile: link.prefill_mobile.clone(),
        }
    } else {
        Prefill::default()
    };
    Ok(RegistrationInfo {
        email: link.email.clone(),
        org_name: link.org_name.clone(),
        require_2fa: link.require_2fa,
        sms_available: state.sms.is_some(),
        step,
        eula,
        signed_in_as,
        default_country: link.default_country.clone(),
        countries,
        prefill,
    })
}

/// Counts an open of the link for the funnel: as the person's, or apart as a possible mail
/// scanner's. Only the first of each kind is written, so reloading the page writes nothing.
async fn count_open(state: &AppState, link: &Link, head: bool) {
    let last_sent = link.delivered_at.max(link.last_reminded_at);
    let (mark, counted) = match possible_scanner(head, last_sent, now_ms()) {
        true => (Mark::PossibleScannerOpen, link.scanner_opened),
        false => (Mark::LinkOpened, link.opened),
    };
    if !counted {
        reached(state, link, mark).await;
    }
}

/// Records a step of the funnel. Registering goes on if that fails: the count is the admins'
/// view, not the person's way in.
async fn reached(state: &AppState, link: &Link, mark: Mark) {
    if let Err(e) = db::funnel::mark(&state.db.pool, link.membership_id, mark).await {
        tracing::warn!(error = %e, invitation = link.id, ?mark, "recording a funnel step failed");
    }
}

pub struct Details {
    pub first_name: String,
    pub last_name: String,
    pub mobile: String,
    /// The country a national mobile number is in (ISO 3166-1 alpha-2), or empty.
    pub country: String,
    pub password: Secret,
}

/// Checks every field, reporting each problem next to its field at once, and keeps the draft.
pub async fn save_details(
    state: &AppState,
    session: &Session,
    token: &str,
    d: Details,
) -> Result<RegistrationStep, AppError> {
    let link = registrable_link(state, token).await?;
    let first_name = person_name(&d.first_name, "first name");
    let last_name = person_name(&d.last_name, "last name");
    let mobile = super::phone::e164(&d.mobile, &d.country);
    let password = password::check(d.password.expose());
    let (first_name, last_name, mobile) = match (first_name, last_name, mobile, password) {
        (Ok(first), Ok(last), Ok(mobile), Ok(())) => (first, last, mobile),
        (first, last, mobile, password) => {
            let problems = [
                ("first_name", first.err()),
                ("last_name", last.err()),
                ("mobile", mobile.err()),
                ("password", password.err().map(String::from)),
            ];
            let problems = problems.into_iter().filter_map(|(field, r)| Some((field.to_string(), r?))).collect();
            return Err(AppError::invalid_fields(problems).unwrap_or(AppError::Internal));
        }
    };
    let password_hash = hash_password(d.password).await?;
    // A proof of the second factor stands only for the mobile number it may have gone to.
    let previous = draft(session, &link).await?.filter(|p| p.mobile == mobile);
    let draft = Draft {
        invitation_id: link.id,
        first_name,
        last_name,
        mobile,
        password_hash,
        code_channel: previous.as_ref().and_then(|p| p.code_channel.clone()),
        totp_secret: previous.as_ref().and_then(|p| p.totp_secret.clone()),
        totp_step: previous.as_ref().and_then(|p| p.totp_step),
        second_factor_proven: previous.is_some_and(|p| p.second_factor_proven),
    };
    session.insert(DRAFT_KEY, &draft).await.map_err(session_error)?;
    reached(state, &link, Mark::DetailsEntered).await;
    Ok(next_step(&link, &Some(draft)))
}

/// Starts the chosen second factor (a `SecondFactor` key): a code by email, or by text message
/// to the mobile number given, or an authenticator app, whose QR code is returned to scan.
pub async fn send_registration_code(
    state: &AppState,
    session: &Session,
    token: &str,
    channel: &str,
) -> Result<SecondFactorSetup, AppError> {
    let Some(channel) = SecondFactor::parse(channel) else {
        return Err(AppError::invalid("factor", "Choose how to receive your code."));
    };
    let link = registrable_link(state, token).await?;
    let Some(mut d) = draft(session, &link).await? else {
        return Err(AppError::Conflict("Fill in your details first.".into()));
    };
    // A new choice of factor must be proven afresh.
    if d.code_channel != Some(channel) {
        d.second_factor_proven = false;
        d.totp_step = None;
    }
    let to = match channel {
        SecondFactor::Totp => {
            let secret = d.totp_secret.get_or_insert_with(totp::new_secret).clone();
            d.code_channel = Some(channel);
            session.insert(DRAFT_KEY, &d).await.map_err(session_error)?;
            let qr_svg =
                totp::qr_svg(&totp::otpauth_uri(&secret, &link.org_name, &link.email)).ok_or(AppError::Internal)?;
            return Ok(SecondFactorSetup::Authenticator { qr_svg, key: secret });
        }
        SecondFactor::Sms if state.sms.is_some() => CodeTo::Sms(&d.mobile),
        SecondFactor::Sms => {
            return Err(AppError::invalid("factor", "Text messages are unavailable here. Choose email."))
        }
        SecondFactor::Email => CodeTo::Email(&link.email),
    };
    send_code(state, link.org_id, link.account_id, to, REGISTER).await?;
    d.code_channel = Some(channel);
    session.insert(DRAFT_KEY, &d).await.map_err(session_error)?;
    Ok(SecondFactorSetup::CodeSent)
}

pub async fn verify_registration_code(
    state: &AppState,
    session: &Session,
    token: &str,
    code: &str,
) -> Result<RegistrationStep, AppError> {
    let link = registrable_link(state, token).await?;
    let Some(mut d) = draft(session, &link).await? else {
        return Err(AppError::Conflict("Fill in your details first.".into()));
    };
    match (d.code_channel, &d.totp_secret) {
        (Some(SecondFactor::Totp), Some(secret)) => {
            let Some(step) = totp::matching_step(secret, code, now_ms()) else {
                return Err(AppError::invalid(
                    "code",
                    "That is not the code your app shows now. Check the app's clock, or scan the QR code again.",
                ));
            };
            d.totp_step = Some(step);
        }
        (None, _) => return Err(AppError::Conflict("Choose how to receive your code first.".into())),
        _ => check_code(state, link.account_id, REGISTER, code).await?,
    }
    d.second_factor_proven = true;
    session.insert(DRAFT_KEY, &d).await.map_err(session_error)?;
    reached(state, &link, Mark::SecondFactorSet).await;
    Ok(next_step(&link, &Some(d)))
}

/// An agreement's acceptance as the browser sent it, and what is recorded with it.
pub struct Acceptance {
    /// The version the person read.
    pub eula_version_id: Option<i64>,
    /// The agreement's checkbox was ticked.
    pub accepted: bool,
    pub ip: String,
    /// At most 400 characters.
    pub user_agent: String,
}

/// The last step: accept the current EULA; the link is spent, the account completed, the
/// membership made Active and the person signed in, all or nothing.
pub async fn complete(state: &AppState, session: &Session, token: &str, a: &Acceptance) -> Result<(), AppError> {
    let link = registrable_link(state, token).await?;
    let Some(d) = draft(session, &link).await? else {
        return Err(AppError::Conflict("Fill in your details first.".into()));
    };
    if link.require_2fa && !d.second_factor_proven {
        return Err(AppError::Conflict("Confirm the code we sent you first.".into()));
    }
    let current = accepted_eula(state, &link, a).await?;
    let mut tx = state.db.begin().await?;
    if !db::invitations::redeem(&mut tx, link.id).await? {
        return Err(AppError::Conflict("This invitation was already used or has expired.".into()));
    }
    let factor = d.code_channel.filter(|_| d.second_factor_proven);
    let totp = match (factor, &d.totp_secret, d.totp_step) {
        (Some(SecondFactor::Totp), Some(secret), Some(step)) => Some((secret.as_str(), step)),
        _ => None,
    };
    let account = db::registrations::CompletedAccount {
        first_name: &d.first_name,
        last_name: &d.last_name,
        mobile: &d.mobile,
        password_hash: &d.password_hash,
        second_factor: factor,
        totp,
    };
    // Conditional on the account having no password, whatever the browser sent before.
    if !db::registrations::complete_account(&mut tx, &state.db.key, link.account_id, &account).await? {
        return Err(AppError::Conflict(already_registered(&link)));
    }
    if let Some(eula) = &current {
        db::eula::record_acceptance(&mut tx, link.account_id, eula.id, &a.ip, &a.user_agent).await?;
        db::funnel::mark(&mut *tx, link.membership_id, Mark::AgreementAccepted).await?;
    }
    announce_membership(state, &mut tx, &link, true).await?;
    tx.commit().await?;
    session.remove::<Draft>(DRAFT_KEY).await.map_err(session_error)?;
    db::sessions::delete_for_account(&state.db, link.account_id).await?;
    establish(session, link.account_id, link.org_id, factor.map(PassedFactor::now)).await?;
    tracing::info!(account = link.account_id, org = link.org_id, "registered");
    Ok(())
}

/// The last step of registering (`registered`: a new account completed) or joining, in its
/// transaction: the membership made Active, and `member.registered` (when registering) then
/// `member.activated` told to the endpoints listening.
async fn announce_membership(
    state: &AppState,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    link: &Link,
    registered: bool,
) -> Result<(), AppError> {
    let activated = db::registrations::activate(tx, link.membership_id).await?;
    let (key, member) = (&state.db.key, About::Member(link.membership_id));
    if registered {
        events::emit(tx, key, link.org_id, EventType::MemberRegistered, member).await?;
    }
    if activated {
        events::emit(tx, key, link.org_id, EventType::MemberActivated, member).await?;
    }
    Ok(())
}

/// The current agreement, once the person has accepted exactly that version; none if the
/// organization has not published one.
async fn accepted_eula(
    state: &AppState,
    link: &Link,
    a: &Acceptance,
) -> Result<Option<crate::api::settings::types::EulaVersion>, AppError> {
    let current = db::eula::current(&state.db, link.org_id).await?;
    if let Some(eula) = &current {
        if !a.accepted {
            return Err(AppError::invalid("accept", "You need to accept the agreement to continue."));
        }
        if a.eula_version_id != Some(eula.id) {
            return Err(AppError::Conflict(
                "A newer version of the agreement was just published. Read it and accept again.".into(),
            ));
        }
    }
    Ok(current)
}

/// Someone who already has an account joins the organization that invited them: signed in as
/// the invited account, they accept its agreement; the link is spent and the membership made
/// Active. Entering the organization then asks for a second factor if it requires 2FA and this
/// session has not passed one.
pub async fn join(state: &AppState, session: &Session, token: &str, a: &Acceptance) -> Result<SignInOutcome, AppError> {
    let link = usable_link(state, token).await?;
    let Some(caller) = caller_of(state, session).await? else {
        return Err(AppError::Unauthenticated);
    };
    if caller.account_id != link.account_id {
        tracing::info!(account = caller.account_id, invitation = link.id, "join refused: another account's invitation");
        return Err(AppError::NotAllowed);
    }
    let current = accepted_eula(state, &link, a).await?;
    let mut tx = state.db.begin().await?;
    if !db::invitations::redeem(&mut tx, link.id).await? {
        return Err(AppError::Conflict("This invitation was already used or has expired.".into()));
    }
    if let Some(eula) = &current {
        db::eula::record_acceptance(&mut tx, link.account_id, eula.id, &a.ip, &a.user_agent).await?;
        db::funnel::mark(&mut *tx, link.membership_id, Mark::AgreementAccepted).await?;
    }
    announce_membership(state, &mut tx, &link, false).await?;
    tx.commit().await?;
    tracing::info!(account = link.account_id, org = link.org_id, "joined by signing in");
    enter(state, session, link.account_id, link.org_id, Entry::SignedIn).await
}
