//! Campaigns (Cass' Action): a scanner runs in the store of every member who holds a standing
//! grant for it; members who match are invited; the initiator and the association see only
//! noisy, thresholded counts until a member accepts and releases the evidence they choose.
//!
//! Rules (DESIGN.md invariant 2, noninterference):
//! - only members with a live grant naming the scanner's digest, created by the time the
//!   campaign opened, are touched;
//! - each member scanned is charged the campaign's ε against their monthly budget before
//!   their run, atomically ([`crate::job::reserve`]); a member without budget left is not run;
//! - from each member's run the campaign keeps one bit, matched or not; a failed run counts
//!   as scanned and not matched, so a failure says nothing the counts would not; the findings
//!   stay in the run's output, which only the member can read;
//! - the scanned and matched counts are released with discrete Laplace noise (OpenDP,
//!   [`crate::noise`]) of scale 2 / ε, drawn once when the scan finishes and stored; k (at
//!   least the operator's floor) applies to the noisy values;
//! - nothing that depends on the members' data (state, progress, counts, acceptances,
//!   claimants) is shown to the initiator or the association before the release time fixed
//!   at opening ([`crate::job::release_time`]); a member sees their invitation at once;
//! - an initiator opens one campaign per gap, and a scanner (its manifest's id and
//!   publisher, whatever the version) serves one campaign per gap, so that two campaigns on
//!   nearly the same population cannot be differenced;
//! - an acceptance releases only the findings the member picked, audited in the same
//!   transaction; a settlement splits the compensation among those who accepted, in
//!   proportion to the losses they documented, after the commission and the association's
//!   share, to the unit: nothing is created or lost by rounding.
//!
//! May touch: the store and the runner.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::account::Role;
use crate::contract::{Viewer, output_for};
use crate::job::{
    Answer, BillingRecord, CampaignSpec, Job, JobKind, JobStatus, Member, MemberOutcome,
    NoisyCounts, Progress,
};
use crate::ledger::{Movement, Party};
use crate::noise::{Noise, NoiseError, noisy};
use crate::output::{Finding, Money, PluginOutput, Scalar};
use crate::package::PluginUse;
use crate::run::Runner;
use crate::store::{PersonId, PluginRecord, Store, StoreError};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("plugin {0} is not a campaign scanner (its manifest's `use` is not `campaign`)")]
    NotAScanner(String),
    #[error("k must be at least {floor}, the operator's floor; {asked} was asked")]
    KBelowFloor { asked: u32, floor: u32 },
    #[error(
        "campaign {other} was opened by the same initiator or with the same scanner ({scanner}, \
         any version) less than {days} days ago; two campaigns on nearly the same members could \
         be compared to single one out. Try again after {after}"
    )]
    TooSoon {
        other: u64,
        scanner: String,
        days: u32,
        after: String,
    },
    #[error(
        "the operator's ε per campaign ({asked}) must be positive and at most the monthly \
         budget of {budget}; set it with `insitu policy set --campaign-epsilon`"
    )]
    Epsilon { asked: f64, budget: f64 },
    #[error("`{0}` is not an organisation account; evidence can only go to a known association")]
    NoAssociation(String),
    #[error(
        "`{0}` is not an organisation account; only an organisation opens a campaign, over the grants people gave it"
    )]
    NotAnOrganisation(String),
    #[error("job {0} is not a campaign")]
    NotACampaign(u64),
    #[error("campaign {0} has not finished scanning, or its release time has not come")]
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
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Noise(#[from] NoiseError),
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

/// A scanner's identity across versions: its manifest's id and its publisher.
fn scanner_of(p: &PluginRecord) -> Option<(String, String)> {
    p.manifest.as_ref().map(|m| {
        let publisher = p.publisher.clone().unwrap_or_else(|| m.publisher.clone());
        (m.id.clone(), publisher)
    })
}

/// Opens a campaign after checking the scanner, k, ε and the gap between campaigns; fixes
/// its release time from the members it targets.
pub fn open(store: &dyn Store, new: NewCampaign) -> Result<Job, CampaignError> {
    let policy = store.policy()?;
    let plugin = store.plugin(&new.plugin_digest)?;
    let manifest = match &plugin.manifest {
        Some(m) if m.usage == PluginUse::Campaign => m.clone(),
        _ => return Err(CampaignError::NotAScanner(plugin.name)),
    };
    let k = new.k.unwrap_or(policy.k_floor);
    if k < policy.k_floor {
        return Err(CampaignError::KBelowFloor {
            asked: k,
            floor: policy.k_floor,
        });
    }
    let epsilon = policy.campaign_epsilon_micro;
    if epsilon == 0 || epsilon > policy.epsilon_per_month_micro {
        return Err(CampaignError::Epsilon {
            asked: epsilon as f64 / 1e6,
            budget: policy.epsilon_per_month_micro as f64 / 1e6,
        });
    }
    // Any spelling finds the account; the campaign keeps its stored names, which are the ones
    // its grants and its views compare with.
    let owner = match store.account_by_name(&new.owner)? {
        Some(a) if a.role == Role::Organisation => a.name,
        _ => return Err(CampaignError::NotAnOrganisation(new.owner)),
    };
    let association = match store.account_by_name(&new.association)? {
        Some(a) if a.role == Role::Organisation => a.name,
        _ => return Err(CampaignError::NoAssociation(new.association)),
    };
    let now = store.now_ms();
    let gap = policy.campaign_gap_days as i64 * DAY_MS;
    let scanner = scanner_of(&plugin);
    // The jobs opened within the gap, from the index on creation times.
    for other in store.jobs_since(now.saturating_sub(gap).saturating_add(1))? {
        if !other.is_campaign() || now - other.created_ms >= gap {
            continue;
        }
        let same_scanner = other.plugin_digest == new.plugin_digest
            || store
                .plugin(&other.plugin_digest)
                .ok()
                .and_then(|p| scanner_of(&p))
                == scanner;
        if same_scanner || other.owner == owner {
            return Err(CampaignError::TooSoon {
                other: other.id,
                scanner: manifest.id.clone(),
                days: policy.campaign_gap_days,
                after: crate::import::format_date(other.created_ms + gap),
            });
        }
    }
    let members = crate::job::targets(store, &new.plugin_digest, now, &[owner.as_str()])?.len();
    let deadline = crate::job::member_limits(&manifest, &policy).deadline;
    Ok(store.add_job(Job {
        id: 0,
        kind: JobKind::Campaign(CampaignSpec {
            description: new.description,
            brand: new.brand,
            association,
            k,
            epsilon_micro: epsilon,
            period: crate::job::period_of(store.now_ms()),
        }),
        owner,
        plugin_digest: new.plugin_digest,
        params: new.params,
        created_ms: now,
        status: JobStatus::Running,
        release: None,
        counts: None,
        release_ms: crate::job::release_time(now, members, &policy, deadline.as_millis() as u64),
    })?)
}

/// Runs the scanner for every member not yet scanned, then draws the noisy counts and marks
/// the campaign finished. Resumes an interrupted scan: members already recorded are not run
/// again, and nobody's budget is charged twice.
pub async fn scan(
    runner: &Arc<Runner>,
    job: u64,
    progress: &Progress,
) -> Result<Job, CampaignError> {
    scan_with(runner, job, progress, Noise::OpenDp).await
}

/// [`scan`], with the noise drawn from `noise` (a host-internal seam for tests).
#[doc(hidden)]
pub async fn scan_with(
    runner: &Arc<Runner>,
    job: u64,
    progress: &Progress,
    noise: Noise,
) -> Result<Job, CampaignError> {
    let store = runner.store().clone();
    let mut job = store.job(job)?;
    if job.status != JobStatus::Running {
        return Ok(job);
    }
    // A campaign opened before campaigns spent ε takes the operator's ε and this month.
    if let JobKind::Campaign(c) = &mut job.kind
        && c.epsilon_micro == 0
    {
        c.epsilon_micro = store.policy()?.campaign_epsilon_micro;
        c.period = crate::job::period_of(store.now_ms());
    }
    let c = spec(&job)?.clone();
    crate::job::run_members(runner, &job, c.epsilon_micro, &c.period, progress).await?;
    crate::ledger::bill_members(store.as_ref(), job.id)?;
    job.counts = Some(draw_counts(&job, &store.members(job.id)?, noise)?);
    job.status = JobStatus::Finished {
        at_ms: store.now_ms().max(job.release_ms),
    };
    Ok(crate::job::finish(store.as_ref(), &job, Vec::new(), "")?)
}

/// The exact counts, for the operator: members scanned (a failed run counts; a member over
/// budget was not run) and members matched.
pub fn exact_counts(members: &[Member]) -> (u64, u64) {
    let scanned = members
        .iter()
        .filter(|m| m.outcome != MemberOutcome::OverBudget)
        .count() as u64;
    let matched = members
        .iter()
        .filter(|m| matches!(m.outcome, MemberOutcome::Matched { .. }))
        .count() as u64;
    (scanned, matched)
}

/// The campaign's counts with noise: adding or removing one member moves (scanned, matched)
/// by at most 2 in L1, so each gets discrete Laplace noise of scale 2 / ε (ε the campaign's),
/// through OpenDP.
pub fn draw_counts(
    job: &Job,
    members: &[Member],
    noise: Noise,
) -> Result<NoisyCounts, CampaignError> {
    let c = spec(job)?;
    let (scanned, matched) = exact_counts(members);
    let (v, scale) = noisy(
        &[scanned as i64, matched as i64],
        2,
        c.epsilon_micro as f64 / 1e6,
        noise,
        &format!("job {} counts", job.id),
    )?;
    Ok(NoisyCounts {
        scanned: v[0],
        matched: v[1],
        epsilon_micro: c.epsilon_micro,
        scale,
    })
}

/// A count as the initiator and the association see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "shown", content = "value", rename_all = "snake_case")]
pub enum Count {
    /// The count with noise (at least k).
    About(u64),
    FewerThan(u32),
    /// Not shown: the release time has not come, or fewer than k members did not match
    /// (showing the matches would tell who did).
    Withheld,
}

impl Count {
    /// A noisy count as shown: "fewer than k" under k.
    pub fn thresholded(n: i64, k: u32) -> Count {
        if n < k as i64 {
            Count::FewerThan(k)
        } else {
            Count::About(n as u64)
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::About(n) => write!(f, "about {n}"),
            Count::FewerThan(k) => write!(f, "fewer than {k}"),
            Count::Withheld => write!(f, "not shown"),
        }
    }
}

/// What the initiator and the association see of a campaign.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub scanned: Count,
    pub matched: Count,
    /// Members who accepted (they chose to be known); 0 before the release time.
    pub accepted: u64,
    pub k: u32,
    /// ε spent per member scanned, in millionths.
    pub epsilon_micro: u64,
    /// When the counts are (or were) released.
    pub release_ms: i64,
}

