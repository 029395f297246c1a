//! `cargo xtask test`: every test of the monorepo in one command.
//!
//! Sets up what the tests need, then runs every group whatever happened to
//! the one before, and ends with one table:
//! - the service check first (under `CI=true` a missing service fails before
//!   anything long starts);
//! - `cargo fetch --locked`: every crate the lock file names, for every
//!   platform, so tests that run cargo offline find them;
//! - a Python venv at `target/test-venv` with the pinned tools of
//!   `xtask/test-requirements.txt` (see `venv`: remade only when that file
//!   or the interpreter changes; uv's machine-wide cache is reused);
//! - the groups: Rust unit tests, Rust integration tests, the service tests
//!   (`#[ignore = "service: …"]`, run only where the service can be started),
//!   and `pytest` on `python/tests`;
//! - the summary: per group passed / failed / not run and time, each test
//!   that did not run with why, each failure, what the set-up downloaded.
//!
//! Exits non-zero when anything failed, and under `CI=true` when a test that
//! this machine could run did not. The real Hailo DFC test runs only where
//! `hailo` is installed (no script can install it) and is listed as not run.

mod report;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::core::config::Workspace;
use crate::core::runner::{on_path, Cmd, Runner};
use crate::python::venv::{dir_size, human_bytes, uv_cache_dir, Venv};
use crate::tools;
use report::{summary, Group};

/// Run every test, Rust and Python, after setting up what they need.
#[derive(Debug)]
pub struct Test {
    rust: bool,
    python: bool,
    filter: Option<String>,
}

const REQUIREMENTS: &str = "xtask/test-requirements.txt";

/// What the set-up made and took.
struct SetUp {
    /// The test venv's interpreter.
    python: PathBuf,
    times: Vec<(String, std::time::Duration)>,
    /// How much the caches grew, said in the summary.
    downloaded: String,
}

impl Test {
    pub fn args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new("rust")
                .long("rust")
                .action(ArgAction::SetTrue)
                .conflicts_with("python")
                .help("Only the Rust tests"),
        )
        .arg(
            Arg::new("python")
                .long("python")
                .action(ArgAction::SetTrue)
                .help("Only the Python tests"),
        )
        .arg(Arg::new("filter").value_name("FILTER").help(
            "Run only Rust tests whose name contains this (passed to `cargo test`). Integration \
             tests are named after their file: `docker::` runs `xtask/tests/it/docker.rs`",
        ))
    }

    pub fn from_matches(matches: &ArgMatches) -> Test {
        Test {
            rust: matches.get_flag("rust"),
            python: matches.get_flag("python"),
            filter: matches.get_one::<String>("filter").cloned(),
        }
    }

    pub fn run(self) -> Result<()> {
        tools::require(&[&tools::GIT, &tools::PYTHON])?;
        let workspace = Workspace::discover()?;
        let root = &workspace.root;
        let runner = Runner::new(false);
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        let services = Services::detect();
        if let (true, false, Some(why)) = (ci, self.python, &services.missing) {
            bail!(
                "CI must run the service tests, but {why}. `.ci/run` installs it; \
                 on a developer machine they are reported as not run instead"
            );
        }
        let setup = set_up(root, &runner)?;

        let mut groups = Vec::new();
        if self.python {
            for name in ["Rust unit", "Rust integration", SERVICE_GROUP] {
                groups.push(Group::not_run(name, "`--python` was given"));
            }
        } else {
            groups.extend(self.rust_groups(root, &setup.python, &services, &runner)?);
        }
        if self.rust || self.filter.is_some() {
            groups.push(Group::not_run("Python", "`--rust` or a FILTER was given"));
        } else {
            groups.push(python_group(root, &setup.python, &runner));
        }

        for line in summary(&groups, &setup.times, &setup.downloaded) {
            tell!("{line}");
        }
        verdict(&groups, ci)
    }

    /// Rust unit, Rust integration and the service tests, each run to its end.
    fn rust_groups(
        &self,
        root: &Path,
        python: &Path,
        services: &Services,
        runner: &Runner,
    ) -> Result<Vec<Group>> {
        let path = prepend_path(python.parent().context("the venv's bin dir")?)?;
        let cargo_test = |what: &[&str]| {
            let mut cmd = tools::cargo::test(root)
                .args(what.iter().copied())
                .env("PATH", &path)
                .env("XTASK_PYTHON", python.display().to_string());
            if let Some(filter) = &self.filter {
                cmd = cmd.arg(filter);
            }
            cmd
        };
        let unit = run_group(runner, "Rust unit", &cargo_test(&["--lib", "--bins"]));
        let mut integration = run_group(runner, "Rust integration", &cargo_test(&["--test", "*"]));
        let service = match &services.missing {
            None => {
                // Every ignored test: the service ones, and the real Hailo
                // DFC's where `hailo` is installed (no script can install it:
                // x86_64 only, a registered download).
                let mut ignored = vec!["--", "--ignored"];
                if !on_path("hailo") {
                    ignored.extend(["--skip", "real_dfc"]);
                }
                let cmd = cargo_test(&["--test", "*"]).args(ignored);
                run_group(runner, SERVICE_GROUP, &cmd)
            }
            Some(why) => Group::not_run(SERVICE_GROUP, why),
        };
        integration.forget_ran_in(&service);
        Ok(vec![unit, integration, service])
    }
}

