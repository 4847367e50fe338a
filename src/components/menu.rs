//! A disclosure menu: the WAI-ARIA Authoring Practices' "disclosure navigation menu" pattern
//! (a button with `aria-expanded` showing a panel of links), not the `menu` role, which is for
//! application menus and hides the links' own roles from assistive technology.

use leptos::prelude::*;

/// A button that shows or hides a panel of links, buttons and forms.
/// - `aria-expanded` says whether the panel shows, `aria-controls` names it (`id`).
/// - Escape closes it and returns focus to the button.
/// - ArrowDown / ArrowUp move to the next / previous link or button (wrapping), Home / End to the
///   first / last; on the button, ArrowDown / ArrowUp open the panel at its first / last one.
///   Fields (the organization switch) are reached with Tab and keep their own keys.
/// - A click or tap outside, focus moving outside, or a link followed closes it.
/// - Before the page's code has loaded, the panel shows while the menu holds focus (see the
///   stylesheet), so a tap or Tab still reaches its links.
#[component]
pub fn DisclosureMenu(
    /// The panel's element id, unique on the page.
    id: &'static str,
    /// The button's content.
    #[prop(into)]
    label: ViewFn,
    /// Classes for the button besides `menu-button`.
    #[prop(optional)]
    button_class: &'static str,
    /// Classes for the wrapper besides `menu`.
    #[prop(optional)]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let wrapper = NodeRef::<leptos::html::Div>::new();
    let button = NodeRef::<leptos::html::Button>::new();
    let panel = NodeRef::<leptos::html::Div>::new();

    let close_to_button = move || {
        open.set(false);
        if let Some(b) = button.get_untracked() {
            let _ = b.focus();
        }
    };
    let outside = move |target: Option<leptos::web_sys::EventTarget>| {
        use leptos::wasm_bindgen::JsCast;
        let inside = wrapper.get_untracked().zip(target).is_some_and(|(w, t)| w.contains(t.dyn_ref()));
        !inside
    };
    // On the window: a click elsewhere closes, and so does Escape wherever focus is (Safari does
    // not focus a clicked button, so a menu opened by mouse may not hold focus).
    #[cfg(feature = "hydrate")]
    {
        let clicks = window_event_listener(leptos::ev::pointerdown, move |ev| {
            if open.get_untracked() && outside(ev.target()) {
                open.set(false);
            }
        });
        let escapes = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" && open.get_untracked() {
                ev.prevent_default();
                close_to_button();
            }
        });
        on_cleanup(move || {
            clicks.remove();
            escapes.remove();
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = close_to_button;

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() {
            return;
        }
        let Some(step) = Step::of(&ev.key()) else { return };
        // Fields keep their own arrow, Home and End keys.
        if ev.target().is_some_and(|t| is_field(&t)) {
            return;
        }
        if open.get_untracked() {
            ev.prevent_default();
            move_focus(panel, step);
        } else if matches!(step, Step::Next | Step::Previous) {
            ev.prevent_default();
            open.set(true);
            let first = if step == Step::Next { Step::First } else { Step::Last };
            // The panel shows once the change has rendered.
            request_animation_frame(move || move_focus(panel, first));
        }
    };
    let on_focusout = move |ev: leptos::ev::FocusEvent| {
        // Focus leaving for somewhere else on the page (not for nowhere, as a click on the
        // panel's text does; the pointerdown listener covers clicks outside).
        if ev.related_target().is_some() && outside(ev.related_target()) {
            open.set(false);
        }
    };
    let on_panel_click = move |ev: leptos::ev::MouseEvent| {
        if ev.target().is_some_and(|t| follows_link(&t)) {
            open.set(false);
        }
    };

    view! {
        <div node_ref=wrapper class=format!("menu {class}").trim_end().to_owned() on:keydown=on_keydown on:focusout=on_focusout>
            <button
                node_ref=button
                type="button"
                class=format!("menu-button {button_class}").trim_end().to_owned()
                aria-expanded=move || if open.get() { "true" } else { "false" }
                aria-controls=id
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {label.run()}
            </button>
            <div node_ref=panel id=id class="menu-panel" hidden=move || !open.get() on:click=on_panel_click>
                {children()}
            </div>
        </div>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Next,
    Previous,
    First,
    Last,
}

impl Step {
    fn of(key: &str) -> Option<Self> {
        match key {
            "ArrowDown" => Some(Self::Next),
            "ArrowUp" => Some(Self::Previous),
            "Home" => Some(Self::First),
            "End" => Some(Self::Last),
            _ => None,
        }
    }

    /// The item to focus among `count`, from the focused one (`None` when focus is elsewhere).
    #[cfg_attr(not(any(feature = "hydrate", test)), allow(dead_code))]
    fn target(self, current: Option<usize>, count: usize) -> Option<usize> {
        let last = count.checked_sub(1)?;
        Some(match (self, current) {
            (Self::First, _) | (Self::Next, None) => 0,
            (Self::Last, _) | (Self::Previous, None) => last,
            (Self::Next, Some(i)) => {
                if i >= last {
                    0
                } else {
                    i + 1
                }
            }
            (Self::Previous, Some(i)) => {
                if i == 0 {
                    last
                } else {
                    i - 1
                }
            }
        })
    }
}

/// Moves focus among the panel's visible links and buttons.
fn move_focus(panel: NodeRef<leptos::html::Div>, step: Step) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        use leptos::web_sys::HtmlElement;
        let Some(panel) = panel.get_untracked() else { return };
        // Fields are reached with Tab: their arrow keys are their own.
        let Ok(found) = panel.query_selector_all("a[href], button:not([disabled])") else {
            return;
        };
        // Items hidden by the stylesheet (the phone's extra sections on a desktop) have no offset parent.
        let items: Vec<HtmlElement> = (0..found.length())
            .filter_map(|i| found.item(i)?.dyn_into::<HtmlElement>().ok())
            .filter(|e| e.offset_parent().is_some())
            .collect();
        let active = document().active_element();
        let current =
            items.iter().position(|e| active.as_ref().is_some_and(|a| a == e.as_ref() as &leptos::web_sys::Element));
        if let Some(i) = step.target(current, items.len()) {
            let _ = items[i].focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (panel, step);
    }
}

