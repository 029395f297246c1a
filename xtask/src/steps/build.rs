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

use super::{Cx, Outcome, Step};
use crate::checksums::{
    check_file_in, hex, sha256_files, sums_file, CheckOptions, Report, Verbosity,
};
use crate::core::config::Workspace;
use crate::core::dist::{self, Dist};
use crate::core::runner::{on_path, Runner};
use crate::model::onnx_export;
use crate::release::plan::{Asset, Plan};
use crate::supply_chain;
use crate::tools::git::Git;
use crate::tools::python;
use crate::version::sources::FileChange;

/// Something `--execute` needs that this machine lacks: (what, for, how).
pub type Need = (String, String, String);

pub struct Build;

impl Step for Build {
    fn run(&self, cx: &Cx) -> Result<Outcome> {
        for hook in super::hooks(cx, super::Hook::PreRelease) {
            cx.runner.run(&hook).with_context(|| {
                format!("`{hook}` (hooks.pre-release) failed; nothing was built")
            })?;
        }
        let commit = match (cx.release_commit(), cx.dry_run()) {
            (Some(sha), false) => supply_chain::ReleaseCommit::Made(sha),
            (None, false) => bail!(
                "the journal has no release commit from `prepare`; run `cargo xtask release --resume --execute` to redo it"
            ),
            (_, true) => supply_chain::ReleaseCommit::NotYet {
                parent: &cx.plan.commit,
            },
        };
        let (assets, needs) = build(cx, commit)?;
        Ok(Outcome {
            outputs: json!({ "assets": assets }),
            needs,
        })
    }
}

pub struct Verify;

impl Step for Verify {
    fn run(&self, cx: &Cx) -> Result<Outcome> {
        verify(cx.ws, cx.plan, cx.runner)?;
        index_is_free(cx)?;
        Ok(Outcome::default())
    }
}

/// Each package with its staged wheel and sdist; a package a dry run could
/// not build is left out (the build step listed why).
pub(super) fn staged_python<'w>(
    ws: &'w Workspace,
    plan: &Plan,
    runner: &Runner,
) -> Result<Vec<(crate::python::Package<'w>, crate::python::PythonDist)>> {
    let mut staged = Vec::new();
    for package in crate::python::packages(ws)? {
        let found = crate::python::PythonDist::find(
            plan.dist().dir(),
            &package.name,
            plan.pep440_version.as_deref().unwrap_or_default(),
        );
        match found {
            Err(_) if runner.is_dry_run() => {}
            found => staged.push((package, found?)),
        }
    }
    Ok(staged)
}

/// The index holds nothing of this version, or exactly these files: asked
/// before the push, so a burned version stops the release while nothing is
/// published. A dry run that cannot reach the index says so and goes on.
fn index_is_free(cx: &Cx) -> Result<()> {
    if cx.plan.step(crate::release::plan::StepName::Pypi).skipped {
        return Ok(());
    }
    for (package, dist) in staged_python(cx.ws, cx.plan, cx.runner)? {
        if !package.config.publish {
            continue;
        }
        let url = cx.index_url(&package);
        match crate::python::refuse_burned(&dist, &url, cx.runner) {
            Err(err) if cx.dry_run() => {
                let said = format!("{err:#}");
                let last = said
                    .lines()
                    .rfind(|l| !l.trim().is_empty())
                    .unwrap_or_default()
                    .trim();
                say!(
                    "dry run: could not ask {url} whether {} {} is free ({last}); --execute asks before pushing",
                    dist.name,
                    dist.pep440,
                );
            }
            checked => checked?,
        }
    }
    Ok(())
}

