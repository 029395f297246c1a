//! The command line. The `///` comments here are the `--help` text.

use clap::{Parser, Subcommand};

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

/// One-command releases for this edge-ML monorepo: versions, changelog,
/// checksums, models (ONNX, Hailo HEF), Python package, Docker images and
/// the GitHub release. Anything that changes the repository or the world is
/// a dry run unless `--execute` is given.
#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    max_term_width = 100
)]
pub struct Cli {
    /// Run as if started in DIR (like `git -C` and `cargo -C`).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Release: plan, check, build, verify, publish, resume (dry run unless --execute).
    Release(Release),
    /// Undo a release where possible and say what cannot be undone (dry run unless --execute).
    Rollback(Rollback),
    /// Verify a release directory: checksums, signatures, provenance, HEF headers.
    VerifyRelease(VerifyRelease),
    /// Check the tools and credentials a release of this repository needs.
    Doctor(Doctor),
    /// Write this repository's release configuration from what it holds (dry run unless --execute).
    Init(Init),
    /// Set a new version in every file that carries it (dry run unless --execute).
    Bump(Bump),
    /// Show the version as every file holds it; exit 1 when they disagree.
    Version(Versions),
    /// Write or verify SHA-256 checksums like GNU sha256sum (same lines, messages, exit codes), faster.
    Checksums(Checksums),
    /// Print the changelog section a release would write, from conventional commits.
    Changelog(Changelog),
    /// Build, check or publish the Python package (publish: once, dry run unless --execute).
    #[command(subcommand)]
    Python(Python),
    /// Build or publish the container images (publish: tag policy, never overwriting a version).
    #[command(subcommand)]
    Docker(Docker),
    /// Draft, fill, publish or inspect the GitHub release (through gh; dry run unless --execute).
    GhRelease(GhRelease),
    /// Check model metadata and HEF files (every problem at once).
    #[command(subcommand)]
    Models(Models),
    /// Export a model to ONNX with torch, verify it (onnxruntime parity), and stage its calibration set.
    OnnxExport(OnnxExport),
    /// Compile a model's ONNX export into a HEF with the Hailo Dataflow Compiler.
    HefCompile(HefCompile),
    /// Run every test, Rust and Python, after setting up what they need.
    Test(Test),
    /// Measure the xtask against its speed goals, beside a reference.
    #[command(subcommand)]
    Bench(Bench),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
