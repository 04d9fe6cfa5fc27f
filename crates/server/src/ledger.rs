//! The API's ledger lines: `GET /api/ledger`, the caller's own account (a person's earnings,
//! an organisation's invoice lines, a developer's revenue, the operator's), newest first, a
//! cursor page at a time ([`super::paging`]), read from the store's index on the party
//! ([`insitu_core::store::LedgerStore::ledger_page`]).
//!
//! A line dated later than now (a job's postings are dated at its release time) is shown to
//! nobody yet, and no cursor names one: its id would tell that the job closed, which depends
//! on its members' data.
//!
//! May touch: the caller's own ledger lines, read only.

use axum::extract::State;
use insitu_core::account::Role;
use insitu_core::ledger::{Entry, Movement, Party};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{Action, Caller};
use super::error::{ApiError, ErrorBody};
use super::extract::Query;
use super::paging::{PageQuery, Paged};
use insitu_core::store::{Page, StoreError};

/// One line of the caller's ledger account, as the invoice's CSV gives it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerLine {
    /// The line's id: the cursor of the next page.
    pub id: u64,
    /// When the money moved, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The posting it belongs to (`run:42`, `job:7`, ...).
    pub key: String,
    pub movement: Movement,
    /// The account paying and the one paid (`person:3`, `org:NAME`, `developer:NAME`,
    /// `escrow:PROPOSAL`, `operator`).
    pub from: String,
    pub to: String,
    /// In the currency's minor unit, positive when the caller was paid, negative when it paid.
    pub minor: i64,
    pub currency: String,
    pub memo: String,
}

impl LedgerLine {
    fn of(e: Entry, party: &Party) -> LedgerLine {
        let minor = if &e.credit == party {
            e.amount.minor
        } else {
            -e.amount.minor
        };
        LedgerLine {
            id: e.id,
            at_ms: e.at_ms,
            key: e.key,
            movement: e.movement,
            from: e.debit.to_string(),
            to: e.credit.to_string(),
            minor,
            currency: e.amount.currency,
            memo: e.memo,
        }
    }
}

/// The caller's ledger account; `None` for an officer, who has none, and a person account
/// without a store.
fn party(caller: &Caller) -> Option<Party> {
    let name = caller.account.name.clone();
    match caller.account.role {
        Role::Person => caller.account.person.map(Party::Person),
        Role::Organisation => Some(Party::Organisation(name)),
        Role::Developer => Some(Party::Developer(name)),
        Role::Operator => Some(Party::Operator),
        Role::Officer => None,
    }
}

/// The store page `page` of `party`'s lines dated until `now_ms`, reading on past the lines
/// not shown yet, so that the page is full unless it is the last.
pub fn visible_page(
    read: impl Fn(Page) -> Result<Vec<Entry>, StoreError>,
    now_ms: i64,
    page: Page,
) -> Result<Vec<Entry>, StoreError> {
    let mut rows = Vec::with_capacity(page.limit);
    let mut before = page.before;
    loop {
        let batch = read(Page {
            before,
            limit: page.limit,
        })?;
        let full = batch.len() == page.limit;
        before = batch.last().map(|e| e.id);
        rows.extend(batch.into_iter().filter(|e| e.at_ms <= now_ms));
        if rows.len() >= page.limit || !full {
            rows.truncate(page.limit);
            return Ok(rows);
        }
    }
}

/// The caller's ledger lines, newest first, a page at a time: what a person earned, what an
/// organisation paid and was paid, a developer's revenue, the operator's commission. Lines
/// dated later than now (a campaign's or study's, until its release time) are not shown yet.
#[utoipa::path(get, path = "/api/ledger", tag = "ledger", security(("token" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's ledger lines, newest first", body = [LedgerLine],
            headers(("Link" = String, description = "`<path?after=N&limit=M>; rel=\"next\"`: the next page, when there is one"))),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
    ))]
pub async fn lines(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Paged<LedgerLine>, ApiError> {
    caller.may(Action::ReadLedger)?;
    let party = party(&caller).ok_or_else(ApiError::unauthenticated)?;
    let rows = visible_page(
        |page| s.pds.store.ledger_page(&party, page),
        s.now_ms(),
        q.page(),
    )?;
    let (rows, next) = q.take("/api/ledger", rows, |e| e.id);
    Ok(Paged {
        rows: rows
            .into_iter()
            .map(|e| LedgerLine::of(e, &party))
            .collect(),
        next,
    })
}
