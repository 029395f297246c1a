//! `cargo xtask rollback vX.Y.Z`: undo what a release did, where it can be
//! undone, and say plainly what cannot.
//!
//! Removed: the GitHub release, the tag on origin and here, the release
//! commit while it is not pushed. Not removable: a PyPI version (files are
//! immutable; it can only be yanked, by hand) and image tags already pulled by
//! others; the commands to repair them are printed.

use anyhow::{bail, Result};
use clap::{Arg, ArgMatches, Command};

use crate::core::config::Workspace;
use crate::core::runner::Runner;
use crate::tools::gh;
use crate::tools::git::Git;

/// Undo a release where possible; print what cannot be undone (dry run unless --execute).
#[derive(Debug)]
pub struct Rollback {
    tag: String,
    execute: bool,
}

impl Rollback {
    pub fn args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new("tag")
                .value_name("TAG")
                .required(true)
                .help("The release tag, e.g. v1.2.0"),
        )
        .arg(crate::cli::execute_flag(
            "Remove; without it, only say what would be removed",
        ))
    }

    pub fn from_matches(matches: &ArgMatches) -> Rollback {
        Rollback {
            tag: crate::cli::required(matches, "tag"),
            execute: matches.get_flag("execute"),
        }
    }

    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        let runner = Runner::new(!self.execute);
        let root = &workspace.root;
        let tag = &self.tag;
        let git = Git::at(root);
        // Never beside a live release: it would undo what that one is doing.
        // A lock whose release died is taken over, as `--resume` does.
        let _lock = if self.execute {
            Some(super::journal::Lock::acquire(root, true)?)
        } else {
            None
        };
        let journal = super::journal::Journal::load(root)?;
        // Whether this release's pypi step ever started (unknown without its journal).
        let pypi_started = journal
            .as_ref()
            .filter(|j| j.plan.tag == *tag)
            .map(|j| j.steps.contains_key(&super::plan::StepName::Pypi));
        let planned = journal.as_ref().map(|j| &j.plan).filter(|p| p.tag == *tag);
        let extra_tags = extra_tags(&workspace, tag, planned);
        // Recognised by its tag (or, before the tag was made, by the plan).
        let release_commit = release_commit(&workspace, &git, tag, planned, &runner)?;
        let in_progress = journal.as_ref().map(|j| j.plan.tag.clone());

        // What exists of this release, asked before anything is removed.
        let github = if workspace.release.github.is_some() && crate::core::runner::on_path("gh") {
            match crate::github::view(tag, &crate::github::Repo::of(&workspace), &runner) {
                Ok(found) => Some(found.is_some()),
                Err(err) => {
                    say!("GitHub: could not look up {tag} ({err:#}); delete it by hand if it exists: gh release delete {tag} --yes");
                    None
                }
            }
        } else {
            None
        };
        let remote_tag = !runner
            .output(&git.remote_tag(tag))?
            .stdout
            .trim()
            .is_empty();
        let local_tag = runner
            .output(&git.has_ref(&format!("refs/tags/{tag}")))?
            .success();
        let ours = in_progress.as_deref() == Some(tag.as_str());
        let mut extras_left = false;
        for extra in &extra_tags {
            extras_left |= !runner
                .output(&git.remote_tag(extra))?
                .stdout
                .trim()
                .is_empty()
                || runner
                    .output(&git.has_ref(&format!("refs/tags/{extra}")))?
                    .success();
        }
        if github != Some(true) && !remote_tag && !local_tag && !ours && !extras_left {
            bail!(
                "nothing to roll back: {tag} is not a tag here or on origin{}, and the release in progress is {}; \
                 check the name (`git tag --list`)",
                if github == Some(false) { ", nor a GitHub release" } else { "" },
                in_progress.as_deref().unwrap_or("none")
            );
        }

        if github == Some(true) {
            runner.run(&crate::github::Repo::of(&workspace).at(gh::release_delete(tag)))?;
        } else if github == Some(false) {
            say!("GitHub: no release {tag}");
        }
        if remote_tag {
            runner.run(&git.delete_remote_tag(tag))?;
        }
        if local_tag {
            runner.run(&git.delete_tag(tag))?;
        }
        for extra in &extra_tags {
            if !runner
                .output(&git.remote_tag(extra))?
                .stdout
                .trim()
                .is_empty()
            {
                runner.run(&git.delete_remote_tag(extra))?;
            }
            if runner
                .output(&git.has_ref(&format!("refs/tags/{extra}")))?
                .success()
            {
                runner.run(&git.delete_tag(extra))?;
            }
        }
        if release_commit {
            drop_release_commit(&git, &runner)?;
        }
        say_what_stays(&workspace, tag, pypi_started);
        match in_progress {
            // Only this release's own journal: another one in progress is
            // left to finish or to be rolled back by its own name.
            Some(other) if other != *tag => {
                say!("the release in progress is {other}, not {tag}: its journal is kept")
            }
            Some(_) if self.execute => {
                let journal = super::journal::path(root);
                std::fs::remove_file(&journal)?;
                say!(
                    "removed the journal of the release in progress ({})",
                    journal.display()
                );
            }
            _ => {}
        }
        Ok(())
    }
}

