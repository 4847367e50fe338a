//! Settings › Webhooks: endpoints that hear the organization's onboarding events, each with its
//! signing secret (shown once), its events, a test event, and its delivery log with Replay.

use crate::api::webhooks::*;
use crate::components::{action_error, FieldError, FormError, Loaded};
use crate::domain::events::{DeliveryStatus, EndpointForm, EventType, WebhookDelivery, WebhookEndpoint};
use crate::domain::time::format_utc;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let create = ServerAction::<CreateWebhookEndpoint>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    // Bumped after each change that went through, to read the endpoints again.
    let changed = RwSignal::new(0u32);
    let endpoints = Resource::new(move || changed.get(), |_| webhook_endpoints());
    let adding = RwSignal::new(false);
    // The secret just made: shown until dismissed, and never again.
    let shown = RwSignal::new(None::<crate::domain::events::ShownSecret>);
    Effect::new(move |_| {
        if let Some(Ok(secret)) = create.value().get() {
            adding.set(false);
            shown.set(Some(secret));
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(secret)) = rotate.value().get() {
            shown.set(Some(secret));
            changed.update(|n| *n += 1);
        }
    });
    let on_create = Callback::new(move |form: EndpointForm| {
        create.dispatch(CreateWebhookEndpoint { form });
    });
    view! {
        <Title text="Webhooks · Onboard"/>
        <div class="page">
            <h1>"Webhooks"</h1>
            <p class="lead">
                "Tell your other systems when people are invited, register, are paused or resumed, ask for chat access, "
                "or get an onboarding message. Each event is a JSON POST signed the Standard Webhooks way: check the "
                <code>"webhook-signature"</code>" header with the endpoint's secret, and use "<code>"webhook-id"</code>
                " to ignore a delivery you already have."
            </p>
            <Show when=move || shown.get().is_some()>
                <section class="notice" aria-labelledby="secret-heading">
                    <h2 id="secret-heading">"Signing secret"</h2>
                    <p>"Copy it into your receiver now: Onboard shows it only once. Other secrets can be made once this one is put away."</p>
                    <label for="shown-secret">{move || format!("Secret of endpoint #{}", shown.get().map(|s| s.endpoint_id).unwrap_or_default())}</label>
                    <input id="shown-secret" class="webhook-url" readonly
                        prop:value=move || shown.get().map(|s| s.secret).unwrap_or_default()/>
                    <button type="button" class="button-quiet" on:click=move |_| shown.set(None)>"I have copied it"</button>
                </section>
            </Show>
            <FormError error=action_error(rotate) all=true/>
            <Show when=move || !adding.get()
                fallback=move || view! {
                    <section class="card" aria-labelledby="new-endpoint-heading">
                        <h2 id="new-endpoint-heading">"New endpoint"</h2>
                        <EndpointEditor prefix="new".to_string() initial=None error=action_error(create)
                            pending=create.pending() on_save=on_create on_cancel=Callback::new(move |_| adding.set(false))/>
                    </section>
                }>
                <p>
                    <button type="button" class="button-primary" disabled=move || shown.with(Option::is_some)
                        on:click=move |_| adding.set(true)>"Add endpoint"</button>
                </p>
            </Show>
            <Loaded resource=endpoints let:list>
                {if list.is_empty() {
                    view! { <p class="notice" role="status">"No endpoints yet. Add one to start receiving events."</p> }.into_any()
                } else {
                    list.into_iter()
                        .map(|endpoint| view! { <EndpointCard endpoint changed rotate secret_shown=Signal::derive(move || shown.with(Option::is_some))/> })
                        .collect_view()
                        .into_any()
                }}
            </Loaded>
        </div>
    }
}