fn spec(job: &Job) -> Result<&CampaignSpec, CampaignError> {
    match &job.kind {
        JobKind::Campaign(c) => Ok(c),
        JobKind::Study(_) => Err(CampaignError::NotACampaign(job.id)),
    }
}

/// The noisy, thresholded counts of a campaign as its initiator and association see them at
/// `now_ms`: nothing before the release time. The noise was drawn once, when the scan
/// finished; every read returns the same numbers.
pub fn counts(store: &dyn Store, job: &Job, now_ms: i64) -> Result<Counts, CampaignError> {
    let c = spec(job)?;
    let mut out = Counts {
        scanned: Count::Withheld,
        matched: Count::Withheld,
        accepted: 0,
        k: c.k,
        epsilon_micro: c.epsilon_micro,
        release_ms: job.release_ms,
    };
    let Some(n) = job.counts.as_ref().filter(|_| job.released_at(now_ms)) else {
        return Ok(out);
    };
    out.accepted = store
        .members(job.id)?
        .iter()
        .filter(|m| matches!(m.answer, Some(Answer::Accepted { .. })))
        .count() as u64;
    out.scanned = Count::thresholded(n.scanned, c.k);
    // Post-processing of the noisy values: when fewer than k did not match, the matches are
    // not shown either.
    out.matched = if n.matched >= c.k as i64 && n.scanned - n.matched < c.k as i64 {
        Count::Withheld
    } else {
        Count::thresholded(n.matched, c.k)
    };
    Ok(out)
}

