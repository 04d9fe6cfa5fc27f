//! A store with people, transactions and installed plugins, in a temporary directory.
#![allow(dead_code)]

use std::sync::Arc;

use insitu_core::consent::{Grant, GrantedCollection, now_ms};
use insitu_core::meter::{FailureReason, Outcome, RunRecord};
use insitu_core::output::{Money, Scalar};
use insitu_core::package::{self, InstallMode, Manifest};
use insitu_core::run::{RunRequest, Runner};
use insitu_core::sandbox::{InstallError, Limits, Sandbox, SandboxConfig};
use insitu_core::store::redb::RedbStore;
use insitu_core::store::{FieldType, KeyedRecord, Publisher, Schema, Store, TimeRange, Value};

pub struct Fixture {
    /// The signing key of the publisher `insitu-examples`, trusted by this store.
    pub key: ed25519_dalek::SigningKey,
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub runner: Runner,
}

pub const DAY: i64 = 86_400_000;
/// 2024-01-01T00:00:00Z
pub const T0: i64 = 1_704_067_200_000;

pub fn tx(day: i64, minor: i64, label: &str, counterparty: Option<&str>) -> KeyedRecord {
    KeyedRecord {
        id: (day as u64) << 20 ^ (minor.unsigned_abs()) ^ label.len() as u64,
        time: T0 + day * DAY,
        values: vec![
            Value::Text("FR76-0001".into()),
            Value::Timestamp(T0 + day * DAY),
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

/// A secret collection nobody is granted.
pub fn secrets_schema() -> Schema {
    Schema {
        name: "profile.secrets".into(),
        fields: vec![insitu_core::store::Field {
            name: "secret".into(),
            ty: FieldType::Text,
            optional: false,
        }],
        time_field: None,
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            Arc::new(RedbStore::open(&dir.path().join("insitu.redb")).expect("open store"));
        let mut cfg = SandboxConfig::new(dir.path().join("plugins"));
        cfg.pool = 16;
        let sandbox = Arc::new(Sandbox::new(store.clone(), cfg).expect("sandbox"));
        store
            .define_collection(&Schema::bank_transactions())
            .unwrap();
        store.define_collection(&secrets_schema()).unwrap();
        let runner = Runner::new(store.clone(), sandbox);
        let key = examples_key();
        trust_examples(store.as_ref());
        Fixture {
            key,
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
            .write_records(
                p,
                "bank.transactions",
                &txs,
                insitu_core::store::Source::File("fixture"),
            )
            .unwrap();
        let secret = KeyedRecord {
            id: 1,
            time: 0,
            values: vec![Value::Text("hunter2".into())],
        };
        self.store
            .write_records(
                p,
                "profile.secrets",
                &[secret],
                insitu_core::store::Source::File("fixture"),
            )
            .unwrap();
        p
    }

    /// Packs the plugin at `path` with its manifest, signs it with the fixture's trusted
    /// publisher key, and installs it.
    pub fn install(&self, path: &str) -> String {
        let signed = self.package(path);
        self.install_bytes(&signed, InstallMode::Verified)
            .expect("install")
            .digest
    }

    /// Installs the plugin at `path` under its manifest changed by `edit`; returns its digest.
    pub fn install_edited(&self, path: &str, edit: impl FnOnce(&mut Manifest)) -> String {
        let mut m =
            Manifest::from_file(std::path::Path::new(insitu_plugins::manifest_for(path))).unwrap();
        edit(&mut m);
        let signed = package::pack_and_sign(&insitu_plugins::bytes(path), &m, &self.key).unwrap();
        self.install_bytes(&signed, InstallMode::Verified)
            .unwrap()
            .digest
    }

    /// The signed package of the plugin at `path`.
    pub fn package(&self, path: &str) -> Vec<u8> {
        let manifest =
            Manifest::from_file(std::path::Path::new(insitu_plugins::manifest_for(path))).unwrap();
        package::pack_and_sign(&insitu_plugins::bytes(path), &manifest, &self.key).unwrap()
    }

    /// Installs raw bytes as a package, in the given mode.
    pub fn install_bytes(
        &self,
        bytes: &[u8],
        mode: InstallMode,
    ) -> Result<insitu_core::store::PluginRecord, InstallError> {
        package::install(self.store.as_ref(), self.runner.sandbox(), bytes, mode)
    }

    /// A grant of fee-scanner's fields of `person`'s transactions, for all time; its id.
    /// A grant of amount, label and counterparty the person made for their own runs.
    pub fn grant_for(store: &dyn Store, person: u64, digest: &str) -> u64 {
        Self::grant_given(store, person, digest, None)
    }

    /// The same grant, given to the organisation `requester` (as an approved request would):
    /// the only kind a campaign or a study of that organisation may use.
    pub fn grant_to(store: &dyn Store, person: u64, digest: &str, requester: &str) -> u64 {
        Self::grant_given(store, person, digest, Some(requester))
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
                created_ms: now_ms(),
                expires_ms: None,
                revoked_ms: None,
                origin: to.map(|r| insitu_core::consent::Origin {
                    requester: r.into(),
                    purpose: "campaigns and studies".into(),
                    request: 0,
                }),
            })
            .unwrap()
            .id
    }

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
                created_ms: now_ms(),
                expires_ms: None,
                revoked_ms: None,
                origin: None,
            })
            .unwrap()
    }

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

