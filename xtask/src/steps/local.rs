//! `prepare`: the version edits, the CHANGELOG section, the release commit
//! and its annotated tag. Safe to run again after a kill at any point: it
//! finds the edits, the commit and the tag that are already there.

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::{Cx, Outcome, Step};
use crate::core::runner::Cmd;
use crate::tools::git::Git;
use crate::version::sources::{FileChange, VersionSources};

pub struct Prepare;

/// The release commit's subject as `git log --format=%s` shows it.
pub fn release_commit_subject(plan: &crate::release::plan::Plan) -> String {
    subject(&plan.commit_message)
}

/// A message's subject the way git makes it: trailing whitespace and
/// leading blank lines dropped, the first paragraph joined with spaces.
pub fn subject(message: &str) -> String {
    message
        .lines()
        .map(str::trim_end)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Prepare {
    /// Each tag of the release with the command that makes it on HEAD.
    fn tags(cx: &Cx) -> Vec<(String, Cmd)> {
        let git = Git::at(&cx.ws.root);
        let plan = cx.plan;
        let mut tags = vec![(
            plan.tag.clone(),
            git.annotated_tag(&plan.tag, &plan.tag_message),
        )];
        for extra in &plan.extra_tags {
            let cmd = match &extra.message {
                Some(message) => git.annotated_tag(&extra.name, message),
                None => git.lightweight_tag(&extra.name),
            };
            tags.push((extra.name.clone(), cmd));
        }
        tags
    }
}

impl Step for Prepare {
    fn commands(&self, cx: &Cx) -> Result<Vec<Cmd>> {
        let git = Git::at(&cx.ws.root);
        let mut commands = vec![git.commit_paths(&cx.plan.commit_message, &cx.plan.file_edits)];
        commands.extend(Self::tags(cx).into_iter().map(|(_, cmd)| cmd));
        Ok(commands)
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
        for (tag, make) in Self::tags(cx) {
            let tag_ref = format!("refs/tags/{tag}");
            if !cx.runner.output(&git.has_ref(&tag_ref))?.success() {
                cx.runner.run(&make)?;
                continue;
            }
            let tagged = cx
                .runner
                .read(&git.resolve(&format!("{tag_ref}^{{commit}}")))?;
            if tagged.trim() != made {
                bail!(
                    "tag {tag} points at {}, not at the release commit {made}; undo it with `cargo xtask rollback {} --execute`",
                    tagged.trim(),
                    cx.plan.tag
                );
            }
        }
        Ok(Outcome {
            outputs: json!({ "commit": made }),
            needs: Vec::new(),
        })
    }
}

/// The release commit: made here from the planned commit, or found when a
/// killed run made it. Anything else (a commit the plan does not know, an
/// edit the release did not write, an amended release commit) is refused:
/// it would be tagged and pushed as the release.
fn commit(cx: &Cx, changes: &[FileChange]) -> Result<String> {
    let git = Git::at(&cx.ws.root);
    let plan = cx.plan;
    let read = |cmd: Cmd| -> Result<String> { Ok(cx.runner.read(&cmd)?.trim().to_owned()) };
    let head = read(git.resolve("HEAD"))?;
    let saved = Intent::load(&cx.ws.root, &plan.tag)?;
    if head != plan.commit {
        let parent = read(git.resolve("HEAD^")).unwrap_or_default();
        let subject = read(git.head_subject())?;
        if parent == plan.commit && subject == release_commit_subject(plan) {
            let committed = lines(&read(git.changed_paths(&plan.commit, Some("HEAD")))?);
            let intent = saved
                .context("the release commit exists, but not the record of what prepare wrote")?;
            // Untrimmed: the file as the commit holds it, byte for byte.
            let in_commit = |path: &str| cx.runner.read(&git.show_file("HEAD", path));
            intent.check(&committed, in_commit, "the release commit")?;
            return Ok(head);
        }
        bail!("{}", unknown_head(cx, &head)?);
    }
    let written = lines(&read(git.changed_paths(&plan.commit, None))?);
    // A killed run's record holds while its edits are on disk; with none
    // on disk, this run's edits are the record (its CHANGELOG date is today's).
    let intent = match saved {
        Some(intent) if !written.is_empty() => intent,
        _ => {
            let intent = Intent::of(&plan.tag, changes);
            intent.save(&cx.ws.root)?;
            intent
        }
    };
    let on_disk = |path: &str| -> Result<String> {
        let file = cx.ws.root.join(path);
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))
    };
    intent.check(&written, on_disk, "the work tree")?;
    if written.is_empty() {
        let files: Vec<_> = changes
            .iter()
            .map(|c| (cx.ws.root.join(&c.file), c.after.clone().into_bytes()))
            .collect();
        crate::core::atomic::write_all(&files)?;
    }
    let commit = Prepare.commands(cx)?.swap_remove(0);
    cx.runner.run(&commit)?;
    read(git.resolve("HEAD"))
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Why HEAD cannot be released, and how to get back without losing work.
fn unknown_head(cx: &Cx, head: &str) -> Result<String> {
    let plan = cx.plan;
    let git = Git::at(&cx.ws.root);
    let tagged = cx
        .runner
        .output(&git.resolve(&format!("refs/tags/{}^{{commit}}", plan.tag)))?;
    let back_to = if tagged.success() {
        tagged.stdout.trim().to_owned()
    } else {
        plan.commit.clone()
    };
    Ok(format!(
        "HEAD is {head}, neither the commit the release of {} was planned from ({}) nor its release commit. \
         Keep your work on a branch (`git branch keep-wip`), return to {back_to} on {} \
         (`git checkout {} && git reset --keep {back_to}`), then `cargo xtask release --resume --execute`; \
         or undo the release with `cargo xtask rollback {} --execute`",
        plan.tag, plan.commit, plan.branch, plan.branch, plan.tag
    ))
}

