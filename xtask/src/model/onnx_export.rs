//! `cargo xtask onnx-export`: the model's encoder to ONNX with a real torch,
//! verified (checker, static dims, opset, no op the DFC rejects, onnxruntime
//! parity), plus the DFC calibration set, staged under
//! the release directory `target/dist/v<X.Y.Z>/` where `hef-compile` finds them.
//! The work is done by the package's own `tcn_vae.export`,
//! `tcn_vae.calibration` and `tcn_vae.train` modules.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::core::config::{Model, Workspace};
use crate::core::runner::Runner;
use crate::tools::python;

/// Export a model to ONNX with torch, verify it, and write its calibration set.
#[derive(clap::Args, Debug)]
pub struct OnnxExport {
    /// The model [default: the only configured model].
    #[arg(long)]
    model: Option<String>,
    /// Trained weights: a state dict of the whole TCN-VAE [default: the
    /// model's .pth asset in the config].
    #[arg(long, value_name = "FILE", conflicts_with = "synthetic")]
    weights: Option<PathBuf>,
    /// Train deterministic weights on synthetic IMU-like data first (seed 0).
    #[arg(long)]
    synthetic: bool,
    /// Calibration windows to write (fewer than 1024 loses accuracy on the device).
    #[arg(long, default_value_t = 1024)]
    calib_count: usize,
}

impl OnnxExport {
    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        let runner = Runner::new(false);
        let model = pick(&workspace, self.model.as_deref())?;
        let package = workspace.release.python.as_ref().context("Cargo.toml: [workspace.metadata.release.python] is not configured; the export runs the package's tcn_vae.export")?;
        let src = workspace.root.join(&package.path).join("src");
        if !runner
            .output(&python::can_import(python::EXPORT_MODULES))?
            .success()
        {
            let test_venv = workspace.root.join("target/test-venv/bin/python");
            let reuse = if test_venv.exists() && !python::overridden() {
                format!(
                    "; `cargo xtask test` already made one that can: \
                     `XTASK_PYTHON={} cargo xtask onnx-export ...`",
                    test_venv.display()
                )
            } else {
                String::new()
            };
            bail!(
                "{} cannot import torch, onnx, onnxruntime and numpy: `{} -m pip install '{}[export]'` \
                 (torch pulls about 3 GB of CUDA wheels; it runs on CPU){reuse}",
                python::interpreter(),
                python::interpreter(),
                workspace.root.join(&package.path).display()
            );
        }
        let metadata = crate::model::newest_version_dir(&workspace.root.join(&model.metadata))?;
        let staged = crate::core::dist::Dist::of(&workspace.root, &workspace.product_version()?)
            .dir()
            .to_owned();
        std::fs::create_dir_all(&staged)
            .with_context(|| format!("creating {}", staged.display()))?;
        let weights = match (&self.weights, self.synthetic) {
            (Some(weights), _) => weights.clone(),
            (None, true) => {
                let args = vec![
                    "--synthetic".to_owned(),
                    "--seed".to_owned(),
                    "0".to_owned(),
                    "--config".to_owned(),
                    path(&metadata.join("model_config.json")),
                    "--normalization".to_owned(),
                    path(&metadata.join("normalization.json")),
                    "--out".to_owned(),
                    path(&staged),
                ];
                runner.run(&python::module(&src, "tcn_vae.train", args))?;
                staged.join("tcn_vae_synthetic.pth")
            }
            (None, false) => match model.assets.iter().find(|a| a.ends_with(".pth")) {
                Some(asset) => workspace.root.join(asset),
                None => bail!(
                    "model {} lists no .pth weights in models[].assets: pass --weights FILE, or \
                     --synthetic to train deterministic weights on synthetic data",
                    model.name
                ),
            },
        };
        stage(
            &src,
            &metadata,
            model,
            &weights,
            &staged,
            self.calib_count,
            &runner,
        )
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn pick<'a>(workspace: &'a Workspace, name: Option<&str>) -> Result<&'a Model> {
    let models = &workspace.release.models;
    match name {
        Some(name) => models
            .iter()
            .find(|m| m.name == name)
            .with_context(|| format!("no model {name} in [workspace.metadata.release.models]")),
        None if models.len() == 1 => Ok(&models[0]),
        None => bail!(
            "name the model with --model; {} are configured",
            models.len()
        ),
    }
}

/// Exports `weights` of `model` into `staged` (`<name>.onnx`, its report
/// `<name>.export.json` and calibration set `<name>.calib.npy`), verified; the release's build step uses it too.
#[allow(clippy::too_many_arguments)]
pub fn stage(
    src: &Path,
    metadata: &Path,
    model: &Model,
    weights: &Path,
    staged: &Path,
    calib_count: usize,
    runner: &Runner,
) -> Result<()> {
    let onnx = staged.join(format!("{}.onnx", model.name));
    let args = vec![
        "--config".to_owned(),
        path(&metadata.join("model_config.json")),
        "--weights".to_owned(),
        path(weights),
        "--out".to_owned(),
        path(&onnx),
    ];
    runner
        .run(&python::module(src, "tcn_vae.export", args))
        .context("the ONNX export failed its checks; nothing was staged as verified")?;
    let calib = staged.join(format!("{}.calib.npy", model.name));
    let args = vec![
        "--normalization".to_owned(),
        path(&metadata.join("normalization.json")),
        "--count".to_owned(),
        calib_count.to_string(),
        "--out".to_owned(),
        path(&calib),
    ];
    runner.run(&python::module(src, "tcn_vae.calibration", args))?;

    let report_path = onnx.with_extension("export.json");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path)?)
            .with_context(|| format!("{}: not JSON", report_path.display()))?;
    say!(
        "{}: input {}, opset {}, max |onnxruntime - torch| = {:.2e}, end nodes {}; report {}, calibration set {}",
        onnx.display(),
        report["input_shape"],
        report["opset"],
        report["max_abs_diff"].as_f64().unwrap_or(f64::NAN),
        report["end_nodes"],
        report_path.display(),
        calib.display()
    );
    Ok(())
}
