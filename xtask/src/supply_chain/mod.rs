//! What a device needs to trust a release: a CycloneDX SBOM, an in-toto
//! statement with SLSA provenance, and GPG signatures, all beside the assets
//! in the staged directory.
//!
//! - `sbom.cdx.json` (CycloneDX 1.5): the Rust crates of `Cargo.lock` with
//!   their purls and checksums, the Python package and its runtime
//!   dependencies as the build interpreter resolves them, and every staged asset with its sha256 (models as
//!   `machine-learning-model`).
//! - `provenance.intoto.json`: an in-toto v1 statement, SLSA provenance v1
//!   predicate: every asset's sha256 as a subject, the source repository and
//!   commit, the builder (the CI run when there is one), the invocation.
//! - `X.asc`: `gpg --detach-sign --armor` of `sha256sum.txt` and of the
//!   provenance, when a signing key is named.

pub mod verify;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::checksums::{hex, sha256_files};
use crate::core::config::Workspace;
use crate::core::runner::Runner;
use crate::tools::gpg;

/// The key to sign with: `--sign-key`, else RELEASE_GPG_KEY, else the config.
pub fn signing_key(workspace: &Workspace, flag: Option<&str>) -> Option<String> {
    flag.map(str::to_owned)
        .or_else(|| {
            std::env::var("RELEASE_GPG_KEY")
                .ok()
                .filter(|k| !k.is_empty())
        })
        .or_else(|| workspace.release.sign_key.clone())
}

/// A staged file and its sha256.
pub struct Hashed {
    pub path: PathBuf,
    pub sha256: String,
}

pub fn hash_all(dist: &Path, names: &[PathBuf]) -> Result<Vec<Hashed>> {
    let paths: Vec<PathBuf> = names.iter().map(|n| dist.join(n)).collect();
    names
        .iter()
        .zip(sha256_files(&paths))
        .map(|(name, digest)| {
            Ok(Hashed {
                path: name.clone(),
                sha256: hex(&digest.with_context(|| format!("hashing {}", name.display()))?),
            })
        })
        .collect()
}

/// The commit a release names: the one its tag points at. A dry run has
/// not made it yet, and says so rather than name another commit.
#[derive(Clone, Copy, Debug)]
pub enum ReleaseCommit<'a> {
    Made(&'a str),
    /// Not made yet (a dry run); it will be a child of `parent`.
    NotYet {
        parent: &'a str,
    },
}

impl ReleaseCommit<'_> {
    /// The commit id, or a sentence saying why there is none.
    pub fn field(&self) -> String {
        match self {
            ReleaseCommit::Made(sha) => (*sha).to_owned(),
            ReleaseCommit::NotYet { parent } => {
                format!("not made yet (dry run): the release commit will be a child of {parent}")
            }
        }
    }
}

