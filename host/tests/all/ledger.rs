//! The ledger: no sequence of operations creates or loses money, a key is never billed twice,
//! and runs, access fees, settlements and rewards land on the right accounts.

use insitu_core::campaign::split;
use insitu_core::job::BillingRecord;
use insitu_core::ledger::{self, Entry, Movement, Party, Tariff};
use insitu_core::output::Money;
use insitu_core::package::Pricing;
use insitu_core::store::prelude::*;
use insitu_core::store::redb::RedbStore;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Run {
        id: u64,
        pricing: (i64, i64, i64),
        usage: (u64, u64),
        tariff: (u32, u32, i64),
        payer: u8,
        member: u64,
    },
    Access {
        grant: u64,
        fee: i64,
    },
    Membership {
        brand: u8,
        year: i32,
    },
    Settlement {
        job: u64,
        amount: i64,
        commission_bps: u32,
        association_bps: u32,
        losses: Vec<i64>,
    },
    /// Posts again a key posted earlier (a retried billing step).
    Again(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            1..1_000u64,
            (0..500i64, 0..100i64, 0..50i64),
            (0..20_000_000_000u64, 0..2_000_000u64),
            (0..5_000u32, 0..5_000u32, 0..10i64),
            0..4u8,
            prop_oneof![1..20u64, Just(99u64)]
        )
            .prop_map(|(id, pricing, usage, tariff, payer, member)| Op::Run {
                id,
                pricing,
                usage,
                tariff,
                payer,
                member
            }),
        (1..1_000u64, 0..1_000i64).prop_map(|(grant, fee)| Op::Access { grant, fee }),
        (0..3u8, 2020..2030i32).prop_map(|(brand, year)| Op::Membership { brand, year }),
        (
            1..100u64,
            1..10_000_000i64,
            0..3_000u32,
            0..3_000u32,
            prop::collection::vec(0..100_000i64, 1..20)
        )
            .prop_map(|(job, amount, commission_bps, association_bps, losses)| {
                Op::Settlement {
                    job,
                    amount,
                    commission_bps,
                    association_bps,
                    losses,
                }
            }),
        (0..50usize).prop_map(Op::Again),
    ]
}

fn payer(n: u8) -> Party {
    match n {
        0 => Party::Organisation("school".into()),
        1 => Party::Organisation("lab".into()),
        2 => Party::Person(99),
        _ => Party::Developer("other-dev".into()),
    }
}

/// The postings an operation makes: (key, entries), and what the payer must have paid.
fn postings(op: &Op, at: i64) -> Vec<(String, Vec<Entry>, i64)> {
    match op {
        Op::Run {
            id,
            pricing,
            usage,
            tariff,
            payer: p,
            member,
        } => {
            let pricing = Pricing {
                currency: "EUR".into(),
                per_run: pricing.0,
                per_million_fuel: pricing.1,
                per_thousand_records: pricing.2,
            };
            let t = Tariff {
                commission_bps: tariff.0,
                member_share_bps: tariff.1,
                passage_per_run: tariff.2,
                ..Tariff::default()
            };
            let payer = payer(*p);
            let bill = ledger::RunBill {
                run: *id,
                at_ms: at,
                payer: &payer,
                developer: "acme",
                member: *member,
                licence: None,
            };
            // `usage` is the run's declared budget, which its price is computed from.
            let price = ledger::price(&pricing, usage.0, usage.1).unwrap();
            let money = Money {
                minor: price,
                currency: "EUR".into(),
            };
            let e = ledger::run_entries(&bill, &money, &t).unwrap();
            let due = price + tariff.2;
            vec![(format!("run:{id}"), e, due)]
        }
        Op::Access { grant, fee } => {
            let e = ledger::entries(
                "",
                at,
                vec![(
                    Party::Organisation("lab".into()),
                    Party::Operator,
                    *fee,
                    Movement::AccessFee,
                    "access".into(),
                )],
                "EUR",
            )
            .unwrap();
            vec![(format!("grant:{grant}"), e, *fee)]
        }
        Op::Membership { brand, year } => {
            let fee = Tariff::default().membership_per_year;
            let e = ledger::entries(
                "",
                at,
                vec![(
                    Party::Organisation(format!("brand{brand}")),
                    Party::Operator,
                    fee,
                    Movement::Membership,
                    format!("membership {year}"),
                )],
                "EUR",
            )
            .unwrap();
            vec![(format!("membership:brand{brand}:{year}"), e, fee)]
        }
        Op::Settlement {
            job,
            amount,
            commission_bps,
            association_bps,
            losses,
        } => {
            let commission = ledger::share(*amount, *commission_bps);
            let association = ledger::share(*amount, *association_bps);
            let shares = split(*amount - commission - association, losses);
            let record = |to: Party, minor: i64| BillingRecord {
                id: 0,
                job: *job,
                at_ms: at,
                from: Party::Organisation("Agence Dupont".into()),
                to,
                amount: Money {
                    minor,
                    currency: "EUR".into(),
                },
                movement: Movement::Settlement,
                memo: "compensation".into(),
            };
            let mut records = vec![
                record(Party::Operator, commission),
                record(Party::Organisation("ufc".into()), association),
            ];
            for (i, s) in shares.iter().enumerate() {
                records.push(record(Party::Person(i as u64 + 1), *s));
            }
            vec![(
                format!("job:{job}"),
                ledger::take_over(&records, at).unwrap(),
                *amount,
            )]
        }
        Op::Again(_) => Vec::new(),
    }
}

