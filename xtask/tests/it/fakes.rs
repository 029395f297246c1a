//! The fake tools behave like the real ones for what the release uses:
//! state, output formats, failures. Tests of the xtask are only as good as
//! the fakes they run against.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{self, Fakes, Fixture, TempDir};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(fakes: &Fakes, dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = if program == "docker" {
        Command::new("docker")
    } else {
        Command::new(fakes.bin.join(program))
    };
    cmd.args(args).current_dir(dir).stdin(Stdio::null());
    for var in support::SECRET_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in fakes.env() {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn gh_keeps_release_state_like_github() {
    let fixture = Fixture::new();
    let fakes = Fakes::install();
    let token = [("GH_TOKEN", "t0ken-for-fake")];
    let gh = |args: &[&str]| run(&fakes, &fixture.root, "gh", args, &token);
    fixture.write("notes.md", "notes\n");
    fixture.write("dist/a.bin", "aaaa");

    // Without a token, gh refuses with its exit code 4.
    let anon = run(
        &fakes,
        &fixture.root,
        "gh",
        &["release", "view", "v0.1.0"],
        &[],
    );
    assert_eq!(anon.code, 4, "{}", anon.stderr);

    // --verify-tag needs the tag on the remote; the same call works once it is there.
    let create_draft = [
        "release",
        "create",
        "v0.1.0",
        "--draft",
        "--verify-tag",
        "--title",
        "T",
        "--notes-file",
        "notes.md",
    ];
    let no_tag = gh(&create_draft);
    assert_eq!(no_tag.code, 1);
    assert!(
        no_tag.stderr.contains("aborting due to --verify-tag flag"),
        "{}",
        no_tag.stderr
    );
    fixture.git(&["tag", "-a", "v0.1.0", "-m", "v0.1.0"]);
    fixture.git(&["push", "--quiet", "origin", "v0.1.0"]);

    let create = gh(&create_draft);
    assert_eq!(create.code, 0, "{}", create.stderr);
    let again = gh(&["release", "create", "v0.1.0", "--draft", "--title", "T"]);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("HTTP 422") && again.stderr.contains("already exists"),
        "{}",
        again.stderr
    );

    assert_eq!(gh(&["release", "upload", "v0.1.0", "dist/a.bin"]).code, 0);
    let clash = gh(&["release", "upload", "v0.1.0", "dist/a.bin"]);
    assert!(
        clash
            .stderr
            .contains("asset under the same name already exists"),
        "{}",
        clash.stderr
    );
    fixture.write("dist/a.bin", "bbbbbb");
    assert_eq!(
        gh(&["release", "upload", "v0.1.0", "dist/a.bin", "--clobber"]).code,
        0
    );

    let view = gh(&[
        "release",
        "view",
        "v0.1.0",
        "--json",
        "tagName,isDraft,assets",
    ]);
    let view: Value = serde_json::from_str(&view.stdout).unwrap();
    assert_eq!(view["isDraft"], true);
    assert_eq!(view["assets"][0]["size"], 6);
    assert_eq!(
        view["assets"][0]["digest"],
        format!("sha256:{}", sha256_hex(b"bbbbbb"))
    );

    // Published releases are immutable: no more assets.
    assert_eq!(gh(&["release", "edit", "v0.1.0", "--draft=false"]).code, 0);
    let late = gh(&["release", "upload", "v0.1.0", "dist/a.bin", "--clobber"]);
    assert!(late.stderr.contains("immutable release"), "{}", late.stderr);
    let state = fakes.state_of("gh");
    assert_eq!(state["releases"]["v0.1.0"]["isLatest"], true);

    assert!(gh(&["release", "delete", "v0.1.0"])
        .stderr
        .contains("--yes required"));
    assert_eq!(gh(&["release", "delete", "v0.1.0", "--yes"]).code, 0);
    assert!(gh(&["release", "view", "v0.1.0"])
        .stderr
        .contains("release not found"));
    assert!(gh(&["release", "create", "v9", "--bogus"])
        .stderr
        .contains("unrecognized arguments: --bogus"));
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn fakes_record_argv_and_env_and_fail_on_request() {
    let dir = TempDir::new("calls");
    let fakes = Fakes::install();
    fakes.fail(json!({"tool": "gh", "args": ["release", "view"], "times": 1, "exit": 3, "stderr": "boom {env:GH_TOKEN}"}));
    let first = run(
        &fakes,
        dir.path(),
        "gh",
        &["release", "view", "v1"],
        &[("GH_TOKEN", "tok42")],
    );
    assert_eq!((first.code, first.stderr.trim()), (3, "boom tok42"));
    // Used up: the next call behaves normally again.
    let second = run(
        &fakes,
        dir.path(),
        "gh",
        &["release", "view", "v1"],
        &[("GH_TOKEN", "tok42")],
    );
    assert_eq!(second.code, 1);
    assert!(second.stderr.contains("release not found"));

    let calls = fakes.calls(Some("gh"));
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["argv"], json!(["release", "view", "v1"]));
    assert_eq!(calls[0]["env"]["GH_TOKEN"], "tok42");
}

