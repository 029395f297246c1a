//! A model's metadata, `models/<name>/v<X.Y.Z>/`: the facts a release relies
//! on (input shape, accuracy, normalisation, ...), read from wherever the
//! project's own JSON files keep them (the model's `facts` in the config,
//! the example's files by default), and every check on them, each failure
//! naming the file, the field and the fix; all of them are reported together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::core::config::{Model, PercentStyle};

/// One fact as read: its value and where it came from.
#[derive(Debug)]
pub struct Found {
    pub value: Value,
    pub file: PathBuf,
    /// The JSON pointer, `/thresholds/min_validation_accuracy`.
    pub pointer: String,
}

impl Found {
    /// `eval_metrics.json: `thresholds.min_validation_accuracy``, for messages.
    fn at(&self) -> String {
        format!("{}: `{}`", self.file.display(), field(&self.pointer))
    }
}

/// One model version's directory, read.
pub struct ModelVersion {
    pub dir: PathBuf,
    pub version: String,
    facts: BTreeMap<&'static str, Found>,
}

impl ModelVersion {
    pub fn fact(&self, name: &str) -> Option<&Found> {
        self.facts.get(name)
    }

    fn number(&self, name: &str) -> Option<f64> {
        self.fact(name).and_then(|f| f.value.as_f64())
    }

    fn list(&self, name: &str) -> Option<&[Value]> {
        self.fact(name)
            .and_then(|f| f.value.as_array())
            .map(Vec::as_slice)
    }
}

/// What a fact's value must look like.
#[derive(Clone, Copy)]
enum Kind {
    /// Positive integers: `[100, 9]`.
    Shape,
    /// A positive integer.
    Count,
    /// A number in [0, 1].
    Fraction,
    /// Finite numbers.
    Numbers,
    /// Strings.
    Names,
    Text,
}

/// Each fact's kind, and whether the file may leave it out.
fn kind(fact: &str) -> (Kind, bool) {
    match fact {
        "input-shape" => (Kind::Shape, false),
        "output-dim" => (Kind::Count, false),
        "accuracy" => (Kind::Fraction, false),
        "min-accuracy" => (Kind::Fraction, true),
        "mean" | "std" => (Kind::Numbers, false),
        "channels" => (Kind::Names, false),
        "model-version" => (Kind::Text, true),
        _ => (Kind::Text, false),
    }
}

/// Reads the facts of one version directory; unreadable or malformed files,
/// missing or mistyped values and sources that disagree are problems.
pub fn read(
    root: &Path,
    model: &Model,
    dir: &Path,
    version: &str,
    problems: &mut Vec<String>,
) -> ModelVersion {
    let mut files: BTreeMap<PathBuf, Option<Value>> = BTreeMap::new();
    let mut facts = BTreeMap::new();
    for (fact, sources) in model.facts.all() {
        let (kind, optional) = kind(fact);
        let mut first: Option<Found> = None;
        for source in sources {
            let Some((file, pointer)) = source.split_once('#') else {
                continue; // refused when the config was read
            };
            let path = match file.strip_prefix('/') {
                Some(from_root) => root.join(from_root),
                None => dir.join(file),
            };
            let json = files
                .entry(path.clone())
                .or_insert_with(|| json(&path, problems));
            let Some(json) = json else { continue };
            let found = Found {
                value: json.pointer(pointer).cloned().unwrap_or(Value::Null),
                file: path,
                pointer: pointer.to_owned(),
            };
            if found.value.is_null() {
                if !optional {
                    problems.push(format!(
                        "{}: no `{}`; the model's `facts.{fact}` in Cargo.toml reads it from \
                         {source:?} (add it, or point the fact at where the project keeps it)",
                        found.file.display(),
                        field(pointer)
                    ));
                }
                continue;
            }
            if let Err(why) = check_kind(kind, &found.value) {
                problems.push(format!(
                    "{} {why}; found {}",
                    found.at(),
                    show(&found.value)
                ));
                continue;
            }
            match &first {
                Some(f) if f.value != found.value => problems.push(format!(
                    "{} {} differs from `{}` {} in {}; they must be the same {fact}",
                    found.at(),
                    show(&found.value),
                    field(&f.pointer),
                    show(&f.value),
                    f.file.display()
                )),
                Some(_) => {}
                None => first = Some(found),
            }
        }
        if let Some(found) = first {
            facts.insert(fact, found);
        }
    }
    ModelVersion {
        dir: dir.to_owned(),
        version: version.to_owned(),
        facts,
    }
}

