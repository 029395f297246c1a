//! A model repository unlike the example (issue "Any model"): its own
//! metadata schema, a 1-D convolution encoder at opset 11 with a `[1, 100, 9]`
//! input, `model_card.md`, weights named with the truncated accuracy, and
//! release notes from its own template. Only the config says so.

use serde_json::Value;

use crate::models::write_onnx;
use crate::support::{Fixture, Xtask};

const MODEL: &str = r#"
[[workspace.metadata.release.models]]
name = "imu_encoder"
metadata = "models/imu_encoder"
assets = ["imu_encoder_for_edgeinfer_57pct.pth", "imu_encoder.onnx"]
card = "model_card.md"
accuracy-in-name = "truncate"
onnx = { inputs = { imu_window = [1, 100, 9] }, outputs = { latent_embeddings = [1, 64] }, opsets = [11] }

[workspace.metadata.release.models.facts]
name = []
input-shape = "/model_config.json#/model_specs/input_shape"
output-dim = "/model_config.json#/model_specs/latent_dim"
accuracy = "eval_metrics.json#/metrics/val_accuracy"
min-accuracy = []
mean = "normalization.json#/normalization/mean"
std = "normalization.json#/normalization/std"
channels = "normalization.json#/channels"
model-version = []
platform = "/model_config.json#/deployment/target"
"#;

const TEMPLATE: &str = r#"{# The notes this team used to write by hand. #}
## {{ name }} {{ tag }} ({{ date }})

{% for m in models %}
### {{ m.name }} {{ m.version }}
- Validation accuracy: {{ m.accuracy_percent }}
- Input: {{ m.facts.input_shape | join(" x ") }}, latent {{ m.facts.output_dim }}
- Runs on: {{ m.facts.platform }}
{% endfor %}

| File | Size | SHA-256 |
|------|------|---------|
{% for a in assets %}
| {{ a.name }} | {{ a.size_human }} | {{ a.sha256 }} |
{% endfor %}
"#;

/// The example repository with its model replaced by this project's.
fn model_repository() -> Fixture {
    let fixture = Fixture::new();
    let manifest = fixture.read("Cargo.toml");
    let start = manifest
        .find("[[workspace.metadata.release.models]]")
        .unwrap();
    let manifest = manifest[..start]
        .replace(
            "template = \".github/release-notes.md.j2\"",
            "template = \"docs/release_template.md.j2\"",
        )
        .to_owned()
        + MODEL;
    fixture.write("Cargo.toml", &manifest);
    fixture.write("docs/release_template.md.j2", TEMPLATE);
    std::fs::remove_dir_all(fixture.root.join("models/tcn_encoder")).unwrap();
    fixture.write(
        "model_config.json",
        r#"{"model_specs": {"architecture": "tcn_vae", "input_shape": [100, 9], "latent_dim": 64},
            "deployment": {"target": "Raspberry Pi 5 + Hailo-8L"}}"#,
    );
    let dir = "models/imu_encoder/v1.0.0";
    fixture.write(
        &format!("{dir}/eval_metrics.json"),
        r#"{"metrics": {"val_accuracy": 0.5768, "val_loss": 0.913}}"#,
    );
    fixture.write(
        &format!("{dir}/normalization.json"),
        r#"{"channels": ["ax", "ay", "az", "gx", "gy", "gz", "mx", "my", "mz"],
            "normalization": {"mean": [0.1, 0.0, 9.8, 0.0, 0.0, 0.0, 20.0, -5.0, 40.0],
                              "std": [1.2, 1.1, 1.3, 0.5, 0.5, 0.4, 15.0, 14.0, 16.0]}}"#,
    );
    fixture.write(
        &format!("{dir}/model_card.md"),
        "# IMU encoder 1.0.0\n\nA TCN encoder of 100 x 9 IMU windows.\n",
    );
    fixture.write("imu_encoder_for_edgeinfer_57pct.pth", "trained weights\n");
    write_onnx(
        &fixture.root.join("imu_encoder.onnx"),
        11,
        "imu_window",
        &[1, 100, 9],
    );
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: the IMU encoder"]);
    fixture
}

#[test]
fn a_model_with_its_own_schema_passes_once_the_config_says_where_its_facts_are() {
    let fixture = model_repository();
    let check = Xtask::new(&fixture.root).args(&["models", "check"]).run();
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check.stdout.contains("imu_encoder: metadata"),
        "{}",
        check.stdout
    );

    // The facts are really read from where the config points: a wrong
    // accuracy there disagrees with the weights' name (57% truncated).
    let metrics = "models/imu_encoder/v1.0.0/eval_metrics.json";
    fixture.write(metrics, r#"{"metrics": {"val_accuracy": 0.5868}}"#);
    let fixture_std = "models/imu_encoder/v1.0.0/normalization.json";
    let normalization = fixture.read(fixture_std);
    fixture.write(fixture_std, &normalization.replace("1.2, 1.1", "0, 1.1"));
    let bad = Xtask::new(&fixture.root).args(&["models", "check"]).run();
    assert_eq!(bad.code, 1, "{}", bad.stdout);
    for expected in [
        "imu_encoder_for_edgeinfer_57pct.pth: the name says 57% but",
        "eval_metrics.json: `metrics.val_accuracy` is 0.5868 (58% truncated, as accuracy-in-name says)",
        "normalization.json: `normalization.std[0]` = 0 must be finite and > 0",
    ] {
        assert!(
            bad.stderr.contains(expected),
            "missing {expected:?}:\n{}",
            bad.stderr
        );
    }
    assert!(bad.stderr.contains("2 problems"), "{}", bad.stderr);

    // The example's schema on this repository: every fact it cannot find is
    // named with the file and the key that points there.
    let manifest = fixture.read("Cargo.toml");
    let start = manifest
        .find("[workspace.metadata.release.models.facts]")
        .unwrap();
    fixture.write("Cargo.toml", &manifest[..start]);
    let unconfigured = Xtask::new(&fixture.root).args(&["models", "check"]).run();
    assert_eq!(unconfigured.code, 1);
    assert!(
        unconfigured.stderr.contains(
            "v1.0.0/model_config.json: cannot read: No such file or directory (os error 2); \
             the model's `facts` in Cargo.toml read from it"
        ),
        "{}",
        unconfigured.stderr
    );
    assert!(
        unconfigured.stderr.contains(
            "eval_metrics.json: no `validation_accuracy`; the model's `facts.accuracy` in Cargo.toml \
             reads it from \"eval_metrics.json#/validation_accuracy\""
        ),
        "{}",
        unconfigured.stderr
    );
}

