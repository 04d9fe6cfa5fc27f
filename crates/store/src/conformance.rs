//! The conformance suite every [`Store`] backend must pass, unchanged.
//!
//! Each check states one behaviour of the trait with concrete values, on a fresh empty store,
//! and panics naming what differs. [`CHECKS`] lists them by name; [`run_all`] runs each on a
//! store of its own and then verifies the audit chain the check left, and fails naming every
//! check that did not pass. [`survives_reopening`] is the one check that needs the same store
//! opened twice.
//!
//! A backend's test is a few lines:
//!
//! ```ignore
//! insitu::store::conformance::run_all(&|| Arc::new(MyStore::open_fresh()));
//! ```
//!
//! Whole listings are in id order (oldest first), paged ones newest first (`Page`); assigned
//! ids are never 0 (0 means "assign one").
//! Times stored by the backend itself (audit entries, decisions) are asserted only to come
//! from its clock (`Clocked::now_ms`); [`clock`] runs that check alone, for a backend opened
//! on a clock that stands still far from the system's.
//!
//! May touch: only the store it is given. Not behind `cfg(test)`, so that a backend in
//! another crate can call it.

mod audit;
mod codesign;
mod consent;
mod erasure;
mod jobs;
mod ledger;
mod listings;
mod records;
mod runs;

pub use jobs::campaign;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use super::{KeyedRecord, PersonId, Schema, Store, Value};
use crate::{Field, FieldType, TimeRange};
use insitu_model::audit::{AuditEntry, AuditEvent, Chain};
use insitu_model::consent::{Grant, GrantedCollection};
use insitu_model::meter::{Outcome, RunRecord};

/// One check: panics when `store` does not behave as the trait promises.
pub type Check = fn(&dyn Store);

