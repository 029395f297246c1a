//! `cargo xtask python build|check|publish` against a real pypiserver on
//! 127.0.0.1, with real `python -m build`, `twine` and `pip download`.

use std::process::Command;

use crate::support::{self, venv_python, Fixture, PypiServer, TempDir, Xtask};

const PASSWORD: &str = "pw-CANARY-7f3a9c1e";

fn xtask(fixture: &Fixture, args: &[&str]) -> support::Run {
    Xtask::new(&fixture.root)
        .args(args)
        .env("XTASK_PYTHON", venv_python())
        .run()
}

fn publish(fixture: &Fixture, server: &PypiServer, password: &str) -> support::Run {
    Xtask::new(&fixture.root)
        .args(&[
            "python",
            "publish",
            "--execute",
            "--repository-url",
            &server.url,
        ])
        .env("XTASK_PYTHON", venv_python())
        .env("TWINE_USERNAME", PypiServer::USER)
        .env("TWINE_PASSWORD", password)
        .run()
}

fn sha256(path: &std::path::Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn build_and_check_stage_one_wheel_and_one_sdist() {
    let fixture = Fixture::new();
    let build = xtask(&fixture, &["python", "build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let dir = fixture.root.join("target/dist/v0.1.0");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["tcn_vae-0.1.0-py3-none-any.whl", "tcn_vae-0.1.0.tar.gz"]
    );
    let check = xtask(&fixture, &["python", "check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert_eq!(
        check.stderr.matches("PASSED").count(),
        2,
        "{}",
        check.stderr
    );

    // Another version's wheel beside it is not this release's; a second
    // wheel of this version is refused rather than guessed between.
    std::fs::copy(
        dir.join(&files[0]),
        dir.join("tcn_vae-0.0.9-py3-none-any.whl"),
    )
    .unwrap();
    let check = xtask(&fixture, &["python", "check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    std::fs::copy(
        dir.join(&files[0]),
        dir.join("tcn_vae-0.1.0-py2-none-any.whl"),
    )
    .unwrap();
    let confused = xtask(&fixture, &["python", "check"]);
    assert_eq!(confused.code, 1);
    assert!(
        confused
            .stderr
            .contains("2 wheel(s) and 1 sdist(s) of tcn-vae 0.1.0"),
        "{}",
        confused.stderr
    );
}

#[test]
fn publish_uploads_once_and_refuses_other_content() {
    let fixture = Fixture::new();
    let server = PypiServer::start(PASSWORD);
    assert_eq!(xtask(&fixture, &["python", "build"]).code, 0);

    // Dry run: asks the index, uploads nothing.
    let dry = xtask(
        &fixture,
        &["python", "publish", "--repository-url", &server.url],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr.contains("twine --no-color upload") && dry.stderr.contains("# dry run: not run"),
        "{}",
        dry.stderr
    );
    assert_eq!(
        std::fs::read_dir(&server.packages).unwrap().count(),
        0,
        "a dry run uploaded"
    );

    let first = publish(&fixture, &server, PASSWORD);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains("every file with the local sha256"),
        "{}",
        first.stdout
    );
    assert!(!first.all().contains(PASSWORD), "the password leaked");

    // pip gets exactly what was built.
    let download = TempDir::new("pip");
    let pip = Command::new(venv_python())
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "tcn-vae==0.1.0",
            "--index-url",
        ])
        .arg(format!("{}simple/", server.url))
        .arg("-d")
        .arg(download.path())
        .output()
        .unwrap();
    assert!(
        pip.status.success(),
        "{}",
        String::from_utf8_lossy(&pip.stderr)
    );
    let wheel = "tcn_vae-0.1.0-py3-none-any.whl";
    assert_eq!(
        sha256(&download.path().join(wheel)),
        sha256(&fixture.root.join("target/dist/v0.1.0").join(wheel))
    );

    // A re-run is a no-op.
    let again = publish(&fixture, &server, PASSWORD);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        again
            .stdout
            .matches("already on the index with the same sha256; skipped")
            .count(),
        2,
        "{}",
        again.stdout
    );
    assert!(
        !again.stderr.contains("twine --no-color upload"),
        "a re-run uploaded again: {}",
        again.stderr
    );

    // Other content under the same version is burned, and said so.
    let readme = fixture.read("python/README.md");
    fixture.write("python/README.md", &format!("{readme}\nA later edit.\n"));
    assert_eq!(xtask(&fixture, &["python", "build"]).code, 0);
    let burned = publish(&fixture, &server, PASSWORD);
    assert_eq!(burned.code, 1);
    assert!(
        burned.stderr.contains("version 0.1.0 is burned"),
        "{}",
        burned.stderr
    );
}

#[test]
fn a_wrong_password_is_reported_without_the_password() {
    let fixture = Fixture::new();
    let server = PypiServer::start(PASSWORD);
    assert_eq!(xtask(&fixture, &["python", "build"]).code, 0);
    let wrong = "WRONG-pw-CANARY-0b5e";
    let run = publish(&fixture, &server, wrong);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("refused the credentials (HTTP 403)"),
        "{}",
        run.stderr
    );
    assert!(
        !run.all().contains(wrong),
        "the wrong password was echoed:\n{}",
        run.all()
    );
    assert_eq!(std::fs::read_dir(&server.packages).unwrap().count(), 0);
}

