//! The everyday commands: each opens the PDS, does one thing, and prints what it did.

use std::path::Path;

use anyhow::{Context, anyhow, bail};

use super::{
    AccountCmd, CollectionCmd, Command, GrantCmd, ImportArgs, PackageCmd, PersonCmd, PluginCmd,
    PublisherCmd, RequestCmd, RunArgs, RunsCmd,
};
use insitu_core::account::{self, Role};
use insitu_core::audit;
use insitu_core::audit::hex;
use insitu_core::consent::{Grant, GrantedCollection};
use insitu_core::contract::Viewer;
use insitu_core::import::{self, DateOrder, Format, OnError, format_date, parse_time};
use insitu_core::meter::RunRecord;
use insitu_core::output::{PluginOutput, Scalar};
use insitu_core::package::{self, InstallMode};
use insitu_core::pds::Pds;
use insitu_core::request;
use insitu_core::request::AccessRequest;
use insitu_core::run::RunRequest;
use insitu_core::sandbox::Limits;
use insitu_core::store::{Owner, PluginRecord, Publisher, walk};
use insitu_core::store::{Schema, TimeRange};

/// Rows per page when a listing command walks a listing's pages to print them all.
const LIST_PAGE: usize = 500;
/// How often `serve` settles the proposals whose deadline came.
const SETTLE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

