//! Settings › Organization › Agreement: publish a version (optionally one everyone must accept
//! again), see how many accepted each version and who has not accepted the current one, and
//! export the evidence.

use crate::api::settings::types::{AgreementStanding, EulaVersion};
use crate::api::settings::PublishEula;
use crate::components::{action_error, field_error, FieldError, FormError};
use crate::domain::members::SEARCH_COUNT_LIMIT;
use crate::domain::{grouped, time};
use leptos::prelude::*;

/// The members list, filtered to Active members who have not accepted the current version.
const NOT_YET_HREF: &str = "/users?status=active&agreement=pending";

#[component]
pub fn AgreementSection(
    eulas: Vec<EulaVersion>,
    standing: AgreementStanding,
    publish: ServerAction<PublishEula>,
) -> impl IntoView {
    let body_error = field_error(publish, "body");
    // Asking everyone again cannot be undone by a later version: the button says what it does.
    let everyone = RwSignal::new(false);
    let next = eulas.first().map(|e| e.version + 1).unwrap_or(1);
    let current = eulas.first().map(|e| {
        let who = match standing.not_yet {
            0 => "Every active member has accepted it.".to_string(),
            1 => "1 active member has not accepted it yet.".to_string(),
            n if n > SEARCH_COUNT_LIMIT => {
                format!("More than {} active members have not accepted it yet.", grouped(SEARCH_COUNT_LIMIT))
            }
            n => format!("{} active members have not accepted it yet.", grouped(n)),
        };
        view! {
            <p>
                {format!("Version {} is current, published {}. {who} ", e.version, time::format_utc(e.published_at))}
                {(standing.not_yet > 0).then(|| view! { <a href=NOT_YET_HREF>"See who"</a> })}
            </p>
        }
    });
    view! {
        <section class="card" aria-labelledby="eula-heading">
            <h2 id="eula-heading">"End-user licence agreement"</h2>
            {current.map(IntoAny::into_any).unwrap_or_else(|| view! {
                <p>"No agreement published yet. New members are asked to accept the current version when they register."</p>
            }.into_any())}
            {(!eulas.is_empty()).then(|| view! {
                <p>
                    <a href="/api/export_agreement_evidence" download="agreement-evidence.csv">"Export evidence (CSV)"</a>
                    <span class="hint">" Every acceptance: account, email, version, when, IP address and browser."</span>
                </p>
            })}
            <FormError error=action_error(publish)/>
            <ActionForm action=publish>
                <div class="field">
                    <label for="eula-body">{format!("Text of version {next}")}</label>
                    <textarea id="eula-body" name="body" rows="8" required aria-describedby="eula-body-hint eula-body-error"></textarea>
                    <p class="hint" id="eula-body-hint">"Publishing creates a new version; earlier versions are kept exactly as people accepted them."</p>
                    <FieldError id="eula-body-error" message=body_error/>
                </div>
                <div class="field field-check">
                    <input id="eula-reaccept" name="reaccept" type="checkbox" aria-describedby="eula-reaccept-hint"
                        on:change=move |ev| everyone.set(event_target_checked(&ev))/>
                    <label for="eula-reaccept">"Everyone must accept again"</label>
                    <p class="hint" id="eula-reaccept-hint">"Active members, you included, are shown this version before anything else and can reach nothing else until they accept it; publishing a later version does not release them. Unticked, only people registering from now on accept it."</p>
                </div>
                <button type="submit" class="button-primary">
                    {move || if everyone.get() {
                        format!("Publish version {next} and ask everyone to accept it")
                    } else {
                        format!("Publish version {next}")
                    }}
                </button>
            </ActionForm>
            <ul class="versions">
                {eulas
                    .into_iter()
                    .map(|e| {
                        let accepted = standing.accepted_of(e.id);
                        let accepted = match accepted {
                            1 => " · accepted by 1 person".to_string(),
                            n => format!(" · accepted by {} people", grouped(n)),
                        };
                        view! {
                            <li>
                                <details>
                                    <summary>
                                        {format!("Version {} · {}", e.version, time::format_utc(e.published_at))}
                                        {e.published_by.map(|by| format!(" · {by}"))}
                                        {accepted}
                                        {e.reaccept_required.then(|| view! { <span class="badge">"everyone accepts again"</span> })}
                                    </summary>
                                    <pre class="eula-text">{e.body}</pre>
                                </details>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