/// The CycloneDX 1.5 document for a release.
pub fn sbom(
    workspace: &Workspace,
    version: &str,
    commit: ReleaseCommit,
    created: &str,
    assets: &[Hashed],
    python_deps: &std::collections::BTreeMap<String, Value>,
) -> Result<Value> {
    let name = workspace
        .release
        .github
        .as_deref()
        .and_then(|s| s.split('/').nth(1))
        .unwrap_or("release");
    let mut components = crate_components(workspace);
    let mut dependencies = Vec::new();
    for asset in assets {
        let file = asset.path.display().to_string();
        let kind = if [".onnx", ".hef", ".pth"].iter().any(|e| file.ends_with(e)) {
            "machine-learning-model"
        } else {
            "file"
        };
        let mut component = json!({
            "type": kind,
            "bom-ref": format!("file:{file}"),
            "name": file,
            "hashes": [{ "alg": "SHA-256", "content": asset.sha256 }],
        });
        if file.ends_with(".whl") {
            // A Python package itself, with its runtime dependencies.
            // NAME-VERSION-TAGS.whl
            let mut parts = file.rsplit('/').next().unwrap_or_default().split('-');
            let dist_name = parts.next().unwrap_or_default().replace('_', "-");
            let pep440 = parts.next().unwrap_or_default();
            component["type"] = json!("library");
            component["name"] = json!(dist_name);
            component["version"] = json!(pep440);
            component["purl"] = json!(format!("pkg:pypi/{dist_name}@{pep440}"));
            component["properties"] = json!([{ "name": "cdx:file", "value": file }]);
            if let Some(deps) = python_deps.get(&file) {
                python_components(
                    &format!("file:{file}"),
                    deps,
                    &mut components,
                    &mut dependencies,
                );
            }
        }
        components.push(component);
    }
    // Models the product pulls by name: part of what runs, not of what ships.
    for r in &workspace.release.references.models {
        let hex = crate::core::config::sha256_hex(&r.digest).unwrap_or_default();
        let mut component = json!({
            "type": "machine-learning-model",
            "bom-ref": format!("model:{}", r.name),
            "name": r.name,
            "hashes": [{ "alg": "SHA-256", "content": hex }],
            "properties": [{ "name": "xtask:referenced", "value": "pulled by name at run time" }],
        });
        if let Some(source) = &r.source {
            component["publisher"] = json!(source);
        }
        components.push(component);
    }
    // The images the release builds and pushes (their digests are known
    // only after the push: the manifest records them).
    if !workspace.release.skip_steps.iter().any(|s| s == "docker") {
        for image in &workspace.release.docker {
            components.push(json!({
                "type": "container",
                "bom-ref": format!("image:{}", image.name),
                "name": image.name,
                "version": version,
                "properties": [{ "name": "xtask:platforms", "value": image.platforms.join(",") }],
            }));
        }
    }
    let serial = {
        let digest = hex(&sha2_of(
            format!("{name}{version}{}", commit.field()).as_bytes(),
        ));
        format!(
            "urn:uuid:{}-{}-4{}-8{}-{}",
            &digest[0..8],
            &digest[8..12],
            &digest[13..16],
            &digest[17..20],
            &digest[20..32]
        )
    };
    Ok(json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": created,
            "tools": { "components": [{ "type": "application", "name": "cargo-xtask", "version": env!("CARGO_PKG_VERSION") }] },
            "component": { "type": "application", "bom-ref": format!("release:{name}@{version}"), "name": name, "version": version },
            "properties": [{ "name": "xtask:commit", "value": commit.field() }],
        },
        "components": components,
        "dependencies": dependencies,
    }))
}

/// The wheel's runtime dependencies (the JSON of `python::runtime_deps`) as
/// components with purls, and the graph between them. A requirement the
/// environment does not have is listed without a version, its requirement
/// kept as a property, so the SBOM shows what it could not pin.
fn python_components(
    wheel_ref: &str,
    deps: &Value,
    components: &mut Vec<Value>,
    dependencies: &mut Vec<Value>,
) {
    let pinned: std::collections::HashMap<&str, &str> = deps["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["name"].as_str()?, p["version"].as_str()?)))
        .collect();
    let reference = |name: &str| -> String {
        match pinned.get(name) {
            Some(version) => format!("pkg:pypi/{name}@{version}"),
            None => format!("pypi-unresolved:{name}"),
        }
    };
    for package in deps["packages"].as_array().into_iter().flatten() {
        let Some(name) = package["name"].as_str() else {
            continue;
        };
        let requirement = package["requirement"].as_str().unwrap_or(name);
        let mut component = json!({
            "type": "library",
            "bom-ref": reference(name),
            "name": name,
            "properties": [{ "name": "xtask:requirement", "value": requirement }],
        });
        match package["version"].as_str() {
            Some(version) => {
                component["version"] = json!(version);
                component["purl"] = json!(format!("pkg:pypi/{name}@{version}"));
            }
            None => {
                component["properties"]
                    .as_array_mut()
                    .expect("built above")
                    .push(json!({ "name": "xtask:unresolved", "value": "not installed in the build interpreter" }));
            }
        }
        components.push(component);
    }
    for (parent, children) in deps["edges"].as_object().into_iter().flatten() {
        let from = if parent.is_empty() {
            wheel_ref.to_owned()
        } else {
            reference(parent)
        };
        let to: Vec<String> = children
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str())
            .map(&reference)
            .collect();
        dependencies.push(json!({ "ref": from, "dependsOn": to }));
    }
}

