//! `cargo xtask onnx-export`: a model's ONNX made by the project's own export
//! program (`export` in the model's config, any program with placeholders),
//! then checked here like any ONNX the release ships (`models check-onnx`
//! against the model's declared interface), plus the DFC calibration set,
//! staged in the release directory `target/dist/v<X.Y.Z>/` where
//! `hef-compile` finds them. The example's export is its `tcn_vae` package,
//! named in Cargo.toml, not here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

use crate::core::config::{Export, Model, Workspace};
use crate::core::runner::Runner;
use crate::tools::python;

/// Export a model to ONNX with its configured command, check it, and write
/// its calibration set.
#[derive(Debug)]
pub struct OnnxExport {
    model: Option<String>,
    weights: Option<PathBuf>,
    synthetic: bool,
}

impl OnnxExport {
    pub fn args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new("model")
                .long("model")
                .value_name("MODEL")
                .help("The model [default: the only configured model]"),
        )
        .arg(
            Arg::new("weights")
                .long("weights")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .conflicts_with("synthetic")
                .help("Trained weights [default: the model's .pth asset in the config]"),
        )
        .arg(
            Arg::new("synthetic")
                .long("synthetic")
                .action(ArgAction::SetTrue)
                .help("Train deterministic weights first, with the model's `export.synthetic` command"),
        )
    }

    pub fn from_matches(matches: &ArgMatches) -> OnnxExport {
        OnnxExport {
            model: matches.get_one::<String>("model").cloned(),
            weights: matches.get_one::<PathBuf>("weights").cloned(),
            synthetic: matches.get_flag("synthetic"),
        }
    }

    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        let runner = Runner::new(false);
        let model = pick(&workspace, self.model.as_deref())?;
        let export = configured(model)?;
        if let Some(missing) = missing_modules(export, &runner)? {
            bail!("{missing}");
        }
        let staged = crate::core::dist::Dist::of(&workspace.root, &workspace.product_version()?)
            .dir()
            .to_owned();
        std::fs::create_dir_all(&staged)
            .with_context(|| format!("creating {}", staged.display()))?;
        let weights = match (&self.weights, self.synthetic) {
            (Some(weights), _) => weights.clone(),
            (None, true) => {
                // Outside the release directory: synthetic weights never ship.
                let weights = workspace
                    .root
                    .join(format!("target/synthetic-weights/{}.pth", model.name));
                if export.synthetic.is_empty() {
                    bail!(
                        "model {} has no `export.synthetic` command in Cargo.toml to train weights with; \
                         pass --weights FILE",
                        model.name
                    );
                }
                let places = Places::new(&workspace, model, &weights, &staged)?;
                runner.run(&places.command(&workspace, &export.synthetic, &export.env))?;
                weights
            }
            (None, false) => match model.assets.iter().find(|a| a.ends_with(".pth")) {
                Some(asset) => workspace.root.join(asset),
                None => bail!(
                    "model {} lists no .pth weights in models[].assets: pass --weights FILE, or \
                     --synthetic to train deterministic weights",
                    model.name
                ),
            },
        };
        stage(&workspace, model, &weights, &staged, &runner).map(drop)
    }
}

/// The model's export, or why there is none.
pub fn configured(model: &Model) -> Result<&Export> {
    model.export.as_ref().with_context(|| {
        format!(
            "model {} configures no `export` in Cargo.toml (docs/MODELS.md): name the program \
             that writes its ONNX, or list the ONNX among its assets",
            model.name
        )
    })
}