#[test]
fn a_hang_rule_makes_a_fake_wait_until_killed() {
    let dir = TempDir::new("hang");
    let fakes = Fakes::install();
    fakes.fail(json!({"tool": "hailo", "args": ["parser"], "hang": true}));
    let mut child = Command::new(fakes.bin.join("hailo"))
        .args(["parser", "onnx", "m.onnx", "--hw-arch", "hailo8"])
        .current_dir(dir.path())
        .envs(fakes.env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the fake should still be waiting"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

fn hef_is_valid(data: &[u8]) -> bool {
    let be32 = |i: usize| u32::from_be_bytes(data[i..i + 4].try_into().unwrap()) as u64;
    let be64 = |i: usize| u64::from_be_bytes(data[i..i + 8].try_into().unwrap());
    data.len() >= 44
        && be32(0) == 0x0148_4546
        && be32(4) == 2
        && data.len() as u64 == 44 + be32(8) + be64(20)
}

#[test]
fn hailo_compiles_through_parse_optimize_compile_like_the_dfc() {
    let dir = TempDir::new("dfc");
    let fakes = Fakes::install();
    let d = dir.path();
    std::fs::write(d.join("model.onnx"), b"onnx-bytes").unwrap();
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend_from_slice(
        b"v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (4, 1, 100, 9), }",
    );
    std::fs::write(d.join("calib.npy"), npy).unwrap();
    let hailo = |args: &[&str]| run(&fakes, d, "hailo", args, &[]);

    let version = hailo(&["--version"]);
    assert!(
        version.stdout.contains("Hailo DFC Version: 3.33.0"),
        "{}",
        version.stdout
    );

    // No end nodes and nobody to answer the prompt: EOF is an error.
    let prompt = hailo(&[
        "parser",
        "onnx",
        "model.onnx",
        "--hw-arch",
        "hailo8",
        "--net-name",
        "tcn_encoder",
    ]);
    assert_eq!(prompt.code, 1);
    assert!(
        prompt.stdout.contains("(y/n)") && prompt.stderr.contains("EOFError"),
        "{}",
        prompt.stderr
    );

    let parse = hailo(&[
        "parser",
        "onnx",
        "model.onnx",
        "--hw-arch",
        "hailo8",
        "--net-name",
        "tcn_encoder",
        "--har-path",
        "p.har",
        "--end-node-names",
        "/head/Gemm",
    ]);
    assert_eq!(parse.code, 0, "{}", parse.stderr);
    assert!(hailo(&["compiler", "p.har", "--hw-arch", "hailo8"])
        .stderr
        .contains("must be optimized"));
    let optimize = hailo(&[
        "optimize",
        "p.har",
        "--hw-arch",
        "hailo8",
        "--calib-set-path",
        "calib.npy",
        "--output-har-path",
        "o.har",
    ]);
    assert_eq!(optimize.code, 0, "{}", optimize.stderr);
    let compile = hailo(&[
        "compiler",
        "o.har",
        "--hw-arch",
        "hailo8",
        "--output-dir",
        "out",
    ]);
    assert_eq!(compile.code, 0, "{}", compile.stderr);

    // The HEF is named after the net, not the input file, with a valid header.
    let hef = std::fs::read(d.join("out/tcn_encoder.hef")).unwrap();
    assert!(hef_is_valid(&hef));
    assert!(d.join("out/tcn_encoder_compiled.har").exists());
    assert!(
        d.join("hailo_sdk.client.log").exists(),
        "the DFC leaves logs in the cwd"
    );
    let parsed = run(
        &fakes,
        d,
        "hailortcli",
        &["parse-hef", "out/tcn_encoder.hef"],
        &[],
    );
    assert!(
        parsed
            .stdout
            .contains("Architecture HEF was compiled for: HAILO8"),
        "{}",
        parsed.stdout
    );

    let unknown = hailo(&["compiler", "o.har", "--hw-arch", "hailo8", "--fast"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("unrecognized arguments: --fast"),
        "{}",
        unknown.stderr
    );

    std::fs::write(d.join("fake.hef"), "{\"placeholder\": true}").unwrap();
    assert_eq!(
        run(&fakes, d, "hailortcli", &["parse-hef", "fake.hef"], &[]).code,
        1
    );
}

#[test]
fn buildx_plugin_is_found_by_the_real_docker_client() {
    if support::which("docker").is_none() {
        panic!("the docker client is needed to test the buildx plugin fake: `apt-get install docker.io`");
    }
    let dir = TempDir::new("buildx");
    let fakes = Fakes::install();
    let d = dir.path();
    std::fs::create_dir_all(d.join("ctx")).unwrap();
    std::fs::write(d.join("ctx/Dockerfile"), "FROM scratch\nCOPY a /a\n").unwrap();
    std::fs::write(d.join("ctx/a"), "payload").unwrap();

    let version = run(&fakes, d, "docker", &["buildx", "version"], &[]);
    assert_eq!(version.code, 0, "{}", version.stderr);
    assert!(
        version
            .stdout
            .starts_with("github.com/docker/buildx v0.19.3"),
        "{}",
        version.stdout
    );

    let build = |meta: &str| {
        run(
            &fakes,
            d,
            "docker",
            &[
                "buildx",
                "build",
                "--platform",
                "linux/amd64,linux/arm64",
                "--tag",
                "reg.test/img:1.2.3",
                "--tag",
                "reg.test/img:latest",
                "--label",
                "org.opencontainers.image.version=1.2.3",
                "--metadata-file",
                meta,
                "--push",
                "ctx",
            ],
            &[],
        )
    };
    assert_eq!(build("m1.json").code, 0);
    assert_eq!(build("m2.json").code, 0);
    let m1: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("m1.json")).unwrap()).unwrap();
    let m2: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("m2.json")).unwrap()).unwrap();
    let digest = m1["containerimage.digest"].as_str().unwrap();
    assert!(digest.starts_with("sha256:") && digest.len() == 71);
    assert_eq!(
        m1["containerimage.digest"], m2["containerimage.digest"],
        "same inputs, same digest"
    );
    assert_eq!(m1["image.name"], "reg.test/img:1.2.3,reg.test/img:latest");
    assert_eq!(
        fakes.state_of("docker-buildx")["reg.test/img:latest"],
        digest
    );

    let inspect = run(
        &fakes,
        d,
        "docker",
        &["buildx", "imagetools", "inspect", "reg.test/img:1.2.3"],
        &[],
    );
    assert!(inspect.stdout.contains(digest), "{}", inspect.stdout);
    let bad = run(
        &fakes,
        d,
        "docker",
        &["buildx", "build", "--nope", "ctx"],
        &[],
    );
    assert_ne!(bad.code, 0);
    assert!(
        bad.stderr.contains("unrecognized arguments: --nope"),
        "{}",
        bad.stderr
    );
}
