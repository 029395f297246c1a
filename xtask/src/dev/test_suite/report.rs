//! What `cargo xtask test` saw: each test's outcome per group, read from the
//! runners' own lines (libtest's `test NAME ... ok`, pytest's summary), and
//! the closing table.
//!
//! Not for: running anything; `super` runs the groups and feeds lines here.

use std::collections::BTreeMap;
use std::time::Duration;

/// One test's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    /// Not run, with libtest's ignore reason when it gave one.
    Ignored(String),
}

/// A group of tests run by one command.
#[derive(Debug, Default)]
pub struct Group {
    pub name: String,
    /// `binary::test` -> outcome, in the order libtest reported them.
    pub tests: BTreeMap<String, Outcome>,
    /// Counts for runners whose tests are not listed one by one (pytest -q).
    pub counted: Option<Counts>,
    /// Why the group's command itself failed beyond its tests (it did not
    /// build, it crashed), if it did.
    pub broken: Option<String>,
    /// Set when the group was not run at all, with why.
    pub skipped: Option<String>,
    pub elapsed: Duration,
    /// The libtest binary whose tests are being reported.
    binary: String,
    /// Names pytest printed as failed.
    pub failed_names: Vec<String>,
    /// The last `error…` line the runner printed: why a group broke.
    pub last_error: Option<String>,
    /// A test whose verdict has not been read yet.
    pending: Option<String>,
}

