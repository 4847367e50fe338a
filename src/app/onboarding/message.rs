//! Messaging the people of a team, or one person, who have not onboarded: the plan with its
//! channels and preview, the message, and each recipient's delivery, live.

use super::Page;
use crate::api::onboarding::types::{MessagePlan, SendProgress};
use crate::api::onboarding::*;
use crate::components::{action_error, every, field_error, FieldError, FormError, Loading, MessagePreview, Modal};
use crate::domain::message::{compose, custom_text, MAX_CUSTOM_CHARS};
use crate::domain::onboarding::DeliveryStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub(super) fn MessageModal(page: Page) -> impl IntoView {
    let plan = Resource::new(
        move || page.target.get(),
        |target| async move {
            match target {
                Some(t) => plan_message(t.team, t.member).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let close = Callback::new(move |_| page.target.set(None));
    view! {
        <Modal open=Signal::derive(move || page.target.get().is_some()) on_close=close labelled_by="message-modal-title">
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match plan.await {
                        Ok(Some(plan)) => view! { <MessageForm plan page/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! {
                            <h2 id="message-modal-title">"Message"</h2>
                            <p class="notice notice-error" role="alert">{e.to_string()}</p>
                            <div class="modal-actions">
                                <button type="button" class="button-quiet" on:click=move |_| page.target.set(None)>"Close"</button>
                            </div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </Modal>
    }
}

#[component]
fn MessageForm(plan: MessagePlan, page: Page) -> impl IntoView {
    let send = ServerAction::<SendOnboardingMessage>::new();
    let (custom, set_custom) = signal(String::new());
    let (shown, set_shown) = signal(0usize);
    let plan = StoredValue::new(plan);
    let is_team = plan.with_value(|p| p.team_id.is_some());
    // Checked as the admin types, by the rule the server applies.
    let custom_problem = move || custom.with(|c| custom_text(c).err());
    let server_problem = field_error(send, "custom");
    let problem = Signal::derive(move || custom_problem().or_else(|| server_problem.get()));
    let preview = Signal::derive(move || {
        plan.with_value(|p| {
            let recipient = &p.recipients[shown.get().min(p.recipients.len().saturating_sub(1))];
            compose(&p.facts_for(recipient, custom_text(&custom.get()).as_deref().unwrap_or("")))
        })
    });
    let sent = move || send.value().get().and_then(Result::ok);
    Effect::new(move |_| {
        if sent().is_some() {
            page.pulse.update(|n| *n += 1);
        }
    });
    let title = plan.with_value(|p| format!("Message {}", p.audience));
    let count = plan.with_value(|p| p.recipients.len());
    let channel_of = move |i: usize| plan.with_value(|p| p.recipients[i].channel);
    view! {
        <h2 id="message-modal-title">{title}</h2>
        <div class="modal-body">
            <div class="modal-form">
                <FormError error=action_error(send)/>
                <div class="field">
                    <label for="custom-message">"Custom message (optional)"</label>
                    <textarea id="custom-message" rows="6" aria-describedby="custom-message-hint custom-message-error"
                        prop:value=custom on:input=move |ev| set_custom.set(event_target_value(&ev))
                        disabled=move || sent().is_some()></textarea>
                    <p class="hint" id="custom-message-hint">
                        {move || format!("{} of {MAX_CUSTOM_CHARS} characters. ", custom.with(|c| c.trim().chars().count()))}
                        "Markdown works: **bold**, *italic*, - lists, [links](https://…)."
                    </p>
                    <FieldError id="custom-message-error" message=problem/>
                </div>
                {if is_team {
                    view! {
                        <details class="message-details">
                            <summary>"Message details"</summary>
                            <p>
                                {plan.with_value(|p| {
                                    let left_out = p.already_onboarded;
                                    format!(
                                        "{count} recipient(s) who have not onboarded.{}",
                                        if left_out > 0 { format!(" {left_out} already onboarded are left out.") } else { String::new() }
                                    )
                                })}
                            </p>
                            <ul class="recipients" aria-label="Recipients">
                                {plan.with_value(|p| {
                                    p.recipients
                                        .iter()
                                        .map(|r| {
                                            let who = if r.name == r.email { r.email.clone() } else { format!("{} ({})", r.name, r.email) };
                                            view! { <li>{format!("{who} · {}", r.channel.label())}</li> }
                                        })
                                        .collect_view()
                                })}
                            </ul>
                        </details>
                    }
                        .into_any()
                } else {
                    let r = plan.with_value(|p| p.recipients[0].clone());
                    view! { <p class="hint">{format!("Goes to {} over {}.", r.email, r.channel.label())}</p> }.into_any()
                }}
            </div>
            <div class="modal-preview">
                <h3 id="preview-heading">"Preview"</h3>
                {(count > 1).then(|| view! {
                    <div class="field">
                        <label for="preview-for">"Preview for"</label>
                        <select id="preview-for" on:change=move |ev| set_shown.set(event_target_value(&ev).parse().unwrap_or(0))>
                            {plan.with_value(|p| {
                                p.recipients
                                    .iter()
                                    .enumerate()
                                    .map(|(i, r)| view! { <option value=i.to_string()>{format!("{} ({})", r.name, r.channel.label())}</option> })
                                    .collect_view()
                            })}
                        </select>
                    </div>
                })}
                <p class="hint">{move || format!("As it arrives over {}:", channel_of(shown.get()).label())}</p>
                <div role="region" aria-labelledby="preview-heading" aria-live="polite">
                    <MessagePreview message=preview/>
                </div>
            </div>
        </div>
        {move || match sent() {
            Some(id) => view! { <SendResult id page/> }.into_any(),
            None => view! {
                <div class="modal-actions">
                    <button type="button" class="button-quiet" on:click=move |_| page.target.set(None)>"Cancel"</button>
                    <button type="button" class="button-primary"
                        disabled=move || send.pending().get() || custom_problem().is_some()
                        on:click=move |_| {
                            plan.with_value(|p| {
                                send.dispatch(SendOnboardingMessage { team: p.team_id, member: p.membership_id, custom: custom.get_untracked() });
                            });
                        }>
                        {move || if send.pending().get() { "Sending…" } else { "Send message" }}
                    </button>
                </div>
            }
            .into_any(),
        }}
    }
}

/// Each recipient's delivery, live until none is left to send.
#[component]
fn SendResult(id: i64, page: Page) -> impl IntoView {
    let progress = RwSignal::new(None::<SendProgress>);
    let fetch = move || {
        spawn_local(async move {
            if let Ok(p) = onboarding_send(id).await {
                if progress.with_untracked(|old| old.as_ref() != Some(&p)) {
                    progress.set(Some(p));
                }
            }
        })
    };
    fetch();
    every(1_000, move || {
        if progress.with_untracked(|p| p.as_ref().is_none_or(|p| p.count(DeliveryStatus::Queued) > 0)) {
            fetch();
        }
    });
    view! {
        <div class="send-result" role="status" aria-live="polite">
            {move || match progress.get() {
                None => view! { <p>"Queued."</p> }.into_any(),
                Some(p) => {
                    let (delivered, failed, queued) = (
                        p.count(DeliveryStatus::Delivered),
                        p.count(DeliveryStatus::Failed),
                        p.count(DeliveryStatus::Queued),
                    );
                    view! {
                        <p>{format!("{delivered} delivered, {failed} failed, {queued} sending.")}</p>
                        <ul class="recipients" aria-label="Delivery">
                            {p.recipients
                                .into_iter()
                                .map(|r| {
                                    let channel = r.channel.label();
                                    let state = match r.status {
                                        DeliveryStatus::Delivered => format!("delivered over {channel}"),
                                        DeliveryStatus::Failed => {
                                            format!("failed over {channel}: {}", r.error.unwrap_or_default())
                                        }
                                        DeliveryStatus::Queued => format!("sending over {channel}…"),
                                    };
                                    view! { <li>{format!("{}: {state}", r.email)}</li> }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any()
                }
            }}
        </div>
        <div class="modal-actions">
            <button type="button" class="button-primary" on:click=move |_| page.target.set(None)>"Done"</button>
        </div>
    }
}