/// Builds into the plan's dist directory; returns the assets and what could
/// not be built here.
fn build(cx: &Cx, commit: supply_chain::ReleaseCommit) -> Result<(Vec<Asset>, Vec<Need>)> {
    let (workspace, plan, edits, runner) = (cx.ws, cx.plan, cx.edits, cx.runner);
    let (arguments, dry_run, split) = (cx.arguments, cx.dry_run(), cx.split);
    let dist = plan.dist();
    dist.clean()?;
    let mut needs = Vec::new();
    // Built on other machines: their files, as gathered and checked.
    let parts = split.filter(|s| !s.parts.is_empty());
    for package in crate::python::packages(workspace)? {
        if let Some(parts) = parts {
            parts.copy_into(&format!("python:{}", package.name), dist.dir())?;
            continue;
        }
        // What git lists of the package, never an ignored file (a local
        // config, a key): with the version edits in a dry run, as committed
        // under --execute.
        let edits = if dry_run { edits } else { &[] };
        let source = edited_copy(
            workspace,
            &package.config.path,
            edits,
            &plan.version,
            runner,
        )?;
        let pep440 = plan.pep440_version.clone().unwrap_or_default();
        match crate::python::build_staged(workspace, &package, &source, &dist, &pep440, runner) {
            // Offline, the isolated build cannot fetch its backend: what a
            // dry run reports, not what stops it.
            Err(err) if dry_run && crate::python::unreachable_index(&format!("{err:#}")) => needs.push((
                "the package index (for the build backend)".to_owned(),
                format!("the wheel and sdist of {}", package.name),
                "`python -m build` installs pyproject's [build-system] requires from the index, which this machine \
                 cannot reach; connect it, or point PIP_INDEX_URL at a mirror"
                    .to_owned(),
            )),
            built => {
                built?;
            }
        }
    }
    crate::assets::stage(workspace, &plan.version, dist.dir(), runner)?;
    let mut models = Vec::new();
    // Model files git does not have (ignored weights, as ML repositories
    // often keep them): they ship from this machine's disk, not from the
    // release commit; said, as `[[assets]]` would refuse them.
    let unlisted = unlisted_model_assets(workspace, runner)?;
    if !unlisted.is_empty() {
        say!(
            "note: not in git (ignored?), so shipped from this machine's disk rather than the release commit: {}",
            unlisted.join(", ")
        );
    }
    for model in &workspace.release.models {
        let parity = match parts {
            Some(parts) => stage_model_parts(workspace, model, &dist, parts)?,
            None => stage_model(workspace, model, &dist, &mut needs, runner)?,
        };
        models.push(json!({ "name": model.name, "parity": parity }));
    }
    let assets = records(
        workspace, plan, commit, arguments, &models, &mut needs, runner,
    )?;
    Ok((assets, needs))
}

/// What this machine lacks to build everything the plan ships, found
/// without building: preflight asks before anything changes.
pub fn predict(ws: &Workspace, plan: &Plan, runner: &Runner) -> Result<Vec<Need>> {
    let mut needs: Vec<Need> = Vec::new();
    for model in &ws.release.models {
        needs.extend(lacks(ws, model, runner)?.0);
    }
    if let (Some(key), false) = (&plan.sign_key, on_path("gpg")) {
        needs.push(gpg_need(key));
    }
    Ok(needs)
}

/// The weights a model's ONNX export starts from, when it is exported: an
/// `export` command and a `.pth` among its assets.
pub(super) fn exported(ws: &Workspace, model: &crate::core::config::Model) -> Option<PathBuf> {
    model.export.as_ref()?;
    model
        .assets
        .iter()
        .find(|a| a.ends_with(".pth"))
        .map(|a| ws.root.join(a))
}

fn gpg_need(key: &str) -> Need {
    (
        "gpg".to_owned(),
        format!("signing with {key}"),
        "`apt-get install gnupg`".to_owned(),
    )
}

/// What `model` needs that is not here: listed assets, the weights and
/// the Python modules of its export, the DFC for the HEF; and whether its
/// ONNX will be there (exported here, or one of its assets).
fn lacks(
    ws: &Workspace,
    model: &crate::core::config::Model,
    runner: &Runner,
) -> Result<(Vec<Need>, bool)> {
    let mut needs: Vec<Need> = model
        .assets
        .iter()
        .filter(|a| !ws.root.join(a).is_file())
        .map(|asset| {
            (
                asset.clone(),
                format!("model {}", model.name),
                "train or download it; it is listed in models[].assets".to_owned(),
            )
        })
        .collect();
    let onnx = match &model.export {
        // Not exported: the ONNX, if any, is one of the assets.
        None => model.assets.iter().any(|a| a.ends_with(".onnx")),
        Some(_) if exported(ws, model).is_none() => {
            needs.push((
                format!("trained weights (.pth) of {}", model.name),
                "the ONNX model and the HEF".to_owned(),
                "list them in models[].assets (`cargo xtask onnx-export --synthetic` trains deterministic ones when the model's export.synthetic is set)"
                    .to_owned(),
            ));
            false
        }
        Some(export) => match onnx_export::missing_modules(export, runner)? {
            None => true,
            Some(missing) => {
                needs.push((
                    export.python_modules.join(", "),
                    format!("the ONNX export of {}", model.name),
                    missing,
                ));
                false
            }
        },
    };
    if let Some(hef) = &model.hef {
        if !(on_path("hailo") && onnx) {
            needs.push((
                "Hailo Dataflow Compiler (`hailo`)".to_owned(),
                format!("{}.hef ({})", model.name, hef.hw_arch.as_str()),
                "x86_64 Linux only: a registered download, or Hailo's AI Software Suite container"
                    .to_owned(),
            ));
        }
    }
    Ok((needs, onnx))
}

