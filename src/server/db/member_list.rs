//! The Users list: a page of members at a place in address order, filtered and searched, and
//! how many match, each statement written so that it can use the index that serves it.

use super::{Backend, Db};
use crate::domain::members::MemberRow;
use crate::domain::members::{MemberFilter, Search, Seek, PAGE_SIZE, SEARCH_COUNT_LIMIT};
use sqlx::Any;

/// One page of the Users list, in address order.
#[derive(Debug)]
pub struct Listed {
    pub rows: Vec<MemberRow>,
    /// How many members match; with a search, counting stops past `SEARCH_COUNT_LIMIT`.
    pub total: i64,
    pub has_previous: bool,
    pub has_next: bool,
}

/// On PostgreSQL, a search first looks for its page among this many members in list order
/// (cheap when the words are common); when they hold less than a page, it starts from the
/// full-text index instead (cheap when the words are rare). PostgreSQL cannot tell which
/// beforehand: it estimates every prefix query at 2% of the rows.
const SEARCH_WINDOW: i64 = 2_000;
/// The members in list order a search's count looks through before it counts from the index.
const COUNT_WINDOW: i64 = 20_000;

/// A statement's conditions and their values, numbered as they are added.
#[derive(Clone, Default)]
pub(super) struct Statement {
    conditions: Vec<String>,
    values: Vec<Value>,
}

#[derive(Clone)]
enum Value {
    Int(i64),
    Text(String),
}

impl Statement {
    pub(super) fn int(&mut self, value: i64) -> String {
        self.value(Value::Int(value))
    }

    fn value(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    pub(super) fn condition(&mut self, condition: impl Into<String>) {
        self.conditions.push(condition.into());
    }

    pub(super) fn bind<'q, O>(
        &self,
        mut q: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>> {
        for value in &self.values {
            q = match value.clone() {
                Value::Int(i) => q.bind(i),
                Value::Text(t) => q.bind(t),
            };
        }
        q
    }

    /// [`Statement::bind`] for a statement that returns no rows.
    pub(super) fn bind_query<'q>(
        &self,
        mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
        for value in &self.values {
            q = match value.clone() {
                Value::Int(i) => q.bind(i),
                Value::Text(t) => q.bind(t),
            };
        }
        q
    }

    pub(super) fn filter(&self) -> String {
        self.conditions.join(" AND ")
    }

    /// The same conditions with the list's place added.
    fn at(&self, seek: &Seek) -> Statement {
        let mut s = self.clone();
        let (op, key) = match seek {
            Seek::First | Seek::Last => return s,
            Seek::After(key) => (">", key),
            Seek::Before(key) => ("<", key),
            Seek::From(key) => (">=", key),
        };
        let v = s.value(Value::Text(key.clone()));
        s.condition(format!("m.email {op} {v}"));
        s
    }

    async fn scalar(&self, db: &Db, sql: &str) -> Result<i64, sqlx::Error> {
        let (n,): (i64,) = self.bind(sqlx::query_as(sql)).fetch_one(&db.pool).await?;
        Ok(n)
    }
}

/// How the list finds the members a search's words match.
enum Finder {
    /// No words: only the other conditions.
    Conditions,
    /// SQLite: the FTS5 query, counted from the rows it matches.
    Fts5 { query: String },
    /// PostgreSQL: the tsquery, matched against `memberships.search`.
    TextSearch { query: String },
}

/// The conditions of the filter (not of the place in the list or of a search's words). Only
/// the filters in use are written, so each statement can use the index that serves them.
fn conditions(org_id: i64, f: &MemberFilter) -> Statement {
    let mut s = Statement::default();
    let org = s.value(Value::Int(org_id));
    s.condition(format!("m.org_id = {org}"));
    if let Some(status) = f.status {
        let v = s.value(Value::Text(status.key().into()));
        s.condition(format!("m.status = {v}"));
    }
    if let Some(area) = f.area {
        let v = s.value(Value::Int(area));
        s.condition(format!("m.service_area_id = {v}"));
    }
    if let Some(role) = f.role {
        let v = s.value(Value::Int(role));
        s.condition(format!("m.role_id = {v}"));
    }
    if f.agreement_pending {
        s.condition(super::eula::not_accepted_current("m.account_id", &org));
    }
    if let Search::AddressPrefix(prefix) = f.search() {
        let from = s.value(Value::Text(prefix.clone()));
        let to = s.value(Value::Text(Search::prefix_end(&prefix)));
        s.condition(format!("m.email >= {from} AND m.email < {to}"));
    }
    s
}

