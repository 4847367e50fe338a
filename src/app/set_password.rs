use super::use_auth;
use crate::api::account::password_link;
use crate::components::{action_error, field_error, FieldError, FormError, LinkProblem, Loading, NewPasswordField};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn SetPasswordPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    // Only looks the link up: mail scanners open links, so opening must not spend it.
    let link = Resource::new(token, password_link);
    view! {
        <Title text="Set your password · Onboard"/>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match link.await {
                    Ok(info) => view! { <SetPasswordForm token=token() email=info.email/> }.into_any(),
                    Err(e) => view! { <LinkProblem title="This link cannot be used" error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SetPasswordForm(token: String, email: String) -> impl IntoView {
    let action = use_auth().set_password;
    let password_error = field_error(action, "password");
    let confirm_error = field_error(action, "confirm");
    view! {
        <section class="card narrow">
            <h1>"Set your password"</h1>
            <FormError error=action_error(action)/>
            <ActionForm action=action>
                <input type="hidden" name="token" value=token/>
                <div class="field">
                    <label for="account-email">"Email address"</label>
                    <input id="account-email" type="email" value=email autocomplete="username" readonly/>
                </div>
                <NewPasswordField id="new-password" label="New password" error=password_error/>
                <div class="field">
                    <label for="confirm-password">"Repeat the password"</label>
                    <input id="confirm-password" name="confirm" type="password" autocomplete="new-password" required
                        aria-describedby="confirm-error"/>
                    <FieldError id="confirm-error" message=confirm_error/>
                </div>
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>
                    "Set password and sign in"
                </button>
            </ActionForm>
        </section>
    }
}
