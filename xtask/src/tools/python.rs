//! `python3` and the Python packaging tools it runs as modules (`build`,
//! `twine`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::core::runner::{Cmd, Effect};

/// The interpreter: `$XTASK_PYTHON` when set (e.g. a venv's python), else
/// `python3` from PATH.
pub fn interpreter() -> String {
    std::env::var("XTASK_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_owned())
}

/// Whether the user chose the interpreter with `XTASK_PYTHON`.
pub fn overridden() -> bool {
    std::env::var_os("XTASK_PYTHON").is_some_and(|p| !p.is_empty())
}

/// What to say when [`interpreter`] cannot be run.
pub fn interpreter_hint(program: &str) -> String {
    if overridden() {
        format!("XTASK_PYTHON={program} is not a working Python interpreter: point it at one (e.g. a venv's bin/python) or unset it")
    } else {
        format!("`{program}` could not be run: {}", super::PYTHON.install)
    }
}

static PACKAGING: OnceLock<PathBuf> = OnceLock::new();
static UV_BIN: OnceLock<PathBuf> = OnceLock::new();

/// `python -m build` makes its isolated environments with this `uv` (from
/// uv's cache, so the build backend is not downloaded again).
pub fn use_uv(uv: PathBuf) {
    let _ = UV_BIN.set(uv);
}

/// Runs `build` and `twine` with `python` from now on (the environment
/// `venv::packaging_tools` provisioned).
pub fn use_packaging_interpreter(python: PathBuf) {
    let _ = PACKAGING.set(python);
}

/// The interpreter that has `build`, `twine` and `packaging`.
fn packaging_interpreter() -> String {
    PACKAGING
        .get()
        .map(|p| p.display().to_string())
        .unwrap_or_else(interpreter)
}

/// `python3 -m venv DIR`.
pub fn make_venv(dir: &Path) -> Cmd {
    super::command(interpreter(), Effect::Stage)
        .args(["-m", "venv"])
        .arg(dir.display().to_string())
}

/// `VENV_PYTHON -m pip install ARGS` (pinned specs, or `-r FILE`).
pub fn pip_install<I, S>(venv_python: &Path, args: I) -> Cmd
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    super::command(venv_python.display().to_string(), Effect::Stage)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .args(args)
}

/// `uv pip install --python VENV_PYTHON -r REQUIREMENTS`; never downloads an
/// interpreter of its own.
pub fn uv_install(uv: &Path, venv_python: &Path, requirements: &Path) -> Cmd {
    super::command(uv.display().to_string(), Effect::Stage)
        .args(["pip", "install", "--python"])
        .arg(venv_python.display().to_string())
        .arg("-r")
        .arg(requirements.display().to_string())
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("NO_COLOR", "1")
}

pub fn version() -> Cmd {
    super::command(interpreter(), Effect::Query).arg("--version")
}

/// `python3 -m MODULE --version`: whether a module-run tool is installed.
pub fn module_version(module: &str) -> Cmd {
    super::command(packaging_interpreter(), Effect::Query).args(["-m", module, "--version"])
}

/// `python3 -m build --outdir OUT SRC` (isolated: the backend comes from the index).
pub fn build(source: &Path, out: &Path) -> Cmd {
    let mut cmd = super::command(packaging_interpreter(), Effect::Stage).args(["-m", "build"]);
    if let Some(uv) = UV_BIN.get() {
        cmd = cmd
            .env("UV", uv.display().to_string())
            .arg("--installer=uv");
    }
    cmd.arg("--outdir")
        .arg(out.display().to_string())
        .arg(source.display().to_string())
}

/// `twine check --strict FILES`.
pub fn twine_check(files: &[PathBuf]) -> Cmd {
    super::command(packaging_interpreter(), Effect::Query)
        .args(["-m", "twine", "--no-color", "check", "--strict"])
        .args(files.iter().map(|f| f.display().to_string()))
        .env("NO_COLOR", "1")
}

