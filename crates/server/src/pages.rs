//! The web pages: server-rendered HTML, no JavaScript. A person signs in, reads a request's
//! consent screen and approves (narrowing fields, months, days) or denies it, sees their
//! grants and revokes one, runs a plugin under a grant, imports a file, and reads their access
//! history. An organisation sees its requests and its runs, with the outputs addressed to it.
//!
//! Sessions: signing in issues a one-day token whose secret is the `insitu_session` cookie
//! (`HttpOnly; Secure; SameSite=Strict`). Every form carries a CSRF token derived from the
//! session secret, checked on every POST; the sign-in form, which has no session yet, is
//! refused when a browser's `Origin` is another site.

use std::fmt::Write as _;

use axum::extract::{FromRequestParts, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Router, routing::get, routing::post};
use sha2::{Digest, Sha256};

use super::AppState;
use super::auth::{Action, Caller, TokenKind};
use super::extract::page::{Form, Multipart, Path};
use super::limit::{ClientAddr, LoginError};
use insitu_core::account::{self, Role};
use insitu_core::audit::hex;
use insitu_core::import::{self, ImportOptions};
use insitu_core::output::Scalar;
use insitu_core::request::{self, Narrowing, Status};

const COOKIE_NAME: &str = "insitu_session";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/requests/{id}", get(consent))
        .route("/requests/{id}/approve", post(approve))
        .route("/requests/{id}/deny", post(deny))
        .route("/grants/{id}/revoke", post(revoke))
        .route("/grants/{id}/run", post(run))
        .route("/runs/{id}", get(run_page))
        .route("/history", get(history))
        // The one page upload: the router gives pages [`super::MAX_FORM`].
        .route(
            "/import",
            post(import_file).layer(axum::extract::DefaultBodyLimit::max(super::MAX_UPLOAD)),
        )
        .route("/export", get(export))
        .route("/erase", post(erase))
        .route("/invitations/{id}/answer", post(answer_invitation))
        .route("/contacts/{id}/answer", post(answer_contact))
        .route("/invoice.csv", get(invoice))
}

/// HTML-escapes text for element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(ms: i64) -> String {
    insitu_core::import::format_date(ms)
}

/// The ledger entries dated until now: a job's postings are dated at its release time, and are
/// shown to nobody before it, whenever the job closed (which depends on its members' data).
fn visible_ledger(s: &AppState) -> Result<Vec<insitu_core::ledger::Entry>, PageError> {
    let now = s.now_ms();
    let mut entries = s.pds.store.ledger()?;
    entries.retain(|e| e.at_ms <= now);
    Ok(entries)
}

fn instant(ms: i64) -> String {
    insitu_formats::time::format_instant(ms)
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
            Err(PageError(
                StatusCode::FORBIDDEN,
                "This form is stale or did not come from Insitu. Go back, reload the page and try again.".into(),
            ))
        }
    }

    fn csrf_field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            self.csrf
        )
    }
}

/// An error shown as a page.
pub struct PageError(StatusCode, String);

impl PageError {
    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "page failed on the host");
        PageError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server failed; nothing was changed.".into(),
        )
    }

    fn not_found() -> Self {
        PageError(
            StatusCode::NOT_FOUND,
            "There is nothing here for you.".into(),
        )
    }
}

/// The pages' answer to a method a path does not take (axum adds `Allow`).
pub async fn method_not_allowed() -> PageError {
    PageError(
        StatusCode::METHOD_NOT_ALLOWED,
        "This page cannot be opened this way. Go back and use its link or button.".into(),
    )
}

impl<E: Into<super::error::ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        let e = e.into();
        PageError(e.status, e.message)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = format!(
            "<h1>{}</h1><p role=\"alert\">{}</p><p><a href=\"/\">Back to my page</a></p>",
            self.0.canonical_reason().unwrap_or("Error"),
            esc(&self.1)
        );
        (self.0, page("Error", None, &body)).into_response()
    }
}

type PageResult = Result<Response, PageError>;

