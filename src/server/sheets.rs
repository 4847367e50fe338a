//! Reading a spreadsheet someone uploaded or pasted: CSV (RFC 4180) with `,`, `;` or tab
//! between cells, quoted cells, a UTF-8 byte-order mark and Windows line ends, by the `csv`
//! crate. Which column is which comes from the header row (`domain::import::Header`).

use crate::domain::import::{sniff_delimiter, Header};

/// The most rows of people one sheet may hold (the header aside): a batch's worth.
pub const MAX_ROWS: usize = crate::domain::email_list::MAX_BATCH;

#[derive(Debug)]
pub struct Sheet {
    pub header: Header,
    pub rows: Vec<SheetRow>,
}

/// One row of people, as the sheet numbers it.
#[derive(Debug, PartialEq, Eq)]
pub struct SheetRow {
    /// The line the row starts on, which is its row number in a spreadsheet: the header is row 1.
    pub number: u64,
    pub cells: Vec<String>,
}

/// Reads a sheet. Rows whose cells are all blank are skipped. Refused, saying why, when the
/// sheet is empty, its header names no `email` column or names one twice, or it holds more
/// than [`MAX_ROWS`] rows.
pub fn read(text: &str) -> Result<Sheet, String> {
    // Windows and old Mac line ends become plain ones first: the csv crate reads them all, but
    // its byte offsets are one short after a CRLF, and a row's number is how a problem is found.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n").replace('\r', "\n");
    // Excel may write a first line `sep=;` naming the delimiter; it shows no row for it.
    let (delimiter, text) = match text.split_once('\n') {
        Some((first, rest)) if first.len() == 5 && first.starts_with("sep=") => (first.as_bytes()[4], rest),
        _ => (sniff_delimiter(&text), text.as_str()),
    };
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(record)) => Header::read(&record.iter().collect::<Vec<_>>())?,
        _ => return Err("The sheet is empty: its first row must name the columns, one of them ‘email’.".into()),
    };
    let mut rows = Vec::new();
    let mut rows_before = RowCounter::default();
    for record in records {
        let record =
            record.map_err(|e| format!("The sheet could not be read past row {}: {e}.", rows_before.rows + 1))?;
        // The reader's offset is where it began looking, before any blank lines it skipped.
        let starts_at = record.position().map_or(0, |p| p.byte() as usize);
        let number = rows_before.up_to(text, starts_at);
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(format!(
                "The sheet holds more than {} rows of people; import at most that many at a time.",
                crate::domain::grouped(MAX_ROWS as i64)
            ));
        }
        rows.push(SheetRow { number, cells: record.iter().map(str::to_string).collect() });
    }
    Ok(Sheet { header, rows })
}

/// A row's number as a spreadsheet shows it: the line breaks before it outside quoted cells
/// (a quoted cell may hold line breaks and is still one row), blank lines included.
#[derive(Default)]
struct RowCounter {
    counted_to: usize,
    rows: u64,
    quoted: bool,
}

impl RowCounter {
    /// The number of the row whose record the reader found at byte `offset` of `text`.
    fn up_to(&mut self, text: &str, offset: usize) -> u64 {
        let bytes = text.as_bytes();
        let mut at = offset.clamp(self.counted_to, bytes.len());
        // Blank lines the reader skipped lie between its offset and the row itself.
        while bytes.get(at) == Some(&b'\n') {
            at += 1;
        }
        for byte in &bytes[self.counted_to..at] {
            match byte {
                b'"' => self.quoted = !self.quoted,
                b'\n' if !self.quoted => self.rows += 1,
                _ => {}
            }
        }
        self.counted_to = at;
        self.rows + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::import::Column;

    fn emails(sheet: &Sheet) -> Vec<(u64, &str)> {
        sheet.rows.iter().map(|r| (r.number, sheet.header.cell(&r.cells, Column::Email))).collect()
    }

    #[test]
    fn commas_semicolons_and_tabs_with_a_byte_order_mark_and_windows_line_ends() {
        for text in [
            "\u{feff}Email,First name\r\nada@example.com,Ada\r\n\r\nbob@example.com,Bob\r\n",
            "email;first name\nada@example.com;Ada\n;\nbob@example.com;Bob",
            "EMAIL\tFIRST NAME\nada@example.com\tAda\n\t\nbob@example.com\tBob\n",
            "sep=;\r\nemail;first name\r\nada@example.com;Ada\r\n\r\nbob@example.com;Bob",
            "email,first name\rada@example.com,Ada\r\rbob@example.com,Bob\r",
        ] {
            let sheet = read(text).unwrap();
            assert_eq!(emails(&sheet), [(2, "ada@example.com"), (4, "bob@example.com")], "{text:?}");
            assert_eq!(sheet.header.cell(&sheet.rows[1].cells, Column::FirstName), "Bob");
        }
    }

    #[test]
    fn quoted_cells_keep_delimiters_quotes_and_line_breaks() {
        let sheet = read("email,last name,teams\n\"ada@example.com\",\"Lovelace, \"\"Countess\"\"\",\"North|\nSouth\"\nbob@example.com,Babbage,\n").unwrap();
        assert_eq!(sheet.header.cell(&sheet.rows[0].cells, Column::LastName), "Lovelace, \"Countess\"");
        assert_eq!(sheet.header.cell(&sheet.rows[0].cells, Column::Teams), "North|\nSouth");
        assert_eq!(emails(&sheet), [(2, "ada@example.com"), (3, "bob@example.com")], "a cell's line break is no row");
    }

    #[test]
    fn an_empty_sheet_or_too_many_rows_are_refused_with_why() {
        assert!(read("").unwrap_err().contains("empty"));
        assert!(read("name\nAda").unwrap_err().contains("‘email’"));
        let many = format!("email\n{}", "a@example.com\n".repeat(MAX_ROWS + 1));
        assert!(read(&many).unwrap_err().contains("more than 100,000 rows"));
        assert_eq!(read(&format!("email\n{}", "a@example.com\n".repeat(MAX_ROWS))).unwrap().rows.len(), MAX_ROWS);
    }
}
