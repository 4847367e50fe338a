//! The member's own profile: their details and the chat accounts they can connect.

use crate::api::profile::types::{Connection, Profile};
use crate::api::profile::{my_profile, DisconnectIdentity};
use crate::components::{action_error, FormError, Loaded};
use crate::domain::onboarding::{ConnectProblem, Provider};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let disconnect = ServerAction::<DisconnectIdentity>::new();
    let profile = Resource::new(move || disconnect.version().get(), |_| my_profile());
    let query = use_query_map();
    // What the OAuth return said, by key only: the address cannot make this page say anything else.
    let notice = move || {
        query.with(|q| {
            let provider = q.get("provider").or_else(|| q.get("connected")).and_then(|p| Provider::parse(&p))?;
            match q.get("problem").and_then(|p| ConnectProblem::parse(&p)) {
                Some(problem) => Some((true, problem.message(provider))),
                None if q.get("connected").is_some() => Some((false, format!("{} is connected.", provider.label()))),
                None => None,
            }
        })
    };
    view! {
        <Title text="Your profile · Onboard"/>
        <div class="page">
            <h1>"Your profile"</h1>
            {move || notice().map(|(error, text)| {
                if error {
                    view! { <p class="notice notice-error" role="alert">{text}</p> }.into_any()
                } else {
                    view! { <p class="notice" role="status">{text}</p> }.into_any()
                }
            })}
            <FormError error=action_error(disconnect) all=true/>
            <Loaded resource=profile let:p>
                <ProfileView profile=p disconnect/>
            </Loaded>
        </div>
    }
}

#[component]
fn ProfileView(profile: Profile, disconnect: ServerAction<DisconnectIdentity>) -> impl IntoView {
    let Profile { email, name, org_name, connections } = profile;
    view! {
        <section class="card">
            <dl class="details">
                <dt>"Name"</dt><dd>{if name.is_empty() { "—".to_string() } else { name }}</dd>
                <dt>"Email address"</dt><dd>{email}</dd>
                <dt>"Organization"</dt><dd>{org_name}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="connections-heading">
            <h2 id="connections-heading">"Chat accounts"</h2>
            <p class="hint">"Reminders and messages from your organization reach you on these."</p>
            <ul class="rows">
                {connections.into_iter().map(|c| view! { <ConnectionLine connection=c disconnect/> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn ConnectionLine(connection: Connection, disconnect: ServerAction<DisconnectIdentity>) -> impl IntoView {
    let Connection { provider, account, can_connect } = connection;
    let label = provider.label();
    let connect = move |text: &'static str| {
        can_connect.then(|| {
            view! {
                <a class="button-link" href=format!("/oauth/{}/start", provider.key()) rel="external">
                    {format!("{text} {label}")}
                </a>
            }
        })
    };
    view! {
        <li class="row">
            <strong>{label}</strong>
            {match account {
                Some((name, source)) => view! {
                    <span>{format!("Connected as {name}")}</span>
                    <span class="hint">{if source == "oauth" { "(by you)" } else { "(by an administrator)" }}</span>
                    <ActionForm action=disconnect>
                        <input type="hidden" name="provider" value=provider.key()/>
                        <button type="submit" class="button-quiet" aria-label=format!("Disconnect {label}")>"Disconnect"</button>
                    </ActionForm>
                    {connect("Reconnect")}
                }
                .into_any(),
                None => view! {
                    <span class="hint">"Not connected"</span>
                    {connect("Connect")}
                    {(!can_connect).then(|| view! { <span class="hint">"(not set up on this Onboard)"</span> })}
                }
                .into_any(),
            }}
        </li>
    }
}
