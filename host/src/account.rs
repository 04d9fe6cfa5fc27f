//! Accounts, roles and API tokens: who may call the server, and for what.
//!
//! - Four roles. A **person** owns one person's store; a **developer** publishes packages; an
//!   **organisation** asks for access, runs plugins under the grants it obtained and reads the
//!   outputs addressed to it; the **operator** runs the instance (accounts, publishers).
//! - Passwords are hashed with argon2id (the PHC string, salt included, is what is stored).
//! - An API token is 32 random bytes, shown once; the store keeps only its SHA-256. A token
//!   carries scopes, a subset of its role's, and can expire and be revoked.
//!
//! May touch: the store through [`Store`]; randomness for salts and tokens.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::hex;
use crate::consent::now_ms;
use crate::store::{PersonId, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Person,
    Developer,
    Organisation,
    Operator,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "person" => Role::Person,
            "developer" => Role::Developer,
            "organisation" | "organization" => Role::Organisation,
            "operator" => Role::Operator,
            _ => return None,
        })
    }

    /// The scopes a token of this role may carry.
    pub fn scopes(self) -> &'static [Scope] {
        use Scope::*;
        match self {
            Role::Person => &[Read, Import, Consent, Run],
            Role::Developer => &[Read, Publish],
            Role::Organisation => &[Read, Request, Run],
            Role::Operator => &[Read, Admin],
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: u64,
    /// Unique login name; an organisation's name is also its requester name.
    pub name: String,
    pub role: Role,
    /// The person a person account owns.
    pub person: Option<PersonId>,
    /// argon2id PHC string.
    pub password: String,
    pub created_ms: i64,
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

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the name or the password is wrong")]
    BadCredentials,
    #[error("a {role:?} token cannot carry the `{scope:?}` scope")]
    ScopeNotAllowed { role: Role, scope: Scope },
    #[error("the password must have at least 10 characters")]
    WeakPassword,
    #[error("no randomness available: {0}")]
    Entropy(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn random<const N: usize>() -> Result<[u8; N], AccountError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| AccountError::Entropy(e.to_string()))?;
    Ok(b)
}

/// The argon2id PHC string of `password`, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < 10 {
        return Err(AccountError::WeakPassword);
    }
    let salt = SaltString::encode_b64(&random::<16>()?)
        .map_err(|e| AccountError::Entropy(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Entropy(e.to_string()))
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Creates an account; a person account gets a new person in the store.
pub fn create(
    store: &dyn Store,
    name: &str,
    password: &str,
    role: Role,
) -> Result<Account, AccountError> {
    let password = hash_password(password)?;
    let person = match role {
        Role::Person => Some(store.add_person(name)?),
        _ => None,
    };
    Ok(store.add_account(Account {
        id: 0,
        name: name.to_string(),
        role,
        person,
        password,
        created_ms: now_ms(),
    })?)
}

/// The key two account names collide on.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The account whose name and password these are. The password is checked even for an
/// unknown name, so that the answer's timing does not tell which names exist.
pub fn login(store: &dyn Store, name: &str, password: &str) -> Result<Account, AccountError> {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    match store.account_by_name(name)? {
        Some(a) if password_matches(password, &a.password) => Ok(a),
        Some(_) => Err(AccountError::BadCredentials),
        None => {
            let decoy = DECOY.get_or_init(|| hash_password("decoy password").unwrap_or_default());
            let _ = password_matches(password, decoy);
            Err(AccountError::BadCredentials)
        }
    }
}

/// Issues a token for `account` with `scopes` (all of its role's when empty), valid for `days`
/// (forever when `None`). Returns the secret, shown once, and the stored token.
pub fn issue_token(
    store: &dyn Store,
    account: &Account,
    scopes: &[Scope],
    label: &str,
    days: Option<u32>,
) -> Result<(String, Token), AccountError> {
    issue(store, account, scopes, label, days, false)
}

/// Opens a one-day sign-in session for the pages: a token with the role's scopes that the API
/// refuses.
pub fn issue_session(
    store: &dyn Store,
    account: &Account,
) -> Result<(String, Token), AccountError> {
    issue(store, account, &[], "session", Some(1), true)
}

fn issue(
    store: &dyn Store,
    account: &Account,
    scopes: &[Scope],
    label: &str,
    days: Option<u32>,
    session: bool,
) -> Result<(String, Token), AccountError> {
    let allowed = account.role.scopes();
    if let Some(&scope) = scopes.iter().find(|s| !allowed.contains(s)) {
        return Err(AccountError::ScopeNotAllowed {
            role: account.role,
            scope,
        });
    }
    let secret = format!("ins_{}", hex(&random::<32>()?));
    let now = now_ms();
    let token = store.add_token(Token {
        id: 0,
        account: account.id,
        hash: token_hash(&secret),
        scopes: if scopes.is_empty() {
            allowed.to_vec()
        } else {
            scopes.to_vec()
        },
        label: label.to_string(),
        created_ms: now,
        expires_ms: days.map(|d| now + i64::from(d) * 86_400_000),
        revoked_ms: None,
        session,
    })?;
    Ok((secret, token))
}

pub fn token_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// The live token and its account for a secret, if any.
pub fn authenticate(
    store: &dyn Store,
    secret: &str,
) -> Result<Option<(Account, Token)>, StoreError> {
    let Some(token) = store.token_by_hash(&token_hash(secret))? else {
        return Ok(None);
    };
    if !token.live(now_ms()) {
        return Ok(None);
    }
    Ok(store.account(token.account)?.map(|a| (a, token)))
}
