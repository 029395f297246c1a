//! The programs the benchmarks measure ours against, and ours as a plain
//! child: GNU `sha256sum`, `git-cliff`, and this very binary.

use std::path::Path;

use anyhow::{Context, Result};

use crate::core::runner::{Cmd, Effect};

/// `sha256sum ARGS` in `dir`.
pub fn sha256sum(dir: &Path, args: Vec<String>) -> Cmd {
    super::command("sha256sum", Effect::Query)
        .args(args)
        .cwd(dir)
}

/// `git-cliff --unreleased` in `repo`.
pub fn git_cliff_unreleased(repo: &Path) -> Cmd {
    super::command("git-cliff", Effect::Query)
        .arg("--unreleased")
        .cwd(repo)
}

/// This xtask binary with ARGS, without cargo in front.
pub fn this_binary<I, S>(effect: Effect, args: I) -> Result<Cmd>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let path = std::env::current_exe().context("finding the xtask binary")?;
    Ok(super::command(path.display().to_string(), effect).args(args))
}

/// The xtask binary built at `path`, with ARGS.
pub fn binary_at<I, S>(path: &Path, args: I) -> Cmd
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    super::command(path.display().to_string(), Effect::Query).args(args)
}
