//! The onboarding funnel: the steps from an invitation to an Active membership, counted for the
//! whole organization, one invitation batch, one service area or one team, with the conversion
//! from each step to the next and the median time it took.

use super::time::{DAY_MS, HOUR_MS, MINUTE_MS};
use serde::{Deserialize, Serialize};

keyed_enum! {
    /// A step of the funnel, in order. Someone who reached a step counts as having reached every
    /// earlier one, including a step their organization skips (no second factor required, no
    /// agreement published) and one recorded before the funnel was (members who registered
    /// earlier).
    pub enum FunnelStep {
        Invited = "invited",
        Delivered = "delivered",
        LinkOpened = "link-opened",
        DetailsEntered = "details-entered",
        SecondFactorSet = "second-factor-set",
        AgreementAccepted = "agreement-accepted",
        Active = "active",
    }
}

impl FunnelStep {
    pub fn label(self) -> &'static str {
        match self {
            Self::Invited => "Invited",
            Self::Delivered => "Delivered",
            Self::LinkOpened => "Link opened",
            Self::DetailsEntered => "Details entered",
            Self::SecondFactorSet => "Second factor set",
            Self::AgreementAccepted => "Agreement accepted",
            Self::Active => "Active",
        }
    }
}

/// An open of the invitation link this soon after the email carrying it was sent may be a mail
/// scanner (Microsoft Defender Safe Links, Mimecast and the like fetch links on arrival): such
/// opens are counted apart, and the link counts as opened only once the person goes on.
pub const SCANNER_WINDOW_MS: i64 = 30_000;

/// Whether an open of the invitation link may be a mail scanner's rather than the person's: a
/// HEAD request (a browser never sends one for a tapped link), or a GET within
/// [`SCANNER_WINDOW_MS`] of the latest email carrying the link. `last_sent_at` (ms since the
/// epoch) is none while no email is recorded as sent: the open is then racing the delivery.
pub fn possible_scanner(head: bool, last_sent_at: Option<i64>, now: i64) -> bool {
    head || last_sent_at.is_none_or(|sent| now - sent < SCANNER_WINDOW_MS)
}

/// Whose funnel: the whole organization, or the members of one batch, service area or team
/// (by id). Travels in the address as `scope=batch:12`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FunnelScope {
    #[default]
    Organization,
    Batch(i64),
    ServiceArea(i64),
    Team(i64),
}

impl FunnelScope {
    /// `organization`, `batch:<id>`, `area:<id>` or `team:<id>`; anything else is the organization.
    pub fn parse(raw: &str) -> Self {
        let Some((kind, id)) = raw.split_once(':') else {
            return Self::Organization;
        };
        match (kind, id.parse::<i64>()) {
            ("batch", Ok(id)) => Self::Batch(id),
            ("area", Ok(id)) => Self::ServiceArea(id),
            ("team", Ok(id)) => Self::Team(id),
            _ => Self::Organization,
        }
    }

    /// The inverse of [`parse`](Self::parse).
    pub fn key(self) -> String {
        match self {
            Self::Organization => "organization".into(),
            Self::Batch(id) => format!("batch:{id}"),
            Self::ServiceArea(id) => format!("area:{id}"),
            Self::Team(id) => format!("team:{id}"),
        }
    }

    /// The batch, service area or team id; none for the organization.
    pub fn id(self) -> Option<i64> {
        match self {
            Self::Organization => None,
            Self::Batch(id) | Self::ServiceArea(id) | Self::Team(id) => Some(id),
        }
    }

    /// A file name for the scope's export: `onboarding-funnel-team-4.csv`.
    pub fn file_name(self) -> String {
        format!("onboarding-funnel-{}.csv", self.key().replace(':', "-"))
    }
}

/// One step as counted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunnelStage {
    pub step: FunnelStep,
    /// How many reached it.
    pub reached: i64,
    /// The median time from the previous step they reached to this one, in ms, over those
    /// whose both times are recorded; none for Invited, or when no time is recorded.
    pub median_ms: Option<i64>,
}

/// A scope's funnel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    pub scope: FunnelScope,
    /// "Whole organization", "Team Night shift", …
    pub scope_label: String,
    /// Every [`FunnelStep`], in order.
    pub stages: Vec<FunnelStage>,
    /// Delivered, not counted as Link opened: their link was opened only in ways a mail scanner
    /// opens links (see [`possible_scanner`]).
    pub possible_scanners: i64,
    /// Active members who accepted an earlier version of the agreement and were asked to
    /// accept the current one again, which they have not yet.
    pub agreement_pending: i64,
    /// What else the funnel can be shown for.
    pub choices: Vec<ScopeChoice>,
}

