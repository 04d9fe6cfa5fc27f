//! Who is calling: the bearer token's account, and what it may do.
//!
//! - [`Action`] is the one table of what each thing the server does needs: a role and a token
//!   scope. The API handlers and the pages both check it, so a page can never do more than
//!   the API route that does the same thing.
//! - Two kinds of token, kept apart: an API token (sent as `Authorization: Bearer`) and a
//!   sign-in session (the pages' cookie). Each is refused where the other belongs.
//! - The per-token rate limit is taken here, after authentication, keyed on the token's id:
//!   the same token written another way is the same bucket.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use insitu_core::account::{self, Account, Role, Scope, Token};
use insitu_core::codesign::Reader;
use insitu_core::consent::Grant;
use insitu_core::contract::Viewer;
use insitu_core::meter::RunRecord;
use insitu_core::request::AccessRequest;
use insitu_core::store::{Owner, PersonId, StoreError};

/// An authenticated caller. Extracting it refuses a missing, unknown, expired or revoked
/// token with 401.
pub struct Caller {
    pub account: Account,
    pub token: Token,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthenticated)?;
        match authenticate(state, secret, TokenKind::Api)? {
            Some(caller) => Ok(caller),
            None => Err(ApiError::unauthenticated()),
        }
    }
}

/// Which kind of token a request must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `Authorization: Bearer`, for `/api`.
    Api,
    /// The sign-in cookie, for the pages.
    Session,
}

/// The caller whose live token of `kind` `secret` is, after taking one request from that
/// token's rate-limit bucket (keyed on its id). `None` for an unknown, expired or revoked
/// secret, or a token of the other kind.
pub fn authenticate(
    state: &AppState,
    secret: &str,
    kind: TokenKind,
) -> Result<Option<Caller>, ApiError> {
    let Some((account, token)) = account::authenticate(state.pds.store.as_ref(), secret.trim())?
    else {
        return Ok(None);
    };
    if token.session != (kind == TokenKind::Session) {
        return Ok(None);
    }
    state
        .limits
        .per_token
        .take(&format!("token {}", token.id))
        .map_err(super::limit::too_many)?;
    Ok(Some(Caller { account, token }))
}

/// Everything the server does for a caller, each needing a role and a token scope
/// ([`Action::needs`]). The API routes and the pages check the same entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read what the account may see: its tokens, its account, collections, packages.
    Read,
    CreateAccount,
    Export,
    Erase,
    Import,
    Publish,
    /// Ask a person for access, or return data to people.
    Ask,
    ReadConsent,
    /// Approve, deny or revoke (a grant or a reception of returned data).
    Decide,
    Run,
    ReadRuns,
    ReadReceptions,
    Audit,
    OpenJob,
    ReadJob,
    Settle,
    ReadInvitations,
    AnswerInvitation,
    /// A person's own pages: history, contacts.
    PersonPages,
    AnswerContact,
    Invoice,
    Metrics,
    /// Read co-design proposals as the `codesign::list` and `view` rules allow.
    ReadProposals,
    /// Submit a proposal or a new version of it (an organisation).
    Propose,
    /// The patent officer's queue and decisions.
    Review,
    /// Comment, suggest, vote, pledge and withdraw (a person).
    Participate,
    /// A person's own pledges.
    ReadPledges,
    /// The caller's own ledger lines (a person, an organisation, a developer, the operator).
    ReadLedger,
    /// The proof of what a version said and when (its organisation, the officer, the
    /// operator; `codesign::prove` refuses the others' proposals).
    Prove,
}

/// Every role.
pub const ANYONE: &[Role] = &[
    Role::Person,
    Role::Developer,
    Role::Organisation,
    Role::Operator,
    Role::Officer,
];

impl Action {
    /// The roles that may do it, and the scope the token needs.
    pub fn needs(self) -> (&'static [Role], Scope) {
        use Role::*;
        match self {
            Action::Read => (ANYONE, Scope::Read),
            Action::CreateAccount | Action::Settle => (&[Operator], Scope::Admin),
            Action::Export | Action::ReadInvitations | Action::PersonPages => {
                (&[Person], Scope::Read)
            }
            Action::Erase | Action::Decide | Action::AnswerInvitation | Action::AnswerContact => {
                (&[Person], Scope::Consent)
            }
            Action::Import => (&[Person], Scope::Import),
            Action::Publish => (&[Developer], Scope::Publish),
            Action::Ask => (&[Organisation], Scope::Request),
            Action::ReadConsent | Action::ReadRuns | Action::ReadReceptions => {
                (&[Person, Organisation], Scope::Read)
            }
            Action::Run => (&[Person, Organisation], Scope::Run),
            Action::Audit => (&[Person, Operator], Scope::Read),
            Action::OpenJob => (&[Organisation], Scope::Run),
            Action::ReadJob | Action::Invoice => (&[Organisation], Scope::Read),
            Action::Metrics => (&[Operator], Scope::Read),
            Action::ReadProposals => (&[Person, Organisation, Officer, Operator], Scope::Read),
            Action::Propose => (&[Organisation], Scope::Request),
            Action::Review => (&[Officer], Scope::Review),
            Action::Participate => (&[Person], Scope::Participate),
            Action::ReadPledges => (&[Person], Scope::Read),
            Action::ReadLedger => (&[Person, Organisation, Developer, Operator], Scope::Read),
            Action::Prove => (&[Organisation, Officer, Operator], Scope::Read),
        }
    }
}

/// Why the caller may not do an action: a 403 from the API, an error page from the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The account's role is not one of those the action needs.
    Role(Role),
    /// The token (or the session) lacks the scope the action needs.
    Scope(Scope),
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::Role(role) => write!(f, "a {role:?} account cannot do this"),
            Denied::Scope(scope) => write!(f, "this token lacks the `{scope:?}` scope"),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(e: Denied) -> Self {
        ApiError::forbidden(e.to_string())
    }
}