/// `twine upload` to `url`; credentials only from the environment.
pub fn twine_upload(url: &str, files: &[PathBuf]) -> Cmd {
    let cmd = super::command(packaging_interpreter(), Effect::Change)
        .args([
            "-m",
            "twine",
            "--no-color",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            url,
        ])
        .args(files.iter().map(|f| f.display().to_string()))
        .env("NO_COLOR", "1")
        .secret("TWINE_PASSWORD");
    // Trusted publishing: in a GitHub Actions job with `id-token: write`,
    // twine trades the job's OIDC identity for a short-lived upload token
    // when no password is set.
    match std::env::var_os("ACTIONS_ID_TOKEN_REQUEST_URL") {
        Some(_) => cmd.secret("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        None => cmd,
    }
}

/// The files an index holds for a release: `{filename: sha256}` as JSON.
/// `kind` is `json` (PyPI's JSON API) or `simple` (PEP 503/691).
pub fn index_files(kind: &str, url: &str) -> Cmd {
    super::command(interpreter(), Effect::Query)
        .args(["-c", INDEX_FILES, kind, url])
        .secret("TWINE_PASSWORD")
        .timeout(std::time::Duration::from_secs(60))
}

const INDEX_FILES: &str = include_str!("index_files.py");

/// A wheel's or sdist's `Version:` from its metadata, printed by python.
pub fn metadata_version(file: &Path) -> Cmd {
    super::command(interpreter(), Effect::Query)
        .args(["-c", METADATA_VERSION])
        .arg(file.display().to_string())
}

const METADATA_VERSION: &str = r#"
import sys, tarfile, zipfile
path = sys.argv[1]
if path.endswith(".whl"):
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        text = z.read(name).decode()
else:
    with tarfile.open(path) as t:
        member = next(m for m in t.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
        text = t.extractfile(member).read().decode()
print(next(l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("Version:")))
"#;

/// onnxruntime on `onnx` with the inputs a model's export wrote to
/// `reference` (`.npz`: one array per input and output name, samples on the
/// first axis), against the outputs there: prints JSON with the max
/// absolute difference per output and overall.
pub fn onnx_parity(onnx: &Path, reference: &Path) -> Cmd {
    super::command(interpreter(), Effect::Stage)
        .args(["-c", PARITY])
        .arg(onnx.display().to_string())
        .arg(reference.display().to_string())
}

const PARITY: &str = r#"
import json, sys
import numpy as np, onnxruntime as ort
onnx, reference = sys.argv[1], sys.argv[2]
session = ort.InferenceSession(onnx, providers=["CPUExecutionProvider"])
data = np.load(reference)
inputs = [i.name for i in session.get_inputs()]
outputs = [o.name for o in session.get_outputs()]
missing = [n for n in inputs if n not in data.files]
if missing:
    sys.exit(f"{reference}: no array for the input(s) {', '.join(missing)}; it has {', '.join(data.files)}")
compared = [n for n in outputs if n in data.files]
if not compared:
    sys.exit(f"{reference}: no array for any output ({', '.join(outputs)}); it has {', '.join(data.files)}")
samples = len(data[inputs[0]])
if samples == 0:
    sys.exit(f"{reference}: no samples (the arrays' first axis is empty)")
worst = dict.fromkeys(compared, 0.0)
for i in range(samples):
    got = session.run(compared, {n: data[n][i] for n in inputs})
    for n, g in zip(compared, got):
        want = data[n][i]
        if g.shape != want.shape:
            sys.exit(f"{reference}: output {n} is {list(g.shape)} from onnxruntime but {list(want.shape)} in the reference (sample {i})")
        diff = float(np.max(np.abs(g.astype(np.float64) - want)))
        if not np.isfinite(diff):
            sys.exit(f"{reference}: output {n} differs by {diff} at sample {i} (NaN or infinity)")
        worst[n] = max(worst[n], diff)
print(json.dumps({"samples": samples, "outputs": worst, "max_abs_diff": max(worst.values()), "onnxruntime": ort.__version__}))
"#;

/// Fails unless every listed module imports.
pub fn can_import(modules: &[&str]) -> Cmd {
    super::command(interpreter(), Effect::Query)
        .args(["-c", &format!("import {}", modules.join(", "))])
}

/// The runtime dependencies of WHEEL as this interpreter's environment
/// resolves them, transitively, as JSON. SCRIPT is where
/// [`RUNTIME_DEPS_SCRIPT`] was written: a file, so the command reads as typed.
pub fn runtime_deps(script: &Path, wheel: &Path) -> Cmd {
    super::command(interpreter(), Effect::Query)
        .arg(script.display().to_string())
        .arg(wheel.display().to_string())
}

pub const RUNTIME_DEPS_SCRIPT: &str = include_str!("py/runtime_deps.py");

/// `VENV_PYTHON -m pytest TESTS -q` with the package's sources on the path.
pub fn pytest(venv_python: &Path, root: &Path, tests: &str, src: &Path) -> Cmd {
    super::command(venv_python.display().to_string(), Effect::Stage)
        // `-rs`: every skipped test is named with its reason.
        .args(["-m", "pytest", tests, "-q", "-rs", "-p", "no:cacheprovider"])
        .cwd(root)
        .env("PYTHONPATH", src.display().to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
}
