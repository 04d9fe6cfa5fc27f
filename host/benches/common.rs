//! Shared set-up for the benchmarks: a store on disk with one person's transactions.
#![allow(dead_code)]

use std::sync::Arc;

use fee_scanner::scan::{Rule, Scanner, Tx};
use insitu_core::consent::{Grant, GrantedCollection, now_ms};
use insitu_core::package::{self, InstallMode, Manifest};
use insitu_core::run::Runner;
use insitu_core::sandbox::{Sandbox, SandboxConfig};
use insitu_core::store::redb::RedbStore;
use insitu_core::store::{ColumnValues, KeyedRecord, Schema, Store, TimeRange, Value};

pub struct Bench {
    pub _dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub runner: Runner,
    pub person: u64,
}

const LABELS: [&str; 6] = [
    "CB CARREFOUR MARKET",
    "FRAIS DE GESTION",
    "CB BOULANGERIE PAUL",
    "PRLV FREE MOBILE",
    "VIR SALAIRE ACME",
    "CB SNCF",
];
const PARTIES: [&str; 6] = [
    "Carrefour",
    "Agence Dupont Immobilier",
    "Boulangerie Paul",
    "Free Mobile",
    "ACME SA",
    "SNCF",
];

/// `n` realistic transactions, one every 10 minutes; one in 50 is an over-priced agency fee.
pub fn transactions(n: usize) -> Vec<KeyedRecord> {
    let t0 = 1_600_000_000_000i64;
    (0..n)
        .map(|i| {
            let k = i % LABELS.len();
            let minor = if k == 1 {
                if i % 50 == 1 { -4500 } else { -3000 }
            } else {
                -((i as i64 * 7919) % 9000 + 100)
            };
            KeyedRecord {
                id: i as u64,
                time: t0 + i as i64 * 600_000,
                values: vec![
                    Value::Text("FR7630004000031234".into()),
                    Value::Timestamp(t0 + i as i64 * 600_000),
                    Value::Null,
                    Value::Money {
                        minor,
                        currency: "EUR".into(),
                    },
                    Value::Text(PARTIES[k].into()),
                    Value::Text(LABELS[k].into()),
                    Value::Null,
                    Value::Null,
                ],
            }
        })
        .collect()
}

pub fn setup(n: usize, pool: u32) -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(RedbStore::open(&dir.path().join("b.redb")).expect("store"));
    store
        .define_collection(&Schema::bank_transactions())
        .unwrap();
    let person = store.add_person("bench").unwrap();
    for chunk in transactions(n).chunks(50_000) {
        store
            .write_records(
                person,
                "bank.transactions",
                chunk,
                insitu_core::store::Source::File("bench"),
            )
            .unwrap();
    }
    // The operator's pool settings from the environment (INSITU_POOL_*), so that a setting
    // can be measured against another without a rebuild.
    let mut cfg = SandboxConfig::new(dir.path().join("plugins"));
    cfg.pool_settings = insitu_core::sandbox::PoolSettings::from_env().expect("pool settings");
    cfg.pool = pool;
    let runner = Runner::new(
        store.clone(),
        Arc::new(Sandbox::new(store.clone(), cfg).unwrap()),
    );
    Bench {
        _dir: dir,
        store,
        runner,
        person,
    }
}

/// A field of `/proc/self/status`, in KiB (`VmRSS:`, `VmHWM:`).
pub fn kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// fee-scanner's `rule` compiled natively, over `person`'s transactions read through the same
/// store cursor and batch size as the plugin's: the benchmarks' baseline. Returns the hits.
pub fn native_scan(store: &dyn Store, person: u64, rule: Rule, pattern: &str) -> usize {
    let fields: Vec<String> = fee_scanner::FIELDS.iter().map(|s| s.to_string()).collect();
    let mut cur = store
        .scan(person, "bank.transactions", TimeRange::ALL, &fields)
        .unwrap();
    let mut s = Scanner::new(rule, pattern);
    while let Some((batch, _)) = cur.next_batch(4096).unwrap() {
        let (ColumnValues::Money(amount), ColumnValues::Text(label), ColumnValues::Text(cp)) = (
            &batch.columns[0].values,
            &batch.columns[1].values,
            &batch.columns[2].values,
        ) else {
            panic!("unexpected columns")
        };
        let valid = batch.columns[2].valid.as_ref();
        for i in 0..batch.len() {
            let (minor, currency) = amount.get(i);
            s.push(Tx {
                id: batch.ids[i],
                time: batch.times[i],
                minor,
                currency,
                label: label.get(i),
                counterparty: valid.is_none_or(|v| v[i]).then(|| cp.get(i)),
            });
        }
    }
    s.finish().len()
}

/// A grant of fee-scanner's three fields of `person`'s transactions, for all time.
/// A grant for fee-scanner given to the consumer association `ufc` (the only kind its
/// campaigns may use).
pub fn fee_grant(store: &dyn Store, person: u64, digest: &str) -> Grant {
    store
        .add_grant(Grant {
            id: 0,
            person,
            plugin_digest: digest.into(),
            collections: vec![GrantedCollection {
                name: "bank.transactions".into(),
                fields: vec!["amount".into(), "label".into(), "counterparty".into()],
            }],
            window: TimeRange::ALL,
            created_ms: now_ms(),
            expires_ms: None,
            revoked_ms: None,
            origin: Some(insitu_core::consent::Origin {
                requester: "ufc".into(),
                purpose: "campaigns".into(),
                request: 0,
            }),
        })
        .unwrap()
}

impl Bench {
    pub fn install(&self, path: &str) -> String {
        let manifest =
            Manifest::from_file(std::path::Path::new(insitu_plugins::manifest_for(path))).unwrap();
        let packed = package::pack(&insitu_plugins::bytes(path), &manifest).unwrap();
        package::install(
            self.store.as_ref(),
            self.runner.sandbox(),
            &packed,
            InstallMode::Development,
        )
        .unwrap()
        .digest
    }

    pub fn grant(&self, digest: &str) -> Grant {
        fee_grant(self.store.as_ref(), self.person, digest)
    }
}
