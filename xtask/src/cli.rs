//! The command line: the subcommands, each with its `--help` line, and the
//! flags struct each one parses into. Built with clap's builder, not its
//! derive (no proc macro to compile; see Cargo.toml); each flags struct adds
//! its own arguments (`args`) and reads them back (`from_matches`).

use std::path::PathBuf;

use clap::{value_parser, Arg, ArgAction, ArgMatches};

use crate::changelog::Changelog;
use crate::checksums::Checksums;
use crate::dev::bench::Bench;
use crate::dev::test_suite::Test;
use crate::docker::Docker;
use crate::doctor::Doctor;
use crate::github::GhRelease;
use crate::init::Init;
use crate::model::hef_compile::HefCompile;
use crate::model::onnx_export::OnnxExport;
use crate::model::Models;
use crate::python::Python;
use crate::release::{Release, Rollback};
use crate::supply_chain::verify::VerifyRelease;
use crate::version::bump::Bump;
use crate::version::show::Versions;

/// What `cargo xtask` was asked to do: `-C DIR`, then one subcommand.
#[derive(Debug)]
pub struct Cli {
    pub dir: Option<PathBuf>,
    pub command: Command,
}

/// The subcommand given: its flags struct, which runs it.
#[derive(Debug)]
pub enum Command {
    Release(Release),
    Rollback(Rollback),
    VerifyRelease(VerifyRelease),
    Doctor(Doctor),
    Init(Init),
    Bump(Bump),
    Version(Versions),
    Checksums(Checksums),
    Changelog(Changelog),
    Python(Python),
    Docker(Docker),
    GhRelease(GhRelease),
    Models(Models),
    OnnxExport(OnnxExport),
    HefCompile(HefCompile),
    Test(Test),
    Bench(Bench),
}

/// `cargo xtask` with every subcommand, in the order `--help` lists them.
pub fn command() -> clap::Command {
    clap::Command::new("cargo xtask")
        .bin_name("cargo xtask")
        .version(env!("CARGO_PKG_VERSION"))
        .max_term_width(100)
        .about(
            "One-command releases for this edge-ML monorepo: versions, changelog, checksums, \
             models (ONNX, Hailo HEF), Python package, Docker images and the GitHub release. \
             Anything that changes the repository or the world is a dry run unless `--execute` \
             is given",
        )
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("dir")
                .short('C')
                .global(true)
                .value_name("DIR")
                .value_parser(value_parser!(PathBuf))
                .help("Run as if started in DIR (like `git -C` and `cargo -C`)"),
        )
        .subcommands([
            Release::args(clap::Command::new("release")).about(
                "Release: plan, check, build, verify, publish, resume (dry run unless --execute)",
            ),
            Rollback::args(clap::Command::new("rollback")).about(
                "Undo a release where possible and say what cannot be undone (dry run unless \
                 --execute)",
            ),
            VerifyRelease::args(clap::Command::new("verify-release")).about(
                "Verify a release directory: checksums, signatures, provenance, HEF headers",
            ),
            Doctor::args(clap::Command::new("doctor"))
                .about("Check the tools and credentials a release of this repository needs"),
            Init::args(clap::Command::new("init")).about(
                "Write this repository's release configuration from what it holds (dry run \
                 unless --execute)",
            ),
            Bump::args(clap::Command::new("bump")).about(
                "Set a new version in every file that carries it (dry run unless --execute)",
            ),
            Versions::args(clap::Command::new("version"))
                .about("Show the version as every file holds it; exit 1 when they disagree"),
            Checksums::args(clap::Command::new("checksums")).about(
                "Write or verify SHA-256 checksums like GNU sha256sum (same lines, messages, exit \
                 codes), faster",
            ),
            Changelog::args(clap::Command::new("changelog")).about(
                "Print the changelog section a release would write, from conventional commits",
            ),
            Python::args(clap::Command::new("python")).about(
                "Build, check or publish the Python package (publish: once, dry run unless \
                 --execute)",
            ),
            Docker::args(clap::Command::new("docker")).about(
                "Build or publish the container images (publish: tag policy, never overwriting a \
                 version)",
            ),
            GhRelease::args(clap::Command::new("gh-release")).about(
                "Draft, fill, publish or inspect the GitHub release (through gh; dry run unless \
                 --execute)",
            ),
            Models::args(clap::Command::new("models"))
                .about("Check model metadata and HEF files (every problem at once)"),
            OnnxExport::args(clap::Command::new("onnx-export")).about(
                "Export a model to ONNX with torch, verify it (onnxruntime parity), and stage its \
                 calibration set",
            ),
            HefCompile::args(clap::Command::new("hef-compile"))
                .about("Compile a model's ONNX export into a HEF with the Hailo Dataflow Compiler"),
            Test::args(clap::Command::new("test"))
                .about("Run every test, Rust and Python, after setting up what they need"),
            Bench::args(clap::Command::new("bench"))
                .about("Measure the xtask against its speed goals, beside a reference"),
        ])
}

