//! `cargo xtask bump` and `cargo xtask version` against throwaway monorepos.

use std::process::Command;

use serde_json::Value;

use crate::support::{venv_python, Fixture, Xtask};

/// A member crate with its own version (listed in `crates`), CRLF line
/// endings, a comment on the version line, single quotes, dotted keys and
/// path dependencies written every way Cargo allows.
fn add_awkward_members(fixture: &Fixture) {
    let sensor = "[package]\r\nname = \"imu-sensor\"\r\nversion = '0.1.0' # kept in step by cargo xtask bump\r\n\
                  edition.workspace = true\r\npublish = false\r\n\r\n[dependencies]\r\n\
                  imu-core = { path = \"../imu-core\", version = \"=0.1.0\" }\r\n\r\n\
                  [target.'cfg(unix)'.dependencies.imu-core]\r\npath = \"../imu-core\"\r\nversion = \"0.1.0\"\r\n";
    fixture.write("crates/imu-sensor/Cargo.toml", sensor);
    fixture.write(
        "crates/imu-sensor/src/lib.rs",
        "pub fn id() -> u8 { 9 }\r\n",
    );
    fixture.write(
        "crates/imu-core/Cargo.toml",
        "[package]\nname = \"imu-core\"\nversion.workspace = true\nedition.workspace = true\npublish = false\n\n\
         [dev-dependencies]\nimu-sensor = {path=\"../imu-sensor\",version=\"^0.1\"}   # dev cycle is fine\n",
    );
    fixture.write(
        "crates/imu-core/src/lib.rs",
        "pub fn window() -> [usize; 2] { [100, 9] }\n",
    );
    let manifest = fixture
        .read("Cargo.toml")
        .replace("members = [\"xtask\"]", "members = [\"xtask\", \"crates/*\"]")
        .replace(
            "[workspace.package]",
            "[workspace.dependencies]\nimu-core = { version = \"0.1.0\", path = \"crates/imu-core\" }\n\n[workspace.package]",
        )
        .replace("tag-name = \"v{version}\"", "tag-name = \"v{version}\"\ncrates = [\"imu-sensor\"]");
    fixture.write("Cargo.toml", &manifest);
    let pyproject = fixture
        .read("python/pyproject.toml")
        .replace("version = \"0.1.0\"", "version = '0.1.0'   # PEP 440");
    fixture.write("python/pyproject.toml", &pyproject);
    let lock = Command::new(env!("CARGO"))
        .args(["update", "--workspace", "--offline", "--quiet"])
        .current_dir(&fixture.root)
        .output()
        .unwrap();
    assert!(
        lock.status.success(),
        "cargo update: {}",
        String::from_utf8_lossy(&lock.stderr)
    );
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: sensor crates"]);
}

