//! Access management › Users › Invite users, and the confirmation of a sent batch.

use crate::api::invites::types::{BatchProgress, FailedDelivery, InviteFormData};
use crate::api::invites::{invite_batch, invite_form, CheckInvites, FixInvitation, SendInvites};
use crate::components::{
    action_error, debounced, field_error, ErrorNotice, FieldError, FormError, Loaded, Loading, ProgressBar,
};
use crate::domain::email_list::parse_paste;
use crate::domain::invites::{ClassifiedEntry, InviteClass, PasteCheck, SHOWN_ENTRIES};
use crate::domain::{grouped, time, Permission};
use crate::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn InvitePage() -> impl IntoView {
    let form = Resource::new(|| (), |_| invite_form());
    view! {
        <Title text="Invite users · Onboard"/>
        <div class="page">
            <p><a href="/users">"← Users"</a></p>
            <h1>"✈ Invite users"</h1>
            <InviteTabs sheet=false/>
            <Loaded resource=form let:data>
                <InviteForm data/>
            </Loaded>
        </div>
    }
}

#[component]
fn InviteForm(data: InviteFormData) -> impl IntoView {
    let send = ServerAction::<SendInvites>::new();
    let check = ServerAction::<CheckInvites>::new();
    let (text, set_text) = signal(String::new());
    // Counted at once in the browser by the same parser the server uses, then by the server.
    let (recognised, set_recognised) = signal(0usize);
    let recount = debounced(250, move || {
        let report = parse_paste(&text.get_untracked());
        set_recognised.set(report.valid_count());
        if !report.entries.is_empty() {
            check.dispatch(CheckInvites { emails: text.get_untracked() });
        }
    });
    let checked = move || check.value().get().and_then(Result::ok).unwrap_or_default();
    // The server's answer has the last word: it also applies IDNA, which the browser does not.
    Effect::new(move |_| {
        if let Some(Ok(checked)) = check.value().get() {
            if !check.pending().get_untracked() {
                set_recognised.set(checked.recognised());
            }
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(batch)) = send.value().get() {
            navigate(&format!("/users/invite/{batch}"), Default::default());
        }
    });
    let emails_error = field_error(send, "emails");
    let area_error = field_error(send, "area");
    let role_error = field_error(send, "role");
    let days = data.lifetime_days;
    view! {
        <section class="card">
            <FormError error=action_error(send)/>
            <ActionForm action=send>
                <div class="field">
                    <label for="invite-emails">"Email addresses"</label>
                    <textarea id="invite-emails" name="emails" rows="10" required
                        aria-describedby="invite-emails-hint invite-count invite-emails-error"
                        on:input=move |ev| {
                            set_text.set(event_target_value(&ev));
                            recount();
                        }></textarea>
                    <p class="hint" id="invite-emails-hint">
                        "One per line, or separated by commas or semicolons. Names as pasted from a mail client, like "
                        <code>"Ada Lovelace <ada@example.com>"</code> ", are fine."
                    </p>
                    <p id="invite-count" class="recognised" aria-live="polite">
                        {move || match recognised.get() {
                            1 => "1 address recognised".to_string(),
                            n => format!("{n} addresses recognised"),
                        }}
                    </p>
                    <FieldError id="invite-emails-error" message=emails_error/>
                    <ClassSummary checked=Signal::derive(checked)/>
                </div>
                <AreaRoleFields data area_error role_error/>
                <p class="hint">{format!("Each person gets an email with a link to register. Links stay valid for {days} days.")}</p>
                <button type="submit" class="button-primary" disabled=move || send.pending().get()>
                    {move || if send.pending().get() { "Inviting…" } else { "✈ Invite" }}
                </button>
                // The first 10,000 of a batch are stored before the page moves on; the rest follow.
                <p class="hint" role="status">
                    {move || send.pending().get().then(|| {
                        let new = checked().counts.into_iter().find(|(class, _)| *class == InviteClass::New);
                        match new {
                            Some((_, n)) => format!("Inviting {n} people; the sending progress comes next."),
                            None => "Inviting; the sending progress comes next.".to_string(),
                        }
                    })}
                </p>
            </ActionForm>
        </section>
    }
}

/// The two ways to invite: pasted addresses, or a spreadsheet with a row per person.
#[component]
pub fn InviteTabs(sheet: bool) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Ways to invite">
            <a href="/users/invite" aria-current=(!sheet).then_some("page")>"Paste addresses"</a>
            <a href="/users/import" aria-current=sheet.then_some("page")>"From a spreadsheet"</a>
        </nav>
    }
}