pub async fn dispatch(pds: Pds, cmd: Command) -> anyhow::Result<()> {
    let dir = pds.dir.clone();
    match cmd {
        Command::Init => println!("store ready in {}", dir.display()),
        Command::Serve {
            listen,
            rate_per_token,
            rate_per_address,
            checkpoint_every,
        } => {
            use insitu_server::limit::{Rate, RateLimits};
            let rate = |per_second: f64| Rate {
                per_second,
                burst: 2.0 * per_second,
            };
            let limits = RateLimits {
                per_token: rate(rate_per_token),
                per_address: rate(rate_per_address),
                ..RateLimits::default()
            };
            let server = insitu_server::ServerLimits::default();
            let pds = std::sync::Arc::new(pds);
            if checkpoint_every > 0 {
                let key = operator_key(&dir)?;
                let every = std::time::Duration::from_secs(checkpoint_every);
                let min_age_ms = checkpoint_every.saturating_mul(1000) / 2;
                let pds = pds.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(every).await;
                        let (pds, key) = (pds.clone(), key.clone());
                        let done = tokio::task::spawn_blocking(move || {
                            // On the schedule, moved heads or not; at most about one per
                            // period whatever the number of nodes. Then the latest (this
                            // node's or another's) is kept for people's downloads, whether
                            // or not this node published.
                            let published =
                                audit::publish_checkpoint(pds.store.as_ref(), &key, min_age_ms);
                            (published, pds.checkpoint.refresh(pds.store.as_ref()))
                        })
                        .await;
                        let (published, kept) = match done {
                            Ok(done) => done,
                            Err(e) => {
                                tracing::warn!(error = %e, "audit checkpoint task failed");
                                continue;
                            }
                        };
                        match published {
                            Ok(Some(c)) => tracing::info!(
                                number = c.signed.number,
                                "audit checkpoint published"
                            ),
                            Ok(None) => {}
                            Err(e) => tracing::warn!(error = %e, "audit checkpoint not published"),
                        }
                        if let Err(e) = kept {
                            tracing::warn!(error = %e, "the latest audit checkpoint was not read");
                        }
                    }
                });
            }
            // Proposals whose deadline came: escrow paid out or refunded, votes released. Every
            // node may do it; the store settles each proposal once.
            {
                let pds = pds.clone();
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(SETTLE_EVERY);
                    loop {
                        tick.tick().await;
                        let pds = pds.clone();
                        let settled = tokio::task::spawn_blocking(move || {
                            insitu_core::codesign::settle_due(
                                pds.store.as_ref(),
                                insitu_core::noise::Noise::OpenDp,
                            )
                        })
                        .await;
                        match settled {
                            Ok(Ok(p)) if !p.is_empty() => {
                                tracing::info!(proposals = p.len(), "proposals settled")
                            }
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => tracing::warn!(error = %e, "proposals not settled"),
                            Err(e) => tracing::warn!(error = %e, "settlement task failed"),
                        }
                    }
                });
            }
            insitu_server::serve(pds, listen, limits, server, |addr| {
                println!("listening on http://{addr}");
            })
            .await?
        }
        Command::Account(AccountCmd::Add { name, role }) => {
            let role = Role::parse(&role).ok_or_else(|| {
                anyhow!(
                    "unknown role `{role}`: person, developer, organisation, operator or officer"
                )
            })?;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("cannot read the password from standard input")?;
            let a = account::create(pds.store.as_ref(), &name, password.trim_end(), role)?;
            match a.person {
                Some(p) => println!(
                    "account {} ({}, {role:?}) created, person {p}",
                    a.id, a.name
                ),
                None => println!("account {} ({}, {role:?}) created", a.id, a.name),
            }
        }
        Command::Account(AccountCmd::List) => {
            for a in pds.store.accounts()? {
                println!("{:>4}  {:<24} {:?}", a.id, a.name, a.role);
            }
        }
        Command::Person(PersonCmd::Add { name }) => {
            let id = pds.store.add_person(&name)?;
            println!("added person {id} ({name})");
        }
        Command::Person(PersonCmd::Export { id, out }) => {
            let archive = insitu_core::rights::export(pds.store.as_ref(), id, pds.store.now_ms())?;
            std::fs::write(&out, &archive)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "exported person {id} to {} ({} KiB)",
                out.display(),
                archive.len() >> 10
            );
        }
        Command::Person(PersonCmd::Restore { id, archive }) => {
            let bytes = std::fs::read(&archive)
                .with_context(|| format!("cannot read {}", archive.display()))?;
            let reports = insitu_core::rights::import_archive(pds.store.as_ref(), id, &bytes)?;
            println!(
                "restored into person {id}: {}",
                insitu_core::rights::summary(&reports)
            );
        }
        Command::Person(PersonCmd::Erase { id, yes }) => {
            if !yes {
                bail!("erasing person {id} cannot be undone; pass --yes to do it");
            }
            let e = pds.store.erase_person(id, pds.store.now_ms())?;
            println!(
                "person {id} erased: {} records, {} runs and {} accounts deleted, {} grants revoked",
                e.records, e.runs, e.accounts, e.grants
            );
        }
        Command::Person(PersonCmd::List) => {
            for p in pds.store.people()? {
                println!("{:>4}  {}", p.id, p.name);
            }
        }
        Command::Collection(CollectionCmd::Define { schema }) => {
            let text = std::fs::read_to_string(&schema)
                .with_context(|| format!("cannot read {}", schema.display()))?;
            let s: Schema = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a schema", schema.display()))?;
            pds.store.define_collection(&s)?;
            println!("collection {} defined ({} fields)", s.name, s.fields.len());
        }
        Command::Collection(CollectionCmd::List { person }) => {
            for c in pds.store.collections()? {
                let fields: Vec<String> = c
                    .fields
                    .iter()
                    .map(|f| {
                        format!(
                            "{}:{}{}",
                            f.name,
                            f.ty.name(),
                            if f.optional { "?" } else { "" }
                        )
                    })
                    .collect();
                let count = match person {
                    Some(p) => format!("  ({} records)", pds.store.count(p, &c.name)?),
                    None => String::new(),
                };
                println!("{}{count}\n    {}", c.name, fields.join(", "));
            }
        }
        Command::Import(args) => import_cmd(&pds, args)?,
        Command::Plugin(PluginCmd::Install { path, dev }) => {
            let mode = if dev {
                InstallMode::Development
            } else {
                InstallMode::Verified
            };
            let rec = install_file(&pds, &path, mode)?;
            let tag = if rec.development {
                "  (DEVELOPMENT: unsigned)"
            } else {
                ""
            };
            println!("installed {} as {}{tag}", rec.name, rec.digest);
        }
        Command::Publisher(cmd) => publisher_cmd(&pds, cmd)?,
        Command::Request(cmd) => request_cmd(&pds, cmd)?,
        Command::Package(cmd) => package_cmd(&pds, cmd)?,
        Command::Plugin(PluginCmd::List) => {
            for p in pds.store.plugins()? {
                let who = match (&p.publisher, p.development) {
                    (_, true) => "DEVELOPMENT (unsigned)".to_string(),
                    (Some(name), _) => format!("signed by {name}"),
                    (None, false) => "unknown".to_string(),
                };
                println!("{}  {}  {} bytes  {who}", &p.digest[..16], p.name, p.size);
            }
        }
        Command::Grant(GrantCmd::Add {
            person,
            plugin,
            collection,
            fields,
            since,
            until,
            expires,
        }) => {
            let digest = pds.find_plugin(&plugin)?;
            let schema = pds.store.collection(&collection)?;
            if let Some(bad) = fields.iter().find(|f| schema.field(f).is_none()) {
                bail!("collection {collection} has no field `{bad}`");
            }
            let time = |s: &Option<String>| {
                s.as_deref()
                    .map(parse_time)
                    .transpose()
                    .map_err(anyhow::Error::msg)
            };
            let g = pds.store.add_grant(Grant {
                id: 0,
                person,
                plugin_digest: digest,
                collections: vec![GrantedCollection {
                    name: collection,
                    fields,
                }],
                window: TimeRange {
                    since: time(&since)?,
                    until: time(&until)?,
                },
                created_ms: pds.store.now_ms(),
                expires_ms: time(&expires)?,
                revoked_ms: None,
                origin: None,
            })?;
            println!("grant {} created", g.id);
        }
        Command::Grant(GrantCmd::List { person }) => {
            let owner = person.map_or(Owner::All, Owner::Person);
            let mut grants = walk(
                LIST_PAGE,
                |g: &Grant| g.id,
                |page| pds.store.grants_page(&owner, page),
            )?;
            grants.reverse();
            for g in grants {
                let state = match (g.revoked_ms, g.expires_ms) {
                    (Some(_), _) => "revoked".to_string(),
                    (None, Some(e)) if e <= pds.store.now_ms() => "expired".to_string(),
                    (None, Some(e)) => format!("until {}", format_date(e)),
                    (None, None) => "no expiry".to_string(),
                };
                println!(
                    "{:>4}  person {}  plugin {}  {}  {}",
                    g.id,
                    g.person,
                    &g.plugin_digest[..12],
                    g.scope(),
                    state
                );
            }
        }
        Command::Grant(GrantCmd::Revoke { id }) => {
            pds.store.revoke_grant(id, pds.store.now_ms())?;
            println!("grant {id} revoked");
        }
        Command::Run(args) => {
            let json = args.json;
            let run = run_cmd(&pds, args).await?;
            if json {
                let doc = super::show::run_json(pds.store.as_ref(), &run);
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                print_run(&run, "  ");
            }
            if let Some(e) = super::show::failure_error(&run) {
                return Err(e);
            }
        }
        Command::Runs {
            action: Some(RunsCmd::Show { id, as_org, json }),
            ..
        } => show_cmd(&pds, id, as_org, json)?,
        Command::Runs {
            action: None,
            person,
            as_org,
            json,
        } => {
            // The listing's pages, walked, printed oldest first: the organisation's own runs
            // (`--as-org`), a person's, or every run.
            let owner = match (&as_org, person) {
                (Some(org), _) => Owner::Organisation(org.clone()),
                (None, Some(p)) => Owner::Person(p),
                (None, None) => Owner::All,
            };
            let viewer = match as_org {
                Some(org) => Viewer::Requester(org),
                None => Viewer::Operator,
            };
            let mut runs = walk(
                LIST_PAGE,
                |r: &RunRecord| r.id,
                |page| pds.store.runs_page(&owner, page),
            )?;
            runs.reverse();
            let views: Vec<_> = runs
                .iter()
                .filter(|r| person.is_none_or(|p| r.person == p))
                .filter_map(|r| insitu_core::view::run_view(r, &viewer))
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&views)?);
            } else {
                for v in &views {
                    println!("{}", insitu_core::view::run_line(v));
                }
            }
        }
        Command::Audit {
            action,
            person,
            verify,
        } => {
            let (verify, person) = match action {
                Some(super::AuditCmd::Checkpoint) => {
                    let key = operator_key(&dir)?;
                    match audit::publish_checkpoint(pds.store.as_ref(), &key, 0)? {
                        Some(c) => println!(
                            "checkpoint {} published: {} chains under root {}",
                            c.signed.number,
                            c.heads.len(),
                            c.signed.root
                        ),
                        None => println!("another node published this checkpoint first"),
                    }
                    return Ok(());
                }
                Some(super::AuditCmd::Verify { person: p }) => (true, p.or(person)),
                None => (verify, person),
            };
            let expected = operator_public_key(&dir)?;
            match person {
                Some(p) => {
                    if !verify {
                        for e in audit::person_trail(pds.store.as_ref(), p)?.iter().rev() {
                            print_entry(&pds, e);
                        }
                    }
                    let (report, number) =
                        audit::verify_person(pds.store.as_ref(), p, expected.as_deref())
                            .context("the audit log has been tampered with")?;
                    println!(
                        "audit chain verified: person {p}, {} entries; {}",
                        report.entries,
                        anchored(&report, number)
                    );
                }
                None => {
                    if !verify {
                        let mut chains =
                            audit::read_chain(pds.store.as_ref(), audit::Chain::Operator)?;
                        chains.extend(audit::read_chain(pds.store.as_ref(), audit::Chain::Legacy)?);
                        chains.sort_by_key(|e| (e.at_ms, e.seq));
                        for e in chains.iter().rev() {
                            print_entry(&pds, e);
                        }
                    }
                    let (reports, number) =
                        audit::verify_store(pds.store.as_ref(), expected.as_deref())
                            .context("the audit log has been tampered with")?;
                    let entries: u64 = reports.iter().map(|r| r.entries).sum();
                    let unanchored: u64 = reports.iter().map(|r| r.unanchored()).sum();
                    println!(
                        "audit chain verified: {} chains, {entries} entries; {}",
                        reports.len(),
                        match number {
                            Some(n) if unanchored == 0 => format!("checkpoint {n} verified (signature and root) and anchors every entry"),
                            Some(n) => format!("checkpoint {n} verified (signature and root); {unanchored} entries after it not anchored yet"),
                            None => "no checkpoint yet: nothing is anchored (`insitu audit checkpoint` publishes one)".into(),
                        }
                    );
                }
            }
        }
        Command::Campaign(cmd) => super::jobs::campaign_cmd(&pds, cmd).await?,
        Command::Study(cmd) => super::jobs::study_cmd(&pds, cmd).await?,
        Command::Policy(cmd) => super::jobs::policy_cmd(&pds, cmd)?,
        Command::Ledger(cmd) => super::jobs::ledger_cmd(&pds, cmd)?,
        Command::Licence(cmd) => super::jobs::licence_cmd(&pds, cmd)?,
        Command::Peer(cmd) => super::jobs::peer_cmd(&pds, cmd)?,
        Command::Proposal(cmd) => super::codesign::proposal_cmd(&pds, cmd)?,
        Command::Pledge(cmd) => super::codesign::pledge_cmd(&pds, cmd)?,
        Command::Generate(_) | Command::Plugin(PluginCmd::New { .. } | PluginCmd::Test(_)) => {
            unreachable!("handled by the caller")
        }
    }
    Ok(())
}

