//! Rules for cells Onboard writes into files people open in a spreadsheet.

use std::borrow::Cow;

/// A text cell that a spreadsheet shows as text, never runs as a formula ("CSV injection"):
/// one starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, as
/// OWASP's CSV Injection guidance advises. A user agent or a name is typed by whoever sent it,
/// so every text cell of an export passes through here; numbers and dates are written as they are.
pub fn text_cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_would_run_as_a_formula_is_kept_as_text() {
        assert_eq!(text_cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(text_cell("+1 555"), "'+1 555");
        assert_eq!(text_cell("-2+3"), "'-2+3");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("\tx"), "'\tx");
        assert_eq!(text_cell("\rx"), "'\rx");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        assert!(matches!(text_cell("Mozilla/5.0 (X11)"), Cow::Borrowed(_)));
        assert_eq!(text_cell("ada@example.com"), "ada@example.com");
        assert_eq!(text_cell(""), "");
    }
}
