//! The set-up the host's tests and benchmarks share: a store in a temporary directory with a
//! sandbox and a runner ([`TestPds`]), people with bank transactions ([`bank_record`], [`tx`]),
//! grants ([`grant_for`], [`grant_to`]) and the example plugins, packed and signed by the
//! example publisher ([`signed`], [`pds_with_fee_scanner`]).

use std::sync::Arc;

use insitu_core::clock::{Clock, SystemClock};
use insitu_core::consent::{Grant, GrantedCollection, Origin};
use insitu_core::meter::RunRecord;
use insitu_core::output::Scalar;
use insitu_core::package::{self, InstallMode, Manifest};
use insitu_core::pds::Pds;
use insitu_core::run::{RunRequest, Runner};
use insitu_core::sandbox::{InstallError, Limits, SandboxConfig};
use insitu_core::store::redb::RedbStore;
use insitu_core::store::{
    Field, FieldType, KeyedRecord, PluginRecord, Publisher, Schema, Source, Store, TimeRange, Value,
};

pub const DAY: i64 = 86_400_000;
/// 2024-01-01T00:00:00Z
pub const T0: i64 = 1_704_067_200_000;

/// A record of `bank.transactions`, in the schema's field order: `account`, `booked` (at
/// `time`, which is also the record's time), no value date, `minor` euro cents, the
/// counterparty, `label`, no reference and no key.
pub fn bank_record(
    id: u64,
    time: i64,
    account: &str,
    minor: i64,
    counterparty: Option<&str>,
    label: &str,
) -> KeyedRecord {
    KeyedRecord {
        id,
        time,
        values: vec![
            Value::Text(account.into()),
            Value::Timestamp(time),
            Value::Null,
            Value::Money {
                minor,
                currency: "EUR".into(),
            },
            counterparty
                .map(|c| Value::Text(c.into()))
                .unwrap_or(Value::Null),
            Value::Text(label.into()),
            Value::Null,
            Value::Null,
        ],
    }
}

/// A transaction of account `FR76-0001`, `day` days after [`T0`]; its id mixes the day, the
/// amount and the label's length.
pub fn tx(day: i64, minor: i64, label: &str, counterparty: Option<&str>) -> KeyedRecord {
    bank_record(
        (day as u64) << 20 ^ (minor.unsigned_abs()) ^ label.len() as u64,
        T0 + day * DAY,
        "FR76-0001",
        minor,
        counterparty,
        label,
    )
}

/// A secret collection nobody is granted.
pub fn secrets_schema() -> Schema {
    Schema {
        name: "profile.secrets".into(),
        fields: vec![Field {
            name: "secret".into(),
            ty: FieldType::Text,
            optional: false,
        }],
        time_field: None,
    }
}

/// The signing key of the example publisher `insitu-examples`.
pub fn examples_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
}

/// Makes `store` trust [`examples_key`] as `insitu-examples`.
pub fn trust_examples(store: &dyn Store) {
    store
        .trust_publisher(&Publisher {
            name: "insitu-examples".into(),
            key: insitu_core::audit::hex(examples_key().verifying_key().as_bytes()),
            trusted_ms: store.now_ms(),
            revoked_ms: None,
        })
        .unwrap();
}

/// The plugin at `path`, packed with its manifest and signed by [`examples_key`].
pub fn signed(path: &str) -> Vec<u8> {
    package::pack_and_sign(
        &insitu_plugins::bytes(path),
        &manifest(path),
        &examples_key(),
    )
    .unwrap()
}

fn manifest(path: &str) -> Manifest {
    Manifest::from_file(std::path::Path::new(insitu_plugins::manifest_for(path))).unwrap()
}

/// A PDS in `dir` that trusts the example publisher and has fee-scanner installed.
pub fn pds_with_fee_scanner(dir: &std::path::Path) -> (Pds, PluginRecord) {
    pds_with_fee_scanner_on(dir, Arc::new(SystemClock))
}

/// [`pds_with_fee_scanner`] on `clock` (a `ManualClock`, for a test that moves time).
pub fn pds_with_fee_scanner_on(
    dir: &std::path::Path,
    clock: Arc<dyn Clock>,
) -> (Pds, PluginRecord) {
    with_fee_scanner(Pds::builder(dir).clock(clock).open().unwrap())
}

