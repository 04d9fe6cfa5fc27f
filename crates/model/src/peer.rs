//! Peer contact as data: offers and contacts. The rules are `insitu-core`'s (`peer.rs`).

use serde::{Deserialize, Serialize};

use crate::records::PersonId;

/// A person's standing offer to talk about a path they took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub id: u64,
    pub person: PersonId,
    /// The occupation's code (O*NET-SOC, as the coaching plugin shows it).
    pub occupation: String,
    /// What they are happy to talk about, shown to seekers without their name.
    pub note: String,
    pub withdrawn_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    /// The seeker asked; the mentor has not answered.
    Asked,
    /// Both said yes: each may see the other's name.
    Connected,
    Declined,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: u64,
    pub offer: u64,
    pub seeker: PersonId,
    pub mentor: PersonId,
    pub occupation: String,
    pub status: ContactStatus,
    pub at_ms: i64,
}