/// libtest's verdict at the end of `text`, after anything a test printed
/// itself: `ok`, `FAILED`, `ignored` or `ignored, REASON`.
fn verdict_of(text: &str) -> Option<Outcome> {
    if let Some(at) = text.rfind("ignored") {
        let rest = &text[at + "ignored".len()..];
        if rest.is_empty() || rest.starts_with(", ") {
            return Some(Outcome::Ignored(rest.trim_start_matches(", ").to_owned()));
        }
    }
    if text.ends_with("FAILED") {
        Some(Outcome::Failed)
    } else if text.ends_with("ok") {
        Some(Outcome::Passed)
    } else {
        None
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub ignored: usize,
}

impl Group {
    pub fn new(name: impl Into<String>) -> Group {
        Group {
            name: name.into(),
            ..Group::default()
        }
    }

    /// A group that was not run, and why.
    pub fn not_run(name: impl Into<String>, why: impl Into<String>) -> Group {
        Group {
            skipped: Some(why.into()),
            ..Group::new(name)
        }
    }

    /// Reads one line of `cargo test` output.
    pub fn libtest_line(&mut self, line: &str) {
        let line = line.trim();
        if line.starts_with("error:") || line.starts_with("error[") {
            self.last_error = Some(line.to_owned());
        }
        if let Some(rest) = line.strip_prefix("Running ") {
            // `Running tests/it/main.rs (target/debug/deps/it-9f…)`: the
            // test binary's name without its hash, unique in a workspace
            // (`it`, the one integration test binary, whose test names carry
            // their module: `it::docker::pushes`).
            let deps = rest
                .rsplit_once(" (")
                .map_or(rest, |(_, d)| d.trim_end_matches(')'));
            let file = deps.rsplit('/').next().unwrap_or(deps);
            self.binary = file
                .rsplit_once('-')
                .map_or(file, |(name, _)| name)
                .to_owned();
            self.pending = None;
            return;
        }
        if let Some((name, verdict)) = line
            .strip_prefix("test ")
            .and_then(|rest| rest.split_once(" ... "))
        {
            match verdict_of(verdict) {
                Some(outcome) => self.record(name, outcome),
                // Something the test printed itself broke the line (one test
                // thread prints `test a ... ` before the test runs): the
                // verdict comes on a line of its own.
                None => self.pending = Some(name.to_owned()),
            }
            return;
        }
        if let Some(name) = self.pending.take() {
            match verdict_of(line) {
                Some(outcome) => self.record(&name, outcome),
                None => self.pending = Some(name),
            }
        }
    }

    fn record(&mut self, name: &str, outcome: Outcome) {
        self.tests
            .insert(format!("{}::{name}", self.binary), outcome);
    }

    /// Reads one line of `pytest -q` output.
    pub fn pytest_line(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("FAILED ") {
            self.failed_names
                .push(rest.split(" - ").next().unwrap_or(rest).to_owned());
            return;
        }
        // `27 passed in 3.21s`, `1 failed, 26 passed, 2 skipped in 4.0s`,
        // possibly framed by `=` signs.
        let summary = line.trim().trim_matches('=').trim();
        let Some((counts, _)) = summary.rsplit_once(" in ") else {
            return;
        };
        let mut found = Counts::default();
        let mut any = false;
        for part in counts.split(", ") {
            let Some((n, what)) = part.split_once(' ') else {
                return;
            };
            let Ok(n) = n.parse::<usize>() else {
                return;
            };
            match what {
                "passed" | "xpassed" => found.passed += n,
                "failed" | "error" | "errors" => found.failed += n,
                "skipped" | "deselected" | "xfailed" => found.ignored += n,
                "warning" | "warnings" => {}
                _ => return,
            }
            any = true;
        }
        if any {
            self.counted = Some(found);
        }
    }

    pub fn counts(&self) -> Counts {
        if let Some(counts) = self.counted {
            return counts;
        }
        let mut counts = Counts::default();
        for outcome in self.tests.values() {
            match outcome {
                Outcome::Passed => counts.passed += 1,
                Outcome::Failed => counts.failed += 1,
                Outcome::Ignored(_) => counts.ignored += 1,
            }
        }
        counts
    }

    /// Ignored tests that `later` ran are not "not run": drop them here.
    pub fn forget_ran_in(&mut self, later: &Group) {
        self.tests.retain(|name, outcome| {
            !(matches!(outcome, Outcome::Ignored(_))
                && later
                    .tests
                    .get(name)
                    .is_some_and(|o| !matches!(o, Outcome::Ignored(_))))
        });
    }

    pub fn failed(&self) -> bool {
        self.broken.is_some() || self.counts().failed > 0
    }
}

/// The closing table, what did not run and why, what failed, and a last
/// `N passed, N failed, N skipped` line.
pub fn summary(groups: &[Group], setup: &[(String, Duration)], downloaded: &str) -> Vec<String> {
    let mut lines = vec![
        String::new(),
        format!(
            "{:<34} {:>7} {:>7} {:>8} {:>8}",
            "test summary", "passed", "failed", "not run", "time"
        ),
    ];
    let mut total = Counts::default();
    for group in groups {
        let counts = group.counts();
        total.passed += counts.passed;
        total.failed += counts.failed;
        total.ignored += counts.ignored;
        let state = match (&group.skipped, &group.broken) {
            (Some(_), _) => "  (not run)",
            (None, Some(_)) => "  (broken)",
            _ => "",
        };
        lines.push(format!(
            "  {:<32} {:>7} {:>7} {:>8} {:>7.0}s{state}",
            group.name,
            counts.passed,
            counts.failed,
            counts.ignored,
            group.elapsed.as_secs_f64()
        ));
    }
    let setup: Vec<String> = setup
        .iter()
        .map(|(what, took)| format!("{what} {:.0}s", took.as_secs_f64()))
        .collect();
    lines.push(format!(
        "  set-up: {}; caches grew by {downloaded}",
        setup.join(", ")
    ));
    let mut not_run = Vec::new();
    let mut failed = Vec::new();
    for group in groups {
        if let Some(why) = &group.skipped {
            not_run.push(format!("  - {} (the whole group): {why}", group.name));
        }
        if let Some(why) = &group.broken {
            failed.push(format!("  - {}: {why}", group.name));
        }
        for (name, outcome) in &group.tests {
            match outcome {
                Outcome::Ignored(why) if why.is_empty() => {
                    not_run.push(format!("  - {name}: ignored without a reason"))
                }
                Outcome::Ignored(why) => not_run.push(format!("  - {name}: {why}")),
                Outcome::Failed => failed.push(format!("  - {name}")),
                Outcome::Passed => {}
            }
        }
        failed.extend(group.failed_names.iter().map(|n| format!("  - {n}")));
    }
    if !not_run.is_empty() {
        lines.push("not run:".to_owned());
        lines.extend(not_run);
    }
    if !failed.is_empty() {
        lines.push("failed:".to_owned());
        lines.extend(failed);
    }
    lines.push(format!(
        "test: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.ignored
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn libtest(lines: &str) -> Group {
        let mut group = Group::new("g");
        for line in lines.lines() {
            group.libtest_line(line);
        }
        group
    }

    #[test]
    fn libtest_lines_are_read_per_binary() {
        let group = libtest(
            "     Running unittests src/main.rs (target/debug/deps/xtask-1a2b)\n\
             test checksums::tests::one ... ok\n\
             test a ... FAILED\n\
             test printed ... $ sleep 30ok\n\
             test split ... $ sleep 30\n\
             FAILED\n\
             \x20    Running tests/it/main.rs (target/debug/deps/it-9f)\n\
             test docker::a ... ok\n\
             test docker::pushes ... ignored, service: needs a real dockerd\n\
             test models::plain ... ignored\n\
             test result: ok. 1 passed; 0 failed; 2 ignored; 0 measured\n\
             \x20    Running tests/docker.rs (target/debug/deps/docker-4c)\n\
             test a ... ok\n",
        );
        assert_eq!(group.tests["xtask::checksums::tests::one"], Outcome::Passed);
        assert_eq!(group.tests["xtask::a"], Outcome::Failed);
        assert_eq!(group.tests["xtask::printed"], Outcome::Passed);
        assert_eq!(group.tests["xtask::split"], Outcome::Failed);
        assert_eq!(group.tests["it::docker::a"], Outcome::Passed);
        assert_eq!(
            group.tests["it::docker::pushes"],
            Outcome::Ignored("service: needs a real dockerd".to_owned())
        );
        assert_eq!(
            group.tests["it::models::plain"],
            Outcome::Ignored(String::new())
        );
        // A test binary of its own (`tests/NAME.rs`) is keyed the same way.
        assert_eq!(group.tests["docker::a"], Outcome::Passed);
        assert_eq!(
            group.counts(),
            Counts {
                passed: 4,
                failed: 2,
                ignored: 2
            }
        );
    }

    #[test]
    fn pytest_summaries_are_counted() {
        let cases = [
            ("27 passed in 3.21s", (27, 0, 0)),
            ("1 failed, 26 passed, 2 skipped in 4.02s", (26, 1, 2)),
            (
                "===== 3 passed, 1 error, 2 warnings in 0.5s =====",
                (3, 1, 0),
            ),
            ("no tests ran in 0.01s", (0, 0, 0)),
        ];
        for (line, (passed, failed, ignored)) in cases {
            let mut group = Group::new("py");
            group.pytest_line(line);
            assert_eq!(
                group.counts(),
                Counts {
                    passed,
                    failed,
                    ignored
                },
                "{line}"
            );
        }
        let mut group = Group::new("py");
        group.pytest_line("FAILED python/tests/test_x.py::test_y - AssertionError: boom");
        assert_eq!(group.failed_names, ["python/tests/test_x.py::test_y"]);
    }

    #[test]
    fn tests_run_by_a_later_group_are_not_reported_as_not_run() {
        let mut integration = libtest(
            "Running tests/it/main.rs (target/debug/deps/it-1f)\ntest docker::pushes ... ignored, service: x\ntest models::dfc ... ignored, dfc: y\n",
        );
        let services = libtest(
            "Running tests/it/main.rs (target/debug/deps/it-2e)\ntest docker::pushes ... ok\n",
        );
        integration.forget_ran_in(&services);
        assert!(!integration.tests.contains_key("it::docker::pushes"));
        assert!(integration.tests.contains_key("it::models::dfc"));
    }

    #[test]
    fn the_summary_names_every_failure_and_every_test_not_run() {
        let mut unit =
            libtest("Running unittests src/main.rs (target/debug/deps/xtask-3d)\ntest a ... ok\ntest b ... FAILED\n");
        unit.elapsed = Duration::from_secs(3);
        let integration = libtest(
            "Running tests/it/main.rs (target/debug/deps/it-5a)\ntest cli::c ... ok\ntest cli::d ... FAILED\n",
        );
        let mut python = Group::new("Python");
        python.skipped = Some("`--rust` was given".to_owned());
        let lines = summary(
            &[unit, integration, python],
            &[("venv".to_owned(), Duration::from_secs(2))],
            "0 B",
        );
        let text = lines.join("\n");
        assert!(
            text.contains("failed:\n  - xtask::b\n  - it::cli::d"),
            "{text}"
        );
        assert!(
            text.contains("not run:\n  - Python (the whole group): `--rust` was given"),
            "{text}"
        );
        assert_eq!(lines.last().unwrap(), "test: 2 passed, 2 failed, 0 skipped");
    }
}