/// Every check, by name. Each expects a fresh, empty store.
pub const CHECKS: &[(&str, Check)] = &[
    // people, collections, records
    ("people_get_ids_and_keep_names", records::people),
    ("collections_define_once_and_list", records::collections),
    ("schemas_cannot_change", records::schema_conflict),
    (
        "write_records_counts_added_duplicates_taken_changed",
        records::write_records,
    ),
    ("records_at_reads_stored_values", records::records_at),
    (
        "write_collections_defines_and_writes",
        records::write_collections,
    ),
    (
        "write_collections_is_all_or_nothing",
        records::write_collections_atomic,
    ),
    (
        "scan_keeps_time_range_order_and_projection",
        records::scan_range,
    ),
    ("scan_batches_hold_at_most_max", records::scan_batches),
    (
        "a_cursor_is_exhausted_only_with_nothing_left_and_once_a_batch_comes_short",
        records::scan_exhausted,
    ),
    (
        "interleaved_writes_read_as_one_collection",
        records::interleaved_writes,
    ),
    (
        "scan_and_count_stay_in_one_person_and_collection",
        records::isolation,
    ),
    ("source_names_are_kept_beside_the_chain", records::sources),
    // plugins, publishers, consent, accounts
    ("plugins_are_stored_by_digest", consent::plugins),
    (
        "publishers_are_trusted_replaced_and_revoked",
        consent::publishers,
    ),
    (
        "requests_are_stored_and_listed_by_person",
        consent::requests,
    ),
    (
        "a_request_that_went_nowhere_leaves_no_trace",
        consent::nowhere,
    ),
    (
        "decide_request_approves_with_a_grant_or_denies_once",
        consent::decide,
    ),
    (
        "the_store_stamps_its_own_times_by_its_clock",
        consent::clock,
    ),
    ("grants_are_added_listed_and_revoked", consent::grants),
    (
        "a_plugins_unrevoked_grants_are_read_by_its_digest",
        consent::unrevoked,
    ),
    (
        "receptions_are_added_listed_and_revoked",
        consent::receptions,
    ),
    ("account_names_are_unique_by_key", consent::accounts),
    ("tokens_are_found_by_hash_and_revoked", consent::tokens),
    (
        "erase_person_deletes_revokes_and_keeps_each_kind_of_data_as_the_model_says",
        erasure::erase,
    ),
    // runs, audit, secrets
    ("record_run_assigns_an_id_and_audits", runs::record),
    (
        "begin_run_is_unaudited_until_finish_run",
        runs::begin_finish,
    ),
    ("reserved_run_ids_are_never_given_again", runs::reserve_ids),
    ("running_runs_are_read_by_their_index", runs::running),
    ("runs_are_listed_by_person", runs::by_person),
    (
        "visit_runs_since_starts_at_the_time_and_stops_on_request",
        runs::visit_since,
    ),
    ("append_audit_chains_each_entry_to_the_last", runs::chain),
    ("compiled_hashes_are_kept_unaudited", runs::compiled),
    ("components_are_kept_by_digest_unaudited", runs::components),
    ("pseudonym_key_is_stable_and_secret", runs::pseudonym),
    (
        "every_missing_thing_is_its_own_error_and_leaves_no_trace",
        runs::errors,
    ),
    // jobs, budget, billing, peers
    ("policy_defaults_and_is_set", jobs::policy),
    ("jobs_get_ids_and_are_listed", jobs::jobs),
    (
        "running_and_recent_jobs_are_read_by_their_indexes",
        jobs::running_and_recent,
    ),
    (
        "record_members_keeps_each_member_once_with_its_run",
        jobs::members,
    ),
    (
        "answer_invitation_once_by_a_matched_campaign_member",
        jobs::answer,
    ),
    ("close_job_once_with_billing_and_budget", jobs::close),
    (
        "work_queues_lease_each_task_to_one_node_and_audit_each_claim",
        jobs::work_queue,
    ),
    (
        "reserve_budget_within_budget_and_once_per_job",
        jobs::budget,
    ),
    (
        "offers_and_contacts_are_audited_by_the_acting_side",
        jobs::peers,
    ),
    // tariff, ledger, licences
    ("tariff_defaults_and_is_set", ledger::tariff),
    ("post_is_idempotent_by_key", ledger::post),
    ("post_many_posts_each_new_key", ledger::post_many),
    ("licences_are_stored_and_audited", ledger::licences),
    // paged listings
    ("runs_are_paged_newest_first_by_owner", listings::runs),
    (
        "requests_grants_and_receptions_are_paged_newest_first_by_owner",
        listings::consent,
    ),
    (
        "memberships_are_paged_newest_job_first",
        listings::memberships,
    ),
    (
        "a_partys_ledger_entries_are_read_and_paged_by_party",
        listings::ledger,
    ),
    (
        "jobs_are_paged_newest_first_by_organisation",
        listings::jobs,
    ),
    ("tokens_are_paged_newest_first_by_account", listings::tokens),
    (
        "proposals_are_paged_newest_first_by_each_listing_and_move_with_their_status",
        listings::proposals,
    ),
    // audit chains and checkpoints
    ("audit_chains_are_per_person_and_paged", audit::chains),
    (
        "audit_appends_from_8_threads_for_8_people_all_land",
        audit::concurrent,
    ),
    ("checkpoints_round_trip_in_turn", audit::checkpoints),
    // co-design
    (
        "proposals_are_audited_by_version_and_review",
        codesign::proposals,
    ),
    (
        "contributions_and_votes_need_an_open_proposal_and_tallies_are_drawn_once",
        codesign::contributions_and_votes,
    ),
    (
        "pledges_move_money_through_escrow_and_settle_once",
        codesign::pledges,
    ),
    (
        "a_change_lets_earlier_pledgers_withdraw_after_the_deadline",
        codesign::changes_reopen_withdrawal,
    ),
    (
        "per_member_caps_and_a_ballots_close_hold_inside_the_transaction",
        codesign::caps_and_closes,
    ),
    // many threads at once
    (
        "concurrent_calls_give_distinct_ids_and_act_once",
        ledger::concurrent,
    ),
];

