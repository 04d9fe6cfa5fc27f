use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,insitu::server=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = insitu::cli::Cli::parse();
    if !matches!(cli.command, insitu::cli::Command::Serve { .. }) {
        // `insitu person list | head`: Rust ignores SIGPIPE, so a closed pipe would make
        // `println!` panic. A command that prints ends quietly instead, as Unix tools do. The
        // server keeps ignoring it (its sockets report EPIPE as an error to handle).
        // SAFETY: called once, before any other thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match insitu::cli::main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            insitu::cli::report(&e);
            ExitCode::FAILURE
        }
    }
}
