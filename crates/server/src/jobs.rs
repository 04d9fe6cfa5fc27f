//! Campaign and study endpoints. Opening one starts its fan-out in the background; its status
//! is read back. Who sees what:
//! - before a job's release time, its organisation sees that it exists, when it opened, its
//!   declared parameters and its release time: state `scheduled`, no progress, no count, no
//!   claimant, no release, whatever the members' data and however far the fan-out went;
//! - then a campaign's initiator and its association see noisy thresholded counts and, once
//!   members accept, those members and the evidence they released; everyone else gets 404;
//! - a person sees their own invitations as soon as they exist, with the findings only they
//!   can read, and answers;
//! - a study's organisation sees its status and noisy release; the operator settles
//!   campaigns and follows live progress in the CLI.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::api::{Body, Id, blocking, params};
use super::auth::{Action, Caller};
use super::error::{ApiError, ErrorBody};
use super::extract::Query;
use super::paging::{PageQuery, Paged};
use insitu_core::account::Role;
use insitu_core::campaign::{self, CampaignError, NewCampaign};
use insitu_core::job::{Job, JobKind, Progress};
use insitu_core::output::{Money, Scalar};
use insitu_core::store::StoreError;
use insitu_core::study::{self, NewStudy, StudyError};

/// Live progress of the jobs this server is running: the operator's to read, never an
/// organisation's (progress is timing of the members' runs).
#[derive(Default)]
pub struct Running(Mutex<HashMap<u64, Arc<Progress>>>);

/// How often a node over a shared store looks for jobs other nodes started.
pub const POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Takes up every running job this node is not running yet: at start-up, the jobs an earlier
/// process left; on a shared store, also those other nodes start (each node then works its
/// share of the job's queue).
pub fn resume(s: &AppState) -> Result<(), StoreError> {
    // The running jobs only, from their index: this runs every `POLL` on every node.
    for job in s.pds.store.running_jobs()? {
        let known = s.running.0.lock().map_or(true, |m| m.contains_key(&job.id));
        if job.status == insitu_core::job::JobStatus::Running && !known {
            tracing::info!(job = job.id, "taking up");
            spawn(s, &job);
        }
    }
    Ok(())
}

