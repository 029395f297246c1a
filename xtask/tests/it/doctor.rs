//! `cargo xtask doctor` against controlled PATHs, fake tools and a real
//! Docker daemon.

use serde_json::{json, Value};

use crate::support::{self, bin_with, which, DockerDaemon, Fakes, Fixture, TempDir, Xtask};

fn report(run: &support::Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", run.stdout, run.stderr))
}

fn tool<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report:#}"))
}

/// Removes the `[[...docker]]` table so a release needs no Docker at all.
fn without_docker(fixture: &Fixture) {
    let manifest = fixture.read("Cargo.toml");
    let start = manifest
        .find("[[workspace.metadata.release.docker]]")
        .unwrap();
    let end = manifest[start..]
        .find("\n\n")
        .map_or(manifest.len(), |i| start + i + 2);
    fixture.write(
        "Cargo.toml",
        &format!("{}{}", &manifest[..start], &manifest[end..]),
    );
}

#[test]
fn agrees_with_which_on_this_machine() {
    let fixture = Fixture::new();
    let run = Xtask::new(&fixture.root).args(&["doctor", "--json"]).run();
    let report = report(&run);
    for (name, program) in [
        ("git", "git"),
        ("docker", "docker"),
        ("gh", "gh"),
        ("hailo", "hailo"),
        ("hailortcli", "hailortcli"),
        ("gpg", "gpg"),
    ] {
        let found = which(program).is_some();
        let status = tool(&report, name)["status"].as_str().unwrap();
        assert_eq!(
            status != "missing",
            found,
            "{name}: doctor says {status}, which says found={found}"
        );
    }
    // Exit code follows the needed tools.
    let missing = report["missing"].as_array().unwrap();
    assert_eq!(run.code == 0, missing.is_empty(), "{}", run.stderr);
}

#[test]
fn exits_0_when_every_needed_tool_answers_and_1_naming_what_is_missing() {
    let fixture = Fixture::new();
    without_docker(&fixture);
    let fakes = Fakes::install();
    let scratch = TempDir::new("path");
    let real = bin_with(scratch.path(), &["git", "python3"]);
    let venv_bin = support::venv_python().parent().unwrap().to_owned();

    let ok = Xtask::new(&fixture.root)
        .args(&["doctor"])
        .fakes(&fakes)
        .path_only(&[&fakes.bin, &real, &venv_bin])
        .run();
    assert_eq!(ok.code, 0, "stdout:\n{}\nstderr:\n{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout.contains("Every tool this release needs is here."),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout.contains("DFC 3.33.0, HailoRT 4.23.0"),
        "{}",
        ok.stdout
    );

    // Without the DFC, the HEF of the configured model cannot be compiled.
    let without_hailo = scratch.path().join("no-hailo");
    std::fs::create_dir_all(&without_hailo).unwrap();
    std::fs::copy(fakes.bin.join("gh"), without_hailo.join("gh")).unwrap();
    std::fs::copy(
        fakes.bin.join("_fakelib.py"),
        without_hailo.join("_fakelib.py"),
    )
    .unwrap();
    let missing = Xtask::new(&fixture.root)
        .args(&["doctor"])
        .fakes(&fakes)
        .path_only(&[&without_hailo, &real, &venv_bin])
        .run();
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("error: 1 needed tool is missing or not working: hailo"),
        "{}",
        missing.stderr
    );
    let hailo_line = missing
        .stdout
        .lines()
        .find(|l| l.contains("MISSING") && l.contains("hailo"))
        .unwrap();
    assert!(
        hailo_line.contains("HEF for tcn_encoder (hailo8)"),
        "{hailo_line}"
    );
    assert!(
        missing.stdout.contains("x86_64 Linux only"),
        "{}",
        missing.stdout
    );
}

#[test]
fn reports_every_missing_tool_at_once() {
    let fixture = Fixture::new();
    let scratch = TempDir::new("path");
    let real = bin_with(scratch.path(), &["git"]);
    let run = Xtask::new(&fixture.root)
        .args(&["doctor", "--json"])
        .path_only(&[&real])
        .run();
    assert_eq!(run.code, 1);
    let report = report(&run);
    let missing: Vec<&str> = report["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(
        missing,
        [
            "python3",
            "build",
            "twine",
            "docker",
            "docker daemon",
            "buildx",
            "gh",
            "hailo"
        ]
    );
    assert!(tool(&report, "twine")["fix"]
        .as_str()
        .unwrap()
        .contains("first get `python3` working"));
    assert!(tool(&report, "gh")["fix"]
        .as_str()
        .unwrap()
        .contains("apt-get install gh"));
    // Optional tools are reported, never required.
    assert_eq!(tool(&report, "hailortcli")["required"], false);
    assert_eq!(tool(&report, "gpg")["required"], false);
}

