//! `gpg`: detached signatures of release files.

use std::path::Path;

use crate::core::runner::{Cmd, Effect};

pub fn version() -> Cmd {
    super::command("gpg", Effect::Query).arg("--version")
}

/// `gpg --detach-sign --armor`; the passphrase, when RELEASE_GPG_PASSPHRASE
/// is set, goes to gpg on stdin (`--passphrase-fd 0`), never in argv.
pub fn detach_sign(key: &str, file: &Path, signature: &Path) -> Cmd {
    let mut cmd = super::command("gpg", Effect::Stage).args([
        "--batch",
        "--yes",
        "--local-user",
        key,
        "--armor",
        "--detach-sign",
        "--output",
    ]);
    cmd = cmd.arg(signature.display().to_string());
    if std::env::var_os("RELEASE_GPG_PASSPHRASE").is_some() {
        cmd = cmd
            .args(["--pinentry-mode", "loopback", "--passphrase-fd", "0"])
            .stdin_secret("RELEASE_GPG_PASSPHRASE");
    }
    cmd.arg(file.display().to_string())
}

/// `gpg --verify SIGNATURE FILE`: fails unless a known key made it over FILE.
pub fn verify(signature: &Path, file: &Path) -> Cmd {
    super::command("gpg", Effect::Query)
        .args(["--batch", "--status-fd", "1", "--verify"])
        .arg(signature.display().to_string())
        .arg(file.display().to_string())
}

pub fn fingerprint(key: &str) -> Cmd {
    super::command("gpg", Effect::Query).args(["--batch", "--with-colons", "--fingerprint", key])
}