#[test]
fn dry_run_prints_the_diff_and_leaves_the_tree_byte_identical() {
    let fixture = Fixture::new();
    let before = fixture.snapshot();
    let run = Xtask::new(&fixture.root).args(&["bump", "minor"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The xtask is the tool, with its own version: its Cargo.lock entry stays.
    assert!(!run.stdout.contains("+++ b/Cargo.lock"), "{}", run.stdout);
    for file in [
        "Cargo.toml",
        "python/pyproject.toml",
        "python/src/tcn_vae/__init__.py",
        "README.md",
    ] {
        assert!(
            run.stdout.contains(&format!("+++ b/{file}\n")),
            "no diff of {file}:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("-version = \"0.1.0\"\n+version = \"0.2.0\"\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Dry run: nothing was written"),
        "{}",
        run.stdout
    );
    assert_eq!(fixture.snapshot(), before, "a dry run changed the tree");
    assert_eq!(fixture.git(&["status", "--porcelain"]), "");
}

#[test]
fn execute_changes_exactly_the_version_tokens_in_awkward_files() {
    let fixture = Fixture::new();
    add_awkward_members(&fixture);
    let before = fixture.snapshot();
    let run = Xtask::new(&fixture.root)
        .args(&["bump", "minor", "--pre", "rc", "--execute"])
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("0.1.0 -> 0.2.0-rc.1 (Python: 0.2.0rc1)"),
        "{}",
        run.stdout
    );
    let after = fixture.snapshot();

    // Put the old tokens back: every file must be byte-identical to before,
    // so nothing but version tokens changed (comments, quotes, CRLF survive).
    let mut changed = Vec::new();
    for (path, new) in &after {
        let old = &before[path];
        if new == old {
            continue;
        }
        changed.push(path.display().to_string());
        let restored = String::from_utf8(new.clone())
            .unwrap()
            .replace("0.2.0-rc.1", "0.1.0")
            .replace("0.2.0rc1", "0.1.0");
        let restored = restored.replace(
            "imu-sensor = {path=\"../imu-sensor\",version=\"^0.1.0\"}",
            "imu-sensor = {path=\"../imu-sensor\",version=\"^0.1\"}",
        );
        assert_eq!(
            restored.as_bytes(),
            old.as_slice(),
            "{} changed more than version tokens",
            path.display()
        );
    }
    changed.sort();
    assert_eq!(
        changed,
        [
            "Cargo.lock",
            "Cargo.toml",
            "README.md",
            "crates/imu-core/Cargo.toml",
            "crates/imu-sensor/Cargo.toml",
            "python/pyproject.toml",
            "python/src/tcn_vae/__init__.py",
        ]
    );
    // git agrees: one line out, one line in, per version token line.
    let numstat = fixture.git(&["diff", "--numstat"]);
    for line in numstat.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols[0], cols[1], "unbalanced edit: {line}");
    }
    let sensor = fixture.read("crates/imu-sensor/Cargo.toml");
    assert!(
        sensor.contains("version = '0.2.0-rc.1' # kept in step by cargo xtask bump\r\n"),
        "{sensor}"
    );
    assert!(
        sensor.contains("imu-core = { path = \"../imu-core\", version = \"=0.2.0-rc.1\" }\r\n"),
        "{sensor}"
    );
    assert!(fixture
        .read("python/pyproject.toml")
        .contains("version = '0.2.0rc1'   # PEP 440"));

    // Cargo.lock is what cargo itself would have written.
    let locked = Command::new(env!("CARGO"))
        .args(["metadata", "--locked", "--offline", "--format-version", "1"])
        .current_dir(&fixture.root)
        .output()
        .unwrap();
    assert!(
        locked.status.success(),
        "Cargo.lock inconsistent: {}",
        String::from_utf8_lossy(&locked.stderr)
    );

    let version = Xtask::new(&fixture.root).args(&["version", "--json"]).run();
    assert_eq!(version.code, 0, "{}", version.stderr);
    let report: Value = serde_json::from_str(&version.stdout).unwrap();
    assert_eq!(report["version"], "0.2.0-rc.1");
    assert_eq!(report["pep440"], "0.2.0rc1");
    let mut fields: Vec<String> = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s["file"].as_str().unwrap(),
                s["field"].as_str().unwrap()
            )
        })
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "Cargo.lock: [[package]] imu-core",
            "Cargo.lock: [[package]] imu-sensor",
            "Cargo.toml: [workspace.dependencies] imu-core.version",
            "Cargo.toml: [workspace.package] version",
            "README.md: \"pip install tcn-vae=={pep440}\" (1 of 1)",
            "crates/imu-core/Cargo.toml: [dev-dependencies] imu-sensor.version",
            "crates/imu-sensor/Cargo.toml: [dependencies] imu-core.version",
            "crates/imu-sensor/Cargo.toml: [package] version of `imu-sensor`",
            "crates/imu-sensor/Cargo.toml: [target.cfg(unix).dependencies] imu-core.version",
            "python/pyproject.toml: [project] version",
            "python/src/tcn_vae/__init__.py: __version__",
        ]
    );
}

#[test]
fn pep440_forms_match_pythons_packaging() {
    let fixture = Fixture::new();
    let cases = [
        "0.2.0",
        "1.0.0",
        "0.2.0-alpha.1",
        "0.2.0-alpha.0",
        "0.2.0-beta.2",
        "0.2.0-rc.1",
        "1.2.0-rc.10",
        "2.0.0-beta.11",
        "10.20.30",
        "10.20.30-alpha.99",
    ];
    for semver in cases {
        let run = Xtask::new(&fixture.root).args(&["bump", semver]).run();
        assert_eq!(run.code, 0, "{semver}: {}", run.stderr);
        let ours = run
            .stdout
            .split("(Python: ")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap()
            .to_owned();
        let normal = Command::new(venv_python())
            .args([
                "-c",
                "import sys; from packaging.version import Version; print(Version(sys.argv[1]))",
                semver,
            ])
            .output()
            .unwrap();
        let normal = String::from_utf8(normal.stdout).unwrap();
        assert_eq!(ours, normal.trim(), "{semver}");
    }
    for refused in [
        "0.2.0-dev.1",
        "0.2.0-rc.1.2",
        "0.2.0-SNAPSHOT",
        "0.2.0+build.5",
        "0.2.0-alpha",
    ] {
        let run = Xtask::new(&fixture.root).args(&["bump", refused]).run();
        assert_eq!(run.code, 1, "{refused} was accepted:\n{}", run.stdout);
        assert!(run.stderr.contains(refused), "{refused}: {}", run.stderr);
    }
}

