//! Inviting from a spreadsheet: the sheet read and every row checked (a dry run, stored for the
//! preview to page through), then sent as one batch after checking its rows again.

use super::auth::Caller;
use super::db::sheet_imports::{ImportRecord, RowRecord};
use super::db::{self, invite_batches::Invitee};
use super::exports::{csv_lines, Cell};
use super::invitations::may_grant;
use super::invite_batches::{store_new_batch, NewInvitations};
use super::AppState;
use crate::api::invites::types::{RowResult, SheetPage, SheetRowView, SheetSummary};
use crate::domain::import::{check_rows, CheckedRow, Column, Lookups, RowClass};
use crate::domain::members::PAGE_SIZE;
use crate::domain::{EmailAddress, MembershipStatus};
use crate::AppError;
use futures::{stream, Stream, StreamExt};
use std::collections::{HashMap, HashSet};

/// What the page sends: the sheet, and the choices for rows that leave a column empty.
pub struct SheetUpload<'a> {
    pub text: &'a str,
    /// The uploaded file's name, or empty for pasted cells.
    pub file_name: &'a str,
    pub area_id: i64,
    pub role_id: i64,
}

/// Reads the sheet, checks every row against the organization and stores the outcome, sending
/// nothing. Returns the stored check's id. Bad input is refused on its field: `sheet` (empty,
/// unreadable, no `email` column, too many rows), `area` or `role`.
pub async fn check(state: &AppState, caller: &Caller, upload: SheetUpload<'_>) -> Result<i64, AppError> {
    if upload.text.trim().is_empty() {
        return Err(AppError::invalid("sheet", "Choose a file, or paste the cells with their header row."));
    }
    let sheet = super::sheets::read(upload.text).map_err(|why| AppError::invalid("sheet", why))?;
    if sheet.rows.is_empty() {
        return Err(AppError::invalid("sheet", "The sheet has a header row but no people below it."));
    }
    let db = &state.db;
    super::invitations::expire_lapsed(db).await?;
    let areas: Vec<(i64, String)> =
        db::service_areas::list(db, caller.org_id).await?.into_iter().map(|a| (a.id, a.name)).collect();
    if !areas.iter().any(|(id, _)| *id == upload.area_id) {
        return Err(AppError::invalid("area", "Choose a service area."));
    }
    let roles: Vec<(i64, String, bool)> = db::roles::list(db, caller.org_id)
        .await?
        .into_iter()
        .map(|r| {
            let grantable = may_grant(&caller.permissions, &r.permission_set());
            (r.id, r.name, grantable)
        })
        .collect();
    match roles.iter().find(|(id, ..)| *id == upload.role_id) {
        None => return Err(AppError::invalid("role", "Choose a role.")),
        Some((_, name, false)) => {
            return Err(AppError::invalid(
                "role",
                format!("You cannot give the {name} role: it has permissions you do not have."),
            ))
        }
        Some(_) => {}
    }
    let teams = db::teams::all(db, caller.org_id).await?;
    let addresses: Vec<String> = sheet
        .rows
        .iter()
        .filter_map(|r| EmailAddress::parse(sheet.header.cell(&r.cells, Column::Email)).ok())
        .map(|a| a.as_str().to_owned())
        .collect();
    let known: HashMap<String, MembershipStatus> =
        db::memberships::by_email(db, caller.org_id, &addresses.iter().map(String::as_str).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|(email, (_, status))| (email, status))
            .collect();
    let country = db::organizations::general(db, caller.org_id).await?.ok_or(AppError::NotFound)?.default_country;
    let ignored_json = serde_json::to_string(sheet.header.ignored()).expect("strings serialize");
    let (area_id, role_id) = (upload.area_id, upload.role_id);
    // A hundred thousand rows take a few tenths of a second of CPU: off the request threads.
    let rows = tokio::task::spawn_blocking(move || {
        let lookups = Lookups {
            areas: &areas,
            roles: &roles,
            teams: &teams,
            default_area: area_id,
            default_role: role_id,
            known: &known,
        };
        let rows = sheet.rows.iter().map(|r| (r.number, r.cells.as_slice()));
        check_rows(&sheet.header, rows, &lookups, |raw| super::phone::e164(raw, &country))
    })
    .await
    .map_err(|_| AppError::Internal)?;

    let file_name = match upload.file_name.trim() {
        "" => "Pasted cells",
        name => name,
    };
    let file_name: String = file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    let mut tx = db.begin().await?;
    let import = db::sheet_imports::NewImport {
        org_id: caller.org_id,
        account_id: caller.account_id,
        file_name: &file_name,
        default_area: area_id,
        default_role: role_id,
        ignored_json: &ignored_json,
    };
    let id = db::sheet_imports::create(&mut tx, db.backend, &import, &rows).await?;
    tx.commit().await?;
    Ok(id)
}