#[test]
fn publish_without_credentials_says_which_are_needed() {
    let fixture = Fixture::new();
    let server = PypiServer::start(PASSWORD);
    assert_eq!(xtask(&fixture, &["python", "build"]).code, 0);
    let run = xtask(
        &fixture,
        &[
            "python",
            "publish",
            "--execute",
            "--repository-url",
            &server.url,
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("set TWINE_USERNAME and TWINE_PASSWORD"),
        "{}",
        run.stderr
    );
}

/// A `python3` on PATH that has no `build`, `twine` or `packaging`: a fresh
/// venv's interpreter (it has pip, as Debian's and pyenv's do).
fn bare_python3(dir: &TempDir) -> std::path::PathBuf {
    let venv = dir.path().join("bare");
    let made = Command::new(venv_python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    // `--without-pip` keeps it bare and quick; the venvs the xtask makes
    // from it get pip from ensurepip like any other.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(venv.join("bin/python3"), bin.join("python3")).unwrap();
    bin
}

#[test]
fn without_build_or_twine_the_release_provisions_them_and_really_checks() {
    let fixture = Fixture::new();
    let scratch = TempDir::new("bare-python");
    let bin = bare_python3(&scratch);
    let release = Xtask::new(&fixture.root)
        .args(&["release"])
        .path_first(&[&bin])
        .run();
    assert_eq!(release.code, 0, "{}", release.stderr);
    assert!(
        release
            .stderr
            .contains("python: `python3` lacks one of build, twine, packaging; using"),
        "{}",
        release.stderr
    );
    assert!(
        fixture
            .root
            .join("target/xtask-python/xtask-stamp")
            .is_file(),
        "no stamp: the environment is not marked complete"
    );
    let dist = fixture.root.join("target/dist/v0.2.0");
    let mut files: Vec<String> = std::fs::read_dir(&dist)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", dist.display(), release.stderr))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".whl") || n.ends_with(".tar.gz"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["tcn_vae-0.2.0-py3-none-any.whl", "tcn_vae-0.2.0.tar.gz"]
    );
    // twine really ran, and "verified" names exactly what ran.
    assert!(
        release
            .stderr
            .contains("-m twine --no-color check --strict"),
        "{}",
        release.stderr
    );
    assert!(
        release
            .stdout
            .contains(": sha256sum.txt, twine check, models check"),
        "{}",
        release.stdout
    );

    // A second command reuses it without making it again.
    let again = Xtask::new(&fixture.root)
        .args(&["python", "build"])
        .path_first(&[&bin])
        .run();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        !again.stderr.contains("python: creating"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_provisioning_failure_names_the_fix_and_leaves_nothing_half_made() {
    let fixture = Fixture::new();
    let scratch = TempDir::new("bare-python");
    let bin = bare_python3(&scratch);
    // A pin no index has: the install fails the way no network does.
    std::fs::write(
        fixture.root.join("xtask/python-tools.txt"),
        "build==0.0.0.0.1\n",
    )
    .unwrap();
    let run = Xtask::new(&fixture.root)
        .args(&["python", "build"])
        .path_first(&[&bin])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("target/xtask-python failed and was removed: check that PyPI is reachable"),
        "{}",
        run.stderr
    );
    assert!(!fixture.root.join("target/xtask-python").exists());
}

#[test]
fn a_broken_xtask_python_is_named() {
    let fixture = Fixture::new();
    let run = Xtask::new(&fixture.root)
        .args(&["python", "build"])
        .env("XTASK_PYTHON", "/nonexistent/python")
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("XTASK_PYTHON=/nonexistent/python is not a working Python interpreter"),
        "{}",
        run.stderr
    );
}

#[test]
fn credentials_in_the_repository_url_reach_twine_only_through_its_environment() {
    let fixture = Fixture::new();
    let server = PypiServer::start(PASSWORD);
    assert_eq!(xtask(&fixture, &["python", "build"]).code, 0);
    // `http://releaser:PASSWORD@127.0.0.1:PORT/`, as CI configurations write it.
    let with_credentials =
        server
            .url
            .replacen("://", &format!("://{}:{PASSWORD}@", PypiServer::USER), 1);
    let run = Xtask::new(&fixture.root)
        .args(&["python", "publish", "--execute"])
        .env("XTASK_PYTHON", venv_python())
        .env("TWINE_REPOSITORY_URL", &with_credentials)
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        std::fs::read_dir(&server.packages).unwrap().count(),
        2,
        "twine uploaded with the URL's credentials"
    );
    assert!(
        !run.all().contains(PASSWORD),
        "the password leaked:\n{}",
        run.all()
    );
    // The command as printed names the bare URL.
    assert!(
        run.stderr
            .contains(&format!("--repository-url {}", server.url)),
        "{}",
        run.stderr
    );

    let conflict = Xtask::new(&fixture.root)
        .args(&["python", "publish"])
        .env("XTASK_PYTHON", venv_python())
        .env("TWINE_REPOSITORY_URL", &with_credentials)
        .env("TWINE_PASSWORD", "another-password-123")
        .run();
    assert_eq!(conflict.code, 1);
    assert!(
        conflict
            .stderr
            .contains("TWINE_REPOSITORY_URL carries a password and TWINE_PASSWORD holds another"),
        "{}",
        conflict.stderr
    );
}

#[test]
fn doctor_counts_what_the_xtask_provisions_as_on_demand_not_missing() {
    let fixture = Fixture::new();
    let scratch = TempDir::new("bare-python");
    let bin = bare_python3(&scratch);
    let run = Xtask::new(&fixture.root)
        .args(&["doctor", "--json"])
        .path_first(&[&bin])
        .run();
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    for name in ["build", "twine"] {
        let check = report["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name}: {report}"));
        assert_eq!(check["status"], "ondemand", "{check}");
        assert!(
            check["fix"]
                .as_str()
                .unwrap()
                .starts_with("nothing to install"),
            "{check}"
        );
    }
    let missing = report["missing"].as_array().unwrap();
    assert!(
        !missing.iter().any(|m| m == "build" || m == "twine"),
        "{missing:?}"
    );
}
