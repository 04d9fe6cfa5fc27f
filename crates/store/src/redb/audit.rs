//! The audit chains and their checkpoints.

use super::*;

impl AuditStore for RedbStore {
    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.write(|tx| append(tx, event))
    }

    fn audit_chain(
        &self,
        chain: Chain,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let from = after.map_or(0, |s| s.saturating_add(1));
        if after == Some(u64::MAX) {
            return Ok(Vec::new());
        }
        let rows: Vec<Result<AuditEntry, StoreError>> = if chain.is_legacy() {
            let t = tx.open_table(AUDIT).map_err(db)?;
            t.range(from..)
                .map_err(db)?
                .take(limit)
                .map(|r| r.map_err(db).and_then(|(_, v)| from_json(v.value())))
                .collect()
        } else {
            let (k, p) = chain_key(chain);
            let t = tx.open_table(AUDIT_CHAINS).map_err(db)?;
            t.range((k, p, from)..=(k, p, u64::MAX))
                .map_err(db)?
                .take(limit)
                .map(|r| r.map_err(db).and_then(|(_, v)| from_json(v.value())))
                .collect()
        };
        rows.into_iter().collect()
    }

    fn audit_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let mut heads: Vec<ChainHead> = legacy_head(&tx.open_table(AUDIT).map_err(db)?)?
            .into_iter()
            .collect();
        let t = tx.open_table(AUDIT_HEADS).map_err(db)?;
        for r in t.iter().map_err(db)? {
            let (_, v) = r.map_err(db)?;
            heads.push(from_json(v.value())?);
        }
        Ok(heads)
    }

    fn audit_head(&self, chain: Chain) -> Result<Option<ChainHead>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        if chain.is_legacy() {
            return legacy_head(&tx.open_table(AUDIT).map_err(db)?);
        }
        let t = tx.open_table(AUDIT_HEADS).map_err(db)?;
        match t.get(chain_key(chain)).map_err(db)? {
            Some(v) => Ok(Some(from_json(v.value())?)),
            None => Ok(None),
        }
    }

    fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let number = checkpoint.signed.number;
        self.write(|tx| {
            let mut t = tx.open_table(CHECKPOINTS).map_err(db)?;
            let latest = t.last().map_err(db)?.map(|(k, _)| k.value()).unwrap_or(0);
            if number != latest + 1 {
                return Err(StoreError::CheckpointTaken(number));
            }
            t.insert(number, to_json(checkpoint)?.as_str())
                .map_err(db)?;
            Ok(())
        })
    }

    fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(CHECKPOINTS).map_err(db)?;
        match t.last().map_err(db)? {
            Some((_, v)) => Ok(Some(from_json(v.value())?)),
            None => Ok(None),
        }
    }

    fn latest_checkpoint_number(&self) -> Result<Option<u64>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(CHECKPOINTS).map_err(db)?;
        Ok(t.last().map_err(db)?.map(|(k, _)| k.value()))
    }

    fn checkpoint(&self, number: u64) -> Result<Option<Checkpoint>, StoreError> {
        self.read_json(CHECKPOINTS, number)
    }
}