proptest! {
    // Failures are kept beside this file, in `ledger.proptest-regressions`: the default
    // (`SourceParallel`) would put them in `tests/proptest-regressions/ledger.txt`, since
    // `tests/all` has a `main.rs`.
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_sequence_of_operations_creates_or_loses_money(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(&dir.path().join("l.redb")).unwrap();
        let mut posted: Vec<(String, Vec<Entry>)> = Vec::new();
        for op in &ops {
            let before = store.ledger().unwrap().len();
            if let Op::Again(i) = op {
                if let Some((key, entries)) = posted.get(*i % posted.len().max(1)).cloned() {
                    let again = store.post(&key, Vec::new()).unwrap();
                    prop_assert_eq!(&again, &entries, "a key posted again returns what it holds");
                    prop_assert_eq!(store.ledger().unwrap().len(), before, "and adds nothing");
                }
                continue;
            }
            for (key, entries, due) in postings(op, 1_700_000_000_000) {
                let fresh = !store.posted(&key).unwrap();
                let stored = store.post(&key, entries.clone()).unwrap();
                if fresh {
                    // What the payer paid is exactly what was due: nothing created or lost
                    // in the split, to the unit.
                    prop_assert!(stored.iter().all(|e| e.amount.minor > 0));
                    prop_assert!(stored.iter().all(|e| e.debit != e.credit));
                    // Members are paid through the operator: count what the payer paid.
                    let paid: i64 = stored
                        .iter()
                        .filter(|e| e.debit != Party::Operator)
                        .map(|e| e.amount.minor)
                        .sum();
                    if matches!(op, Op::Settlement { .. }) {
                        // The payer's side shows no line per member.
                        prop_assert!(stored.iter().all(|e| !matches!(e.credit, Party::Person(_)) || e.debit == Party::Operator));
                    }
                    let payer_kept = match op {
                        // A member paying for their own run keeps their share.
                        Op::Run { payer: 2, member: 99, tariff, pricing, usage, .. } => {
                            let p = ledger::price(
                                &Pricing { currency: "EUR".into(), per_run: pricing.0, per_million_fuel: pricing.1, per_thousand_records: pricing.2 },
                                usage.0, usage.1,
                            ).unwrap();
                            ledger::share(p, tariff.1)
                        }
                        _ => 0,
                    };
                    prop_assert_eq!(paid + payer_kept, due, "{:?}", op);
                    posted.push((key, stored));
                } else {
                    prop_assert_eq!(store.ledger().unwrap().len(), before, "a key is billed once");
                }
            }
            let all = store.ledger().unwrap();
            for (currency, sum) in ledger::trial_balance(&all) {
                prop_assert_eq!(sum, 0, "{} does not balance", currency);
            }
        }
        // Every entry is in exactly one posting, and balances are the fold of the entries.
        let all = store.ledger().unwrap();
        let mut ids: Vec<u64> = posted.iter().flat_map(|(_, e)| e.iter().map(|e| e.id)).collect();
        ids.sort_unstable();
        prop_assert_eq!(ids, all.iter().map(|e| e.id).collect::<Vec<_>>());
        let total_debits: i64 = all.iter().map(|e| e.amount.minor).sum();
        let credits: i64 = ledger::balances(&all).values().filter(|v| **v > 0).sum();
        let debits: i64 = -ledger::balances(&all).values().filter(|v| **v < 0).sum::<i64>();
        prop_assert_eq!(credits, debits);
        prop_assert!(credits <= total_debits);
    }
}