/// The endpoint form: its address, a description, and the events it hears.
#[component]
fn EndpointEditor(
    /// Makes the form's element ids unique on the page.
    prefix: String,
    initial: Option<WebhookEndpoint>,
    #[prop(into)] error: Signal<Option<crate::AppError>>,
    #[prop(into)] pending: Signal<bool>,
    on_save: Callback<EndpointForm>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let url = RwSignal::new(initial.as_ref().map(|e| e.url.clone()).unwrap_or_default());
    let description = RwSignal::new(initial.as_ref().map(|e| e.description.clone()).unwrap_or_default());
    let chosen = RwSignal::new(initial.map(|e| e.event_types).unwrap_or_default());
    let field = move |name: &'static str| Signal::derive(move || error.get().and_then(|e| e.for_field(name)));
    let (url_id, description_id, events_id) =
        (format!("{prefix}-url"), format!("{prefix}-description"), format!("{prefix}-events"));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_save.run(EndpointForm {
            url: url.get_untracked(),
            description: description.get_untracked(),
            event_types: chosen.get_untracked().into_iter().map(|t| t.key().to_string()).collect(),
        });
    };
    view! {
        <form class="webhook-form" on:submit=submit>
            <FormError error/>
            <div class="field">
                <label for=url_id.clone()>"Endpoint URL"</label>
                <input id=url_id.clone() type="url" inputmode="url" autocomplete="off" required
                    placeholder="https://hooks.example.com/onboard" aria-describedby=format!("{url_id}-error")
                    aria-invalid=move || field("url").get().is_some().to_string()
                    prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                <FieldError id=format!("{url_id}-error") message=field("url")/>
            </div>
            <div class="field">
                <label for=description_id.clone()>"Description"</label>
                <input id=description_id.clone() autocomplete="off" aria-describedby=format!("{description_id}-error")
                    aria-invalid=move || field("description").get().is_some().to_string()
                    placeholder="CRM sync" prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))/>
                <FieldError id=format!("{description_id}-error") message=field("description")/>
            </div>
            <fieldset class="choices" aria-describedby=format!("{events_id}-error")>
                <legend>"Events"</legend>
                {EventType::SUBSCRIBABLE
                    .into_iter()
                    .map(|t| {
                        let id = format!("{events_id}-{}", t.key().replace('.', "-"));
                        let toggle = move |ev: leptos::ev::Event| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|x| *x != t);
                                if on {
                                    c.push(t);
                                }
                            });
                        };
                        view! {
                            <div class="field field-check">
                                <input id=id.clone() type="checkbox" prop:checked=move || chosen.with(|c| c.contains(&t))
                                    on:change=toggle/>
                                <label for=id><code>{t.key()}</code>{format!(": {}", t.description())}</label>
                            </div>
                        }
                    })
                    .collect_view()}
                <FieldError id=format!("{events_id}-error") message=field("event_types")/>
            </fieldset>
            <button type="submit" class="button-primary" disabled=move || pending.get()>"Save endpoint"</button>
            <button type="button" class="button-quiet" on:click=move |_| on_cancel.run(())>"Cancel"</button>
        </form>
    }
}