fn sha2_of(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

/// The crates the product is made of: the workspace members but the xtask
/// (a build tool, named in `metadata.tools`) and what they depend on, from
/// `Cargo.lock`, with the lock's checksum. A repository whose only crate is
/// the xtask ships no crate.
fn crate_components(workspace: &Workspace) -> Vec<Value> {
    let lock = std::fs::read_to_string(workspace.root.join("Cargo.lock")).unwrap_or_default();
    let Ok(lock) = lock.parse::<toml_edit::DocumentMut>() else {
        return Vec::new();
    };
    let packages: Vec<&toml_edit::Table> = lock
        .get("package")
        .and_then(|p| p.as_array_of_tables())
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let field =
        |p: &toml_edit::Table, key: &str| p.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    // `name` or `name version` (Cargo.lock's reference to another entry).
    let refers = |p: &toml_edit::Table, reference: &str| {
        let mut words = reference.split(' ');
        field(p, "name").as_deref() == words.next()
            && words
                .next()
                .is_none_or(|v| field(p, "version").as_deref() == Some(v))
    };
    let mut wanted: Vec<usize> = packages
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.get("source").is_none()
                && !field(p, "name").is_some_and(|n| TOOL_CRATES.contains(&n.as_str()))
        })
        .map(|(i, _)| i)
        .collect();
    let mut next = 0;
    while next < wanted.len() {
        let deps: Vec<String> = packages[wanted[next]]
            .get("dependencies")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str().map(str::to_owned))
            .collect();
        for dep in deps {
            if let Some(i) = packages.iter().position(|p| refers(p, &dep)) {
                if !wanted.contains(&i) {
                    wanted.push(i);
                }
            }
        }
        next += 1;
    }
    wanted.sort();
    let mut components = Vec::new();
    for package in wanted.into_iter().map(|i| packages[i]) {
        let (Some(name), Some(version)) = (field(package, "name"), field(package, "version"))
        else {
            continue;
        };
        let purl = format!("pkg:cargo/{name}@{version}");
        let mut component = json!({ "type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl });
        if let Some(sum) = field(package, "checksum") {
            component["hashes"] = json!([{ "alg": "SHA-256", "content": sum }]);
        }
        components.push(component);
    }
    components
}

/// The xtask's own crates (`xtask/`, `xtask/formats/`): the tool, never a
/// component of what it releases.
const TOOL_CRATES: &[&str] = &[env!("CARGO_PKG_NAME"), "xtask-formats"];

/// What made the release: this tool's release process (not the repository
/// that happens to use it).
pub const BUILD_TYPE: &str = "urn:cargo-xtask:release:v1";

/// The in-toto statement with the SLSA provenance v1 predicate.
pub fn provenance(
    workspace: &Workspace,
    version: &str,
    tag: &str,
    commit: ReleaseCommit,
    created: &str,
    arguments: &[String],
    subjects: &[Hashed],
) -> Value {
    let repository = workspace
        .release
        .github
        .as_ref()
        .map(|slug| format!("https://github.com/{slug}"))
        .or_else(|| workspace.repository.clone())
        .unwrap_or_default();
    let builder = match (
        std::env::var("GITHUB_SERVER_URL"),
        std::env::var("GITHUB_REPOSITORY"),
        std::env::var("GITHUB_RUN_ID"),
    ) {
        (Ok(server), Ok(repo), Ok(run)) => format!("{server}/{repo}/actions/runs/{run}"),
        _ => "local://cargo-xtask-release".to_owned(),
    };
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects.iter().map(|s| json!({ "name": s.path.display().to_string(), "digest": { "sha256": s.sha256 } })).collect::<Vec<_>>(),
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                // The build process is the tool's, whichever repository runs it.
                "buildType": BUILD_TYPE,
                "externalParameters": { "version": version, "tag": tag, "arguments": arguments },
                "resolvedDependencies": [source_dependency(&repository, tag, commit)],
            },
            "runDetails": {
                "builder": { "id": builder },
                "metadata": { "startedOn": created },
            },
        },
    })
}

/// The source the release was built from: the tag and, once it exists,
/// the commit it points at (a dry run notes that it does not yet).
fn source_dependency(repository: &str, tag: &str, commit: ReleaseCommit) -> Value {
    let uri = format!("git+{repository}@refs/tags/{tag}");
    match commit {
        ReleaseCommit::Made(sha) => json!({ "uri": uri, "digest": { "gitCommit": sha } }),
        ReleaseCommit::NotYet { .. } => json!({
            "uri": uri,
            "digest": {},
            "annotations": { "xtask:commit": commit.field() },
        }),
    }
}

/// Signs each file with a detached, armoured signature, then verifies it.
pub fn sign(key: &str, files: &[PathBuf], runner: &Runner) -> Result<Vec<PathBuf>> {
    let mut signatures = Vec::new();
    for file in files {
        let signature = PathBuf::from(format!("{}.asc", file.display()));
        runner
            .run(&gpg::detach_sign(key, file, &signature))
            .with_context(|| format!("signing {} with {key}", file.display()))?;
        runner
            .run(&gpg::verify(&signature, file))
            .with_context(|| format!("the new signature of {} does not verify", file.display()))?;
        signatures.push(signature);
    }
    Ok(signatures)
}

