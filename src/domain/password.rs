//! The password rule, shown to people as they type and enforced by the server.

pub const MIN_LEN: usize = 12;
/// Argon2 happily hashes megabytes; a cap keeps a hostile request cheap.
pub const MAX_LEN: usize = 256;

/// Why a password is refused, worded for the person choosing it.
pub fn check(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err("Use at least 12 characters.");
    }
    if chars > MAX_LEN {
        return Err("Use at most 256 characters.");
    }
    let distinct = password.chars().collect::<std::collections::BTreeSet<_>>().len();
    if distinct < 5 {
        return Err("Use a mix of characters, not the same few repeated.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_repetitive_and_huge_passwords_are_refused() {
        assert!(check("short").is_err());
        assert!(check("aaaaaaaaaaaaaaaa").is_err());
        assert!(check(&"ab1!x".repeat(60)).is_err());
        assert!(check("correct horse battery").is_ok());
    }
}