/// What the export's Python needs and cannot import, with how to get it.
pub fn missing_modules(export: &Export, runner: &Runner) -> Result<Option<String>> {
    let modules: Vec<&str> = export.python_modules.iter().map(String::as_str).collect();
    if modules.is_empty() || runner.output(&python::can_import(&modules))?.success() {
        return Ok(None);
    }
    let install = export.install.as_deref().unwrap_or("install them into it");
    Ok(Some(format!(
        "{} cannot import {} (the model's `export.python-modules`): {install}, or point \
         XTASK_PYTHON at an interpreter that has them",
        python::interpreter(),
        modules.join(", ")
    )))
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

/// The values of the export placeholders for one model.
struct Places(BTreeMap<&'static str, String>);

impl Places {
    fn new(ws: &Workspace, model: &Model, weights: &Path, staged: &Path) -> Result<Places> {
        let metadata = crate::model::newest_version_dir(&ws.root.join(&model.metadata))?;
        let path = |p: &Path| p.display().to_string();
        Ok(Places(BTreeMap::from([
            ("python", python::interpreter()),
            ("root", path(&ws.root)),
            ("name", model.name.clone()),
            ("metadata", path(&metadata)),
            ("weights", path(weights)),
            ("onnx", path(&staged.join(format!("{}.onnx", model.name)))),
            (
                "calibration",
                path(&staged.join(format!("{}.calib.npy", model.name))),
            ),
            (
                "reference",
                path(
                    &ws.root
                        .join(format!("target/xtask-export/{}.reference.npz", model.name)),
                ),
            ),
            ("out", path(staged)),
        ])))
    }

    fn fill(&self, text: &str) -> String {
        let values: Vec<(&str, &str)> = self.0.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::core::config::fill(text, &values)
    }

    fn command(
        &self,
        ws: &Workspace,
        argv: &[String],
        env: &BTreeMap<String, String>,
    ) -> crate::core::runner::Cmd {
        let argv: Vec<String> = argv.iter().map(|a| self.fill(a)).collect();
        let env = env.iter().map(|(k, v)| (k.clone(), self.fill(v))).collect();
        crate::tools::project(&argv, &env, &ws.root, crate::core::runner::Effect::Stage)
    }
}

/// Exports `weights` of `model` into `staged` (`<name>.onnx`, the export's
/// other outputs, the calibration set `<name>.calib.npy`), checked against
/// the model's declared ONNX interface and, with a `parity-tolerance`,
/// against the export's reference outputs with onnxruntime (the parity
/// record is returned); the release's build step uses it too.
pub fn stage(
    ws: &Workspace,
    model: &Model,
    weights: &Path,
    staged: &Path,
    runner: &Runner,
) -> Result<Option<serde_json::Value>> {
    let export = configured(model)?;
    let places = Places::new(ws, model, weights, staged)?;
    let onnx = staged.join(format!("{}.onnx", model.name));
    let reference = PathBuf::from(places.fill("{reference}"));
    if let Some(dir) = reference.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::remove_file(&reference).ok();
    runner
        .run(&places.command(ws, &export.command, &export.env))
        .context("the model's export command failed; nothing was staged as checked")?;
    let mut problems = match crate::model::onnx_problems(&onnx) {
        Err(problem) => vec![problem],
        Ok(read) => {
            let mut found = Vec::new();
            if let Some(spec) = &model.onnx {
                found.extend(crate::model::against_spec(&onnx, &read, spec));
            }
            if let Some((target, rules)) = crate::model::target_rules(ws, model) {
                found.extend(crate::model::against_target(&onnx, &read, target, rules));
            }
            found
        }
    };
    for suffix in &export.outputs {
        let file = staged.join(format!("{}.{suffix}", model.name));
        if !file.is_file() {
            problems.push(format!(
                "{}: the export command did not write it (`export.outputs` lists it)",
                file.display()
            ));
        }
    }
    if !problems.is_empty() {
        std::fs::remove_file(&onnx).ok();
        bail!(
            "the exported ONNX fails its checks (removed):\n{}",
            crate::core::report::bullets(&problems)
        );
    }
    let parity = match export.parity_tolerance {
        Some(tolerance) => match parity(&onnx, &reference, tolerance, runner) {
            Ok(record) => Some(record),
            Err(err) => {
                std::fs::remove_file(&onnx).ok();
                return Err(err.context(format!("{} was removed", onnx.display())));
            }
        },
        None => None,
    };
    if !export.calibration.is_empty() {
        runner.run(&places.command(ws, &export.calibration, &export.env))?;
    }
    match &parity {
        Some(p) => say!(
            "{}: exported and checked; max |onnxruntime - reference| = {:.2e} over {} samples \
             (tolerance {:.0e})",
            onnx.display(),
            p["max_abs_diff"].as_f64().unwrap_or(f64::NAN),
            p["samples"],
            p["tolerance"].as_f64().unwrap_or(f64::NAN)
        ),
        None => say!("{}: exported and checked", onnx.display()),
    }
    Ok(parity)
}

/// onnxruntime on the exported ONNX against the export's reference outputs:
/// the record for the manifest, or an error when they differ by more than
/// `tolerance` or the reference is not there.
fn parity(
    onnx: &Path,
    reference: &Path,
    tolerance: f64,
    runner: &Runner,
) -> Result<serde_json::Value> {
    if !reference.is_file() {
        bail!(
            "the export command wrote no reference {} (it passes {{reference}} and \
             `export.parity-tolerance` is set)",
            reference.display()
        );
    }
    let out = runner.read(&python::onnx_parity(onnx, reference))?;
    let mut record: serde_json::Value = serde_json::from_str(out.trim())
        .with_context(|| format!("the parity check printed no JSON: {out}"))?;
    let worst = record["max_abs_diff"].as_f64().unwrap_or(f64::INFINITY);
    if worst > tolerance {
        bail!(
            "onnxruntime differs from the export's reference by {worst:.2e} (outputs: {}), over \
             the tolerance {tolerance:.0e} (`export.parity-tolerance`)",
            record["outputs"]
        );
    }
    record["tolerance"] = serde_json::json!(tolerance);
    Ok(record)
}
