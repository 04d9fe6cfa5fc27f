//! A plugin's manifest: what it asks to read, what it returns and to whom, its limits and its
//! price; what a person is asked to approve. Every value is bounded (`bounds.rs`); the upgrade
//! rule compares two manifests field by field (`narrow.rs`). Packing, signing and installing
//! are `insitu-core`'s (`package.rs`).
//!
//! May touch: nothing; pure data and rules.

#[cfg(any(test, feature = "arbitrary"))]
pub mod arb;
mod bounds;
mod narrow;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::limits::Limits;

pub use bounds::{MAX_MANIFEST_BYTES, MAX_NAME, MAX_TEXT, MONTHS, OutOfRange};
pub use narrow::{Widening, narrows};

/// Who receives a run's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Only the person whose data was read.
    Person,
    /// The organisation that requested the access.
    Requester,
    /// Only combined across members, above a minimum cohort (campaigns and studies).
    Aggregate,
}

/// The documented output kinds (the variants of the WIT `plugin-output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    Findings,
    Metrics,
    Table,
}

/// What a plugin may return, checked by the host after every run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputContract {
    pub audience: Audience,
    pub kind: OutputKind,
    /// Largest output, bytes of its canonical JSON.
    pub max_bytes: u64,
    /// Most findings, metrics or table rows.
    pub max_items: u32,
    /// For aggregates: the smallest cohort a result may be released for.
    #[serde(default)]
    pub min_cohort: Option<u32>,
}

/// Data a plugin asks for, per collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRequest {
    pub collection: String,
    pub fields: Vec<String>,
    /// How far back, in months; `None` for all time.
    #[serde(default)]
    pub months: Option<u32>,
    /// Why, in plain words.
    pub purpose: String,
}

/// Prices in minor units of `currency`; the billing ledger uses them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pricing {
    pub currency: String,
    #[serde(default)]
    pub per_run: i64,
    #[serde(default)]
    pub per_million_fuel: i64,
    #[serde(default)]
    pub per_thousand_records: i64,
}

/// Limits a plugin asks for; clamped to the operator's maxima.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedLimits {
    #[serde(default)]
    pub fuel: Option<u64>,
    #[serde(default)]
    pub memory_mib: Option<u64>,
    #[serde(default)]
    pub deadline_ms: Option<u64>,
}

/// How a plugin may be used, beyond a run the person or the requester starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginUse {
    /// Runs started one at a time, for one person.
    #[default]
    Run,
    /// A campaign scanner: findings go to the person alone; a campaign learns only whether
    /// the person matched, counted with others and shown only from its threshold k.
    Campaign,
    /// A study's analytics: each member's run yields the metrics declared in `aggregate`,
    /// which the host clips, sums across members and releases only with noise.
    Study,
}

/// A metric a study plugin contributes per member, with the bounds the host clips it to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateField {
    pub name: String,
    /// What it counts or sums, in plain words (for the consent screen and the release).
    pub description: String,
    pub lower: i64,
    pub upper: i64,
}

/// A plugin's manifest (`manifest.json` beside its crate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub version: String,
    pub publisher: String,
    pub description: String,
    pub data: Vec<DataRequest>,
    pub output: OutputContract,
    #[serde(default)]
    pub limits: RequestedLimits,
    #[serde(default)]
    pub pricing: Pricing,
    /// The interfaces the component imports: an interface (`insitu:plugin/data`) or a whole
    /// package (`wasi:cli`), without versions. Must match the component's imports exactly
    /// (see [`check_imports`]).
    pub imports: Vec<String>,
    /// How the plugin may be used (default: single runs).
    #[serde(default, rename = "use")]
    pub usage: PluginUse,
    /// For a study plugin: the metrics each member contributes, with their clipping bounds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregate: Vec<AggregateField>,
    /// For a study plugin whose metrics are one-hot or a budget shared between them (a count
    /// per category, one category per member): the most a member's clipped metrics may sum
    /// to, in absolute value. A member over it contributes nothing (the output is withheld),
    /// and the release's noise is calibrated to it instead of to the sum of every bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_l1: Option<i64>,
}