/// [`pds_with_fee_scanner`] over `store` (another backend, or one shared with other nodes).
pub fn pds_with_fee_scanner_over(
    dir: &std::path::Path,
    store: Arc<dyn Store>,
) -> (Pds, PluginRecord) {
    with_fee_scanner(Pds::builder(dir).store(store).open().unwrap())
}

fn with_fee_scanner(pds: Pds) -> (Pds, PluginRecord) {
    trust_examples(pds.store.as_ref());
    let plugin = package::install(
        pds.store.as_ref(),
        pds.runner.sandbox(),
        &signed(insitu_plugins::FEE_SCANNER),
        InstallMode::Verified,
    )
    .unwrap();
    (pds, plugin)
}

/// Writes `txs` into `person`'s transactions, as from a file.
pub fn write_transactions(store: &dyn Store, person: u64, txs: &[KeyedRecord]) {
    store
        .write_records(person, "bank.transactions", txs, Source::File("t"))
        .unwrap();
}

/// A grant of amount, label and counterparty of `person`'s transactions, for all time, that
/// the person made for their own runs of `digest`; its id.
pub fn grant_for(store: &dyn Store, person: u64, digest: &str) -> u64 {
    grant_given(store, person, digest, None)
}

/// The same grant, given to the organisation `requester` (as an approved request would):
/// the only kind a campaign or a study of that organisation may use.
pub fn grant_to(store: &dyn Store, person: u64, digest: &str, requester: &str) -> u64 {
    grant_given(store, person, digest, Some(requester))
}

fn grant_given(store: &dyn Store, person: u64, digest: &str, to: Option<&str>) -> u64 {
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
            created_ms: store.now_ms(),
            expires_ms: None,
            revoked_ms: None,
            origin: to.map(|r| Origin {
                requester: r.into(),
                purpose: "campaigns and studies".into(),
                request: 0,
            }),
        })
        .unwrap()
        .id
}

/// Now by the system clock: the clock of [`TestPds::new`] and of `Pds::open`, which the tests
/// on such a store compare its times with. A test that moves time runs on a `ManualClock`
/// instead ([`TestPds::with_clock`], `Pds::builder(dir).clock(c)`) and reads `store.now_ms()`.
pub fn now_ms() -> i64 {
    SystemClock.now_ms()
}

/// A store in a temporary directory, with `bank.transactions` and [`secrets_schema`] defined,
/// the example publisher trusted, and a sandbox and runner over it.
pub struct TestPds {
    /// The signing key of the publisher `insitu-examples`, trusted by this store.
    pub key: ed25519_dalek::SigningKey,
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub runner: Runner,
}

impl Default for TestPds {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPds {
    /// With a pool of 16 instances.
    pub fn new() -> TestPds {
        TestPds::with_sandbox(|cfg| cfg.pool = 16)
    }

    /// With a pool of 16 instances, on `clock` (a `ManualClock`, say): the store stamps its
    /// times by it and every layer reads "now" from it.
    pub fn with_clock(clock: Arc<dyn Clock>) -> TestPds {
        TestPds::with_clock_and_sandbox(clock, |cfg| cfg.pool = 16)
    }

    /// With the sandbox's settings changed by `edit`.
    pub fn with_sandbox(edit: impl FnOnce(&mut SandboxConfig)) -> TestPds {
        TestPds::with_clock_and_sandbox(Arc::new(SystemClock), edit)
    }

    /// On `clock`, with the sandbox's settings changed by `edit`.
    pub fn with_clock_and_sandbox(
        clock: Arc<dyn Clock>,
        edit: impl FnOnce(&mut SandboxConfig),
    ) -> TestPds {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> = Arc::new(
            RedbStore::open_with_clock(&dir.path().join("insitu.redb"), clock).expect("open store"),
        );
        TestPds::over_in(dir, store, edit)
    }

    /// Over `store` (another backend, say), with a pool of 16 instances and the plugins'
    /// compiled code in a directory of its own.
    pub fn over(store: Arc<dyn Store>) -> TestPds {
        let dir = tempfile::tempdir().expect("tempdir");
        TestPds::over_in(dir, store, |cfg| cfg.pool = 16)
    }

    fn over_in(
        dir: tempfile::TempDir,
        store: Arc<dyn Store>,
        edit: impl FnOnce(&mut SandboxConfig),
    ) -> TestPds {
        let mut cfg = SandboxConfig::new(dir.path().join("plugins"));
        edit(&mut cfg);
        let sandbox = Arc::new(insitu_core::sandbox::open(store.clone(), cfg).expect("sandbox"));
        store
            .define_collection(&Schema::bank_transactions())
            .unwrap();
        store.define_collection(&secrets_schema()).unwrap();
        let runner = Runner::new(store.clone(), sandbox);
        trust_examples(store.as_ref());
        TestPds {
            key: examples_key(),
            dir,
            store,
            runner,
        }
    }

