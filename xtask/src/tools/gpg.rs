//! `gpg`: detached signatures of release files.

use crate::runner::{Cmd, Effect};

pub fn version() -> Cmd {
    Cmd::new("gpg", Effect::Query).arg("--version")
}
