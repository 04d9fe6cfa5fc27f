//! Accounts, roles and API tokens: who may call the server, and for what.
//!
//! - Four roles. A **person** owns one person's store; a **developer** publishes packages; an
//!   **organisation** asks for access, runs plugins under the grants it obtained and reads the
//!   outputs addressed to it; the **operator** runs the instance (accounts, publishers).
//! - Passwords are hashed with argon2id (the PHC string, salt included, is what is stored).
//! - An API token is 32 random bytes, shown once; the store keeps only its SHA-256. A token
//!   carries scopes, a subset of its role's, and can expire and be revoked.
//! - A name is checked and normalised once, at creation, and is unique by its [`name::key`]
//!   (case- and confusable-insensitive); any spelling with that key signs in (see [`name`]).
//!
//! May touch: the store through [`Store`]; randomness for salts and tokens.

pub use insitu_model::account::*;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use crate::audit::hex;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the name or the password is wrong")]
    BadCredentials,
    #[error("a {role:?} token cannot carry the `{scope:?}` scope")]
    ScopeNotAllowed { role: Role, scope: Scope },
    /// The name cannot be used; `why` says what to change. `name` is as given, cut to a
    /// length a message can show, and shown escaped so that nothing in it hides.
    #[error("the name {name:?} cannot be used: {why}")]
    BadName { name: String, why: String },
    /// The name reads as an existing account's (same case-folded confusable skeleton).
    #[error("the name `{name}` is taken: it reads as the existing account `{existing}`")]
    NameTaken { name: String, existing: String },
    #[error("the password must have at least 10 characters")]
    WeakPassword,
    #[error("no randomness available: {0}")]
    Entropy(String),
    #[error("{0}")]
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

/// Creates an account under the normalised form of `name`; a person account gets a new person
/// in the store, under the same name.
///
/// Errors: [`AccountError::BadName`] for a name [`name::normalise`] refuses,
/// [`AccountError::NameTaken`] when an account's name has the same [`name::key`],
/// [`AccountError::WeakPassword`].
pub fn create(
    store: &dyn Store,
    name: &str,
    password: &str,
    role: Role,
) -> Result<Account, AccountError> {
    let name = name::normalise(name).map_err(|why| AccountError::BadName {
        name: name.chars().take(MAX_NAME_CHARS + 8).collect(),
        why,
    })?;
    // Checked before the person is added, so that a taken name leaves no person behind; the
    // store checks again in the account's own transaction.
    if let Some(existing) = store.account_by_name(&name)? {
        return Err(AccountError::NameTaken {
            name,
            existing: existing.name,
        });
    }
    let password = hash_password(password)?;
    let person = match role {
        Role::Person => Some(store.add_person(&name)?),
        _ => None,
    };
    store
        .add_account(Account {
            id: 0,
            name: name.clone(),
            role,
            person,
            password,
            created_ms: store.now_ms(),
            language: None,
        })
        .map_err(|e| match e {
            StoreError::NameTaken(existing) => AccountError::NameTaken { name, existing },
            e => e.into(),
        })
}

