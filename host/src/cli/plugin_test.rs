//! `insitu plugin test`: runs a plugin on the real sandbox, with the real grant enforcement
//! and contract check, in a throw-away store (a person, the data given or generated, a
//! development install, the grant its manifest asks for); `--replay RUN` re-runs a recorded
//! run of a test store. Also `insitu generate`, which writes generated data as JSON Lines.
//!
//! The test store lives in a temporary directory deleted at the end, or in `--store DIR`,
//! which is kept so that its runs can be shown and replayed (`insitu --data-dir DIR runs show
//! 1`, `insitu --data-dir DIR plugin test --replay 1`).

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use serde_json::json;

use super::show;
use insitu_core::audit::hex;
use insitu_core::clock::{Clock, SystemClock};
use insitu_core::generate::{self, DEFAULT_SEED, Spec};
use insitu_core::import::{self, Format, ImportOptions, format_date};
use insitu_core::meter::{Outcome, RunRecord};
use insitu_core::package::{self, InstallMode, Manifest, PackageError, PluginUse};
use insitu_core::pds::Pds;
use insitu_core::request::{self, AccessRequest, Narrowing};
use insitu_core::run::{Known, Purpose, RunRequest};
use insitu_core::store::{Publisher, Schema, StoreError, TimeRange};

#[derive(Args, Debug)]
pub struct TestArgs {
    /// The package (`insitu package pack`) or the component (with `--manifest`) to test.
    #[arg(required_unless_present = "replay")]
    pub plugin: Option<PathBuf>,
    /// The manifest of a bare component (a package carries its own).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Imports FILE into COLLECTION (`COLLECTION=FILE`; JSON Lines, or any format `insitu
    /// import` detects). Repeat for more.
    #[arg(long = "data", value_name = "COLLECTION=FILE")]
    pub data: Vec<String>,
    /// Generates N records of COLLECTION (`COLLECTION=N`), dated inside the manifest's window
    /// (docs/GENERATED-DATA.md). Repeat for more.
    #[arg(long = "generate", value_name = "COLLECTION=N")]
    pub generate: Vec<String>,
    /// The seed of the generated data: the same seed on the same day gives the same data.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// A parameter `name=value`, as `insitu run -p` reads it. Repeat for more.
    #[arg(long = "param", short = 'p')]
    pub params: Vec<String>,
    /// Prints one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Keeps the test store in DIR (which must not hold a store yet) instead of a temporary
    /// directory, to show or replay its run later.
    #[arg(long, value_name = "DIR", conflicts_with = "replay")]
    pub store: Option<PathBuf>,
    /// Re-runs run RUN of the test store in `--data-dir` (a run of a development install, for
    /// the person, not for an organisation) and says whether the output is identical.
    #[arg(long, value_name = "RUN", conflicts_with_all = ["plugin", "manifest", "data", "generate", "params"])]
    pub replay: Option<u64>,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// `COLLECTION=N`: N records of a standard collection (or of `--schema`'s).
    pub spec: String,
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Where to write the JSON Lines (never over an existing file unless `--force`);
    /// default: standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace `--out` if it exists.
    #[arg(long)]
    pub force: bool,
    /// The day the data ends on (YYYY-MM-DD); default: today.
    #[arg(long)]
    pub today: Option<String>,
    /// How many months back the data goes.
    #[arg(long, default_value_t = generate::DEFAULT_MONTHS)]
    pub months: u32,
    /// A collection schema file (as `insitu collection define` reads) for a collection that
    /// is not standard.
    #[arg(long)]
    pub schema: Option<PathBuf>,
}