/// Breaks the fixture with `edit`, runs `args`, and checks the run failed
/// naming `file` and `why`, with every file left as it was.
fn refused(edit: impl FnOnce(&Fixture), args: &[&str], file: &str, why: &str) {
    let fixture = Fixture::new();
    edit(&fixture);
    let before = fixture.snapshot();
    let run = Xtask::new(&fixture.root).args(args).run();
    assert_eq!(run.code, 1, "{args:?} succeeded:\n{}", run.stdout);
    assert!(
        run.stderr.contains(file),
        "{args:?}: no {file} in:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(why),
        "{args:?}: no {why:?} in:\n{}",
        run.stderr
    );
    assert_eq!(
        fixture.snapshot(),
        before,
        "{args:?} changed files after failing"
    );
}

fn replace_in(fixture: &Fixture, file: &str, from: &str, to: &str) {
    let text = fixture.read(file);
    assert!(text.contains(from), "{file} has no {from:?}");
    fixture.write(file, &text.replacen(from, to, 1));
}

#[test]
fn bad_input_changes_nothing_and_names_the_file() {
    let execute = ["bump", "patch", "--execute"];
    refused(
        |f| replace_in(f, "python/pyproject.toml", "[project]", "[project"),
        &execute,
        "python/pyproject.toml",
        "line 5",
    );
    refused(
        |f| replace_in(f, "python/pyproject.toml", "version = \"0.1.0\"", ""),
        &execute,
        "python/pyproject.toml",
        "no [project] `version`",
    );
    refused(
        |f| {
            replace_in(
                f,
                "python/pyproject.toml",
                "version = \"0.1.0\"",
                "dynamic = [\"version\"]",
            )
        },
        &execute,
        "python/pyproject.toml",
        "a bump cannot keep it in step",
    );
    refused(
        |f| replace_in(f, "Cargo.toml", "version = \"0.1.0\"", "version = \"0.1\""),
        &execute,
        "Cargo.toml",
        "is not SemVer",
    );
    refused(
        |f| replace_in(f, "Cargo.toml", "version = \"0.1.0\"", "edition-x = 1"),
        &execute,
        "Cargo.toml",
        "[workspace.package] has no `version`",
    );
    refused(
        |f| {
            replace_in(
                f,
                "README.md",
                "## Layout",
                "Or: pip install tcn-vae==0.1.0\n\n## Layout",
            )
        },
        &execute,
        "README.md",
        "is found 2 times, the config says 1",
    );
    refused(
        |_| {},
        &["bump", "0.0.9", "--execute"],
        "0.1.0",
        "not greater than the current version",
    );
    refused(
        |f| {
            replace_in(
                f,
                "python/src/tcn_vae/__init__.py",
                "__version__ = \"0.1.0\"",
                "__version__ = \"0.1.1\"",
            )
        },
        &execute,
        "python/src/tcn_vae/__init__.py",
        "is 0.1.1, expected 0.1.0",
    );
    // Several problems at once are all reported.
    refused(
        |f| {
            replace_in(f, "python/pyproject.toml", "version = \"0.1.0\"", "");
            replace_in(f, "README.md", "tcn-vae==0.1.0", "tcn-vae");
        },
        &execute,
        "README.md",
        "2 problems",
    );
}

#[test]
fn version_exits_1_naming_a_hand_edited_file() {
    let fixture = Fixture::new();
    replace_in(
        &fixture,
        "python/pyproject.toml",
        "version = \"0.1.0\"",
        "version = \"0.1.1\"",
    );
    let run = Xtask::new(&fixture.root).args(&["version"]).run();
    assert_eq!(run.code, 1);
    let line = run.stdout.lines().find(|l| l.contains("DIFFERS")).unwrap();
    assert!(
        line.contains("python/pyproject.toml") && line.contains("0.1.1"),
        "{line}"
    );
    assert!(
        run.stderr
            .contains("1 place disagrees with 0.1.0: python/pyproject.toml ([project] version)"),
        "{}",
        run.stderr
    );
}

