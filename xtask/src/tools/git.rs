//! `git`: the commands a release runs against the repository.

use crate::runner::{Cmd, Effect};

pub fn version() -> Cmd {
    Cmd::new("git", Effect::Query).arg("--version")
}
