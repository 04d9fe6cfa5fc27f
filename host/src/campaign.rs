//! Campaigns (Cass' Action): a scanner runs in the store of every member who holds a standing
//! grant for it; members who match are invited; the initiator and the association see only
//! thresholded counts until a member accepts and releases the evidence they choose.
//!
//! Rules (DESIGN.md invariant 2):
//! - only members with a live grant naming the scanner's digest are touched;
//! - from each member's run the campaign keeps one bit, matched or not; the findings stay in
//!   the run's output, which only the member can read;
//! - the initiator and the association see the scanned and matched counts only when they
//!   reach k (at least the operator's floor), otherwise "fewer than k";
//! - another campaign with the same scanner waits the operator's gap, so that two campaigns
//!   on nearly the same population cannot be differenced;
//! - an acceptance releases only the findings the member picked, audited in the same
//!   transaction; a settlement splits the compensation among those who accepted, in
//!   proportion to the losses they documented, after the commission and the association's
//!   share, to the unit: nothing is created or lost by rounding.
//!
//! May touch: the store and the runner.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::account::Role;
use crate::consent::now_ms;
use crate::contract::{Viewer, output_for};
use crate::job::{
    Answer, BillingRecord, CampaignSpec, Job, JobKind, JobStatus, Member, MemberOutcome, Progress,
    Target,
};
use crate::output::{Finding, Money, PluginOutput, Scalar};
use crate::package::PluginUse;
use crate::run::Runner;
use crate::store::{PersonId, Store, StoreError};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("plugin {0} is not a campaign scanner (its manifest's `use` is not `campaign`)")]
    NotAScanner(String),
    #[error("k must be at least {floor}, the operator's floor; {asked} was asked")]
    KBelowFloor { asked: u32, floor: u32 },
    #[error(
        "campaign {other} scanned with this scanner less than {days} days ago; \
         two campaigns on nearly the same members could be compared to single one out. \
         Try again after {after}"
    )]
    TooSoon {
        other: u64,
        days: u32,
        after: String,
    },
    #[error("`{0}` is not an organisation account; evidence can only go to a known association")]
    NoAssociation(String),
    #[error("job {0} is not a campaign")]
    NotACampaign(u64),
    #[error("campaign {0} has not finished scanning")]
    NotFinished(u64),
    #[error("campaign {0} was already settled")]
    Settled(u64),
    #[error("no member of campaign {0} accepted, so there is no one to pay")]
    NoneAccepted(u64),
    #[error(
        "shares must leave something for the members: commission {commission} + association {association} basis points is over 10000"
    )]
    Shares { commission: u32, association: u32 },
    #[error("finding {index} does not exist: the invitation has {count} findings")]
    NoFinding { index: usize, count: usize },
    #[error("the amount must be positive")]
    Amount,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("billing failed (the results are kept; `insitu ledger reconcile` bills them): {0}")]
    Billing(#[from] crate::ledger::BillingError),
}

/// What an initiator asks for.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub owner: String,
    pub description: String,
    pub brand: String,
    pub association: String,
    pub plugin_digest: String,
    pub params: Vec<(String, Scalar)>,
    /// Default: the operator's floor.
    pub k: Option<u32>,
}

/// Opens a campaign after checking the scanner, k and the gap between campaigns.
pub fn open(store: &dyn Store, new: NewCampaign) -> Result<Job, CampaignError> {
    let policy = store.policy()?;
    let plugin = store.plugin(&new.plugin_digest)?;
    if plugin.manifest.as_ref().map(|m| m.usage) != Some(PluginUse::Campaign) {
        return Err(CampaignError::NotAScanner(plugin.name));
    }
    let k = new.k.unwrap_or(policy.k_floor);
    if k < policy.k_floor {
        return Err(CampaignError::KBelowFloor {
            asked: k,
            floor: policy.k_floor,
        });
    }
    match store.account_by_name(&new.association)? {
        Some(a) if a.role == Role::Organisation => {}
        _ => return Err(CampaignError::NoAssociation(new.association)),
    }
    let now = now_ms();
    let gap = policy.campaign_gap_days as i64 * DAY_MS;
    if let Some(other) = store
        .jobs()?
        .into_iter()
        .filter(|j| j.is_campaign() && j.plugin_digest == new.plugin_digest)
        .find(|j| now - j.created_ms < gap)
    {
        return Err(CampaignError::TooSoon {
            other: other.id,
            days: policy.campaign_gap_days,
            after: crate::import::format_date(other.created_ms + gap),
        });
    }
    Ok(store.add_job(Job {
        id: 0,
        kind: JobKind::Campaign(CampaignSpec {
            description: new.description,
            brand: new.brand,
            association: new.association,
            k,
        }),
        owner: new.owner,
        plugin_digest: new.plugin_digest,
        params: new.params,
        created_ms: now,
        status: JobStatus::Running,
        release: None,
    })?)
}

