//! Python environments the xtask provisions for itself under `target/`.
//!
//! Two exist: `target/xtask-python` with the packaging tools (`build`,
//! `twine`, `packaging`, pinned in `xtask/python-tools.txt`), made only when
//! the interpreter lacks them, and `target/test-venv` for `cargo xtask test`.
//! Both are made the same way: a plain `python3 -m venv`, then `uv` (from
//! PyPI, pinned) installs the pinned requirements, with pip as the fallback
//! where `uv` cannot be had. uv's cache is machine-wide (`~/.cache/uv`, or
//! `UV_CACHE_DIR`), so a second checkout on the same machine downloads
//! nothing. A stamp written last (requirements, interpreter and installer
//! versions) marks an environment as complete: a half-made one is never
//! reused, it is made again.
//!
//! Not for: the user's own environment. `XTASK_PYTHON` overrides everything
//! here and is never changed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::core::runner::{Runner, Ticker};
use crate::tools::python;

/// The `uv` that installs the environments, from PyPI.
pub const UV: &str = "uv==0.13.9";

/// An environment the xtask makes and reuses.
pub struct Venv {
    /// Where it lives, e.g. `target/xtask-python`.
    pub dir: PathBuf,
    /// The pinned requirements file it is made from.
    pub requirements: PathBuf,
    /// Roughly how much a cold install downloads, said before it starts.
    pub download: &'static str,
}

impl Venv {
    /// The interpreter inside it.
    pub fn python(&self) -> PathBuf {
        self.dir.join("bin/python")
    }

    /// The stamp a complete environment of these requirements, made by
    /// this interpreter, carries.
    fn key(&self, runner: &Runner) -> Result<String> {
        let pinned = std::fs::read(&self.requirements)
            .with_context(|| format!("reading {}", self.requirements.display()))?;
        let base = python::interpreter();
        let version = runner
            .read(&python::version())
            .with_context(|| python::interpreter_hint(&base))?;
        Ok(stamp_key(&pinned, version.trim()))
    }

    /// Whether a complete environment of these requirements is there.
    pub fn is_current(&self, runner: &Runner) -> Result<bool> {
        Ok(self.stamped(&self.key(runner)?))
    }

    /// Whether the environment carries `key` and its interpreter.
    fn stamped(&self, key: &str) -> bool {
        let stamp = std::fs::read_to_string(self.dir.join("xtask-stamp"));
        stamp.is_ok_and(|s| s.trim() == key) && self.python().exists()
    }

    /// Makes the environment unless an identical complete one exists, and
    /// returns its interpreter.
    pub fn ensure(&self, runner: &Runner) -> Result<PathBuf> {
        let key = self.key(runner)?;
        if self.stamped(&key) {
            return Ok(self.python());
        }
        let stamp = self.dir.join("xtask-stamp");
        let cache = uv_cache_dir();
        tell!(
            "python: creating {} from {} ({}; reused from {} when already there)",
            self.dir.display(),
            self.requirements.display(),
            self.download,
            cache.display()
        );
        let made = self.make(runner, &cache);
        if made.is_err() {
            // Nothing half-made is left for the next run to trust.
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        made.with_context(|| {
            format!(
                "creating {} failed and was removed: check that PyPI is reachable and that \
                 the disk has room, then run the command again",
                self.dir.display()
            )
        })?;
        std::fs::write(&stamp, format!("{key}\n"))
            .with_context(|| format!("writing {}", stamp.display()))?;
        Ok(self.python())
    }

    fn make(&self, runner: &Runner, cache: &Path) -> Result<()> {
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)
                .with_context(|| format!("removing the stale {}", self.dir.display()))?;
        }
        let _progress = progress(&self.dir, cache);
        let uv = uv(runner);
        runner.run(&python::make_venv(&self.dir)).with_context(|| {
            format!(
                "`{} -m venv` failed: on Debian or Ubuntu, `apt-get install python3-venv`",
                python::interpreter()
            )
        })?;
        let requirements = self.requirements.display().to_string();
        match uv {
            Some(uv) => runner.run(&python::uv_install(&uv, &self.python(), &self.requirements))?,
            None => runner.run(&python::pip_install(&self.python(), ["-r", &requirements]))?,
        };
        Ok(())
    }
}

/// The pinned `uv`, installed once per machine beside uv's own cache (so a
/// second checkout reuses it), or `None` where it cannot be had (then pip
/// installs, slower, the same pins).
pub fn uv(runner: &Runner) -> Option<PathBuf> {
    if let Some(uv) = installed_uv() {
        return Some(uv);
    }
    // Made beside its place and renamed into it: another checkout's run
    // never sees it half-made, and never has it removed from under it.
    let home = uv_home();
    let dir = home.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let made = runner
        .run(&python::make_venv(&dir))
        .and_then(|_| runner.run(&python::pip_install(&dir.join("bin/python"), [UV])))
        .and_then(|_| {
            std::fs::write(dir.join("xtask-stamp"), format!("{UV}\n"))
                .with_context(|| format!("writing {}", dir.display()))
        })
        .map(|_| {
            // Another run may have won the race: its uv is as good.
            if std::fs::rename(&dir, &home).is_err() {
                let _ = std::fs::remove_dir_all(&dir);
            }
        });
    match made {
        Ok(()) => installed_uv(),
        Err(err) => {
            let _ = std::fs::remove_dir_all(&dir);
            tell!("python: `{UV}` could not be installed ({err:#}); pip installs instead (slower, same pins)");
            None
        }
    }
}

