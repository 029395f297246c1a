//! `cargo xtask models check|inspect-hef` and `hef-compile` against the fake
//! Hailo DFC.

use serde_json::{json, Value};

use crate::support::{self, bin_with, Fakes, Fixture, TempDir, Xtask};

const STAGED: &str = "target/dist/v0.1.0";

fn edit_json(fixture: &Fixture, file: &str, edit: impl FnOnce(&mut Value)) {
    let path = format!("models/tcn_encoder/v0.1.0/{file}");
    let mut value: Value = serde_json::from_str(&fixture.read(&path)).unwrap();
    edit(&mut value);
    fixture.write(&path, &serde_json::to_string_pretty(&value).unwrap());
}

#[test]
fn the_example_metadata_passes() {
    let fixture = Fixture::new();
    let run = Xtask::new(&fixture.root).args(&["models", "check"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn broken_metadata_is_reported_problem_by_problem() {
    let fixture = Fixture::new();
    edit_json(&fixture, "normalization.json", |n| {
        n["std"][4] = json!(0.0);
        n["window_shape"] = json!([50, 9]);
    });
    edit_json(&fixture, "eval_metrics.json", |e| {
        e["latent_dim"] = json!(32);
        e["validation_accuracy"] = json!(0.61);
    });
    edit_json(&fixture, "model_config.json", |c| {
        c["name"] = json!("encoder")
    });
    fixture.write(
        "models/tcn_encoder/v0.1.0/MODEL_CARD.md",
        "# Model card\n\nNo version here.\n",
    );
    let run = Xtask::new(&fixture.root).args(&["models", "check"]).run();
    assert_eq!(run.code, 1);
    for expected in [
        "normalization.json: `std[4]` = 0 must be finite and > 0",
        "normalization.json: `window_shape` [50, 9] differs from `input_shape` [100, 9] in ",
        "eval_metrics.json: `latent_dim` 32 differs from `latent_dim` 64 in ",
        "eval_metrics.json: `validation_accuracy` 0.61 is below the release threshold",
        "model_config.json: `name` is \"encoder\", but the model is configured as \"tcn_encoder\"",
        "MODEL_CARD.md: does not name the version 0.1.0",
    ] {
        assert!(
            run.stderr.contains(expected),
            "missing {expected:?} in:\n{}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("6 problems"), "{}", run.stderr);
}

#[test]
fn malformed_json_names_the_line() {
    let fixture = Fixture::new();
    fixture.write(
        "models/tcn_encoder/v0.1.0/eval_metrics.json",
        "{\n  \"validation_accuracy\": 0.72,,\n}\n",
    );
    let run = Xtask::new(&fixture.root).args(&["models", "check"]).run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("eval_metrics.json: ") && run.stderr.contains("line 2"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_weights_name_must_agree_with_the_metrics() {
    let fixture = Fixture::new();
    fixture.write("weights/best_tcn_vae_70pct.pth", "weights");
    let manifest = fixture.read("Cargo.toml").replace(
        "metadata = \"models/tcn_encoder\"",
        "metadata = \"models/tcn_encoder\"\nassets = [\"weights/best_tcn_vae_70pct.pth\"]",
    );
    fixture.write("Cargo.toml", &manifest);
    let run = Xtask::new(&fixture.root).args(&["models", "check"]).run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("the name says 70% but") && run.stderr.contains("(72%)"),
        "{}",
        run.stderr
    );
}

/// The fake DFC's output for a tiny model: a well-formed HEF.
fn compiled_hef(fakes: &Fakes, dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::write(dir.join("m.onnx"), b"onnx").unwrap();
    write_npy(&dir.join("c.npy"), 8);
    let hailo = |args: &[&str]| {
        let out = std::process::Command::new(fakes.bin.join("hailo"))
            .args(args)
            .current_dir(dir)
            .envs(fakes.env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    hailo(&[
        "parser",
        "onnx",
        "m.onnx",
        "--hw-arch",
        "hailo8",
        "--net-name",
        "net",
        "--har-path",
        "a.har",
        "--end-node-names",
        "x",
    ]);
    hailo(&[
        "optimize",
        "a.har",
        "--hw-arch",
        "hailo8",
        "--calib-set-path",
        "c.npy",
        "--output-har-path",
        "b.har",
    ]);
    hailo(&[
        "compiler",
        "b.har",
        "--hw-arch",
        "hailo8",
        "--output-dir",
        ".",
    ]);
    dir.join("net.hef")
}

fn write_npy(path: &std::path::Path, windows: usize) {
    let dict =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({windows}, 1, 100, 9), }}");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes.extend(std::iter::repeat_n(0u8, windows * 900 * 4));
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn inspect_hef_accepts_compiled_files_and_rejects_placeholders() {
    let fixture = Fixture::new();
    let fakes = Fakes::install();
    let dir = TempDir::new("hefs");
    let good = compiled_hef(&fakes, dir.path());
    std::fs::write(dir.path().join("placeholder.hef"), "{\"hef\": \"TODO\"}").unwrap();
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(dir.path().join("truncated.hef"), &bytes[..bytes.len() - 10]).unwrap();

    let ok = Xtask::new(&fixture.root)
        .args(&["models", "inspect-hef"])
        .arg_path(&good)
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .run();
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stdout.contains("HEF version 2") && ok.stdout.contains("architecture HAILO8"),
        "{}",
        ok.stdout
    );

    let bad = Xtask::new(&fixture.root)
        .args(&["models", "inspect-hef"])
        .arg_path(&good)
        .arg_path(&dir.path().join("placeholder.hef"))
        .arg_path(&dir.path().join("truncated.hef"))
        .run();
    assert_eq!(bad.code, 1);
    assert!(
        bad.stdout
            .contains("placeholder.hef: NOT A VALID HEF: not a HEF: it is JSON text"),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout.contains("truncated.hef: NOT A VALID HEF")
            && bad.stdout.contains("truncated or padded"),
        "{}",
        bad.stdout
    );
    assert!(bad.stderr.contains("2 of 3 files failed"), "{}", bad.stderr);

    // `models check` refuses a placeholder staged for the release.
    fixture.write(
        &format!("{STAGED}/tcn_encoder.hef"),
        "not a hef, just text\n",
    );
    let check = Xtask::new(&fixture.root).args(&["models", "check"]).run();
    assert_eq!(check.code, 1);
    assert!(
        check
            .stderr
            .contains("tcn_encoder.hef: not a HEF: it is text"),
        "{}",
        check.stderr
    );
}

/// Writes a small but real ONNX model with the `onnx` package's own
/// helpers: one `Conv` from `input` (dims; 0 is a symbolic dim; a 1-D kernel
/// over a rank-3 input, a `(1, 3)` one over rank 4) to a `[1, 64]` output
/// `latent_embeddings`.
pub(crate) fn write_onnx(path: &std::path::Path, opset: u32, input: &str, dims: &[u32]) {
    let script = r#"
import sys, onnx
from onnx import helper as h, TensorProto as T
path, opset, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
dims = [int(d) if int(d) else "batch" for d in sys.argv[4].split(",")]
x = h.make_tensor_value_info(name, T.FLOAT, dims)
y = h.make_tensor_value_info("latent_embeddings", T.FLOAT, [1, 64])
kernel = [3] if len(dims) == 3 else [1, 3]
w = h.make_tensor("w", T.FLOAT, [64, 9] + kernel, [0.0] * (64 * 9 * 3))
conv = h.make_node("Conv", [name, "w"], ["c"], name="/encoder/Conv", kernel_shape=kernel)
pool = h.make_node("GlobalAveragePool", ["c"], ["p"], name="/pool")
flat = h.make_node("Flatten", ["p"], ["latent_embeddings"], name="/mu/Flatten")
graph = h.make_graph([conv, pool, flat], "encoder", [x], [y], [w])
model = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)], producer_name="pytorch")
model.ir_version = 7
onnx.save(model, path)
"#;
    let dims: Vec<String> = dims.iter().map(u32::to_string).collect();
    let out = std::process::Command::new(support::venv_python())
        .args(["-c", script])
        .arg(path)
        .args([opset.to_string(), input.to_owned(), dims.join(",")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fixture with an ONNX file, a calibration set and an export report.
fn compile_inputs() -> Fixture {
    let fixture = Fixture::new();
    std::fs::create_dir_all(fixture.root.join(STAGED)).unwrap();
    write_onnx(
        &fixture.root.join(STAGED).join("tcn_encoder.onnx"),
        13,
        "imu_window",
        &[1, 9, 1, 100],
    );
    fixture.write(
        &format!("{STAGED}/tcn_encoder.export.json"),
        r#"{"start_nodes": ["/encoder/Conv"], "end_nodes": ["/mu/Gemm", "/logvar/Gemm"]}"#,
    );
    write_npy(
        &fixture.root.join(STAGED).join("tcn_encoder.calib.npy"),
        1024,
    );
    fixture
}

fn sha256(path: &std::path::Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn hef_compile_runs_the_dfc_steps_in_order_and_writes_a_true_manifest() {
    let (fixture, fakes, run) = compile_with_banner("plain");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let calls: Vec<Value> = fakes
        .calls(Some("hailo"))
        .into_iter()
        .filter(|c| c["argv"][0] != "--version")
        .collect();
    let steps: Vec<&str> = calls
        .iter()
        .map(|c| c["argv"][0].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["parser", "optimize", "compiler"]);
    let parser = calls[0]["argv"].to_string();
    for part in [
        "\"onnx\"",
        "\"--hw-arch\",\"hailo8\"",
        "\"--net-name\",\"tcn_encoder\"",
        "\"--har-path\"",
        "\"--start-node-names\",\"/encoder/Conv\"",
        "\"--end-node-names\",\"/mu/Gemm\",\"/logvar/Gemm\"",
    ] {
        assert!(parser.contains(part), "parser lacks {part}: {parser}");
    }
    assert!(calls[1]["argv"].to_string().contains("--calib-set-path"));
    assert!(calls[2]["argv"].to_string().contains("--output-dir"));
    let scratch = calls[0]["cwd"].as_str().unwrap();
    assert!(scratch.contains("target/hef-compile/"), "{scratch}");
    assert!(
        calls.iter().all(|c| c["cwd"] == calls[0]["cwd"]),
        "every DFC step runs in the scratch directory"
    );
    assert!(
        !std::path::Path::new(scratch).exists(),
        "the scratch directory (and its logs) is removed after success"
    );

    let staged = fixture.root.join(STAGED);
    let hef = staged.join("tcn_encoder.hef");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(staged.join("tcn_encoder.hef.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["hef"]["sha256"], sha256(&hef));
    assert_eq!(
        manifest["onnx"]["sha256"],
        sha256(&staged.join("tcn_encoder.onnx"))
    );
    assert_eq!(
        manifest["calibration_set"]["sha256"],
        sha256(&staged.join("tcn_encoder.calib.npy"))
    );
    assert_eq!(manifest["calibration_shape"], json!([1024, 1, 100, 9]));
    assert_eq!(manifest["dfc_version"], "3.33.0");
    assert_eq!(manifest["hailort_version"], "4.23.0");
    assert_eq!(manifest["hw_arch"], "hailo8");
    assert_eq!(manifest["hailortcli_architecture"], "HAILO8");
    assert_eq!(manifest["commands"].as_array().unwrap().len(), 3);
    assert_eq!(
        manifest["hef_header"]["file_size"],
        std::fs::metadata(&hef).unwrap().len()
    );
}

#[test]
fn a_failing_dfc_step_leaves_no_hef() {
    let fixture = compile_inputs();
    let fakes = Fakes::install();
    fakes.fail(json!({"tool": "hailo", "args": ["optimize"], "exit": 1, "stderr": "[error] Failed to optimize: NaN parameters"}));
    let run = Xtask::new(&fixture.root)
        .args(&["hef-compile"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no HEF was written") && run.stderr.contains("NaN parameters"),
        "{}",
        run.stderr
    );
    assert!(!fixture.root.join(STAGED).join("tcn_encoder.hef").exists());
    assert!(!fixture
        .root
        .join(STAGED)
        .join("tcn_encoder.hef.json")
        .exists());
}

#[test]
fn a_dfc_waiting_on_a_prompt_is_stopped() {
    let fixture = compile_inputs();
    let fakes = Fakes::install();
    fakes.fail(json!({"tool": "hailo", "args": ["parser"], "hang": true}));
    let run = Xtask::new(&fixture.root)
        .args(&["hef-compile", "--timeout", "2"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .run();
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("was killed after 2s"), "{}", run.stderr);
    assert!(!fixture.root.join(STAGED).join("tcn_encoder.hef").exists());
}

#[test]
fn without_the_dfc_or_end_nodes_nothing_runs_and_nothing_is_written() {
    let fixture = compile_inputs();
    let scratch = TempDir::new("path");
    let only_git = bin_with(scratch.path(), &["git", "python3"]);
    let missing = Xtask::new(&fixture.root)
        .args(&["hef-compile"])
        .path_only(&[&only_git])
        .run();
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("x86_64 Linux only")
            && missing.stderr.contains("cargo xtask doctor"),
        "{}",
        missing.stderr
    );
    assert!(!fixture.root.join(STAGED).join("tcn_encoder.hef").exists());

    std::fs::remove_file(fixture.root.join(STAGED).join("tcn_encoder.export.json")).unwrap();
    let fakes = Fakes::install();
    let no_nodes = Xtask::new(&fixture.root)
        .args(&["hef-compile"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .run();
    assert_eq!(no_nodes.code, 1);
    assert!(
        no_nodes.stderr.contains("no end node names"),
        "{}",
        no_nodes.stderr
    );
    assert!(
        fakes.calls(Some("hailo")).is_empty(),
        "the DFC ran without end nodes"
    );
}

/// `onnx-export --synthetic` with the test venv's torch.
fn synthetic_export(fixture: &Fixture) -> support::Run {
    Xtask::new(&fixture.root)
        .args(&["onnx-export", "--synthetic"])
        .env("XTASK_PYTHON", support::venv_python())
        .run()
}

#[test]
fn onnx_export_with_real_torch_feeds_hef_compile() {
    let fixture = Fixture::new();
    let export = synthetic_export(&fixture);
    assert_eq!(export.code, 0, "{}\n{}", export.stdout, export.stderr);
    let staged = fixture.root.join(STAGED);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(staged.join("tcn_encoder.export.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["problems"], json!([]));
    assert!(report["max_abs_diff"].as_f64().unwrap() <= 1e-4, "{report}");
    assert_eq!(report["input_shape"], json!([1, 9, 1, 100]));
    assert!(staged.join("tcn_encoder.calib.npy").exists());

    // The DFC takes the export's end nodes from its report.
    let fakes = Fakes::install();
    let compile = Xtask::new(&fixture.root)
        .args(&["hef-compile"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .run();
    assert_eq!(compile.code, 0, "{}", compile.stderr);
    let parser = fakes
        .calls(Some("hailo"))
        .into_iter()
        .find(|c| c["argv"][0] == "parser")
        .unwrap();
    assert!(
        parser["argv"].to_string().contains("/mu/Gemm"),
        "{}",
        parser["argv"]
    );
    let check = Xtask::new(&fixture.root).args(&["models", "check"]).run();
    assert_eq!(
        check.code, 0,
        "the staged HEF and assets must pass: {}",
        check.stderr
    );
}

#[test]
fn onnx_export_without_torch_says_how_to_get_it() {
    let fixture = Fixture::new();
    // A bare venv of the same interpreter: no torch, whatever else is installed.
    let bare = TempDir::new("bare-venv");
    let base = std::process::Command::new(support::venv_python())
        .args(["-c", "import sys; print(sys._base_executable)"])
        .output()
        .unwrap();
    let base = String::from_utf8(base.stdout).unwrap();
    let made = std::process::Command::new(base.trim())
        .args(["-m", "venv", "--without-pip"])
        .arg(bare.path())
        .status()
        .unwrap();
    assert!(made.success());
    let run = Xtask::new(&fixture.root)
        .args(&["onnx-export", "--synthetic"])
        .env("XTASK_PYTHON", bare.path().join("bin/python"))
        .run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot import torch") && run.stderr.contains("[export]"),
        "{}",
        run.stderr
    );
}

#[test]
#[ignore = "dfc: needs the real Hailo Dataflow Compiler (`hailo` on PATH, x86_64 Linux, a registered download); `cargo xtask test` runs it where it is installed"]
fn real_dfc_compiles_the_exported_encoder() {
    let fixture = Fixture::new();
    let python = support::venv_python();
    let export = Xtask::new(&fixture.root)
        .args(&["onnx-export", "--synthetic"])
        .env("XTASK_PYTHON", &python)
        .run();
    assert_eq!(export.code, 0, "{}", export.stderr);
    let compile = Xtask::new(&fixture.root).args(&["hef-compile"]).run();
    assert_eq!(compile.code, 0, "{}\n{}", compile.stdout, compile.stderr);
    let hef = fixture.root.join(STAGED).join("tcn_encoder.hef");
    let inspect = Xtask::new(&fixture.root)
        .args(&["models", "inspect-hef"])
        .arg_path(&hef)
        .run();
    assert_eq!(inspect.code, 0, "{}", inspect.stdout);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(hef.with_extension("hef.json")).unwrap())
            .unwrap();
    assert!(
        manifest["dfc_version"]
            .as_str()
            .is_some_and(|v| v.starts_with('3')),
        "{manifest}"
    );
}

/// `hef-compile` against the fake DFC printing its banner in `style`.
fn compile_with_banner(style: &str) -> (Fixture, Fakes, support::Run) {
    let fixture = compile_inputs();
    let fakes = Fakes::install();
    let run = Xtask::new(&fixture.root)
        .args(&["hef-compile"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .env("FAKE_HAILO_BANNER", style)
        .run();
    (fixture, fakes, run)
}

#[test]
fn the_manifest_records_the_versions_the_real_dfc_banner_names_in_colour() {
    let (fixture, _fakes, run) = compile_with_banner("colour");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.root.join(STAGED).join("tcn_encoder.hef.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["dfc_version"], "3.33.0");
    assert_eq!(manifest["hailort_version"], "4.23.0");
    // Our own output carries no colour codes.
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
}

#[test]
fn a_dfc_that_names_no_version_compiles_nothing() {
    let (fixture, fakes, run) = compile_with_banner("none");
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("`hailo --version` printed no `Hailo DFC Version:` line"),
        "{}",
        run.stderr
    );
    nothing_compiled(&fakes, &fixture);
}

/// No DFC stage ran (asking its version is not a stage) and no HEF exists.
fn nothing_compiled(fakes: &Fakes, fixture: &Fixture) {
    let stages: Vec<Value> = fakes
        .calls(Some("hailo"))
        .into_iter()
        .filter(|c| c["argv"][0] != "--version")
        .collect();
    assert!(stages.is_empty(), "DFC stages ran: {stages:?}");
    assert!(!fixture.root.join(STAGED).join("tcn_encoder.hef").exists());
}

/// `models check-onnx` reports what a real-shaped encoder unlike the example
/// declares (opset 11, a 1-D `Conv`, input `imu_window [1, 100, 9]`), as the
/// `onnx` package reads the same file; dynamic dims and text files are
/// refused, and `hef-compile` never hands a text file to the DFC.
#[test]
fn check_onnx_reports_the_facts_and_refuses_what_no_compiler_takes() {
    let fixture = Fixture::new();
    let dir = fixture.root.join("onnx");
    std::fs::create_dir_all(&dir).unwrap();
    let encoder = dir.join("encoder.onnx");
    write_onnx(&encoder, 11, "imu_window", &[1, 100, 9]);
    let check = Xtask::new(&fixture.root)
        .args(&["models", "check-onnx", "onnx/encoder.onnx"])
        .run();
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check.stdout.contains(
            "onnx/encoder.onnx: ONNX IR 7, opset 11, input imu_window [1, 100, 9], output latent_embeddings [1, 64]; \
             ops Conv x1, GlobalAveragePool x1, Flatten x1"
        ),
        "{}",
        check.stdout
    );
    // The reference: what the onnx package reads from the same file.
    let json = Xtask::new(&fixture.root)
        .args(&["models", "check-onnx", "--json", "onnx/encoder.onnx"])
        .run();
    let ours: Value = serde_json::from_str(&json.stdout).unwrap();
    let reference = std::process::Command::new(support::venv_python())
        .args([
            "-c",
            "import sys, json, onnx; m = onnx.load(sys.argv[1]); g = m.graph; \
             dims = lambda v: [d.dim_value if d.HasField('dim_value') else None for d in v.type.tensor_type.shape.dim]; \
             print(json.dumps({'ir_version': m.ir_version, 'opsets': [[o.domain, o.version] for o in m.opset_import], \
             'inputs': [{'name': i.name, 'dims': dims(i)} for i in g.input], \
             'outputs': [{'name': o.name, 'dims': dims(o)} for o in g.output], 'ops': [n.op_type for n in g.node]}))",
        ])
        .arg(&encoder)
        .output()
        .unwrap();
    let reference: Value = serde_json::from_slice(&reference.stdout).unwrap();
    assert_eq!(
        ours[0]["model"], reference,
        "check-onnx disagrees with the onnx package"
    );

    // Declared in the config, the real layout passes; another does not.
    // The example's own declaration goes; the one under test takes its place.
    let original: String = fixture
        .read("Cargo.toml")
        .lines()
        .filter(|l| !l.starts_with("onnx = "))
        .collect::<Vec<_>>()
        .join("\n");
    let declare = |base: &str, spec: &str| {
        fixture.write(
            "Cargo.toml",
            &base.replace(
                "metadata = \"models/tcn_encoder\"",
                &format!("metadata = \"models/tcn_encoder\"\nonnx = {spec}"),
            ),
        );
        Xtask::new(&fixture.root)
            .args(&[
                "models",
                "check-onnx",
                "--model",
                "tcn_encoder",
                "onnx/encoder.onnx",
            ])
            .run()
    };
    let real = "{ inputs = { imu_window = [1, 100, 9] }, outputs = { latent_embeddings = [1, 64] }, opsets = [11] }";
    // The example's hailo8 rules carry its caution against 1-D Conv; this
    // project's DFC takes them, and its config says so.
    let cautious = declare(&original, real);
    assert_eq!(cautious.code, 1, "{}", cautious.stdout);
    assert!(
        cautious.stderr.contains(
            "onnx/encoder.onnx: a 1-D Conv in 1 node, e.g. `/encoder/Conv` (Conv); write it as \
             Conv2d with a (1, k) kernel over [N, C, 1, T] (targets.hailo8.no-conv-1d)"
        ),
        "{}",
        cautious.stderr
    );
    let relaxed = original.replacen("no-conv-1d = true", "no-conv-1d = false", 1);
    let declare = |spec: &str| declare(&relaxed, spec);
    let real = declare(real);
    assert_eq!(real.code, 0, "{}", real.stderr);
    let other = declare(
        "{ inputs = { imu_window = [1, 9, 1, 100] }, outputs = { mu = [1, 64] }, opsets = [13], forbidden-ops = [\"Conv\"] }",
    );
    assert_eq!(other.code, 1, "{}", other.stdout);
    for needle in [
        "input `imu_window` is [1, 100, 9], but the config declares [1, 9, 1, 100]",
        "no output `mu`; its outputs are `latent_embeddings`",
        "opset 11, but the config accepts [13]",
        "uses `Conv`, which the config forbids",
    ] {
        assert!(
            other.stderr.contains(needle),
            "no {needle:?} in {}",
            other.stderr
        );
    }

    write_onnx(&dir.join("dynamic.onnx"), 13, "imu_window", &[0, 100, 9]);
    fixture.write("onnx/placeholder.onnx", "{\"placeholder\": true}\n");
    let bad = Xtask::new(&fixture.root)
        .args(&[
            "models",
            "check-onnx",
            "onnx/dynamic.onnx",
            "onnx/placeholder.onnx",
        ])
        .run();
    assert_eq!(bad.code, 1, "{}", bad.stdout);
    for needle in [
        "onnx/dynamic.onnx: dynamic or missing dims in imu_window [?, 100, 9]",
        "onnx/placeholder.onnx: not an ONNX model: it does not read as ONNX's protobuf ModelProto (",
    ] {
        assert!(
            bad.stderr.contains(needle),
            "no {needle:?} in {}",
            bad.stderr
        );
    }

    let inputs = compile_inputs();
    inputs.write(
        &format!("{STAGED}/tcn_encoder.onnx"),
        "{\"placeholder\": true}\n",
    );
    let fakes = Fakes::install();
    let compile = Xtask::new(&inputs.root)
        .args(&["hef-compile"])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .run();
    assert_eq!(compile.code, 1, "{}", compile.stdout);
    assert!(
        compile
            .stderr
            .contains("tcn_encoder.onnx: not an ONNX model"),
        "{}",
        compile.stderr
    );
    nothing_compiled(&fakes, &inputs);
}

/// 0.5768 is "57pct" to a project that truncates and "58pct" to one that
/// rounds: both names pass, any other does not.
#[test]
fn a_weights_name_may_truncate_or_round_the_accuracy() {
    let cases = [
        ("either", "57pct", true),
        ("either", "58pct", true),
        ("either", "56pct", false),
        ("truncate", "57pct", true),
        ("truncate", "58pct", false),
        ("round", "58pct", true),
        ("round", "57pct", false),
    ];
    for (style, name, passes) in cases {
        let fixture = Fixture::new();
        edit_json(&fixture, "eval_metrics.json", |m| {
            m["validation_accuracy"] = json!(0.5768);
            m["thresholds"]["min_validation_accuracy"] = json!(0.5);
        });
        let weights = format!("weights/encoder_for_edgeinfer_{name}.pth");
        fixture.write(&weights, "weights");
        let manifest = fixture.read("Cargo.toml").replace(
            "metadata = \"models/tcn_encoder\"",
            &format!(
                "metadata = \"models/tcn_encoder\"\nassets = [\"{weights}\"]\naccuracy-in-name = \"{style}\""
            ),
        );
        fixture.write("Cargo.toml", &manifest);
        let run = Xtask::new(&fixture.root).args(&["models", "check"]).run();
        assert_eq!(run.code == 0, passes, "{style} {name}: {}", run.stderr);
        if !passes {
            let which = match style {
                "truncate" => "(57% truncated, as accuracy-in-name says)",
                "round" => "(58% rounded, as accuracy-in-name says)",
                _ => "(57% truncated, 58% rounded)",
            };
            assert!(
                run.stderr
                    .contains(&format!("the name says {}% but", &name[..2]))
                    && run.stderr.contains(which),
                "{}",
                run.stderr
            );
        }
    }
}

/// An ONNX given from the repository's root: the HEF and its manifest go to
/// the release directory, never beside the ONNX in the repository.
#[test]
fn hef_compile_never_writes_into_the_repository() {
    let fixture = compile_inputs();
    std::fs::copy(
        fixture.root.join(STAGED).join("tcn_encoder.onnx"),
        fixture.root.join("encoder.onnx"),
    )
    .unwrap();
    let fakes = Fakes::install();
    let calib = format!("{STAGED}/tcn_encoder.calib.npy");
    let run = Xtask::new(&fixture.root)
        .args(&[
            "hef-compile",
            "--onnx",
            "encoder.onnx",
            "--calib",
            &calib,
            "--end-node-names",
            "/mu/Flatten",
        ])
        .fakes(&fakes)
        .path_first(&[&fakes.bin])
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(fixture.root.join(STAGED).join("tcn_encoder.hef").is_file());
    assert!(fixture
        .root
        .join(STAGED)
        .join("tcn_encoder.hef.json")
        .is_file());
    let stray: Vec<_> = std::fs::read_dir(&fixture.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".hef"))
        .collect();
    assert!(stray.is_empty(), "HEF files in the repository: {stray:?}");
}

/// The targets are the installed DFC's to name, not a list of ours: a newer
/// one in the config reaches the DFC, one it does not know is refused by it
/// (argparse's `invalid choice`) and nothing is written.
#[test]
fn any_target_the_dfc_accepts_compiles_and_one_it_refuses_writes_nothing() {
    let fixture = compile_inputs();
    let manifest = fixture
        .read("Cargo.toml")
        .replace("hw-arch = \"hailo8\"", "hw-arch = \"hailo15h\"");
    fixture.write("Cargo.toml", &manifest);
    let fakes = Fakes::install();
    let compile = |args: &[&str]| {
        Xtask::new(&fixture.root)
            .args(args)
            .fakes(&fakes)
            .path_first(&[&fakes.bin])
            .run()
    };
    let run = compile(&["hef-compile"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.root.join(STAGED).join("tcn_encoder.hef.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["hw_arch"], "hailo15h");
    std::fs::remove_file(fixture.root.join(STAGED).join("tcn_encoder.hef")).unwrap();

    let refused = compile(&["hef-compile", "--hw-arch", "hailo99"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("invalid choice: 'hailo99'"),
        "{}",
        refused.stderr
    );
    assert!(!fixture.root.join(STAGED).join("tcn_encoder.hef").exists());
    let not_a_target = compile(&["hef-compile", "--hw-arch", "Hailo-8"]);
    assert_eq!(not_a_target.code, 2, "{}", not_a_target.stderr);
}

/// The release's own parity check (issue "Any model"): the export writes
/// torch's outputs as a reference, onnxruntime runs the exported ONNX on the
/// same inputs, and the manifest records the difference; over the tolerance,
/// nothing is staged as checked.
#[test]
fn the_release_records_onnxruntime_parity_against_the_exports_reference() {
    let fixture = Fixture::new();
    let python = support::venv_python();
    let trained = synthetic_export(&fixture);
    assert_eq!(trained.code, 0, "{}", trained.stderr);
    assert!(
        trained.stdout.contains("max |onnxruntime - reference| = "),
        "{}",
        trained.stdout
    );
    // The weights the release ships, named after the example's 72% accuracy.
    std::fs::create_dir_all(fixture.root.join("weights")).unwrap();
    std::fs::copy(
        fixture
            .root
            .join("target/synthetic-weights/tcn_encoder.pth"),
        fixture.root.join("weights/best_tcn_vae_72pct.pth"),
    )
    .unwrap();
    std::fs::remove_dir_all(fixture.root.join("target/dist")).unwrap();
    let base = fixture.read("Cargo.toml");
    let with_weights = |tolerance: &str| {
        base.replace(
            "metadata = \"models/tcn_encoder\"",
            "metadata = \"models/tcn_encoder\"\nassets = [\"weights/best_tcn_vae_72pct.pth\"]",
        )
        .replace(
            "parity-tolerance = 1e-4",
            &format!("parity-tolerance = {tolerance}"),
        )
    };
    fixture.write("Cargo.toml", &with_weights("1e-4"));
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: ship the weights"]);
    let fakes = Fakes::install();
    let release = || {
        Xtask::new(&fixture.root)
            .args(&["release"])
            .env("XTASK_PYTHON", &python)
            .fakes(&fakes)
            .run()
    };
    let run = release();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let dist = fixture.root.join("target/dist/v0.2.0");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("manifest.json")).unwrap())
            .unwrap();
    let parity = &manifest["models"][0]["parity"];
    assert_eq!(manifest["models"][0]["name"], "tcn_encoder");
    assert_eq!(parity["samples"], 8, "{manifest:#}");
    let worst = parity["max_abs_diff"].as_f64().unwrap();
    assert!(worst <= 1e-4, "{parity}");
    assert!(
        parity["outputs"]["mu"].as_f64().unwrap() <= worst,
        "{parity}"
    );
    assert!(parity["outputs"]["logvar"].is_number(), "{parity}");
    assert!(
        !dist.join("tcn_encoder.reference.npz").exists(),
        "the reference never ships"
    );

    // No float32 export is bit-exact with torch: at 1e-12 the check fails.
    fixture.write("Cargo.toml", &with_weights("1e-12"));
    fixture.git(&["commit", "--quiet", "-am", "test: an impossible tolerance"]);
    std::fs::remove_dir_all(fixture.root.join("target/dist")).unwrap();
    let strict = release();
    assert_ne!(strict.code, 0, "{}", strict.stdout);
    assert!(
        strict
            .stderr
            .contains("onnxruntime differs from the export's reference by")
            && strict.stderr.contains("over the tolerance 1e-12"),
        "{}",
        strict.stderr
    );
    assert!(!dist.join("tcn_encoder.onnx").exists());
}

/// `check-onnx --target`: a target's rules from the config, each broken rule
/// named with its key; a node without a name (the DFC takes end nodes by
/// name) is one of them.
#[test]
fn check_onnx_holds_a_file_to_a_targets_rules() {
    let fixture = Fixture::new();
    let path = fixture.root.join("unnamed.onnx");
    let script = r#"
import sys, onnx
from onnx import helper as h, TensorProto as T
x = h.make_tensor_value_info("x", T.FLOAT, [1, 9, 1, 100])
y = h.make_tensor_value_info("y", T.FLOAT, [1, 9, 1, 100])
pad = h.make_node("Pad", ["x", "pads"], ["p"], name="/pad")
cut = h.make_node("Slice", ["p", "starts", "ends"], ["s"], name="/cut")
relu = h.make_node("Relu", ["s"], ["y"])
consts = [h.make_tensor("pads", T.INT64, [8], [0] * 8),
          h.make_tensor("starts", T.INT64, [1], [0]), h.make_tensor("ends", T.INT64, [1], [100])]
graph = h.make_graph([pad, cut, relu], "g", [x], [y], consts)
onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 18)]), sys.argv[1])
"#;
    let made = std::process::Command::new(support::venv_python())
        .args(["-c", script])
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    let run = Xtask::new(&fixture.root)
        .args(&["models", "check-onnx", "--target", "hailo8", "unnamed.onnx"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stdout);
    for needle in [
        "unnamed.onnx: opset 18, but hailo8 takes [11, 12, 13, 14, 15, 16, 17] (targets.hailo8.opsets)",
        "unnamed.onnx: a Slice after a Pad in 1 node, e.g. `/cut` (Slice); pad on the left only (targets.hailo8.no-pad-slice)",
        "unnamed.onnx: no name in 1 node, e.g. `<no name>` (Relu); name every node: the DFC takes start and end nodes by name (targets.hailo8.named-nodes)",
    ] {
        assert!(run.stderr.contains(needle), "no {needle:?} in {}", run.stderr);
    }
    let unknown = Xtask::new(&fixture.root)
        .args(&[
            "models",
            "check-onnx",
            "--target",
            "hailo15h",
            "unnamed.onnx",
        ])
        .run();
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains(
            "no [workspace.metadata.release.targets.hailo15h] in Cargo.toml (configured: hailo8, hailo8l)"
        ),
        "{}",
        unknown.stderr
    );
}
