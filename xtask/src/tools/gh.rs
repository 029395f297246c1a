//! `gh`, the GitHub CLI. The token travels only in the child's environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::core::runner::{Cmd, Effect};

/// `gh` asks GitHub; do not hang on a network that is not there.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(20);

pub fn version() -> Cmd {
    super::command("gh", Effect::Query).arg("--version")
}

pub fn auth_status() -> Cmd {
    super::command("gh", Effect::Query)
        .args(["auth", "status"])
        .secret("GH_TOKEN")
        .secret("GITHUB_TOKEN")
        .timeout(NETWORK_TIMEOUT)
}

/// A `gh` command that talks to GitHub: the token rides in its environment.
fn gh(effect: Effect) -> Cmd {
    super::command("gh", effect)
        .secret("GH_TOKEN")
        .secret("GITHUB_TOKEN")
        .env("GH_PROMPT_DISABLED", "1")
        .timeout(NETWORK_TIMEOUT)
}

/// The release's state, or "release not found".
pub fn release_view(tag: &str) -> Cmd {
    gh(Effect::Query).args([
        "release",
        "view",
        tag,
        "--json",
        "tagName,isDraft,isPrerelease,assets,url",
    ])
}

pub fn release_create(tag: &str, title: &str, notes_file: &Path, prerelease: bool) -> Cmd {
    let cmd = gh(Effect::Change)
        .args([
            "release",
            "create",
            tag,
            "--draft",
            "--verify-tag",
            "--title",
            title,
            "--notes-file",
        ])
        .arg(notes_file.display().to_string());
    if prerelease {
        cmd.arg("--prerelease")
    } else {
        cmd
    }
}

/// Uploads (replacing same-named assets) while the release is a draft.
pub fn release_upload(tag: &str, files: &[PathBuf]) -> Cmd {
    gh(Effect::Change)
        .args(["release", "upload", tag])
        .args(files.iter().map(|f| f.display().to_string()))
        .arg("--clobber")
        .timeout(std::time::Duration::from_secs(3600))
}

/// Takes the release out of draft; `latest` false for a backport or pre-release.
pub fn release_publish(tag: &str, latest: bool) -> Cmd {
    let cmd = gh(Effect::Change).args(["release", "edit", tag, "--draft=false"]);
    if latest {
        cmd
    } else {
        cmd.arg("--latest=false")
    }
}

/// Every asset of the release into `dir` (made if missing).
pub fn release_download(tag: &str, dir: &Path) -> Cmd {
    gh(Effect::Query)
        .args(["release", "download", tag, "--dir"])
        .arg(dir.display().to_string())
        .timeout(std::time::Duration::from_secs(3600))
}

/// Rollback only.
pub fn release_delete(tag: &str) -> Cmd {
    gh(Effect::Change).args(["release", "delete", tag, "--yes"])
}

/// The Actions runs of `commit`, as JSON.
pub fn run_list(commit: &str) -> Cmd {
    gh(Effect::Query).args([
        "run",
        "list",
        "--commit",
        commit,
        "--json",
        "databaseId,workflowName,status,conclusion,url",
    ])
}
