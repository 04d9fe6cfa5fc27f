//! The consent screen and its two answers. The screen says, for a person and in their words:
//! who asks, for what, for how long, what the program reads, what comes out and to whom, and
//! who pays; then approve (narrowing fields, months, days) or deny.
//!
//! May touch: the requests asked of the signed-in person (`Caller::asked_request`) and the
//! manifest of the plugin they name.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maud::html;

use super::locale::{Arg, L10n};
use super::{AppState, CsrfForm, Form, PageError, PageResult, Path, Session, blocking, page};
use crate::auth::Action;
use insitu_core::package::{Audience, OutputKind};
use insitu_core::request::{self, Narrowing, Status};

/// The consent screen: who asks, which data and why, for how long, what comes out to whom,
/// who pays what; approve (with narrowing) or deny.
pub(super) async fn consent(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
) -> PageResult {
    session.may(Action::ReadConsent)?;
    let r = session.asked_request(&s, id)?;
    let plugin = s.pds.store.plugin(&r.plugin_digest)?;
    let m = plugin.manifest.as_ref();
    let l = L10n::current();
    let months_asked = r
        .data
        .iter()
        .map(|d| d.months.unwrap_or(0))
        .max()
        .unwrap_or(0);
    let body = html! {
        h1 { (l.ta("consent-title", &[("requester", (&r.requester).into())])) }
        dl.screen {
            dt { (l.t("consent-who")) }
            dd {
                p { (r.requester) }
                @if let Some(m) = m {
                    p { (l.ta("consent-program", &[
                        ("program", (&m.id).into()),
                        ("version", (&m.version).into()),
                        ("publisher", (&m.publisher).into()),
                    ])) }
                    blockquote { (m.description) }
                }
            }
            dt { (l.t("consent-what-for")) }
            dd { (r.purpose) }
            dt { (l.t("consent-how-long")) }
            dd { (l.ta("consent-days", &[("days", Arg::Count(i64::from(r.days)))])) }
            dt { (l.t("consent-reads")) }
            dd { ul {
                @for d in &r.data {
                    li { (l.ta_markup("consent-reads-line", &[
                        ("fields", super::fields::labels(&l, &d.collection, &d.fields).as_str().into()),
                        ("why", (&d.purpose).into()),
                    ], &[("collection", super::collections::name(&l, &d.collection))])) }
                }
            } }
            @if let Some(m) = m {
                dt { (l.t("consent-what-comes-out")) }
                dd {
                    @let kind = match m.output.kind {
                        OutputKind::Findings => l.t("output-findings"),
                        OutputKind::Metrics => l.t("output-metrics"),
                        OutputKind::Table => l.t("output-table"),
                    };
                    @let items = Arg::Count(i64::from(m.output.max_items));
                    (match m.output.audience {
                        Audience::Person => l.ta("consent-out-person", &[("kind", kind.as_str().into()), ("items", items)]),
                        Audience::Requester => l.ta("consent-out-requester", &[("kind", kind.as_str().into()), ("items", items), ("requester", (&r.requester).into())]),
                        Audience::Aggregate => l.ta("consent-out-aggregate", &[
                            ("kind", kind.as_str().into()),
                            ("items", items),
                            ("requester", (&r.requester).into()),
                            ("cohort", Arg::Count(i64::from(m.output.min_cohort.unwrap_or(0)))),
                        ]),
                    })
                }
                dt { (l.t("consent-who-pays")) }
                dd {
                    @let c = &m.pricing.currency;
                    (l.ta("consent-pays", &[
                        ("requester", (&r.requester).into()),
                        ("per_run", l.money(m.pricing.per_run, c).as_str().into()),
                        ("per_million_fuel", l.money(m.pricing.per_million_fuel, c).as_str().into()),
                        ("per_thousand_records", l.money(m.pricing.per_thousand_records, c).as_str().into()),
                    ]))
                }
            }
            @if r.status != Status::Pending {
                dt { (l.t("consent-status")) }
                dd { (match r.status {
                    Status::Pending => l.t("status-pending"),
                    Status::Approved { grant, .. } => l.ta("status-approved", &[("grant", Arg::Count(grant as i64))]),
                    Status::Denied { .. } => l.t("status-denied"),
                }) }
            }
        }
        @if r.status == Status::Pending {
            form.card method="post" action=(format!("/requests/{id}/approve")) {
                (session.csrf_field())
                h2 { (l.t("consent-narrow-title")) }
                @for d in &r.data {
                    fieldset {
                        legend { (l.ta_markup("consent-fields-legend", &[
                            ("dates", l.t("consent-record-dates").as_str().into()),
                        ], &[("collection", super::collections::name(&l, &d.collection))])) }
                        @for f in &d.fields {
                            label {
                                input type="checkbox" name="keep" value=(format!("{}/{}", d.collection, f)) checked;
                                " " (super::fields::name(&l, &d.collection, f))
                            }
                            " "
                        }
                    }
                }
                p {
                    label for="months" { (l.t("consent-months")) } " "
                    input id="months" name="months" type="number" min="0" max=(months_asked) value=(months_asked);
                }
                p {
                    label for="days" { (l.t("consent-days-label")) } " "
                    input id="days" name="days" type="number" min="1" max=(r.days) value=(r.days);
                }
                p { button type="submit" { (l.t("consent-approve")) } }
            }
            form method="post" action=(format!("/requests/{id}/deny")) {
                (session.csrf_field())
                button.secondary type="submit" { (l.t("consent-deny")) }
            }
        }
    };
    Ok(page(&l.t("consent-page-title"), Some(&session), body).into_response())
}

pub(super) async fn approve(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    session.allow(Action::Decide, get("csrf"))?;
    let r = session.asked_request(&s, id)?;
    let mut kept: Vec<(String, Vec<String>)> = Vec::new();
    for (_, v) in form.iter().filter(|(n, _)| n == "keep") {
        let Some((c, f)) = v.split_once('/') else {
            return Err(PageError::say_with(
                StatusCode::BAD_REQUEST,
                "error-not-a-field",
                &[("value", v.into())],
            ));
        };
        match kept.iter_mut().find(|(k, _)| k == c) {
            Some((_, fields)) => fields.push(f.to_string()),
            None => kept.push((c.to_string(), vec![f.to_string()])),
        }
    }
    let number = |k: &str| -> Result<Option<u32>, PageError> {
        match get(k).map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                PageError::say_with(
                    StatusCode::BAD_REQUEST,
                    "error-not-a-number",
                    &[("name", k.into()), ("value", v.into())],
                )
            }),
        }
    };
    let months_asked = r.data.iter().any(|d| d.months.is_some());
    let narrow = Narrowing {
        fields: Some(kept),
        months: if months_asked {
            number("months")?
        } else {
            None
        },
        days: number("days")?,
    };
    blocking(move || Ok(request::approve(s.pds.store.as_ref(), id, &narrow)?)).await?;
    Ok(Redirect::to("/").into_response())
}

pub(super) async fn deny(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    session.allow(Action::Decide, f.csrf.as_deref())?;
    session.asked_request(&s, id)?;
    blocking(move || Ok(request::deny(s.pds.store.as_ref(), id)?)).await?;
    Ok(Redirect::to("/").into_response())
}
