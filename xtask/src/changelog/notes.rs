//! Release notes (`release-notes.md`, the GitHub release body), in the
//! template our users already write by hand: title, Model Performance (from
//! each model's `eval_metrics.json` and the real asset sizes), Assets, Usage,
//! Verification, Installation, then the changelog section.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use semver::Version;

use super::section::Section;
use crate::core::config::Workspace;
use crate::version::pep440::to_pep440;

/// Everything the notes say, gathered by the caller.
pub struct Notes<'a> {
    pub workspace: &'a Workspace,
    pub version: &'a Version,
    pub section: &'a Section,
    /// The staged release directory, when it exists.
    pub dist: Option<&'a Path>,
    /// The fingerprint of the key that signed the release, if it is signed.
    pub fingerprint: Option<&'a str>,
}

impl Notes<'_> {
    pub fn render(&self) -> Result<String> {
        let ws = self.workspace;
        let version = self.version;
        let pep440 = to_pep440(version)?;
        let assets = self.assets()?;
        let mut out = format!("# {}\n\n", title(ws, version, self.section));

        if !ws.release.models.is_empty() {
            out.push_str("## Model Performance\n\n| model | validation accuracy | release threshold | model size | target platform |\n|---|---|---|---|---|\n");
        }
        for model in &ws.release.models {
            let metrics = model_metrics(&ws.root.join(&model.metadata), version)?;
            let size: u64 = assets
                .iter()
                .filter(|a| {
                    // The model's binaries, not its metadata.
                    let name = a.path.to_string_lossy();
                    name.contains(&model.name)
                        && [".pth", ".onnx", ".hef"].iter().any(|e| name.ends_with(e))
                })
                .map(|a| a.size)
                .sum();
            let platform = match &model.hef {
                Some(hef) => format!("Raspberry Pi + Hailo-8 ({})", hef.hw_arch.as_str()),
                None => "CPU (ONNX Runtime)".to_owned(),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {platform} |\n",
                model.name,
                percent(metrics.accuracy),
                percent(metrics.threshold),
                if size == 0 {
                    "not staged".to_owned()
                } else {
                    human(size)
                },
            ));
        }

        if !ws.release.models.is_empty() {
            out.push('\n');
        }
        out.push_str("## Assets\n\n");
        if assets.is_empty() {
            out.push_str("Nothing is staged yet; `cargo xtask release` stages the assets under `target/dist/`.\n");
        } else {
            out.push_str("| file | size | purpose |\n|---|---|---|\n");
            for asset in &assets {
                out.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    asset.path.display(),
                    human(asset.size),
                    purpose(&asset.path)
                ));
            }
        }

        let package = python_package(ws)?;
        out.push_str("\n## Usage\n\n```python\nfrom tcn_vae import ModelConfig, Normalization\n\n");
        out.push_str("norm = Normalization.load(\"normalization.json\")\nwindow = norm.apply(raw_window)  # 100 rows of 9 IMU values\n```\n");
        out.push_str("\n## Verification\n\n```sh\nsha256sum -c sha256sum.txt\n");
        if let Some(fingerprint) = self.fingerprint {
            out.push_str(&format!(
                "gpg --verify sha256sum.txt.asc sha256sum.txt   # signed by {fingerprint}\n\
                 gpg --verify provenance.intoto.json.asc provenance.intoto.json\n"
            ));
        }
        out.push_str("cargo xtask verify-release .   # checksums, signatures, provenance, HEF headers\n```\n");
        out.push_str("\n## Installation\n\n```sh\n");
        if let Some(package) = &package {
            out.push_str(&format!("pip install {package}=={pep440}\n"));
        }
        for image in &ws.release.docker {
            out.push_str(&format!("docker pull {}:{version}\n", image.name));
        }
        out.push_str("```\n\n## Changes\n\n");
        out.push_str(&if self.section.is_empty() {
            "No notable changes.\n".to_owned()
        } else {
            self.section.render("\n")
        });
        Ok(out)
    }

    fn assets(&self) -> Result<Vec<Asset>> {
        let Some(dist) = self.dist.filter(|d| d.is_dir()) else {
            return Ok(Vec::new());
        };
        let mut files = Vec::new();
        collect(dist, dist, &mut files)?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files
            .into_iter()
            .filter(|a| a.path != Path::new("release-notes.md"))
            .collect())
    }
}

struct Asset {
    /// Relative to the staged directory.
    path: PathBuf,
    size: u64,
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<Asset>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(base, &path, out)?;
        } else {
            let size = std::fs::metadata(&path)?.len();
            out.push(Asset {
                path: path.strip_prefix(base).unwrap_or(&path).to_owned(),
                size,
            });
        }
    }
    Ok(())
}

/// The notes' first line and the GitHub release's title:
/// `<repository> v<X.Y.Z> - 2 features, 1 fix`.
pub fn title(ws: &Workspace, version: &Version, section: &Section) -> String {
    let name = ws
        .release
        .github
        .as_deref()
        .and_then(|s| s.split('/').nth(1))
        .unwrap_or("release");
    format!("{name} v{version} - {}", summary(section))
}

/// `2 features, 1 fix` from the section's counts.
fn summary(section: &Section) -> String {
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
    if parts.is_empty() {
        "maintenance release".to_owned()
    } else {
        parts.join(", ")
    }
}

struct Metrics {
    accuracy: Option<f64>,
    threshold: Option<f64>,
}

/// `eval_metrics.json` of the model version released with `version`, or of
/// the newest model version before it.
fn model_metrics(dir: &Path, version: &Version) -> Result<Metrics> {
    let mut versions: Vec<(Version, PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            Some((
                Version::parse(p.file_name()?.to_str()?.strip_prefix('v')?).ok()?,
                p,
            ))
        })
        .filter(|(v, _)| v <= version)
        .collect();
    versions.sort_by(|a, b| a.0.cmp(&b.0));
    let Some((_, newest)) = versions.pop() else {
        return Ok(Metrics {
            accuracy: None,
            threshold: None,
        });
    };
    let path = newest.join("eval_metrics.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    Ok(Metrics {
        accuracy: json["validation_accuracy"].as_f64(),
        threshold: json["thresholds"]["min_validation_accuracy"].as_f64(),
    })
}

fn python_package(ws: &Workspace) -> Result<Option<String>> {
    let Some(python) = &ws.release.python else {
        return Ok(None);
    };
    let path = ws.root.join(&python.path).join("pyproject.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("{}: not valid TOML", path.display()))?;
    Ok(doc
        .get("project")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned))
}

fn percent(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// What a staged file is for, by its name.
fn purpose(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match name {
        "sha256sum.txt" => "SHA-256 checksums of every asset",
        "manifest.json" => "what this release contains, with sizes and hashes",
        "eval_metrics.json" => "evaluation metrics and release thresholds",
        "model_config.json" => "model architecture",
        "normalization.json" => "input normalisation (per-channel mean and std)",
        "MODEL_CARD.md" => "model card",
        _ if name.ends_with(".whl") => "Python wheel",
        _ if name.ends_with(".tar.gz") => "Python source distribution",
        _ if name.ends_with(".onnx") => "ONNX model, input [1, 9, 1, 100]",
        _ if name.ends_with(".hef") => "compiled model for the Hailo accelerator",
        _ if name.ends_with(".pth") => "PyTorch weights",
        _ if name.ends_with(".npy") => "calibration set",
        _ if name.ends_with(".asc") || name.ends_with(".sig") => "signature",
        _ if name.ends_with(".cdx.json") => "SBOM (CycloneDX)",
        _ => "release file",
    }
}
