//! The app shell, its routes, and one module per page.

mod access;
mod agreement;
mod chat_users;
mod connectors;
mod home;
mod identity;
mod import;
mod invite;
mod nav;
mod not_found;
mod onboarding;
mod outbox;
mod profile;
mod provisioning;
mod register;
mod set_password;
mod settings;
mod sign_in;
mod users;
mod webhooks;

use crate::api::account::types::Me;
use crate::api::account::{whoami, SetPassword, SignIn, SignOut, SwitchOrganization, VerifySignInCode};
use crate::api::agreement::AcceptAgreement;
use crate::api::registration::{CompleteRegistration, JoinOrganization};
use crate::AppError;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Meta, MetaTags};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

/// `public/favicon.svg`, inline: one request fewer on a phone's first visit.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='6' fill='%231f4e8c'/%3E%3Cpath d='M9 17l5 5 9-11' stroke='%23fff' stroke-width='3' fill='none' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E";

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
                <link rel="icon" href=FAVICON/>
                // The stylesheet's hashed name comes from the build, which only the server knows.
                <HashedStylesheet id="leptos" options=options.clone()/>
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
    pub accept_agreement: ServerAction<AcceptAgreement>,
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
    let accept_agreement = ServerAction::<AcceptAgreement>::new();
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
                accept_agreement.version().get(),
            ]
        },
        |_| whoami(),
    );
    provide_context(Auth {
        me,
        sign_in,
        sign_out,
        switch_org,
        set_password,
        verify_code,
        register,
        join,
        accept_agreement,
    });

    view! {
        <Meta name="description" content="Onboard: invite people, get them registered and watch onboarding progress."/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <nav::TopBar/>
            <main id="main" tabindex="-1">
                <Routes fallback=not_found::NotFound>
                    <Route path=path!("/") view=home::HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in") view=sign_in::SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/verify") view=sign_in::VerifyPage ssr=SsrMode::Async/>
                    <Route path=path!("/agreement") view={Lazy::<pages::Agreement>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/set-password/:token") view=set_password::SetPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/users") view={Lazy::<pages::Users>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/users/invite") view={Lazy::<pages::Invite>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/users/invite/:batch") view={Lazy::<pages::Batch>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/users/import") view={Lazy::<pages::Import>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/users/import/:sheet") view={Lazy::<pages::SheetCheck>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/register/:token") view=register::RegisterPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view={Lazy::<pages::Settings>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/outbox") view={Lazy::<pages::Outbox>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/profile") view={Lazy::<pages::Profile>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/onboarding") view={Lazy::<pages::Onboarding>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/onboarding/funnel") view={Lazy::<pages::Funnel>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/slack-mappings") view={Lazy::<pages::SlackMappings>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/connectors") view={Lazy::<pages::Connectors>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/access-requests") view={Lazy::<pages::AccessRequests>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/chat-users") view={Lazy::<pages::ChatUsers>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/chat-users/:id") view={Lazy::<pages::ChatUser>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/microsoftteams-mappings") view={Lazy::<pages::TeamsMappings>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/webhooks") view={Lazy::<pages::Webhooks>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/provisioning") view={Lazy::<pages::Provisioning>::new()} ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Declares each admin page as a lazily loaded route: the release build splits its code into
/// chunks of its own (`cargo leptos build --split`), which the browser fetches only when it shows
/// that page, and which the server names in the page it renders so they load alongside the main
/// module. The pages people open on a phone (sign-in, set-password, registration) stay in the
/// main module: as one compressed file they cost 40% fewer bytes than as a hundred small chunks,
/// each with its own response headers.
macro_rules! lazy_pages {
    ($($route:ident => $module:ident::$page:ident,)*) => {
        $(
            pub struct $route;

            #[lazy_route]
            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                fn view(_this: Self) -> AnyView {
                    view! { <super::$module::$page/> }.into_any()
                }
            }
        )*
    };
}

/// The admin pages, one lazy route each.
mod pages {
    use super::*;

    lazy_pages! {
        Agreement => agreement::AgreementPage,
        Users => users::UsersPage,
        Invite => invite::InvitePage,
        Batch => invite::BatchPage,
        Import => import::ImportPage,
        SheetCheck => import::SheetCheckPage,
        Settings => settings::SettingsPage,
        Outbox => outbox::OutboxPage,
        Profile => profile::ProfilePage,
        Onboarding => onboarding::OnboardingPage,
        Funnel => onboarding::FunnelPage,
        SlackMappings => identity::SlackMappingsPage,
        Connectors => connectors::ConnectorsPage,
        AccessRequests => access::AccessRequestsPage,
        ChatUsers => chat_users::ChatUsersPage,
        ChatUser => chat_users::ChatUserPage,
        TeamsMappings => identity::TeamsMappingsPage,
        Webhooks => webhooks::WebhooksPage,
        Provisioning => provisioning::ProvisioningPage,
    }
}
