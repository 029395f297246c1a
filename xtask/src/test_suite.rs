//! `cargo xtask test`: every test of the monorepo in one command.
//!
//! Sets up what the tests need, then runs them:
//! - a Python venv at `target/test-venv` with the pinned tools of
//!   `xtask/test-requirements.txt` (rebuilt only when that file or the
//!   interpreter changes);
//! - `cargo test --workspace`, with the venv first on PATH;
//! - tests that need a service (a Docker daemon) are `#[ignore = "service: …"]`
//!   so that a plain `cargo test` reports them as ignored, never as passed.
//!   This command runs them when the service can be started here, says loudly
//!   when it cannot, and fails under `CI=true` instead of skipping them;
//! - `pytest` on `python/tests`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::config::Workspace;
use crate::runner::{on_path, Cmd, Effect, Runner};
use crate::tools;

/// Run every test, Rust and Python, after setting up what they need.
#[derive(clap::Args, Debug)]
pub struct Test {
    /// Only the Rust tests.
    #[arg(long, conflicts_with = "python")]
    rust: bool,
    /// Only the Python tests.
    #[arg(long)]
    python: bool,
    /// Run only Rust tests whose name contains this (passed to `cargo test`).
    filter: Option<String>,
}

const REQUIREMENTS: &str = "xtask/test-requirements.txt";

impl Test {
    pub fn run(self) -> Result<()> {
        tools::require(&[&tools::GIT, &tools::PYTHON])?;
        let workspace = Workspace::discover()?;
        let root = &workspace.root;
        let runner = Runner::new(false);
        let venv = ensure_venv(root, &runner)?;
        let venv_bin = venv.join("bin");
        let python = venv_bin.join("python");
        let path = prepend_path(&venv_bin)?;
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        let mut report = Vec::new();

        if !self.python {
            let services = Services::detect();
            if let Some(why) = &services.missing {
                if ci {
                    bail!(
                        "CI must run the service tests, but {why}. `.ci/run` installs it; \
                         on a developer machine they are reported as not run instead"
                    );
                }
            }
            let mut cargo = Cmd::new(cargo_program(), Effect::Stage)
                .args(["test", "--workspace", "--locked", "--no-fail-fast"])
                .cwd(root)
                .env("PATH", &path)
                .env("XTASK_PYTHON", python.display().to_string());
            if let Some(filter) = &self.filter {
                cargo = cargo.arg(filter);
            }
            // The real Hailo DFC cannot be installed by a script (x86_64 only, a
            // registered download); its test runs only where `hailo` is.
            let dfc = on_path("hailo");
            match (services.missing.is_none(), dfc) {
                (true, true) => cargo = cargo.args(["--", "--include-ignored"]),
                (true, false) => {
                    cargo = cargo.args(["--", "--include-ignored", "--skip", "real_dfc"])
                }
                (false, _) => {}
            }
            runner.run(&cargo).context("Rust tests failed")?;
            report.push("Rust tests passed".to_owned());
            if !on_path("hailo") {
                report.push(
                    "!!! REAL DFC TEST NOT RUN: `hailo` (the Hailo Dataflow Compiler) is not on PATH; it is \
                     x86_64 Linux only and a registered download, so the fake DFC covered hef-compile !!!"
                        .to_owned(),
                );
            }
            match &services.missing {
                None => report.push("service tests (Docker daemon) ran".to_owned()),
                Some(why) => report.push(format!(
                    "!!! SERVICE TESTS NOT RUN: {why}. They are listed as `ignored` above; \
                     install what is missing and run this again !!!"
                )),
            }
        }
        if !self.rust && self.filter.is_none() {
            let pytest = Cmd::new(python.display().to_string(), Effect::Stage)
                .args([
                    "-m",
                    "pytest",
                    "python/tests",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                ])
                .cwd(root)
                .env("PYTHONPATH", root.join("python/src").display().to_string())
                .env("PYTHONDONTWRITEBYTECODE", "1");
            runner.run(&pytest).context("Python tests failed")?;
            report.push("Python tests passed".to_owned());
        }
        tell!("");
        for line in report {
            tell!("test: {line}");
        }
        Ok(())
    }
}

/// The `cargo` that runs us, so a toolchain override carries through.
fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn prepend_path(dir: &Path) -> Result<String> {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let joined = std::env::join_paths(
        std::iter::once(dir.to_owned()).chain(std::env::split_paths(&current)),
    )
    .context("building PATH for the tests")?;
    joined
        .into_string()
        .map_err(|_| anyhow::anyhow!("PATH is not valid UTF-8"))
}

/// Creates or reuses `target/test-venv`. Reused only when it was built from
/// the same requirements with the same interpreter.
fn ensure_venv(root: &Path, runner: &Runner) -> Result<PathBuf> {
    let requirements = root.join(REQUIREMENTS);
    let pinned = std::fs::read(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let interpreter = runner.read(&tools::python::version())?;
    let mut hasher = Sha256::new();
    hasher.update(&pinned);
    hasher.update(interpreter.trim().as_bytes());
    let key: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let venv = root.join("target/test-venv");
    let stamp = venv.join("xtask-stamp");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == key)
        && venv.join("bin/python").exists()
    {
        tell!("test: reusing {} ({})", venv.display(), interpreter.trim());
        return Ok(venv);
    }
    tell!("test: creating {} from {REQUIREMENTS}", venv.display());
    runner.run(
        &Cmd::new(tools::python::interpreter(), Effect::Stage)
            .args(["-m", "venv", "--clear"])
            .arg(venv.display().to_string()),
    )?;
    runner.run(
        &Cmd::new(venv.join("bin/python").display().to_string(), Effect::Stage)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(requirements.display().to_string()),
    )?;
    std::fs::write(&stamp, format!("{key}\n"))
        .with_context(|| format!("writing {}", stamp.display()))?;
    Ok(venv)
}

/// Which services the tests can start on this machine.
struct Services {
    /// Why the service tests cannot run here, if they cannot.
    missing: Option<String>,
}

impl Services {
    fn detect() -> Services {
        let missing = if !on_path("dockerd") || !on_path("docker-registry") {
            Some("`dockerd` or `docker-registry` is not installed (`apt-get install docker.io docker-registry`)".to_owned())
        } else if !is_root() {
            Some("the tests start their own `dockerd`, which needs root".to_owned())
        } else {
            None
        };
        Services { missing }
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|uids| uids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}