/// The pages' one style sheet, inline; the Content-Security-Policy allows it by its hash
/// (`headers::content_security_policy`).
pub(super) const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;color:#1a1a1a}\
nav{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #ccc;padding-bottom:.5rem}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}\
.screen{border:2px solid #1a1a1a;padding:1rem;border-radius:.5rem}button{font:inherit;padding:.3rem .8rem}\
[role=alert]{color:#8a1c1c}fieldset{margin:.5rem 0}";

fn page(title: &str, session: Option<&Session>, body: &str) -> Html<String> {
    let nav = match session {
        Some(s) => format!(
            "<nav aria-label=\"main\"><a href=\"/\">My page</a><a href=\"/history\">Access history</a>\
             <span>Signed in as {}</span><form method=\"post\" action=\"/logout\">{}\
             <button type=\"submit\">Sign out</button></form></nav>",
            esc(&s.account.name),
            s.csrf_field()
        ),
        None => String::new(),
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · Insitu</title><style>{STYLE}</style></head><body>{nav}<main>{body}</main></body></html>",
        esc(title)
    ))
}

/// Runs blocking store work (every durable commit) off the async workers, as the API does.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PageError> + Send + 'static,
) -> Result<T, PageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(PageError::internal)?
}

// ---- sign in and out -----------------------------------------------------------------------

