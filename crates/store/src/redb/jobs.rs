//! Campaigns and studies: policy, jobs, members, budgets and billing records.

use super::*;

impl JobStore for RedbStore {
    fn policy(&self) -> Result<Policy, StoreError> {
        Ok(self.read_json(SETTINGS, "policy")?.unwrap_or_default())
    }

    fn set_policy(&self, p: &Policy) -> Result<(), StoreError> {
        self.write(|tx| {
            put_json(tx, SETTINGS, "policy", p)?;
            append(
                tx,
                AuditEvent::PolicySet {
                    k_floor: p.k_floor,
                    campaign_gap_days: p.campaign_gap_days,
                    epsilon_per_month_micro: p.epsilon_per_month_micro,
                    commission_bps: p.commission_bps,
                },
            )?;
            Ok(())
        })
    }

    fn add_job(&self, mut job: Job) -> Result<Job, StoreError> {
        self.write(|tx| {
            job.id = next_id(tx, "job")?;
            put_job(tx, &job)?;
            append(
                tx,
                AuditEvent::JobOpened {
                    job: job.id,
                    job_kind: job.kind_label().into(),
                    owner: job.owner.clone(),
                    digest: job.plugin_digest.clone(),
                },
            )?;
            Ok(job)
        })
    }

    fn job(&self, id: u64) -> Result<Job, StoreError> {
        self.read_json(JOBS, id)?.ok_or(StoreError::NoJob(id))
    }

