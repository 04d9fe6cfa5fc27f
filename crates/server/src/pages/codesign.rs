//! The co-design pages (`insitu_core::codesign`, the same views as the API's `/api/proposals`):
//! - `/proposals`: a member's, the public proposals with their options, noisy counts once
//!   released, the pledged total against the goal, the member's own pledges (withdraw), and
//!   forms to comment or suggest (signed or not), vote and pledge; an organisation's, its
//!   proposals and the form to submit one; the officer's and the operator's, every proposal;
//! - `/proposals/{id}`: one proposal as the visitor sees it; for its organisation, its status,
//!   versions and their commitments, the officer's reviews with reasons, the contributions
//!   under pseudonyms or signed names, the counts, the escrow and the settlement, and the form
//!   for a new version;
//! - `/reviews`: the patent officer's queue, with a decision form per proposal.
//!
//! The forms those pages post are in `codesign/forms.rs`.
//!
//! May touch: what `codesign::view` and `codesign::list` give the visitor's reader; every
//! form goes through the same `Action` table and core functions as the API.

use axum::extract::State;
use axum::response::IntoResponse;
use maud::{Markup, html};

mod forms;

pub(super) use forms::{contest_vote, contribute, pledge, review, revise, submit, vote, withdraw};

use super::locale::{Arg, L10n};
use super::{
    After, AppState, PageError, PageQuery, PageResult, Path, Session, cut, older, page, rows_from,
};
use crate::auth::Action;
use insitu_core::account::Role;
use insitu_core::campaign::Count;
use insitu_core::codesign::{
    self, BallotView, Content, ContributionView, Decision, Kind, PledgeStatus, ProposalView,
    Reader, Status,
};
use insitu_core::output::Money;
use insitu_core::store::Proposals;

fn reader(session: &Session) -> Result<Reader, PageError> {
    session.reader().ok_or_else(PageError::not_found)
}

fn status_text(l: &L10n, st: Status) -> String {
    l.t(match st {
        Status::InReview => "proposal-status-in-review",
        Status::ChangesRequested => "proposal-status-changes-requested",
        Status::Rejected => "proposal-status-rejected",
        Status::Public => "proposal-status-public",
        Status::Funded => "proposal-status-funded",
        Status::Unfunded => "proposal-status-unfunded",
    })
}

fn decision_text(l: &L10n, d: Decision) -> String {
    l.t(match d {
        Decision::Approve => "review-approve",
        Decision::RequestChanges => "review-request-changes",
        Decision::Reject => "review-reject",
    })
}

fn pledge_status_text(l: &L10n, st: PledgeStatus) -> String {
    l.t(match st {
        PledgeStatus::Held => "pledge-held",
        PledgeStatus::Withdrawn => "pledge-withdrawn",
        PledgeStatus::Paid => "pledge-paid",
        PledgeStatus::Refunded => "pledge-refunded",
    })
}

fn count_text(l: &L10n, c: &Count) -> String {
    match c {
        Count::About(n) => l.ta("count-about", &[("count", Arg::Count(*n as i64))]),
        Count::FewerThan(k) => l.ta("count-fewer-than", &[("k", Arg::Count(i64::from(*k)))]),
        Count::Withheld => l.t("count-withheld"),
    }
}

fn money(l: &L10n, m: &Money) -> String {
    l.money(m.minor, &m.currency)
}

/// What a proposal says: its description, options, goal, deadline and reward tiers.
fn content_block(l: &L10n, c: &Content) -> Markup {
    html! {
        p { (c.description) }
        @if !c.studies.is_empty() {
            p { (l.ta("proposal-studies", &[(
                "studies",
                c.studies.iter().map(u64::to_string).collect::<Vec<_>>().join(", ").as_str().into(),
            )])) }
        }
        p { (l.ta("proposal-goal", &[
            ("goal", money(l, &c.goal).as_str().into()),
            ("deadline", l.instant(c.deadline_ms).as_str().into()),
        ])) }
        @if !c.tiers.is_empty() {
            ul {
                @for t in &c.tiers {
                    li { (l.ta("proposal-tier", &[
                        ("name", (&t.name).into()),
                        ("min", l.money(t.min_minor, &c.goal.currency).as_str().into()),
                        ("reward", (&t.reward).into()),
                    ])) }
                }
            }
        }
    }
}

