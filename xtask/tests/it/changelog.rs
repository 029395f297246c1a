//! `cargo xtask changelog` and `bump auto` against throwaway histories.

use serde_json::Value;

use crate::support::{self, Fixture, Xtask};

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
    // Keep a Changelog has no "Other": a non-conventional commit is left out
    // of the section and named in the output instead.
    assert_eq!(
        report["left_out"],
        serde_json::json!([format!("{} Update the README by hand", &hashes[3][..7])])
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
    assert_eq!(names, ["Added", "Changed", "Removed", "Fixed"]);

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

/// Adds `line` under `[workspace.metadata.release.changelog]` and commits it
/// (as `chore`, which calls for no release).
fn configure_changelog(fixture: &Fixture, line: &str) {
    let manifest = fixture.read("Cargo.toml").replacen(
        "[workspace.metadata.release.changelog]\n",
        &format!("[workspace.metadata.release.changelog]\n{line}\n"),
        1,
    );
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&["commit", "--quiet", "-am", "chore: configure the changelog"]);
}

#[test]
fn nothing_to_release_exits_21_like_commitizen() {
    let fixture = released();
    let bump = Xtask::new(&fixture.root).args(&["bump", "auto"]).run();
    assert_eq!(bump.code, 21, "{}", bump.stderr);
    assert!(
        bump.stderr
            .contains("nothing to release: no commits since v0.1.0"),
        "{}",
        bump.stderr
    );
    // Only docs, chore, ci and a non-conventional commit: no release (a patch
    // is defined for `fix`), and the non-conventional one is named.
    commit(&fixture, "docs/only.md", "docs: only docs");
    commit(&fixture, "xtask/src/c.txt", "chore: tidy");
    commit(&fixture, "xtask/src/d.txt", "ci: cache");
    let readme = commit(&fixture, "README.md", "Polish the README");
    for args in [
        &["bump", "auto"][..],
        &["changelog"],
        &["release", "--json"],
    ] {
        let run = Xtask::new(&fixture.root).args(args).run();
        assert_eq!(run.code, 21, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(
                "nothing to release: none of the 4 commits since v0.1.0 is a feat, fix, perf, refactor or breaking change"
            ),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains(&format!("  - {} Polish the README", &readme[..7])),
            "{args:?}: {}",
            run.stderr
        );
    }
    let report = json(&fixture);
    assert_eq!(report["auto_level"], Value::Null);
    assert_eq!(report["version"], "0.1.0");

    // A perf or refactor commit is a patch, as in commitizen.
    commit(&fixture, "xtask/src/e.txt", "refactor: split the parser");
    let bump = Xtask::new(&fixture.root).args(&["bump", "auto"]).run();
    assert_eq!(bump.code, 0, "{}", bump.stderr);
    assert!(bump.stdout.contains("0.1.0 -> 0.1.1 "), "{}", bump.stdout);
}

#[test]
fn patch_for_any_commit_opts_into_a_patch() {
    let fixture = released();
    configure_changelog(&fixture, "patch-for-any-commit = true");
    commit(&fixture, "docs/only.md", "docs: only docs");
    let bump = Xtask::new(&fixture.root).args(&["bump", "auto"]).run();
    assert_eq!(bump.code, 0, "{}", bump.stderr);
    assert!(bump.stdout.contains("0.1.0 -> 0.1.1 "), "{}", bump.stdout);
}

#[test]
fn other_section_keeps_non_conventional_commits_under_a_chosen_heading() {
    let fixture = released();
    configure_changelog(&fixture, "other-section = \"Changed\"");
    commit(&fixture, "xtask/src/a.txt", "fix: a real fix");
    commit(&fixture, "README.md", "Polish the README");
    let report = json(&fixture);
    assert!(
        entries(&report, "Changed")[0].starts_with("Polish the README"),
        "{report}"
    );
    assert_eq!(report["left_out"], serde_json::json!([]));

    let bad = released();
    configure_changelog(&bad, "other-section = \"Other\"");
    let run = Xtask::new(&bad.root).args(&["changelog"]).run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("changelog.other-section = \"Other\": not a Keep a Changelog section"),
        "{}",
        run.stderr
    );
    let old = released();
    configure_changelog(&old, "keep-other = true");
    let run = Xtask::new(&old.root).args(&["changelog"]).run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("changelog.keep-other = true: replaced by `other-section`"),
        "{}",
        run.stderr
    );
}