async fn login_form() -> Html<String> {
    page(
        "Sign in",
        None,
        "<h1>Sign in to Insitu</h1><form method=\"post\" action=\"/login\">\
         <p><label for=\"name\">Name</label><br><input id=\"name\" name=\"name\" autocomplete=\"username\" required></p>\
         <p><label for=\"password\">Password</label><br><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>\
         <p><button type=\"submit\">Sign in</button></p></form>",
    )
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
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "Sign in from Insitu's own page.".into(),
        ));
    }
    let result = blocking(move || {
        let store = s.pds.store.as_ref();
        let account = match s.limits.logins.login(store, &f.name, &f.password, address) {
            Ok(a) => a,
            Err(LoginError::Account(account::AccountError::BadCredentials)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(Some(account::issue_session(store, &account)?.0))
    })
    .await?;
    let Some(secret) = result else {
        let body = "<h1>Sign in to Insitu</h1><p role=\"alert\">The name or the password is wrong.</p>\
                    <p><a href=\"/login\">Try again</a></p>";
        return Ok((StatusCode::UNAUTHORIZED, page("Sign in", None, body)).into_response());
    };
    let cookie =
        format!("{COOKIE_NAME}={secret}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=86400");
    Ok(([(SET_COOKIE, cookie)], Redirect::to("/")).into_response())
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

async fn home(State(s): State<AppState>, session: Session) -> PageResult {
    session.may(Action::Read)?;
    let store = s.pds.store.as_ref();
    let mut body = String::new();
    match (session.account.role, session.person()) {
        (Role::Person, Some(p)) => {
            let _ = write!(
                body,
                "<h1>My data</h1><table><thead><tr><th scope=\"col\">Collection</th><th scope=\"col\">Records</th></tr></thead><tbody>"
            );
            for c in store.collections()? {
                let n = store.count(p, &c.name)?;
                if n > 0 {
                    let _ = write!(body, "<tr><td>{}</td><td>{n}</td></tr>", esc(&c.name));
                }
            }
            let _ = write!(
                body,
                "</tbody></table><form method=\"post\" action=\"/import\" enctype=\"multipart/form-data\">{}\
                 <fieldset><legend>Import a file (bank statement, receipts, export)</legend>\
                 <label for=\"file\">File</label> <input id=\"file\" type=\"file\" name=\"file\" required> \
                 <label for=\"collection\">Collection (for CSV or JSON Lines)</label> <input id=\"collection\" name=\"collection\"> \
                 <button type=\"submit\">Import</button></fieldset></form>",
                session.csrf_field()
            );
            let pending: Vec<_> = store
                .requests(Some(p))?
                .into_iter()
                .filter(|r| r.status == Status::Pending)
                .collect();
            let _ = write!(body, "<h2>Requests waiting for you</h2>");
            if pending.is_empty() {
                body.push_str("<p>None.</p>");
            } else {
                body.push_str("<ul>");
                for r in pending {
                    let _ = write!(
                        body,
                        "<li><a href=\"/requests/{}\">{} asks for access for {} days: {}</a></li>",
                        r.id,
                        esc(&r.requester),
                        r.days,
                        esc(&r.purpose)
                    );
                }
                body.push_str("</ul>");
            }
            body.push_str(&invitations_section(&s, &session, p)?);
            body.push_str(&contacts_section(&s, &session, p)?);
            body.push_str(&earnings_section(&s, p)?);
            let _ = write!(
                body,
                "<h2>My grants</h2><table><thead><tr><th scope=\"col\">Grant</th><th scope=\"col\">To</th><th scope=\"col\">Data</th><th scope=\"col\">Expires</th><th scope=\"col\">Actions</th></tr></thead><tbody>"
            );
            let now = s.now_ms();
            for g in store.grants(Some(p))? {
                let scope: Vec<String> = g
                    .collections
                    .iter()
                    .map(|c| format!("{}: {}", c.name, c.fields.join(", ")))
                    .collect();
                let state = if g.revoked_ms.is_some() {
                    "revoked".to_string()
                } else if g.expires_ms.is_some_and(|e| e <= now) {
                    "expired".to_string()
                } else {
                    g.expires_ms.map_or("never".into(), date)
                };
                let to = g
                    .origin
                    .as_ref()
                    .map_or("you".to_string(), |o| o.requester.clone());
                let actions = if g.check_live(now).is_ok() {
                    format!(
                        "<form method=\"post\" action=\"/grants/{id}/revoke\">{csrf}<button type=\"submit\">Revoke grant {id}</button></form>\
                         <form method=\"post\" action=\"/grants/{id}/run\">{csrf}<label for=\"params-{id}\">Parameters, one per line</label><br>\
                         <textarea id=\"params-{id}\" name=\"params\" rows=\"3\" cols=\"32\"></textarea><br>\
                         <button type=\"submit\">Run under grant {id}</button></form>",
                        id = g.id,
                        csrf = session.csrf_field()
                    )
                } else {
                    String::new()
                };
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{actions}</td></tr>",
                    g.id,
                    esc(&to),
                    esc(&scope.join("; ")),
                    state
                );
            }
            body.push_str("</tbody></table>");
            let _ = write!(
                body,
                "<h2>Runs on my data</h2>{}",
                runs_table(&s, &session)?
            );
            let receptions = store.receptions(Some(p))?;
            if !receptions.is_empty() {
                body.push_str("<h2>Data organisations may return to me</h2><ul>");
                for r in receptions {
                    let state = if r.revoked_ms.is_some() {
                        " (withdrawn)"
                    } else {
                        ""
                    };
                    let _ = write!(
                        body,
                        "<li>{} into {}{state}</li>",
                        esc(&r.organisation),
                        esc(&r.collection)
                    );
                }
                body.push_str("</ul>");
            }
            let _ = write!(
                body,
                "<h2>My rights</h2><p><a href=\"/export\" download>Download all my data</a> \
                 (one archive: JSON Lines and CSV, with my grants and my access history).</p>\
                 <form method=\"post\" action=\"/erase\">{}<fieldset><legend>Delete my account and all my data</legend>\
                 <label for=\"erase-password\">Password</label> <input id=\"erase-password\" name=\"password\" type=\"password\" required> \
                 <button type=\"submit\">Delete everything</button></fieldset></form>",
                session.csrf_field()
            );
        }
        (Role::Organisation, _) => {
            let _ = write!(
                body,
                "<h1>{}</h1><h2>Your requests</h2><table><thead><tr><th scope=\"col\">Request</th><th scope=\"col\">Person</th><th scope=\"col\">Purpose</th><th scope=\"col\">Status</th></tr></thead><tbody>",
                esc(&session.account.name)
            );
            for r in store.requests(None)? {
                if r.requester != session.account.name {
                    continue;
                }
                let status = match r.status {
                    Status::Pending => "pending".to_string(),
                    Status::Approved { grant, .. } => format!("approved (grant {grant})"),
                    Status::Denied { .. } => "denied".to_string(),
                };
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{status}</td></tr>",
                    r.id,
                    r.person,
                    esc(&r.purpose)
                );
            }
            let _ = write!(
                body,
                "</tbody></table><h2>Your runs</h2>{}",
                runs_table(&s, &session)?
            );
            body.push_str(&jobs_section(&s, &session)?);
            body.push_str(&billing_section(&s, &session)?);
        }
        _ => {
            let _ = write!(
                body,
                "<h1>{}</h1><p>This {:?} account works through the API; see <a href=\"/openapi.json\">/openapi.json</a>.</p>",
                esc(&session.account.name),
                session.account.role
            );
            body.push_str(&billing_section(&s, &session)?);
        }
    }
    Ok(page("My page", Some(&session), &body).into_response())
}