impl Manifest {
    /// Reads a `manifest.json`.
    pub fn from_file(path: &std::path::Path) -> Result<Manifest, PackageError> {
        let bytes = std::fs::read(path).map_err(|e| {
            PackageError::BadManifest(format!("cannot read {}: {e}", path.display()))
        })?;
        Manifest::read(&bytes).map_err(|e| match e {
            PackageError::BadManifest(m) => {
                PackageError::BadManifest(format!("{}: {m}", path.display()))
            }
            other => other,
        })
    }

    /// Reads a manifest from its JSON (a `manifest.json` or a package's manifest section): at
    /// most [`MAX_MANIFEST_BYTES`], then parsed, then [`Manifest::validate`]d. Never panics,
    /// on any input (`fuzz/fuzz_targets/manifest.rs`).
    pub fn read(json: &[u8]) -> Result<Manifest, PackageError> {
        if json.len() > MAX_MANIFEST_BYTES {
            return Err(PackageError::ManifestTooLarge(json.len()));
        }
        // A field the host does not know is refused, not ignored: `"month": 24` for `months`
        // would otherwise ask for every record, silently.
        let mut unknown = Vec::new();
        let mut de = serde_json::Deserializer::from_slice(json);
        let m: Manifest =
            serde_ignored::deserialize(&mut de, |path| unknown.push(path.to_string()))
                .and_then(|m| de.end().map(|()| m))
                .map_err(|e| PackageError::BadManifest(e.to_string()))?;
        if !unknown.is_empty() {
            return Err(PackageError::BadManifest(format!(
                "unknown field{} {}: no manifest field has this name (see docs/PLUGINS.md, \
                 the manifest field by field)",
                if unknown.len() > 1 { "s" } else { "" },
                unknown
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        m.validate()?;
        Ok(m)
    }

    /// Checks every value against its bounds ([`OutOfRange`] names the first one outside),
    /// then that the declared use agrees with the output contract: a campaign scanner returns
    /// findings to the person; a study plugin returns metrics for aggregation, each declared
    /// once. Each collection is requested once, each of its fields named once. Run at
    /// [`pack`] and at [`parse`] (so at install).
    pub fn validate(&self) -> Result<(), PackageError> {
        bounds::check(self)?;
        let bad = |m: String| Err(PackageError::BadManifest(m));
        match self.usage {
            PluginUse::Run => {}
            PluginUse::Campaign => {
                if self.output.kind != OutputKind::Findings
                    || self.output.audience != Audience::Person
                {
                    return bad("a campaign scanner must return findings to the person".into());
                }
            }
            PluginUse::Study => {
                if self.output.kind != OutputKind::Metrics
                    || self.output.audience != Audience::Aggregate
                {
                    return bad(
                        "a study plugin must return metrics with the aggregate audience".into(),
                    );
                }
                if self.aggregate.is_empty() {
                    return bad("a study plugin must declare its `aggregate` metrics".into());
                }
            }
        }
        if self.usage != PluginUse::Study && !self.aggregate.is_empty() {
            return bad("only a study plugin declares `aggregate` metrics".into());
        }
        match self.aggregate_l1 {
            Some(_) if self.usage != PluginUse::Study => {
                return bad("only a study plugin declares `aggregate_l1`".into());
            }
            Some(l1) if l1 <= 0 => {
                return bad(format!("`aggregate_l1` must be positive, not {l1}"));
            }
            _ => {}
        }
        let mut seen = BTreeSet::new();
        for f in &self.aggregate {
            if !seen.insert(f.name.as_str()) {
                return bad(format!("aggregate `{}` is declared twice", f.name));
            }
        }
        let mut collections = BTreeSet::new();
        for d in &self.data {
            if !collections.insert(d.collection.as_str()) {
                return bad(format!("collection {} is requested twice", d.collection));
            }
            let mut fields = BTreeSet::new();
            if let Some(f) = d.fields.iter().find(|f| !fields.insert(f.as_str())) {
                return bad(format!("field {f} of {} is requested twice", d.collection));
            }
        }
        Ok(())
    }

    /// The manifest in plain words, for the person and the operator.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} {} by {}\n{}\n",
            self.id, self.version, self.publisher, self.description
        );
        for d in &self.data {
            s.push_str(&format!(
                "reads {} of {} over {}, {RECORD_DATES}: {}\n",
                d.fields.join(", "),
                d.collection,
                window_words(d.months),
                d.purpose
            ));
        }
        s.push_str(&format!(
            "returns {:?} (at most {} items, {} bytes) {}\n",
            self.output.kind,
            self.output.max_items,
            self.output.max_bytes,
            audience_words(&self.output)
        ));
        match self.usage {
            PluginUse::Run => {}
            PluginUse::Campaign => s.push_str(
                "campaigns may run it: your findings are shown to you alone; a campaign learns \
                 only whether you match, counted with others, and only from its threshold\n",
            ),
            PluginUse::Study => {
                let names: Vec<&str> = self.aggregate.iter().map(|f| f.name.as_str()).collect();
                s.push_str(&format!(
                    "studies may run it: only {} leave, each clipped to its bounds, summed with \
                     other members' and released with differential-privacy noise\n",
                    names.join(", ")
                ));
            }
        }
        let p = &self.pricing;
        if !p.currency.is_empty() {
            s.push_str(&format!(
                "costs {} per run, {} per million fuel and {} per thousand records of its declared budget ({} minor units)\n",
                p.per_run, p.per_million_fuel, p.per_thousand_records, p.currency
            ));
        }
        let l = crate::manifest::limits_from(self);
        s.push_str(&format!(
            "each run is bounded to {} instructions, {} MiB of memory and {} ms\n",
            l.fuel,
            l.memory >> 20,
            l.deadline.as_millis()
        ));
        if self.imports.iter().any(|i| i == CLOCK) {
            s.push_str(
                "learns the date its run is as of (the day the run is requested, or the day its \
                 campaign or study opened), never the time\n",
            );
        }
        if !self.imports.is_empty() {
            s.push_str(&format!(
                "uses the host interfaces {}\n",
                self.imports.join(", ")
            ));
        }
        s
    }
}

/// What a plugin gets beside the granted fields, whatever the grant: each record's time (the
/// `times` column of every batch, which orders the collection and which the grant's window is
/// a range of). Said on every consent screen.
pub const RECORD_DATES: &str = "and the date of each record";

/// Each data request's window in words, with the dates a grant approved at `now_ms` would
/// cover, one line per collection: `bank.transactions: the last 24 months: 2024-11-30 to
/// 2026-11-30`, or `bank.transactions: all the records`. Shown at pack and at test, so that an
/// author sees which of their test records a person's grant would let the plugin read.
pub fn describe_window(m: &Manifest, now_ms: i64) -> String {
    m.data
        .iter()
        .map(|d| match d.months {
            None => format!("{}: all the records", d.collection),
            Some(months) => format!("{}: {}", d.collection, window_text(Some(months), now_ms)),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A window of `months` counted back from `now_ms`, in words with its dates: "the last 24
/// months: 2024-11-30 to 2026-11-30"; "all time" for `None`.
pub fn window_text(months: Option<u32>, now_ms: i64) -> String {
    use insitu_formats::time::format_date;
    match months {
        None => window_words(None),
        Some(m) => {
            let since =
                now_ms.saturating_sub(i64::from(m).saturating_mul(crate::request::MONTH_MS));
            format!(
                "{}: {} to {}",
                window_words(Some(m)),
                format_date(since),
                format_date(now_ms)
            )
        }
    }
}

/// A data request's window in plain words.
pub(crate) fn window_words(months: Option<u32>) -> String {
    match months {
        Some(1) => "the last month".into(),
        Some(m) => format!("the last {m} months"),
        None => "all time".into(),
    }
}

/// Who receives the output, in plain words.
pub(crate) fn audience_words(o: &OutputContract) -> String {
    match o.audience {
        Audience::Person => "to you alone".to_string(),
        Audience::Requester => "to the organisation that asked".to_string(),
        Audience::Aggregate => format!(
            "only combined with others, for groups of at least {}",
            o.min_cohort.unwrap_or(0)
        ),
    }
}

/// Who may run the plugin, in plain words.
pub(crate) fn use_words(u: PluginUse) -> &'static str {
    match u {
        PluginUse::Run => "only single runs",
        PluginUse::Campaign => "campaigns",
        PluginUse::Study => "studies",
    }
}

/// Why a package was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PackageError {
    #[error("not a WebAssembly file")]
    NotWasm,
    #[error("the package is cut short or its sections are malformed (at byte {0})")]
    Malformed(usize),
    #[error("the component carries no Insitu manifest; pack it with `insitu package pack`")]
    NoManifest,
    #[error("the manifest is not valid: {0}")]
    BadManifest(String),
    #[error(transparent)]
    OutOfRange(#[from] OutOfRange),
    #[error(
        "the manifest section has {0} bytes, over the {MAX_MANIFEST_BYTES} allowed; shorten the manifest"
    )]
    ManifestTooLarge(usize),
    #[error(
        "the package is not signed; sign it with `insitu package sign`, or install it in development mode"
    )]
    Unsigned,
    #[error(
        "the signature does not match the package: it was altered after signing, or signed by another key"
    )]
    BadSignature,
    #[error("the package is signed by `{0}`, a publisher this store does not trust")]
    UnknownPublisher(String),
    #[error("the package is signed by `{0}` with a key that was revoked")]
    RevokedPublisher(String),
    #[error("the manifest names publisher `{manifest}` but the package is signed by `{signer}`")]
    PublisherMismatch { manifest: String, signer: String },
    #[error("the manifest's imports do not match the component's: {0}")]
    ImportsMismatch(String),
    #[error(
        "the component imports {0}, which Insitu never provides to a plugin (only {list}: no network, no HTTP); remove the code that needs it",
        list = PROVIDED.join(", ")
    )]
    NotProvided(String),
    #[error(
        "this is a core WebAssembly module, not a component; build the plugin for `wasm32-wasip2`"
    )]
    CoreModule,
    #[error("the component cannot be read: {0}")]
    BadComponent(String),
    #[error("a section `{0}` appears twice")]
    Duplicate(&'static str),
}