/// Runs every check on a store of its own from `open` (which must give a fresh, empty store
/// each call), printing each name and outcome; then panics listing the checks that failed.
/// After each check, the audit chains it left must verify ([`crate::verify::verify_all`]).
pub fn run_all(open: &dyn Fn() -> Arc<dyn Store>) {
    let mut failed = Vec::new();
    for (name, check) in CHECKS {
        let store = open();
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            check(store.as_ref());
            if let Err(e) = crate::verify::verify_all(store.as_ref(), None) {
                panic!("the audit chains the check left do not verify: {e}");
            }
        }));
        match result {
            Ok(()) => eprintln!("store conformance: {name} ... ok"),
            Err(payload) => {
                let why = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                eprintln!("store conformance: {name} ... FAILED: {why}");
                failed.push(*name);
            }
        }
    }
    assert!(
        failed.is_empty(),
        "store conformance: {} of {} checks failed: {}",
        failed.len(),
        CHECKS.len(),
        failed.join(", ")
    );
}

/// The check that the store stamps its own times (audit entries, decisions) by its clock, to
/// run on a store opened with a test's clock set far from the system's: a backend that read
/// the system clock instead fails it.
pub fn clock(store: &dyn Store) {
    consent::clock(store);
}

/// What a store acknowledged is there when it is opened again: people, records, runs, a
/// posting, the audit log, the pseudonym key, and the id counters (no id is given twice).
/// `open` opens the same store each call; the first call finds it empty. Each handle is
/// dropped before the next open.
pub fn survives_reopening(open: &dyn Fn() -> Arc<dyn Store>) {
    let store = open();
    let p = store.add_person("ada").expect("add_person");
    store.define_collection(&events()).expect("define");
    let w = store
        .write_records(p, EVENTS, &[event(1, 10, "a", Some(1))], FILE)
        .expect("write_records");
    assert_eq!(w.added, 1);
    let run = store
        .record_run(finished(RunRecord::new(p, 1, "d", 10)))
        .expect("record_run");
    store.post("run:1", vec![]).expect("post");
    store
        .put_component("d", b"\0asm component")
        .expect("put_component");
    let key = store.pseudonym_key().expect("pseudonym_key");
    let log = store.audit_log().expect("audit_log");
    drop(store);

    let store = open();
    assert_eq!(store.person(p).expect("person").name, "ada");
    assert_eq!(
        store.count(p, EVENTS).expect("count"),
        1,
        "a written record was lost"
    );
    assert_eq!(store.run(run.id).expect("run"), run);
    assert!(store.posted("run:1").expect("posted"), "a posting was lost");
    assert_eq!(
        store.component("d").expect("component").as_deref(),
        Some(&b"\0asm component"[..]),
        "an installed component was lost"
    );
    assert_eq!(
        store.pseudonym_key().expect("pseudonym_key"),
        key,
        "the pseudonym key changed on reopening: every plugin-visible id would change"
    );
    assert_eq!(store.audit_log().expect("audit_log"), log);
    let q = store.add_person("bob").expect("add_person");
    assert!(q > p, "person id {q} given again after reopening (had {p})");
    let again = store
        .record_run(finished(RunRecord::new(p, 1, "d", 20)))
        .expect("record_run");
    assert!(again.id > run.id, "run id {} given again", again.id);
    if let Err(e) = crate::verify::verify_all(store.as_ref(), None) {
        panic!("the audit chains do not verify after reopening: {e}");
    }
}

// Shared fixtures.

/// The collection most checks write to.
const EVENTS: &str = "conformance.events";
const FILE: super::Source<'static> = super::Source::File("events.csv");

/// `conformance.events`: a required time, a text, an optional integer.
fn events() -> Schema {
    Schema {
        name: EVENTS.into(),
        fields: vec![
            field("at", FieldType::Timestamp, false),
            field("label", FieldType::Text, false),
            field("amount", FieldType::Integer, true),
        ],
        time_field: Some("at".into()),
    }
}

