//! The pages of the parties that are not a person: an organisation's (its requests, its runs
//! with only what it may see of them, its campaigns and studies, this month's invoice; the
//! pictures of its campaigns' released counts and of what it paid by month), a developer's
//! (revenue per plugin) and an operator's; and the invoice download.
//!
//! May touch: what the signed-in party asked for, started or is owed, through the same
//! `Caller` rules and views as the API (`view.rs`, thresholded campaign counts, published study
//! releases, ledger lines dated until now).

use axum::extract::State;
use axum::response::IntoResponse;
use maud::{Markup, html};

use super::charts;
use super::locale::{Arg, L10n};
use super::{AppState, PageError, PageResult, Session, cut, older, rows_from, visible_ledger};
use crate::auth::Action;
use insitu_core::account::Role;
use insitu_core::request::Status;
use insitu_core::store::Owner;

/// An organisation's home page.
pub fn home(s: &AppState, session: &Session, l: &L10n) -> Result<Markup, PageError> {
    Ok(html! {
        h1 { (session.account.name) }
        (requests_section(s, session, l, None)?)
        section aria-labelledby="org-runs" {
            h2 id="org-runs" { (l.t("org-runs-title")) }
            (super::runs::runs_table(s, session, l, None)?)
        }
        (jobs_section(s, session, l, None)?)
        (super::codesign::proposals_section(s, session, l)?)
        (billing_section(s, session, l)?)
    })
}

/// A developer's or an operator's page: they work through the API.
pub fn api_home(s: &AppState, session: &Session, l: &L10n) -> Result<Markup, PageError> {
    let role = match session.account.role {
        Role::Developer => l.t("role-developer"),
        Role::Operator => l.t("role-operator"),
        Role::Organisation => l.t("role-organisation"),
        Role::Person => l.t("role-person"),
        Role::Officer => l.t("role-officer"),
    };
    Ok(html! {
        h1 { (session.account.name) }
        p {
            (l.ta("api-home", &[("role", role.as_str().into())])) " "
            a href="/openapi.json" { "/openapi.json" }
        }
        @if session.account.role == Role::Officer {
            p { a href="/reviews" { (l.t("nav-reviews")) } }
        }
        (billing_section(s, session, l)?)
    })
}

