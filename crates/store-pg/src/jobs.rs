//! Campaigns and studies: policy, jobs, members, budgets and billing records.

use super::ledger::put_setting;
use super::*;
use insitu_model::job::{
    Answer, AnswerRefused, BillingRecord, Claim, Job, Member, Policy, RunSlot, Task, budget_admits,
};
use insitu_store::JobStore;
use std::collections::HashMap;

/// A claim's read: the job's first free tasks in run order, locked. SKIP LOCKED: a task another
/// node is claiming right now is left to it.
///
/// A task whose member has a result is never claimed; its membership is looked up per task
/// read, by the index, and `OFFSET 0` keeps it so: without it PostgreSQL turns the `NOT EXISTS`
/// into a hash anti-join that reads every member the job has committed and sorts every task
/// left, on every claim, so that a job's claims cost grew with the square of its members
/// (23 ms a claim halfway through 10,000). Read this way, a claim reads the tasks it takes and
/// those leased ahead of them (`claims_read_only_the_tasks_they_take`).
pub(crate) const CLAIM_SQL: &str = "SELECT run, person, grant_id, attempt FROM job_tasks t \
     WHERE job = $1 AND lease_until <= $2 AND NOT EXISTS ( \
         SELECT 1 FROM memberships m WHERE m.person = t.person AND m.job = t.job OFFSET 0) \
     ORDER BY run LIMIT $3 FOR UPDATE SKIP LOCKED";

async fn put_member(tx: &Tx<'_>, job: u64, m: &Member) -> Res<()> {
    tx.execute(
        "INSERT INTO memberships (person, job, value) VALUES ($1, $2, $3) \
         ON CONFLICT (person, job) DO UPDATE SET value = EXCLUDED.value",
        &[&key(m.person), &key(job), &json(m)],
    )
    .await
    .map_err(db)?;
    Ok(())
}

async fn spent_in(tx: &Tx<'_>, person: PersonId, period: &str) -> Res<u64> {
    let row = tx
        .query_opt(
            "SELECT spent FROM budgets WHERE person = $1 AND period = $2",
            &[&key(person), &period],
        )
        .await
        .map_err(db)?;
    Ok(match row {
        Some(r) => r.try_get::<_, i64>(0).map_err(db)? as u64,
        None => 0,
    })
}

async fn set_spent(tx: &Tx<'_>, person: PersonId, period: &str, spent: u64) -> Res<()> {
    let spent = i64::try_from(spent).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO budgets (person, period, spent) VALUES ($1, $2, $3) \
         ON CONFLICT (person, period) DO UPDATE SET spent = EXCLUDED.spent",
        &[&key(person), &period, &spent],
    )
    .await
    .map_err(db)?;
    Ok(())
}

