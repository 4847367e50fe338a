//! The domain: its rules and its vocabulary (keyed enums, the rows lists show), compiled for both
//! the server and the browser. The rules are pure; on the server the vocabulary also knows its
//! database columns (`FromRow`, `columns`), so the database layer needs nothing above it.

#[macro_use]
mod keyed;

pub mod chat_users;
#[cfg(feature = "ssr")]
pub mod columns;
pub mod connectors;
pub mod email;
pub mod email_list;
pub mod events;
pub mod funnel;
pub mod import;
pub mod invites;
pub mod members;
pub mod membership;
pub mod message;
pub mod onboarding;
pub mod outbox;
pub mod password;
pub mod permissions;
pub mod provisioning;
pub mod query;
pub mod reminders;
pub mod second_factor;
pub mod settings;
pub mod spreadsheet;
pub mod time;

pub use email::{AddressProblem, EmailAddress, EmailError};
pub use membership::MembershipStatus;
pub use permissions::{Permission, PermissionSet};

/// 1234567 as "1,234,567".
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_grouped_by_thousands() {
        let shown: Vec<String> = [0, 999, 1_000, 100_001, -1_234_567].into_iter().map(super::grouped).collect();
        assert_eq!(shown, ["0", "999", "1,000", "100,001", "-1,234,567"]);
    }
}
