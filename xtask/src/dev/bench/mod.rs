//! `cargo xtask bench ...`: speed goals measured, not asserted in tests.
//!
//! Each benchmark runs its reference in the same invocation and prints the
//! ratio, so a slow machine slows both sides. Goals are printed with `ok` or
//! `MISSED`; a missed goal does not fail the command (timings are not tests).

mod build;
mod changelog;
mod checksums;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{value_parser, Arg, ArgMatches, Command};

use crate::core::runner::{Cmd, Measured, Runner};

/// Measure the xtask against its speed goals, beside a reference.
#[derive(Debug)]
pub enum Bench {
    Build { runs: usize },
    Checksums { runs: usize },
    Changelog { commits: usize, runs: usize },
}

impl Bench {
    pub fn args(cmd: Command) -> Command {
        let runs = |default: &'static str, help: &'static str| {
            Arg::new("runs")
                .long("runs")
                .value_name("RUNS")
                .value_parser(value_parser!(usize))
                .default_value(default)
                .help(help)
        };
        cmd.subcommand_required(true)
            .arg_required_else_help(true)
            .subcommand(
                Command::new("build")
                    .about(
                        "How long a fresh checkout waits for `cargo xtask --help`: a cold build \
                         into an empty target directory (goal ≤ 15 s on 2 cores) and warm runs \
                         (goal ≤ 0.5 s), beside a cold build of an empty crate",
                    )
                    .arg(runs("10", "How many warm runs to take the median of")),
            )
            .subcommand(
                Command::new("checksums")
                    .about(
                        "`cargo xtask checksums` (through the alias, dev profile) against GNU \
                         sha256sum on one 512 MiB file (goal ≥ 3.0x) and four 256 MiB files \
                         (goal ≥ 5.5x), generation and --check, with peak memory (goal ≤ 32 MiB)",
                    )
                    .arg(runs(
                        "3",
                        "How many runs of each command to take the median of",
                    )),
            )
            .subcommand(
                Command::new("changelog")
                    .about(
                        "`cargo xtask changelog` on a history of 50,000 conventional commits \
                         against the bare `git log` it reads (goal ≤ 2x) and git-cliff when \
                         installed, with peak memory at a tenth and all of the history",
                    )
                    .arg(
                        Arg::new("commits")
                            .long("commits")
                            .value_name("COMMITS")
                            .value_parser(value_parser!(usize))
                            .default_value("50000")
                            .help("How many commits the history has"),
                    )
                    .arg(runs(
                        "3",
                        "How many runs of each command to take the median of",
                    )),
            )
    }

    pub fn from_matches(matches: &ArgMatches) -> Bench {
        let count = |matches: &ArgMatches, id: &str| -> usize { crate::cli::required(matches, id) };
        match matches.subcommand() {
            Some(("build", args)) => Bench::Build {
                runs: count(args, "runs"),
            },
            Some(("checksums", args)) => Bench::Checksums {
                runs: count(args, "runs"),
            },
            Some(("changelog", args)) => Bench::Changelog {
                commits: count(args, "commits"),
                runs: count(args, "runs"),
            },
            other => unreachable!("{other:?}: not a subcommand of Bench::args"),
        }
    }

    pub fn run(self) -> Result<()> {
        match self {
            Bench::Build { runs } => build::run(runs.max(1)),
            Bench::Checksums { runs } => checksums::run(runs.max(1)),
            Bench::Changelog { commits, runs } => changelog::run(commits.max(10), runs.max(1)),
        }
    }
}

/// The run of median wall time out of `runs`.
fn median(runner: &Runner, cmd: &Cmd, runs: usize) -> Result<Measured> {
    let mut all: Vec<Measured> = (0..runs)
        .map(|_| runner.measure(cmd))
        .collect::<Result<_>>()?;
    all.sort_by_key(|m| m.elapsed);
    Ok(all.swap_remove(all.len() / 2))
}

fn time(runner: &Runner, cmd: &Cmd) -> Result<Duration> {
    Ok(runner.measure(cmd)?.elapsed)
}

fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

fn remove_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).with_context(|| format!("removing {}", dir.display()))
        }
        _ => Ok(()),
    }
}
