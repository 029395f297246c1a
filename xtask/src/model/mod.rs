//! `cargo xtask models check|inspect-hef`: the trained models a release ships,
//! checked before anything is built from them.

pub mod hef_compile;
pub mod onnx_export;

pub mod hef;
pub mod metadata;
pub mod npy;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::core::config::{Model, Workspace};
use crate::core::runner::{on_path, Runner};
use crate::tools::hailo;

/// Check model metadata and HEF files.
#[derive(clap::Subcommand, Debug)]
pub enum Models {
    /// Check every version of each model's metadata (or of NAME), the accuracy
    /// in weight names, and every .hef among its assets; all problems at once.
    Check {
        /// Only this model.
        name: Option<String>,
    },
    /// Print each HEF's header (version, sizes; the architecture when
    /// `hailortcli` is installed); exit 1 if any is not a well-formed HEF.
    InspectHef {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

impl Models {
    pub fn run(self) -> Result<()> {
        match self {
            Models::Check { name } => {
                let workspace = Workspace::discover()?;
                let models: Vec<&Model> = workspace
                    .release
                    .models
                    .iter()
                    .filter(|m| name.as_ref().is_none_or(|n| *n == m.name))
                    .collect();
                if models.is_empty() {
                    bail!(
                        "no model {} in [workspace.metadata.release.models]",
                        name.unwrap_or_default()
                    );
                }
                let mut problems = Vec::new();
                for model in &models {
                    check(&workspace, model, &mut problems);
                }
                if !problems.is_empty() {
                    bail!(
                        "{} problem{} in the model metadata:\n{}",
                        problems.len(),
                        if problems.len() == 1 { "" } else { "s" },
                        crate::core::report::bullets(&problems)
                    );
                }
                say!(
                    "{}: metadata, asset names and HEF files are fine",
                    models
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                Ok(())
            }
            Models::InspectHef { files } => inspect_hefs(&files, &Runner::new(false)),
        }
    }
}

/// A model's `v<X.Y.Z>` metadata directories, oldest first.
pub fn version_dirs(dir: &Path) -> Vec<(semver::Version, PathBuf)> {
    let mut versions: Vec<(semver::Version, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            Some((
                semver::Version::parse(p.file_name()?.to_str()?.strip_prefix('v')?).ok()?,
                p,
            ))
        })
        .collect();
    versions.sort();
    versions
}

/// The newest `v<X.Y.Z>` metadata directory.
pub fn newest_version_dir(dir: &Path) -> Result<PathBuf> {
    version_dirs(dir)
        .pop()
        .map(|(_, path)| path)
        .ok_or_else(|| anyhow::anyhow!("{}: no v<X.Y.Z> metadata directory", dir.display()))
}

/// Every problem of one model: each version directory, the configured
/// assets, and any HEF staged for the workspace version.
pub fn check(workspace: &Workspace, model: &Model, problems: &mut Vec<String>) {
    let dir = workspace.root.join(&model.metadata);
    let versions = version_dirs(&dir);
    if versions.is_empty() {
        problems.push(format!(
            "{}: no v<X.Y.Z> metadata directory for model {}",
            dir.display(),
            model.name
        ));
        return;
    }
    let mut newest = None;
    for (version, path) in &versions {
        let read = metadata::read(path, &version.to_string(), problems);
        metadata::check(&model.name, &read, problems);
        newest = Some(read);
    }
    let mut assets: Vec<PathBuf> = model
        .assets
        .iter()
        .map(|a| workspace.root.join(a))
        .collect();
    if let Ok(version) = workspace.product_version() {
        // The model's own staged files: `<name>.onnx`, `<name>.hef`, ...
        let staged = crate::core::dist::Dist::of(&workspace.root, &version);
        let prefix = format!("{}.", model.name);
        assets.extend(
            std::fs::read_dir(staged.dir())
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| crate::core::dist::name_of(p).starts_with(&prefix)),
        );
    }
    for asset in &assets {
        if !asset.exists() {
            problems.push(format!(
                "{}: listed in models[].assets but missing; produce it or remove it from the list",
                asset.display()
            ));
            continue;
        }
        if let Some(metrics) = newest.as_ref().and_then(|m| {
            m.metrics
                .as_ref()
                .map(|e| (e, m.dir.join("eval_metrics.json")))
        }) {
            metadata::check_asset_name(asset, metrics.0, &metrics.1, problems);
        }
        if asset.extension().is_some_and(|e| e == "hef") {
            if let Err(why) = hef::inspect(asset) {
                problems.push(format!("{}: {why}", asset.display()));
            }
        }
    }
}

fn inspect_hefs(files: &[PathBuf], runner: &Runner) -> Result<()> {
    let mut failed = 0;
    let parse = on_path("hailortcli");
    for file in files {
        match hef::inspect(file) {
            Ok(h) => {
                let arch = if parse {
                    architecture(file, runner).unwrap_or_else(|why| format!("unknown ({why})"))
                } else {
                    "unknown (hailortcli not installed)".to_owned()
                };
                say!(
                    "{}: HEF version {}, proto {} B, ccws {} B, {} B in all, xxh3 {}, architecture {arch}",
                    file.display(),
                    h.version,
                    h.proto_size,
                    h.ccws_size,
                    h.file_size,
                    h.xxh3
                );
            }
            Err(why) => {
                failed += 1;
                say!("{}: NOT A VALID HEF: {why}", file.display());
            }
        }
    }
    if failed > 0 {
        bail!(
            "{failed} of {} file{} failed the HEF check",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// What `hailortcli parse-hef` says the HEF was compiled for.
pub fn architecture(file: &Path, runner: &Runner) -> Result<String, String> {
    let out = runner
        .output(&hailo::parse_hef(file))
        .map_err(|e| format!("{e:#}"))?;
    if !out.success() {
        return Err(format!(
            "hailortcli parse-hef failed: {}",
            out.stderr.trim()
        ));
    }
    out.stdout
        .lines()
        .find_map(|l| {
            l.split_once("Architecture HEF was compiled for:")
                .map(|(_, arch)| arch.trim().to_owned())
        })
        .ok_or_else(|| "hailortcli printed no architecture".to_owned())
}
