//! `ci`: after the push, before anything is published, wait for the
//! project's own CI on the release commit (`[workspace.metadata.release.ci]`),
//! as a person would watch the Actions tab before building images.
//!
//! It only reads: `gh run list --commit SHA --json ...` until every run
//! (or every named workflow) has completed. A failed run stops the release
//! with the run's address; the tag is pushed, nothing is published, and
//! `cargo xtask release --resume` asks again after a re-run.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::{Cx, Outcome, Step};
use crate::github::Repo;

pub struct Ci;

/// One run as `gh run list --json` prints it.
#[derive(Debug)]
struct Run {
    database_id: u64,
    workflow_name: String,
    status: String,
    /// Empty until the run has completed.
    conclusion: String,
    url: String,
}

record!(read: Run (Camel) {
    database_id,
    workflow_name,
    status,
    conclusion,
    url,
});

/// What the runs of the commit say so far.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Passed(Vec<String>),
    Failed(String),
    /// No run (of a named workflow) yet.
    NotStarted(String),
    Waiting(String),
}

/// Reads the runs against the workflows that must pass (empty: all).
fn verdict(runs: &[Run], workflows: &[String]) -> Verdict {
    let wanted: Vec<&Run> = runs
        .iter()
        .filter(|r| workflows.is_empty() || workflows.contains(&r.workflow_name))
        .collect();
    // A run of one workflow may be re-run: the newest (highest id) counts.
    let mut newest: Vec<&Run> = Vec::new();
    for run in wanted {
        match newest
            .iter_mut()
            .find(|n| n.workflow_name == run.workflow_name)
        {
            Some(n) if n.database_id < run.database_id => *n = run,
            Some(_) => {}
            None => newest.push(run),
        }
    }
    if let Some(bad) = newest.iter().find(|r| {
        r.status == "completed"
            && !["success", "skipped", "neutral"].contains(&r.conclusion.as_str())
    }) {
        return Verdict::Failed(format!(
            "{} concluded `{}`: {}",
            bad.workflow_name, bad.conclusion, bad.url
        ));
    }
    let missing: Vec<&String> = workflows
        .iter()
        .filter(|w| !newest.iter().any(|r| &r.workflow_name == *w))
        .collect();
    if newest.is_empty() || !missing.is_empty() {
        return Verdict::NotStarted(match missing.is_empty() {
            true => "no run has started yet".to_owned(),
            false => format!(
                "no run yet of {}",
                missing
                    .iter()
                    .map(|w| w.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let running: Vec<String> = newest
        .iter()
        .filter(|r| r.status != "completed")
        .map(|r| format!("{} ({})", r.workflow_name, r.status))
        .collect();
    if !running.is_empty() {
        return Verdict::Waiting(running.join(", "));
    }
    Verdict::Passed(newest.iter().map(|r| r.workflow_name.clone()).collect())
}

impl Step for Ci {
    fn run(&self, cx: &Cx) -> Result<Outcome> {
        let Some(config) = &cx.ws.release.ci else {
            return Ok(Outcome::default());
        };
        let which = match config.workflows.is_empty() {
            true => "every workflow".to_owned(),
            false => config.workflows.join(", "),
        };
        let Some(commit) = cx.release_commit().filter(|_| !cx.dry_run()) else {
            say!(
                "dry run: --execute waits up to {} min for {which} on the pushed release commit \
                 (`gh run list --commit`), and stops before publishing if one fails",
                config.timeout_minutes
            );
            return Ok(Outcome::default());
        };
        let cmd = Repo::of(cx.ws).at(crate::tools::gh::run_list(commit));
        let started = Instant::now();
        let deadline = started + Duration::from_secs(config.timeout_minutes * 60);
        // Runs appear within seconds of a push; none after this long means
        // none will (a push made with GITHUB_TOKEN starts no workflow).
        let grace = Duration::from_secs((config.timeout_minutes * 60).min(300));
        let mut said = String::new();
        loop {
            let out = cx.runner.read(&cmd)?;
            let runs: Vec<Run> = crate::core::record::from_str(out.trim())
                .with_context(|| format!("reading `gh run list` for {commit}: {}", out.trim()))?;
            match verdict(&runs, &config.workflows) {
                Verdict::Passed(names) => {
                    say!("CI passed on {}: {}", &commit[..7.min(commit.len())], names.join(", "));
                    return Ok(Outcome::default());
                }
                Verdict::Failed(why) => bail!(
                    "CI failed on the release commit {commit}: {why}\nnothing was published; the tag {} is on \
                     origin. Fix CI and re-run it (`gh run rerun`), then `cargo xtask release --resume`; or \
                     `cargo xtask release rollback`",
                    cx.plan.tag
                ),
                Verdict::NotStarted(what) if started.elapsed() >= grace => bail!(
                    "no CI run of the release commit {commit} after {} s ({what}); nothing was published. A push \
                     made with GitHub Actions' GITHUB_TOKEN starts no workflow: push with a token or deploy key \
                     that does, or remove [ci]; then `cargo xtask release --resume --execute`",
                    grace.as_secs()
                ),
                Verdict::NotStarted(what) | Verdict::Waiting(what) => {
                    if Instant::now() >= deadline {
                        bail!(
                            "CI did not finish on the release commit {commit} within {} min ({what}); nothing \
                             was published. When it has passed, `cargo xtask release --resume`; raise \
                             ci.timeout-minutes in Cargo.toml if it is always this slow",
                            config.timeout_minutes
                        );
                    }
                    if what != said {
                        say!("waiting for CI on {}: {what}", &commit[..7.min(commit.len())]);
                        said = what;
                    }
                    std::thread::sleep(Duration::from_secs(config.interval_seconds));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: u64, name: &str, status: &str, conclusion: &str) -> Run {
        Run {
            database_id: id,
            workflow_name: name.to_owned(),
            status: status.to_owned(),
            conclusion: conclusion.to_owned(),
            url: format!("https://github.com/o/r/actions/runs/{id}"),
        }
    }

    #[test]
    fn runs_are_read_as_the_release_needs() {
        let none: &[String] = &[];
        let ci = ["CI".to_owned()];
        assert!(matches!(verdict(&[], none), Verdict::NotStarted(_)));
        assert!(matches!(
            verdict(&[run(1, "CI", "in_progress", "")], none),
            Verdict::Waiting(_)
        ));
        assert_eq!(
            verdict(&[run(1, "CI", "completed", "success")], none),
            Verdict::Passed(vec!["CI".to_owned()])
        );
        assert_eq!(
            verdict(&[run(1, "CI", "completed", "failure")], none),
            Verdict::Failed(
                "CI concluded `failure`: https://github.com/o/r/actions/runs/1".to_owned()
            )
        );
        // A re-run that passed replaces the failed one.
        assert!(matches!(
            verdict(
                &[
                    run(2, "CI", "completed", "success"),
                    run(1, "CI", "completed", "failure")
                ],
                none
            ),
            Verdict::Passed(_)
        ));
        // Only the named workflows count, and each must have run.
        assert!(matches!(
            verdict(&[run(1, "Docs", "completed", "failure")], &ci),
            Verdict::NotStarted(_)
        ));
        assert!(matches!(
            verdict(
                &[
                    run(1, "Docs", "completed", "failure"),
                    run(2, "CI", "completed", "success")
                ],
                &ci
            ),
            Verdict::Passed(_)
        ));
    }
}
