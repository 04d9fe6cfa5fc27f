//! Grants: what a person allowed a plugin to read (invariant 1, 4).
//!
//! A grant names the plugin by content digest, so it cannot be reused by other code. It lists
//! the collections and, for each, the fields granted; records outside its time window are never
//! read. It expires on its own and revocation is immediate: no run starts on a revoked grant,
//! and a run in progress gets no further batch (the data interface re-checks before each).
//!
//! The full consent flow (signed packages, requests, narrowing) builds on this type.
//!
//! May touch: nothing; pure rules.

use serde::{Deserialize, Serialize};

use crate::records::{PersonId, TimeRange};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedCollection {
    pub name: String,
    /// The fields the plugin may see. Every other field is absent.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub id: u64,
    pub person: PersonId,
    /// SHA-256 of the component the person approved.
    pub plugin_digest: String,
    pub collections: Vec<GrantedCollection>,
    /// Records outside this window are never read.
    pub window: TimeRange,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    /// The request this grant answers, when it came from one (absent for grants made
    /// directly by the person from the CLI).
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// Where a grant came from: who asked, why, and which request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub requester: String,
    pub purpose: String,
    pub request: u64,
}

/// Why a grant does not allow a run (or a further batch).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum GrantError {
    #[error("grant {0} was revoked")]
    Revoked(u64),
    #[error("grant {0} has expired")]
    Expired(u64),
    #[error(
        "grant {grant} is for plugin {granted}, not {running}; the person must grant this version"
    )]
    DigestMismatch {
        grant: u64,
        granted: String,
        running: String,
    },
    #[error("grant {grant} belongs to person {owner}, not {asked}")]
    WrongPerson {
        grant: u64,
        owner: PersonId,
        asked: PersonId,
    },
}

impl Grant {
    /// Whether the grant lets plugin `digest` read `person`'s data at time `now_ms`.
    pub fn check(&self, person: PersonId, digest: &str, now_ms: i64) -> Result<(), GrantError> {
        if self.person != person {
            return Err(GrantError::WrongPerson {
                grant: self.id,
                owner: self.person,
                asked: person,
            });
        }
        if self.plugin_digest != digest {
            return Err(GrantError::DigestMismatch {
                grant: self.id,
                granted: self.plugin_digest.clone(),
                running: digest.to_string(),
            });
        }
        self.check_live(now_ms)
    }

    /// Whether the grant is still in force (not revoked, not expired).
    pub fn check_live(&self, now_ms: i64) -> Result<(), GrantError> {
        if self.revoked_ms.is_some() {
            return Err(GrantError::Revoked(self.id));
        }
        if self.expires_ms.is_some_and(|e| now_ms >= e) {
            return Err(GrantError::Expired(self.id));
        }
        Ok(())
    }

    /// What the grant covers, e.g. `bank.transactions[amount,label]`.
    pub fn scope(&self) -> String {
        let c: Vec<String> = self
            .collections
            .iter()
            .map(|c| format!("{}[{}]", c.name, c.fields.join(",")))
            .collect();
        c.join(" ")
    }

    pub fn collection(&self, name: &str) -> Option<&GrantedCollection> {
        self.collections.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            id: 1,
            person: 7,
            plugin_digest: "abc".into(),
            collections: vec![],
            window: TimeRange::ALL,
            created_ms: 0,
            expires_ms: Some(1000),
            revoked_ms: None,
            origin: None,
        }
    }

    #[test]
    fn a_grant_allows_only_its_person_its_code_and_its_period() {
        let g = grant();
        assert_eq!(g.check(7, "abc", 10), Ok(()));
        assert!(matches!(
            g.check(8, "abc", 10),
            Err(GrantError::WrongPerson { .. })
        ));
        assert!(matches!(
            g.check(7, "abd", 10),
            Err(GrantError::DigestMismatch { .. })
        ));
        assert_eq!(g.check(7, "abc", 1000), Err(GrantError::Expired(1)));
        let revoked = Grant {
            revoked_ms: Some(5),
            ..g
        };
        assert_eq!(revoked.check(7, "abc", 10), Err(GrantError::Revoked(1)));
    }
}