/// Installs the package at `path`.
pub fn install_file(pds: &Pds, path: &Path, mode: InstallMode) -> anyhow::Result<PluginRecord> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    package::install(pds.store.as_ref(), pds.runner.sandbox(), &bytes, mode)
        .with_context(|| format!("{} was not installed", path.display()))
}

/// `insitu publisher keygen`: needs no store.
pub fn keygen(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        bail!(
            "{} already exists; a key is never overwritten",
            out.display()
        );
    }
    let key =
        package::generate_key().map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    write_private(out, package::key_file(&key).as_bytes())
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!("secret key written to {} (keep it private)", out.display());
    println!("public key: {}", hex(key.verifying_key().as_bytes()));
    Ok(())
}

/// `insitu package sign`: needs no store.
pub fn sign(path: &Path, publisher: &str, key: &Path, out: Option<&Path>) -> anyhow::Result<()> {
    let key_text = read_private(key)?;
    let key =
        package::read_key(&key_text).context("the key file does not hold an ed25519 secret key")?;
    let signed = package::sign(&read(path)?, publisher, &key)?;
    let out = out.unwrap_or(path);
    std::fs::write(out, signed).with_context(|| format!("cannot write {}", out.display()))?;
    println!("signed {} as {publisher}", out.display());
    Ok(())
}

