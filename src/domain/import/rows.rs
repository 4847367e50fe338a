//! Each row of an imported sheet checked against the organization and the rows before it.

use super::{teams, Column, Header};
use crate::domain::{settings::MAX_NAME_LEN, EmailAddress, EmailError, MembershipStatus};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What can become of a row of an imported sheet. The first five are the paste box's classes;
/// the rest are the sheet's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RowClass {
    New,
    Invalid,
    DuplicateInSheet,
    AlreadyMember,
    AlreadyPending,
    UnknownArea,
    UnknownRole,
    UnknownTeam,
    /// A role with a permission the inviter does not hold.
    RoleNotAllowed,
}

impl RowClass {
    /// The classes in the order the preview lists them.
    pub const ORDER: [RowClass; 9] = [
        Self::New,
        Self::Invalid,
        Self::DuplicateInSheet,
        Self::AlreadyMember,
        Self::AlreadyPending,
        Self::UnknownArea,
        Self::UnknownRole,
        Self::UnknownTeam,
        Self::RoleNotAllowed,
    ];

    /// The class as stored and as the preview's `class` query parameter names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Invalid => "invalid",
            Self::DuplicateInSheet => "duplicate",
            Self::AlreadyMember => "member",
            Self::AlreadyPending => "pending",
            Self::UnknownArea => "unknown-area",
            Self::UnknownRole => "unknown-role",
            Self::UnknownTeam => "unknown-team",
            Self::RoleNotAllowed => "role-not-allowed",
        }
    }

    pub fn parse(text: &str) -> Option<RowClass> {
        Self::ORDER.into_iter().find(|c| c.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::New => "New",
            Self::Invalid => "Invalid",
            Self::DuplicateInSheet => "Duplicate in this sheet",
            Self::AlreadyMember => "Already a member",
            Self::AlreadyPending => "Already invited, pending",
            Self::UnknownArea => "Unknown service area",
            Self::UnknownRole => "Unknown role",
            Self::UnknownTeam => "Unknown team",
            Self::RoleNotAllowed => "Role you cannot give",
        }
    }
}

/// What a row is checked against: the organization's areas, roles and teams, the choices made
/// on the page for rows that leave a column empty, and who already has a membership.
pub struct Lookups<'a> {
    pub areas: &'a [(i64, String)],
    /// `(id, name, whether the inviter may give it)`.
    pub roles: &'a [(i64, String, bool)],
    pub teams: &'a [(i64, String)],
    pub default_area: i64,
    pub default_role: i64,
    /// The status of each address (lower-cased) that already has a membership here.
    pub known: &'a HashMap<String, MembershipStatus>,
}

/// One row as it would be invited, or why it would not be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedRow {
    /// The sheet's row number (the header is row 1).
    pub number: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// In E.164 form when given and valid; empty when not given.
    pub mobile: String,
    pub area_id: i64,
    pub role_id: i64,
    pub team_ids: Vec<i64>,
    pub class: RowClass,
    /// Why, naming the row and the column: "row 14: no service area called ‘Nort’".
    pub reason: Option<String>,
}

