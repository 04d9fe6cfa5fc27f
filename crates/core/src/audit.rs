//! The audit log: an append-only, hash-chained record of everything that touched a person's
//! data (invariant 5).
//!
//! Each entry's hash covers its sequence number, time, person, event and the previous entry's
//! hash, so editing, deleting, inserting or reordering entries breaks the chain at a place that
//! [`verify`] names. Entries are appended by the store in the same transaction as the action.
//!
//! May touch: nothing; pure data and hashing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::PersonId;

/// What happened. Each variant is one kind of action on the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditEvent {
    PersonAdded {
        person: PersonId,
    },
    CollectionDefined {
        collection: String,
    },
    RecordsImported {
        person: PersonId,
        collection: String,
        added: u64,
        duplicates: u64,
        /// `sha256:` of the file's name (the name is kept beside the chain), or empty.
        source: String,
        /// The organisation that returned the records (restitution), if any.
        #[serde(default)]
        returned_by: Option<String>,
    },
    PluginInstalled {
        digest: String,
        name: String,
    },
    PublisherTrusted {
        name: String,
        key: String,
    },
    PublisherRevoked {
        name: String,
    },
    RequestOpened {
        request: u64,
        person: PersonId,
        requester: String,
        digest: String,
    },
    RequestDecided {
        request: u64,
        person: PersonId,
        approved: bool,
    },
    GrantCreated {
        grant: u64,
        person: PersonId,
        digest: String,
        collections: Vec<String>,
    },
    GrantRevoked {
        grant: u64,
        person: PersonId,
    },
    AccountCreated {
        account: u64,
        role: crate::account::Role,
        person: Option<PersonId>,
    },
    TokenIssued {
        account: u64,
        token: u64,
    },
    ReceptionAccepted {
        reception: u64,
        person: PersonId,
        organisation: String,
        collection: String,
    },
    ReceptionRevoked {
        reception: u64,
        person: PersonId,
    },
    /// A person's erasure: the tombstone that stays in the chain. It holds counts only.
    PersonErased {
        person: PersonId,
        records: u64,
        runs: u64,
        grants: u64,
    },
    TokenRevoked {
        account: u64,
        token: u64,
    },
    Run {
        run: u64,
        person: PersonId,
        grant: u64,
        digest: String,
        /// Each collection read, with the fields delivered.
        read: Vec<(String, Vec<String>)>,
        records_read: u64,
        output_bytes: u64,
        fuel: u64,
        outcome: String,
        /// The campaign or study the run was a member's run of.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        job: Option<u64>,
    },
    JobOpened {
        job: u64,
        /// `campaign` or `study`.
        job_kind: String,
        owner: String,
        digest: String,
    },
    /// A member accepted a campaign's invitation and released the findings they chose.
    EvidenceReleased {
        job: u64,
        person: PersonId,
        association: String,
        findings: u32,
    },
    InvitationDeclined {
        job: u64,
        person: PersonId,
    },
    /// A job reserved (and so spent) part of a person's monthly privacy budget before running
    /// them, or could not, the budget being spent.
    BudgetReserved {
        job: u64,
        person: PersonId,
        epsilon_micro: u64,
        reserved: bool,
    },
    /// A job changed state: finished, released, withheld or settled.
    JobClosed {
        job: u64,
        status: String,
        /// Billing records written with it.
        billing: u32,
        /// Members whose privacy budget it charged.
        budget_charged: u32,
    },
    /// Ledger entries posted under a key (a run, a job, an access fee, a membership).
    LedgerPosted {
        key: String,
        entries: u32,
    },
    /// A person offers (or stops offering) to talk about a path they took.
    PeerOffer {
        offer: u64,
        person: PersonId,
        occupation: String,
        withdrawn: bool,
    },
    /// A person asked to talk with someone who took a path (the other side is not named).
    ContactAsked {
        contact: u64,
        person: PersonId,
        occupation: String,
    },
    /// A mentor answered a contact request (the seeker is not named).
    ContactAnswered {
        contact: u64,
        person: PersonId,
        accepted: bool,
    },
    /// An organisation licensed a plugin for members, or sponsors their runs.
    LicenceGranted {
        licence: u64,
        organisation: String,
        plugin: String,
        members: Vec<PersonId>,
    },
    TariffSet {
        commission_bps: u32,
        member_share_bps: u32,
        passage_per_run: i64,
        access_fee: i64,
        membership_per_year: i64,
    },
    PolicySet {
        k_floor: u32,
        campaign_gap_days: u32,
        epsilon_per_month_micro: u64,
        commission_bps: u32,
    },
}

