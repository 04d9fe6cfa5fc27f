//! Co-design (the seed's second scenario): an organisation's product proposals built on the
//! studies it bought, reviewed by the patent officer, discussed, voted on and funded by
//! members through pledges held in escrow.
//!
//! What each party sees, and why (DESIGN.md's noninterference rule, applied to members):
//! - an organisation sees its proposals whole (versions, reviews with reasons), and members
//!   only through what they chose to publish: comments and suggestions under a per-proposal
//!   pseudonym, or under the name they chose to sign with; votes only as noisy counts, from
//!   the ballot's close and each from k; the escrow's total and number of pledges, never who
//!   pledged. Nothing of a member's store is read here.
//! - a member sees the public proposals, the same contributions, and their own votes and
//!   pledges.
//! - the patent officer sees every proposal, to review it before it is public.
//!
//! Money moves only through the ledger, in the store's transaction that changes the pledge
//! (`CodesignStore`): pledge into escrow, refund, payout less commission at the deadline.
//!
//! May touch: the store.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub use insitu_model::codesign::*;

use crate::audit::AuditEntry;
use crate::campaign::Count;
use crate::noise::{Noise, NoiseError, noisy};
use crate::output::Money;
use crate::store::{Page, PersonId, Proposals, Store, StoreError};
use insitu_model::audit::{AuditEvent, Chain, ChainHead, hex};

/// Who reads or acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    Person(PersonId),
    Organisation(String),
    Officer(String),
    Operator,
}

#[derive(Debug, thiserror::Error)]
pub enum CodesignError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// The same answer whether the proposal does not exist or is not the reader's to see.
    #[error("no proposal {0}")]
    NoProposal(u64),
    #[error("proposal {0} is not yours")]
    NotYours(u64),
    #[error("{0}")]
    Refused(Refusal),
    #[error(transparent)]
    Noise(#[from] NoiseError),
    #[error("{0}")]
    Store(StoreError),
}

/// Why a co-design step is refused where the proposal stands. Its `Display` is the message
/// the API and the command line show; the store's own refusals (checked in its transaction)
/// come as its words, [`Refusal::Store`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("`{0}` is not a contest's name: 1 to 64 letters, digits, `-` or `_`")]
    ContestName(String),
    #[error("the proposal cites study {study}, which is not one of {organisation}'s studies")]
    NotYourStudy { study: u64, organisation: String },
    #[error("{}", settled_refusal(*.0))]
    Settled(u64),
    #[error("proposal {0} was rejected by the patent officer; submit a new one")]
    Rejected(u64),
    #[error("the new version is the same as the current one")]
    Unchanged,
    #[error(
        "members have voted on proposal {0}'s options: they cannot change now (submit a new proposal)"
    )]
    OptionsVoted(u64),
    #[error("proposal {0} is not waiting for a review")]
    NotInReview(u64),
    #[error(
        "proposal {id} changed since you read version {read}: it is at version {now} now; read it again"
    )]
    Stale { id: u64, read: u32, now: u32 },
    #[error("{choice} is not a choice of {ballot}: choose one of {choices}")]
    NotAChoice {
        choice: u64,
        ballot: String,
        /// Each choice with its label, as `1 (Round), 2 (Square)`.
        choices: String,
    },
    #[error("proposal {id} has no version {version}")]
    NoVersion { id: u64, version: u32 },
    #[error("the audit chain holds no commitment to version {version} of proposal {id}")]
    NoCommitment { id: u64, version: u32 },
    #[error("the text and salt do not give the proof's commitment: the text was changed")]
    ProofAltered,
    #[error("the audit chain's entry {0} does not record this commitment")]
    ProofEntry(u64),
    #[error("the audit chain does not verify: {0}")]
    Chain(String),
    /// The store's words (`insitu_model::codesign`'s rules, in its transaction).
    #[error("{0}")]
    Store(String),
}

impl From<StoreError> for CodesignError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoProposal(id) => CodesignError::NoProposal(id),
            StoreError::Codesign(why) => CodesignError::Refused(Refusal::Store(why)),
            e => CodesignError::Store(e),
        }
    }
}

type Res<T> = Result<T, CodesignError>;

/// A fresh random salt for a commitment, in hex.
fn salt() -> Res<String> {
    let mut s = [0u8; 16];
    getrandom::getrandom(&mut s)
        .map_err(|e| StoreError::Db(format!("no randomness for a commitment: {e}")))?;
    Ok(hex(&s))
}

fn version(number: u32, at_ms: i64, content: Content) -> Res<Version> {
    let salt = salt()?;
    Ok(Version {
        number,
        at_ms,
        commitment: commitment(&salt, &content.canonical()),
        content,
        salt,
    })
}

/// A contest's name: 1 to 64 letters, digits, `-` or `_`.
fn check_contest(name: &str) -> Res<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(CodesignError::Refused(Refusal::ContestName(
            name.to_string(),
        )));
    }
    Ok(())
}

/// Checks that every study a proposal cites exists and is `organisation`'s (or its
/// association's): a proposal builds on releases its author bought.
fn check_studies(store: &dyn Store, organisation: &str, content: &Content) -> Res<()> {
    // One answer whether the study does not exist or is another's: an organisation learns
    // nothing of others' studies from it.
    for id in &content.studies {
        if !store.job(*id).is_ok_and(|job| job.owner == organisation) {
            return Err(CodesignError::Refused(Refusal::NotYourStudy {
                study: *id,
                organisation: organisation.to_string(),
            }));
        }
    }
    Ok(())
}

/// `organisation` submits a proposal: checked, committed (the audit chain records the hash
/// of its text under a secret salt), and waiting for the patent officer.
pub fn submit(
    store: &dyn Store,
    organisation: &str,
    contest: Option<String>,
    content: Content,
) -> Res<Proposal> {
    let now = store.now_ms();
    content.check(now)?;
    check_studies(store, organisation, &content)?;
    if let Some(c) = &contest {
        check_contest(c)?;
    }
    Ok(store.put_proposal(Proposal {
        id: 0,
        organisation: organisation.to_string(),
        contest,
        status: Status::InReview,
        versions: vec![version(1, now, content)?],
        reviews: vec![],
        settlement: None,
        created_ms: now,
    })?)
}

/// The proposal, if `reader` may see it; the same "no proposal" otherwise.
pub fn get(store: &dyn Store, id: u64, reader: &Reader) -> Res<Proposal> {
    let p = store.proposal(id)?;
    if may_see(&p, reader) || pledged_to(store, reader)?.contains(&id) {
        Ok(p)
    } else {
        Err(CodesignError::NoProposal(id))
    }
}

