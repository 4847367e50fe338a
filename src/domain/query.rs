//! The addresses of filtered lists: one query-string encoding for every page.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What a query value keeps as typed: RFC 3986's unreserved characters (§2.3), and `@`, which a
/// query may hold (§3.4) and which keeps a searched-for address readable.
const KEPT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'@');

/// A query parameter's value, percent-encoded as UTF-8.
pub fn value(text: &str) -> String {
    utf8_percent_encode(text, KEPT).to_string()
}

/// `path?key=value&…` with each value encoded and the empty ones left out.
pub fn href(path: &str, pairs: &[(&str, String)]) -> String {
    let query: Vec<String> =
        pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(key, v)| format!("{key}={}", value(v))).collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Where to go after signing in or accepting the agreement: the `next` a page was given, if it
/// is a path on this site (never another origin: `//host` and backslashes are refused), else
/// the home page.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\')).unwrap_or_else(|| "/".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_unreserved_characters_and_at_and_encode_the_rest() {
        assert_eq!(value("ada@example.com"), "ada@example.com");
        assert_eq!(value("a b&c=d/é%"), "a%20b%26c%3Dd%2F%C3%A9%25");
        assert_eq!(value("-_.~"), "-_.~");
    }

    #[test]
    fn empty_values_are_left_out() {
        assert_eq!(href("/chat-users", &[("provider", String::new()), ("page", "2".into())]), "/chat-users?page=2");
        assert_eq!(href("/chat-users", &[("search", String::new())]), "/chat-users");
        assert_eq!(
            href("/chat-users", &[("provider", "telegram".into()), ("search", "ada lo".into()), ("page", "2".into())]),
            "/chat-users?provider=telegram&search=ada%20lo&page=2"
        );
    }

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/register/abc".into())), "/register/abc");
        for outside in ["//evil.example", "https://evil.example", "/\\evil.example", "evil"] {
            assert_eq!(safe_next(Some(outside.into())), "/", "{outside}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