    /// A person with a few ordinary transactions, two over-priced agency fees, and a secret.
    pub fn person_with_transactions(&self, name: &str) -> u64 {
        let p = self.store.add_person(name).unwrap();
        let txs = vec![
            tx(1, -4500, "FRAIS DE GESTION MARS", Some("Agence Dupont")),
            tx(2, -6230, "CARREFOUR MARKET", Some("Carrefour")),
            tx(3, 250_000, "SALAIRE", Some("ACME SA")),
            tx(31, -3000, "FRAIS DE GESTION AVRIL", Some("Agence Dupont")),
            tx(61, -5200, "FRAIS DE GESTION MAI", Some("Agence Dupont")),
        ];
        self.store
            .write_records(p, "bank.transactions", &txs, Source::File("fixture"))
            .unwrap();
        let secret = KeyedRecord {
            id: 1,
            time: 0,
            values: vec![Value::Text("hunter2".into())],
        };
        self.store
            .write_records(p, "profile.secrets", &[secret], Source::File("fixture"))
            .unwrap();
        p
    }

    /// Packs the plugin at `path` with its manifest, signs it with the trusted publisher key,
    /// and installs it; returns its digest.
    pub fn install(&self, path: &str) -> String {
        let signed = self.package(path);
        self.install_bytes(&signed, InstallMode::Verified)
            .expect("install")
            .digest
    }

    /// Packs the plugin at `path` unsigned and installs it in development mode; its digest.
    pub fn install_development(&self, path: &str) -> String {
        let packed = package::pack(&insitu_plugins::bytes(path), &manifest(path)).unwrap();
        self.install_bytes(&packed, InstallMode::Development)
            .expect("install")
            .digest
    }

    /// Installs the plugin at `path` under its manifest changed by `edit`; returns its digest.
    pub fn install_edited(&self, path: &str, edit: impl FnOnce(&mut Manifest)) -> String {
        let mut m = manifest(path);
        edit(&mut m);
        let signed = package::pack_and_sign(&insitu_plugins::bytes(path), &m, &self.key).unwrap();
        self.install_bytes(&signed, InstallMode::Verified)
            .unwrap()
            .digest
    }

    /// The signed package of the plugin at `path`.
    pub fn package(&self, path: &str) -> Vec<u8> {
        package::pack_and_sign(&insitu_plugins::bytes(path), &manifest(path), &self.key).unwrap()
    }

    /// Installs raw bytes as a package, in the given mode.
    pub fn install_bytes(
        &self,
        bytes: &[u8],
        mode: InstallMode,
    ) -> Result<PluginRecord, InstallError> {
        package::install(self.store.as_ref(), self.runner.sandbox(), bytes, mode)
    }

    /// A grant of `fields` of `person`'s transactions within `window`, for their own runs.
    pub fn grant(&self, person: u64, digest: &str, fields: &[&str], window: TimeRange) -> Grant {
        self.store
            .add_grant(Grant {
                id: 0,
                person,
                plugin_digest: digest.into(),
                collections: vec![GrantedCollection {
                    name: "bank.transactions".into(),
                    fields: fields.iter().map(|f| f.to_string()).collect(),
                }],
                window,
                created_ms: self.store.now_ms(),
                expires_ms: None,
                revoked_ms: None,
                origin: None,
            })
            .unwrap()
    }

    /// Runs `digest` for `person` under `grant`, as the person would; the recorded run.
    pub async fn run(
        &self,
        person: u64,
        grant: u64,
        digest: &str,
        params: &[(&str, Scalar)],
        limits: Option<Limits>,
    ) -> RunRecord {
        self.runner
            .run(RunRequest {
                person,
                grant,
                digest: digest.into(),
                params: params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
                limits,
                requester: None,
                as_of: None,
            })
            .await
            .expect("run recorded")
    }

    /// Everything stored for `person`, to compare before and after a hostile run.
    pub fn snapshot(&self, person: u64) -> (u64, u64, Vec<Grant>) {
        (
            self.store.count(person, "bank.transactions").unwrap(),
            self.store.count(person, "profile.secrets").unwrap(),
            self.store.grants(Some(person)).unwrap(),
        )
    }
}
