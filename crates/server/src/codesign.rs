//! Co-design endpoints (`insitu_core::codesign`): an organisation's product proposals, the
//! patent officer's reviews, members' comments, suggestions, votes and pledges, proofs of what
//! was proposed when, and the settlement at the deadlines. Who sees what is the core's `view`:
//! - an organisation sees its proposals whole, and members only through what they chose to
//!   publish (comments under a per-proposal pseudonym or their signed name, noisy vote counts
//!   from the ballot's close, the escrow's total and number of pledges, never who pledged);
//! - a member sees the public proposals and their own votes and pledges;
//! - the officer and the operator see every proposal; a proposal a caller may not see answers
//!   the same 404 as one that does not exist.
//!
//! May touch: the store, through `insitu_core::codesign` only; every write off the async
//! workers ([`blocking`]).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::api::{Body, Id, blocking};
use super::auth::{Action, Caller};
use super::error::{ApiError, ErrorBody};
use super::extract::{Path, Query};
use super::paging::{PageQuery, Paged};
use insitu_core::codesign::{
    self, Ballot, BallotView, ContributionView, Decision, Kind, PledgeView, Proof, ProposalView,
    Reader, Settlement, Status, Tier,
};
use insitu_core::noise::Noise;
use insitu_core::output::Money;
use insitu_core::store::PersonId;

/// The caller as a reader of proposals, once [`Action`] allowed them.
fn reader(caller: &Caller) -> Result<Reader, ApiError> {
    caller
        .reader()
        .ok_or_else(|| ApiError::forbidden("this account takes no part in co-design"))
}

/// The person taking part, once [`Action::Participate`] allowed them.
fn member(caller: &Caller) -> Result<PersonId, ApiError> {
    caller
        .person()
        .ok_or_else(|| ApiError::forbidden("this account has no store"))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewProposalBody {
    pub title: String,
    pub description: String,
    /// What members choose between; may be empty.
    #[serde(default)]
    pub options: Vec<String>,
    /// The studies (their ids) whose releases the proposal builds on: the organisation's own.
    #[serde(default)]
    pub studies: Vec<u64>,
    /// The funding goal; every pledge is in its currency.
    pub goal: Money,
    /// When pledging and voting end, and escrow pays out or refunds.
    pub deadline_ms: i64,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// Proposals sharing a contest name compete: members vote between them.
    pub contest: Option<String>,
}

impl NewProposalBody {
    fn split(self) -> (codesign::Content, Option<String>) {
        (
            codesign::Content {
                title: self.title,
                description: self.description,
                options: self.options,
                studies: self.studies,
                goal: self.goal,
                deadline_ms: self.deadline_ms,
                tiers: self.tiers,
            },
            self.contest,
        )
    }
}

/// Submits a proposal: its text is committed in the audit chain, and it waits for the patent
/// officer; members see it once approved.
#[utoipa::path(post, path = "/api/proposals", tag = "codesign", security(("token" = [])),
    request_body = NewProposalBody,
    responses(
        (status = 201, description = "The proposal, in review", body = ProposalView),
        (status = 400, description = "`bad_request`: a field the proposal refuses (empty, too long, a goal or tier that is not valid, a deadline passed)", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an organisation's token with the `request` scope", body = ErrorBody),
        (status = 409, description = "`conflict`: a cited study that is not the organisation's, a contest name that is not valid", body = ErrorBody),
    ))]
