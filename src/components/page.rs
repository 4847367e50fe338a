//! What every page is made of around its own content: loading, the failure notice (with the
//! failure's HTTP status when rendered on the server), and the links between pages of a list.

use crate::AppError;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// A page rendered on the server around a failure answers with the failure's HTTP status, as
/// the server function's own response does (`AppError::status`).
fn answer_with_status_of(error: &AppError) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), axum::http::StatusCode::from_u16(error.status()))
    {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

/// A failure to load a page's data. Signed-out callers are sent to the sign-in page, and a
/// member yet to accept a new version of the agreement to it, coming back here afterwards.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    if !matches!(error, AppError::Unauthenticated | AppError::AgreementPending) {
        answer_with_status_of(&error);
    }
    match error {
        AppError::Unauthenticated => view! { <Redirect path="/sign-in"/> }.into_any(),
        AppError::AgreementPending => {
            let location = leptos_router::hooks::use_location();
            let here = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
            view! { <Redirect path=crate::domain::query::href("/agreement", &[("next", here)])/> }.into_any()
        }
        AppError::NotAllowed => view! {
            <section class="card">
                <h1>"Not available"</h1>
                <p>"Your role does not include this page. Ask an owner of your organization if you need it."</p>
                <p><a href="/">"Back to the start page"</a></p>
            </section>
        }
        .into_any(),
        other => view! {
            <section class="card">
                <h1>"Something went wrong"</h1>
                <p class="notice notice-error" role="alert">{other.to_string()}</p>
                <p><a href="/">"Back to the start page"</a></p>
            </section>
        }
        .into_any(),
    }
}

/// Shown while a page's data loads.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading" aria-live="polite">"Loading…"</p> }
}

/// A page's data once loaded: `children` given the value, or the failure's notice. While a new
/// answer loads, the previous one stays on screen.
#[component]
pub fn Loaded<T, C, V>(resource: Resource<Result<T, AppError>>, children: C) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    C: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let children = std::sync::Arc::new(children);
    view! {
        <Transition fallback=Loading>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => children(value).into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// A live panel, with one source: a Resource per `key` (a page's filter, a team, a person),
/// fetched again whenever `refresh` changes (a timer ticking, an action done).
///
/// The first answer is awaited under a Transition, so the server renders it; the panel is then
/// built once per key, and `children` get the latest good answer as a Memo, which changes only
/// when an answer differs. Later answers therefore reach only the rows that changed: the others
/// keep their elements, focus and ticked boxes. A failed refresh keeps the last answer; a failed
/// first answer shows its notice.
#[component]
pub fn Live<K, T, F, Fut, C, V>(
    /// What the panel shows: a new key builds a new panel.
    #[prop(into)]
    key: Signal<K>,
    fetch: F,
    /// Bumped to fetch again.
    refresh: RwSignal<u32>,
    children: C,
) -> impl IntoView
where
    K: Clone + Send + Sync + 'static,
    T: Clone + PartialEq + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: Fn(K) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
    C: Fn(Memo<T>) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let (fetch, children) = (std::sync::Arc::new(fetch), std::sync::Arc::new(children));
    view! {
        <Transition fallback=Loading>
            {move || {
                let key = key.get();
                let (fetch, children) = (fetch.clone(), children.clone());
                // A failed first answer is final: its notice stays, and nothing is fetched again.
                let failed = StoredValue::new(false);
                let source = Resource::new(
                    move || (!failed.get_value()).then(|| refresh.get()),
                    move |_| fetch(key.clone()),
                );
                Suspend::new(async move {
                    // Untracked: later answers reach the panel through `latest`, not by building it again.
                    match leptos::reactive::computed::ScopedFuture::new_untracked(std::future::IntoFuture::into_future(source)).await {
                        Ok(first) => {
                            let latest = Memo::new(move |previous: Option<&T>| match source.get() {
                                Some(Ok(answer)) => answer,
                                _ => previous.cloned().unwrap_or_else(|| first.clone()),
                            });
                            children(latest).into_any()
                        }
                        Err(error) => {
                            failed.set_value(true);
                            view! { <ErrorNotice error/> }.into_any()
                        }
                    }
                })
            }}
        </Transition>
    }
}

/// The links to the pages before and after this one, around where this one is ("Page 2 of 7",
/// "Teams 51–100 of 10,000"). Nothing is shown when there is no other page.
#[component]
pub fn Pager(
    /// What the pages are of, for screen readers: "Pages", "Team pages".
    #[prop(into)]
    label: String,
    #[prop(into)] position: String,
    #[prop(into)] previous: Option<String>,
    #[prop(into)] next: Option<String>,
    #[prop(default = "Previous page")] previous_text: &'static str,
    #[prop(default = "Next page")] next_text: &'static str,
    /// The first and last pages, for a list paged by key rather than by number.
    #[prop(default = None)]
    first: Option<String>,
    #[prop(default = None)] last: Option<String>,
) -> impl IntoView {
    (previous.is_some() || next.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label=label>
                {first.map(|href| view! { <a href=href>"« First"</a> })}
                {previous.map(|href| view! { <a href=href rel="prev">{previous_text}</a> })}
                <span class="hint">{position}</span>
                {next.map(|href| view! { <a href=href rel="next">{next_text}</a> })}
                {last.map(|href| view! { <a href=href>"Last »"</a> })}
            </nav>
        }
    })
}

/// "Page n of m" for a list of `total` rows shown `PAGE_SIZE` at a time, with the addresses
/// `href` gives for the pages either side.
#[component]
pub fn PageLinks(
    #[prop(default = "Pages")] label: &'static str,
    page: i64,
    total: i64,
    href: impl Fn(i64) -> String,
) -> impl IntoView {
    let pages = (total + crate::domain::members::PAGE_SIZE - 1) / crate::domain::members::PAGE_SIZE;
    let page = page.clamp(1, pages.max(1));
    view! {
        <Pager
            label
            position=format!("Page {page} of {pages}")
            previous=(page > 1).then(|| href(page - 1))
            next=(page < pages).then(|| href(page + 1))
        />
    }
}

/// A one-time link that cannot be used, saying what happened and what to do.
#[component]
pub fn LinkProblem(#[prop(into)] title: String, error: AppError) -> impl IntoView {
    answer_with_status_of(&error);
    let message = match error {
        AppError::NotFound => {
            "This link is not valid. Check that you opened the whole link from the email, or ask for a new one."
                .to_string()
        }
        other => other.to_string(),
    };
    view! {
        <section class="card narrow">
            <h1>{title}</h1>
            <p class="notice notice-error" role="alert">{message}</p>
            <p><a href="/sign-in">"Go to sign in"</a></p>
        </section>
    }
}