/// Checks the sheet's rows in order, each against the organization and the rows before it.
/// `mobile` reads a mobile number into E.164 or says what is wrong with it (the server's phone
/// rules, with the organization's default country).
pub fn check_rows<'r, C: AsRef<str> + 'r>(
    header: &Header,
    rows: impl IntoIterator<Item = (u64, &'r [C])>,
    lookups: &Lookups,
    mobile: impl Fn(&str) -> Result<String, String>,
) -> Vec<CheckedRow> {
    let mut first_row_of = HashMap::new();
    rows.into_iter()
        .map(|(number, cells)| {
            let cell = |column| header.cell(cells, column);
            let mut row = CheckedRow {
                number,
                email: cell(Column::Email).to_string(),
                first_name: cell(Column::FirstName).to_string(),
                last_name: cell(Column::LastName).to_string(),
                mobile: String::new(),
                area_id: lookups.default_area,
                role_id: lookups.default_role,
                team_ids: Vec::new(),
                class: RowClass::New,
                reason: None,
            };
            if let Err((class, why)) = check_row(&mut row, &cell, lookups, &mobile, &mut first_row_of) {
                row.class = class;
                row.reason = Some(format!("row {number}: {why}"));
            }
            row
        })
        .collect()
}

fn check_row<'c>(
    row: &mut CheckedRow,
    cell: &impl Fn(Column) -> &'c str,
    lookups: &Lookups,
    mobile: &impl Fn(&str) -> Result<String, String>,
    first_row_of: &mut HashMap<String, u64>,
) -> Result<(), (RowClass, String)> {
    let address = EmailAddress::parse(cell(Column::Email)).map_err(|e| {
        let what = match e {
            EmailError::Empty => "the ‘email’ cell is empty.".to_string(),
            EmailError::TooLong => format!("“{}” is too long for an email address.", row.email),
            EmailError::Invalid { problem, .. } => {
                format!("“{}” is not a valid email address: {problem}", row.email)
            }
        };
        (RowClass::Invalid, what)
    })?;
    row.email = address.as_str().to_string();
    if let Some(first) = first_row_of.get(address.as_str()) {
        return Err((RowClass::DuplicateInSheet, format!("{} is already on row {first}.", row.email)));
    }
    first_row_of.insert(row.email.clone(), row.number);
    match lookups.known.get(address.as_str()) {
        Some(MembershipStatus::Pending) => {
            return Err((RowClass::AlreadyPending, format!("{} is already invited.", row.email)))
        }
        Some(MembershipStatus::Active | MembershipStatus::Inactive) => {
            return Err((RowClass::AlreadyMember, format!("{} is already a member.", row.email)))
        }
        // An expired invitation may be sent again.
        Some(MembershipStatus::Expired) | None => {}
    }
    for (column, text) in [(Column::FirstName, &row.first_name), (Column::LastName, &row.last_name)] {
        if text.chars().count() > MAX_NAME_LEN || text.chars().any(char::is_control) {
            return Err((
                RowClass::Invalid,
                format!(
                    "the ‘{}’ cell must be at most {} characters, without control characters.",
                    column.name(),
                    MAX_NAME_LEN
                ),
            ));
        }
    }
    let given = cell(Column::Mobile);
    if !given.is_empty() {
        row.mobile = mobile(given).map_err(|why| (RowClass::Invalid, format!("the ‘mobile’ cell: {why}")))?;
    }
    let area = cell(Column::ServiceArea);
    if !area.is_empty() {
        row.area_id = named(lookups.areas.iter().map(|(id, n)| (*id, n.as_str())), area)
            .ok_or_else(|| (RowClass::UnknownArea, format!("no service area called ‘{area}’.")))?;
    }
    let role = cell(Column::Role);
    let (role_id, role_name, grantable) = if role.is_empty() {
        lookups.roles.iter().find(|(id, ..)| *id == lookups.default_role)
    } else {
        named(lookups.roles.iter().map(|(id, n, _)| (*id, n.as_str())), role)
            .and_then(|id| lookups.roles.iter().find(|(r, ..)| *r == id))
    }
    .map(|(id, name, grantable)| (*id, name.as_str(), *grantable))
    .ok_or_else(|| match role {
        "" => (RowClass::UnknownRole, "choose a role on the page or in the ‘role’ column.".to_string()),
        role => (RowClass::UnknownRole, format!("no role called ‘{role}’.")),
    })?;
    if !grantable {
        return Err((
            RowClass::RoleNotAllowed,
            format!("you cannot give the role ‘{role_name}’: it has permissions you do not have."),
        ));
    }
    row.role_id = role_id;
    for team in teams(cell(Column::Teams)) {
        let id = named(lookups.teams.iter().map(|(id, n)| (*id, n.as_str())), &team)
            .ok_or_else(|| (RowClass::UnknownTeam, format!("no team called ‘{team}’.")))?;
        row.team_ids.push(id);
    }
    Ok(())
}

