//! Co-design as data: an organisation's product proposals and their versions, members'
//! comments, suggestions and votes, pledges held in escrow, and the patent officer's reviews.
//! The rules here are pure: what a valid proposal is, what a text's commitment is, which
//! ledger entries a pledge, a withdrawal and a deadline post. Storing them and deciding who
//! may do what is `insitu-core`'s (`codesign.rs`).
//!
//! Money: a pledge moves the member's money to the proposal's escrow account
//! ([`Party::Escrow`]). At the deadline, escrow pays the organisation less the service's
//! commission if the goal is reached, and refunds every pledge to the cent if not. A pledge
//! withdrawn (before the deadline, or after a change it did not see) is refunded at once.
//! Every movement is a ledger entry under a key posted once, so a retried step never moves
//! money twice.
//!
//! May touch: nothing (pure data and rules).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::hex;
use crate::ledger::{Entry, Movement, Party};
use crate::output::Money;
use crate::records::PersonId;

/// The longest title, option, tier name or reward, in characters.
pub const MAX_SHORT: usize = 200;
/// The longest description, comment or suggestion, in characters.
pub const MAX_TEXT: usize = 20_000;
/// The most options or reward tiers a proposal may list.
pub const MAX_CHOICES: usize = 12;
/// The largest goal, pledge or tier amount, in minor units (ten billion euros): sums of
/// pledges stay far from overflowing.
pub const MAX_MINOR: i64 = 1_000_000_000_000;
/// The furthest a deadline may be, from the time of submission: two years.
pub const MAX_DEADLINE_MS: i64 = 2 * 366 * 86_400_000;
/// The most comments and suggestions one member may write on one proposal.
pub const MAX_CONTRIBUTIONS: usize = 20;
/// The most pledges one member may hold on one proposal at once.
pub const MAX_PLEDGES: usize = 10;

/// A reward tier: pledges of at least `min_minor` (in the goal's currency) earn `reward`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tier {
    pub name: String,
    pub min_minor: i64,
    /// What the member receives: early access, the product, a discount.
    pub reward: String,
}

/// What a proposal says: one version of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Content {
    pub title: String,
    pub description: String,
    /// What members choose between (designs, colours, features); may be empty.
    #[serde(default)]
    pub options: Vec<String>,
    /// The studies (their jobs' ids) whose releases the proposal builds on.
    #[serde(default)]
    pub studies: Vec<u64>,
    /// The funding goal; its currency is every pledge's.
    pub goal: Money,
    /// When pledging and voting end, and the escrow pays out or refunds.
    pub deadline_ms: i64,
    #[serde(default)]
    pub tiers: Vec<Tier>,
}

/// What a member or an organisation writes on a proposal, named in [`Invalid`]: its `Display`
/// is the English words the messages use, [`Part::tag`] a stable name for other languages'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Title,
    Description,
    Options,
    Option,
    Tiers,
    TierName,
    TierReward,
    Studies,
    Reasons,
    Text,
    SignAs,
}

impl Part {
    pub const ALL: [Part; 11] = [
        Part::Title,
        Part::Description,
        Part::Options,
        Part::Option,
        Part::Tiers,
        Part::TierName,
        Part::TierReward,
        Part::Studies,
        Part::Reasons,
        Part::Text,
        Part::SignAs,
    ];

    /// A stable name: `title`, `description`, `options`, `option`, `tiers`, `tier-name`,
    /// `tier-reward`, `studies`, `reasons`, `text`, `sign-as`.
    pub fn tag(self) -> &'static str {
        match self {
            Part::Title => "title",
            Part::Description => "description",
            Part::Options => "options",
            Part::Option => "option",
            Part::Tiers => "tiers",
            Part::TierName => "tier-name",
            Part::TierReward => "tier-reward",
            Part::Studies => "studies",
            Part::Reasons => "reasons",
            Part::Text => "text",
            Part::SignAs => "sign-as",
        }
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Title => "the title",
            Part::Description => "the description",
            Part::Options => "options",
            Part::Option => "an option",
            Part::Tiers => "reward tiers",
            Part::TierName => "a tier's name",
            Part::TierReward => "a tier's reward",
            Part::Studies => "studies",
            Part::Reasons => "the reasons",
            Part::Text => "the text",
            Part::SignAs => "the name to sign with",
        })
    }
}