/// A person's earnings: their ledger balance and latest movements.
fn earnings_section(s: &AppState, p: u64) -> Result<String, PageError> {
    let party = insitu_core::ledger::Party::Person(p);
    let entries = visible_ledger(s)?;
    let mine: Vec<&insitu_core::ledger::Entry> = entries
        .iter()
        .filter(|e| e.credit == party || e.debit == party)
        .collect();
    let mut out = String::from("<h2>My earnings</h2>");
    if mine.is_empty() {
        out.push_str("<p>Nothing yet.</p>");
        return Ok(out);
    }
    for ((who, c), v) in insitu_core::ledger::balances(&entries) {
        if who == party {
            let _ = write!(
                out,
                "<p>Balance: {} {}</p>",
                insitu_core::ledger::decimal(v, &c),
                esc(&c)
            );
        }
    }
    out.push_str("<table><thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Amount</th><th scope=\"col\">For</th></tr></thead><tbody>");
    for e in mine.iter().rev().take(10) {
        let signed = if e.credit == party {
            e.amount.minor
        } else {
            -e.amount.minor
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} {}</td><td>{}</td></tr>",
            date(e.at_ms),
            insitu_core::ledger::decimal(signed, &e.amount.currency),
            esc(&e.amount.currency),
            esc(&e.memo)
        );
    }
    out.push_str("</tbody></table>");
    Ok(out)
}

/// A person's peer contacts: names only once both sides accepted; a mentor answers here.
fn contacts_section(s: &AppState, session: &Session, p: u64) -> Result<String, PageError> {
    let contacts =
        insitu_core::peer::contacts_of(s.pds.store.as_ref(), p).map_err(PageError::internal)?;
    if contacts.is_empty() {
        return Ok(String::new());
    }
    let mut out = String::from("<h2>People to talk with</h2><ul>");
    for c in contacts {
        let who = c
            .other
            .map(|n| esc(&n))
            .unwrap_or_else(|| "(their name is shown once you both accept)".into());
        let _ = write!(
            out,
            "<li>{} ({}), {:?}: {who}",
            esc(&c.occupation),
            c.role,
            c.status
        );
        if c.role == "mentor" && c.status == insitu_core::peer::ContactStatus::Asked {
            let _ = write!(
                out,
                "<form method=\"post\" action=\"/contacts/{}/answer\">{}\
                 <button type=\"submit\" name=\"decision\" value=\"accept\">Accept</button> \
                 <button type=\"submit\" name=\"decision\" value=\"decline\">Decline</button></form>",
                c.id,
                session.csrf_field()
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    Ok(out)
}

/// An organisation's invoice for this month and its usage; a developer's revenue per plugin.
fn billing_section(s: &AppState, session: &Session) -> Result<String, PageError> {
    use insitu_core::ledger::{Party, decimal};
    let store = s.pds.store.as_ref();
    let name = session.account.name.clone();
    let entries = visible_ledger(s)?;
    let mut out = String::new();
    match session.account.role {
        Role::Organisation => {
            let now = s.now_ms();
            let (since, until) = insitu_core::ledger::month_bounds(now);
            // Entries dated later (a job's, dated at its release time) are not shown yet.
            let until = until.min(now + 1);
            let st =
                insitu_core::ledger::statement(&entries, &Party::Organisation(name), since, until);
            let _ = write!(
                out,
                "<h2>Invoice and usage, this month</h2><p>{} movements. <a href=\"/invoice.csv\" download>Download the invoice (CSV)</a></p><ul>",
                st.lines.len()
            );
            for (c, (_, paid, received, closing)) in &st.totals {
                let _ = write!(
                    out,
                    "<li>{}: paid {}, received {}, balance {}</li>",
                    esc(c),
                    decimal(*paid, c),
                    decimal(*received, c),
                    decimal(*closing, c)
                );
            }
            out.push_str("</ul>");
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
                        plugin.unwrap_or_else(|| "other".into()),
                        e.amount.currency.clone(),
                    ))
                    .or_default() += e.amount.minor;
            }
            out.push_str("<h2>Revenue per plugin</h2><ul>");
            for ((p, c), v) in &per_plugin {
                let _ = write!(out, "<li>{} ({}): {}</li>", esc(p), esc(c), decimal(*v, c));
            }
            if per_plugin.is_empty() {
                out.push_str("<li>None yet.</li>");
            }
            out.push_str("</ul>");
        }
        _ => {}
    }
    Ok(out)
}

