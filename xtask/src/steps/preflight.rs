//! Everything that must hold before a release changes anything, checked all
//! at once. Repository problems stop a dry run too; missing tools and
//! credentials stop only `--execute` (a dry run lists them as needs).

use anyhow::{bail, Context, Result};

use super::{Cx, Need, Outcome, Step};
use crate::config::Workspace;
use crate::release::plan::{Plan, StepName};
use crate::runner::{Effect, Runner};
use crate::tools::git::Git;

pub struct Preflight;

impl Step for Preflight {
    fn run(&self, cx: &Cx) -> Result<Outcome> {
        let previous = cx
            .plan
            .previous_version
            .as_deref()
            .map(semver::Version::parse)
            .transpose()
            .context("the plan's previous version")?;
        let problems = repository(cx.ws, cx.plan, previous.as_ref(), cx.runner)?;
        if !problems.is_empty() {
            bail!(
                "preflight found {} problem{}:\n{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                crate::report::bullets(&problems)
            );
        }
        let skipped: Vec<StepName> = cx
            .plan
            .steps
            .iter()
            .filter(|s| s.skipped)
            .map(|s| s.name)
            .collect();
        let needs = tools(cx.ws, &skipped, cx.runner);
        if cx.dry_run() {
            say!("dry run: the tests are not run; --execute runs `cargo xtask test` here first (--skip-tests skips them)");
            return Ok(Outcome {
                needs,
                ..Outcome::default()
            });
        }
        if !needs.is_empty() {
            let lines: Vec<String> = needs
                .iter()
                .map(|(w, f, h)| format!("{w} ({f}): {h}"))
                .collect();
            bail!(
                "--execute needs what this machine lacks:\n{}",
                crate::report::bullets(&lines)
            );
        }
        if cx.skip_tests {
            say!("!!! --skip-tests: releasing without running the tests !!!");
        } else {
            let test = crate::tools::bench::this_binary(Effect::Stage, ["test"])?.cwd(&cx.ws.root);
            cx.runner
                .run(&test)
                .context("the tests fail; a release needs them green (--skip-tests skips them, at your risk)")?;
        }
        Ok(Outcome::default())
    }
}

/// Problems with the repository's state, each with its fix.
pub fn repository(
    workspace: &Workspace,
    plan: &Plan,
    previous: Option<&semver::Version>,
    runner: &Runner,
) -> Result<Vec<String>> {
    let git = Git::at(&workspace.root);
    let mut problems = Vec::new();

    let status = runner.output(&git.status())?;
    // A write killed half-way leaves `.NAME.xtask-PID.tmp` beside its file:
    // never part of a release, so not "uncommitted changes" either.
    let changed: Vec<&str> = status
        .stdout
        .lines()
        .filter(|l| {
            let untracked_temp = l.starts_with("?? ")
                && l[3..]
                    .rsplit('/')
                    .next()
                    .is_some_and(crate::atomic::is_temp_name);
            !untracked_temp
        })
        .collect();
    if !changed.is_empty() {
        let files: Vec<&str> = changed
            .iter()
            .map(|l| l.get(3..).unwrap_or(l))
            .take(10)
            .collect();
        problems.push(format!(
            "the work tree has uncommitted changes ({}); commit or stash them first",
            files.join(", ")
        ));
    }
    if !workspace
        .release
        .branches
        .iter()
        .any(|pattern| matches(pattern, &plan.branch))
    {
        problems.push(format!(
            "releases start from {} (branches in [workspace.metadata.release]), not from `{}`; check out one of them",
            workspace.release.branches.join(", "),
            plan.branch
        ));
    }
    // `ls-remote`, not `fetch`: a dry run leaves every ref as it was.
    let remote_head = runner.output(&git.remote_ref(&format!("refs/heads/{}", plan.branch)))?;
    if !remote_head.success() {
        problems.push(format!(
            "cannot reach `origin`: {}; add it with `git remote add origin URL`",
            remote_head.stderr.trim()
        ));
    } else if let Some(sha) = remote_head.stdout.split_whitespace().next() {
        if !runner.output(&git.is_ancestor(sha, "HEAD"))?.success() {
            problems.push(format!(
                "origin/{} has commits this checkout lacks; run `git pull --rebase origin {}`",
                plan.branch, plan.branch
            ));
        }
    }
    if runner
        .output(&git.has_ref(&format!("refs/tags/{}", plan.tag)))?
        .success()
    {
        problems.push(format!(
            "tag {} already exists here; release another version or `git tag -d {}`",
            plan.tag, plan.tag
        ));
    }
    let remote_tag = runner.output(&git.remote_tag(&plan.tag))?;
    if !remote_tag.stdout.trim().is_empty() {
        problems.push(format!(
            "tag {} already exists on origin; release another version",
            plan.tag
        ));
    }
    if let Err(err) = crate::release::plan::check_progress(plan, previous) {
        problems.push(format!("{err}; pick a higher level or version"));
    }
    Ok(problems)
}

/// `*` matches any run of characters: `release/*` matches `release/1.2`.
fn matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first)
        || !name[first.len()..].ends_with(last)
        || name.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Tools and credentials that the steps still to run need and this machine
/// lacks, as needs: (what, for, how to get it).
pub fn tools(workspace: &Workspace, skipped: &[StepName], runner: &Runner) -> Vec<Need> {
    let report = crate::doctor::examine(workspace, runner);
    let step_of = |tool: &str| match tool {
        "docker" | "docker daemon" | "buildx" => Some(StepName::Docker),
        "gh" | "gh auth" => Some(StepName::GithubDraft),
        "twine" => Some(StepName::Pypi),
        "hailo" => Some(StepName::Build),
        _ => None,
    };
    let mut needs: Vec<Need> = report
        .tools
        .iter()
        .filter(|t| {
            report.missing.contains(&t.name.to_owned())
                && !step_of(t.name).is_some_and(|s| skipped.contains(&s))
        })
        .map(|t| {
            (
                t.name.to_owned(),
                "the release".to_owned(),
                t.fix.clone().unwrap_or_default(),
            )
        })
        .filter(|(name, _, _)| name != "hailo")
        .collect();
    for cred in report.credentials.iter().filter(|c| !c.set) {
        let step = if cred.name.starts_with("TWINE") {
            StepName::Pypi
        } else {
            StepName::GithubDraft
        };
        if !skipped.contains(&step) {
            needs.push((
                cred.name.to_owned(),
                cred.needed_for.clone(),
                format!("set {} in the environment", cred.name),
            ));
        }
    }
    needs
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn branch_patterns() {
        assert!(matches("main", "main"));
        assert!(!matches("main", "main2"));
        assert!(matches("release/*", "release/1.2"));
        assert!(matches("hotfix/*", "hotfix/1.2.4"));
        assert!(!matches("release/*", "feature/x"));
        assert!(matches("*", "anything"));
        assert!(matches("v*-lts", "v1-lts"));
        assert!(!matches("v*-lts", "v1-ltsx"));
    }
}