/// `insitu generate`.
pub fn generate_cmd(a: GenerateArgs) -> anyhow::Result<()> {
    let (collection, count) = generate::parse_spec(&a.spec)?;
    let schema = match &a.schema {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            let s: Schema = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a schema", p.display()))?;
            s.validate().map_err(|e| anyhow!("{}: {e}", p.display()))?;
            if s.name != collection {
                bail!("{} defines `{}`, not `{collection}`", p.display(), s.name);
            }
            s
        }
        None => Schema::standard(&collection).ok_or_else(|| {
            anyhow!(
                "`{collection}` is not a standard collection ({}); pass --schema FILE for \
                 another one",
                insitu_formats::schema::STANDARD.join(", ")
            )
        })?,
    };
    let today = match &a.today {
        Some(t) => import::parse_time(t).map_err(|e| anyhow!("--today: {e}"))?,
        // No store here: the command line's own reading of the system clock.
        None => SystemClock.now_ms(),
    };
    let spec = Spec {
        count,
        seed: a.seed,
        today_ms: today,
        months: Some(a.months),
    };
    let records = generate::generate(&schema, &spec)?;
    let text = generate::jsonl(&schema, &records);
    match &a.out {
        Some(p) => {
            if p.exists() && !a.force {
                bail!("{} already exists; pass --force to replace it", p.display());
            }
            std::fs::write(p, &text).with_context(|| format!("cannot write {}", p.display()))?;
            let (from, to) = generate::window(today, Some(a.months));
            println!(
                "wrote {count} records of {collection} to {} (seed {}, {} to {})",
                p.display(),
                a.seed,
                format_date(from),
                format_date(to)
            );
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

/// The package to install: the file itself when it is a package, else the component packed
/// with `--manifest`.
fn load(path: &Path, manifest: Option<&Path>) -> anyhow::Result<(Vec<u8>, Manifest)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    match package::parse(&bytes) {
        Ok(pkg) => {
            if manifest.is_some() {
                bail!(
                    "{} is a package, which carries its own manifest; --manifest is for a bare \
                     component",
                    path.display()
                );
            }
            Ok((bytes, pkg.manifest))
        }
        Err(PackageError::NoManifest) => {
            let Some(m) = manifest else {
                bail!(
                    "{} is a component without a manifest: pass --manifest manifest.json, or \
                     test a package made with `insitu package pack`",
                    path.display()
                );
            };
            let manifest = Manifest::from_file(m)?;
            let packed = package::pack(&bytes, &manifest)
                .with_context(|| format!("{} cannot be packed", path.display()))?;
            Ok((packed, manifest))
        }
        Err(e) => Err(anyhow!(
            "{} is neither a plugin package nor a component: {e}",
            path.display()
        )),
    }
}

/// The window in words with its concrete dates and months: "the last 24 months: 2024-11-30 to
/// 2026-11-30 (months 2024-11 to 2026-11)".
pub fn window_words(months: Option<u32>, since: Option<i64>, now: i64) -> String {
    match (months, since) {
        (Some(_), Some(s)) => format!(
            "{} (months {} to {})",
            package::window_text(months, now),
            &format_date(s)[..7],
            &format_date(now)[..7]
        ),
        _ => "all time".into(),
    }
}

/// Records of `person`'s `collection` in the grant's window.
fn count_in(pds: &Pds, person: u64, collection: &str, window: TimeRange) -> anyhow::Result<u64> {
    let mut cursor = pds.store.scan(person, collection, window, &[])?;
    let mut n = 0u64;
    while let Some((batch, _)) = cursor.next_batch(4096)? {
        n += batch.len() as u64;
    }
    Ok(n)
}

/// Runs `req` as the plugin's use asks: a study plugin's output is checked as one member's
/// (clipped to its declared bounds), every other as a single run's.
async fn execute(pds: &Pds, m: &Manifest, req: RunRequest) -> anyhow::Result<RunRecord> {
    if m.usage == PluginUse::Study {
        let r = pds
            .runner
            .execute(req, Purpose::Member, Known::default())
            .await?;
        return Ok(pds.store.record_run(r)?);
    }
    Ok(pds.runner.run(req).await?)
}

/// `insitu plugin test`.
pub async fn test(data_dir: &Path, a: TestArgs) -> anyhow::Result<()> {
    if let Some(id) = a.replay {
        return replay(data_dir, id, a.json).await;
    }
    let target = a
        .plugin
        .as_deref()
        .ok_or_else(|| anyhow!("give the package or component to test"))?;
    let (bytes, manifest) = load(target, a.manifest.as_deref())?;
    let params = a
        .params
        .iter()
        .map(|p| super::commands::parse_param(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let data: Vec<(String, PathBuf)> = a
        .data
        .iter()
        .map(|d| {
            d.split_once('=')
                .map(|(c, f)| (c.trim().to_string(), PathBuf::from(f)))
                .ok_or_else(|| anyhow!("--data `{d}` is not COLLECTION=FILE"))
        })
        .collect::<anyhow::Result<_>>()?;
    let generated: Vec<(String, usize)> = a
        .generate
        .iter()
        .map(|g| generate::parse_spec(g))
        .collect::<Result<_, _>>()?;

    // The store: kept in --store, else thrown away with the temporary directory.
    let (_tmp, dir) = match &a.store {
        Some(d) => {
            if d.join("insitu.redb").exists() {
                bail!(
                    "{} already holds a store; give a new directory to keep the test store in",
                    d.display()
                );
            }
            (None, d.clone())
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("insitu-plugin-test-")
                .tempdir()
                .context("cannot create a temporary directory for the test store")?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let pds = Pds::open(&dir)?;
    if a.store.is_some() {
        std::fs::write(dir.join(TEST_STORE_MARK), TEST_STORE_TEXT)
            .with_context(|| format!("cannot mark {} as a test store", dir.display()))?;
    }
    let store = pds.store.as_ref();
    let person = store.add_person("test person")?;

    // A signed package: its signer is trusted in this store only, so that the signature is
    // checked as at a real install.
    if let Ok(pkg) = package::parse(&bytes)
        && let Ok((name, key)) = pkg.verify()
    {
        store.trust_publisher(&Publisher {
            name: name.to_string(),
            key: hex(key.as_bytes()),
            trusted_ms: pds.store.now_ms(),
            revoked_ms: None,
        })?;
    }
    let plugin = package::install(
        store,
        pds.runner.sandbox(),
        &bytes,
        InstallMode::Development,
    )
    .with_context(|| format!("{} was not installed", target.display()))?;

    let now = pds.store.now_ms();
    let months = request::months_asked(&manifest.data);
    let mut notes = Vec::new();
    let asked = |c: &str| manifest.data.iter().any(|d| d.collection == c);
    for d in &manifest.data {
        if store.collection(&d.collection).is_err() {
            notes.push(format!(
                "the manifest asks for {}, which is not a standard collection: the test store \
                 does not define it, so the plugin sees none of it",
                d.collection
            ));
        }
    }

    // The data.
    let mut sources = Vec::new();
    for (collection, file) in &data {
        if !asked(collection) {
            notes.push(format!(
                "the manifest does not ask for {collection}: the plugin will not see {}",
                file.display()
            ));
        }
        let opts = ImportOptions {
            collection: Some(collection.clone()),
            ..ImportOptions::default()
        };
        let reports = import::import_path(store, person, file, &opts, &mut |_, _| {})
            .with_context(|| format!("{} was not imported", file.display()))?;
        let added: u64 = reports.iter().map(|r| r.report.added).sum();
        sources.push(
            json!({"collection": collection, "source": file.display().to_string(),
                            "added": added}),
        );
    }
    for (collection, count) in &generated {
        if !asked(collection) {
            notes.push(format!(
                "the manifest does not ask for {collection}: the plugin will not see the \
                 generated records"
            ));
        }
        let schema = store.collection(collection).map_err(|_| {
            anyhow!(
                "no collection `{collection}` to generate; the standard ones are {}",
                insitu_formats::schema::STANDARD.join(", ")
            )
        })?;
        let entry_months = manifest
            .data
            .iter()
            .find(|d| d.collection == *collection)
            .map_or(months, |d| d.months);
        let records = generate::generate(
            &schema,
            &Spec {
                count: *count,
                seed: a.seed,
                today_ms: now,
                months: entry_months,
            },
        )?;
        let text = generate::jsonl(&schema, &records);
        let opts = ImportOptions {
            format: Some(Format::JsonLines),
            collection: Some(collection.clone()),
            ..ImportOptions::default()
        };
        let name = format!("generated {collection}");
        let report =
            import::import_bytes(store, person, &name, text.as_bytes(), &opts, &mut |_, _| {})
                .with_context(|| format!("the generated {collection} were not imported"))?;
        sources.push(json!({"collection": collection, "source": "generated",
                            "seed": a.seed, "added": report.added}));
    }

    // The grant: exactly what the manifest asks, as a person's approval of its request
    // would give it.
    let asked_for = AccessRequest {
        id: 0,
        requester: "insitu plugin test".into(),
        person,
        plugin_digest: plugin.digest.clone(),
        data: manifest.data.clone(),
        purpose: "a local test".into(),
        days: 30,
        created_ms: now,
        status: request::Status::Pending,
        nowhere: false,
    };
    let mut grant = request::grant_for(&asked_for, &Narrowing::default(), now)?;
    // The person's own grant, which does not lapse: a kept test store's runs are replayed on
    // it later (`--replay`).
    grant.origin = None;
    grant.expires_ms = None;
    let grant = store.add_grant(grant)?;
    let window = grant.window;
    let words = window_words(months, window.since, now);
    let mut collections = Vec::new();
    for d in &manifest.data {
        let (total, inside) = match store.collection(&d.collection) {
            Ok(_) => (
                store.count(person, &d.collection)?,
                count_in(&pds, person, &d.collection, window)?,
            ),
            Err(_) => (0, 0),
        };
        if inside < total {
            notes.push(format!(
                "{} of the {total} records of {} are outside the window ({words}): the plugin \
                 does not see them",
                total - inside,
                d.collection
            ));
        }
        collections.push((d, total, inside));
    }

    let run = execute(
        &pds,
        &manifest,
        RunRequest {
            person,
            grant: grant.id,
            digest: plugin.digest.clone(),
            params,
            limits: None,
            requester: None,
            as_of: None,
        },
    )
    .await?;

    if a.json {
        let doc = json!({
            "plugin": {"id": manifest.id, "version": manifest.version,
                       "digest": plugin.digest, "development": plugin.development,
                       "publisher": plugin.publisher},
            "store": a.store.as_ref().map(|d| d.display().to_string()),
            "grant": {
                "id": grant.id,
                "window": {"months": months, "since": window.since.map(format_date),
                           "until": format_date(now), "words": words},
                "collections": collections.iter().map(|(d, total, inside)| json!({
                    "collection": d.collection, "fields": d.fields, "months": d.months,
                    "records": total, "in_window": inside})).collect::<Vec<_>>(),
            },
            "data": sources,
            "notes": notes,
            "run": show::run_json(store, &run),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "testing {} {} ({}), installed in development mode in {}",
            manifest.id,
            manifest.version,
            plugin.digest.get(..12).unwrap_or(&plugin.digest),
            match &a.store {
                Some(d) => format!("the test store {}", d.display()),
                None => "a throw-away store".into(),
            }
        );
        println!("window: {words}");
        for (d, total, inside) in &collections {
            println!(
                "granted: {} of {}, {}; {total} records in the test store, {inside} inside the \
                 window",
                d.fields.join(", "),
                d.collection,
                package::RECORD_DATES
            );
        }
        for s in &sources {
            println!(
                "data: {} ({}): {} records added",
                s["collection"].as_str().unwrap_or(""),
                s["source"].as_str().unwrap_or(""),
                s["added"]
            );
        }
        for n in &notes {
            println!("note: {n}");
        }
        println!();
        show::print_run(store, &run);
        if a.store.is_some() {
            println!(
                "\nreplay: insitu --data-dir {} plugin test --replay {}",
                dir.display(),
                run.id
            );
        }
    }
    match show::failure_error(&run) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The file that marks a data directory as a test store made by `insitu plugin test --store`,
/// whose runs may be replayed whatever their plugin.
const TEST_STORE_MARK: &str = "insitu-test-store";
const TEST_STORE_TEXT: &str = "A test store made by `insitu plugin test --store`: its person and \
                               data are generated or an author's test files.\n";

/// Whether two runs ended the same way with the same output.
fn same_result(a: &RunRecord, b: &RunRecord) -> bool {
    let reason = |r: &RunRecord| match &r.outcome {
        Outcome::Failed { reason, .. } => Some(*reason),
        _ => None,
    };
    a.outcome.status() == b.outcome.status() && reason(a) == reason(b) && a.output == b.output
}

/// `insitu plugin test --replay RUN`. The rule: an author replays their own runs on their own
/// test store. So a run is replayed when it is the person's own (not for an organisation, not
/// a campaign or study member's) and either its plugin is a development install or the store
/// is a test store kept by `plugin test --store`. A run of a signed plugin in any other store
/// is a person's real data, and is refused.
async fn replay(dir: &Path, id: u64, json: bool) -> anyhow::Result<()> {
    if !dir.join("insitu.redb").exists() {
        bail!(
            "no store in {}: keep a test store with `insitu plugin test --store DIR`, then \
             replay with `insitu --data-dir DIR plugin test --replay RUN`",
            dir.display()
        );
    }
    let pds = Pds::open(dir)?;
    let store = pds.store.as_ref();
    let old = match store.run(id) {
        Err(StoreError::NoRun(_)) => bail!("no run {id} in the store at {}", dir.display()),
        other => other?,
    };
    let plugin = store.plugin(&old.plugin_digest).with_context(|| {
        format!("run {id}'s plugin is no longer installed; it cannot be replayed")
    })?;
    if !plugin.development && !dir.join(TEST_STORE_MARK).exists() {
        bail!(
            "run {id} is of {}, installed as a signed plugin in a store that is not a test \
             store: only runs of a development install (`insitu plugin install --dev`) or of a \
             test store (`insitu plugin test --store`) are replayed, an author's runs on their \
             own data",
            plugin.name
        );
    }
    if let Some(org) = &old.requester {
        bail!("run {id} was run for {org}: only a person's own runs are replayed");
    }
    if let Some(job) = old.job {
        bail!("run {id} is a member's run of campaign or study {job}: it cannot be replayed");
    }
    let Some(limits) = old.limits else {
        bail!("run {id} was refused before it started: there is nothing to replay");
    };
    let manifest = plugin
        .manifest
        .clone()
        .ok_or_else(|| anyhow!("run {id}'s plugin has no manifest"))?;
    let new = execute(
        &pds,
        &manifest,
        RunRequest {
            person: old.person,
            grant: old.grant,
            digest: old.plugin_digest.clone(),
            params: old.params.clone(),
            limits: Some(limits),
            requester: None,
            as_of: None,
        },
    )
    .await?;
    let identical = same_result(&old, &new);
    if json {
        let doc = json!({
            "original": show::run_json(store, &old),
            "replay": show::run_json(store, &new),
            "identical": identical,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!("original:");
        show::print_run(store, &old);
        println!("\nreplay:");
        show::print_run(store, &new);
        println!(
            "\n{}",
            if identical {
                format!(
                    "identical: run {} ended as run {id} did, with the same output",
                    new.id
                )
            } else {
                format!("DIFFERENT: run {} did not end as run {id} did", new.id)
            }
        );
    }
    if !identical {
        bail!("the replay (run {}) differs from run {id}", new.id);
    }
    Ok(())
}
