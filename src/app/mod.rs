//! The app shell, its routes, and one module per page.

mod access;
mod connectors;
mod home;
mod identity;
mod invite;
mod nav;
mod not_found;
mod onboarding;
mod outbox;
mod profile;
mod register;
mod set_password;
mod settings;
mod sign_in;
mod users;

use crate::api::account::{whoami, SetPassword, SignIn, SignOut, SwitchOrganization, VerifySignInCode};
use crate::api::registration::{CompleteRegistration, JoinOrganization};
use crate::api::types::Me;
use crate::AppError;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page's Content-Security-Policy names the nonce its inline scripts carry.
    #[cfg(feature = "ssr")]
    crate::server::headers::set_policy_for_this_page();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Who is signed in, shared by the shell and the pages. Refetched whenever an action that
/// changes it completes.
#[derive(Clone, Copy)]
pub struct Auth {
    pub me: Resource<Result<Option<Me>, AppError>>,
    pub sign_in: ServerAction<SignIn>,
    pub sign_out: ServerAction<SignOut>,
    pub switch_org: ServerAction<SwitchOrganization>,
    pub set_password: ServerAction<SetPassword>,
    pub verify_code: ServerAction<VerifySignInCode>,
    pub register: ServerAction<CompleteRegistration>,
    pub join: ServerAction<JoinOrganization>,
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

// Pages render whole on the server (SsrMode::Async): complete HTML first, and a page can still
// answer with a redirect or a status once its data is known.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let sign_in = ServerAction::<SignIn>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let switch_org = ServerAction::<SwitchOrganization>::new();
    let set_password = ServerAction::<SetPassword>::new();
    let verify_code = ServerAction::<VerifySignInCode>::new();
    let register = ServerAction::<CompleteRegistration>::new();
    let join = ServerAction::<JoinOrganization>::new();
    let me = Resource::new(
        move || {
            [
                sign_in.version().get(),
                sign_out.version().get(),
                switch_org.version().get(),
                set_password.version().get(),
                verify_code.version().get(),
                register.version().get(),
                join.version().get(),
            ]
        },
        |_| whoami(),
    );
    provide_context(Auth { me, sign_in, sign_out, switch_org, set_password, verify_code, register, join });

    view! {
        <Stylesheet id="leptos" href="/pkg/onboard.css"/>
        <Meta name="description" content="Onboard: invite people, get them registered and watch onboarding progress."/>
        <Link rel="icon" href="/favicon.svg"/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <nav::TopBar/>
            <main id="main" tabindex="-1">
                <Routes fallback=not_found::NotFound>
                    <Route path=path!("/") view=home::HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in") view=sign_in::SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/verify") view=sign_in::VerifyPage ssr=SsrMode::Async/>
                    <Route path=path!("/set-password/:token") view=set_password::SetPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/users") view=users::UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/users/invite") view=invite::InvitePage ssr=SsrMode::Async/>
                    <Route path=path!("/users/invite/:batch") view=invite::BatchPage ssr=SsrMode::Async/>
                    <Route path=path!("/register/:token") view=register::RegisterPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view=settings::SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/outbox") view=outbox::OutboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/profile") view=profile::ProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("/onboarding") view=onboarding::OnboardingPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/slack-mappings") view=identity::SlackMappingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/connectors") view=connectors::ConnectorsPage ssr=SsrMode::Async/>
                    <Route path=path!("/access-requests") view=access::AccessRequestsPage ssr=SsrMode::Async/>
                    <Route path=path!("/chat-users") view=access::ChatUsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/chat-users/:id") view=access::ChatUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/microsoftteams-mappings") view=identity::TeamsMappingsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
