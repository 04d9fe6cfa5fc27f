//! The web pages: server-rendered HTML, no JavaScript, in French and English. A person signs
//! in, reads a request's consent screen and approves (narrowing fields, months, days) or denies
//! it, sees their grants and revokes one, runs a plugin under a grant, imports a file, and reads
//! their access history. An organisation sees its requests and its runs, with the outputs
//! addressed to it.
//!
//! - Templates are maud's `html!` ([`layout`] has the one layout and style sheet): every value
//!   is escaped unless it is wrapped in `PreEscaped`, which only the style sheet, the
//!   doctype and the pictures' SVG ([`charts`]: plotters escapes every text it draws) are.
//! - Every visible string comes from the Fluent catalogues through [`locale::L10n`]; numbers,
//!   money and dates are written the visitor's way there too.
//! - Pages per concern: [`person`] (a person's home page), [`organisation`] (an organisation's,
//!   a developer's, an operator's), [`consent`] (the consent screen and its answers), [`runs`]
//!   (running under a grant and a run's page), [`codesign`] (proposals, pledges and the
//!   patent officer's queue); their pictures are drawn by [`charts`], a person's spending read
//!   by [`spending`].
//!
//! Sessions: signing in issues a one-day token whose secret is the `insitu_session` cookie
//! (`HttpOnly; Secure; SameSite=Strict`). Every form carries a CSRF token derived from the
//! session secret, checked on every POST; the sign-in form, which has no session yet, is
//! refused when a browser's `Origin` is another site. The language switch is a plain link
//! (`/language/{fr,en}`) that sets the `insitu_lang` cookie: it changes nothing but the
//! language, so it needs no token.

pub mod charts;
pub mod codesign;
pub mod collections;
pub mod consent;
pub mod data;
pub mod error;
pub mod fields;
pub mod history;
pub mod layout;
pub mod locale;
pub mod notes;
pub mod organisation;
pub mod person;
pub mod runs;
pub mod spending;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Router, routing::get, routing::post};
use maud::{Markup, html};
use sha2::{Digest, Sha256};

use super::AppState;
use super::auth::{Action, Caller, TokenKind};
use super::extract::page::{Form, Multipart, Path, Query as PageQuery};
use super::limit::{ClientAddr, LoginError};
pub use error::PageError;
use insitu_core::account::{self, Role};
use insitu_core::audit::hex;
use insitu_core::import::{self, ImportOptions};
pub use layout::STYLE;
use layout::page;
use locale::{Arg, L10n, Lang};

const COOKIE_NAME: &str = "insitu_session";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/language/{lang}", get(language))
        .route("/requests/{id}", get(consent::consent))
        .route("/requests/{id}/approve", post(consent::approve))
        .route("/requests/{id}/deny", post(consent::deny))
        .route("/grants/{id}/revoke", post(revoke))
        .route("/grants/{id}/run", post(runs::run))
        .route("/runs", get(runs_list))
        .route("/runs/{id}", get(runs::run_page))
        .route("/requests", get(requests_list))
        .route("/grants", get(grants_list))
        .route("/receptions", get(receptions_list))
        .route("/invitations", get(invitations_list))
        .route("/earnings", get(earnings_list))
        .route("/jobs", get(jobs_list))
        .route("/history", get(history))
        .route("/data/{collection}", get(data::browse))
        // The one page upload: the router gives pages [`super::MAX_FORM`].
        .route(
            "/import",
            post(import_file).layer(axum::extract::DefaultBodyLimit::max(super::MAX_UPLOAD)),
        )
        .route("/export", get(export))
        .route("/erase", post(erase))
        .route("/invitations/{id}/answer", post(person::answer_invitation))
        .route("/contacts/{id}/answer", post(person::answer_contact))
        .route("/invoice.csv", get(organisation::invoice))
        .route(
            "/proposals",
            get(codesign::proposals).post(codesign::submit),
        )
        .route("/proposals/{id}", get(codesign::proposal))
        .route("/proposals/{id}/versions", post(codesign::revise))
        .route("/proposals/{id}/review", post(codesign::review))
        .route("/proposals/{id}/contributions", post(codesign::contribute))
        .route("/proposals/{id}/vote", post(codesign::vote))
        .route("/contests/{name}/vote", post(codesign::contest_vote))
        .route("/proposals/{id}/pledges", post(codesign::pledge))
        .route(
            "/proposals/{id}/pledges/{pledge}/withdraw",
            post(codesign::withdraw),
        )
        .route("/reviews", get(codesign::reviews))
}