/// An organisation's invoice for this month and its usage; a developer's revenue per plugin.
fn billing_section(s: &AppState, session: &Session, l: &L10n) -> Result<Markup, PageError> {
    use insitu_core::ledger::Party;
    let store = s.pds.store.as_ref();
    let name = session.account.name.clone();
    let party = match session.account.role {
        Role::Organisation => Party::Organisation(name.clone()),
        Role::Developer => Party::Developer(name.clone()),
        _ => return Ok(html! {}),
    };
    let entries = visible_ledger(s, &party)?;
    Ok(match session.account.role {
        Role::Organisation => {
            let now = s.now_ms();
            let (since, until) = insitu_core::ledger::month_bounds(now);
            // Entries dated later (a job's, dated at its release time) are not shown yet.
            let until = until.min(now + 1);
            let me = Party::Organisation(name);
            let st = insitu_core::ledger::statement(&entries, &me, since, until);
            // What it paid by month over the last year, from the same lines.
            let paid = charts::by_month(
                &charts::months(now, 12),
                entries
                    .iter()
                    .filter(|e| e.debit == me)
                    .map(|e| (e.at_ms, e.amount.minor, e.amount.currency.as_str())),
            );
            html! {
                section aria-labelledby="invoice" {
                    h2 id="invoice" { (l.t("invoice-title")) }
                    p {
                        (l.ta("invoice-movements", &[("count", Arg::Count(st.lines.len() as i64))])) " "
                        a href="/invoice.csv" download { (l.t("invoice-download")) }
                    }
                    ul {
                        @for (c, (_, paid, received, closing)) in &st.totals {
                            li { (l.ta("invoice-line", &[
                                ("currency", c.into()),
                                ("paid", l.money(*paid, c).as_str().into()),
                                ("received", l.money(*received, c).as_str().into()),
                                ("balance", l.money(*closing, c).as_str().into()),
                            ])) }
                        }
                    }
                    @for (i, (c, series)) in paid.iter().enumerate() {
                        (charts::month_bars(l, &format!("invoices{i}"), &l.ta("invoices-chart", &[("currency", c.into())]), series, c))
                    }
                }
            }
        }
        Role::Developer => {
            let me = Party::Developer(name);
            let mut per_plugin: std::collections::BTreeMap<(String, String), i64> =
                Default::default();
            for e in entries.iter().filter(|e| e.credit == me) {
                let plugin = match e.key.split_once(':') {
                    Some(("run", id)) => id
                        .parse()
                        .ok()
                        .and_then(|id| store.run(id).ok())
                        .and_then(|r| store.plugin(&r.plugin_digest).ok())
                        .map(|p| p.name),
                    Some(("licence", _)) => {
                        Some(e.memo.rsplit(' ').next().unwrap_or("").to_string())
                    }
                    _ => None,
                };
                *per_plugin
                    .entry((
                        plugin.unwrap_or_else(|| l.t("revenue-other")),
                        e.amount.currency.clone(),
                    ))
                    .or_default() += e.amount.minor;
            }
            html! {
                section aria-labelledby="revenue" {
                    h2 id="revenue" { (l.t("revenue-title")) }
                    ul {
                        @for ((p, c), v) in &per_plugin {
                            li { (p) " (" (c) "): " (l.money(*v, c)) }
                        }
                        @if per_plugin.is_empty() {
                            li { (l.t("revenue-none")) }
                        }
                    }
                }
            }
        }
        _ => html! {},
    })
}

/// A page of an organisation's jobs, newest first (from `after`): its campaigns (as initiator
/// or association) with their thresholded counts, its studies with their releases, and the
/// link to the older page.
pub fn jobs_section(
    s: &AppState,
    session: &Session,
    l: &L10n,
    after: Option<u64>,
) -> Result<Markup, PageError> {
    let store = s.pds.store.as_ref();
    let name = session.account.name.as_str();
    let owner = Owner::Organisation(name.to_string());
    let (jobs, next) = cut(store.jobs_page(&owner, rows_from(after))?, |j| j.id);
    let mut campaigns = Vec::new();
    let mut pictured = Vec::new();
    let mut studies = Vec::new();
    for job in jobs {
        match &job.kind {
            insitu_core::job::JobKind::Campaign(c)
                if job.owner == name || c.association == name =>
            {
                let n = insitu_core::campaign::counts(store, &job, s.now_ms())?;
                pictured.push(campaign_picture(&c.description, &n));
                campaigns.push((
                    c.description.clone(),
                    n.scanned.to_string(),
                    n.matched.to_string(),
                    n.accepted.to_string(),
                ));
            }
            insitu_core::job::JobKind::Study(_) if job.owner == name => {
                let shown = match insitu_core::study::published(&job, s.now_ms()) {
                    Some(r) => {
                        let v: Vec<String> =
                            r.values.iter().map(|(k, v)| format!("{k} {v}")).collect();
                        l.ta(
                            "study-release",
                            &[
                                ("cohort", Arg::Count(r.cohort as i64)),
                                (
                                    "epsilon",
                                    l.fraction(r.epsilon_micro as f64 / 1e6, 2).as_str().into(),
                                ),
                                ("values", v.join(", ").as_str().into()),
                            ],
                        )
                    }
                    None => l.t("study-no-release"),
                };
                studies.push((job.title().to_string(), shown));
            }
            _ => {}
        }
    }
    Ok(html! {
        section aria-labelledby="campaigns" {
            h2 id="campaigns" { (l.t("campaigns-title")) }
            div.scroll { table {
                thead { tr {
                    th scope="col" { (l.t("campaign")) }
                    th scope="col" { (l.t("campaign-scanned")) }
                    th scope="col" { (l.t("campaign-matched")) }
                    th scope="col" { (l.t("campaign-accepted")) }
                } }
                tbody {
                    @for (d, scanned, matched, accepted) in &campaigns {
                        tr { td { (d) } td { (scanned) } td { (matched) } td { (accepted) } }
                    }
                }
            } }
            @if !pictured.is_empty() {
                (charts::campaigns(l, "campaignschart", &l.t("campaigns-chart"), &pictured))
            }
        }
        section aria-labelledby="studies" {
            h2 id="studies" { (l.t("studies-title")) }
            ul {
                @for (title, shown) in &studies {
                    li { (title) ": " (shown) }
                }
            }
        }
        (older(l, "/jobs", next))
    })
}

