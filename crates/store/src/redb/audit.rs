//! The audit log.

use super::*;

impl AuditStore for RedbStore {
    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.write(|tx| append(tx, event))
    }

    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        self.all_json(AUDIT)
    }
}