/// The proposals in which a member holds a pledge: a change to one goes back to the officer,
/// and its pledgers still see it, new version included, to decide whether to withdraw.
fn pledged_to(store: &dyn Store, reader: &Reader) -> Res<std::collections::BTreeSet<u64>> {
    Ok(match reader {
        Reader::Person(m) => store
            .pledges_of(*m)?
            .iter()
            .filter(|x| x.status == PledgeStatus::Held)
            .map(|x| x.proposal)
            .collect(),
        _ => Default::default(),
    })
}

/// Whether `reader` may see `p` at all: its organisation, the officer and the operator
/// always; everyone else once it is public.
pub fn may_see(p: &Proposal, reader: &Reader) -> bool {
    match reader {
        Reader::Organisation(o) if *o == p.organisation => true,
        Reader::Officer(_) | Reader::Operator => true,
        _ => p.is_public(),
    }
}

/// The proposal, if it is `organisation`'s to change.
fn owned(store: &dyn Store, id: u64, organisation: &str) -> Res<Proposal> {
    let p = get(store, id, &Reader::Organisation(organisation.to_string()))?;
    if p.organisation != organisation {
        return Err(CodesignError::NotYours(id));
    }
    Ok(p)
}

/// `organisation` changes its proposal: a new version, committed, and back to the patent
/// officer. Pledgers who pledged to an earlier version may then withdraw, even after the
/// deadline, until it settles.
pub fn revise(store: &dyn Store, id: u64, organisation: &str, content: Content) -> Res<Proposal> {
    let mut p = owned(store, id, organisation)?;
    let now = store.now_ms();
    if p.settled() {
        return Err(CodesignError::Refused(Refusal::Settled(id)));
    }
    if p.status == Status::Rejected {
        return Err(CodesignError::Refused(Refusal::Rejected(id)));
    }
    content.check(now)?;
    check_studies(store, organisation, &content)?;
    if content == *p.content() {
        return Err(CodesignError::Refused(Refusal::Unchanged));
    }
    // Votes are on the options by place: changing them would move votes already cast.
    if content.options != p.content().options && !store.votes(&p.ballot())?.is_empty() {
        return Err(CodesignError::Refused(Refusal::OptionsVoted(id)));
    }
    let n = p.version() + 1;
    p.versions.push(version(n, now, content)?);
    p.status = Status::InReview;
    Ok(store.put_proposal(p)?)
}

/// The patent officer's decision on the current version of a proposal in review. Asking
/// for changes or rejecting needs reasons, which the proposer sees.
pub fn review(
    store: &dyn Store,
    id: u64,
    officer: &str,
    decision: Decision,
    reasons: &str,
) -> Res<Proposal> {
    review_version(store, id, officer, None, decision, reasons)
}

/// [`review`] of the version the officer read: refused when the proposal changed since
/// (`Some(version)` other than the current one), so that no version is approved unseen.
pub fn review_version(
    store: &dyn Store,
    id: u64,
    officer: &str,
    version: Option<u32>,
    decision: Decision,
    reasons: &str,
) -> Res<Proposal> {
    let mut p = get(store, id, &Reader::Officer(officer.to_string()))?;
    if p.status != Status::InReview {
        return Err(CodesignError::Refused(Refusal::NotInReview(id)));
    }
    if let Some(v) = version
        && v != p.version()
    {
        return Err(CodesignError::Refused(Refusal::Stale {
            id,
            read: v,
            now: p.version(),
        }));
    }
    if decision != Decision::Approve || !reasons.trim().is_empty() {
        check_text(Part::Reasons, reasons, MAX_TEXT)?;
    }
    let now = store.now_ms();
    p.reviews.push(Review {
        version: p.version(),
        officer: officer.to_string(),
        decision,
        reasons: reasons.to_string(),
        at_ms: now,
    });
    p.status = match decision {
        Decision::Approve => Status::Public,
        Decision::RequestChanges => Status::ChangesRequested,
        Decision::Reject => Status::Rejected,
    };
    Ok(store.put_proposal(p)?)
}

/// `member` comments on a public proposal, or suggests an option (a suggestion is committed
/// like a proposal, so its author can later show it was theirs). `sign_as`: the name the
/// member chooses to show; without it the organisation sees a per-proposal pseudonym.
pub fn contribute(
    store: &dyn Store,
    id: u64,
    member: PersonId,
    kind: Kind,
    text: &str,
    sign_as: Option<&str>,
) -> Res<Contribution> {
    let p = get(store, id, &Reader::Person(member))?;
    check_text(Part::Text, text, MAX_TEXT)?;
    if let Some(name) = sign_as {
        check_text(Part::SignAs, name, MAX_SHORT)?;
    }
    let (salt, commitment) = match kind {
        Kind::Suggestion => {
            let s = salt()?;
            let c = commitment(&s, text.as_bytes());
            (Some(s), Some(c))
        }
        Kind::Comment => (None, None),
    };
    Ok(store.add_contribution(Contribution {
        id: 0,
        proposal: id,
        version: p.version(),
        member,
        kind,
        text: text.to_string(),
        signed: sign_as.map(|s| s.trim().to_string()),
        at_ms: store.now_ms(),
        salt,
        commitment,
    })?)
}

/// The choices of a ballot, in order: a proposal's option indices, or the ids of a
/// contest's proposals that members can see.
pub fn choices(store: &dyn Store, ballot: &Ballot) -> Res<Vec<(u64, String)>> {
    Ok(match ballot {
        Ballot::Options(id) => store
            .proposal(*id)?
            .content()
            .options
            .iter()
            .enumerate()
            .map(|(i, o)| (i as u64, o.clone()))
            .collect(),
        Ballot::Contest(name) => contest(store, name)?
            .into_iter()
            .map(|p| (p.id, p.content().title.clone()))
            .collect(),
    })
}

/// A contest's proposals that members can see, by id.
fn contest(store: &dyn Store, name: &str) -> Res<Vec<Proposal>> {
    Ok(every(store, Proposals::Contest(name.to_string()))?
        .into_iter()
        .filter(Proposal::is_public)
        .collect())
}

/// When a ballot closes: its proposal's deadline, or the last of its contest's.
pub fn closes_ms(store: &dyn Store, ballot: &Ballot) -> Res<Option<i64>> {
    Ok(match ballot {
        Ballot::Options(id) => Some(store.proposal(*id)?.content().deadline_ms),
        Ballot::Contest(name) => contest(store, name)?
            .iter()
            .map(|p| p.content().deadline_ms)
            .max(),
    })
}