/// The account whose name and password these are; `name` is any spelling with the account's
/// [`name::key`] ("ACME " signs in as "Acme"). The password is checked even for an unknown
/// name, so that the answer's timing does not tell which names exist.
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
    let now = store.now_ms();
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
    if !token.live(store.now_ms()) {
        return Ok(None);
    }
    Ok(store.account(token.account)?.map(|a| (a, token)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::prelude::*;
    use crate::store::redb::RedbStore;

    const PASSWORD: &str = "a long enough password";

    fn store() -> (tempfile::TempDir, RedbStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(&dir.path().join("insitu.redb")).unwrap();
        (dir, store)
    }

    fn org(store: &dyn Store, name: &str) -> Result<Account, AccountError> {
        create(store, name, PASSWORD, Role::Organisation)
    }

    #[test]
    fn names_that_hide_what_they_are_are_refused() {
        let (_dir, store) = store();
        for name in [
            "",
            "   ",
            "\u{3000}\t",
            "ac\u{0}me",
            "acme\u{7}",
            "\u{202E}emca",
            "ac\u{200B}me",
            "ac\u{200D}me",
            "acme\u{2066}",
            "line\nbreak",
            &"a".repeat(MAX_NAME_CHARS + 1),
        ] {
            match org(&store, name) {
                Err(AccountError::BadName { .. }) => {}
                other => panic!("{name:?} should be refused as a bad name, got {other:?}"),
            }
        }
        assert!(store.accounts().unwrap().is_empty(), "nothing was created");
    }

    #[test]
    fn names_that_mix_confusable_scripts_are_refused() {
        let (_dir, store) = store();
        // Cyrillic У with Latin FC; Cyrillic а with Latin cme; Greek Ο in Latin.
        for name in ["\u{423}FC", "\u{430}cme", "G\u{39F}OGLE"] {
            match org(&store, name) {
                Err(AccountError::BadName { why, .. }) => {
                    assert!(why.contains("mixes"), "{name:?}: {why}")
                }
                other => panic!("{name:?} should be refused as mixed-script, got {other:?}"),
            }
        }
        // The real one is fine.
        org(&store, "YFC").unwrap();
    }

    #[test]
    fn names_that_read_the_same_collide_and_name_the_existing_account() {
        let (_dir, store) = store();
        org(&store, "Acme").unwrap();
        org(&store, "TOP").unwrap();
        org(&store, "AIice").unwrap();
        for (name, existing) in [
            ("acme ", "Acme"),
            ("ACME", "Acme"),
            ("  Acme", "Acme"),
            ("\u{FF21}\u{FF23}\u{FF2D}\u{FF25}", "Acme"), // fullwidth ＡＣＭＥ
            ("\u{422}\u{41E}\u{420}", "TOP"),             // Cyrillic ТОР
            ("Alice", "AIice"),                           // capital I as a small L
        ] {
            match org(&store, name) {
                Err(AccountError::NameTaken { existing: e, .. }) => {
                    assert_eq!(e, existing, "{name:?}")
                }
                other => panic!("{name:?} should collide with {existing}, got {other:?}"),
            }
        }
        assert_eq!(store.accounts().unwrap().len(), 3);
        assert_eq!(store.people().unwrap().len(), 0, "no person left behind");
    }

    #[test]
    fn a_refused_person_name_leaves_no_person_behind() {
        let (_dir, store) = store();
        create(&store, "Alice", PASSWORD, Role::Person).unwrap();
        assert!(create(&store, "alice", PASSWORD, Role::Person).is_err());
        assert_eq!(store.people().unwrap().len(), 1);
    }

    #[test]
    fn an_erased_persons_name_is_free_again() {
        let (_dir, store) = store();
        let alice = create(&store, "Alice", PASSWORD, Role::Person).unwrap();
        store
            .erase_person(alice.person.unwrap(), store.now_ms())
            .unwrap();
        assert!(login(&store, "alice", PASSWORD).is_err());
        create(&store, "alice", PASSWORD, Role::Person).unwrap();
    }

    #[test]
    fn the_stored_name_is_normalised_and_any_spelling_signs_in() {
        let (_dir, store) = store();
        let a = org(&store, "  \u{FF21}cme   Corp ").unwrap();
        assert_eq!(a.name, "Acme Corp");
        for spelling in ["Acme Corp", "acme corp", "ACME CORP ", "acme  corp"] {
            let signed = login(&store, spelling, PASSWORD).unwrap();
            assert_eq!(signed.id, a.id, "{spelling:?}");
        }
        assert!(matches!(
            login(&store, "Acme Corp", "not the password"),
            Err(AccountError::BadCredentials)
        ));
    }

    #[test]
    fn single_script_names_in_any_script_are_accepted() {
        let (_dir, store) = store();
        for name in [
            "Soci\u{e9}t\u{e9} G\u{e9}n\u{e9}rale",
            "\u{41C}\u{43E}\u{441}\u{43A}\u{432}\u{430}", // Москва
            "\u{6771}\u{4EAC}",                           // 東京
            "\u{6771}\u{4EAC}\u{30C7}\u{30FC}\u{30BF} Lab", // Han, Katakana and Latin
            "Ben & Jerry's",
            "UFC-Que Choisir",
        ] {
            let a = org(&store, name).unwrap_or_else(|e| panic!("{name:?}: {e}"));
            assert_eq!(a.name, name);
        }
    }
}
