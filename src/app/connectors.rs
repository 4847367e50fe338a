//! Connectors: one card per chat provider connection, with its Onboarding toggle, webhook URL
//! and set-up steps; a modal form to add or edit one.

use crate::api::connectors::types::{ConnectorCard, ConnectorDraft};
use crate::api::connectors::*;
use crate::components::{action_error, field_error, FieldError, FormError, Loaded, Modal};
use crate::domain::connectors::{webhook_secret_from, ChatProvider, Policy, MAX_ONBOARDING_MESSAGE_CHARS};
use leptos::prelude::*;
use leptos_meta::Title;

/// Which form the modal shows: a new connector, or an existing one's edit.
#[derive(Clone, Debug, PartialEq)]
enum Editing {
    New,
    Existing(ConnectorCard),
}

#[component]
pub fn ConnectorsPage() -> impl IntoView {
    let save = ServerAction::<SaveConnector>::new();
    let enable = ServerAction::<SetConnectorEnabled>::new();
    let policy = ServerAction::<SetConnectorPolicy>::new();
    let delete = ServerAction::<DeleteConnector>::new();
    // Bumped after each change that went through: a refused one keeps the cards (and what was
    // typed on them) as they are.
    let changed = RwSignal::new(0u32);
    let cards = Resource::new(move || changed.get(), |_| connectors());
    let editing = RwSignal::new(None::<Editing>);
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            editing.set(None);
            changed.update(|n| *n += 1);
        }
    });
    // One watcher per action, so only the action that just finished counts.
    Effect::new(move |_| {
        if matches!(enable.value().get(), Some(Ok(_))) {
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if matches!(policy.value().get(), Some(Ok(_))) {
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(_))) {
            changed.update(|n| *n += 1);
        }
    });
    view! {
        <Title text="Connectors · Onboard"/>
        <div class="page">
            <h1>"Connectors"</h1>
            <p class="lead">
                "Each connector receives messages from one chat platform and forwards them to your agent. "
                "Turn Onboarding on to approve new users before they can talk to it."
            </p>
            <p>
                <button type="button" class="button-primary" on:click=move |_| editing.set(Some(Editing::New))>
                    "Add connector"
                </button>
            </p>
            <FormError error=action_error(enable) all=true/>
            <FormError error=action_error(delete) all=true/>
            <Loaded resource=cards let:cards>
                {
                let posters: Vec<(i64, String)> = cards
                    .iter()
                    .filter(|c| c.provider.maps_to_members())
                    .map(|c| (c.id, format!("{} ({})", c.name, c.provider.label())))
                    .collect();
                if cards.is_empty() {
                    view! {
                        <p class="notice" role="status">"No connectors yet. Add one to connect Slack, Microsoft Teams, Telegram, WhatsApp or SMS."</p>
                    }
                    .into_any()
                } else {
                    view! {
                        <div class="connector-cards">
                            {cards
                                .into_iter()
                                .map(|card| {
                                    let posters = posters.clone();
                                    view! { <ConnectorCardView card posters editing enable policy delete/> }
                                })
                                .collect_view()}
                        </div>
                    }
                    .into_any()
                }}
            </Loaded>
            <ConnectorModal editing save/>
        </div>
    }
}