/// What `packaging.version.Version` (the test venv's) makes of each
/// spelling: `(normal form or None, equal to `against`)`.
fn packaging_reads(spellings: &[&str], against: &str) -> Vec<(Option<String>, bool)> {
    let script = "import json, sys\n\
        from packaging.version import Version, InvalidVersion\n\
        target = Version(sys.argv[1])\n\
        out = []\n\
        for s in json.loads(sys.argv[2]):\n\
        \x20   try:\n\
        \x20       v = Version(s)\n\
        \x20       out.append([str(v), v == target])\n\
        \x20   except InvalidVersion:\n\
        \x20       out.append([None, False])\n\
        print(json.dumps(out))\n";
    let out = Command::new(venv_python())
        .args([
            "-c",
            script,
            against,
            &serde_json::to_string(spellings).unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "packaging: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(Option<String>, bool)> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), spellings.len());
    rows
}

#[test]
fn pyproject_spellings_compare_by_value_as_packaging_does() {
    let fixture = Fixture::new();
    let run = Xtask::new(&fixture.root)
        .args(&["bump", "1.0.0-rc.1", "--execute"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let spellings = [
        "1.0.0rc1",
        "1.0.0-rc1",
        "1.0.0RC1",
        "1.0.0.rc1",
        "1.0.0_rc_1",
        "1.0.0-rc.1",
        "1.0.0c1",
        "1.0.0-pre1",
        "1.0.0preview.1",
        "1.0rc1",
        "1rc1",
        "1.0.0.0rc1",
        "v1.0.0rc1",
        "1.0.0rc01",
        "0!1.0.0rc1",
        "1.0.0rc2",
        "1.0.0",
        "1.0.0rc1.post0",
        "1.0.0rc1.dev0",
        "1.0.0rc1+local.7",
        "1!1.0.0rc1",
        "1.0.0a1",
        "1.0.0-rc.1.2",
        "1.0.0-SNAPSHOT",
        "1.0.0 rc1",
        "one",
    ];
    let expected = packaging_reads(&spellings, "1.0.0rc1");
    let pyproject = fixture.read("python/pyproject.toml");
    for (spelling, (normal, equal)) in spellings.iter().zip(&expected) {
        fixture.write(
            "python/pyproject.toml",
            &pyproject.replace(
                "version = \"1.0.0rc1\"",
                &format!("version = \"{spelling}\""),
            ),
        );
        let run = Xtask::new(&fixture.root).args(&["version", "--json"]).run();
        let json: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{spelling}: {e}: {}{}", run.stdout, run.stderr));
        let row = json["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["file"] == "python/pyproject.toml")
            .unwrap();
        assert_eq!(row["found"], *spelling);
        assert_eq!(
            row["normal_form"].as_str(),
            normal.as_deref(),
            "{spelling}: normal form"
        );
        assert_eq!(row["agrees"], *equal, "{spelling}: equal to 1.0.0rc1");
        assert_eq!(run.code, if *equal { 0 } else { 1 }, "{spelling}");
    }
    eprintln!(
        "packaging.version.Version: {}/{} spellings read alike (normal form and equality)",
        spellings.len(),
        spellings.len()
    );

    // A bump accepts an equal spelling, says so, and writes the normal form.
    fixture.write(
        "python/pyproject.toml",
        &pyproject.replace("version = \"1.0.0rc1\"", "version = \"1.0.0-RC1\""),
    );
    let init = fixture.read("python/src/tcn_vae/__init__.py");
    fixture.write(
        "python/src/tcn_vae/__init__.py",
        &init.replace("__version__ = \"1.0.0rc1\"", "__version__ = \"1.0.0.rc1\""),
    );
    let run = Xtask::new(&fixture.root)
        .args(&["bump", "rc", "--execute"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "python/pyproject.toml: [project] version `1.0.0-RC1` is PEP 440's 1.0.0rc1 spelled another way"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("`1.0.0.rc1` is PEP 440's 1.0.0rc1"),
        "{}",
        run.stdout
    );
    assert!(fixture
        .read("python/pyproject.toml")
        .contains("version = \"1.0.0rc2\""));
    assert!(fixture
        .read("python/src/tcn_vae/__init__.py")
        .contains("__version__ = \"1.0.0rc2\""));
    let run = Xtask::new(&fixture.root).args(&["version"]).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}