pub async fn submit(
    State(s): State<AppState>,
    caller: Caller,
    Body(b): Body<NewProposalBody>,
) -> Result<(StatusCode, Json<ProposalView>), ApiError> {
    caller.may(Action::Propose)?;
    let (org, who) = (caller.account.name.clone(), reader(&caller)?);
    let store = s.pds.store.clone();
    let view = blocking(move || {
        let (content, contest) = b.split();
        let p = codesign::submit(store.as_ref(), &org, contest, content)?;
        Ok(codesign::view(store.as_ref(), p.id, &who)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The proposals the caller may see, newest first, a page at a time: a member, the public ones
/// and those they pledged to; an organisation, its own and the public ones; the officer and
/// the operator, every one.
#[utoipa::path(get, path = "/api/proposals", tag = "codesign", security(("token" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the proposals, as the caller sees each, newest first", body = [ProposalView], headers(("Link" = String, description = "`<path?after=N&limit=M>; rel=\"next\"`: the next page, when there is one"))),
        (status = 400, description = "`bad_request`: `after` or `limit` is not a number", body = ErrorBody),
        (status = 403, description = "`forbidden`: a developer's account, or a token without the `read` scope", body = ErrorBody),
    ))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Paged<ProposalView>, ApiError> {
    caller.may(Action::ReadProposals)?;
    let who = reader(&caller)?;
    let store = s.pds.store.as_ref();
    let (rows, next) = q.take(
        "/api/proposals",
        codesign::list(store, &who, q.page())?,
        |p| p.id,
    );
    Ok(Paged {
        rows: codesign::views(store, rows, &who)?,
        next,
    })
}

/// A proposal as the caller sees it.
#[utoipa::path(get, path = "/api/proposals/{id}", tag = "codesign", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The proposal", body = ProposalView),
        (status = 403, description = "`forbidden`: a developer's account, or a token without the `read` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such proposal, or not yet public and not the caller's", body = ErrorBody),
    ))]
pub async fn proposal(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<ProposalView>, ApiError> {
    caller.may(Action::ReadProposals)?;
    let who = reader(&caller)?;
    Ok(Json(codesign::view(s.pds.store.as_ref(), id, &who)?))
}

/// A new version of the organisation's proposal: committed, and back to the patent officer.
/// Members who pledged to an earlier version may then withdraw.
#[utoipa::path(post, path = "/api/proposals/{id}/versions", tag = "codesign", security(("token" = [])),
    params(("id" = u64, Path)), request_body = codesign::Content,
    responses(
        (status = 201, description = "The proposal with its new version, in review", body = ProposalView),
        (status = 400, description = "`bad_request`: a field the proposal refuses", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an organisation's token with the `request` scope, or another organisation's public proposal", body = ErrorBody),
        (status = 404, description = "`not_found`: no such proposal, or not the caller's", body = ErrorBody),
        (status = 409, description = "`conflict`: settled, rejected, or the same as the current version", body = ErrorBody),
    ))]