fn print_entry(pds: &Pds, e: &audit::AuditEntry) {
    println!(
        "{:>6}  {}  {}",
        e.seq,
        format_date(e.at_ms),
        audit::describe_in(pds.store.as_ref(), &e.event)
    );
}

/// How far the checkpoint anchors a chain, in words.
fn anchored(report: &audit::ChainReport, number: Option<u64>) -> String {
    match (number, report.anchored) {
        (None, _) => {
            "no checkpoint yet: not anchored (`insitu audit checkpoint` publishes one)".into()
        }
        (Some(n), None) => format!(
            "checkpoint {n} verified, but the chain is newer than it: its {} entries are not anchored yet",
            report.entries
        ),
        (Some(n), Some(seq)) => match report.unanchored() {
            0 => format!("checkpoint {n} verified and anchors every entry (up to entry {seq})"),
            u => format!(
                "checkpoint {n} verified and anchors up to entry {seq}; {u} entries after it not anchored yet"
            ),
        },
    }
}

/// The operator's checkpoint key: `operator.key` in the data directory, made (0600) on first
/// use; refused if others can read it.
pub fn operator_key(dir: &Path) -> anyhow::Result<ed25519_dalek::SigningKey> {
    let path = dir.join(OPERATOR_KEY);
    if !path.exists() {
        let key = package::generate_key()
            .map_err(|e| anyhow!("no randomness for the operator's key: {e}"))?;
        match write_private(&path, package::key_file(&key).as_bytes()) {
            Ok(()) => {}
            // Another process made it first: read theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot write {}", path.display()));
            }
        }
    }
    package::read_key(&read_private(&path)?)
        .with_context(|| format!("{} does not hold an ed25519 secret key", path.display()))
}

