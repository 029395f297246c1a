//! The one place where child processes run.
//!
//! A [`Cmd`] is plain data: program, arguments, working directory, extra
//! environment, the secret variables it may see, and its [`Effect`]. The same
//! value can be printed in a plan, serialised to JSON, asserted in a test, or
//! handed to the [`Runner`], which
//! - prints it as a person would type it (`$ git push origin v1.2.0`);
//! - in a dry run, does not start anything whose effect is [`Effect::Change`];
//! - gives the child a null stdin (nothing may wait on a prompt) and an
//!   environment without any secret it did not ask for;
//! - masks secret values in everything it relays or reports, errors included.
//!
//! Not for: deciding what to run (the subcommands and `tools/` do that).

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::core::redact::{redact, SECRET_VARS};

/// What running a command does to the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Only reads (versions, status, lookups). Runs in a dry run.
    Query,
    /// Writes only below `target/` (builds, staging). Runs in a dry run.
    Stage,
    /// Changes the repository or the world (commit, push, upload). Printed, not
    /// run, in a dry run.
    Change,
}

/// A command to run, as data.
#[derive(Clone, Debug)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    cwd: Option<PathBuf>,
    env: Vec<(String, String)>,
    /// Names (never values) of the secret variables passed to the child.
    secrets: Vec<&'static str>,
    effect: Effect,
    timeout: Option<Duration>,
    /// Say so when the child has printed nothing for this long.
    heartbeat: Option<Duration>,
    /// What the child reads; a null stdin unless set.
    stdin: Stdin,
    install_hint: Option<&'static str>,
}

/// A child's stdin.
#[derive(Clone, Debug, Default)]
pub enum Stdin {
    /// Nothing: a prompt reads end-of-file instead of waiting.
    #[default]
    Null,
    File(PathBuf),
    /// The value of this secret variable, for tools that read a password
    /// from stdin (`docker login --password-stdin`); only the name is kept.
    Secret(&'static str),
}

impl Cmd {
    pub fn new(program: impl Into<String>, effect: Effect) -> Cmd {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            cwd: None,
            env: Vec::new(),
            secrets: Vec::new(),
            effect,
            timeout: None,
            heartbeat: None,
            stdin: Stdin::Null,
            install_hint: None,
        }
    }

    /// How to get the program when it is not on PATH (`tools/` knows).
    pub fn install_hint(mut self, hint: &'static str) -> Cmd {
        self.install_hint = Some(hint);
        self
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.cwd = Some(dir.into());
        self
    }

    /// A non-secret variable for the child (shown in the printed command).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Cmd {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Lets the child see the secret variable `name` from our environment.
    /// The value is never stored here; only the name is printed.
    pub fn secret(mut self, name: &'static str) -> Cmd {
        debug_assert!(SECRET_VARS.contains(&name), "{name} is not in SECRET_VARS");
        self.secrets.push(name);
        self
    }

    /// Feeds the file at `path` to the child's stdin.
    pub fn stdin_file(mut self, path: impl Into<PathBuf>) -> Cmd {
        self.stdin = Stdin::File(path.into());
        self
    }

    /// Feeds the secret variable `name` from our environment to the child's stdin.
    pub fn stdin_secret(mut self, name: &'static str) -> Cmd {
        debug_assert!(SECRET_VARS.contains(&name), "{name} is not in SECRET_VARS");
        self.stdin = Stdin::Secret(name);
        self
    }

    /// Kills the child if it has not finished after `limit`.
    pub fn timeout(mut self, limit: Duration) -> Cmd {
        self.timeout = Some(limit);
        self
    }

