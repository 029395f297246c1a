//! A project's own release conventions, by config (issue "Real projects by
//! configuration"): its commit and tag messages, further tags such as
//! `models-v{version}`, and releasing the version its files already hold.

use serde_json::Value;

use crate::support::{drop_table, venv_python, Fakes, Fixture, Xtask};

/// The example without a package, images or models: a release is commits,
/// tags and a GitHub release, all of which run here.
fn tags_only(extra: &str) -> Fixture {
    let fixture = Fixture::new();
    let mut manifest = fixture.read("Cargo.toml");
    for table in ["docker", "models", "python", "hooks"] {
        manifest = drop_table(&manifest, table);
    }
    let manifest = manifest.replacen(
        "tag-name = \"v{version}\"",
        &format!("tag-name = \"v{{version}}\"\n{extra}"),
        1,
    );
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&["commit", "--quiet", "-am", "feat: tags and notes only"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    fixture
}

/// Appends tables to the config and commits them, with every new file.
fn append(fixture: &Fixture, tables: &str) {
    fixture.write("Cargo.toml", &(fixture.read("Cargo.toml") + "\n" + tables));
    fixture.git(&["add", "-A"]);
    fixture.git(&[
        "commit",
        "--quiet",
        "-m",
        "chore: the project's release config",
    ]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
}

/// `cargo xtask ARGS` with the fakes and a GitHub token.
fn xtask(fixture: &Fixture, fakes: &Fakes, args: &[&str]) -> crate::support::Run {
    crate::support::xtask_with_fakes(fixture, fakes, args)
}

fn release(fixture: &Fixture, fakes: &Fakes, args: &[&str]) -> crate::support::Run {
    let mut all = vec!["release"];
    all.extend_from_slice(args);
    xtask(fixture, fakes, &all)
}

/// The commit `tag` points at on origin (peeled when annotated).
fn on_origin(fixture: &Fixture, tag: &str) -> Option<String> {
    let listed = fixture.git(&["ls-remote", "--tags", "origin"]);
    let line = |suffix: &str| {
        listed
            .lines()
            .find(|l| l.ends_with(&format!("refs/tags/{tag}{suffix}")))
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_owned)
    };
    line("^{}").or_else(|| line(""))
}

#[test]
fn the_projects_messages_and_further_tags_are_made_pushed_and_rolled_back() {
    let fixture = tags_only(
        "commit-message = \"Release version {version}\"\n\
         tag-message = \"Release {tag}: {summary}\"\n\
         extra-tags = [{ name = \"models-v{version}\" }, { name = \"deploy-{version}\", annotated = false }]",
    );
    fixture.write("src.txt", "a feature\n");
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: a feature"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    let fakes = Fakes::install();

    let plan: Value = serde_json::from_str(&release(&fixture, &fakes, &["--json"]).stdout).unwrap();
    assert_eq!(plan["commit_message"], "Release version 0.2.0");
    let summary = plan["title"]
        .as_str()
        .unwrap()
        .split(" - ")
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(summary.contains("features"), "{summary}");
    let tag_message = format!("Release v0.2.0: {summary}");
    assert_eq!(plan["tag_message"], tag_message.as_str());
    assert_eq!(plan["extra_tags"][0]["name"], "models-v0.2.0");
    assert_eq!(plan["extra_tags"][1]["message"], Value::Null);

    let run = release(&fixture, &fakes, &["--execute", "--skip-tests"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let commit = fixture.git(&["rev-parse", "v0.2.0^{commit}"]);
    assert_eq!(
        fixture.git(&["log", "-1", "--format=%s", "v0.2.0"]),
        "Release version 0.2.0"
    );
    assert_eq!(
        fixture.git(&["tag", "-l", "--format=%(contents:subject)", "v0.2.0"]),
        tag_message
    );
    assert_eq!(
        fixture.git(&[
            "tag",
            "-l",
            "--format=%(objecttype) %(contents:subject)",
            "models-v0.2.0"
        ]),
        format!("tag {tag_message}")
    );
    assert_eq!(
        fixture.git(&["tag", "-l", "--format=%(objecttype)", "deploy-0.2.0"]),
        "commit",
        "a lightweight tag"
    );
    for tag in ["v0.2.0", "models-v0.2.0", "deploy-0.2.0"] {
        assert_eq!(
            on_origin(&fixture, tag).as_deref(),
            Some(commit.as_str()),
            "{tag} on origin"
        );
    }

    // A second release of the same version would move them: refused first.
    let rollback = xtask(&fixture, &fakes, &["rollback", "v0.2.0", "--execute"]);
    assert_eq!(rollback.code, 0, "{}\n{}", rollback.stdout, rollback.stderr);
    for tag in ["v0.2.0", "models-v0.2.0", "deploy-0.2.0"] {
        assert_eq!(on_origin(&fixture, tag), None, "{tag} left on origin");
        assert_eq!(fixture.git(&["tag", "-l", tag]), "", "{tag} left here");
    }
}

#[test]
fn a_further_tag_that_exists_stops_the_release_before_any_change() {
    let fixture = tags_only("extra-tags = [{ name = \"models-v{version}\" }]");
    fixture.git(&["tag", "models-v0.2.0"]);
    let fakes = Fakes::install();
    let head = fixture.git(&["rev-parse", "HEAD"]);
    let run = release(&fixture, &fakes, &["--execute", "--skip-tests"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("tag models-v0.2.0 already exists (here or on origin)"),
        "{}",
        run.stderr
    );
    assert_eq!(fixture.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(fixture.git(&["tag", "-l", "v0.2.0"]), "");
}

#[test]
fn a_message_with_an_unknown_placeholder_is_refused_with_its_key() {
    let fixture =
        tags_only("commit-message = \"Release {versoin}\"\nextra-tags = [{ name = \"models\" }]");
    let run = Xtask::new(&fixture.root).args(&["release"]).run();
    assert_eq!(run.code, 1);
    for needle in [
        "commit-message = \"Release {versoin}\": unknown placeholder `{versoin}`; use {version}, {tag}, {pep440}, {summary}, {previous_tag}",
        "extra-tags[0].name = \"models\": must contain {version}",
    ] {
        assert!(run.stderr.contains(needle), "no {needle:?} in {}", run.stderr);
    }
}

/// A project whose files were bumped by hand (or never released): `current`
/// releases the version they hold, with nothing to edit but the changelog;
/// once that version is tagged, `current` is refused.
#[test]
fn current_releases_the_version_the_files_hold() {
    let fixture = tags_only("");
    let fakes = Fakes::install();
    let plan: Value =
        serde_json::from_str(&release(&fixture, &fakes, &["current", "--json"]).stdout).unwrap();
    assert_eq!(plan["version"], "0.1.0", "{plan:#}");
    assert_eq!(plan["tag"], "v0.1.0");
    assert_eq!(plan["file_edits"], serde_json::json!(["CHANGELOG.md"]));

    let run = release(&fixture, &fakes, &["current", "--execute", "--skip-tests"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        fixture.git(&["rev-parse", "v0.1.0^{commit}"]),
        fixture.git(&["rev-parse", "HEAD"])
    );
    assert!(fixture.read("Cargo.toml").contains("version = \"0.1.0\""));

    let again = release(&fixture, &fakes, &["current"]);
    assert_eq!(again.code, 1, "{}", again.stdout);
    assert!(again.stderr.contains("v0.1.0"), "{}", again.stderr);
}

/// The project's own checks as hooks: its tests before anything changes
/// (not the xtask's suite), a pre-release command at the build, a
/// post-release one after publishing; each sees the release's facts and
/// never a credential.
#[test]
fn the_projects_hooks_run_where_a_release_needs_them() {
    let log = "target/hooks.log";
    let hook = |name: &str| {
        format!("[\"sh\", \"-c\", \"echo {name} $NEW_VERSION $TAG $DRY_RUN ${{GH_TOKEN:-no-token}} >> {log}\"]")
    };
    let fixture = tags_only("");
    append(
        &fixture,
        &format!(
            "[workspace.metadata.release.hooks]\ntest = [{}, {}]\npre-release = [{}]\npost-release = [{}]\n",
            hook("test"),
            hook("lint"),
            hook("pre"),
            hook("post"),
        ),
    );
    let fakes = Fakes::install();
    let dry = release(&fixture, &fakes, &[]);
    assert_eq!(dry.code, 0, "{}\n{}", dry.stdout, dry.stderr);
    assert_eq!(fixture.read(log), "pre 0.2.0 v0.2.0 true no-token\n");
    assert!(
        dry.stdout.contains("--execute runs hooks.test here first"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("echo post"),
        "the dry run shows the post-release hook: {}",
        dry.stdout
    );

    std::fs::remove_file(fixture.root.join(log)).unwrap();
    let run = release(&fixture, &fakes, &["--execute"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        fixture.read(log),
        "test 0.2.0 v0.2.0 false no-token\n\
         lint 0.2.0 v0.2.0 false no-token\n\
         pre 0.2.0 v0.2.0 false no-token\n\
         post 0.2.0 v0.2.0 false no-token\n"
    );
}

#[test]
fn a_failing_test_hook_stops_the_release_before_any_change() {
    let fixture = tags_only("");
    append(
        &fixture,
        "[workspace.metadata.release.hooks]\ntest = [[\"sh\", \"-c\", \"echo 2 failed >&2; exit 2\"]]\n",
    );
    let fakes = Fakes::install();
    let head = fixture.git(&["rev-parse", "HEAD"]);
    let run = release(&fixture, &fakes, &["--execute"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("(hooks.test) fails; a release needs it green"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("2 failed"), "{}", run.stderr);
    assert_eq!(fixture.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(fixture.git(&["tag", "-l"]), "");
}

/// A package its own CI publishes (`python.publish = false`) and a project
/// without images (`skip-steps = ["docker"]`): the release builds and
/// checks the wheel, ships it on GitHub, and never uploads it or asks for
/// an index credential.
#[test]
fn steps_a_project_never_runs_are_off_by_config() {
    let fixture = Fixture::new();
    let mut manifest = drop_table(&drop_table(&fixture.read("Cargo.toml"), "models"), "hooks")
        .replace(
            "index-url = \"https://upload.pypi.org/legacy/\"",
            "index-url = \"http://127.0.0.1:9/never-contacted/\"\npublish = false",
        );
    manifest = manifest.replacen(
        "tag-name = \"v{version}\"",
        "tag-name = \"v{version}\"\nskip-steps = [\"docker\"]",
        1,
    );
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&["commit", "--quiet", "-am", "ci: PyPI is published by CI"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    let fakes = Fakes::install();

    let plan: Value = serde_json::from_str(&release(&fixture, &fakes, &["--json"]).stdout).unwrap();
    let skipped: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["skipped"] == true)
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["ci", "pypi", "docker"]);

    // `doctor` asks for neither an index credential nor a Docker engine.
    let doctor = Xtask::new(&fixture.root).args(&["doctor", "--json"]).run();
    let report: Value = serde_json::from_str(&doctor.stdout).unwrap();
    let credentials: Vec<&str> = report["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        !credentials.iter().any(|c| c.starts_with("TWINE")),
        "{report:#}"
    );
    let docker = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "docker daemon")
        .unwrap();
    assert_eq!(docker["needed_for"], Value::Null, "{report:#}");

    let run = release(&fixture, &fakes, &["--execute", "--skip-tests"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("twine upload"), "{}", run.stdout);
    assert!(fakes.calls(Some("docker")).is_empty(), "docker ran");
    let uploaded: Vec<Value> = fakes
        .calls(Some("gh"))
        .into_iter()
        .filter(|c| c["argv"][1] == "upload" || c["argv"][1] == "create")
        .collect();
    assert!(
        uploaded.iter().any(|c| c["argv"]
            .to_string()
            .contains("tcn_vae-0.2.0-py3-none-any.whl")),
        "the wheel ships on GitHub: {uploaded:?}"
    );
}

#[test]
fn an_unknown_or_preflight_step_in_skip_steps_is_refused() {
    for (steps, needle) in [
        (
            "[\"dockr\"]",
            "skip-steps names \"dockr\", which is not a step; the steps are preflight, prepare",
        ),
        (
            "[\"preflight\"]",
            "skip-steps names preflight: the checks before any change cannot be skipped",
        ),
    ] {
        let fixture = tags_only(&format!("skip-steps = {steps}"));
        let run = Xtask::new(&fixture.root).args(&["release"]).run();
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(
            run.stderr.contains(needle),
            "no {needle:?} in {}",
            run.stderr
        );
    }
}

/// A project that released by hand before it tagged: its changelog already
/// records 0.1.0, so the first tagged release lists what came after that
/// section was written, not the whole history; `changelog.since` names the
/// start instead.
#[test]
fn without_a_tag_the_changelogs_newest_release_is_the_start() {
    let fixture = tags_only("");
    fixture.write(
        "CHANGELOG.md",
        "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-01-01\n\n### Added\n\n- Released by hand.\n",
    );
    fixture.git(&["commit", "--quiet", "-am", "docs: release 0.1.0 by hand"]);
    fixture.write("after.txt", "new\n");
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: after the hand release"]);
    let sections = |fixture: &Fixture| -> Vec<String> {
        let run = Xtask::new(&fixture.root)
            .args(&["changelog", "--json"])
            .run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json: Value = serde_json::from_str(&run.stdout).unwrap();
        json["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["entries"].as_array().unwrap().iter())
            .map(|e| e["text"].as_str().unwrap().to_owned())
            .collect()
    };
    let entries = sections(&fixture);
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert!(
        entries[0].starts_with("after the hand release"),
        "{entries:#?}"
    );

    // Named in the config, the start is that commit's child on.
    let first = fixture.git(&["rev-list", "--max-parents=0", "HEAD"]);
    let manifest = fixture.read("Cargo.toml");
    let manifest = manifest.replacen(
        "[workspace.metadata.release.changelog]\n",
        &format!("[workspace.metadata.release.changelog]\nsince = \"{first}\"\n"),
        1,
    );
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&[
        "commit",
        "--quiet",
        "-am",
        "chore: start the changelog at the first commit",
    ]);
    let all = sections(&fixture);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all[0].starts_with("tags and notes only"), "{all:#?}");
}

/// A service with `pyproject.toml` and `uv.lock` at its root: the lock's
/// entry for the project itself moves with the pyproject, so `uv sync
/// --locked` keeps working; uv itself is the judge.
#[test]
fn uv_lock_moves_with_the_pyproject_as_uv_checks_it() {
    let fixture = tags_only("");
    fixture.write(
        "pyproject.toml",
        "[project]\nname = \"Service_Hub\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = []\n\n\
         [build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n",
    );
    let uv = crate::support::uv();
    let lock = |args: &[&str]| {
        std::process::Command::new(&uv)
            .arg("lock")
            .args(args)
            .arg("--offline")
            .current_dir(&fixture.root)
            .output()
            .unwrap()
    };
    let made = lock(&[]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(fixture.read("uv.lock").contains("version = \"0.1.0\""));
    let manifest = fixture.read("Cargo.toml")
        + "\n[workspace.metadata.release.python]\npath = \".\"\npublish = false\n";
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: the service hub"]);

    let bump = Xtask::new(&fixture.root)
        .args(&["bump", "1.0.0-rc.1", "--execute"])
        .env("XTASK_PYTHON", venv_python())
        .run();
    assert_eq!(bump.code, 0, "{}\n{}", bump.stdout, bump.stderr);
    assert!(bump.stdout.contains("uv.lock"), "{}", bump.stdout);
    assert!(fixture.read("uv.lock").contains("version = \"1.0.0rc1\""));
    let checked = lock(&["--locked"]);
    assert!(
        checked.status.success(),
        "uv says the lock is stale: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// A tag made by hand on work in progress is not a release commit: rollback
/// removes the tag and never drops the commit.
#[test]
fn rollback_keeps_a_commit_the_release_did_not_make() {
    let fixture = tags_only("");
    fixture.write("wip.txt", "work in progress\n");
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "wip: not released"]);
    fixture.git(&["tag", "v0.2.0"]);
    let head = fixture.git(&["rev-parse", "HEAD"]);
    let fakes = Fakes::install();
    let run = xtask(&fixture, &fakes, &["rollback", "v0.2.0", "--execute"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fixture.git(&["tag", "-l", "v0.2.0"]), "");
    assert_eq!(
        fixture.git(&["rev-parse", "HEAD"]),
        head,
        "the commit was dropped"
    );
}

/// A project's own files as release assets: by glob, under their name or a
/// template, and a deterministic zip bundle that Python's zipfile reads back
/// file for file.
#[test]
fn repository_files_ship_by_glob_renamed_or_bundled() {
    let fixture = tags_only("");
    for (path, text) in [
        ("flows/ingest.json", "{\"flow\": \"ingest\"}\n"),
        ("flows/nested/alert.json", "{\"flow\": \"alert\"}\n"),
        (".env.example", "OLLAMA_HOST=http://localhost:11434\n"),
        ("docker-compose.yml", "services: {}\n"),
        ("bench/results.json", "{\"fps\": 41}\n"),
    ] {
        fixture.write(path, text);
    }
    append(
        &fixture,
        "[[workspace.metadata.release.assets]]\nfiles = [\"flows/*.json\", \".env.example\", \"docker-compose.yml\"]\n\n\
         [[workspace.metadata.release.assets]]\nfiles = [\"bench/*.json\"]\nname = \"benchmarks-{version}.{ext}\"\n\n\
         [[workspace.metadata.release.assets]]\nfiles = [\"flows/**/*.json\"]\nbundle = \"flows-{version}.zip\"\n",
    );
    let fakes = Fakes::install();
    let dist = fixture.root.join("target/dist/v0.2.0");
    let run = release(&fixture, &fakes, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for name in [
        "ingest.json",
        ".env.example",
        "docker-compose.yml",
        "benchmarks-0.2.0.json",
        "flows-0.2.0.zip",
    ] {
        assert!(dist.join(name).is_file(), "{name} not staged");
    }
    assert_eq!(
        std::fs::read_to_string(dist.join("benchmarks-0.2.0.json")).unwrap(),
        "{\"fps\": 41}\n"
    );
    let sums = std::fs::read_to_string(dist.join("sha256sum.txt")).unwrap();
    assert!(sums.contains("  flows-0.2.0.zip\n"), "{sums}");

    // The reference reader: every file back, byte for byte, and a sound archive.
    let read = std::process::Command::new(venv_python())
        .args([
            "-c",
            "import sys, zipfile, json; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; \
             print(json.dumps({n: z.read(n).decode() for n in z.namelist()}))",
        ])
        .arg(dist.join("flows-0.2.0.zip"))
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let files: Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(
        files,
        serde_json::json!({
            "flows/ingest.json": "{\"flow\": \"ingest\"}\n",
            "flows/nested/alert.json": "{\"flow\": \"alert\"}\n",
        })
    );
    // Deterministic: made again, the same bytes.
    let first = std::fs::read(dist.join("flows-0.2.0.zip")).unwrap();
    let again = release(&fixture, &fakes, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(std::fs::read(dist.join("flows-0.2.0.zip")).unwrap(), first);
}

#[test]
fn an_asset_glob_that_matches_nothing_is_refused_with_its_key() {
    let fixture = tags_only("");
    append(
        &fixture,
        "[[workspace.metadata.release.assets]]\nfiles = [\"flows/*.yaml\"]\n",
    );
    let fakes = Fakes::install();
    let run = release(&fixture, &fakes, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("assets[0].files: \"flows/*.yaml\" matches no file of the repository"),
        "{}",
        run.stderr
    );
}

/// A package with images of its own tag set (`latest` and `vX.Y.Z`) built
/// without the cache from one Dockerfile stage: the plan says so, and the
/// commands the docker step runs carry it.
#[test]
fn an_images_own_tags_and_build_options_reach_the_docker_commands() {
    let fixture = Fixture::new();
    let manifest = fixture.read("Cargo.toml").replace(
        "platforms = [\"linux/amd64\", \"linux/arm64\"]",
        "platforms = [\"linux/amd64\", \"linux/arm64\"]\ntags = [\"v{version}\", \"latest\"]\nno-cache = true\ntarget = \"runtime\"",
    );
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&[
        "commit",
        "--quiet",
        "-am",
        "build: images as the project tags them",
    ]);
    let fakes = Fakes::install();
    let plan: Value = serde_json::from_str(&release(&fixture, &fakes, &["--json"]).stdout).unwrap();
    let tags: Vec<&str> = plan["images"][0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["v0.2.0", "latest"], "{plan:#}");
    let docker = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "docker")
        .unwrap();
    let commands = docker["commands"].to_string();
    assert!(
        commands.contains("--no-cache") && commands.contains("--target runtime"),
        "{commands}"
    );
    assert!(
        commands.contains("ghcr.io/edge-ml/edgeinfer:v0.2.0"),
        "{commands}"
    );
    assert!(!commands.contains("edgeinfer:0.2 "), "{commands}");
}

/// A release line: `release/0.x` has moved apart from `main`. The release
/// from it merges its commit into `main` in the same atomic push.
fn release_line(main_edit: (&str, &str)) -> (Fixture, Fakes) {
    let fixture = tags_only("merge-back = \"main\"");
    fixture.git(&["checkout", "--quiet", "-b", "release/0.x"]);
    fixture.git(&["push", "--quiet", "origin", "release/0.x"]);
    fixture.git(&["checkout", "--quiet", "main"]);
    fixture.write(main_edit.0, main_edit.1);
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "docs: main moves on"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    fixture.git(&["checkout", "--quiet", "release/0.x"]);
    fixture.write("fix.txt", "fixed\n");
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "fix: a fix on the line"]);
    fixture.git(&["push", "--quiet", "origin", "release/0.x"]);
    (fixture, Fakes::install())
}

#[test]
fn a_release_from_a_release_branch_merges_back_into_main_in_the_same_push() {
    let (fixture, fakes) = release_line(("main-only.txt", "main\n"));
    let plan: Value = serde_json::from_str(&release(&fixture, &fakes, &["--json"]).stdout).unwrap();
    assert_eq!(plan["merge_back"], "main");
    let tag = plan["tag"].as_str().unwrap().to_owned();
    let run = release(&fixture, &fakes, &["--execute", "--skip-tests"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    fixture.git(&["fetch", "--quiet", "origin"]);
    let released = fixture.git(&["rev-parse", &format!("{tag}^{{commit}}")]);
    assert_eq!(fixture.git(&["rev-parse", "origin/release/0.x"]), released);
    // main has the release and keeps its own work.
    fixture.git(&["merge-base", "--is-ancestor", &released, "origin/main"]);
    assert_eq!(fixture.git(&["show", "origin/main:main-only.txt"]), "main");
    assert_eq!(fixture.git(&["show", "origin/main:fix.txt"]), "fixed");
    assert_eq!(
        fixture.git(&["log", "-1", "--format=%s", "origin/main"]),
        format!("Merge {tag} into main")
    );
}

#[test]
fn a_merge_back_conflict_stops_the_release_before_anything_is_pushed() {
    // main rewrote what the release commit rewrites.
    let (fixture, fakes) = release_line(("CHANGELOG.md", "# Changelog\n\nRewritten on main.\n"));
    let main_before = fixture.git(&["ls-remote", "origin", "refs/heads/main"]);
    let run = release(&fixture, &fakes, &["--execute", "--skip-tests"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("into main conflicts in CHANGELOG.md; nothing was pushed"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fixture.git(&["ls-remote", "origin", "refs/heads/main"]),
        main_before
    );
    assert_eq!(fixture.git(&["ls-remote", "--tags", "origin"]), "");
}