/// What prepare writes, recorded before it writes it
/// (`target/xtask-release/intent-<tag>.json`): each file's sha256. A resume
/// accepts a file only with that content.
struct Intent {
    tag: String,
    files: std::collections::BTreeMap<String, String>,
}

record!(read write: Intent (Same) {
    tag,
    files,
});

impl Intent {
    fn of(tag: &str, changes: &[FileChange]) -> Intent {
        Intent {
            tag: tag.to_owned(),
            files: changes
                .iter()
                .map(|c| (c.file.display().to_string(), sha256(&c.after)))
                .collect(),
        }
    }

    fn path(root: &std::path::Path, tag: &str) -> std::path::PathBuf {
        root.join(format!("target/xtask-release/intent-{tag}.json"))
    }

    fn load(root: &std::path::Path, tag: &str) -> Result<Option<Intent>> {
        let path = Intent::path(root, tag);
        match std::fs::read_to_string(&path) {
            Ok(text) => crate::core::record::from_str(&text)
                .map(Some)
                .with_context(|| {
                    format!(
                        "{}: not a record of prepare's edits; remove it",
                        path.display()
                    )
                }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }

    fn save(&self, root: &std::path::Path) -> Result<()> {
        let path = Intent::path(root, &self.tag);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        crate::core::atomic::write_all(&[(path, serde_json::to_vec_pretty(self)?)])
    }

    /// Every path in `changed` is one prepare writes, with exactly its content.
    fn check(
        &self,
        changed: &[String],
        content: impl Fn(&str) -> Result<String>,
        place: &str,
    ) -> Result<()> {
        let mut problems = Vec::new();
        for path in changed {
            match self.files.get(path) {
                None => problems.push(format!("{path} is not a file the release edits")),
                Some(expected) if sha256(&content(path)?) != *expected => {
                    problems.push(format!("{path} is not what the release wrote"))
                }
                Some(_) => {}
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        bail!(
            "{place} holds changes the release of {} did not make: {}. Move them away (`git stash`, or for a commit \
             `git branch keep-wip` and `git reset --keep HEAD^`), then `cargo xtask release --resume --execute`",
            self.tag,
            problems.join("; ")
        )
    }
}

fn sha256(text: &str) -> String {
    use sha2::Digest;
    crate::checksums::hex(&sha2::Sha256::digest(text.as_bytes()).into())
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

#[cfg(test)]
mod tests {
    use super::subject;

    #[test]
    fn a_subject_is_what_git_shows_of_the_message() {
        assert_eq!(subject("chore(release): v1.0.0"), "chore(release): v1.0.0");
        assert_eq!(
            subject("Release 1.0.0\n2 features"),
            "Release 1.0.0 2 features"
        );
        assert_eq!(subject("\nRelease 1.0.0 \n\nbody"), "Release 1.0.0");
    }
}
