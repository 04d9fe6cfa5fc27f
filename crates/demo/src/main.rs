//! `insitu-demo`: every scenario of the product end to end on a fresh store. Synthetic people
//! import their bank statements and receipts through the real importers, grant a signed
//! plugin, and it runs in each store; then the campaigns, the co-design study and the
//! proposal it leads to, the coaching licence and the books. `cargo run -p insitu-demo` is the README's first command.
//!
//! A separate binary so that the `insitu` command line builds no plugin and holds no path of
//! the machine that built it: the demo needs the plugins it runs (`insitu-plugins`).

mod demo;
mod demo_codesign;
mod demo_jobs;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Runs the end-to-end demo on a fresh data directory.
#[derive(Parser, Debug)]
#[command(name = "insitu-demo", version)]
pub struct DemoArgs {
    /// Where the demo's store goes: a fresh directory. Default: a temporary one.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// How many synthetic people.
    #[arg(long, default_value_t = 6)]
    pub people: usize,
    /// Keep the demo's data directory instead of deleting it.
    #[arg(long)]
    pub keep: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = DemoArgs::parse();
    let run = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(demo::run(args.data_dir.clone(), args)));
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            insitu::cli::report(&e);
            ExitCode::FAILURE
        }
    }
}
