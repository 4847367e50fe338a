//! The pasted list of addresses on the Invite users page. The browser's live count and the
//! server's batch run this same parser. Only the server applies IDNA to international domains
//! (see `email::international_domain`); the page then shows the server's count.

use super::email::is_separator;
use super::{EmailAddress, EmailError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The most addresses one batch may hold.
pub const MAX_BATCH: usize = 100_000;
/// The most entries a paste is read for, whatever they hold: a paste of a batch with room for
/// as many mistakes and repeats. Beyond it reading stops and the paste is refused whole.
pub const MAX_ENTRIES: usize = 2 * MAX_BATCH;
/// Text longer than this is shortened when echoed back in a report.
const MAX_ECHO: usize = 120;

/// One recognised piece of the paste and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasteEntry {
    /// What was pasted for this entry, trimmed (and shortened when very long).
    pub raw: String,
    /// The display name from `Name <address>`, if any.
    pub name: Option<String>,
    pub outcome: PasteOutcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PasteOutcome {
    /// A valid address, first time in this list.
    Valid(EmailAddress),
    Invalid(String),
    /// The same address (ignoring case) appeared earlier in this list.
    DuplicateInList(EmailAddress),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasteReport {
    pub entries: Vec<PasteEntry>,
    /// The paste holds more than [`MAX_ENTRIES`] entries; `entries` has the first of them.
    pub overflowed: bool,
}

impl PasteReport {
    pub fn valid(&self) -> impl Iterator<Item = (&EmailAddress, Option<&str>)> {
        self.entries.iter().filter_map(|e| match &e.outcome {
            PasteOutcome::Valid(address) => Some((address, e.name.as_deref())),
            _ => None,
        })
    }

    pub fn valid_count(&self) -> usize {
        self.valid().count()
    }

    pub fn invalid_count(&self) -> usize {
        self.entries.iter().filter(|e| matches!(e.outcome, PasteOutcome::Invalid(_))).count()
    }

    pub fn duplicate_count(&self) -> usize {
        self.entries.iter().filter(|e| matches!(e.outcome, PasteOutcome::DuplicateInList(_))).count()
    }
}

/// Splits a paste into entries: one per line, or separated by commas or semicolons, also
/// `Name <address>` and `"Last, First" <address>` as mail clients copy them. Blank pieces
/// are skipped; whitespace between bare addresses separates them too.
pub fn parse_paste(text: &str) -> PasteReport {
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for piece in split_pieces(text) {
        for (raw, name, candidate) in candidates(piece) {
            if entries.len() == MAX_ENTRIES {
                return PasteReport { entries, overflowed: true };
            }
            let outcome = match EmailAddress::parse(candidate) {
                Ok(address) if seen.insert(address.clone()) => PasteOutcome::Valid(address),
                Ok(address) => PasteOutcome::DuplicateInList(address),
                // The reason quotes the whole entry as pasted, which may hold more than the address.
                Err(e) => {
                    let what = match e {
                        EmailError::Empty => "holds no address".to_string(),
                        EmailError::TooLong => "is too long for an email address".to_string(),
                        EmailError::Invalid { problem, .. } => format!("is not a valid email address: {problem}"),
                    };
                    PasteOutcome::Invalid(format!("“{}” {what}.", echo(raw)))
                }
            };
            entries.push(PasteEntry { raw: echo(raw), name: name.map(echo), outcome });
        }
    }
    PasteReport { entries, overflowed: false }
}

/// Splits on newlines, commas and semicolons that are outside quotes and angle brackets, a
/// piece at a time (a paste may be megabytes of separators).
fn split_pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let left = rest?;
        let (mut in_quotes, mut in_angle) = (false, false);
        for (i, c) in left.char_indices() {
            match c {
                '"' if !in_angle => in_quotes = !in_quotes,
                '<' if !in_quotes => in_angle = true,
                '>' if !in_quotes => in_angle = false,
                // A line break always ends an entry, so one stray quote cannot swallow the rest.
                '\n' | '\r' => {
                    rest = Some(&left[i + 1..]);
                    return Some(&left[..i]);
                }
                ',' | ';' if !in_quotes && !in_angle => {
                    rest = Some(&left[i + 1..]);
                    return Some(&left[..i]);
                }
                _ => {}
            }
        }
        rest = None;
        Some(left)
    })
    .map(|p| p.trim_matches(is_separator))
    .filter(|p| !p.is_empty())
}