fn check_kind(kind: Kind, value: &Value) -> Result<(), &'static str> {
    let positive = |v: &Value| v.as_u64().is_some_and(|n| n > 0);
    let ok = match kind {
        Kind::Shape => value
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(positive)),
        Kind::Count => positive(value),
        Kind::Fraction => value.as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)),
        Kind::Numbers => value
            .as_array()
            .is_some_and(|a| a.iter().all(|v| v.as_f64().is_some_and(f64::is_finite))),
        Kind::Names => value
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string)),
        Kind::Text => value.is_string(),
    };
    if ok {
        return Ok(());
    }
    Err(match kind {
        Kind::Shape => "must be a list of positive integers, e.g. [100, 9]",
        Kind::Count => "must be a positive integer",
        Kind::Fraction => "must be a fraction between 0 and 1",
        Kind::Numbers => "must be a list of finite numbers",
        Kind::Names => "must be a list of strings",
        Kind::Text => "must be a string",
    })
}

fn json(path: &Path, problems: &mut Vec<String>) -> Option<Value> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            problems.push(format!(
                "{}: cannot read: {err}; the model's `facts` in Cargo.toml read from it",
                path.display()
            ));
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(err) => {
            problems.push(format!(
                "{}: {err} (fix the JSON syntax there)",
                path.display()
            ));
            None
        }
    }
}