const SERVICE_GROUP: &str = "service tests (Docker daemon)";

/// `cargo fetch`, then the test venv; how long each took and what the
/// caches grew by (measured only when the venv is made: walking a warm uv
/// cache on every run would cost more than the run).
fn set_up(root: &Path, runner: &Runner) -> Result<SetUp> {
    let venv = Venv {
        dir: root.join("target/test-venv"),
        requirements: root.join(REQUIREMENTS),
        download: "about 3.2 GB on a machine that has none of it: torch pulls its CUDA wheels",
    };
    let caches = (!venv.is_current(runner)?).then(Caches::measure);
    let mut times = Vec::new();
    let started = Instant::now();
    runner
        .run(&tools::cargo::fetch(root))
        .context("fetching the crates of Cargo.lock")?;
    times.push(("cargo fetch".to_owned(), started.elapsed()));
    let started = Instant::now();
    let python = venv.ensure(runner)?;
    times.push(("target/test-venv".to_owned(), started.elapsed()));
    let downloaded = match caches {
        Some(caches) => caches.growth(),
        None => "nothing (the venv was current)".to_owned(),
    };
    Ok(SetUp {
        python,
        times,
        downloaded,
    })
}

fn python_group(root: &Path, python: &Path, runner: &Runner) -> Group {
    let pytest = tools::python::pytest(python, root, "python/tests", &root.join("python/src"));
    let mut group = Group::new("Python");
    let started = Instant::now();
    if let Err(err) = runner.run_watching(&pytest, |line| group.pytest_line(line)) {
        if group.counts().failed == 0 {
            group.broken = Some(first_line(&err));
        }
    }
    group.elapsed = started.elapsed();
    group
}

/// Fails when a test failed, and under CI when one that could run did not.
fn verdict(groups: &[Group], ci: bool) -> Result<()> {
    let failed: Vec<&str> = groups
        .iter()
        .filter(|g| g.failed())
        .map(|g| g.name.as_str())
        .collect();
    if !failed.is_empty() {
        bail!("tests failed in: {}", failed.join(", "));
    }
    let not_run: usize = groups
        .iter()
        .map(|g| {
            let ignored = g
                .tests
                .iter()
                .filter(|(name, outcome)| {
                    matches!(outcome, report::Outcome::Ignored(_)) && !name.contains("real_dfc")
                })
                .count();
            ignored + g.counted.map_or(0, |c| c.ignored) + usize::from(g.skipped.is_some())
        })
        .sum();
    if ci && not_run > 0 {
        bail!("CI=true: {not_run} test(s) or group(s) that this machine can run did not run (listed above)");
    }
    Ok(())
}

/// Runs one libtest group to the end, failed or not.
fn run_group(runner: &Runner, name: &str, cmd: &Cmd) -> Group {
    let mut group = Group::new(name);
    let started = Instant::now();
    if let Err(err) = runner.run_watching(cmd, |line| group.libtest_line(line)) {
        if group.counts().failed == 0 {
            group.broken = Some(group.last_error.clone().unwrap_or_else(|| first_line(&err)));
        }
    }
    group.elapsed = started.elapsed();
    group
}

fn first_line(err: &anyhow::Error) -> String {
    format!("{err:#}")
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The caches the set-up may download into, measured before and after.
struct Caches {
    dirs: Vec<(String, PathBuf, u64)>,
}

impl Caches {
    fn measure() -> Caches {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .unwrap_or_default();
        let dirs = [
            ("crates", cargo_home.join("registry")),
            ("uv cache", uv_cache_dir()),
        ]
        .into_iter()
        .map(|(what, dir)| {
            let size = dir_size(&dir);
            (what.to_owned(), dir, size)
        })
        .collect();
        Caches { dirs }
    }

    /// `3.2 GB (crates 12.0 MB, uv cache 3.2 GB)`: what the caches grew by
    /// (downloads, unpacked: an upper bound on what came over the network).
    fn growth(&self) -> String {
        let grown: Vec<(String, u64)> = self
            .dirs
            .iter()
            .map(|(what, dir, before)| (what.clone(), dir_size(dir).saturating_sub(*before)))
            .collect();
        let total: u64 = grown.iter().map(|(_, n)| n).sum();
        let parts: Vec<String> = grown
            .iter()
            .map(|(what, n)| format!("{what} {}", human_bytes(*n)))
            .collect();
        format!("{} ({})", human_bytes(total), parts.join(", "))
    }
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
