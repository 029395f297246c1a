//! `cargo`, the one that runs us (so a toolchain override carries through).

use std::path::Path;

use crate::core::runner::{Cmd, Effect};

/// `$CARGO` when cargo started us, else `cargo` from PATH.
pub fn program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// `cargo fetch --locked`: every crate Cargo.lock names, for every platform
/// (a Linux build alone never downloads `windows-sys`, which
/// `cargo metadata --offline` still needs).
pub fn fetch(root: &Path) -> Cmd {
    super::command(program(), Effect::Stage)
        .args(["fetch", "--locked"])
        .cwd(root)
}

/// `cargo test --workspace --locked --no-fail-fast`, without colour codes.
pub fn test(root: &Path) -> Cmd {
    super::command(program(), Effect::Stage)
        .args(["test", "--workspace", "--locked", "--no-fail-fast"])
        .cwd(root)
        .env("CARGO_TERM_COLOR", "never")
        // libtest prints a test only when it ends; some take half a minute.
        .heartbeat(std::time::Duration::from_secs(10))
}

/// `cargo metadata --format-version 1 --no-deps --offline`: the workspace's
/// packages and their manifests.
pub fn metadata(root: &Path) -> Cmd {
    super::command(program(), Effect::Query)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .cwd(root)
}

/// `cargo xtask ARGS` as a user types it (the alias, so its build counts).
pub fn xtask<I, S>(root: &Path, args: I) -> Cmd
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    super::command(program(), Effect::Query)
        .arg("xtask")
        .args(args)
        .cwd(root)
}

/// `cargo build --quiet` in `dir` (the bench's reference crate).
pub fn build_quiet(dir: &Path) -> Cmd {
    super::command(program(), Effect::Stage)
        .args(["build", "--quiet"])
        .cwd(dir)
}