/// The connector's rules: members let in without a request (Slack and Teams, whose identities
/// map to members), and the deny list. Each card has its own action, so an error shows on the
/// card it belongs to; a save shows the list as stored and leaves the other cards alone.
#[component]
fn ConnectorRules(card: ConnectorCard) -> impl IntoView {
    let rules = ServerAction::<SetConnectorRules>::new();
    let blocked = RwSignal::new(card.blocked.join("\n"));
    Effect::new(move |_| {
        if let Some(Ok(stored)) = rules.value().get() {
            blocked.set(stored.join("\n"));
        }
    });
    let saved = move || matches!(rules.value().get(), Some(Ok(_))) && !rules.pending().get();
    let id = card.id;
    let (members_id, blocked_id) = (format!("rules-{id}-members"), format!("rules-{id}-blocked"));
    let provider = card.provider;
    let members = provider.maps_to_members().then(|| {
        view! {
            <div class="field field-check">
                <input id=members_id.clone() name="members" type="checkbox" checked=card.auto_approve_members
                    aria-describedby=format!("{members_id}-hint {members_id}-error")/>
                <label for=members_id.clone()>"Let members of this organization in without a request"</label>
                <p class="hint" id=format!("{members_id}-hint")>
                    {format!(
                        "People whose {0} identity is mapped to an Active member reach the agent at once; their access request is recorded as approved, and taken back if they stop being one. A rejection stands. Whoever may edit the {0} mappings then decides who gets in.",
                        provider.label()
                    )}
                </p>
                <FieldError id=format!("{members_id}-error") message=field_error(rules, "members")/>
            </div>
        }
    });
    view! {
        <fieldset class="choices connector-rules">
            <legend>"Rules"</legend>
            <FormError error=action_error(rules)/>
            <ActionForm action=rules>
                <input type="hidden" name="id" value=id.to_string()/>
                {members}
                <div class="field">
                    <label for=blocked_id.clone()>"Blocked users"</label>
                    <textarea id=blocked_id.clone() name="blocked" rows="2"
                        aria-describedby=format!("{blocked_id}-hint {blocked_id}-error")
                        prop:value=move || blocked.get() on:input=move |ev| blocked.set(event_target_value(&ev))>
                        // The server's render; the browser keeps the value above.
                        {(!card.blocked.is_empty()).then(|| card.blocked.join("\n"))}
                    </textarea>
                    <p class="hint" id=format!("{blocked_id}-hint")>
                        {format!(
                            "One {} a line. Their messages are logged but never forwarded and never ask for access, and nothing is said to them.",
                            provider.platform_id_label()
                        )}
                    </p>
                    <FieldError id=format!("{blocked_id}-error") message=field_error(rules, "blocked")/>
                </div>
                <button type="submit" class="button-quiet" disabled=move || rules.pending().get()>"Save rules"</button>
                <span class="hint" role="status">{move || saved().then_some(" Saved.")}</span>
            </ActionForm>
        </fieldset>
    }
}

/// Approvals in chat: where the connector's new requests are posted as cards with Approve and
/// Reject (through one of the organization's Slack or Teams connectors, in a conversation its
/// approvers read), and the message that tells a requester they are approved.
#[component]
fn ConnectorApprovals(card: ConnectorCard, posters: Vec<(i64, String)>) -> impl IntoView {
    let approvals = ServerAction::<SetConnectorApprovals>::new();
    let saved = move || matches!(approvals.value().get(), Some(Ok(_))) && !approvals.pending().get();
    let id = card.id;
    let (via_id, conversation_id, message_id) =
        (format!("approvals-{id}-via"), format!("approvals-{id}-conversation"), format!("approvals-{id}-message"));
    let via = card.approvals_via;
    view! {
        <fieldset class="choices connector-approvals">
            <legend>"Approvals in chat"</legend>
            <FormError error=action_error(approvals)/>
            <ActionForm action=approvals>
                <input type="hidden" name="id" value=id.to_string()/>
                <div class="field">
                    <label for=via_id.clone()>"Post new requests through"</label>
                    <select id=via_id.clone() name="via" aria-describedby=format!("{via_id}-hint {via_id}-error")>
                        <option value="" selected=via.is_none()>"Nowhere: decide in the Access Requests panel"</option>
                        {posters
                            .into_iter()
                            .map(|(poster, label)| view! {
                                <option value=poster.to_string() selected=via == Some(poster)>{label}</option>
                            })
                            .collect_view()}
                    </select>
                    <p class="hint" id=format!("{via_id}-hint")>
                        "Each new request is posted as a card with Approve and Reject. Only people whose Slack or Teams account is mapped to an Active member allowed to review access requests can decide."
                    </p>
                    <FieldError id=format!("{via_id}-error") message=field_error(approvals, "via")/>
                </div>
                <div class="field">
                    <label for=conversation_id.clone()>"Approvers' conversation ID"</label>
                    <input id=conversation_id.clone() name="conversation" autocomplete="off" value=card.approvers_conversation.clone()
                        aria-describedby=format!("{conversation_id}-hint {conversation_id}-error")/>
                    <p class="hint" id=format!("{conversation_id}-hint")>
                        "A Slack channel ID, like C0123ABCD, or a Teams channel or group chat ID, like 19:…@thread.tacv2; a link copied from the channel works too. Invite the bot (add the app) there first."
                    </p>
                    <FieldError id=format!("{conversation_id}-error") message=field_error(approvals, "conversation")/>
                </div>
                <div class="field">
                    <label for=message_id.clone()>"Approval message"</label>
                    <textarea id=message_id.clone() name="message" rows="2" maxlength=MAX_ONBOARDING_MESSAGE_CHARS.to_string()
                        aria-describedby=format!("{message_id}-hint {message_id}-error")>
                        {card.approval_message.clone()}
                    </textarea>
                    <p class="hint" id=format!("{message_id}-hint")>
                        "Sent once, when someone is approved, in the conversation they wrote from: in chat or in the panel."
                    </p>
                    <FieldError id=format!("{message_id}-error") message=field_error(approvals, "approval_message")/>
                </div>
                <button type="submit" class="button-quiet" disabled=move || approvals.pending().get()>"Save approvals"</button>
                <span class="hint" role="status">{move || saved().then_some(" Saved.")}</span>
            </ActionForm>
        </fieldset>
    }
}