async fn invoice(State(s): State<AppState>, session: Session) -> PageResult {
    session.may(Action::Invoice)?;
    let now = s.now_ms();
    let (since, until) = insitu_core::ledger::month_bounds(now);
    // Entries dated later (a job's, dated at its release time) are not shown yet.
    let until = until.min(now + 1);
    let st = insitu_core::ledger::statement(
        &visible_ledger(&s)?,
        &insitu_core::ledger::Party::Organisation(session.account.name.clone()),
        since,
        until,
    );
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

async fn answer_contact(
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
        Err(insitu_core::peer::PeerError::Answered(_)) => Err(PageError(
            StatusCode::CONFLICT,
            "You already answered.".into(),
        )),
        Err(e) => Err(PageError::internal(e)),
    }
}

/// A person's campaign invitations: the findings only they see, each with a box to release
/// it, and accept or decline.
fn invitations_section(s: &AppState, session: &Session, p: u64) -> Result<String, PageError> {
    let invitations = insitu_core::campaign::invitations(s.pds.store.as_ref(), p)?;
    let mut out = String::from("<h2>Campaign invitations</h2>");
    if invitations.is_empty() {
        out.push_str("<p>None.</p>");
        return Ok(out);
    }
    for i in invitations {
        let _ = write!(
            out,
            "<section><h3>{} against {}</h3><p>{}: your data shows this happened to you too. Join?</p>",
            esc(&i.association),
            esc(&i.brand),
            esc(&i.description)
        );
        match &i.answer {
            Some(insitu_core::job::Answer::Accepted { shared, .. }) => {
                let _ = write!(
                    out,
                    "<p>You joined and shared {} findings.</p></section>",
                    shared.len()
                );
                continue;
            }
            Some(insitu_core::job::Answer::Declined { .. }) => {
                out.push_str("<p>You declined.</p></section>");
                continue;
            }
            None => {}
        }
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/invitations/{}/answer\">{}<fieldset><legend>What to share with {} if you join (only you see this list)</legend>",
            i.job,
            session.csrf_field(),
            esc(&i.association)
        );
        // Every field of each finding, exactly as it would be shared, and the records it
        // cites, from the store (these stay with the member).
        for (n, f) in i.findings.iter().enumerate() {
            let money = |m: &Option<insitu_core::output::Money>| {
                m.as_ref()
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "-".into())
            };
            let _ = write!(
                out,
                "<label><input type=\"checkbox\" name=\"finding\" value=\"{n}\" checked> \
                 {}, rule <code>{}</code>: {}, amount {}, loss {}. {}</label>",
                date(f.time),
                esc(&f.rule),
                esc(&f.label),
                esc(&money(&f.amount)),
                esc(&money(&f.loss)),
                esc(&f.reason),
            );
            let cited = i.evidence.get(n).map(Vec::as_slice).unwrap_or_default();
            if !cited.is_empty() {
                out.push_str("<ul aria-label=\"the records it cites (not shared)\">");
                for r in cited {
                    let fields: Vec<String> = r
                        .fields
                        .iter()
                        .map(|(k, v)| format!("{}: {}", esc(k), esc(v)))
                        .collect();
                    let _ = write!(
                        out,
                        "<li>{} record of {}: {}</li>",
                        esc(&r.collection),
                        date(r.time),
                        fields.join("; ")
                    );
                }
                out.push_str("</ul>");
            }
            out.push_str("<br>");
        }
        out.push_str(
            "</fieldset><button type=\"submit\" name=\"decision\" value=\"accept\">Join and share the ticked findings</button> \
             <button type=\"submit\" name=\"decision\" value=\"decline\">Decline</button></form></section>",
        );
    }
    Ok(out)
}

/// An organisation's campaigns (as initiator or association) with their thresholded counts,
/// and its studies with their releases.
fn jobs_section(s: &AppState, session: &Session) -> Result<String, PageError> {
    let store = s.pds.store.as_ref();
    let name = session.account.name.as_str();
    let mut out = String::from(
        "<h2>Your campaigns</h2><table><thead><tr><th scope=\"col\">Campaign</th><th scope=\"col\">Scanned</th><th scope=\"col\">Matched</th><th scope=\"col\">Accepted</th></tr></thead><tbody>",
    );
    let mut studies = String::from("<h2>Your studies</h2><ul>");
    for job in store.jobs()? {
        match &job.kind {
            insitu_core::job::JobKind::Campaign(c)
                if job.owner == name || c.association == name =>
            {
                let n = insitu_core::campaign::counts(store, &job, s.now_ms())?;
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&c.description),
                    n.scanned,
                    n.matched,
                    n.accepted
                );
            }
            insitu_core::job::JobKind::Study(_) if job.owner == name => {
                let shown = match insitu_core::study::published(&job, s.now_ms()) {
                    Some(r) => {
                        let v: Vec<String> =
                            r.values.iter().map(|(k, v)| format!("{k} {v}")).collect();
                        format!(
                            "cohort about {}, ε {}: {}",
                            r.cohort,
                            r.epsilon_micro as f64 / 1e6,
                            v.join(", ")
                        )
                    }
                    None => "no release".into(),
                };
                let _ = write!(studies, "<li>{}: {}</li>", esc(job.title()), esc(&shown));
            }
            _ => {}
        }
    }
    out.push_str("</tbody></table>");
    studies.push_str("</ul>");
    Ok(out + &studies)
}