/// A model's metadata, its listed assets, its ONNX export and HEF, flat in
/// `dist`, as far as this machine can; what it cannot goes into `needs`.
/// The export's parity record, when it has one.
fn stage_model(
    workspace: &Workspace,
    model: &crate::core::config::Model,
    dist: &Dist,
    needs: &mut Vec<Need>,
    runner: &Runner,
) -> Result<Option<serde_json::Value>> {
    let (lacking, onnx) = lacks(workspace, model, runner)?;
    let mut copies = crate::model::metadata_files(workspace, model)?;
    copies.extend(
        model
            .assets
            .iter()
            .map(|a| workspace.root.join(a))
            .filter(|p| p.is_file()),
    );
    for path in copies {
        let target = dist.file(&dist::name_of(&path));
        std::fs::copy(&path, &target)
            .with_context(|| format!("copying {} to {}", path.display(), target.display()))?;
    }
    let weights = exported(workspace, model).filter(|w| w.is_file());
    let mut parity = None;
    // Exported here when the export's modules are (the ONNX will be there).
    if let (Some(weights), true) = (weights, onnx) {
        parity = onnx_export::stage(workspace, model, &weights, dist.dir(), runner)?;
        if model.hef.is_some() && on_path("hailo") {
            crate::model::hef_compile::HefCompile::defaults_for(&model.name)
                .compile_into(workspace, dist.dir())?;
        }
    }
    needs.extend(lacking);
    Ok(parity)
}

/// `models[].assets` that git neither tracks nor would track.
fn unlisted_model_assets(ws: &Workspace, runner: &Runner) -> Result<Vec<String>> {
    let assets: Vec<&String> = ws.release.models.iter().flat_map(|m| &m.assets).collect();
    if assets.is_empty() {
        return Ok(Vec::new());
    }
    let listed = runner.read(&Git::at(&ws.root).files())?;
    let listed: std::collections::BTreeSet<&str> = crate::tools::git::listed(&listed).collect();
    Ok(assets
        .into_iter()
        .filter(|a| !listed.contains(a.trim_start_matches("./")))
        .map(|a| format!("{a} (models[].assets)"))
        .collect())
}

/// A model's metadata and assets from this checkout, its ONNX and HEF from
/// the parts built elsewhere; the export's parity record, as its part says.
fn stage_model_parts(
    workspace: &Workspace,
    model: &crate::core::config::Model,
    dist: &Dist,
    parts: &crate::release::split::SplitState,
) -> Result<Option<serde_json::Value>> {
    let mut copies = crate::model::metadata_files(workspace, model)?;
    copies.extend(model.assets.iter().map(|a| workspace.root.join(a)));
    for path in copies {
        let target = dist.file(&dist::name_of(&path));
        std::fs::copy(&path, &target)
            .with_context(|| format!("copying {} to {}", path.display(), target.display()))?;
    }
    let mut parity = None;
    if model.export.is_some() {
        let id = format!("onnx:{}", model.name);
        parts.copy_into(&id, dist.dir())?;
        parity = parts
            .part(&id)
            .map(|g| g.manifest.parity.clone())
            .filter(|p| !p.is_null());
    }
    if let Some(hef) = &model.hef {
        parts.copy_into(
            &format!("hef:{}:{}", model.name, hef.hw_arch.as_str()),
            dist.dir(),
        )?;
    }
    Ok(parity)
}