/// The operator's public key (hex), if the data directory has its key: a checkpoint signed
/// with another key is then refused.
fn operator_public_key(dir: &Path) -> anyhow::Result<Option<String>> {
    if !dir.join(OPERATOR_KEY).exists() {
        return Ok(None);
    }
    Ok(Some(hex(operator_key(dir)?.verifying_key().as_bytes())))
}

/// The operator's checkpoint key's file name in the data directory.
pub const OPERATOR_KEY: &str = "operator.key";

/// Writes a new secret file readable by its owner only (0600), never over an existing one.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Reads a secret key file, refusing one that others can read or write: a key that leaked may
/// already sign someone else's package.
fn read_private(path: &Path) -> anyhow::Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{} can be read by others (mode {mode:04o}): a secret key must be private; run \
             `chmod 600 {}` (and make a new key if it may have leaked)",
            path.display(),
            path.display()
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn publisher_cmd(pds: &Pds, cmd: PublisherCmd) -> anyhow::Result<()> {
    match cmd {
        PublisherCmd::Keygen { .. } => unreachable!("needs no store: handled by the caller"),
        PublisherCmd::Trust { name, key } => {
            if package::verifying_key(&key).is_none() {
                bail!("`{key}` is not an ed25519 public key (64 hex characters)");
            }
            pds.store.trust_publisher(&Publisher {
                name: name.clone(),
                key,
                trusted_ms: pds.store.now_ms(),
                revoked_ms: None,
            })?;
            println!("publisher {name} trusted");
        }
        PublisherCmd::List => {
            for p in pds.store.publishers()? {
                let state = if p.revoked_ms.is_some() {
                    "REVOKED"
                } else {
                    "trusted"
                };
                println!("{:<24} {}  {state}", p.name, p.key);
            }
        }
        PublisherCmd::Revoke { name } => {
            pds.store.revoke_publisher(&name, pds.store.now_ms())?;
            println!("publisher {name}'s key revoked");
        }
    }
    Ok(())
}

/// The name a request from `typed` carries on the consent screen: the account's own name when
/// `typed` is any spelling of one, so that a look-alike cannot pose as it; else `typed`,
/// normalised and checked as an account name would be.
fn requester_name(pds: &Pds, typed: &str) -> anyhow::Result<String> {
    if let Some(a) = pds.store.account_by_name(typed)? {
        return Ok(a.name);
    }
    account::name::normalise(typed)
        .map_err(|why| anyhow!("the requester name {typed:?} cannot be used: {why}"))
}

