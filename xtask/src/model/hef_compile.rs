//! `cargo xtask hef-compile`: ONNX -> HAR -> quantised HAR -> HEF with the
//! Hailo Dataflow Compiler, in a scratch directory, never leaving a HEF that
//! did not pass the structural check, and never a placeholder.
//!
//! The DFC is x86_64 Linux only and a registered download; without it this
//! fails before writing anything. Every stage runs with a null stdin and
//! explicit node names, so a prompt cannot wait forever, and with a timeout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

use crate::checksums::{hex, sha256_files};
use crate::core::config::{HwArch, Model, Workspace};
use crate::core::runner::{on_path, Runner};
use crate::model::{architecture, hef, npy};
use crate::tools::{self, hailo};

/// Compile a model's ONNX export into a HEF with the Hailo DFC.
#[derive(Debug)]
pub struct HefCompile {
    model: Option<String>,
    hw_arch: Option<HwArch>,
    onnx: Option<PathBuf>,
    calib: Option<PathBuf>,
    model_script: Option<PathBuf>,
    start_node_names: Vec<String>,
    end_node_names: Vec<String>,
    out_dir: Option<PathBuf>,
    timeout: u64,
}

/// What a compile produced from what, written beside the HEF.
#[derive(Debug)]
struct Manifest {
    net_name: String,
    hw_arch: String,
    dfc_version: Option<String>,
    hailort_version: Option<String>,
    hef: FileHash,
    onnx: FileHash,
    calibration_set: FileHash,
    calibration_shape: Vec<u64>,
    model_script: Option<FileHash>,
    hef_header: hef::HefHeader,
    hailortcli_architecture: Option<String>,
    commands: Vec<String>,
}

record!(write: Manifest (Same) {
    net_name,
    hw_arch,
    dfc_version,
    hailort_version,
    hef,
    onnx,
    calibration_set,
    calibration_shape,
    model_script,
    hef_header,
    hailortcli_architecture,
    commands,
});

#[derive(Debug)]
struct FileHash {
    path: String,
    sha256: String,
}

record!(write: FileHash (Same) {
    path,
    sha256,
});