/// Why a proposal, a contribution, a vote or a pledge is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("{0} must not be empty")]
    Empty(Part),
    #[error("{what} has {len} characters; at most {max}")]
    TooLong { what: Part, len: usize, max: usize },
    #[error("{what}: {n} given; at most {max}")]
    TooMany { what: Part, n: usize, max: usize },
    #[error(
        "the funding goal must be a positive amount, at most 10000000000.00, in a three-letter currency (ISO 4217)"
    )]
    Goal,
    #[error(
        "reward tier `{0}` must ask for a positive amount, more than the tier before it (tiers go from the smallest pledge up)"
    )]
    Tier(String),
    #[error("the deadline has passed")]
    DeadlinePassed,
    #[error("the deadline is more than two years away")]
    DeadlineTooFar,
}

/// Checks a text a member or an organisation writes: not blank, at most `max` characters.
pub fn check_text(what: Part, s: &str, max: usize) -> Result<(), Invalid> {
    let len = s.chars().count();
    if s.trim().is_empty() {
        Err(Invalid::Empty(what))
    } else if len > max {
        Err(Invalid::TooLong { what, len, max })
    } else {
        Ok(())
    }
}

impl Content {
    /// Checks the proposal's fields; `now_ms` for the deadline.
    pub fn check(&self, now_ms: i64) -> Result<(), Invalid> {
        check_text(Part::Title, &self.title, MAX_SHORT)?;
        check_text(Part::Description, &self.description, MAX_TEXT)?;
        for (what, n) in [
            (Part::Options, self.options.len()),
            (Part::Tiers, self.tiers.len()),
            (Part::Studies, self.studies.len()),
        ] {
            if n > MAX_CHOICES {
                return Err(Invalid::TooMany {
                    what,
                    n,
                    max: MAX_CHOICES,
                });
            }
        }
        for o in &self.options {
            check_text(Part::Option, o, MAX_SHORT)?;
        }
        let c = &self.goal.currency;
        if !(1..=MAX_MINOR).contains(&self.goal.minor)
            || c.len() != 3
            || !c.bytes().all(|b| b.is_ascii_uppercase())
        {
            return Err(Invalid::Goal);
        }
        let mut last = 0;
        for t in &self.tiers {
            check_text(Part::TierName, &t.name, MAX_SHORT)?;
            check_text(Part::TierReward, &t.reward, MAX_SHORT)?;
            if t.min_minor <= last || t.min_minor > MAX_MINOR {
                return Err(Invalid::Tier(t.name.clone()));
            }
            last = t.min_minor;
        }
        if self.deadline_ms <= now_ms {
            return Err(Invalid::DeadlinePassed);
        }
        if self.deadline_ms - now_ms > MAX_DEADLINE_MS {
            return Err(Invalid::DeadlineTooFar);
        }
        Ok(())
    }

    /// The bytes a commitment covers: the content as canonical JSON (fields in declaration
    /// order, no whitespace).
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a proposal's content serialises")
    }

    /// The best tier a pledge of `minor` reaches, if any (its index).
    pub fn tier_for(&self, minor: i64) -> Option<u32> {
        self.tiers
            .iter()
            .rposition(|t| minor >= t.min_minor)
            .map(|i| i as u32)
    }
}

/// The commitment to `bytes` under `salt` (hex): SHA-256 over a domain, the salt and the bytes,
/// in hex. The audit chain records it; whoever holds the bytes and the salt can later show
/// what was submitted and when, and the hash alone tells nothing of a text (the salt is
/// random and kept by the store, never published).
pub fn commitment(salt: &str, bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"insitu-commitment-v1\0");
    h.update(salt.as_bytes());
    h.update(b"\0");
    h.update(bytes);
    hex(&h.finalize())
}

/// One version of a proposal, as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// From 1.
    pub number: u32,
    pub at_ms: i64,
    pub content: Content,
    /// The random salt of the commitment, in hex (the proposer and the officer see it).
    pub salt: String,
    /// [`commitment`] of the content's canonical bytes under the salt.
    pub commitment: String,
}