/// The members a job may run: one live grant naming `digest` per person (the latest).
pub fn targets(store: &dyn Store, digest: &str) -> Result<Vec<Target>, StoreError> {
    let now = now_ms();
    let mut by_person: BTreeMap<PersonId, u64> = BTreeMap::new();
    for g in store.grants(None)? {
        if g.plugin_digest == digest && g.check_live(now).is_ok() {
            let e = by_person.entry(g.person).or_insert(g.id);
            *e = (*e).max(g.id);
        }
    }
    Ok(by_person
        .into_iter()
        .map(|(person, grant)| Target { person, grant })
        .collect())
}

/// Runs the scanner for every member not yet scanned, then marks the campaign finished.
/// Resumes an interrupted scan: members already recorded are not run again.
pub async fn scan(
    runner: &Arc<Runner>,
    job: u64,
    progress: &Progress,
) -> Result<Job, CampaignError> {
    let store = runner.store().clone();
    let mut job = store.job(job)?;
    if !job.is_campaign() {
        return Err(CampaignError::NotACampaign(job.id));
    }
    if job.status != JobStatus::Running {
        return Ok(job);
    }
    let targets = targets(store.as_ref(), &job.plugin_digest)?;
    let concurrency = store.policy()?.concurrency;
    crate::job::fan_out(runner, &job, targets, Vec::new(), concurrency, progress).await?;
    crate::ledger::bill_members(store.as_ref(), job.id)?;
    job.status = JobStatus::Finished { at_ms: now_ms() };
    Ok(store.close_job(&job, Vec::new(), &[], "")?)
}

/// A count as the initiator and the association see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "shown", content = "value", rename_all = "snake_case")]
pub enum Count {
    Exactly(u64),
    FewerThan(u32),
    /// Not shown: the scan is still running (each new result would single out a member), or
    /// fewer than k members did not match (showing the matches would tell who did).
    Withheld,
}

impl Count {
    fn thresholded(n: u64, k: u32) -> Count {
        if n < k as u64 {
            Count::FewerThan(k)
        } else {
            Count::Exactly(n)
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Exactly(n) => write!(f, "{n}"),
            Count::FewerThan(k) => write!(f, "fewer than {k}"),
            Count::Withheld => write!(f, "not shown"),
        }
    }
}

/// What the initiator and the association see of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub scanned: Count,
    pub matched: Count,
    /// Members who accepted (they chose to be known).
    pub accepted: u64,
    pub k: u32,
}

fn spec(job: &Job) -> Result<&CampaignSpec, CampaignError> {
    match &job.kind {
        JobKind::Campaign(c) => Ok(c),
        JobKind::Study(_) => Err(CampaignError::NotACampaign(job.id)),
    }
}

/// The thresholded counts of a campaign.
pub fn counts(store: &dyn Store, job: &Job) -> Result<Counts, CampaignError> {
    let k = spec(job)?.k;
    let members = store.members(job.id)?;
    let scanned = members
        .iter()
        .filter(|m| {
            matches!(
                m.outcome,
                MemberOutcome::Matched { .. } | MemberOutcome::NoMatch
            )
        })
        .count() as u64;
    let matched = members
        .iter()
        .filter(|m| matches!(m.outcome, MemberOutcome::Matched { .. }))
        .count() as u64;
    let accepted = members
        .iter()
        .filter(|m| matches!(m.answer, Some(Answer::Accepted { .. })))
        .count() as u64;
    if job.status == JobStatus::Running {
        return Ok(Counts {
            scanned: Count::Withheld,
            matched: Count::Withheld,
            accepted,
            k,
        });
    }
    let matched = if matched >= k as u64 && scanned - matched < k as u64 {
        Count::Withheld
    } else {
        Count::thresholded(matched, k)
    };
    Ok(Counts {
        scanned: Count::thresholded(scanned, k),
        matched,
        accepted,
        k,
    })
}

