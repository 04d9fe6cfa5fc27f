//! The ledger's data: parties, movements, entries and the tariff. Posting and billing are
//! `insitu-core`'s (`ledger.rs`).

use serde::{Deserialize, Serialize};

use crate::output::Money;
use crate::records::PersonId;

/// Who holds a ledger account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Party {
    Person(PersonId),
    /// A plugin's publisher.
    Developer(String),
    /// An organisation: a brand, an association, a school, a company, an R&D department.
    Organisation(String),
    /// The operator of this PDS.
    Operator,
    /// A proposal's escrow: members' pledges, held until its deadline pays the organisation
    /// or refunds them.
    Escrow(u64),
}

impl std::fmt::Display for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Party::Person(p) => write!(f, "person:{p}"),
            Party::Developer(d) => write!(f, "developer:{d}"),
            Party::Organisation(o) => write!(f, "org:{o}"),
            Party::Operator => write!(f, "operator"),
            Party::Escrow(p) => write!(f, "escrow:{p}"),
        }
    }
}

impl std::str::FromStr for Party {
    type Err = String;

    /// `person:3`, `developer:NAME`, `org:NAME` or `operator`.
    fn from_str(s: &str) -> Result<Party, String> {
        match s.split_once(':') {
            None if s == "operator" => Ok(Party::Operator),
            Some(("person", id)) => id
                .parse()
                .map(Party::Person)
                .map_err(|_| format!("`{id}` is not a person's id")),
            Some(("developer", n)) if !n.is_empty() => Ok(Party::Developer(n.into())),
            Some(("org", n)) if !n.is_empty() => Ok(Party::Organisation(n.into())),
            Some(("escrow", id)) => id
                .parse()
                .map(Party::Escrow)
                .map_err(|_| format!("`{id}` is not a proposal's id")),
            _ => Err(format!(
                "`{s}` is not a ledger account: use person:ID, developer:NAME, org:NAME, escrow:PROPOSAL or operator"
            )),
        }
    }
}

/// Why money moved.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    /// The developer's share of a run's price.
    RunPrice,
    /// The operator's commission on a run's price.
    Commission,
    /// The operator's right of passage for a run (a scan).
    Passage,
    /// The member's share of a run's price.
    MemberShare,
    /// The requester pays the operator for an approved grant.
    AccessFee,
    /// A brand's yearly membership.
    Membership,
    /// A campaign's compensation, split.
    Settlement,
    /// A study member's reward.
    Reward,
    /// An organisation's licence or sponsorship, paid up front.
    Licence,
    /// A member's pledge to a proposal, into its escrow.
    Pledge,
    /// A pledge given back from escrow: withdrawn, or the goal not reached.
    Refund,
    /// A funded proposal's escrow paid to the organisation.
    Payout,
}

/// One movement: `debit` pays `credit` `amount` (positive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Assigned when posted.
    pub id: u64,
    pub at_ms: i64,
    /// The posting it belongs to (e.g. `run:42`); a key is posted once.
    pub key: String,
    pub debit: Party,
    pub credit: Party,
    pub amount: Money,
    pub movement: Movement,
    pub memo: String,
}

/// The operator's tariff: what it takes on runs, and what it charges for access and
/// membership. Rates in basis points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    pub currency: String,
    /// The operator's share of a run's price.
    pub commission_bps: u32,
    /// The member's share of a run's price (their data did the work).
    pub member_share_bps: u32,
    /// Charged per run on top of the price (the right of passage of a scan).
    pub passage_per_run: i64,
    /// Charged to the requester per approved grant.
    pub access_fee: i64,
    /// A brand's yearly membership.
    pub membership_per_year: i64,
    /// A person's free runs of each plugin a month (freemium), before paying per run.
    #[serde(default = "free_runs")]
    pub free_runs_per_month: u32,
}

fn free_runs() -> u32 {
    3
}

impl Default for Tariff {
    fn default() -> Self {
        Tariff {
            currency: "EUR".into(),
            commission_bps: 2_000,
            member_share_bps: 1_000,
            passage_per_run: 1,
            access_fee: 50,
            membership_per_year: 120_000,
            free_runs_per_month: free_runs(),
        }
    }
}
