//! First run and the `owner create` command: an organization, its Owner, and a one-time link
//! for the Owner to choose a password.

use super::db;
use super::sign_in::issue_password_link;
use super::AppState;
use crate::domain::{settings, EmailAddress};

/// Hours a set-password link stays valid.
const LINK_HOURS: i64 = 72;

pub struct OwnerLink {
    pub org_id: i64,
    pub email: EmailAddress,
    pub link: String,
}

/// On a fresh database, creates the configured first organization and its Owner.
pub async fn ensure_first_organization(state: &AppState) -> anyhow::Result<Option<OwnerLink>> {
    if db::organizations::any_exists(&state.db).await? {
        return Ok(None);
    }
    let email = state.settings.first_run.owner_email.clone();
    let org = state.settings.first_run.organization.clone();
    create_owner(state, &email, Some(&org)).await.map(Some)
}

/// Creates an Owner: in a new organization when `new_org` names one, otherwise in the first
/// organization. An existing account is made Owner and gets a fresh link.
pub async fn create_owner(state: &AppState, email: &str, new_org: Option<&str>) -> anyhow::Result<OwnerLink> {
    let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let org_name = new_org.map(|n| settings::name(n, "organization name")).transpose().map_err(anyhow::Error::msg)?;
    let mut tx = state.db.begin().await?;
    let account_id = db::accounts::find_or_create(&mut tx, &email).await?;
    // A named organization is new; without a name the Owner joins the first one, if any.
    let existing = match org_name {
        Some(_) => None,
        None => db::organizations::first_id(&state.db).await?,
    };
    let org_id = match existing {
        Some(id) => {
            db::accounts::make_owner(&mut tx, id, account_id).await?;
            id
        }
        None => {
            let name = match org_name {
                Some(name) => name,
                None => settings::name(&state.settings.first_run.organization, "organization name")
                    .map_err(anyhow::Error::msg)?,
            };
            let days = state.settings.invitations.default_lifetime_days;
            db::organizations::create_with_owner(&mut tx, &name, account_id, days).await?
        }
    };
    tx.commit().await?;
    let link = issue_password_link(state, account_id, LINK_HOURS).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(OwnerLink { org_id, email, link })
}
