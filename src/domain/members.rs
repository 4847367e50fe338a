//! Finding members in the Users list: the filter and the place in the list travel in the page's
//! address, so a filtered view can be bookmarked and reloaded.
//!
//! The list is ordered by address and paged by keyset: a page starts after (or ends before) an
//! address already shown, so page 20,000 of a million members costs what page 1 does, and a
//! member invited while someone pages through is neither skipped nor shown twice.

use super::MembershipStatus;
use serde::{Deserialize, Serialize};

pub const PAGE_SIZE: i64 = 50;
const MAX_SEARCH: usize = 200;
/// A search this long or longer matches words of addresses and names (a full-text index
/// answers it); a shorter one matches the start of an address.
pub const MIN_ANYWHERE: usize = 3;
/// Counting the matches of a search stops here; the list then says "more than 10,000".
pub const SEARCH_COUNT_LIMIT: i64 = 10_000;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemberFilter {
    /// Part of a name or an email address.
    pub search: String,
    pub status: Option<MembershipStatus>,
    pub area: Option<i64>,
    pub role: Option<i64>,
    /// Only those who have not accepted the organization's current agreement (or a later version).
    pub agreement_pending: bool,
    /// The page after this address (exclusive).
    pub after: Option<String>,
    /// The page before this address (exclusive).
    pub before: Option<String>,
    /// The page starting at this address or text ("jump to letter"; inclusive).
    pub from: Option<String>,
    /// The last page.
    pub last: bool,
}

/// Where a page of the list lies, in address order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seek {
    First,
    After(String),
    Before(String),
    From(String),
    Last,
}

impl Seek {
    /// Whether the page is read backwards from its end (and then turned around).
    pub fn backwards(&self) -> bool {
        matches!(self, Seek::Before(_) | Seek::Last)
    }
}

/// How a search is answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Search {
    Everyone,
    /// The address starts with this text, lower-cased as addresses are.
    AddressPrefix(String),
    /// Each of these words, folded (see [`fold`]), starts a word of the address or the name. A
    /// word is a run of letters and digits: `ada.l@x.example` holds ada, l, x and example. The
    /// stored words are folded the same way (FTS5's unicode61 tokenizer; on PostgreSQL, LOWER
    /// and the same final-sigma rule, migration 0010), and no word at all matches no one.
    Words(Vec<String>),
}

