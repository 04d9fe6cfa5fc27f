//! The benchmarks' set-up on top of `insitu-testkit`: a store on disk with one person's
//! transactions, and fee-scanner's rule run natively as the baseline.
#![allow(dead_code)]

use fee_scanner::scan::{Rule, Scanner, Tx};
use insitu_core::consent::Grant;
use insitu_core::store::{ColumnValues, KeyedRecord, Store, TimeRange};
use insitu_testkit::{TestPds, bank_record, grant_to};

pub struct Bench {
    pub pds: TestPds,
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
            bank_record(
                i as u64,
                t0 + i as i64 * 600_000,
                "FR7630004000031234",
                minor,
                Some(PARTIES[k]),
                LABELS[k],
            )
        })
        .collect()
}

/// A store with one person (`Bench::person`) and `n` [`transactions`], and a pool of `pool`
/// instances.
pub fn setup(n: usize, pool: u32) -> Bench {
    // The operator's pool settings from the environment (INSITU_POOL_*), so that a setting
    // can be measured against another without a rebuild.
    let pds = TestPds::with_sandbox(|cfg| {
        cfg.pool_settings = insitu_core::sandbox::PoolSettings::from_env().expect("pool settings");
        cfg.pool = pool;
    });
    let person = pds.store.add_person("bench").unwrap();
    for chunk in transactions(n).chunks(50_000) {
        pds.store
            .write_records(
                person,
                "bank.transactions",
                chunk,
                insitu_core::store::Source::File("bench"),
            )
            .unwrap();
    }
    Bench { pds, person }
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

/// A grant for fee-scanner given to the consumer association `ufc` (the only kind its
/// campaigns may use).
pub fn fee_grant(store: &dyn Store, person: u64, digest: &str) -> Grant {
    store.grant(grant_to(store, person, digest, "ufc")).unwrap()
}

impl Bench {
    /// Installs the plugin at `path` in development mode (unsigned); its digest.
    pub fn install(&self, path: &str) -> String {
        self.pds.install_development(path)
    }

    pub fn grant(&self, digest: &str) -> Grant {
        fee_grant(self.pds.store.as_ref(), self.person, digest)
    }
}