/// A select, text field or text area: arrow keys, Home and End are theirs.
fn is_field(target: &leptos::web_sys::EventTarget) -> bool {
    use leptos::wasm_bindgen::JsCast;
    target
        .dyn_ref::<leptos::web_sys::Element>()
        .is_some_and(|e| ["select", "input", "textarea"].iter().any(|t| e.tag_name().eq_ignore_ascii_case(t)))
}

fn follows_link(target: &leptos::web_sys::EventTarget) -> bool {
    use leptos::wasm_bindgen::JsCast;
    target.dyn_ref::<leptos::web_sys::Element>().and_then(|e| e.closest("a[href]").ok().flatten()).is_some()
}

#[cfg(test)]
mod tests {
    use super::Step;

    #[test]
    fn arrow_keys_wrap_around_and_home_and_end_reach_the_ends() {
        assert_eq!(Step::Next.target(None, 3), Some(0));
        assert_eq!(Step::Previous.target(None, 3), Some(2));
        assert_eq!(Step::Next.target(Some(0), 3), Some(1));
        assert_eq!(Step::Next.target(Some(2), 3), Some(0));
        assert_eq!(Step::Previous.target(Some(0), 3), Some(2));
        assert_eq!(Step::Previous.target(Some(2), 3), Some(1));
        assert_eq!(Step::First.target(Some(2), 3), Some(0));
        assert_eq!(Step::Last.target(Some(0), 3), Some(2));
        assert_eq!(Step::Next.target(None, 0), None);
    }
}