/// The ballot's choices and their counts as released.
fn ballot_block(l: &L10n, b: &BallotView) -> Markup {
    html! {
        @if !b.counts.is_empty() {
            div.scroll { table {
                thead { tr {
                    th scope="col" { (l.t("ballot-choice")) }
                    th scope="col" { (l.t("ballot-votes")) }
                } }
                tbody {
                    @for c in &b.counts {
                        tr {
                            td {
                                (c.label)
                                @if b.my_choice == Some(c.choice) { " " (l.t("ballot-mine")) }
                            }
                            td { (count_text(l, &c.count)) }
                        }
                    }
                }
            } }
        }
    }
}

/// Comments and suggestions, each under its signed name or its per-proposal pseudonym.
fn contributions_block(l: &L10n, cs: &[ContributionView]) -> Markup {
    html! {
        h3 { (l.t("contributions-title")) }
        @if cs.is_empty() {
            p { (l.t("none")) }
        }
        @for c in cs {
            article.card {
                p {
                    strong { (c.author) }
                    " · "
                    (l.t(match (c.kind, c.signed) {
                        (Kind::Comment, true) => "contribution-comment-signed",
                        (Kind::Comment, false) => "contribution-comment",
                        (Kind::Suggestion, true) => "contribution-suggestion-signed",
                        (Kind::Suggestion, false) => "contribution-suggestion",
                    }))
                    " · " (l.instant(c.at_ms))
                    " · " (l.ta("contribution-version", &[("version", Arg::Count(i64::from(c.version)))]))
                }
                blockquote { (c.text) }
                @if let Some(commitment) = &c.commitment {
                    p { (l.ta("contribution-commitment", &[("commitment", commitment.into())])) }
                }
            }
        }
    }
}

/// The escrow: pledged against the goal, how many pledges, and the settlement.
fn funding_block(l: &L10n, v: &ProposalView) -> Markup {
    html! {
        p { (l.ta("funding-pledged", &[
            ("pledged", money(l, &v.pledged).as_str().into()),
            ("goal", money(l, &v.content.goal).as_str().into()),
            ("count", Arg::Count(v.pledges as i64)),
        ])) }
        @if let Some(st) = &v.settlement {
            @let c = &v.content.goal.currency;
            p role="status" {
                @if st.funded {
                    (l.ta("settlement-funded", &[
                        ("held", l.money(st.held_minor, c).as_str().into()),
                        ("paid", l.money(st.paid_minor, c).as_str().into()),
                        ("commission", l.money(st.commission_minor, c).as_str().into()),
                        ("when", l.instant(st.at_ms).as_str().into()),
                    ]))
                } @else {
                    (l.ta("settlement-refunded", &[
                        ("held", l.money(st.held_minor, c).as_str().into()),
                        ("when", l.instant(st.at_ms).as_str().into()),
                    ]))
                }
            }
            @if st.funded && !v.content.tiers.is_empty() {
                ul {
                    @for (t, n) in v.content.tiers.iter().zip(&st.rewards) {
                        li { (l.ta("settlement-rewards", &[
                            ("tier", (&t.name).into()),
                            ("count", Arg::Count(*n as i64)),
                        ])) }
                    }
                }
            }
        }
    }
}

