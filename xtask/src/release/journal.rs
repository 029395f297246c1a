//! What a release has done so far, and the lock that keeps it to one.
//!
//! The journal (`target/xtask-release/journal.json`) holds the plan and each step's
//! status and outputs, written atomically after every step, so a failed or
//! killed release can be finished with `--resume`. While it exists and is not
//! complete, a plain `release` refuses to start another.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::plan::{Plan, StepName};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Status {
    #[default]
    Pending,
    Done,
    Failed,
}

string_enum!(Status (Kebab) { Pending, Done, Failed });

#[derive(Clone, Debug, Default)]
pub struct StepRecord {
    pub status: Status,
    /// What the step produced (commit, digests, URLs), for later steps and resume.
    pub outputs: serde_json::Value,
    pub error: Option<String>,
}

record!(read write: StepRecord (Same) {
    status,
    outputs = Default::default() ; skip_if serde_json::Value::is_null,
    error = Default::default() ; skip_if Option::is_none,
});

#[derive(Debug)]
pub struct Journal {
    pub plan: Plan,
    /// The arguments the release was started with.
    pub arguments: Vec<String>,
    pub steps: BTreeMap<StepName, StepRecord>,
    /// A release across machines: the plan's hash and the gathered parts.
    pub split: Option<super::split::SplitState>,
    path: PathBuf,
}

record!(read write: Journal (Same) {
    plan,
    arguments,
    steps,
    split = Default::default() ; skip_if Option::is_none,
    path = Default::default() ; skip_if crate::core::record::always,
});

pub fn path(root: &Path) -> PathBuf {
    root.join("target/xtask-release/journal.json")
}

impl Journal {
    pub fn new(root: &Path, plan: Plan, arguments: Vec<String>) -> Journal {
        Journal {
            plan,
            arguments,
            steps: BTreeMap::new(),
            split: None,
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
        let mut journal: Journal = crate::core::record::from_str(&text).with_context(|| {
            format!(
                "{}: not a release journal; move it away if no release is in progress",
                path.display()
            )
        })?;
        journal.path = path;
        // A plan made before the messages were configurable.
        let plan = &mut journal.plan;
        if plan.commit_message.is_empty() {
            plan.commit_message = format!("chore(release): {}", plan.tag);
        }
        if plan.tag_message.is_empty() {
            plan.tag_message = format!("Release {}", plan.tag);
        }
        Ok(Some(journal))
    }

    pub fn done(&self, step: StepName) -> bool {
        self.steps
            .get(&step)
            .is_some_and(|s| s.status == Status::Done)
    }

    pub fn record(
        &mut self,
        step: StepName,
        status: Status,
        outputs: serde_json::Value,
        error: Option<String>,
    ) -> Result<()> {
        self.steps.insert(
            step,
            StepRecord {
                status,
                outputs,
                // A child's output in an error may hold a secret: the journal
                // is a file, and keeps none.
                error: error.map(|e| crate::core::redact::redact(&e).into_owned()),
            },
        );
        self.save()
    }

    /// What a dry run's step produced, for the steps after it; never saved.
    pub fn note(&mut self, step: StepName, outputs: serde_json::Value) {
        self.steps.insert(
            step,
            StepRecord {
                status: Status::Pending,
                outputs,
                error: None,
            },
        );
    }

    pub fn save(&self) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::core::atomic::write_all(&[(self.path.clone(), serde_json::to_vec_pretty(self)?)])
    }

    /// A finished release keeps its journal beside its other records.
    pub fn archive(self, root: &Path) -> Result<()> {
        let dir = root.join(format!("target/xtask-release/v{}", self.plan.version));
        std::fs::create_dir_all(&dir)?;
        std::fs::rename(&self.path, dir.join("journal.json"))
            .context("archiving the release journal")
    }

    /// The first step that is neither done nor skipped.
    pub fn stuck_at(&self) -> Option<StepName> {
        self.plan
            .steps
            .iter()
            .filter(|s| !s.skipped)
            .map(|s| s.name)
            .find(|name| !self.done(*name))
    }
}