pub fn text(s: &str) -> Scalar {
    Scalar::Text(s.into())
}

pub fn eur(minor: i64) -> Scalar {
    Scalar::Money(Money {
        minor,
        currency: "EUR".into(),
    })
}

pub fn failure(r: &RunRecord) -> (FailureReason, String) {
    match &r.outcome {
        Outcome::Failed { reason, message } => (*reason, message.clone()),
        Outcome::Succeeded => panic!("expected the run to fail, it succeeded with {:?}", r.output),
        Outcome::Running => panic!("expected the run to fail, it is still running"),
    }
}

pub const ALL_FIELDS: &[&str] = &[
    "account",
    "booked",
    "amount",
    "counterparty",
    "label",
    "reference",
];

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
            trusted_ms: now_ms(),
            revoked_ms: None,
        })
        .unwrap();
}

/// The plugin at `path`, packed with its manifest and signed by [`examples_key`].
pub fn signed(path: &str) -> Vec<u8> {
    let manifest =
        Manifest::from_file(std::path::Path::new(insitu_plugins::manifest_for(path))).unwrap();
    package::pack_and_sign(&insitu_plugins::bytes(path), &manifest, &examples_key()).unwrap()
}

/// A PDS that trusts the example publisher and has fee-scanner installed.
pub fn pds_with_fee_scanner(
    dir: &std::path::Path,
) -> (insitu_core::pds::Pds, insitu_core::store::PluginRecord) {
    let pds = insitu_core::pds::Pds::open(dir).unwrap();
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

/// Writes records of `collection` from named values (fields not named are null).
pub fn write_named(store: &dyn Store, person: u64, collection: &str, rows: &[Vec<(&str, Value)>]) {
    let schema = store.collection(collection).unwrap();
    let recs: Vec<KeyedRecord> = rows
        .iter()
        .enumerate()
        .map(|(i, named)| {
            let values: Vec<Value> = schema
                .fields
                .iter()
                .map(|f| {
                    named
                        .iter()
                        .find(|(n, _)| *n == f.name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or(Value::Null)
                })
                .collect();
            let time = values
                .iter()
                .find_map(|v| match v {
                    Value::Timestamp(t) => Some(*t),
                    _ => None,
                })
                .unwrap_or(0);
            KeyedRecord {
                id: i as u64 + 1,
                time,
                values,
            }
        })
        .collect();
    store
        .write_records(
            person,
            collection,
            &recs,
            insitu_core::store::Source::File("fixture"),
        )
        .unwrap();
}

/// Writes `txs` into `person`'s transactions, as from a file.
pub fn write_transactions(store: &dyn Store, person: u64, txs: &[KeyedRecord]) {
    store
        .write_records(
            person,
            "bank.transactions",
            txs,
            insitu_core::store::Source::File("t"),
        )
        .unwrap();
}

/// `person`'s stored transactions as the store has them: (stored id, every value in schema
/// order).
pub fn stored_transactions(store: &dyn Store, person: u64) -> Vec<(u64, Vec<Value>)> {
    stored_records(store, person, "bank.transactions")
}

/// `person`'s records in `collection` as the store has them: (stored id, every value in
/// schema order).
pub fn stored_records(store: &dyn Store, person: u64, collection: &str) -> Vec<(u64, Vec<Value>)> {
    let schema = store.collection(collection).unwrap();
    let fields: Vec<String> = schema.fields.iter().map(|f| f.name.clone()).collect();
    let mut cur = store
        .scan(person, collection, TimeRange::ALL, &fields)
        .unwrap();
    let mut out = Vec::new();
    while let Some((b, _)) = cur.next_batch(100).unwrap() {
        for i in 0..b.len() {
            out.push((b.ids[i], b.columns.iter().map(|c| c.value(i)).collect()));
        }
    }
    out
}

/// Adds an account to the store in `dir` through the real binary (`insitu account add`, the
/// password on standard input); returns what it printed.
pub fn add_account_with_cli(
    dir: &std::path::Path,
    name: &str,
    role: &str,
    password: &str,
) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut add = Command::new(env!("CARGO_BIN_EXE_insitu"))
        .arg("--data-dir")
        .arg(dir)
        .args(["account", "add", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The real binary serving the store in `dir` on a loopback port, and its address.
pub fn serve_binary(dir: &std::path::Path) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut server = Command::new(env!("CARGO_BIN_EXE_insitu"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = BufReader::new(server.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let addr = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    (server, addr)
}

/// Sends SIGTERM to a [`serve_binary`] server and waits for it: its exit and its log.
pub fn stop_binary(mut server: std::process::Child) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    (exit, log)
}

/// One HTTP/1.1 exchange on a new connection: `request` as written, the whole answer as read
/// until the server closes (send `Connection: close`).
pub fn exchange(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

/// The id of the person account `name` stands for.
pub fn person_of(store: &dyn Store, name: &str) -> u64 {
    store
        .account_by_name(name)
        .unwrap()
        .and_then(|a| a.person)
        .unwrap_or_else(|| panic!("{name} is no person's account"))
}

/// The multipart form of the page `/import`: CSRF token, `bank.transactions`, and `content`
/// as the file `filename`. Returns the content type and the body.
pub fn import_form(csrf: &str, filename: &str, content: &str) -> (&'static str, String) {
    let body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --B\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\nbank.transactions\r\n\
         --B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n--B--\r\n"
    );
    ("multipart/form-data; boundary=B", body)
}
