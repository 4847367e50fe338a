//! Reusable view pieces. They take values, signals and callbacks, never the world.

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

mod menu;
mod page;
pub use menu::DisclosureMenu;
pub use page::{ErrorNotice, LinkProblem, Live, Loaded, Loading, PageLinks, Pager};

/// The latest error an action returned, if its last run failed.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// The message for one form field from an action's latest error.
pub fn field_error<S>(action: ServerAction<S>, field: &'static str) -> Signal<Option<String>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err).and_then(|e| e.for_field(field)))
}

/// A field's error message, tied to its input through `id` (use it in `aria-describedby`).
#[component]
pub fn FieldError(#[prop(into)] id: String, #[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <p class="field-error" id=id role="alert">
            {move || message.get()}
        </p>
    }
}

/// An error shown above a form: by default only those not about one field (which appear next
/// to the field); with `all`, every error, for compact forms such as a row's rename box.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>, #[prop(optional)] all: bool) -> impl IntoView {
    let general = move || error.get().filter(|e| all || !e.is_about_fields()).map(|e| e.to_string());
    view! {
        <Show when=move || general().is_some()>
            <p class="notice notice-error" role="alert">{general}</p>
        </Show>
    }
}

/// Returns a function that calls `f` once calls have stopped for `ms` milliseconds: typing
/// does not trigger work on every keystroke. Browser only; on the server it never fires.
pub fn debounced(ms: u32, f: impl Fn() + 'static) -> impl Fn() + Clone + 'static {
    #[cfg(feature = "hydrate")]
    {
        // Handles to browser-only values, so the returned function is Send as views require.
        let f = StoredValue::new_local(Box::new(f) as Box<dyn Fn()>);
        let pending = StoredValue::new_local(None::<gloo_timers::callback::Timeout>);
        move || {
            // Replacing the timer drops, and so cancels, the previous one.
            let timer = gloo_timers::callback::Timeout::new(ms, move || f.with_value(|f| f()));
            pending.set_value(Some(timer));
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ms, f);
        || {}
    }
}

/// A labelled progress bar.
#[component]
pub fn ProgressBar(#[prop(into)] label: String, done: i64, total: i64) -> impl IntoView {
    let percent = if total > 0 { (done * 100 / total).clamp(0, 100) } else { 100 };
    view! {
        <div class="progress" role="progressbar" aria-label=label aria-valuemin="0" aria-valuemax=total.to_string()
            aria-valuenow=done.to_string() aria-valuetext=format!("{done} of {total}")>
            <div class="progress-fill" style=format!("width: {percent}%")></div>
        </div>
    }
}

/// A new-password input that shows the password rule, checked as the person types by the
/// same function the server enforces. Submits as `password`.
#[component]
pub fn NewPasswordField(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let (typed, set_typed) = signal(String::new());
    let rule = move || {
        let typed = typed.get();
        match crate::domain::password::check(&typed) {
            _ if typed.is_empty() => format!("At least {} characters.", crate::domain::password::MIN_LEN),
            Ok(()) => "Strong enough.".to_string(),
            Err(reason) => reason.to_string(),
        }
    };
    let (rule_id, error_id) = (format!("{id}-rule"), format!("{id}-error"));
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id name="password" type="password" autocomplete="new-password" required
                aria-describedby=format!("{rule_id} {error_id}")
                on:input=move |ev| set_typed.set(event_target_value(&ev))/>
            <p class="hint" id=rule_id aria-live="polite">{rule}</p>
            <FieldError id=error_id message=error/>
        </div>
    }
}

/// The input for a six-digit one-time code. Submits as `code`.
#[component]
pub fn CodeField(#[prop(into)] id: String, #[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id.clone()>"Code"</label>
            <input id=id name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required
                aria-describedby=error_id.clone()/>
            <FieldError id=error_id message=error/>
        </div>
    }
}

/// Calls `tick` every `ms` milliseconds while the calling component is mounted. Browser only:
/// the server renders once.
pub fn every(ms: u32, tick: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let interval = StoredValue::new_local(Some(gloo_timers::callback::Interval::new(ms, tick)));
        // Dropping the interval stops it.
        on_cleanup(move || interval.update_value(|i| drop(i.take())));
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ms, tick);
    }
}

