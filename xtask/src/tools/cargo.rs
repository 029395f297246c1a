//! `cargo`, the one that runs us (so a toolchain override carries through).

use std::path::Path;

use crate::runner::{Cmd, Effect};

/// `$CARGO` when cargo started us, else `cargo` from PATH.
pub fn program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// `cargo fetch --locked`: every crate Cargo.lock names, for every platform
/// (a Linux build alone never downloads `windows-sys`, which
/// `cargo metadata --offline` still needs).
pub fn fetch(root: &Path) -> Cmd {
    Cmd::new(program(), Effect::Stage)
        .args(["fetch", "--locked"])
        .cwd(root)
}

/// `cargo test --workspace --locked --no-fail-fast`, without colour codes.
pub fn test(root: &Path) -> Cmd {
    Cmd::new(program(), Effect::Stage)
        .args(["test", "--workspace", "--locked", "--no-fail-fast"])
        .cwd(root)
        .env("CARGO_TERM_COLOR", "never")
        // libtest prints a test only when it ends; some take half a minute.
        .heartbeat(std::time::Duration::from_secs(10))
}