impl Cli {
    /// The process's arguments; bad usage prints clap's error and exits 2.
    pub fn parse() -> Cli {
        Cli::from_matches(&command().get_matches())
    }

    fn from_matches(matches: &ArgMatches) -> Cli {
        let (name, sub) = matches
            .subcommand()
            .expect("command() requires a subcommand");
        let command = match name {
            "release" => Command::Release(Release::from_matches(sub)),
            "rollback" => Command::Rollback(Rollback::from_matches(sub)),
            "verify-release" => Command::VerifyRelease(VerifyRelease::from_matches(sub)),
            "doctor" => Command::Doctor(Doctor::from_matches(sub)),
            "init" => Command::Init(Init::from_matches(sub)),
            "bump" => Command::Bump(Bump::from_matches(sub)),
            "version" => Command::Version(Versions::from_matches(sub)),
            "checksums" => Command::Checksums(Checksums::from_matches(sub)),
            "changelog" => Command::Changelog(Changelog::from_matches(sub)),
            "python" => Command::Python(Python::from_matches(sub)),
            "docker" => Command::Docker(Docker::from_matches(sub)),
            "gh-release" => Command::GhRelease(GhRelease::from_matches(sub)),
            "models" => Command::Models(Models::from_matches(sub)),
            "onnx-export" => Command::OnnxExport(OnnxExport::from_matches(sub)),
            "hef-compile" => Command::HefCompile(HefCompile::from_matches(sub)),
            "test" => Command::Test(Test::from_matches(sub)),
            "bench" => Command::Bench(Bench::from_matches(sub)),
            other => unreachable!("{other}: not a subcommand of cli::command()"),
        };
        Cli {
            dir: matches.get_one::<PathBuf>("dir").cloned(),
            command,
        }
    }
}

/// `--execute`: without it, the command only says what it would do.
pub fn execute_flag(help: &'static str) -> Arg {
    Arg::new("execute")
        .long("execute")
        .action(ArgAction::SetTrue)
        .help(help)
}

/// `--json`: print the result as JSON instead of text.
pub fn json_flag(help: &'static str) -> Arg {
    Arg::new("json")
        .long("json")
        .action(ArgAction::SetTrue)
        .help(help)
}

/// The value of an argument clap requires or gives a default: always there
/// once the command line has parsed.
pub fn required<T: Clone + Send + Sync + 'static>(matches: &ArgMatches, id: &str) -> T {
    matches
        .get_one::<T>(id)
        .cloned()
        .unwrap_or_else(|| unreachable!("clap requires or defaults `{id}`"))
}

/// Every value of a repeated argument, in the order given.
pub fn all<T: Clone + Send + Sync + 'static>(matches: &ArgMatches, id: &str) -> Vec<T> {
    matches
        .get_many::<T>(id)
        .map(|values| values.cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        command().debug_assert();
    }
}
