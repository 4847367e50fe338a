//! A member's own profile: who they are here, and the chat accounts onboarding messages reach
//! them on, which they can connect themselves (OAuth, see `server::oauth`) or disconnect.

pub mod types;

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use types::Profile;

#[cfg(feature = "ssr")]
use super::ssr::*;
#[cfg(feature = "ssr")]
use crate::domain::onboarding::Provider;

#[server(input = GetUrl, endpoint = "my_profile")]
pub async fn my_profile() -> Result<Profile, AppError> {
    let caller = signed_in().await?;
    let state = state();
    let mine = db::identities::of_member(&state.db, caller.membership.membership_id).await?;
    let m = &caller.membership;
    Ok(Profile {
        email: m.email.clone(),
        name: format!("{} {}", m.first_name, m.last_name).trim().to_string(),
        org_name: m.org_name.clone(),
        connections: Provider::ALL
            .into_iter()
            .map(|provider| types::Connection {
                provider,
                account: mine
                    .iter()
                    .find(|(p, _, _)| p == provider.key())
                    .map(|(_, name, source)| (name.clone(), source.clone())),
                can_connect: crate::server::oauth::available(&state, provider),
            })
            .collect(),
    })
}

/// Removes the caller's own mapping on one provider.
#[server(endpoint = "disconnect_identity")]
pub async fn disconnect_identity(provider: String) -> Result<(), AppError> {
    let caller = signed_in().await?;
    let provider = super::identity::provider(&provider)?;
    let mut change = AuditedChange::begin(&caller).await?;
    if !db::identities::remove(&mut change, caller.org_id, caller.membership.membership_id, provider).await? {
        return Err(AppError::NotFound);
    }
    change
        .commit("identity.disconnected", &format!("{} disconnected {}", caller.membership.email, provider.label()))
        .await
}