#[test]
fn credentials_are_reported_as_set_never_shown_and_only_given_to_gh_auth() {
    let fixture = Fixture::new();
    let fakes = Fakes::install();
    // A gh that misbehaves and prints the token it was given.
    fakes.fail(json!({
        "tool": "gh", "args": ["auth", "status"], "times": 1, "exit": 1,
        "stderr": "error validating token {env:GH_TOKEN}: HTTP 401"
    }));
    let gh_canary = "ghp_CANARYcanaryCANARY0123456789";
    let twine_canary = "pypi-CANARY-twine-password-4242";
    fixture.write(
        "Cargo.toml",
        &fixture.read("Cargo.toml").replace(
            "https://upload.pypi.org/legacy/",
            &format!("https://__token__:{twine_canary}@127.0.0.1:9/legacy/"),
        ),
    );
    let run = Xtask::new(&fixture.root)
        .args(&["doctor"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .env("GH_TOKEN", gh_canary)
        .env("TWINE_USERNAME", "__token__")
        .env("TWINE_PASSWORD", twine_canary)
        .run();
    let all = run.all();
    assert!(!all.contains(gh_canary), "GH_TOKEN leaked:\n{all}");
    assert!(!all.contains(twine_canary), "TWINE_PASSWORD leaked:\n{all}");
    assert!(
        all.contains("error validating token ***: HTTP 401"),
        "{all}"
    );
    assert!(
        all.contains("https://__token__:***@127.0.0.1:9/legacy/"),
        "{all}"
    );
    for name in ["TWINE_USERNAME", "TWINE_PASSWORD", "GH_TOKEN"] {
        // The credential rows: `<state> <NAME> <what needs it>`.
        let credentials = run
            .stdout
            .split("Credentials for")
            .nth(1)
            .expect("a credentials section");
        let row = credentials
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|words| words.get(1) == Some(&name) || words.get(2) == Some(&name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{}", run.stdout));
        assert_eq!(row[0], "set", "{name}: {row:?}");
    }

    let calls = fakes.calls(Some("gh"));
    assert_eq!(calls.len(), 2, "{calls:#?}");
    for call in &calls {
        assert!(
            !call["argv"].to_string().contains(gh_canary),
            "token in argv: {call}"
        );
        assert!(
            call["env"].get("TWINE_PASSWORD").is_none(),
            "gh was given TWINE_PASSWORD: {}",
            call["argv"]
        );
        let wants_token = call["argv"] == json!(["auth", "status"]);
        assert_eq!(
            call["env"].get("GH_TOKEN").is_some(),
            wants_token,
            "GH_TOKEN scope wrong for {}",
            call["argv"]
        );
    }
}

#[test]
fn a_bad_config_key_is_named_with_file_and_line() {
    let fixture = Fixture::new();
    let manifest = fixture
        .read("Cargo.toml")
        .replace("tag-name =", "tag-nmae =");
    fixture.write("Cargo.toml", &manifest);
    let line = manifest
        .lines()
        .position(|l| l.starts_with("tag-nmae"))
        .unwrap()
        + 1;
    let run = Xtask::new(&fixture.root).args(&["doctor"]).run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains(&format!("{}", fixture.root.join("Cargo.toml").display())),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("unknown field `tag-nmae`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("line {line}")),
        "{}",
        run.stderr
    );
}

#[test]
#[ignore = "service: needs a real dockerd (apt-get install docker.io, root); `cargo xtask test` runs it"]
fn sees_a_running_docker_daemon_and_the_buildx_plugin() {
    let daemon = DockerDaemon::start();
    let fixture = Fixture::new();
    let fakes = Fakes::install();
    let down = Xtask::new(&fixture.root)
        .args(&["doctor", "--json"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .run();
    assert_eq!(tool(&report(&down), "docker daemon")["status"], "failing");

    let run = Xtask::new(&fixture.root)
        .args(&["doctor", "--json"])
        .fakes(&fakes)
        .env("DOCKER_HOST", &daemon.host)
        .run();
    let report = report(&run);
    let daemon_check = tool(&report, "docker daemon");
    assert_eq!(daemon_check["status"], "ok", "{report:#}");
    assert!(
        daemon_check["version"]
            .as_str()
            .unwrap()
            .starts_with("20.10"),
        "{daemon_check}"
    );
    assert_eq!(tool(&report, "buildx")["status"], "ok", "{report:#}");
    assert_eq!(tool(&report, "buildx")["version"], "0.19.3");
}

#[test]
fn a_failing_child_that_prints_a_secret_is_masked_in_the_report() {
    let fixture = Fixture::new();
    let scratch = TempDir::new("leaky");
    let canary = "pypi-CANARY-from-a-broken-interpreter-77";
    // An interpreter that fails and prints the secret, as a broken tool might.
    let leaky = scratch.path().join("python3");
    std::fs::write(
        &leaky,
        format!("#!/bin/sh\necho \"fatal: cannot use {canary}\" >&2\nexit 1\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&leaky, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = Xtask::new(&fixture.root)
        .args(&["doctor"])
        .env("XTASK_PYTHON", &leaky)
        .env("TWINE_PASSWORD", canary)
        .run();
    assert_eq!(run.code, 1);
    assert!(
        !run.all().contains(canary),
        "TWINE_PASSWORD leaked:\n{}",
        run.all()
    );
    assert!(
        run.stdout.contains("fatal: cannot use ***"),
        "{}",
        run.stdout
    );
}