/// The service area and role a batch's people get (a sheet's rows, where their cells are empty).
#[component]
pub fn AreaRoleFields(
    data: InviteFormData,
    #[prop(into)] area_error: Signal<Option<String>>,
    #[prop(into)] role_error: Signal<Option<String>>,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for="invite-area">"Service area"</label>
            <select id="invite-area" name="area" required aria-describedby="invite-area-error invite-choices-hint">
                {data.areas.into_iter().map(|a| view! { <option value=a.id.to_string()>{a.name}</option> }).collect_view()}
            </select>
            <FieldError id="invite-area-error" message=area_error/>
        </div>
        <div class="field">
            <label for="invite-role">"Role"</label>
            <select id="invite-role" name="role" required aria-describedby="invite-role-error">
                {data
                    .roles
                    .into_iter()
                    .map(|r| {
                        let member = r.name == "Member";
                        view! { <option value=r.id.to_string() selected=member>{r.name}</option> }
                    })
                    .collect_view()}
            </select>
            <FieldError id="invite-role-error" message=role_error/>
        </div>
        {hint.map(|h| view! { <p class="hint" id="invite-choices-hint">{h}</p> })}
    }
}

/// How many addresses fall in each class, and the ones that will not be invited, with why.
#[component]
fn ClassSummary(#[prop(into)] checked: Signal<PasteCheck>) -> impl IntoView {
    view! {
        <div aria-live="polite">
            {move || {
                let PasteCheck { counts, not_invited, not_invited_total } = checked.get();
                if counts.is_empty() {
                    return ().into_any();
                }
                let counts = counts
                    .into_iter()
                    .map(|(class, n)| view! { <li class=format!("class-{class:?}")>{format!("{}: {n}", class.label())}</li> })
                    .collect_view();
                view! {
                    <ul class="class-counts" aria-label="Addresses by class">{counts}</ul>
                    <EntryList entries=not_invited total=not_invited_total/>
                }
                    .into_any()
            }}
        </div>
    }
}

/// Entries with their class and reason: the first `SHOWN_ENTRIES` of `total`.
#[component]
fn EntryList(entries: Vec<ClassifiedEntry>, total: usize) -> impl IntoView {
    let more = total.saturating_sub(entries.len().min(SHOWN_ENTRIES));
    view! {
        <ul class="problems">
            {entries
                .into_iter()
                .take(SHOWN_ENTRIES)
                .map(|e| {
                    let why = match e.detail {
                        Some(d) => format!("{}: {d}", e.class.label()),
                        None => e.class.label().to_string(),
                    };
                    view! { <li><span>{e.raw}</span> " " <span class="why">{format!("— {why}")}</span></li> }
                })
                .collect_view()}
            {(more > 0).then(|| view! { <li class="why">{format!("…and {more} more")}</li> })}
        </ul>
    }
}

