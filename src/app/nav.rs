//! The top bar: product name, the Tools and Settings menus, and the account menu.

use super::use_auth;
use crate::api::account::types::{Me, SignInOutcome};
use crate::components::{Avatar, DisclosureMenu};
use crate::domain::Permission;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

/// The menus' titles, as the product documents name them.
const ACCESS_MANAGEMENT: &str = "Access management";
const TOOLS: &str = "Tools";
const SETTINGS: &str = "Settings";

/// One navigation entry, shown only to callers holding its permission.
pub struct NavItem {
    pub group: &'static str,
    pub label: &'static str,
    pub href: &'static str,
    /// Shown to holders of any of these.
    pub permissions: &'static [Permission],
}

/// Navigation in the order of DESIGN.md's menu; entries join as their pages land.
pub const NAV: &[NavItem] = &[
    NavItem {
        group: ACCESS_MANAGEMENT,
        label: "Users",
        href: "/users",
        permissions: &[Permission::UsersManage, Permission::UsersInvite],
    },
    NavItem { group: TOOLS, label: "Onboarding", href: "/onboarding", permissions: &[Permission::OnboardingView] },
    NavItem { group: TOOLS, label: "Connectors", href: "/connectors", permissions: &[Permission::ConnectorsManage] },
    NavItem {
        group: TOOLS,
        label: "Access requests",
        href: "/access-requests",
        permissions: &[Permission::AccessReview],
    },
    NavItem { group: TOOLS, label: "Chat users", href: "/chat-users", permissions: &[Permission::AccessReview] },
    NavItem { group: SETTINGS, label: "Organization", href: "/settings", permissions: &[Permission::OrgSettings] },
    NavItem {
        group: SETTINGS,
        label: "Slack mappings",
        href: "/settings/slack-mappings",
        permissions: &[Permission::IdentityConfigure],
    },
    NavItem {
        group: SETTINGS,
        label: "Microsoft Teams mappings",
        href: "/settings/microsoftteams-mappings",
        permissions: &[Permission::IdentityConfigure],
    },
    NavItem { group: SETTINGS, label: "Webhooks", href: "/settings/webhooks", permissions: &[Permission::OrgSettings] },
    NavItem {
        group: SETTINGS,
        label: "Provisioning",
        href: "/settings/provisioning",
        permissions: &[Permission::OrgSettings],
    },
    NavItem { group: SETTINGS, label: "Outbox", href: "/outbox", permissions: &[Permission::OrgSettings] },
];

impl NavItem {
    /// Whether `path` is this entry's page, or one under it (a chat user under Chat users).
    fn is_current(&self, path: &str) -> bool {
        path.strip_prefix(self.href).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

/// The pages the signed-in person's permissions open; none while a new version of the
/// agreement awaits their acceptance.
pub fn visible_nav(me: &Me) -> Vec<&'static NavItem> {
    if me.agreement_pending {
        return Vec::new();
    }
    NAV.iter().filter(|item| item.permissions.iter().any(|p| me.permissions.contains(*p))).collect()
}

#[component]
pub fn TopBar() -> impl IntoView {
    let auth = use_auth();
    follow_auth_changes(auth);
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Onboard"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match auth.me.await {
                        Ok(Some(me)) => view! { <SignedInBar me/> }.into_any(),
                        _ => view! { <a class="topbar-link" href="/sign-in">"Sign in"</a> }.into_any(),
                    }
                })}
            </Transition>
        </header>
    }
}

