//! Tools › Onboarding › Funnel: how far the invited got, step by step, for the organization, a
//! batch, a service area or a team; drawn as bars, given as a table, exported as CSV.

use super::OnboardingTabs;
use crate::api::onboarding::onboarding_funnel;
use crate::components::Live;
use crate::domain::funnel::{duration, Funnel, FunnelScope, FunnelStep, ScopeChoice, SCANNER_WINDOW_MS};
use crate::domain::grouped;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn FunnelPage() -> impl IntoView {
    let query = use_query_map();
    let scope = Memo::new(move |_| query.with(|q| q.get("scope").unwrap_or_default()));
    // The funnel is read when the page opens or the scope changes; it does not poll.
    let refresh = RwSignal::new(0);
    view! {
        <Title text="Onboarding funnel · Onboard"/>
        <div class="page">
            <h1>"Onboarding"</h1>
            <OnboardingTabs funnel=true/>
            <Live key=scope fetch=onboarding_funnel refresh let:data>
                {move || data.with(|f| view! { <FunnelPanel funnel=f.clone()/> })}
            </Live>
        </div>
    }
}

#[component]
fn FunnelPanel(funnel: Funnel) -> impl IntoView {
    let export = format!("/api/export_funnel?scope={}", funnel.scope.key());
    let file_name = funnel.scope.file_name();
    let body = if funnel.invited() == 0 {
        view! { <p>"Nobody here has been invited yet: the funnel starts with the first invitation."</p> }.into_any()
    } else {
        view! {
            <FunnelChart funnel=funnel.clone()/>
            <FunnelTable funnel=funnel.clone()/>
            <p><a href=export download=file_name>"Export CSV"</a></p>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="funnel-heading">
            <h2 id="funnel-heading">{funnel.scope_label.clone()}</h2>
            <ScopePicker current=funnel.scope choices=funnel.choices.clone()/>
            {body}
        </section>
    }
}

/// Picks whose funnel to show. A plain GET form: the choice is in the address, so the page can
/// be bookmarked and works before the browser's code has loaded.
#[component]
fn ScopePicker(current: FunnelScope, choices: Vec<ScopeChoice>) -> impl IntoView {
    let group = move |heading: &'static str, keep: fn(FunnelScope) -> bool| {
        let options: Vec<_> = choices
            .iter()
            .filter(|c| keep(c.scope))
            .map(|c| view! { <option value=c.scope.key() selected={c.scope == current}>{c.label.clone()}</option> })
            .collect();
        (!options.is_empty()).then(|| view! { <optgroup label=heading>{options}</optgroup> })
    };
    view! {
        <Form method="GET" action="/onboarding/funnel" attr:class="inline-form">
            <label for="funnel-scope">"Show the funnel of"</label>
            <select id="funnel-scope" name="scope">
                <option value=FunnelScope::Organization.key() selected={current == FunnelScope::Organization}>
                    "Whole organization"
                </option>
                {group("Invitation batches", |s| matches!(s, FunnelScope::Batch(_)))}
                {group("Service areas", |s| matches!(s, FunnelScope::ServiceArea(_)))}
                {group("Teams", |s| matches!(s, FunnelScope::Team(_)))}
            </select>
            <button type="submit" class="button-quiet">"Show"</button>
        </Form>
    }
}

/// The steps as centred bars, each as wide as its share of the invited. Faded ends show the
/// counts kept apart: possible mail scanners' opens beside Link opened, and members whose
/// agreement is pending within Active.
#[component]
fn FunnelChart(funnel: Funnel) -> impl IntoView {
    let bar = |share: f64, class: &'static str| {
        let x = format!("{:.2}", (100.0 - share) / 2.0);
        view! { <rect class=class x=x y="0" width=format!("{share:.2}") height="10"/> }
    };
    let rows = funnel
        .stages
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            let (solid, faded) = match stage.step {
                FunnelStep::LinkOpened => (stage.reached, stage.reached + funnel.possible_scanners),
                FunnelStep::Active => (stage.reached - funnel.agreement_pending, stage.reached),
                _ => (stage.reached, stage.reached),
            };
            let conversion = if i == 0 { String::new() } else { format!(" · {}", funnel.conversion(i)) };
            view! {
                <li>
                    <span class="funnel-step">{stage.step.label()}</span>
                    <svg class="funnel-bar" viewBox="0 0 100 10" preserveAspectRatio="none" focusable="false">
                        {(faded > solid).then(|| bar(funnel.share(faded), "funnel-apart"))}
                        {bar(funnel.share(solid), "funnel-reached")}
                    </svg>
                    <span class="funnel-count">{format!("{}{conversion}", grouped(stage.reached))}</span>
                </li>
            }
        })
        .collect_view();
    let apart = (funnel.possible_scanners > 0 || funnel.agreement_pending > 0).then(|| {
        view! {
            <figcaption>
                "Faded ends: possible mail scanner opens, beside Link opened; agreements pending, within Active."
            </figcaption>
        }
    });
    view! {
        // The table below says all of it in words.
        <figure class="funnel-chart" aria-hidden="true">
            <ol class="funnel-bars">{rows}</ol>
            {apart}
        </figure>
    }
}

/// The chart's twin for reading: every step's count, conversion and median time, and the counts
/// kept apart.
#[component]
fn FunnelTable(funnel: Funnel) -> impl IntoView {
    let rows = funnel
        .stages
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            view! {
                <tr>
                    <th scope="row">{stage.step.label()}</th>
                    <td class="number">{grouped(stage.reached)}</td>
                    <td class="number">{funnel.conversion(i)}</td>
                    <td>{stage.median_ms.map(duration).unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-labelledby="funnel-table-caption">
            <table class="funnel-table">
                <caption id="funnel-table-caption">"Step by step"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Step"</th>
                        <th scope="col" class="number">"Reached"</th>
                        <th scope="col" class="number">"Conversion"</th>
                        <th scope="col">"Median time"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
                <tbody class="funnel-apart-rows">
                    <tr>
                        <th scope="row">"Possible mail scanner opens"</th>
                        <td class="number">{grouped(funnel.possible_scanners)}</td>
                        <td></td>
                        <td></td>
                    </tr>
                    <tr>
                        <th scope="row">"Agreement pending"</th>
                        <td class="number">{grouped(funnel.agreement_pending)}</td>
                        <td></td>
                        <td></td>
                    </tr>
                </tbody>
            </table>
        </div>
        <p class="hint">
            "Conversion and median time are from the step before. Possible mail scanner opens: links opened only by a HEAD request or within "
            {SCANNER_WINDOW_MS / 1000}
            " seconds of the email carrying them, as mail scanners open links; the link counts as opened once the person goes on. Agreement pending: Active members asked to accept a new version of the agreement who have not yet."
        </p>
    }
}