impl MemberFilter {
    /// Reads the filter from query parameters; anything unrecognised means "no filter".
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let id = |key: &str| get(key).and_then(|v| v.parse::<i64>().ok()).filter(|v| *v > 0);
        Self {
            search: get("q").unwrap_or_default(),
            status: get("status").and_then(|s| MembershipStatus::parse(&s)),
            area: id("area"),
            role: id("role"),
            agreement_pending: get("agreement").is_some_and(|v| v == "pending"),
            after: get("after").and_then(|k| from_hex(&k)),
            before: get("before").and_then(|k| from_hex(&k)),
            from: get("from"),
            last: get("last").is_some_and(|v| v == "1"),
        }
        .normalized()
    }

    /// The filter as the list reads it, however it arrived (an address, or a server function
    /// called directly): control characters dropped (a NUL is no text either database takes),
    /// the search trimmed and at most 200 characters, a place in the list at most an address's
    /// 320 bytes (RFC 5321 limits) and not empty, and "jump to" lower-cased like addresses.
    pub fn normalized(self) -> Self {
        let clean = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string();
        let key = |k: Option<String>| k.map(|k| clean(&k)).filter(|k| !k.is_empty() && k.len() <= 320);
        Self {
            search: clean(&self.search).chars().take(MAX_SEARCH).collect(),
            area: self.area.filter(|a| *a > 0),
            role: self.role.filter(|r| *r > 0),
            after: key(self.after),
            before: key(self.before),
            from: key(self.from).map(|f| f.to_lowercase()),
            ..self
        }
    }

    /// Where the page lies; of several, the first of `last`, `before`, `after`, `from` wins.
    pub fn seek(&self) -> Seek {
        match (self.last, &self.before, &self.after, &self.from) {
            (true, ..) => Seek::Last,
            (_, Some(b), ..) => Seek::Before(b.clone()),
            (_, _, Some(a), _) => Seek::After(a.clone()),
            (_, _, _, Some(f)) => Seek::From(f.clone()),
            _ => Seek::First,
        }
    }

    /// The same filter at another place in the list.
    pub fn at(&self, seek: Seek) -> Self {
        let (mut after, mut before, mut from, mut last) = (None, None, None, false);
        match seek {
            Seek::First => {}
            Seek::After(a) => after = Some(a),
            Seek::Before(b) => before = Some(b),
            Seek::From(f) => from = Some(f),
            Seek::Last => last = true,
        }
        Self { after, before, from, last, ..self.clone() }
    }

    /// The query string for this filter at another place in the list.
    pub fn query_at(&self, seek: Seek) -> String {
        let f = self.at(seek);
        let text = |value: Option<String>| value.unwrap_or_default();
        // A place taken from a row travels as hex: an address may hold `%`, and the router decodes
        // a query value twice, which would turn `a%41@x` into `aA@x` and skip the rows between.
        let href = super::query::href(
            "",
            &[
                ("q", f.search.clone()),
                ("status", text(f.status.map(|s| s.key().to_string()))),
                ("area", text(f.area.map(|a| a.to_string()))),
                ("role", text(f.role.map(|r| r.to_string()))),
                ("agreement", if f.agreement_pending { "pending".into() } else { String::new() }),
                ("after", text(f.after.as_deref().map(to_hex))),
                ("before", text(f.before.as_deref().map(to_hex))),
                ("from", text(f.from.clone())),
                ("last", if f.last { "1".into() } else { String::new() }),
            ],
        );
        // An empty query still leaves the list's address: "?" clears the filters.
        if href.is_empty() {
            "?".into()
        } else {
            href
        }
    }

    pub fn search(&self) -> Search {
        match self.search.chars().count() {
            0 => Search::Everyone,
            n if n < MIN_ANYWHERE => Search::AddressPrefix(self.search.to_lowercase()),
            _ => Search::Words(
                self.search.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(fold).collect(),
            ),
        }
    }
}

impl Search {
    /// The words as an FTS5 query: each a quoted prefix (`"ada"* "lo"*`), all required
    /// (sqlite.org/fts5.html, 3.3 and 3.4). Words hold no quote, being letters and digits.
    pub fn fts5_query(words: &[String]) -> String {
        words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" ")
    }

    /// The words as a PostgreSQL `tsquery`: each a quoted prefix, all required
    /// (`'ada':* & 'lo':*`; PostgreSQL manual, 12.3.2).
    pub fn tsquery(words: &[String]) -> String {
        words.iter().map(|w| format!("'{w}':*")).collect::<Vec<_>>().join(" & ")
    }

    /// The first text after every address that starts with the prefix, in byte order: the
    /// prefix followed by the greatest character.
    pub fn prefix_end(prefix: &str) -> String {
        format!("{prefix}{}", char::MAX)
    }
}

/// A search word folded for comparison: lower case a character at a time (as PostgreSQL's LOWER
/// and FTS5's unicode61 fold, not Rust's word-aware `str::to_lowercase`), and the final sigma ς
/// as σ (FTS5 folds it so; PostgreSQL's index is told to).
pub fn fold(word: &str) -> String {
    word.chars().flat_map(char::to_lowercase).map(|c| if c == 'ς' { 'σ' } else { c }).collect()
}

