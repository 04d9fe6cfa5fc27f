//! Campaigns and studies as data: the operator's policy, a job, its members and their
//! answers, billing records, progress. Running them is `insitu-core`'s (`job.rs`).

use crate::audit::AuditEvent;
use crate::meter::{FailureReason, RunRecord};
use crate::output::{Finding, Money, Scalar};
use crate::records::PersonId;
use serde::{Deserialize, Serialize};

mod billing;
pub use billing::BillingRecord;

/// The operator's rules for campaigns and studies. A field missing from a stored policy takes
/// its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// The smallest threshold k a campaign may set: counts below k are shown as "fewer than k".
    pub k_floor: u32,
    /// Days before another campaign may scan with the same scanner, so that two campaigns on
    /// nearly the same population cannot be differenced to learn one member's bit.
    pub campaign_gap_days: u32,
    /// Each member's privacy budget per calendar month, in millionths of ε.
    pub epsilon_per_month_micro: u64,
    /// The service's commission on a campaign's compensation, in basis points.
    pub commission_bps: u32,
    /// Member runs in flight at once.
    pub concurrency: usize,
    /// The privacy budget a campaign spends for each member it scans, in millionths of ε: its
    /// scanned and matched counts are released with noise calibrated to it.
    ///
    /// Default 500 000 (ε = 0.5: noise of scale 4 on each count). It must be positive and at
    /// most the monthly budget. A larger ε gives sharper counts and fewer campaigns a month.
    pub campaign_epsilon_micro: u64,
    /// The wall-clock deadline of each member run in a job, in milliseconds (a plugin's own
    /// deadline is lowered to it, never raised). It bounds the job's release time.
    ///
    /// Default 30 000 (the sandbox's default deadline).
    pub member_deadline_ms: u64,
    /// Time added to a job's release time for what is not a member run (compiling the
    /// plugin, committing batches, closing the job), in milliseconds.
    ///
    /// Default 10 000.
    pub release_margin_ms: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            k_floor: 5,
            campaign_gap_days: 7,
            epsilon_per_month_micro: 2_000_000,
            commission_bps: 1_000,
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
            campaign_epsilon_micro: 500_000,
            member_deadline_ms: 30_000,
            release_margin_ms: 10_000,
        }
    }
}

/// A campaign: who opened it, against whom, with which threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSpec {
    pub description: String,
    /// The brand the campaign concerns.
    pub brand: String,
    /// The consumer association's organisation account that receives accepted evidence.
    pub association: String,
    /// Noisy counts below k are shown as "fewer than k" (at least the operator's floor).
    pub k: u32,
    /// The privacy budget the campaign spends for each member scanned, in millionths of ε
    /// (the operator's `campaign_epsilon_micro` when it opened).
    #[serde(default)]
    pub epsilon_micro: u64,
    /// The budget period the campaign is charged to (`YYYY-MM`).
    #[serde(default)]
    pub period: String,
}

/// A study: an organisation's analytics over its consenting members, released with noise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudySpec {
    pub description: String,
    /// The smallest noisy cohort a release is made for (at least the operator's k floor and
    /// the manifest's `min_cohort`).
    pub min_cohort: u32,
    /// The privacy budget this release spends for each member included, in millionths of ε.
    pub epsilon_micro: u64,
    /// What each included member earns.
    pub reward: Money,
    /// The budget period the release is charged to (`YYYY-MM`).
    pub period: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobKind {
    Campaign(CampaignSpec),
    Study(StudySpec),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobStatus {
    /// Opened; members are being run (or will be: a job interrupted resumes from here).
    Running,
    /// Every member has a result; a campaign's noisy counts are drawn. `at_ms` is when they
    /// are released: the job's release time (or later, if the fan-out overran it).
    Finished { at_ms: i64 },
    /// A study's combined result was released, with noise (`at_ms` as for `Finished`).
    Released { at_ms: i64 },
    /// A study's noisy cohort was below its minimum: no sums were released. The budget
    /// reserved for each member run is spent all the same.
    Withheld { at_ms: i64, reason: String },
    /// A campaign's compensation was split.
    Settled { at_ms: i64 },
}

/// A campaign or a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub kind: JobKind,
    /// The account that opened it (a person's or an organisation's account name).
    pub owner: String,
    pub plugin_digest: String,
    pub params: Vec<(String, Scalar)>,
    pub created_ms: i64,
    pub status: JobStatus,
    /// A study's release, once made.
    #[serde(default)]
    pub release: Option<Release>,
    /// A campaign's noisy counts, drawn once when the scan finished.
    #[serde(default)]
    pub counts: Option<NoisyCounts>,
    /// When the job's results become visible to anyone but its members and the operator,
    /// fixed when it opened ([`release_time`]).
    #[serde(default)]
    pub release_ms: i64,
}

impl Job {
    pub fn is_campaign(&self) -> bool {
        matches!(self.kind, JobKind::Campaign(_))
    }