/// Where a proposal stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Submitted (or changed), waiting for the patent officer: only the organisation and the
    /// officer see it.
    InReview,
    /// The officer asked for changes; the organisation submits a new version.
    ChangesRequested,
    /// The officer refused it.
    Rejected,
    /// Approved and open: members comment, suggest, vote and pledge until the deadline.
    Public,
    /// The deadline came with the goal reached: escrow paid the organisation.
    Funded,
    /// The deadline came without the goal (or without approval): every pledge was refunded.
    Unfunded,
}

/// The patent officer's decision on a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    RequestChanges,
    Reject,
}

/// A review: the officer's decision on one version, with the reasons the proposer sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Review {
    pub version: u32,
    pub officer: String,
    pub decision: Decision,
    pub reasons: String,
    pub at_ms: i64,
}

/// The vote counts released at a ballot's close: noise drawn once and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// One noisy count per choice, in the order of `choices`.
    pub noisy: Vec<i64>,
    /// The choices counted (option indices, or a contest's proposal ids), as they were at the
    /// close: a count is shown against its choice, whatever the ballot's choices are later.
    #[serde(default)]
    pub choices: Vec<u64>,
    pub k: u32,
    pub epsilon_micro: u64,
    pub scale: f64,
    pub at_ms: i64,
}

/// What happened at the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Settlement {
    pub funded: bool,
    /// The escrow held at the deadline, in minor units.
    pub held_minor: i64,
    /// Paid to the organisation (0 when not funded).
    pub paid_minor: i64,
    /// The service's commission (0 when not funded).
    pub commission_minor: i64,
    /// Pledges that earned each tier's reward (the tiers' order); empty when not funded.
    pub rewards: Vec<u64>,
    pub at_ms: i64,
}

/// An organisation's product proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Assigned when first stored.
    pub id: u64,
    pub organisation: String,
    /// Proposals sharing a contest name compete: members vote between them.
    pub contest: Option<String>,
    pub status: Status,
    /// Every version, oldest first; the last is the current one. Never empty.
    pub versions: Vec<Version>,
    pub reviews: Vec<Review>,
    pub settlement: Option<Settlement>,
    pub created_ms: i64,
}

impl Proposal {
    pub fn current(&self) -> &Version {
        self.versions.last().expect("a proposal has a version")
    }

    pub fn content(&self) -> &Content {
        &self.current().content
    }

    pub fn version(&self) -> u32 {
        self.current().number
    }

    /// The ballot on its options.
    pub fn ballot(&self) -> Ballot {
        Ballot::Options(self.id)
    }

    /// Whether the officer approved it (open, or settled after it was): anyone may see it.
    pub fn is_public(&self) -> bool {
        matches!(
            self.status,
            Status::Public | Status::Funded | Status::Unfunded
        )
    }

    /// Whether the deadline has settled it (paid out or refunded): nothing changes after.
    pub fn settled(&self) -> bool {
        self.settlement.is_some()
    }

    /// Whether members may pledge, comment and vote at `now_ms`: approved, and before the
    /// deadline.
    pub fn open(&self, now_ms: i64) -> bool {
        self.status == Status::Public && !self.settled() && now_ms < self.content().deadline_ms
    }
}

/// What members vote on: a proposal's options, or the proposals of a contest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "on", rename_all = "snake_case")]
pub enum Ballot {
    /// A proposal's options; a choice is the option's index.
    Options(u64),
    /// A contest's proposals; a choice is a proposal's id.
    Contest(String),
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ballot::Options(p) => write!(f, "proposal:{p}"),
            Ballot::Contest(c) => write!(f, "contest:{c}"),
        }
    }
}

/// A member's vote; a later vote on the same ballot replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub ballot: Ballot,
    pub member: PersonId,
    pub choice: u64,
    pub at_ms: i64,
}

/// A comment, or a suggestion of an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Comment,
    Suggestion,
}

/// A member's comment or suggestion on a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// Assigned when stored.
    pub id: u64,
    pub proposal: u64,
    /// The version it answers.
    pub version: u32,
    pub member: PersonId,
    pub kind: Kind,
    pub text: String,
    /// The name the member chose to sign with; the organisation sees a per-proposal
    /// pseudonym otherwise.
    pub signed: Option<String>,
    pub at_ms: i64,
    /// A suggestion's commitment salt and hash (the audit chain records the hash).
    pub salt: Option<String>,
    pub commitment: Option<String>,
}

