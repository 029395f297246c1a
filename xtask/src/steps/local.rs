//! `prepare`: the version edits, the CHANGELOG section, the release commit
//! and its annotated tag. Safe to run again after a kill at any point: it
//! finds the edits, the commit and the tag that are already there.

use anyhow::Result;
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
            git.commit_all(&release_commit_message(tag)),
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
        let files: Vec<_> = changes
            .iter()
            .map(|c| (cx.ws.root.join(&c.file), c.after.clone().into_bytes()))
            .collect();
        crate::core::atomic::write_all(&files)?;
        let git = Git::at(&cx.ws.root);
        let [commit, tag] = <[Cmd; 2]>::try_from(self.commands(cx)?).expect("two commands");
        if !cx.runner.read(&git.tracked_changes())?.trim().is_empty() {
            cx.runner.run(&commit)?;
        }
        let tag_ref = format!("refs/tags/{}", cx.plan.tag);
        if !cx.runner.output(&git.has_ref(&tag_ref))?.success() {
            cx.runner.run(&tag)?;
        }
        let made = cx
            .runner
            .read(&git.resolve(&format!("{tag_ref}^{{commit}}")))?
            .trim()
            .to_owned();
        Ok(Outcome {
            outputs: json!({ "commit": made }),
            needs: Vec::new(),
        })
    }
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