pub async fn revise(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(content): Body<codesign::Content>,
) -> Result<(StatusCode, Json<ProposalView>), ApiError> {
    caller.may(Action::Propose)?;
    let (org, who) = (caller.account.name.clone(), reader(&caller)?);
    let store = s.pds.store.clone();
    let view = blocking(move || {
        codesign::revise(store.as_ref(), id, &org, content)?;
        Ok(codesign::view(store.as_ref(), id, &who)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewBody {
    /// The version reviewed, as read: the decision is refused (409) if the proposal changed
    /// since. Without it, the current version.
    #[serde(default)]
    pub version: Option<u32>,
    pub decision: Decision,
    /// Why: needed to ask for changes or to reject; the proposer reads them.
    #[serde(default)]
    pub reasons: String,
}

/// The patent officer's decision on the current version of a proposal in review.
#[utoipa::path(post, path = "/api/proposals/{id}/review", tag = "codesign", security(("token" = [])),
    params(("id" = u64, Path)), request_body = ReviewBody,
    responses(
        (status = 200, description = "The proposal with the review", body = ProposalView),
        (status = 400, description = "`bad_request`: no reasons for a request for changes or a rejection", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the patent officer's token with the `review` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such proposal", body = ErrorBody),
        (status = 409, description = "`conflict`: the proposal is not waiting for a review", body = ErrorBody),
    ))]
pub async fn review(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<ReviewBody>,
) -> Result<Json<ProposalView>, ApiError> {
    caller.may(Action::Review)?;
    let (officer, who) = (caller.account.name.clone(), reader(&caller)?);
    let store = s.pds.store.clone();
    let view = blocking(move || {
        codesign::review_version(
            store.as_ref(),
            id,
            &officer,
            b.version,
            b.decision,
            &b.reasons,
        )?;
        Ok(codesign::view(store.as_ref(), id, &who)?)
    })
    .await?;
    Ok(Json(view))
}

/// The patent officer's queue: the proposals waiting for a review, newest first, a page at a
/// time.
#[utoipa::path(get, path = "/api/reviews", tag = "codesign", security(("token" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the proposals in review, newest first", body = [ProposalView], headers(("Link" = String, description = "`<path?after=N&limit=M>; rel=\"next\"`: the next page, when there is one"))),
        (status = 400, description = "`bad_request`: `after` or `limit` is not a number", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the patent officer's token with the `review` scope", body = ErrorBody),
    ))]
pub async fn queue(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Paged<ProposalView>, ApiError> {
    caller.may(Action::Review)?;
    let who = reader(&caller)?;
    let store = s.pds.store.as_ref();
    let (rows, next) = q.take("/api/reviews", codesign::queue(store, q.page())?, |p| p.id);
    Ok(Paged {
        rows: codesign::views(store, rows, &who)?,
        next,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ContributionBody {
    pub kind: Kind,
    pub text: String,
    /// The name to show; without it the organisation sees a per-proposal pseudonym.
    pub sign_as: Option<String>,
}

/// A member comments on a public proposal, or suggests an option (a suggestion is committed
/// in the audit chain, like a proposal).
#[utoipa::path(post, path = "/api/proposals/{id}/contributions", tag = "codesign", security(("token" = [])),
    params(("id" = u64, Path)), request_body = ContributionBody,
    responses(
        (status = 201, description = "The contribution, as others see it", body = ContributionView),
        (status = 400, description = "`bad_request`: an empty or too long text or name", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a person's token with the `participate` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such proposal, or not public", body = ErrorBody),
        (status = 409, description = "`conflict`: the proposal is not open", body = ErrorBody),
    ))]
pub async fn contribute(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<ContributionBody>,
) -> Result<(StatusCode, Json<ContributionView>), ApiError> {
    caller.may(Action::Participate)?;
    let me = member(&caller)?;
    let store = s.pds.store.clone();
    let shown = blocking(move || {
        let sign = b.sign_as.as_deref().filter(|n| !n.trim().is_empty());
        let c = codesign::contribute(store.as_ref(), id, me, b.kind, &b.text, sign)?;
        let view = codesign::view(store.as_ref(), id, &Reader::Person(me))?;
        view.contributions
            .into_iter()
            .rev()
            .find(|v| v.mine && v.at_ms == c.at_ms && v.text == c.text)
            .ok_or_else(|| ApiError::internal("a contribution stored is not read back"))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(shown)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VoteBody {
    /// An option's index (a proposal's ballot), or a proposal's id (a contest's).
    pub choice: u64,
}

async fn cast(
    s: &AppState,
    caller: &Caller,
    ballot: Ballot,
    choice: u64,
) -> Result<BallotView, ApiError> {
    caller.may(Action::Participate)?;
    let me = member(caller)?;
    let store = s.pds.store.clone();
    blocking(move || {
        codesign::vote(store.as_ref(), &ballot, me, choice)?;
        Ok(codesign::ballot_view(
            store.as_ref(),
            &ballot,
            &Reader::Person(me),
        )?)
    })
    .await
}

/// A member votes on a public proposal's options (a later vote replaces theirs) until its
/// deadline. Counts are released noisy, from k, at the close.
#[utoipa::path(post, path = "/api/proposals/{id}/vote", tag = "codesign", security(("token" = [])),
    params(("id" = u64, Path)), request_body = VoteBody,
    responses(
        (status = 200, description = "The ballot, with the caller's vote", body = BallotView),
        (status = 403, description = "`forbidden`: not a person's token with the `participate` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such proposal, or not public", body = ErrorBody),
        (status = 409, description = "`conflict`: not open, or not one of its choices", body = ErrorBody),
    ))]
pub async fn vote(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<VoteBody>,
) -> Result<Json<BallotView>, ApiError> {
    Ok(Json(
        cast(&s, &caller, Ballot::Options(id), b.choice).await?,
    ))
}

/// A member votes between a contest's proposals (the choice is a proposal's id).
#[utoipa::path(post, path = "/api/contests/{name}/vote", tag = "codesign", security(("token" = [])),
    params(("name" = String, Path)), request_body = VoteBody,
    responses(
        (status = 200, description = "The contest's ballot, with the caller's vote", body = BallotView),
        (status = 403, description = "`forbidden`: not a person's token with the `participate` scope", body = ErrorBody),
        (status = 409, description = "`conflict`: no proposal of the contest is open, or not one of its proposals", body = ErrorBody),
    ))]
pub async fn contest_vote(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Body(b): Body<VoteBody>,
) -> Result<Json<BallotView>, ApiError> {
    Ok(Json(
        cast(&s, &caller, Ballot::Contest(name), b.choice).await?,
    ))
}

/// A contest's ballot: its public proposals, and their noisy counts from its close.
#[utoipa::path(get, path = "/api/contests/{name}", tag = "codesign", security(("token" = [])),
    params(("name" = String, Path)),
    responses(
        (status = 200, description = "The contest's ballot", body = BallotView),
        (status = 403, description = "`forbidden`: a developer's account, or a token without the `read` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no contest of that name with a public proposal", body = ErrorBody),
    ))]
pub async fn contest(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<BallotView>, ApiError> {
    caller.may(Action::ReadProposals)?;
    let who = reader(&caller)?;
    let ballot = Ballot::Contest(name.clone());
    let view = codesign::ballot_view(s.pds.store.as_ref(), &ballot, &who)?;
    if view.counts.is_empty() {
        return Err(ApiError::not_found(format!("no contest `{name}`")));
    }
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PledgeBody {
    /// The amount in minor units of the goal's currency (cents).
    pub minor: i64,
}

/// A member pledges to a public proposal: the money moves into its escrow in the same
/// transaction, until the deadline pays it out (goal reached) or refunds it.
#[utoipa::path(post, path = "/api/proposals/{id}/pledges", tag = "codesign", security(("token" = [])),
    params(("id" = u64, Path)), request_body = PledgeBody,
    responses(
        (status = 201, description = "The pledge, held in escrow", body = PledgeView),
        (status = 403, description = "`forbidden`: not a person's token with the `participate` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such proposal, or not public", body = ErrorBody),
        (status = 409, description = "`conflict`: not open, or not a positive amount", body = ErrorBody),
    ))]
pub async fn pledge(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<PledgeBody>,
) -> Result<(StatusCode, Json<PledgeView>), ApiError> {
    caller.may(Action::Participate)?;
    let me = member(&caller)?;
    let store = s.pds.store.clone();
    let answer = blocking(move || {
        let x = codesign::pledge(store.as_ref(), id, me, b.minor)?;
        let p = store.proposal(id)?;
        Ok(codesign::pledge_view(&p, &x, store.now_ms()))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

/// A member withdraws one of their pledges, refunded at once: before the deadline, or after
/// the proposal changed since they pledged.
#[utoipa::path(post, path = "/api/proposals/{id}/pledges/{pledge}/withdraw", tag = "codesign", security(("token" = [])),
    params(("id" = u64, Path), ("pledge" = u64, Path)),
    responses(
        (status = 200, description = "The pledge, withdrawn and refunded", body = PledgeView),
        (status = 403, description = "`forbidden`: not a person's token with the `participate` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such pledge of the caller's on that proposal", body = ErrorBody),
        (status = 409, description = "`conflict`: the pledge can no longer be withdrawn", body = ErrorBody),
    ))]
pub async fn withdraw(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, pledge)): Path<(u64, u64)>,
) -> Result<Json<PledgeView>, ApiError> {
    caller.may(Action::Participate)?;
    let me = member(&caller)?;
    let store = s.pds.store.clone();
    let answer = blocking(move || {
        let x = codesign::withdraw(store.as_ref(), id, pledge, me)?;
        let p = store.proposal(id)?;
        Ok(codesign::pledge_view(&p, &x, store.now_ms()))
    })
    .await?;
    Ok(Json(answer))
}

