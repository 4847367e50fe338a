//! Sheets of people to invite (Users › Invite users › From a spreadsheet): each row as checked,
//! kept a day for the preview to page through, and once sent, each row's result beside the
//! batch's invitation for it.

use super::{now_ms, Backend, Db};
use crate::domain::import::CheckedRow;
use crate::domain::time::DAY_MS;
use sqlx::{Any, Transaction};

/// How long a checked sheet waits to be sent.
pub const KEPT_MS: i64 = DAY_MS;

/// Rows written per statement, as one JSON parameter.
const CHUNK: usize = 5_000;

pub struct NewImport<'a> {
    pub org_id: i64,
    pub account_id: i64,
    pub file_name: &'a str,
    pub default_area: i64,
    pub default_role: i64,
    /// The headers of the columns Onboard does not read, as a JSON array.
    pub ignored_json: &'a str,
}

/// Stores a checked sheet and its rows; returns its id.
pub async fn create(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    import: &NewImport<'_>,
    rows: &[CheckedRow],
) -> Result<i64, sqlx::Error> {
    let now = now_ms();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sheet_imports (org_id, account_id, file_name, default_area_id, default_role_id, ignored_columns,
                                    created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(import.org_id)
    .bind(import.account_id)
    .bind(import.file_name)
    .bind(import.default_area)
    .bind(import.default_role)
    .bind(import.ignored_json)
    .bind(now)
    .bind(now + KEPT_MS)
    .fetch_one(&mut **tx)
    .await?;

    #[derive(serde::Serialize)]
    struct Row<'a> {
        n: u64,
        e: &'a str,
        f: &'a str,
        l: &'a str,
        m: &'a str,
        a: i64,
        r: i64,
        t: String,
        c: &'static str,
        w: Option<&'a str>,
    }
    let sql = format!(
        "INSERT INTO sheet_import_rows (import_id, number, email, first_name, last_name, mobile, area_id, role_id,
                                        team_ids, class, reason)
         SELECT $1, CAST(value ->> 'n' AS BIGINT), value ->> 'e', value ->> 'f', value ->> 'l', value ->> 'm',
                CAST(value ->> 'a' AS BIGINT), CAST(value ->> 'r' AS BIGINT), value ->> 't', value ->> 'c', value ->> 'w'
         FROM {}",
        backend.json_rows(2, false)
    );
    for part in rows.chunks(CHUNK) {
        let json = serde_json::to_string(
            &part
                .iter()
                .map(|r| Row {
                    n: r.number,
                    e: &r.email,
                    f: &r.first_name,
                    l: &r.last_name,
                    m: &r.mobile,
                    a: r.area_id,
                    r: r.role_id,
                    t: serde_json::to_string(&r.team_ids).expect("numbers serialize"),
                    c: r.class.as_str(),
                    w: r.reason.as_deref(),
                })
                .collect::<Vec<_>>(),
        )
        .expect("rows serialize");
        sqlx::query(&sql).bind(id).bind(json).execute(&mut **tx).await?;
    }
    Ok(id)
}

/// A stored sheet, with the names of the page's choices.
#[derive(Debug, sqlx::FromRow)]
pub struct ImportRecord {
    pub id: i64,
    pub account_id: i64,
    pub file_name: String,
    pub default_area_id: i64,
    pub default_role_id: i64,
    pub default_area: String,
    pub default_role: String,
    pub ignored_columns: String,
    pub created_at: i64,
    /// None once sent.
    pub expires_at: Option<i64>,
    pub batch_id: Option<i64>,
}

const RECORD: &str = "SELECT i.id, i.account_id, i.file_name, i.default_area_id, i.default_role_id, COALESCE(s.name, '') AS default_area,
        COALESCE(r.name, '') AS default_role, i.ignored_columns, i.created_at, i.expires_at, i.batch_id
    FROM sheet_imports i LEFT JOIN service_areas s ON s.id = i.default_area_id LEFT JOIN roles r ON r.id = i.default_role_id";

/// Sheet `id` of the organization, sent or not, unless its day has passed unsent.
pub async fn get(db: &Db, org_id: i64, id: i64) -> Result<Option<ImportRecord>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{RECORD} WHERE i.id = $2 AND i.org_id = $1 AND (i.expires_at IS NULL OR i.expires_at > $3)"
    ))
    .bind(org_id)
    .bind(id)
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await
}

/// The sheet sent as batch `batch_id`, if the batch came from one.
pub async fn of_batch(db: &Db, org_id: i64, batch_id: i64) -> Result<Option<ImportRecord>, sqlx::Error> {
    sqlx::query_as(&format!("{RECORD} WHERE i.batch_id = $2 AND i.org_id = $1"))
        .bind(org_id)
        .bind(batch_id)
        .fetch_optional(&db.pool)
        .await
}

/// How many of the sheet's rows fall in each class: (class, count).
pub async fn counts(db: &Db, id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT class, COUNT(*) FROM sheet_import_rows WHERE import_id = $1 GROUP BY class")
        .bind(id)
        .fetch_all(&db.pool)
        .await
}