/// `party`'s ledger entries dated until now (read from the store's index on the party): a
/// job's postings are dated at its release time, and are shown to nobody before it, whenever
/// the job closed (which depends on its members' data).
fn visible_ledger(
    s: &AppState,
    party: &insitu_core::ledger::Party,
) -> Result<Vec<insitu_core::ledger::Entry>, PageError> {
    let now = s.now_ms();
    let mut entries = s.pds.store.ledger_of(party)?;
    entries.retain(|e| e.at_ms <= now);
    Ok(entries)
}

/// A signed-in page visitor: a [`Caller`] (same ownership rules as the API) and the CSRF token
/// of their session.
pub struct Session {
    pub caller: Caller,
    pub csrf: String,
}

impl std::ops::Deref for Session {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.caller
    }
}

fn csrf_for(secret: &str) -> String {
    hex(&Sha256::digest(format!("insitu-csrf:{secret}").as_bytes()))
}

fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("insitu_session="))
        .map(str::to_string)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/login").into_response();
        let secret = cookie_secret(&parts.headers).ok_or_else(to_login)?;
        // Only a sign-in session: an API token sent as the cookie is not one.
        match super::auth::authenticate(state, &secret, TokenKind::Session) {
            Ok(Some(caller)) => Ok(Session {
                caller,
                csrf: csrf_for(&secret),
            }),
            Ok(None) => Err(to_login()),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

impl Session {
    /// For a form: its CSRF token, then the role and scope `action` needs (the same table as
    /// the API's).
    fn allow(&self, action: Action, form_csrf: Option<&str>) -> Result<(), PageError> {
        self.check(form_csrf)?;
        Ok(self.may(action)?)
    }

    fn check(&self, form_csrf: Option<&str>) -> Result<(), PageError> {
        // Both are hex digests of the same length; compare without an early exit.
        let given = form_csrf.unwrap_or("").as_bytes();
        let want = self.csrf.as_bytes();
        let same = given.len() == want.len()
            && given
                .iter()
                .zip(want)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(PageError::say(StatusCode::FORBIDDEN, "error-stale-form"))
        }
    }

    /// The hidden field every form of a signed-in page carries.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }
}

/// The pages' answer to a method a path does not take (axum adds `Allow`).
pub async fn method_not_allowed() -> PageError {
    PageError::say(StatusCode::METHOD_NOT_ALLOWED, "error-method")
}

type PageResult = Result<Response, PageError>;

/// Runs blocking store work (every durable commit) off the async workers, as the API does.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PageError> + Send + 'static,
) -> Result<T, PageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(PageError::internal)?
}

// ---- the language switch -------------------------------------------------------------------

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sets the language cookie and goes back to the page the switch was on (a path on this site
/// only: `//host` and `/\host` would leave it). Signed in, the choice is also kept on the
/// account, so that the next sign-in, on any device, speaks it. A GET that writes: the session
/// cookie is `SameSite=Strict`, so a link from another site arrives without it and changes no
/// account.
async fn language(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(tag): Path<String>,
    Query(q): Query<Back>,
) -> PageResult {
    let Some(lang) = Lang::from_tag(&tag).filter(|l| l.tag() == tag) else {
        return Err(PageError::not_found());
    };
    if let Some(secret) = cookie_secret(&headers) {
        blocking(move || {
            if let Ok(Some(caller)) = super::auth::authenticate(&s, &secret, TokenKind::Session) {
                s.pds
                    .store
                    .set_language(caller.account.id, Some(lang.tag()))?;
            }
            Ok(())
        })
        .await?;
    }
    let back = q
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=31536000",
        locale::COOKIE_NAME,
        lang.tag()
    );
    Ok(([(SET_COOKIE, cookie)], Redirect::to(&back)).into_response())
}

// ---- sign in and out -----------------------------------------------------------------------