/// The full fingerprint of `key`, for the release notes.
pub fn fingerprint(key: &str, runner: &Runner) -> Result<String> {
    let out = runner.read(&gpg::fingerprint(key))?;
    match out
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|l| l.split(':').find(|f| f.len() >= 40))
    {
        Some(fpr) => Ok(fpr.to_owned()),
        None => bail!(
            "gpg knows no key {key}; import it or name another with --sign-key / RELEASE_GPG_KEY"
        ),
    }
}

/// The wheel's runtime dependencies as the build interpreter resolves them;
/// says which it could not find, since the SBOM cannot pin those.
pub fn python_deps(workspace: &Workspace, wheel: &Path, runner: &Runner) -> Result<Value> {
    let script = workspace.root.join("target/xtask-scripts/runtime_deps.py");
    std::fs::create_dir_all(script.parent().expect("a file under target/"))
        .with_context(|| format!("creating {}", script.display()))?;
    crate::core::atomic::write_all(&[(
        script.clone(),
        crate::tools::python::RUNTIME_DEPS_SCRIPT
            .as_bytes()
            .to_vec(),
    )])?;
    let out = runner
        .read(&crate::tools::python::runtime_deps(&script, wheel))
        .with_context(|| format!("resolving the runtime dependencies of {}", wheel.display()))?;
    let deps: Value = serde_json::from_str(&out)
        .with_context(|| format!("reading the runtime dependencies of {}", wheel.display()))?;
    let missing: Vec<&str> = deps["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["version"].is_null())
        .filter_map(|p| p["requirement"].as_str())
        .collect();
    if !missing.is_empty() {
        say!(
            "sbom: {} runtime dependenc{} of {} not installed for {}, listed unpinned: {}\n  fix: install the package into that interpreter's environment (set XTASK_PYTHON to the venv's python)",
            missing.len(),
            if missing.len() == 1 { "y is" } else { "ies are" },
            wheel.file_name().unwrap_or_default().to_string_lossy(),
            crate::tools::python::interpreter(),
            missing.join(", ")
        );
    }
    Ok(deps)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace with the xtask (two crates) and a product crate: the
    /// product's crates (and what they depend on) are components; what only
    /// the xtask uses is not.
    #[test]
    fn the_crates_are_the_products_not_the_xtasks() {
        let root = std::env::temp_dir().join(format!("xt-sbom-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"xtask\", \"edge\"]\n",
        )
        .unwrap();
        let registry = "source = \"registry+https://github.com/rust-lang/crates.io-index\"";
        std::fs::write(
            root.join("Cargo.lock"),
            format!(
                "version = 4\n\n\
                 [[package]]\nname = \"clap\"\nversion = \"4.6.0\"\n{registry}\nchecksum = \"aa\"\n\n\
                 [[package]]\nname = \"edge\"\nversion = \"0.1.0\"\ndependencies = [\"serde 1.0.0\"]\n\n\
                 [[package]]\nname = \"serde\"\nversion = \"1.0.0\"\n{registry}\nchecksum = \"bb\"\ndependencies = [\"serde_core\"]\n\n\
                 [[package]]\nname = \"serde\"\nversion = \"2.0.0\"\n{registry}\nchecksum = \"cc\"\n\n\
                 [[package]]\nname = \"serde_core\"\nversion = \"1.0.0\"\n{registry}\nchecksum = \"dd\"\n\n\
                 [[package]]\nname = \"xtask\"\nversion = \"0.1.0\"\ndependencies = [\"clap\", \"serde 2.0.0\", \"xtask-formats\"]\n\n\
                 [[package]]\nname = \"xtask-formats\"\nversion = \"0.1.0\"\ndependencies = [\"anyhow\"]\n\n\
                 [[package]]\nname = \"anyhow\"\nversion = \"1.0.0\"\n{registry}\nchecksum = \"ee\"\n"
            ),
        )
        .unwrap();
        let workspace = Workspace::load(&root).unwrap();
        let purls: Vec<String> = crate_components(&workspace)
            .iter()
            .map(|c| c["purl"].as_str().unwrap().to_owned())
            .collect();
        std::fs::remove_dir_all(&root).ok();
        assert_eq!(
            purls,
            [
                "pkg:cargo/edge@0.1.0",
                "pkg:cargo/serde@1.0.0",
                "pkg:cargo/serde_core@1.0.0"
            ]
        );
    }
}
