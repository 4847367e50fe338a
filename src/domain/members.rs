//! Finding members in the Users list: the filter travels in the page's address, so a filtered
//! view can be bookmarked and reloaded.

use super::MembershipStatus;
use serde::{Deserialize, Serialize};

pub const PAGE_SIZE: i64 = 50;
const MAX_SEARCH: usize = 200;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemberFilter {
    /// Part of a name or an email address.
    pub search: String,
    pub status: Option<MembershipStatus>,
    pub area: Option<i64>,
    pub role: Option<i64>,
    /// 1-based.
    pub page: i64,
}

impl MemberFilter {
    /// Reads the filter from query parameters; anything unrecognised means "no filter".
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let id = |key: &str| get(key).and_then(|v| v.parse::<i64>().ok()).filter(|v| *v > 0);
        Self {
            search: get("q").map(|q| q.trim().chars().take(MAX_SEARCH).collect()).unwrap_or_default(),
            status: get("status").and_then(|s| MembershipStatus::parse(&s)),
            area: id("area"),
            role: id("role"),
            page: id("page").unwrap_or(1),
        }
    }

    /// The query string for this filter on another page.
    pub fn query_for_page(&self, page: i64) -> String {
        let mut parts = Vec::new();
        if !self.search.is_empty() {
            parts.push(format!("q={}", encode(&self.search)));
        }
        if let Some(s) = self.status {
            parts.push(format!("status={}", s.key()));
        }
        if let Some(a) = self.area {
            parts.push(format!("area={a}"));
        }
        if let Some(r) = self.role {
            parts.push(format!("role={r}"));
        }
        parts.push(format!("page={page}"));
        format!("?{}", parts.join("&"))
    }

    pub fn offset(&self) -> i64 {
        (self.page.max(1) - 1) * PAGE_SIZE
    }

    /// A LIKE pattern matching the search anywhere, with LIKE's own wildcards escaped.
    pub fn like_pattern(&self) -> String {
        let mut pattern = String::from("%");
        for c in self.search.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        pattern
    }
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
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
        let f = filter(&[("q", " Ada & co "), ("status", "active"), ("area", "3"), ("page", "2")]);
        assert_eq!(f.search, "Ada & co");
        assert_eq!(f.status, Some(MembershipStatus::Active));
        assert_eq!((f.area, f.role, f.page, f.offset()), (Some(3), None, 2, 50));
        assert_eq!(f.query_for_page(3), "?q=Ada%20%26%20co&status=active&area=3&page=3");
    }

    #[test]
    fn nonsense_in_the_address_means_no_filter() {
        let f = filter(&[("status", "bogus"), ("area", "-1"), ("role", "x"), ("page", "0")]);
        assert_eq!(f, MemberFilter { page: 1, ..Default::default() });
    }

    #[test]
    fn like_wildcards_typed_by_people_match_themselves() {
        let f = filter(&[("q", "50%_off")]);
        assert_eq!(f.like_pattern(), "%50\\%\\_off%");
    }
}