/// One public proposal as a member sees it, with their pledges and the forms to take part.
fn member_block(session: &Session, l: &L10n, v: &ProposalView, now: i64) -> Markup {
    let id = v.id;
    let open = v.status == Status::Public && v.settlement.is_none() && now < v.content.deadline_ms;
    html! {
        section.card aria-labelledby=(format!("proposal-{id}")) {
            h2 id=(format!("proposal-{id}")) {
                a href=(format!("/proposals/{id}")) { (v.content.title) }
            }
            p { (l.ta("proposal-by", &[
                ("organisation", (&v.organisation).into()),
                ("status", status_text(l, v.status).as_str().into()),
                ("version", Arg::Count(i64::from(v.version))),
            ])) }
            (content_block(l, &v.content))
            (ballot_block(l, &v.ballot))
            (funding_block(l, v))
            @if !v.my_pledges.is_empty() {
                h3 { (l.t("my-pledges-title")) }
                ul {
                    @for x in &v.my_pledges {
                        li {
                            (l.ta("my-pledge", &[
                                ("amount", money(l, &x.amount).as_str().into()),
                                ("status", pledge_status_text(l, x.status).as_str().into()),
                                ("version", Arg::Count(i64::from(x.version))),
                            ]))
                            @if let Some(t) = &x.tier { " · " (t) }
                            @if x.withdrawable {
                                @if x.changed { " " (l.t("pledge-changed-since")) }
                                form method="post" action=(format!("/proposals/{id}/pledges/{}/withdraw", x.id)) {
                                    (session.csrf_field())
                                    button.secondary type="submit" { (l.t("pledge-withdraw")) }
                                }
                            }
                        }
                    }
                }
            }
            (contributions_block(l, &v.contributions))
            @if open {
                @if !v.ballot.counts.is_empty() {
                    form.card method="post" action=(format!("/proposals/{id}/vote")) {
                        (session.csrf_field())
                        fieldset {
                            legend { (l.t("vote-legend")) }
                            @for c in &v.ballot.counts {
                                label {
                                    @if v.ballot.my_choice == Some(c.choice) {
                                        input type="radio" name="choice" value=(c.choice) required checked;
                                    } @else {
                                        input type="radio" name="choice" value=(c.choice) required;
                                    }
                                    " " (c.label)
                                }
                                " "
                            }
                        }
                        button type="submit" { (l.t("vote-submit")) }
                    }
                }
                form.card method="post" action=(format!("/proposals/{id}/pledges")) {
                    (session.csrf_field())
                    p {
                        label for=(format!("amount-{id}")) {
                            (l.ta("pledge-amount", &[("currency", (&v.content.goal.currency).into())]))
                        } " "
                        input id=(format!("amount-{id}")) name="amount" inputmode="decimal" required;
                    }
                    button type="submit" { (l.t("pledge-submit")) }
                }
                form.card method="post" action=(format!("/proposals/{id}/contributions")) {
                    (session.csrf_field())
                    fieldset {
                        legend { (l.t("contribute-legend")) }
                        label {
                            input type="radio" name="kind" value="comment" checked;
                            " " (l.t("contribute-comment"))
                        }
                        " "
                        label {
                            input type="radio" name="kind" value="suggestion";
                            " " (l.t("contribute-suggestion"))
                        }
                    }
                    p {
                        label for=(format!("text-{id}")) { (l.t("contribute-text")) }
                        br;
                        textarea id=(format!("text-{id}")) name="text" rows="3" cols="40" required {}
                    }
                    p {
                        label {
                            input type="checkbox" name="sign" value="on";
                            " " (l.t("contribute-sign"))
                        }
                    }
                    p {
                        label for=(format!("name-{id}")) { (l.t("contribute-name")) } " "
                        input id=(format!("name-{id}")) name="name" value=(session.account.name);
                    }
                    p { (l.t("contribute-pseudonym")) }
                    button type="submit" { (l.t("contribute-submit")) }
                }
            }
        }
    }
}

/// The proposals' rows for the parties who follow them from a table.
fn proposals_table(l: &L10n, views: &[ProposalView]) -> Markup {
    html! {
        div.scroll { table {
            thead { tr {
                th scope="col" { (l.t("proposal-title")) }
                th scope="col" { (l.t("proposal-organisation")) }
                th scope="col" { (l.t("proposal-status")) }
                th scope="col" { (l.t("proposal-funding")) }
            } }
            tbody {
                @for v in views {
                    tr {
                        td { a href=(format!("/proposals/{}", v.id)) { (v.content.title) } }
                        td { (v.organisation) }
                        td { (status_text(l, v.status)) }
                        td { (money(l, &v.pledged)) " / " (money(l, &v.content.goal)) }
                    }
                }
            }
        } }
    }
}

