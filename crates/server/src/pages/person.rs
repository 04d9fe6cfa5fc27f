//! A person's own page: their data, the import form, what they spend (by month, and the
//! charges that come back), the requests waiting for them, campaign invitations, people to
//! talk with, earnings (by month too), grants (revoke, run; what each live one can see, drawn
//! against all they keep), the runs on their data, what organisations may return to them, and
//! their rights (export, erase); and the answers to an invitation or a contact. The pictures
//! are [`super::charts`]'; the spending is read by [`super::spending`].
//!
//! May touch: the signed-in person's own records, requests, grants, runs, ledger lines,
//! invitations and contacts, through the same `Caller` rules as the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};

use super::charts;
use super::locale::{Arg, L10n};
use super::{
    AppState, Form, PageError, PageResult, Path, Session, blocking, cut, older, rows_from,
    visible_ledger,
};
use crate::auth::Action;
use insitu_core::request::Status;
use insitu_core::store::Owner;

/// The person's home page.
pub fn home(s: &AppState, session: &Session, l: &L10n, p: u64) -> Result<Markup, PageError> {
    let store = s.pds.store.as_ref();
    let mut data = Vec::new();
    for c in store.collections()? {
        let n = store.count(p, &c.name)?;
        if n > 0 {
            data.push((c.name, n));
        }
    }
    Ok(html! {
        h1 { (l.t("person-title")) }
        section aria-labelledby="data" {
            h2 id="data" { (l.t("data-title")) }
            div.scroll { table {
                thead { tr {
                    th scope="col" { (l.t("data-collection")) }
                    th scope="col" { (l.t("data-records")) }
                } }
                tbody {
                    @for (name, n) in &data {
                        tr { td { (super::data::link(l, name)) } td { (l.number(*n as i64)) } }
                    }
                }
            } }
            form.card method="post" action="/import" enctype="multipart/form-data" {
                (session.csrf_field())
                fieldset {
                    legend { (l.t("import-legend")) }
                    p {
                        label for="file" { (l.t("import-file")) } " "
                        input id="file" type="file" name="file" required;
                    }
                    p {
                        label for="collection" { (l.t("import-collection")) } " "
                        input id="collection" name="collection";
                    }
                    button type="submit" { (l.t("import-submit")) }
                }
            }
        }
        (spending_section(s, l, p)?)
        (requests_section(s, l, p, None)?)
        (invitations_section(s, session, l, p, None)?)
        (contacts_section(s, session, l, p)?)
        (earnings_section(s, l, p, None)?)
        (grants_section(s, session, l, p, None)?)
        section aria-labelledby="runs" {
            h2 id="runs" { (l.t("runs-on-my-data")) }
            (super::runs::runs_table(s, session, l, None)?)
        }
        (receptions_section(s, l, p, None)?)
        section aria-labelledby="rights" {
            h2 id="rights" { (l.t("rights-title")) }
            p { a href="/export" download { (l.t("rights-export")) } " " (l.t("rights-export-what")) }
            form.card method="post" action="/erase" {
                (session.csrf_field())
                fieldset {
                    legend { (l.t("erase-legend")) }
                    label for="erase-password" { (l.t("erase-password")) } " "
                    input id="erase-password" name="password" type="password" autocomplete="current-password" required;
                    " "
                    button type="submit" { (l.t("erase-submit")) }
                }
            }
        }
    })
}

/// What the person spends: by month over the last two years, and the charges that come back
/// (`spending::read`: one bounded scan of their bank transactions, folded by month).
fn spending_section(s: &AppState, l: &L10n, p: u64) -> Result<Markup, PageError> {
    let spent = super::spending::read(s.pds.store.as_ref(), p, s.now_ms())?;
    Ok(html! {
        section aria-labelledby="spending" {
            h2 id="spending" { (l.t("spending-title")) }
            @if spent.is_empty() {
                p { (l.t("chart-no-data")) }
            }
            @for (i, sp) in spent.iter().enumerate() {
                @let c = &sp.currency;
                (charts::month_bars(l, &format!("spending{i}"), &l.ta("spending-chart", &[("currency", c.into())]), &sp.by_month, c))
                (charts::recurring(l, &format!("recurring{i}"), &l.ta("recurring-chart", &[("currency", c.into())]), &sp.recurring))
                @if sp.truncated {
                    p { (l.ta("spending-partial", &[("count", Arg::Count(super::spending::MAX_TRANSACTIONS as i64))])) }
                }
            }
        }
    })
}

