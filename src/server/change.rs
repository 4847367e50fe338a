//! An audited change: one transaction that records who did what before it commits, so the
//! audit log can never miss an admin action or record one that did not happen.

use super::auth::{state, Caller};
use crate::AppError;
use sqlx::{Any, Transaction};
use std::ops::{Deref, DerefMut};

pub struct AuditedChange {
    tx: Transaction<'static, Any>,
    org_id: i64,
    actor: i64,
}

impl AuditedChange {
    pub async fn begin(caller: &Caller) -> Result<Self, AppError> {
        let tx = state().db.begin().await?;
        Ok(Self { tx, org_id: caller.org_id, actor: caller.account_id })
    }

    pub async fn commit(mut self, action: &str, detail: &str) -> Result<(), AppError> {
        super::db::audit::record(&mut self.tx, self.org_id, self.actor, action, detail).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl Deref for AuditedChange {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl DerefMut for AuditedChange {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}
