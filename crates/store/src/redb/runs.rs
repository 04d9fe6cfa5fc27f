//! Run records.

use super::*;

impl RunStore for RedbStore {
    fn exclusive(&self) -> bool {
        true
    }

    fn record_run(&self, run: RunRecord) -> Result<RunRecord, StoreError> {
        self.write(|tx| insert_run(tx, run))
    }

    fn reserve_run_ids(&self, n: u64) -> Result<u64, StoreError> {
        self.write(|tx| {
            let mut t = tx.open_table(COUNTERS).map_err(db)?;
            let last = t.get("run").map_err(db)?.map(|v| v.value()).unwrap_or(0);
            let end = last
                .checked_add(n)
                .ok_or_else(|| StoreError::Db("run ids exhausted".into()))?;
            t.insert("run", end).map_err(db)?;
            Ok(last + 1)
        })
    }

    fn begin_run(&self, mut run: RunRecord) -> Result<RunRecord, StoreError> {
        self.write(|tx| {
            run.id = next_id(tx, "run")?;
            put_run(tx, &run)?;
            Ok(run)
        })
    }

    fn finish_run(&self, run: RunRecord) -> Result<RunRecord, StoreError> {
        self.write(|tx| {
            let begun: Option<RunRecord> = get_json(tx, RUNS, run.id)?;
            match begun {
                Some(b) if b.outcome == insitu_model::meter::Outcome::Running => audit_run(tx, run),
                Some(_) => Err(StoreError::NotRunning(run.id)),
                None => Err(StoreError::NoRun(run.id)),
            }
        })
    }

    fn run(&self, id: u64) -> Result<RunRecord, StoreError> {
        self.read_json(RUNS, id)?.ok_or(StoreError::NoRun(id))
    }

    fn runs(&self, person: Option<PersonId>) -> Result<Vec<RunRecord>, StoreError> {
        match person {
            None => self.all_json(RUNS),
            Some(p) => self.all_of(RUNS, "runs", p, |r: &RunRecord| r.id),
        }
    }

    fn running_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.listed_rows(RUNS, "running-runs", "")
    }

    fn runs_page(&self, owner: &Owner, page: Page) -> Result<Vec<RunRecord>, StoreError> {
        self.page_json(RUNS, "runs", owner, page)
    }

    fn visit_runs_since(
        &self,
        since_ms: i64,
        before: u64,
        visit: &mut dyn FnMut(&RunRecord) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(RUNS).map_err(db)?;
        let started = |id: u64| -> Result<Option<i64>, StoreError> {
            match t.get(id).map_err(db)? {
                Some(v) => Ok(Some(from_json::<RunRecord>(v.value())?.started_ms)),
                None => Ok(None),
            }
        };
        // Binary search over ids for the first run started at or after `since_ms` (ids run
        // from 1 without gaps, except where a person's runs were erased).
        let last = t.last().map_err(db)?.map(|(k, _)| k.value()).unwrap_or(0);
        let (mut lo, mut hi) = (1u64, last.min(before.saturating_sub(1)) + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match started(mid)? {
                Some(ms) if ms < since_ms => lo = mid + 1,
                _ => hi = mid,
            }
        }
        for entry in t.range(lo..before).map_err(db)? {
            let (_, v) = entry.map_err(db)?;
            if !visit(&from_json(v.value())?)? {
                break;
            }
        }
        Ok(())
    }
}