/// A member who accepted, as the association sees them: who, and what they released.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Claimant {
    pub person: PersonId,
    pub name: String,
    pub findings: Vec<Finding>,
    pub loss: Vec<Money>,
}

/// The members who accepted, with the evidence they released: all the association learns
/// about individuals.
pub fn claimants(store: &dyn Store, job: &Job) -> Result<Vec<Claimant>, CampaignError> {
    spec(job)?;
    let mut out = Vec::new();
    for m in store.members(job.id)? {
        if let Some(Answer::Accepted { shared, loss, .. }) = m.answer {
            let name = store.person(m.person).map(|p| p.name).unwrap_or_default();
            out.push(Claimant {
                person: m.person,
                name,
                findings: shared,
                loss,
            });
        }
    }
    Ok(out)
}

/// An invitation in a member's inbox, with the findings only they can see.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Invitation {
    pub job: u64,
    pub description: String,
    pub brand: String,
    pub association: String,
    pub findings: Vec<Finding>,
    pub answer: Option<Answer>,
}

/// A person's campaign invitations (campaigns their data matched).
pub fn invitations(store: &dyn Store, person: PersonId) -> Result<Vec<Invitation>, CampaignError> {
    let mut out = Vec::new();
    for m in store.memberships(person)? {
        if !matches!(m.outcome, MemberOutcome::Matched { .. }) {
            continue;
        }
        let job = store.job(m.job)?;
        let Ok(c) = spec(&job) else { continue };
        out.push(Invitation {
            job: job.id,
            description: c.description.clone(),
            brand: c.brand.clone(),
            association: c.association.clone(),
            findings: member_findings(store, &m)?,
            answer: m.answer,
        });
    }
    Ok(out)
}

/// The findings of a member's run, read as that member (the run's audience).
fn member_findings(store: &dyn Store, m: &Member) -> Result<Vec<Finding>, CampaignError> {
    match output_for(store, m.run, &Viewer::Person(m.person)) {
        Ok(PluginOutput::Findings { findings, .. }) => Ok(findings),
        Ok(_) => Ok(Vec::new()),
        Err(crate::contract::ReadError::NotYours(_)) => Ok(Vec::new()),
        Err(crate::contract::ReadError::Store(e)) => Err(e.into()),
    }
}

/// Sums of the findings' losses, per currency.
pub fn losses(findings: &[Finding]) -> Vec<Money> {
    let mut by: BTreeMap<&str, i64> = BTreeMap::new();
    for l in findings.iter().filter_map(|f| f.loss.as_ref()) {
        let t = by.entry(l.currency.as_str()).or_default();
        *t = t.saturating_add(l.minor);
    }
    by.into_iter()
        .map(|(c, minor)| Money {
            minor,
            currency: c.to_string(),
        })
        .collect()
}