/// `member` votes on a ballot (a later vote replaces theirs), while it is open.
pub fn vote(store: &dyn Store, ballot: &Ballot, member: PersonId, choice: u64) -> Res<()> {
    // Whether the ballot is still open is the store's to say, in its transaction
    // (`codesign::refuse_vote`); a proposal the member may not see is not theirs to vote on.
    if let Ballot::Options(id) = ballot {
        get(store, *id, &Reader::Person(member))?;
    }
    let choices = choices(store, ballot)?;
    if !choices.iter().any(|(c, _)| *c == choice) {
        return Err(CodesignError::Refused(Refusal::NotAChoice {
            choice,
            ballot: ballot.to_string(),
            choices: choices
                .iter()
                .map(|(c, l)| format!("{c} ({l})"))
                .collect::<Vec<_>>()
                .join(", "),
        }));
    }
    Ok(store.cast_vote(Vote {
        ballot: ballot.clone(),
        member,
        choice,
        at_ms: store.now_ms(),
    })?)
}

/// Draws a closed ballot's tally, once: each choice's count with discrete Laplace noise of
/// scale 1/ε (adding or removing one member moves one count by one), ε and k the campaigns'
/// (`Policy::campaign_epsilon_micro`, `k_floor`). Before the close: `None`.
pub fn tally(store: &dyn Store, ballot: &Ballot, noise: Noise) -> Res<Option<Tally>> {
    if let Some(t) = store.tally(ballot)? {
        return Ok(Some(t));
    }
    let now = store.now_ms();
    match closes_ms(store, ballot)? {
        Some(close) if close <= now => {}
        _ => return Ok(None),
    }
    let choices = choices(store, ballot)?;
    if choices.is_empty() {
        return Ok(None);
    }
    let votes = store.votes(ballot)?;
    let exact: Vec<i64> = choices
        .iter()
        .map(|(c, _)| votes.iter().filter(|v| v.choice == *c).count() as i64)
        .collect();
    let policy = store.policy()?;
    let epsilon_micro = policy.campaign_epsilon_micro;
    let (noisy, scale) = noisy(
        &exact,
        1,
        epsilon_micro as f64 / 1e6,
        noise,
        &format!("{ballot} votes"),
    )?;
    Ok(Some(store.put_tally(
        ballot,
        Tally {
            noisy,
            choices: choices.iter().map(|(c, _)| *c).collect(),
            k: policy.k_floor,
            epsilon_micro,
            scale,
            at_ms: now,
        },
    )?))
}

/// `member` pledges `minor` (in the goal's currency) to a public proposal; the reward tier is
/// the best the amount reaches. The money moves into escrow in the same transaction.
pub fn pledge(store: &dyn Store, id: u64, member: PersonId, minor: i64) -> Res<Pledge> {
    let p = get(store, id, &Reader::Person(member))?;
    let content = p.content();
    Ok(store.pledge(Pledge {
        id: 0,
        proposal: id,
        member,
        amount: Money {
            minor,
            currency: content.goal.currency.clone(),
        },
        tier: content.tier_for(minor),
        version: p.version(),
        status: PledgeStatus::Held,
        at_ms: store.now_ms(),
        closed_ms: None,
    })?)
}

/// `member` withdraws one of their pledges, refunded at once.
pub fn withdraw(store: &dyn Store, id: u64, pledge: u64, member: PersonId) -> Res<Pledge> {
    let mine = store
        .pledges_of(member)?
        .into_iter()
        .any(|p| p.id == pledge && p.proposal == id);
    if !mine {
        return Err(CodesignError::Store(StoreError::NoPledge {
            proposal: id,
            pledge,
        }));
    }
    Ok(store.withdraw_pledge(id, pledge, store.now_ms())?)
}

/// Settles every proposal whose deadline has come (escrow paid out or refunded), after drawing
/// the tallies of the ballots that closed with it (its options, its contest). Idempotent: for
/// the server's schedule, the CLI and the demo; a tally that fails leaves its proposal for the
/// next call. Reads the unsettled proposals only. Returns the proposals it settled.
pub fn settle_due(store: &dyn Store, noise: Noise) -> Res<Vec<Proposal>> {
    let now = store.now_ms();
    let commission = store.policy()?.commission_bps;
    let mut settled = Vec::new();
    for p in every(store, Proposals::Unsettled)? {
        if p.settled() || now < p.content().deadline_ms {
            continue;
        }
        if !p.content().options.is_empty() && p.status == Status::Public {
            tally(store, &p.ballot(), noise)?;
        }
        // A contest closes with the last deadline of its public proposals: that proposal's.
        if let Some(c) = &p.contest {
            tally(store, &Ballot::Contest(c.clone()), noise)?;
        }
        settled.push(store.settle_proposal(p.id, commission, now)?);
    }
    Ok(settled)
}

/// A member as an organisation sees them on one proposal: a pseudonym keyed by the store's
/// secret, stable on that proposal, unrelated across proposals (two proposals' commenters
/// cannot be joined), and unrelated to the member's id.
pub fn pseudonym(store: &dyn Store, proposal: u64, member: PersonId) -> Res<String> {
    let key = store.pseudonym_key()?;
    let mut h = Sha256::new();
    h.update(b"insitu-codesign-pseudonym-v1\0");
    h.update(key);
    h.update(proposal.to_be_bytes());
    h.update(member.to_be_bytes());
    Ok(format!("member-{}", &hex(&h.finalize())[..8]))
}

/// A contribution as anyone but its author sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContributionView {
    /// Its place among the proposal's contributions, from 1 (not a store id).
    pub n: u32,
    pub version: u32,
    pub kind: Kind,
    pub text: String,
    /// The signed name, or the per-proposal pseudonym.
    pub author: String,
    pub signed: bool,
    /// The reader's own.
    pub mine: bool,
    pub at_ms: i64,
    /// A suggestion's commitment (in the audit chain).
    pub commitment: Option<String>,
}

/// A choice's count as released.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChoiceCount {
    pub choice: u64,
    pub label: String,
    pub count: Count,
}

/// A ballot as anyone sees it: its choices, and their noisy counts from its close.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BallotView {
    pub ballot: String,
    pub closes_ms: Option<i64>,
    pub counts: Vec<ChoiceCount>,
    /// The reader's own vote, for a member.
    pub my_choice: Option<u64>,
}