/// Where a pledge stands. Every pledge ends paid or refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PledgeStatus {
    /// In escrow, until the deadline or a withdrawal.
    Held,
    /// Withdrawn by the member and refunded.
    Withdrawn,
    /// The goal was reached: escrow paid the organisation.
    Paid,
    /// The goal was not reached: refunded.
    Refunded,
}

/// A member's pledge to a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pledge {
    /// Assigned when stored.
    pub id: u64,
    pub proposal: u64,
    pub member: PersonId,
    pub amount: Money,
    /// The reward tier it reaches (index), fixed when pledged.
    pub tier: Option<u32>,
    /// The proposal's version the member pledged to.
    pub version: u32,
    pub status: PledgeStatus,
    pub at_ms: i64,
    pub closed_ms: Option<i64>,
}

/// Ledger entries to post under one key.
pub type Posting = (String, Vec<Entry>);

/// The ledger key of a pledge's payment into escrow.
pub fn pledge_key(pledge: u64) -> String {
    format!("pledge:{pledge}")
}

/// The ledger key of a pledge's refund (withdrawn, or the goal not reached).
pub fn refund_key(pledge: u64) -> String {
    format!("pledge:{pledge}:refund")
}

/// The ledger key of a proposal's payout.
pub fn payout_key(proposal: u64) -> String {
    format!("proposal:{proposal}:payout")
}

fn entry(at_ms: i64, key: &str, debit: Party, credit: Party, amount: Money, memo: String) -> Entry {
    Entry {
        id: 0,
        at_ms,
        key: key.into(),
        debit,
        credit,
        amount,
        movement: Movement::Pledge,
        memo,
    }
}

/// The member pays the proposal's escrow.
pub fn pledge_entries(p: &Pledge) -> Vec<Entry> {
    vec![entry(
        p.at_ms,
        &pledge_key(p.id),
        Party::Person(p.member),
        Party::Escrow(p.proposal),
        p.amount.clone(),
        format!("pledge to proposal {}", p.proposal),
    )]
}

/// Escrow gives the member their pledge back, to the cent.
pub fn refund_entries(p: &Pledge, at_ms: i64, why: &str) -> Vec<Entry> {
    let mut e = entry(
        at_ms,
        &refund_key(p.id),
        Party::Escrow(p.proposal),
        Party::Person(p.member),
        p.amount.clone(),
        format!("refund of a pledge to proposal {}: {why}", p.proposal),
    );
    e.movement = Movement::Refund;
    vec![e]
}

/// What the deadline does to a proposal and its pledges: the proposal with its settlement
/// and status (funded only if public with the goal reached; a rejected one stays rejected),
/// the pledges' new states, and the postings (key, entries) that move the money. `held` are
/// the pledges still held; `commission_bps` is the service's share of a funded goal.
pub fn settle(
    proposal: &Proposal,
    held: &[Pledge],
    commission_bps: u32,
    at_ms: i64,
) -> (Proposal, Vec<Pledge>, Vec<Posting>) {
    let content = proposal.content();
    let held_minor: i64 = held
        .iter()
        .fold(0i64, |acc, p| acc.saturating_add(p.amount.minor));
    let funded = proposal.status == Status::Public && held_minor >= content.goal.minor;
    debug_assert!(held.iter().all(|p| p.status == PledgeStatus::Held));
    let mut pledges = Vec::with_capacity(held.len());
    let mut postings = Vec::new();
    let mut rewards = vec![0u64; if funded { content.tiers.len() } else { 0 }];
    let (mut paid, mut commission) = (0, 0);
    if funded {
        commission = (held_minor as i128 * commission_bps as i128 / 10_000) as i64;
        paid = held_minor - commission;
        let key = payout_key(proposal.id);
        let money = |minor| Money {
            minor,
            currency: content.goal.currency.clone(),
        };
        let mut entries = vec![];
        if paid > 0 {
            let mut e = entry(
                at_ms,
                &key,
                Party::Escrow(proposal.id),
                Party::Organisation(proposal.organisation.clone()),
                money(paid),
                format!(
                    "proposal {} funded: the pledges, less commission",
                    proposal.id
                ),
            );
            e.movement = Movement::Payout;
            entries.push(e);
        }
        if commission > 0 {
            let mut e = entry(
                at_ms,
                &key,
                Party::Escrow(proposal.id),
                Party::Operator,
                money(commission),
                format!("commission on proposal {}", proposal.id),
            );
            e.movement = Movement::Commission;
            entries.push(e);
        }
        postings.push((key, entries));
    }
    for p in held {
        let mut p = p.clone();
        p.closed_ms = Some(at_ms);
        if funded {
            p.status = PledgeStatus::Paid;
            // The tier the amount reaches in the version settled: a change to the tiers was
            // shown to the pledger, who could withdraw.
            p.tier = content.tier_for(p.amount.minor);
            if let Some(t) = p.tier.and_then(|t| rewards.get_mut(t as usize)) {
                *t += 1;
            }
        } else {
            p.status = PledgeStatus::Refunded;
            postings.push((
                refund_key(p.id),
                refund_entries(&p, at_ms, "the goal was not reached"),
            ));
        }
        pledges.push(p);
    }
    let mut settled = proposal.clone();
    settled.settlement = Some(Settlement {
        funded,
        held_minor,
        paid_minor: paid,
        commission_minor: commission,
        rewards,
        at_ms,
    });
    settled.status = match proposal.status {
        _ if funded => Status::Funded,
        Status::Rejected => Status::Rejected,
        _ => Status::Unfunded,
    };
    (settled, pledges, postings)
}