#[test]
fn a_statement_adds_up_and_exports_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("l.redb")).unwrap();
    let lab = Party::Organisation("lab".into());
    let move_ = |key: &str, at: i64, minor: i64, to: Party| {
        let e = ledger::entries(
            "",
            at,
            vec![(lab.clone(), to, minor, Movement::AccessFee, "fee".into())],
            "EUR",
        )
        .unwrap();
        store.post(key, e).unwrap();
    };
    move_("a", 100, 1_000, Party::Operator);
    move_("b", 200, 250, Party::Operator);
    move_("c", 300, 75, Party::Person(4));
    let st = ledger::statement(&store.ledger().unwrap(), &lab, 150, 1_000);
    assert_eq!(st.lines.len(), 2);
    assert_eq!(st.totals["EUR"], (-1_000, 325, 0, -1_325));
    let csv = st.to_csv();
    assert!(
        csv.starts_with("line,date,key,movement,from,to,amount,currency,memo\n"),
        "{csv}"
    );
    assert!(
        csv.contains(",access_fee,org:lab,operator,-2.50,EUR,fee"),
        "{csv}"
    );
    assert!(csv.contains("closing balance,,,-13.25,EUR"), "{csv}");
    let json = serde_json::to_value(&st).unwrap();
    assert_eq!(json["lines"].as_array().unwrap().len(), 2);
}