/// A version as the proposal's readers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VersionView {
    pub number: u32,
    pub at_ms: i64,
    pub commitment: String,
}

/// A pledge as its member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PledgeView {
    pub id: u64,
    pub proposal: u64,
    pub amount: Money,
    pub tier: Option<String>,
    pub version: u32,
    pub status: PledgeStatus,
    pub at_ms: i64,
    /// Whether it may be withdrawn now.
    pub withdrawable: bool,
    /// Whether the proposal changed since the pledge (a version the member did not pledge
    /// to): shown to them, and it lets them withdraw until the settlement.
    pub changed: bool,
}

/// Pledge `x` of proposal `p` as its member sees it at `now_ms`: held pledges reach the
/// current version's tiers (as the settlement counts them); a closed one keeps the tier it was
/// settled with.
pub fn pledge_view(p: &Proposal, x: &Pledge, now_ms: i64) -> PledgeView {
    let tiers = &p.content().tiers;
    PledgeView {
        id: x.id,
        proposal: x.proposal,
        amount: x.amount.clone(),
        tier: match x.status {
            PledgeStatus::Held => p.content().tier_for(x.amount.minor),
            _ => x.tier,
        }
        .and_then(|t| tiers.get(t as usize))
        .map(|t| t.name.clone()),
        version: x.version,
        status: x.status,
        at_ms: x.at_ms,
        withdrawable: may_withdraw(p, x, now_ms),
        changed: x.version < p.version(),
    }
}

/// A proposal as one reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProposalView {
    pub id: u64,
    pub organisation: String,
    pub contest: Option<String>,
    pub status: Status,
    pub version: u32,
    pub content: Content,
    pub versions: Vec<VersionView>,
    /// The officer's decisions with reasons: for the organisation, the officer and the
    /// operator only.
    pub reviews: Vec<Review>,
    pub contributions: Vec<ContributionView>,
    pub ballot: BallotView,
    /// Held in (or paid out of) escrow, and the number of pledges: never who pledged.
    pub pledged: Money,
    pub pledges: u64,
    pub settlement: Option<Settlement>,
    /// The reader's own pledges, for a member.
    pub my_pledges: Vec<PledgeView>,
}

/// A ballot as `reader` sees it at `now_ms`.
pub fn ballot_view(store: &dyn Store, ballot: &Ballot, reader: &Reader) -> Res<BallotView> {
    let choices = choices(store, ballot)?;
    let tally = store.tally(ballot)?;
    let counts = choices
        .into_iter()
        .enumerate()
        .map(|(i, (choice, label))| {
            // By the choice the tally counted (a tally from before it kept its choices: by
            // place); a choice that came after the close has no count.
            let at = match &tally {
                Some(t) if !t.choices.is_empty() => t.choices.iter().position(|c| *c == choice),
                Some(_) => Some(i),
                None => None,
            };
            ChoiceCount {
                choice,
                label,
                count: match (&tally, at) {
                    (Some(t), Some(at)) => {
                        Count::thresholded(t.noisy.get(at).copied().unwrap_or(0), t.k)
                    }
                    _ => Count::Withheld,
                },
            }
        })
        .collect();
    let my_choice = match reader {
        Reader::Person(m) => store
            .votes(ballot)?
            .into_iter()
            .find(|v| v.member == *m)
            .map(|v| v.choice),
        _ => None,
    };
    Ok(BallotView {
        ballot: ballot.to_string(),
        closes_ms: closes_ms(store, ballot)?,
        counts,
        my_choice,
    })
}

/// Proposal `id` as `reader` sees it.
pub fn view(store: &dyn Store, id: u64, reader: &Reader) -> Res<ProposalView> {
    view_of(store, get(store, id, reader)?, reader)
}

/// `rows` (a page of [`list`] or [`queue`]) as `reader` sees each, without reading them again;
/// a row the reader may not see is "no proposal", as from [`view`].
pub fn views(store: &dyn Store, rows: Vec<Proposal>, reader: &Reader) -> Res<Vec<ProposalView>> {
    let mut pledged = None;
    let mut out = Vec::with_capacity(rows.len());
    for p in rows {
        if !may_see(&p, reader) {
            let pledged = match &mut pledged {
                Some(set) => set,
                None => pledged.insert(pledged_to(store, reader)?),
            };
            if !pledged.contains(&p.id) {
                return Err(CodesignError::NoProposal(p.id));
            }
        }
        out.push(view_of(store, p, reader)?);
    }
    Ok(out)
}

/// `p`, which `reader` may see, as they see it.
fn view_of(store: &dyn Store, p: Proposal, reader: &Reader) -> Res<ProposalView> {
    let id = p.id;
    let content = p.content().clone();
    let privileged = match reader {
        Reader::Organisation(o) => *o == p.organisation,
        Reader::Officer(_) | Reader::Operator => true,
        Reader::Person(_) => false,
    };
    let me = match reader {
        Reader::Person(m) => Some(*m),
        _ => None,
    };
    let mut contributions = Vec::new();
    for (i, c) in store.contributions(id)?.into_iter().enumerate() {
        let author = match &c.signed {
            Some(name) => name.clone(),
            None => pseudonym(store, id, c.member)?,
        };
        contributions.push(ContributionView {
            n: i as u32 + 1,
            version: c.version,
            kind: c.kind,
            text: c.text,
            author,
            signed: c.signed.is_some(),
            mine: me == Some(c.member),
            at_ms: c.at_ms,
            commitment: c.commitment,
        });
    }
    let pledges = store.pledges(id)?;
    let counted: Vec<&Pledge> = pledges
        .iter()
        .filter(|x| matches!(x.status, PledgeStatus::Held | PledgeStatus::Paid))
        .collect();
    let now = store.now_ms();
    let my_pledges = pledges
        .iter()
        .filter(|x| Some(x.member) == me)
        .map(|x| pledge_view(&p, x, now))
        .collect();
    Ok(ProposalView {
        id,
        organisation: p.organisation.clone(),
        contest: p.contest.clone(),
        status: p.status,
        version: p.version(),
        versions: p
            .versions
            .iter()
            .map(|v| VersionView {
                number: v.number,
                at_ms: v.at_ms,
                commitment: v.commitment.clone(),
            })
            .collect(),
        reviews: if privileged {
            p.reviews.clone()
        } else {
            vec![]
        },
        contributions,
        ballot: ballot_view(store, &p.ballot(), reader)?,
        pledged: Money {
            minor: counted
                .iter()
                .fold(0i64, |acc, x| acc.saturating_add(x.amount.minor)),
            currency: content.goal.currency.clone(),
        },
        pledges: counted.len() as u64,
        settlement: p.settlement.clone(),
        my_pledges,
        content,
    })
}

