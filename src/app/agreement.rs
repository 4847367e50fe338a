//! The organization's agreement for a signed-in member: accepting a new version everyone must
//! accept again (every other page sends them here until they do), or reading the one in force.

use super::register::Agreement;
use super::use_auth;
use crate::api::agreement::my_agreement;
use crate::api::agreement::types::MemberAgreement;
use crate::components::{action_error, field_error, FormError, Loaded};
use crate::domain::time;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AgreementPage() -> impl IntoView {
    let accept = use_auth().accept_agreement;
    let agreement = Resource::new(move || accept.version().get(), |_| my_agreement());
    view! {
        <Title text="Agreement · Onboard"/>
        <Loaded resource=agreement let:a>
            <AgreementView a/>
        </Loaded>
    }
}

#[component]
fn AgreementView(a: MemberAgreement) -> impl IntoView {
    let auth = use_auth();
    // Sent here by a page while the top bar still shows the menu (the agreement was published
    // after it loaded): who is signed in is read again, and the menu closes.
    if a.pending && matches!(auth.me.get_untracked(), Some(Ok(Some(me))) if !me.agreement_pending) {
        auth.me.refetch();
    }
    let accept = auth.accept_agreement;
    // Where the member was going, for a form posted without JavaScript (the app follows it itself).
    let next = crate::domain::query::safe_next(leptos_router::hooks::use_query_map().read_untracked().get("next"));
    let accept_error = field_error(accept, "accept");
    let MemberAgreement { org_name, current, accepted_at, pending } = a;
    let Some(current) = current else {
        return view! {
            <section class="card narrow">
                <h1>"Agreement"</h1>
                <p>{format!("{org_name} has not published an agreement.")}</p>
                <p><a href="/">"Back to the start page"</a></p>
            </section>
        }
        .into_any();
    };
    let (title, lead) = match (pending, accepted_at) {
        (true, _) => (
            "Please accept the updated agreement",
            format!(
                "{org_name} published version {} of its agreement on {} and asks everyone to accept it. Read it, then accept it to continue.",
                current.version,
                time::format_utc(current.published_at)
            ),
        ),
        (false, Some(at)) => ("Agreement", format!("You accepted this version on {}.", time::format_utc(at))),
        (false, None) => ("Agreement", format!("This is the agreement {org_name} has in force now.")),
    };
    view! {
        <section class="card narrow">
            <h1>{title}</h1>
            <p>{lead}</p>
            {if accepted_at.is_some() {
                view! {
                    <h2>{format!("End-user licence agreement, version {}", current.version)}</h2>
                    <div class="eula-box" tabindex="0" role="region" aria-label="Agreement text">{current.body}</div>
                    <p><a href="/">"Back to the start page"</a></p>
                }
                .into_any()
            } else {
                let sign_out = auth.sign_out;
                view! {
                    <FormError error=action_error(accept)/>
                    <ActionForm action=accept>
                        <input type="hidden" name="next" value=next/>
                        <Agreement eula=current error=accept_error/>
                        <button type="submit" class="button-primary" disabled=move || accept.pending().get()>
                            "Accept and continue"
                        </button>
                    </ActionForm>
                    {pending.then(|| view! {
                        <p class="hint">"If you do not accept it, you cannot use Onboard in this organization. You can sign out, or switch to another organization from the account menu."</p>
                        <ActionForm action=sign_out>
                            <button type="submit" class="button-quiet">"Sign out"</button>
                        </ActionForm>
                    })}
                }
                .into_any()
            }}
        </section>
    }
    .into_any()
}
