//! The onboarding funnel as Tools › Onboarding › Funnel shows it, and as its CSV export gives it.

use super::db::{self, Db};
use super::exports::{csv_lines, header, Cell};
use crate::domain::funnel::{Funnel, FunnelScope, ScopeChoice};
use crate::AppError;

/// The funnel of `scope`, with the scopes it can be switched to. A batch, service area or team
/// that is not the organization's is not found.
pub async fn load(db: &Db, org_id: i64, scope: FunnelScope) -> Result<Funnel, AppError> {
    let mut funnel = counted(db, org_id, scope).await?;
    funnel.choices = db::funnel::choices(db, org_id).await?;
    // A batch older than those offered, reached from its own page, is offered too.
    if !funnel.choices.iter().any(|c| c.scope == scope) {
        funnel.choices.insert(1, ScopeChoice { scope, label: funnel.scope_label.clone() });
    }
    Ok(funnel)
}

/// The funnel of `scope` alone, with no scopes to switch to: what the export needs.
pub async fn counted(db: &Db, org_id: i64, scope: FunnelScope) -> Result<Funnel, AppError> {
    let scope_label = db::funnel::scope_label(db, org_id, scope).await?.ok_or(AppError::NotFound)?;
    let (stages, possible_scanners, agreement_pending) = db::funnel::stages(db, org_id, scope).await?;
    Ok(Funnel { scope, scope_label, stages, possible_scanners, agreement_pending, choices: Vec::new() })
}

/// The funnel as CSV: step, reached, conversion_percent (from the previous step),
/// median_seconds (from the previous step), one line per step; then the opens kept apart as
/// possible mail scanners' and the Active members whose agreement is pending, as steps of their
/// own with only a count.
pub fn csv(f: &Funnel) -> String {
    let mut out = header(&["step", "reached", "conversion_percent", "median_seconds"]);
    let stages = f.stages.iter().enumerate().map(|(i, s)| {
        vec![
            Cell::Text(s.step.key()),
            Cell::Number(s.reached),
            Cell::Owned(f.conversion_percent(i).map(|p| format!("{p:.1}")).unwrap_or_default()),
            Cell::Owned(s.median_ms.map(|ms| (ms / 1000).to_string()).unwrap_or_default()),
        ]
    });
    let apart =
        [("link-opened-possible-scanner-only", f.possible_scanners), ("active-agreement-pending", f.agreement_pending)]
            .map(|(step, n)| vec![Cell::Text(step), Cell::Number(n), Cell::Text(""), Cell::Text("")]);
    out.push_str(&csv_lines(stages.chain(apart)));
    out
}