/// A person's earnings: on the first page their balance and what came in by month (from all
/// their lines, read by the index on the party), then their movements, newest first, a page at
/// a time from `after` ([`crate::ledger::visible_page`]: lines dated later are not shown yet).
pub fn earnings_section(
    s: &AppState,
    l: &L10n,
    p: u64,
    after: Option<u64>,
) -> Result<Markup, PageError> {
    let party = insitu_core::ledger::Party::Person(p);
    let now = s.now_ms();
    let rows = crate::ledger::visible_page(
        |page| s.pds.store.ledger_page(&party, page),
        now,
        rows_from(after),
    )?;
    let (lines, next) = cut(rows, |e| e.id);
    let (balances, earned) = if after.is_none() && !lines.is_empty() {
        let entries = visible_ledger(s, &party)?;
        let balances: Vec<(String, i64)> = insitu_core::ledger::balances(&entries)
            .into_iter()
            .filter(|((who, _), _)| *who == party)
            .map(|((_, c), v)| (c, v))
            .collect();
        // What came in (studies' shares, settlements), by month.
        let earned = charts::by_month(
            &charts::months(now, super::spending::MONTHS),
            entries
                .iter()
                .filter(|e| e.credit == party)
                .map(|e| (e.at_ms, e.amount.minor, e.amount.currency.as_str())),
        );
        (balances, earned)
    } else {
        Default::default()
    };
    Ok(html! {
        section aria-labelledby="earnings" {
            h2 id="earnings" { (l.t("earnings-title")) }
            @if lines.is_empty() {
                p { (l.t("earnings-nothing")) }
            } @else {
                @for (i, (c, series)) in earned.iter().enumerate() {
                    (charts::month_bars(l, &format!("earnings{i}"), &l.ta("earnings-chart", &[("currency", c.into())]), series, c))
                }
                @for (c, v) in &balances {
                    p { (l.ta("earnings-balance", &[("amount", l.money(*v, c).as_str().into())])) }
                }
                div.scroll { table {
                    thead { tr {
                        th scope="col" { (l.t("earnings-date")) }
                        th scope="col" { (l.t("earnings-amount")) }
                        th scope="col" { (l.t("earnings-for")) }
                    } }
                    tbody {
                        @for e in &lines {
                            @let signed = if e.credit == party { e.amount.minor } else { -e.amount.minor };
                            tr id=(format!("line-{}", e.id)) {
                                td { (l.date(e.at_ms)) }
                                td { (l.money(signed, &e.amount.currency)) }
                                td { (e.memo) }
                            }
                        }
                    }
                } }
            }
            (older(l, "/earnings", next))
        }
    })
}

