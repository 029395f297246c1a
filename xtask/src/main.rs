//! `cargo xtask`: parse, dispatch, and report an error once.

// All output goes through `say!` / `tell!`, which mask secrets.
#![deny(clippy::print_stdout, clippy::print_stderr)]

// The floors, bottom up: `core` (runner, redaction, config, the release
// directory), `tools` (one wrapper per program), the domains, `steps`,
// `release` (the loop over them), `dev` (the project's own test and bench).
#[macro_use]
mod core;
mod tools;

mod assets;
mod changelog;
mod checksums;
mod docker;
mod github;
mod model;
mod python;
mod supply_chain;
mod version;

mod release;
mod steps;

mod cli;
mod dev;
mod doctor;
mod init;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(why) =
        core::redact::split_url_credentials().and_then(|()| core::redact::check_secrets())
    {
        tell!("error: {why}");
        return ExitCode::FAILURE;
    }
    if let Some(dir) = &cli.dir {
        if let Err(err) = std::env::set_current_dir(dir) {
            tell!("error: cannot change to {}: {err}", dir.display());
            return ExitCode::FAILURE;
        }
    }
    let result = match cli.command {
        Command::Doctor(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Init(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Bump(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Version(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Checksums(cmd) => cmd.run(),
        Command::Changelog(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Python(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Docker(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::GhRelease(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Models(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::HefCompile(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::OnnxExport(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Release(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Rollback(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::VerifyRelease(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Test(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Bench(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        // Not a failure: CI can tell it apart (commitizen's NO_INCREMENT code).
        Err(err) if err.chain().any(|e| e.is::<changelog::NothingToRelease>()) => {
            tell!("{err:#}");
            ExitCode::from(changelog::NothingToRelease::EXIT_CODE)
        }
        Err(err) => {
            // Every error leaves through here; `tell!` masks secrets that
            // slipped into a message (a child's stderr, a URL).
            tell!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