/// What the release says about its files, in order: the SBOM of the
/// payload, the checksums of both, the notes, the manifest, the provenance
/// of all of it, then the signatures.
fn records(
    workspace: &Workspace,
    plan: &Plan,
    commit: supply_chain::ReleaseCommit,
    arguments: &[String],
    models: &[serde_json::Value],
    needs: &mut Vec<Need>,
    runner: &Runner,
) -> Result<Vec<Asset>> {
    let dist = plan.dist();
    // What the tag points at, or (a dry run) the commit it will grow from.
    let dated = match commit {
        supply_chain::ReleaseCommit::Made(sha) => sha,
        supply_chain::ReleaseCommit::NotYet { parent } => parent,
    };
    let created = runner.read(&crate::tools::git::Git::at(&workspace.root).commit_date(dated))?;
    let created = created.trim();
    sbom_and_sums(workspace, plan, commit, created, runner)?;
    // The fingerprint first: the notes name it.
    let signing = match &plan.sign_key {
        Some(key) if on_path("gpg") => Some((key.clone(), supply_chain::fingerprint(key, runner)?)),
        Some(key) => {
            needs.push(gpg_need(key));
            None
        }
        None => None,
    };
    let manifest = json!({
        "version": plan.version,
        "pep440_version": plan.pep440_version,
        "tag": plan.tag,
        "commit": commit.field(),
        "assets": assets_of(&dist, &dist.assets()?)?,
        "images": plan.images,
        "models": models,
    });
    write(
        &dist.file(dist::MANIFEST),
        &serde_json::to_vec_pretty(&manifest)?,
    )?;
    let subjects = supply_chain::hash_all(dist.dir(), &paths(&dist.assets()?))?;
    let statement = supply_chain::provenance(
        workspace,
        &plan.version,
        &plan.tag,
        commit,
        created,
        arguments,
        &subjects,
    );
    write(
        &dist.file(dist::PROVENANCE),
        &serde_json::to_vec_pretty(&statement)?,
    )?;
    if let Some((key, _)) = &signing {
        let signed: Vec<PathBuf> = if workspace.release.sign_assets {
            dist.assets()?.iter().map(|n| dist.file(n)).collect()
        } else {
            vec![dist.file(dist::SUMS), dist.file(dist::PROVENANCE)]
        };
        supply_chain::sign(key, &signed, runner)?;
    }
    // The notes last: their asset table lists every file, the records and
    // signatures included (the notes are the release's body, not an asset).
    let version = semver::Version::parse(&plan.version)?;
    let fingerprint = signing.as_ref().map(|(_, fpr)| fpr.as_str());
    let date = created.get(..10).unwrap_or(created);
    let notes = notes(workspace, plan, &version, date, fingerprint).render()?;
    write(&dist.file(dist::NOTES), notes.as_bytes())?;
    assets_of(&dist, &dist.assets()?)
}

/// The release notes of `plan`, over what is staged in its directory.
pub fn notes<'a>(
    workspace: &'a Workspace,
    plan: &'a Plan,
    version: &'a semver::Version,
    date: &'a str,
    fingerprint: Option<&'a str>,
) -> crate::changelog::notes::Notes<'a> {
    crate::changelog::notes::Notes {
        workspace,
        version,
        tag: &plan.tag,
        previous_tag: plan.previous_tag.as_deref(),
        date,
        section: &plan.changelog,
        images: plan
            .images
            .iter()
            .map(|i| {
                (
                    i.name.clone(),
                    i.tags.iter().map(|t| t.name.clone()).collect(),
                )
            })
            .collect(),
        dist: Some(plan.dist.as_path()),
        fingerprint,
    }
}