    /// Whose grants the job may use: its owner's alone (an organisation; the association a
    /// campaign names receives claimants, not other people's grants).
    pub fn requesters(&self) -> Vec<&str> {
        vec![self.owner.as_str()]
    }

    /// Whether the job's results may be shown to its organisation at `now_ms`: its release
    /// time has passed and every member has a result. Before, the organisation sees that the
    /// job exists, when it opened, its declared parameters and its release time, nothing else.
    pub fn released_at(&self, now_ms: i64) -> bool {
        now_ms >= self.release_ms && self.status != JobStatus::Running
    }

    /// The job's state as its organisation sees it at `now_ms`: `scheduled` before the
    /// release, then `finished`, `released`, `withheld` or `settled`.
    pub fn state_shown(&self, now_ms: i64) -> &'static str {
        if !self.released_at(now_ms) {
            return "scheduled";
        }
        match self.status {
            JobStatus::Running => "scheduled",
            JobStatus::Finished { .. } => "finished",
            JobStatus::Released { .. } => "released",
            JobStatus::Withheld { .. } => "withheld",
            JobStatus::Settled { .. } => "settled",
        }
    }

    pub fn title(&self) -> &str {
        match &self.kind {
            JobKind::Campaign(c) => &c.description,
            JobKind::Study(s) => &s.description,
        }
    }
}

/// A study's release: noisy sums, the cohort they cover and the budget they spent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Release {
    /// Each declared metric's sum over the cohort, with noise.
    pub values: Vec<(String, i64)>,
    /// How many members the sums cover.
    pub cohort: u32,
    /// Members not included because their budget for the period was spent.
    pub excluded_for_budget: u32,
    /// ε spent per member included, in millionths.
    pub epsilon_micro: u64,
    /// The discrete Laplace scale used: the L1 sensitivity over ε.
    pub scale: f64,
    /// The L1 sensitivity: one member's largest effect on the vector of sums.
    pub sensitivity: i64,
}

/// A campaign's scanned and matched counts with noise, as drawn once when its scan finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoisyCounts {
    pub scanned: i64,
    pub matched: i64,
    /// ε spent per member scanned, in millionths.
    pub epsilon_micro: u64,
    /// The discrete Laplace scale on each count: 2 / ε (one member moves the pair by 2 in L1).
    pub scale: f64,
}

/// How one member's run ended, as the job sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum MemberOutcome {
    /// A campaign scanner found something: the member is invited. Findings stay in the run's
    /// output, which only the member can read.
    Matched {
        findings: u32,
    },
    NoMatch,
    /// A study member's aggregate is kept (clipped) in the run's output, for the release.
    Contributed,
    /// Not run: the member's privacy budget for the period could not cover the job.
    OverBudget,
    Failed {
        reason: FailureReason,
    },
}

/// A member's answer to a campaign's invitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// The member joined, releasing the findings they chose to the association.
    Accepted {
        at_ms: i64,
        shared: Vec<Finding>,
        /// The sum of the shared findings' losses, per currency.
        loss: Vec<Money>,
    },
    Declined {
        at_ms: i64,
    },
}

/// One member of a job: their run and its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Member {
    pub job: u64,
    #[schema(value_type = u64)]
    pub person: PersonId,
    pub run: u64,
    pub outcome: MemberOutcome,
    #[serde(default)]
    pub answer: Option<Answer>,
}

impl JobStatus {
    /// Whether a job in this status may be closed into `next`. Running ends once (finished,
    /// released or withheld); a finished campaign is settled once. Anything else is a second
    /// close: a retried or concurrent settle must not pay twice, and a stale scan must not
    /// reopen a settled campaign. Every backend checks this inside the transaction that closes.
    pub fn may_become(&self, next: &JobStatus) -> bool {
        matches!(
            (self, next),
            (
                JobStatus::Running,
                JobStatus::Finished { .. }
                    | JobStatus::Released { .. }
                    | JobStatus::Withheld { .. }
            ) | (JobStatus::Finished { .. }, JobStatus::Settled { .. })
        )
    }

    /// The status in the audit log's words.
    pub fn label(&self) -> String {
        match self {
            JobStatus::Running => "running".to_string(),
            JobStatus::Finished { .. } => "finished".into(),
            JobStatus::Released { .. } => "released".into(),
            JobStatus::Withheld { reason, .. } => format!("withheld ({reason})"),
            JobStatus::Settled { .. } => "settled".into(),
        }
    }
}

impl Job {
    /// "campaign" or "study", as the audit log names the kind.
    pub fn kind_label(&self) -> &'static str {
        if self.is_campaign() {
            "campaign"
        } else {
            "study"
        }
    }
}

/// Why an invitation cannot be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerRefused {
    /// The person has no invitation: not a campaign, or not one of its matched members.
    NoInvitation,
    /// The person already answered.
    Answered,
}