impl JobStore for PgStore {
    fn policy(&self) -> Result<Policy, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let p: Option<Policy> =
                one(&c, "SELECT value FROM settings WHERE name = 'policy'", &[]).await?;
            Ok(p.unwrap_or_default())
        })
    }

    fn set_policy(&self, p: &Policy) -> Result<(), StoreError> {
        let p = p.clone();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            put_setting(&tx, "policy", &p).await?;
            append(
                &tx,
                AuditEvent::PolicySet {
                    k_floor: p.k_floor,
                    campaign_gap_days: p.campaign_gap_days,
                    epsilon_per_month_micro: p.epsilon_per_month_micro,
                    commission_bps: p.commission_bps,
                },
            )
            .await?;
            tx.commit().await
        })
    }

    fn add_job(&self, mut job: Job) -> Result<Job, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            job.id = next_id(&tx, "job").await?;
            tx.execute(
                "INSERT INTO jobs (id, value) VALUES ($1, $2)",
                &[&key(job.id), &json(&job)],
            )
            .await
            .map_err(db)?;
            append(
                &tx,
                AuditEvent::JobOpened {
                    job: job.id,
                    job_kind: job.kind_label().into(),
                    owner: job.owner.clone(),
                    digest: job.plugin_digest.clone(),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(job)
        })
    }

    fn job(&self, id: u64) -> Result<Job, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            one(&c, "SELECT value FROM jobs WHERE id = $1", &[&key(id)])
                .await?
                .ok_or(StoreError::NoJob(id))
        })
    }

    fn jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(&c, "SELECT value FROM jobs ORDER BY id", &[]).await
        })
    }

    fn running_jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            // By the partial index `jobs_running` (`V6`).
            all(
                &c,
                "SELECT value FROM jobs WHERE (value->'status'->>'state') = 'running' \
                 ORDER BY id",
                &[],
            )
            .await
        })
    }

    fn jobs_since(&self, since_ms: i64) -> Result<Vec<Job>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            // By the index `jobs_created` (`V6`).
            all(
                &c,
                "SELECT value FROM jobs WHERE ((value->>'created_ms')::bigint) >= $1 \
                 ORDER BY id",
                &[&since_ms],
            )
            .await
        })
    }

    fn record_members(
        &self,
        job: u64,
        members: Vec<(Option<RunRecord>, Member)>,
    ) -> Result<u64, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited_by_people(&mut c, &cx).await?;
            let found = tx
                .query_opt("SELECT 1 FROM jobs WHERE id = $1", &[&key(job)])
                .await
                .map_err(db)?;
            if found.is_none() {
                return Err(StoreError::NoJob(job));
            }
            // The members the job has, read in one statement; decided here in the members'
            // order (a person named twice is recorded once, as one after the other would be);
            // runs, members and finished tasks written in a few statements for the batch.
            let people: Vec<i64> = members.iter().map(|(_, m)| key(m.person)).collect();
            let mut already: std::collections::HashSet<u64> = tx
                .query(
                    "SELECT person FROM memberships WHERE job = $1 AND person = ANY($2)",
                    &[&key(job), &people],
                )
                .await
                .map_err(db)?
                .iter()
                .map(|r| r.try_get::<_, i64>(0).map(|p| p as u64).map_err(db))
                .collect::<Res<_>>()?;
            // (member, its run to store) in order; a new run's id is taken below.
            let mut recorded: Vec<(Member, Option<(RunRecord, RunSlot)>)> = Vec::new();
            for (run, m) in members {
                let is_in = !already.insert(m.person);
                // The model's rule decides; the run it hands back is stored below (the closure
                // only says which way, since storing is async).
                let mut to_store: Option<(RunRecord, RunSlot)> = None;
                let stored = m.record(job, is_in, run, |run, slot| {
                    let id = match slot {
                        RunSlot::Reserved => run.id,
                        RunSlot::New => 0,
                    };
                    to_store = Some((run, slot));
                    Ok::<_, StoreError>(id)
                })?;
                if let Some(m) = stored {
                    recorded.push((m, to_store));
                }
            }
            let new = recorded
                .iter()
                .filter(|(_, r)| matches!(r, Some((_, RunSlot::New))))
                .count() as u64;
            let mut next = match new {
                0 => 0,
                n => take_ids(&tx, "run", n).await?,
            };
            let mut runs = Vec::new();
            for (m, to_store) in &mut recorded {
                if let Some((mut run, slot)) = to_store.take() {
                    if slot == RunSlot::New {
                        run.id = next;
                        next += 1;
                    }
                    m.run = run.id;
                    append(&tx, AuditEvent::run(&run)).await?;
                    runs.push(run);
                }
            }
            put_runs(&tx, &runs).await?;
            let added = recorded.len() as u64;
            if added > 0 {
                let (mut who, mut values, mut done) = (vec![], vec![], vec![]);
                for (m, _) in &recorded {
                    who.push(key(m.person));
                    values.push(json(m));
                    // Its task, if it had one, is done.
                    done.push(key(m.run));
                }
                tx.execute(
                    "INSERT INTO memberships (person, job, value) \
                     SELECT person, $1, value FROM unnest($2::bigint[], $3::json[]) \
                         AS u(person, value) \
                     ON CONFLICT (person, job) DO UPDATE SET value = EXCLUDED.value",
                    &[&key(job), &who, &values],
                )
                .await
                .map_err(db)?;
                tx.execute(
                    "DELETE FROM job_tasks WHERE job = $1 AND run = ANY($2)",
                    &[&key(job), &done],
                )
                .await
                .map_err(db)?;
            }
            tx.commit().await?;
            Ok(added)
        })
    }

    fn enqueue_tasks(&self, job: u64, tasks: &[Task]) -> Result<bool, StoreError> {
        let tasks = tasks.to_vec();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::plain(&mut c, &cx).await?;
            let made = tx
                .execute(
                    "INSERT INTO job_queues (job, tasks) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&key(job), &(tasks.len() as i64)],
                )
                .await
                .map_err(db)?;
            if made == 0 {
                return Ok(false);
            }
            let runs: Vec<i64> = tasks.iter().map(|t| key(t.run)).collect();
            let people: Vec<i64> = tasks.iter().map(|t| key(t.person)).collect();
            let grants: Vec<i64> = tasks.iter().map(|t| key(t.grant)).collect();
            tx.execute(
                "INSERT INTO job_tasks (job, run, person, grant_id) \
                 SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[])",
                &[&key(job), &runs, &people, &grants],
            )
            .await
            .map_err(db)?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn claim_tasks(
        &self,
        job: u64,
        node: &str,
        max: usize,
        lease_until_ms: i64,
    ) -> Result<Vec<Claim>, StoreError> {
        let node = node.to_string();
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited_by_people(&mut c, &cx).await?;
            let rows = tx
                .query(CLAIM_SQL, &[&key(job), &tx.now_ms, &(max as i64)])
                .await
                .map_err(db)?;
            let mut claimed = Vec::with_capacity(rows.len());
            let mut runs = Vec::with_capacity(rows.len());
            for r in rows {
                let (run, person, grant, attempt): (i64, i64, i64, i32) = (
                    r.try_get(0).map_err(db)?,
                    r.try_get(1).map_err(db)?,
                    r.try_get(2).map_err(db)?,
                    r.try_get(3).map_err(db)?,
                );
                runs.push(run);
                let claim = Claim {
                    task: Task {
                        person: person as u64,
                        grant: grant as u64,
                        run: run as u64,
                    },
                    node: node.clone(),
                    lease_until_ms,
                    attempt: attempt as u32 + 1,
                };
                append(
                    &tx,
                    AuditEvent::MemberRunClaimed {
                        job,
                        run: claim.task.run,
                        person: claim.task.person,
                        attempt: claim.attempt,
                    },
                )
                .await?;
                claimed.push(claim);
            }
            // Every claimed task in one statement (they are locked above).
            if !runs.is_empty() {
                tx.execute(
                    "UPDATE job_tasks SET node = $3, lease_until = $4, attempt = attempt + 1 \
                 WHERE job = $1 AND run = ANY($2)",
                    &[&key(job), &runs, &node, &lease_until_ms],
                )
                .await
                .map_err(db)?;
            }
            tx.commit().await?;
            Ok(claimed)
        })
    }

    fn renew_tasks(
        &self,
        job: u64,
        node: &str,
        runs: &[u64],
        lease_until_ms: i64,
    ) -> Result<Vec<u64>, StoreError> {
        let node = node.to_string();
        let runs: Vec<i64> = runs.iter().map(|r| key(*r)).collect();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            // SKIP LOCKED: a task whose row is locked is being committed (its delete, by this
            // node's batch) or claimed (its lease ran out); waiting for it would lock rows in
            // another order than the batch does, and PostgreSQL would break the deadlock by
            // aborting one of the two, the batch's commit perhaps. Never waiting, a renewal
            // cannot be part of a deadlock; a lease it skipped is renewed at the next beat.
            let rows = c
                .query(
                    "UPDATE job_tasks SET lease_until = GREATEST(lease_until, $4) \
                     WHERE job = $1 AND node = $2 AND run IN ( \
                         SELECT run FROM job_tasks \
                         WHERE job = $1 AND node = $2 AND run = ANY($3) \
                         FOR UPDATE SKIP LOCKED) \
                     RETURNING run",
                    &[&key(job), &node, &runs, &lease_until_ms],
                )
                .await
                .map_err(db)?;
            let mut held: Vec<u64> = rows
                .iter()
                .map(|r| r.try_get::<_, i64>(0).map(|v| v as u64).map_err(db))
                .collect::<Res<_>>()?;
            held.sort_unstable();
            Ok(held)
        })
    }

    fn open_tasks(&self, job: u64) -> Result<u64, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let n: i64 = c
                .query_one(
                    "SELECT count(*) FROM job_tasks WHERE job = $1",
                    &[&key(job)],
                )
                .await
                .map_err(db)?
                .try_get(0)
                .map_err(db)?;
            Ok(n as u64)
        })
    }

    fn members(&self, job: u64) -> Result<Vec<Member>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM memberships WHERE job = $1 ORDER BY person",
                &[&key(job)],
            )
            .await
        })
    }

    fn memberships(&self, person: PersonId) -> Result<Vec<Member>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM memberships WHERE person = $1 ORDER BY job",
                &[&key(person)],
            )
            .await
        })
    }

    fn jobs_page(&self, owner: &Owner, page: Page) -> Result<Vec<Job>, StoreError> {
        if let Owner::Person(_) = owner {
            return Ok(Vec::new());
        }
        let owner = owner.clone();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            listing(
                &c,
                "jobs",
                "",
                "(value->>'owner' = $3 OR value->'kind'->>'association' = $3)",
                &owner,
                page,
            )
            .await
        })
    }

    fn memberships_page(&self, person: PersonId, page: Page) -> Result<Vec<Member>, StoreError> {
        let (before, limit) = bounds(&page);
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(
                &c,
                "SELECT value FROM memberships WHERE person = $1 AND job < $2 \
                 ORDER BY job DESC LIMIT $3",
                &[&key(person), &before, &limit],
            )
            .await
        })
    }

    fn answer_invitation(
        &self,
        job: u64,
        person: PersonId,
        answer: Answer,
    ) -> Result<Member, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let j: Job = one(&tx, "SELECT value FROM jobs WHERE id = $1", &[&key(job)])
                .await?
                .ok_or(StoreError::NoJob(job))?;
            let mut m: Member = one(
                &tx,
                "SELECT value FROM memberships WHERE person = $1 AND job = $2",
                &[&key(person), &key(job)],
            )
            .await?
            .ok_or(StoreError::NoInvitation { job, person })?;
            let event = m.answer(&j, answer).map_err(|refused| match refused {
                AnswerRefused::NoInvitation => StoreError::NoInvitation { job, person },
                AnswerRefused::Answered => StoreError::Answered { job, person },
            })?;
            put_member(&tx, job, &m).await?;
            append(&tx, event).await?;
            tx.commit().await?;
            Ok(m)
        })
    }

    fn close_job(
        &self,
        job: &Job,
        billing: Vec<BillingRecord>,
        spend: &[(PersonId, u64)],
        period: &str,
    ) -> Result<Job, StoreError> {
        let (job, spend, period) = (job.clone(), spend.to_vec(), period.to_string());
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let stored: Job = one(&tx, "SELECT value FROM jobs WHERE id = $1", &[&key(job.id)])
                .await?
                .ok_or(StoreError::NoJob(job.id))?;
            // Running ends once, and a finished campaign is settled once (the model's rule).
            if !stored.status.may_become(&job.status) {
                return Err(StoreError::JobClosed(job.id));
            }
            tx.execute(
                "UPDATE jobs SET value = $2 WHERE id = $1",
                &[&key(job.id), &json(&job)],
            )
            .await
            .map_err(db)?;
            let n = billing.len() as u32;
            for mut b in billing {
                b.id = next_id(&tx, "billing").await?;
                tx.execute(
                    "INSERT INTO billing (id, job, value) VALUES ($1, $2, $3)",
                    &[&key(b.id), &key(b.job), &json(&b)],
                )
                .await
                .map_err(db)?;
            }
            for (person, micro) in &spend {
                let spent = spent_in(&tx, *person, &period).await?;
                set_spent(&tx, *person, &period, spent.saturating_add(*micro)).await?;
            }
            append(
                &tx,
                AuditEvent::JobClosed {
                    job: job.id,
                    status: job.status.label(),
                    billing: n,
                    budget_charged: spend.len() as u32,
                },
            )
            .await?;
            tx.commit().await?;
            Ok(job)
        })
    }

    fn budget_spent(&self, person: PersonId, period: &str) -> Result<u64, StoreError> {
        let period = period.to_string();
        self.with(|cx| async move {
            let c = cx.conn().await?;
            let row = c
                .query_opt(
                    "SELECT spent FROM budgets WHERE person = $1 AND period = $2",
                    &[&key(person), &period],
                )
                .await
                .map_err(db)?;
            Ok(match row {
                Some(r) => r.try_get::<_, i64>(0).map_err(db)? as u64,
                None => 0,
            })
        })
    }

    fn reserve_budget(
        &self,
        job: u64,
        people: &[PersonId],
        period: &str,
        micro: u64,
        budget: u64,
    ) -> Result<Vec<bool>, StoreError> {
        let (people, period) = (people.to_vec(), period.to_string());
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            // What the people already hold for this job and have spent this period, read in
            // two statements, then decided here in the people's order (a person named twice
            // sees their first answer), and written in two more.
            let ids: Vec<i64> = people.iter().map(|p| key(*p)).collect();
            let mut earlier: HashMap<u64, bool> = HashMap::new();
            for r in tx
                .query(
                    "SELECT person, micro FROM reservations WHERE job = $1 AND person = ANY($2)",
                    &[&key(job), &ids],
                )
                .await
                .map_err(db)?
            {
                let (person, micro): (i64, i64) =
                    (r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?);
                earlier.insert(person as u64, micro > 0);
            }
            let mut spent: HashMap<u64, u64> = HashMap::new();
            for r in tx
                .query(
                    "SELECT person, spent FROM budgets WHERE period = $1 AND person = ANY($2)",
                    &[&period, &ids],
                )
                .await
                .map_err(db)?
            {
                let (person, micro): (i64, i64) =
                    (r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?);
                spent.insert(person as u64, micro as u64);
            }
            let mut out = Vec::with_capacity(people.len());
            let (mut held_people, mut held) = (Vec::new(), Vec::new());
            let mut charged = std::collections::BTreeSet::new();
            for person in people {
                if let Some(r) = earlier.get(&person) {
                    out.push(*r);
                    continue;
                }
                let was = spent.get(&person).copied().unwrap_or(0);
                let reserved = budget_admits(was, micro, budget);
                if reserved {
                    spent.insert(person, was + micro);
                    charged.insert(person);
                }
                earlier.insert(person, reserved);
                held_people.push(key(person));
                held.push(i64::try_from(if reserved { micro } else { 0 }).unwrap_or(i64::MAX));
                append(
                    &tx,
                    AuditEvent::BudgetReserved {
                        job,
                        person,
                        epsilon_micro: micro,
                        reserved,
                    },
                )
                .await?;
                out.push(reserved);
            }
            if !charged.is_empty() {
                let (who, now): (Vec<i64>, Vec<i64>) = charged
                    .iter()
                    .map(|p| (key(*p), i64::try_from(spent[p]).unwrap_or(i64::MAX)))
                    .unzip();
                tx.execute(
                    "INSERT INTO budgets (person, period, spent) \
                     SELECT person, $1, spent FROM unnest($2::bigint[], $3::bigint[]) \
                         AS u(person, spent) \
                     ON CONFLICT (person, period) DO UPDATE SET spent = EXCLUDED.spent",
                    &[&period, &who, &now],
                )
                .await
                .map_err(db)?;
            }
            if !held_people.is_empty() {
                tx.execute(
                    "INSERT INTO reservations (person, job, micro) \
                     SELECT person, $1, micro FROM unnest($2::bigint[], $3::bigint[]) \
                         AS u(person, micro)",
                    &[&key(job), &held_people, &held],
                )
                .await
                .map_err(db)?;
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    fn billing(&self, job: Option<u64>) -> Result<Vec<BillingRecord>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            match job {
                Some(j) => {
                    all(
                        &c,
                        "SELECT value FROM billing WHERE job = $1 ORDER BY id",
                        &[&key(j)],
                    )
                    .await
                }
                None => all(&c, "SELECT value FROM billing ORDER BY id", &[]).await,
            }
        })
    }
}