impl Caller {
    /// Refuses with 403 unless the caller may do `action` ([`Action::needs`]).
    pub fn may(&self, action: Action) -> Result<(), Denied> {
        let (roles, scope) = action.needs();
        self.need(roles, scope)
    }

    /// Refuses with 403 unless the account has one of `roles` and the token has `scope`.
    fn need(&self, roles: &[Role], scope: Scope) -> Result<(), Denied> {
        if !roles.contains(&self.account.role) {
            return Err(Denied::Role(self.account.role));
        }
        if !self.token.scopes.contains(&scope) {
            return Err(Denied::Scope(scope));
        }
        Ok(())
    }

    /// The person this account owns, for person-only endpoints.
    pub fn person(&self) -> Option<PersonId> {
        match self.account.role {
            Role::Person => self.account.person,
            _ => None,
        }
    }

    /// Whether the caller is the organisation named `requester`.
    pub fn is_requester(&self, requester: Option<&str>) -> bool {
        self.account.role == Role::Organisation && requester == Some(self.account.name.as_str())
    }

    /// Whose rows the caller's listings hold: a person's own, an organisation's (what it
    /// asked for, obtained, started or is named in); `None` for the other roles, whose
    /// listings are empty or refused.
    pub fn owner(&self) -> Option<Owner> {
        match self.account.role {
            Role::Person => self.account.person.map(Owner::Person),
            Role::Organisation => Some(Owner::Organisation(self.account.name.clone())),
            Role::Operator | Role::Developer | Role::Officer => None,
        }
    }

    /// Who reads co-design proposals, for [`insitu_core::codesign`]'s views; `None` for a
    /// developer (who takes no part) or a person account without a store.
    pub fn reader(&self) -> Option<Reader> {
        let name = self.account.name.clone();
        match self.account.role {
            Role::Person => self.account.person.map(Reader::Person),
            Role::Organisation => Some(Reader::Organisation(name)),
            Role::Officer => Some(Reader::Officer(name)),
            Role::Operator => Some(Reader::Operator),
            Role::Developer => None,
        }
    }

    /// Who reads outputs, for [`insitu_core::contract::output_for`].
    pub fn viewer(&self) -> Option<Viewer> {
        match self.account.role {
            Role::Person => self.account.person.map(Viewer::Person),
            Role::Organisation => Some(Viewer::Requester(self.account.name.clone())),
            Role::Operator => Some(Viewer::Operator),
            Role::Developer | Role::Officer => None,
        }
    }
}

/// What a caller may see: a person what concerns them, an organisation what it asked for or
/// runs for. Anything else answers 404, exactly like what does not exist.
impl Caller {
    pub fn sees_request(&self, r: &AccessRequest) -> bool {
        self.asked(r) || self.is_requester(Some(&r.requester))
    }

    /// Whether `r` asks the caller: a request that went nowhere asks nobody, even a person
    /// created later with the id it named.
    fn asked(&self, r: &AccessRequest) -> bool {
        self.person() == Some(r.person) && !r.nowhere
    }

    pub fn sees_grant(&self, g: &Grant) -> bool {
        self.person() == Some(g.person)
            || self.is_requester(g.origin.as_ref().map(|o| o.requester.as_str()))
    }

    /// The person whose data it read, and the organisation that started it (`view.rs`); a
    /// member's run in a campaign or a study is the member's alone.
    pub fn sees_run(&self, r: &RunRecord) -> bool {
        self.viewer()
            .is_some_and(|v| v != Viewer::Operator && insitu_core::view::sees_run(r, &v))
    }

    /// Request `id`, if the caller may see it.
    pub fn request(&self, s: &AppState, id: u64) -> Result<AccessRequest, StoreError> {
        seen(
            s.pds.store.request(id),
            |r| self.sees_request(r),
            StoreError::NoRequest(id),
        )
    }

    /// Request `id`, if it asks the caller (a person deciding it).
    pub fn asked_request(&self, s: &AppState, id: u64) -> Result<AccessRequest, StoreError> {
        seen(
            s.pds.store.request(id),
            |r| self.asked(r),
            StoreError::NoRequest(id),
        )
    }

    /// Grant `id`, if the caller gave it or obtained it.
    pub fn grant(&self, s: &AppState, id: u64) -> Result<Grant, StoreError> {
        seen(
            s.pds.store.grant(id),
            |g| self.sees_grant(g),
            StoreError::NoGrant(id),
        )
    }

    /// Grant `id`, if the caller gave it (a person revoking it).
    pub fn given_grant(&self, s: &AppState, id: u64) -> Result<Grant, StoreError> {
        let given = |g: &Grant| self.person() == Some(g.person);
        seen(s.pds.store.grant(id), given, StoreError::NoGrant(id))
    }

    /// Run `id`, if it ran on the caller's data or for the caller.
    pub fn run(&self, s: &AppState, id: u64) -> Result<RunRecord, StoreError> {
        seen(
            s.pds.store.run(id),
            |r| self.sees_run(r),
            StoreError::NoRun(id),
        )
    }
}

/// `found` if `visible`, else the same error as for what does not exist (`missing`, a 404).
fn seen<T>(
    found: Result<T, StoreError>,
    visible: impl Fn(&T) -> bool,
    missing: StoreError,
) -> Result<T, StoreError> {
    match found {
        Ok(x) if visible(&x) => Ok(x),
        Ok(_) | Err(StoreError::NoRequest(_) | StoreError::NoGrant(_) | StoreError::NoRun(_)) => {
            Err(missing)
        }
        Err(e) => Err(e),
    }
}