/// The id of the item named `name`, ignoring case and the spaces around it.
fn named<'n>(items: impl Iterator<Item = (i64, &'n str)>, name: &str) -> Option<i64> {
    let wanted = name.trim().to_lowercase();
    items.into_iter().find(|(_, n)| n.trim().to_lowercase() == wanted).map(|(id, _)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(rows: &[&[&str]]) -> (Header, Vec<(u64, Vec<String>)>) {
        let header = Header::read(rows[0]).unwrap();
        let rows = rows[1..]
            .iter()
            .enumerate()
            .map(|(i, r)| (i as u64 + 2, r.iter().map(|c| c.to_string()).collect()))
            .collect();
        (header, rows)
    }

    fn checked(rows: &[&[&str]]) -> Vec<CheckedRow> {
        let (header, rows) = sheet(rows);
        let known = HashMap::from([
            ("member@example.com".to_string(), MembershipStatus::Active),
            ("invited@example.com".to_string(), MembershipStatus::Pending),
            ("lapsed@example.com".to_string(), MembershipStatus::Expired),
        ]);
        let lookups = Lookups {
            areas: &[(1, "General".into()), (2, "North".into())],
            roles: &[(10, "Member".into(), true), (11, "Manager".into(), true), (12, "Owner".into(), false)],
            teams: &[(20, "Nurses".into()), (21, "Night shift".into())],
            default_area: 1,
            default_role: 10,
            known: &known,
        };
        let mobile = |raw: &str| {
            if raw.starts_with('+') {
                Ok(raw.replace(' ', ""))
            } else {
                Err("not a mobile number.".to_string())
            }
        };
        check_rows(&header, rows.iter().map(|(n, cells)| (*n, cells.as_slice())), &lookups, mobile)
    }

    #[test]
    fn every_class_is_stored_by_a_name_of_its_own() {
        for class in RowClass::ORDER {
            assert_eq!(RowClass::parse(class.as_str()), Some(class));
        }
        assert_eq!(RowClass::parse("New"), None);
    }

    #[test]
    fn a_good_row_takes_its_own_area_role_and_teams_or_the_page_choices() {
        let rows = checked(&[
            &["email", "first name", "last name", "mobile", "service area", "role", "teams"],
            &["Ada@Example.com", "Ada", "Lovelace", "+44 7911 123456", "north", "MANAGER", "nurses | Night Shift"],
            &["lapsed@example.com", "", "", "", "", "", ""],
        ]);
        let ada = &rows[0];
        assert_eq!((ada.class, ada.reason.as_deref()), (RowClass::New, None));
        assert_eq!(
            (ada.email.as_str(), ada.first_name.as_str(), ada.mobile.as_str()),
            ("ada@example.com", "Ada", "+447911123456")
        );
        assert_eq!((ada.area_id, ada.role_id, ada.team_ids.clone()), (2, 11, vec![20, 21]));
        let lapsed = &rows[1];
        assert_eq!((lapsed.class, lapsed.area_id, lapsed.role_id, lapsed.team_ids.len()), (RowClass::New, 1, 10, 0));
    }

    #[test]
    fn each_bad_row_says_which_row_and_what_is_wrong() {
        let rows = checked(&[
            &["email", "mobile", "service area", "role", "teams"],
            &["bob@", "", "", "", ""],
            &["", "", "", "", ""],
            &["carol@example.com", "", "Nort", "", ""],
            &["dan@example.com", "", "", "Boss", ""],
            &["erin@example.com", "", "", "Owner", ""],
            &["fay@example.com", "", "", "", "Nurses|Day shift"],
            &["gus@example.com", "07911", "", "", ""],
            &["member@example.com", "", "", "", ""],
            &["invited@example.com", "", "", "", ""],
            &["CAROL@example.com", "", "", "", ""],
        ]);
        let got: Vec<(RowClass, &str)> = rows.iter().map(|r| (r.class, r.reason.as_deref().unwrap_or(""))).collect();
        assert_eq!(got[0].0, RowClass::Invalid);
        assert!(got[0].1.starts_with("row 2: “bob@” is not a valid email address"), "{}", got[0].1);
        assert_eq!(
            &got[1..],
            &[
                (RowClass::Invalid, "row 3: the ‘email’ cell is empty."),
                (RowClass::UnknownArea, "row 4: no service area called ‘Nort’."),
                (RowClass::UnknownRole, "row 5: no role called ‘Boss’."),
                (
                    RowClass::RoleNotAllowed,
                    "row 6: you cannot give the role ‘Owner’: it has permissions you do not have."
                ),
                (RowClass::UnknownTeam, "row 7: no team called ‘Day shift’."),
                (RowClass::Invalid, "row 8: the ‘mobile’ cell: not a mobile number."),
                (RowClass::AlreadyMember, "row 9: member@example.com is already a member."),
                (RowClass::AlreadyPending, "row 10: invited@example.com is already invited."),
                (RowClass::DuplicateInSheet, "row 11: carol@example.com is already on row 4."),
            ]
        );
    }
}
