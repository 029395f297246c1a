//! `cargo xtask release` end to end against a throwaway monorepo: real git and
//! a bare origin, real `python -m build` and twine, pypiserver on 127.0.0.1,
//! the fake gh. Every publish step is made to fail once and resumed; the end
//! state must be the one an uninterrupted release reaches.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{self, drop_table, venv_python, Fakes, Fixture, PypiServer, Xtask};

const GH_TOKEN: &str = "ghp_RELEASE_CANARY_token_987654321";
const TWINE_PASSWORD: &str = "pypi-RELEASE-CANARY-pw-13579";

/// A monorepo ready to release 0.2.0 to `server`, without images or models.
fn releasable(server: &PypiServer) -> Fixture {
    let fixture = Fixture::new();
    let manifest = fixture
        .read("Cargo.toml")
        .replace("https://upload.pypi.org/legacy/", &server.url);
    let manifest = drop_table(&drop_table(&manifest, "docker"), "models");
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&[
        "commit",
        "--quiet",
        "-am",
        "feat: release to the test index",
    ]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    fixture
}

fn release(fixture: &Fixture, fakes: &Fakes, args: &[&str], twine_password: &str) -> support::Run {
    let mut all = vec!["release"];
    all.extend_from_slice(args);
    Xtask::new(&fixture.root)
        .args(&all)
        .fakes(fakes)
        .path_first(&[&fakes.bin])
        .env("XTASK_PYTHON", venv_python())
        .env("GH_TOKEN", GH_TOKEN)
        .env("TWINE_USERNAME", PypiServer::USER)
        .env("TWINE_PASSWORD", twine_password)
        .run()
}

/// GNU `sha256sum -c --strict sha256sum.txt` in `dir`: the reference.
fn gnu_check(dir: impl AsRef<Path>) -> std::process::Output {
    Command::new("sha256sum")
        .args(["-c", "--strict", "sha256sum.txt"])
        .current_dir(dir)
        .output()
        .unwrap()
}

fn sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The end state of a complete release of 0.2.0.
fn assert_released(fixture: &Fixture, fakes: &Fakes, server: &PypiServer) {
    let origin = Command::new("git")
        .arg("--git-dir")
        .arg(&fixture.origin)
        .args(["show-ref"])
        .output()
        .unwrap();
    let origin = String::from_utf8(origin.stdout).unwrap();
    let head = fixture.git(&["rev-parse", "HEAD"]);
    assert!(
        origin.contains(&format!("{head} refs/heads/main")),
        "origin/main is not the release commit:\n{origin}"
    );
    assert!(origin.contains("refs/tags/v0.2.0"), "{origin}");
    assert_eq!(
        fixture.git(&["log", "-1", "--format=%s"]),
        "chore(release): v0.2.0"
    );
    assert_eq!(
        fixture
            .git(&["log", "--format=%s"])
            .lines()
            .filter(|s| *s == "chore(release): v0.2.0")
            .count(),
        1,
        "one release commit"
    );
    assert_eq!(
        fixture
            .read("CHANGELOG.md")
            .matches("## [0.2.0] - ")
            .count(),
        1,
        "one CHANGELOG section for 0.2.0"
    );
    assert!(fixture
        .read("python/pyproject.toml")
        .contains("version = \"0.2.0\""));

    let dist = fixture.root.join("target/dist/v0.2.0");
    // The notes' asset table names every uploaded file; a release without
    // models has no model table.
    let notes = std::fs::read_to_string(dist.join("release-notes.md")).unwrap();
    assert!(
        !notes.contains("Model Performance") && notes.contains("\n## Assets\n"),
        "{notes}"
    );
    for name in [
        "manifest.json",
        "provenance.intoto.json",
        "sha256sum.txt",
        "sbom.cdx.json",
    ] {
        assert!(
            notes.contains(&format!("| `{name}` |")),
            "the notes do not list {name}:\n{notes}"
        );
    }
    let read_json = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dist.join(name)).unwrap()).unwrap()
    };
    let manifest = read_json("manifest.json");
    let provenance = read_json("provenance.intoto.json");
    let sbom = read_json("sbom.cdx.json");
    // What ships names the commit the tag points at: the release commit,
    // not the one the plan started from.
    let tagged = fixture.git(&["rev-parse", "v0.2.0^{commit}"]);
    assert_eq!(manifest["commit"], tagged.as_str(), "manifest.json");
    assert_eq!(
        provenance["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]
            ["gitCommit"],
        tagged.as_str(),
        "provenance"
    );
    assert_eq!(
        sbom["metadata"]["properties"][0],
        serde_json::json!({ "name": "xtask:commit", "value": tagged }),
        "sbom"
    );
    for file in ["tcn_vae-0.2.0-py3-none-any.whl", "tcn_vae-0.2.0.tar.gz"] {
        assert_eq!(
            sha256(&server.packages.join(file)),
            sha256(&dist.join(file)),
            "{file} on the index"
        );
    }
    let gh = fakes.state_of("gh");
    let release = &gh["releases"]["v0.2.0"];
    assert_eq!(release["isDraft"], false, "{release}");
    assert_eq!(release["isLatest"], true);
    let mut names: Vec<&str> = release["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "manifest.json",
            "provenance.intoto.json",
            "sbom.cdx.json",
            "sha256sum.txt",
            "tcn_vae-0.2.0-py3-none-any.whl",
            "tcn_vae-0.2.0.tar.gz"
        ]
    );
    for asset in release["assets"].as_array().unwrap() {
        let name = asset["name"].as_str().unwrap();
        assert_eq!(
            asset["digest"],
            format!("sha256:{}", sha256(&dist.join(name))),
            "{name}"
        );
    }
    let check = gnu_check(&dist);
    assert!(
        check.status.success(),
        "GNU sha256sum -c: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(
        fixture
            .root
            .join("target/xtask-release/v0.2.0/journal.json")
            .exists(),
        "the journal is archived"
    );
    assert!(!fixture
        .root
        .join("target/xtask-release/journal.json")
        .exists());
}

fn assert_no_secret(fixture: &Fixture, fakes: &Fakes, runs: &[&support::Run]) {
    for run in runs {
        let all = run.all();
        assert!(
            !all.contains(GH_TOKEN) && !all.contains(TWINE_PASSWORD),
            "a secret leaked into the output:\n{all}"
        );
    }
    for journal in [
        "target/xtask-release/journal.json",
        "target/xtask-release/v0.2.0/journal.json",
    ] {
        if let Ok(text) = std::fs::read_to_string(fixture.root.join(journal)) {
            assert!(
                !text.contains(GH_TOKEN) && !text.contains(TWINE_PASSWORD),
                "a secret is in {journal}"
            );
        }
    }
    for call in fakes.calls(None) {
        let argv = call["argv"].to_string();
        assert!(
            !argv.contains(GH_TOKEN) && !argv.contains(TWINE_PASSWORD),
            "a secret in argv: {argv}"
        );
    }
}

