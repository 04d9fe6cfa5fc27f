//! Licences as data. Granting and billing them is `insitu-core`'s (`licence.rs`).

use serde::{Deserialize, Serialize};

use crate::output::Money;
use crate::records::PersonId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LicenceKind {
    /// The plugin under the organisation's own name, for its members.
    WhiteLabel { display_name: String },
    /// The organisation pays for designated members' runs.
    Sponsorship,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Licence {
    pub id: u64,
    pub organisation: String,
    pub kind: LicenceKind,
    /// The plugin's manifest id (every version is covered).
    pub plugin: String,
    /// The members covered (a seat each).
    pub members: Vec<PersonId>,
    /// Most members it may cover.
    pub seats: u32,
    /// Most runs it pays for in its period, if limited.
    pub run_quota: Option<u32>,
    pub since_ms: i64,
    pub until_ms: i64,
    /// What the organisation pays for the licence, up front.
    pub price: Money,
}
