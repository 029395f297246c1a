//! `cargo xtask rollback vX.Y.Z`: undo what a release did, where it can be
//! undone, and say plainly what cannot.
//!
//! Removed: the GitHub release, the tag on origin and here, the release
//! commit while it is not pushed. Not removable: a PyPI version (files are
//! immutable; it can only be yanked, by hand) and image tags already pulled by
//! others; the commands to repair them are printed.

use anyhow::Result;

use crate::config::Workspace;
use crate::runner::{Cmd, Effect, Runner};
use crate::tools::gh;

/// Undo a release where possible; print what cannot be undone (dry run unless --execute).
#[derive(clap::Args, Debug)]
pub struct Rollback {
    /// The release tag, e.g. v1.2.0.
    tag: String,
    /// Remove; without it, only say what would be removed.
    #[arg(long)]
    execute: bool,
}

impl Rollback {
    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        let runner = Runner::new(!self.execute);
        let root = &workspace.root;
        let tag = &self.tag;
        let query = |args: &[&str]| {
            runner.output(
                &Cmd::new("git", Effect::Query)
                    .args(args.iter().copied())
                    .cwd(root),
            )
        };
        let change = |args: &[&str]| {
            runner.run(
                &Cmd::new("git", Effect::Change)
                    .args(args.iter().copied())
                    .cwd(root),
            )
        };

        if workspace.release.github.is_some() && crate::runner::on_path("gh") {
            match crate::gh_release::view(tag, root, &runner) {
                Ok(Some(_)) => {
                    runner.run(&gh::release_delete(tag).cwd(root))?;
                }
                Ok(None) => say!("GitHub: no release {tag}"),
                Err(err) => say!("GitHub: could not look up {tag} ({err:#}); delete it by hand: gh release delete {tag} --yes"),
            }
        }
        let remote_tag = query(&["ls-remote", "--tags", "origin", &format!("refs/tags/{tag}")])?;
        if !remote_tag.stdout.trim().is_empty() {
            change(&["push", "origin", &format!(":refs/tags/{tag}")])?;
        }
        if query(&["rev-parse", "-q", "--verify", &format!("refs/tags/{tag}")])?.success() {
            change(&["tag", "--delete", tag])?;
        }
        let subject = query(&["log", "-1", "--format=%s"])?
            .stdout
            .trim()
            .to_owned();
        if subject == format!("chore(release): {tag}") {
            let head = query(&["rev-parse", "HEAD"])?.stdout.trim().to_owned();
            let branch = query(&["rev-parse", "--abbrev-ref", "HEAD"])?
                .stdout
                .trim()
                .to_owned();
            let remote = query(&["ls-remote", "origin", &format!("refs/heads/{branch}")])?.stdout;
            let remote_head = remote
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            let pushed = !remote_head.is_empty()
                && (remote_head == head
                    || query(&["merge-base", "--is-ancestor", &head, &remote_head])?.success());
            if pushed {
                say!("the release commit {} is on origin/{branch}: undo it with a new commit, `git revert {}`", &head[..7], &head[..7]);
            } else {
                // --keep refuses rather than discard uncommitted work.
                change(&["reset", "--keep", "HEAD~1"])?;
            }
        }
        let version = tag.trim_start_matches(|c: char| !c.is_ascii_digit());
        let records = root.join(format!("target/dist/v{version}/docker"));
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
        if let Some(python) = &workspace.release.python {
            say!(
                "PyPI: files can never be deleted or replaced; if {version} was uploaded to {}, yank it by hand \
                 (on PyPI: Manage -> Releases -> Options -> Yank). The next release needs a new version.",
                python.index_url
            );
        }
        if self.execute {
            let journal = super::journal::path(root);
            if journal.exists() {
                std::fs::remove_file(&journal)?;
                say!(
                    "removed the journal of the release in progress ({})",
                    journal.display()
                );
            }
        }
        Ok(())
    }
}
