//! `git`: every command the xtask runs against a repository, typed.
//!
//! [`Git::at`] a work tree (or [`Git::here`], git's own discovery from the
//! current directory) builds the commands; nothing here runs them. Reads are
//! [`Effect::Query`]; what changes the repository or a remote is
//! [`Effect::Change`], which a dry run only prints.

use std::path::{Path, PathBuf};

use crate::core::runner::{Cmd, Effect};

pub fn version() -> Cmd {
    super::command("git", Effect::Query).arg("--version")
}

/// The repository commands are run in.
#[derive(Clone, Debug)]
pub struct Git {
    root: Option<PathBuf>,
}

impl Git {
    /// Commands run in the work tree at `root`.
    pub fn at(root: &Path) -> Git {
        Git {
            root: Some(root.to_owned()),
        }
    }

    /// Commands run in the current directory (git finds the repository).
    pub fn here() -> Git {
        Git { root: None }
    }

    fn cmd<'a>(&self, effect: Effect, args: impl IntoIterator<Item = &'a str>) -> Cmd {
        let cmd = super::command("git", effect).args(args);
        match &self.root {
            Some(root) => cmd.cwd(root),
            None => cmd,
        }
    }

    fn query<'a>(&self, args: impl IntoIterator<Item = &'a str>) -> Cmd {
        self.cmd(Effect::Query, args)
    }

    fn change<'a>(&self, args: impl IntoIterator<Item = &'a str>) -> Cmd {
        self.cmd(Effect::Change, args)
    }

    /// `git rev-parse REV`: the commit (or object) a revision names.
    pub fn resolve(&self, rev: &str) -> Cmd {
        self.query(["rev-parse", rev])
    }

    /// `git rev-parse --abbrev-ref HEAD`: the checked-out branch.
    pub fn current_branch(&self) -> Cmd {
        self.query(["rev-parse", "--abbrev-ref", "HEAD"])
    }

    /// `git rev-parse -q --verify REF`: succeeds when the ref exists.
    pub fn has_ref(&self, reference: &str) -> Cmd {
        self.query(["rev-parse", "-q", "--verify", reference])
    }

    /// `git show -s --format=%cI REV`: the committer date, ISO 8601.
    pub fn commit_date(&self, rev: &str) -> Cmd {
        self.query(["show", "-s", "--format=%cI", rev])
    }

    /// `git log -1 --format=%s`: the subject of HEAD.
    pub fn head_subject(&self) -> Cmd {
        self.query(["log", "-1", "--format=%s"])
    }

    /// `git status --porcelain`, untracked files included.
    pub fn status(&self) -> Cmd {
        self.query(["status", "--porcelain"])
    }

    /// `git merge-base --is-ancestor A B`: succeeds when A is in B's history.
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Cmd {
        self.query(["merge-base", "--is-ancestor", ancestor, descendant])
    }

    /// `git ls-remote origin REF`: what origin holds, without fetching.
    pub fn remote_ref(&self, reference: &str) -> Cmd {
        self.query(["ls-remote", "origin", reference])
    }

    /// `git ls-remote --tags origin refs/tags/TAG`.
    pub fn remote_tag(&self, tag: &str) -> Cmd {
        let reference = format!("refs/tags/{tag}");
        self.query(["ls-remote", "--tags", "origin", &reference])
    }

    /// `git rev-parse --show-toplevel`: the work tree's root.
    pub fn toplevel(&self) -> Cmd {
        self.query(["rev-parse", "--show-toplevel"])
    }

    /// `git remote get-url origin`.
    pub fn origin_url(&self) -> Cmd {
        self.query(["remote", "get-url", "origin"])
    }

    /// `git symbolic-ref --short refs/remotes/origin/HEAD`: origin's default
    /// branch, as the last clone or `git remote set-head` saw it.
    pub fn origin_head(&self) -> Cmd {
        self.query(["symbolic-ref", "--short", "refs/remotes/origin/HEAD"])
    }

    /// `git check-ignore --no-index -- PATHS`: prints the paths .gitignore
    /// rules would ignore (tracked or not).
    pub fn check_ignore(&self, paths: &[String]) -> Cmd {
        self.query(["check-ignore", "--no-index", "--"])
            .args(paths.iter().cloned())
    }

    /// `git ls-files -z --cached --others --exclude-standard`: every file
    /// git tracks or would track, never an ignored one (read with `listed`).
    pub fn files(&self) -> Cmd {
        self.query([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
    }

    /// `git fetch --quiet origin refs/heads/BRANCH`: origin's branch into
    /// FETCH_HEAD (no ref of ours moves).
    /// `git fetch --quiet origin refs/tags/TAG:refs/tags/TAG`: origin's tag
    /// here, as a fresh clone of the release commit lacks it.
    pub fn fetch_tag(&self, tag: &str) -> Cmd {
        let reference = format!("refs/tags/{tag}:refs/tags/{tag}");
        self.cmd(Effect::Stage, ["fetch", "--quiet", "origin", &reference])
    }

    pub fn fetch_branch(&self, branch: &str) -> Cmd {
        let reference = format!("refs/heads/{branch}");
        self.cmd(Effect::Stage, ["fetch", "--quiet", "origin", &reference])
    }

    /// `git merge-tree --write-tree --name-only OURS THEIRS`: the merged
    /// tree on the first line, exit 1 with the conflicted files on a conflict;
    /// nothing in the work tree changes.
    pub fn merge_tree(&self, ours: &str, theirs: &str) -> Cmd {
        self.query(["merge-tree", "--write-tree", "--name-only", ours, theirs])
    }

    /// `git commit-tree TREE -p A -p B -m MESSAGE`: a merge commit object,
    /// on no branch.
    pub fn merge_commit(&self, tree: &str, parents: [&str; 2], message: &str) -> Cmd {
        self.cmd(
            Effect::Stage,
            [
                "commit-tree",
                tree,
                "-p",
                parents[0],
                "-p",
                parents[1],
                "-m",
                message,
            ],
        )
    }

    /// `git tag --list`: every tag.
    pub fn tags(&self) -> Cmd {
        self.query(["tag", "--list"])
    }

    /// `git tag --merged HEAD --list PATTERN`: tags in HEAD's history.
    pub fn merged_tags(&self, pattern: &str) -> Cmd {
        self.query(["tag", "--merged", "HEAD", "--list", pattern])
    }

    /// `git log -z --full-history --format=… RANGE -- PATHS`: one
    /// NUL-ended record per commit, fields `hash`, `parents`, `subject`,
    /// `body` separated by U+001F. `--full-history`: with a pathspec, git's
    /// history simplification hides a merge that matches the branch it
    /// merged; this keeps it with its real parents, so its own message can
    /// count.
    /// `git log -1 --format=%H -S TEXT -- PATH`: the newest commit that
    /// added or removed TEXT in PATH.
    pub fn last_touching(&self, text: &str, path: &str) -> Cmd {
        self.query(["log", "-1", "--format=%H", "-S", text, "--", path])
    }

    pub fn log_records(&self, range: &str, paths: &[String]) -> Cmd {
        self.query([
            "log",
            "-z",
            "--full-history",
            "--format=%H%x1f%P%x1f%s%x1f%b",
            range,
            "--",
        ])
        .args(paths.iter().cloned())
    }

    /// `git rev-list --count HEAD`.
    pub fn commit_count(&self) -> Cmd {
        self.query(["rev-list", "--count", "HEAD"])
    }

    /// `git commit --quiet --message MESSAGE -- PATHS`: those files' changes
    /// and nothing else.
    pub fn commit_paths(&self, message: &str, paths: &[String]) -> Cmd {
        self.change(["commit", "--quiet", "--message", message, "--"])
            .args(paths)
    }

    /// `git tag --annotate TAG --message MESSAGE`.
    pub fn annotated_tag(&self, tag: &str, message: &str) -> Cmd {
        self.change(["tag", "--annotate", tag, "--message", message])
    }

    /// `git push --atomic origin REV:refs/heads/BRANCH refs/tags/TAG`: the
    /// branch and the tag together or neither.
    pub fn push_atomic(&self, rev: &str, branch: &str, tags: &[&str]) -> Cmd {
        let head = format!("{rev}:refs/heads/{branch}");
        self.change(["push", "--atomic", "origin", &head])
            .args(tags.iter().map(|t| format!("refs/tags/{t}")))
    }

    /// The same push, with `merge` going to origin's `into` branch too.
    pub fn push_atomic_merged(
        &self,
        rev: &str,
        branch: &str,
        tags: &[&str],
        merge: &str,
        into: &str,
    ) -> Cmd {
        self.push_atomic(rev, branch, tags)
            .arg(format!("{merge}:refs/heads/{into}"))
    }

    /// `git tag TAG`: a lightweight tag on HEAD.
    pub fn lightweight_tag(&self, tag: &str) -> Cmd {
        self.change(["tag", tag])
    }

    /// `git diff --name-only FROM [TO]`: the paths that differ between FROM
    /// and TO (without TO: the work tree), one per line.
    pub fn changed_paths(&self, from: &str, to: Option<&str>) -> Cmd {
        self.query(["diff", "--name-only", "--no-renames", from])
            .args(to)
    }

    /// `git show REV:PATH`: a file as a commit holds it.
    pub fn show_file(&self, rev: &str, path: &str) -> Cmd {
        self.query(["show", &format!("{rev}:{path}")])
    }

    /// `git check-ref-format REF`: fails when git would refuse REF as a name.
    pub fn check_ref_format(&self, reference: &str) -> Cmd {
        self.query(["check-ref-format", reference])
    }

    /// `git push origin :refs/tags/TAG`: deletes the tag on origin.
    pub fn delete_remote_tag(&self, tag: &str) -> Cmd {
        let reference = format!(":refs/tags/{tag}");
        self.change(["push", "origin", &reference])
    }

    /// `git tag --delete TAG`.
    pub fn delete_tag(&self, tag: &str) -> Cmd {
        self.change(["tag", "--delete", tag])
    }

    /// `git reset --keep HEAD~1`: drops the last commit, refusing rather
    /// than discarding uncommitted work.
    pub fn drop_last_commit(&self) -> Cmd {
        self.change(["reset", "--keep", "HEAD~1"])
    }

    /// `git init --quiet -b BRANCH` (the bench's scratch repositories).
    pub fn init(&self, branch: &str) -> Cmd {
        self.cmd(Effect::Stage, ["init", "--quiet", "-b", branch])
    }

    /// `git fast-import --quiet < STREAM`.
    pub fn fast_import(&self, stream: &Path) -> Cmd {
        self.cmd(Effect::Stage, ["fast-import", "--quiet"])
            .stdin_file(stream)
    }

    /// `git reset --quiet --hard REV` (the bench's scratch repositories).
    pub fn reset_hard(&self, rev: &str) -> Cmd {
        self.cmd(Effect::Stage, ["reset", "--quiet", "--hard", rev])
    }
}

/// The paths `Git::files` printed.
pub fn listed(out: &str) -> impl Iterator<Item = &str> {
    out.split('\0').filter(|f| !f.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_as_typed() {
        let git = Git::at(Path::new("/repo"));
        assert_eq!(
            git.push_atomic("abc123", "main", &["v1.2.0"]).to_string(),
            "(cd /repo && git push --atomic origin abc123:refs/heads/main refs/tags/v1.2.0)"
        );
        assert_eq!(
            Git::here()
                .log_records("v1.0.0..HEAD", &[":(exclude).github".to_owned()])
                .to_string(),
            "git log -z --full-history --format=%H%x1f%P%x1f%s%x1f%b v1.0.0..HEAD -- ':(exclude).github'"
        );
        assert_eq!(
            git.annotated_tag("v1.2.0", "Release v1.2.0").to_string(),
            "(cd /repo && git tag --annotate v1.2.0 --message 'Release v1.2.0')"
        );
    }
}