    /// When the child has printed nothing for `every`, [`Runner::run`] says
    /// it is still running (tools that are silent while they work).
    pub fn heartbeat(mut self, every: Duration) -> Cmd {
        self.heartbeat = Some(every);
        self
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    fn expression(&self) -> duct::Expression {
        let mut expr = duct::cmd(&self.program, &self.args).unchecked();
        expr = match &self.stdin {
            Stdin::Null => expr.stdin_null(),
            Stdin::File(path) => expr.stdin_path(path),
            Stdin::Secret(name) => expr.stdin_bytes(std::env::var(name).unwrap_or_default()),
        };
        if let Some(dir) = &self.cwd {
            expr = expr.dir(dir);
        }
        for name in SECRET_VARS {
            if !self.secrets.contains(name) {
                expr = expr.env_remove(name);
            }
        }
        // Colour codes from a child would leak into our output and into
        // what we parse (the DFC's banners); a Cmd can still ask for colour.
        expr = expr.env("NO_COLOR", "1");
        for (key, value) in &self.env {
            expr = expr.env(key, value);
        }
        expr
    }
}

impl fmt::Display for Cmd {
    /// The command as a person would type it, secrets shown only by name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(dir) = &self.cwd {
            write!(f, "(cd {} && ", shell_quote(&dir.display().to_string()))?;
        }
        for name in &self.secrets {
            write!(f, "{name}=*** ")?;
        }
        for (key, value) in &self.env {
            write!(f, "{key}={} ", shell_quote(value))?;
        }
        write!(f, "{}", shell_quote(&self.program))?;
        for arg in &self.args {
            // An inline script (`python -c`) is shown by its size, not its
            // text: a person reads the command, not the program.
            match arg.lines().count() {
                n if n > 1 => write!(f, " '<{n}-line script>'")?,
                _ => write!(f, " {}", shell_quote(arg))?,
            }
        }
        if self.cwd.is_some() {
            write!(f, ")")?;
        }
        Ok(())
    }
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:=@%+,-".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What a finished (or skipped) command produced, unmasked: print it only
/// through `say!`/`tell!`.
#[derive(Debug)]
pub struct Output {
    /// `None` when the command was not started (dry run) or was killed.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Whether [`Runner::run`] started the command.
#[derive(Debug, PartialEq, Eq)]
pub enum Ran {
    Yes,
    /// Dry run: the command changes the world and was only printed.
    SkippedDryRun,
}

/// Runs [`Cmd`]s: prints, honours the dry run, scrubs secrets.
#[derive(Clone, Debug)]
pub struct Runner {
    dry_run: bool,
    verbose: bool,
}

/// How many lines of a failed command's output go into the error.
const ERROR_TAIL_LINES: usize = 20;

impl Runner {
    pub fn new(dry_run: bool) -> Runner {
        let verbose = std::env::var_os("XTASK_VERBOSE").is_some_and(|v| !v.is_empty());
        Runner { dry_run, verbose }
    }

    /// Whether commands that change the world are only printed.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Prints the command, runs it with its output relayed line by line to
    /// stderr (redacted), and fails with the output's tail if it fails.
    pub fn run(&self, cmd: &Cmd) -> Result<Ran> {
        self.run_watching(cmd, |_| {})
    }

