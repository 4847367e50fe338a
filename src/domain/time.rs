//! Timestamps travel as milliseconds since the Unix epoch (UTC) on both databases and the wire.

/// "24 Nov 2026, 11:04 UTC": the same text on the server and in the browser, so hydration agrees.
pub fn format_utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%-d %b %Y, %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

pub fn format_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%-d %B %Y").to_string()).unwrap_or_else(|| "—".into())
}

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_format_in_utc() {
        assert_eq!(super::format_utc(1_795_000_000_000), "18 Nov 2026, 11:06 UTC");
        assert_eq!(super::format_date(0), "1 January 1970");
    }
}