/// The addresses in one piece: `Name <address>` is one; bare words separated by spaces or
/// invisible characters may be several. Yields (what was pasted, display name, the address to check).
fn candidates(piece: &str) -> Vec<(&str, Option<&str>, &str)> {
    // `Name <address>`, also with text after it or no closing bracket; but `<b>…</b>@x.com` is
    // markup in a would-be address, checked whole.
    let angled = piece.rfind('<').map(|open| {
        let inner = &piece[open + 1..];
        (open, inner.split('>').next().unwrap_or(inner))
    });
    if let Some((open, inner)) = angled.filter(|(_, inner)| inner.contains('@') || piece.ends_with('>')) {
        let address = inner.trim_matches(is_separator);
        let name = piece[..open].trim_matches(is_separator).trim_matches('"').trim_matches(is_separator);
        return vec![(piece, (!name.is_empty()).then_some(name), strip_mailto(address))];
    }
    let words: Vec<&str> = piece.split(is_separator).filter(|w| !w.is_empty()).collect();
    if words.len() > 1 && words.iter().all(|w| w.contains('@')) {
        return words.into_iter().map(|w| (w, None, strip_mailto(w))).collect();
    }
    vec![(piece, None, strip_mailto(piece))]
}

fn strip_mailto(s: &str) -> &str {
    s.strip_prefix("mailto:").or_else(|| s.strip_prefix("MAILTO:")).unwrap_or(s)
}