/// Whether a member may withdraw `pledge` from `proposal` at `now_ms`: until the deadline, or
/// after a change made since they pledged (a version they did not see), while it is held.
pub fn may_withdraw(proposal: &Proposal, pledge: &Pledge, now_ms: i64) -> bool {
    pledge.status == PledgeStatus::Held
        && !proposal.settled()
        && (now_ms < proposal.content().deadline_ms || pledge.version < proposal.version())
}

/// Whether `new` is `old` with versions or reviews added, never one lost or changed: a write
/// made from a proposal read before another write would drop the other's version or review,
/// so every backend refuses it (a compare-and-set inside the transaction).
pub fn extends(old: &Proposal, new: &Proposal) -> bool {
    new.versions.len() >= old.versions.len()
        && new.reviews.len() >= old.reviews.len()
        && new.versions[..old.versions.len()] == old.versions[..]
        && new.reviews[..old.reviews.len()] == old.reviews[..]
}

/// Why a write from a stale read is refused.
pub fn stale_refusal(proposal: u64) -> String {
    format!("proposal {proposal} changed meanwhile; read it again and retry")
}

/// Why a proposal that was settled cannot change.
pub fn settled_refusal(proposal: u64) -> String {
    format!("proposal {proposal} was settled at its deadline; it cannot change")
}

/// Why a member cannot comment on, suggest for or vote on `p` at `now_ms`, if they cannot.
pub fn refuse_contribution(p: &Proposal, now_ms: i64) -> Option<String> {
    (!p.open(now_ms)).then(|| {
        format!(
            "proposal {} is not open: it is not public yet, or its deadline has passed",
            p.id
        )
    })
}

/// Why a member who wrote `written` contributions on `p` cannot write another, if so.
pub fn refuse_more_contributions(p: &Proposal, written: usize) -> Option<String> {
    (written >= MAX_CONTRIBUTIONS).then(|| {
        format!(
            "you have written {written} comments and suggestions on proposal {}: that is the most one member may",
            p.id
        )
    })
}

/// Why a member who holds `held` pledges on `p` cannot pledge again, if so.
pub fn refuse_more_pledges(p: &Proposal, held: usize) -> Option<String> {
    (held >= MAX_PLEDGES).then(|| {
        format!(
            "you hold {held} pledges on proposal {}: that is the most one member may; withdraw one or pledge more in one",
            p.id
        )
    })
}

/// Why a vote on `ballot` at `at_ms` is refused, if it is: the ballot is closed once its
/// proposal (or every proposal of its contest, among `proposals`) no longer takes part.
pub fn refuse_vote(ballot: &Ballot, proposals: &[&Proposal], at_ms: i64) -> Option<String> {
    let open = proposals.iter().any(|p| match ballot {
        Ballot::Options(id) => p.id == *id && p.open(at_ms),
        Ballot::Contest(c) => p.contest.as_deref() == Some(c.as_str()) && p.open(at_ms),
    });
    (!open).then(|| format!("the vote on {ballot} is closed"))
}