/// A member who accepted, as the association sees them: who, and what they released.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Claimant {
    #[schema(value_type = u64)]
    pub person: PersonId,
    pub name: String,
    pub findings: Vec<Finding>,
    pub loss: Vec<Money>,
}

/// The members who accepted, with the evidence they released: all the association learns
/// about individuals, and nothing before the release time (`now_ms`).
pub fn claimants(
    store: &dyn Store,
    job: &Job,
    now_ms: i64,
) -> Result<Vec<Claimant>, CampaignError> {
    spec(job)?;
    let mut out = Vec::new();
    if !job.released_at(now_ms) {
        return Ok(out);
    }
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

/// An invitation in a member's inbox, with the findings only they can see: every field of
/// each, and the records each cites, so that what they release is exactly what they read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub job: u64,
    pub description: String,
    pub brand: String,
    pub association: String,
    pub findings: Vec<Finding>,
    /// For each finding, the records it cites.
    pub evidence: Vec<Vec<EvidenceRecord>>,
    pub answer: Option<Answer>,
}

/// A record a finding cites, read from the member's store with only the fields their grant
/// gave the scanner.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct EvidenceRecord {
    pub collection: String,
    /// The id the scanner saw (a pseudonym, meaningful within this run only).
    pub id: u64,
    pub time: i64,
    /// Field name and value, as text, in the order of the grant.
    pub fields: Vec<(String, String)>,
}