fn echo(s: &str) -> String {
    if s.chars().count() <= MAX_ECHO {
        s.to_string()
    } else {
        let mut short: String = s.chars().take(MAX_ECHO).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn valid(report: &PasteReport) -> Vec<&str> {
        report.valid().map(|(a, _)| a.as_str()).collect()
    }

    #[test]
    fn lines_commas_and_semicolons_all_separate_addresses() {
        let report = parse_paste("ada@example.com\ngrace@example.com, alan@example.com;edsger@example.com\r\n\r\n");
        assert_eq!(valid(&report), ["ada@example.com", "grace@example.com", "alan@example.com", "edsger@example.com"]);
        assert_eq!(report.entries.len(), 4, "blank lines are not entries");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn an_international_domain_in_either_form_is_one_address() {
        let report = parse_paste("user@bücher.example\nUser@XN--BCHER-KVA.example, user@bücher.example");
        assert_eq!(valid(&report), ["user@bücher.example"]);
        assert_eq!((report.valid_count(), report.duplicate_count()), (1, 2));
    }

    #[test]
    fn names_as_pasted_from_a_mail_client_are_kept() {
        let report =
            parse_paste(r#"Ada Lovelace <Ada@Example.com>, "Hopper, Grace" <grace@example.com>; <alan@example.com>"#);
        assert_eq!(valid(&report), ["ada@example.com", "grace@example.com", "alan@example.com"]);
        let names: Vec<Option<&str>> = report.entries.iter().map(|e| e.name.as_deref()).collect();
        assert_eq!(names, [Some("Ada Lovelace"), Some("Hopper, Grace"), None]);
    }

    #[test]
    fn stray_spaces_mixed_case_and_mailto_are_tidied() {
        let report =
            parse_paste("   ADA@EXAMPLE.COM   \n mailto:grace@example.com \n alan@example.com  edsger@example.com");
        assert_eq!(valid(&report), ["ada@example.com", "grace@example.com", "alan@example.com", "edsger@example.com"]);
    }

    #[test]
    fn duplicates_and_typos_are_reported_in_order() {
        let report = parse_paste("ada@example.com\nADA@example.com\nada@example\ngrace at example.com\n<>");
        let outcomes: Vec<&str> = report
            .entries
            .iter()
            .map(|e| match e.outcome {
                PasteOutcome::Valid(_) => "valid",
                PasteOutcome::DuplicateInList(_) => "duplicate",
                PasteOutcome::Invalid(_) => "invalid",
            })
            .collect();
        assert_eq!(outcomes, ["valid", "duplicate", "invalid", "invalid", "invalid"]);
        assert_eq!((report.valid_count(), report.duplicate_count(), report.invalid_count()), (1, 1, 3));
    }

    #[test]
    fn an_unclosed_quote_spoils_only_its_own_line() {
        let report = parse_paste("\"Ada <ada@example.com>, grace@example.com\nalan@example.com");
        assert!(valid(&report).contains(&"alan@example.com"));
    }

    #[test]
    fn invisible_characters_from_spreadsheets_separate_addresses_or_are_named() {
        let report = parse_paste(
            "\u{FEFF}alice@example.com\n\u{200B}bob@example.com\ncarol\u{00A0}@example.com\ndave@example.com\u{200F}\ned@exam\u{00AD}ple.org",
        );
        assert_eq!(valid(&report), ["alice@example.com", "bob@example.com", "dave@example.com"]);
        let reasons: Vec<&str> = report
            .entries
            .iter()
            .filter_map(|e| match &e.outcome {
                PasteOutcome::Invalid(reason) => Some(reason.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            reasons,
            [
                "“carol\u{00A0}@example.com” is not a valid email address: it contains an invisible no-break space after ‘carol’.",
                "“ed@exam\u{00AD}ple.org” is not a valid email address: it contains an invisible soft hyphen after ‘ed@exam’.",
            ]
        );
        // Two addresses joined by a zero-width space are two entries.
        assert_eq!(
            valid(&parse_paste("ann@example.com\u{200B}ben@example.com")),
            ["ann@example.com", "ben@example.com"]
        );
    }

    #[test]
    fn a_name_with_text_after_it_or_an_unclosed_bracket_still_gives_the_address() {
        let report = parse_paste(
            "Ada Lovelace <ada@example.com> (Finance)\n<grace@example.com> Grace\nAlan Turing <alan@example.com",
        );
        assert_eq!(valid(&report), ["ada@example.com", "grace@example.com", "alan@example.com"]);
        let empty = parse_paste("Ada <>");
        assert_eq!(empty.entries[0].outcome, PasteOutcome::Invalid("“Ada <>” holds no address.".into()));
    }

    #[test]
    fn a_reason_quotes_the_whole_entry_as_pasted() {
        let report = parse_paste("<script>alert(1)</script>@example.com\nAda <ada@example>");
        let reasons: Vec<String> = report
            .entries
            .iter()
            .map(|e| match &e.outcome {
                PasteOutcome::Invalid(reason) => reason.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            reasons,
            [
                "“<script>alert(1)</script>@example.com” is not a valid email address: it contains ‘<’, which an address cannot.",
                "“Ada <ada@example>” is not a valid email address: the domain has no top-level domain, such as .com.",
            ]
        );
    }

    #[test]
    fn markup_and_sql_are_just_invalid_text() {
        let report = parse_paste("<script>alert(1)</script>\n'; DROP TABLE accounts; --");
        assert_eq!(report.valid_count(), 0);
        assert!(report.entries.iter().all(|e| matches!(e.outcome, PasteOutcome::Invalid(_))));
    }

    #[test]
    fn a_megabyte_of_text_is_parsed_and_long_pieces_are_shortened_in_the_report() {
        let junk = "x".repeat(1024 * 1024);
        let report = parse_paste(&junk);
        assert_eq!(report.entries.len(), 1);
        assert!(report.entries[0].raw.chars().count() <= MAX_ECHO + 1);
        let many: String = (0..20_000).map(|i| format!("person{i}@example.com\n")).collect();
        assert_eq!(parse_paste(&many).valid_count(), 20_000);
    }

    #[test]
    fn reading_stops_after_the_most_entries_a_paste_may_hold() {
        let separators = "a,".repeat(MAX_ENTRIES + 1);
        let report = parse_paste(&separators);
        assert!(report.overflowed);
        assert_eq!(report.entries.len(), MAX_ENTRIES);
        let full = "a,".repeat(MAX_ENTRIES);
        assert!(!parse_paste(&full).overflowed);
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_every_valid_address_is_unique(text in "\\PC{0,400}") {
            let report = parse_paste(&text);
            let valid: Vec<_> = report.valid().map(|(a, _)| a.clone()).collect();
            let unique: HashSet<_> = valid.iter().cloned().collect();
            prop_assert_eq!(valid.len(), unique.len());
        }

        #[test]
        fn any_list_of_addresses_joined_by_any_separators_is_recovered(
            locals in proptest::collection::vec("[a-z][a-z0-9.]{0,10}[a-z0-9]", 1..30),
            seps in proptest::collection::vec(prop_oneof![Just("\n"), Just(", "), Just(";"), Just(" ,\r\n "), Just(";;")], 30),
        ) {
            // The dot keeps them distinct: "p51" + 0 and "p5" + 10 would both be p510.
            let addresses: Vec<String> = locals.iter().enumerate().map(|(i, l)| format!("{l}.{i}@example.org")).collect();
            let text: String = addresses.iter().zip(seps.iter().cycle()).map(|(a, s)| format!("{a}{s}")).collect();
            let report = parse_paste(&text);
            let found: Vec<String> = report.valid().map(|(a, _)| a.to_string()).collect();
            let expected: Vec<String> = addresses.into_iter().filter(|a| EmailAddress::parse(a).is_ok()).collect();
            prop_assert_eq!(found, expected);
        }
    }
}
