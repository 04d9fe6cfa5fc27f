//! Erasure: each kind of a person's data deleted, revoked or kept as the model says
//! (`PersonData::on_erasure`), the counts and the tombstone, and nobody else's data touched.

use sha2::Digest as _;

use super::codesign;
use super::consent::{account, reception, request, token};
use super::jobs::{self, PERIOD, bill};
use super::{EVENTS, audit_mark, event, expect_audit, expect_err, finished, grant};
use crate::{Erased, Erasure, Page, PersonData, PersonId, Proposals, Source, Store, StoreError};
use insitu_model::audit::AuditEvent;
use insitu_model::codesign::{Ballot, Vote};
use insitu_model::job::{Job, JobStatus, MemberOutcome};
use insitu_model::ledger::{Entry, Movement, Party};
use insitu_model::meter::RunRecord;
use insitu_model::output::Money;

/// One person's share of every kind of data erasure touches, but the billing records (which
/// `erase` writes for everyone at once, as a job closes once). Returns their account's id.
fn populate(store: &dyn Store, p: PersonId, name: &str, job: u64, other: PersonId) -> u64 {
    store
        .write_records(
            p,
            EVENTS,
            &[event(1, 10, "a", None), event(2, 20, "b", None)],
            Source::File(name),
        )
        .expect("write_records");
    let g = store.add_grant(grant(p, "d1")).expect("add_grant");
    let old = store.add_grant(grant(p, "d1")).expect("add_grant");
    store.revoke_grant(old.id, 2_000).expect("revoke_grant");
    store
        .record_run(finished(RunRecord::new(p, g.id, "d1", 100)))
        .expect("record_run");
    let a = store
        .add_account(account(name, Some(p)))
        .expect("add_account");
    store.add_token(token(a.id, name)).expect("add_token");
    let m = jobs::member(p, MemberOutcome::NoMatch);
    store
        .record_members(job, vec![(None, m)])
        .expect("record_members");
    let o = store.put_offer(jobs::offer(p)).expect("put_offer");
    store
        .put_contact(jobs::contact(o.id, other, p))
        .expect("put_contact");
    store.add_request(request(p, false)).expect("add_request");
    store.add_reception(reception(p)).expect("add_reception");
    store
        .reserve_budget(job, &[p], PERIOD, 100_000, 1_000_000)
        .expect("reserve_budget");
    let paid = Entry {
        id: 0,
        at_ms: 3,
        key: String::new(),
        debit: Party::Operator,
        credit: Party::Person(p),
        amount: Money {
            minor: 5,
            currency: "EUR".into(),
        },
        movement: Movement::MemberShare,
        memo: "share".into(),
    };
    store
        .post(&format!("erasure:{p}"), vec![paid])
        .expect("post");
    let proposal = match store
        .proposals_page(&Proposals::All, Page::first(1))
        .expect("proposals")
        .first()
    {
        Some(x) => x.id,
        None => {
            store
                .put_proposal(codesign::proposal("thermo", true))
                .expect("put_proposal")
                .id
        }
    };
    store
        .add_contribution(codesign::comment(proposal, p, name))
        .expect("add_contribution");
    store
        .cast_vote(Vote {
            ballot: Ballot::Options(proposal),
            member: p,
            choice: 0,
            at_ms: 5,
        })
        .expect("cast_vote");
    store
        .pledge(codesign::pledge(proposal, p, 300, 5))
        .expect("pledge");
    a.id
}

/// Whom the data of a kind is looked up for.
struct Who<'a> {
    person: PersonId,
    name: &'a str,
    account: u64,
}

