//! Release notes (`release-notes.md`, the GitHub release body) and the
//! release's title, rendered from Jinja templates: the repository's own
//! (`[workspace.metadata.release.notes] template`) or the built-in one. The
//! context is one JSON document, documented in docs/RELEASE-NOTES.md and
//! printed by `cargo xtask changelog --notes-context`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use semver::Version;
use serde_json::{json, Value};

use super::section::Section;
use crate::core::config::{Model, Workspace};
use crate::core::template;
use crate::model::metadata;
use crate::version::pep440::to_pep440;

/// The built-in notes: no model-specific words, every section optional.
const DEFAULT_TEMPLATE: &str = include_str!("release-notes.md.j2");

/// Everything the notes say, gathered by the caller.
pub struct Notes<'a> {
    pub workspace: &'a Workspace,
    pub version: &'a Version,
    pub tag: &'a str,
    pub previous_tag: Option<&'a str>,
    /// The release date, `YYYY-MM-DD`.
    pub date: &'a str,
    pub section: &'a Section,
    /// Each image with the tags it is pushed under.
    pub images: Vec<(String, Vec<String>)>,
    /// The staged release directory, when it exists.
    pub dist: Option<&'a Path>,
    /// The fingerprint of the key that signed the release, if it is signed.
    pub fingerprint: Option<&'a str>,
}