/// A page of a checked (or sent) sheet's rows: `class` keeps one class, `page` counts from 1.
/// An unsent check is its author's alone; a sent sheet is the batch's, which any inviter of the
/// organization may follow.
pub async fn page(
    state: &AppState,
    caller: &Caller,
    id: i64,
    class: Option<RowClass>,
    page: i64,
) -> Result<SheetPage, AppError> {
    let db = &state.db;
    let sheet = summary(state, caller, id).await?;
    let key = class.map_or("", RowClass::as_str);
    let total = class.map_or_else(|| sheet.rows(), |c| sheet.count(c));
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let after = db::sheet_imports::row_before(db, id, key, (page - 1) * PAGE_SIZE).await?;
    let records = db::sheet_imports::rows(db, id, sheet.batch.unwrap_or(0), key, after, PAGE_SIZE).await?;
    let storing = match sheet.batch {
        Some(batch) => still_storing(state, batch).await?,
        None => false,
    };
    let rows = views(state, caller.org_id, records, sheet.batch.is_some(), storing).await?;
    Ok(SheetPage { sheet, class, page, total, rows })
}

/// Sheet `id` as its pages head it; NotFound when it is not the caller's to see (or gone).
pub async fn summary(state: &AppState, caller: &Caller, id: i64) -> Result<SheetSummary, AppError> {
    let record = record(state, caller, id).await?;
    summarize(state, record).await
}

/// Sheet `id`: an unsent check is its author's alone, a sent sheet any inviter's.
async fn record(state: &AppState, caller: &Caller, id: i64) -> Result<ImportRecord, AppError> {
    let record = db::sheet_imports::get(&state.db, caller.org_id, id).await?.ok_or(AppError::NotFound)?;
    if record.batch_id.is_none() && record.account_id != caller.account_id {
        return Err(AppError::NotFound);
    }
    Ok(record)
}

async fn summarize(state: &AppState, record: ImportRecord) -> Result<SheetSummary, AppError> {
    let mut counts: Vec<(RowClass, i64)> = db::sheet_imports::counts(&state.db, record.id)
        .await?
        .into_iter()
        .filter_map(|(class, n)| Some((RowClass::parse(&class)?, n)))
        .collect();
    counts.sort_by_key(|(class, _)| RowClass::ORDER.iter().position(|c| c == class));
    Ok(SheetSummary {
        id: record.id,
        file_name: record.file_name,
        created_at: record.created_at,
        default_area: record.default_area,
        default_role: record.default_role,
        counts,
        ignored_columns: serde_json::from_str(&record.ignored_columns).unwrap_or_default(),
        expires_at: record.expires_at,
        batch: record.batch_id,
    })
}

/// Whether some of the batch's people are still to be stored by the outbox.
async fn still_storing(state: &AppState, batch: i64) -> Result<bool, AppError> {
    Ok(db::invite_batches::batch_delivery(&state.db, batch)
        .await?
        .iter()
        .any(|(status, n)| status == "preparing" && *n > 0))
}

