//! Who is calling: the bearer token's account, and what it may do.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::account::{self, Account, Role, Scope, Token};
use crate::contract::Viewer;
use crate::store::PersonId;

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