impl Notes<'_> {
    pub fn render(&self) -> Result<String> {
        let ws = self.workspace;
        let context = self.context()?;
        match &ws.release.notes.template {
            Some(path) => {
                let file = ws.root.join(path);
                let source = std::fs::read_to_string(&file).with_context(|| {
                    format!("reading {path} (notes.template in [workspace.metadata.release])")
                })?;
                template::render(path, &source, &context)
            }
            None => template::render("<built-in release notes>", DEFAULT_TEMPLATE, &context),
        }
    }

    /// Renders the template once with every list holding at least one item,
    /// so a misspelt variable inside a loop fails now, not at the build.
    pub fn probe(&self) -> Result<()> {
        let Some(path) = &self.workspace.release.notes.template else {
            return Ok(());
        };
        let mut context = self.context()?;
        if context["assets"].as_array().is_some_and(Vec::is_empty) {
            context["assets"] = json!([{
                "name": "example.whl", "size": 1, "size_human": "1 B",
                "sha256": "0".repeat(64), "purpose": "release file",
            }]);
        }
        if context["sections"].as_array().is_some_and(Vec::is_empty) {
            context["sections"] = json!([{"name": "Added", "entries": ["an entry"]}]);
        }
        for model in context["models"].as_array_mut().into_iter().flatten() {
            if model["files"].as_array().is_some_and(Vec::is_empty) {
                model["files"] = json!(["example.onnx"]);
            }
        }
        for list in ["images", "references", "packages", "install"] {
            if context[list].as_array().is_some_and(Vec::is_empty) {
                context[list] = match list {
                    "images" => {
                        json!([{"name": "registry/image", "tags": ["1.0.0"], "refs": ["registry/image:1.0.0"]}])
                    }
                    "references" => {
                        json!([{"name": "model:tag", "digest": format!("sha256:{}", "0".repeat(64)), "source": "ollama"}])
                    }
                    "packages" => json!([{"name": "package", "version": "1.0.0"}]),
                    _ => json!(["pip install package==1.0.0"]),
                };
            }
        }
        let source = std::fs::read_to_string(self.workspace.root.join(path))
            .with_context(|| format!("reading {path} (notes.template)"))?;
        template::render(path, &source, &context).map(drop)
    }

    /// What a template can use.
    pub fn context(&self) -> Result<Value> {
        let ws = self.workspace;
        let version = self.version;
        let assets = self.assets()?;
        let mut context = title_context(ws, version, self.tag, self.section);
        context["title"] = json!(title(ws, version, self.tag, self.section)?);
        let packages = python_packages(ws, version)?;
        let mut install: Vec<String> = packages
            .iter()
            .map(|p| {
                format!(
                    "pip install {}=={}",
                    p["name"].as_str().unwrap_or_default(),
                    p["version"].as_str().unwrap_or_default()
                )
            })
            .collect();
        install.extend(
            self.images
                .iter()
                .filter_map(|(name, tags)| Some(format!("docker pull {name}:{}", tags.first()?))),
        );
        let mut verify = vec!["sha256sum -c sha256sum.txt".to_owned()];
        if let Some(fingerprint) = self.fingerprint {
            verify.push(format!(
                "gpg --verify sha256sum.txt.asc sha256sum.txt   # signed by {fingerprint}"
            ));
            verify
                .push("gpg --verify provenance.intoto.json.asc provenance.intoto.json".to_owned());
        }
        verify.push(format!("cargo xtask verify-release {}", self.tag));
        let models = ws
            .release
            .models
            .iter()
            .map(|m| model(ws, m, version, &assets))
            .collect::<Result<Vec<_>>>()?;
        let extra = json!({
            "pep440": to_pep440(version)?,
            "previous_tag": self.previous_tag,
            "date": self.date,
            "github": ws.release.github,
            "changes": if self.section.is_empty() {
                String::new()
            } else {
                self.section.render("\n")
            },
            "sections": self.section.groups.iter().map(|(name, entries)| json!({
                "name": name,
                "entries": entries.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "models": models,
            "references": ws.release.references.models.iter().map(|r| json!({
                "name": r.name,
                "digest": r.digest,
                "source": r.source,
            })).collect::<Vec<_>>(),
            "assets": assets,
            "images": self.images.iter().map(|(name, tags)| json!({
                "name": name,
                "tags": tags,
                "refs": tags.iter().map(|t| format!("{name}:{t}")).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "packages": packages,
            "install": install,
            "verify": verify,
            "signed_by": self.fingerprint,
        });
        if let (Value::Object(context), Value::Object(extra)) = (&mut context, extra) {
            context.extend(extra);
        }
        Ok(context)
    }

    /// Every staged file but the notes, by name, with size and sha256.
    fn assets(&self) -> Result<Vec<Value>> {
        let Some(dist) = self.dist.filter(|d| d.is_dir()) else {
            return Ok(Vec::new());
        };
        let dist = crate::core::dist::Dist::at(dist);
        let names: Vec<PathBuf> = dist.assets()?.into_iter().map(PathBuf::from).collect();
        let hashed = crate::supply_chain::hash_all(dist.dir(), &names)?;
        hashed
            .into_iter()
            .map(|h| {
                let size = std::fs::metadata(dist.dir().join(&h.path))?.len();
                let name = h.path.display().to_string();
                Ok(json!({
                    "name": name,
                    "size": size,
                    "size_human": human(size),
                    "sha256": h.sha256,
                    "purpose": purpose(&name),
                }))
            })
            .collect()
    }
}

/// What the title template can use: `name`, `version`, `tag`, `summary`.
fn title_context(ws: &Workspace, version: &Version, tag: &str, section: &Section) -> Value {
    json!({
        "name": project_name(ws),
        "version": version.to_string(),
        "tag": tag,
        "summary": summary(section),
    })
}

/// The notes' title and the GitHub release's: `notes.title` rendered,
/// `tcn-vae-edge v0.2.0 - 2 features, 1 fix` by default.
pub fn title(ws: &Workspace, version: &Version, tag: &str, section: &Section) -> Result<String> {
    let context = title_context(ws, version, tag, section);
    let title = template::render(
        "notes.title ([workspace.metadata.release.notes] in Cargo.toml)",
        &ws.release.notes.title,
        &context,
    )?;
    Ok(title.trim().to_owned())
}

/// The repository's name from `github`, else the root directory's name.
fn project_name(ws: &Workspace) -> String {
    ws.release
        .github
        .as_deref()
        .and_then(|s| s.split('/').nth(1))
        .map(str::to_owned)
        .or_else(|| Some(ws.root.file_name()?.to_str()?.to_owned()))
        .unwrap_or_else(|| "release".to_owned())
}

/// `2 features, 1 fix` from the section's counts.
pub fn summary(section: &Section) -> String {
    let count = |name: &str| {
        section
            .groups
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, e)| e.len())
    };
    let parts: Vec<String> = [
        ("Added", "feature", "features"),
        ("Changed", "change", "changes"),
        ("Fixed", "fix", "fixes"),
        ("Security", "security fix", "security fixes"),
    ]
    .iter()
    .filter_map(|(name, one, many)| match count(name) {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    })
    .collect();
    let all: usize = section.groups.iter().map(|(_, e)| e.len()).sum();
    match (parts.is_empty(), all) {
        (false, _) => parts.join(", "),
        // A project's own section names: what they hold, counted.
        (true, 0) => "maintenance release".to_owned(),
        (true, 1) => "1 change".to_owned(),
        (true, n) => format!("{n} changes"),
    }
}

/// One model for the notes: its facts as its metadata writes them (of the
/// model version released with `version`, or the newest before it), its
/// staged files and their total size.
fn model(ws: &Workspace, model: &Model, version: &Version, assets: &[Value]) -> Result<Value> {
    let dir = ws.root.join(&model.metadata);
    // A model's versions need not follow the product's: the newest at or
    // below the release, else the newest there is.
    let versions = crate::model::version_dirs(&dir);
    let newest = versions
        .iter()
        .rfind(|(v, _)| v <= version)
        .or(versions.last());
    let read = newest
        .map(|(v, path)| metadata::read(&ws.root, model, path, &v.to_string(), &mut Vec::new()));
    let facts: serde_json::Map<String, Value> = model
        .facts
        .all()
        .iter()
        .map(|(name, _)| {
            let value = read.as_ref().and_then(|r| r.fact(name));
            (
                name.replace('-', "_"),
                value.map_or(Value::Null, |f| f.value.clone()),
            )
        })
        .collect();
    let model_version = read.as_ref().map(|r| r.version.clone());
    let percent = |fact: &str| facts.get(fact).and_then(metadata::percent);
    let files: Vec<&Value> = assets
        .iter()
        .filter(|a| {
            let name = a["name"].as_str().unwrap_or_default();
            name.contains(&model.name)
                && [".pth", ".onnx", ".hef"].iter().any(|e| name.ends_with(e))
        })
        .collect();
    let size: u64 = files.iter().filter_map(|a| a["size"].as_u64()).sum();
    Ok(json!({
        "name": model.name,
        "version": model_version,
        "accuracy_percent": percent("accuracy"),
        "min_accuracy_percent": percent("min_accuracy"),
        "target": model.hef.as_ref().map(|h| h.hw_arch.as_str()),
        "files": files.iter().map(|a| &a["name"]).collect::<Vec<_>>(),
        "size": size,
        "size_human": human(size),
        "facts": facts,
    }))
}

/// Each Python package released, with the version it is released under.
fn python_packages(ws: &Workspace, version: &Version) -> Result<Vec<Value>> {
    let pep440 = to_pep440(version)?;
    Ok(crate::python::packages(ws)?
        .iter()
        .map(|p| json!({"name": p.name, "version": pep440}))
        .collect())
}

pub fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// What a staged file is for, by its name.
fn purpose(name: &str) -> &'static str {
    match name {
        "sha256sum.txt" => "SHA-256 checksums of every asset",
        "manifest.json" => "what this release contains, with sizes and hashes",
        "provenance.intoto.json" => "build provenance (SLSA)",
        _ if name.ends_with(".whl") => "Python wheel",
        _ if name.ends_with(".tar.gz") => "Python source distribution",
        _ if name.ends_with(".onnx") => "ONNX model",
        _ if name.ends_with(".hef") => "compiled model for the Hailo accelerator",
        _ if name.ends_with(".pth") || name.ends_with(".pt") => "PyTorch weights",
        _ if name.ends_with(".npy") => "calibration set",
        _ if name.ends_with(".asc") || name.ends_with(".sig") => "signature",
        _ if name.ends_with(".cdx.json") || name.to_ascii_lowercase().starts_with("sbom") => {
            "SBOM (CycloneDX)"
        }
        _ if name.ends_with(".json") => "metadata",
        _ if name.ends_with(".md") => "documentation",
        _ => "release file",
    }
}