fn field(name: &str, ty: FieldType, optional: bool) -> Field {
    Field {
        name: name.into(),
        ty,
        optional,
    }
}

/// A record of [`events`].
fn event(id: u64, time: i64, label: &str, amount: Option<i64>) -> KeyedRecord {
    KeyedRecord {
        id,
        time,
        values: vec![
            Value::Timestamp(time),
            Value::Text(label.into()),
            amount.map_or(Value::Null, Value::Integer),
        ],
    }
}

/// A person with [`events`] defined.
fn person_with_events(store: &dyn Store, name: &str) -> PersonId {
    store
        .define_collection(&events())
        .expect("define_collection");
    store.add_person(name).expect("add_person")
}

/// A live grant of `events.label` to plugin `digest`.
fn grant(person: PersonId, digest: &str) -> Grant {
    Grant {
        id: 0,
        person,
        plugin_digest: digest.into(),
        collections: vec![GrantedCollection {
            name: EVENTS.into(),
            fields: vec!["label".into()],
        }],
        window: TimeRange::ALL,
        created_ms: 1_000,
        expires_ms: Some(9_000),
        revoked_ms: None,
        origin: None,
    }
}

/// `run`, succeeded.
fn finished(mut run: RunRecord) -> RunRecord {
    run.outcome = Outcome::Succeeded;
    run.log = "done".into();
    run
}

/// Where every audit chain ends now: how many entries each has.
#[derive(Debug, Clone, Default)]
struct Mark(std::collections::BTreeMap<Chain, u64>);

fn audit_mark(store: &dyn Store) -> Mark {
    Mark(
        store
            .audit_heads()
            .expect("audit_heads")
            .into_iter()
            .map(|h| (h.chain, h.seq + 1))
            .collect(),
    )
}

/// The audit entries appended since `since`, chain by chain (by key), each oldest first.
fn audit_since(store: &dyn Store, since: &Mark) -> Vec<AuditEntry> {
    let mut new = Vec::new();
    for head in store.audit_heads().expect("audit_heads") {
        let after = since.0.get(&head.chain).map(|n| n - 1);
        new.extend(
            store
                .audit_chain(head.chain, after, usize::MAX)
                .expect("audit_chain"),
        );
    }
    new
}

/// An event's kind as stored (`person_added`, `run`, ...).
fn kind(event: &AuditEvent) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_default()
}

/// Asserts that `what` appended exactly the events of `kinds` since `since`, each in its own
/// chain ([`Chain::of`]), in that order within each chain (chains are independent: the order
/// between entries of different chains is not kept), and returns them in the order of `kinds`.
#[track_caller]
fn expect_audit(store: &dyn Store, since: &Mark, what: &str, kinds: &[&str]) -> Vec<AuditEvent> {
    let mut new = audit_since(store, since);
    for e in &new {
        assert_eq!(
            e.chain,
            Chain::of(&e.event),
            "{what}: an entry is in the wrong chain"
        );
    }
    let mut got: Vec<String> = new.iter().map(|e| kind(&e.event)).collect();
    let mut want: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
    let chains: std::collections::BTreeSet<Chain> = new.iter().map(|e| e.chain).collect();
    if chains.len() > 1 {
        got.sort();
        want.sort();
    }
    assert_eq!(
        got, want,
        "{what}: the audit entries it appended are not the ones the trait promises"
    );
    let mut ordered = Vec::with_capacity(new.len());
    for k in kinds {
        let at = new
            .iter()
            .position(|e| kind(&e.event) == *k)
            .expect("counted above");
        ordered.push(new.remove(at).event);
    }
    ordered
}

/// Asserts that `result` is the error `matches` accepts.
#[track_caller]
fn expect_err<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, super::StoreError>,
    matches: impl FnOnce(&super::StoreError) -> bool,
) {
    match result {
        Err(e) if matches(&e) => {}
        other => panic!("{what}: wrong answer {other:?}"),
    }
}