/// Runs `job` in the background, publishing its progress.
pub fn spawn(s: &AppState, job: &Job) {
    let progress = Arc::new(Progress::default());
    if let Ok(mut m) = s.running.0.lock() {
        m.insert(job.id, progress.clone());
    }
    let (runner, id, campaign) = (s.pds.runner.clone(), job.id, job.is_campaign());
    tokio::spawn(async move {
        let r = if campaign {
            campaign::scan(&runner, id, &progress)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            study::run(&runner, id, &progress)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        if let Err(e) = r {
            tracing::error!(job = id, "job stopped: {e}; it resumes at the next start");
        }
    });
}

impl From<CampaignError> for ApiError {
    fn from(e: CampaignError) -> Self {
        match e {
            CampaignError::Store(e) => e.into(),
            CampaignError::TooSoon { .. } | CampaignError::Settled(_) => {
                ApiError::conflict(e.to_string())
            }
            CampaignError::NotFinished(_) => ApiError::conflict(e.to_string()),
            CampaignError::Billing(_) | CampaignError::Noise(_) => ApiError::internal(e),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

impl From<StudyError> for ApiError {
    fn from(e: StudyError) -> Self {
        match e {
            StudyError::Store(e) => e.into(),
            StudyError::Noise(_) | StudyError::Billing(_) => ApiError::internal(e),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

fn money(s: &str) -> Result<Money, ApiError> {
    match Scalar::parse(s) {
        Scalar::Money(m) => Ok(m),
        _ => Err(ApiError::bad_request(format!(
            "`{s}` is not an amount with its currency, like `1200.00 EUR`"
        ))),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewCampaignBody {
    pub description: String,
    pub brand: String,
    /// The consumer association's organisation account.
    pub association: String,
    /// The scanner's digest.
    pub scanner: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: BTreeMap<String, serde_json::Value>,
    /// Default and floor: the operator's.
    pub k: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ProgressView {
    /// 100 once the job is released; the progress itself is not shown to the organisation.
    pub percent: u8,
}

/// A job's progress as its organisation sees it at `now`: none before the release time (when
/// each member run finished is the member's), done after.
fn progress(job: &Job, now: i64) -> Option<ProgressView> {
    job.released_at(now)
        .then_some(ProgressView { percent: 100 })
}

#[derive(Serialize, ToSchema)]
pub struct CampaignView {
    pub id: u64,
    pub description: String,
    pub brand: String,
    pub association: String,
    /// `scheduled` until the release time, then `finished` or `settled`.
    pub status: String,
    pub opened_ms: i64,
    /// When counts and claimants are shown, fixed at opening.
    pub release_ms: i64,
    /// Noisy counts below k read `{"shown": "fewer_than", "value": k}`; before the release
    /// time, `{"shown": "withheld"}`.
    pub counts: campaign::Counts,
    pub progress: Option<ProgressView>,
}

/// Campaign `id`, if the caller opened it or is its association; else 404.
fn own_campaign(s: &AppState, caller: &Caller, id: u64) -> Result<Job, ApiError> {
    let not_found = || ApiError::not_found(format!("no campaign {id}"));
    let job = match s.pds.store.job(id) {
        Ok(j) => j,
        Err(StoreError::NoJob(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let JobKind::Campaign(c) = &job.kind else {
        return Err(not_found());
    };
    let name = caller.account.name.as_str();
    let org = caller.account.role == Role::Organisation;
    if org && (job.owner == name || c.association == name) {
        Ok(job)
    } else {
        Err(not_found())
    }
}

fn campaign_view(s: &AppState, job: &Job) -> Result<CampaignView, ApiError> {
    let JobKind::Campaign(c) = &job.kind else {
        return Err(ApiError::not_found(format!("no campaign {}", job.id)));
    };
    let now = s.now_ms();
    Ok(CampaignView {
        id: job.id,
        description: c.description.clone(),
        brand: c.brand.clone(),
        association: c.association.clone(),
        status: job.state_shown(now).into(),
        opened_ms: job.created_ms,
        release_ms: job.release_ms,
        counts: campaign::counts(s.pds.store.as_ref(), job, now)?,
        progress: progress(job, now),
    })
}

/// Opens a campaign and starts scanning its members in the background.
#[utoipa::path(post, path = "/api/campaigns", tag = "campaigns", security(("token" = [])),
    request_body = NewCampaignBody,
    responses(
        (status = 201, description = "The campaign, scheduled", body = CampaignView),
        (status = 400, description = "`bad_request`: parameters the campaign refuses", body = ErrorBody),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such scanner or association", body = ErrorBody),
        (status = 409, description = "`conflict`: the campaign cannot open now", body = ErrorBody),
    ))]
pub async fn open_campaign(
    State(s): State<AppState>,
    caller: Caller,
    Body(b): Body<NewCampaignBody>,
) -> Result<(StatusCode, Json<CampaignView>), ApiError> {
    caller.may(Action::OpenJob)?;
    let new = NewCampaign {
        owner: caller.account.name.clone(),
        description: b.description,
        brand: b.brand,
        association: b.association,
        plugin_digest: b.scanner,
        params: params(&b.params),
        k: b.k,
    };
    let store = s.pds.store.clone();
    let job = blocking(move || Ok(campaign::open(store.as_ref(), new)?)).await?;
    spawn(&s, &job);
    Ok((StatusCode::CREATED, Json(campaign_view(&s, &job)?)))
}

/// A campaign's status and noisy thresholded counts (from its release time), for its
/// initiator and association.
#[utoipa::path(get, path = "/api/campaigns/{id}", tag = "campaigns", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The campaign", body = CampaignView),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such campaign, or not the caller's", body = ErrorBody),
    ))]
pub async fn campaign_status(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<CampaignView>, ApiError> {
    caller.may(Action::ReadJob)?;
    let job = own_campaign(&s, &caller, id)?;
    Ok(Json(campaign_view(&s, &job)?))
}

/// The members who accepted and the evidence they chose to release.
#[utoipa::path(get, path = "/api/campaigns/{id}/claimants", tag = "campaigns", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The members who accepted, and what they released", body = [campaign::Claimant]),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such campaign, or not the caller's", body = ErrorBody),
    ))]
pub async fn claimants(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<Vec<campaign::Claimant>>, ApiError> {
    caller.may(Action::ReadJob)?;
    let job = own_campaign(&s, &caller, id)?;
    Ok(Json(campaign::claimants(
        s.pds.store.as_ref(),
        &job,
        s.now_ms(),
    )?))
}

#[derive(Deserialize, ToSchema)]
pub struct SettleBody {
    /// The brand's compensation, like `12000.00 EUR`.
    pub amount: String,
    /// The association's share, in basis points.
    pub association_bps: u32,
}

/// Splits a brand's compensation (the operator records the payment).
#[utoipa::path(post, path = "/api/campaigns/{id}/settle", tag = "campaigns", security(("token" = [])),
    params(("id" = u64, Path)), request_body = SettleBody,
    responses(
        (status = 200, description = "What each party is owed", body = [insitu_core::job::BillingRecord]),
        (status = 400, description = "`bad_request`: an amount or a share that does not parse", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the operator's token with the `admin` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such campaign", body = ErrorBody),
        (status = 409, description = "`conflict`: the campaign is not finished, or already settled", body = ErrorBody),
    ))]
pub async fn settle(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<SettleBody>,
) -> Result<Json<Vec<insitu_core::job::BillingRecord>>, ApiError> {
    caller.may(Action::Settle)?;
    let amount = money(&b.amount)?;
    Ok(Json(campaign::settle(
        s.pds.store.as_ref(),
        id,
        amount,
        b.association_bps,
    )?))
}

/// The caller's campaign invitations, with the findings only they can see, newest campaign
/// first, a page at a time. The cursor is a campaign's id: a page reads that many of the
/// person's memberships, and lists those that are invitations (a page may hold fewer).
#[utoipa::path(get, path = "/api/invitations", tag = "campaigns", security(("token" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's invitations, newest first", body = [campaign::Invitation],
            headers(("Link" = String, description = "`<path?after=N&limit=M>; rel=\"next\"`: the next page, when there is one"))),
        (status = 403, description = "`forbidden`: not a person's token with the `read` scope", body = ErrorBody),
    ))]
pub async fn invitations(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Paged<campaign::Invitation>, ApiError> {
    caller.may(Action::ReadInvitations)?;
    let person = caller
        .person()
        .ok_or_else(|| ApiError::forbidden("no store"))?;
    let store = s.pds.store.as_ref();
    let rows = store.memberships_page(person, q.page())?;
    let (rows, next) = q.take("/api/invitations", rows, |m| m.job);
    Ok(Paged {
        rows: campaign::invitations_of(store, rows)?,
        next,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct AnswerBody {
    pub accept: bool,
    /// Findings to release, by index; default: all.
    pub findings: Option<Vec<usize>>,
}

/// Accepts (releasing the chosen findings to the association) or declines an invitation.
#[utoipa::path(post, path = "/api/invitations/{id}/answer", tag = "campaigns", security(("token" = [])),
    params(("id" = u64, Path)), request_body = AnswerBody,
    responses(
        (status = 200, description = "The caller's membership, answered", body = insitu_core::job::Member),
        (status = 400, description = "`bad_request`: a finding that does not exist", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a person's token with the `consent` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such invitation, or not the caller's", body = ErrorBody),
        (status = 409, description = "`conflict`: the invitation is already answered", body = ErrorBody),
    ))]
pub async fn answer(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<AnswerBody>,
) -> Result<Json<insitu_core::job::Member>, ApiError> {
    caller.may(Action::AnswerInvitation)?;
    let person = caller
        .person()
        .ok_or_else(|| ApiError::forbidden("no store"))?;
    let store = s.pds.store.clone();
    let answered = blocking(move || {
        Ok(campaign::answer(
            store.as_ref(),
            id,
            person,
            b.accept,
            b.findings.as_deref(),
        ))
    })
    .await?;
    match answered {
        Ok(m) => Ok(Json(m)),
        Err(CampaignError::Store(StoreError::NoInvitation { .. } | StoreError::NoJob(_))) => {
            Err(ApiError::not_found(format!("no invitation {id}")))
        }
        Err(CampaignError::Store(e @ StoreError::Answered { .. })) => {
            Err(ApiError::conflict(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewStudyBody {
    pub description: String,
    /// The analytics plugin's digest.
    pub plugin: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: BTreeMap<String, serde_json::Value>,
    pub min_cohort: Option<u32>,
    pub epsilon: f64,
    /// Each included member's reward, like `0.50 EUR`.
    pub reward: String,
}

#[derive(Serialize, ToSchema)]
pub struct StudyView {
    pub id: u64,
    pub description: String,
    /// `scheduled` until the release time, then `released` or `withheld`.
    pub status: String,
    pub opened_ms: i64,
    /// When the release (or the withholding) is shown, fixed at opening.
    pub release_ms: i64,
    /// The smallest noisy cohort released, and the ε each member run spends, in millionths.
    pub min_cohort: u32,
    pub epsilon_micro: u64,
    pub progress: Option<ProgressView>,
    /// The noisy sums and the noisy cohort, once released.
    pub release: Option<insitu_core::job::Release>,
}

fn study_view(job: &Job, now: i64) -> StudyView {
    let (min_cohort, epsilon_micro) = match &job.kind {
        JobKind::Study(st) => (st.min_cohort, st.epsilon_micro),
        JobKind::Campaign(_) => (0, 0),
    };
    StudyView {
        id: job.id,
        description: job.title().to_string(),
        status: job.state_shown(now).into(),
        opened_ms: job.created_ms,
        release_ms: job.release_ms,
        min_cohort,
        epsilon_micro,
        progress: progress(job, now),
        release: study::published(job, now).cloned(),
    }
}

/// Opens a study and starts running its members in the background.
#[utoipa::path(post, path = "/api/studies", tag = "studies", security(("token" = [])),
    request_body = NewStudyBody,
    responses(
        (status = 201, description = "The study, scheduled", body = StudyView),
        (status = 400, description = "`bad_request`: parameters the study refuses", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an organisation's token with the `run` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such plugin", body = ErrorBody),
        (status = 409, description = "`conflict`: the study cannot open now", body = ErrorBody),
    ))]
pub async fn open_study(
    State(s): State<AppState>,
    caller: Caller,
    Body(b): Body<NewStudyBody>,
) -> Result<(StatusCode, Json<StudyView>), ApiError> {
    caller.may(Action::OpenJob)?;
    let new = NewStudy {
        owner: caller.account.name.clone(),
        description: b.description,
        plugin_digest: b.plugin,
        params: params(&b.params),
        min_cohort: b.min_cohort,
        epsilon: b.epsilon,
        reward: money(&b.reward)?,
    };
    let store = s.pds.store.clone();
    let job = blocking(move || Ok(study::open(store.as_ref(), new)?)).await?;
    spawn(&s, &job);
    Ok((StatusCode::CREATED, Json(study_view(&job, s.now_ms()))))
}

/// A study's status and noisy release (from its release time), for the organisation that
/// opened it.
#[utoipa::path(get, path = "/api/studies/{id}", tag = "studies", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The study", body = StudyView),
        (status = 403, description = "`forbidden`: not an organisation's token with the `read` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such study, or not the caller's", body = ErrorBody),
    ))]
pub async fn study_status(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<StudyView>, ApiError> {
    caller.may(Action::ReadJob)?;
    let not_found = || ApiError::not_found(format!("no study {id}"));
    let job = match s.pds.store.job(id) {
        Ok(j) if !j.is_campaign() && j.owner == caller.account.name => j,
        Ok(_) | Err(StoreError::NoJob(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    Ok(Json(study_view(&job, s.now_ms())))
}