/// The event in plain words, with the import source's name looked up beside the chain.
pub fn describe_in(store: &dyn crate::store::Store, e: &AuditEvent) -> String {
    if let AuditEvent::RecordsImported { person, source, .. } = e
        && let Some(digest) = source.strip_prefix("sha256:")
    {
        let name = store
            .source_name(*person, digest)
            .ok()
            .flatten()
            .unwrap_or_else(|| "an erased source".into());
        let mut named = e.clone();
        if let AuditEvent::RecordsImported { source, .. } = &mut named {
            *source = name;
        }
        return named.describe();
    }
    e.describe()
}

impl AuditEvent {
    /// The event in plain words.
    pub fn describe(&self) -> String {
        match self {
            AuditEvent::PersonAdded { person } => format!("person {person} joined"),
            AuditEvent::AccountCreated {
                account,
                role,
                person,
            } => match person {
                Some(p) => format!("account {account} ({role:?}) created for person {p}"),
                None => format!("account {account} ({role:?}) created"),
            },
            AuditEvent::ReceptionAccepted {
                reception,
                person,
                organisation,
                collection,
            } => format!(
                "person {person} agreed to receive {collection} from {organisation} (reception {reception})"
            ),
            AuditEvent::ReceptionRevoked { reception, person } => {
                format!("person {person} withdrew reception {reception}")
            }
            AuditEvent::PersonErased {
                person,
                records,
                runs,
                grants,
            } => format!(
                "person {person} erased: {records} records and {runs} runs deleted, {grants} grants revoked"
            ),
            AuditEvent::TokenIssued { account, token } => {
                format!("token {token} issued to account {account}")
            }
            AuditEvent::TokenRevoked { account, token } => {
                format!("token {token} of account {account} revoked")
            }
            AuditEvent::CollectionDefined { collection } => {
                format!("collection {collection} defined")
            }
            AuditEvent::RecordsImported {
                person,
                collection,
                added,
                duplicates,
                source,
                returned_by,
            } => match returned_by {
                Some(org) => format!(
                    "{added} records returned by {org} into person {person}'s {collection} ({duplicates} already there)"
                ),
                None => format!(
                    "{added} records imported into person {person}'s {collection} from {source} ({duplicates} already there)"
                ),
            },
            AuditEvent::PluginInstalled { digest, name } => {
                format!("plugin {name} installed ({})", &digest[..12])
            }
            AuditEvent::GrantCreated {
                grant,
                person,
                digest,
                collections,
            } => {
                format!(
                    "person {person} granted plugin {} access to {} (grant {grant})",
                    &digest[..12],
                    collections.join(", ")
                )
            }
            AuditEvent::RequestOpened {
                request,
                person,
                requester,
                digest,
            } => {
                format!(
                    "{requester} asked person {person} for access for plugin {} (request {request})",
                    &digest[..12]
                )
            }
            AuditEvent::RequestDecided {
                request,
                person,
                approved,
            } => {
                format!(
                    "person {person} {} request {request}",
                    if *approved { "approved" } else { "denied" }
                )
            }
            AuditEvent::PublisherTrusted { name, key } => {
                format!("publisher {name} trusted (key {})", &key[..16])
            }
            AuditEvent::PublisherRevoked { name } => format!("publisher {name}'s key revoked"),
            AuditEvent::GrantRevoked { grant, person } => {
                format!("person {person} revoked grant {grant}")
            }
            AuditEvent::JobOpened {
                job,
                job_kind,
                owner,
                digest,
            } => format!(
                "{owner} opened {job_kind} {job} with plugin {}",
                &digest[..12]
            ),
            AuditEvent::EvidenceReleased {
                job,
                person,
                association,
                findings,
            } => format!(
                "person {person} joined campaign {job} and released {findings} findings to {association}"
            ),
            AuditEvent::InvitationDeclined { job, person } => {
                format!("person {person} declined campaign {job}'s invitation")
            }
            AuditEvent::BudgetReserved {
                job,
                person,
                epsilon_micro,
                reserved,
            } => {
                let e = *epsilon_micro as f64 / 1e6;
                if *reserved {
                    format!("job {job} spent ε {e} of person {person}'s privacy budget")
                } else {
                    format!(
                        "job {job} did not run person {person}: ε {e} is more than their privacy budget has left"
                    )
                }
            }
            AuditEvent::JobClosed {
                job,
                status,
                billing,
                budget_charged,
            } => format!(
                "job {job} {status}: {billing} billing records, privacy budget charged to {budget_charged} members"
            ),
            AuditEvent::LedgerPosted { key, entries } => {
                format!("{entries} ledger entries posted for {key}")
            }
            AuditEvent::PeerOffer {
                person,
                occupation,
                withdrawn,
                ..
            } => {
                if *withdrawn {
                    format!("person {person} stopped offering to talk about {occupation}")
                } else {
                    format!("person {person} offers to talk about {occupation}")
                }
            }
            AuditEvent::ContactAsked {
                contact,
                person,
                occupation,
            } => format!(
                "person {person} asked to talk with someone who took {occupation} (contact {contact})"
            ),
            AuditEvent::ContactAnswered {
                contact,
                person,
                accepted,
            } => format!(
                "person {person} {} contact {contact}",
                if *accepted { "accepted" } else { "declined" }
            ),
            AuditEvent::LicenceGranted {
                licence,
                organisation,
                plugin,
                members,
            } => format!(
                "{organisation} licensed {plugin} for {} members (licence {licence})",
                members.len()
            ),
            AuditEvent::TariffSet {
                commission_bps,
                member_share_bps,
                passage_per_run,
                access_fee,
                membership_per_year,
            } => format!(
                "tariff set: commission {}%, member's share {}%, passage {passage_per_run}, access fee {access_fee}, membership {membership_per_year} a year (minor units)",
                *commission_bps as f64 / 100.0,
                *member_share_bps as f64 / 100.0
            ),
            AuditEvent::PolicySet {
                k_floor,
                campaign_gap_days,
                epsilon_per_month_micro,
                commission_bps,
            } => format!(
                "policy set: k at least {k_floor}, {campaign_gap_days} days between campaigns with one scanner, ε {} per member per month, commission {}%",
                *epsilon_per_month_micro as f64 / 1e6,
                *commission_bps as f64 / 100.0
            ),
            AuditEvent::Run {
                run,
                person,
                digest,
                read,
                records_read,
                outcome,
                job,
                ..
            } => {
                let fields: Vec<String> = read
                    .iter()
                    .map(|(c, f)| format!("{c}[{}]", f.join(",")))
                    .collect();
                format!(
                    "plugin {} read {records_read} records of person {person} ({}) in run {run}{}: {outcome}",
                    &digest[..12],
                    if fields.is_empty() {
                        "nothing".to_string()
                    } else {
                        fields.join(" ")
                    },
                    job.map(|j| format!(" for job {j}")).unwrap_or_default()
                )
            }
        }
    }

