//! The audit log.

use super::*;
use insitu_store::AuditStore;

impl AuditStore for PgStore {
    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let entry = append(&tx, event).await?;
            tx.commit().await?;
            Ok(entry)
        })
    }

    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(&**c, "SELECT entry FROM audit ORDER BY seq", &[]).await
        })
    }
}