/// An organisation's proposals, for its home page.
pub fn proposals_section(s: &AppState, session: &Session, l: &L10n) -> Result<Markup, PageError> {
    let who = reader(session)?;
    let store = s.pds.store.as_ref();
    let own = Proposals::Of(session.account.name.clone());
    let (rows, next) = cut(store.proposals_page(&own, rows_from(None))?, |p| p.id);
    let views = codesign::views(store, rows, &who)?;
    Ok(html! {
        section aria-labelledby="org-proposals" {
            h2 id="org-proposals" { (l.t("org-proposals-title")) }
            (proposals_table(l, &views))
            (older(l, "/proposals", next))
            p { a href="/proposals" { (l.t("org-proposals-new")) } }
        }
    })
}

/// The fields of a proposal's form, filled with `c` (a new version) or empty.
fn content_fields(l: &L10n, prefix: &str, c: Option<&Content>, contest: bool) -> Markup {
    let id = |f: &str| format!("{prefix}-{f}");
    let options = c.map(|c| c.options.join("\n")).unwrap_or_default();
    let studies = c
        .map(|c| {
            c.studies
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let goal = c
        .map(|c| {
            format!(
                "{} {}",
                plain(c.goal.minor, &c.goal.currency),
                c.goal.currency
            )
        })
        .unwrap_or_default();
    let deadline = c
        .map(|c| insitu_formats::time::format_date(c.deadline_ms))
        .unwrap_or_default();
    let tiers = c
        .map(|c| {
            c.tiers
                .iter()
                .map(|t| {
                    let min = plain(t.min_minor, &c.goal.currency);
                    format!("{}; {min}; {}", t.name, t.reward)
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    html! {
        p {
            label for=(id("title")) { (l.t("form-title")) } br;
            input id=(id("title")) name="title" required value=(c.map(|c| c.title.as_str()).unwrap_or(""));
        }
        p {
            label for=(id("description")) { (l.t("form-description")) } br;
            textarea id=(id("description")) name="description" rows="4" cols="50" required {
                (c.map(|c| c.description.as_str()).unwrap_or(""))
            }
        }
        p {
            label for=(id("options")) { (l.t("form-options")) } br;
            textarea id=(id("options")) name="options" rows="3" cols="50" { (options) }
        }
        p {
            label for=(id("studies")) { (l.t("form-studies")) } " "
            input id=(id("studies")) name="studies" value=(studies);
        }
        p {
            label for=(id("goal")) { (l.t("form-goal")) } " "
            input id=(id("goal")) name="goal" required value=(goal) placeholder="1200.00 EUR";
        }
        p {
            label for=(id("deadline")) { (l.t("form-deadline")) } " "
            input id=(id("deadline")) name="deadline" type="date" required value=(deadline);
        }
        p {
            label for=(id("tiers")) { (l.t("form-tiers")) } br;
            textarea id=(id("tiers")) name="tiers" rows="3" cols="50" { (tiers) }
        }
        @if contest {
            p {
                label for=(id("contest")) { (l.t("form-contest")) } " "
                input id=(id("contest")) name="contest";
            }
        }
    }
}

/// The visitor's proposals page (see the module's doc).
pub(super) async fn proposals(
    State(s): State<AppState>,
    session: Session,
    PageQuery(q): PageQuery<After>,
) -> PageResult {
    session.may(Action::ReadProposals)?;
    let who = reader(&session)?;
    let l = L10n::current();
    let store = s.pds.store.as_ref();
    let (rows, next) = cut(codesign::list(store, &who, rows_from(q.after))?, |p| p.id);
    let views = codesign::views(store, rows, &who)?;
    let now = s.now_ms();
    // The contests the visible proposals compete in, each with its ballot and whether one of
    // its proposals still takes votes.
    let mut contests = Vec::new();
    if let Reader::Person(_) = who {
        let names: std::collections::BTreeSet<&String> =
            views.iter().filter_map(|v| v.contest.as_ref()).collect();
        for name in names {
            let ballot = codesign::Ballot::Contest(name.clone());
            let open = views.iter().any(|v| {
                v.contest.as_ref() == Some(name)
                    && v.status == Status::Public
                    && v.settlement.is_none()
                    && now < v.content.deadline_ms
            });
            contests.push((
                name.clone(),
                codesign::ballot_view(store, &ballot, &who)?,
                open,
            ));
        }
    }
    let body = match session.account.role {
        Role::Person => html! {
            h1 { (l.t("proposals-title")) }
            p { (l.t("proposals-intro")) }
            @if views.is_empty() { p { (l.t("none")) } }
            @for (name, ballot, open) in &contests {
                section.card aria-labelledby=(format!("contest-{name}")) {
                    h2 id=(format!("contest-{name}")) { (l.ta("contest-title", &[("contest", name.as_str().into())])) }
                    (ballot_block(&l, ballot))
                    @if *open {
                        form method="post" action=(format!("/contests/{name}/vote")) {
                            (session.csrf_field())
                            fieldset {
                                legend { (l.t("contest-legend")) }
                                @for c in &ballot.counts {
                                    label {
                                        @if ballot.my_choice == Some(c.choice) {
                                            input type="radio" name="choice" value=(c.choice) required checked;
                                        } @else {
                                            input type="radio" name="choice" value=(c.choice) required;
                                        }
                                        " " (c.label)
                                    }
                                    " "
                                }
                            }
                            button type="submit" { (l.t("vote-submit")) }
                        }
                    }
                }
            }
            @for v in &views { (member_block(&session, &l, v, now)) }
            (older(&l, "/proposals", next))
        },
        Role::Organisation => html! {
            h1 { (l.t("org-proposals-title")) }
            (proposals_table(&l, &views))
            (older(&l, "/proposals", next))
            form.card method="post" action="/proposals" {
                (session.csrf_field())
                h2 { (l.t("org-proposals-new")) }
                (content_fields(&l, "new", None, true))
                button type="submit" { (l.t("form-submit")) }
            }
        },
        _ => html! {
            h1 { (l.t("all-proposals-title")) }
            (proposals_table(&l, &views))
            (older(&l, "/proposals", next))
        },
    };
    Ok(page(&l.t("proposals-title"), Some(&session), body).into_response())
}

/// One proposal as the visitor sees it (see the module's doc).
pub(super) async fn proposal(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
) -> PageResult {
    session.may(Action::ReadProposals)?;
    let who = reader(&session)?;
    let l = L10n::current();
    let v = codesign::view(s.pds.store.as_ref(), id, &who)?;
    let now = s.now_ms();
    let own = matches!(&who, Reader::Organisation(o) if *o == v.organisation);
    let body = match &who {
        Reader::Person(_) => html! {
            h1 { (l.t("proposals-title")) }
            (member_block(&session, &l, &v, now))
        },
        _ => html! {
            h1 { (v.content.title) }
            p { (l.ta("proposal-by", &[
                ("organisation", (&v.organisation).into()),
                ("status", status_text(&l, v.status).as_str().into()),
                ("version", Arg::Count(i64::from(v.version))),
            ])) }
            @if let Some(c) = &v.contest {
                p { (l.ta("proposal-contest", &[("contest", c.into())])) }
            }
            (content_block(&l, &v.content))
            section aria-labelledby="versions" {
                h2 id="versions" { (l.t("versions-title")) }
                div.scroll { table {
                    thead { tr {
                        th scope="col" { (l.t("version")) }
                        th scope="col" { (l.t("version-when")) }
                        th scope="col" { (l.t("version-commitment")) }
                    } }
                    tbody {
                        @for x in &v.versions {
                            tr {
                                td { (x.number) }
                                td { (l.instant(x.at_ms)) }
                                td { code { (x.commitment) } }
                            }
                        }
                    }
                } }
            }
            section aria-labelledby="reviews" {
                h2 id="reviews" { (l.t("reviews-title")) }
                @if v.reviews.is_empty() { p { (l.t("none")) } }
                ul {
                    @for r in &v.reviews {
                        li {
                            (l.ta("review-line", &[
                                ("version", Arg::Count(i64::from(r.version))),
                                ("decision", decision_text(&l, r.decision).as_str().into()),
                                ("officer", (&r.officer).into()),
                                ("when", l.instant(r.at_ms).as_str().into()),
                            ]))
                            @if !r.reasons.is_empty() { blockquote { (r.reasons) } }
                        }
                    }
                }
            }
            section aria-labelledby="votes" {
                h2 id="votes" { (l.t("votes-title")) }
                (ballot_block(&l, &v.ballot))
                (funding_block(&l, &v))
            }
            section { (contributions_block(&l, &v.contributions)) }
            @if own && v.settlement.is_none() && v.status != Status::Rejected {
                form.card method="post" action=(format!("/proposals/{id}/versions")) {
                    (session.csrf_field())
                    h2 { (l.t("new-version-title")) }
                    (content_fields(&l, "version", Some(&v.content), false))
                    button type="submit" { (l.t("form-submit-version")) }
                }
            }
        },
    };
    Ok(page(&v.content.title, Some(&session), body).into_response())
}

/// The patent officer's queue, a decision form per proposal.
pub(super) async fn reviews(
    State(s): State<AppState>,
    session: Session,
    PageQuery(q): PageQuery<After>,
) -> PageResult {
    session.may(Action::Review)?;
    let who = reader(&session)?;
    let l = L10n::current();
    let store = s.pds.store.as_ref();
    let (rows, next) = cut(codesign::queue(store, rows_from(q.after))?, |p| p.id);
    let views = codesign::views(store, rows, &who)?;
    let body = html! {
        h1 { (l.t("reviews-queue-title")) }
        @if views.is_empty() { p { (l.t("none")) } }
        @for v in &views {
            section.card aria-labelledby=(format!("queued-{}", v.id)) {
                h2 id=(format!("queued-{}", v.id)) {
                    a href=(format!("/proposals/{}", v.id)) { (v.content.title) }
                }
                p { (l.ta("proposal-by", &[
                    ("organisation", (&v.organisation).into()),
                    ("status", status_text(&l, v.status).as_str().into()),
                    ("version", Arg::Count(i64::from(v.version))),
                ])) }
                (content_block(&l, &v.content))
                form method="post" action=(format!("/proposals/{}/review", v.id)) {
                    (session.csrf_field())
                    // The version shown: the decision is refused if the proposal changed since.
                    input type="hidden" name="version" value=(v.version);
                    fieldset {
                        legend { (l.t("review-legend")) }
                        @for (value, d) in [("approve", Decision::Approve), ("request_changes", Decision::RequestChanges), ("reject", Decision::Reject)] {
                            label {
                                input type="radio" name="decision" value=(value) required;
                                " " (decision_text(&l, d))
                            }
                            " "
                        }
                    }
                    p {
                        label for=(format!("reasons-{}", v.id)) { (l.t("review-reasons")) } br;
                        textarea id=(format!("reasons-{}", v.id)) name="reasons" rows="3" cols="50" {}
                    }
                    button type="submit" { (l.t("review-submit")) }
                }
            }
        }
        (older(&l, "/reviews", next))
    };
    Ok(page(&l.t("reviews-queue-title"), Some(&session), body).into_response())
}

/// Minor units as a form writes them back: `1200.00` (the currency's own digits).
fn plain(minor: i64, currency: &str) -> String {
    let digits = insitu_formats::money::exponent(currency) as u32;
    let unit = 10i64.pow(digits);
    let (sign, abs) = if minor < 0 {
        ("-", -minor)
    } else {
        ("", minor)
    };
    if digits == 0 {
        format!("{sign}{abs}")
    } else {
        format!(
            "{sign}{}.{:0w$}",
            abs / unit,
            abs % unit,
            w = digits as usize
        )
    }
}