/// A person's peer contacts: names only once both sides accepted; a mentor answers here.
fn contacts_section(
    s: &AppState,
    session: &Session,
    l: &L10n,
    p: u64,
) -> Result<Markup, PageError> {
    let contacts =
        insitu_core::peer::contacts_of(s.pds.store.as_ref(), p).map_err(PageError::internal)?;
    if contacts.is_empty() {
        return Ok(html! {});
    }
    Ok(html! {
        section aria-labelledby="contacts" {
            h2 id="contacts" { (l.t("contacts-title")) }
            ul {
                @for c in &contacts {
                    @let status = match c.status {
                        insitu_core::peer::ContactStatus::Asked => l.t("contact-asked"),
                        insitu_core::peer::ContactStatus::Connected => l.t("contact-connected"),
                        insitu_core::peer::ContactStatus::Declined => l.t("contact-declined"),
                    };
                    @let role = if c.role == "mentor" { l.t("contact-role-mentor") } else { l.t("contact-role-mentee") };
                    li {
                        (c.occupation) " (" (role) "), " (status) ": "
                        @match &c.other {
                            Some(n) => (n),
                            None => (l.t("contact-name-hidden")),
                        }
                        @if c.role == "mentor" && c.status == insitu_core::peer::ContactStatus::Asked {
                            form.actions method="post" action=(format!("/contacts/{}/answer", c.id)) {
                                (session.csrf_field())
                                button type="submit" name="decision" value="accept" { (l.t("accept")) }
                                button.secondary type="submit" name="decision" value="decline" { (l.t("decline")) }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// A page of a person's campaign invitations, newest first (from `after`; a page of their
/// memberships, of which those that are invitations): the findings only they see, each with a
/// box to release it, and accept or decline; and the link to the older page.
pub fn invitations_section(
    s: &AppState,
    session: &Session,
    l: &L10n,
    p: u64,
    after: Option<u64>,
) -> Result<Markup, PageError> {
    let store = s.pds.store.as_ref();
    let (memberships, next) = cut(store.memberships_page(p, rows_from(after))?, |m| m.job);
    let invitations = insitu_core::campaign::invitations_of(store, memberships)?;
    let money = |m: &Option<insitu_core::output::Money>| {
        m.as_ref()
            .map(|m| l.money(m.minor, &m.currency))
            .unwrap_or_else(|| "-".into())
    };
    Ok(html! {
        section aria-labelledby="invitations" {
            h2 id="invitations" { (l.t("invitations-title")) }
            @if invitations.is_empty() {
                p { (l.t("none")) }
            }
            @for i in &invitations {
                section.card {
                    h3 { (l.ta("invitation-title", &[("association", (&i.association).into()), ("brand", (&i.brand).into())])) }
                    p { (l.ta("invitation-text", &[("description", (&i.description).into())])) }
                    @match &i.answer {
                        Some(insitu_core::job::Answer::Accepted { shared, .. }) => {
                            p { (l.ta("invitation-joined", &[("count", Arg::Count(shared.len() as i64))])) }
                        }
                        Some(insitu_core::job::Answer::Declined { .. }) => {
                            p { (l.t("invitation-declined")) }
                        }
                        None => {
                            form method="post" action=(format!("/invitations/{}/answer", i.job)) {
                                (session.csrf_field())
                                fieldset {
                                    legend { (l.ta("invitation-legend", &[("association", (&i.association).into())])) }
                                    // Every field of each finding, exactly as it would be shared,
                                    // and the records it cites, from the store (these stay with
                                    // the member).
                                    @for (n, f) in i.findings.iter().enumerate() {
                                        p {
                                            label {
                                                input type="checkbox" name="finding" value=(n) checked;
                                                " "
                                                (l.ta("finding-line", &[
                                                    ("date", l.date(f.time).as_str().into()),
                                                    ("rule", (&f.rule).into()),
                                                    ("label", (&f.label).into()),
                                                    ("amount", money(&f.amount).as_str().into()),
                                                    ("loss", money(&f.loss).as_str().into()),
                                                    ("reason", (&f.reason).into()),
                                                ]))
                                            }
                                        }
                                        @let cited = i.evidence.get(n).map(Vec::as_slice).unwrap_or_default();
                                        @if !cited.is_empty() {
                                            ul aria-label=(l.t("finding-cites")) {
                                                @for r in cited {
                                                    @let fields: Vec<String> = r.fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                                                    li { (l.ta_markup("finding-record", &[
                                                        ("date", l.date(r.time).as_str().into()),
                                                        ("fields", fields.join("; ").as_str().into()),
                                                    ], &[("collection", super::collections::name(l, &r.collection))])) }
                                                }
                                            }
                                        }
                                    }
                                }
                                div.actions {
                                    button type="submit" name="decision" value="accept" { (l.t("invitation-join")) }
                                    button.secondary type="submit" name="decision" value="decline" { (l.t("decline")) }
                                }
                            }
                        }
                    }
                }
            }
            (older(l, "/invitations", next))
        }
    })
}

pub(super) async fn answer_contact(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    session.allow(Action::AnswerContact, get("csrf"))?;
    let person = session.person().ok_or_else(PageError::not_found)?;
    let accept = get("decision") == Some("accept");
    let answered = blocking(move || {
        Ok(insitu_core::peer::answer(
            s.pds.store.as_ref(),
            person,
            id,
            accept,
        ))
    })
    .await?;
    match answered {
        Ok(_) => Ok(Redirect::to("/").into_response()),
        Err(insitu_core::peer::PeerError::NoContact(_)) => Err(PageError::not_found()),
        Err(insitu_core::peer::PeerError::Answered(_)) => Err(PageError::say(
            StatusCode::CONFLICT,
            "error-already-answered",
        )),
        Err(e) => Err(PageError::internal(e)),
    }
}

pub(super) async fn answer_invitation(
    State(s): State<AppState>,
    session: Session,
    Path(job): Path<u64>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    session.allow(Action::AnswerInvitation, get("csrf"))?;
    let person = session.person().ok_or_else(PageError::not_found)?;
    let chosen: Vec<usize> = form
        .iter()
        .filter(|(n, _)| n == "finding")
        .map(|(_, v)| {
            v.parse().map_err(|_| {
                PageError::say_with(
                    StatusCode::BAD_REQUEST,
                    "error-not-a-finding",
                    &[("value", v.into())],
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let accept = match get("decision") {
        Some("accept") => true,
        Some("decline") => false,
        _ => {
            return Err(PageError::say(
                StatusCode::BAD_REQUEST,
                "error-join-or-decline",
            ));
        }
    };
    if accept && chosen.is_empty() {
        return Err(PageError::say(
            StatusCode::BAD_REQUEST,
            "error-tick-a-finding",
        ));
    }
    let answered = blocking(move || {
        Ok(insitu_core::campaign::answer(
            s.pds.store.as_ref(),
            job,
            person,
            accept,
            Some(&chosen),
        ))
    })
    .await?;
    match answered {
        Ok(_) => Ok(Redirect::to("/").into_response()),
        Err(insitu_core::campaign::CampaignError::Store(
            insitu_core::store::StoreError::NoInvitation { .. }
            | insitu_core::store::StoreError::NoJob(_),
        )) => Err(PageError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// A page of the requests asking a person, newest first (from `after`): the pending ones, each
/// a link to its consent screen, and the link to the older page.
pub fn requests_section(
    s: &AppState,
    l: &L10n,
    p: u64,
    after: Option<u64>,
) -> Result<Markup, PageError> {
    let rows = s
        .pds
        .store
        .requests_page(&Owner::Person(p), rows_from(after))?;
    let (rows, next) = cut(rows, |r| r.id);
    let pending: Vec<_> = rows
        .into_iter()
        .filter(|r| r.status == Status::Pending)
        .collect();
    Ok(html! {
        section aria-labelledby="requests" {
            h2 id="requests" { (l.t("requests-title")) }
            @if pending.is_empty() {
                p { (l.t("none")) }
            } @else {
                ul {
                    @for r in &pending {
                        li { a href=(format!("/requests/{}", r.id)) {
                            (l.ta("request-line", &[
                                ("requester", (&r.requester).into()),
                                ("days", Arg::Count(i64::from(r.days))),
                                ("purpose", (&r.purpose).into()),
                            ]))
                        } }
                    }
                }
            }
            (older(l, "/requests", next))
        }
    })
}

/// A page of the grants a person gave, newest first (from `after`), each with revoke and run
/// while it is live, and the link to the older page.
pub fn grants_section(
    s: &AppState,
    session: &Session,
    l: &L10n,
    p: u64,
    after: Option<u64>,
) -> Result<Markup, PageError> {
    let now = s.now_ms();
    let rows = s
        .pds
        .store
        .grants_page(&Owner::Person(p), rows_from(after))?;
    let (grants, next) = cut(rows, |g| g.id);
    let pictures = grant_pictures(s, l, p, &grants)?;
    Ok(html! {
        section aria-labelledby="grants" {
            h2 id="grants" { (l.t("grants-title")) }
            div.scroll { table {
                thead { tr {
                    th scope="col" { (l.t("grants-grant")) }
                    th scope="col" { (l.t("grants-to")) }
                    th scope="col" { (l.t("grants-data")) }
                    th scope="col" { (l.t("grants-expires")) }
                    th scope="col" { (l.t("grants-actions")) }
                } }
                tbody {
                    @for g in &grants {
                        @let scope: Vec<Markup> = g.collections.iter()
                            .map(|c| html! { (super::collections::name(l, &c.name)) ": " (super::fields::labels(l, &c.name, &c.fields)) })
                            .collect();
                        @let state = if g.revoked_ms.is_some() {
                            l.t("grant-revoked")
                        } else if g.expires_ms.is_some_and(|e| e <= now) {
                            l.t("grant-expired")
                        } else {
                            g.expires_ms.map_or_else(|| l.t("grant-never"), |e| l.date(e))
                        };
                        tr {
                            td { (g.id) }
                            td { (g.origin.as_ref().map_or_else(|| l.t("grant-to-you"), |o| o.requester.clone())) }
                            td { @for (i, c) in scope.iter().enumerate() { @if i > 0 { "; " } (c) } }
                            td { (state) }
                            td {
                                @if g.check_live(now).is_ok() {
                                    div.actions {
                                        form method="post" action=(format!("/grants/{}/revoke", g.id)) {
                                            (session.csrf_field())
                                            button.secondary type="submit" { (l.ta("grant-revoke", &[("id", Arg::Count(g.id as i64))])) }
                                        }
                                        form method="post" action=(format!("/grants/{}/run", g.id)) {
                                            (session.csrf_field())
                                            label for=(format!("params-{}", g.id)) { (l.t("grant-params")) }
                                            br;
                                            textarea id=(format!("params-{}", g.id)) name="params" rows="3" cols="24" {}
                                            br;
                                            button type="submit" { (l.ta("grant-run", &[("id", Arg::Count(g.id as i64))])) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
            (pictures)
            (older(l, "/grants", next))
        }
    })
}

/// For each live grant of `grants`: what it can see (its collections' fields, its months)
/// against everything the person keeps (every field of each collection they hold records in),
/// over the last two years.
fn grant_pictures(
    s: &AppState,
    l: &L10n,
    p: u64,
    grants: &[insitu_core::consent::Grant],
) -> Result<Markup, PageError> {
    let now = s.now_ms();
    let live: Vec<_> = grants
        .iter()
        .filter(|g| g.check_live(now).is_ok())
        .collect();
    if live.is_empty() {
        return Ok(html! {});
    }
    let store = s.pds.store.as_ref();
    let mut held = Vec::new();
    for c in store.collections()? {
        if store.count(p, &c.name)? > 0 {
            held.push(c);
        }
    }
    let frame = charts::months(now, super::spending::MONTHS);
    let mut pictures = Vec::new();
    for g in live {
        let mut rows: Vec<charts::GridRow> = Vec::new();
        for c in &held {
            let granted = g.collection(&c.name);
            for f in &c.fields {
                rows.push(charts::GridRow {
                    collection: c.name.clone(),
                    field: f.name.clone(),
                    granted: granted.is_some_and(|gc| gc.fields.contains(&f.name)),
                });
            }
        }
        // What the grant names that the person does not keep (yet) is drawn too.
        for gc in &g.collections {
            for f in &gc.fields {
                if !rows
                    .iter()
                    .any(|r| r.collection == gc.name && &r.field == f)
                {
                    rows.push(charts::GridRow {
                        collection: gc.name.clone(),
                        field: f.clone(),
                        granted: true,
                    });
                }
            }
        }
        // Compared by name above; drawn and described by label (the field's first: it is looked
        // up by the collection's own name).
        for r in &mut rows {
            r.field = super::fields::label(l, &r.collection, &r.field);
            r.collection = super::collections::label(l, &r.collection);
        }
        let to = g
            .origin
            .as_ref()
            .map_or_else(|| l.t("grant-to-you"), |o| o.requester.clone());
        let title = l.ta(
            "grant-picture",
            &[("id", Arg::Count(g.id as i64)), ("to", to.as_str().into())],
        );
        pictures.push(charts::grant_grid(
            l,
            &format!("grant{}", g.id),
            &title,
            &rows,
            &frame,
            (g.window.since, g.window.until),
        ));
    }
    Ok(html! {
        h3 { (l.t("grants-pictures-title")) }
        @for picture in pictures { (picture) }
    })
}

/// A page of what organisations may return to a person, newest first (from `after`); nothing
/// on the home page when there is none.
pub fn receptions_section(
    s: &AppState,
    l: &L10n,
    p: u64,
    after: Option<u64>,
) -> Result<Markup, PageError> {
    let rows = s
        .pds
        .store
        .receptions_page(&Owner::Person(p), rows_from(after))?;
    let (receptions, next) = cut(rows, |r| r.id);
    Ok(html! {
        @if !receptions.is_empty() || after.is_some() {
            section aria-labelledby="returns" {
                h2 id="returns" { (l.t("returns-title")) }
                ul {
                    @for r in &receptions {
                        li {
                            @let key = if r.revoked_ms.is_some() { "return-line-withdrawn" } else { "return-line" };
                            (l.ta_markup(key, &[("organisation", (&r.organisation).into())], &[("collection", super::collections::name(l, &r.collection))]))
                        }
                    }
                }
                (older(l, "/receptions", next))
            }
        }
    })
}
