//! Runs: the table of the runs a visitor sees, starting a run under a grant, and a run's page.
//!
//! May touch: the runs the visitor may see, each through `view::run_view` (the detail only for
//! the person and the operator) and `contract::output_for` (only outputs addressed to them,
//! from their release time).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};

use super::locale::{Arg, L10n};
use super::{AppState, Form, PageError, PageResult, Path, Session, cut, older, rows_from};
use crate::auth::Action;
use insitu_core::output::Scalar;

/// A page of the runs a visitor sees, newest first (from `after`), and the link to the older
/// page: for a person, the runs on their data with how each went; for an organisation, the
/// runs it started outside a campaign or study, with only what it may see of them (`view.rs`).
pub fn runs_table(
    s: &AppState,
    session: &Session,
    l: &L10n,
    after: Option<u64>,
) -> Result<Markup, PageError> {
    let (Some(viewer), Some(owner)) = (session.viewer(), session.owner()) else {
        return Ok(html! {});
    };
    let (runs, next) = cut(s.pds.store.runs_page(&owner, rows_from(after))?, |r| r.id);
    let mut rows = Vec::new();
    for r in runs {
        if !session.sees_run(&r) {
            continue;
        }
        let Some(v) = insitu_core::view::run_view(&r, &viewer) else {
            continue;
        };
        let (outcome, records) = match &v.detail {
            Some(d) => (
                match &d.failure {
                    Some(reason) => l.ta("run-failed-short", &[("reason", reason.into())]),
                    None => status(l, &d.status),
                },
                l.number(d.records_read as i64),
            ),
            None => (
                l.ta(
                    "run-result-from",
                    &[("when", l.instant(v.release_ms).as_str().into())],
                ),
                l.t("run-not-shown"),
            ),
        };
        rows.push((v.id, v.started_ms, outcome, records));
    }
    Ok(html! {
        div.scroll { table {
            thead { tr {
                th scope="col" { (l.t("run")) }
                th scope="col" { (l.t("run-started")) }
                th scope="col" { (l.t("run-outcome")) }
                th scope="col" { (l.t("run-records-read")) }
            } }
            tbody {
                @for (id, started, outcome, records) in &rows {
                    tr {
                        td { a href=(format!("/runs/{id}")) { (l.ta("run-link", &[("id", Arg::Count(*id as i64))])) } }
                        td { (l.date(*started)) }
                        td { (outcome) }
                        td { (records) }
                    }
                }
            }
        } }
        (older(l, "/runs", next))
    })
}

/// A run's status word (`succeeded`, `failed`, ...) in the visitor's language; an unknown one
/// as it is.
fn status(l: &L10n, status: &str) -> String {
    match status {
        "succeeded" => l.t("run-status-succeeded"),
        "failed" => l.t("run-status-failed"),
        "withheld" => l.t("run-status-withheld"),
        other => other.to_string(),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct RunForm {
    csrf: Option<String>,
    #[serde(default)]
    params: String,
}

pub(super) async fn run(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
    Form(f): Form<RunForm>,
) -> PageResult {
    session.allow(Action::Run, f.csrf.as_deref())?;
    let g = session.given_grant(&s, id)?;
    let mut params = Vec::new();
    for line in f.params.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((k, v)) = line.split_once('=') else {
            return Err(PageError::say_with(
                StatusCode::BAD_REQUEST,
                "error-not-a-parameter",
                &[("line", line.into())],
            ));
        };
        params.push((k.trim().to_string(), Scalar::parse(v.trim())));
    }
    let r = s.run_grant(&g, params).await.map_err(PageError::internal)?;
    Ok(Redirect::to(&format!("/runs/{}", r.id)).into_response())
}

pub(super) async fn run_page(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
) -> PageResult {
    session.may(Action::ReadRuns)?;
    let r = session.run(&s, id)?;
    let viewer = session.viewer().ok_or_else(PageError::not_found)?;
    let v = insitu_core::view::run_view(&r, &viewer).ok_or_else(PageError::not_found)?;
    let l = L10n::current();
    // The view decides whether a price is shown; the record's money is written the
    // visitor's way.
    let price = match (&v.price, &r.price) {
        (Some(_), Some(m)) => l.money(m.minor, &m.currency),
        (Some(p), None) => p.clone(),
        (None, _) => l.t("run-not-billed"),
    };
    let output = match insitu_core::contract::output_for(s.pds.store.as_ref(), id, &viewer) {
        Ok(out) => Some(serde_json::to_string_pretty(&out).map_err(PageError::internal)?),
        Err(_) => None,
    };
    let title = l.ta("run-link", &[("id", Arg::Count(id as i64))]);
    let body = html! {
        h1 { (title) }
        @match &v.detail {
            Some(d) => {
                p { (l.t("run-outcome-label")) " " (match (&d.failure, &d.message) {
                    (Some(reason), Some(m)) => l.ta("run-failed-long", &[("reason", reason.into()), ("message", m.into())]),
                    _ => status(&l, &d.status),
                }) }
                p { (l.ta("run-usage", &[
                    ("records", l.number(d.records_read as i64).as_str().into()),
                    ("fuel", l.number(d.fuel as i64).as_str().into()),
                    ("ms", l.fraction(d.wall_us as f64 / 1000.0, 2).as_str().into()),
                ])) }
                p { (l.ta("run-price", &[("price", price.as_str().into())])) }
            }
            None => {
                p { (l.ta("run-started-release", &[
                    ("started", l.instant(v.started_ms).as_str().into()),
                    ("release", l.instant(v.release_ms).as_str().into()),
                ])) }
                p { (l.ta("run-price", &[("price", price.as_str().into())])) }
                p { (l.t("run-persons-to-know")) }
            }
        }
        @match &output {
            Some(text) => {
                h2 { (l.t("run-output")) }
                pre { (text) }
            }
            None => p { (l.t("run-no-output")) },
        }
    };
    Ok(super::page(&title, Some(&session), body).into_response())
}
