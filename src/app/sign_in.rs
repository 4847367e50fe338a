use super::use_auth;
use crate::api::account::types::SignInOutcome;
use crate::api::account::ResendSignInCode;
use crate::components::{action_error, field_error, CodeField, FieldError, FormError};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let auth = use_auth();
    let action = auth.sign_in;
    let query = use_query_map();
    let code_sent =
        move || matches!(action.value().get(), Some(Ok(SignInOutcome::CodeSent | SignInOutcome::AuthenticatorCode)));
    let from_app = Signal::derive(move || matches!(action.value().get(), Some(Ok(SignInOutcome::AuthenticatorCode))));
    view! {
        <Title text="Sign in · Onboard"/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let next = super::nav::safe_next(query.read_untracked().get("next"));
                matches!(auth.me.await, Ok(Some(_))).then(|| view! { <Redirect path=next/> })
            })}
        </Transition>
        <Show when=code_sent fallback=move || view! { <PasswordForm/> }>
            <CodeForm from_app/>
        </Show>
    }
}

/// The second factor before entering an organization that requires 2FA, when switching to it
/// or joining it while signed in (`?by=app` when the code comes from an authenticator app).
#[component]
pub fn VerifyPage() -> impl IntoView {
    let query = use_query_map();
    let from_app = Signal::derive(move || query.read().get("by").as_deref() == Some("app"));
    view! {
        <Title text="Confirm it's you · Onboard"/>
        <CodeForm from_app/>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let action = use_auth().sign_in;
    let email_error = field_error(action, "email");
    let password_error = field_error(action, "password");
    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <FormError error=action_error(action)/>
            <ActionForm action=action>
                <div class="field">
                    <label for="email">"Email address"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required
                        aria-describedby="email-error" aria-invalid=move || email_error.get().is_some().to_string()/>
                    <FieldError id="email-error" message=email_error/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required
                        aria-describedby="password-error" aria-invalid=move || password_error.get().is_some().to_string()/>
                    <FieldError id="password-error" message=password_error/>
                </div>
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </section>
    }
}

/// The second step when the organization requires a second factor (or the account has one).
#[component]
fn CodeForm(#[prop(into)] from_app: Signal<bool>) -> impl IntoView {
    let verify = use_auth().verify_code;
    let resend = ServerAction::<ResendSignInCode>::new();
    let code_error = field_error(verify, "code");
    let from_app = move || from_app.get();
    view! {
        <section class="card narrow">
            <h1>"Enter your code"</h1>
            <p>
                {move || if from_app() {
                    "Open your authenticator app and enter the 6-digit code it shows for Onboard."
                } else {
                    "We sent you a 6-digit code by email or text message. It works for 10 minutes."
                }}
            </p>
            <FormError error=action_error(verify)/>
            <FormError error=action_error(resend) all=true/>
            <ActionForm action=verify>
                <CodeField id="sign-in-code" error=code_error/>
                <button type="submit" class="button-primary">"Verify and sign in"</button>
            </ActionForm>
            {move || if from_app() {
                // No emailed code instead of the app: a password and a mailbox must not replace it.
                view! {
                    <p class="hint">"Lost your authenticator app? Ask an owner of your organization to reset your second factor."</p>
                }
                .into_any()
            } else {
                view! {
                    <ActionForm action=resend>
                        <button type="submit" class="button-quiet">"Send a new code"</button>
                    </ActionForm>
                }
                .into_any()
            }}
        </section>
    }
}
