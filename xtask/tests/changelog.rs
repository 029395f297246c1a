//! `cargo xtask changelog` and `bump auto` against throwaway histories.

mod support;

use serde_json::Value;
use support::{Fixture, Xtask};

/// Commits `message` with a change to `path`.
fn commit(fixture: &Fixture, path: &str, message: &str) -> String {
    let previous = std::fs::read_to_string(fixture.root.join(path)).unwrap_or_default();
    fixture.write(path, &format!("{previous}{message}\n"));
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", message]);
    fixture.git(&["rev-parse", "HEAD"])
}

fn tag(fixture: &Fixture, name: &str) {
    fixture.git(&["tag", "-a", name, "-m", name]);
}

const RELEASED_CHANGELOG: &str = "# Changelog\n\nAll notable changes.\n\n## [Unreleased]\n\n## [0.1.0] - 2026-11-01\n\n### Added\n\n- First release.\n\n[Unreleased]: https://github.com/edge-ml/tcn-vae-edge/compare/v0.1.0...HEAD\n[0.1.0]: https://github.com/edge-ml/tcn-vae-edge/releases/tag/v0.1.0\n";

/// A monorepo just after its 0.1.0 release: nothing pending, tag v0.1.0.
fn released() -> Fixture {
    let fixture = Fixture::new();
    commit(&fixture, "CHANGELOG.md", "chore(release): v0.1.0");
    fixture.write("CHANGELOG.md", RELEASED_CHANGELOG);
    fixture.git(&[
        "commit",
        "--quiet",
        "-am",
        "chore(release): v0.1.0 changelog",
    ]);
    tag(&fixture, "v0.1.0");
    fixture
}

/// v0.1.0 on the initial commit, then every commit form there is.
fn history() -> (Fixture, Vec<String>) {
    let fixture = released();
    let mut hashes = Vec::new();
    hashes.push(commit(
        &fixture,
        "python/src/tcn_vae/hef.py",
        "feat(models): add HEF compile",
    ));
    let fix = commit(&fixture, "xtask/src/fix.txt", "fix: escape CR in names");
    hashes.push(fix.clone());
    hashes.push(commit(
        &fixture,
        "xtask/src/perf.txt",
        "perf(checksums): hash on every core",
    ));
    commit(&fixture, "docs/x.md", "docs: explain the flow");
    hashes.push(commit(&fixture, "README.md", "Update the README by hand"));
    commit(
        &fixture,
        ".github/workflows/ci.yml",
        "feat: only CI changed",
    );
    // A topic branch merged with a merge commit.
    fixture.git(&["checkout", "--quiet", "-b", "topic"]);
    hashes.push(commit(
        &fixture,
        "xtask/src/topic.txt",
        "fix(api): topic fix",
    ));
    fixture.git(&["checkout", "--quiet", "main"]);
    fixture.git(&[
        "merge",
        "--quiet",
        "--no-ff",
        "topic",
        "-m",
        "Merge branch 'topic'",
    ]);
    fixture.git(&["revert", "--no-edit", &fix]);
    hashes.push(fixture.git(&["rev-parse", "HEAD"]));
    fixture.write("models/new.txt", "x");
    fixture.git(&["add", "-A"]);
    fixture.git(&[
        "commit",
        "--quiet",
        "-m",
        "refactor: new config layout",
        "-m",
        "BREAKING CHANGE: the v1 keys are gone",
    ]);
    (fixture, hashes)
}

