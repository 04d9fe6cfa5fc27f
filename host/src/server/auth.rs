//! Who is calling: the bearer token's account, and what it may do.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::account::{self, Account, Role, Scope, Token};
use crate::consent::Grant;
use crate::contract::Viewer;
use crate::meter::RunRecord;
use crate::request::AccessRequest;
use crate::store::{PersonId, StoreError};

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
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthenticated)?;
        match account::authenticate(state.pds.store.as_ref(), secret.trim())? {
            Some((account, token)) => Ok(Caller { account, token }),
            None => Err(ApiError::unauthenticated()),
        }
    }
}

impl Caller {
    /// Refuses with 403 unless the account has one of `roles` and the token has `scope`.
    pub fn need(&self, roles: &[Role], scope: Scope) -> Result<(), ApiError> {
        if !roles.contains(&self.account.role) {
            return Err(ApiError::forbidden(format!(
                "a {:?} account cannot do this",
                self.account.role
            )));
        }
        if !self.token.scopes.contains(&scope) {
            return Err(ApiError::forbidden(format!(
                "this token lacks the `{scope:?}` scope"
            )));
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

    /// Who reads outputs, for [`crate::contract::output_for`].
    pub fn viewer(&self) -> Option<Viewer> {
        match self.account.role {
            Role::Person => self.account.person.map(Viewer::Person),
            Role::Organisation => Some(Viewer::Requester(self.account.name.clone())),
            Role::Operator => Some(Viewer::Operator),
            Role::Developer => None,
        }
    }
}

/// What a caller may see: a person what concerns them, an organisation what it asked for or
/// runs for. Anything else answers 404, exactly like what does not exist.
impl Caller {
    pub fn sees_request(&self, r: &AccessRequest) -> bool {
        self.person() == Some(r.person) || self.is_requester(Some(&r.requester))
    }

    pub fn sees_grant(&self, g: &Grant) -> bool {
        self.person() == Some(g.person)
            || self.is_requester(g.origin.as_ref().map(|o| o.requester.as_str()))
    }

    /// The person whose data it read, and the organisation that started it (`view.rs`); a
    /// member's run in a campaign or a study is the member's alone.
    pub fn sees_run(&self, r: &RunRecord) -> bool {
        self.viewer()
            .is_some_and(|v| v != Viewer::Operator && crate::view::sees_run(r, &v))
    }

    /// Request `id`, if the caller may see it.
    pub fn request(&self, s: &AppState, id: u64) -> Result<AccessRequest, ApiError> {
        seen(
            s.pds.store.request(id),
            |r| self.sees_request(r),
            "request",
            id,
        )
    }

    /// Request `id`, if it asks the caller (a person deciding it).
    pub fn asked_request(&self, s: &AppState, id: u64) -> Result<AccessRequest, ApiError> {
        let asked = |r: &AccessRequest| self.person() == Some(r.person);
        seen(s.pds.store.request(id), asked, "request", id)
    }

    /// Grant `id`, if the caller gave it or obtained it.
    pub fn grant(&self, s: &AppState, id: u64) -> Result<Grant, ApiError> {
        seen(s.pds.store.grant(id), |g| self.sees_grant(g), "grant", id)
    }

    /// Grant `id`, if the caller gave it (a person revoking it).
    pub fn given_grant(&self, s: &AppState, id: u64) -> Result<Grant, ApiError> {
        let given = |g: &Grant| self.person() == Some(g.person);
        seen(s.pds.store.grant(id), given, "grant", id)
    }

    /// Run `id`, if it ran on the caller's data or for the caller.
    pub fn run(&self, s: &AppState, id: u64) -> Result<RunRecord, ApiError> {
        seen(s.pds.store.run(id), |r| self.sees_run(r), "run", id)
    }
}

/// `found` if `visible`, else the same 404 as for what does not exist.
fn seen<T>(
    found: Result<T, StoreError>,
    visible: impl Fn(&T) -> bool,
    what: &str,
    id: u64,
) -> Result<T, ApiError> {
    match found {
        Ok(x) if visible(&x) => Ok(x),
        Ok(_) | Err(StoreError::NoRequest(_) | StoreError::NoGrant(_) | StoreError::NoRun(_)) => {
            Err(ApiError::not_found(format!("no {what} {id}")))
        }
        Err(e) => Err(e.into()),
    }
}