/// The product documents' menus: Tools and Settings beside each other, and the account menu
/// behind the person's initials, top right, which holds Access management. On a phone the
/// account menu is the only button and holds Tools and Settings too.
#[component]
fn SignedInBar(me: Me) -> impl IntoView {
    let auth = use_auth();
    let items = visible_nav(&me);
    let group = |name: &str| items.iter().copied().filter(|i| i.group == name).collect::<Vec<_>>();
    let (access, tools, settings) = (group(ACCESS_MANAGEMENT), group(TOOLS), group(SETTINGS));
    let current_org = me.org_id;
    let org = if me.orgs.len() > 1 {
        let orgs = me.orgs.clone();
        view! {
            <ActionForm action=auth.switch_org attr:class="org-switch">
                <label for="org-switch-select">"Organization"</label>
                <select id="org-switch-select" name="org_id">
                    {orgs
                        .into_iter()
                        .map(|o| view! { <option value=o.id.to_string() selected=o.id == current_org>{o.name}</option> })
                        .collect_view()}
                </select>
                <button type="submit" class="button-quiet">"Switch"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! { <p class="org-name">{me.org_name.clone()}</p> }.into_any()
    };
    let (name, picture) = (me.display_name.clone(), me.picture.clone());
    let account_label = format!("Account menu for {}", me.display_name);
    view! {
        <nav class="mainnav" aria-label="Main">
            <ul class="menubar">
                {menu_of(TOOLS, "menu-tools", tools.clone())}
                {menu_of(SETTINGS, "menu-settings", settings.clone())}
            </ul>
            <DisclosureMenu
                id="menu-account"
                class="account-menu"
                button_class="account-button"
                label=move || {
                    view! {
                        <Avatar name=name.clone() url=picture.clone()/>
                        <span class="visually-hidden">{account_label.clone()}</span>
                    }
                }
            >
                <div class="account-who">
                    <strong>{me.display_name.clone()}</strong>
                    {(me.display_name != me.email).then(|| view! { <span>{me.email.clone()}</span> })}
                </div>
                {org}
                {group_of(ACCESS_MANAGEMENT, "account-access", access)}
                <div class="phone-only">
                    {group_of(TOOLS, "account-tools", tools)}
                    {group_of(SETTINGS, "account-settings", settings)}
                </div>
                <ul class="menu-links">
                    <li><A href="/profile">"Your profile"</A></li>
                </ul>
                <ActionForm action=auth.sign_out attr:class="menu-sign-out">
                    <button type="submit" class="button-quiet">"Sign out"</button>
                </ActionForm>
            </DisclosureMenu>
        </nav>
    }
}

/// A menu of the bar (Tools, Settings), when the caller may open any of its pages.
fn menu_of(title: &'static str, id: &'static str, items: Vec<&'static NavItem>) -> Option<impl IntoView> {
    (!items.is_empty()).then(|| {
        // The button of the menu holding the current page is marked too.
        let location = use_location();
        let mine = items.clone();
        let here = move || mine.iter().any(|i| i.is_current(&location.pathname.get()));
        let label = move || view! { <span class:menu-current=here.clone()>{title}</span> };
        view! {
            <li>
                <DisclosureMenu id label>
                    {links(items)}
                </DisclosureMenu>
            </li>
        }
    })
}

/// A titled section of the account menu.
fn group_of(title: &'static str, id: &'static str, items: Vec<&'static NavItem>) -> Option<impl IntoView> {
    (!items.is_empty()).then(|| {
        view! {
            <div role="group" aria-labelledby=id>
                <p id=id class="menu-heading">{title}</p>
                {links(items)}
            </div>
        }
    })
}

fn links(items: Vec<&'static NavItem>) -> impl IntoView {
    view! {
        <ul class="menu-links">
            {items
                .into_iter()
                .map(|item| view! { <li><A href=item.href exact=true>{item.label}</A></li> })
                .collect_view()}
        </ul>
    }
}

pub use crate::domain::query::safe_next;

/// After signing in or out, go where the person now belongs. This runs once the action's
/// result is in, by which time `auth.me` is already refetching, so the next page sees the
/// new state. (Without JavaScript the server answers the form post with a redirect instead.)
/// An organization entered by switching, joining or a password link may first ask for a code.
fn follow_auth_changes(auth: super::Auth) {
    let navigate = use_navigate();
    let query = use_query_map();
    let next = move || safe_next(query.read_untracked().get("next"));
    let go = move |path: String| navigate(&path, Default::default());
    let entered = move |outcome: SignInOutcome| match outcome {
        SignInOutcome::SignedIn => next(),
        SignInOutcome::AuthenticatorCode => "/verify?by=app".to_string(),
        SignInOutcome::CodeSent => "/verify?by=message".to_string(),
    };
    // One effect per action: each reacts to its own latest result only.
    let on = move |result: Option<Option<String>>| {
        if let Some(Some(path)) = result {
            go(path);
        }
    };
    let follow = |result: Box<dyn Fn() -> Option<Option<String>>>| {
        let on = on.clone();
        Effect::new(move |_| on(result()));
    };
    // A code asked at sign-in is entered on the sign-in page itself.
    follow(Box::new(move || auth.sign_in.value().get().map(|r| matches!(r, Ok(SignInOutcome::SignedIn)).then(next))));
    follow(Box::new(move || auth.verify_code.value().get().map(|r| r.ok().map(|_| next()))));
    follow(Box::new(move || auth.register.value().get().map(|r| r.ok().map(|_| "/".to_string()))));
    follow(Box::new(move || auth.switch_org.value().get().map(|r| r.ok().map(entered))));
    follow(Box::new(move || auth.join.value().get().map(|r| r.ok().map(entered))));
    follow(Box::new(move || auth.set_password.value().get().map(|r| r.ok().map(entered))));
    follow(Box::new(move || auth.accept_agreement.value().get().map(|r| r.ok().map(|_| next()))));
    follow(Box::new(move || auth.sign_out.value().get().map(|r| r.ok().map(|_| "/sign-in".to_string()))));
}
