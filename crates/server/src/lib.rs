//! `insitu serve`: the HTTP API (JSON, documented by an OpenAPI 3 document generated from the
//! code), the web pages ([`pages`]), health and metrics, on axum and tokio.
//!
//! - Every `/api` route authenticates a bearer token ([`auth::Caller`]) and checks role, scope
//!   and ownership in its handler ([`api`]).
//! - Errors are JSON with a stable code ([`error::ApiError`]); bodies are capped per route
//!   ([`MAX_FORM`] for pages, [`MAX_BODY`] for JSON, [`MAX_UPLOAD`] only on authenticated
//!   uploads); a handler's panic is a JSON 500, logged.
//! - Connections are capped, their headers and bodies timed ([`conn`]); every answer carries
//!   the security headers ([`headers`]).
//! - Shutdown on SIGINT or SIGTERM is graceful: the listener closes, requests in flight finish,
//!   and every acknowledged write was already committed (each store write is durable when it
//!   returns).
//!
//! May touch: the network (its listener), the PDS.

pub mod api;
pub mod auth;
pub mod codesign;
pub mod conn;
pub mod error;
pub mod extract;
pub mod headers;
pub mod jobs;
pub mod ledger;
pub mod limit;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod paging;

use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::{TimeoutBody, TimeoutLayer};
use utoipa::OpenApi;

pub use conn::ServerLimits;
use error::ApiError;
use insitu_core::pds::Pds;
use metrics::Metrics;
use openapi::SharedAnswers;

/// Largest form a page accepts (sign-in, consent, every button), before or after sign-in.
pub const MAX_FORM: usize = 16 << 10;
/// Largest JSON body accepted.
pub const MAX_BODY: usize = 64 << 10;
/// Largest upload (an import, a return or a package), on the authenticated upload routes only:
/// `POST /api/imports`, `/api/returns`, `/api/packages` and the page `/import`.
pub const MAX_UPLOAD: usize = 64 << 20;

#[derive(Clone)]
pub struct AppState {
    pub pds: Arc<Pds>,
    pub metrics: Arc<Metrics>,
    /// Rate limits: per token, per address, access requests, password guesses.
    pub limits: Arc<limit::Limits>,
    /// Campaigns and studies running in the background, with their progress.
    pub running: Arc<jobs::Running>,
}

impl AppState {
    /// Now, by the store's clock: the one time every layer reads (`Clocked`).
    pub fn now_ms(&self) -> i64 {
        self.pds.store.now_ms()
    }

    /// Runs the plugin of `grant` with `params` for the person whose grant it is, waits for
    /// it, and counts the run in the metrics.
    pub async fn run_grant(
        &self,
        grant: &insitu_core::consent::Grant,
        params: Vec<(String, insitu_core::output::Scalar)>,
    ) -> Result<insitu_core::meter::RunRecord, insitu_core::run::RunError> {
        // Its own task: a client that goes away does not stop the run half-way (it would stay
        // stored as running).
        let runner = self.pds.runner.clone();
        let req = run_request(grant, params, None);
        let r = tokio::spawn(async move { runner.run(req).await })
            .await
            .map_err(|e| {
                insitu_core::run::RunError::Host(format!("the run's task failed: {e}"))
            })??;
        self.metrics.run(&r);
        Ok(r)
    }

    /// Starts the plugin of `grant` with `params` for the organisation `org`, which obtained
    /// the grant, and returns once the run is admitted: what the organisation learns, and
    /// when, must not depend on the person's data (`view.rs`).
    pub async fn start_for(
        &self,
        grant: &insitu_core::consent::Grant,
        params: Vec<(String, insitu_core::output::Scalar)>,
        org: &str,
    ) -> Result<insitu_core::meter::RunRecord, insitu_core::run::RunError> {
        let metrics = self.metrics.clone();
        self.pds
            .runner
            .start(
                run_request(grant, params, Some(org.to_string())),
                move |r| metrics.run(r),
            )
            .await
    }

    pub fn new(pds: Arc<Pds>, limits: limit::RateLimits) -> Self {
        AppState {
            pds,
            metrics: Arc::new(Metrics::default()),
            limits: Arc::new(limit::Limits::new(limits)),
            running: Arc::new(jobs::Running::default()),
        }
    }
}