/// The caller's own pledges, every proposal's.
#[utoipa::path(get, path = "/api/pledges", tag = "codesign", security(("token" = [])),
    responses(
        (status = 200, description = "The caller's pledges", body = [PledgeView]),
        (status = 403, description = "`forbidden`: not a person's token with the `read` scope", body = ErrorBody),
    ))]
pub async fn my_pledges(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<PledgeView>>, ApiError> {
    caller.may(Action::ReadPledges)?;
    let me = member(&caller)?;
    let store = s.pds.store.as_ref();
    let now = store.now_ms();
    let mut out = Vec::new();
    for x in store.pledges_of(me)? {
        out.push(codesign::pledge_view(&store.proposal(x.proposal)?, &x, now));
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProofQuery {
    /// The version to prove, from 1; default: the current one.
    pub version: Option<u32>,
}

/// The proof of what a version of a proposal said and when: its text, its salt, and the audit
/// chain's entry that recorded its commitment. For its organisation, the officer and the
/// operator; keep it to show later without having published the text.
#[utoipa::path(get, path = "/api/proposals/{id}/proof", tag = "codesign", security(("token" = [])),
    params(("id" = u64, Path), ProofQuery),
    responses(
        (status = 200, description = "The proof", body = Proof),
        (status = 403, description = "`forbidden`: a person's or a developer's account, another organisation's public proposal, or a token without the `read` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such proposal, or not the caller's", body = ErrorBody),
        (status = 409, description = "`conflict`: no such version", body = ErrorBody),
    ))]
pub async fn proof(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Query(q): Query<ProofQuery>,
) -> Result<Json<Proof>, ApiError> {
    caller.may(Action::Prove)?;
    let who = reader(&caller)?;
    let store = s.pds.store.as_ref();
    let version = match q.version {
        Some(v) => v,
        None => codesign::get(store, id, &who)?.version(),
    };
    Ok(Json(codesign::prove(store, id, version, &who)?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Verified {
    /// When the audit chain recorded the commitment.
    pub recorded_ms: i64,
}

/// Checks a proof against this store's audit chain: the text and salt give its commitment,
/// and the chain recorded it at the stated place and time.
#[utoipa::path(post, path = "/api/proofs/verify", tag = "codesign", security(("token" = [])),
    request_body = Proof,
    responses(
        (status = 200, description = "The proof holds", body = Verified),
        (status = 403, description = "`forbidden`: a token without the `read` scope", body = ErrorBody),
        (status = 409, description = "`conflict`: the proof does not hold, and why", body = ErrorBody),
    ))]
pub async fn verify(
    State(s): State<AppState>,
    caller: Caller,
    Body(proof): Body<Proof>,
) -> Result<Json<Verified>, ApiError> {
    caller.may(Action::Read)?;
    let pds = s.pds.clone();
    let recorded_ms = blocking(move || {
        Ok(codesign::verify_proof(
            pds.store.as_ref(),
            &pds.checkpoint,
            &proof,
        )?)
    })
    .await?;
    Ok(Json(Verified { recorded_ms }))
}

/// A proposal settled at its deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Settled {
    pub id: u64,
    pub status: Status,
    pub settlement: Option<Settlement>,
}

/// Settles now every proposal whose deadline has come (escrow paid out less commission, or
/// refunded) and draws the tallies of the ballots that closed. Idempotent; `insitu serve`
/// also runs it on a schedule.
#[utoipa::path(post, path = "/api/proposals/settle", tag = "codesign", operation_id = "settle_proposals", security(("token" = [])),
    responses(
        (status = 200, description = "The proposals settled by this call", body = [Settled]),
        (status = 403, description = "`forbidden`: not the operator's token with the `admin` scope", body = ErrorBody),
    ))]
pub async fn settle(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Settled>>, ApiError> {
    caller.may(Action::Settle)?;
    let store = s.pds.store.clone();
    let settled =
        blocking(move || Ok(codesign::settle_due(store.as_ref(), Noise::OpenDp)?)).await?;
    Ok(Json(
        settled
            .into_iter()
            .map(|p| Settled {
                id: p.id,
                status: p.status,
                settlement: p.settlement,
            })
            .collect(),
    ))
}