    /// [`Runner::run`], handing each relayed (redacted) line to `watch` too,
    /// for callers that read a tool's report as it goes (test counts).
    pub fn run_watching(&self, cmd: &Cmd, mut watch: impl FnMut(&str)) -> Result<Ran> {
        if self.dry_run && cmd.effect == Effect::Change {
            tell!("$ {cmd}    # dry run: not run");
            return Ok(Ran::SkippedDryRun);
        }
        tell!("$ {cmd}");
        let reader = cmd
            .expression()
            .stderr_to_stdout()
            .reader()
            .map_err(|err| spawn_error(cmd, err))?;
        let reader = Arc::new(reader);
        let watchdog = cmd
            .timeout
            .map(|limit| kill_after(Arc::clone(&reader), limit));

        let quiet = Arc::new(Silence::default());
        let _heartbeat = cmd.heartbeat.map(|every| {
            // `cargo`, not the toolchain path it was started by.
            let name = Path::new(&cmd.program)
                .file_name()
                .map_or(cmd.program.clone(), |n| n.to_string_lossy().into_owned());
            heartbeat(name, every, Arc::clone(&quiet), |m| tell!("{m}"))
        });

        let mut tail: Vec<String> = Vec::new();
        let mut lines = BufReader::new(&*reader);
        let mut raw = Vec::new();
        loop {
            raw.clear();
            let read = lines
                .read_until(b'\n', &mut raw)
                .with_context(|| format!("reading the output of `{cmd}`"))?;
            if read == 0 {
                break;
            }
            quiet.reset();
            let line = String::from_utf8_lossy(&raw);
            let line = redact(line.trim_end_matches(['\n', '\r'])).into_owned();
            tell!("{line}");
            watch(&line);
            if tail.len() == ERROR_TAIL_LINES {
                tail.remove(0);
            }
            tail.push(line);
        }
        let status = reader
            .try_wait()
            .with_context(|| format!("waiting for `{cmd}`"))?
            .map(|output| output.status);
        let timed_out = watchdog.is_some_and(|w| w.finish());
        match status {
            Some(status) if status.success() => Ok(Ran::Yes),
            _ => bail!(failure_message(
                cmd,
                status.and_then(|s| s.code()),
                timed_out,
                &tail.join("\n")
            )),
        }
    }

    /// Runs a command for its output, checking the exit status. Queries are
    /// printed only with `XTASK_VERBOSE=1`; anything else is always printed.
    pub fn read(&self, cmd: &Cmd) -> Result<String> {
        let output = self.output(cmd)?;
        if !output.success() {
            bail!(failure_message(
                cmd,
                output.code,
                false,
                output.stderr.trim_end()
            ));
        }
        Ok(output.stdout)
    }