async fn views(
    state: &AppState,
    org_id: i64,
    records: Vec<RowRecord>,
    sent: bool,
    storing: bool,
) -> Result<Vec<SheetRowView>, AppError> {
    let team_ids: Vec<Vec<i64>> =
        records.iter().map(|r| serde_json::from_str(&r.team_ids).unwrap_or_default()).collect();
    let mut wanted: Vec<i64> = team_ids.iter().flatten().copied().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let names: HashMap<i64, String> =
        db::sheet_imports::team_names(&state.db, org_id, &wanted).await?.into_iter().collect();
    Ok(records
        .into_iter()
        .zip(team_ids)
        .map(|(r, teams)| {
            let class = RowClass::parse(&r.class).unwrap_or(RowClass::Invalid);
            let result = (sent && class == RowClass::New).then(|| result_of(&r, storing));
            SheetRowView {
                number: r.number,
                name: format!("{} {}", r.first_name, r.last_name).trim().to_string(),
                email: r.email,
                mobile: r.mobile,
                area: r.area,
                role: r.role,
                teams: teams.iter().filter_map(|t| names.get(t).cloned()).collect(),
                class,
                reason: r.reason,
                result,
            }
        })
        .collect())
}

fn result_of(row: &RowRecord, storing: bool) -> RowResult {
    match row.delivery.as_deref() {
        Some("done") => RowResult::Sent,
        Some("failed") => {
            RowResult::Failed(row.delivery_error.clone().unwrap_or_else(|| "the mail server refused it".into()))
        }
        Some(_) => RowResult::Queued,
        None if storing => RowResult::Storing,
        None => RowResult::Skipped,
    }
}

/// Sends a checked sheet as one batch: its New rows are checked again first (someone may have
/// joined, or an area, role or team gone, since the dry run), and those no longer fit keep
/// their new class and reason as their result. Returns the batch id.
pub async fn send(state: &AppState, caller: &Caller, id: i64) -> Result<i64, AppError> {
    let db = &state.db;
    let record = record(state, caller, id).await?;
    if record.batch_id.is_some() {
        return Err(AppError::Conflict("This sheet was sent already.".into()));
    }
    super::invitations::expire_lapsed(db).await?;
    let mut rows = db::sheet_imports::new_rows(db, id).await?;
    let changed = recheck(state, caller, &mut rows).await?;
    if !changed.is_empty() {
        db::sheet_imports::reclassify(db, id, &changed).await?;
    }
    let invitees: Vec<Invitee> = rows
        .into_iter()
        .filter(|r| r.class == RowClass::New)
        .map(|r| Invitee {
            email: r.email,
            area_id: r.area_id,
            role_id: r.role_id,
            team_ids: r.team_ids,
            first_name: r.first_name,
            last_name: r.last_name,
            mobile: r.mobile,
        })
        .collect();
    if invitees.is_empty() {
        return Err(AppError::invalid("sheet", "None of the rows can be invited: see the reason beside each one."));
    }
    let rows_in_all: i64 = db::sheet_imports::counts(db, id).await?.iter().map(|(_, n)| n).sum();
    let not_invited = (rows_in_all as usize).saturating_sub(invitees.len());
    let batch = NewInvitations {
        default_area: record.default_area_id,
        default_role: record.default_role_id,
        invitees,
        not_invited: db::invite_batches::NotInvited { shown: Vec::new(), total: not_invited },
        sheet: Some(id),
    };
    store_new_batch(state, caller, batch, "sheet").await
}