/// The data of `kind` the store holds about `who`, each item in its debug form.
fn held(store: &dyn Store, kind: PersonData, who: &Who<'_>) -> Vec<String> {
    fn all<T: std::fmt::Debug>(items: impl IntoIterator<Item = T>) -> Vec<String> {
        items.into_iter().map(|i| format!("{i:?}")).collect()
    }
    let p = who.person;
    let party = Party::Person(p);
    match kind {
        PersonData::Person => all(store.person(p).ok()),
        // Counted and read: a backend that keeps records' values apart from their keys must
        // erase both.
        PersonData::Records => {
            let mut held = match store.count(p, EVENTS).expect("count") {
                0 => vec![],
                n => vec![format!("{n} records")],
            };
            let mut c = store
                .scan(p, EVENTS, crate::TimeRange::ALL, &[])
                .expect("scan");
            while let Some((b, _)) = c.next_batch(1000).expect("next_batch") {
                held.extend(b.ids.iter().map(|id| format!("record {id}")));
            }
            held
        }
        PersonData::SourceNames => {
            let digest = insitu_model::audit::hex(&sha2::Sha256::digest(who.name.as_bytes()));
            all(store.source_name(p, &digest).expect("source_name"))
        }
        PersonData::Runs => all(store.runs(Some(p)).expect("runs")),
        PersonData::Accounts => all([
            store.account(who.account).expect("account"),
            store.account_by_name(who.name).expect("account_by_name"),
        ]
        .into_iter()
        .flatten()),
        PersonData::Tokens => all(store.token_by_hash(who.name).expect("token_by_hash")),
        PersonData::Memberships => all(store.memberships(p).expect("memberships")),
        PersonData::Offers => all(store
            .offers()
            .expect("offers")
            .into_iter()
            .filter(|o| o.person == p)),
        PersonData::Contacts => all(store
            .contacts()
            .expect("contacts")
            .into_iter()
            .filter(|c| c.seeker == p || c.mentor == p)),
        PersonData::Grants => all(store.grants(Some(p)).expect("grants")),
        PersonData::Requests => all(store.requests(Some(p)).expect("requests")),
        PersonData::Receptions => all(store.receptions(Some(p)).expect("receptions")),
        PersonData::Budgets => match store.budget_spent(p, PERIOD).expect("budget_spent") {
            0 => vec![],
            n => vec![format!("{n} millionths of ε in {PERIOD}")],
        },
        PersonData::Billing => all(store
            .billing(None)
            .expect("billing")
            .into_iter()
            .filter(|b| b.to == party)),
        PersonData::Ledger => all(store
            .ledger()
            .expect("ledger")
            .into_iter()
            .filter(|e| e.debit == party || e.credit == party)),
        PersonData::Audit => all(store
            .audit_log()
            .expect("audit_log")
            .into_iter()
            .filter(|e| {
                e.event.person() == Some(p) && !matches!(e.event, AuditEvent::PersonErased { .. })
            })),
        PersonData::Contributions => {
            let mut held = Vec::new();
            for x in crate::walk(
                64,
                |x: &insitu_model::codesign::Proposal| x.id,
                |page| store.proposals_page(&Proposals::All, page),
            )
            .expect("proposals")
            {
                held.extend(all(store
                    .contributions(x.id)
                    .expect("contributions")
                    .into_iter()
                    .filter(|c| c.member == p)));
                held.extend(all(store
                    .votes(&x.ballot())
                    .expect("votes")
                    .into_iter()
                    .filter(|v| v.member == p)));
            }
            held
        }
        PersonData::Pledges => all(store.pledges_of(p).expect("pledges_of")),
    }
}

pub(super) fn erase(store: &dyn Store) {
    let p = super::person_with_events(store, "ada");
    let q = store.add_person("bob").expect("add_person");
    let campaign = store.add_job(jobs::campaign()).expect("add_job");
    let job = campaign.id;
    let pa = populate(store, p, "ada", job, q);
    let qa = populate(store, q, "bob", job, q + 100);
    store
        .close_job(
            &Job {
                status: JobStatus::Finished { at_ms: 40 },
                ..campaign
            },
            vec![
                bill(job, Party::Person(p), 7),
                bill(job, Party::Person(q), 8),
            ],
            &[],
            PERIOD,
        )
        .expect("close_job");
    let (ada, bob) = (
        Who {
            person: p,
            name: "ada",
            account: pa,
        },
        Who {
            person: q,
            name: "bob",
            account: qa,
        },
    );
    let before = PersonData::ALL.map(|kind| (kind, held(store, kind, &ada)));
    for (kind, was) in &before {
        assert!(!was.is_empty(), "{kind:?}: the check holds none to erase");
    }
    let others = PersonData::ALL.map(|kind| held(store, kind, &bob));
    let n = audit_mark(store);

    let e = store.erase_person(p, 7_000).expect("erase_person");
    assert_eq!(
        e,
        Erasure {
            records: 2,
            runs: 1,
            grants: 1,
            accounts: 1
        },
        "the erasure's counts (grants: the live ones it revoked)"
    );
    let events = expect_audit(store, &n, "erase_person", &["person_erased"]);
    assert_eq!(
        events[0],
        AuditEvent::PersonErased {
            person: p,
            records: 2,
            runs: 1,
            grants: 1
        }
    );
    for (kind, was) in before {
        let now = held(store, kind, &ada);
        match kind.on_erasure() {
            Erased::Deleted => assert!(now.is_empty(), "{kind:?}: erasure deletes {now:?}"),
            Erased::Kept => assert_eq!(now, was, "{kind:?}: erasure keeps it as it was"),
            Erased::Revoked => {
                assert_eq!(now.len(), was.len(), "{kind:?}: erasure keeps each");
                let revoked: Vec<Option<i64>> = store
                    .grants(Some(p))
                    .expect("grants")
                    .iter()
                    .map(|g| g.revoked_ms)
                    .collect();
                assert_eq!(
                    revoked,
                    vec![Some(7_000), Some(2_000)],
                    "{kind:?}: the live one revoked at the erasure, the other as it was"
                );
            }
        }
    }
    assert_eq!(
        store
            .people()
            .expect("people")
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        vec![q]
    );
    // The other person keeps everything but their contact with the erased one.
    for (kind, was) in PersonData::ALL.into_iter().zip(others) {
        let mut now = held(store, kind, &bob);
        if kind == PersonData::Contacts {
            now.extend(held(store, kind, &ada));
            assert_eq!(now.len() + 1, was.len(), "bob's contact with ada goes");
        } else {
            assert_eq!(now, was, "{kind:?}: another person's data is left alone");
        }
    }
    // A name is free again once its account is erased.
    store
        .add_account(account("ada", None))
        .expect("the name is free");
    expect_err(
        "erasing twice",
        store.erase_person(p, 8_000),
        |e| matches!(e, StoreError::NoPerson(x) if *x == p),
    );
}