fn run_request(
    grant: &insitu_core::consent::Grant,
    params: Vec<(String, insitu_core::output::Scalar)>,
    requester: Option<String>,
) -> insitu_core::run::RunRequest {
    insitu_core::run::RunRequest {
        person: grant.person,
        grant: grant.id,
        digest: grant.plugin_digest.clone(),
        params,
        limits: None,
        requester,
        as_of: None,
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Insitu", description = "A personal data store that runs third parties' algorithms in place."),
    paths(
        api::issue_token, api::list_tokens, api::revoke_token, api::me, api::create_account,
        api::export, api::erase,
        api::collections, api::import, api::packages, api::package, api::publish,
        api::ask, api::requests, api::request_one, api::approve, api::deny,
        api::grants, api::grant_one, api::revoke_grant, api::start_run, api::runs, api::run_one, api::run_output,
        api::accept_returns, api::receptions, api::revoke_reception, api::return_data,
        api::audit, api::audit_chain, api::audit_checkpoint, ledger::lines,
        jobs::open_campaign, jobs::campaign_status, jobs::claimants, jobs::settle,
        jobs::invitations, jobs::answer, jobs::open_study, jobs::study_status,
        codesign::submit, codesign::list, codesign::proposal, codesign::revise,
        codesign::review, codesign::queue, codesign::contribute, codesign::vote,
        codesign::contest_vote, codesign::contest, codesign::pledge, codesign::withdraw,
        codesign::my_pledges, codesign::proof, codesign::verify, codesign::settle,
    ),
    modifiers(&BearerToken, &SharedAnswers),
)]
pub struct ApiDoc;

struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "token",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

/// The whole application: API, pages, health, metrics, OpenAPI document, with the default
/// request timeouts.
pub fn router(state: AppState) -> Router {
    router_with(state, &ServerLimits::default())
}

/// [`router`] with the request and body-read timeouts of `limits`.
pub fn router_with(state: AppState, limits: &ServerLimits) -> Router {
    let uploads = Router::new()
        .route("/api/imports", post(api::import))
        .route("/api/returns", post(api::return_data))
        .route("/api/packages", get(api::packages).post(api::publish))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD));
    let api = Router::new()
        .route("/api/tokens", get(api::list_tokens).post(api::issue_token))
        .route("/api/tokens/{id}", axum::routing::delete(api::revoke_token))
        .route("/api/me", get(api::me).delete(api::erase))
        .route("/api/me/export", get(api::export))
        .route("/api/accounts", post(api::create_account))
        .route("/api/collections", get(api::collections))
        .route("/api/packages/{digest}", get(api::package))
        .route("/api/requests", get(api::requests).post(api::ask))
        .route("/api/requests/{id}", get(api::request_one))
        .route("/api/requests/{id}/approve", post(api::approve))
        .route("/api/requests/{id}/deny", post(api::deny))
        .route("/api/grants", get(api::grants))
        .route("/api/grants/{id}", get(api::grant_one))
        .route("/api/grants/{id}/revoke", post(api::revoke_grant))
        .route("/api/runs", get(api::runs).post(api::start_run))
        .route("/api/runs/{id}", get(api::run_one))
        .route("/api/runs/{id}/output", get(api::run_output))
        .route("/api/ledger", get(ledger::lines))
        .route("/api/audit", get(api::audit))
        .route("/api/audit/chain", get(api::audit_chain))
        .route("/api/audit/checkpoint", get(api::audit_checkpoint))
        .route(
            "/api/receptions",
            get(api::receptions).post(api::accept_returns),
        )
        .route("/api/receptions/{id}/revoke", post(api::revoke_reception))
        .route("/api/campaigns", post(jobs::open_campaign))
        .route("/api/campaigns/{id}", get(jobs::campaign_status))
        .route("/api/campaigns/{id}/claimants", get(jobs::claimants))
        .route("/api/campaigns/{id}/settle", post(jobs::settle))
        .route("/api/invitations", get(jobs::invitations))
        .route("/api/invitations/{id}/answer", post(jobs::answer))
        .route("/api/studies", post(jobs::open_study))
        .route("/api/studies/{id}", get(jobs::study_status))
        .route("/api/proposals", get(codesign::list).post(codesign::submit))
        .route("/api/proposals/settle", post(codesign::settle))
        .route("/api/proposals/{id}", get(codesign::proposal))
        .route("/api/proposals/{id}/versions", post(codesign::revise))
        .route("/api/proposals/{id}/review", post(codesign::review))
        .route(
            "/api/proposals/{id}/contributions",
            post(codesign::contribute),
        )
        .route("/api/proposals/{id}/vote", post(codesign::vote))
        .route("/api/proposals/{id}/pledges", post(codesign::pledge))
        .route(
            "/api/proposals/{id}/pledges/{pledge}/withdraw",
            post(codesign::withdraw),
        )
        .route("/api/proposals/{id}/proof", get(codesign::proof))
        .route("/api/reviews", get(codesign::queue))
        .route("/api/contests/{name}", get(codesign::contest))
        .route("/api/contests/{name}/vote", post(codesign::contest_vote))
        .route("/api/pledges", get(codesign::my_pledges))
        .route("/api/proofs/verify", post(codesign::verify))
        .layer(DefaultBodyLimit::max(MAX_BODY));
    // Pages take small forms; `/import` raises its own limit (`pages::routes`).
    let personal = Router::new()
        .merge(uploads)
        .merge(api)
        .merge(
            pages::routes()
                .method_not_allowed_fallback(pages::method_not_allowed)
                // Outermost for the pages: their language holds for every answer, errors too.
                .layer(middleware::from_fn(pages::locale::scope))
                .layer(DefaultBodyLimit::max(MAX_FORM)),
        )
        .route("/metrics", get(metrics_text));
    let body_read = limits.body_read;
    let app = Router::new()
        .merge(headers::personal(personal))
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/openapi.json",
            get(|| async { axum::Json(ApiDoc::openapi()) }),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint; see /openapi.json") })
        // After every route: it applies to those already declared (the pages keep their own).
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(middleware::from_fn_with_state(state.clone(), limit::limit))
        // A body that stalls fails its extractor; one that keeps coming may take its time.
        .layer(middleware::map_request(move |req: Request| async move {
            req.map(|body| Body::new(TimeoutBody::new(body_read, body)))
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request,
        ))
        // The timeout layer answers with an empty body: make it the documented error.
        .layer(middleware::map_response(|resp: Response| async move {
            if resp.status() == StatusCode::REQUEST_TIMEOUT
                && !resp.headers().contains_key(header::CONTENT_TYPE)
            {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "request_timeout",
                    "the request took longer than the server allows; a run or import it \
                     started goes on, see its status",
                )
                .into_response()
            } else {
                resp
            }
        }));
    let app = catch_panics(app)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state);
    headers::secure(app)
}

