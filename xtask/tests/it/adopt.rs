//! Adopting the xtask (issue "Real projects by configuration"): another
//! project's repository, the xtask copied in as docs/ADOPTING.md says,
//! `cargo xtask init`, then only config edits; the release does what that
//! project's own process did.

use serde_json::Value;

use crate::models::write_onnx;
use crate::support::{repo_root, Fakes, Fixture};

fn xtask(fixture: &Fixture, fakes: &Fakes, args: &[&str]) -> crate::support::Run {
    crate::support::xtask_with_fakes(fixture, fakes, args)
}

/// Inserts `keys` into the release table written by init, commits, pushes.
fn configure(fixture: &Fixture, keys: &str, tables: &str) {
    let manifest = fixture.read("Cargo.toml").replacen(
        "[workspace.metadata.release]\n",
        &format!("[workspace.metadata.release]\n{keys}\n"),
        1,
    ) + tables;
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "chore: release configuration"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
}

/// A. A models repository: weights and ONNX at the root, its own metadata
/// schema, `model_card.md`, a changelog written oldest first with loose lines
/// under `[Unreleased]` at the bottom, releases as tags plus GitHub releases.
#[test]
fn a_models_repository_adopts_with_init_and_releases_its_weights() {
    let changelog = "# Changelog\n\n## [1.0.0] - 2026-09-01\n\nFirst encoder.\n\n## [Unreleased]\n\nRetrained on the October recordings.\n- Calibration from 2048 windows\n";
    let fixture = Fixture::adopting(&[
        ("README.md", "# IMU encoder models\n"),
        (".gitignore", "checkpoints/\ndata/\n*.pt\n"),
        ("CHANGELOG.md", changelog),
        ("imu_encoder_for_edgeinfer_57pct.pth", "trained weights\n"),
        (
            "model_config.json",
            r#"{"model_specs": {"input_shape": [100, 9], "latent_dim": 64}}"#,
        ),
        (
            "models/imu_encoder/v1.1.0/eval_metrics.json",
            r#"{"metrics": {"val_accuracy": 0.5768}}"#,
        ),
        (
            "models/imu_encoder/v1.1.0/normalization.json",
            r#"{"mean": [0,0,0,0,0,0,0,0,0], "std": [1,1,1,1,1,1,1,1,1]}"#,
        ),
        (
            "models/imu_encoder/v1.1.0/model_card.md",
            "# IMU encoder 1.1.0\n",
        ),
    ]);
    write_onnx(
        &fixture.root.join("imu_encoder.onnx"),
        11,
        "imu_window",
        &[1, 100, 9],
    );
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: the encoder at opset 11"]);
    fixture.git(&["tag", "v1.0.0", "HEAD~1"]);
    fixture.git(&["push", "--quiet", "origin", "main", "v1.0.0"]);
    let fakes = Fakes::install();

    // A dry run says what it found and writes nothing.
    let dry = xtask(&fixture, &fakes, &["init"]);
    assert_eq!(dry.code, 0, "{}\n{}", dry.stdout, dry.stderr);
    for needle in [
        "tags like v{version} (1)",
        "version 1.0.0 (the newest release tag)",
        "changelog CHANGELOG.md, [Unreleased] at the bottom",
        "model imu_encoder in models/imu_encoder",
        "assets = [\"imu_encoder.onnx\", \"imu_encoder_for_edgeinfer_57pct.pth\"]",
        "card = \"model_card.md\"",
        "unreleased = \"bottom\"",
    ] {
        assert!(
            dry.stdout.contains(needle),
            "no {needle:?} in:\n{}",
            dry.stdout
        );
    }
    assert!(!fixture.root.join("Cargo.toml").exists());
    let init = xtask(&fixture, &fakes, &["init", "--execute"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    assert!(fixture.read(".gitignore").contains("/target/"));
    let again = xtask(&fixture, &fakes, &["init", "--execute"]);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("already has a release configuration"),
        "{}",
        again.stderr
    );

    // Config edits only: the GitHub repository (origin here is a local
    // path), the project's metadata schema and target, no notes template.
    let manifest = fixture.read("Cargo.toml").replace(
        "card = \"model_card.md\"",
        "card = \"model_card.md\"\naccuracy-in-name = \"truncate\"\n\
         onnx = { inputs = { imu_window = [1, 100, 9] }, outputs = { latent_embeddings = [1, 64] }, opsets = [11] }\n\
         facts = { name = [], input-shape = \"/model_config.json#/model_specs/input_shape\", \
         output-dim = \"/model_config.json#/model_specs/latent_dim\", \
         accuracy = \"eval_metrics.json#/metrics/val_accuracy\", min-accuracy = [], \
         channels = [], model-version = [] }",
    );
    fixture.write("Cargo.toml", &manifest);
    configure(&fixture, "github = \"acme/imu-models\"", "");
    let check = xtask(&fixture, &fakes, &["models", "check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);

    let run = xtask(
        &fixture,
        &fakes,
        &["release", "patch", "--execute", "--skip-tests"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // The changelog keeps every hand-written line, now under 1.0.1, with a
    // fresh [Unreleased] at the bottom.
    let written = fixture.read("CHANGELOG.md");
    assert!(
        written.contains("## [1.0.0] - 2026-09-01\n\nFirst encoder.\n\n## [1.0.1] - ")
            && written.contains(
                "\nRetrained on the October recordings.\n- Calibration from 2048 windows\n\n### Added\n"
            )
            && written.ends_with(
                ")\n\n## [Unreleased]\n\n\
                 [Unreleased]: https://github.com/acme/imu-models/compare/v1.0.1...HEAD\n\
                 [1.0.1]: https://github.com/acme/imu-models/compare/v1.0.0...v1.0.1\n"
            ),
        "{written}"
    );
    for line in changelog
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("## "))
    {
        assert!(written.contains(line), "lost {line:?}:\n{written}");
    }
    // What that project shipped, downloaded from the GitHub release, verifies.
    let verify = xtask(&fixture, &fakes, &["verify-release", "v1.0.1"]);
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    let assets: Vec<String> = fakes
        .calls(Some("gh"))
        .into_iter()
        .filter(|c| c["argv"][1] == "create" || c["argv"][1] == "upload")
        .map(|c| c["argv"].to_string())
        .collect();
    for name in [
        "imu_encoder_for_edgeinfer_57pct.pth",
        "imu_encoder.onnx",
        "sha256sum.txt",
    ] {
        assert!(
            assets.iter().any(|a| a.contains(name)),
            "{name} not uploaded: {assets:?}"
        );
    }
}

/// B. A service hub: `pyproject.toml` and `uv.lock` at the root, already at
/// 0.4.0 and never tagged, `## Version X.Y.Z - date` headings, an image,
/// commits and tags named "Release version X.Y.Z", a second `models-v` tag.
/// The copied xtask builds there, as a user's `cargo xtask` would build it.
#[test]
fn a_service_hub_adopts_with_init_and_releases_the_version_it_holds() {
    let fixture = Fixture::adopting(&[
        (
            "pyproject.toml",
            "[project]\nname = \"service-hub\"\nversion = \"0.4.0\"\nreadme = \"README.md\"\nrequires-python = \">=3.9\"\ndependencies = []\n\n\
             [build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n",
        ),
        ("src/service_hub/__init__.py", ""),
        ("README.md", "# Service hub\n\nFlows and models for the edge devices.\n"),
        ("docker/api/Dockerfile", "FROM scratch\n"),
        ("docker-compose.yml", "services: {}\n"),
        (
            "CHANGELOG.md",
            "# Changelog\n\n## [Unreleased]\n\n- Flows for the new sensors\n\n## Version 0.3.0 - 2026-10-01\n\n- Old\n",
        ),
    ]);
    let uv = crate::support::uv();
    let locked = std::process::Command::new(&uv)
        .args(["lock", "--offline"])
        .current_dir(&fixture.root)
        .output()
        .unwrap();
    assert!(
        locked.status.success(),
        "{}",
        String::from_utf8_lossy(&locked.stderr)
    );
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "chore: lock"]);
    let fakes = Fakes::install();

    let init = xtask(&fixture, &fakes, &["init", "--execute"]);
    assert_eq!(init.code, 0, "{}\n{}", init.stdout, init.stderr);
    for needle in [
        "version 0.4.0 (pyproject.toml [project] version)",
        "Python package at . with uv.lock",
        "image from docker/api/Dockerfile",
        "headings `## Version {version} - {date}`",
    ] {
        assert!(
            init.stdout.contains(needle),
            "no {needle:?} in:\n{}",
            init.stdout
        );
    }
    let manifest = fixture.read("Cargo.toml");
    assert!(
        manifest.contains("heading = \"## Version {version} - {date}\""),
        "{manifest}"
    );
    assert!(manifest.contains("version = \"0.4.0\""), "{manifest}");

    // The copied crate builds in this repository, with its copied lock.
    let build = std::process::Command::new(env!("CARGO"))
        .args(["xtask", "--help"])
        .current_dir(&fixture.root)
        .env("CARGO_TARGET_DIR", repo_root().join("target/adopt"))
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "the copied xtask does not build: {}",
        String::from_utf8_lossy(&build.stderr)
    );

    // Config edits only: the project's messages and tags, CI publishes PyPI,
    // no images from this release.
    let manifest = manifest.replace("path = \".\"", "path = \".\"\npublish = false");
    fixture.write("Cargo.toml", &manifest);
    configure(
        &fixture,
        "github = \"acme/service-hub\"\n\
         commit-message = \"Release version {version}\"\ntag-message = \"Release version {version}\"\n\
         extra-tags = [{ name = \"models-v{version}\" }]\nskip-steps = [\"docker\"]",
        "",
    );
    let plan: Value =
        serde_json::from_str(&xtask(&fixture, &fakes, &["release", "current", "--json"]).stdout)
            .unwrap();
    assert_eq!(plan["version"], "0.4.0");
    assert_eq!(plan["file_edits"], serde_json::json!(["CHANGELOG.md"]));

    let run = xtask(
        &fixture,
        &fakes,
        &["release", "current", "--execute", "--skip-tests"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let changelog = fixture.read("CHANGELOG.md");
    assert!(
        changelog.contains("## [Unreleased]\n\n## Version 0.4.0 - ")
            && changelog.contains("- Flows for the new sensors\n\n## Version 0.3.0"),
        "{changelog}"
    );
    assert_eq!(
        fixture.git(&["log", "-1", "--format=%s", "v0.4.0"]),
        "Release version 0.4.0"
    );
    let remote = fixture.git(&["ls-remote", "--tags", "origin"]);
    assert!(
        remote.contains("refs/tags/v0.4.0") && remote.contains("refs/tags/models-v0.4.0"),
        "{remote}"
    );
    assert!(!run.stdout.contains("twine upload"), "{}", run.stdout);
}
