//! The audit chains and their checkpoints.

use super::*;
use insitu_store::AuditStore;

impl AuditStore for PgStore {
    fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited_for(&mut c, &cx, &[Chain::of(&event)]).await?;
            append(&tx, event).await?;
            let mut entries = tx.commit_entries().await?;
            entries
                .pop()
                .ok_or_else(|| StoreError::Db("the entry was not appended".into()))
        })
    }

    fn audit_chain(
        &self,
        chain: Chain,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let from: i64 = match after {
            None => 0,
            Some(s) => match i64::try_from(s) {
                Ok(s) if s < i64::MAX => s + 1,
                _ => return Ok(Vec::new()),
            },
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|cx| async move {
            let c = cx.conn().await?;
            if chain.is_legacy() {
                return all(
                    &c,
                    "SELECT entry FROM audit WHERE seq >= $1 ORDER BY seq LIMIT $2",
                    &[&from, &limit],
                )
                .await;
            }
            let (person, kind) = chain_key(chain);
            all(
                &c,
                "SELECT entry FROM audit_entries WHERE person = $1 AND kind = $2 AND seq >= $3 \
                 ORDER BY seq LIMIT $4",
                &[&person, &kind, &from, &limit],
            )
            .await
        })
    }

    fn audit_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let mut heads: Vec<ChainHead> = legacy_head(&c).await?.into_iter().collect();
            let rows = c
                .query(
                    "SELECT person, kind, seq, hash FROM audit_chain_heads WHERE seq >= 0",
                    &[],
                )
                .await
                .map_err(db)?;
            for row in rows {
                heads.push(ChainHead {
                    chain: chain_of_key(row.try_get(0).map_err(db)?, row.try_get(1).map_err(db)?),
                    seq: row.try_get::<_, i64>(2).map_err(db)? as u64,
                    hash: row.try_get(3).map_err(db)?,
                });
            }
            heads.sort_by_key(|h| h.chain);
            Ok(heads)
        })
    }

    fn audit_head(&self, chain: Chain) -> Result<Option<ChainHead>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            if chain.is_legacy() {
                return legacy_head(&c).await;
            }
            let (person, kind) = chain_key(chain);
            let row = c
                .query_opt(
                    "SELECT seq, hash FROM audit_chain_heads WHERE person = $1 AND kind = $2 AND seq >= 0",
                    &[&person, &kind],
                )
                .await
                .map_err(db)?;
            match row {
                None => Ok(None),
                Some(row) => Ok(Some(ChainHead {
                    chain,
                    seq: row.try_get::<_, i64>(0).map_err(db)? as u64,
                    hash: row.try_get(1).map_err(db)?,
                })),
            }
        })
    }

    fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let checkpoint = checkpoint.clone();
        self.with(|cx| async move {
            let number = checkpoint.signed.number;
            let n = i64::try_from(number).map_err(|_| StoreError::CheckpointTaken(number))?;
            let mut c = cx.conn().await?;
            let tx = Tx::plain(&mut c, &cx).await?;
            // One publisher at a time: the checkpoint after the latest, or none.
            tx.execute("LOCK TABLE audit_checkpoints IN EXCLUSIVE MODE", &[])
                .await
                .map_err(db)?;
            let latest: i64 = tx
                .query_one(
                    "SELECT coalesce(max(number), 0) FROM audit_checkpoints",
                    &[],
                )
                .await
                .map_err(db)?
                .try_get(0)
                .map_err(db)?;
            if n != latest + 1 {
                return Err(StoreError::CheckpointTaken(number));
            }
            tx.execute(
                "INSERT INTO audit_checkpoints (number, value) VALUES ($1, $2)",
                &[&n, &json(&checkpoint)],
            )
            .await
            .map_err(db)?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(
                &c,
                "SELECT value FROM audit_checkpoints ORDER BY number DESC LIMIT 1",
                &[],
            )
            .await
        })
    }

    fn latest_checkpoint_number(&self) -> Result<Option<u64>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            // The primary key's last entry: an index-only read, not the checkpoint's value.
            let row = c
                .query_one("SELECT max(number) FROM audit_checkpoints", &[])
                .await
                .map_err(db)?;
            Ok(row
                .try_get::<_, Option<i64>>(0)
                .map_err(db)?
                .map(|n| n as u64))
        })
    }

    fn checkpoint(&self, number: u64) -> Result<Option<Checkpoint>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let n = i64::try_from(number).unwrap_or(-1);
            one(
                &c,
                "SELECT value FROM audit_checkpoints WHERE number = $1",
                &[&n],
            )
            .await
        })
    }
}