fn login_body(l: &L10n, failed: bool) -> Markup {
    html! {
        h1 { (l.t("login-title")) }
        @if failed {
            p role="alert" { (l.t("login-failed")) }
        }
        form.card method="post" action="/login" {
            p {
                label for="name" { (l.t("login-name")) }
                input id="name" name="name" autocomplete="username" required;
            }
            p {
                label for="password" { (l.t("login-password")) }
                input id="password" name="password" type="password" autocomplete="current-password" required;
            }
            p { button type="submit" { (l.t("login-submit")) } }
        }
    }
}

async fn login_form() -> Html<String> {
    let l = L10n::current();
    page(&l.t("login-page-title"), None, login_body(&l, false))
}

#[derive(serde::Deserialize)]
struct LoginForm {
    name: String,
    password: String,
}

/// Whether a browser's `Origin` names this server. The sign-in form has no session to derive
/// a CSRF token from, so a cross-site sign-in (login CSRF) is refused by its origin instead.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
}

async fn login(
    State(s): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> PageResult {
    if !same_origin(&headers) {
        return Err(PageError::say(StatusCode::FORBIDDEN, "error-login-origin"));
    }
    let result = blocking(move || {
        let store = s.pds.store.as_ref();
        let account = match s.limits.logins.login(store, &f.name, &f.password, address) {
            Ok(a) => a,
            Err(LoginError::Account(account::AccountError::BadCredentials)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let language = account.language.clone();
        Ok(Some((account::issue_session(store, &account)?.0, language)))
    })
    .await?;
    let Some((secret, language)) = result else {
        let l = L10n::current();
        let body = login_body(&l, true);
        return Ok((
            StatusCode::UNAUTHORIZED,
            page(&l.t("login-page-title"), None, body),
        )
            .into_response());
    };
    let cookie =
        format!("{COOKIE_NAME}={secret}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=86400");
    // The account's language, when it has one, becomes this browser's too.
    let lang = language.and_then(|l| Lang::from_tag(&l)).map(|l| {
        format!(
            "{}={}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=31536000",
            locale::COOKIE_NAME,
            l.tag()
        )
    });
    let mut response = ([(SET_COOKIE, cookie)], Redirect::to("/")).into_response();
    if let Some(lang) = lang
        && let Ok(v) = axum::http::HeaderValue::from_str(&lang)
    {
        response.headers_mut().append(SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(serde::Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

async fn logout(
    State(s): State<AppState>,
    session: Session,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    session.check(f.csrf.as_deref())?;
    let token = session.token.id;
    blocking(move || Ok(s.pds.store.revoke_token(token, s.now_ms())?)).await?;
    let cookie = format!("{COOKIE_NAME}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    Ok(([(SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

// ---- the home page -------------------------------------------------------------------------

/// Each role's own page: a person's ([`person::home`]), an organisation's
/// ([`organisation::home`]), a developer's or operator's ([`organisation::api_home`]).
async fn home(State(s): State<AppState>, session: Session) -> PageResult {
    session.may(Action::Read)?;
    let l = L10n::current();
    let body = match (session.account.role, session.person()) {
        (Role::Person, Some(p)) => person::home(&s, &session, &l, p)?,
        (Role::Organisation, _) => organisation::home(&s, &session, &l)?,
        _ => organisation::api_home(&s, &session, &l)?,
    };
    Ok(page(&l.t("home-page-title"), Some(&session), body).into_response())
}

/// Rows in a page of a listing on the pages (the API's default is larger: these are read on a
/// phone).
pub const ROWS: usize = 20;

/// `?after=N`: the page of a listing that follows row `N` (newest first); the newest without
/// it. A value that is not a number is a 400 page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct After {
    pub after: Option<u64>,
}

/// The store page to read for a listing shown from `after`: one row more than it shows, to know
/// whether an older page exists.
pub fn rows_from(after: Option<u64>) -> insitu_core::store::Page {
    insitu_core::store::Page {
        before: after,
        limit: ROWS + 1,
    }
}

/// `rows` (read with [`rows_from`]) cut to [`ROWS`], and the cursor of the older page if there
/// is one: the last row shown.
pub fn cut<T>(mut rows: Vec<T>, id: impl Fn(&T) -> u64) -> (Vec<T>, Option<u64>) {
    let more = rows.len() > ROWS;
    rows.truncate(ROWS);
    let next = rows.last().filter(|_| more).map(id);
    (rows, next)
}

/// The link to the older page of the listing at `path`, if there is one.
pub fn older(l: &L10n, path: &str, next: Option<u64>) -> Markup {
    html! {
        @if let Some(n) = next {
            p { a href=(format!("{path}?after={n}")) rel="next" { (l.t("older")) } }
        }
    }
}

/// A listing's own page: its title, then the section the home page shows.
fn listing_page(session: &Session, title: &str, section: Markup) -> PageResult {
    let body = html! {
        h1 { (title) }
        (section)
    };
    Ok(page(title, Some(session), body).into_response())
}

/// The visitor's person, for a page only a person has; any other visitor is not found.
fn own_person(session: &Session) -> Result<insitu_core::store::PersonId, PageError> {
    session.person().ok_or_else(PageError::not_found)
}

/// A page of the visitor's requests: asking them (person), or made by them (organisation).
async fn requests_list(
    State(s): State<AppState>,
    session: Session,
    PageQuery(q): PageQuery<After>,
) -> PageResult {
    session.may(Action::ReadConsent)?;
    let l = L10n::current();
    let (title, body) = match (session.account.role, session.person()) {
        (Role::Person, Some(p)) => (
            l.t("requests-title"),
            person::requests_section(&s, &l, p, q.after)?,
        ),
        (Role::Organisation, _) => (
            l.t("org-requests-title"),
            organisation::requests_section(&s, &session, &l, q.after)?,
        ),
        _ => return Err(PageError::not_found()),
    };
    listing_page(&session, &title, body)
}

/// A page of a person's ledger lines (their earnings and what they paid), newest first.
async fn earnings_list(
    State(s): State<AppState>,
    session: Session,
    PageQuery(q): PageQuery<After>,
) -> PageResult {
    session.may(Action::PersonPages)?;
    let p = own_person(&session)?;
    let l = L10n::current();
    let title = l.t("earnings-title");
    let body = person::earnings_section(&s, &l, p, q.after)?;
    listing_page(&session, &title, body)
}

/// A page of the grants a person gave.
async fn grants_list(
    State(s): State<AppState>,
    session: Session,
    PageQuery(q): PageQuery<After>,
) -> PageResult {
    session.may(Action::ReadConsent)?;
    let p = own_person(&session)?;
    let l = L10n::current();
    let title = l.t("grants-title");
    let body = person::grants_section(&s, &session, &l, p, q.after)?;
    listing_page(&session, &title, body)
}

/// A page of the runs the visitor sees (`runs::runs_table`).
async fn runs_list(
    State(s): State<AppState>,
    session: Session,
    PageQuery(q): PageQuery<After>,
) -> PageResult {
    session.may(Action::ReadRuns)?;
    let l = L10n::current();
    let title = match session.account.role {
        Role::Person => l.t("runs-on-my-data"),
        _ => l.t("org-runs-title"),
    };
    let body = runs::runs_table(&s, &session, &l, q.after)?;
    listing_page(&session, &title, body)
}

/// A page of what organisations may return to a person.
async fn receptions_list(
    State(s): State<AppState>,
    session: Session,
    PageQuery(q): PageQuery<After>,
) -> PageResult {
    session.may(Action::ReadReceptions)?;
    let p = own_person(&session)?;
    let l = L10n::current();
    let title = l.t("returns-title");
    let body = person::receptions_section(&s, &l, p, q.after)?;
    listing_page(&session, &title, body)
}

/// A page of an organisation's campaigns and studies.
async fn jobs_list(
    State(s): State<AppState>,
    session: Session,
    PageQuery(q): PageQuery<After>,
) -> PageResult {
    session.may(Action::ReadJob)?;
    let l = L10n::current();
    let title = l.t("jobs-title");
    let body = organisation::jobs_section(&s, &session, &l, q.after)?;
    listing_page(&session, &title, body)
}

/// A page of a person's campaign invitations.
async fn invitations_list(
    State(s): State<AppState>,
    session: Session,
    PageQuery(q): PageQuery<After>,
) -> PageResult {
    session.may(Action::ReadInvitations)?;
    let p = own_person(&session)?;
    let l = L10n::current();
    let title = l.t("invitations-title");
    let body = person::invitations_section(&s, &session, &l, p, q.after)?;
    listing_page(&session, &title, body)
}

async fn revoke(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<u64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    session.allow(Action::Decide, f.csrf.as_deref())?;
    session.given_grant(&s, id)?;
    blocking(move || Ok(s.pds.store.revoke_grant(id, s.now_ms())?)).await?;
    Ok(Redirect::to("/").into_response())
}

/// How many entries a page of the history shows.
const HISTORY: u64 = 100;

/// The person's access history, newest first, a page at a time: `?after=N` shows the entries
/// before entry N of their chain; the oldest page adds what the legacy chain holds about them.
async fn history(
    State(s): State<AppState>,
    session: Session,
    PageQuery(q): PageQuery<After>,
) -> PageResult {
    session.may(Action::PersonPages)?;
    let p = own_person(&session)?;
    let l = L10n::current();
    let store = s.pds.store.as_ref();
    let chain = insitu_core::audit::Chain::Person(p);
    let head = store.audit_head(chain)?.map_or(0, |h| h.seq + 1);
    let end = q.after.map_or(head, |a| a.min(head));
    let start = end.saturating_sub(HISTORY);
    let mut shown = store.audit_chain(chain, start.checked_sub(1), (end - start) as usize)?;
    let next = (start > 0).then_some(start);
    if start == 0 {
        let legacy = insitu_core::audit::read_chain(store, insitu_core::audit::Chain::Legacy)?;
        let mut about: Vec<_> = legacy
            .into_iter()
            .filter(|e| e.event.person() == Some(p))
            .collect();
        about.append(&mut shown);
        shown = about;
    }
    let mut names = history::Names::new(store);
    let rows: Vec<_> = shown
        .iter()
        .rev()
        .map(|e| (e.seq, e.at_ms, history::describe(&l, &mut names, &e.event)))
        .collect();
    let events = timeline_events(
        store,
        &l,
        shown
            .iter()
            .map(|e| &e.event)
            .zip(shown.iter().map(|e| e.at_ms)),
    );
    let body = html! {
        h1 { (l.t("history-title")) }
        p { (l.t("history-intro")) }
        (charts::timeline(&l, "timeline", &l.t("timeline-title"), &events))
        div.scroll {
            table {
                caption.sr { (l.t("history-title")) }
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (l.t("history-when")) }
                    th scope="col" { (l.t("history-what")) }
                } }
                tbody {
                    @for (seq, at, what) in &rows {
                        tr { td.num { (seq) } td { (l.date(*at)) } td { (what) } }
                    }
                }
            }
        }
        (older(&l, "/history", next))
    };
    Ok(page(&l.t("history-title"), Some(&session), body).into_response())
}

/// The entries of a page of the history as marks on the timeline: who acted (the organisation
/// that asked, ran under its grant or returned data; the person; Insitu itself) and what it was.
fn timeline_events<'a>(
    store: &dyn insitu_core::store::Store,
    l: &L10n,
    entries: impl Iterator<Item = (&'a insitu_core::audit::AuditEvent, i64)>,
) -> Vec<charts::Event> {
    use charts::Mark;
    use insitu_core::audit::AuditEvent as A;
    let you = l.t("timeline-you");
    // A page holds at most `HISTORY` entries; each grant is read once.
    let mut requesters: std::collections::HashMap<u64, String> = Default::default();
    let mut events = Vec::new();
    for (event, at_ms) in entries {
        let (who, mark) = match event {
            A::Run { grant, outcome, .. } => {
                let who = requesters
                    .entry(*grant)
                    .or_insert_with(|| {
                        store
                            .grant(*grant)
                            .ok()
                            .and_then(|g| g.origin)
                            .map_or_else(|| you.clone(), |o| o.requester)
                    })
                    .clone();
                let mark = if outcome == "succeeded" {
                    Mark::RunSucceeded
                } else {
                    Mark::RunFailed
                };
                (who, mark)
            }
            A::RequestOpened { requester, .. } => (requester.clone(), Mark::Asked),
            A::GrantCreated { .. } => (you.clone(), Mark::Granted),
            A::GrantRevoked { .. } => (you.clone(), Mark::Revoked),
            A::RecordsImported { returned_by, .. } => (
                returned_by.clone().unwrap_or_else(|| you.clone()),
                Mark::Imported,
            ),
            A::ReceptionAccepted { organisation, .. } => (organisation.clone(), Mark::Other),
            A::JobOpened { owner, .. } => (owner.clone(), Mark::Other),
            A::RequestDecided { .. }
            | A::ReceptionRevoked { .. }
            | A::EvidenceReleased { .. }
            | A::InvitationDeclined { .. } => (you.clone(), Mark::Other),
            _ => ("Insitu".to_string(), Mark::Other),
        };
        events.push(charts::Event { at_ms, who, mark });
    }
    events
}

async fn import_file(
    State(s): State<AppState>,
    session: Session,
    mut form: Multipart,
) -> PageResult {
    // Its own status: 413 for a file over the upload limit, 400 for a malformed form.
    let bad = PageError::from;
    let (mut csrf, mut collection, mut file) = (None, None, None);
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or("") {
            "csrf" => csrf = Some(field.text().await.map_err(bad)?),
            "collection" => collection = Some(field.text().await.map_err(bad)?),
            "file" => {
                let name = field.file_name().unwrap_or("upload").to_string();
                file = Some((name, field.bytes().await.map_err(bad)?));
            }
            _ => {}
        }
    }
    session.allow(Action::Import, csrf.as_deref())?;
    let person = own_person(&session)?;
    let Some((name, bytes)) = file else {
        return Err(PageError::say(StatusCode::BAD_REQUEST, "error-no-file"));
    };
    let opts = ImportOptions {
        collection: collection.filter(|c| !c.trim().is_empty()),
        ..Default::default()
    };
    let store = s.pds.store.clone();
    let file = name;
    let reports = blocking(move || {
        Ok(import::import_all(
            store.as_ref(),
            person,
            &file,
            &bytes,
            &opts,
            &mut |_, _| {},
        )?)
    })
    .await?;
    let l = L10n::current();
    let body = html! {
        h1 { (l.t("imported-title")) }
        @for import::Imported { file, report } in &reports {
            p role="status" {
                (l.ta_markup("imported-report", &[
                    ("format", report.format.to_string().as_str().into()),
                    ("read", Arg::Count(report.read as i64)),
                    ("added", Arg::Count(report.added as i64)),
                    ("duplicates", Arg::Count(report.duplicates as i64)),
                ], &[
                    ("file", fields::verbatim(file)),
                    ("collection", collections::name(&l, &report.collection)),
                ]))
            }
            @if !report.duplicate_lines.is_empty() {
                p { (l.ta("imported-duplicate-lines", &[(
                    "lines",
                    import::line_ranges(&report.duplicate_lines).as_str().into(),
                )])) }
            }
            @for n in report.all_notes() {
                (notes::say(&l, n))
            }
        }
        p { a href="/" { (l.t("back-to-my-page")) } }
    };
    Ok(page(&l.t("imported-title"), Some(&session), body).into_response())
}

async fn export(State(s): State<AppState>, session: Session) -> PageResult {
    session.may(Action::Export)?;
    let person = own_person(&session)?;
    let store = s.pds.store.clone();
    let archive = blocking(move || {
        Ok(insitu_core::rights::export(
            store.as_ref(),
            person,
            s.now_ms(),
        )?)
    })
    .await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/x-tar"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"insitu-export.tar\"",
            ),
        ],
        archive,
    )
        .into_response())
}

#[derive(serde::Deserialize)]
struct EraseForm {
    csrf: Option<String>,
    password: String,
}

async fn erase(
    State(s): State<AppState>,
    ClientAddr(address): ClientAddr,
    session: Session,
    Form(f): Form<EraseForm>,
) -> PageResult {
    session.allow(Action::Erase, f.csrf.as_deref())?;
    let person = own_person(&session)?;
    let name = session.account.name.clone();
    let wrong = PageError::say(StatusCode::FORBIDDEN, "error-erase-password");
    blocking(move || {
        let store = s.pds.store.as_ref();
        match s.limits.logins.login(store, &name, &f.password, address) {
            Ok(_) => {}
            Err(LoginError::Account(account::AccountError::BadCredentials)) => return Err(wrong),
            Err(e) => return Err(e.into()),
        }
        Ok(store.erase_person(person, s.now_ms())?)
    })
    .await?;
    let cookie = format!("{COOKIE_NAME}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    let l = L10n::current();
    let body = html! {
        h1 { (l.t("erased-title")) }
        p role="status" { (l.t("erased-text")) }
    };
    Ok((
        [(SET_COOKIE, cookie)],
        page(&l.t("erased-page-title"), None, body),
    )
        .into_response())
}