/// A person's campaign invitations (campaigns their data matched), oldest first.
pub fn invitations(store: &dyn Store, person: PersonId) -> Result<Vec<Invitation>, CampaignError> {
    invitations_of(store, store.memberships(person)?)
}

/// The invitations among `memberships` (one person's, as [`Store::memberships_page`] reads a
/// page of them), in that order.
pub fn invitations_of(
    store: &dyn Store,
    memberships: Vec<Member>,
) -> Result<Vec<Invitation>, CampaignError> {
    let mut out = Vec::new();
    for m in memberships {
        if !matches!(m.outcome, MemberOutcome::Matched { .. }) {
            continue;
        }
        let job = store.job(m.job)?;
        let Ok(c) = spec(&job) else { continue };
        let findings = member_findings(store, &m)?;
        out.push(Invitation {
            job: job.id,
            description: c.description.clone(),
            brand: c.brand.clone(),
            association: c.association.clone(),
            evidence: member_evidence(store, &m, &findings)?,
            findings,
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

/// The records each finding of a member's run cites, from the store, with only the fields the
/// run's grant gives (the host checked when the run ended that each is a record it read).
fn member_evidence(
    store: &dyn Store,
    m: &Member,
    findings: &[Finding],
) -> Result<Vec<Vec<EvidenceRecord>>, CampaignError> {
    let run = store.run(m.run)?;
    let grant = store.grant(run.grant)?;
    let mut out = Vec::with_capacity(findings.len());
    for f in findings {
        let mut cited = Vec::new();
        for e in &f.evidence {
            let Some(r) = run
                .evidence
                .iter()
                .find(|r| r.id == e.id && r.collection == e.collection)
            else {
                continue;
            };
            let Some(granted) = grant.collection(&r.collection) else {
                continue;
            };
            let range = crate::store::TimeRange {
                since: Some(r.time),
                until: Some(r.time.saturating_add(1)),
            };
            let mut cursor = store.scan(m.person, &r.collection, range, &granted.fields)?;
            while let Some((batch, _)) = cursor.next_batch(64)? {
                if let Some(i) = batch.ids.iter().position(|id| *id == r.stored) {
                    cited.push(EvidenceRecord {
                        collection: r.collection.clone(),
                        id: r.id,
                        time: r.time,
                        fields: batch
                            .columns
                            .iter()
                            .map(|c| (c.name.clone(), c.value(i).to_text()))
                            .collect(),
                    });
                    break;
                }
            }
        }
        out.push(cited);
    }
    Ok(out)
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
            at_ms: store.now_ms(),
            loss: losses(&shared),
            shared,
        }
    } else {
        Answer::Declined {
            at_ms: store.now_ms(),
        }
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
    let now = store.now_ms();
    match job.status {
        JobStatus::Finished { .. } if job.released_at(now) => {}
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
    let claimants = claimants(store, &job, now)?;
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
    let at_ms = now;
    let money = |minor| Money {
        minor,
        currency: amount.currency.clone(),
    };
    let record = |to: Party, minor: i64, memo: String| BillingRecord {
        id: 0,
        job: job.id,
        at_ms,
        from: Party::Organisation(c.brand.clone()),
        to,
        amount: money(minor),
        movement: Movement::Settlement,
        memo,
    };
    let mut billing = vec![
        record(
            Party::Operator,
            commission,
            format!("commission on campaign {}", job.id),
        ),
        record(
            Party::Organisation(c.association.clone()),
            association,
            format!("association's share of campaign {}", job.id),
        ),
    ];
    for (cl, share) in claimants.iter().zip(&shares) {
        billing.push(record(
            Party::Person(cl.person),
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
        assert_eq!(Count::thresholded(-3, 5), Count::FewerThan(5));
        assert_eq!(Count::thresholded(5, 5), Count::About(5));
        assert_eq!(Count::FewerThan(5).to_string(), "fewer than 5");
    }
}