/// A person's picture, or their initials when there is none or it no longer loads. The
/// picture's host (Slack, a chat platform) is not told which Onboard page asked.
#[component]
pub fn Avatar(name: String, url: Option<String>) -> impl IntoView {
    let failed = RwSignal::new(false);
    let initials = crate::domain::chat_users::initials(&name);
    move || match url.clone().filter(|_| !failed.get()) {
        Some(src) => view! {
            <img class="avatar" src=src alt="" width="32" height="32" referrerpolicy="no-referrer"
                on:error=move |_| failed.set(true)/>
        }
        .into_any(),
        None => view! { <span class="avatar avatar-initials" aria-hidden="true">{initials.clone()}</span> }.into_any(),
    }
}

/// A member's onboarding status as a coloured label.
#[component]
pub fn StatusBadge(status: crate::domain::onboarding::OnboardingStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.key())>{status.label()}</span> }
}

/// A modal dialog (the browser's own `<dialog>`: focus stays inside, Escape closes it).
/// Open while `open` is true; closing it any way sets `open` to false.
#[component]
pub fn Modal(
    #[prop(into)] open: Signal<bool>,
    on_close: Callback<()>,
    #[prop(into)] labelled_by: String,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        let Some(el) = dialog.get() else {
            return;
        };
        if open.get() {
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });
    view! {
        <dialog node_ref=dialog class="modal" aria-labelledby=labelled_by on:close=move |_| on_close.run(())>
            {children()}
        </dialog>
    }
}

/// A composed onboarding message as the recipient sees it.
#[component]
pub fn MessagePreview(#[prop(into)] message: Signal<crate::domain::message::Message>) -> impl IntoView {
    use crate::domain::message::Block;
    view! {
        <div class="message-preview">
            {move || {
                message
                    .get()
                    .blocks
                    .into_iter()
                    .map(|block| match block {
                        Block::Paragraph(runs) => view! { <p>{inline_view(runs)}</p> }.into_any(),
                        Block::List(items) => view! {
                            <ul>{items.into_iter().map(|item| view! { <li>{inline_view(item)}</li> }).collect_view()}</ul>
                        }
                        .into_any(),
                    })
                    .collect_view()
            }}
        </div>
    }
}

fn inline_view(runs: Vec<crate::domain::message::Inline>) -> AnyView {
    use crate::domain::message::Inline;
    runs.into_iter()
        .map(|run| match run {
            Inline::Text(t) => t.into_any(),
            Inline::Strong(inner) => view! { <strong>{inline_view(inner)}</strong> }.into_any(),
            Inline::Emphasis(inner) => view! { <em>{inline_view(inner)}</em> }.into_any(),
            Inline::Code(code) => view! { <code>{code}</code> }.into_any(),
            // The preview's links do not lead anywhere: the real one is made when the message is sent.
            Inline::Link { text, url } => {
                view! { <a href=url.clone() title=url on:click=|ev| ev.prevent_default()>{text}</a> }.into_any()
            }
            Inline::LineBreak => view! { <br/> }.into_any(),
        })
        .collect_view()
        .into_any()
}

/// A choice of country for mobile numbers, by name with the calling code; `none` labels the
/// empty choice.
#[component]
pub fn CountrySelect(
    #[prop(into)] id: String,
    name: &'static str,
    countries: Vec<crate::api::registration::types::CountryChoice>,
    selected: String,
    none: &'static str,
    describedby: &'static str,
) -> impl IntoView {
    view! {
        <select id=id name=name aria-describedby=describedby>
            <option value="" selected=selected.is_empty()>{none}</option>
            {countries
                .into_iter()
                .map(|c| {
                    let chosen = c.code == selected;
                    view! { <option value=c.code selected=chosen>{format!("{} (+{})", c.name, c.calling_code)}</option> }
                })
                .collect_view()}
        </select>
    }
}