/// Answers a handler's panic with a JSON 500 like every other error, instead of a connection
/// closed without a reply. The panic's text goes to the log, not to the client.
pub fn catch_panics<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(CatchPanicLayer::custom(panicked))
}

fn panicked(panic: Box<dyn Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = what, "a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server failed while answering this request; the failure is logged",
    )
    .into_response()
}

/// Prometheus text, for the operator only: run counts, fuel, run times and failures by reason
/// depend on people's data, so they are the operator's to see, like the runs themselves.
async fn metrics_text(
    State(s): State<AppState>,
    caller: auth::Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.may(auth::Action::Metrics)?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    ))
}

/// Times every request into the metrics and the log.
async fn observe(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let response = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let status = response.status();
    s.metrics.http(status.as_u16(), secs);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!(%method, %path, status = status.as_u16(), secs, "request");
    } else {
        tracing::debug!(%method, %path, status = status.as_u16(), secs, "request");
    }
    response
}

/// Serves until SIGINT or SIGTERM. `ready` receives the bound address (port 0 picks one).
pub async fn serve(
    pds: Arc<Pds>,
    listen: SocketAddr,
    limits: limit::RateLimits,
    server: ServerLimits,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    ready(addr);
    tracing::info!(%addr, "serving");
    let state = AppState::new(pds, limits);
    // Runs an earlier process left running ended with it: record them as failed, for the
    // person (their price was posted when they started, so nobody else sees a difference).
    let stopped = state.pds.runner.fail_interrupted()?;
    if stopped > 0 {
        tracing::warn!(
            runs = stopped,
            "runs interrupted by the last stop were marked failed"
        );
    }
    // Campaigns and studies an earlier process left running resume where they stopped; on a
    // store shared with other nodes, this node also takes its share of jobs they start, and
    // fails the runs of nodes that died.
    jobs::resume(&state)?;
    if !state.pds.store.exclusive() {
        let s = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(jobs::POLL);
            let mut since_sweep = std::time::Duration::ZERO;
            loop {
                tick.tick().await;
                if let Err(e) = jobs::resume(&s) {
                    tracing::warn!("cannot look for jobs: {e}");
                }
                since_sweep += jobs::POLL;
                if since_sweep >= insitu_core::run::INTERRUPTED_AFTER {
                    since_sweep = std::time::Duration::ZERO;
                    let runner = s.pds.runner.clone();
                    match tokio::task::spawn_blocking(move || runner.fail_interrupted()).await {
                        Ok(Ok(n)) if n > 0 => {
                            tracing::warn!(runs = n, "runs of stopped nodes marked failed")
                        }
                        Ok(Err(e)) => tracing::warn!("cannot sweep lost runs: {e}"),
                        _ => {}
                    }
                }
            }
        });
    }
    let app = router_with(state, &server);
    conn::serve(listener, app, &server, shutdown()).await;
    tracing::info!("stopped: every acknowledged write is committed");
    Ok(())
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