/// A row as the preview and the results show it. Once sent, a New row carries the delivery of
/// its invitation, if the batch made one.
#[derive(Debug, sqlx::FromRow)]
pub struct RowRecord {
    pub number: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub mobile: String,
    pub area: String,
    pub role: String,
    /// JSON array of team ids.
    pub team_ids: String,
    pub class: String,
    pub reason: Option<String>,
    /// The invitation email's outbox status, once sent and stored.
    pub delivery: Option<String>,
    pub delivery_error: Option<String>,
}

/// The rows of sheet `id` (of class `class`, or all when empty) after row `after`, in sheet
/// order, at most `limit`; `batch_id` is the batch it was sent as (0 before).
pub async fn rows(
    db: &Db,
    id: i64,
    batch_id: i64,
    class: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<RowRecord>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT r.number, r.email, r.first_name, r.last_name, r.mobile, COALESCE(s.name, '') AS area,
                COALESCE(ro.name, '') AS role, r.team_ids, r.class, r.reason, j.status AS delivery,
                j.last_error AS delivery_error
         FROM sheet_import_rows r
              LEFT JOIN service_areas s ON s.id = r.area_id
              LEFT JOIN roles ro ON ro.id = r.role_id
              LEFT JOIN invitations i ON i.batch_id = $2 AND i.email = r.email AND r.class = 'new' AND i.status <> 'replaced'
              LEFT JOIN outbox_jobs j ON j.id = i.outbox_job_id
         WHERE r.import_id = $1 AND {} AND r.number > $4
         ORDER BY r.number LIMIT $5",
        of_class(class, "r.")
    ))
    .bind(id)
    .bind(batch_id)
    .bind(class)
    .bind(after)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

/// The condition keeping rows of `class` ($3), or every row when it is empty: two statements,
/// so a class's pages are read from its own index (`sheet_import_rows_class`).
fn of_class(class: &str, table: &str) -> String {
    if class.is_empty() {
        "$3 = ''".to_string()
    } else {
        format!("{table}class = $3")
    }
}

/// The number of the row `offset` rows into the sheet's rows of `class` (all when empty): the
/// key a numbered page starts after. 0 for the first page.
pub async fn row_before(db: &Db, id: i64, class: &str, offset: i64) -> Result<i64, sqlx::Error> {
    if offset <= 0 {
        return Ok(0);
    }
    let number: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT number FROM sheet_import_rows WHERE import_id = $1 AND {} ORDER BY number LIMIT 1 OFFSET $3",
        of_class(class, "").replace("$3", "$2")
    ))
    .bind(id)
    .bind(class)
    .bind(offset - 1)
    .fetch_optional(&db.pool)
    .await?;
    Ok(number.unwrap_or(i64::MAX))
}

/// The New rows of a sheet, to send, in sheet order.
pub async fn new_rows(db: &Db, id: i64) -> Result<Vec<CheckedRow>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, i64, i64, String)> = sqlx::query_as(
        "SELECT number, email, first_name, last_name, mobile, area_id, role_id, team_ids FROM sheet_import_rows
         WHERE import_id = $1 AND class = 'new' ORDER BY number",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(number, email, first_name, last_name, mobile, area_id, role_id, teams)| CheckedRow {
            number: number as u64,
            email,
            first_name,
            last_name,
            mobile,
            area_id,
            role_id,
            team_ids: serde_json::from_str(&teams).unwrap_or_default(),
            class: crate::domain::import::RowClass::New,
            reason: None,
        })
        .collect())
}

/// Gives rows a new class and reason: those found unfit when the sheet is sent.
pub async fn reclassify(db: &Db, id: i64, rows: &[CheckedRow]) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    for row in rows {
        sqlx::query("UPDATE sheet_import_rows SET class = $3, reason = $4 WHERE import_id = $1 AND number = $2")
            .bind(id)
            .bind(row.number as i64)
            .bind(row.class.as_str())
            .bind(row.reason.as_deref())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Marks the sheet sent as batch `batch_id`, in the batch's transaction: one conditional update,
/// so a sheet is sent once however many clicks arrive. `false` when it was sent already or its
/// day has passed.
pub async fn mark_sent(tx: &mut Transaction<'static, Any>, id: i64, batch_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sheet_imports SET batch_id = $2, expires_at = NULL
         WHERE id = $1 AND batch_id IS NULL AND expires_at > $3",
    )
    .bind(id)
    .bind(batch_id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Drops the sheets checked but never sent whose day has passed; returns how many.
pub async fn prune(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sheet_imports WHERE expires_at < $1")
        .bind(now)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

/// The names of the organization's teams among `ids`: (id, name).
pub async fn team_names(db: &Db, org_id: i64, ids: &[i64]) -> Result<Vec<(i64, String)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let json = serde_json::to_string(ids).expect("numbers serialize");
    sqlx::query_as(&format!(
        "SELECT t.id, t.name FROM {} e CROSS JOIN teams t WHERE t.id = CAST(e.value AS BIGINT) AND t.org_id = $1",
        db.backend.json_rows(2, true)
    ))
    .bind(org_id)
    .bind(json)
    .fetch_all(&db.pool)
    .await
}