/// The consent screen of a request, in plain words.
fn request_cmd(pds: &Pds, cmd: RequestCmd) -> anyhow::Result<()> {
    match cmd {
        RequestCmd::Ask {
            requester,
            person,
            plugin,
            purpose,
            days,
        } => {
            let rec = pds.store.plugin(&pds.find_plugin(&plugin)?)?;
            let requester = requester_name(pds, &requester)?;
            let r = request::ask(pds.store.as_ref(), &requester, person, &rec, &purpose, days)?;
            println!("request {} opened for person {person}", r.id);
        }
        RequestCmd::List { person } => {
            let owner = person.map_or(Owner::All, Owner::Person);
            let mut requests = walk(
                LIST_PAGE,
                |r: &AccessRequest| r.id,
                |page| pds.store.requests_page(&owner, page),
            )?;
            requests.reverse();
            // Every request for the operator; never one that went nowhere for a person.
            for r in requests {
                println!(
                    "{:>4}  person {}  {}  plugin {}  {:?}",
                    r.id,
                    r.person,
                    r.requester,
                    &r.plugin_digest[..12],
                    r.status
                );
            }
        }
        RequestCmd::Show { id } => {
            let r = pds.store.request(id)?;
            let plugin = pds.store.plugin(&r.plugin_digest)?;
            print!("{}", request::consent_screen(&r, Some(&plugin)))
        }
        RequestCmd::Approve {
            id,
            keep,
            months,
            days,
        } => {
            let fields = if keep.is_empty() {
                None
            } else {
                Some(
                    keep.iter()
                        .map(|k| match k.split_once('=') {
                            Some((c, f)) => Ok((
                                c.to_string(),
                                f.split(',')
                                    .map(|x| x.trim().to_string())
                                    .filter(|x| !x.is_empty())
                                    .collect(),
                            )),
                            None => Err(anyhow::anyhow!(
                                "--keep `{k}` is not `collection=field,field`"
                            )),
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?,
                )
            };
            let g = request::approve(
                pds.store.as_ref(),
                id,
                &request::Narrowing {
                    fields,
                    months,
                    days,
                },
            )?;
            println!("request {id} approved: grant {} for {}", g.id, g.scope());
        }
        RequestCmd::Deny { id } => {
            request::deny(pds.store.as_ref(), id)?;
            println!("request {id} denied");
        }
    }
    Ok(())
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn package_cmd(pds: &Pds, cmd: PackageCmd) -> anyhow::Result<()> {
    match cmd {
        PackageCmd::Pack { .. } | PackageCmd::Sign { .. } => {
            unreachable!("needs no store: handled by the caller")
        }
        PackageCmd::Verify { package: path } => {
            let pkg = package::parse(&read(&path)?)?;
            let (name, key) = pkg.verify()?;
            match pds.store.publisher(name)? {
                Some(p) if p.revoked_ms.is_some() => {
                    bail!("signed by {name}, whose key was revoked")
                }
                Some(p) if p.key == hex(key.as_bytes()) => {
                    println!("valid signature by trusted publisher {name}")
                }
                _ => bail!(
                    "valid signature by {name}, but this store does not trust that key\nhint: insitu publisher trust {name} {}",
                    hex(key.as_bytes())
                ),
            }
        }
        PackageCmd::Inspect { package: path } => {
            let pkg = package::parse(&read(&path)?)?;
            print!("{}", pkg.manifest.describe());
            println!("digest: {}", pkg.digest);
            match pkg.verify() {
                Ok((name, _)) => println!("signed by: {name}"),
                Err(e) => println!("signature: {e}"),
            }
        }
    }
    Ok(())
}

fn import_cmd(pds: &Pds, a: ImportArgs) -> anyhow::Result<()> {
    let mapping = match &a.mapping {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            Some(import::Mapping::from_json(&bytes).map_err(|e| anyhow!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    let opts = import::ImportOptions {
        format: a
            .format
            .as_deref()
            .map(Format::from_name)
            .transpose()
            .map_err(|e| anyhow!(e))?,
        collection: a.collection.clone(),
        mapping,
        currency: a.currency.clone(),
        account: a.account.clone(),
        date_order: a
            .date_order
            .as_deref()
            .map(DateOrder::from_name)
            .transpose()
            .map_err(|e| anyhow!("--date-order: {e}"))?,
        any_date: a.any_date,
        on_error: if a.skip_bad {
            OnError::Skip
        } else {
            OnError::Reject
        },
        unbalanced: a
            .unbalanced
            .as_deref()
            .map(import::Unbalanced::from_name)
            .transpose()
            .map_err(|e| anyhow!(e))?
            .unwrap_or_default(),
        returned_by: None,
    };
    let mut files = Vec::new();
    for path in &a.files {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        for p in entries {
            let head = head_of(&p).ok();
            let zip = head.as_deref().is_some_and(insitu_formats::zip::is_zip);
            match head.and_then(|b| insitu_formats::detect(&b)) {
                Some(Format::Csv | Format::JsonLines) if opts.format.is_none() => println!(
                    "not imported: {} (format not recognised; import it alone with --collection)",
                    p.display()
                ),
                None if opts.format.is_none() && !zip => println!(
                    "not imported: {} (format not recognised; import it alone to see why)",
                    p.display()
                ),
                _ => files.push(p),
            }
        }
    }
    let mut failed = 0;
    for file in &files {
        match import_one(pds, a.person, file, &opts) {
            Ok(()) => {}
            Err(e) if files.len() > 1 => {
                eprintln!("error: {e:#}");
                failed += 1;
            }
            Err(e) => return Err(e),
        }
    }
    if failed > 0 {
        bail!("{failed} of {} files were not imported", files.len());
    }
    Ok(())
}

/// The first 64 KiB of a file: enough to tell its format.
fn head_of(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)?
        .take(64 << 10)
        .read_to_end(&mut head)?;
    Ok(head)
}

fn import_one(
    pds: &Pds,
    person: u64,
    file: &std::path::Path,
    opts: &import::ImportOptions,
) -> anyhow::Result<()> {
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    // Parsing a large file takes seconds: say so before the bar can show a count.
    let spinner = (size > 4 << 20).then(|| {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_message(format!("reading {} ({} MiB)", file.display(), size >> 20));
        s.enable_steady_tick(std::time::Duration::from_millis(120));
        s
    });
    let mut bar: Option<indicatif::ProgressBar> = None;
    let reports = import::import_path(
        pds.store.as_ref(),
        person,
        file,
        opts,
        &mut |done, total| {
            if let Some(s) = &spinner {
                s.finish_and_clear();
            }
            if total > 5_000 {
                let b = bar.get_or_insert_with(|| {
                    let b = indicatif::ProgressBar::new(total);
                    b.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{bar:40} {pos}/{len} records  {per_sec}  eta {eta}",
                        )
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                    );
                    b
                });
                b.set_position(done);
            }
            // One line per committed batch: what a crash can no longer lose.
            tracing::debug!(done, total, "batch committed");
        },
    );
    if let Some(s) = &spinner {
        s.finish_and_clear();
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for import::Imported { file, report } in reports? {
        for s in &report.skipped {
            eprintln!("skipped {s}");
        }
        for n in report.all_notes() {
            println!("note: {n}");
        }
        if !report.duplicate_lines.is_empty() {
            println!(
                "already present: {file}: line(s) {}",
                import::line_ranges(&report.duplicate_lines)
            );
        }
        let clashes = match report.clashes {
            0 => String::new(),
            n => format!(" ({n} of them under a key the store held with other content)"),
        };
        println!(
            "imported {file} ({}) into {}: {} records read, {} added, {} already present, {} \
             skipped{clashes}",
            report.format,
            report.collection,
            report.read,
            report.added,
            report.duplicates,
            report.skipped.len()
        );
    }
    Ok(())
}

/// Parses `name=value` (see `RunArgs::params`).
pub fn parse_param(s: &str) -> anyhow::Result<(String, Scalar)> {
    let Some((k, v)) = s.split_once('=') else {
        bail!("parameter `{s}` is not `name=value`");
    };
    Ok((k.trim().to_string(), Scalar::parse(v)))
}

async fn run_cmd(pds: &Pds, a: RunArgs) -> anyhow::Result<RunRecord> {
    let digest = match &a.plugin {
        Some(p) => pds.find_plugin(p)?,
        None => pds.store.grant(a.grant)?.plugin_digest,
    };
    let params = a
        .params
        .iter()
        .map(|p| parse_param(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The manifest's limits, as the API and the jobs use them; a flag overrides one of them.
    let limits = if a.fuel.is_none() && a.deadline_ms.is_none() && a.memory_mb.is_none() {
        None
    } else {
        let d = match pds.store.plugin(&digest)?.manifest {
            Some(m) => insitu_core::contract::limits_from(&m),
            None => Limits::default(),
        };
        Some(Limits {
            fuel: a.fuel.unwrap_or(d.fuel),
            deadline: a
                .deadline_ms
                .map(std::time::Duration::from_millis)
                .unwrap_or(d.deadline),
            memory: a.memory_mb.map(|m| m << 20).unwrap_or(d.memory),
            ..d
        })
    };
    Ok(pds
        .runner
        .run(RunRequest {
            person: a.person,
            grant: a.grant,
            digest,
            params,
            limits,
            requester: a.for_org,
            as_of: None,
        })
        .await?)
}

/// A run as the operator sees it, on one line.
pub fn run_line(r: &RunRecord) -> String {
    insitu_core::view::run_view(r, &Viewer::Operator)
        .map(|v| insitu_core::view::run_line(&v))
        .unwrap_or_default()
}

/// A finding on one line: date, amount, label, rule and reason.
pub fn finding_line(f: &insitu_core::output::Finding, indent: &str) -> String {
    let amount = f.amount.as_ref().map(|m| m.to_string()).unwrap_or_default();
    format!(
        "{indent}{}  {:>12}  {:<24} [{}] {}",
        format_date(f.time),
        amount,
        f.label,
        f.rule,
        f.reason
    )
}

pub fn print_output(out: &PluginOutput, indent: &str) {
    match out {
        PluginOutput::Findings { findings, summary } => {
            for f in findings {
                println!("{}", finding_line(f, indent));
            }
            let s: Vec<String> = summary
                .iter()
                .map(|m| format!("{} = {}", m.name, m.value))
                .collect();
            println!("{indent}summary: {}", s.join(", "));
        }
        PluginOutput::Metrics { metrics } => {
            for m in metrics {
                println!("{indent}{} = {}", m.name, m.value);
            }
        }
        PluginOutput::Table { columns, rows } => {
            println!("{indent}{}", columns.join(" | "));
            for r in rows {
                println!(
                    "{indent}{}",
                    r.iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
            }
        }
    }
}

pub fn print_run(r: &RunRecord, indent: &str) {
    if let Some(out) = &r.output {
        print_output(out, indent);
    }
    if let Some((_, message, first)) = super::show::failure(r) {
        println!("{indent}failed: {message}");
        if let Some(l) = first {
            println!("{indent}the plugin's first error line: {l}");
        }
    }
    println!("{indent}{}", run_line(r));
}

/// `insitu runs show ID`: the whole run for the operator; for `--as-org`, what that
/// organisation sees (the same refusal as for a run that does not exist when it sees nothing).
fn show_cmd(pds: &Pds, id: u64, as_org: Option<String>, json: bool) -> anyhow::Result<()> {
    let store = pds.store.as_ref();
    let r = match store.run(id) {
        Err(insitu_core::store::StoreError::NoRun(_)) => bail!("no run {id}"),
        other => other?,
    };
    let Some(org) = as_org else {
        if json {
            let doc = super::show::run_json(store, &r);
            println!("{}", serde_json::to_string_pretty(&doc)?);
        } else {
            super::show::print_run(store, &r);
        }
        return Ok(());
    };
    let viewer = Viewer::Requester(org);
    let Some(view) = insitu_core::view::run_view(&r, &viewer) else {
        bail!("no run {id}");
    };
    let output = insitu_core::contract::output_for(store, id, &viewer).ok();
    if json {
        let doc = serde_json::json!({"run": view, "output": output});
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!("{}", insitu_core::view::run_line(&view));
        match &output {
            Some(out) => print_output(out, "  "),
            None => println!("  no output for this organisation"),
        }
    }
    Ok(())
}
