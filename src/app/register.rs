//! Self-registration from an invitation link, built for a phone: details, the second factor
//! when the organization requires it, then the EULA.

use super::use_auth;
use crate::api::registration::types::{RegistrationInfo, RegistrationStep, SecondFactorSetup};
use crate::api::registration::{registration, RegisterDetails, SendRegistrationCode, VerifyRegistrationCode};
use crate::components::{
    action_error, field_error, CodeField, CountrySelect, FieldError, FormError, LinkProblem, Loading, NewPasswordField,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn RegisterPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let details = ServerAction::<RegisterDetails>::new();
    let verify = ServerAction::<VerifyRegistrationCode>::new();
    // Only looks: opening the link must not spend it, since mail scanners open links.
    let info = Resource::new(
        move || (token(), details.version().get(), verify.version().get()),
        |(token, _, _)| registration(token),
    );
    view! {
        <Title text="Register · Onboard"/>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match info.await {
                    Ok(info) => view! { <Steps info token=token() details verify/> }.into_any(),
                    Err(e) => view! { <LinkProblem title="This invitation cannot be used" error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Steps(
    info: RegistrationInfo,
    token: String,
    details: ServerAction<RegisterDetails>,
    verify: ServerAction<VerifyRegistrationCode>,
) -> impl IntoView {
    let step = info.step;
    let names: Vec<&str> = if info.require_2fa {
        vec!["Your details", "Confirm it's you", "Agreement"]
    } else {
        vec!["Your details", "Agreement"]
    };
    if matches!(step, RegistrationStep::SignIn | RegistrationStep::Join) {
        return view! { <JoinSteps info token/> }.into_any();
    }
    let current = match step {
        RegistrationStep::Details => "Your details",
        RegistrationStep::SecondFactor => "Confirm it's you",
        _ => "Agreement",
    };
    let body = match step {
        RegistrationStep::Details => {
            view! { <DetailsStep info=info.clone() token=token.clone() action=details/> }.into_any()
        }
        RegistrationStep::SecondFactor => view! { <CodeStep info=info.clone() token=token.clone() verify/> }.into_any(),
        _ => view! { <EulaStep info=info.clone() token=token.clone()/> }.into_any(),
    };
    view! {
        <section class="card narrow">
            <h1>{format!("Join {}", info.org_name)}</h1>
            <ol class="steps" aria-label="Registration steps">
                {names
                    .into_iter()
                    .map(|n| view! { <li aria-current=(n == current).then_some("step")>{n}</li> })
                    .collect_view()}
            </ol>
            {body}
        </section>
    }
    .into_any()
}

/// An invitation to an address that already has an Onboard account: its owner signs in with
/// their own password (and second factor), then accepts this organization's agreement.
#[component]
fn JoinSteps(info: RegistrationInfo, token: String) -> impl IntoView {
    let sign_in_href = format!("/sign-in?next=/register/{token}");
    let body = match (info.step, info.signed_in_as.clone()) {
        (RegistrationStep::Join, _) => view! { <JoinStep info=info.clone() token/> }.into_any(),
        (_, Some(other)) => {
            let sign_out = use_auth().sign_out;
            view! {
                <p class="notice" role="status">
                    {format!("You are signed in as {other}, but this invitation is for {}. Sign out, then sign in as {} to join.", info.email, info.email)}
                </p>
                <ActionForm action=sign_out>
                    <button type="submit" class="button-primary">"Sign out"</button>
                </ActionForm>
            }
            .into_any()
        }
        (_, None) => view! {
            <p>{format!("Sign in as {} with your own password to accept the invitation.", info.email)}</p>
            <a class="button button-primary" href=sign_in_href>"Sign in to join"</a>
        }
        .into_any(),
    };
    view! {
        <section class="card narrow">
            <h1>{format!("Join {}", info.org_name)}</h1>
            <p class="lead">{format!("You already have an Onboard account: sign in to join {}.", info.org_name)}</p>
            {body}
        </section>
    }
}

/// Signed in as the invited account: accept the agreement, if any, and join.
#[component]
fn JoinStep(info: RegistrationInfo, token: String) -> impl IntoView {
    let action = use_auth().join;
    let accept_error = field_error(action, "accept");
    let org = info.org_name.clone();
    view! {
        <FormError error=action_error(action)/>
        <ActionForm action=action>
            <input type="hidden" name="token" value=token/>
            {info.eula.map(|eula| view! { <Agreement eula error=accept_error/> })}
            <button type="submit" class="button-primary" disabled=move || action.pending().get()>
                {format!("Join {org}")}
            </button>
        </ActionForm>
    }
}

#[component]
fn DetailsStep(info: RegistrationInfo, token: String, action: ServerAction<RegisterDetails>) -> impl IntoView {
    let error = move |field| field_error(action, field);
    view! {
        <FormError error=action_error(action)/>
        <ActionForm action=action>
            <input type="hidden" name="token" value=token/>
            <div class="field">
                <label for="first-name">"First name"</label>
                <input id="first-name" name="first_name" autocomplete="given-name" required aria-describedby="first-name-error"
                    value=info.prefill.first_name.clone()/>
                <FieldError id="first-name-error" message=error("first_name")/>
            </div>
            <div class="field">
                <label for="last-name">"Last name"</label>
                <input id="last-name" name="last_name" autocomplete="family-name" required aria-describedby="last-name-error"
                    value=info.prefill.last_name.clone()/>
                <FieldError id="last-name-error" message=error("last_name")/>
            </div>
            <div class="field">
                <label for="country">"Country"</label>
                <CountrySelect id="country" name="country" countries=info.countries selected=info.default_country
                    none="Other: I will start with +" describedby="mobile-hint"/>
            </div>
            <div class="field">
                <label for="mobile">"Mobile number"</label>
                <input id="mobile" name="mobile" type="tel" autocomplete="tel" inputmode="tel" required
                    aria-describedby="mobile-hint mobile-error" value=info.prefill.mobile.clone()/>
                <p class="hint" id="mobile-hint">"As you dial it in that country, or starting with + (or 00) and the country code."</p>
                <FieldError id="mobile-error" message=error("mobile")/>
            </div>
            <div class="field">
                <label for="register-email">"Email address"</label>
                <input id="register-email" type="email" value=info.email readonly autocomplete="username"/>
            </div>
            <NewPasswordField id="register-password" label="Password" error=error("password")/>
            <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Continue"</button>
        </ActionForm>
    }
}

#[component]
fn CodeStep(info: RegistrationInfo, token: String, verify: ServerAction<VerifyRegistrationCode>) -> impl IntoView {
    let send = ServerAction::<SendRegistrationCode>::new();
    let setup = move || send.value().get().and_then(Result::ok);
    let code_error = field_error(verify, "code");
    let token_for_verify = token.clone();
    let sms = info.sms_available;
    view! {
        <p>{format!("{} asks everyone to confirm a second way of reaching them.", info.org_name)}</p>
        <FormError error=action_error(send) all=true/>
        <ActionForm action=send>
            <input type="hidden" name="token" value=token/>
            <fieldset class="choices">
                <legend>"Get my code by"</legend>
                <div class="choice">
                    <input type="radio" id="factor-email" name="factor" value="email" checked/>
                    <label for="factor-email">{format!("Email to {}", info.email)}</label>
                </div>
                <div class="choice">
                    <input type="radio" id="factor-sms" name="factor" value="sms" disabled=!sms
                        aria-describedby=(!sms).then_some("factor-sms-note")/>
                    <label for="factor-sms">"Text message to my mobile number"</label>
                </div>
                {(!sms).then(|| view! {
                    <p class="hint" id="factor-sms-note">"Text messages are unavailable: this Onboard has no SMS provider set up."</p>
                })}
                <div class="choice">
                    <input type="radio" id="factor-totp" name="factor" value="totp"/>
                    <label for="factor-totp">"An authenticator app (scan a QR code)"</label>
                </div>
            </fieldset>
            <button type="submit" class="button-quiet" disabled=move || send.pending().get()>
                {move || match setup() {
                    Some(SecondFactorSetup::CodeSent) => "Send a new code",
                    _ => "Continue",
                }}
            </button>
        </ActionForm>
        {move || match setup() {
            Some(SecondFactorSetup::CodeSent) => {
                view! { <p class="notice" role="status">"We sent you a 6-digit code. It works for 10 minutes."</p> }
                    .into_any()
            }
            Some(SecondFactorSetup::Authenticator { qr_svg, key }) => view! { <AuthenticatorSetup qr_svg key/> }.into_any(),
            None => ().into_any(),
        }}
        <FormError error=action_error(verify)/>
        <ActionForm action=verify>
            <input type="hidden" name="token" value=token_for_verify/>
            <CodeField id="register-code" error=code_error/>
            <button type="submit" class="button-primary">"Confirm"</button>
        </ActionForm>
    }
}

/// The QR code for an authenticator app, and its key for typing in by hand.
#[component]
fn AuthenticatorSetup(qr_svg: String, key: String) -> impl IntoView {
    // Groups of four are easier to copy by eye.
    let grouped =
        key.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ");
    view! {
        <div class="authenticator" role="status">
            <p>"Scan this QR code with your authenticator app, then enter the 6-digit code it shows."</p>
            <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=qr_svg></div>
            <p class="hint">"Can't scan it? Add an account in the app with this key: "
                <code class="totp-key" data-key=key>{grouped}</code>
            </p>
        </div>
    }
}

#[component]
fn EulaStep(info: RegistrationInfo, token: String) -> impl IntoView {
    let action = use_auth().register;
    let accept_error = field_error(action, "accept");
    view! {
        <FormError error=action_error(action)/>
        <ActionForm action=action>
            <input type="hidden" name="token" value=token/>
            {match info.eula {
                Some(eula) => view! {
                    <Agreement eula error=accept_error/>
                    <button type="submit" class="button-primary">"Accept and finish"</button>
                }
                .into_any(),
                None => view! {
                    <p>"You are all set."</p>
                    <button type="submit" class="button-primary">"Finish registration"</button>
                }
                .into_any(),
            }}
        </ActionForm>
    }
}

/// The agreement's text and the box that accepts exactly this version.
#[component]
pub(super) fn Agreement(
    eula: crate::api::settings::types::EulaVersion,
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <h2>{format!("End-user licence agreement, version {}", eula.version)}</h2>
        <div class="eula-box" tabindex="0" role="region" aria-label="Agreement text">{eula.body}</div>
        <input type="hidden" name="eula" value=eula.id.to_string()/>
        <div class="field field-check">
            <input id="accept-eula" name="accept" type="checkbox" required aria-describedby="accept-error"/>
            <label for="accept-eula">"I have read and accept the agreement"</label>
        </div>
        <FieldError id="accept-error" message=error/>
    }
}
