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
mod tests;
