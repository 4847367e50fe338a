//! Validation of organization settings, shared so the form can say what is wrong before sending.

pub const MIN_INVITE_DAYS: i64 = 1;
pub const MAX_INVITE_DAYS: i64 = 90;
pub const DEFAULT_INVITE_DAYS: i64 = 7;
pub const MAX_NAME_LEN: usize = 100;
pub const MAX_EULA_LEN: usize = 100_000;

/// A trimmed, non-empty display name (organization, service area, role, sender).
pub fn name(raw: &str, what: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(format!("Enter a {what}."));
    }
    if trimmed.chars().count() > MAX_NAME_LEN {
        return Err(format!("The {what} must be at most {MAX_NAME_LEN} characters."));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!("The {what} cannot contain control characters."));
    }
    Ok(trimmed.to_string())
}

pub fn invite_days(raw: &str) -> Result<i64, String> {
    match raw.trim().parse::<i64>() {
        Ok(days) if (MIN_INVITE_DAYS..=MAX_INVITE_DAYS).contains(&days) => Ok(days),
        _ => Err(format!("Enter a whole number of days from {MIN_INVITE_DAYS} to {MAX_INVITE_DAYS}.")),
    }
}

pub fn eula_text(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("Enter the text of the agreement.".into());
    }
    if trimmed.len() > MAX_EULA_LEN {
        return Err(format!("The agreement must be at most {MAX_EULA_LEN} characters."));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_lifetime_must_be_a_sensible_number_of_days() {
        assert_eq!(invite_days(" 7 "), Ok(7));
        assert!(invite_days("0").is_err());
        assert!(invite_days("91").is_err());
        assert!(invite_days("seven").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("  Sales ", "service area name"), Ok("Sales".into()));
        assert!(name("   ", "service area name").is_err());
        assert!(name(&"x".repeat(101), "role name").is_err());
        assert!(name("a\u{0}b", "role name").is_err());
    }
}