impl HefCompile {
    pub fn args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new("model")
                .long("model")
                .value_name("MODEL")
                .help("The model [default: the only model with `hef` in the config]"),
        )
        .arg(
            Arg::new("hw-arch")
                .long("hw-arch")
                .value_name("HW_ARCH")
                .value_parser(HwArch::parse)
                .help(
                    "Target accelerator as the DFC names it (hailo8, hailo8l, hailo15h, ...) \
                     [default: the model's `hef.hw-arch`]",
                ),
        )
        .arg(
            Arg::new("onnx")
                .long("onnx")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .help("The ONNX model [default: target/dist/v<VERSION>/<MODEL>.onnx]"),
        )
        .arg(
            Arg::new("calib")
                .long("calib")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "Calibration set, float32 .npy (N, 1, T, C) [default: beside the ONNX, \
                     <MODEL>.calib.npy]",
                ),
        )
        .arg(
            Arg::new("model-script")
                .long("model-script")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .help("DFC model script (.alls) for optimisation"),
        )
        .arg(
            Arg::new("start-node-names")
                .long("start-node-names")
                .value_name("NODE")
                .num_args(1..)
                .action(ArgAction::Append)
                .help("ONNX node names the network starts at [default: from the export report]"),
        )
        .arg(
            Arg::new("end-node-names")
                .long("end-node-names")
                .value_name("NODE")
                .num_args(1..)
                .action(ArgAction::Append)
                .help(
                    "ONNX node names the network ends at; without them the DFC stops to ask \
                     [default: from the export report]",
                ),
        )
        .arg(
            Arg::new("out-dir")
                .long("out-dir")
                .value_name("DIR")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "Where the .hef and its manifest go [default: the release directory \
                     target/dist/v<VERSION>/, never the repository itself]",
                ),
        )
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .value_name("TIMEOUT")
                .value_parser(value_parser!(u64))
                // 4 hours, as in `defaults_for`.
                .default_value("14400")
                .help("Seconds a DFC stage may take before it is stopped"),
        )
    }

    pub fn from_matches(matches: &ArgMatches) -> HefCompile {
        let strings = |id: &str| -> Vec<String> {
            matches
                .get_many::<String>(id)
                .map(|values| values.cloned().collect())
                .unwrap_or_default()
        };
        HefCompile {
            model: matches.get_one::<String>("model").cloned(),
            hw_arch: matches.get_one::<HwArch>("hw-arch").cloned(),
            onnx: matches.get_one::<PathBuf>("onnx").cloned(),
            calib: matches.get_one::<PathBuf>("calib").cloned(),
            model_script: matches.get_one::<PathBuf>("model-script").cloned(),
            start_node_names: strings("start-node-names"),
            end_node_names: strings("end-node-names"),
            out_dir: matches.get_one::<PathBuf>("out-dir").cloned(),
            timeout: crate::cli::required(matches, "timeout"),
        }
    }

    /// The release's compile of `model` with every default (staged ONNX,
    /// calibration set and node names, output beside them).
    pub fn defaults_for(model: &str) -> HefCompile {
        HefCompile {
            model: Some(model.to_owned()),
            hw_arch: None,
            onnx: None,
            calib: None,
            model_script: None,
            start_node_names: Vec::new(),
            end_node_names: Vec::new(),
            out_dir: None,
            timeout: 4 * 3600,
        }
    }

    pub fn run(self) -> Result<()> {
        self.compile(&Workspace::discover()?)
    }

    /// Compiles from and into `staged` (the release's directory, which carries
    /// the new version before the workspace does).
    pub fn compile_into(mut self, workspace: &Workspace, staged: &std::path::Path) -> Result<()> {
        let name = self.model.clone().unwrap_or_default();
        self.onnx = Some(staged.join(format!("{name}.onnx")));
        self.calib = Some(staged.join(format!("{name}.calib.npy")));
        self.out_dir = Some(staged.to_owned());
        self.compile(workspace)
    }

    pub fn compile(self, workspace: &Workspace) -> Result<()> {
        tools::require(&[&tools::HAILO])
            .context("the Hailo Dataflow Compiler (`hailo`) is needed to compile a HEF; `cargo xtask doctor` shows what is installed")?;
        let version = workspace.product_version()?;
        let (model, hw_arch) = self.pick(workspace)?;
        let staged = crate::core::dist::Dist::of(&workspace.root, &version)
            .dir()
            .to_owned();
        let onnx = self
            .onnx
            .clone()
            .unwrap_or_else(|| staged.join(format!("{}.onnx", model.name)));
        let calib = self
            .calib
            .clone()
            .unwrap_or_else(|| onnx.with_file_name(format!("{}.calib.npy", model.name)));
        let out_dir = self.out_dir.clone().unwrap_or_else(|| staged.clone());
        let report = export_report(&onnx);
        let or_report = |given: &[String], found: Vec<String>| {
            if given.is_empty() {
                found
            } else {
                given.to_vec()
            }
        };
        let start_nodes = or_report(&self.start_node_names, report.0);
        let end_nodes = or_report(&self.end_node_names, report.1);
        let rules = workspace.release.targets.get_key_value(hw_arch.as_str());
        let calibration_shape = check_inputs(
            &onnx,
            rules.map(|(k, v)| (k.as_str(), v)),
            &calib,
            self.model_script.as_deref(),
            &end_nodes,
        )?;
        let runner = Runner::new(false);
        let versions = toolchain_versions(&runner)?;

        let scratch = workspace.root.join(format!(
            "target/hef-compile/{}-{}",
            model.name,
            std::process::id()
        ));
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)?;
        }
        std::fs::create_dir_all(scratch.join("out"))
            .with_context(|| format!("creating {}", scratch.display()))?;
        let job = hailo::DfcJob {
            hw_arch: hw_arch.as_str(),
            net_name: &model.name,
            scratch: &scratch,
            timeout: Duration::from_secs(self.timeout),
        };
        let har = scratch.join(format!("{}.har", model.name));
        let optimized = scratch.join(format!("{}_optimized.har", model.name));
        let script = self.model_script.as_deref().map(abs).transpose()?;
        let steps = [
            job.parse(&abs(&onnx)?, &har, &start_nodes, &end_nodes),
            job.optimize(&har, &abs(&calib)?, script.as_deref(), &optimized),
            job.compile(&optimized, &scratch.join("out")),
        ];
        for step in &steps {
            runner.run(step).with_context(|| {
                format!(
                    "the DFC failed; no HEF was written; its logs are in {}",
                    scratch.display()
                )
            })?;
        }
        let (compiled, header, arch) = compiled_hef(&scratch.join("out"), &hw_arch, &runner)?;

        let target = out_dir.join(format!("{}.hef", model.name));
        let mut inputs = vec![compiled.clone(), onnx.clone(), calib.clone()];
        inputs.extend(self.model_script.clone());
        let hashes: Vec<String> = sha256_files(&inputs)
            .into_iter()
            .map(|d| d.map(|d| hex(&d)))
            .collect::<std::io::Result<_>>()?;
        let hash = |i: usize, path: &Path| FileHash {
            path: path.display().to_string(),
            sha256: hashes[i].clone(),
        };
        let manifest = Manifest {
            net_name: model.name.clone(),
            hw_arch: hw_arch.as_str().to_owned(),
            dfc_version: versions.dfc,
            hailort_version: versions.hailort,
            hef: hash(0, &target),
            onnx: hash(1, &onnx),
            calibration_set: hash(2, &calib),
            calibration_shape,
            model_script: self.model_script.as_deref().map(|s| hash(3, s)),
            hef_header: header,
            hailortcli_architecture: arch,
            commands: steps.iter().map(|s| s.to_string()).collect(),
        };
        std::fs::create_dir_all(&out_dir)
            .with_context(|| format!("creating {}", out_dir.display()))?;
        let manifest_path = target.with_extension("hef.json");
        crate::core::atomic::write_all(&[
            (target.clone(), std::fs::read(&compiled)?),
            (manifest_path.clone(), serde_json::to_vec_pretty(&manifest)?),
        ])?;
        std::fs::remove_dir_all(&scratch)?;
        say!(
            "wrote {} and its compile manifest {}",
            target.display(),
            manifest_path.display()
        );
        Ok(())
    }

    /// The model to compile and its target: `--model` (or the one model
    /// with a `hef`), `--hw-arch` (or its `hef.hw-arch`).
    fn pick<'w>(&self, workspace: &'w Workspace) -> Result<(&'w Model, HwArch)> {
        let models = &workspace.release.models;
        let hef_models: Vec<_> = models.iter().filter(|m| m.hef.is_some()).collect();
        let model = match &self.model {
            Some(name) => models
                .iter()
                .find(|m| m.name == *name)
                .with_context(|| format!("no model {name} in the config"))?,
            None if hef_models.len() == 1 => hef_models[0],
            None => bail!(
                "name the model with --model: {} models compile a HEF",
                hef_models.len()
            ),
        };
        let hw_arch = match (&self.hw_arch, model.hef.as_ref()) {
            (Some(arch), _) => arch.clone(),
            (None, Some(h)) => h.hw_arch.clone(),
            (None, None) => bail!(
                "model {} has no `hef` in the config; pass --hw-arch",
                model.name
            ),
        };
        Ok((model, hw_arch))
    }
}