/// Runs are billed to who started them, at the price quoted when they start: an
/// organisation's run succeeded or failed alike (whether it failed depends on the person's
/// data), a person's own run under the organisation's grant never to the organisation, a run
/// refused before it started not at all; a run recorded without billing (a crash in between)
/// is billed by `reconcile`, once.
#[tokio::test]
async fn runs_and_access_fees_are_billed_to_who_pays_and_reconciled_once() {
    let dir = tempfile::tempdir().unwrap();
    let (pds, _) = insitu_testkit::pds_with_fee_scanner(dir.path());
    let store = pds.store.as_ref();
    let plugin = insitu_core::package::install(
        store,
        pds.runner.sandbox(),
        &insitu_testkit::signed(insitu_plugins::EXFILTRATE),
        insitu_core::package::InstallMode::Verified,
    )
    .unwrap();
    let alice = store.add_person("alice").unwrap();
    // Half the price to the member, so that even a price of a few cents gives a share.
    store
        .set_tariff(&Tariff {
            member_share_bps: 5_000,
            ..Tariff::default()
        })
        .unwrap();
    let req = insitu_core::request::ask(store, "ufc", alice, &plugin, "research", 30).unwrap();
    let grant = insitu_core::request::approve(store, req.id, &Default::default()).unwrap();
    let fee = store.post(&format!("grant:{}", grant.id), vec![]).unwrap();
    assert_eq!(fee.len(), 1, "the access fee was posted at approval");
    assert_eq!(fee[0].debit, Party::Organisation("ufc".into()));
    assert_eq!(fee[0].credit, Party::Operator);
    assert_eq!(fee[0].amount.minor, Tariff::default().access_fee);

    let run = |channel: &str, requester: Option<&str>| {
        pds.runner.run(insitu_core::run::RunRequest {
            person: alice,
            grant: grant.id,
            digest: plugin.digest.clone(),
            params: vec![
                (
                    "channel".into(),
                    insitu_core::output::Scalar::Text(channel.into()),
                ),
                (
                    "needle".into(),
                    insitu_core::output::Scalar::Text("x".into()),
                ),
            ],
            limits: None,
            requester: requester.map(str::to_string),
            as_of: None,
        })
    };
    let ok = run("log", Some("ufc")).await.unwrap();
    assert_eq!(ok.outcome, insitu_core::meter::Outcome::Succeeded);
    let billed = store.post(&format!("run:{}", ok.id), vec![]).unwrap();
    assert!(!billed.is_empty());
    assert!(
        billed
            .iter()
            .all(|e| e.debit == Party::Organisation("ufc".into()))
    );
    let to = |p: Party| billed.iter().filter(|e| e.credit == p).count();
    assert_eq!(to(Party::Developer("insitu-examples".into())), 1);
    assert_eq!(to(Party::Person(alice)), 1, "the member's share");
    // A failed run is billed exactly like a succeeded one.
    let failed = run("message", Some("ufc")).await.unwrap();
    assert!(matches!(
        failed.outcome,
        insitu_core::meter::Outcome::Failed { .. }
    ));
    let amounts = |id: u64| -> Vec<(Party, i64)> {
        store
            .post(&format!("run:{id}"), vec![])
            .unwrap()
            .into_iter()
            .map(|e| (e.credit, e.amount.minor))
            .collect()
    };
    assert_eq!(amounts(failed.id), amounts(ok.id));
    // Alice's own run under the organisation's grant is hers: nothing is billed to ufc.
    let own = run("log", None).await.unwrap();
    assert!(
        store
            .post(&format!("run:{}", own.id), vec![])
            .unwrap()
            .iter()
            .all(|e| e.debit != Party::Organisation("ufc".into()))
    );
    // Another organisation cannot use ufc's grant; a refused run is not billed.
    let refused = run("log", Some("rival")).await.unwrap();
    assert_eq!(refused.price, None);
    assert!(
        store
            .post(&format!("run:{}", refused.id), vec![])
            .unwrap()
            .is_empty()
    );

    // A run recorded without its billing, as after a crash between the two.
    let mut unbilled = ok.clone();
    unbilled.id = 0;
    let unbilled = store.record_run(unbilled).unwrap();
    assert!(!store.posted(&format!("run:{}", unbilled.id)).unwrap());
    let n = ledger::reconcile(store).unwrap();
    assert!(n >= 1, "{n}");
    assert!(store.posted(&format!("run:{}", unbilled.id)).unwrap());
    let len = store.ledger().unwrap().len();
    assert_eq!(ledger::reconcile(store).unwrap(), 0);
    assert_eq!(
        store.ledger().unwrap().len(),
        len,
        "nothing is billed twice"
    );
    assert!(
        ledger::trial_balance(&store.ledger().unwrap())
            .values()
            .all(|v| *v == 0)
    );
}

