//! The co-design pages' forms: a proposal (submit, a new version), the officer's decision, a
//! member's contribution, vote, pledge and withdrawal. Each checks its CSRF token and the same
//! `Action` as the API route that does the same thing, then calls the same core function.
//!
//! May touch: the store, through `insitu_core::codesign` only, off the async workers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use super::super::{AppState, CsrfForm, Form, PageError, PageResult, Path, Session, blocking};
use crate::auth::Action;
use insitu_core::codesign::{self, Content, Decision, Kind, Reader, Tier};
use insitu_core::output::Money;

fn bad(key: &'static str, value: &str) -> PageError {
    PageError::say_with(StatusCode::BAD_REQUEST, key, &[("value", value.into())])
}

/// An amount written on a form (`12.50`, `12,50`, or with its currency) in `currency`.
fn amount(raw: &str, currency: &str) -> Result<Money, PageError> {
    let raw = raw.trim();
    let written = if raw.chars().any(|c| c.is_ascii_alphabetic()) {
        raw.replace(',', ".")
    } else {
        format!("{} {currency}", raw.replace(',', "."))
    };
    insitu_formats::money::parse_money(&written)
        .map(|(minor, currency)| Money { minor, currency })
        .map_err(|_| bad("error-not-an-amount", raw))
}

#[derive(serde::Deserialize)]
pub(in crate::pages) struct ContentForm {
    csrf: Option<String>,
    title: String,
    description: String,
    #[serde(default)]
    options: String,
    #[serde(default)]
    studies: String,
    goal: String,
    deadline: String,
    #[serde(default)]
    tiers: String,
    #[serde(default)]
    contest: String,
}

