//! Files an organization downloads, written as CSV (RFC 4180) a page of rows at a time: an
//! export of a million rows holds one page in memory and no database connection between pages.

use super::db::{self, Db};
use crate::domain::spreadsheet::text_cell;
use crate::domain::time::format_rfc3339;
use crate::AppError;
use futures::{stream, Stream, StreamExt};

/// Rows read per query.
pub const PAGE: i64 = 1_000;

/// A cell of an exported row: text passes through [`text_cell`]; numbers are written as they
/// are, and moments (ms since the epoch) as RFC 3339 in UTC.
pub enum Cell<'a> {
    Text(&'a str),
    /// Text made for the row.
    Owned(String),
    Number(i64),
    Moment(i64),
}

/// Lines of CSV, each ended by CRLF (RFC 4180), with every field quoted where it must be.
pub fn csv_lines<'a>(rows: impl IntoIterator<Item = Vec<Cell<'a>>>) -> String {
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for row in rows {
        let fields = row.into_iter().map(|cell| match cell {
            Cell::Text(text) => text_cell(text).into_owned(),
            Cell::Owned(text) => text_cell(&text).into_owned(),
            Cell::Number(n) => n.to_string(),
            Cell::Moment(ms) => format_rfc3339(ms),
        });
        // Writing to memory fails only on a record of a different length, which no caller makes.
        let _ = out.write_record(fields);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The first line of a file: a UTF-8 byte-order mark, without which Excel reads the file in the
/// system's code page and garbles every name outside ASCII, then the column names.
pub fn header(names: &[&str]) -> String {
    format!("\u{feff}{}", csv_lines([names.iter().map(|n| Cell::Text(n)).collect()]))
}

/// Sets the response up as a download named `file_name` (a server function's response).
pub fn attachment(file_name: &str) {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/csv; charset=utf-8"));
        if let Ok(value) = http::HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
            response.insert_header(http::header::CONTENT_DISPOSITION, value);
        }
        response.insert_header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    }
}

/// Every acceptance of the organization's agreement, in the order recorded: account, email,
/// version, accepted_at (RFC 3339, UTC), ip_address, user_agent. A database failure part way
/// ends the response without its final chunk, so the client sees a broken download, never a
/// complete-looking short file.
pub fn agreement_evidence(db: Db, org_id: i64) -> impl Stream<Item = Result<String, AppError>> + Send + 'static {
    let head = header(&["account", "email", "version", "accepted_at", "ip_address", "user_agent"]);
    let pages = stream::try_unfold(Some(0_i64), move |after| {
        let db = db.clone();
        async move {
            let Some(after) = after else { return Ok(None) };
            let rows = db::eula::acceptances_after(&db, org_id, after, PAGE).await?;
            let Some(last) = rows.last().map(|r| r.id) else { return Ok(None) };
            let next = (rows.len() as i64 == PAGE).then_some(last);
            let lines = csv_lines(rows.iter().map(|r| {
                vec![
                    Cell::Number(r.account_id),
                    Cell::Text(&r.email),
                    Cell::Number(r.version),
                    Cell::Moment(r.accepted_at),
                    Cell::Text(&r.ip),
                    Cell::Text(&r.user_agent),
                ]
            }));
            Ok::<_, AppError>(Some((lines, next)))
        }
    });
    stream::once(async move { Ok(head) }).chain(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_where_they_must_be_and_formulas_kept_as_text() {
        let line = csv_lines([vec![
            Cell::Number(7),
            Cell::Text("ada@example.com"),
            Cell::Text("Mozilla/5.0 (X11; \"quoted\", comma)"),
            Cell::Text("=cmd|' /C calc'!A0"),
        ]]);
        assert_eq!(line, "7,ada@example.com,\"Mozilla/5.0 (X11; \"\"quoted\"\", comma)\",'=cmd|' /C calc'!A0\r\n");
    }
}