/// The one HEF the DFC left in `out`, its header, and the architecture
/// `hailortcli` reads from it (where installed), which must be `hw_arch`.
fn compiled_hef(
    out: &Path,
    hw_arch: &HwArch,
    runner: &Runner,
) -> Result<(PathBuf, hef::HefHeader, Option<String>)> {
    let hefs: Vec<PathBuf> = std::fs::read_dir(out)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "hef"))
        .collect();
    let [compiled] = hefs.as_slice() else {
        bail!(
            "the DFC left {} .hef files in {} (expected exactly one); no HEF was written",
            hefs.len(),
            out.display()
        );
    };
    let header = hef::inspect(compiled)
        .map_err(|why| anyhow::anyhow!("{}: {why}; no HEF was written", compiled.display()))?;
    if !on_path("hailortcli") {
        return Ok((compiled.clone(), header, None));
    }
    let arch = architecture(compiled, runner)
        .map_err(|why| anyhow::anyhow!("{why}; no HEF was written"))?;
    if !arch.eq_ignore_ascii_case(hw_arch.as_str()) {
        bail!(
            "hailortcli says {} was compiled for {arch}, not {}; no HEF was written",
            compiled.display(),
            hw_arch.as_str()
        );
    }
    Ok((compiled.clone(), header, Some(arch)))
}

