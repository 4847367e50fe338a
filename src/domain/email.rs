use serde::{Deserialize, Serialize};
use std::fmt;

/// An email address that passed validation; always trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EmailAddress(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an email address.")]
    Empty,
    #[error("That email address is too long.")]
    TooLong,
    #[error("“{0}” is not a valid email address.")]
    Invalid(String),
}

/// RFC 5321 limits a forward path to 254 characters.
const MAX_LEN: usize = 254;

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let lower = trimmed.to_lowercase();
        // A domain without a dot ("a@b") is legal in RFC 5322 but never a mailbox people are invited from.
        let has_dotted_domain =
            lower.rsplit_once('@').is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
        if !has_dotted_domain || !email_address::EmailAddress::is_valid(&lower) {
            return Err(EmailError::Invalid(trimmed.to_string()));
        }
        Ok(Self(lower))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        let e = EmailAddress::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn malformed_addresses_are_refused_with_the_reason() {
        assert_eq!(EmailAddress::parse("   "), Err(EmailError::Empty));
        assert!(matches!(EmailAddress::parse("ada@"), Err(EmailError::Invalid(_))));
        assert!(matches!(EmailAddress::parse("ada@localhost"), Err(EmailError::Invalid(_))));
        assert!(matches!(EmailAddress::parse("<script>@x.com"), Err(EmailError::Invalid(_))));
        let long = format!("{}@example.com", "a".repeat(300));
        assert_eq!(EmailAddress::parse(&long), Err(EmailError::TooLong));
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_accepted_addresses_are_canonical(s in "\\PC{0,80}") {
            if let Ok(e) = EmailAddress::parse(&s) {
                prop_assert_eq!(e.as_str(), e.as_str().to_lowercase());
                prop_assert_eq!(EmailAddress::parse(e.as_str()), Ok(e.clone()));
            }
        }
    }
}
