//! A spreadsheet of people to invite (Users › Invite users › From a spreadsheet): which column
//! is which, read from the header row, and what each cell may hold. The server reads the file
//! itself (CSV, RFC 4180, with a sniffed delimiter); these rules are pure and shared.

mod rows;

pub use rows::{check_rows, CheckedRow, Lookups, RowClass};
use serde::{Deserialize, Serialize};

/// A column Onboard reads from an imported sheet; any other column is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Column {
    Email,
    FirstName,
    LastName,
    Mobile,
    ServiceArea,
    Role,
    Teams,
}

impl Column {
    pub const ALL: [Column; 7] = [
        Column::Email,
        Column::FirstName,
        Column::LastName,
        Column::Mobile,
        Column::ServiceArea,
        Column::Role,
        Column::Teams,
    ];

    /// The column's name as messages quote it ("row 14: column ‘service area’ …").
    pub fn name(self) -> &'static str {
        match self {
            Column::Email => "email",
            Column::FirstName => "first name",
            Column::LastName => "last name",
            Column::Mobile => "mobile",
            Column::ServiceArea => "service area",
            Column::Role => "role",
            Column::Teams => "teams",
        }
    }

    /// The column a header cell names: case, spaces, `_` and `-` aside, so "First Name",
    /// "first_name" and "FIRSTNAME" are one column. None for a column Onboard does not read.
    pub fn of_header(cell: &str) -> Option<Column> {
        let key: String = cell.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        Some(match key.as_str() {
            "email" | "emailaddress" | "mail" => Column::Email,
            "firstname" | "givenname" => Column::FirstName,
            "lastname" | "surname" | "familyname" => Column::LastName,
            "mobile" | "mobilenumber" | "mobilephone" | "phone" | "phonenumber" => Column::Mobile,
            "servicearea" | "area" => Column::ServiceArea,
            "role" => Column::Role,
            "teams" | "team" => Column::Teams,
            _ => return None,
        })
    }
}

/// Where each column Onboard reads sits in the sheet's rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    positions: Vec<(Column, usize)>,
    ignored: Vec<String>,
}

impl Header {
    /// Reads the header row. Refused, saying why, when no column is `email` or when one
    /// column is named twice (which of the two would hold the value?).
    pub fn read(cells: &[impl AsRef<str>]) -> Result<Header, String> {
        let mut positions: Vec<(Column, usize)> = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            let Some(column) = Column::of_header(cell.as_ref()) else { continue };
            if let Some((_, first)) = positions.iter().find(|(c, _)| *c == column) {
                return Err(format!(
                    "row 1: columns {} (‘{}’) and {} (‘{}’) are both read as ‘{}’; keep one of them.",
                    column_letter(*first),
                    cells[*first].as_ref().trim(),
                    column_letter(i),
                    cell.as_ref().trim(),
                    column.name()
                ));
            }
            positions.push((column, i));
        }
        if !positions.iter().any(|(c, _)| *c == Column::Email) {
            return Err("row 1 must name the columns, and one of them must be ‘email’.".into());
        }
        let ignored = cells
            .iter()
            .map(|cell| cell.as_ref().trim())
            .filter(|cell| !cell.is_empty() && Column::of_header(cell).is_none())
            .map(str::to_string)
            .collect();
        Ok(Header { positions, ignored })
    }

    /// The headers of the columns Onboard does not read, to say so before anything is sent.
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }

    pub fn has(&self, column: Column) -> bool {
        self.positions.iter().any(|(c, _)| *c == column)
    }

    /// The row's cell in `column`, trimmed; empty when the sheet has no such column or the
    /// row stops short of it.
    pub fn cell<'r>(&self, row: &'r [impl AsRef<str>], column: Column) -> &'r str {
        self.positions
            .iter()
            .find(|(c, _)| *c == column)
            .and_then(|(_, i)| row.get(*i))
            .map(|cell| cell.as_ref().trim())
            .unwrap_or("")
    }
}

/// A spreadsheet's name for the column at `index` (0-based): A … Z, AA, AB …
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// The delimiter of a sheet: of `,`, `;` and tab, the one found most often outside quotes in
/// its header row (cells copied from a spreadsheet are tab-separated; a CSV saved by Excel in
/// much of Europe uses `;`); on a tie, the one rarer in text. A header of one column has none
/// of them: `,`.
pub fn sniff_delimiter(text: &str) -> u8 {
    let (mut counts, mut quoted) = ([0usize; 3], false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let delimiters = [b',', b';', b'\t'];
    // On a tie the rarer in text wins: a tab, then a semicolon, then a comma.
    let best = (0..3).max_by_key(|&i| (counts[i], i)).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        delimiters[best]
    }
}

/// The teams a `teams` cell names, separated by `|`: trimmed, empty ones dropped, each once
/// (ignoring case), in the order given.
pub fn teams(cell: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in cell.split('|').map(str::trim).filter(|n| !n.is_empty()) {
        if !out.iter().any(|seen| seen.to_lowercase() == name.to_lowercase()) {
            out.push(name.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_matched_by_name_in_any_order_and_case() {
        let header =
            Header::read(&["Role", "E-mail", "first_name", "Last Name", "Notes", "TEAMS", "Service area", "Mobile"])
                .unwrap();
        let row = ["Manager", " ada@example.com ", "Ada", "Lovelace", "n/a", "North|South", "North", "+44 7911 123456"];
        assert_eq!(header.cell(&row, Column::Email), "ada@example.com");
        assert_eq!(header.cell(&row, Column::FirstName), "Ada");
        assert_eq!(header.cell(&row, Column::Role), "Manager");
        assert_eq!(header.cell(&row, Column::ServiceArea), "North");
        assert_eq!(header.cell(&["x"], Column::Mobile), "", "a short row has empty cells");
        assert!(Column::ALL.iter().all(|c| header.has(*c)));
        assert_eq!(header.ignored(), ["Notes"]);
    }

    #[test]
    fn a_header_without_email_or_with_a_column_twice_is_refused() {
        assert_eq!(
            Header::read(&["name", "address"]).unwrap_err(),
            "row 1 must name the columns, and one of them must be ‘email’."
        );
        assert_eq!(
            Header::read(&["email", "Role", "role"]).unwrap_err(),
            "row 1: columns B (‘Role’) and C (‘role’) are both read as ‘role’; keep one of them."
        );
    }

    #[test]
    fn the_delimiter_is_the_commonest_of_comma_semicolon_and_tab_outside_quotes() {
        assert_eq!(sniff_delimiter("email,first name,last name\r\n"), b',');
        assert_eq!(sniff_delimiter("email;\"last, first\";role\n"), b';');
        assert_eq!(sniff_delimiter("email\tfirst name\trole\na,b;c"), b'\t');
        assert_eq!(sniff_delimiter("email\n"), b',');
        assert_eq!(sniff_delimiter("Email\tName, first\n"), b'\t', "a tie goes to the tab");
    }

    #[test]
    fn columns_are_lettered_as_spreadsheets_do() {
        assert_eq!(
            [column_letter(0), column_letter(25), column_letter(26), column_letter(701)],
            ["A", "Z", "AA", "ZZ"]
        );
    }

    #[test]
    fn a_teams_cell_names_each_team_once() {
        assert_eq!(teams(" North | south||North |South "), ["North", "south"]);
        assert!(teams("  ").is_empty());
    }
}