    /// The person whose data the event concerns, if any.
    pub fn person(&self) -> Option<PersonId> {
        match self {
            AuditEvent::PersonAdded { person }
            | AuditEvent::RecordsImported { person, .. }
            | AuditEvent::GrantCreated { person, .. }
            | AuditEvent::GrantRevoked { person, .. }
            | AuditEvent::RequestOpened { person, .. }
            | AuditEvent::RequestDecided { person, .. }
            | AuditEvent::Run { person, .. }
            | AuditEvent::EvidenceReleased { person, .. }
            | AuditEvent::PeerOffer { person, .. }
            | AuditEvent::ContactAsked { person, .. }
            | AuditEvent::ContactAnswered { person, .. }
            | AuditEvent::InvitationDeclined { person, .. }
            | AuditEvent::BudgetReserved { person, .. } => Some(*person),
            AuditEvent::AccountCreated { person, .. } => *person,
            AuditEvent::PersonErased { person, .. }
            | AuditEvent::ReceptionAccepted { person, .. }
            | AuditEvent::ReceptionRevoked { person, .. } => Some(*person),
            AuditEvent::CollectionDefined { .. }
            | AuditEvent::TokenIssued { .. }
            | AuditEvent::TokenRevoked { .. }
            | AuditEvent::PluginInstalled { .. }
            | AuditEvent::PublisherTrusted { .. }
            | AuditEvent::PublisherRevoked { .. }
            | AuditEvent::JobOpened { .. }
            | AuditEvent::JobClosed { .. }
            | AuditEvent::PolicySet { .. }
            | AuditEvent::LedgerPosted { .. }
            | AuditEvent::TariffSet { .. }
            | AuditEvent::LicenceGranted { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at_ms: i64,
    pub event: AuditEvent,
    /// Hex SHA-256 of the previous entry (all zeros for the first).
    pub prev: String,
    pub hash: String,
}

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn hash_of(seq: u64, at_ms: i64, event: &AuditEvent, prev: &str) -> String {
    let mut h = Sha256::new();
    h.update(seq.to_be_bytes());
    h.update(at_ms.to_be_bytes());
    h.update(serde_json::to_vec(event).unwrap_or_default());
    h.update(prev.as_bytes());
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl AuditEntry {
    /// The entry that follows `prev` (or the first one).
    pub fn next(prev: Option<&AuditEntry>, at_ms: i64, event: AuditEvent) -> AuditEntry {
        let (seq, prev_hash) = match prev {
            Some(p) => (p.seq + 1, p.hash.clone()),
            None => (0, GENESIS.to_string()),
        };
        let hash = hash_of(seq, at_ms, &event, &prev_hash);
        AuditEntry {
            seq,
            at_ms,
            event,
            prev: prev_hash,
            hash,
        }
    }
}

/// Where and how the chain breaks.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ChainError {
    #[error("entry {seq}: its content does not match its hash (edited)")]
    Edited { seq: u64 },
    #[error("entry {seq}: it does not follow the entry before it (deleted, inserted or reordered)")]
    Broken { seq: u64 },
    #[error(
        "entry at position {position} has sequence number {seq} (deleted, inserted or reordered)"
    )]
    Sequence { position: u64, seq: u64 },
}

/// Checks the whole chain, oldest first.
pub fn verify(entries: &[AuditEntry]) -> Result<(), ChainError> {
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        if e.seq != i as u64 {
            return Err(ChainError::Sequence {
                position: i as u64,
                seq: e.seq,
            });
        }
        if e.prev != prev {
            return Err(ChainError::Broken { seq: e.seq });
        }
        if hash_of(e.seq, e.at_ms, &e.event, &e.prev) != e.hash {
            return Err(ChainError::Edited { seq: e.seq });
        }
        prev = e.hash.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEntry> {
        let mut v: Vec<AuditEntry> = Vec::new();
        for p in 0..n {
            let e = AuditEntry::next(
                v.last(),
                1000 + p as i64,
                AuditEvent::PersonAdded { person: p },
            );
            v.push(e);
        }
        v
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(()));
    }

    #[test]
    fn each_kind_of_tampering_is_detected() {
        let mut edited = chain(5);
        edited[2].event = AuditEvent::PersonAdded { person: 99 };
        assert_eq!(verify(&edited), Err(ChainError::Edited { seq: 2 }));

        let mut deleted = chain(5);
        deleted.remove(2);
        assert!(matches!(
            verify(&deleted),
            Err(ChainError::Sequence { position: 2, .. })
        ));

        let mut reordered = chain(5);
        reordered.swap(1, 3);
        assert!(verify(&reordered).is_err());

        // An inserted entry re-hashed to look valid still breaks the link after it.
        let mut inserted = chain(5);
        let fake = AuditEntry::next(Some(&inserted[1]), 5, AuditEvent::PersonAdded { person: 7 });
        inserted.insert(2, fake);
        for (i, e) in inserted.iter_mut().enumerate().skip(3) {
            e.seq = i as u64;
        }
        assert!(verify(&inserted).is_err());
    }
}