impl Member {
    /// Answers `job`'s invitation with `answer`: only a campaign's matched member may, and only
    /// once. Returns the audit entry the answer writes (the evidence released, or the decline).
    pub fn answer(&mut self, job: &Job, answer: Answer) -> Result<AuditEvent, AnswerRefused> {
        let JobKind::Campaign(spec) = &job.kind else {
            return Err(AnswerRefused::NoInvitation);
        };
        if !matches!(self.outcome, MemberOutcome::Matched { .. }) {
            return Err(AnswerRefused::NoInvitation);
        }
        if self.answer.is_some() {
            return Err(AnswerRefused::Answered);
        }
        let (job, person) = (job.id, self.person);
        let event = match &answer {
            Answer::Accepted { shared, .. } => AuditEvent::EvidenceReleased {
                job,
                person,
                association: spec.association.clone(),
                findings: shared.len() as u32,
            },
            Answer::Declined { .. } => AuditEvent::InvitationDeclined { job, person },
        };
        self.answer = Some(answer);
        Ok(event)
    }
}

/// Where a member's run is stored when its result is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunSlot {
    /// Under the id the job reserved for it before running (`RunStore::reserve_run_ids`, in
    /// target order), which the run carries: ids given as runs finish would order members by
    /// how long their runs took.
    Reserved,
    /// Under a new id (a run that carries none).
    New,
}

impl Member {
    /// Records this member's result for `job`: the rule every backend applies, for each
    /// member, inside the transaction of `JobStore::record_members`. A member the job
    /// `already` has is left as it was and its run is not stored (`Ok(None)`), so a resumed
    /// job records nobody twice. Otherwise the member's run, if it had one, is stored by
    /// `store_run` (which returns its id) in the [`RunSlot`] the run calls for, and the member
    /// is returned pointing at `job` and at that run, for the backend to store.
    pub fn record<E>(
        mut self,
        job: u64,
        already: bool,
        run: Option<RunRecord>,
        store_run: impl FnOnce(RunRecord, RunSlot) -> Result<u64, E>,
    ) -> Result<Option<Member>, E> {
        if already {
            return Ok(None);
        }
        if let Some(run) = run {
            let slot = if run.id != 0 {
                RunSlot::Reserved
            } else {
                RunSlot::New
            };
            self.run = store_run(run, slot)?;
        }
        self.job = job;
        Ok(Some(self))
    }
}

/// A member's run in a job's work queue: who, under which grant, and the run id reserved for it
/// when the queue was made (in target order, so that ids say nothing of when members
/// finished). Any node may claim it ([`Claim`]); its result is committed once, as the
/// member's ([`Member::record`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub person: PersonId,
    pub grant: u64,
    pub run: u64,
}

/// A task as a node claimed it: until `lease_until_ms` no other node may take it, and the
/// claiming node renews the lease while the run goes on. `attempt` counts its claims, from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub task: Task,
    pub node: String,
    pub lease_until_ms: i64,
    pub attempt: u32,
}

impl Claim {
    /// Whether a task claimed as `self` may be claimed again at `now_ms`: its lease ran out.
    pub fn expired(&self, now_ms: i64) -> bool {
        self.lease_until_ms <= now_ms
    }
}

/// Whether a person who has spent `spent` of their monthly privacy budget `budget` may be
/// charged `micro` more (all in millionths of epsilon). A zero charge reserves nothing.
pub fn budget_admits(spent: u64, micro: u64, budget: u64) -> bool {
    micro > 0 && spent.saturating_add(micro) <= budget
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(run: u64) -> Member {
        Member {
            job: 0,
            person: 4,
            run,
            outcome: MemberOutcome::NoMatch,
            answer: None,
        }
    }

    fn run(id: u64) -> RunRecord {
        RunRecord {
            id,
            ..RunRecord::new(4, 1, "d1", 5)
        }
    }

    /// Records `m` as a backend would, storing a run under the id `store_run` gives; returns
    /// the member to store and the slots runs were stored in.
    fn record(already: bool, r: Option<RunRecord>) -> (Option<Member>, Vec<(u64, RunSlot)>) {
        let mut stored = Vec::new();
        let m = member(0)
            .record(9, already, r, |run, slot| {
                let id = if slot == RunSlot::Reserved {
                    run.id
                } else {
                    70
                };
                stored.push((id, slot));
                Ok::<_, ()>(id)
            })
            .unwrap();
        (m, stored)
    }

    #[test]
    fn a_member_is_recorded_once_and_its_run_keeps_its_reserved_id() {
        assert_eq!(
            record(true, Some(run(12))),
            (None, vec![]),
            "a member the job has is left as it was, and its run is not stored"
        );
        assert_eq!(
            record(false, Some(run(12))),
            (
                Some(Member {
                    job: 9,
                    ..member(12)
                }),
                vec![(12, RunSlot::Reserved)]
            )
        );
        assert_eq!(
            record(false, Some(run(0))),
            (
                Some(Member {
                    job: 9,
                    ..member(70)
                }),
                vec![(70, RunSlot::New)]
            )
        );
        assert_eq!(
            record(false, None),
            (
                Some(Member {
                    job: 9,
                    ..member(0)
                }),
                vec![]
            )
        );
    }
}
