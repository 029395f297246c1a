//! A model's metadata, `models/<name>/v<X.Y.Z>/`: the serde types of
//! `model_config.json`, `normalization.json` and `eval_metrics.json` in one
//! place, and every check a release relies on, each failure naming the file,
//! the field and the fix; all of them are reported together.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `model_config.json`: the architecture.
#[derive(Debug, Deserialize)]
pub struct ModelConfig {
    pub name: String,
    pub input_shape: Vec<i64>,
    pub channels: Vec<i64>,
    pub kernel_sizes: Vec<i64>,
    pub dilations: Vec<i64>,
    pub latent_dim: i64,
    pub onnx: Option<OnnxSpec>,
}

#[derive(Debug, Deserialize)]
pub struct OnnxSpec {
    pub opset: i64,
    pub input_shape: Vec<i64>,
}

/// `normalization.json`: what the device applies to every raw window.
#[derive(Debug, Deserialize)]
pub struct Normalization {
    pub window_shape: Vec<i64>,
    pub channels: Vec<String>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

/// `eval_metrics.json`: how good the weights are, and the bar to release.
#[derive(Debug, Deserialize)]
pub struct EvalMetrics {
    pub model_version: Option<String>,
    pub validation_accuracy: f64,
    pub latent_dim: i64,
    #[serde(default)]
    pub thresholds: Thresholds,
}

#[derive(Debug, Default, Deserialize)]
pub struct Thresholds {
    pub min_validation_accuracy: Option<f64>,
}

/// One model version's directory, read.
pub struct ModelVersion {
    pub dir: PathBuf,
    pub version: String,
    pub config: Option<ModelConfig>,
    pub normalization: Option<Normalization>,
    pub metrics: Option<EvalMetrics>,
}

/// Reads one version directory; unreadable or malformed files are problems.
pub fn read(dir: &Path, version: &str, problems: &mut Vec<String>) -> ModelVersion {
    ModelVersion {
        dir: dir.to_owned(),
        version: version.to_owned(),
        config: json(&dir.join("model_config.json"), problems),
        normalization: json(&dir.join("normalization.json"), problems),
        metrics: json(&dir.join("eval_metrics.json"), problems),
    }
}

fn json<T: for<'de> Deserialize<'de>>(path: &Path, problems: &mut Vec<String>) -> Option<T> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            problems.push(format!(
                "{}: cannot read: {err}; every model version needs this file",
                path.display()
            ));
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(err) => {
            problems.push(format!(
                "{}: {err} (fix the field or the JSON syntax there)",
                path.display()
            ));
            None
        }
    }
}