/// A member accepts, releasing the findings at `chosen` (indices into the invitation's
/// findings; `None` for all of them), or declines.
pub fn answer(
    store: &dyn Store,
    job: u64,
    person: PersonId,
    accept: bool,
    chosen: Option<&[usize]>,
) -> Result<Member, CampaignError> {
    let m = store
        .memberships(person)?
        .into_iter()
        .find(|m| m.job == job && matches!(m.outcome, MemberOutcome::Matched { .. }))
        .ok_or(StoreError::NoInvitation { job, person })?;
    let answer = if accept {
        let all = member_findings(store, &m)?;
        let shared: Vec<Finding> = match chosen {
            None => all,
            Some(idx) => idx
                .iter()
                .map(|&i| {
                    all.get(i).cloned().ok_or(CampaignError::NoFinding {
                        index: i,
                        count: all.len(),
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        Answer::Accepted {
            at_ms: now_ms(),
            loss: losses(&shared),
            shared,
        }
    } else {
        Answer::Declined { at_ms: now_ms() }
    };
    Ok(store.answer_invitation(job, person, answer)?)
}

/// Splits `total` in proportion to `weights`, to the unit: each gets the floor of its exact
/// share, and the units left go to the largest remainders (ties to the earlier entry). With
/// all weights zero, the split is equal.
pub fn split(total: i64, weights: &[i64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    if total <= 0 {
        // Nothing to share (a negative total is refused before this).
        return vec![0; weights.len()];
    }
    let equal = weights.iter().all(|w| *w <= 0);
    let w: Vec<i128> = weights
        .iter()
        .map(|x| if equal { 1 } else { (*x).max(0) as i128 })
        .collect();
    let sum: i128 = w.iter().sum();
    let mut shares: Vec<i64> = w.iter().map(|x| (total as i128 * x / sum) as i64).collect();
    let mut rest = total - shares.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..w.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(total as i128 * w[i] % sum));
    for &i in order.iter().cycle() {
        if rest == 0 {
            break;
        }
        shares[i] += 1;
        rest -= 1;
    }
    shares
}

/// Splits the brand's compensation `amount`: the operator's commission, then the
/// association's share (`association_bps`), then the rest among the members who accepted, in
/// proportion to the losses they documented in `amount`'s currency. Writes the billing
/// records and marks the campaign settled, in one transaction.
pub fn settle(
    store: &dyn Store,
    job: u64,
    amount: Money,
    association_bps: u32,
) -> Result<Vec<BillingRecord>, CampaignError> {
    let mut job = store.job(job)?;
    let c = spec(&job)?.clone();
    match job.status {
        JobStatus::Finished { .. } => {}
        JobStatus::Settled { .. } => return Err(CampaignError::Settled(job.id)),
        _ => return Err(CampaignError::NotFinished(job.id)),
    }
    if amount.minor <= 0 {
        return Err(CampaignError::Amount);
    }
    let policy = store.policy()?;
    if policy.commission_bps as u64 + association_bps as u64 > 10_000 {
        return Err(CampaignError::Shares {
            commission: policy.commission_bps,
            association: association_bps,
        });
    }
    let claimants = claimants(store, &job)?;
    if claimants.is_empty() {
        return Err(CampaignError::NoneAccepted(job.id));
    }
    let commission = crate::ledger::share(amount.minor, policy.commission_bps);
    let association = crate::ledger::share(amount.minor, association_bps);
    let members_total = amount.minor - commission - association;
    let weights: Vec<i64> = claimants
        .iter()
        .map(|c| {
            c.loss
                .iter()
                .filter(|l| l.currency == amount.currency)
                .map(|l| l.minor)
                .sum()
        })
        .collect();
    let shares = split(members_total, &weights);
    let at_ms = now_ms();
    let money = |minor| Money {
        minor,
        currency: amount.currency.clone(),
    };
    let record = |to: String, minor: i64, memo: String| BillingRecord {
        id: 0,
        job: job.id,
        at_ms,
        from: c.brand.clone(),
        to,
        amount: money(minor),
        memo,
    };
    let mut billing = vec![
        record(
            "operator".into(),
            commission,
            format!("commission on campaign {}", job.id),
        ),
        record(
            c.association.clone(),
            association,
            format!("association's share of campaign {}", job.id),
        ),
    ];
    for (cl, share) in claimants.iter().zip(&shares) {
        billing.push(record(
            format!("person:{}", cl.person),
            *share,
            format!("compensation from campaign {}", job.id),
        ));
    }
    job.status = JobStatus::Settled { at_ms };
    store.close_job(&job, billing.clone(), &[], "")?;
    crate::ledger::bill_job(store, job.id)?;
    Ok(billing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_is_proportional_and_exact_to_the_unit() {
        assert_eq!(split(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(split(1000, &[300, 100]), vec![750, 250]);
        assert_eq!(split(10, &[0, 0]), vec![5, 5]);
        assert_eq!(split(7, &[5, 0, 2]), vec![5, 0, 2]);
        for (total, w) in [(999_999, vec![7, 13, 1, 1000]), (1, vec![3, 3, 3])] {
            assert_eq!(split(total, &w).iter().sum::<i64>(), total);
        }
    }

    #[test]
    fn counts_below_k_are_not_shown() {
        assert_eq!(Count::thresholded(4, 5), Count::FewerThan(5));
        assert_eq!(Count::thresholded(5, 5), Count::Exactly(5));
        assert_eq!(Count::FewerThan(5).to_string(), "fewer than 5");
    }
}