/// Every member the filter matches, its search words included, as conditions on `m`
/// (memberships) for a statement that acts on all of them at once.
pub(super) fn matching(backend: Backend, org_id: i64, f: &MemberFilter) -> Statement {
    let mut s = conditions(org_id, f);
    if let Search::Words(words) = f.search() {
        if words.is_empty() {
            s.condition("1 = 0");
        } else {
            match backend {
                Backend::Sqlite => {
                    let v = s.value(Value::Text(Search::fts5_query(&words)));
                    s.condition(format!("m.id IN (SELECT rowid FROM member_search WHERE member_search MATCH {v})"));
                }
                Backend::Postgres => {
                    let v = s.value(Value::Text(Search::tsquery(&words)));
                    s.condition(format!("m.search @@ CAST({v} AS tsquery)"));
                }
            }
        }
    }
    s
}

/// The members of the list at `s`'s conditions, at most `limit` in list order from where
/// `s` starts (`backwards` from its end).
fn picked(s: &mut Statement, backwards: bool, limit: i64) -> String {
    let direction = if backwards { "DESC" } else { "ASC" };
    let limit = s.value(Value::Int(limit));
    format!("SELECT m.id, m.email FROM memberships m WHERE {} ORDER BY m.email {direction} LIMIT {limit}", s.filter())
}

/// The page's rows in full; `before` holds common table expressions `picked` reads.
async fn page_rows(
    db: &Db,
    before: &str,
    picked: &str,
    s: &Statement,
    backwards: bool,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    page_rows_and(db, before, picked, s, backwards, "").await
}

/// [`page_rows`] with more columns after the row's, `also` (", expression AS name"), read as `O`.
async fn page_rows_and<O>(
    db: &Db,
    before: &str,
    picked: &str,
    s: &Statement,
    backwards: bool,
    also: &str,
) -> Result<Vec<O>, sqlx::Error>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let direction = if backwards { "DESC" } else { "ASC" };
    let sql = format!(
        "WITH {before} picked AS ({picked})
         SELECT m.id, a.email, a.first_name, a.last_name, m.status, s.name AS area, r.name AS role,
                inviter.email AS invited_by, m.created_at, m.activated_at,
                inv.reminders_sent, inv.expires_at AS invitation_expires_at{also}
         FROM picked p
         JOIN memberships m ON m.id = p.id
         JOIN accounts a ON a.id = m.account_id
         JOIN roles r ON r.id = m.role_id
         LEFT JOIN service_areas s ON s.id = m.service_area_id
         LEFT JOIN accounts inviter ON inviter.id = m.invited_by
         LEFT JOIN invitations inv ON inv.membership_id = m.id AND inv.status = 'pending' AND m.status = 'pending'
         ORDER BY p.email {direction}"
    );
    s.bind(sqlx::query_as(&sql)).fetch_all(&db.pool).await
}

/// One page of members at the filter's place in the list, and how many match. The page is
/// picked from memberships alone (each carries its address) and only its rows are joined to
/// accounts, roles, areas and inviters.
pub async fn page(db: &Db, org_id: i64, f: &MemberFilter) -> Result<Listed, sqlx::Error> {
    let seek = f.seek();
    let backwards = seek.backwards();
    let base = conditions(org_id, f);
    let (mut rows, total) = match f.search() {
        // Only separators typed (`***`): nothing to look for, and nothing either side of it.
        Search::Words(words) if words.is_empty() => {
            return Ok(Listed { rows: vec![], total: 0, has_previous: false, has_next: false })
        }
        Search::Words(words) => match db.backend {
            Backend::Sqlite => sqlite_search(db, &base, &seek, &words).await?,
            Backend::Postgres => postgres_search(db, &base, &seek, &words).await?,
        },
        search => {
            let mut s = base.at(&seek);
            let rows = page_rows(db, "", &picked(&mut s, backwards, PAGE_SIZE + 1), &s, backwards).await?;
            // The kept counts know statuses, areas and roles, not who accepted what.
            let total = if search == Search::Everyone && !f.agreement_pending {
                kept_count(db, org_id, f).await?
            } else {
                count_in_order(db, &base, Finder::Conditions).await?
            };
            (rows, total)
        }
    };
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    if backwards {
        rows.reverse();
    }
    let (has_previous, has_next) = match &seek {
        Seek::First => (false, more),
        // The key came from a row of the list, so the list goes on past it.
        Seek::After(_) => (true, more),
        Seek::Before(_) => (more, true),
        Seek::Last => (more, false),
        Seek::From(key) => (any_before(db, org_id, f, key).await?, more),
    };
    Ok(Listed { rows, total, has_previous, has_next })
}

