//! Settings › Slack mappings and Settings › Microsoft Teams mappings: which chat account each
//! member is, chosen by hand or matched by email.

pub mod types;

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use types::{MappingPage, MatchReport};

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::{onboarding::Provider, Permission};
#[cfg(feature = "ssr")]
use crate::server::integrations::directory::Directory;

/// The provider a page or form names; shared with the profile's disconnect.
#[cfg(feature = "ssr")]
pub(crate) fn provider(key: &str) -> Result<Provider, AppError> {
    Provider::parse(key).ok_or_else(|| AppError::invalid("provider", "Choose Slack or Microsoft Teams."))
}

#[server(input = GetUrl, endpoint = "identity_mappings")]
pub async fn identity_mappings(provider: String, page: i64) -> Result<MappingPage, AppError> {
    let caller = require(Permission::IdentityConfigure).await?;
    let provider = self::provider(&provider)?;
    let state = state();
    let page = page.max(1);
    let (rows, total) = db::identities::page(&state.db, caller.org_id, provider, page).await?;
    let directory = Directory::of(&state, provider);
    let (directory_users, directory_error) = match &directory {
        None => (Vec::new(), None),
        Some(d) => match d.users().await {
            Ok(users) => (users, None),
            Err(e) => {
                tracing::warn!(error = %e.message, "listing the provider's users failed");
                (Vec::new(), Some(format!("Could not list {}'s users: {}", provider.label(), e.message)))
            }
        },
    };
    Ok(MappingPage {
        provider,
        configured: directory.is_some(),
        rows,
        total,
        page,
        directory: directory_users,
        directory_error,
    })
}

/// Maps a member to a chat account from the dropdown; an empty `external_id` removes the mapping.
#[server(endpoint = "set_identity_mapping")]
pub async fn set_identity_mapping(provider: String, member: i64, external_id: String) -> Result<(), AppError> {
    let caller = require(Permission::IdentityConfigure).await?;
    let provider = self::provider(&provider)?;
    let state = state();
    let external_id = external_id.trim().to_string();
    let chosen = if external_id.is_empty() {
        None
    } else {
        let directory = Directory::of(&state, provider)
            .ok_or_else(|| AppError::Conflict(format!("{} is not set up on this Onboard.", provider.label())))?;
        let users = directory
            .users()
            .await
            .map_err(|e| AppError::Conflict(format!("Could not reach {}: {}", provider.label(), e.message)))?;
        let user = users.into_iter().find(|u| u.id == external_id).ok_or_else(|| {
            AppError::invalid("external_id", format!("That person is not in {} any more.", provider.label()))
        })?;
        Some(user)
    };
    let mut change = AuditedChange::begin(&caller).await?;
    let email = db::identities::member_email(&mut change, caller.org_id, member).await?.ok_or(AppError::NotFound)?;
    let detail = match &chosen {
        Some(user) => {
            db::identities::set(
                &mut change,
                &db::identities::NewMapping {
                    org_id: caller.org_id,
                    membership_id: member,
                    provider,
                    external_id: &user.id,
                    external_name: &user.name,
                    source: "manual",
                    created_by: caller.account_id,
                    picture: None,
                },
            )
            .await?;
            format!("{email} → {} {} ({})", provider.label(), user.name, user.id)
        }
        None => {
            db::identities::remove(&mut change, caller.org_id, member, provider).await?;
            format!("{email}: {} mapping removed", provider.label())
        }
    };
    change.commit("identity.mapped", &detail).await
}

/// Up to this many unmapped members are looked up one by one; more, and the whole directory
/// is listed once instead (Slack allows some fifty lookups a minute).
#[cfg(feature = "ssr")]
const ONE_BY_ONE: usize = 20;

/// Maps every unmapped member whose address the provider knows.
#[server(endpoint = "match_identities_by_email")]
pub async fn match_identities_by_email(provider: String) -> Result<MatchReport, AppError> {
    let caller = require(Permission::IdentityConfigure).await?;
    let provider = self::provider(&provider)?;
    let state = state();
    let directory = Directory::of(&state, provider)
        .ok_or_else(|| AppError::Conflict(format!("{} is not set up on this Onboard.", provider.label())))?;
    let unreachable = |e: crate::server::integrations::provider::ProviderFailure| {
        AppError::Conflict(format!("Could not reach {}: {}", provider.label(), e.message))
    };
    let unmapped = db::identities::unmapped(&state.db, caller.org_id, provider).await?;
    let mut found = std::collections::HashMap::new();
    if unmapped.len() <= ONE_BY_ONE {
        for (_, email) in &unmapped {
            if let Some(user) = directory.lookup_by_email(email).await.map_err(unreachable)? {
                found.insert(email.to_lowercase(), user);
            }
        }
    } else {
        for user in directory.users().await.map_err(unreachable)? {
            if let Some(email) = user.email.clone() {
                found.insert(email.to_lowercase(), user);
            }
        }
    }
    let members = db::identities::page(&state.db, caller.org_id, provider, 1).await?.1;
    let mut change = AuditedChange::begin(&caller).await?;
    let (mut matched, mut unmatched) = (0, Vec::new());
    for (membership_id, email) in &unmapped {
        match found.get(&email.to_lowercase()) {
            Some(user) => {
                db::identities::set(
                    &mut change,
                    &db::identities::NewMapping {
                        org_id: caller.org_id,
                        membership_id: *membership_id,
                        provider,
                        external_id: &user.id,
                        external_name: &user.name,
                        source: "email",
                        created_by: caller.account_id,
                        picture: None,
                    },
                )
                .await?;
                matched += 1;
            }
            None => unmatched.push(email.clone()),
        }
    }
    let detail = format!("{}: {matched} matched, {} not found", provider.label(), unmatched.len());
    change.commit("identity.matched_by_email", &detail).await?;
    Ok(MatchReport { matched, already_mapped: members - unmapped.len() as i64, unmatched })
}