fn abs(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).with_context(|| format!("{} does not exist", path.display()))
}

/// The DFC's version (required: the compile manifest must name what made
/// the HEF) and HailoRT's, from `hailo --version`, else `hailortcli
/// --version`. Asked before any stage runs, so nothing is compiled by a
/// toolchain the manifest could not name.
fn toolchain_versions(runner: &Runner) -> Result<hailo::DfcVersions> {
    let said = runner.read(&hailo::version())?;
    let mut versions = hailo::DfcVersions::parse(&said);
    if versions.dfc.is_none() {
        let head: Vec<&str> = said.lines().take(8).collect();
        bail!(
            "`hailo --version` printed no `Hailo DFC Version:` line, so the compile manifest could not \
             name the DFC; nothing was compiled. Check the installation (`hailo --version` should print \
             e.g. `Hailo DFC Version: 3.33.0`). It printed:\n{}",
            head.join("\n")
        );
    }
    if versions.hailort.is_none() && on_path("hailortcli") {
        let said = runner.read(&hailo::hailortcli_version())?;
        versions.hailort = hailo::DfcVersions::parse(&said).hailort;
    }
    Ok(versions)
}

/// Start and end node names recorded by `onnx-export`, when its report is there.
fn export_report(onnx: &Path) -> (Vec<String>, Vec<String>) {
    let report = onnx.with_extension("export.json");
    let json: serde_json::Value = std::fs::read_to_string(report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let list = |key: &str| {
        json[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    (list("start_nodes"), list("end_nodes"))
}

/// Every input problem at once; the calibration set's shape when all is well.
fn check_inputs(
    onnx: &Path,
    rules: Option<(&str, &crate::core::config::TargetRules)>,
    calib: &Path,
    script: Option<&Path>,
    end_nodes: &[String],
) -> Result<Vec<u64>> {
    let mut problems = Vec::new();
    if !onnx.is_file() {
        problems.push(format!(
            "{}: no ONNX model there; run `cargo xtask onnx-export` or pass --onnx",
            onnx.display()
        ));
    } else {
        match crate::model::onnx::read(onnx) {
            // Never hand the DFC a file that is not a model.
            Err(why) => problems.push(format!("{}: {why}", onnx.display())),
            Ok(model) => {
                if let Some((target, rules)) = rules {
                    problems.extend(crate::model::against_target(onnx, &model, target, rules));
                }
            }
        }
    }
    if let Some(script) = script.filter(|s| !s.is_file()) {
        problems.push(format!("{}: no model script there", script.display()));
    }
    if end_nodes.is_empty() {
        problems.push("no end node names: pass --end-node-names (or export with `cargo xtask onnx-export`, whose report names them); the DFC would stop and ask".to_owned());
    }
    let mut shape = Vec::new();
    match npy::header(calib) {
        Ok((descr, dims)) => {
            if descr != "<f4" {
                problems.push(format!(
                    "{}: dtype {descr}, but the calibration set must be float32 (<f4)",
                    calib.display()
                ));
            }
            if dims.len() != 4 || dims[1] != 1 {
                problems.push(format!("{}: shape {dims:?}, but the calibration set must be (N, 1, T, C), the DFC's NHWC", calib.display()));
            } else if dims[0] < 1024 {
                tell!("warning: {}: {} calibration windows; fewer than 1024 compiles fine and quietly loses accuracy", calib.display(), dims[0]);
            }
            shape = dims;
        }
        Err(why) => problems.push(format!(
            "{}: {why}; make it with `python -m tcn_vae.calibration`",
            calib.display()
        )),
    }
    if !problems.is_empty() {
        bail!(
            "cannot compile; nothing was written:\n{}",
            crate::core::report::bullets(&problems)
        );
    }
    Ok(shape)
}