/// A campaign as its picture draws it: the same thresholded noisy counts and release time the
/// table shows, nothing else (a member's runs never reach an organisation's page).
fn campaign_picture(description: &str, n: &insitu_core::campaign::Counts) -> charts::Campaign {
    use insitu_core::campaign::Count;
    let shown = |c: &Count| match c {
        Count::About(n) => charts::Shown::About(i64::try_from(*n).unwrap_or(i64::MAX)),
        Count::FewerThan(k) => charts::Shown::FewerThan(i64::from(*k)),
        Count::Withheld => charts::Shown::Withheld,
    };
    // Scanned is withheld only before the release: thresholding never withholds it.
    let released = !matches!(n.scanned, Count::Withheld);
    charts::Campaign {
        label: description.to_string(),
        release_ms: n.release_ms,
        counts: released.then(|| {
            (
                shown(&n.scanned),
                shown(&n.matched),
                i64::try_from(n.accepted).unwrap_or(i64::MAX),
            )
        }),
    }
}

pub(super) async fn invoice(State(s): State<AppState>, session: Session) -> PageResult {
    session.may(Action::Invoice)?;
    let now = s.now_ms();
    let (since, until) = insitu_core::ledger::month_bounds(now);
    // Entries dated later (a job's, dated at its release time) are not shown yet.
    let until = until.min(now + 1);
    let party = insitu_core::ledger::Party::Organisation(session.account.name.clone());
    let st = insitu_core::ledger::statement(&visible_ledger(&s, &party)?, &party, since, until);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"invoice.csv\"",
            ),
        ],
        st.to_csv(),
    )
        .into_response())
}

/// A page of the requests an organisation made, newest first (from `after`; those that went
/// nowhere too, answered like the others), and the link to the older page.
pub fn requests_section(
    s: &AppState,
    session: &Session,
    l: &L10n,
    after: Option<u64>,
) -> Result<Markup, PageError> {
    let owner = Owner::Organisation(session.account.name.clone());
    let (requests, next) = cut(s.pds.store.requests_page(&owner, rows_from(after))?, |r| {
        r.id
    });
    Ok(html! {
        section aria-labelledby="org-requests" {
            h2 id="org-requests" { (l.t("org-requests-title")) }
            div.scroll { table {
                thead { tr {
                    th scope="col" { (l.t("org-request")) }
                    th scope="col" { (l.t("org-person")) }
                    th scope="col" { (l.t("org-purpose")) }
                    th scope="col" { (l.t("org-status")) }
                } }
                tbody {
                    @for r in &requests {
                        tr {
                            td { (r.id) }
                            td { (r.person) }
                            td { (r.purpose) }
                            td { (match r.status {
                                Status::Pending => l.t("status-pending"),
                                Status::Approved { grant, .. } => l.ta("status-approved", &[("grant", Arg::Count(grant as i64))]),
                                Status::Denied { .. } => l.t("status-denied"),
                            }) }
                        }
                    }
                }
            } }
            (older(l, "/requests", next))
        }
    })
}