#[test]
fn changelog_prints_the_section_of_the_version_the_release_writes() {
    let fixture = released();
    commit(&fixture, "xtask/src/a.txt", "feat: a feature");
    let run = Xtask::new(&fixture.root)
        .args(&["changelog", "--date", "2026-11-21"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("## [0.2.0] - 2026-11-21\n"),
        "{}",
        run.stdout
    );
    // Without any release tag, from the workspace version, as `bump auto`.
    let fresh = Fixture::new();
    commit(&fresh, "xtask/src/a.txt", "fix: a fix");
    let run = Xtask::new(&fresh.root)
        .args(&["changelog", "--date", "2026-11-21"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bump = Xtask::new(&fresh.root).args(&["bump", "auto"]).run();
    assert_eq!(bump.code, 0, "{}", bump.stderr);
    // The summary line, not a diff line that happens to hold the words.
    let next = bump
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("0.1.0 -> "))
        .and_then(|rest| rest.split(' ').next())
        .unwrap();
    assert_ne!(next, "0.1.0");
    assert!(
        run.stdout
            .starts_with(&format!("## [{next}] - 2026-11-21\n")),
        "bump auto says {next}: {}",
        run.stdout
    );
}

#[test]
fn merges_with_conventional_messages_count_and_reverts_of_unlisted_commits_do_not() {
    let fixture = released();
    fixture.git(&["checkout", "--quiet", "-b", "topic"]);
    commit(&fixture, "xtask/src/a.txt", "docs: describe the new keys");
    fixture.git(&["checkout", "--quiet", "main"]);
    fixture.git(&[
        "merge",
        "--quiet",
        "--no-ff",
        "topic",
        "-m",
        "feat(config)!: new keys",
        "-m",
        "BREAKING CHANGE: the v1 keys are gone;\nrename `a` to `b`.\nRefs: #12",
    ]);
    let merge = fixture.git(&["rev-parse", "HEAD"]);
    let chore = commit(&fixture, "xtask/src/b.txt", "chore: bump deps");
    fixture.git(&["revert", "--no-edit", &chore]);
    let report = json(&fixture);
    assert_eq!(report["auto_level"], "minor", "breaking while 0.x");
    let added = entries(&report, "Added");
    assert_eq!(
        added,
        [format!(
            "**BREAKING** **config:** new keys (BREAKING CHANGE: the v1 keys are gone;\n  rename `a` to `b`.) ([{}](https://github.com/edge-ml/tcn-vae-edge/commit/{merge}))",
            &merge[..7]
        )]
    );
    assert!(entries(&report, "Removed").is_empty(), "{report}");
    // A plain merge commit still counts for nothing.
    assert!(!report["sections"].to_string().contains("Merge branch"));
}

#[test]
fn no_plan_proposes_a_version_tagged_on_another_line() {
    let fixture = released();
    // 0.2.0 was released from a release branch that main never merged.
    fixture.git(&["checkout", "--quiet", "-b", "release/0.2"]);
    commit(&fixture, "xtask/src/r.txt", "feat: on the release line");
    tag(&fixture, "v0.2.0");
    fixture.git(&["checkout", "--quiet", "main"]);
    commit(&fixture, "xtask/src/m.txt", "feat: on main");
    for args in [
        &["bump", "auto"][..],
        &["changelog"],
        &["changelog", "--json"],
        &["release", "--json"],
        &["bump", "minor"],
        &["bump", "0.2.0"],
    ] {
        let run = Xtask::new(&fixture.root).args(args).run();
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("0.2.0 is already released: the tag v0.2.0 exists"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let run = Xtask::new(&fixture.root).args(&["bump", "auto"]).run();
    assert!(
        run.stderr
            .contains("the next free minor is 0.3.0 (`cargo xtask bump 0.3.0`)"),
        "{}",
        run.stderr
    );
    // The suggested version is free, and an explicit bump to it works.
    let run = Xtask::new(&fixture.root).args(&["bump", "0.3.0"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
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
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("tcn_encoder.onnx"), vec![0u8; 3 * 1024 * 1024]).unwrap();
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
        notes.contains("| tcn_encoder | 72% | 70% | 3.0 MiB | Raspberry Pi + Hailo-8 (hailo8) |"),
        "{notes}"
    );
    assert!(
        notes.contains("| `tcn_encoder.onnx` | 3.0 MiB | ONNX model"),
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

/// What PyPI's `keepachangelog` (in the test venv) reads from `path`.
fn pypi_keepachangelog(path: &std::path::Path) -> Value {
    let out = std::process::Command::new(support::venv_python())
        .args([
            "-c",
            "import json, sys, keepachangelog\nprint(json.dumps(keepachangelog.to_dict(sys.argv[1])))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "keepachangelog (add it to the test venv: xtask/test-requirements.txt): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_written_changelog_parses_with_both_keep_a_changelog_parsers() {
    let (fixture, _) = history();
    // A non-conventional commit, a multi-line breaking note and a revert of
    // a chore: the cases that once broke the parsers or the sections.
    commit(&fixture, "README.md", "Polish the README");
    let chore = commit(&fixture, "xtask/src/c.txt", "chore: bump deps");
    fixture.git(&["revert", "--no-edit", &chore]);
    fixture.write("xtask/src/d.txt", "d");
    fixture.git(&["add", "-A"]);
    fixture.git(&[
        "commit",
        "--quiet",
        "-m",
        "feat(export)!: opset 17",
        "-m",
        "BREAKING CHANGE: models need onnxruntime 1.17;\nolder runtimes refuse them.\nRefs: #7",
    ]);
    let report = json(&fixture);
    let ours: Vec<(String, usize)> = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_lowercase(),
                s["entries"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        Xtask::new(&fixture.root)
            .args(&["bump", "auto", "--execute"])
            .run()
            .code,
        0
    );
    let run = Xtask::new(&fixture.root)
        .args(&["changelog", "--write", "--execute", "--date", "2026-11-21"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("Polish the README"), "{}", run.stderr);
    let path = fixture.root.join("CHANGELOG.md");
    let text = fixture.read("CHANGELOG.md");
    assert!(!text.contains("### Other"), "{text}");

    // PyPI keepachangelog: both releases, the date, every section.
    let pypi = pypi_keepachangelog(&path);
    let release = &pypi["0.2.0"];
    assert_eq!(release["metadata"]["release_date"], "2026-11-21", "{pypi}");
    assert!(pypi.get("0.1.0").is_some(), "{pypi}");
    for (section, count) in &ours {
        let entries = release[section]
            .as_array()
            .unwrap_or_else(|| panic!("{section}: {pypi}"));
        // It reads each line of a wrapped bullet as an entry of its own.
        assert!(entries.len() >= *count, "{section}: {pypi}");
    }

    // npm keep-a-changelog, the stricter one (it refuses any other heading).
    let Some(npm) = support::npm_keep_a_changelog(&path) else {
        return;
    };
    let releases = npm.unwrap_or_else(|err| panic!("keep-a-changelog refused it: {err}\n{text}"));
    let versions: Vec<&Value> = releases
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["version"])
        .collect();
    assert_eq!(
        versions,
        [&Value::Null, &Value::from("0.2.0"), &Value::from("0.1.0")]
    );
    let release = &releases[1];
    assert_eq!(release["date"], "2026-11-21");
    let parsed: Vec<(String, usize)> = release["changes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_array().unwrap().len()))
        .collect();
    let mut expected = ours.clone();
    expected.sort();
    let mut parsed = parsed;
    parsed.sort();
    assert_eq!(parsed, expected, "{releases}");
    let added = release["changes"]["added"].to_string();
    assert!(added.contains("older runtimes refuse them."), "{added}");

    // And it refuses what Keep a Changelog does not have, so this test can fail.
    let other = text.replacen("### Added", "### Other", 1);
    std::fs::write(&path, other).unwrap();
    let refused = support::npm_keep_a_changelog(&path).unwrap();
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.contains("Invalid change type")),
        "{refused:?}"
    );
}