/// A LIKE pattern matching the text anywhere, with LIKE's own wildcards escaped (`\`).
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn to_hex(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn filter(pairs: &[(&str, &str)]) -> MemberFilter {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        MemberFilter::from_query(|k| map.get(k).cloned())
    }

    #[test]
    fn a_filter_reads_from_and_writes_to_the_address() {
        let f = filter(&[("q", " Ada & co "), ("status", "active"), ("area", "3"), ("after", "622b6340782e6578")]);
        assert_eq!(f.search, "Ada & co");
        assert_eq!(f.status, Some(MembershipStatus::Active));
        assert_eq!((f.area, f.role), (Some(3), None));
        assert_eq!(f.seek(), Seek::After("b+c@x.ex".into()));
        assert_eq!(
            f.query_at(Seek::Before("a%41@x".into())),
            "?q=Ada%20%26%20co&status=active&area=3&before=612534314078"
        );
        let back = filter(&[("before", "612534314078")]);
        assert_eq!(back.seek(), Seek::Before("a%41@x".into()), "an address with % comes back whole");
        assert_eq!(f.query_at(Seek::Last), "?q=Ada%20%26%20co&status=active&area=3&last=1");
        assert_eq!(filter(&[]).query_at(Seek::First), "?");
        assert_eq!(filter(&[("from", " M ")]).seek(), Seek::From("m".into()));
        let pending = filter(&[("status", "active"), ("agreement", "pending")]);
        assert!(pending.agreement_pending);
        assert_eq!(pending.query_at(Seek::After("b@x".into())), "?status=active&agreement=pending&after=624078");
    }

    #[test]
    fn nonsense_in_the_address_means_no_filter() {
        let f = filter(&[
            ("status", "bogus"),
            ("area", "-1"),
            ("role", "x"),
            ("after", "zz"),
            ("before", "616"),
            ("last", "yes"),
            ("agreement", "accepted"),
        ]);
        assert_eq!(f, MemberFilter::default());
        assert_eq!(f.seek(), Seek::First);
    }

    #[test]
    fn control_characters_and_oversized_keys_are_dropped_however_the_filter_arrives() {
        let direct = MemberFilter {
            search: format!("\u{0}ab\u{7}c {}", "x".repeat(300)),
            after: Some("a".repeat(321)),
            from: Some(" \u{0}M".into()),
            ..Default::default()
        }
        .normalized();
        assert!(direct.search.starts_with("abc x") && direct.search.chars().count() == MAX_SEARCH);
        assert_eq!((direct.after, direct.from), (None, Some("m".into())));
    }

    #[test]
    fn short_searches_match_the_start_of_an_address_and_longer_ones_words() {
        assert_eq!(filter(&[("q", "  ")]).search(), Search::Everyone);
        assert_eq!(filter(&[("q", "Ad")]).search(), Search::AddressPrefix("ad".into()));
        assert_eq!(filter(&[("q", "ÖLa")]).search(), Search::Words(vec!["öla".into()]));
        assert_eq!(filter(&[("q", "ΠΑΠΑΔΌΠΟΥΛΟΣ")]).search(), Search::Words(vec!["παπαδόπουλοσ".into()]));
        assert_eq!(fold("Παπαδόπουλος"), "παπαδόπουλοσ");
        assert_eq!(filter(&[("q", "ada.l@x")]).search(), Search::Words(vec!["ada".into(), "l".into(), "x".into()]));
        assert_eq!(filter(&[("q", "%_%")]).search(), Search::Words(vec![]));
    }

    #[test]
    fn words_become_prefix_queries_and_wildcards_typed_by_people_match_themselves() {
        let words = vec!["ada".to_string(), "lo".to_string()];
        assert_eq!(Search::fts5_query(&words), "\"ada\"* \"lo\"*");
        assert_eq!(Search::tsquery(&words), "'ada':* & 'lo':*");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert!(Search::prefix_end("ad").as_str() > "ad\u{10fffe}zzz@x");
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct MemberRow {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: crate::domain::MembershipStatus,
    pub area: Option<String>,
    pub role: String,
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    /// A Pending member's invitation: how many reminders it has had, and when it expires.
    pub reminders_sent: Option<i64>,
    pub invitation_expires_at: Option<i64>,
    /// How that reads ("Reminded 2× · expires in 1 day"), as of the moment the list was read.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub invitation: Option<String>,
}

impl MemberRow {
    /// Fills in [`MemberRow::invitation`] as of `now`.
    pub fn with_invitation_as_of(mut self, now: i64) -> Self {
        self.invitation =
            self.invitation_expires_at.map(|at| super::reminders::standing(self.reminders_sent.unwrap_or(0), at, now));
        self
    }

    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name).trim().to_string();
        if name.is_empty() {
            "—".into()
        } else {
            name
        }
    }
}