/// Every rule of one version directory, `model` being its configured name.
pub fn check(model: &str, m: &ModelVersion, problems: &mut Vec<String>) {
    let file = |name: &str| m.dir.join(name).display().to_string();
    if let Some(c) = &m.config {
        let f = file("model_config.json");
        if c.name != model {
            problems.push(format!(
                "{f}: `name` is {:?}, but the model is configured as {model:?} in Cargo.toml",
                c.name
            ));
        }
        if c.input_shape.len() != 2 || c.input_shape.iter().any(|d| *d <= 0) {
            problems.push(format!(
                "{f}: `input_shape` must be [timesteps, channels], e.g. [100, 9]; found {:?}",
                c.input_shape
            ));
        }
        let blocks = [c.channels.len(), c.kernel_sizes.len(), c.dilations.len()];
        if blocks[0] == 0 || blocks.iter().any(|n| *n != blocks[0]) {
            problems.push(format!("{f}: `channels`, `kernel_sizes` and `dilations` need one entry per temporal block; found {blocks:?} entries"));
        }
        for (field, values) in [
            ("channels", &c.channels),
            ("kernel_sizes", &c.kernel_sizes),
            ("dilations", &c.dilations),
        ] {
            if values.iter().any(|v| *v <= 0) {
                problems.push(format!(
                    "{f}: every `{field}` entry must be a positive integer; found {values:?}"
                ));
            }
        }
        if c.latent_dim <= 0 {
            problems.push(format!(
                "{f}: `latent_dim` must be positive; found {}",
                c.latent_dim
            ));
        }
        if let (Some(onnx), [t, ch]) = (&c.onnx, c.input_shape.as_slice()) {
            if onnx.input_shape != [1, *ch, 1, *t] {
                problems.push(format!(
                    "{f}: `onnx.input_shape` must be [1, {ch}, 1, {t}] (NCHW of the [{t}, {ch}] window, the DFC's (1, k) convolutions); found {:?}",
                    onnx.input_shape
                ));
            }
            if !(11..=17).contains(&onnx.opset) {
                problems.push(format!(
                    "{f}: `onnx.opset` {} is outside what the Hailo DFC 3.x parses well (use 13)",
                    onnx.opset
                ));
            }
        }
    }
    if let Some(n) = &m.normalization {
        let f = file("normalization.json");
        if let Some(c) = &m.config {
            if n.window_shape != c.input_shape {
                problems.push(format!(
                    "{f}: `window_shape` {:?} differs from `input_shape` {:?} in model_config.json; they must be the same window",
                    n.window_shape, c.input_shape
                ));
            }
        }
        let width = n.window_shape.get(1).copied().unwrap_or(0);
        for (field, len) in [
            ("channels", n.channels.len()),
            ("mean", n.mean.len()),
            ("std", n.std.len()),
        ] {
            if len as i64 != width {
                problems.push(format!(
                    "{f}: `{field}` has {len} entries, but the window has {width} channels"
                ));
            }
        }
        for (i, s) in n.std.iter().enumerate() {
            if !s.is_finite() || *s <= 0.0 {
                problems.push(format!(
                    "{f}: `std[{i}]` = {s} must be finite and > 0 (the device divides by it)"
                ));
            }
        }
        for (i, v) in n.mean.iter().enumerate().filter(|(_, v)| !v.is_finite()) {
            problems.push(format!("{f}: `mean[{i}]` = {v} must be finite"));
        }
    }
    if let Some(e) = &m.metrics {
        let f = file("eval_metrics.json");
        if !(0.0..=1.0).contains(&e.validation_accuracy) {
            problems.push(format!(
                "{f}: `validation_accuracy` {} must be a fraction between 0 and 1",
                e.validation_accuracy
            ));
        }
        if let Some(c) = m.config.as_ref().filter(|c| c.latent_dim != e.latent_dim) {
            problems.push(format!(
                "{f}: `latent_dim` {} differs from `latent_dim` {} in model_config.json; the metrics must be of this model",
                e.latent_dim, c.latent_dim
            ));
        }
        if let Some(min) = e
            .thresholds
            .min_validation_accuracy
            .filter(|min| e.validation_accuracy < *min)
        {
            problems.push(format!(
                "{f}: `validation_accuracy` {} is below the release threshold `thresholds.min_validation_accuracy` {min}; this model may not be released",
                e.validation_accuracy
            ));
        }
        if let Some(v) = e.model_version.as_ref().filter(|v| **v != m.version) {
            problems.push(format!(
                "{f}: `model_version` {v:?} differs from the directory's version {}",
                m.version
            ));
        }
    }
    let card = m.dir.join("MODEL_CARD.md");
    match std::fs::read_to_string(&card) {
        Ok(text) if text.contains(&m.version) => {}
        Ok(_) => problems.push(format!(
            "{}: does not name the version {}; say which version it describes",
            card.display(),
            m.version
        )),
        Err(_) => problems.push(format!(
            "{}: missing; every model version needs a model card",
            card.display()
        )),
    }
}

/// `best_tcn_vae_72pct.pth`: the accuracy in a weights file's name must be
/// the one in eval_metrics.json (rounded to a whole percent).
pub fn check_asset_name(
    asset: &Path,
    metrics: &EvalMetrics,
    metrics_file: &Path,
    problems: &mut Vec<String>,
) {
    let Some(name) = asset.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let Some(pct) = name
        .strip_suffix("pct.pth")
        .and_then(|s| s.rsplit('_').next())
        .and_then(|n| n.parse::<u32>().ok())
    else {
        return;
    };
    // Projects write the percent rounded (0.5768 -> 58) or truncated (-> 57):
    // either matches.
    let percent = metrics.validation_accuracy * 100.0;
    let (rounded, truncated) = (percent.round() as u32, (percent + 1e-9).floor() as u32);
    if pct != rounded && pct != truncated {
        let which = if rounded == truncated {
            format!("{rounded}%")
        } else {
            format!("{truncated}% truncated, {rounded}% rounded")
        };
        problems.push(format!(
            "{}: the name says {pct}% but {} has `validation_accuracy` {} ({which}); rename the weights or fix the metrics",
            asset.display(),
            metrics_file.display(),
            metrics.validation_accuracy
        ));
    }
}