#[component]
fn EndpointCard(
    endpoint: WebhookEndpoint,
    changed: RwSignal<u32>,
    rotate: ServerAction<RotateWebhookSecret>,
    /// While a new secret is on screen, no other is made: it would replace it unseen.
    secret_shown: Signal<bool>,
) -> impl IntoView {
    let id = endpoint.id;
    let update = ServerAction::<UpdateWebhookEndpoint>::new();
    let enable = ServerAction::<SetWebhookEndpointEnabled>::new();
    let test = ServerAction::<SendTestWebhook>::new();
    let delete = ServerAction::<DeleteWebhookEndpoint>::new();
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(None::<&'static str>);
    // The delivery log reads again after a test event, a replay, or on request.
    let log_version = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(update.value().get(), Some(Ok(_))) {
            editing.set(false);
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if matches!(enable.value().get(), Some(Ok(_))) || matches!(delete.value().get(), Some(Ok(_))) {
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if matches!(test.value().get(), Some(Ok(_))) {
            log_version.update(|n| *n += 1);
        }
    });
    let on = endpoint.disabled_at.is_none();
    let (heading_id, labelled_by) = (format!("endpoint-{id}-heading"), format!("endpoint-{id}-heading"));
    // Each card's buttons are named alike; the endpoint's address tells them apart.
    let described = format!("endpoint-{id}-heading");
    let url = endpoint.url.clone();
    let status = match (&endpoint.disabled_reason, endpoint.failing_since) {
        (Some(reason), _) if !on => view! { <span class="badge status-not-connected">"Off"</span><span class="hint">{reason.clone()}</span> }.into_any(),
        (_, Some(since)) => view! {
            <span class="badge status-pending">"Failing"</span>
            <span class="hint">{format!("Every attempt since {} has failed; it is turned off after 5 days of failures.", format_utc(since))}</span>
        }.into_any(),
        _ if on => view! { <span class="badge status-onboarded">"On"</span> }.into_any(),
        _ => view! { <span class="badge status-not-connected">"Off"</span> }.into_any(),
    };
    let edit_initial = endpoint.clone();
    let on_update = Callback::new(move |form: EndpointForm| {
        update.dispatch(UpdateWebhookEndpoint { id, form });
    });
    view! {
        <article class="card webhook-card" aria-labelledby=labelled_by>
            <header class="connector-head">
                <h2 id=heading_id><code>{url.clone()}</code></h2>
                {status}
            </header>
            {(!endpoint.description.is_empty()).then(|| view! { <p>{endpoint.description.clone()}</p> })}
            <p class="hint">
                "Events: "
                {endpoint.event_types.iter().map(|t| t.key()).collect::<Vec<_>>().join(", ")}
                {endpoint.previous_secret_until.map(|until| format!(
                    ". The previous secret also signs until {}.", format_utc(until)
                ))}
            </p>
            <Show when=move || editing.get()>
                <EndpointEditor prefix=format!("endpoint-{id}") initial=Some(edit_initial.clone())
                    error=action_error(update) pending=update.pending() on_save=on_update
                    on_cancel=Callback::new(move |_| editing.set(false))/>
            </Show>
            <FormError error=action_error(enable) all=true/>
            <FormError error=action_error(test) all=true/>
            <FormError error=action_error(delete) all=true/>
            <div class="connector-actions">
                <button type="button" class="button-quiet" aria-describedby=described.clone() on:click=move |_| editing.set(true)>"Edit"</button>
                <button type="button" class="button-quiet" aria-describedby=described.clone() disabled=move || test.pending().get()
                    on:click=move |_| { test.dispatch(SendTestWebhook { id }); }>"Send test event"</button>
                <button type="button" class="button-quiet" aria-describedby=described.clone()
                    on:click=move |_| { enable.dispatch(SetWebhookEndpointEnabled { id, enabled: !on }); }>
                    {if on { "Turn off" } else { "Turn on" }}
                </button>
                <button type="button" class="button-quiet" aria-describedby=described.clone() disabled=move || secret_shown.get()
                    on:click=move |_| confirming.set(Some("rotate"))>"Rotate secret"</button>
                <button type="button" class="button-quiet" aria-describedby=described on:click=move |_| confirming.set(Some("delete"))>"Delete"</button>
                <span class="hint" role="status">
                    {move || matches!(test.value().get(), Some(Ok(()))).then_some("Test event queued: its delivery shows in the log below.")}
                </span>
            </div>
            <Show when=move || confirming.get() == Some("rotate")>
                <p role="alert">
                    "Make a new secret? The current one keeps signing beside it for 24 hours, while you update the receiver. "
                    <button type="button" class="button-primary" on:click=move |_| {
                        confirming.set(None);
                        rotate.dispatch(RotateWebhookSecret { id });
                    }>"Yes, rotate"</button>
                    <button type="button" class="button-quiet" on:click=move |_| confirming.set(None)>"Cancel"</button>
                </p>
            </Show>
            <Show when=move || confirming.get() == Some("delete")>
                <p role="alert">
                    "Delete this endpoint and its delivery log? "
                    <button type="button" class="button-danger" on:click=move |_| { delete.dispatch(DeleteWebhookEndpoint { id }); }>
                        "Yes, delete"
                    </button>
                    <button type="button" class="button-quiet" on:click=move |_| confirming.set(None)>"Cancel"</button>
                </p>
            </Show>
            <DeliveryLog endpoint=id version=log_version/>
        </article>
    }
}

/// An endpoint's deliveries, newest first, a page at a time, each with Replay.
#[component]
fn DeliveryLog(endpoint: i64, version: RwSignal<u32>) -> impl IntoView {
    let replay = ServerAction::<ReplayWebhookDelivery>::new();
    // The pages read so far, as the id each starts before (`None`: the newest).
    let before = RwSignal::new(None::<i64>);
    let deliveries =
        Resource::new(move || (version.get(), before.get()), move |(_, before)| webhook_deliveries(endpoint, before));
    Effect::new(move |_| {
        if matches!(replay.value().get(), Some(Ok(_))) {
            version.update(|n| *n += 1);
        }
    });
    let caption_id = format!("deliveries-{endpoint}");
    view! {
        <details class="delivery-log">
            <summary id=caption_id.clone()>"Delivery log"</summary>
            <FormError error=action_error(replay) all=true/>
            <p>
                <button type="button" class="button-quiet" on:click=move |_| {
                    before.set(None);
                    version.update(|n| *n += 1);
                }>"Refresh"</button>
            </p>
            <Loaded resource=deliveries let:rows>
                {
                let older = rows.last().map(|d| d.id).filter(|_| rows.len() as i64 == DELIVERY_PAGE);
                if rows.is_empty() {
                    view! { <p class="hint">"Nothing sent to this endpoint yet."</p> }.into_any()
                } else {
                    view! {
                        <table aria-labelledby=caption_id.clone()>
                            <thead>
                                <tr>
                                    <th scope="col">"Created"</th>
                                    <th scope="col">"Event"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"HTTP"</th>
                                    <th scope="col">"Latency"</th>
                                    <th scope="col">"Attempts"</th>
                                    <th scope="col">"Last error"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|d| view! { <DeliveryRow delivery=d replay/> }).collect_view()}
                            </tbody>
                        </table>
                        {older.map(|id| view! {
                            <button type="button" class="button-quiet" on:click=move |_| before.set(Some(id))>"Older deliveries"</button>
                        })}
                    }
                    .into_any()
                }}
            </Loaded>
        </details>
    }
}

