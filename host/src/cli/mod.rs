//! The `insitu` command line: set up a store, import data, install plugins, grant, run and
//! audit. The end-to-end demo is its own binary (`insitu-demo`), which prints runs and jobs
//! with this module's functions.
//!
//! Errors are one line saying what failed, then a hint, with a non-zero exit.
//!
//! May touch: everything, through the library's public API only.

pub mod codesign;
pub mod commands;
pub mod jobs;
mod kit;
mod plugin_test;
mod show;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use insitu_core::pds::Pds;

pub use commands::install_file;

/// Insitu: a personal data store that runs third parties' algorithms in place.
#[derive(Parser, Debug)]
#[command(name = "insitu", version, about)]
pub struct Cli {
    /// The data directory. Default: $INSITU_DATA_DIR, else $XDG_DATA_HOME/insitu, else
    /// ~/.local/share/insitu.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The store: a PostgreSQL URL (`postgres://USER:PASSWORD@HOST/DB`) shared by any number
    /// of nodes. Default: $INSITU_STORE, else the redb file in the data directory, which then
    /// holds the store; with a URL it holds only this node's compiled code.
    /// Given before the command (`insitu --store URL serve`): `plugin test --store DIR` is the
    /// throw-away test store's directory.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Creates the store and the standard collections (safe to run again).
    Init,
    /// Adds or lists people.
    #[command(subcommand)]
    Person(PersonCmd),
    /// Defines or lists collections.
    #[command(subcommand)]
    Collection(CollectionCmd),
    /// Imports a person's files: bank statements, receipts, exports, CSV, JSON Lines.
    Import(ImportArgs),
    /// Installs or lists plugins.
    #[command(subcommand)]
    Plugin(PluginCmd),
    /// Publisher keys: create one, trust one, revoke one.
    #[command(subcommand)]
    Publisher(PublisherCmd),
    /// Plugin packages: pack a component with its manifest, sign, verify, inspect.
    #[command(subcommand)]
    Package(PackageCmd),
    /// Creates, lists or revokes grants.
    #[command(subcommand)]
    Grant(GrantCmd),
    /// Access requests: an organisation asks, the person approves (narrowing) or denies.
    #[command(subcommand)]
    Request(RequestCmd),
    /// Runs a plugin for a person under a grant, and prints its output and usage.
    Run(RunArgs),
    /// Lists runs with their outcome and usage (the operator's view: everything); `runs show
    /// ID` shows one in full.
    Runs {
        #[command(subcommand)]
        action: Option<RunsCmd>,
        #[arg(long)]
        person: Option<u64>,
        /// Show only the runs this organisation started, as it sees them: without outcome or
        /// usage, which depend on the person's data.
        #[arg(long = "as-org", value_name = "ORG")]
        as_org: Option<String>,
        /// Prints a JSON array of the runs as the viewer sees them.
        #[arg(long)]
        json: bool,
    },
    /// Writes generated records of a collection as JSON Lines (docs/GENERATED-DATA.md).
    Generate(plugin_test::GenerateArgs),
    /// Shows an audit chain (newest first: a person's with `--person`, else the operator's)
    /// and verifies it against the latest checkpoint.
    Audit {
        /// `verify`: only check the chains; `checkpoint`: publish a checkpoint.
        #[command(subcommand)]
        action: Option<AuditCmd>,
        /// This person's chain.
        #[arg(long)]
        person: Option<u64>,
        /// Only verify the chain.
        #[arg(long)]
        verify: bool,
    },
    /// Serves the HTTP API until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: std::net::SocketAddr,
        /// Requests per second allowed per token (twice that in a burst).
        #[arg(long, default_value_t = 50.0)]
        rate_per_token: f64,
        /// Requests per second allowed per client address (twice that in a burst).
        #[arg(long, default_value_t = 200.0)]
        rate_per_address: f64,
        /// Seconds between audit checkpoints (published on this schedule whether or not a
        /// chain moved; with several nodes, skipped while the latest is under half a period
        /// old); 0: none.
        #[arg(long, default_value_t = 600)]
        checkpoint_every: u64,
    },
    /// Server accounts: a person, developer, organisation or operator.
    #[command(subcommand)]
    Account(AccountCmd),
    /// Class-action campaigns: open, scan members in place, counts, invitations, settlement.
    #[command(subcommand)]
    Campaign(CampaignCmd),
    /// Studies: analytics across consenting members, released with differential privacy.
    #[command(subcommand)]
    Study(StudyCmd),
    /// The operator's policy for campaigns and studies.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// The billing ledger: balances, statements, the trial balance, the tariff.
    #[command(subcommand)]
    Ledger(LedgerCmd),
    /// Licences (white label) and sponsorships: an organisation pays for members' runs.
    #[command(subcommand)]
    Licence(LicenceCmd),
    /// Peer contact: people who took a path talk with people exploring it (double opt-in).
    #[command(subcommand)]
    Peer(PeerCmd),
    /// Co-design: organisations' product proposals, the patent officer's review, members'
    /// comments, suggestions and votes.
    #[command(subcommand)]
    Proposal(codesign::ProposalCmd),
    /// Pledges to proposals, held in escrow until the deadline pays out or refunds them.
    #[command(subcommand)]
    Pledge(codesign::PledgeCmd),
}