async fn answer_invitation(
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
            v.parse()
                .map_err(|_| PageError(StatusCode::BAD_REQUEST, format!("`{v}` is not a finding")))
        })
        .collect::<Result<_, _>>()?;
    let accept = match get("decision") {
        Some("accept") => true,
        Some("decline") => false,
        _ => {
            return Err(PageError(
                StatusCode::BAD_REQUEST,
                "say whether you join or decline".into(),
            ));
        }
    };
    if accept && chosen.is_empty() {
        return Err(PageError(
            StatusCode::BAD_REQUEST,
            "tick at least one finding to share, or decline".into(),
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

/// The runs a visitor sees: for a person, every run on their data with how it went; for an
/// organisation, the runs it started, with only what it may see of them (`view.rs`).
fn runs_table(s: &AppState, session: &Session) -> Result<String, PageError> {
    let Some(viewer) = session.viewer() else {
        return Ok(String::new());
    };
    let mut out = String::from(
        "<table><thead><tr><th scope=\"col\">Run</th><th scope=\"col\">Started</th><th scope=\"col\">Outcome</th><th scope=\"col\">Records read</th></tr></thead><tbody>",
    );
    for r in s.pds.store.runs(session.person())? {
        if !session.sees_run(&r) {
            continue;
        }
        let Some(v) = insitu_core::view::run_view(&r, &viewer) else {
            continue;
        };
        let (outcome, records) = match &v.detail {
            Some(d) => (
                match &d.failure {
                    Some(reason) => format!("failed: {reason}"),
                    None => d.status.clone(),
                },
                d.records_read.to_string(),
            ),
            None => (
                format!("result from {}", instant(v.release_ms)),
                "not shown".to_string(),
            ),
        };
        let _ = write!(
            out,
            "<tr><td><a href=\"/runs/{id}\">Run {id}</a></td><td>{}</td><td>{}</td><td>{records}</td></tr>",
            date(v.started_ms),
            esc(&outcome),
            id = v.id
        );
    }
    out.push_str("</tbody></table>");
    Ok(out)
}

// ---- consent -------------------------------------------------------------------------------

/// The consent screen: who asks, which data and why, for how long, what comes out to whom,
/// who pays what; approve (with narrowing) or deny.
async fn consent(State(s): State<AppState>, session: Session, Path(id): Path<u64>) -> PageResult {
    session.may(Action::ReadConsent)?;
    let r = session.asked_request(&s, id)?;
    let plugin = s.pds.store.plugin(&r.plugin_digest)?;
    let m = plugin.manifest.as_ref();
    let mut body = format!(
        "<h1>{} asks for access to your data</h1><div class=\"screen\">\
         <p><strong>Who asks:</strong> {}</p><p><strong>For what:</strong> {}</p>\
         <p><strong>For how long:</strong> {} days</p>",
        esc(&r.requester),
        esc(&r.requester),
        esc(&r.purpose),
        r.days
    );
    if let Some(m) = m {
        let _ = write!(
            body,
            "<p><strong>The program:</strong> {} {} by {}: {}</p>",
            esc(&m.id),
            esc(&m.version),
            esc(&m.publisher),
            esc(&m.description)
        );
        let audience = match m.output.audience {
            insitu_core::package::Audience::Person => "you alone".to_string(),
            insitu_core::package::Audience::Requester => esc(&r.requester),
            insitu_core::package::Audience::Aggregate => format!(
                "{}, only combined over at least {} people",
                esc(&r.requester),
                m.output.min_cohort.unwrap_or(0)
            ),
        };
        let _ = write!(
            body,
            "<p><strong>What comes out, and to whom:</strong> {:?}, at most {} items, to {audience}</p>\
             <p><strong>Who pays what:</strong> {} pays {} per run, {} per million instructions and {} per thousand records of the run's declared budget, whatever it uses ({} minor units); you pay nothing.</p>",
            m.output.kind,
            m.output.max_items,
            esc(&r.requester),
            m.pricing.per_run,
            m.pricing.per_million_fuel,
            m.pricing.per_thousand_records,
            esc(&m.pricing.currency)
        );
    }
    if r.status != Status::Pending {
        let _ = write!(body, "<p><strong>Status:</strong> {:?}</p></div>", r.status);
        return Ok(page("Request", Some(&session), &body).into_response());
    }
    let _ = write!(
        body,
        "</div><form method=\"post\" action=\"/requests/{id}/approve\">{}",
        session.csrf_field()
    );
    let mut months_asked = 0;
    for d in &r.data {
        months_asked = months_asked.max(d.months.unwrap_or(0));
        let _ = write!(
            body,
            "<fieldset><legend>{} (why: {}) — untick what you keep to yourself; the program gets the fields you keep, {}</legend>",
            esc(&d.collection),
            esc(&d.purpose),
            insitu_core::package::RECORD_DATES
        );
        for f in &d.fields {
            let value = esc(&format!("{}/{}", d.collection, f));
            let _ = write!(
                body,
                "<label><input type=\"checkbox\" name=\"keep\" value=\"{value}\" checked> {}</label> ",
                esc(f)
            );
        }
        body.push_str("</fieldset>");
    }
    let _ = write!(
        body,
        "<p><label for=\"months\">Months of history</label> <input id=\"months\" name=\"months\" type=\"number\" min=\"0\" max=\"{months_asked}\" value=\"{months_asked}\"></p>\
         <p><label for=\"days\">Days the access lasts</label> <input id=\"days\" name=\"days\" type=\"number\" min=\"1\" max=\"{d}\" value=\"{d}\"></p>\
         <p><button type=\"submit\">Approve</button></p></form>\
         <form method=\"post\" action=\"/requests/{id}/deny\">{}<button type=\"submit\">Deny</button></form>",
        session.csrf_field(),
        d = r.days
    );
    Ok(page("Request", Some(&session), &body).into_response())
}

async fn approve(
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
            return Err(PageError(
                StatusCode::BAD_REQUEST,
                format!("`{v}` is not collection/field"),
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
                PageError(
                    StatusCode::BAD_REQUEST,
                    format!("{k}: `{v}` is not a number"),
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

async fn deny(
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

#[derive(serde::Deserialize)]
struct RunForm {
    csrf: Option<String>,
    #[serde(default)]
    params: String,
}

async fn run(
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
            return Err(PageError(
                StatusCode::BAD_REQUEST,
                format!("`{line}` is not name=value"),
            ));
        };
        params.push((k.trim().to_string(), Scalar::parse(v.trim())));
    }
    let r = s.run_grant(&g, params).await.map_err(PageError::internal)?;
    Ok(Redirect::to(&format!("/runs/{}", r.id)).into_response())
}

async fn run_page(State(s): State<AppState>, session: Session, Path(id): Path<u64>) -> PageResult {
    session.may(Action::ReadRuns)?;
    let r = session.run(&s, id)?;
    let viewer = session.viewer().ok_or_else(PageError::not_found)?;
    let v = insitu_core::view::run_view(&r, &viewer).ok_or_else(PageError::not_found)?;
    let price = v.price.as_deref().unwrap_or("not billed");
    let mut body = match &v.detail {
        Some(d) => {
            let outcome = match (&d.failure, &d.message) {
                (Some(reason), Some(m)) => format!("failed ({reason}): {m}"),
                _ => d.status.clone(),
            };
            format!(
                "<h1>Run {id}</h1><p>Outcome: {}</p><p>Read {} records; {} instructions; {:.2} ms.</p><p>Price: {}</p>",
                esc(&outcome),
                d.records_read,
                d.fuel,
                d.wall_us as f64 / 1000.0,
                esc(price)
            )
        }
        None => format!(
            "<h1>Run {id}</h1><p>Started {}; its result, if it is addressed to you, can be read from {}.</p>\
             <p>Price: {}</p><p>How the run went is the person's to know: it depends on their data.</p>",
            instant(v.started_ms),
            instant(v.release_ms),
            esc(price)
        ),
    };
    match insitu_core::contract::output_for(s.pds.store.as_ref(), id, &viewer) {
        Ok(out) => {
            let text = serde_json::to_string_pretty(&out).map_err(PageError::internal)?;
            let _ = write!(body, "<h2>Output</h2><pre>{}</pre>", esc(&text));
        }
        Err(_) => body.push_str("<p>This run has no output for you.</p>"),
    }
    Ok(page(&format!("Run {id}"), Some(&session), &body).into_response())
}

/// How many of the newest entries the history page shows.
const HISTORY: u64 = 500;

async fn history(State(s): State<AppState>, session: Session) -> PageResult {
    session.may(Action::PersonPages)?;
    let Some(p) = session.person() else {
        return Err(PageError::not_found());
    };
    let mut body = String::from(
        "<h1>My access history</h1><p>Everything that touched your data, newest first.</p><table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">When</th><th scope=\"col\">What</th></tr></thead><tbody>",
    );
    // The newest page of the person's own chain (and what the legacy chain holds about them).
    let store = s.pds.store.as_ref();
    let own = store
        .audit_head(insitu_core::audit::Chain::Person(p))?
        .map_or(0, |h| h.seq + 1);
    let mut shown = store.audit_chain(
        insitu_core::audit::Chain::Person(p),
        own.checked_sub(HISTORY + 1),
        HISTORY as usize,
    )?;
    if shown.len() < HISTORY as usize {
        let legacy = insitu_core::audit::read_chain(store, insitu_core::audit::Chain::Legacy)?;
        let mut about: Vec<_> = legacy
            .into_iter()
            .filter(|e| e.event.person() == Some(p))
            .collect();
        about.append(&mut shown);
        shown = about;
    }
    for e in shown.iter().rev() {
        {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.seq,
                date(e.at_ms),
                esc(&insitu_core::audit::describe_in(
                    s.pds.store.as_ref(),
                    &e.event
                ))
            );
        }
    }
    body.push_str("</tbody></table>");
    Ok(page("Access history", Some(&session), &body).into_response())
}

async fn import_file(
    State(s): State<AppState>,
    session: Session,
    mut form: Multipart,
) -> PageResult {
    // Its own status: 413 for a file over the upload limit, 400 for a malformed form.
    let bad = |e: axum::extract::multipart::MultipartError| PageError(e.status(), e.body_text());
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
    let Some(person) = session.person() else {
        return Err(PageError::not_found());
    };
    let Some((name, bytes)) = file else {
        return Err(PageError(
            StatusCode::BAD_REQUEST,
            "choose a file to import".into(),
        ));
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
    let mut body = "<h1>Imported</h1>".to_string();
    for import::Imported { file, report } in &reports {
        let _ = write!(
            body,
            "<p role=\"status\">{} ({}) into {}: {} records read, {} added, {} already there.</p>",
            esc(file),
            report.format,
            esc(&report.collection),
            report.read,
            report.added,
            report.duplicates
        );
        if !report.duplicate_lines.is_empty() {
            let lines = import::line_ranges(&report.duplicate_lines);
            let _ = write!(body, "<p>Already there: line(s) {}.</p>", esc(&lines));
        }
        for n in report.all_notes() {
            let _ = write!(body, "<p>{}</p>", esc(n));
        }
    }
    body.push_str("<p><a href=\"/\">Back to my page</a></p>");
    Ok(page("Imported", Some(&session), &body).into_response())
}

async fn export(State(s): State<AppState>, session: Session) -> PageResult {
    session.may(Action::Export)?;
    let Some(person) = session.person() else {
        return Err(PageError::not_found());
    };
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
    let Some(person) = session.person() else {
        return Err(PageError::not_found());
    };
    let name = session.account.name.clone();
    blocking(move || {
        let store = s.pds.store.as_ref();
        match s.limits.logins.login(store, &name, &f.password, address) {
            Ok(_) => {}
            Err(LoginError::Account(account::AccountError::BadCredentials)) => {
                return Err(PageError(
                    StatusCode::FORBIDDEN,
                    "The password is wrong; nothing was deleted.".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(store.erase_person(person, s.now_ms())?)
    })
    .await?;
    let cookie = format!("{COOKIE_NAME}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    let body = "<h1>Your account is deleted</h1><p role=\"status\">Your records, runs and outputs are gone and your grants are revoked. The audit log keeps only a tombstone with counts.</p>";
    Ok(([(SET_COOKIE, cookie)], page("Deleted", None, body)).into_response())
}