/// A page of the proposals `reader` may see, newest first: a member, the public ones and those
/// they hold a pledge on; an organisation, its own and the public ones; the officer and the
/// operator, every one. Each read is a page of one index (a member's pledges are theirs), so
/// a listing never reads the whole table.
pub fn list(store: &dyn Store, reader: &Reader, page: Page) -> Res<Vec<Proposal>> {
    let mut rows = match reader {
        Reader::Officer(_) | Reader::Operator => {
            return Ok(store.proposals_page(&Proposals::All, page)?);
        }
        Reader::Organisation(o) => {
            let mut rows = store.proposals_page(&Proposals::Of(o.clone()), page)?;
            rows.extend(store.proposals_page(&Proposals::Public, page)?);
            rows
        }
        Reader::Person(_) => {
            let mut rows = store.proposals_page(&Proposals::Public, page)?;
            let mut pledged: Vec<u64> = pledged_to(store, reader)?
                .into_iter()
                .filter(|id| page.admits(*id))
                .collect();
            pledged.sort_unstable_by(|a, b| b.cmp(a));
            pledged.truncate(page.limit);
            for id in pledged {
                rows.push(store.proposal(id)?);
            }
            rows
        }
    };
    // The newest `limit` of the union are among the newest `limit` of each part.
    rows.sort_unstable_by_key(|p| std::cmp::Reverse(p.id));
    rows.dedup_by_key(|p| p.id);
    rows.truncate(page.limit);
    Ok(rows)
}

/// A page of the officer's queue: the proposals waiting for a review, newest first.
pub fn queue(store: &dyn Store, page: Page) -> Res<Vec<Proposal>> {
    Ok(store.proposals_page(&Proposals::InReview, page)?)
}

/// Every proposal `which` names, oldest first, a page at a time (a contest's, the unsettled
/// ones: a part of the table that stays small).
fn every(store: &dyn Store, which: Proposals) -> Res<Vec<Proposal>> {
    let mut all = crate::store::walk(
        256,
        |p: &Proposal| p.id,
        |page| store.proposals_page(&which, page),
    )?;
    all.reverse();
    Ok(all)
}

/// What a proposer keeps to show, later, what they submitted and when, without having
/// published it: the text, the salt, and where the audit chain recorded its commitment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Proof {
    pub proposal: u64,
    pub version: u32,
    pub organisation: String,
    pub content: Content,
    pub salt: String,
    pub commitment: String,
    /// The operator chain's entry that records the commitment: its place, time and hash.
    pub seq: u64,
    pub at_ms: i64,
    pub entry_hash: String,
}

/// The proof of version `version` of proposal `id`, for its organisation, the officer or
/// the operator.
pub fn prove(store: &dyn Store, id: u64, version: u32, reader: &Reader) -> Res<Proof> {
    let p = get(store, id, reader)?;
    if matches!(reader, Reader::Person(_))
        || matches!(reader, Reader::Organisation(o) if *o != p.organisation)
    {
        return Err(CodesignError::NotYours(id));
    }
    let v = p
        .versions
        .iter()
        .find(|v| v.number == version)
        .ok_or(CodesignError::Refused(Refusal::NoVersion { id, version }))?;
    let entry = committed_entry(store, &v.commitment)?.ok_or(CodesignError::Refused(
        Refusal::NoCommitment { id, version },
    ))?;
    Ok(Proof {
        proposal: id,
        version,
        organisation: p.organisation.clone(),
        content: v.content.clone(),
        salt: v.salt.clone(),
        commitment: v.commitment.clone(),
        seq: entry.seq,
        at_ms: entry.at_ms,
        entry_hash: entry.hash,
    })
}

/// The operator chain's entry that records `commitment`, if any.
fn committed_entry(store: &dyn Store, commitment: &str) -> Res<Option<AuditEntry>> {
    let mut after = None;
    loop {
        let page = store.audit_chain(Chain::Operator, after, 1024)?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        after = Some(last.seq);
        if let Some(e) = page.into_iter().find(|e| {
            matches!(&e.event, AuditEvent::ProposalCommitted { commitment: c, .. } if c == commitment)
        }) {
            return Ok(Some(e));
        }
    }
}

/// Checks a proof against the store's audit chain: the text and salt give the commitment,
/// the operator chain holds it at the stated place and time, and the chain verifies from that
/// entry (its hash recomputed, each entry after it linked to the one before) to its head, and
/// against the latest checkpoint, taken from `latest` (the node's kept one: a checkpoint holds
/// every person's head, which the operator chain's check does not need read for each proof).
/// The entries before the proof's are not read: they do not bear on its place, and a proof's
/// check costs what follows it, not the whole chain. Returns the time the commitment was
/// recorded.
pub fn verify_proof(
    store: &dyn Store,
    latest: &crate::audit::LatestCheckpoint,
    proof: &Proof,
) -> Res<i64> {
    let again = commitment(&proof.salt, &proof.content.canonical());
    if again != proof.commitment {
        return Err(CodesignError::Refused(Refusal::ProofAltered));
    }
    let entry = store
        .audit_chain(Chain::Operator, proof.seq.checked_sub(1), 1)?
        .into_iter()
        .next()
        .filter(|e| e.seq == proof.seq);
    let ok = entry.as_ref().is_some_and(|e| {
        e.at_ms == proof.at_ms
            && e.hash == proof.entry_hash
            && matches!(&e.event, AuditEvent::ProposalCommitted { proposal, version, commitment, .. }
                if *proposal == proof.proposal && *version == proof.version && *commitment == proof.commitment)
    });
    let Some(entry) = entry.filter(|_| ok) else {
        return Err(CodesignError::Refused(Refusal::ProofEntry(proof.seq)));
    };
    let latest = latest.latest(store)?;
    let checkpoint = latest.as_ref().map(|p| p.checkpoint());
    // From the entry before it, as the entry says: the walk then recomputes the entry's own
    // hash and links it forward.
    let before = entry.seq.checked_sub(1).map(|seq| ChainHead {
        chain: Chain::Operator,
        seq,
        hash: entry.prev.clone(),
    });
    crate::audit::verify_chain_after(store, Chain::Operator, checkpoint, before.as_ref())
        .map_err(|e| CodesignError::Refused(Refusal::Chain(e.to_string())))?;
    Ok(proof.at_ms)
}

