//! Run records.

use super::*;
use insitu_store::RunStore;

/// Runs read at a time by `visit_runs_since`, which calls back in the caller's thread.
const VISIT_PAGE: i64 = 256;

impl RunStore for PgStore {
    fn record_run(&self, run: RunRecord) -> Result<RunRecord, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited_for(&mut c, &cx, &[Chain::Person(run.person)]).await?;
            let run = insert_run(&tx, run).await?;
            tx.commit().await?;
            Ok(run)
        })
    }

    fn reserve_run_ids(&self, n: u64) -> Result<u64, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::plain(&mut c, &cx).await?;
            let first = take_ids(&tx, "run", n).await?;
            tx.commit().await?;
            Ok(first)
        })
    }

    fn begin_run(&self, mut run: RunRecord) -> Result<RunRecord, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::plain(&mut c, &cx).await?;
            run.id = next_id(&tx, "run").await?;
            put_run(&tx, &run).await?;
            tx.commit().await?;
            Ok(run)
        })
    }

    fn finish_run(&self, run: RunRecord) -> Result<RunRecord, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited_for(&mut c, &cx, &[Chain::Person(run.person)]).await?;
            let begun: Option<RunRecord> =
                one(&tx, "SELECT value FROM runs WHERE id = $1", &[&key(run.id)]).await?;
            let run = match begun {
                Some(b) if b.outcome == insitu_model::meter::Outcome::Running => {
                    audit_run(&tx, run).await?
                }
                Some(_) => return Err(StoreError::NotRunning(run.id)),
                None => return Err(StoreError::NoRun(run.id)),
            };
            tx.commit().await?;
            Ok(run)
        })
    }

    fn runs_by_id(&self, ids: &[u64]) -> Result<Vec<RunRecord>, StoreError> {
        let ids: Vec<i64> = ids.iter().map(|&id| key(id)).collect();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM runs WHERE id = ANY($1) ORDER BY id",
                &[&ids],
            )
            .await
        })
    }

    fn run(&self, id: u64) -> Result<RunRecord, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(&c, "SELECT value FROM runs WHERE id = $1", &[&key(id)])
                .await?
                .ok_or(StoreError::NoRun(id))
        })
    }

    fn runs(&self, person: Option<PersonId>) -> Result<Vec<RunRecord>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            match person {
                Some(p) => {
                    all(
                        &c,
                        "SELECT value FROM runs WHERE person = $1 ORDER BY id",
                        &[&key(p)],
                    )
                    .await
                }
                None => all(&c, "SELECT value FROM runs ORDER BY id", &[]).await,
            }
        })
    }

    fn running_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            // By the partial index `runs_running` (`V6`).
            all(&c, "SELECT value FROM runs WHERE running ORDER BY id", &[]).await
        })
    }

    fn runs_page(&self, owner: &Owner, page: Page) -> Result<Vec<RunRecord>, StoreError> {
        let owner = owner.clone();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            listing(
                &c,
                "runs",
                "",
                "value->>'requester' = $3 AND (value->>'job') IS NULL",
                &owner,
                page,
            )
            .await
        })
    }

    fn visit_runs_since(
        &self,
        since_ms: i64,
        before: u64,
        visit: &mut dyn FnMut(&RunRecord) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let before = i64::try_from(before).unwrap_or(i64::MAX);
        // The first run started at or after `since_ms`, by the index on start times (redb
        // searches ids for it; both start there when start times follow ids, and this one
        // never starts after a run it should visit).
        let first: Option<i64> = self.with(|cx| async move {
            let c = cx.conn().await?;
            let row = c
                .query_one(
                    "SELECT min(id) FROM runs WHERE started_ms >= $1 AND id < $2",
                    &[&since_ms, &before],
                )
                .await
                .map_err(db)?;
            row.try_get(0).map_err(db)
        })?;
        let Some(mut from) = first else {
            return Ok(());
        };
        // Pages of runs in id order, each visited here in the caller's thread.
        loop {
            let page: Vec<(i64, RunRecord)> = self.with(|cx| async move {
                let c = cx.conn().await?;
                let rows = c
                    .query(
                        "SELECT id, value FROM runs WHERE id >= $1 AND id < $2 \
                         ORDER BY id LIMIT $3",
                        &[&from, &before, &VISIT_PAGE],
                    )
                    .await
                    .map_err(db)?;
                rows.iter()
                    .map(|r| Ok((r.try_get(0).map_err(db)?, from_row(r, 1)?)))
                    .collect()
            })?;
            let full = page.len() as i64 == VISIT_PAGE;
            for (id, run) in &page {
                if !visit(run)? {
                    return Ok(());
                }
                from = id + 1;
            }
            if !full {
                return Ok(());
            }
        }
    }
}
