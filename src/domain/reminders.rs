//! Automatic reminders to invitees who have not registered: an organization's settings for
//! them, when each falls due, and how a pending invitation reads in the users list.
//!
//! A reminder is due at each point of the schedule: some days after the invitation was sent,
//! and some days before it expires. Only points strictly inside the invitation's life count,
//! so a short-lived invitation gets fewer reminders rather than one after it expired.

use super::time::{DAY_MS, HOUR_MS};
use serde::{Deserialize, Serialize};

/// The most days either point of the schedule may be set to: the longest invitation lifetime.
pub const MAX_REMINDER_DAYS: i64 = super::settings::MAX_INVITE_DAYS;
pub const DEFAULT_PER_MINUTE: i64 = 600;
pub const MAX_PER_MINUTE: i64 = 10_000;

keyed_enum! {
    /// How reminders travel.
    pub enum ReminderChannel {
        /// Always by email, to the address the person was invited at.
        Email = "email",
        /// Slack or Microsoft Teams where the person is mapped and the provider is set up; email otherwise.
        Chat = "chat",
    }
}

impl ReminderChannel {
    /// The chat identities (Slack, Teams) a reminder may use under this setting: none by email.
    pub fn usable_identities<'a>(
        self,
        slack: Option<&'a str>,
        teams: Option<&'a str>,
    ) -> (Option<&'a str>, Option<&'a str>) {
        match self {
            Self::Email => (None, None),
            Self::Chat => (slack, teams),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "Email",
            Self::Chat => "Slack or Microsoft Teams where the person is mapped, else email",
        }
    }
}

/// An organization's reminder settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderSettings {
    pub enabled: bool,
    /// Days after the invitation was sent; 0 for no reminder then.
    pub after_days: i64,
    /// Days before the invitation expires; 0 for no reminder then.
    pub before_expiry_days: i64,
    pub channel: ReminderChannel,
    /// The most reminders the organization sends in one minute, across all instances.
    pub per_minute: i64,
}

impl Default for ReminderSettings {
    /// Off until an admin turns them on; when on, 3 days after the invitation and 1 day before it expires.
    fn default() -> Self {
        Self {
            enabled: false,
            after_days: 3,
            before_expiry_days: 1,
            channel: ReminderChannel::Email,
            per_minute: DEFAULT_PER_MINUTE,
        }
    }
}

impl ReminderSettings {
    /// The schedule's points for an invitation sent at `invited_at` that expires at `expires_at`
    /// (milliseconds since the Unix epoch), in order; only those strictly inside its life.
    pub fn points(&self, invited_at: i64, expires_at: i64) -> Vec<i64> {
        if !self.enabled {
            return Vec::new();
        }
        let mut points: Vec<i64> = [
            (self.after_days > 0).then(|| invited_at + self.after_days * DAY_MS),
            (self.before_expiry_days > 0).then(|| expires_at - self.before_expiry_days * DAY_MS),
        ]
        .into_iter()
        .flatten()
        .filter(|&at| at > invited_at && at < expires_at)
        .collect();
        points.sort_unstable();
        points.dedup();
        points
    }

    /// When the next reminder falls due: the first point after `since` (the invitation's
    /// sending, or its last reminder); `None` when no point is left.
    pub fn next_after(&self, invited_at: i64, expires_at: i64, since: i64) -> Option<i64> {
        self.points(invited_at, expires_at).into_iter().find(|&at| at > since)
    }
}

/// Checks the reminder settings as the form sends them: `enabled` is a ticked checkbox, days are
/// whole numbers from 0 to [`MAX_REMINDER_DAYS`], the rate from 1 to [`MAX_PER_MINUTE`]. When
/// on, a point set as many days as invitations live, or more, would never be reached and is
/// refused. Each error names its field.
pub fn parse_settings(
    enabled: bool,
    after_days: &str,
    before_expiry_days: &str,
    channel: &str,
    per_minute: &str,
    invite_lifetime_days: i64,
) -> Result<ReminderSettings, (&'static str, String)> {
    let days = |raw: &str, field: &'static str| match raw.trim().parse::<i64>() {
        Ok(days) if (0..=MAX_REMINDER_DAYS).contains(&days) => Ok(days),
        _ => Err((field, format!("Enter a whole number of days from 0 to {MAX_REMINDER_DAYS}; 0 sends none then."))),
    };
    let after_days = days(after_days, "after_days")?;
    let before_expiry_days = days(before_expiry_days, "before_expiry_days")?;
    if enabled && after_days == 0 && before_expiry_days == 0 {
        return Err((
            "after_days",
            "With both days at 0 no reminder would ever go out: set one of them, or turn reminders off.".into(),
        ));
    }
    let unreachable = |days: i64, field: &'static str, when: &str| {
        if enabled && days >= invite_lifetime_days {
            Err((
                field,
                format!(
                    "Invitations stay valid for {invite_lifetime_days} days, so a reminder {days} days {when} would never go out: choose fewer days, or 0."
                ),
            ))
        } else {
            Ok(())
        }
    };
    unreachable(after_days, "after_days", "after the invitation")?;
    unreachable(before_expiry_days, "before_expiry_days", "before it expires")?;
    let channel = ReminderChannel::parse(channel.trim())
        .ok_or(("channel", "Choose email, or chat with email as the fallback.".to_string()))?;
    let per_minute = match per_minute.trim().parse::<i64>() {
        Ok(n) if (1..=MAX_PER_MINUTE).contains(&n) => n,
        _ => {
            return Err((
                "per_minute",
                format!("Enter how many reminders may go out per minute, a whole number from 1 to {MAX_PER_MINUTE}."),
            ))
        }
    };
    Ok(ReminderSettings { enabled, after_days, before_expiry_days, channel, per_minute })
}