/// SQLite: the page starts from the FTS5 rows the words match. (A walk of the list in order
/// that asks FTS5 about each member costs a scan of a prefix's whole doclist per member, far
/// more than collecting a common word's rows once.)
async fn sqlite_search(
    db: &Db,
    base: &Statement,
    seek: &Seek,
    words: &[String],
) -> Result<(Vec<MemberRow>, i64), sqlx::Error> {
    let query = Search::fts5_query(words);
    let mut s = base.at(seek);
    let v = s.value(Value::Text(query.clone()));
    s.condition(format!("m.id IN (SELECT rowid FROM member_search WHERE member_search MATCH {v})"));
    let rows = page_rows(db, "", &picked(&mut s, seek.backwards(), PAGE_SIZE + 1), &s, seek.backwards()).await?;
    Ok((rows, count_in_order(db, base, Finder::Fts5 { query }).await?))
}

/// PostgreSQL: the page among the first `SEARCH_WINDOW` members in order, else from the index.
/// The query is cast, not parsed: its words are lexemes already, as the index's are.
async fn postgres_search(
    db: &Db,
    base: &Statement,
    seek: &Seek,
    words: &[String],
) -> Result<(Vec<MemberRow>, i64), sqlx::Error> {
    let query = Search::tsquery(words);
    let backwards = seek.backwards();
    let direction = if backwards { "DESC" } else { "ASC" };
    let mut s = base.at(seek);
    let window = s.value(Value::Int(SEARCH_WINDOW));
    let v = s.value(Value::Text(query.clone()));
    let limit = s.value(Value::Int(PAGE_SIZE + 1));
    let in_window = format!(
        "SELECT w.id, w.email FROM (SELECT m.id, m.email, m.search FROM memberships m WHERE {} ORDER BY m.email {direction}
                                    LIMIT {window}) w
         WHERE w.search @@ CAST({v} AS tsquery) ORDER BY w.email {direction} LIMIT {limit}",
        s.filter()
    );
    let rows = page_rows(db, "", &in_window, &s, backwards).await?;
    if rows.len() as i64 > PAGE_SIZE {
        return Ok((rows, count_in_order(db, base, Finder::TextSearch { query }).await?));
    }
    let mut s = base.at(seek);
    let before = matched(&mut s, &query);
    let limit = s.value(Value::Int(PAGE_SIZE + 1));
    let from_index = format!("SELECT id, email FROM matched ORDER BY email {direction} LIMIT {limit}");
    if !matches!(seek, Seek::First | Seek::Last) {
        let rows = page_rows(db, &before, &from_index, &s, backwards).await?;
        return Ok((rows, count_from_index(db, base, &query).await?));
    }
    // At either end the page's matches are all of them: one pass reads the page and the count.
    #[derive(sqlx::FromRow)]
    struct Counted {
        #[sqlx(flatten)]
        row: MemberRow,
        total: i64,
    }
    let count_limit = s.value(Value::Int(SEARCH_COUNT_LIMIT + 1));
    let total = format!(", (SELECT COUNT(*) FROM (SELECT 1 FROM matched LIMIT {count_limit}) x) AS total");
    let rows: Vec<Counted> = page_rows_and(db, &before, &from_index, &s, backwards, &total).await?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok((rows.into_iter().map(|r| r.row).collect(), total))
}

/// PostgreSQL: `matched`, the members of `s`'s conditions whose words match, found through the
/// GIN index. Materialized, so the planner cannot turn it into a walk of the whole list (it
/// guesses 2% of the rows for any prefix query, and a walk looks cheap for a page of 2%).
fn matched(s: &mut Statement, query: &str) -> String {
    let v = s.value(Value::Text(query.into()));
    format!(
        "matched AS MATERIALIZED (SELECT m.id, m.email FROM memberships m
                                  WHERE {} AND m.search @@ CAST({v} AS tsquery)),",
        s.filter()
    )
}

