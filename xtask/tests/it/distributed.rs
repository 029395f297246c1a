//! A release across machines (issue "A release across machines"): planned
//! once, its parts built in other checkouts (the HEF where the DFC is, the
//! wheel, the ONNX and each image platform elsewhere), published from a
//! fresh checkout with none of their `target/` directories; a stale or
//! tampered part is refused with nothing published; a publish that stopped
//! is finished by another fresh checkout with no journal.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::support::{self, Fakes, Fixture, PypiServer, TempDir, Xtask, FAKE_GH_TOKEN};

const TWINE_PASSWORD: &str = "split-CANARY-pw-1357";

/// Another machine: a clone of origin at `commit`, with nothing built.
fn machine(fixture: &Fixture, dir: &TempDir, name: &str, commit: &str) -> PathBuf {
    let root = dir.path().join(name);
    let git = |args: &[&str], cwd: &Path| {
        let out = Command::new("git")
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(
        &[
            "clone",
            "--quiet",
            &fixture.origin.display().to_string(),
            &root.display().to_string(),
        ],
        dir.path(),
    );
    git(&["checkout", "--quiet", commit], &root);
    git(&["config", "user.name", "Machine"], &root);
    git(&["config", "user.email", "machine@example.invalid"], &root);
    root
}

/// A directory with only the fake `gh`: a machine with no DFC.
fn only_gh(fakes: &Fakes, dir: &TempDir) -> PathBuf {
    let bin = dir.path().join("gh-only");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["gh", "_fakelib.py"] {
        std::os::unix::fs::symlink(fakes.bin.join(name), bin.join(name)).unwrap();
    }
    bin
}

fn xtask(root: &Path, fakes: &Fakes, path: &Path, args: &[&str]) -> support::Run {
    Xtask::new(root)
        .args(args)
        .fakes(fakes)
        .path_first(&[path])
        .env("XTASK_PYTHON", support::venv_python())
        .env("GH_TOKEN", FAKE_GH_TOKEN)
        .env("TWINE_USERNAME", PypiServer::USER)
        .env("TWINE_PASSWORD", TWINE_PASSWORD)
        .run()
}

/// The example with trained weights shipped and the test index configured.
fn example(server: &PypiServer) -> Fixture {
    let fixture = Fixture::new();
    let trained = Xtask::new(&fixture.root)
        .args(&["onnx-export", "--synthetic"])
        .env("XTASK_PYTHON", support::venv_python())
        .run();
    assert_eq!(trained.code, 0, "{}\n{}", trained.stdout, trained.stderr);
    std::fs::create_dir_all(fixture.root.join("weights")).unwrap();
    std::fs::copy(
        fixture
            .root
            .join("target/synthetic-weights/tcn_encoder.pth"),
        fixture.root.join("weights/best_tcn_vae_72pct.pth"),
    )
    .unwrap();
    std::fs::remove_dir_all(fixture.root.join("target")).unwrap();
    // An image built from the repository (a part per platform) beside the
    // example's, which builds from the staged release (at publish).
    fixture.write("docker/api/Dockerfile", "FROM scratch\nLABEL role=api\n");
    let manifest = fixture
        .read("Cargo.toml")
        .replace("https://upload.pypi.org/legacy/", &server.url)
        .replace(
            "metadata = \"models/tcn_encoder\"",
            "metadata = \"models/tcn_encoder\"\nassets = [\"weights/best_tcn_vae_72pct.pth\"]",
        );
    let manifest = manifest
        + "\n[[workspace.metadata.release.docker]]\nname = \"ghcr.io/edge-ml/api\"\n\
           dockerfile = \"docker/api/Dockerfile\"\ncontext = \"docker/api\"\n\
           platforms = [\"linux/amd64\", \"linux/arm64\"]\n";
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: ship the trained weights"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    fixture
}

fn sha256_of(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn gh_state(fakes: &Fakes) -> Value {
    fakes.state_of("gh")
}

fn uploaded(server: &PypiServer) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&server.packages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_release_planned_once_is_built_on_three_machines_and_published_from_a_fourth() {
    let server = PypiServer::start(TWINE_PASSWORD);
    let fixture = example(&server);
    let fakes = Fakes::install();
    let machines = TempDir::new("machines");
    let gh_only = only_gh(&fakes, &machines);
    let plan = machines.path().join("plan.json");
    let plan_arg = plan.display().to_string();

    // 1. Plan once: the release commit and tag are pushed, nothing published.
    let planned = xtask(
        &fixture.root,
        &fakes,
        &gh_only,
        &[
            "release",
            "plan",
            "minor",
            "--out",
            &plan_arg,
            "--execute",
            "--skip-tests",
        ],
    );
    assert_eq!(planned.code, 0, "{}\n{}", planned.stdout, planned.stderr);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let commit = file["release_commit"].as_str().unwrap().to_owned();
    assert_eq!(fixture.git(&["rev-parse", "v0.2.0^{commit}"]), commit);
    let parts: Vec<&str> = file["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        parts,
        [
            "python:tcn-vae",
            "onnx:tcn_encoder",
            "hef:tcn_encoder:hailo8",
            "image:ghcr.io/edge-ml/api:linux/amd64",
            "image:ghcr.io/edge-ml/api:linux/arm64",
        ]
    );
    assert_eq!(
        file["parts"][2]["runs_on"],
        json!(["self-hosted", "hailo-dfc"])
    );
    assert!(gh_state(&fakes)["releases"].get("v0.2.0").is_none());
    assert!(uploaded(&server).is_empty());

    // The matrix the workflow runs: parts first, then those built from them.
    let first = xtask(
        &fixture.root,
        &fakes,
        &gh_only,
        &["release", "matrix", "--plan", &plan_arg],
    );
    let first: Value = serde_json::from_str(first.stdout.trim()).unwrap();
    assert_eq!(first["include"].as_array().unwrap().len(), 4, "{first}");
    let after = xtask(
        &fixture.root,
        &fakes,
        &gh_only,
        &["release", "matrix", "--plan", &plan_arg, "--after"],
    );
    let after: Value = serde_json::from_str(after.stdout.trim()).unwrap();
    assert_eq!(after["include"][0]["part"], "hef:tcn_encoder:hailo8");
    assert_eq!(
        after["include"][0]["with"],
        json!(["part-onnx-tcn_encoder"])
    );

    // 2. Machine C (no DFC): the wheel, the ONNX and both image platforms.
    let c = machine(&fixture, &machines, "c", &commit);
    let out = machines.path().join("parts");
    let part_dir = |id: &str| out.join(id.replace([':', '/'], "-"));
    for id in [
        "python:tcn-vae",
        "onnx:tcn_encoder",
        "image:ghcr.io/edge-ml/api:linux/amd64",
        "image:ghcr.io/edge-ml/api:linux/arm64",
    ] {
        let dir = part_dir(id).display().to_string();
        let built = xtask(
            &c,
            &fakes,
            &gh_only,
            &[
                "release", "build", "--plan", &plan_arg, "--part", id, "--out", &dir,
            ],
        );
        assert_eq!(built.code, 0, "{id}: {}\n{}", built.stdout, built.stderr);
    }
    // Without the DFC the HEF part says what is missing.
    let hef = "hef:tcn_encoder:hailo8";
    let onnx_dir = part_dir("onnx:tcn_encoder").display().to_string();
    let hef_out = part_dir(hef).display().to_string();
    let build_hef = |root: &Path, path: &Path| {
        xtask(
            root,
            &fakes,
            path,
            &[
                "release", "build", "--plan", &plan_arg, "--part", hef, "--out", &hef_out,
                "--with", &onnx_dir,
            ],
        )
    };
    let no_dfc = build_hef(&c, &gh_only);
    assert_ne!(no_dfc.code, 0);
    assert!(
        no_dfc.stderr.contains("Hailo Dataflow Compiler"),
        "{}",
        no_dfc.stderr
    );

    // 3. Machine B: the HEF, with the fake DFC on its PATH, from C's ONNX.
    let b = machine(&fixture, &machines, "b", &commit);
    let built = build_hef(&b, &fakes.bin);
    assert_eq!(built.code, 0, "{}\n{}", built.stdout, built.stderr);
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(part_dir(hef).join("part.json")).unwrap())
            .unwrap();
    assert_eq!(record["commit"], commit.as_str());
    assert_eq!(record["plan_hash"], file["hash"]);
    assert!(record["tools"]["hailo-dfc"].is_string(), "{record:#}");

    // A part of another commit, or with a changed file, is refused; nothing
    // is published.
    let d = machine(&fixture, &machines, "d", &commit);
    let out_arg = out.display().to_string();
    let publish = |root: &Path| {
        xtask(
            root,
            &fakes,
            &gh_only,
            &[
                "release",
                "publish",
                "--plan",
                &plan_arg,
                "--parts",
                &out_arg,
                "--execute",
            ],
        )
    };
    let wheel_dir = part_dir("python:tcn-vae");
    let wheel = std::fs::read_dir(&wheel_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .unwrap();
    let original = std::fs::read(&wheel).unwrap();
    std::fs::write(&wheel, b"not the wheel that was built").unwrap();
    let tampered = publish(&d);
    assert_eq!(tampered.code, 1, "{}", tampered.stdout);
    assert!(
        tampered
            .stderr
            .contains("the file changed after it was built")
            && tampered.stderr.contains("nothing was published"),
        "{}",
        tampered.stderr
    );
    std::fs::write(&wheel, original).unwrap();
    let manifest_path = part_dir(hef).join("part.json");
    let honest = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(&manifest_path, honest.replace(&commit, &"0".repeat(40))).unwrap();
    let stale = publish(&d);
    assert_eq!(stale.code, 1, "{}", stale.stdout);
    assert!(
        stale.stderr.contains(
            "was built at 0000000000000000000000000000000000000000, not at the release commit"
        ),
        "{}",
        stale.stderr
    );
    std::fs::write(&manifest_path, &honest).unwrap();
    // A part naming a file outside its directory.
    let mut escaping: Value = serde_json::from_str(&honest).unwrap();
    escaping["outputs"]["../../Cargo.toml"] = json!("00");
    std::fs::write(&manifest_path, escaping.to_string()).unwrap();
    let outside = publish(&d);
    assert_eq!(outside.code, 1, "{}", outside.stdout);
    assert!(
        outside
            .stderr
            .contains("lists \"../../Cargo.toml\", which is not a plain file name"),
        "{}",
        outside.stderr
    );
    std::fs::write(&manifest_path, &honest).unwrap();
    // A HEF compiled from another ONNX than the one the release ships, its
    // part manifest made consistent: its compile manifest gives it away.
    let record_path = part_dir(hef).join("tcn_encoder.hef.json");
    let record = std::fs::read_to_string(&record_path).unwrap();
    let compiled: Value = serde_json::from_str(&record).unwrap();
    let onnx_sha = compiled["onnx"]["sha256"].as_str().unwrap();
    std::fs::write(&record_path, record.replace(onnx_sha, &"ab".repeat(32))).unwrap();
    let mut forged: Value = serde_json::from_str(&honest).unwrap();
    forged["outputs"]["tcn_encoder.hef.json"] = json!(sha256_of(&record_path));
    std::fs::write(&manifest_path, forged.to_string()).unwrap();
    let other_onnx = publish(&d);
    assert_eq!(other_onnx.code, 1, "{}", other_onnx.stdout);
    assert!(
        other_onnx
            .stderr
            .contains("was compiled from an ONNX with sha256 abab")
            && other_onnx
                .stderr
                .contains("but the release ships tcn_encoder.onnx"),
        "{}",
        other_onnx.stderr
    );
    std::fs::write(&record_path, &record).unwrap();
    std::fs::write(&manifest_path, &honest).unwrap();
    assert!(gh_state(&fakes)["releases"].get("v0.2.0").is_none());
    assert!(uploaded(&server).is_empty());
    assert!(
        !d.join("target").exists(),
        "a refused publish staged nothing"
    );

    // 4. Machine D publishes and is killed (SIGKILL, its whole process
    // group) while the GitHub release is being made public.
    fakes.fail(json!({"tool": "gh", "args": ["release", "edit"], "hang": true}));
    let mut child = {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.args([
            "release",
            "publish",
            "--plan",
            &plan_arg,
            "--parts",
            &out_arg,
            "--execute",
        ])
        .current_dir(&d)
        .envs(fakes.env())
        .env(
            "PATH",
            format!("{}:{}", gh_only.display(), std::env::var("PATH").unwrap()),
        )
        .env("XTASK_PYTHON", support::venv_python())
        .env("GH_TOKEN", FAKE_GH_TOKEN)
        .env("TWINE_USERNAME", PypiServer::USER)
        .env("TWINE_PASSWORD", TWINE_PASSWORD)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0);
        cmd.spawn().unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    while !fakes
        .calls(Some("gh"))
        .iter()
        .any(|c| c["argv"][1] == "edit")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "publish never reached the GitHub release's publish"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let killed = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    assert_eq!(gh_state(&fakes)["releases"]["v0.2.0"]["isDraft"], true);
    let on_index = uploaded(&server);
    assert_eq!(on_index.len(), 2, "{on_index:?}");
    let uploads_before = fakes
        .calls(Some("gh"))
        .iter()
        .filter(|c| c["argv"][1] == "upload")
        .count();

    // 5. A fresh machine E, with no journal, finishes it from what the world
    // holds: nothing is uploaded again.
    let e = machine(&fixture, &machines, "e", &commit);
    let finished = publish(&e);
    assert_eq!(finished.code, 0, "{}\n{}", finished.stdout, finished.stderr);
    assert_eq!(uploaded(&server), on_index);
    assert_eq!(
        fakes
            .calls(Some("gh"))
            .iter()
            .filter(|c| c["argv"][1] == "upload")
            .count(),
        uploads_before,
        "an asset was uploaded twice"
    );
    let release = &gh_state(&fakes)["releases"]["v0.2.0"];
    assert_eq!(release["isDraft"], false, "{release}");
    let names: Vec<&str> = release["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    // Everything the plan said the release ships.
    for planned in file["plan"]["assets"].as_array().unwrap() {
        let planned = planned.as_str().unwrap();
        assert!(
            names.contains(&planned),
            "{planned} not released: {names:?}"
        );
    }
    // The api image: one manifest list of the two platforms its parts
    // pushed by digest, under the planned tags.
    let registry = fakes.state_of("docker-buildx");
    let index = registry["ghcr.io/edge-ml/api:0.2.0"].as_str().unwrap();
    assert_eq!(registry["ghcr.io/edge-ml/api:latest"], index);
    assert_eq!(
        registry[format!("index:{index}")].as_array().unwrap().len(),
        2
    );
    // The example's image, built at publish from the staged release.
    assert!(
        registry["ghcr.io/edge-ml/edgeinfer:0.2.0"].is_string(),
        "{registry:#}"
    );
    // What a user downloads verifies.
    let verify = xtask(&e, &fakes, &gh_only, &["verify-release", "v0.2.0"]);
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    for run in [&planned, &tampered, &stale, &other_onnx, &finished] {
        assert!(!run.all().contains(TWINE_PASSWORD) && !run.all().contains(FAKE_GH_TOKEN));
    }
}

/// An engine without the buildx plugin (Debian's docker.io here): each
/// machine builds its own platform and pushes it; publish merges the parts
/// with `docker manifest` into one list under the planned tags, against a
/// real dockerd and registry.
#[test]
#[ignore = "service: needs a real dockerd and docker-registry (apt-get install docker.io docker-registry, root); `cargo xtask test` runs it"]
fn an_engine_without_buildx_pushes_its_platform_and_publish_merges_with_docker_manifest() {
    let daemon = support::DockerDaemon::start();
    let password = "reg-split-CANARY-pw-77";
    let registry = support::DockerRegistry::start(password);
    let name = format!("{}/edge/api", registry.host);
    let host = format!(
        "linux/{}",
        match std::env::consts::ARCH {
            "aarch64" => "arm64",
            _ => "amd64",
        }
    );
    let fixture = Fixture::new();
    fixture.write("docker/api/Dockerfile", "FROM scratch\nCOPY hello.txt /\n");
    fixture.write("docker/api/hello.txt", "hello from the api image\n");
    let manifest = support::drop_table(
        &support::drop_table(
            &support::drop_table(&fixture.read("Cargo.toml"), "docker"),
            "models",
        ),
        "python",
    ) + &format!(
        "\n[[workspace.metadata.release.docker]]\nname = \"{name}\"\ndockerfile = \"docker/api/Dockerfile\"\n\
         context = \"docker/api\"\nplatforms = [\"{host}\"]\n"
    );
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: the api image"]);
    fixture.git(&["push", "--quiet", "origin", "main"]);
    let fakes = Fakes::install();
    let machines = TempDir::new("machines");
    let gh_only = only_gh(&fakes, &machines);
    let plain_config = TempDir::new("docker-config");
    let plan = machines.path().join("plan.json").display().to_string();
    let run = |root: &Path, args: &[&str]| {
        Xtask::new(root)
            .args(args)
            .fakes(&fakes)
            .path_first(&[&gh_only])
            // No buildx plugin: the engine as Debian ships it.
            .env("DOCKER_CONFIG", plain_config.path())
            .env("DOCKER_HOST", &daemon.host)
            .env("DOCKER_USERNAME", support::DockerRegistry::USER)
            .env("DOCKER_PASSWORD", password)
            .env("XTASK_PYTHON", support::venv_python())
            .env("GH_TOKEN", FAKE_GH_TOKEN)
            .run()
    };
    let planned = run(
        &fixture.root,
        &[
            "release",
            "plan",
            "minor",
            "--out",
            &plan,
            "--execute",
            "--skip-tests",
        ],
    );
    assert_eq!(planned.code, 0, "{}\n{}", planned.stdout, planned.stderr);
    let commit = fixture.git(&["rev-parse", "HEAD"]);
    let part = format!("image:{name}:{host}");
    let c = machine(&fixture, &machines, "c", &commit);
    let out = machines.path().join("parts/api");
    let built = run(
        &c,
        &[
            "release",
            "build",
            "--plan",
            &plan,
            "--part",
            &part,
            "--out",
            &out.display().to_string(),
        ],
    );
    assert_eq!(built.code, 0, "{}\n{}", built.stdout, built.stderr);
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("part.json")).unwrap()).unwrap();
    let platform_digest = record["digest"].as_str().unwrap().to_owned();

    let d = machine(&fixture, &machines, "d", &commit);
    let parts = machines.path().join("parts").display().to_string();
    let published = run(
        &d,
        &[
            "release",
            "publish",
            "--plan",
            &plan,
            "--parts",
            &parts,
            "--execute",
        ],
    );
    assert_eq!(
        published.code, 0,
        "{}\n{}",
        published.stdout, published.stderr
    );
    let tags = registry.tags("edge/api", password);
    let platform_tag = format!("0.2.0-{}", host.replace('/', "-"));
    for tag in ["0.2", "0.2.0", "latest", platform_tag.as_str()] {
        assert!(tags.iter().any(|t| t == tag), "{tag} not in {tags:?}");
    }
    let digest = |tag: &str| registry.digest("edge/api", tag, password);
    assert_eq!(digest("0.2.0"), digest("latest"));
    assert_eq!(digest(&platform_tag), platform_digest);
    let (status, _, list) = registry.get(
        "/v2/edge/api/manifests/0.2.0",
        password,
        "application/vnd.docker.distribution.manifest.list.v2+json",
    );
    assert_eq!(status, 200, "{list}");
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(
        list["manifests"][0]["digest"],
        platform_digest.as_str(),
        "{list:#}"
    );

    // Publish again on a fresh machine: the list is there, nothing moves.
    let e = machine(&fixture, &machines, "e", &commit);
    let again = run(
        &e,
        &[
            "release",
            "publish",
            "--plan",
            &plan,
            "--parts",
            &parts,
            "--execute",
        ],
    );
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(digest("0.2.0"), digest("latest"));
    for out in [&planned, &built, &published, &again] {
        assert!(
            !out.all().contains(password),
            "the registry password leaked"
        );
    }
}