/// Why `pl` cannot be pledged to `p`, if it cannot: `p` must be open at the pledge's time,
/// and the pledge a positive amount in the goal's currency.
pub fn refuse_pledge(p: &Proposal, pl: &Pledge) -> Option<String> {
    let currency = &p.content().goal.currency;
    if let Some(why) = refuse_contribution(p, pl.at_ms) {
        Some(why)
    } else if !(1..=MAX_MINOR).contains(&pl.amount.minor) || &pl.amount.currency != currency {
        Some(format!(
            "a pledge to proposal {} is a positive amount in {currency}, at most {}",
            p.id,
            insitu_formats::money::decimal(MAX_MINOR, currency)
        ))
    } else {
        None
    }
}

/// Why `pl` cannot be withdrawn from `p` at `now_ms`, if it cannot ([`may_withdraw`]).
pub fn refuse_withdrawal(p: &Proposal, pl: &Pledge, now_ms: i64) -> Option<String> {
    if may_withdraw(p, pl, now_ms) {
        None
    } else if pl.status != PledgeStatus::Held {
        Some(format!("pledge {} is no longer held in escrow", pl.id))
    } else if p.settled() {
        Some(format!("proposal {} was settled at its deadline", p.id))
    } else {
        Some(format!(
            "proposal {}'s deadline has passed and it has not changed since the pledge",
            p.id
        ))
    }
}

/// Why `p` cannot be settled at `now_ms`, if it cannot: before its deadline.
pub fn refuse_settlement(p: &Proposal, now_ms: i64) -> Option<String> {
    (now_ms < p.content().deadline_ms).then(|| {
        format!(
            "proposal {}'s deadline has not come; it is settled then",
            p.id
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> Content {
        Content {
            title: "A thermostat that learns".into(),
            description: "Built on the heating study.".into(),
            options: vec!["Round".into(), "Square".into()],
            studies: vec![3],
            goal: Money {
                minor: 10_000,
                currency: "EUR".into(),
            },
            deadline_ms: 1_000,
            tiers: vec![
                Tier {
                    name: "Early".into(),
                    min_minor: 50,
                    reward: "early access".into(),
                },
                Tier {
                    name: "Backer".into(),
                    min_minor: 100,
                    reward: "the product".into(),
                },
            ],
        }
    }

    #[test]
    fn a_proposal_is_checked_field_by_field() {
        assert_eq!(content().check(0), Ok(()));
        let mut c = content();
        c.title = " ".into();
        assert_eq!(c.check(0), Err(Invalid::Empty(Part::Title)));
        let mut c = content();
        c.goal.minor = 0;
        assert_eq!(c.check(0), Err(Invalid::Goal));
        let mut c = content();
        c.goal.currency = "eur".into();
        assert_eq!(c.check(0), Err(Invalid::Goal));
        let mut c = content();
        c.tiers.swap(0, 1);
        assert_eq!(c.check(0), Err(Invalid::Tier("Early".into())));
        let mut c = content();
        c.options = vec!["x".into(); 13];
        assert!(matches!(c.check(0), Err(Invalid::TooMany { n: 13, .. })));
        assert_eq!(content().check(1_000), Err(Invalid::DeadlinePassed));
        let mut c = content();
        c.goal.minor = MAX_MINOR + 1;
        assert_eq!(c.check(0), Err(Invalid::Goal));
        let mut c = content();
        c.deadline_ms = MAX_DEADLINE_MS + 1;
        assert_eq!(c.check(0), Err(Invalid::DeadlineTooFar));
        let mut c = content();
        c.tiers[1].min_minor = MAX_MINOR + 1;
        assert_eq!(c.check(0), Err(Invalid::Tier("Backer".into())));
    }

    #[test]
    fn tiers_go_to_the_best_one_a_pledge_reaches() {
        let c = content();
        assert_eq!(c.tier_for(49), None);
        assert_eq!(c.tier_for(50), Some(0));
        assert_eq!(c.tier_for(99), Some(0));
        assert_eq!(c.tier_for(100_000), Some(1));
    }

    #[test]
    fn a_commitment_depends_on_the_salt_and_every_byte() {
        let a = commitment("00", b"text");
        assert_eq!(a.len(), 64);
        assert_ne!(a, commitment("01", b"text"));
        assert_ne!(a, commitment("00", b"texT"));
        assert_eq!(a, commitment("00", b"text"));
    }
}