/// The machine's pinned `uv` when an earlier run installed it completely;
/// `python -m build` then uses it too.
fn installed_uv() -> Option<PathBuf> {
    let dir = uv_home();
    let uv = dir.join("bin/uv");
    let complete = std::fs::read_to_string(dir.join("xtask-stamp")).is_ok_and(|s| s.trim() == UV)
        && uv.is_file();
    complete.then(|| {
        python::use_uv(uv.clone());
        uv
    })
}

/// Where the pinned uv lives: inside uv's cache directory, so that emptying
/// that cache (as CI does) empties this too.
fn uv_home() -> PathBuf {
    uv_cache_dir().join(format!("xtask-{}", UV.replace("==", "-")))
}

fn stamp_key(requirements: &[u8], interpreter: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(requirements);
    hasher.update(interpreter.as_bytes());
    hasher.update(UV.as_bytes());
    crate::checksums::hex(&hasher.finalize().into())
}

/// Where uv keeps what it downloaded: `UV_CACHE_DIR`, else the XDG cache.
pub fn uv_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("UV_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    xdg.unwrap_or_else(|| PathBuf::from(".cache")).join("uv")
}

/// Bytes under `dir` (0 when it does not exist), not following links.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_size(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// `1.2 GB`, `340 MB`, `12 kB`.
pub fn human_bytes(bytes: u64) -> String {
    let units = [("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
    for (unit, size) in units {
        if bytes as f64 >= size {
            return format!("{:.1} {unit}", bytes as f64 / size);
        }
    }
    format!("{bytes} B")
}

/// A line every 10 s while a long install runs, so no wait is silent
/// (installers print nothing while they download when not on a terminal).
fn progress(venv: &Path, cache: &Path) -> Ticker {
    let (venv, cache) = (venv.to_owned(), cache.to_owned());
    // Measured before the install starts, so all it adds is counted.
    let cache_before = dir_size(&cache);
    let started = Instant::now();
    Ticker::start(Duration::from_secs(10), move || {
        tell!(
            "python: still installing after {}s: {} grew by {}, {} holds {}",
            started.elapsed().as_secs(),
            cache.display(),
            human_bytes(dir_size(&cache).saturating_sub(cache_before)),
            venv.display(),
            human_bytes(dir_size(&venv)),
        );
    })
}

/// The packaging environment an earlier command made, when it is complete.
pub fn provisioned_packaging(root: &Path) -> Option<PathBuf> {
    let dir = root.join(PACKAGING_DIR);
    let python = dir.join("bin/python");
    (dir.join("xtask-stamp").is_file() && python.exists() && !python::overridden())
        .then_some(python)
}

const PACKAGING_DIR: &str = "target/xtask-python";

/// The packaging tools a command needs from Python.
pub const PACKAGING_MODULES: &[&str] = &["build", "twine", "packaging"];

/// Makes `build`, `twine` and `packaging` available to the commands of
/// [`python`]: the interpreter's own when it has all of them, else
/// `target/xtask-python`. `XTASK_PYTHON` must have them itself.
pub fn packaging_tools(root: &Path, runner: &Runner) -> Result<()> {
    let base = python::interpreter();
    let has_all = runner
        .output(&python::can_import(PACKAGING_MODULES))
        .map(|o| o.success())
        .with_context(|| python::interpreter_hint(&base))?;
    if has_all {
        return Ok(());
    }
    if python::overridden() {
        bail!(
            "XTASK_PYTHON={base} lacks one of {}: install them there \
             (`{base} -m pip install -r xtask/python-tools.txt`) or unset XTASK_PYTHON so the \
             xtask provisions target/xtask-python itself",
            PACKAGING_MODULES.join(", ")
        );
    }
    let venv = Venv {
        dir: root.join(PACKAGING_DIR),
        requirements: root.join("xtask/python-tools.txt"),
        download: "about 25 MB, plus about 18 MB for the pinned uv the first time on this machine",
    };
    tell!(
        "python: `{base}` lacks one of {}; using {}",
        PACKAGING_MODULES.join(", "),
        venv.dir.display()
    );
    python::use_packaging_interpreter(venv.ensure(runner)?);
    installed_uv();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_person_would_say_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(12_345), "12.3 kB");
        assert_eq!(human_bytes(3_200_000_000), "3.2 GB");
    }

    #[test]
    fn the_stamp_changes_with_requirements_and_interpreter() {
        let a = stamp_key(b"build==1\n", "Python 3.11.7");
        assert_eq!(a, stamp_key(b"build==1\n", "Python 3.11.7"));
        assert_ne!(a, stamp_key(b"build==2\n", "Python 3.11.7"));
        assert_ne!(a, stamp_key(b"build==1\n", "Python 3.12.0"));
        assert!(a.len() == 64);
    }

    #[test]
    fn dir_size_counts_nested_files() {
        let dir = std::env::temp_dir().join(format!("xtask-dir-size-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("x"), [0u8; 10]).unwrap();
        std::fs::write(dir.join("a/b/y"), [0u8; 5]).unwrap();
        assert_eq!(dir_size(&dir), 15);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(dir_size(&dir), 0);
    }
}