#[test]
fn a_dry_run_stages_and_verifies_and_leaves_everything_as_it_was() {
    let fixture = Fixture::new();
    let fakes = Fakes::install();
    let tree = fixture.snapshot();
    let refs = fixture.git(&["for-each-ref"]);
    let run = Xtask::new(&fixture.root)
        .args(&["release"])
        .env("XTASK_PYTHON", venv_python())
        .fakes(&fakes)
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fixture.snapshot(), tree, "a dry run changed the work tree");
    assert_eq!(
        fixture.git(&["for-each-ref"]),
        refs,
        "a dry run changed a ref"
    );
    assert_eq!(fixture.git(&["status", "--porcelain"]), "");
    assert!(
        run.stdout.contains("+version = \"0.2.0\""),
        "the edits are shown as diffs: {}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("What `--execute` needs that this machine lacks"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Hailo Dataflow Compiler"),
        "{}",
        run.stdout
    );
    assert!(
        !fixture
            .root
            .join("target/xtask-release/journal.json")
            .exists(),
        "a dry run wrote a journal"
    );
    let dist = fixture.root.join("target/dist/v0.2.0");
    let check = gnu_check(&dist);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(
        dist.join("tcn_vae-0.2.0-py3-none-any.whl").exists(),
        "the wheel carries the new version"
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["version"], "0.2.0");
    // No release commit exists in a dry run: the manifest says so rather
    // than name the commit the plan started from.
    let commit = manifest["commit"].as_str().unwrap();
    assert!(
        commit.starts_with("not made yet (dry run): the release commit will be a child of "),
        "{commit}"
    );
    assert!(
        manifest["assets"].as_array().unwrap().len() >= 5,
        "{manifest}"
    );
    assert!(std::fs::read_to_string(dist.join("release-notes.md"))
        .unwrap()
        .starts_with("# tcn-vae-edge v0.2.0"));

    let json = Xtask::new(&fixture.root)
        .args(&["release", "--json"])
        .env("XTASK_PYTHON", venv_python())
        .run();
    let plan: Value = serde_json::from_str(&json.stdout).unwrap();
    for key in [
        "version",
        "pep440_version",
        "tag",
        "previous_tag",
        "assets",
        "images",
        "steps",
    ] {
        assert!(plan.get(key).is_some(), "plan lacks {key}: {plan}");
    }
    let tags: Vec<&Value> = plan["images"][0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["name"])
        .collect();
    assert_eq!(tags, [&json!("0.2.0"), &json!("0.2"), &json!("latest")]);
    // The plan names every asset by the name it is downloaded under.
    let assets: Vec<&str> = plan["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for name in [
        "tcn_vae-0.2.0-py3-none-any.whl",
        "tcn_vae-0.2.0.tar.gz",
        "sha256sum.txt",
        "tcn_encoder.hef",
        "model_config.json",
    ] {
        assert!(assets.contains(&name), "{name} not planned: {assets:?}");
    }
    assert!(assets.iter().all(|a| !a.contains('/')), "{assets:?}");
}

/// The commands a run printed: `$ ...` lines, without the dry-run suffix.
fn printed_commands(run: &support::Run) -> Vec<String> {
    run.all()
        .lines()
        .filter_map(|l| l.strip_prefix("$ "))
        .map(|l| l.trim_end_matches("    # dry run: not run").to_owned())
        .collect()
}

/// A word as the runner prints it in a command line.
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