/// `target/xtask-release/lock`, holding the pid of the running release.
pub struct Lock {
    path: PathBuf,
}

/// Who holds the lock: pid, the process's start time (clock ticks since
/// boot, `/proc/PID/stat` field 22) and host. A pid alone is not enough:
/// after a crash the number is soon reused by an unrelated process.
#[derive(Debug, PartialEq, Eq)]
struct Owner {
    pid: u32,
    start: u64,
    host: String,
}

impl Owner {
    fn me() -> Owner {
        let pid = std::process::id();
        Owner {
            pid,
            start: start_time(pid).unwrap_or(0),
            host: host(),
        }
    }

    /// `pid start host`, as the lock file holds it; `None` for anything else.
    fn parse(text: &str) -> Option<Owner> {
        let mut words = text.split_whitespace();
        let owner = Owner {
            pid: words.next()?.parse().ok()?,
            start: words.next()?.parse().ok()?,
            host: words.next()?.to_owned(),
        };
        words.next().is_none().then_some(owner)
    }

    fn line(&self) -> String {
        format!("{} {} {}\n", self.pid, self.start, self.host)
    }

    /// Whether that very process still runs (on another host: assumed so,
    /// since it cannot be checked from here).
    fn alive(&self) -> bool {
        self.host != host() || start_time(self.pid) == Some(self.start)
    }
}

/// Field 22 of `/proc/PID/stat`, after the parenthesised command name
/// (which may itself hold spaces and parentheses).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))
        .unwrap_or_else(|| "localhost".to_owned())
}

impl Lock {
    /// Takes the lock. `resume` may take over a lock whose release died (a
    /// kill leaves it behind; resuming is what comes next).
    pub fn acquire(root: &Path, resume: bool) -> Result<Lock> {
        let path = root.join("target/xtask-release/lock");
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        let me = Owner::me();
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                use std::io::Write;
                file.write_all(me.line().as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(Lock { path })
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let owner = Owner::parse(&text);
                if let Some(owner) = owner.as_ref().filter(|o| o.alive()) {
                    bail!(
                        "another release is running (pid {} on {}, {}); wait for it to finish",
                        owner.pid,
                        owner.host,
                        path.display()
                    );
                }
                let who = owner.map_or("an unreadable owner".to_owned(), |o| {
                    format!("pid {}", o.pid)
                });
                // Nothing in progress (it died before any change): the lock
                // guards nothing, so it is taken over whatever was asked.
                let in_progress = self::path(root).exists();
                if resume || !in_progress {
                    tell!(
                        "notice: taking over {} from {who}, which is no longer running{}",
                        path.display(),
                        if in_progress {
                            ""
                        } else {
                            "; no release was in progress"
                        }
                    );
                    crate::core::atomic::write_all(&[(path.clone(), me.line().into_bytes())])?;
                    return Ok(Lock { path });
                }
                bail!(
                    "{} is a stale lock: the release that took it ({who}) is not running. \
                     `cargo xtask release --resume --execute` takes it over and finishes the interrupted release; \
                     if none is in progress, remove the file",
                    path.display(),
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

#[cfg(test)]
mod lock_tests {
    use super::*;

    #[test]
    fn a_lock_is_live_only_while_that_very_process_runs() {
        let me = Owner::me();
        assert!(me.start > 0, "no start time read for ourselves");
        assert!(me.alive());
        assert_eq!(Owner::parse(&me.line()), Some(me));
        // pid 1 runs, but it is not the process that took the lock.
        let reused = Owner {
            pid: 1,
            start: 12_345_678_901,
            host: host(),
        };
        assert!(!reused.alive(), "a reused pid counts as the owner");
        for garbage in ["", "../../..", "123", "1 2", "1 2 host extra", "x 2 host"] {
            assert_eq!(Owner::parse(garbage), None, "{garbage:?}");
        }
    }
}
