//! Campaign and study endpoints. Opening one starts its fan-out in the background; its status
//! (with live progress) is read back. Who sees what:
//! - a campaign's initiator and its association see thresholded counts and, once members
//!   accept, those members and the evidence they released; everyone else gets 404;
//! - a person sees their own invitations, with the findings only they can read, and answers;
//! - a study's organisation sees its status and release; the operator settles campaigns.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::api::{Body, Id, params};
use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use crate::account::{Role, Scope};
use crate::campaign::{self, CampaignError, NewCampaign};
use crate::job::{Job, JobKind, Progress};
use crate::output::{Money, Scalar};
use crate::store::StoreError;
use crate::study::{self, NewStudy, StudyError};

/// Live progress of the jobs this server is running.
#[derive(Default)]
pub struct Running(Mutex<HashMap<u64, Arc<Progress>>>);

impl Running {
    fn get(&self, job: u64) -> Option<Arc<Progress>> {
        self.0.lock().ok()?.get(&job).cloned()
    }
}

/// Runs `job` in the background, publishing its progress. Also used at start-up to resume the
/// jobs an earlier process left running.
pub fn spawn(s: &AppState, job: &Job) {
    let progress = Arc::new(Progress::default());
    if let Ok(mut m) = s.running.0.lock() {
        m.insert(job.id, progress.clone());
    }
    let (runner, id, campaign) = (s.pds.runner.clone(), job.id, job.is_campaign());
    tokio::spawn(async move {
        let r = if campaign {
            campaign::scan(&runner, id, &progress).await.map(|_| ())
        } else {
            study::run(&runner, id, &progress)
                .await
                .map(|_| ())
                .map_err(|e| CampaignError::Store(StoreError::Db(e.to_string())))
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
            CampaignError::Billing(_) => ApiError::internal(e),
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
    pub percent: u8,
    /// Members with a result, and members to run: a study's only. For a campaign, only the
    /// percentage, and only from k members (0 below).
    pub done: Option<u64>,
    pub total: Option<u64>,
}

impl ProgressView {
    fn new(done: u64, total: u64, k: Option<u32>) -> Self {
        // A campaign's exact figures would count its failures, and a percentage of a small
        // total would give the total: a campaign shows a percentage from k members only.
        let shown = k.is_none();
        if k.is_some_and(|k| total < k as u64) {
            return ProgressView {
                percent: 0,
                done: None,
                total: None,
            };
        }
        ProgressView {
            percent: (done * 100)
                .checked_div(total)
                .map_or(100, |p| p.min(100) as u8),
            done: shown.then_some(done),
            total: shown.then_some(total),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CampaignView {
    pub id: u64,
    pub description: String,
    pub brand: String,
    pub association: String,
    /// `running`, `finished` or `settled`.
    pub status: String,
    /// Counts below k read `{"shown": "fewer_than", "value": k}`.
    #[schema(value_type = Object)]
    pub counts: campaign::Counts,
    pub progress: ProgressView,
}

fn state_name(job: &Job) -> String {
    serde_json::to_value(&job.status)
        .ok()
        .and_then(|v| v["state"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn progress(s: &AppState, job: &Job) -> Result<ProgressView, ApiError> {
    let k = match &job.kind {
        JobKind::Campaign(c) => Some(c.k),
        JobKind::Study(_) => None,
    };
    if let Some(p) = s.running.get(job.id) {
        let (done, total) = p.snapshot();
        if total > 0 {
            return Ok(ProgressView::new(done, total, k));
        }
    }
    let done = s.pds.store.members(job.id)?.len() as u64;
    let total = match job.status {
        crate::job::JobStatus::Running => {
            campaign::targets(s.pds.store.as_ref(), &job.plugin_digest)?.len() as u64
        }
        _ => done,
    };
    Ok(ProgressView::new(done, total, k))
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
    if job.owner == name || (caller.account.role == Role::Organisation && c.association == name) {
        Ok(job)
    } else {
        Err(not_found())
    }
}

fn campaign_view(s: &AppState, job: &Job) -> Result<CampaignView, ApiError> {
    let JobKind::Campaign(c) = &job.kind else {
        return Err(ApiError::not_found(format!("no campaign {}", job.id)));
    };
    Ok(CampaignView {
        id: job.id,
        description: c.description.clone(),
        brand: c.brand.clone(),
        association: c.association.clone(),
        status: state_name(job),
        counts: campaign::counts(s.pds.store.as_ref(), job)?,
        progress: progress(s, job)?,
    })
}

/// Opens a campaign and starts scanning its members in the background.
#[utoipa::path(post, path = "/api/campaigns", tag = "campaigns", security(("token" = [])),
    request_body = NewCampaignBody,
    responses((status = 201, body = CampaignView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn open_campaign(
    State(s): State<AppState>,
    caller: Caller,
    Body(b): Body<NewCampaignBody>,
) -> Result<(StatusCode, Json<CampaignView>), ApiError> {
    caller.need(&[Role::Person, Role::Organisation], Scope::Run)?;
    let job = campaign::open(
        s.pds.store.as_ref(),
        NewCampaign {
            owner: caller.account.name.clone(),
            description: b.description,
            brand: b.brand,
            association: b.association,
            plugin_digest: b.scanner,
            params: params(&b.params),
            k: b.k,
        },
    )?;
    spawn(&s, &job);
    Ok((StatusCode::CREATED, Json(campaign_view(&s, &job)?)))
}

/// A campaign's status, progress and thresholded counts, for its initiator and association.
#[utoipa::path(get, path = "/api/campaigns/{id}", tag = "campaigns", security(("token" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = ErrorBody)))]
pub async fn campaign_status(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<CampaignView>, ApiError> {
    caller.need(&[Role::Person, Role::Organisation], Scope::Read)?;
    let job = own_campaign(&s, &caller, id)?;
    Ok(Json(campaign_view(&s, &job)?))
}

/// The members who accepted and the evidence they chose to release.
#[utoipa::path(get, path = "/api/campaigns/{id}/claimants", tag = "campaigns", security(("token" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn claimants(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<Vec<campaign::Claimant>>, ApiError> {
    caller.need(&[Role::Person, Role::Organisation], Scope::Read)?;
    let job = own_campaign(&s, &caller, id)?;
    Ok(Json(campaign::claimants(s.pds.store.as_ref(), &job)?))
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
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn settle(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<SettleBody>,
) -> Result<Json<Vec<crate::job::BillingRecord>>, ApiError> {
    caller.need(&[Role::Operator], Scope::Admin)?;
    let amount = money(&b.amount)?;
    Ok(Json(campaign::settle(
        s.pds.store.as_ref(),
        id,
        amount,
        b.association_bps,
    )?))
}

/// The caller's campaign invitations, with the findings only they can see.
#[utoipa::path(get, path = "/api/invitations", tag = "campaigns", security(("token" = [])),
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn invitations(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<campaign::Invitation>>, ApiError> {
    caller.need(&[Role::Person], Scope::Read)?;
    let person = caller
        .person()
        .ok_or_else(|| ApiError::forbidden("no store"))?;
    Ok(Json(campaign::invitations(s.pds.store.as_ref(), person)?))
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
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn answer(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<AnswerBody>,
) -> Result<Json<crate::job::Member>, ApiError> {
    caller.need(&[Role::Person], Scope::Consent)?;
    let person = caller
        .person()
        .ok_or_else(|| ApiError::forbidden("no store"))?;
    match campaign::answer(
        s.pds.store.as_ref(),
        id,
        person,
        b.accept,
        b.findings.as_deref(),
    ) {
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
    /// `running`, `released` or `withheld`.
    pub status: String,
    pub progress: ProgressView,
    /// The noisy sums and the noisy cohort, once released.
    #[schema(value_type = Object)]
    pub release: Option<crate::job::Release>,
}

fn study_view(s: &AppState, job: &Job) -> Result<StudyView, ApiError> {
    Ok(StudyView {
        id: job.id,
        description: job.title().to_string(),
        status: state_name(job),
        progress: progress(s, job)?,
        release: job.release.clone(),
    })
}

/// Opens a study and starts running its members in the background.
#[utoipa::path(post, path = "/api/studies", tag = "studies", security(("token" = [])),
    request_body = NewStudyBody,
    responses((status = 201, body = StudyView), (status = 400, body = ErrorBody)))]
pub async fn open_study(
    State(s): State<AppState>,
    caller: Caller,
    Body(b): Body<NewStudyBody>,
) -> Result<(StatusCode, Json<StudyView>), ApiError> {
    caller.need(&[Role::Organisation], Scope::Run)?;
    let job = study::open(
        s.pds.store.as_ref(),
        NewStudy {
            owner: caller.account.name.clone(),
            description: b.description,
            plugin_digest: b.plugin,
            params: params(&b.params),
            min_cohort: b.min_cohort,
            epsilon: b.epsilon,
            reward: money(&b.reward)?,
        },
    )?;
    spawn(&s, &job);
    Ok((StatusCode::CREATED, Json(study_view(&s, &job)?)))
}

/// A study's status, progress and release, for the organisation that opened it.
#[utoipa::path(get, path = "/api/studies/{id}", tag = "studies", security(("token" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = StudyView), (status = 404, body = ErrorBody)))]
pub async fn study_status(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<StudyView>, ApiError> {
    caller.need(&[Role::Organisation], Scope::Read)?;
    let not_found = || ApiError::not_found(format!("no study {id}"));
    let job = match s.pds.store.job(id) {
        Ok(j) if !j.is_campaign() && j.owner == caller.account.name => j,
        Ok(_) | Err(StoreError::NoJob(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    Ok(Json(study_view(&s, &job)?))
}