/// The further tags of the release `tag`: as planned, else as the config
/// names them for the version in `tag`.
fn extra_tags(
    workspace: &Workspace,
    tag: &str,
    planned: Option<&super::plan::Plan>,
) -> Vec<String> {
    if let Some(plan) = planned {
        return plan.extra_tags.iter().map(|t| t.name.clone()).collect();
    }
    let release = &workspace.release;
    let values = tag_values(workspace, tag);
    if values.is_empty() {
        return Vec::new();
    }
    let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    release
        .extra_tags
        .iter()
        .map(|t| crate::core::config::fill(&t.name, &values))
        .collect()
}

/// `{version}`, `{tag}` and `{pep440}` of the release `tag` (nothing when
/// `tag` is not named by `tag-name`).
fn tag_values(workspace: &Workspace, tag: &str) -> Vec<(&'static str, String)> {
    let Some(version) = workspace.release.version_in_tag(tag) else {
        return Vec::new();
    };
    let pep440 = semver::Version::parse(version)
        .ok()
        .and_then(|v| crate::version::pep440::to_pep440(&v).ok())
        .unwrap_or_else(|| version.to_owned());
    vec![
        ("version", version.to_owned()),
        ("tag", tag.to_owned()),
        ("pep440", pep440),
    ]
}

/// Whether HEAD is the release commit of `tag`: its subject is the
/// release's, and it is the commit the tag points at or (the tag not made
/// yet) the planned commit's child. Without the plan, the subject is the
/// configured `commit-message` as far as the tag says (a `{summary}` in it
/// matches anything there); a commit a person made is never dropped.
fn release_commit(
    workspace: &Workspace,
    git: &Git,
    tag: &str,
    planned: Option<&super::plan::Plan>,
    runner: &Runner,
) -> Result<bool> {
    let read = |cmd| -> Result<String> { Ok(runner.output(&cmd)?.stdout.trim().to_owned()) };
    let head = read(git.resolve("HEAD"))?;
    let subject = read(git.head_subject())?;
    let tagged = read(git.resolve(&format!("refs/tags/{tag}^{{commit}}")))? == head;
    match planned {
        Some(plan) => Ok(subject == crate::steps::release_commit_subject(plan)
            && (tagged || read(git.resolve("HEAD^"))? == plan.commit)),
        None => {
            let values = tag_values(workspace, tag);
            let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let expected = crate::steps::subject(&crate::core::config::fill(
                &workspace.release.commit_message,
                &values,
            ));
            // Up to the first placeholder the tag cannot fill.
            let known = expected.split('{').next().unwrap_or_default();
            let exact = !expected.contains('{');
            Ok(tagged
                && if exact {
                    subject == expected
                } else {
                    subject.starts_with(known)
                })
        }
    }
}

/// The release commit goes while it is not on origin (`git reset --keep`
/// refuses rather than discard uncommitted work); a pushed one is reverted
/// by hand.
fn drop_release_commit(git: &Git, runner: &Runner) -> Result<()> {
    let head = runner
        .output(&git.resolve("HEAD"))?
        .stdout
        .trim()
        .to_owned();
    let branch = runner
        .output(&git.current_branch())?
        .stdout
        .trim()
        .to_owned();
    let remote = runner
        .output(&git.remote_ref(&format!("refs/heads/{branch}")))?
        .stdout;
    let remote_head = remote
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    let pushed = !remote_head.is_empty()
        && (remote_head == head
            || runner
                .output(&git.is_ancestor(&head, &remote_head))?
                .success());
    if pushed {
        say!(
            "the release commit {} is on origin/{branch}: undo it with a new commit, `git revert {}`",
            &head[..7],
            &head[..7]
        );
    } else {
        runner.run(&git.drop_last_commit())?;
    }
    Ok(())
}

/// What a registry and an index keep whatever happens, and what to do.
fn say_what_stays(workspace: &Workspace, tag: &str, pypi_started: Option<bool>) {
    let version = tag.trim_start_matches(|c: char| !c.is_ascii_digit());
    let records = workspace
        .root
        .join(format!("target/xtask-release/v{version}/docker"));
    for record in std::fs::read_dir(&records)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
    {
        if record.extension().is_some_and(|e| e == "json")
            && !record.to_string_lossy().ends_with("buildx-metadata.json")
        {
            say!(
                "images: {} was pushed; a registry cannot un-push, so point any moving tag (latest, X.Y) back at the \
                 previous release's digest with `docker buildx imagetools create -t IMAGE:TAG IMAGE@DIGEST`",
                record.file_name().unwrap_or_default().to_string_lossy().trim_end_matches(".json")
            );
        }
    }
    let published: Vec<_> = workspace
        .release
        .python
        .iter()
        .filter(|p| p.publish)
        .collect();
    if pypi_started == Some(false) && !published.is_empty() {
        say!("PyPI: the release stopped before its pypi step; nothing was uploaded");
    } else {
        for python in published {
            say!(
                "PyPI: files can never be deleted or replaced; if {version} of {} was uploaded to {}, yank it by hand \
                 (on PyPI: Manage -> Releases -> Options -> Yank). The next release needs a new version.",
                python.path,
                python.index_url
            );
        }
    }
}