/// How a pending invitation reads in the users list: "Reminded 2× · expires in 1 day".
pub fn standing(reminders_sent: i64, expires_at: i64, now: i64) -> String {
    let left = expires_at - now;
    let expiry = if left <= 0 {
        "expired".to_string()
    } else if left < HOUR_MS {
        "expires within the hour".to_string()
    } else if left < DAY_MS {
        let hours = left / HOUR_MS;
        format!("expires in {hours} hour{}", if hours == 1 { "" } else { "s" })
    } else {
        let days = left / DAY_MS;
        format!("expires in {days} day{}", if days == 1 { "" } else { "s" })
    };
    match reminders_sent {
        0 => capitalized(&expiry),
        n => format!("Reminded {n}× · {expiry}"),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(after_days: i64, before_expiry_days: i64) -> ReminderSettings {
        ReminderSettings { enabled: true, after_days, before_expiry_days, ..Default::default() }
    }

    #[test]
    fn reminders_fall_after_the_invitation_and_before_it_expires() {
        let (sent, expires) = (1_000, 1_000 + 7 * DAY_MS);
        let s = on(3, 1);
        assert_eq!(s.points(sent, expires), vec![sent + 3 * DAY_MS, expires - DAY_MS]);
        assert_eq!(s.next_after(sent, expires, sent), Some(sent + 3 * DAY_MS));
        assert_eq!(s.next_after(sent, expires, sent + 3 * DAY_MS), Some(expires - DAY_MS));
        assert_eq!(s.next_after(sent, expires, expires - DAY_MS), None);
        // A reminder sent late (the sweep was down) still leaves the next point in place.
        assert_eq!(s.next_after(sent, expires, sent + 4 * DAY_MS), Some(expires - DAY_MS));
    }

    #[test]
    fn only_points_inside_the_invitations_life_count() {
        let (sent, expires) = (0, 3 * DAY_MS);
        assert_eq!(on(3, 1).points(sent, expires), vec![2 * DAY_MS]);
        assert_eq!(on(5, 5).points(sent, expires), Vec::<i64>::new());
        // Both points on the same moment are one reminder.
        assert_eq!(on(2, 1).points(sent, expires), vec![2 * DAY_MS]);
        assert_eq!(on(0, 1).points(sent, expires), vec![2 * DAY_MS]);
        assert_eq!(ReminderSettings { enabled: false, ..on(1, 1) }.points(sent, expires), Vec::<i64>::new());
    }

    #[test]
    fn settings_name_the_field_that_is_wrong() {
        let parse = |enabled, after, before, channel, rate| parse_settings(enabled, after, before, channel, rate, 7);
        let chat = ReminderSettings { channel: ReminderChannel::Chat, ..on(3, 1) };
        assert_eq!(parse(true, " 3 ", "1", "chat", "600"), Ok(chat));
        assert_eq!(parse(true, "x", "1", "email", "600").unwrap_err().0, "after_days");
        assert_eq!(parse(true, "3", "91", "email", "600").unwrap_err().0, "before_expiry_days");
        assert_eq!(parse(true, "0", "0", "email", "600").unwrap_err().0, "after_days");
        assert!(parse(false, "0", "0", "email", "600").is_ok());
        assert_eq!(parse(true, "3", "1", "sms", "600").unwrap_err().0, "channel");
        assert_eq!(parse(true, "3", "1", "email", "0").unwrap_err().0, "per_minute");
        // Invitations live 7 days: a reminder 7 days after one, or 8 before expiry, never goes out.
        let (field, reason) = parse(true, "7", "1", "email", "600").unwrap_err();
        assert_eq!(field, "after_days");
        assert!(reason.contains("valid for 7 days"), "{reason}");
        assert_eq!(parse(true, "3", "8", "email", "600").unwrap_err().0, "before_expiry_days");
        assert!(parse(false, "7", "8", "email", "600").is_ok(), "kept as typed while off");
    }

    #[test]
    fn a_pending_invitation_says_how_often_it_was_reminded_and_when_it_expires() {
        let now = 0;
        assert_eq!(standing(2, now + DAY_MS + HOUR_MS, now), "Reminded 2× · expires in 1 day");
        assert_eq!(standing(0, now + 3 * DAY_MS, now), "Expires in 3 days");
        assert_eq!(standing(1, now + 5 * HOUR_MS, now), "Reminded 1× · expires in 5 hours");
        assert_eq!(standing(0, now + 60_000, now), "Expires within the hour");
        assert_eq!(standing(3, now, now), "Reminded 3× · expired");
    }
}