/// Checks New rows again against the organization as it is now; returns those that no longer
/// fit, with their new class and reason (also set in `rows`).
async fn recheck(state: &AppState, caller: &Caller, rows: &mut [CheckedRow]) -> Result<Vec<CheckedRow>, AppError> {
    let db = &state.db;
    let areas: HashSet<i64> = db::service_areas::list(db, caller.org_id).await?.into_iter().map(|a| a.id).collect();
    let roles: HashMap<i64, (String, bool)> = db::roles::list(db, caller.org_id)
        .await?
        .into_iter()
        .map(|r| {
            let grantable = may_grant(&caller.permissions, &r.permission_set());
            (r.id, (r.name, grantable))
        })
        .collect();
    let teams: HashSet<i64> = db::teams::all(db, caller.org_id).await?.into_iter().map(|(id, _)| id).collect();
    let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
    let known = db::memberships::by_email(db, caller.org_id, &emails).await?;
    let mut changed = Vec::new();
    for row in rows.iter_mut() {
        let unfit = match known.get(&row.email).map(|(_, s)| s) {
            Some(MembershipStatus::Pending) => {
                Some((RowClass::AlreadyPending, format!("{} was invited meanwhile.", row.email)))
            }
            Some(MembershipStatus::Active | MembershipStatus::Inactive) => {
                Some((RowClass::AlreadyMember, format!("{} became a member meanwhile.", row.email)))
            }
            _ if !areas.contains(&row.area_id) => {
                Some((RowClass::UnknownArea, "its service area was deleted meanwhile.".to_string()))
            }
            _ => match roles.get(&row.role_id) {
                None => Some((RowClass::UnknownRole, "its role was deleted meanwhile.".to_string())),
                Some((name, false)) => Some((
                    RowClass::RoleNotAllowed,
                    format!("you cannot give the role ‘{name}’: it has permissions you do not have."),
                )),
                Some(_) if row.team_ids.iter().any(|t| !teams.contains(t)) => {
                    Some((RowClass::UnknownTeam, "one of its teams was deleted meanwhile.".to_string()))
                }
                Some(_) => None,
            },
        };
        if let Some((class, why)) = unfit {
            row.class = class;
            row.reason = Some(format!("row {}: {why}", row.number));
            changed.push(row.clone());
        }
    }
    Ok(changed)
}

/// Every row of a sent sheet with what became of it, as CSV: row, email, first_name,
/// last_name, mobile, service_area, role, teams (separated by `|`), class, result, reason. Read
/// 1,000 rows per query, as every export is.
pub fn results_csv(
    state: AppState,
    org_id: i64,
    sheet: SheetSummary,
) -> impl Stream<Item = Result<String, AppError>> + Send + 'static {
    let head = super::exports::header(&[
        "row",
        "email",
        "first_name",
        "last_name",
        "mobile",
        "service_area",
        "role",
        "teams",
        "class",
        "result",
        "reason",
    ]);
    let batch = sheet.batch.unwrap_or(0);
    let pages = stream::try_unfold(Some(0_i64), move |after| {
        let state = state.clone();
        async move {
            let Some(after) = after else { return Ok(None) };
            let records = db::sheet_imports::rows(&state.db, sheet.id, batch, "", after, super::exports::PAGE).await?;
            let Some(last) = records.last().map(|r| r.number) else { return Ok(None) };
            let next = (records.len() as i64 == super::exports::PAGE).then_some(last);
            let storing = still_storing(&state, batch).await?;
            let firsts: Vec<(String, String)> =
                records.iter().map(|r| (r.first_name.clone(), r.last_name.clone())).collect();
            let views = views(&state, org_id, records, true, storing).await?;
            let lines = csv_lines(views.iter().zip(&firsts).map(|(v, (first, last))| {
                let result = v.result.as_ref().map(RowResult::label).unwrap_or_else(|| "Not invited".into());
                vec![
                    Cell::Number(v.number),
                    Cell::Text(&v.email),
                    Cell::Text(first),
                    Cell::Text(last),
                    Cell::Text(&v.mobile),
                    Cell::Text(&v.area),
                    Cell::Text(&v.role),
                    Cell::Owned(v.teams.join("|")),
                    Cell::Text(v.class.label()),
                    Cell::Owned(result),
                    Cell::Text(v.reason.as_deref().unwrap_or("")),
                ]
            }));
            Ok::<_, AppError>(Some((lines, next)))
        }
    });
    stream::once(async move { Ok(head) }).chain(pages)
}