    fn jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.all_json(JOBS)
    }

    fn running_jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.listed_rows(JOBS, "running-jobs", "")
    }

    fn jobs_since(&self, since_ms: i64) -> Result<Vec<Job>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let mut ids = Vec::new();
        for row in tx
            .open_table(JOB_TIMES)
            .map_err(db)?
            .range((since_ms, 0)..)
            .map_err(db)?
        {
            ids.push(row.map_err(db)?.0.value().1);
        }
        ids.sort_unstable();
        ids.dedup();
        let mut jobs = jobs_by_id(&tx.open_table(JOBS).map_err(db)?, &ids)?;
        // A job's creation time does not change; should one, its older entry is left behind.
        jobs.retain(|j| j.created_ms >= since_ms);
        Ok(jobs)
    }

    fn jobs_page(&self, owner: &Owner, page: Page) -> Result<Vec<Job>, StoreError> {
        match owner {
            Owner::Person(_) => Ok(Vec::new()),
            _ => self.page_json(JOBS, "jobs", owner, page),
        }
    }

    fn record_members(
        &self,
        job: u64,
        members: Vec<(Option<RunRecord>, Member)>,
    ) -> Result<u64, StoreError> {
        self.write(|tx| {
            if tx
                .open_table(JOBS)
                .map_err(db)?
                .get(job)
                .map_err(db)?
                .is_none()
            {
                return Err(StoreError::NoJob(job));
            }
            let mut added = 0;
            for (run, m) in members {
                let already = tx
                    .open_table(MEMBERS)
                    .map_err(db)?
                    .get((job, m.person))
                    .map_err(db)?
                    .is_some();
                let stored = m.record(job, already, run, |run, slot| {
                    Ok::<_, StoreError>(match slot {
                        RunSlot::Reserved => audit_run(tx, run)?.id,
                        RunSlot::New => insert_run(tx, run)?.id,
                    })
                })?;
                if let Some(m) = stored {
                    put_member(tx, job, &m)?;
                    // Its task, if it had one, is done.
                    tx.open_table(TASKS)
                        .map_err(db)?
                        .remove((job, m.run))
                        .map_err(db)?;
                    added += 1;
                }
            }
            Ok(added)
        })
    }

    fn enqueue_tasks(&self, job: u64, tasks: &[Task]) -> Result<bool, StoreError> {
        self.write(|tx| {
            let mut queues = tx.open_table(QUEUES).map_err(db)?;
            if queues.get(job).map_err(db)?.is_some() {
                return Ok(false);
            }
            queues.insert(job, tasks.len() as u64).map_err(db)?;
            drop(queues);
            for task in tasks {
                let waiting = Claim {
                    task: task.clone(),
                    node: String::new(),
                    lease_until_ms: 0,
                    attempt: 0,
                };
                put_json(tx, TASKS, (job, task.run), &waiting)?;
            }
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
        self.write(|tx| {
            let now = self.now_ms();
            let mut claimed = Vec::new();
            {
                let tasks = tx.open_table(TASKS).map_err(db)?;
                let members = tx.open_table(MEMBERS).map_err(db)?;
                for row in tasks.range((job, 0)..=(job, u64::MAX)).map_err(db)? {
                    if claimed.len() >= max {
                        break;
                    }
                    let (_, v) = row.map_err(db)?;
                    let c: Claim = from_json(v.value())?;
                    let done = members.get((job, c.task.person)).map_err(db)?.is_some();
                    if c.expired(now) && !done {
                        claimed.push(c);
                    }
                }
            }
            for c in &mut claimed {
                c.node = node.to_string();
                c.lease_until_ms = lease_until_ms;
                c.attempt += 1;
                put_json(tx, TASKS, (job, c.task.run), &*c)?;
                append(
                    tx,
                    AuditEvent::MemberRunClaimed {
                        job,
                        run: c.task.run,
                        person: c.task.person,
                        attempt: c.attempt,
                    },
                )?;
            }
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
        self.write(|tx| {
            let mut held = Vec::new();
            for &run in runs {
                let c: Option<Claim> = {
                    let t = tx.open_table(TASKS).map_err(db)?;
                    let v = t.get((job, run)).map_err(db)?;
                    v.map(|v| from_json(v.value())).transpose()?
                };
                if let Some(mut c) = c
                    && c.node == node
                {
                    c.lease_until_ms = c.lease_until_ms.max(lease_until_ms);
                    put_json(tx, TASKS, (job, run), &c)?;
                    held.push(run);
                }
            }
            Ok(held)
        })
    }

    fn open_tasks(&self, job: u64) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(TASKS).map_err(db)?;
        let mut n = 0;
        for row in t.range((job, 0)..=(job, u64::MAX)).map_err(db)? {
            row.map_err(db)?;
            n += 1;
        }
        Ok(n)
    }

    fn members(&self, job: u64) -> Result<Vec<Member>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(MEMBERS).map_err(db)?;
        t.range((job, 0)..=(job, u64::MAX))
            .map_err(db)?
            .map(|r| r.map_err(db).and_then(|(_, v)| from_json(v.value())))
            .collect()
    }

    fn memberships(&self, person: PersonId) -> Result<Vec<Member>, StoreError> {
        let mut all = crate::walk(
            1024,
            |m: &Member| m.job,
            |page| self.memberships_page(person, page),
        )?;
        all.reverse();
        Ok(all)
    }

    fn memberships_page(&self, person: PersonId, page: Page) -> Result<Vec<Member>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let jobs = listed(
            &tx.open_table(LISTINGS).map_err(db)?,
            "members",
            &person_owner(person),
            page,
        )?;
        let t = tx.open_table(MEMBERS).map_err(db)?;
        jobs.into_iter()
            .map(|job| {
                let v = t.get((job, person)).map_err(db)?.ok_or_else(|| {
                    StoreError::Db(format!(
                        "listing `members` names job {job}, which is missing"
                    ))
                })?;
                from_json(v.value())
            })
            .collect()
    }

    fn answer_invitation(
        &self,
        job: u64,
        person: PersonId,
        answer: Answer,
    ) -> Result<Member, StoreError> {
        self.write(|tx| {
            let j: Job = {
                let t = tx.open_table(JOBS).map_err(db)?;
                let v = t.get(job).map_err(db)?.ok_or(StoreError::NoJob(job))?;
                from_json(v.value())?
            };
            let mut m: Member = {
                let t = tx.open_table(MEMBERS).map_err(db)?;
                let v = t
                    .get((job, person))
                    .map_err(db)?
                    .ok_or(StoreError::NoInvitation { job, person })?;
                from_json(v.value())?
            };
            let event = m.answer(&j, answer).map_err(|refused| match refused {
                AnswerRefused::NoInvitation => StoreError::NoInvitation { job, person },
                AnswerRefused::Answered => StoreError::Answered { job, person },
            })?;
            put_member(tx, job, &m)?;
            append(tx, event)?;
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
        self.write(|tx| {
            let stored: Job = {
                let t = tx.open_table(JOBS).map_err(db)?;
                let v = t
                    .get(job.id)
                    .map_err(db)?
                    .ok_or(StoreError::NoJob(job.id))?;
                from_json(v.value())?
            };
            // Running ends once, and a finished campaign is settled once (the model's rule).
            let allowed = stored.status.may_become(&job.status);
            if !allowed {
                return Err(StoreError::JobClosed(job.id));
            }
            put_job(tx, job)?;
            let n = billing.len() as u32;
            for mut b in billing {
                b.id = next_id(tx, "billing")?;
                put_json(tx, BILLING, b.id, &b)?;
            }
            {
                let mut t = tx.open_table(BUDGETS).map_err(db)?;
                for (person, micro) in spend {
                    let spent = t
                        .get((*person, period))
                        .map_err(db)?
                        .map(|v| v.value())
                        .unwrap_or(0);
                    t.insert((*person, period), spent.saturating_add(*micro))
                        .map_err(db)?;
                }
            }
            let status = job.status.label();
            append(
                tx,
                AuditEvent::JobClosed {
                    job: job.id,
                    status,
                    billing: n,
                    budget_charged: spend.len() as u32,
                },
            )?;
            Ok(job.clone())
        })
    }

    fn budget_spent(&self, person: PersonId, period: &str) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(BUDGETS).map_err(db)?;
        Ok(t.get((person, period))
            .map_err(db)?
            .map_or(0, |v| v.value()))
    }

    fn reserve_budget(
        &self,
        job: u64,
        people: &[PersonId],
        period: &str,
        micro: u64,
        budget: u64,
    ) -> Result<Vec<bool>, StoreError> {
        self.write(|tx| {
            let mut out = Vec::with_capacity(people.len());
            for &person in people {
                let earlier = tx
                    .open_table(RESERVATIONS)
                    .map_err(db)?
                    .get((job, person))
                    .map_err(db)?
                    .map(|v| v.value());
                if let Some(r) = earlier {
                    out.push(r > 0);
                    continue;
                }
                let spent = tx
                    .open_table(BUDGETS)
                    .map_err(db)?
                    .get((person, period))
                    .map_err(db)?
                    .map_or(0, |v| v.value());
                let reserved = budget_admits(spent, micro, budget);
                if reserved {
                    tx.open_table(BUDGETS)
                        .map_err(db)?
                        .insert((person, period), spent + micro)
                        .map_err(db)?;
                }
                tx.open_table(RESERVATIONS)
                    .map_err(db)?
                    .insert((job, person), if reserved { micro } else { 0 })
                    .map_err(db)?;
                append(
                    tx,
                    AuditEvent::BudgetReserved {
                        job,
                        person,
                        epsilon_micro: micro,
                        reserved,
                    },
                )?;
                out.push(reserved);
            }
            Ok(out)
        })
    }

    fn billing(&self, job: Option<u64>) -> Result<Vec<BillingRecord>, StoreError> {
        let all: Vec<BillingRecord> = self.all_json(BILLING)?;
        Ok(all
            .into_iter()
            .filter(|b| job.is_none_or(|j| b.job == j))
            .collect())
    }
}

/// The jobs with these ids, in that order.
fn jobs_by_id(
    t: &impl ReadableTable<u64, &'static str>,
    ids: &[u64],
) -> Result<Vec<Job>, StoreError> {
    ids.iter()
        .map(|&id| {
            let v = t.get(id).map_err(db)?.ok_or_else(|| {
                StoreError::Db(format!("a job index names job {id}, which is missing"))
            })?;
            from_json(v.value())
        })
        .collect()
}