#[component]
fn DeliveryRow(delivery: WebhookDelivery, replay: ServerAction<ReplayWebhookDelivery>) -> impl IntoView {
    let id = delivery.id;
    let status = match delivery.status {
        DeliveryStatus::Pending if delivery.attempts > 0 => "Retrying",
        DeliveryStatus::Pending => "Queued",
        DeliveryStatus::Delivered => "Delivered",
        DeliveryStatus::Failed => "Failed",
    };
    let replayable = delivery.status != DeliveryStatus::Pending;
    view! {
        <tr>
            <td>{format_utc(delivery.created_at)}</td>
            <td><code>{delivery.event_type.key()}</code><br/><span class="hint">{delivery.message_id.clone()}</span></td>
            <td>{status}</td>
            <td>{delivery.response_status.map(|s| s.to_string()).unwrap_or_else(|| "—".into())}</td>
            <td>{delivery.latency_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into())}</td>
            <td>{delivery.attempts}</td>
            <td>{delivery.last_error.clone().unwrap_or_default()}</td>
            <td>
                {replayable.then(|| view! {
                    <button type="button" class="button-quiet" aria-label=format!("Replay {}", delivery.message_id)
                        on:click=move |_| { replay.dispatch(ReplayWebhookDelivery { id }); }>"Replay"</button>
                })}
            </td>
        </tr>
    }
}
