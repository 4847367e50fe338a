//! What can become of each address on the Invite users page.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InviteClass {
    New,
    Invalid,
    DuplicateInList,
    /// Any membership in this organization (any service area, any status but Expired).
    AlreadyMember,
    AlreadyPending,
}

impl InviteClass {
    pub fn label(self) -> &'static str {
        match self {
            Self::New => "New",
            Self::Invalid => "Invalid",
            Self::DuplicateInList => "Duplicate in this list",
            Self::AlreadyMember => "Already a member",
            Self::AlreadyPending => "Already invited, pending",
        }
    }
}

/// One pasted entry and its class, as the page and the confirmation show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassifiedEntry {
    pub raw: String,
    pub class: InviteClass,
    /// Why, in words, when the class alone does not say (an invalid address's problem).
    pub detail: Option<String>,
}

/// The entries a page lists by name; beyond these it says how many more.
pub const SHOWN_ENTRIES: usize = 500;

/// The classes in the order the Invite users page lists them.
pub const CLASS_ORDER: [InviteClass; 5] = [
    InviteClass::New,
    InviteClass::Invalid,
    InviteClass::DuplicateInList,
    InviteClass::AlreadyMember,
    InviteClass::AlreadyPending,
];

/// What the server makes of a paste, sized for a batch of 100,000: a count per class and the
/// entries that will not be invited, listed up to [`SHOWN_ENTRIES`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasteCheck {
    /// How many entries fall in each class, in [`CLASS_ORDER`]; classes with none are left out.
    pub counts: Vec<(InviteClass, usize)>,
    /// The first entries that will not be invited, in the order pasted, with why.
    pub not_invited: Vec<ClassifiedEntry>,
    /// How many entries will not be invited in all.
    pub not_invited_total: usize,
}

impl PasteCheck {
    pub fn of(entries: &[ClassifiedEntry]) -> Self {
        let counts = CLASS_ORDER
            .into_iter()
            .map(|class| (class, entries.iter().filter(|e| e.class == class).count()))
            .filter(|(_, n)| *n > 0)
            .collect();
        let not_invited = || entries.iter().filter(|e| e.class != InviteClass::New);
        Self {
            counts,
            not_invited: not_invited().take(SHOWN_ENTRIES).cloned().collect(),
            not_invited_total: not_invited().count(),
        }
    }

    /// Addresses read as valid, each counted once: every class but Invalid and DuplicateInList.
    pub fn recognised(&self) -> usize {
        self.counts
            .iter()
            .filter(|(class, _)| !matches!(class, InviteClass::Invalid | InviteClass::DuplicateInList))
            .map(|(_, n)| n)
            .sum()
    }
}

/// One-time codes: six digits, ten minutes, five tries.
pub const CODE_LIFETIME_MS: i64 = 10 * 60_000;
pub const CODE_MAX_ATTEMPTS: i64 = 5;
/// A new code may be sent this often, and this many an hour.
pub const CODE_RESEND_GAP_MS: i64 = 30_000;
pub const CODES_PER_HOUR: i64 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize, class: InviteClass) -> ClassifiedEntry {
        ClassifiedEntry { raw: format!("a{n}@example.com"), class, detail: None }
    }

    #[test]
    fn a_check_counts_every_entry_and_lists_the_first_not_invited() {
        let classes = [InviteClass::New, InviteClass::AlreadyMember, InviteClass::Invalid, InviteClass::New];
        let entries: Vec<_> = (0..2_000).map(|n| entry(n, classes[n % 4])).collect();
        let check = PasteCheck::of(&entries);
        assert_eq!(
            check.counts,
            [(InviteClass::New, 1_000), (InviteClass::Invalid, 500), (InviteClass::AlreadyMember, 500)]
        );
        assert_eq!((check.not_invited.len(), check.not_invited_total), (SHOWN_ENTRIES, 1_000));
        assert_eq!(check.not_invited[0].raw, "a1@example.com");
        assert_eq!(check.recognised(), 1_500);
        assert_eq!(PasteCheck::of(&[]), PasteCheck::default());
    }
}

/// An invitation email that failed for good: a refused address, or one the mail server cannot take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct FailedDelivery {
    pub invitation: i64,
    pub email: String,
    /// The mail server's or the transport's reason; never a secret.
    pub reason: Option<String>,
}