/// `/thresholds/min_validation_accuracy` -> `thresholds.min_validation_accuracy`.
fn field(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// A value as a person writes it: `[100, 9]`, `0.5768`, `"imu"`.
fn show(value: &Value) -> String {
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// Every rule on the facts of one version directory of `model`.
pub fn check(model: &Model, m: &ModelVersion, problems: &mut Vec<String>) {
    if let Some(name) = m.fact("name").filter(|f| f.value != model.name.as_str()) {
        problems.push(format!(
            "{} is {}, but the model is configured as {:?} in Cargo.toml",
            name.at(),
            show(&name.value),
            model.name
        ));
    }
    check_normalization(m, problems);
    if let (Some(accuracy), Some(min)) = (m.fact("accuracy"), m.number("min-accuracy")) {
        if accuracy.value.as_f64().is_some_and(|a| a < min) {
            let threshold = m.fact("min-accuracy").map_or(String::new(), |t| {
                let elsewhere = if t.file == accuracy.file {
                    String::new()
                } else {
                    format!(" in {}", t.file.display())
                };
                format!("`{}` {min}{elsewhere}", field(&t.pointer))
            });
            problems.push(format!(
                "{} {} is below the release threshold {threshold}; this model may not be released",
                accuracy.at(),
                show(&accuracy.value),
            ));
        }
    }
    if let Some(v) = m
        .fact("model-version")
        .filter(|v| v.value != m.version.as_str())
    {
        problems.push(format!(
            "{} {} differs from the directory's version {}",
            v.at(),
            show(&v.value),
            m.version
        ));
    }
    if !model.card.is_empty() {
        let card = m.dir.join(&model.card);
        match std::fs::read_to_string(&card) {
            Ok(text) if text.contains(&m.version) => {}
            Ok(_) => problems.push(format!(
                "{}: does not name the version {}; say which version it describes",
                card.display(),
                m.version
            )),
            Err(_) => problems.push(format!(
                "{}: missing; every model version needs a model card (`card` in the model's \
                 config names it; `card = \"\"` if the project keeps none)",
                card.display()
            )),
        }
    }
}

/// One mean, std and channel name per input channel (the input's last
/// dimension); the device divides by every std.
fn check_normalization(m: &ModelVersion, problems: &mut Vec<String>) {
    let width = m
        .list("input-shape")
        .and_then(|s| s.last())
        .and_then(Value::as_u64);
    for fact in ["channels", "mean", "std"] {
        let (Some(found), Some(width)) = (m.fact(fact), width) else {
            continue;
        };
        let len = found.value.as_array().map_or(0, Vec::len);
        if len as u64 != width {
            problems.push(format!(
                "{} has {len} entries, but the input has {width} channels",
                found.at()
            ));
        }
    }
    let Some(std) = m.fact("std") else { return };
    for (i, s) in std.value.as_array().into_iter().flatten().enumerate() {
        if let Some(s) = s.as_f64().filter(|s| *s <= 0.0) {
            problems.push(format!(
                "{}: `{}[{i}]` = {s} must be finite and > 0 (the device divides by it)",
                std.file.display(),
                field(&std.pointer)
            ));
        }
    }
}

/// `best_tcn_vae_72pct.pth`: the accuracy in a weights file's name must be
/// the model's `accuracy` fact.
pub fn check_asset_name(
    asset: &Path,
    m: &ModelVersion,
    style: PercentStyle,
    problems: &mut Vec<String>,
) {
    let Some(accuracy) = m.fact("accuracy") else {
        return;
    };
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
    // Projects write the percent rounded (0.5768 -> 58) or truncated (-> 57).
    let percent = accuracy.value.as_f64().unwrap_or_default() * 100.0;
    let (rounded, truncated) = (percent.round() as u32, (percent + 1e-9).floor() as u32);
    let fits = match style {
        PercentStyle::Truncate => pct == truncated,
        PercentStyle::Round => pct == rounded,
        PercentStyle::Either => pct == truncated || pct == rounded,
    };
    if !fits {
        let which = match style {
            _ if rounded == truncated => format!("{rounded}%"),
            PercentStyle::Truncate => format!("{truncated}% truncated, as accuracy-in-name says"),
            PercentStyle::Round => format!("{rounded}% rounded, as accuracy-in-name says"),
            PercentStyle::Either => format!("{truncated}% truncated, {rounded}% rounded"),
        };
        problems.push(format!(
            "{}: the name says {pct}% but {} is {} ({which}); rename the weights or fix the metrics",
            asset.display(),
            accuracy.at(),
            show(&accuracy.value),
        ));
    }
}

/// A fraction as the percent its digits say, without float rounding:
/// `0.5768` -> `57.68%`, `0.9` -> `90%`.
pub fn percent(value: &Value) -> Option<String> {
    let text = value.as_f64().map(|_| value.to_string())?;
    if text.contains(['e', 'E', '-']) {
        return value.as_f64().map(|v| format!("{}%", v * 100.0));
    }
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = format!("{frac:0<2}");
    let (whole, rest) = frac.split_at(2);
    let whole = format!("{int}{whole}").trim_start_matches('0').to_owned();
    let whole = if whole.is_empty() { "0" } else { &whole };
    Some(if rest.is_empty() {
        format!("{whole}%")
    } else {
        format!("{whole}.{rest}%")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percent_shifts_the_digits_as_written() {
        for (value, want) in [
            (json!(0.5768), "57.68%"),
            (json!(0.9), "90%"),
            (json!(0.72), "72%"),
            (json!(1), "100%"),
            (json!(0.05), "5%"),
            (json!(0.123456), "12.3456%"),
            (json!(0), "0%"),
        ] {
            assert_eq!(percent(&value).as_deref(), Some(want), "{value}");
        }
        assert_eq!(percent(&json!("0.5")), None);
    }
}
