use super::nav::visible_nav;
use super::use_auth;
use crate::components::{ErrorNotice, Loading};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

#[component]
pub fn HomePage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text="Start · Onboard"/>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match auth.me.await {
                    Ok(Some(me)) if me.agreement_pending => view! { <Redirect path="/agreement"/> }.into_any(),
                    Ok(Some(me)) => {
                        let items = visible_nav(&me);
                        view! {
                            <section class="page">
                                <h1>"Welcome, " {me.display_name.clone()}</h1>
                                <p class="lead">
                                    "You are signed in to " <strong>{me.org_name.clone()}</strong> " as "
                                    {me.role_name.clone()} "."
                                </p>
                                {if items.is_empty() {
                                    view! {
                                        <p>"Your role has nothing to manage here yet. An owner of your organization can change that."</p>
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        <ul class="tiles">
                                            {items
                                                .into_iter()
                                                .map(|item| {
                                                    view! {
                                                        <li>
                                                            <a class="tile" href=item.href>
                                                                <span class="tile-group">{item.group}</span>
                                                                <span class="tile-label">{item.label}</span>
                                                            </a>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    }
                                        .into_any()
                                }}
                            </section>
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <Redirect path="/sign-in"/> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