/// The SBOM of the payload, then `sha256sum.txt` over the payload and the SBOM.
fn sbom_and_sums(
    workspace: &Workspace,
    plan: &Plan,
    commit: supply_chain::ReleaseCommit,
    created: &str,
    runner: &Runner,
) -> Result<()> {
    let dist = plan.dist();
    let sbom_name = workspace.release.sbom_for(&plan.version);
    let hashed = supply_chain::hash_all(dist.dir(), &paths(&dist.payload(&sbom_name)?))?;
    let mut python_deps = std::collections::BTreeMap::new();
    for wheel in hashed
        .iter()
        .filter(|h| h.path.extension().is_some_and(|e| e == "whl"))
    {
        let deps = supply_chain::python_deps(workspace, &dist.dir().join(&wheel.path), runner)?;
        python_deps.insert(wheel.path.display().to_string(), deps);
    }
    let sbom = supply_chain::sbom(
        workspace,
        &plan.version,
        commit,
        created,
        &hashed,
        &python_deps,
    )?;
    write(&dist.file(&sbom_name), &serde_json::to_vec_pretty(&sbom)?)?;
    let mut files = dist.payload(&sbom_name)?;
    files.push(sbom_name);
    files.sort();
    crate::core::atomic::write_all(&[(
        dist.file(dist::SUMS),
        sums_file(dist.dir(), &paths(&files))?,
    )])
}

/// Writes `path`; an error names it ("No space left on device" alone does not).
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn paths(names: &[String]) -> Vec<PathBuf> {
    names.iter().map(PathBuf::from).collect()
}

/// Size and sha256 of each staged file.
fn assets_of(dist: &Dist, names: &[String]) -> Result<Vec<Asset>> {
    let files: Vec<PathBuf> = names.iter().map(|n| dist.file(n)).collect();
    names
        .iter()
        .zip(files.iter().zip(sha256_files(&files)))
        .map(|(name, (path, digest))| -> Result<Asset> {
            Ok(Asset {
                path: name.clone(),
                size: std::fs::metadata(path)
                    .with_context(|| format!("reading {}", path.display()))?
                    .len(),
                sha256: hex(&digest.with_context(|| format!("hashing {}", path.display()))?),
            })
        })
        .collect()
}

/// `sha256sum -c` on the staged directory, `twine check`, and `models check`.
fn verify(workspace: &Workspace, plan: &Plan, runner: &Runner) -> Result<()> {
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
    let dist = plan.dist();
    let sums = dist.file(dist::SUMS);
    if !check_file_in(
        dist.dir(),
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
    let mut ran = vec![dist::SUMS];
    let staged = staged_python(workspace, plan, runner)?;
    for (_, python) in &staged {
        runner
            .run(&python::twine_check(&python.files()))
            .with_context(|| format!("twine check --strict failed for {}", python.name))?;
    }
    if !staged.is_empty() {
        ran.push("twine check");
    }
    let mut problems = Vec::new();
    for model in &workspace.release.models {
        crate::model::check(workspace, model, &mut problems);
    }
    if !problems.is_empty() {
        bail!(
            "the models do not pass their checks:\n{}",
            crate::core::report::bullets(&problems)
        );
    }
    if !workspace.release.models.is_empty() {
        ran.push("models check");
    }
    say!("verified {}: {}", dist.dir().display(), ran.join(", "));
    Ok(())
}

/// A copy of the package with the release's version edits (none under
/// --execute, which committed them): the files git tracks or would track
/// under `package`, never an ignored one (`target/` and `.git/` included).
pub(crate) fn edited_copy(
    workspace: &Workspace,
    package: &str,
    edits: &[FileChange],
    version: &str,
    runner: &Runner,
) -> Result<PathBuf> {
    let prefix = crate::core::config::repo_dir(package);
    let copy = workspace
        .root
        .join(format!("target/xtask-release/v{version}/source"))
        .join(&prefix);
    if copy.exists() {
        std::fs::remove_dir_all(&copy).with_context(|| format!("removing {}", copy.display()))?;
    }
    std::fs::create_dir_all(&copy).with_context(|| format!("creating {}", copy.display()))?;
    let listed = runner.read(&Git::at(&workspace.root).files())?;
    for file in crate::tools::git::listed(&listed) {
        let Ok(rel) = Path::new(file).strip_prefix(&prefix) else {
            continue;
        };
        let from = workspace.root.join(file);
        // Listed but deleted in the work tree: not part of the package.
        if !from.is_file() {
            continue;
        }
        let to = copy.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::copy(&from, &to)
            .with_context(|| format!("copying {} into {}", from.display(), copy.display()))?;
    }
    for edit in edits {
        if let Ok(rel) = edit.file.strip_prefix(&prefix) {
            write(&copy.join(rel), edit.after.as_bytes())?;
        }
    }
    Ok(copy)
}