/// `insitu:plugin/clock`: the date the run is as of. A manifest names it one by one
/// (declaring `insitu:plugin` does not cover it), and the consent screen says it.
pub const CLOCK: &str = "insitu:plugin/clock";

/// The packages whose interfaces the host links into every run: the Insitu interfaces and the
/// locked-down WASI subset of `sandbox/cap/wasi.rs` (`add_to_linker`). Nothing else is ever
/// provided: a component importing `wasi:sockets` or `wasi:http` can never be instantiated.
pub const PROVIDED: &[&str] = &[
    "insitu:plugin",
    "wasi:cli",
    "wasi:clocks",
    "wasi:filesystem",
    "wasi:io",
    "wasi:random",
];

/// The run limits a manifest asks for, over the defaults (clamped later to the operator's).
pub fn limits_from(m: &Manifest) -> Limits {
    let d = Limits::default();
    Limits {
        fuel: m.limits.fuel.unwrap_or(d.fuel),
        // Saturating: a manifest stored before its bounds were checked may carry any value.
        memory: m
            .limits
            .memory_mib
            .map(|v| v.saturating_mul(1 << 20))
            .unwrap_or(d.memory),
        deadline: m
            .limits
            .deadline_ms
            .map(std::time::Duration::from_millis)
            .unwrap_or(d.deadline),
        ..d
    }
}
