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

/// The release table written by init, to edit as a user would.
fn edit_config(fixture: &Fixture, edit: impl FnOnce(&mut toml_edit::Table)) {
    let mut doc: toml_edit::DocumentMut = fixture.read("Cargo.toml").parse().unwrap();
    let release = doc["workspace"]["metadata"]["release"]
        .as_table_mut()
        .expect("init writes [workspace.metadata.release]");
    edit(release);
    fixture.write("Cargo.toml", &doc.to_string());
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "chore: release configuration"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
}

fn toml_value(text: &str) -> toml_edit::Item {
    let doc: toml_edit::DocumentMut = format!("v = {text}").parse().unwrap();
    doc["v"].clone()
}

/// C. A Python package with several images: root `pyproject.toml` and
/// `uv.lock` (published by the project's own CI) beside a client package
/// the release uploads, three images from three Dockerfiles for two
/// platforms, tags `latest` and `v{version}`, `--no-cache`; an
/// `### Infrastructure` section; `make test` and `make lint` as the tests;
/// tag message "Release vX.Y.Z: <summary>"; ticket ids before the type;
/// the release waits for the project's CI before publishing.
#[test]
#[ignore = "service: needs a real dockerd (apt-get install docker.io, root); `cargo xtask test` runs it"]
fn a_package_with_three_images_adopts_and_waits_for_its_ci() {
    let daemon = crate::support::DockerDaemon::start();
    let pyproject = |name: &str| {
        format!(
            "[project]\nname = \"{name}\"\nversion = \"1.2.0\"\nreadme = \"README.md\"\nrequires-python = \">=3.9\"\ndependencies = []\n\n\
             [build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n"
        )
    };
    let dockerfile = "FROM scratch\nCOPY README.md /\n";
    let fixture = Fixture::adopting(&[
        ("pyproject.toml", &pyproject("vision-kit")),
        ("src/vision_kit/__init__.py", "__version__ = \"1.2.0\"\n"),
        ("clients/python/pyproject.toml", &pyproject("vision-kit-client")),
        ("clients/python/src/vision_kit_client/__init__.py", ""),
        ("clients/python/README.md", "# Vision kit client\n"),
        ("README.md", "# Vision kit\n"),
        ("services/api/Dockerfile", dockerfile),
        ("services/worker/Dockerfile", dockerfile),
        ("services/gateway/Dockerfile", dockerfile),
        (
            "Makefile",
            "test:\n\techo \"$$NEW_VERSION\" > tested\nlint:\n\ttouch linted\n",
        ),
        (".gitignore", "tested\nlinted\nsrc/vision_kit/_local_config.py\n"),
        (
            "CHANGELOG.md",
            "# Changelog\n\n## [Unreleased]\n\n## [1.2.0] - 2026-10-01\n\n### Infrastructure\n\n- Runners on arm64\n",
        ),
    ]);
    let locked = std::process::Command::new(crate::support::uv())
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
    fixture.git(&["tag", "v1.2.0"]);
    for subject in [
        "[VK-12] feat(api): detect boxes",
        "VK-13 ci: build on arm64 runners",
        "fix: worker timeout",
    ] {
        fixture.git(&["commit", "--quiet", "--allow-empty", "-m", subject]);
    }
    fixture.git(&["push", "--quiet", "origin", "main", "v1.2.0"]);
    let fakes = Fakes::install();

    let init = xtask(&fixture, &fakes, &["init", "--execute"]);
    assert_eq!(init.code, 0, "{}\n{}", init.stdout, init.stderr);
    for needle in [
        "Python package at . with uv.lock",
        "Python package at clients/python",
        "image from services/api/Dockerfile",
        "image from services/gateway/Dockerfile",
        "image from services/worker/Dockerfile",
    ] {
        assert!(
            init.stdout.contains(needle),
            "no {needle:?} in:\n{}",
            init.stdout
        );
    }

    // Config edits only.
    let server = crate::support::PypiServer::start("pypi-pw-C");
    let url = server.url.clone();
    edit_config(&fixture, |release| {
        release["github"] = toml_value("\"acme/vision-kit\"");
        release["tag-message"] = toml_value("\"Release {tag}: {summary}\"");
        release["hooks"] = toml_value("{ test = [[\"make\", \"test\"], [\"make\", \"lint\"]] }");
        release["ci"] =
            toml_value("{ workflows = [\"CI\"], timeout-minutes = 1, interval-seconds = 1 }");
        let changelog = release["changelog"].as_table_mut().unwrap();
        changelog["commit-prefixes"] = toml_value("[\"[*] \", \"*-* \"]");
        changelog["sections"] =
            toml_value("{ feat = \"Added\", fix = \"Fixed\", ci = \"Infrastructure\" }");
        changelog["section-order"] = toml_value("[\"Added\", \"Fixed\", \"Infrastructure\"]");
        let python = release["python"].as_array_of_tables_mut().unwrap();
        for package in python.iter_mut() {
            match package["path"].as_str() {
                Some(".") => package["publish"] = toml_value("false"),
                _ => package["index-url"] = toml_value(&format!("\"{url}\"")),
            }
        }
        let docker = release["docker"].as_array_of_tables_mut().unwrap();
        for image in docker.iter_mut() {
            // origin is a local path here, so init could not guess the owner.
            let dir = image["dockerfile"]
                .as_str()
                .unwrap()
                .split('/')
                .nth(1)
                .unwrap()
                .to_owned();
            image["name"] = toml_value(&format!("\"ghcr.io/acme/{dir}\""));
            image["context"] = toml_value("\".\"");
            image["platforms"] = toml_value("[\"linux/amd64\", \"linux/arm64\"]");
            image["tags"] = toml_value("[\"latest\", \"v{version}\"]");
            image["no-cache"] = toml_value("true");
        }
    });
    fakes.actions(serde_json::json!([
        { "workflow": "CI", "conclusion": "success", "in_progress_polls": 1 },
        { "workflow": "Docs", "conclusion": "failure" },
    ]));
    let release = |args: &[&str]| {
        let mut all = vec!["release"];
        all.extend_from_slice(args);
        crate::support::Xtask::new(&fixture.root)
            .args(&all)
            .fakes(&fakes)
            .path_first(&[&fakes.bin])
            .env("XTASK_PYTHON", crate::support::venv_python())
            .env("GH_TOKEN", crate::support::FAKE_GH_TOKEN)
            .env("TWINE_USERNAME", crate::support::PypiServer::USER)
            .env("TWINE_PASSWORD", "pypi-pw-C")
            .env("DOCKER_HOST", &daemon.host)
            .run()
    };
    let dry = release(&[]);
    assert_eq!(dry.code, 0, "{}\n{}", dry.stdout, dry.stderr);
    for image in ["api", "worker", "gateway"] {
        let build = dry
            .stdout
            .lines()
            .find(|l| {
                l.contains("buildx build") && l.contains(&format!("ghcr.io/acme/{image}:v1.3.0"))
            })
            .unwrap_or_else(|| panic!("no build of {image}:\n{}", dry.stdout));
        for part in [
            "--platform linux/amd64,linux/arm64",
            "--no-cache",
            &format!("ghcr.io/acme/{image}:latest"),
            &format!("services/{image}/Dockerfile"),
        ] {
            assert!(build.contains(part), "{part:?} not in {build}");
        }
    }
    assert!(
        dry.stdout
            .contains("waits up to 1 min for CI on the pushed release commit"),
        "{}",
        dry.stdout
    );

    // A file git ignores inside the package (a developer's key) never ships.
    fixture.write(
        "src/vision_kit/_local_config.py",
        "API_KEY = 'sk-local-CANARY'\n",
    );
    let run = release(&["--execute"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for file in [
        "vision_kit-1.3.0-py3-none-any.whl",
        "vision_kit-1.3.0.tar.gz",
    ] {
        let listed = std::process::Command::new(crate::support::venv_python())
            .args([
                "-c",
                "import sys, tarfile, zipfile; p = sys.argv[1]; \
                 print(zipfile.ZipFile(p).namelist() if p.endswith('.whl') else tarfile.open(p).getnames())",
            ])
            .arg(fixture.root.join("target/dist/v1.3.0").join(file))
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&listed.stdout);
        assert!(listed.contains("__init__.py"), "{file}: {listed}");
        assert!(
            !listed.contains("_local_config"),
            "{file} ships an ignored file: {listed}"
        );
    }
    // The project's own tests ran, with the release's environment.
    assert_eq!(fixture.read("tested").trim(), "1.3.0");
    assert!(fixture.root.join("linted").exists());
    assert!(run.stdout.contains("waiting for CI on"), "{}", run.stdout);
    assert!(run.stdout.contains("CI passed on"), "{}", run.stdout);
    let changelog = fixture.read("CHANGELOG.md");
    for line in [
        "### Added\n\n- **api:** detect boxes",
        "### Fixed\n\n- worker timeout",
        "### Infrastructure\n\n- build on arm64 runners",
        "### Infrastructure\n\n- Runners on arm64",
    ] {
        assert!(changelog.contains(line), "no {line:?} in:\n{changelog}");
    }
    assert!(!changelog.contains("VK-1"), "{changelog}");
    let message = fixture.git(&["tag", "-l", "--format=%(contents:subject)", "v1.3.0"]);
    assert!(message.starts_with("Release v1.3.0: "), "{message}");
    // Both packages moved to 1.3.0, the lock with them.
    assert!(fixture
        .read("uv.lock")
        .contains("name = \"vision-kit\"\nversion = \"1.3.0\""));
    assert!(fixture
        .read("clients/python/pyproject.toml")
        .contains("version = \"1.3.0\""));
    // Only the client went to the index; the root package is its CI's.
    let uploaded: Vec<String> = std::fs::read_dir(&server.packages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(uploaded.len(), 2, "{uploaded:?}");
    assert!(
        uploaded
            .iter()
            .all(|f| f.starts_with("vision_kit_client-1.3.0")),
        "{uploaded:?}"
    );
    // Every image for both platforms, pushed with both tags.
    let pushed = fakes.state_of("docker-buildx");
    for image in ["api", "worker", "gateway"] {
        for tag in ["latest", "v1.3.0"] {
            assert!(
                pushed.get(format!("ghcr.io/acme/{image}:{tag}")).is_some(),
                "{image}:{tag} not pushed: {pushed}"
            );
        }
    }
    // The SBOM describes the product: both wheels, each image.
    let sbom: Value =
        serde_json::from_str(&fixture.read("target/dist/v1.3.0/sbom.cdx.json")).unwrap();
    let components = sbom["components"].as_array().unwrap();
    for image in ["api", "worker", "gateway"] {
        assert!(
            components.iter().any(|c| c["type"] == "container"
                && c["name"] == format!("ghcr.io/acme/{image}")
                && c["version"] == "1.3.0"),
            "no image {image} in the SBOM"
        );
    }
    for wheel in ["vision-kit", "vision-kit-client"] {
        assert!(
            components
                .iter()
                .any(|c| c["type"] == "library" && c["name"] == wheel),
            "no {wheel} in the SBOM"
        );
    }
    let verify = xtask(&fixture, &fakes, &["verify-release", "v1.3.0"]);
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
}

/// D. A benchmark suite: releases from `release/vX.Y.x` branches as release
/// candidates `vX.Y.Z-rc.N`, merged back into main; the version quoted in
/// `docs/**/*.md` follows; every file of the release signed with gpg, with
/// the SBOM and SLSA provenance; no Python package, no image.
#[test]
fn a_benchmark_suite_releases_a_candidate_from_its_release_branch() {
    let fixture = Fixture::adopting(&[
        ("README.md", "# Edge benchmarks\n"),
        ("bench/run.py", "print('latency')\n"),
        ("results/latency.json", "{\"p50_ms\": 4.2}\n"),
        ("docs/index.md", "# Edge benchmarks 2.0.0\n"),
        (
            "docs/guide/running.md",
            "Install edge-bench 2.0.0, then run it.\nThe 2.0.0 guide.\n",
        ),
        (
            "CHANGELOG.md",
            "# Changelog\n\n## [Unreleased]\n\n## [2.0.0] - 2026-09-01\n\n### Added\n\n- Latency suite\n",
        ),
    ]);
    fixture.git(&["tag", "v2.0.0"]);
    fixture.git(&["push", "--quiet", "origin", "main", "v2.0.0"]);
    let fakes = Fakes::install();
    let init = xtask(&fixture, &fakes, &["init", "--execute"]);
    assert_eq!(init.code, 0, "{}\n{}", init.stdout, init.stderr);
    assert!(
        init.stdout
            .contains("version 2.0.0 (the newest release tag)"),
        "{}",
        init.stdout
    );
    edit_config(&fixture, |release| {
        release["github"] = toml_value("\"acme/edge-bench\"");
        release["merge-back"] = toml_value("\"main\"");
        release["sign-assets"] = toml_value("true");
        release["version-files"] =
            toml_value("[{ path = \"docs/**/*.md\", search = \" {version}\", count = 3 }]");
        release["assets"] = toml_value("[{ files = [\"results/*.json\"] }]");
    });
    fixture.git(&["checkout", "--quiet", "-b", "release/v2.1.x"]);
    fixture.git(&[
        "commit",
        "--quiet",
        "--allow-empty",
        "-m",
        "feat: memory suite",
    ]);
    fixture.git(&["push", "--quiet", "-u", "origin", "release/v2.1.x"]);
    // Main moves on meanwhile.
    fixture.git(&["checkout", "--quiet", "main"]);
    fixture.write("bench/power.py", "print('power')\n");
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: power suite"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    fixture.git(&["checkout", "--quiet", "release/v2.1.x"]);

    let keyring = crate::supply_chain::Keyring::new();
    let release = |more: &[&str]| {
        let mut args = vec!["release", "2.1.0-rc.1", "--sign-key", &keyring.keys[0]];
        args.extend_from_slice(more);
        crate::support::Xtask::new(&fixture.root)
            .args(&args)
            .fakes(&fakes)
            .path_first(&[&fakes.bin])
            .env("XTASK_PYTHON", crate::support::venv_python())
            .env("GH_TOKEN", crate::support::FAKE_GH_TOKEN)
            .env("GNUPGHOME", keyring.home())
            .run()
    };
    // The dry run stages and signs what the suite ships, and changes nothing.
    let dry = release(&[]);
    assert_eq!(dry.code, 0, "{}\n{}", dry.stdout, dry.stderr);
    let staged = fixture.root.join("target/dist/v2.1.0-rc.1");
    for name in [
        "latency.json",
        "latency.json.asc",
        "sha256sum.txt.asc",
        "sbom.cdx.json",
    ] {
        assert!(staged.join(name).is_file(), "{name} not staged");
    }
    assert_eq!(fixture.read("docs/index.md"), "# Edge benchmarks 2.0.0\n");
    let run = release(&["--execute", "--skip-tests"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // The docs quote the candidate; the tag and the merge are on origin.
    assert_eq!(
        fixture.read("docs/index.md"),
        "# Edge benchmarks 2.1.0-rc.1\n"
    );
    assert_eq!(
        fixture.read("docs/guide/running.md"),
        "Install edge-bench 2.1.0-rc.1, then run it.\nThe 2.1.0-rc.1 guide.\n"
    );
    let remote = fixture.git(&["ls-remote", "origin"]);
    assert!(remote.contains("refs/tags/v2.1.0-rc.1"), "{remote}");
    fixture.git(&["fetch", "--quiet", "origin"]);
    let merged = fixture.git(&["merge-base", "--is-ancestor", "v2.1.0-rc.1", "origin/main"]);
    assert_eq!(merged, "");
    assert!(
        fixture
            .git(&["log", "-1", "--format=%s", "origin/main"])
            .contains("Merge"),
        "main has the release merged in"
    );
    // A pre-release on GitHub, every file signed, SBOM and provenance
    // among them; what a user downloads verifies with the key.
    let release = &fakes.state_of("gh")["releases"]["v2.1.0-rc.1"];
    assert_eq!(release["isPrerelease"], true, "{release}");
    let names: Vec<&str> = release["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for name in [
        "latency.json",
        "latency.json.asc",
        "sbom.cdx.json",
        "sbom.cdx.json.asc",
        "provenance.intoto.json.asc",
        "sha256sum.txt.asc",
    ] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
    let verify = crate::support::Xtask::new(&fixture.root)
        .args(&["verify-release", "v2.1.0-rc.1", "--key", &keyring.keys[0]])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .env("GH_TOKEN", crate::support::FAKE_GH_TOKEN)
        .env("GNUPGHOME", keyring.home())
        .run();
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
}

/// E. An on-device kit: assets named `models-{version}.zip` (a bundle),
/// `benchmarks-{version}.json` and `SBOM-{version}.json`; a changelog made
/// from commits only, grouped by type under the project's own headings; a
/// sub-project under `ios/` with its own build and test commands run as
/// hooks (here a Makefile stands in for `swift build` / `swift test`,
/// which this machine does not have).
#[test]
fn an_on_device_kit_ships_its_named_assets_and_runs_its_ios_hooks() {
    let fixture = Fixture::adopting(&[
        ("README.md", "# On-device kit\n"),
        ("models/detector.onnx", "onnx bytes\n"),
        ("models/labels.txt", "person\ncar\n"),
        ("benchmarks/results.json", "{\"fps\": 31}\n"),
        (
            "ios/Makefile",
            "build:\n\techo \"$$TAG\" > built\ntest:\n\techo \"$$NEW_VERSION $$DRY_RUN\" > tested\n",
        ),
        ("ios/.gitignore", "built\ntested\n"),
        (
            "CHANGELOG.md",
            "# Changelog\n\n## [Unreleased]\n\n## [0.9.0] - 2026-08-01\n\n### Features\n\n- First kit\n",
        ),
    ]);
    fixture.git(&["tag", "kit-v0.9.0"]);
    for subject in [
        "feat: person detector",
        "perf: int8 labels",
        "fix: label order",
    ] {
        fixture.git(&["commit", "--quiet", "--allow-empty", "-m", subject]);
    }
    fixture.git(&["push", "--quiet", "origin", "main", "kit-v0.9.0"]);
    let fakes = Fakes::install();
    let init = xtask(&fixture, &fakes, &["init", "--execute"]);
    assert_eq!(init.code, 0, "{}\n{}", init.stdout, init.stderr);
    edit_config(&fixture, |release| {
        release["github"] = toml_value("\"acme/kit\"");
        release["sbom-name"] = toml_value("\"SBOM-{version}.json\"");
        release["assets"] = toml_value(
            "[{ files = [\"models/*\"], bundle = \"models-{version}.zip\" }, \
              { files = [\"benchmarks/results.json\"], name = \"benchmarks-{version}.json\" }]",
        );
        release["hooks"] = toml_value(
            "{ test = [[\"make\", \"-C\", \"ios\", \"test\"]], pre-release = [[\"make\", \"-C\", \"ios\", \"build\"]] }",
        );
        let changelog = release["changelog"].as_table_mut().unwrap();
        changelog["entries"] = toml_value("\"commits\"");
        changelog["sections"] =
            toml_value("{ feat = \"Features\", fix = \"Bug Fixes\", perf = \"Performance\" }");
        changelog["section-order"] = toml_value("[\"Features\", \"Bug Fixes\", \"Performance\"]");
    });

    // A hand-written line where only commits make the section: refused,
    // named, nothing changed.
    let changelog = fixture.read("CHANGELOG.md");
    fixture.write(
        "CHANGELOG.md",
        &changelog.replace(
            "## [Unreleased]\n",
            "## [Unreleased]\n\n- Written by hand\n",
        ),
    );
    fixture.git(&["commit", "--quiet", "-am", "docs: a hand-written line"]);
    let refs = fixture.git(&["for-each-ref"]);
    let refused = xtask(&fixture, &fakes, &["release", "--execute", "--skip-tests"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .contains("[Unreleased] has hand-written lines")
            && refused.stderr.contains("- Written by hand")
            && refused.stderr.contains("entries = \"both\""),
        "{}",
        refused.stderr
    );
    assert_eq!(fixture.git(&["for-each-ref"]), refs);
    fixture.write("CHANGELOG.md", &changelog);
    fixture.git(&[
        "commit",
        "--quiet",
        "-am",
        "docs: leave the changelog to the commits",
    ]);
    fixture.git(&["push", "--quiet", "origin", "main"]);

    let dry = xtask(&fixture, &fakes, &["release"]);
    assert_eq!(dry.code, 0, "{}\n{}", dry.stdout, dry.stderr);
    for name in [
        "models-0.10.0.zip",
        "benchmarks-0.10.0.json",
        "SBOM-0.10.0.json",
    ] {
        assert!(
            fixture
                .root
                .join("target/dist/v0.10.0")
                .join(name)
                .is_file(),
            "{name} not staged by the dry run"
        );
    }
    // The pre-release hook ran in the dry run too, told so; the tests did not.
    assert_eq!(fixture.read("ios/built").trim(), "kit-v0.10.0");
    assert!(!fixture.root.join("ios/tested").exists());
    let run = xtask(&fixture, &fakes, &["release", "--execute"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fixture.read("ios/tested").trim(), "0.10.0 false");
    assert_eq!(fixture.read("ios/built").trim(), "kit-v0.10.0");
    let written = fixture.read("CHANGELOG.md");
    assert!(
        written.contains("## [0.10.0] - ")
            && written.contains("### Features\n\n- person detector (")
            && written.contains("### Bug Fixes\n\n- label order (")
            && written.contains("### Performance\n\n- int8 labels ("),
        "{written}"
    );
    let release = &fakes.state_of("gh")["releases"]["kit-v0.10.0"];
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
            "SBOM-0.10.0.json",
            "benchmarks-0.10.0.json",
            "manifest.json",
            "models-0.10.0.zip",
            "provenance.intoto.json",
            "sha256sum.txt",
        ]
    );
    // The SBOM names what ships, not itself.
    let dist = fixture.root.join("target/dist/v0.10.0");
    let sbom: Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("SBOM-0.10.0.json")).unwrap())
            .unwrap();
    let components = sbom["components"].to_string();
    assert!(
        components.contains("models-0.10.0.zip") && !components.contains("SBOM-0.10.0.json"),
        "{components}"
    );
    let verify = xtask(&fixture, &fakes, &["verify-release", "kit-v0.10.0"]);
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
}

/// docs/ADOPTING.md's steps, run as written (this checkout standing for
/// `../tcn-vae-edge`) in a repository that has never seen the xtask: the
/// copied lock is used (nothing resolved anew), nothing of the build is
/// committed, and the dry run of the first release works.
#[test]
fn the_adopting_steps_run_as_written() {
    let dir = crate::support::TempDir::new("adopting-steps");
    let root = dir.path().join("service");
    std::fs::create_dir_all(&root).unwrap();
    let origin = dir.path().join("origin.git");
    let run = |line: &str| {
        let out = std::process::Command::new("sh")
            .args(["-c", line])
            .current_dir(&root)
            .env("CARGO_NET_OFFLINE", "true")
            .env_remove("CARGO_TARGET_DIR")
            .env("XTASK_PYTHON", crate::support::venv_python())
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "`{line}` failed:\n{said}");
        said
    };
    // No changelog: init starts one.
    std::fs::write(root.join("README.md"), "# A service\n").unwrap();
    for line in [
        "git init --quiet -b main",
        "git config user.name Adopter && git config user.email adopter@example.invalid",
        "git add -A && git commit --quiet -m 'feat: a service'",
        &format!("git init --quiet --bare -b main {}", origin.display()),
        &format!(
            "git remote add origin {} && git push --quiet -u origin main",
            origin.display()
        ),
    ] {
        run(line);
    }
    let doc = std::fs::read_to_string(repo_root().join("docs/ADOPTING.md")).unwrap();
    let block = doc
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/ADOPTING.md has a ```sh block of steps");
    let mut said = String::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let line = line.replace("../tcn-vae-edge", &repo_root().display().to_string());
        said = run(&line);
    }
    // The last step is the dry run of the first release.
    assert!(said.contains("Dry run: staged and verified"), "{said}");
    assert!(
        !said.contains("Locking"),
        "the copied lock was not used:\n{said}"
    );
    assert!(root.join("Cargo.lock").is_file() && !root.join("xtask/Cargo.lock").exists());
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
    assert!(changelog.contains("Keep a Changelog") && changelog.ends_with("## [Unreleased]\n"));
    let committed = run("git ls-files");
    assert!(
        !committed.contains("target/") && committed.contains("xtask/src/main.rs"),
        "{committed}"
    );
    assert_eq!(run("git status --porcelain"), "");
}
