//! The top bar: product name, the caller's organization, navigation, account menu.

use super::use_auth;
use crate::api::types::{Me, SignInOutcome};
use crate::domain::Permission;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

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
        group: "Access management",
        label: "Users",
        href: "/users",
        permissions: &[Permission::UsersManage, Permission::UsersInvite],
    },
    NavItem { group: "Tools", label: "Onboarding", href: "/onboarding", permissions: &[Permission::OnboardingView] },
    NavItem { group: "Tools", label: "Connectors", href: "/connectors", permissions: &[Permission::ConnectorsManage] },
    NavItem {
        group: "Tools",
        label: "Access requests",
        href: "/access-requests",
        permissions: &[Permission::AccessReview],
    },
    NavItem { group: "Tools", label: "Chat users", href: "/chat-users", permissions: &[Permission::AccessReview] },
    NavItem { group: "Settings", label: "Organization", href: "/settings", permissions: &[Permission::OrgSettings] },
    NavItem {
        group: "Settings",
        label: "Slack mappings",
        href: "/settings/slack-mappings",
        permissions: &[Permission::IdentityConfigure],
    },
    NavItem {
        group: "Settings",
        label: "Microsoft Teams mappings",
        href: "/settings/microsoftteams-mappings",
        permissions: &[Permission::IdentityConfigure],
    },
    NavItem { group: "Settings", label: "Outbox", href: "/outbox", permissions: &[Permission::OrgSettings] },
];

pub fn visible_nav(me: &Me) -> Vec<&'static NavItem> {
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

#[component]
fn SignedInBar(me: Me) -> impl IntoView {
    let auth = use_auth();
    let items = visible_nav(&me);
    let many_orgs = me.orgs.len() > 1;
    let current_org = me.org_id;
    let orgs = me.orgs.clone();
    view! {
        <nav class="mainnav" aria-label="Main">
            <ul>
                {items
                    .into_iter()
                    .map(|item| {
                        view! {
                            <li>
                                <A href=item.href attr:title=item.group>{item.label}</A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
        <div class="account">
            {if many_orgs {
                view! {
                    <ActionForm action=auth.switch_org attr:class="org-switch">
                        <label for="org-switch-select" class="visually-hidden">"Organization"</label>
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
                view! { <span class="org-name">{me.org_name.clone()}</span> }.into_any()
            }}
            <a class="who" href="/profile" title=me.email.clone()>{me.display_name.clone()}</a>
            <ActionForm action=auth.sign_out>
                <button type="submit" class="button-quiet">"Sign out"</button>
            </ActionForm>
        </div>
    }
}

/// Where to go after signing in: the `next` the sign-in page was given, if it is a path on this
/// site (never another origin: `//host` and backslashes are refused), else the home page.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\')).unwrap_or_else(|| "/".to_string())
}

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
    follow(Box::new(move || auth.sign_out.value().get().map(|r| r.ok().map(|_| "/sign-in".to_string()))));
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/register/abc".into())), "/register/abc");
        for outside in ["//evil.example", "https://evil.example", "/\\evil.example", "evil"] {
            assert_eq!(safe_next(Some(outside.into())), "/", "{outside}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
