//! Settings › Organization › Reminders: whether and when pending invitees are reminded, over
//! which channel, and how many reminders may go out per minute.

use crate::api::settings::UpdateReminderSettings;
use crate::components::{action_error, field_error, FieldError, FormError};
use crate::domain::reminders::{ReminderChannel, ReminderSettings, MAX_PER_MINUTE, MAX_REMINDER_DAYS};
use leptos::prelude::*;

#[component]
pub fn RemindersSection(settings: ReminderSettings, save: ServerAction<UpdateReminderSettings>) -> impl IntoView {
    let after_error = field_error(save, "after_days");
    let before_error = field_error(save, "before_expiry_days");
    let channel_error = field_error(save, "channel");
    let rate_error = field_error(save, "per_minute");
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let max_days = MAX_REMINDER_DAYS.to_string();
    view! {
        <section class="card" aria-labelledby="reminders-heading">
            <h2 id="reminders-heading">"Reminders"</h2>
            <p class="hint">
                "People who have not registered yet get a reminder with a fresh link; the links of earlier emails keep working. "
                "Reminders stop once someone registers or their invitation is revoked or expires; an invitation sent again "
                "starts its own reminders. Turning reminders on also reminds, at the rate below, everyone whose reminder "
                "time has already passed."
            </p>
            <FormError error=action_error(save)/>
            <ActionForm action=save>
                <div class="field field-check">
                    <input id="reminders-on" name="enabled" type="checkbox" checked=settings.enabled/>
                    <label for="reminders-on">"Remind people who have not registered"</label>
                </div>
                <div class="field">
                    <label for="remind-after">"Days after the invitation"</label>
                    <input id="remind-after" name="after_days" type="number" inputmode="numeric" min="0" max=max_days.clone()
                        value=settings.after_days.to_string() required aria-describedby="remind-after-hint remind-after-error"/>
                    <p class="hint" id="remind-after-hint">"0 sends no reminder then."</p>
                    <FieldError id="remind-after-error" message=after_error/>
                </div>
                <div class="field">
                    <label for="remind-before">"Days before the invitation expires"</label>
                    <input id="remind-before" name="before_expiry_days" type="number" inputmode="numeric" min="0" max=max_days
                        value=settings.before_expiry_days.to_string() required aria-describedby="remind-before-hint remind-before-error"/>
                    <p class="hint" id="remind-before-hint">"0 sends no reminder then. Only reminders that fall before the link expires are sent."</p>
                    <FieldError id="remind-before-error" message=before_error/>
                </div>
                <div class="field">
                    <label for="remind-channel">"Send reminders by"</label>
                    <select id="remind-channel" name="channel" aria-describedby="remind-channel-error">
                        {ReminderChannel::ALL
                            .into_iter()
                            .map(|c| view! { <option value=c.key() selected=c == settings.channel>{c.label()}</option> })
                            .collect_view()}
                    </select>
                    <FieldError id="remind-channel-error" message=channel_error/>
                </div>
                <div class="field">
                    <label for="remind-rate">"At most this many reminders per minute"</label>
                    <input id="remind-rate" name="per_minute" type="number" inputmode="numeric" min="1" max=MAX_PER_MINUTE.to_string()
                        value=settings.per_minute.to_string() required aria-describedby="remind-rate-hint remind-rate-error"/>
                    <p class="hint" id="remind-rate-hint">"For the whole organization, however many Onboard servers share the database. The rest wait for the next minute."</p>
                    <FieldError id="remind-rate-error" message=rate_error/>
                </div>
                <button type="submit" class="button-primary">"Save reminders"</button>
                <Show when=saved>
                    <span class="saved" role="status">"Saved."</span>
                </Show>
            </ActionForm>
        </section>
    }
}
