//! Everything that must hold before a release changes anything, checked all
//! at once. Repository problems stop a dry run too; missing tools and
//! credentials stop only `--execute` (a dry run lists them as needs).

use anyhow::{bail, Context, Result};

use super::{Cx, Need, Outcome, Step};
use crate::core::config::Workspace;
use crate::core::runner::Runner;
use crate::release::plan::{Plan, StepName};
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
        let mut problems = repository(cx.ws, cx.plan, previous.as_ref(), cx.runner)?;
        problems.extend(configuration(cx.ws, cx.plan, cx.runner)?);
        if cx.split.is_some() {
            // Planning a release across machines: the tag is pushed before
            // anything is built, so a version the index already holds is
            // refused now rather than at publish.
            problems.extend(versions_free(cx)?);
        }
        if !problems.is_empty() {
            bail!(
                "preflight found {} problem{}:\n{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                crate::core::report::bullets(&problems)
            );
        }
        let skipped: Vec<StepName> = cx
            .plan
            .steps
            .iter()
            .filter(|s| s.skipped)
            .map(|s| s.name)
            .collect();
        // Planning a release across machines: the tools and credentials
        // belong to the machines that build and publish the parts.
        let planning = cx.split.is_some();
        let needs = match planning {
            true => Vec::new(),
            false => tools(cx.ws, &skipped, cx.runner),
        };
        let tests = super::hooks(cx, super::Hook::Test);
        if cx.dry_run() {
            match tests.len() {
                0 => say!("dry run: no hooks.test in Cargo.toml, so --execute runs no tests"),
                _ => say!(
                    "dry run: the tests are not run; --execute runs hooks.test here first (--skip-tests skips them): {}",
                    cx.ws.release.hooks.test.iter().map(|argv| format!("`{}`", argv.join(" "))).collect::<Vec<_>>().join(", ")
                ),
            }
            return Ok(Outcome {
                needs,
                ..Outcome::default()
            });
        }
        // What the build would lack, found now rather than after the
        // release commit and tag exist.
        let mut needs = needs;
        if !planning {
            needs.extend(super::build::predict(cx.ws, cx.plan, cx.runner)?);
        }
        if !needs.is_empty() {
            let lines: Vec<String> = needs
                .iter()
                .map(|(w, f, h)| format!("{w} ({f}): {h}"))
                .collect();
            bail!(
                "--execute needs what this machine lacks:\n{}",
                crate::core::report::bullets(&lines)
            );
        }
        if cx.skip_tests {
            say!("!!! --skip-tests: releasing without running the tests !!!");
        } else if tests.is_empty() {
            say!("!!! no hooks.test in Cargo.toml: releasing without running any tests !!!");
        } else {
            for test in &tests {
                cx.runner.run(test).with_context(|| {
                    format!("`{test}` (hooks.test) fails; a release needs it green (--skip-tests skips the tests, at your risk)")
                })?;
            }
        }
        Ok(Outcome::default())
    }
}

/// Each published package's version that its index already holds.
fn versions_free(cx: &Cx) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let pep440 = cx.plan.pep440_version.as_deref().unwrap_or_default();
    for (name, url) in &cx.plan.index_urls {
        match crate::python::on_index(url, name, pep440, cx.runner) {
            Ok(files) if files.is_empty() => {}
            Ok(files) => problems.push(format!(
                "{url} already holds {name} {pep440} ({}): index files never change; release another version",
                files.join(", ")
            )),
            Err(err) if cx.dry_run() => say!(
                "dry run: could not ask {url} whether {name} {pep440} is free ({err:#}); --execute asks before pushing"
            ),
            Err(err) => problems.push(format!(
                "could not ask {url} whether {name} {pep440} is free ({err:#}); the tag is pushed before the parts \
                 are built, so this is asked first: check the index URL and the network"
            )),
        }
    }
    Ok(problems)
}

