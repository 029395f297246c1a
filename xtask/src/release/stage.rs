//! The local steps: build everything a release ships into
//! `target/dist/v<X.Y.Z>/`, then verify it.
//!
//! What cannot be built on this machine (no `build` module, no torch or
//! weights for the ONNX, no Hailo DFC) is not an error here: it becomes a row
//! of the "what --execute needs" table. A dry run builds the Python package
//! from a scratch copy with the version edits applied, so the work tree stays
//! as it was and the wheel still carries the new version.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::plan::{Asset, Plan};
use crate::checksums::{
    check_file_in, hex, sha256_files, sums_file, CheckOptions, Report, Verbosity,
};
use crate::config::Workspace;
use crate::runner::{on_path, Runner};
use crate::supply_chain;
use crate::tools::python;
use crate::version::sources::FileChange;

/// Something `--execute` needs that this machine lacks: (what, for, how).
pub type Need = (String, String, String);

/// Builds into `plan.dist`; returns what could not be built here.
pub fn build(
    workspace: &Workspace,
    plan: &mut Plan,
    commit: supply_chain::ReleaseCommit,
    edits: &[FileChange],
    arguments: &[String],
    dry_run: bool,
    runner: &Runner,
) -> Result<Vec<Need>> {
    let dist = plan.dist.clone();
    if dist.exists() {
        std::fs::remove_dir_all(&dist).with_context(|| format!("cleaning {}", dist.display()))?;
    }
    std::fs::create_dir_all(&dist)?;
    let mut needs = Vec::new();

    if let Some(package) = &workspace.release.python {
        let source = if dry_run {
            edited_copy(workspace, &package.path, edits, &plan.version)?
        } else {
            workspace.root.join(&package.path)
        };
        let pep440 = plan.pep440_version.clone().unwrap_or_default();
        crate::python::build_into(
            &source,
            &dist.join("python"),
            &crate::python::project_name(workspace)?,
            &pep440,
            runner,
        )?;
    }

    let torch = runner
        .output(&python::can_import(python::EXPORT_MODULES))?
        .success();
    for model in &workspace.release.models {
        let staged = dist.join("models").join(&model.name);
        std::fs::create_dir_all(&staged)?;
        let metadata = crate::model::newest_version_dir(&workspace.root.join(&model.metadata))?;
        for entry in std::fs::read_dir(&metadata)? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::copy(&path, staged.join(path.file_name().expect("a file name")))?;
            }
        }
        for asset in &model.assets {
            let path = workspace.root.join(asset);
            if path.is_file() {
                std::fs::copy(&path, staged.join(path.file_name().expect("a file name")))?;
            } else {
                needs.push((
                    asset.clone(),
                    format!("model {}", model.name),
                    "train or download it; it is listed in models[].assets".to_owned(),
                ));
            }
        }
        let weights = model
            .assets
            .iter()
            .find(|a| a.ends_with(".pth"))
            .map(|a| workspace.root.join(a))
            .filter(|p| p.is_file());
        let src = workspace
            .release
            .python
            .as_ref()
            .map(|p| workspace.root.join(&p.path).join("src"));
        match (weights, torch, src) {
            (Some(weights), true, Some(src)) => {
                crate::onnx_export::stage(&src, &metadata, model, &weights, &staged, 1024, runner)?
            }
            (None, _, _) => needs.push((
                format!("trained weights (.pth) of {}", model.name),
                "the ONNX model and the HEF".to_owned(),
                "list them in models[].assets (`python -m tcn_vae.train` makes synthetic ones)"
                    .to_owned(),
            )),
            (_, false, _) => needs.push((
                "torch, onnx, onnxruntime".to_owned(),
                format!("the ONNX export of {}", model.name),
                "`pip install 'python[export]'` (~3 GB with torch's CUDA wheels)".to_owned(),
            )),
            (_, _, None) => {}
        }
        if let Some(hef) = &model.hef {
            let onnx = staged.join(format!("{}.onnx", model.name));
            if on_path("hailo") && onnx.is_file() {
                crate::hef_compile::HefCompile::defaults_for(&model.name)
                    .compile_into(workspace, &staged)?;
            } else {
                needs.push((
                    "Hailo Dataflow Compiler (`hailo`)".to_owned(),
                    format!("{}.hef ({})", model.name, hef.hw_arch.as_str()),
                    "x86_64 Linux only: a registered download, or Hailo's AI Software Suite container".to_owned(),
                ));
            }
        }
    }

    // The SBOM of the assets; checksums of both; the provenance of all of
    // it; signatures; then the notes and the manifest.
    // What the tag points at, or (a dry run) the commit it will grow from.
    let dated = match commit {
        supply_chain::ReleaseCommit::Made(sha) => sha,
        supply_chain::ReleaseCommit::NotYet { parent } => parent,
    };
    let created = runner.read(&crate::tools::git::Git::at(&workspace.root).commit_date(dated))?;
    let created = created.trim();
    let hashed = supply_chain::hash_all(&dist, &asset_names(&dist)?)?;
    let python_deps = match hashed
        .iter()
        .find(|h| h.path.extension().is_some_and(|e| e == "whl"))
    {
        Some(wheel) => Some(supply_chain::python_deps(
            workspace,
            &dist.join(&wheel.path),
            runner,
        )?),
        None => None,
    };
    let sbom = supply_chain::sbom(
        workspace,
        &plan.version,
        commit,
        created,
        &hashed,
        python_deps.as_ref(),
    )?;
    std::fs::write(
        dist.join(supply_chain::SBOM),
        serde_json::to_vec_pretty(&sbom)?,
    )?;
    let names = asset_names(&dist)?;
    crate::atomic::write_all(&[(dist.join("sha256sum.txt"), sums_file(&dist, &names)?)])?;
    let mut files = names;
    files.push(PathBuf::from("sha256sum.txt"));
    // The fingerprint first: the notes name it, and the provenance covers
    // the manifest too, so it comes last, then its signature.
    let signing = match &plan.sign_key {
        Some(key) if on_path("gpg") => Some((key.clone(), supply_chain::fingerprint(key, runner)?)),
        Some(key) => {
            needs.push((
                "gpg".to_owned(),
                format!("signing with {key}"),
                "`apt-get install gnupg`".to_owned(),
            ));
            None
        }
        None => None,
    };
    let version = semver::Version::parse(&plan.version)?;
    let fingerprint = signing.as_ref().map(|(_, fpr)| fpr.as_str());
    let notes = crate::changelog::notes(workspace, &version, &plan.changelog, &dist, fingerprint)?;
    std::fs::write(dist.join("release-notes.md"), notes)?;
    plan.assets = assets_of(&dist, &files)?;
    let manifest = json!({
        "version": plan.version,
        "pep440_version": plan.pep440_version,
        "tag": plan.tag,
        "commit": commit.field(),
        "assets": plan.assets,
        "images": plan.images,
    });
    std::fs::write(
        dist.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    files.push(PathBuf::from("manifest.json"));
    let subjects = supply_chain::hash_all(&dist, &files)?;
    let statement = supply_chain::provenance(
        workspace,
        &plan.version,
        &plan.tag,
        commit,
        created,
        arguments,
        &subjects,
    );
    std::fs::write(
        dist.join(supply_chain::PROVENANCE),
        serde_json::to_vec_pretty(&statement)?,
    )?;
    files.push(PathBuf::from(supply_chain::PROVENANCE));
    if let Some((key, _)) = &signing {
        let mut signed = vec![
            dist.join("sha256sum.txt"),
            dist.join(supply_chain::PROVENANCE),
        ];
        if workspace.release.sign_assets {
            let assets = files.iter().filter(|f| {
                f.as_os_str() != "sha256sum.txt" && f.as_os_str() != supply_chain::PROVENANCE
            });
            signed.extend(assets.map(|f| dist.join(f)));
        }
        for signature in supply_chain::sign(key, &signed, runner)? {
            files.push(signature.strip_prefix(&dist).expect("in dist").to_owned());
        }
    }
    plan.assets = assets_of(&dist, &files)?;
    Ok(needs)
}

