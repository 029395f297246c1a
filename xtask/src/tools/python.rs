//! `python3` and the Python packaging tools it runs as modules (`build`,
//! `twine`).

use crate::runner::{Cmd, Effect};

/// The interpreter: `$XTASK_PYTHON` when set (e.g. a venv's python), else
/// `python3` from PATH.
pub fn interpreter() -> String {
    std::env::var("XTASK_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_owned())
}

pub fn version() -> Cmd {
    Cmd::new(interpreter(), Effect::Query).arg("--version")
}

/// `python3 -m MODULE --version`: whether a module-run tool is installed.
pub fn module_version(module: &str) -> Cmd {
    Cmd::new(interpreter(), Effect::Query).args(["-m", module, "--version"])
}