fn json(fixture: &Fixture) -> Value {
    let run = Xtask::new(&fixture.root)
        .args(&["changelog", "--json"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

fn entries(report: &Value, section: &str) -> Vec<String> {
    report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == section)
        .map(|s| {
            s["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["text"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_commit_form_lands_in_its_section() {
    let (fixture, hashes) = history();
    let report = json(&fixture);
    assert_eq!(report["previous_tag"], "v0.1.0");
    assert_eq!(report["auto_level"], "minor", "breaking while 0.x is minor");
    assert_eq!(report["version"], "0.2.0");
    let link = |i: usize| {
        format!(
            "([{}](https://github.com/edge-ml/tcn-vae-edge/commit/{}))",
            &hashes[i][..7],
            hashes[i]
        )
    };
    assert_eq!(
        entries(&report, "Added"),
        [format!("**models:** add HEF compile {}", link(0))]
    );
    let changed = entries(&report, "Changed");
    assert!(
        changed[0]
            .starts_with("**BREAKING** new config layout (BREAKING CHANGE: the v1 keys are gone)"),
        "{changed:?}"
    );
    assert_eq!(
        changed[1],
        format!("**checksums:** hash on every core {}", link(2))
    );
    assert_eq!(
        entries(&report, "Removed"),
        [format!("fix: escape CR in names {}", link(5))]
    );
    assert_eq!(
        entries(&report, "Fixed"),
        [
            format!("escape CR in names {}", link(1)),
            format!("**api:** topic fix {}", link(4))
        ]
    );
    let other = entries(&report, "Other");
    assert!(
        other
            .iter()
            .any(|e| e.starts_with("Update the README by hand")),
        "{other:?}"
    );
    let all = report["sections"].to_string();
    for left_out in ["explain the flow", "only CI changed", "Merge branch"] {
        assert!(
            !all.contains(left_out),
            "{left_out} should not be listed: {all}"
        );
    }
    let names: Vec<&str> = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        &names[..5],
        ["Added", "Changed", "Removed", "Fixed", "Other"]
    );

    let bump = Xtask::new(&fixture.root).args(&["bump", "auto"]).run();
    assert_eq!(bump.code, 0, "{}", bump.stderr);
    assert!(bump.stdout.contains("0.1.0 -> 0.2.0"), "{}", bump.stdout);
}

#[test]
fn auto_levels_follow_the_commits() {
    for (subjects, expected) in [
        (&["fix: a", "docs: b"][..], "0.1.1"),
        (&["fix: a", "feat(x): b"][..], "0.2.0"),
        (&["chore: a", "feat!: b"][..], "0.2.0"),
    ] {
        let fixture = released();
        for (i, subject) in subjects.iter().enumerate() {
            commit(&fixture, &format!("xtask/src/f{i}.txt"), subject);
        }
        let run = Xtask::new(&fixture.root).args(&["bump", "auto"]).run();
        assert!(
            run.stdout.contains(&format!("0.1.0 -> {expected} ")),
            "{subjects:?}: {}",
            run.stdout
        );
    }
    // Past 1.0, breaking means major.
    let fixture = Fixture::new();
    let manifest =
        fixture
            .read("Cargo.toml")
            .replacen("version = \"0.1.0\"", "version = \"1.4.2\"", 1);
    fixture.write("Cargo.toml", &manifest);
    commit(&fixture, "xtask/src/a.txt", "chore: 1.4.2");
    tag(&fixture, "v1.4.2");
    commit(&fixture, "xtask/src/b.txt", "perf: x\n\nBREAKING CHANGE: y");
    let json = json(&fixture);
    assert_eq!(json["auto_level"], "major");
}

#[test]
fn nothing_to_release_is_an_error() {
    let fixture = released();
    let bump = Xtask::new(&fixture.root).args(&["bump", "auto"]).run();
    assert_eq!(bump.code, 1);
    assert!(
        bump.stderr
            .contains("nothing to release: no commits since v0.1.0"),
        "{}",
        bump.stderr
    );
    commit(&fixture, "docs/only.md", "docs: only docs");
    let changelog = Xtask::new(&fixture.root).args(&["changelog"]).run();
    assert_eq!(changelog.code, 1);
    assert!(
        changelog.stderr.contains("nothing to release"),
        "{}",
        changelog.stderr
    );
}

#[test]
fn a_hotfix_branch_counts_from_its_own_line() {
    let fixture = released();
    commit(&fixture, "xtask/src/a.txt", "feat: on main");
    tag(&fixture, "v0.2.0");
    fixture.git(&["checkout", "--quiet", "-b", "hotfix/0.1", "v0.1.0"]);
    commit(&fixture, "xtask/src/b.txt", "fix: on the old line");
    let report = json(&fixture);
    assert_eq!(report["previous_tag"], "v0.1.0");
    assert_eq!(report["version"], "0.1.1");
    assert_eq!(report["commits"], 1);
}

#[test]
fn write_adds_only_the_section_and_links_and_keeps_hand_entries() {
    let (fixture, _) = history();
    let hand = "- Hand-written: the encoder now takes `[1, 9, 1, 100]`.";
    let text = fixture.read("CHANGELOG.md").replacen(
        "### Added\n\n",
        &format!("### Added\n\n{hand}\n"),
        1,
    );
    fixture.write("CHANGELOG.md", &text);
    assert_eq!(
        Xtask::new(&fixture.root)
            .args(&["bump", "auto", "--execute"])
            .run()
            .code,
        0
    );
    fixture.git(&["commit", "--quiet", "-am", "chore(release): v0.2.0"]);

    let dry = Xtask::new(&fixture.root)
        .args(&["changelog", "--write", "--date", "2026-11-21"])
        .run();
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("+## [0.2.0] - 2026-11-21"),
        "{}",
        dry.stdout
    );
    assert_eq!(
        fixture.read("CHANGELOG.md"),
        text,
        "a dry run wrote the file"
    );

    let run = Xtask::new(&fixture.root)
        .args(&["changelog", "--write", "--execute", "--date", "2026-11-21"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = fixture.read("CHANGELOG.md");
    assert!(
        after.contains("## [Unreleased]\n\n## [0.2.0] - 2026-11-21\n\n### Added\n\n"),
        "{after}"
    );
    // Every line a person wrote is still there, in order.
    let mut lines = after.lines();
    for line in text.lines().filter(|l| !l.starts_with("[Unreleased]:")) {
        assert!(lines.any(|l| l == line), "lost or moved: {line:?}\n{after}");
    }
    // The only line removed is the old [Unreleased] link.
    let numstat = fixture.git(&["diff", "--numstat", "CHANGELOG.md"]);
    assert_eq!(numstat.split('\t').nth(1), Some("1"), "{numstat}");
    let diff = fixture.git(&["diff", "-U0", "CHANGELOG.md"]);
    let removed: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    assert_eq!(
        removed,
        ["-[Unreleased]: https://github.com/edge-ml/tcn-vae-edge/compare/v0.1.0...HEAD"]
    );
    assert!(after.contains("[Unreleased]: https://github.com/edge-ml/tcn-vae-edge/compare/v0.2.0...HEAD\n[0.2.0]: https://github.com/edge-ml/tcn-vae-edge/compare/v0.1.0...v0.2.0\n"), "{after}");
    assert!(after.contains("**models:** add HEF compile"), "{after}");

    let again = Xtask::new(&fixture.root)
        .args(&["changelog", "--write", "--execute", "--date", "2026-11-22"])
        .run();
    assert_eq!(again.code, 0);
    assert!(
        again.stdout.contains("already has a section for 0.2.0"),
        "{}",
        again.stdout
    );
    assert_eq!(fixture.read("CHANGELOG.md"), after);
}

#[test]
fn write_before_a_bump_says_to_bump_first() {
    let (fixture, _) = history();
    let before = fixture.read("CHANGELOG.md");
    fixture.git(&["tag", "-d", "v0.1.0"]);
    tag(&fixture, "v0.1.0");
    let run = Xtask::new(&fixture.root)
        .args(&["changelog", "--write", "--execute"])
        .run();
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("bump first"), "{}", run.stderr);
    assert_eq!(fixture.read("CHANGELOG.md"), before);
}

#[test]
fn release_notes_follow_the_template_with_real_sizes() {
    let (fixture, _) = history();
    let dist = fixture.root.join("target/dist/v0.2.0");
    std::fs::create_dir_all(dist.join("models/tcn_encoder")).unwrap();
    std::fs::write(
        dist.join("models/tcn_encoder/tcn_encoder.onnx"),
        vec![0u8; 3 * 1024 * 1024],
    )
    .unwrap();
    std::fs::write(dist.join("tcn_vae-0.2.0-py3-none-any.whl"), vec![0u8; 2048]).unwrap();
    let run = Xtask::new(&fixture.root)
        .args(&["changelog", "--notes"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let notes = &run.stdout;
    assert!(
        notes.starts_with("# tcn-vae-edge v0.2.0 - 1 feature, 2 changes, 2 fixes\n"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "| tcn_encoder | 72.0% | 70.0% | 3.0 MiB | Raspberry Pi + Hailo-8 (hailo8) |"
        ),
        "{notes}"
    );
    assert!(
        notes.contains("| `models/tcn_encoder/tcn_encoder.onnx` | 3.0 MiB | ONNX model"),
        "{notes}"
    );
    assert!(
        notes.contains("| `tcn_vae-0.2.0-py3-none-any.whl` | 2.0 KiB | Python wheel |"),
        "{notes}"
    );
    for part in [
        "## Usage",
        "sha256sum -c sha256sum.txt",
        "pip install tcn-vae==0.2.0",
        "docker pull ghcr.io/edge-ml/edgeinfer:0.2.0",
        "## Changes\n\n### Added",
    ] {
        assert!(notes.contains(part), "missing {part:?}:\n{notes}");
    }
}
