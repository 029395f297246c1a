//! `prepare`: the version edits, the CHANGELOG section, the release commit
//! and its annotated tag. Safe to run again after a kill at any point: it
//! finds the edits, the commit and the tag that are already there.

use anyhow::{bail, Result};
use serde_json::json;

use super::{Cx, Outcome, Step};
use crate::core::runner::Cmd;
use crate::tools::git::Git;
use crate::version::sources::{FileChange, VersionSources};

pub struct Prepare;

/// The release commit's message.
pub fn release_commit_message(tag: &str) -> String {
    format!("chore(release): {tag}")
}

/// The annotated tag's message.
pub fn release_tag_message(tag: &str) -> String {
    format!("Release {tag}")
}

impl Step for Prepare {
    fn commands(&self, cx: &Cx) -> Result<Vec<Cmd>> {
        let git = Git::at(&cx.ws.root);
        let tag = &cx.plan.tag;
        Ok(vec![
            git.commit_paths(&release_commit_message(tag), &cx.plan.file_edits),
            git.annotated_tag(tag, &release_tag_message(tag)),
        ])
    }

    fn run(&self, cx: &Cx) -> Result<Outcome> {
        let changes = edits(cx)?;
        if cx.dry_run() {
            for change in &changes {
                let file = change.file.display().to_string();
                say!(
                    "{}",
                    crate::core::diff::unified(&file, &change.before, &change.after).trim_end()
                );
            }
            super::print_commands(cx, crate::release::plan::StepName::Prepare)?;
            return Ok(Outcome::default());
        }
        let made = commit(cx, &changes)?;
        let git = Git::at(&cx.ws.root);
        let tag_ref = format!("refs/tags/{}", cx.plan.tag);
        if cx.runner.output(&git.has_ref(&tag_ref))?.success() {
            let tagged = cx
                .runner
                .read(&git.resolve(&format!("{tag_ref}^{{commit}}")))?;
            if tagged.trim() != made {
                bail!(
                    "tag {} points at {}, not at the release commit {made}; undo it with `cargo xtask rollback {} --execute`",
                    cx.plan.tag,
                    tagged.trim(),
                    cx.plan.tag
                );
            }
        } else {
            let tag = self.commands(cx)?.pop().expect("the tag command");
            cx.runner.run(&tag)?;
        }
        Ok(Outcome {
            outputs: json!({ "commit": made }),
            needs: Vec::new(),
        })
    }
}

/// The release commit: made here from the planned commit, or found when a
/// killed run made it. Anything else at HEAD (a commit the plan does not
/// know, an edit outside the planned files) is refused: it would be tagged
/// and pushed as the release.
fn commit(cx: &Cx, changes: &[FileChange]) -> Result<String> {
    let git = Git::at(&cx.ws.root);
    let plan = cx.plan;
    let read = |cmd: Cmd| -> Result<String> { Ok(cx.runner.read(&cmd)?.trim().to_owned()) };
    let head = read(git.resolve("HEAD"))?;
    if head != plan.commit {
        let parent = read(git.resolve("HEAD^")).unwrap_or_default();
        let subject = read(git.head_subject())?;
        if parent == plan.commit && subject == release_commit_message(&plan.tag) {
            return Ok(head);
        }
        bail!(
            "HEAD is {head}, neither the commit the release of {} was planned from ({}) nor its release commit; \
             check out {} at {} (`git checkout {} && git reset --keep {}`), then `cargo xtask release --resume --execute`, \
             or undo the release with `cargo xtask rollback {} --execute`",
            plan.tag,
            plan.commit,
            plan.branch,
            plan.commit,
            plan.branch,
            plan.commit,
            plan.tag
        );
    }
    // Not trimmed: `git status --porcelain` lines start with a space.
    let status = cx.runner.read(&git.tracked_changes())?;
    let stray: Vec<&str> = status
        .lines()
        .filter_map(|l| l.get(3..))
        .filter(|path| !plan.file_edits.iter().any(|f| f == path))
        .collect();
    if !stray.is_empty() {
        bail!(
            "{} changed since the release of {} began, and would go into its commit; \
             `git stash` them, then `cargo xtask release --resume --execute`",
            stray.join(", "),
            plan.tag
        );
    }
    let files: Vec<_> = changes
        .iter()
        .map(|c| (cx.ws.root.join(&c.file), c.after.clone().into_bytes()))
        .collect();
    crate::core::atomic::write_all(&files)?;
    let commit = Prepare.commands(cx)?.swap_remove(0);
    cx.runner.run(&commit)?;
    read(git.resolve("HEAD"))
}

/// The files prepare writes: the version sources (unless a killed run
/// already moved them) and the CHANGELOG section.
fn edits(cx: &Cx) -> Result<Vec<FileChange>> {
    let version = semver::Version::parse(&cx.plan.version)?;
    let sources = VersionSources::locate(cx.ws, cx.runner)?;
    let mut changes = if sources.current == version {
        Vec::new()
    } else {
        sources.rewrite(&version)?
    };
    if cx.dry_run() && changes.is_empty() {
        changes = cx.edits.to_vec();
    }
    let previous = cx.plan.previous_tag.as_deref();
    if let Some(change) =
        crate::changelog::release_edit(cx.ws, &version, &cx.plan.changelog, previous)?
    {
        changes.push(change);
    }
    Ok(changes)
}