#[derive(Subcommand, Debug)]
pub enum PeerCmd {
    /// PERSON offers to talk about an occupation they hold or held (its code, as coaching shows).
    Offer {
        #[arg(long)]
        person: u64,
        #[arg(long)]
        occupation: String,
        /// What they are happy to talk about (shown without their name).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// PERSON asks to talk with someone who took the occupation.
    Ask {
        #[arg(long)]
        person: u64,
        #[arg(long)]
        occupation: String,
    },
    /// The mentor accepts or declines a request.
    Answer {
        id: u64,
        #[arg(long)]
        person: u64,
        #[arg(long)]
        accept: bool,
        #[arg(long)]
        decline: bool,
    },
    /// A person's contacts, as they see them.
    List {
        #[arg(long)]
        person: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum LicenceCmd {
    /// An organisation licenses a plugin for members (or sponsors their runs); bills its price.
    Add {
        /// The organisation's account name.
        #[arg(long)]
        organisation: String,
        /// The plugin's manifest id (every version is covered).
        #[arg(long)]
        plugin: String,
        /// The organisation's own name for the plugin (white label); without it, a
        /// sponsorship.
        #[arg(long)]
        white_label: Option<String>,
        /// The people covered, comma-separated ids.
        #[arg(long, value_delimiter = ',', required = true)]
        members: Vec<u64>,
        /// Seats (default: the number of members).
        #[arg(long)]
        seats: Option<u32>,
        /// Most runs paid in the period.
        #[arg(long)]
        quota: Option<u32>,
        /// First day (YYYY-MM-DD); default: today.
        #[arg(long)]
        from: Option<String>,
        /// Day after the last; default: a year later.
        #[arg(long)]
        until: Option<String>,
        /// What the organisation pays, like `300.00 EUR`.
        #[arg(long)]
        price: String,
    },
    List,
}

#[derive(Subcommand, Debug)]
pub enum LedgerCmd {
    /// Every account's balance, per currency (credits less debits).
    Balances,
    /// The sum of all balances per currency: zero when the ledger is sound.
    TrialBalance,
    /// One account's statement over a period, as text, CSV or JSON.
    Statement {
        /// `person:ID`, `developer:NAME`, `org:NAME` or `operator`.
        account: String,
        /// First day (YYYY-MM-DD); default: the start of this month.
        #[arg(long)]
        from: Option<String>,
        /// Day after the last (YYYY-MM-DD); default: the start of next month.
        #[arg(long)]
        until: Option<String>,
        /// `text`, `csv` or `json`.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// An organisation's invoice for a calendar month: its lines and totals, as text, CSV or
    /// JSON.
    Invoice {
        /// The organisation's account name.
        organisation: String,
        /// `YYYY-MM`; default: this month.
        #[arg(long)]
        month: Option<String>,
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Bills whatever a crash left unbilled (runs, jobs, access fees); never bills twice.
    Reconcile,
    /// A brand's yearly membership.
    Membership {
        brand: String,
        #[arg(long)]
        year: i32,
    },
    /// Shows or sets the operator's tariff (amounts in minor units, rates in percent).
    Tariff {
        #[arg(long)]
        commission: Option<f64>,
        #[arg(long)]
        member_share: Option<f64>,
        #[arg(long)]
        passage: Option<i64>,
        #[arg(long)]
        access_fee: Option<i64>,
        #[arg(long)]
        membership: Option<i64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum CampaignCmd {
    /// Opens a campaign with a scanner plugin; members are scanned with `campaign scan`.
    Open {
        /// The initiator's account name.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        description: String,
        /// The brand the campaign concerns.
        #[arg(long)]
        brand: String,
        /// The consumer association's organisation account.
        #[arg(long)]
        association: String,
        /// The scanner plugin (name, digest or prefix).
        #[arg(long)]
        scanner: String,
        /// A scanner parameter `name=value` (see `insitu run --help`). Repeat for more.
        #[arg(long = "param", short = 'p')]
        params: Vec<String>,
        /// Counts below k are shown as "fewer than k"; default and floor: the operator's.
        #[arg(long)]
        k: Option<u32>,
    },
    /// Scans every member with a standing grant for the scanner; resumes an interrupted scan.
    Scan {
        id: u64,
    },
    /// What the initiator and the association see: thresholded counts.
    Status {
        id: u64,
    },
    List,
    /// The members who accepted and the evidence they released (for the association).
    Claimants {
        id: u64,
    },
    /// A person's invitations, with the findings only they can see.
    Invitations {
        #[arg(long)]
        person: u64,
    },
    /// A person accepts (releasing the findings they choose) or declines an invitation.
    Answer {
        id: u64,
        #[arg(long)]
        person: u64,
        #[arg(long)]
        accept: bool,
        #[arg(long)]
        decline: bool,
        /// Findings to release, by their number in `campaign invitations`; default: all.
        #[arg(long, value_delimiter = ',')]
        findings: Vec<usize>,
    },
    /// Splits the brand's compensation among the members who accepted.
    Settle {
        id: u64,
        /// The compensation, like `12000.00 EUR`.
        #[arg(long)]
        amount: String,
        /// The association's share, in percent.
        #[arg(long, default_value_t = 5.0)]
        association_share: f64,
    },
}

#[derive(Subcommand, Debug)]
pub enum StudyCmd {
    /// Opens a study with an analytics plugin (`use: study`).
    Open {
        /// The organisation's account name.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        description: String,
        #[arg(long)]
        plugin: String,
        #[arg(long = "param", short = 'p')]
        params: Vec<String>,
        /// Default and floor: the manifest's `min_cohort`.
        #[arg(long)]
        min_cohort: Option<u32>,
        /// The privacy budget the release spends per member.
        #[arg(long, default_value_t = 0.5)]
        epsilon: f64,
        /// What each member included earns, like `0.50 EUR`.
        #[arg(long, default_value = "0.50 EUR")]
        reward: String,
    },
    /// Runs every consenting member with budget left, then releases with noise.
    Run {
        id: u64,
    },
    /// The release (noisy sums, cohort, budget), or why there is none.
    Status {
        id: u64,
    },
    List,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    Show,
    Set {
        /// The smallest k a campaign may use.
        #[arg(long)]
        k_floor: Option<u32>,
        /// Days before a scanner (any version), or an initiator, may open another campaign.
        #[arg(long)]
        campaign_gap_days: Option<u32>,
        /// Each member's ε budget per calendar month.
        #[arg(long)]
        epsilon_per_month: Option<f64>,
        /// The ε a campaign spends for each member it scans (default 0.5).
        #[arg(long)]
        campaign_epsilon: Option<f64>,
        /// Each member run's deadline in a job, in milliseconds (default 30000); it bounds the
        /// job's release time.
        #[arg(long)]
        member_deadline_ms: Option<u64>,
        /// Time added to a job's release time for compiling, committing and closing, in
        /// milliseconds (default 10000).
        #[arg(long)]
        release_margin_ms: Option<u64>,
        /// The service's commission on compensation, in percent.
        #[arg(long)]
        commission: Option<f64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccountCmd {
    /// Creates an account; the password is read from the first line of standard input. A
    /// person account gets its own store. The name is stored normalised (NFKC, trimmed) and
    /// refused if it hides characters, mixes look-alike scripts or reads as a taken name.
    Add {
        name: String,
        /// person, developer, organisation or operator.
        #[arg(long)]
        role: String,
    },
    List,
}

#[derive(Subcommand, Debug)]
pub enum RunsCmd {
    /// One run in full: its output with evidence and loss, the failure and the plugin's first
    /// error line, the usage, the log, and the contract's decision.
    Show {
        id: u64,
        /// The run as this organisation sees it: no detail, and the output only when it is
        /// the contract's audience and the release time has passed.
        #[arg(long = "as-org", value_name = "ORG")]
        as_org: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Checks the hash chains (every one, or a person's) and the latest checkpoint: any
    /// edited, deleted, inserted or reordered entry is reported, and so is a chain cut short
    /// or rewritten at its end since the checkpoint anchored it.
    Verify {
        /// Only this person's chain and its inclusion in the latest checkpoint.
        #[arg(long)]
        person: Option<u64>,
    },
    /// Publishes a checkpoint: every chain's head under a Merkle root signed with the
    /// operator's key (`operator.key` in the data directory, made on first use).
    Checkpoint,
}

#[derive(Subcommand, Debug)]
pub enum PersonCmd {
    Add {
        name: String,
    },
    List,
    /// Writes everything of a person's (data, grants, runs, audit) as one tar archive of JSON
    /// Lines and CSV.
    Export {
        id: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Imports an export archive's records into a person's store (another instance's, say).
    Restore {
        id: u64,
        archive: PathBuf,
    },
    /// Erases a person: records, runs, accounts deleted; grants revoked; an audit tombstone.
    Erase {
        id: u64,
        /// Erasure cannot be undone: say so.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum CollectionCmd {
    /// Defines a collection from a JSON schema file:
    /// {"name": "...", "fields": [{"name": "...", "type": "text", "optional": false}], "time_field": "..."}
    Define { schema: PathBuf },
    List {
        /// Also count this person's records in each collection.
        #[arg(long)]
        person: Option<u64>,
    },
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[arg(long)]
    pub person: u64,
    /// Target collection of a CSV or JSON Lines file; bank statements, receipts, usage events
    /// and LinkedIn files know theirs.
    #[arg(long)]
    pub collection: Option<String>,
    /// ofx, qfx, camt053, qif, cfonb120, csv, jsonl, receipts, usage, linkedin-positions,
    /// linkedin-education or linkedin-skills; detected from the content when absent.
    #[arg(long)]
    pub format: Option<String>,
    /// A JSON mapping file for a CSV: which column feeds which field, date format, decimal
    /// separator, encoding (see docs/IMPORT.md).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Currency of files that carry none (QIF).
    #[arg(long)]
    pub currency: Option<String>,
    /// Account name of files that carry none (QIF).
    #[arg(long)]
    pub account: Option<String>,
    /// Order of day, month and year in ambiguous dates (QIF): `dmy`, `mdy` or `ymd`;
    /// detected from the file's dates when absent.
    #[arg(long)]
    pub date_order: Option<String>,
    /// Accept dates before 1900 or more than a year after today, which are otherwise refused
    /// as misread (a wrong date order, a cut year).
    #[arg(long)]
    pub any_date: bool,
    /// Skip bad records (each is reported) instead of refusing the whole file.
    #[arg(long)]
    pub skip_bad: bool,
    /// A statement whose balances do not add up (CAMT, CFONB 120): `refuse` the file (the
    /// default), or `import` its movements without running balances, with a note.
    #[arg(long, value_name = "refuse|import")]
    pub unbalanced: Option<String>,
    /// Files, or folders (such as an unzipped LinkedIn export) whose recognised files are all
    /// imported.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum PluginCmd {
    /// Installs a signed package (see `insitu package`).
    Install {
        path: PathBuf,
        /// Development mode: accept an unsigned package. The plugin is marked as such.
        #[arg(long)]
        dev: bool,
    },
    List,
    /// Writes a new plugin project NAME (a working rule, manifest, unit test, build script)
    /// from the template for a language, in PARENT/NAME (default: the current directory).
    New {
        name: String,
        #[arg(long, value_enum)]
        lang: kit::Lang,
        /// The parent directory; default: the current directory.
        #[arg(long, value_name = "PARENT")]
        dir: Option<PathBuf>,
    },
    /// Runs a package (or a component with its manifest) on the real sandbox in a throw-away
    /// store, on given or generated data, under the grant its manifest asks for; prints the
    /// output as the person would see it, the usage, the log and the contract's decision.
    /// Exits non-zero when the run fails. `--replay RUN` re-runs a run of a kept test store
    /// and exits non-zero when its result differs.
    Test(Box<plugin_test::TestArgs>),
}

#[derive(Subcommand, Debug)]
pub enum RequestCmd {
    /// Asks a person for the data a plugin's manifest names.
    Ask {
        #[arg(long)]
        requester: String,
        #[arg(long)]
        person: u64,
        /// The plugin's digest, a unique prefix of it, or its name.
        #[arg(long)]
        plugin: String,
        #[arg(long)]
        purpose: String,
        /// How long the access would last.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    List {
        #[arg(long)]
        person: Option<u64>,
    },
    /// The consent screen: who asks, which data, why, for how long, what comes out to whom,
    /// and who pays what.
    Show {
        id: u64,
    },
    /// Approves, optionally narrowing: fewer fields, fewer months, fewer days.
    Approve {
        id: u64,
        /// Keep only these fields of a collection: `collection=field,field` (repeatable).
        #[arg(long = "keep")]
        keep: Vec<String>,
        #[arg(long)]
        months: Option<u32>,
        #[arg(long)]
        days: Option<u32>,
    },
    Deny {
        id: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum PublisherCmd {
    /// Creates a signing key pair: the secret key goes to FILE, the public key is printed.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Trusts NAME's public key (hex) for packages installed into this store.
    Trust {
        name: String,
        key: String,
    },
    List,
    /// Revokes NAME's key: its packages can no longer be installed.
    Revoke {
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum PackageCmd {
    /// Packs a component with its manifest (JSON) into one artifact. A manifest without
    /// `imports` gets them from the component; a wrong list is refused with each difference.
    Pack {
        component: PathBuf,
        #[arg(long)]
        manifest: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Signs a package as PUBLISHER with the secret key in KEY.
    Sign {
        package: PathBuf,
        #[arg(long)]
        publisher: String,
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signed package; default: in place.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Checks a package's signature against this store's trusted publishers.
    Verify { package: PathBuf },
    /// Shows a package's manifest in plain words, its digest and its signer.
    Inspect { package: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum GrantCmd {
    /// Grants a plugin read access to some fields of a person's collection.
    Add {
        #[arg(long)]
        person: u64,
        /// The plugin's digest, or a unique prefix of it.
        #[arg(long)]
        plugin: String,
        #[arg(long, default_value = "bank.transactions")]
        collection: String,
        /// Comma-separated fields.
        #[arg(long, value_delimiter = ',', required = true)]
        fields: Vec<String>,
        /// Window start (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Window end, exclusive.
        #[arg(long)]
        until: Option<String>,
        /// When the grant ends on its own.
        #[arg(long)]
        expires: Option<String>,
    },
    List {
        #[arg(long)]
        person: Option<u64>,
    },
    Revoke {
        id: u64,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[arg(long)]
    pub person: u64,
    #[arg(long)]
    pub grant: u64,
    /// The plugin to run (digest or prefix); default: the grant's plugin.
    #[arg(long)]
    pub plugin: Option<String>,
    /// A parameter `name=value`: integers stay integers, `12.34 EUR` is money, `true`/`false`
    /// are booleans, anything else is text. Repeat for more.
    #[arg(long = "param", short = 'p')]
    pub params: Vec<String>,
    /// Fuel budget (instructions); default: the manifest's.
    #[arg(long)]
    pub fuel: Option<u64>,
    /// Wall-clock deadline in milliseconds; default: the manifest's.
    #[arg(long)]
    pub deadline_ms: Option<u64>,
    /// Memory cap in MiB; default: the manifest's.
    #[arg(long)]
    pub memory_mb: Option<u64>,
    /// Run for this organisation, which must have obtained the grant (it pays, and sees only
    /// what `insitu runs --as-org` shows); default: the person's own run.
    #[arg(long = "for", value_name = "ORG")]
    pub for_org: Option<String>,
    /// Prints the run as one JSON document (as `insitu runs show --json`).
    #[arg(long)]
    pub json: bool,
}

/// The PDS on `dir`, over the store `store` names ([`Cli::store`]), or over the redb file in
/// `dir` when none is named.
pub fn open_pds(dir: &std::path::Path, store: Option<&str>) -> anyhow::Result<Pds> {
    let Some(url) = store else {
        return Pds::open(dir);
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        // Not echoed: the value may hold a password.
        anyhow::bail!(
            "--store (or INSITU_STORE) is not a PostgreSQL URL: give postgres://USER:PASSWORD@HOST/DB, \
             or leave it out to use the redb file in the data directory"
        );
    }
    let pg = insitu_store_pg::PgStore::connect(url)?;
    Pds::builder(dir).store(std::sync::Arc::new(pg)).open()
}

/// The default data directory (see [`Cli::data_dir`]).
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("INSITU_DATA_DIR") {
        return d.into();
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(d).join("insitu");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| ".".into());
    home.join(".local/share/insitu")
}

/// Prints an error as the command line does: one line, then each cause (a cause in the same
/// words as the line before, as a layer's error wrapping a store error, is not repeated), then
/// the hint for a store error a person can fix.
pub fn report(e: &anyhow::Error) {
    let mut chain = e.chain();
    if let Some(first) = chain.next() {
        eprintln!("error: {first}");
    }
    let mut last = e.to_string();
    for cause in chain {
        let text = cause.to_string();
        if text != last {
            eprintln!("  because: {text}");
        }
        last = text;
    }
    if let Some(hint) = hint(e) {
        eprintln!("hint: {hint}");
    }
}

/// What to type next after a store error, for the errors a person at the command line can fix.
pub fn hint(e: &anyhow::Error) -> Option<&'static str> {
    use insitu_core::store::StoreError;
    Some(
        match e.chain().find_map(|c| c.downcast_ref::<StoreError>())? {
            StoreError::NoPerson(_) => "list people with `insitu person list`",
            StoreError::NoCollection(_) => "define it first with `insitu collection define`",
            StoreError::NoPlugin(_) => "list plugins with `insitu plugin list`",
            StoreError::NoPublisher(_) => "list them with `insitu publisher list`",
            _ => return None,
        },
    )
}

/// Runs the command line; the error is printed by `main`.
pub fn main(cli: Cli) -> anyhow::Result<()> {
    let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    let store = cli
        .store
        .clone()
        .or_else(|| std::env::var("INSITU_STORE").ok().filter(|s| !s.is_empty()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            // The developer's kit needs no store.
            Command::Plugin(PluginCmd::New { name, lang, dir }) => {
                kit::new(&name, lang, dir.as_deref())
            }
            Command::Package(PackageCmd::Pack {
                component,
                manifest,
                out,
            }) => kit::pack(&component, &manifest, &out),
            Command::Publisher(PublisherCmd::Keygen { out }) => commands::keygen(&out),
            Command::Package(PackageCmd::Sign {
                package,
                publisher,
                key,
                out,
            }) => commands::sign(&package, &publisher, &key, out.as_deref()),
            Command::Plugin(PluginCmd::Test(args)) => plugin_test::test(&data_dir, *args).await,
            Command::Generate(args) => plugin_test::generate_cmd(args),
            other => {
                let pds = open_pds(&data_dir, store.as_deref())?;
                commands::dispatch(pds, other).await
            }
        }
    })
}
