//! What a release has done so far, and the lock that keeps it to one.
//!
//! The journal (`target/release/journal.json`) holds the plan and each step's
//! status and outputs, written atomically after every step, so a failed or
//! killed release can be finished with `--resume`. While it exists and is not
//! complete, a plain `release` refuses to start another.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::plan::Plan;

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    #[default]
    Pending,
    Done,
    Failed,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct StepRecord {
    pub status: Status,
    /// What the step produced (commit, digests, URLs), for later steps and resume.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub outputs: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Journal {
    pub plan: Plan,
    /// The arguments the release was started with.
    pub arguments: Vec<String>,
    pub steps: BTreeMap<String, StepRecord>,
    #[serde(skip)]
    path: PathBuf,
}

pub fn path(root: &Path) -> PathBuf {
    root.join("target/release/journal.json")
}

impl Journal {
    pub fn new(root: &Path, plan: Plan, arguments: Vec<String>) -> Journal {
        Journal {
            plan,
            arguments,
            steps: BTreeMap::new(),
            path: path(root),
        }
    }

    /// The journal of the release in progress, if any.
    pub fn load(root: &Path) -> Result<Option<Journal>> {
        let path = path(root);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        };
        let mut journal: Journal = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a release journal; move it away if no release is in progress",
                path.display()
            )
        })?;
        journal.path = path;
        Ok(Some(journal))
    }

    pub fn done(&self, step: &str) -> bool {
        self.steps
            .get(step)
            .is_some_and(|s| s.status == Status::Done)
    }

    pub fn record(
        &mut self,
        step: &str,
        status: Status,
        outputs: serde_json::Value,
        error: Option<String>,
    ) -> Result<()> {
        self.steps.insert(
            step.to_owned(),
            StepRecord {
                status,
                outputs,
                // A child's output in an error may hold a secret: the journal
                // is a file, and keeps none.
                error: error.map(|e| crate::redact::redact(&e).into_owned()),
            },
        );
        self.save()
    }

    pub fn save(&self) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::atomic::write_all(&[(self.path.clone(), serde_json::to_vec_pretty(self)?)])
    }

    /// A finished release keeps its journal beside its other records.
    pub fn archive(self, root: &Path) -> Result<()> {
        let dir = root.join(format!("target/release/v{}", self.plan.version));
        std::fs::create_dir_all(&dir)?;
        std::fs::rename(&self.path, dir.join("journal.json"))
            .context("archiving the release journal")
    }

    /// The first step that is not done.
    pub fn stuck_at(&self) -> Option<&str> {
        self.plan
            .steps
            .iter()
            .map(|s| s.name.as_str())
            .find(|name| !self.done(name))
    }
}

/// `target/release/lock`, holding the pid of the running release.
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Takes the lock. `resume` may take over a lock whose release died (a
    /// kill leaves it behind; resuming is what comes next).
    pub fn acquire(root: &Path, resume: bool) -> Result<Lock> {
        let path = root.join("target/release/lock");
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                use std::io::Write;
                write!(file, "{}", std::process::id())?;
                Ok(Lock { path })
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                let pid = std::fs::read_to_string(&path).unwrap_or_default();
                let pid = pid.trim();
                if !pid.is_empty() && Path::new(&format!("/proc/{pid}")).exists() {
                    bail!(
                        "another release is running (pid {pid}, {}); wait for it to finish",
                        path.display()
                    );
                }
                if resume {
                    tell!(
                        "notice: taking over {} from pid {pid}, which is no longer running",
                        path.display()
                    );
                    std::fs::write(&path, std::process::id().to_string())?;
                    return Ok(Lock { path });
                }
                bail!(
                    "{} is a stale lock: the release that took it (pid {}) is not running. \
                     `cargo xtask release --resume --execute` takes it over and finishes the interrupted release; \
                     if none is in progress, remove the file",
                    path.display(),
                    if pid.is_empty() { "unknown" } else { pid }
                )
            }
            Err(err) => Err(err).with_context(|| format!("creating {}", path.display())),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