#[test]
fn check_onnx_holds_the_encoder_to_what_the_config_declares() {
    let fixture = model_repository();
    let run = Xtask::new(&fixture.root)
        .args(&[
            "models",
            "check-onnx",
            "--model",
            "imu_encoder",
            "--json",
            "imu_encoder.onnx",
        ])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let facts: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(facts[0]["ok"], true, "{facts:#}");
    let model = &facts[0]["model"];
    assert_eq!(model["opsets"], serde_json::json!([["", 11]]), "{facts:#}");
    assert_eq!(
        model["ops"],
        serde_json::json!(["Conv", "GlobalAveragePool", "Flatten"])
    );
    assert_eq!(model["inputs"][0]["name"], "imu_window", "{facts:#}");
    assert_eq!(model["inputs"][0]["dims"], serde_json::json!([1, 100, 9]));
    assert_eq!(model["outputs"][0]["name"], "latent_embeddings");
}

#[test]
fn the_release_notes_are_the_projects_own_template() {
    let fixture = model_repository();
    let dist = fixture.root.join("target/dist/staged");
    std::fs::create_dir_all(&dist).unwrap();
    for file in ["imu_encoder_for_edgeinfer_57pct.pth", "imu_encoder.onnx"] {
        std::fs::copy(fixture.root.join(file), dist.join(file)).unwrap();
    }
    let json = Xtask::new(&fixture.root)
        .args(&["changelog", "--json"])
        .run();
    let version = serde_json::from_str::<Value>(&json.stdout).unwrap()["version"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = Xtask::new(&fixture.root)
        .args(&[
            "changelog",
            "--notes",
            "--date",
            "2026-11-30",
            "--dist",
            "target/dist/staged",
        ])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The reference digests: GNU sha256sum over the same files.
    let sums = std::process::Command::new("sha256sum")
        .args(["imu_encoder.onnx", "imu_encoder_for_edgeinfer_57pct.pth"])
        .current_dir(&dist)
        .output()
        .unwrap();
    let sums = String::from_utf8(sums.stdout).unwrap();
    let digest = |name: &str| {
        sums.lines()
            .find(|l| l.ends_with(name))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    let onnx_size = std::fs::metadata(dist.join("imu_encoder.onnx"))
        .unwrap()
        .len();
    assert!((1024..1 << 20).contains(&onnx_size), "{onnx_size}");
    let expected = format!(
        "## tcn-vae-edge v{version} (2026-11-30)\n\
         \n\
         ### imu_encoder 1.0.0\n\
         - Validation accuracy: 57.68%\n\
         - Input: 100 x 9, latent 64\n\
         - Runs on: Raspberry Pi 5 + Hailo-8L\n\
         \n\
         | File | Size | SHA-256 |\n\
         |------|------|---------|\n\
         | imu_encoder.onnx | {:.1} KiB | {} |\n\
         | imu_encoder_for_edgeinfer_57pct.pth | 16 B | {} |",
        onnx_size as f64 / 1024.0,
        digest("imu_encoder.onnx"),
        digest("imu_encoder_for_edgeinfer_57pct.pth"),
    );
    assert_eq!(run.stdout.trim_end(), expected);
}

#[test]
fn a_misspelt_template_variable_stops_the_release_before_any_change() {
    let fixture = model_repository();
    fixture.write(
        "docs/release_template.md.j2",
        &TEMPLATE.replace("{{ a.size_human }}", "{{ a.size_humane }}"),
    );
    fixture.git(&["commit", "--quiet", "-am", "docs: notes"]);
    let head = fixture.git(&["rev-parse", "HEAD"]);
    let run = Xtask::new(&fixture.root).args(&["release"]).run();
    assert_ne!(run.code, 0, "{}", run.stdout);
    // The loop runs over the staged assets, none yet: preflight renders it
    // with one, so the line is named now and not at the build.
    assert!(
        run.stderr
            .contains("docs/release_template.md.j2:14: undefined value"),
        "{}",
        run.stderr
    );
    assert_eq!(fixture.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(fixture.git(&["status", "--porcelain"]), "");
    assert!(!fixture
        .root
        .join("target/xtask-release/journal.json")
        .exists());
}