/// Size and sha256 of each staged file.
fn assets_of(dist: &Path, files: &[PathBuf]) -> Result<Vec<Asset>> {
    let paths: Vec<PathBuf> = files.iter().map(|f| dist.join(f)).collect();
    files
        .iter()
        .zip(sha256_files(&paths))
        .map(|(name, digest)| -> Result<Asset> {
            Ok(Asset {
                path: name.display().to_string(),
                size: std::fs::metadata(dist.join(name))?.len(),
                sha256: hex(&digest?),
            })
        })
        .collect()
}

/// `sha256sum -c` on the staged directory, `twine check`, and `models check`.
pub fn verify(workspace: &Workspace, plan: &Plan, runner: &Runner) -> Result<()> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut report = Report {
        out: &mut out,
        err: &mut err,
        utf8: true,
    };
    let options = CheckOptions {
        verbosity: Verbosity::Quiet,
        strict: true,
        ..CheckOptions::default()
    };
    let sums = plan.dist.join("sha256sum.txt");
    if !check_file_in(
        &plan.dist,
        sums.as_os_str().as_encoded_bytes(),
        options,
        &mut report,
    ) {
        bail!(
            "{} does not verify:\n{}{}",
            sums.display(),
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        );
    }
    let python: Vec<PathBuf> = std::fs::read_dir(plan.dist.join("python"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let mut ran = vec!["sha256sum.txt"];
    if !python.is_empty() {
        runner
            .run(&python::twine_check(&python))
            .context("twine check --strict failed")?;
        ran.push("twine check");
    }
    let mut problems = Vec::new();
    for model in &workspace.release.models {
        crate::model::check(workspace, model, &mut problems);
    }
    if !problems.is_empty() {
        bail!(
            "the models do not pass their checks:\n{}",
            crate::report::bullets(&problems)
        );
    }
    if !workspace.release.models.is_empty() {
        ran.push("models check");
    }
    say!("verified {}: {}", plan.dist.display(), ran.join(", "));
    Ok(())
}

/// Every staged file a release ships, relative and byte-wise sorted.
fn asset_names(dist: &Path) -> Result<Vec<PathBuf>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let rel = path.strip_prefix(base).expect("below base").to_owned();
            if path.is_dir() {
                if rel != Path::new("docker") {
                    walk(base, &path, out)?;
                }
            } else if ![
                "sha256sum.txt",
                "release-notes.md",
                "manifest.json",
                supply_chain::PROVENANCE,
            ]
            .iter()
            .any(|n| rel == Path::new(n))
                && rel.extension().is_none_or(|e| e != "asc")
            {
                out.push(rel);
            }
        }
        Ok(())
    }
    let mut names = Vec::new();
    walk(dist, dist, &mut names)?;
    names.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    Ok(names)
}

/// A copy of the package with the release's version edits, for a dry run.
fn edited_copy(
    workspace: &Workspace,
    package: &str,
    edits: &[FileChange],
    version: &str,
) -> Result<PathBuf> {
    let copy = workspace
        .root
        .join(format!("target/release/v{version}/source"));
    if copy.exists() {
        std::fs::remove_dir_all(&copy)?;
    }
    copy_tree(&workspace.root.join(package), &copy)?;
    for edit in edits {
        if let Ok(rel) = edit.file.strip_prefix(package) {
            std::fs::write(copy.join(rel), &edit.after)?;
        }
    }
    Ok(copy)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        if ["build", "dist", "__pycache__", ".pytest_cache"].contains(&name.as_str())
            || name.ends_with(".egg-info")
        {
            continue;
        }
        if path.is_dir() {
            copy_tree(&path, &to.join(&name))?;
        } else {
            std::fs::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}