/// The first checkpoint whose operator chain head is at or past the proof's entry, if one
/// was published since: from then on the commitment is under a signed root that the operator
/// cannot rewrite without every holder of that checkpoint seeing it.
pub fn anchored_in(store: &dyn Store, proof: &Proof) -> Res<Option<u64>> {
    let Some(latest) = store.latest_checkpoint()? else {
        return Ok(None);
    };
    let covers = |c: &crate::audit::Checkpoint| {
        c.heads
            .iter()
            .any(|h| h.chain == Chain::Operator && h.seq >= proof.seq)
    };
    if !covers(&latest) {
        return Ok(None);
    }
    // Checkpoints only move forward: the first that covers it, by bisection.
    let (mut lo, mut hi) = (1, latest.signed.number);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match store.checkpoint(mid)? {
            Some(c) if covers(&c) => hi = mid,
            _ => lo = mid + 1,
        }
    }
    Ok(Some(hi))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::clock::ManualClock;
    use crate::ledger::{balances, trial_balance};
    use crate::store::prelude::*;
    use crate::store::redb::RedbStore;
    use insitu_model::ledger::Party;

    const DAY: i64 = 86_400_000;
    const T0: i64 = 1_760_000_000_000;

    fn store() -> (tempfile::TempDir, Arc<ManualClock>, RedbStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = ManualClock::at(T0);
        let s =
            RedbStore::open_with_clock(&dir.path().join("s.redb"), clock.clone()).expect("open");
        (dir, clock, s)
    }

    fn content(goal: i64) -> Content {
        Content {
            title: "A thermostat that learns".into(),
            description: "From the heating study.".into(),
            options: vec!["Round".into(), "Square".into()],
            studies: vec![],
            goal: Money {
                minor: goal,
                currency: "EUR".into(),
            },
            deadline_ms: T0 + 10 * DAY,
            tiers: vec![Tier {
                name: "Backer".into(),
                min_minor: 2_000,
                reward: "the thermostat".into(),
            }],
        }
    }

    fn public(s: &dyn Store, goal: i64) -> Proposal {
        let p = submit(s, "Thermo", None, content(goal)).expect("submit");
        review(s, p.id, "olga", Decision::Approve, "").expect("approve")
    }

    #[derive(Debug, Clone)]
    enum Op {
        Pledge { member: usize, minor: i64 },
        Withdraw { pick: usize },
        Revise,
        Wait { days: i64 },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..3usize, 1..5_000i64).prop_map(|(member, minor)| Op::Pledge { member, minor }),
            2 => (0..64usize).prop_map(|pick| Op::Withdraw { pick }),
            1 => Just(Op::Revise),
            2 => (0..6i64).prop_map(|days| Op::Wait { days }),
        ]
    }

    fn escrow_never_negative(s: &dyn Store, id: u64) {
        let b = balances(&s.ledger_of(&Party::Escrow(id)).expect("ledger_of"));
        for ((party, _), v) in b {
            if party == Party::Escrow(id) {
                assert!(v >= 0, "escrow {id} went negative: {v}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Whatever the order of pledges, withdrawals, changes and the deadline: escrow never
        /// goes negative, every pledge ends paid or refunded (a withdrawal is a refund), each
        /// pledge's money moved in once and out at most once, and the trial balance is zero.
        #[test]
        fn escrow_balances_whatever_the_order(
            ops in proptest::collection::vec(op(), 1..24),
            goal in 1_000i64..12_000,
        ) {
            let (_dir, clock, s) = store();
            let members: Vec<PersonId> =
                (0..3).map(|i| s.add_person(&format!("m{i}")).expect("person")).collect();
            let p = public(&s, goal);
            for op in ops {
                match op {
                    Op::Pledge { member, minor } => {
                        let _ = pledge(&s, p.id, members[member], minor);
                    }
                    Op::Withdraw { pick } => {
                        let all = s.pledges(p.id).expect("pledges");
                        if let Some(x) = all.get(pick % all.len().max(1)) {
                            let _ = withdraw(&s, p.id, x.id, x.member);
                        }
                    }
                    Op::Revise => {
                        let mut c = s.proposal(p.id).expect("proposal").content().clone();
                        c.description.push('.');
                        if let Ok(q) = revise(&s, p.id, "Thermo", c) {
                            review(&s, q.id, "olga", Decision::Approve, "").expect("approve");
                        }
                    }
                    Op::Wait { days } => {
                        clock.advance(days * DAY);
                    }
                }
                escrow_never_negative(&s, p.id);
            }
            clock.advance(30 * DAY);
            settle_due(&s, Noise::Seeded(1)).expect("settle");
            escrow_never_negative(&s, p.id);
            let settled = s.proposal(p.id).expect("proposal");
            let st = settled.settlement.clone().expect("settled");
            let pledges = s.pledges(p.id).expect("pledges");
            let ledger = s.ledger().expect("ledger");
            for x in &pledges {
                prop_assert!(matches!(
                    x.status,
                    PledgeStatus::Paid | PledgeStatus::Refunded | PledgeStatus::Withdrawn
                ), "pledge {} ended {:?}", x.id, x.status);
                let into = ledger.iter().filter(|e| e.key == pledge_key(x.id)).count();
                let back = ledger.iter().filter(|e| e.key == refund_key(x.id)).count();
                prop_assert_eq!(into, 1);
                prop_assert_eq!(back, usize::from(x.status != PledgeStatus::Paid));
            }
            let paid: i64 = pledges
                .iter()
                .filter(|x| x.status == PledgeStatus::Paid)
                .map(|x| x.amount.minor)
                .sum();
            if st.funded {
                prop_assert_eq!(paid, st.held_minor);
            } else {
                prop_assert_eq!(paid, 0);
            }
            prop_assert_eq!(st.funded, st.held_minor >= goal);
            prop_assert_eq!(st.paid_minor + st.commission_minor, if st.funded { st.held_minor } else { 0 });
            let b = balances(&ledger);
            prop_assert_eq!(b.get(&(Party::Escrow(p.id), "EUR".to_string())).copied().unwrap_or(0), 0);
            prop_assert!(trial_balance(&ledger).values().all(|v| *v == 0));
        }
    }

    /// A member cannot flood a proposal: contributions and held pledges are capped per
    /// member, and an amount past the largest is refused; nothing is written when refused.
    #[test]
    fn one_member_cannot_flood_a_proposal_or_overflow_its_escrow() {
        let (_dir, _clock, s) = store();
        let a = s.add_person("a").expect("person");
        let p = public(&s, 1_000);
        for _ in 0..MAX_CONTRIBUTIONS {
            contribute(&s, p.id, a, Kind::Comment, "again", None).expect("contribute");
        }
        assert!(matches!(
            contribute(&s, p.id, a, Kind::Comment, "again", None),
            Err(CodesignError::Refused(_))
        ));
        for _ in 0..MAX_PLEDGES {
            pledge(&s, p.id, a, 1).expect("pledge");
        }
        assert!(matches!(
            pledge(&s, p.id, a, 1),
            Err(CodesignError::Refused(_))
        ));
        let b = s.add_person("b").expect("person");
        assert!(matches!(
            pledge(&s, p.id, b, MAX_MINOR + 1),
            Err(CodesignError::Refused(_))
        ));
        assert_eq!(s.contributions(p.id).expect("c").len(), MAX_CONTRIBUTIONS);
        assert_eq!(s.pledges(p.id).expect("p").len(), MAX_PLEDGES);
    }

    /// A change after a pledge is shown to the pledger, who may then withdraw after the
    /// deadline too; a pledge to the current version is not marked.
    #[test]
    fn a_change_is_shown_to_earlier_pledgers_who_may_withdraw() {
        let (_dir, clock, s) = store();
        let a = s.add_person("a").expect("person");
        let b = s.add_person("b").expect("person");
        let p = public(&s, 100_000);
        let early = pledge(&s, p.id, a, 500).expect("pledge");
        let mut c = content(100_000);
        c.description = "Now with a wooden case.".into();
        revise(&s, p.id, "Thermo", c).expect("revise");
        // Back with the officer: the pledger sees the new version, a stranger nothing.
        let seen = view(&s, p.id, &Reader::Person(a)).expect("the pledger sees it");
        assert_eq!(seen.content.description, "Now with a wooden case.");
        assert!(seen.my_pledges[0].changed && seen.my_pledges[0].withdrawable);
        assert!(
            list(&s, &Reader::Person(a), Page::first(10))
                .expect("list")
                .iter()
                .any(|x| x.id == p.id)
        );
        assert!(matches!(
            view(&s, p.id, &Reader::Person(b)),
            Err(CodesignError::NoProposal(_))
        ));
        assert!(
            list(&s, &Reader::Person(b), Page::first(10))
                .expect("list")
                .is_empty()
        );
        // Views of rows already read keep the same rule: the pledger's, not the stranger's.
        let row = || vec![s.proposal(p.id).expect("proposal")];
        assert_eq!(
            views(&s, row(), &Reader::Person(a)).expect("views")[0].content,
            seen.content
        );
        assert!(matches!(
            views(&s, row(), &Reader::Person(b)),
            Err(CodesignError::NoProposal(_))
        ));
        review(&s, p.id, "olga", Decision::Approve, "").expect("approve");
        pledge(&s, p.id, b, 500).expect("pledge");
        clock.advance(11 * DAY);
        let va = view(&s, p.id, &Reader::Person(a)).expect("view");
        let vb = view(&s, p.id, &Reader::Person(b)).expect("view");
        assert!(va.my_pledges[0].changed && va.my_pledges[0].withdrawable);
        assert!(!vb.my_pledges[0].changed && !vb.my_pledges[0].withdrawable);
        withdraw(&s, p.id, early.id, a).expect("withdraw after the deadline");
    }

    /// The reviewer's findings: an officer cannot approve a version they did not read, the
    /// options cannot move under votes already cast, a contest's counts stay with the
    /// proposals they counted, and rewards follow the tiers of the version settled.
    #[test]
    fn reviews_votes_counts_and_tiers_stay_with_what_they_were_about() {
        let (_dir, clock, s) = store();
        let p = submit(&s, "Thermo", None, content(1_000)).expect("submit");
        let mut c = content(1_000);
        c.title = "Version two".into();
        revise(&s, p.id, "Thermo", c).expect("revise");
        assert!(matches!(
            review_version(&s, p.id, "olga", Some(1), Decision::Approve, ""),
            Err(CodesignError::Refused(_))
        ));
        review_version(&s, p.id, "olga", Some(2), Decision::Approve, "").expect("approve");

        let a = s.add_person("a").expect("person");
        vote(&s, &Ballot::Options(p.id), a, 1).expect("vote");
        let mut c = content(1_000);
        c.title = "Version two".into();
        c.options.reverse();
        assert!(matches!(
            revise(&s, p.id, "Thermo", c),
            Err(CodesignError::Refused(_))
        ));

        // Tiers: a pledge of 25.00 reached "Backer" (20.00); version 3 raises it to 30.00.
        pledge(&s, p.id, a, 2_500).expect("pledge");
        let mut c = content(1_000);
        c.title = "Version three".into();
        c.tiers[0].min_minor = 3_000;
        revise(&s, p.id, "Thermo", c).expect("revise");
        review(&s, p.id, "olga", Decision::Approve, "").expect("approve");

        // A contest: the tally counts two proposals; a third, approved after the close,
        // shows no count, and the others keep theirs.
        let mut ids = vec![];
        for t in ["Round", "Square"] {
            let mut c = content(1_000);
            c.title = t.into();
            let q = submit(&s, "Thermo", Some("dial".into()), c).expect("submit");
            review(&s, q.id, "olga", Decision::Approve, "").expect("approve");
            ids.push(q.id);
        }
        let contest = Ballot::Contest("dial".into());
        vote(&s, &contest, a, ids[1]).expect("vote");
        clock.advance(11 * DAY);
        settle_due(&s, Noise::Seeded(2)).expect("settle");
        let settled = s
            .proposal(p.id)
            .expect("proposal")
            .settlement
            .expect("settled");
        assert_eq!(
            settled.rewards,
            vec![0],
            "25.00 is under the settled tier's 30.00"
        );
        let before = ballot_view(&s, &contest, &Reader::Person(a)).expect("view");
        let mut c = content(1_000);
        c.title = "Late".into();
        c.deadline_ms = s.now_ms() + DAY;
        let late = submit(&s, "Thermo", Some("dial".into()), c).expect("submit");
        review(&s, late.id, "olga", Decision::Approve, "").expect("approve");
        let after = ballot_view(&s, &contest, &Reader::Person(a)).expect("view");
        assert_eq!(after.counts[..2], before.counts[..]);
        assert_eq!(after.counts[2].count, Count::Withheld);
    }

    #[test]
    fn a_member_cannot_withdraw_someone_elses_pledge() {
        let (_dir, _clock, s) = store();
        let a = s.add_person("a").expect("person");
        let b = s.add_person("b").expect("person");
        let p = public(&s, 1_000);
        let x = pledge(&s, p.id, a, 500).expect("pledge");
        assert!(matches!(
            withdraw(&s, p.id, x.id, b),
            Err(CodesignError::Store(StoreError::NoPledge { .. }))
        ));
        assert_eq!(
            s.pledges(p.id).expect("pledges")[0].status,
            PledgeStatus::Held
        );
    }

    #[test]
    fn proposals_in_review_are_seen_only_by_their_organisation_and_the_officer() {
        let (_dir, _clock, s) = store();
        let p = submit(&s, "Thermo", None, content(1_000)).expect("submit");
        for r in [
            Reader::Organisation("Thermo".into()),
            Reader::Officer("olga".into()),
            Reader::Operator,
        ] {
            assert!(get(&s, p.id, &r).is_ok(), "{r:?}");
        }
        for r in [Reader::Organisation("Other".into()), Reader::Person(1)] {
            assert!(
                matches!(get(&s, p.id, &r), Err(CodesignError::NoProposal(_))),
                "{r:?}"
            );
        }
        assert!(matches!(
            pledge(&s, p.id, 1, 500),
            Err(CodesignError::NoProposal(_))
        ));
    }

    #[test]
    fn a_review_needs_reasons_unless_it_approves_and_only_in_review() {
        let (_dir, _clock, s) = store();
        let p = submit(&s, "Thermo", None, content(1_000)).expect("submit");
        assert!(matches!(
            review(&s, p.id, "olga", Decision::RequestChanges, " "),
            Err(CodesignError::Invalid(Invalid::Empty(_)))
        ));
        let q =
            review(&s, p.id, "olga", Decision::RequestChanges, "cite the study").expect("review");
        assert_eq!(q.status, Status::ChangesRequested);
        assert!(matches!(
            review(&s, p.id, "olga", Decision::Approve, ""),
            Err(CodesignError::Refused(_))
        ));
        let mut c = content(1_000);
        c.title = "A thermostat, citing the study".into();
        let r = revise(&s, p.id, "Thermo", c).expect("revise");
        assert_eq!((r.status, r.version()), (Status::InReview, 2));
        assert!(matches!(
            revise(&s, p.id, "Other", content(5)),
            Err(CodesignError::NoProposal(_))
        ));
    }

    #[test]
    fn a_proof_shows_what_was_submitted_and_a_changed_text_fails() {
        let (_dir, _clock, s) = store();
        let p = submit(&s, "Thermo", None, content(1_000)).expect("submit");
        let org = Reader::Organisation("Thermo".into());
        let proof = prove(&s, p.id, 1, &org).expect("prove");
        // One node's kept checkpoint across the checks, as a server keeps it.
        let kept = crate::audit::LatestCheckpoint::default();
        assert_eq!(verify_proof(&s, &kept, &proof).expect("verify"), T0);
        assert_eq!(anchored_in(&s, &proof).expect("anchored"), None);
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        crate::audit::publish_checkpoint(&s, &key, 0).expect("checkpoint");
        crate::audit::publish_checkpoint(&s, &key, 0).expect("checkpoint");
        assert_eq!(anchored_in(&s, &proof).expect("anchored"), Some(1));
        assert_eq!(verify_proof(&s, &kept, &proof).expect("verify"), T0);
        let mut forged = proof.clone();
        forged.content.title = "Another idea".into();
        assert!(verify_proof(&s, &kept, &forged).is_err());
        let mut moved = proof.clone();
        moved.at_ms -= 1;
        assert!(verify_proof(&s, &kept, &moved).is_err());
        assert!(matches!(
            prove(&s, p.id, 1, &Reader::Organisation("Other".into())),
            Err(CodesignError::NoProposal(_))
        ));
        // The commitment alone tells nothing: the salt is the store's, never in the chain.
        let log = serde_json::to_string(&s.audit_log().expect("log")).expect("json");
        assert!(!log.contains(&proof.salt));
        assert!(!log.contains("A thermostat that learns"));
    }

    #[test]
    fn pseudonyms_are_stable_per_proposal_and_differ_across_proposals() {
        let (_dir, _clock, s) = store();
        let a = pseudonym(&s, 1, 7).expect("pseudonym");
        assert_eq!(a, pseudonym(&s, 1, 7).expect("pseudonym"));
        assert_ne!(a, pseudonym(&s, 2, 7).expect("pseudonym"));
        assert_ne!(a, pseudonym(&s, 1, 8).expect("pseudonym"));
        assert!(a.starts_with("member-") && a.len() == 15, "{a}");
    }

    #[test]
    fn votes_are_released_noisy_from_k_at_the_close_and_once() {
        let (_dir, clock, s) = store();
        let p = public(&s, 1_000);
        let members: Vec<PersonId> = (0..30)
            .map(|i| s.add_person(&format!("m{i}")).expect("person"))
            .collect();
        for (i, m) in members.iter().enumerate() {
            vote(&s, &p.ballot(), *m, u64::from(i % 10 == 0)).expect("vote");
        }
        assert!(matches!(
            vote(&s, &p.ballot(), members[0], 5),
            Err(CodesignError::Refused(_))
        ));
        let before = view(&s, p.id, &Reader::Organisation("Thermo".into())).expect("view");
        assert!(
            before
                .ballot
                .counts
                .iter()
                .all(|c| c.count == Count::Withheld)
        );
        assert_eq!(
            tally(&s, &p.ballot(), Noise::Seeded(3)).expect("tally"),
            None
        );
        clock.advance(11 * DAY);
        settle_due(&s, Noise::Seeded(3)).expect("settle");
        let after = view(&s, p.id, &Reader::Organisation("Thermo".into())).expect("view");
        let t = s.tally(&p.ballot()).expect("tally").expect("drawn");
        assert_eq!(t.noisy.len(), 2);
        assert!(matches!(after.ballot.counts[0].count, Count::About(_)));
        // 3 voted for "Square": under k (5) after noise most of the time; shown as such when so.
        for (c, n) in after.ballot.counts.iter().zip(&t.noisy) {
            assert_eq!(c.count, Count::thresholded(*n, t.k));
        }
        settle_due(&s, Noise::Seeded(99)).expect("again");
        assert_eq!(s.tally(&p.ballot()).expect("tally"), Some(t), "drawn once");
        assert!(matches!(
            vote(&s, &p.ballot(), members[1], 0),
            Err(CodesignError::Refused(_))
        ));
    }
}