#[component]
fn ConnectorCardView(
    card: ConnectorCard,
    posters: Vec<(i64, String)>,
    editing: RwSignal<Option<Editing>>,
    enable: ServerAction<SetConnectorEnabled>,
    policy: ServerAction<SetConnectorPolicy>,
    delete: ServerAction<DeleteConnector>,
) -> impl IntoView {
    let id = card.id;
    let (heading_id, labelled_by) = (format!("connector-{id}-name"), format!("connector-{id}-name"));
    let onboarding_on = RwSignal::new(card.policy == Policy::OnBoarding);
    let message = RwSignal::new(card.onboarding_message.clone());
    let confirming_delete = RwSignal::new(false);
    let saved_policy = card.policy;
    let policy_error = Signal::derive(move || {
        policy.value().get().and_then(Result::err).and_then(|e| e.for_field("onboarding_message"))
    });
    let toggle_id = format!("onboarding-{id}");
    let message_id = format!("onboarding-message-{id}");
    let message_error_id = format!("onboarding-message-{id}-error");
    let on_toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        onboarding_on.set(on);
        // Switching off takes effect at once; switching on waits for the message to be saved.
        if !on && saved_policy == Policy::OnBoarding {
            policy.dispatch(SetConnectorPolicy { id, onboarding: false, message: String::new() });
        }
    };
    let save_policy = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        policy.dispatch(SetConnectorPolicy { id, onboarding: true, message: message.get_untracked() });
    };
    let edit_card = card.clone();
    let name = card.name.clone();
    let (webhook, steps) = (card.webhook_url.clone(), card.provider.setup_steps());
    view! {
        <article class="card connector-card" aria-labelledby=labelled_by>
            <header class="connector-head">
                <h2 id=heading_id>{card.name.clone()}</h2>
                <span class="badge">{card.provider.label()}</span>
                {if card.enabled {
                    view! { <span class="badge status-onboarded">"Enabled"</span> }.into_any()
                } else {
                    view! { <span class="badge status-not-connected">"Disabled"</span> }.into_any()
                }}
            </header>
            <div class="field switch-field">
                <input id=toggle_id.clone() type="checkbox" role="switch" prop:checked=move || onboarding_on.get()
                    on:change=on_toggle/>
                <label for=toggle_id>"Onboarding"</label>
                <span class="hint">
                    {move || if onboarding_on.get() {
                        "On (OnBoarding): new users need approval before they reach the agent."
                    } else {
                        "Off (AllowAll): every message goes straight to the agent."
                    }}
                </span>
            </div>
            <Show when=move || onboarding_on.get()>
                <form class="onboarding-message" on:submit=save_policy>
                    <div class="field">
                        <label for=message_id.clone()>"Onboarding Message"</label>
                        <textarea id=message_id.clone() rows="3" maxlength=MAX_ONBOARDING_MESSAGE_CHARS.to_string()
                            aria-describedby=format!("{message_id}-hint {message_error_id}")
                            prop:value=move || message.get()
                            on:input=move |ev| message.set(event_target_value(&ev))></textarea>
                        <p class="hint" id=format!("{message_id}-hint")>
                            "Sent once, on a new user's first message. Say that their request is being reviewed, when to expect an answer, and whom to contact if it is urgent."
                        </p>
                        <FieldError id=message_error_id.clone() message=policy_error/>
                    </div>
                    <button type="submit" class="button-primary" disabled=move || policy.pending().get()>
                        "Save onboarding"
                    </button>
                </form>
            </Show>
            <ConnectorRules card=card.clone()/>
            <ConnectorApprovals card=card.clone() posters/>
            <dl class="connector-facts">
                <div><dt>"Agent endpoint"</dt><dd><code>{card.agent_url.clone()}</code></dd></div>
                <div><dt>"Agent signing secret"</dt><dd>{card.agent_secret_hint.clone()}</dd></div>
                {card
                    .credentials
                    .iter()
                    .map(|c| view! { <div><dt>{c.label.clone()}</dt><dd>{c.shown.clone()}</dd></div> })
                    .collect_view()}
                <div>
                    <dt>"Access requests"</dt>
                    <dd><a href=format!("/access-requests?connector={id}")>{format!("{} pending", card.pending_requests)}</a></dd>
                </div>
                <div><dt>"Chat users"</dt><dd>{card.chat_users}</dd></div>
            </dl>
            <details class="webhook-setup">
                <summary>"Webhook URL and set-up"</summary>
                <label for=format!("webhook-{id}")>"Webhook URL"</label>
                <input id=format!("webhook-{id}") class="webhook-url" readonly value=webhook/>
                <ol>{steps.iter().map(|s| view! { <li>{*s}</li> }).collect_view()}</ol>
            </details>
            <div class="connector-actions">
                <button type="button" class="button-quiet" aria-label=format!("Edit {name}")
                    on:click=move |_| editing.set(Some(Editing::Existing(edit_card.clone())))>"Edit"</button>
                <button type="button" class="button-quiet"
                    on:click=move |_| { enable.dispatch(SetConnectorEnabled { id, enabled: !card.enabled }); }>
                    {if card.enabled { format!("Disable {name}") } else { format!("Enable {name}") }}
                </button>
                <Show when=move || !confirming_delete.get()
                    fallback=move || view! {
                        <span role="alert">"Delete it with its access requests and conversations?"</span>
                        <button type="button" class="button-danger" on:click=move |_| { delete.dispatch(DeleteConnector { id }); }>
                            "Yes, delete"
                        </button>
                        <button type="button" class="button-quiet" on:click=move |_| confirming_delete.set(false)>"Cancel"</button>
                    }>
                    <button type="button" class="button-quiet" on:click=move |_| confirming_delete.set(true)>"Delete"</button>
                </Show>
            </div>
        </article>
    }
}