/// Problems with the repository's state, each with its fix.
pub fn repository(
    workspace: &Workspace,
    plan: &Plan,
    previous: Option<&semver::Version>,
    runner: &Runner,
) -> Result<Vec<String>> {
    let git = Git::at(&workspace.root);
    let mut problems: Vec<String> = uncommitted(&git, runner)?.into_iter().collect();
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

/// The work tree's uncommitted changes, if any, as a problem.
pub(crate) fn uncommitted(git: &Git, runner: &Runner) -> Result<Option<String>> {
    let status = runner.output(&git.status())?;
    // A write killed half-way leaves `.NAME.xtask-PID.tmp` beside its file:
    // never part of a release, so not "uncommitted changes" either.
    let files: Vec<&str> = status
        .stdout
        .lines()
        .filter(|l| {
            let untracked_temp = l.starts_with("?? ")
                && l[3..]
                    .rsplit('/')
                    .next()
                    .is_some_and(crate::core::atomic::is_temp_name);
            !untracked_temp
        })
        .map(|l| l.get(3..).unwrap_or(l))
        .take(10)
        .collect();
    Ok((!files.is_empty()).then(|| {
        format!(
            "the work tree has uncommitted changes ({}); commit or stash them first",
            files.join(", ")
        )
    }))
}

/// Problems with the configuration that would only surface half-way
/// through a release: a tag name git refuses, paths that do not exist,
/// versions that disagree, a key that cannot sign.
pub fn configuration(ws: &Workspace, plan: &Plan, runner: &Runner) -> Result<Vec<String>> {
    let git = Git::at(&ws.root);
    let mut problems = Vec::new();
    if !runner
        .output(&git.check_ref_format(&format!("refs/tags/{}", plan.tag)))?
        .success()
    {
        problems.push(format!(
            "tag-name `{}` makes `{}`, which git refuses as a tag name (git check-ref-format); \
             fix tag-name in [workspace.metadata.release] of Cargo.toml",
            ws.release.tag_name, plan.tag
        ));
    }
    let version = semver::Version::parse(&plan.version)?;
    let notes = super::build::notes(ws, plan, &version, "2000-01-01", Some("FINGERPRINT"));
    problems.extend(crate::model::references::problems(ws, runner)?);
    let template = ws.release.notes.template.as_ref();
    // A missing template is reported with the other paths below.
    if template.is_none_or(|t| ws.root.join(t).is_file()) {
        if let Err(err) = notes.probe() {
            problems.push(format!(
                "{err:#}\n(the release notes template; docs/RELEASE-NOTES.md lists what it can use)"
            ));
        }
    }
    if let Some(into) = &plan.merge_back {
        let fetched = runner.output(&git.fetch_branch(into))?;
        let merged = match fetched.success() {
            true => runner.output(&git.merge_tree("FETCH_HEAD", &plan.commit))?,
            false => fetched,
        };
        if !merged.success() {
            let said: Vec<&str> = merged
                .stdout
                .lines()
                .skip(1)
                .take_while(|l| !l.is_empty())
                .collect();
            problems.push(format!(
                "merge-back: {} cannot merge into origin's {into} ({}); merge {into} into it first, or \
                 remove merge-back from [workspace.metadata.release]",
                plan.branch,
                match said.is_empty() {
                    true => merged.stderr.trim().to_owned(),
                    false => format!("conflicts in {}", said.join(", ")),
                }
            ));
        }
    }
    for extra in &plan.extra_tags {
        let reference = format!("refs/tags/{}", extra.name);
        if !runner.output(&git.check_ref_format(&reference))?.success() {
            problems.push(format!(
                "extra-tags makes `{}`, which git refuses as a tag name (git check-ref-format); \
                 fix extra-tags in [workspace.metadata.release] of Cargo.toml",
                extra.name
            ));
        } else if runner.output(&git.has_ref(&reference))?.success()
            || !runner
                .output(&git.remote_tag(&extra.name))?
                .stdout
                .trim()
                .is_empty()
        {
            problems.push(format!(
                "tag {} already exists (here or on origin): a tag is never moved; \
                 `cargo xtask rollback` the release that made it, or pick another version",
                extra.name
            ));
        }
    }
    let release = &ws.release;
    let mut paths = vec![(release.changelog.path.clone(), "changelog.path")];
    let python_keys: Vec<String> = (0..release.python.len())
        .map(|i| format!("python[{i}].path"))
        .collect();
    paths.extend(
        release
            .python
            .iter()
            .zip(&python_keys)
            .map(|(p, key)| (p.path.clone(), key.as_str())),
    );
    // version-files paths (and globs) are checked where the version is found.
    paths.extend(
        release
            .docker
            .iter()
            .map(|d| (d.dockerfile.clone(), "docker[].dockerfile")),
    );
    paths.extend(
        release
            .models
            .iter()
            .map(|m| (m.metadata.clone(), "models[].metadata")),
    );
    paths.extend(
        release
            .notes
            .template
            .iter()
            .map(|t| (t.clone(), "notes.template")),
    );
    for (path, key) in paths {
        if !ws.root.join(&path).exists() {
            problems.push(format!(
                "{path} does not exist ({key} in [workspace.metadata.release] of {}); create it or fix the key",
                crate::core::config::where_key(&ws.root, key)
            ));
        }
    }
    // One TWINE_PASSWORD goes to every index the release uploads to: never
    // to two hosts (an internal token would reach PyPI).
    let hosts: std::collections::BTreeSet<&str> = plan
        .index_urls
        .values()
        .filter_map(|u| u.split("://").nth(1)?.split('/').next())
        .collect();
    if hosts.len() > 1 && std::env::var_os("TWINE_PASSWORD").is_some_and(|p| !p.is_empty()) {
        problems.push(format!(
            "the packages upload to {} hosts ({}) but TWINE_PASSWORD is one credential, which would reach \
             every one of them; upload to one index per release, or set publish = false on the others",
            hosts.len(),
            hosts.iter().copied().collect::<Vec<_>>().join(", ")
        ));
    }
    for (name, url) in &plan.index_urls {
        let host = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .and_then(|rest| rest.split('/').next())
            .filter(|host| !host.is_empty());
        if host.is_none() {
            problems.push(format!(
                "the upload URL `{url}` of {name} is not an http(s) URL with a host (TWINE_REPOSITORY_URL, else python[].index-url \
                 in [workspace.metadata.release] of Cargo.toml); e.g. https://upload.pypi.org/legacy/"
            ));
        }
    }
    let sources = crate::version::sources::VersionSources::locate(ws, runner)?;
    for (location, expected, agrees) in sources.check() {
        if !agrees {
            problems.push(format!(
                "{}: {} is {}, but Cargo.toml's version is {expected}; make them agree (`cargo xtask version` shows all) \
                 so the release does not overwrite a hand edit",
                location.file.display(),
                location.field,
                location.found
            ));
        }
    }
    if let (Some(key), true) = (
        &plan.sign_key,
        crate::core::runner::on_path("gpg") && !runner.is_dry_run(),
    ) {
        if let Err(err) = test_signature(ws, key, runner) {
            problems.push(format!(
                "cannot sign with {key}: {err:#}; import the key, or set RELEASE_GPG_PASSPHRASE"
            ));
        }
    }
    Ok(problems)
}

/// Signs a scratch file with `key`, as the build will sign the checksums.
fn test_signature(ws: &Workspace, key: &str, runner: &Runner) -> Result<()> {
    let dir = ws.root.join("target/xtask-release");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let file = dir.join("preflight-signature-test");
    std::fs::write(&file, b"cargo xtask release: can this key sign?\n")
        .with_context(|| format!("writing {}", file.display()))?;
    let signature = dir.join("preflight-signature-test.asc");
    let signed = crate::supply_chain::sign(key, std::slice::from_ref(&file), runner).map(|_| ());
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&signature);
    signed
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