/// Who pays a person's own runs: a licence covering them (within its quota), else nobody
/// for the first runs of the month (freemium), else the person.
#[tokio::test]
async fn licences_sponsor_members_and_freemium_runs_are_free_then_paid() {
    use insitu_core::licence::{self, Licence, LicenceKind};
    let dir = tempfile::tempdir().unwrap();
    let (pds, plugin) = insitu_testkit::pds_with_fee_scanner(dir.path());
    let store = pds.store.as_ref();
    let (pupil, adult) = (
        store.add_person("pupil").unwrap(),
        store.add_person("adult").unwrap(),
    );
    let now = insitu_testkit::now_ms();
    let err = licence::grant(
        store,
        Licence {
            id: 0,
            organisation: "school".into(),
            kind: LicenceKind::Sponsorship,
            plugin: "fee-scanner".into(),
            members: vec![pupil, adult],
            seats: 1,
            run_quota: None,
            since_ms: now - 1000,
            until_ms: now + 86_400_000,
            price: Money {
                minor: 1,
                currency: "EUR".into(),
            },
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("2 members for 1 seats"), "{err}");
    let (l, paid) = licence::grant(
        store,
        Licence {
            id: 0,
            organisation: "school".into(),
            kind: LicenceKind::WhiteLabel {
                display_name: "Parcours Avenir".into(),
            },
            plugin: "fee-scanner".into(),
            members: vec![pupil],
            seats: 30,
            run_quota: Some(2),
            since_ms: now - 1000,
            until_ms: now + 86_400_000,
            price: Money {
                minor: 30_000,
                currency: "EUR".into(),
            },
        },
    )
    .unwrap();
    assert_eq!(paid.iter().map(|e| e.amount.minor).sum::<i64>(), 30_000);
    assert!(
        paid.iter()
            .all(|e| e.debit == Party::Organisation("school".into()))
    );

    let run = |person| {
        let g = insitu_testkit::grant_for(store, person, &plugin.digest);
        let runner = pds.runner.clone();
        let digest = plugin.digest.clone();
        async move {
            runner
                .run(insitu_core::run::RunRequest {
                    person,
                    grant: g,
                    digest,
                    params: vec![(
                        "rule".into(),
                        insitu_core::output::Scalar::Text("duplicate".into()),
                    )],
                    limits: None,
                    requester: None,
                    as_of: None,
                })
                .await
                .unwrap()
        }
    };
    let payer_of = |r: &insitu_core::meter::RunRecord| {
        store
            .posting(&format!("run:{}", r.id))
            .unwrap()
            .expect("every run is billed when recorded")
            .first()
            .map(|e| e.debit.clone())
    };
    // The pupil: two runs on the licence (its quota), then three free, then paid.
    let mut payers = Vec::new();
    for _ in 0..6 {
        payers.push(payer_of(&run(pupil).await));
    }
    let school = Some(Party::Organisation("school".into()));
    assert_eq!(
        payers,
        vec![
            school.clone(),
            school,
            None,
            None,
            None,
            Some(Party::Person(pupil))
        ]
    );
    let tag = licence::tag(l.id);
    assert_eq!(
        licence::runs_paid(&store.ledger().unwrap(), l.id),
        2,
        "{tag}"
    );
    // Not a member: three free runs, then paid.
    let mut payers = Vec::new();
    for _ in 0..4 {
        payers.push(payer_of(&run(adult).await));
    }
    assert_eq!(payers, vec![None, None, None, Some(Party::Person(adult))]);
    assert!(
        ledger::trial_balance(&store.ledger().unwrap())
            .values()
            .all(|v| *v == 0)
    );
}

/// A licence with a negative price is refused before it is stored; a licence stored without
/// its billing (a crash in between) is billed by `reconcile`, once.
#[test]
fn a_licence_is_never_live_unpaid() {
    use insitu_core::licence::{self, Licence, LicenceKind};
    let dir = tempfile::tempdir().unwrap();
    let (pds, _) = insitu_testkit::pds_with_fee_scanner(dir.path());
    let store = pds.store.as_ref();
    let p = store.add_person("pupil").unwrap();
    let now = insitu_testkit::now_ms();
    let l = |minor| Licence {
        id: 0,
        organisation: "school".into(),
        kind: LicenceKind::Sponsorship,
        plugin: "fee-scanner".into(),
        members: vec![p],
        seats: 1,
        run_quota: None,
        since_ms: now,
        until_ms: now + 86_400_000,
        price: Money {
            minor,
            currency: "EUR".into(),
        },
    };
    assert!(licence::grant(store, l(-1)).is_err());
    assert!(store.licences().unwrap().is_empty(), "nothing stored");
    let stored = store.add_licence(l(10_000)).unwrap();
    assert!(!store.posted(&format!("licence:{}", stored.id)).unwrap());
    assert_eq!(ledger::reconcile(store).unwrap(), 1);
    let paid = store
        .posting(&format!("licence:{}", stored.id))
        .unwrap()
        .unwrap();
    assert_eq!(paid.iter().map(|e| e.amount.minor).sum::<i64>(), 10_000);
    assert_eq!(ledger::reconcile(store).unwrap(), 0);
}