    /// Runs a command and returns its output whatever its exit status, for
    /// callers that give meaning to a failure (a probe, "not found" answers).
    pub fn output(&self, cmd: &Cmd) -> Result<Output> {
        if self.dry_run && cmd.effect == Effect::Change {
            tell!("$ {cmd}    # dry run: not run");
            return Ok(Output {
                code: None,
                stdout: String::new(),
                stderr: String::new(),
            });
        }
        if self.verbose || cmd.effect != Effect::Query {
            tell!("$ {cmd}");
        }
        let handle = cmd
            .expression()
            .stdout_capture()
            .stderr_capture()
            .start()
            .map_err(|err| spawn_error(cmd, err))?;
        let finished = match cmd.timeout {
            Some(limit) => handle
                .wait_timeout(limit)
                .with_context(|| format!("waiting for `{cmd}`"))?
                .is_some(),
            None => {
                handle
                    .wait()
                    .with_context(|| format!("waiting for `{cmd}`"))?;
                true
            }
        };
        if !finished {
            kill_tree(&handle.pids());
            let _ = handle.kill();
            bail!(failure_message(cmd, None, true, ""));
        }
        let output = handle
            .wait()
            .with_context(|| format!("waiting for `{cmd}`"))?;
        Ok(captured(output))
    }
}

impl Runner {
    /// Runs a query and hands its stdout to `each`, one `separator`-ended
    /// record at a time, so memory does not grow with the output. Fails, with
    /// its stderr, when the command fails.
    pub fn for_each_record(
        &self,
        cmd: &Cmd,
        separator: u8,
        mut each: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        if self.verbose {
            tell!("$ {cmd}");
        }
        let reader = cmd
            .expression()
            .stderr_capture()
            .reader()
            .map_err(|err| spawn_error(cmd, err))?;
        let mut records = BufReader::with_capacity(1 << 16, &reader);
        let mut record = Vec::new();
        loop {
            record.clear();
            let read = records
                .read_until(separator, &mut record)
                .with_context(|| format!("reading the output of `{cmd}`"))?;
            if read == 0 {
                break;
            }
            if record.last() == Some(&separator) {
                record.pop();
            }
            each(&record)?;
        }
        let output = reader
            .try_wait()
            .with_context(|| format!("waiting for `{cmd}`"))?;
        match output {
            Some(output) if output.status.success() => Ok(()),
            Some(output) => bail!(failure_message(
                cmd,
                output.status.code(),
                false,
                String::from_utf8_lossy(&output.stderr).trim_end()
            )),
            None => bail!(failure_message(cmd, None, false, "")),
        }
    }
}

/// What [`Runner::measure`] saw of a finished command.
#[derive(Debug)]
pub struct Measured {
    pub output: Output,
    pub elapsed: Duration,
    /// The child's peak resident memory (`VmHWM`), sampled every 2 ms.
    pub peak_rss_kib: u64,
}

impl Runner {
    /// Runs a command for a benchmark: wall time and peak memory, output
    /// captured. Fails when the command fails.
    pub fn measure(&self, cmd: &Cmd) -> Result<Measured> {
        if self.verbose {
            tell!("$ {cmd}");
        }
        let started = std::time::Instant::now();
        let handle = cmd
            .expression()
            .stdout_capture()
            .stderr_capture()
            .start()
            .map_err(|err| spawn_error(cmd, err))?;
        let status_files: Vec<PathBuf> = handle
            .pids()
            .iter()
            .map(|pid| PathBuf::from(format!("/proc/{pid}/status")))
            .collect();
        let mut peak_rss_kib = 0;
        let output = loop {
            for file in &status_files {
                peak_rss_kib = peak_rss_kib.max(high_water_mark_kib(file).unwrap_or(0));
            }
            if let Some(output) = handle
                .try_wait()
                .with_context(|| format!("waiting for `{cmd}`"))?
            {
                break output;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let elapsed = started.elapsed();
        let output = captured(output);
        if !output.success() {
            bail!(failure_message(
                cmd,
                output.code,
                false,
                output.stderr.trim_end()
            ));
        }
        Ok(Measured {
            output,
            elapsed,
            peak_rss_kib,
        })
    }
}

/// `VmHWM` of a running process, in KiB.
fn high_water_mark_kib(status: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(status).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A finished child's output, redacted.
/// A finished child's output, as it printed it: data the tool parses is
/// never masked (a secret's letters inside JSON would corrupt it). Whatever
/// of it reaches a person goes through `say!`/`tell!` or an error message,
/// which mask.
fn captured(output: &std::process::Output) -> Output {
    Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn spawn_error(cmd: &Cmd, err: std::io::Error) -> anyhow::Error {
    if err.kind() == std::io::ErrorKind::NotFound {
        let hint = cmd
            .install_hint
            .map(|hint| format!("; {hint}"))
            .unwrap_or_default();
        if cmd.program().contains('/') {
            return anyhow::anyhow!("`{}` does not exist{hint}", cmd.program());
        }
        anyhow::anyhow!("`{}` was not found on PATH{hint}", cmd.program())
    } else {
        anyhow::anyhow!(
            "could not start `{}`: {}",
            redact(&cmd.to_string()),
            redact(&err.to_string())
        )
    }
}

fn failure_message(cmd: &Cmd, code: Option<i32>, timed_out: bool, tail: &str) -> String {
    let how = match (timed_out, code) {
        (true, _) => format!(
            "was killed after {}s without finishing (waiting on a prompt?)",
            cmd.timeout.map_or(0, |t| t.as_secs())
        ),
        (false, Some(code)) => format!("failed with exit code {code}"),
        (false, None) => "was killed by a signal".to_owned(),
    };
    let mut message = format!("`{}` {how}", redact(&cmd.to_string()));
    if !tail.is_empty() {
        message.push_str(":\n");
        message.push_str(&redact(tail));
    }
    message
}

/// How long a child has printed nothing, in whole seconds of a 1 s clock.
#[derive(Default)]
struct Silence(std::sync::atomic::AtomicU64);

impl Silence {
    fn reset(&self) {
        self.0.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    fn tick(&self) -> u64 {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
    }
}

/// Calls a function every `every` on a thread of its own until dropped:
/// the "still running" lines of silent children and long installs.
pub struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    pub fn start(every: Duration, mut tick: impl FnMut() + Send + 'static) -> Ticker {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                tick();
            }
        });
        Ticker {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Says "still running" each time a child has been silent for `every`.
fn heartbeat(
    program: String,
    every: Duration,
    silence: Arc<Silence>,
    say: impl Fn(String) + Send + 'static,
) -> Ticker {
    let every = every.as_secs().max(1);
    let started = std::time::Instant::now();
    Ticker::start(Duration::from_secs(1), move || {
        let silent = silence.tick();
        // `%`, not `is_multiple_of`: that needs Rust 1.87, and a
        // distribution's cargo (Debian 13: 1.85) must build this.
        #[allow(clippy::manual_is_multiple_of)]
        let due = silent % every == 0;
        if due {
            say(format!(
                "... `{program}` still running after {}s ({silent}s without output)",
                started.elapsed().as_secs()
            ));
        }
    })
}

/// Kills the child behind `reader` unless [`Watchdog::finish`] is called
/// within `limit`.
struct Watchdog {
    done: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    /// Stops the watchdog; true when it had to kill the child.
    fn finish(self) -> bool {
        let _ = self.done.send(());
        self.thread.join().unwrap_or(false)
    }
}

fn kill_after(reader: Arc<duct::ReaderHandle>, limit: Duration) -> Watchdog {
    let (done, wait) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || match wait.recv_timeout(limit) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            kill_tree(&reader.pids());
            let _ = reader.kill();
            true
        }
        _ => false,
    });
    Watchdog { done, thread }
}

/// Kills every process below `pids` (Linux: found through `/proc`), so that
/// a timed-out child's own children cannot keep running and hold our pipe
/// open (a wrapper script that does not `exec`). The whole tree is listed
/// before anything is killed: a killed parent's children would otherwise be
/// handed to init and lost from view.
fn kill_tree(pids: &[u32]) {
    let mut tree = Vec::new();
    for &pid in pids {
        descendants(pid, &mut tree);
    }
    for pid in tree {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            // SAFETY: kill(2) with a pid we just read from /proc and a
            // constant signal touches no memory of ours.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// Appends the descendants of `pid`, parents before children.
fn descendants(pid: u32, out: &mut Vec<u32>) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for task in tasks.filter_map(|t| t.ok()) {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
            out.push(child);
            descendants(child, out);
        }
    }
}

/// True when `program` can be found on PATH (or is a path that exists).
pub fn on_path(program: &str) -> bool {
    if program.contains('/') {
        Path::new(program).is_file()
    } else {
        which::which(program).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_like_a_shell_command() {
        let cmd = Cmd::new("gh", Effect::Change)
            .args(["release", "create", "v1.2.0", "--title", "tcn vae v1.2.0"])
            .secret("GH_TOKEN")
            .env("GH_REPO", "edge-ml/x");
        assert_eq!(
            cmd.to_string(),
            "GH_TOKEN=*** GH_REPO=edge-ml/x gh release create v1.2.0 --title 'tcn vae v1.2.0'"
        );
    }

    #[test]
    fn display_quotes_single_quotes_and_empty_words() {
        let cmd = Cmd::new("echo", Effect::Query).args(["it's", ""]);
        assert_eq!(cmd.to_string(), r"echo 'it'\''s' ''");
    }

    #[test]
    fn dry_run_does_not_start_changes() {
        let marker = std::env::temp_dir().join(format!("xtask-dry-run-{}", std::process::id()));
        let cmd = Cmd::new("touch", Effect::Change).arg(marker.display().to_string());
        assert_eq!(Runner::new(true).run(&cmd).unwrap(), Ran::SkippedDryRun);
        assert!(!marker.exists(), "a dry run created {}", marker.display());
        assert_eq!(Runner::new(false).run(&cmd).unwrap(), Ran::Yes);
        assert!(marker.exists());
        std::fs::remove_file(marker).unwrap();
    }

    #[test]
    fn dry_run_still_runs_queries_and_staging() {
        let out = Runner::new(true)
            .read(&Cmd::new("echo", Effect::Query).arg("hello"))
            .unwrap();
        assert_eq!(out, "hello\n");
    }

    #[test]
    fn failure_reports_exit_code_and_output_tail() {
        let cmd = Cmd::new("sh", Effect::Query).args(["-c", "echo first; echo boom >&2; exit 3"]);
        let err = Runner::new(false).run(&cmd).unwrap_err().to_string();
        assert!(err.contains("failed with exit code 3"), "{err}");
        assert!(err.contains("first\nboom"), "{err}");
    }

    #[test]
    fn a_hanging_child_is_killed_at_its_timeout() {
        let cmd = Cmd::new("sleep", Effect::Query)
            .arg("30")
            .timeout(Duration::from_millis(200));
        let started = std::time::Instant::now();
        let err = Runner::new(false).run(&cmd).unwrap_err().to_string();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(err.contains("was killed after"), "{err}");
        let err = Runner::new(false).read(&cmd).unwrap_err().to_string();
        assert!(err.contains("was killed after"), "{err}");
    }

    #[test]
    fn a_silent_child_is_said_to_be_still_running_and_a_talking_one_is_not() {
        use std::sync::Mutex;
        let said = Arc::new(Mutex::new(Vec::new()));
        let silence = Arc::new(Silence::default());
        let sink = Arc::clone(&said);
        let beat = heartbeat(
            "cargo".to_owned(),
            Duration::from_secs(1),
            Arc::clone(&silence),
            move |m| sink.lock().unwrap().push(m),
        );
        std::thread::sleep(Duration::from_millis(2500));
        drop(beat);
        // One line or two, and a second late: a loaded machine may delay
        // the ticker.
        let lines = said.lock().unwrap().clone();
        assert!((1..=2).contains(&lines.len()), "{lines:?}");
        assert!(
            lines[0].starts_with("... `cargo` still running after 1s (1s without output)")
                || lines[0].starts_with("... `cargo` still running after 2s (2s without output)"),
            "{lines:?}"
        );

        let said = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&said);
        let beat = heartbeat(
            "cargo".to_owned(),
            Duration::from_secs(2),
            Arc::clone(&silence),
            move |m| sink.lock().unwrap().push(m),
        );
        for _ in 0..10 {
            silence.reset();
            std::thread::sleep(Duration::from_millis(300));
        }
        drop(beat);
        assert!(said.lock().unwrap().is_empty());
    }

    #[test]
    fn a_timeout_ends_the_grandchildren_that_hold_the_output_open() {
        // A wrapper that does not `exec`: its child keeps stdout open.
        let cmd = Cmd::new("sh", Effect::Query)
            .args(["-c", "sleep 30; echo late"])
            .timeout(Duration::from_millis(300));
        for run in [
            |r: &Runner, c: &Cmd| r.run(c).map(|_| ()),
            |r: &Runner, c: &Cmd| r.read(c).map(|_| ()),
        ] {
            let started = std::time::Instant::now();
            let err = run(&Runner::new(false), &cmd).unwrap_err().to_string();
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "returned after {:?}",
                started.elapsed()
            );
            assert!(err.contains("was killed after"), "{err}");
        }
    }

    #[test]
    fn a_missing_program_is_reported_by_name() {
        let cmd = Cmd::new("xtask-no-such-program", Effect::Query).arg("--version");
        let err = Runner::new(false).read(&cmd).unwrap_err().to_string();
        assert_eq!(err, "`xtask-no-such-program` was not found on PATH");
    }
}