#[component]
fn ConnectorModal(editing: RwSignal<Option<Editing>>, save: ServerAction<SaveConnector>) -> impl IntoView {
    let close = Callback::new(move |_| editing.set(None));
    view! {
        <Modal open=Signal::derive(move || editing.get().is_some()) on_close=close labelled_by="connector-modal-title">
            {move || editing.get().map(|e| view! { <ConnectorForm editing=e save close/> })}
        </Modal>
    }
}

#[component]
fn ConnectorForm(editing: Editing, save: ServerAction<SaveConnector>, close: Callback<()>) -> impl IntoView {
    let existing = match &editing {
        Editing::Existing(card) => Some(card.clone()),
        Editing::New => None,
    };
    let provider = RwSignal::new(existing.as_ref().map(|c| c.provider).unwrap_or(ChatProvider::Telegram));
    let name = RwSignal::new(existing.as_ref().map(|c| c.name.clone()).unwrap_or_default());
    let agent_url = RwSignal::new(existing.as_ref().map(|c| c.agent_url.clone()).unwrap_or_default());
    let agent_secret = RwSignal::new(String::new());
    // Typed credentials by key; plain settings start with their current value, secrets blank.
    let typed = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.credentials.iter().filter(|v| !v.secret).map(|v| (v.key.clone(), v.shown.clone())).collect())
            .unwrap_or_else(Vec::<(String, String)>::new),
    );
    let id = existing.as_ref().map(|c| c.id);
    let hints: Vec<(String, String)> = existing
        .as_ref()
        .map(|c| c.credentials.iter().map(|v| (v.key.clone(), v.shown.clone())).collect())
        .unwrap_or_default();
    let hints = StoredValue::new(hints);
    let error_for = move |field: String| {
        Signal::derive(move || save.value().get().and_then(Result::err).and_then(|e| e.for_field(&field)))
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveConnector {
            draft: ConnectorDraft {
                id,
                provider: provider.get_untracked().key().to_string(),
                name: name.get_untracked(),
                agent_url: agent_url.get_untracked(),
                agent_secret: agent_secret.get_untracked(),
                credentials: typed.get_untracked(),
            },
        });
    };
    let title = match &existing {
        Some(c) => format!("Edit {}", c.name),
        None => "Add connector".to_string(),
    };
    let is_edit = existing.is_some();
    let text_field =
        move |key: &'static str, label: &'static str, value: RwSignal<String>, kind: &'static str, hint: String| {
            let error_id = format!("connector-{key}-error");
            let hint_id = format!("connector-{key}-hint");
            view! {
                <div class="field">
                    <label for=format!("connector-{key}")>{label}</label>
                    <input id=format!("connector-{key}") type=kind autocomplete="off"
                        aria-describedby=format!("{hint_id} {error_id}")
                        prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                    <p class="hint" id=hint_id>{hint}</p>
                    <FieldError id=error_id message=error_for(key.to_string())/>
                </div>
            }
        };
    let secret_hint = if is_edit {
        "Leave blank to keep the current secret.".to_string()
    } else {
        "At least 16 characters. The agent checks each message's X-Onboard-Signature with it.".to_string()
    };
    view! {
        <form class="connector-form" on:submit=submit>
            <h2 id="connector-modal-title">{title}</h2>
            <FormError error=action_error(save)/>
            {(!is_edit).then(|| view! {
                <div class="field">
                    <label for="connector-provider">"Chat platform"</label>
                    <select id="connector-provider" on:change=move |ev| {
                        if let Some(p) = ChatProvider::parse(&event_target_value(&ev)) {
                            provider.set(p);
                        }
                    }>
                        {ChatProvider::ALL
                            .into_iter()
                            .map(|p| view! { <option value=p.key() selected=move || provider.get() == p>{p.label()}</option> })
                            .collect_view()}
                    </select>
                    <FieldError id="connector-provider-error" message=error_for("provider".into())/>
                </div>
            })}
            {text_field("name", "Name", name, "text", "Shown on the card and in the Access Requests panel.".into())}
            {text_field("agent_url", "Agent endpoint", agent_url, "url", "The HTTPS address approved users' messages are posted to.".into())}
            {text_field("agent_secret", "Agent signing secret", agent_secret, "password", secret_hint)}
            {move || {
                let p = provider.get();
                p.credential_fields()
                    .iter()
                    .map(|f| {
                        let key = f.key;
                        let value = RwSignal::new(
                            typed.with_untracked(|t| t.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())).unwrap_or_default(),
                        );
                        Effect::new(move |_| {
                            let v = value.get();
                            typed.update(|t| {
                                t.retain(|(k, _)| k != key);
                                t.push((key.to_string(), v));
                            });
                        });
                        let current = hints.with_value(|h| h.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()));
                        let hint = match (f.secret, current) {
                            (true, Some(shown)) if is_edit => format!("{} Currently {shown}; leave blank to keep it.", f.help),
                            _ => f.help.to_string(),
                        };
                        let error_id = format!("connector-cred-{key}-error");
                        let hint_id = format!("connector-cred-{key}-hint");
                        // A generated secret stays visible, to be copied into the provider's set-up.
                        let generated = RwSignal::new(false);
                        let secret = f.secret;
                        let generate = f.can_generate().then(|| view! {
                            <button type="button" class="button-quiet" on:click=move |_| {
                                if let Some(random) = random_bytes() {
                                    value.set(webhook_secret_from(&random));
                                    generated.set(true);
                                }
                            }>"Generate a secret"</button>
                        });
                        view! {
                            <div class="field">
                                <label for=format!("connector-cred-{key}")>{f.label}</label>
                                <input id=format!("connector-cred-{key}")
                                    type=move || if secret && !generated.get() { "password" } else { "text" }
                                    autocomplete="off" aria-describedby=format!("{hint_id} {error_id}")
                                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                                {generate}
                                <p class="hint" id=hint_id>{hint}</p>
                                <FieldError id=error_id message=error_for(format!("cred_{key}"))/>
                            </div>
                        }
                    })
                    .collect_view()
            }}
            <div class="modal-actions">
                <button type="submit" class="button-primary" disabled=move || save.pending().get()>
                    {if is_edit { "Save connector" } else { "Add connector" }}
                </button>
                <button type="button" class="button-quiet" on:click=move |_| close.run(())>"Cancel"</button>
            </div>
        </form>
    }
}

/// 32 random bytes from the browser's Web Crypto `getRandomValues`, for a generated secret.
#[cfg(feature = "hydrate")]
fn random_bytes() -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    web_sys::window()?.crypto().ok()?.get_random_values_with_u8_array(&mut bytes).ok()?;
    Some(bytes)
}

/// Rendering on the server generates nothing: the button works once the page is hydrated.
#[cfg(not(feature = "hydrate"))]
fn random_bytes() -> Option<[u8; 32]> {
    None
}