#[test]
fn the_dry_run_prints_exactly_the_commands_execute_runs() {
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = releasable(&server);
    let fakes = Fakes::install();
    let dry = release(&fixture, &fakes, &[], TWINE_PASSWORD);
    assert_eq!(dry.code, 0, "{}\n{}", dry.stdout, dry.stderr);
    let planned: Vec<String> = dry
        .all()
        .lines()
        .filter(|l| l.ends_with("    # dry run: not run"))
        .filter_map(|l| l.strip_prefix("$ "))
        .map(|l| l.trim_end_matches("    # dry run: not run").to_owned())
        .collect();
    let changing = |argv1: &Value| {
        ["create", "upload", "edit", "delete"].contains(&argv1.as_str().unwrap_or(""))
    };
    assert!(
        !fakes
            .calls(Some("gh"))
            .iter()
            .any(|c| changing(&c["argv"][1])),
        "a dry run changed the GitHub release"
    );
    for expected in [
        "git commit",
        "git tag",
        "git push",
        "gh release create",
        "gh release upload",
        "twine",
        "gh release edit",
    ] {
        assert!(
            planned.iter().any(|c| c.contains(expected)),
            "the dry run does not show `{expected}`: {planned:#?}"
        );
    }

    let executed = release(
        &fixture,
        &fakes,
        &["--execute", "--skip-tests"],
        TWINE_PASSWORD,
    );
    assert_eq!(executed.code, 0, "{}\n{}", executed.stdout, executed.stderr);
    // Each printed command ran, in the printed order.
    let ran = printed_commands(&executed);
    let mut at = 0;
    for command in &planned {
        match ran[at..].iter().position(|r| r == command) {
            Some(i) => at += i + 1,
            None => panic!("the dry run printed\n  {command}\nbut --execute did not run it (in this order); it ran:\n{ran:#?}"),
        }
    }
    // And what the fake recorded is what was printed, word for word.
    for call in fakes.calls(Some("gh")) {
        let argv: Vec<String> = call["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| shell_quote(a.as_str().unwrap()))
            .collect();
        if changing(&call["argv"][1]) {
            let line = format!("gh {}", argv.join(" "));
            assert!(
                planned.iter().any(|p| p.ends_with(&format!("{line})"))),
                "gh ran `{line}`, which the dry run did not print: {planned:#?}"
            );
        }
    }
}

#[test]
fn execute_releases_everything_once() {
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = releasable(&server);
    let fakes = Fakes::install();
    let run = release(
        &fixture,
        &fakes,
        &["--execute", "--skip-tests"],
        TWINE_PASSWORD,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_released(&fixture, &fakes, &server);
    assert_no_secret(&fixture, &fakes, &[&run]);
    downloaded_assets_verify(&fixture, &fakes);

    // Nothing is left to release, and the same version is refused.
    let again = release(
        &fixture,
        &fakes,
        &["0.2.0", "--execute", "--skip-tests"],
        TWINE_PASSWORD,
    );
    assert_eq!(again.code, 1);
}

/// The release's assets, fetched by name into an empty directory as a user
/// would (`gh release download`), verify with GNU `sha256sum -c` and with
/// `verify-release DIR` and `verify-release TAG`; a tampered asset fails
/// both, naming the file.
fn downloaded_assets_verify(fixture: &Fixture, fakes: &Fakes) {
    let downloads = support::TempDir::new("downloaded");
    let gh = Command::new(fakes.bin.join("gh"))
        .args(["release", "download", "v0.2.0", "--dir"])
        .arg(downloads.path())
        .envs(fakes.env())
        .env("GH_TOKEN", GH_TOKEN)
        .output()
        .unwrap();
    assert!(
        gh.status.success(),
        "{}",
        String::from_utf8_lossy(&gh.stderr)
    );
    let sha256sum = || gnu_check(downloads.path());
    let verify = |target: &str| {
        Xtask::new(&fixture.root)
            .args(&["verify-release", target])
            .fakes(fakes)
            .path_first(&[&fakes.bin])
            .env("GH_TOKEN", GH_TOKEN)
            .run()
    };
    let gnu = sha256sum();
    assert!(
        gnu.status.success(),
        "GNU sha256sum -c on the downloaded assets: {}",
        String::from_utf8_lossy(&gnu.stdout)
    );
    let dir = downloads.path().display().to_string();
    let ours = verify(&dir);
    assert_eq!(ours.code, 0, "{}\n{}", ours.stdout, ours.stderr);
    let by_tag = verify("v0.2.0");
    assert_eq!(by_tag.code, 0, "{}\n{}", by_tag.stdout, by_tag.stderr);
    assert!(
        by_tag.stdout.contains("downloaded the assets of v0.2.0"),
        "{}",
        by_tag.stdout
    );

    let wheel = downloads.path().join("tcn_vae-0.2.0-py3-none-any.whl");
    let mut bytes = std::fs::read(&wheel).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&wheel, bytes).unwrap();
    let gnu = sha256sum();
    assert!(!gnu.status.success());
    assert!(String::from_utf8_lossy(&gnu.stdout).contains("tcn_vae-0.2.0-py3-none-any.whl: FAILED"));
    let ours = verify(&dir);
    assert_eq!(ours.code, 1, "{}", ours.stdout);
    assert!(
        ours.stderr
            .contains("tcn_vae-0.2.0-py3-none-any.whl: FAILED"),
        "{}",
        ours.stderr
    );
}

/// Makes one publish step fail once, resumes, and checks the end state.
fn fail_once_then_resume(step: &str, arrange: impl FnOnce(&Fixture, &Fakes), first_password: &str) {
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = releasable(&server);
    let fakes = Fakes::install();
    arrange(&fixture, &fakes);
    let failed = release(
        &fixture,
        &fakes,
        &["--execute", "--skip-tests"],
        first_password,
    );
    assert_eq!(
        failed.code, 1,
        "{step}: the release should have failed:\n{}",
        failed.stdout
    );
    assert!(
        failed.stderr.contains(&format!("stopped at `{step}`")),
        "{step}: {}",
        failed.stderr
    );
    assert!(
        failed
            .stderr
            .contains("cargo xtask release --resume --execute"),
        "{}",
        failed.stderr
    );

    let refused = release(
        &fixture,
        &fakes,
        &["--execute", "--skip-tests"],
        TWINE_PASSWORD,
    );
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("is in progress"),
        "{}",
        refused.stderr
    );

    // A rollback of a mistyped version touches nothing of this release.
    let journal = fixture.root.join("target/xtask-release/journal.json");
    let before = std::fs::read(&journal).unwrap();
    let typo = Xtask::new(&fixture.root)
        .args(&["rollback", "v0.2.9", "--execute"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .env("GH_TOKEN", GH_TOKEN)
        .run();
    assert_eq!(typo.code, 1, "{step}: {}\n{}", typo.stdout, typo.stderr);
    assert!(
        typo.stderr.contains(
            "nothing to roll back: v0.2.9 is not a tag here or on origin, nor a GitHub release, \
             and the release in progress is v0.2.0"
        ),
        "{step}: {}",
        typo.stderr
    );
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "{step}: the journal changed"
    );

    let resumed = release(&fixture, &fakes, &["--resume", "--execute"], TWINE_PASSWORD);
    assert_eq!(
        resumed.code, 0,
        "{step}: resume failed:\n{}\n{}",
        resumed.stdout, resumed.stderr
    );
    assert!(
        resumed.stdout.contains("done earlier"),
        "{}",
        resumed.stdout
    );
    assert_released(&fixture, &fakes, &server);
    assert_no_secret(&fixture, &fakes, &[&failed, &refused, &resumed]);
}

#[test]
fn a_rejected_push_resumes() {
    fail_once_then_resume(
        "push",
        |fixture, _| {
            let hook = fixture.origin.join("hooks/pre-receive");
            let marker = fixture.origin.join("rejected-once");
            std::fs::write(&hook, format!("#!/bin/sh\n[ -e '{0}' ] && exit 0\ntouch '{0}'\necho 'remote rejected: try again' >&2\nexit 1\n", marker.display())).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        },
        TWINE_PASSWORD,
    );
}

#[test]
fn a_failed_asset_upload_resumes() {
    fail_once_then_resume(
        "github-draft",
        |_, fakes| {
            fakes.fail(json!({"tool": "gh", "args": ["release", "upload"], "exit": 1, "stderr": "HTTP 502: Bad Gateway"}))
        },
        TWINE_PASSWORD,
    );
}

#[test]
fn a_refused_pypi_upload_resumes() {
    fail_once_then_resume("pypi", |_, _| {}, "not-the-password");
}

#[test]
fn a_failed_github_publish_resumes() {
    fail_once_then_resume(
        "github-publish",
        |_, fakes| {
            fakes.fail(json!({"tool": "gh", "args": ["release", "edit"], "exit": 1, "stderr": "HTTP 500: Internal Server Error"}))
        },
        TWINE_PASSWORD,
    );
}

/// Stalls the release at one point (`stall`), SIGKILLs it there once
/// `reached` says so, then resumes: the end state is a complete release.
fn killed_then_resumed(
    stall: impl FnOnce(&Fixture, &Fakes),
    reached: impl Fn(&Fixture, &Fakes) -> bool,
) {
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = releasable(&server);
    let fakes = Fakes::install();
    stall(&fixture, &fakes);
    let mut child = {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.args(["release", "--execute", "--skip-tests"])
            .current_dir(&fixture.root)
            .envs(fakes.env())
            .env(
                "PATH",
                format!("{}:{}", fakes.bin.display(), std::env::var("PATH").unwrap()),
            )
            .env("XTASK_PYTHON", venv_python())
            .env("GH_TOKEN", GH_TOKEN)
            .env("TWINE_USERNAME", PypiServer::USER)
            .env("TWINE_PASSWORD", TWINE_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        cmd.spawn().unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !reached(&fixture, &fakes) {
        assert!(
            Instant::now() < deadline,
            "the release never reached the upload"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // SIGKILL the whole process group mid-upload (`--`: a negative pid is a group, not an option).
    let killed = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the killed release did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        fixture.root.join("target/xtask-release/lock").exists(),
        "a killed release leaves its lock"
    );

    let plain = release(
        &fixture,
        &fakes,
        &["--execute", "--skip-tests"],
        TWINE_PASSWORD,
    );
    assert_eq!(plain.code, 1);
    assert!(plain.stderr.contains("stale lock"), "{}", plain.stderr);
    let resumed = release(&fixture, &fakes, &["--resume", "--execute"], TWINE_PASSWORD);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(resumed.stderr.contains("taking over"), "{}", resumed.stderr);
    assert_released(&fixture, &fakes, &server);
}

#[test]
fn a_release_killed_mid_upload_resumes() {
    killed_then_resumed(
        |_, fakes| fakes.fail(json!({"tool": "gh", "args": ["release", "upload"], "hang": true})),
        |_, fakes| {
            fakes
                .calls(Some("gh"))
                .iter()
                .any(|c| c["argv"][1] == "upload")
        },
    );
}

#[test]
fn a_release_killed_mid_push_resumes() {
    killed_then_resumed(
        |fixture, _| {
            // The first push stalls in origin's hook, where it is killed.
            let hook = fixture.origin.join("hooks/pre-receive");
            let marker = fixture.origin.join("stalled-once");
            std::fs::write(
                &hook,
                format!(
                    "#!/bin/sh\n[ -e '{0}' ] && exit 0\ntouch '{0}'\nsleep 120\n",
                    marker.display()
                ),
            )
            .unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        },
        |fixture, _| fixture.origin.join("stalled-once").exists(),
    );
}

/// `pid start-time host`, as a lock names its owner.
fn lock_line(pid: u32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_owned();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    format!("{pid} {start} {}\n", host.trim())
}

#[test]
fn a_running_release_holds_the_lock() {
    let fixture = Fixture::new();
    // This test process stands for the running release.
    fixture.write("target/xtask-release/lock", &lock_line(std::process::id()));
    let run = Xtask::new(&fixture.root).args(&["release"]).run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("another release is running"),
        "{}",
        run.stderr
    );
}

#[test]
fn rollback_refuses_beside_a_running_release() {
    let fixture = Fixture::new();
    fixture.write("target/xtask-release/lock", &lock_line(std::process::id()));
    let run = Xtask::new(&fixture.root)
        .args(&["rollback", "v0.1.0", "--execute"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("another release is running"),
        "{}",
        run.stderr
    );
    assert!(fixture.root.join("target/xtask-release/lock").exists());
}

#[test]
fn a_lock_naming_a_reused_pid_or_garbage_is_stale() {
    // pid 1 runs, but started long before it could have taken this lock.
    let reused = lock_line(1).replacen(' ', " 9", 1);
    // With no release in progress (killed before any change) the stale lock
    // guards nothing and is taken over; with one in progress, `--resume` is
    // the way (a_release_killed_mid_push_resumes shows that).
    for content in [reused.as_str(), "../../..", "12345"] {
        let fixture = Fixture::new();
        fixture.write("target/xtask-release/lock", content);
        let run = Xtask::new(&fixture.root)
            .args(&["release"])
            .env("XTASK_PYTHON", venv_python())
            .run();
        assert_eq!(run.code, 0, "{content:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("which is no longer running; no release was in progress"),
            "{content:?}: {}",
            run.stderr
        );
        assert!(
            !fixture.root.join("target/xtask-release/lock").exists(),
            "the lock outlived the run"
        );
    }
}

#[test]
fn rollback_removes_what_it_can_and_says_what_it_cannot() {
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = releasable(&server);
    let fakes = Fakes::install();
    fakes.fail(json!({"tool": "gh", "args": ["release", "edit"], "times": 5, "exit": 1, "stderr": "HTTP 500"}));
    assert_eq!(
        release(
            &fixture,
            &fakes,
            &["--execute", "--skip-tests"],
            TWINE_PASSWORD
        )
        .code,
        1
    );
    assert_eq!(fakes.state_of("gh")["releases"]["v0.2.0"]["isDraft"], true);

    let dry = Xtask::new(&fixture.root)
        .args(&["rollback", "v0.2.0"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .env("GH_TOKEN", GH_TOKEN)
        .run();
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        fakes.state_of("gh")["releases"].get("v0.2.0").is_some(),
        "a dry rollback deleted the release"
    );

    let run = Xtask::new(&fixture.root)
        .args(&["rollback", "v0.2.0", "--execute"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .env("GH_TOKEN", GH_TOKEN)
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        fakes.state_of("gh")["releases"].get("v0.2.0").is_none(),
        "the GitHub release is gone"
    );
    let origin = Command::new("git")
        .arg("--git-dir")
        .arg(&fixture.origin)
        .args(["tag"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&origin.stdout).trim().is_empty(),
        "the tag is gone from origin"
    );
    assert!(fixture.git(&["tag"]).is_empty(), "the tag is gone here");
    assert!(
        run.stdout.contains("git revert"),
        "the pushed release commit is reverted by hand: {}",
        run.stdout
    );
    assert!(run.stdout.contains("yank it by hand"), "{}", run.stdout);
    assert!(!fixture
        .root
        .join("target/xtask-release/journal.json")
        .exists());
}

#[test]
#[ignore = "service: needs a real dockerd and docker-registry (apt-get install docker.io docker-registry, root); `cargo xtask test` runs it"]
fn a_failed_image_push_resumes_to_the_same_end_state() {
    let daemon = support::DockerDaemon::start();
    let registry_password = "registry-CANARY-pw-2468";
    let registry = support::DockerRegistry::start(registry_password);
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = Fixture::new();
    let name = format!("{}/edge/edgeinfer", registry.host);
    let manifest = drop_table(
        &fixture
            .read("Cargo.toml")
            .replace("https://upload.pypi.org/legacy/", &server.url),
        "models",
    );
    fixture.ship_scratch_image(&manifest, &name, "\"linux/amd64\"");
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: ship the image too"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    let fakes = Fakes::install();
    let docker_config = support::TempDir::new("docker-config");
    let run = |args: &[&str], password: &str| {
        let mut all = vec!["release"];
        all.extend_from_slice(args);
        Xtask::new(&fixture.root)
            .args(&all)
            .path_first(&[&fakes.bin])
            .env("FAKE_STATE_DIR", &fakes.state)
            .env("DOCKER_CONFIG", docker_config.path())
            .env("DOCKER_HOST", &daemon.host)
            .env("DOCKER_USERNAME", support::DockerRegistry::USER)
            .env("DOCKER_PASSWORD", password)
            .env("XTASK_PYTHON", venv_python())
            .env("GH_TOKEN", GH_TOKEN)
            .env("TWINE_USERNAME", PypiServer::USER)
            .env("TWINE_PASSWORD", TWINE_PASSWORD)
            .run()
    };
    let failed = run(&["--execute", "--skip-tests"], "wrong-registry-password");
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    assert!(
        failed.stderr.contains("stopped at `docker`"),
        "{}",
        failed.stderr
    );
    let resumed = run(&["--resume", "--execute"], registry_password);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert_released(&fixture, &fakes, &server);
    let tags = registry.tags("edge/edgeinfer", registry_password);
    assert_eq!(tags, ["0.2", "0.2.0", "latest"]);
    let digest = |tag: &str| registry.digest("edge/edgeinfer", tag, registry_password);
    assert_eq!(digest("0.2.0"), digest("latest"));
    for out in [&failed, &resumed] {
        assert!(
            !out.all().contains(registry_password)
                && !out.all().contains(GH_TOKEN)
                && !out.all().contains(TWINE_PASSWORD)
        );
    }
}

#[test]
fn a_temporary_file_left_by_a_killed_write_does_not_block_the_next_release() {
    let fixture = Fixture::new();
    // What a kill during an atomic write of Cargo.toml leaves behind.
    fixture.write(".Cargo.toml.xtask-99999.tmp", "half a file");
    let run = Xtask::new(&fixture.root)
        .args(&["release"])
        .env("XTASK_PYTHON", venv_python())
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // Any other untracked file still does.
    fixture.write("notes.txt", "mine");
    let run = Xtask::new(&fixture.root)
        .args(&["release"])
        .env("XTASK_PYTHON", venv_python())
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("uncommitted changes (notes.txt)"),
        "{}",
        run.stderr
    );
}

/// Output with what changes from run to run replaced: the fixture's path,
/// the interpreter's, commit ids and digests, dates.
fn normalized(text: &str, fixture: &Fixture) -> String {
    let text = text
        .replace(&fixture.root.display().to_string(), "[ROOT]")
        .replace(&venv_python().display().to_string(), "[PYTHON]");
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let hex = word.len() >= 7
            && word
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        // A short or full commit id may happen to have no digit (`bccdfcc`).
        let digit = word.bytes().any(|b| b.is_ascii_digit()) || matches!(word.len(), 7 | 40);
        let date = word.len() == 10
            && word.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        out.push_str(match () {
            _ if hex && digit && word.len() == 64 => "[SHA256]",
            _ if hex && digit => "[SHA]",
            _ if date => "[DATE]",
            _ => word.as_str(),
        });
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    // Hunk positions move with every edit of the repository's own files.
    out.lines()
        .map(|l| {
            if l.starts_with("@@ -") {
                "@@ [HUNK] @@"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The plan `--json` prints and the dry run's report are reviewed like
/// code: a change to either shows up as a snapshot diff
/// (`tests/it/snapshots/`; `INSTA_UPDATE=always` or `cargo insta review`
/// accepts it).
#[test]
fn the_plan_and_the_dry_run_are_snapshots() {
    let fixture = Fixture::new();
    let manifest = fixture.read("Cargo.toml").replace(
        "https://upload.pypi.org/legacy/",
        "http://127.0.0.1:1/legacy/",
    );
    fixture.write(
        "Cargo.toml",
        &drop_table(&drop_table(&manifest, "docker"), "models"),
    );
    fixture.git(&["commit", "--quiet", "-am", "feat: a plan to review"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    let fakes = Fakes::install();
    let json = release(&fixture, &fakes, &["--json"], TWINE_PASSWORD);
    assert_eq!(json.code, 0, "{}", json.stderr);
    insta::assert_snapshot!("release_json", normalized(&json.stdout, &fixture));
    let dry = release(&fixture, &fakes, &[], TWINE_PASSWORD);
    assert_eq!(dry.code, 0, "{}\n{}", dry.stdout, dry.stderr);
    insta::assert_snapshot!("release_dry_run", normalized(&dry.stdout, &fixture));
}

/// Installs a git hook in the fixture that SIGKILLs the xtask (git's
/// parent) the first time it runs, then exits with `exit`.
fn kill_in_hook(fixture: &Fixture, hook: &str, condition: &str, exit: i32) {
    let path = fixture.root.join(".git/hooks").join(hook);
    let marker = fixture.root.join(".git").join(format!("{hook}-fired"));
    let script = format!(
        "#!/bin/sh\n[ -e '{marker}' ] && exit 0\n{condition}\ntouch '{marker}'\n\
         xtask=$(awk '{{print $4}}' /proc/$PPID/stat)\nkill -9 \"$xtask\"\nexit {exit}\n",
        marker = marker.display()
    );
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A kill at each instant of `prepare` (files written but not committed,
/// committed but not tagged, tagged but not journaled) resumes to the
/// release of the version first planned, never the next one.
#[test]
fn a_kill_at_any_instant_of_prepare_resumes_the_same_version() {
    let instants = [
        ("pre-commit", "", 1, "the edits are written, not committed"),
        (
            "post-commit",
            "",
            0,
            "the release commit is made, not tagged",
        ),
        (
            "reference-transaction",
            "[ \"$1\" = committed ] || exit 0\ngrep -q refs/tags/v0.2.0 || exit 0",
            0,
            "the tag is made, not journaled",
        ),
    ];
    for (hook, condition, exit, instant) in instants {
        let server = PypiServer::start(TWINE_PASSWORD);
        let fixture = releasable(&server);
        let fakes = Fakes::install();
        kill_in_hook(&fixture, hook, condition, exit);
        let killed = release(
            &fixture,
            &fakes,
            &["--execute", "--skip-tests"],
            TWINE_PASSWORD,
        );
        assert_ne!(
            killed.code, 0,
            "{instant}: the release was not killed\n{}",
            killed.stdout
        );
        assert!(
            fixture
                .root
                .join(".git")
                .join(format!("{hook}-fired"))
                .exists(),
            "{instant}: the hook never ran"
        );
        let plain = release(
            &fixture,
            &fakes,
            &["--execute", "--skip-tests"],
            TWINE_PASSWORD,
        );
        assert_eq!(plain.code, 1, "{instant}: {}", plain.stdout);
        let resumed = release(&fixture, &fakes, &["--resume", "--execute"], TWINE_PASSWORD);
        assert_eq!(
            resumed.code, 0,
            "{instant}: {}\n{}",
            resumed.stdout, resumed.stderr
        );
        assert_released(&fixture, &fakes, &server);
    }
}

fn origin_ref(fixture: &Fixture, reference: &str) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(&fixture.origin)
        .args(["rev-parse", "--verify", "--quiet", reference])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Push rejected once; the user then checks out a work branch and commits
/// to it. The resumed push sends the release commit the tag points at,
/// never the work in progress.
#[test]
fn resume_pushes_the_release_commit_not_what_is_checked_out() {
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = releasable(&server);
    let fakes = Fakes::install();
    let hook = fixture.origin.join("hooks/pre-receive");
    let marker = fixture.origin.join("rejected-once");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\n[ -e '{0}' ] && exit 0\ntouch '{0}'\nexit 1\n",
            marker.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let failed = release(
        &fixture,
        &fakes,
        &["--execute", "--skip-tests"],
        TWINE_PASSWORD,
    );
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    assert!(
        failed.stderr.contains("stopped at `push`"),
        "{}",
        failed.stderr
    );

    fixture.git(&["checkout", "--quiet", "-b", "wip"]);
    fixture.write("wip.txt", "half done");
    fixture.git(&["add", "wip.txt"]);
    fixture.git(&["commit", "--quiet", "-m", "wip"]);
    let wip = fixture.git(&["rev-parse", "HEAD"]);
    let resumed = release(&fixture, &fakes, &["--resume", "--execute"], TWINE_PASSWORD);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    let tagged = fixture.git(&["rev-parse", "v0.2.0^{commit}"]);
    assert_eq!(
        origin_ref(&fixture, "refs/heads/main"),
        tagged,
        "origin's main is not the release commit"
    );
    assert_ne!(tagged, wip);
    assert_eq!(origin_ref(&fixture, "refs/tags/v0.2.0^{commit}"), tagged);
}

/// Origin's branch moved after the plan; the user rebases as git suggests.
/// The push is refused as a whole: no tag on origin, on no branch or
/// anywhere, and the message says how to go on.
#[test]
fn a_moved_origin_refuses_the_push_with_nothing_pushed() {
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = releasable(&server);
    let fakes = Fakes::install();
    // Someone else pushes to main between preflight and push.
    let hook = fixture.root.join(".git/hooks/post-commit");
    let other = support::TempDir::new("other-clone");
    let script = format!(
        "#!/bin/sh\n[ -e '{marker}' ] && exit 0\ntouch '{marker}'\n\
         git clone --quiet '{origin}' '{clone}/c' && cd '{clone}/c' && \
         git -c user.name=o -c user.email=o@example.invalid commit --quiet --allow-empty -m 'fix: theirs' && \
         git push --quiet origin main\n",
        marker = fixture.root.join(".git/moved").display(),
        origin = fixture.origin.display(),
        clone = other.path().display()
    );
    std::fs::write(&hook, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let theirs_before = origin_ref(&fixture, "refs/heads/main");
    let failed = release(
        &fixture,
        &fakes,
        &["--execute", "--skip-tests"],
        TWINE_PASSWORD,
    );
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    assert!(
        failed.stderr.contains("stopped at `push`"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("nothing was pushed"),
        "{}",
        failed.stderr
    );
    assert!(
        failed
            .stderr
            .contains("cargo xtask rollback v0.2.0 --execute"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        origin_ref(&fixture, "refs/tags/v0.2.0"),
        "",
        "a tag reached origin"
    );
    let theirs = origin_ref(&fixture, "refs/heads/main");
    assert_ne!(theirs, theirs_before, "the other push did not happen");

    fixture.git(&["pull", "--quiet", "--rebase", "origin", "main"]);
    let resumed = release(&fixture, &fakes, &["--resume", "--execute"], TWINE_PASSWORD);
    assert_eq!(resumed.code, 1, "{}", resumed.stdout);
    assert_eq!(
        origin_ref(&fixture, "refs/tags/v0.2.0"),
        "",
        "a tag reached origin on no branch"
    );
    assert_eq!(
        origin_ref(&fixture, "refs/heads/main"),
        theirs,
        "main moved"
    );
    assert!(
        fakes
            .calls(Some("gh"))
            .iter()
            .all(|c| c["argv"][1] != "create"),
        "a GitHub release was made"
    );
}

/// Everything `--execute` would change, to compare before and after.
fn world(fixture: &Fixture, fakes: &Fakes) -> (String, String, String, Value) {
    let origin = Command::new("git")
        .arg("--git-dir")
        .arg(&fixture.origin)
        .args(["show-ref"])
        .output()
        .unwrap();
    (
        fixture.git(&["for-each-ref"]),
        fixture.git(&["status", "--porcelain"]),
        String::from_utf8(origin.stdout).unwrap(),
        fakes.state_of("gh"),
    )
}

/// A misconfiguration that would only surface half-way through a release
/// is refused by preflight, naming the key and the fix, with nothing
/// changed here, on origin or on GitHub.
#[test]
fn checks_that_can_fail_run_before_any_change() {
    let server = PypiServer::start(TWINE_PASSWORD);
    type Break = fn(&Fixture);
    let cases: [(&str, Break, &str); 4] = [
        (
            "tag-name",
            |f| {
                f.write(
                    "Cargo.toml",
                    &f.read("Cargo.toml")
                        .replace("tag-name = \"v{version}\"", "tag-name = \"v {version}..~\""),
                )
            },
            "tag-name `v {version}..~` makes `v 0.2.0..~`, which git refuses",
        ),
        (
            "changelog.path",
            |f| {
                f.write(
                    "Cargo.toml",
                    &f.read("Cargo.toml")
                        .replace("path = \"CHANGELOG.md\"", "path = \"CHANGELOG.mdx\""),
                )
            },
            "CHANGELOG.mdx does not exist (changelog.path",
        ),
        (
            "pyproject",
            |f| {
                f.write(
                    "python/pyproject.toml",
                    &f.read("python/pyproject.toml")
                        .replace("version = \"0.1.0\"", "version = \"0.1.1\""),
                )
            },
            "python/pyproject.toml: [project] version is 0.1.1, but Cargo.toml's version is 0.1.0",
        ),
        (
            "signing key",
            |f| {
                f.write(
                    "Cargo.toml",
                    &f.read("Cargo.toml").replace(
                        "tag-name = \"v{version}\"",
                        "tag-name = \"v{version}\"\nsign-key = \"NOSUCHKEY0123\"",
                    ),
                )
            },
            "cannot sign with NOSUCHKEY0123",
        ),
    ];
    for (name, break_it, expected) in cases {
        let fixture = releasable(&server);
        break_it(&fixture);
        fixture.git(&["commit", "--quiet", "-am", "chore: break the configuration"]);
        fixture.git(&["push", "--quiet", "origin", "main"]);
        let fakes = Fakes::install();
        let before = world(&fixture, &fakes);
        let gnupg = support::TempDir::new("empty-gnupg");
        let run = Xtask::new(&fixture.root)
            .args(&["release", "--execute", "--skip-tests"])
            .fakes(&fakes)
            .path_first(&[&fakes.bin])
            .env("XTASK_PYTHON", venv_python())
            .env("GNUPGHOME", gnupg.path())
            .env("GH_TOKEN", GH_TOKEN)
            .env("TWINE_USERNAME", PypiServer::USER)
            .env("TWINE_PASSWORD", TWINE_PASSWORD)
            .run();
        assert_eq!(run.code, 1, "{name}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("preflight found"),
            "{name}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(expected),
            "{name}: no {expected:?} in {}",
            run.stderr
        );
        assert_eq!(world(&fixture, &fakes), before, "{name}: something changed");
        assert!(
            !fixture
                .root
                .join("target/xtask-release/journal.json")
                .exists(),
            "{name}: a journal"
        );
    }
}

/// The index already has other content for this version: found before the
/// push, with nothing pushed or published.
#[test]
fn a_burned_index_version_stops_the_release_before_the_push() {
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = releasable(&server);
    let fakes = Fakes::install();
    std::fs::write(
        server.packages.join("tcn_vae-0.2.0.tar.gz"),
        b"someone else's 0.2.0",
    )
    .unwrap();
    let run = release(
        &fixture,
        &fakes,
        &["--execute", "--skip-tests"],
        TWINE_PASSWORD,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("stopped at `verify`"), "{}", run.stderr);
    assert!(run.stderr.contains("is burned"), "{}", run.stderr);
    assert_eq!(
        origin_ref(&fixture, "refs/tags/v0.2.0"),
        "",
        "the tag was pushed"
    );
    assert!(
        fakes.state_of("gh")["releases"].get("v0.2.0").is_none(),
        "a GitHub release was made"
    );
}

/// The README's dry run on a machine with no network at all (a fresh
/// network namespace: only a loopback that is down). It contacts nothing
/// that changes, and what needs the network (the build backend from the
/// index) becomes a row of what `--execute` needs.
#[test]
#[ignore = "service: needs `unshare -n` (root) to take the network away; `cargo xtask test` runs it"]
fn a_dry_run_needs_no_network() {
    let fixture = Fixture::new();
    let fakes = Fakes::install();
    let tree = fixture.snapshot();
    let out = Command::new("unshare")
        .args(["-n", "--"])
        .arg(env!("CARGO_BIN_EXE_xtask"))
        .arg("release")
        .current_dir(&fixture.root)
        .envs(fakes.env())
        .env(
            "PATH",
            format!("{}:{}", fakes.bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("XTASK_PYTHON", venv_python())
        .env("GH_TOKEN", GH_TOKEN)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !stderr.contains("unshare: unshare failed"),
        "this machine cannot make a network namespace (run as root): {stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // The isolated build cannot fetch its backend: a row of the table, not
    // an error.
    assert!(
        stdout.contains("the package index (for the build backend)"),
        "{stdout}"
    );
    assert!(stdout.contains("Dry run: staged and verified"), "{stdout}");
    assert_eq!(
        fixture.snapshot(),
        tree,
        "the dry run changed the work tree"
    );
    let check = gnu_check(fixture.root.join("target/dist/v0.2.0"));
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// Every step is usable alone: `--only build` stages and nothing else; an
/// unknown step name is refused by the parser, listing the real ones.
#[test]
fn one_step_alone_and_unknown_steps_refused() {
    let fixture = Fixture::new();
    let tree = fixture.snapshot();
    let only = Xtask::new(&fixture.root)
        .args(&["release", "--only", "build"])
        .env("XTASK_PYTHON", venv_python())
        .run();
    assert_eq!(only.code, 0, "{}\n{}", only.stdout, only.stderr);
    let steps: Vec<&str> = only
        .stdout
        .lines()
        .filter(|l| l.starts_with("== "))
        .collect();
    assert_eq!(steps, ["== build"], "{}", only.stdout);
    assert!(fixture
        .root
        .join("target/dist/v0.2.0/sha256sum.txt")
        .is_file());
    assert_eq!(fixture.snapshot(), tree);
    // It claims only what it did.
    assert!(
        only.stdout.contains("Dry run of `build` alone"),
        "{}",
        only.stdout
    );
    assert!(!only.stdout.contains("verified"), "{}", only.stdout);

    for bad in [
        &["release", "--skip", "publish"][..],
        &["release", "--only", "deploy"][..],
    ] {
        let run = Xtask::new(&fixture.root).args(bad).run();
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("possible values: preflight, prepare, build, verify, push, ci, github-draft, pypi, docker, github-publish, post-verify"),
            "{bad:?}: {}",
            run.stderr
        );
    }
    let preflight = Xtask::new(&fixture.root)
        .args(&["release", "--skip", "preflight"])
        .run();
    assert_eq!(preflight.code, 1);
    assert!(
        preflight.stderr.contains("cannot be skipped"),
        "{}",
        preflight.stderr
    );
}

/// After a kill in prepare the user commits other work, or edits a file the
/// release does not: resume refuses, naming what is wrong, with nothing
/// tagged on origin or published.
#[test]
fn resume_refuses_work_the_plan_does_not_know() {
    type Meddle = fn(&Fixture);
    let cases: [(&str, i32, Meddle, &str); 4] = [
        (
            "post-commit",
            0,
            |f| {
                f.write("docs/TESTING.md", &format!("{}\nwip\n", f.read("docs/TESTING.md")));
                f.git(&["commit", "--quiet", "-am", "wip: not for release"]);
            },
            "neither the commit the release of v0.2.0 was planned from",
        ),
        (
            "pre-commit",
            1,
            |f| f.write("docs/TESTING.md", &format!("{}\nwip\n", f.read("docs/TESTING.md"))),
            "the work tree holds changes the release of v0.2.0 did not make: docs/TESTING.md is not a file the release edits",
        ),
        (
            // A file the release does edit, edited again by hand.
            "pre-commit",
            1,
            |f| f.write("README.md", &format!("{}\nmine\n", f.read("README.md"))),
            "README.md is not what the release wrote",
        ),
        (
            // The release commit amended with other work.
            "post-commit",
            0,
            |f| {
                f.write("docs/TESTING.md", &format!("{}\nwip\n", f.read("docs/TESTING.md")));
                f.git(&["commit", "--quiet", "--amend", "--no-edit", "-a"]);
            },
            "the release commit holds changes the release of v0.2.0 did not make: docs/TESTING.md is not a file the release edits",
        ),
    ];
    for (hook, exit, meddle, expected) in cases {
        let server = PypiServer::start(TWINE_PASSWORD);
        let fixture = releasable(&server);
        let fakes = Fakes::install();
        kill_in_hook(&fixture, hook, "", exit);
        let killed = release(
            &fixture,
            &fakes,
            &["--execute", "--skip-tests"],
            TWINE_PASSWORD,
        );
        assert_ne!(killed.code, 0, "{hook}: not killed");
        meddle(&fixture);
        let resumed = release(&fixture, &fakes, &["--resume", "--execute"], TWINE_PASSWORD);
        assert_eq!(
            resumed.code, 1,
            "{hook}: {}\n{}",
            resumed.stdout, resumed.stderr
        );
        assert!(
            resumed.stderr.contains(expected),
            "{hook}: {}",
            resumed.stderr
        );
        assert_eq!(
            origin_ref(&fixture, "refs/tags/v0.2.0"),
            "",
            "{hook}: a tag reached origin"
        );
        assert!(
            fakes.state_of("gh")["releases"].get("v0.2.0").is_none(),
            "{hook}: published"
        );
        assert!(
            !std::fs::read_dir(&server.packages).unwrap().any(|_| true),
            "{hook}: uploaded"
        );
    }
}

/// The index a release was planned for is the one a resume uploads to, even
/// when TWINE_REPOSITORY_URL is gone; gh acts on the configured repository
/// whatever GH_REPO the environment holds.
#[test]
fn resume_uploads_where_the_plan_said_and_gh_targets_the_configured_repository() {
    let planned = PypiServer::start(TWINE_PASSWORD);
    let configured = PypiServer::start(TWINE_PASSWORD);
    let fixture = releasable(&configured);
    let fakes = Fakes::install();
    let first = Xtask::new(&fixture.root)
        .args(&["release", "--execute", "--skip-tests"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .env("XTASK_PYTHON", venv_python())
        .env("GH_TOKEN", GH_TOKEN)
        .env("GH_REPO", "someone-else/fork")
        .env("TWINE_REPOSITORY_URL", &planned.url)
        .env("TWINE_USERNAME", PypiServer::USER)
        .env("TWINE_PASSWORD", "not-the-password")
        .run();
    assert_eq!(first.code, 1, "{}", first.stdout);
    assert!(
        first.stderr.contains("stopped at `pypi`"),
        "{}",
        first.stderr
    );
    let resumed = release(&fixture, &fakes, &["--resume", "--execute"], TWINE_PASSWORD);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    let files = |server: &PypiServer| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&server.packages)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        files(&planned),
        ["tcn_vae-0.2.0-py3-none-any.whl", "tcn_vae-0.2.0.tar.gz"]
    );
    assert!(
        files(&configured).is_empty(),
        "uploaded to the configured index instead"
    );
    for call in fakes.calls(Some("gh")) {
        if call["argv"][0] == "release" {
            assert_eq!(
                call["env"]["GH_REPO"], "edge-ml/tcn-vae-edge",
                "{}",
                call["argv"]
            );
        }
    }
}

/// A misspelled path or a malformed index URL is named by its key, before
/// anything changes.
#[test]
fn misconfigured_paths_and_urls_are_named_by_their_key() {
    let cases = [
        (
            "path = \"python\"",
            "path = \"pyhton\"",
            "pyhton does not exist (python[0].path in [workspace.metadata.release]",
        ),
        (
            "path = \"README.md\"",
            "path = \"READ.md\"",
            "READ.md does not exist (version-files[0].path in",
        ),
        (
            "index-url = \"https://upload.pypi.org/legacy/\"",
            "index-url = \"ftp:/nowhere\"",
            "the upload URL `ftp:/nowhere` of tcn-vae is not an http(s) URL with a host",
        ),
    ];
    for (from, to, expected) in cases {
        let fixture = Fixture::new();
        fixture.write(
            "Cargo.toml",
            &fixture.read("Cargo.toml").replacen(from, to, 1),
        );
        fixture.git(&["commit", "--quiet", "-am", "chore: a typo"]);
        fixture.git(&["push", "--quiet", "origin", "main"]);
        let refs = fixture.git(&["for-each-ref"]);
        let run = Xtask::new(&fixture.root)
            .args(&["release", "--execute", "--skip-tests"])
            .env("XTASK_PYTHON", venv_python())
            .run();
        assert_eq!(run.code, 1, "{to}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{to}: {}", run.stderr);
        if to.starts_with("path") {
            // The key's line in Cargo.toml, where the typo is.
            let line = fixture
                .read("Cargo.toml")
                .lines()
                .position(|l| l == to)
                .unwrap()
                + 1;
            assert!(
                run.stderr.contains(&format!("of Cargo.toml:{line})")),
                "{to}: {}",
                run.stderr
            );
        }
        assert_eq!(fixture.git(&["for-each-ref"]), refs, "{to}: a ref changed");
        assert_eq!(
            fixture.git(&["status", "--porcelain"]),
            "",
            "{to}: the tree changed"
        );
    }
}

/// A service whose `pyproject.toml` is at the repository root
/// (`python.path = "."`): the dry run stages its wheel without copying
/// `target/` into itself, and `__version__` is found once, never in the
/// copies under `target/`, however often it runs.
#[test]
fn a_python_package_at_the_root_releases() {
    let fixture = Fixture::new();
    fixture.git(&["mv", "python/pyproject.toml", "pyproject.toml"]);
    fixture.git(&["mv", "python/src", "src"]);
    fixture.git(&["mv", "python/tests", "tests"]);
    let manifest = fixture.read("Cargo.toml").replace(
        "[workspace.metadata.release.python]\npath = \"python\"",
        "[workspace.metadata.release.python]\npath = \".\"",
    );
    assert!(
        manifest.contains("path = \".\""),
        "the fixture's config changed shape"
    );
    fixture.write(
        "Cargo.toml",
        &drop_table(&drop_table(&manifest, "docker"), "models"),
    );
    fixture.git(&["add", "-A"]);
    fixture.git(&[
        "commit",
        "--quiet",
        "-m",
        "refactor: the package is the repository",
    ]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    for run in 1..=2 {
        let dry = Xtask::new(&fixture.root)
            .args(&["release"])
            .env("XTASK_PYTHON", venv_python())
            .run();
        assert_eq!(dry.code, 0, "run {run}: {}\n{}", dry.stdout, dry.stderr);
        assert!(
            fixture
                .root
                .join("target/dist/v0.2.0/tcn_vae-0.2.0-py3-none-any.whl")
                .is_file(),
            "run {run}: no wheel"
        );
        let version = Xtask::new(&fixture.root).args(&["version", "--json"]).run();
        let dunders = version.stdout.matches("__version__").count();
        assert_eq!(dunders, 1, "run {run}: {}", version.stdout);
    }
}

/// `[ci]`: a failed run of the project's CI on the pushed release commit
/// stops the release before anything is published, naming the run; after a
/// re-run passes, `--resume` publishes.
#[test]
fn failing_ci_on_the_release_commit_stops_before_anything_is_published() {
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = releasable(&server);
    fixture.write(
        "Cargo.toml",
        &fixture.read("Cargo.toml").replacen(
            "[workspace.metadata.release]\n",
            "[workspace.metadata.release]\nci = { workflows = [\"CI\"], interval-seconds = 1 }\n",
            1,
        ),
    );
    fixture.git(&["commit", "--quiet", "-am", "ci: wait for CI"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    let fakes = Fakes::install();
    fakes.actions(json!({ "workflow": "CI", "conclusion": "failure", "in_progress_polls": 1 }));
    let failed = release(
        &fixture,
        &fakes,
        &["--execute", "--skip-tests"],
        TWINE_PASSWORD,
    );
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    assert!(
        failed.stderr.contains("CI failed on the release commit")
            && failed
                .stderr
                .contains("CI concluded `failure`: https://github.com/")
            && failed.stderr.contains("stopped at `ci`"),
        "{}",
        failed.stderr
    );
    assert!(
        fakes.state_of("gh")["releases"].get("v0.2.0").is_none(),
        "a GitHub release was made"
    );
    assert_eq!(
        std::fs::read_dir(&server.packages).unwrap().count(),
        0,
        "something was uploaded"
    );

    fakes.actions(json!({ "workflow": "CI", "conclusion": "success" }));
    let resumed = release(&fixture, &fakes, &["--resume", "--execute"], TWINE_PASSWORD);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert_released(&fixture, &fakes, &server);
}
