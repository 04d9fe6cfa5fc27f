//! Accounts and their roles and scopes: pure data. Creating accounts, signing in and issuing
//! tokens are `insitu-core`'s (`account.rs`).

use serde::{Deserialize, Serialize};

use crate::records::PersonId;

pub mod name;

pub use name::MAX_NAME_CHARS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Person,
    Developer,
    Organisation,
    Operator,
    /// The patent officer: reviews proposals before they are public and writes decisions.
    Officer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "person" => Role::Person,
            "developer" => Role::Developer,
            "organisation" | "organization" => Role::Organisation,
            "operator" => Role::Operator,
            "officer" | "patent-officer" => Role::Officer,
            _ => return None,
        })
    }

    /// The scopes a token of this role may carry.
    pub fn scopes(self) -> &'static [Scope] {
        use Scope::*;
        match self {
            Role::Person => &[Read, Import, Consent, Run, Participate],
            Role::Developer => &[Read, Publish],
            Role::Organisation => &[Read, Request, Run],
            Role::Operator => &[Read, Admin],
            Role::Officer => &[Read, Review],
        }
    }
}

/// What a token may do. Each endpoint needs one scope, and a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read what the account may see.
    Read,
    /// Import files into one's own store.
    Import,
    /// Approve, deny and revoke.
    Consent,
    /// Start runs.
    Run,
    /// Publish packages.
    Publish,
    /// Ask people for access.
    Request,
    /// Manage accounts and publishers.
    Admin,
    /// Take part in co-design: comment, suggest, vote, pledge.
    Participate,
    /// Review proposals (the patent officer).
    Review,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: u64,
    /// Login name, normalised ([`name::normalise`]) and unique by [`name::key`]; an
    /// organisation's name is also its requester name, shown on consent screens.
    pub name: String,
    pub role: Role,
    /// The person a person account owns.
    pub person: Option<PersonId>,
    /// argon2id PHC string.
    pub password: String,
    pub created_ms: i64,
    /// The language the pages speak to this account (`fr`, `en`), set with the switch on any
    /// page while signed in; none until then (the browser's language applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub id: u64,
    pub account: u64,
    /// Hex SHA-256 of the secret.
    pub hash: String,
    pub scopes: Vec<Scope>,
    pub label: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    /// A sign-in session (the pages' cookie), not an API token: each kind is refused where
    /// the other belongs (`server::auth`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub session: bool,
}

impl Token {
    pub fn live(&self, now: i64) -> bool {
        self.revoked_ms.is_none() && self.expires_ms.is_none_or(|e| now < e)
    }
}
