//! `docker` and its `buildx` plugin.

use std::time::Duration;

use crate::runner::{Cmd, Effect};

/// The daemon may be remote or hung; never wait long for it.
const DAEMON_TIMEOUT: Duration = Duration::from_secs(15);

/// The client version; works without a daemon.
pub fn client_version() -> Cmd {
    Cmd::new("docker", Effect::Query).arg("--version")
}

/// The daemon's version; fails when no daemon answers.
pub fn server_version() -> Cmd {
    Cmd::new("docker", Effect::Query)
        .args(["version", "--format", "{{.Server.Version}}"])
        .timeout(DAEMON_TIMEOUT)
}

/// The buildx plugin's version; fails when the plugin is not installed.
pub fn buildx_version() -> Cmd {
    Cmd::new("docker", Effect::Query)
        .args(["buildx", "version"])
        .timeout(DAEMON_TIMEOUT)
}