/// How many members match, up to `SEARCH_COUNT_LIMIT` + 1, looking through the list in order:
/// cheap when matches are common or the conditions narrow. SQLite drives it from the FTS5
/// rows instead, which stops at the limit either way.
async fn count_in_order(db: &Db, base: &Statement, finder: Finder) -> Result<i64, sqlx::Error> {
    let mut s = base.clone();
    match finder {
        Finder::Conditions => {
            let limit = s.value(Value::Int(SEARCH_COUNT_LIMIT + 1));
            s.scalar(
                db,
                &format!("SELECT COUNT(*) FROM (SELECT 1 FROM memberships m WHERE {} LIMIT {limit}) x", s.filter()),
            )
            .await
        }
        Finder::Fts5 { query } => {
            let v = s.value(Value::Text(query));
            let limit = s.value(Value::Int(SEARCH_COUNT_LIMIT + 1));
            s.scalar(
                db,
                &format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM member_search f CROSS JOIN memberships m
                     WHERE f.member_search MATCH {v} AND m.id = f.rowid AND {} LIMIT {limit}) x",
                    s.filter()
                ),
            )
            .await
        }
        Finder::TextSearch { query } => {
            let window = s.value(Value::Int(COUNT_WINDOW));
            let v = s.value(Value::Text(query.clone()));
            let sql = format!(
                "SELECT CAST(COUNT(*) FILTER (WHERE w.search @@ CAST({v} AS tsquery)) AS BIGINT) * 2
                        + CASE WHEN COUNT(*) < {window} THEN 1 ELSE 0 END
                 FROM (SELECT m.search FROM memberships m WHERE {} ORDER BY m.email LIMIT {window}) w",
                s.filter()
            );
            // Twice the matches, plus one when the window held the whole list: one round trip.
            let packed = s.scalar(db, &sql).await?;
            let (matches, whole_list) = (packed / 2, packed % 2 == 1);
            if matches > SEARCH_COUNT_LIMIT || whole_list {
                Ok(matches.min(SEARCH_COUNT_LIMIT + 1))
            } else {
                count_from_index(db, base, &query).await
            }
        }
    }
}

/// PostgreSQL: how many members match, up to `SEARCH_COUNT_LIMIT` + 1, from the GIN index.
async fn count_from_index(db: &Db, base: &Statement, query: &str) -> Result<i64, sqlx::Error> {
    let mut s = base.clone();
    let before = matched(&mut s, query);
    let limit = s.value(Value::Int(SEARCH_COUNT_LIMIT + 1));
    let sql =
        format!("WITH {} SELECT COUNT(*) FROM (SELECT 1 FROM matched LIMIT {limit}) x", before.trim_end_matches(','));
    s.scalar(db, &sql).await
}

/// Whether a member of the filter comes before `key` ("jump to letter" has a page before it).
async fn any_before(db: &Db, org_id: i64, f: &MemberFilter, key: &str) -> Result<bool, sqlx::Error> {
    let mut s = conditions(org_id, f).at(&Seek::Before(key.into()));
    let sql = match (f.search(), db.backend) {
        (Search::Words(words), Backend::Sqlite) => {
            let v = s.value(Value::Text(Search::fts5_query(&words)));
            format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM member_search f CROSS JOIN memberships m
                 WHERE f.member_search MATCH {v} AND m.id = f.rowid AND {} LIMIT 1) x",
                s.filter()
            )
        }
        (Search::Words(words), Backend::Postgres) => {
            let before = matched(&mut s, &Search::tsquery(&words));
            format!("WITH {} SELECT COUNT(*) FROM (SELECT 1 FROM matched LIMIT 1) x", before.trim_end_matches(','))
        }
        _ => format!("SELECT COUNT(*) FROM (SELECT 1 FROM memberships m WHERE {} LIMIT 1) x", s.filter()),
    };
    Ok(s.scalar(db, &sql).await? > 0)
}

/// How many members match a filter without a search: the kept counts per status, area and
/// role (`member_counts`) answer at once.
async fn kept_count(db: &Db, org_id: i64, f: &MemberFilter) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(members), 0) AS BIGINT) FROM member_counts
         WHERE org_id = $1 AND ($2 = '' OR status = $2) AND ($3 = 0 OR service_area_id = $3) AND ($4 = 0 OR role_id = $4)",
    )
    .bind(org_id)
    .bind(f.status.map(|s| s.key()).unwrap_or_default())
    .bind(f.area.unwrap_or(0))
    .bind(f.role.unwrap_or(0))
    .fetch_one(&db.pool)
    .await?;
    Ok(n)
}