#[component]
pub fn BatchPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("batch").and_then(|b| b.parse::<i64>().ok()).unwrap_or(0);
    let (tick, set_tick) = signal(0u32);
    let auth = super::use_auth();
    let batch = Resource::new(move || (id(), tick.get()), |(id, _)| invite_batch(id));
    let reload = Callback::new(move |_| set_tick.update(|n| *n += 1));
    let sheet = Memo::new(move |_| batch.get().and_then(Result::ok).and_then(|p| p.sheet));
    // While emails are still going out, look again every second.
    let refresh = debounced(1000, move || set_tick.update(|n| *n += 1));
    Effect::new(move |_| {
        if let Some(Ok(p)) = batch.get() {
            if p.still_to_send() > 0 {
                refresh();
            }
        }
    });
    view! {
        <Title text="Invitations sent · Onboard"/>
        <div class="page">
            <p><a href="/users">"← Users"</a></p>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match batch.await {
                        Ok(p) => view! { <BatchView progress=p/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
                {move || Suspend::new(async move {
                    let sees_funnel = matches!(auth.me.await, Ok(Some(me)) if me.permissions.contains(Permission::OnboardingView));
                    sees_funnel.then(|| view! {
                        <p><a href=format!("/onboarding/funnel?scope=batch:{}", id())>"How far this batch got: its funnel"</a></p>
                    })
                })}
                // Outside the Suspend, keyed: polling while emails go out keeps each row, and
                // what is typed in it, in place.
                <FailedDeliveries batch reload/>
                <super::import::SheetResults batch=Signal::derive(id) sheet tick/>
            </Transition>
        </div>
    }
}

#[component]
fn BatchView(progress: BatchProgress) -> impl IntoView {
    let remaining = progress.still_to_send();
    let BatchProgress {
        area,
        role,
        created_at,
        sent,
        failed,
        preparing,
        unstored,
        not_invited,
        not_invited_total,
        sheet,
        ..
    } = progress;
    let started = time::format_utc(created_at);
    let origin = match sheet {
        Some(_) => {
            format!("From a spreadsheet; rows without a service area or role got {area} and {role}. Started {started}.")
        }
        None => format!("To {area}, as {role}. Started {started}."),
    };
    let total = sent + failed + remaining;
    let heading = if remaining > 0 {
        format!("Sending {} invitations…", grouped(total))
    } else if sent == 1 {
        "1 invitation email sent".to_string()
    } else {
        format!("{} invitation emails sent", grouped(sent))
    };
    view! {
        <h1>{heading}</h1>
        <section class="card">
            <p>{origin}</p>
            <ProgressBar label="Invitation emails" done=sent + failed total/>
            <dl class="counts">
                <div><dt>"Sent"</dt><dd>{grouped(sent)}</dd></div>
                <div><dt>"Failed"</dt><dd>{grouped(failed)}</dd></div>
                <div><dt>"Remaining"</dt><dd>{grouped(remaining)}</dd></div>
            </dl>
            {(preparing > 0).then(|| view! {
                <p class="hint">{format!("{} of them are still being added to the member list.", grouped(preparing))}</p>
            })}
            {(unstored > 0).then(|| view! {
                <p class="notice notice-error" role="alert">
                    {format!(
                        "{} addresses were not added: storing them failed. \
                         Someone who manages the settings can try again from the Outbox page.",
                        grouped(unstored)
                    )}
                </p>
            })}
            <p class="hint">"You can leave this page: sending goes on in the background."</p>
            <p><a class="button-link" href="/users/invite">"✈ Send more invites"</a></p>
        </section>
        // A sheet's rows say, each, whether and why it was not invited.
        {sheet.is_none().then(|| view! {
        <section class="card" aria-labelledby="not-invited-heading">
            <h2 id="not-invited-heading">{format!("Not invited: {}", grouped(not_invited_total as i64))}</h2>
            {if not_invited.is_empty() {
                view! { <p>"Every address was invited."</p> }.into_any()
            } else {
                view! { <EntryList entries=not_invited total=not_invited_total/> }.into_any()
            }}
        </section>
        })}
    }
}

/// The batch's invitation emails that failed for good, each to fix and send again.
#[component]
fn FailedDeliveries(batch: Resource<Result<BatchProgress, AppError>>, reload: Callback<()>) -> impl IntoView {
    let failures = move || batch.get().and_then(Result::ok).map(|p| p.failures).unwrap_or_default();
    // The server lists the first SHOWN_ENTRIES.
    let heading = move || match failures().len() {
        SHOWN_ENTRIES => format!("Delivery failed: {SHOWN_ENTRIES} or more (the first {SHOWN_ENTRIES} are listed)"),
        n => format!("Delivery failed: {n}"),
    };
    view! {
        <Show when=move || !failures().is_empty()>
            <section class="card" aria-labelledby="failed-heading">
                <h2 id="failed-heading">{heading}</h2>
                <p class="hint">"Correct an address and send again, or send it as it is once the mail server can take it."</p>
                <ul class="problems">
                    <For each=failures key=|f| f.invitation let:failure>
                        <FailedDeliveryRow failure reload/>
                    </For>
                </ul>
            </section>
        </Show>
    }
}

/// One failed invitation email, with its reason and a form to fix the address and send again.
#[component]
fn FailedDeliveryRow(failure: FailedDelivery, reload: Callback<()>) -> impl IntoView {
    let fix = ServerAction::<FixInvitation>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = fix.value().get() {
            reload.run(());
        }
    });
    let FailedDelivery { invitation, email, reason } = failure;
    let (input_id, error_id) = (format!("fix-{invitation}"), format!("fix-{invitation}-error"));
    let described_by = error_id.clone();
    let why = reason.unwrap_or_else(|| "the mail server refused it".into());
    view! {
        <li>
            <p><span>{email.clone()}</span> " " <span class="why">{format!("— Delivery failed: {why}")}</span></p>
            <FormError error=action_error(fix)/>
            <ActionForm action=fix attr:class="inline-form">
                <input type="hidden" name="invitation" value=invitation.to_string()/>
                <label for=input_id.clone()>{format!("Address for {email}")}</label>
                // Not type=email: browsers refuse international local parts, which may be right.
                <input id=input_id name="email" value=email.clone() inputmode="email" autocomplete="off" required
                    spellcheck="false" aria-describedby=described_by/>
                <button type="submit" class="button-quiet" disabled=move || fix.pending().get()>"✈ Fix and resend"</button>
            </ActionForm>
            <FieldError id=error_id message=field_error(fix, "email")/>
        </li>
    }
}
