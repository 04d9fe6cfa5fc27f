//! Access requests as data. Asking, approving and upgrading are `insitu-core`'s (`request.rs`).

use serde::{Deserialize, Serialize};

use crate::manifest::DataRequest;
use crate::records::PersonId;

/// A month, for windows: 30.44 days (365.2425 / 12).
pub const MONTH_MS: i64 = 2_629_746_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved { grant: u64, at_ms: i64 },
    Denied { at_ms: i64 },
}

/// A request for access, as the person sees it on the consent screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    pub id: u64,
    pub requester: String,
    pub person: PersonId,
    pub plugin_digest: String,
    /// The data asked for (from the manifest).
    pub data: Vec<DataRequest>,
    pub purpose: String,
    pub days: u32,
    pub created_ms: i64,
    pub status: Status,
    /// Addressed to no person of this store: kept, and answered like any other, so that the
    /// requester cannot tell who exists; never shown to anyone asked, never decided.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nowhere: bool,
}

/// What the person keeps of a request when approving it. `None` keeps what was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// Fields to grant, per collection; a collection left out is not granted at all.
    pub fields: Option<Vec<(String, Vec<String>)>>,
    pub months: Option<u32>,
    pub days: Option<u32>,
}

impl AccessRequest {
    /// Whether the person can still decide: pending, and a request that reached them (one that
    /// went nowhere does not exist for them).
    pub fn awaits_decision(&self) -> bool {
        !self.nowhere && self.status == Status::Pending
    }

    /// Decides the request at `at_ms`: approved with grant `grant`, or denied (`None`).
    /// Returns the audit entry the decision writes.
    pub fn decide(&mut self, grant: Option<u64>, at_ms: i64) -> crate::audit::AuditEvent {
        self.status = match grant {
            Some(grant) => Status::Approved { grant, at_ms },
            None => Status::Denied { at_ms },
        };
        crate::audit::AuditEvent::RequestDecided {
            request: self.id,
            person: self.person,
            approved: grant.is_some(),
        }
    }
}