/// A scope the funnel can be shown for, grouped as the picker shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScopeChoice {
    pub scope: FunnelScope,
    pub label: String,
}

impl Funnel {
    /// The share of the previous step's people who reached step `i`, in percent; none for
    /// Invited or when the previous step reached nobody.
    pub fn conversion_percent(&self, i: usize) -> Option<f64> {
        let previous = self.stages.get(i.checked_sub(1)?)?;
        let stage = self.stages.get(i)?;
        (previous.reached > 0).then(|| stage.reached as f64 * 100.0 / previous.reached as f64)
    }

    /// [`conversion_percent`](Self::conversion_percent) as people read it: "84.2%", or "—".
    pub fn conversion(&self, i: usize) -> String {
        self.conversion_percent(i).map_or_else(|| "—".into(), |p| format!("{p:.1}%"))
    }

    /// How many were invited: the funnel's width.
    pub fn invited(&self) -> i64 {
        self.stages.first().map_or(0, |s| s.reached)
    }

    /// `reached`'s share of the invited, in percent (0 to 100), as a bar draws it.
    pub fn share(&self, reached: i64) -> f64 {
        match self.invited() {
            0 => 0.0,
            invited => (reached as f64 * 100.0 / invited as f64).clamp(0.0, 100.0),
        }
    }
}

/// A duration for people: "40 s", "12 min", "3 h 5 min", "2 days 4 h".
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        _ if ms < MINUTE_MS => format!("{} s", ms / 1000),
        _ if ms < HOUR_MS => format!("{} min", ms / MINUTE_MS),
        _ if ms < DAY_MS => match (ms / HOUR_MS, ms % HOUR_MS / MINUTE_MS) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        },
        _ => match (ms / DAY_MS, ms % DAY_MS / HOUR_MS) {
            (1, 0) => "1 day".into(),
            (1, h) => format!("1 day {h} h"),
            (d, 0) => format!("{d} days"),
            (d, h) => format!("{d} days {h} h"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn funnel(reached: [i64; 7]) -> Funnel {
        Funnel {
            scope: FunnelScope::Organization,
            scope_label: "Whole organization".into(),
            stages: FunnelStep::ALL
                .iter()
                .zip(reached)
                .map(|(&step, reached)| FunnelStage { step, reached, median_ms: None })
                .collect(),
            possible_scanners: 0,
            agreement_pending: 0,
            choices: Vec::new(),
        }
    }

    #[test]
    fn conversion_is_from_the_previous_step() {
        let f = funnel([1000, 950, 500, 0, 0, 0, 0]);
        assert_eq!(f.conversion(0), "—");
        assert_eq!(f.conversion(1), "95.0%");
        assert_eq!(f.conversion(2), "52.6%");
        assert_eq!(f.conversion(3), "0.0%");
        assert_eq!(f.conversion(4), "—", "nobody reached the step before");
        assert_eq!(f.share(500), 50.0);
        assert_eq!(funnel([0; 7]).share(0), 0.0);
    }

    #[test]
    fn scopes_travel_in_the_address_and_back() {
        for scope in
            [FunnelScope::Organization, FunnelScope::Batch(12), FunnelScope::ServiceArea(3), FunnelScope::Team(9)]
        {
            assert_eq!(FunnelScope::parse(&scope.key()), scope);
        }
        assert_eq!(FunnelScope::parse("team:x"), FunnelScope::Organization);
        assert_eq!(FunnelScope::parse("group:4"), FunnelScope::Organization);
        assert_eq!(FunnelScope::Team(4).file_name(), "onboarding-funnel-team-4.csv");
    }

    #[test]
    fn opens_soon_after_the_email_or_by_head_may_be_scanners() {
        let sent = 1_000_000;
        assert!(possible_scanner(true, Some(sent), sent + DAY_MS), "a HEAD is never a tapped link");
        assert!(possible_scanner(false, Some(sent), sent + 2_000));
        assert!(possible_scanner(false, None, sent), "no email recorded as sent yet");
        assert!(!possible_scanner(false, Some(sent), sent + SCANNER_WINDOW_MS));
    }

    #[test]
    fn durations_read_as_people_say_them() {
        let shown: Vec<String> =
            [40_000, 12 * MINUTE_MS, 3 * HOUR_MS, 3 * HOUR_MS + 5 * MINUTE_MS, DAY_MS, 2 * DAY_MS + 4 * HOUR_MS, -5]
                .into_iter()
                .map(duration)
                .collect();
        assert_eq!(shown, ["40 s", "12 min", "3 h", "3 h 5 min", "1 day", "2 days 4 h", "0 s"]);
    }
}
