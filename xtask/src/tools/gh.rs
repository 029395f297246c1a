//! `gh`, the GitHub CLI. The token travels only in the child's environment.

use std::time::Duration;

use crate::runner::{Cmd, Effect};

/// `gh` asks GitHub; do not hang on a network that is not there.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(20);

pub fn version() -> Cmd {
    Cmd::new("gh", Effect::Query).arg("--version")
}

pub fn auth_status() -> Cmd {
    Cmd::new("gh", Effect::Query)
        .args(["auth", "status"])
        .secret("GH_TOKEN")
        .secret("GITHUB_TOKEN")
        .timeout(NETWORK_TIMEOUT)
}