impl ContentForm {
    fn content(&self) -> Result<Content, PageError> {
        let lines = |s: &str| -> Vec<String> {
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        let goal = amount(&self.goal, "EUR")?;
        let mut studies = Vec::new();
        for w in self
            .studies
            .split([' ', ',', ';'])
            .filter(|w| !w.is_empty())
        {
            studies.push(w.parse().map_err(|_| bad("error-not-a-study", w))?);
        }
        let mut tiers = Vec::new();
        for line in lines(&self.tiers) {
            let parts: Vec<&str> = line.split(';').map(str::trim).collect();
            let [name, min, reward] = parts[..] else {
                return Err(bad("error-not-a-tier", &line));
            };
            tiers.push(Tier {
                name: name.to_string(),
                min_minor: amount(min, &goal.currency)?.minor,
                reward: reward.to_string(),
            });
        }
        let deadline_ms = insitu_formats::time::parse_time(self.deadline.trim())
            .map_err(|_| bad("error-not-a-date", &self.deadline))?;
        Ok(Content {
            title: self.title.clone(),
            description: self.description.clone(),
            options: lines(&self.options),
            studies,
            goal,
            deadline_ms,
            tiers,
        })
    }
}

pub(in crate::pages) async fn submit(
    State(s): State<AppState>,
    session: Session,
    Form(f): Form<ContentForm>,
) -> PageResult {
    session.allow(Action::Propose, f.csrf.as_deref())?;
    let content = f.content()?;
    let contest = Some(f.contest.trim().to_string()).filter(|c| !c.is_empty());
    let org = session.account.name.clone();
    let p = blocking(move || {
        Ok(codesign::submit(
            s.pds.store.as_ref(),
            &org,
            contest,
            content,
        )?)
    })
    .await?;
    Ok(Redirect::to(&format!("/proposals/{}", p.id)).into_response())
}

pub(in crate::pages) async fn revise(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
    Form(f): Form<ContentForm>,
) -> PageResult {
    session.allow(Action::Propose, f.csrf.as_deref())?;
    let content = f.content()?;
    let org = session.account.name.clone();
    blocking(move || Ok(codesign::revise(s.pds.store.as_ref(), id, &org, content)?)).await?;
    Ok(Redirect::to(&format!("/proposals/{id}")).into_response())
}

#[derive(serde::Deserialize)]
pub(in crate::pages) struct ReviewForm {
    csrf: Option<String>,
    /// The version the page showed.
    #[serde(default)]
    version: Option<u32>,
    decision: String,
    #[serde(default)]
    reasons: String,
}

pub(in crate::pages) async fn review(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
    Form(f): Form<ReviewForm>,
) -> PageResult {
    session.allow(Action::Review, f.csrf.as_deref())?;
    let decision = match f.decision.as_str() {
        "approve" => Decision::Approve,
        "request_changes" => Decision::RequestChanges,
        "reject" => Decision::Reject,
        other => return Err(bad("error-not-a-decision", other)),
    };
    let officer = session.account.name.clone();
    blocking(move || {
        Ok(codesign::review_version(
            s.pds.store.as_ref(),
            id,
            &officer,
            f.version,
            decision,
            &f.reasons,
        )?)
    })
    .await?;
    Ok(Redirect::to("/reviews").into_response())
}

/// The person taking part, once the form's action is allowed.
fn member(session: &Session) -> Result<u64, PageError> {
    session.person().ok_or_else(PageError::not_found)
}

#[derive(serde::Deserialize)]
pub(in crate::pages) struct ContributionForm {
    csrf: Option<String>,
    #[serde(default)]
    kind: String,
    text: String,
    #[serde(default)]
    sign: Option<String>,
    #[serde(default)]
    name: String,
}

pub(in crate::pages) async fn contribute(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
    Form(f): Form<ContributionForm>,
) -> PageResult {
    session.allow(Action::Participate, f.csrf.as_deref())?;
    let me = member(&session)?;
    let kind = match f.kind.as_str() {
        "suggestion" => Kind::Suggestion,
        _ => Kind::Comment,
    };
    // Signed only when the member ticked the box: with the name they wrote, else their own.
    let sign = f.sign.is_some().then(|| {
        let n = f.name.trim();
        if n.is_empty() {
            session.account.name.clone()
        } else {
            n.to_string()
        }
    });
    blocking(move || {
        Ok(codesign::contribute(
            s.pds.store.as_ref(),
            id,
            me,
            kind,
            &f.text,
            sign.as_deref(),
        )?)
    })
    .await?;
    Ok(Redirect::to("/proposals").into_response())
}

#[derive(serde::Deserialize)]
pub(in crate::pages) struct VoteForm {
    csrf: Option<String>,
    choice: String,
}

pub(in crate::pages) async fn vote(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
    Form(f): Form<VoteForm>,
) -> PageResult {
    cast(s, session, codesign::Ballot::Options(id), f).await
}

/// A vote between the proposals of a contest (its name in the path).
pub(in crate::pages) async fn contest_vote(
    State(s): State<AppState>,
    session: Session,
    Path(name): Path<String>,
    Form(f): Form<VoteForm>,
) -> PageResult {
    cast(s, session, codesign::Ballot::Contest(name), f).await
}

/// The member's vote on `ballot`, from its form.
async fn cast(s: AppState, session: Session, ballot: codesign::Ballot, f: VoteForm) -> PageResult {
    session.allow(Action::Participate, f.csrf.as_deref())?;
    let me = member(&session)?;
    let choice: u64 = f
        .choice
        .trim()
        .parse()
        .map_err(|_| bad("error-not-a-choice", &f.choice))?;
    blocking(move || Ok(codesign::vote(s.pds.store.as_ref(), &ballot, me, choice)?)).await?;
    Ok(Redirect::to("/proposals").into_response())
}

#[derive(serde::Deserialize)]
pub(in crate::pages) struct PledgeForm {
    csrf: Option<String>,
    amount: String,
}

pub(in crate::pages) async fn pledge(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
    Form(f): Form<PledgeForm>,
) -> PageResult {
    session.allow(Action::Participate, f.csrf.as_deref())?;
    let me = member(&session)?;
    let store = s.pds.store.clone();
    blocking(move || {
        let p = codesign::get(store.as_ref(), id, &Reader::Person(me))?;
        let currency = &p.content().goal.currency;
        let m = amount(&f.amount, currency)?;
        if m.currency != *currency {
            return Err(bad("error-not-an-amount", &f.amount));
        }
        Ok(codesign::pledge(store.as_ref(), id, me, m.minor)?)
    })
    .await?;
    Ok(Redirect::to("/proposals").into_response())
}

pub(in crate::pages) async fn withdraw(
    State(s): State<AppState>,
    session: Session,
    Path((id, pledge)): Path<(u64, u64)>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    session.allow(Action::Participate, f.csrf.as_deref())?;
    let me = member(&session)?;
    blocking(move || Ok(codesign::withdraw(s.pds.store.as_ref(), id, pledge, me)?)).await?;
    Ok(Redirect::to("/proposals").into_response())
}
