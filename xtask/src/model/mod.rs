//! `cargo xtask models check|inspect-hef`: the trained models a release ships,
//! checked before anything is built from them.

pub mod hef_compile;
pub mod onnx_export;

pub mod hef;
pub mod metadata;
pub mod npy;
pub mod onnx;
pub mod references;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

use crate::core::config::{Model, Workspace};
use crate::core::runner::{on_path, Runner};
use crate::tools::hailo;

/// Check model metadata and HEF files.
#[derive(Debug)]
pub enum Models {
    Check {
        name: Option<String>,
    },
    CheckOnnx {
        files: Vec<PathBuf>,
        model: Option<String>,
        target: Option<String>,
        json: bool,
    },
    InspectHef {
        files: Vec<PathBuf>,
    },
}

impl Models {
    pub fn args(cmd: Command) -> Command {
        let files = || {
            Arg::new("files")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .num_args(1..)
                .action(ArgAction::Append)
                .required(true)
        };
        cmd.subcommand_required(true)
            .arg_required_else_help(true)
            .subcommand(
                Command::new("check")
                    .about(
                        "Check every version of each model's metadata (or of NAME), the accuracy \
                         in weight names, and every .hef among its assets; all problems at once",
                    )
                    .arg(Arg::new("name").value_name("NAME").help("Only this model")),
            )
            .subcommand(
                Command::new("check-onnx")
                    .about(
                        "Read each ONNX file (IR version, opset, inputs and outputs with their \
                         shapes, op counts) and report every problem at once (not a model, \
                         dynamic dims); exit 1 on any",
                    )
                    .arg(files())
                    .arg(Arg::new("model").long("model").value_name("NAME").help(
                        "Also check against what this model's `onnx` table in the config \
                         declares (inputs, outputs, opsets, forbidden ops), and the rules of the \
                         target it compiles for",
                    ))
                    .arg(Arg::new("target").long("target").value_name("TARGET").help(
                        "Also check against this target's rules in the config \
                         (`[workspace.metadata.release.targets.<TARGET>]`), e.g. hailo8",
                    ))
                    .arg(crate::cli::json_flag("Print the facts as JSON, for CI")),
            )
            .subcommand(
                Command::new("inspect-hef")
                    .about(
                        "Print each HEF's header (version, sizes; the architecture when \
                         `hailortcli` is installed); exit 1 if any is not a well-formed HEF",
                    )
                    .arg(files()),
            )
    }

    pub fn from_matches(matches: &ArgMatches) -> Models {
        let files = |matches: &ArgMatches| -> Vec<PathBuf> { crate::cli::all(matches, "files") };
        match matches.subcommand() {
            Some(("check", args)) => Models::Check {
                name: args.get_one::<String>("name").cloned(),
            },
            Some(("check-onnx", args)) => Models::CheckOnnx {
                files: files(args),
                model: args.get_one::<String>("model").cloned(),
                target: args.get_one::<String>("target").cloned(),
                json: args.get_flag("json"),
            },
            Some(("inspect-hef", args)) => Models::InspectHef { files: files(args) },
            other => unreachable!("{other:?}: not a subcommand of Models::args"),
        }
    }

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
                let references = &workspace.release.references.models;
                if models.is_empty() && (name.is_some() || references.is_empty()) {
                    bail!(
                        "no model {} in [workspace.metadata.release.models]",
                        name.unwrap_or_default()
                    );
                }
                let mut problems = Vec::new();
                for model in &models {
                    check(&workspace, model, &mut problems);
                }
                if name.is_none() {
                    problems.extend(references::problems(&workspace, &Runner::new(false))?);
                }
                if !problems.is_empty() {
                    bail!(
                        "{} problem{} in the model metadata:\n{}",
                        problems.len(),
                        if problems.len() == 1 { "" } else { "s" },
                        crate::core::report::bullets(&problems)
                    );
                }
                if !models.is_empty() {
                    say!(
                        "{}: metadata, asset names and HEF files are fine",
                        models
                            .iter()
                            .map(|m| m.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                if name.is_none() && !references.is_empty() {
                    say!(
                        "{} referenced model{}: every pinned digest is what the registry holds",
                        references.len(),
                        if references.len() == 1 { "" } else { "s" }
                    );
                }
                Ok(())
            }
            Models::CheckOnnx {
                files,
                model,
                target,
                json,
            } => {
                let workspace = match model.is_some() || target.is_some() {
                    true => Some(Workspace::discover()?),
                    false => None,
                };
                let (spec, rules) = match &workspace {
                    Some(ws) => check_onnx_against(ws, model.as_deref(), target.as_deref())?,
                    None => (None, None),
                };
                check_onnx(&files, spec, rules, json)
            }
            Models::InspectHef { files } => inspect_hefs(&files, &Runner::new(false)),
        }
    }
}

/// Every way `model` differs from what the config declares for it.
pub fn against_spec(
    path: &Path,
    model: &onnx::OnnxModel,
    spec: &crate::core::config::OnnxSpec,
) -> Vec<String> {
    let mut problems = Vec::new();
    let file = path.display();
    let sides = [
        ("input", &spec.inputs, &model.inputs),
        ("output", &spec.outputs, &model.outputs),
    ];
    for (side, declared, found) in sides {
        for (name, shape) in declared {
            match found.iter().find(|t| t.name == *name) {
                None => problems.push(format!(
                    "{file}: no {side} `{name}`; its {side}s are {}",
                    found
                        .iter()
                        .map(|t| format!("`{}`", t.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Some(t) if t.dims != shape.iter().map(|d| Some(*d)).collect::<Vec<_>>() => problems
                    .push(format!(
                        "{file}: {side} `{name}` is {}, but the config declares {}",
                        self::shape(&t.dims),
                        self::shape(&shape.iter().map(|d| Some(*d)).collect::<Vec<_>>())
                    )),
                Some(_) => {}
            }
        }
    }
    if let (false, Some(opset)) = (spec.opsets.is_empty(), model.opset()) {
        if !spec.opsets.contains(&opset) {
            problems.push(format!(
                "{file}: opset {opset}, but the config accepts {:?}",
                spec.opsets
            ));
        }
    }
    let mut forbidden: Vec<&String> = model
        .ops
        .iter()
        .filter(|op| spec.forbidden_ops.contains(op))
        .collect();
    forbidden.dedup();
    if !forbidden.is_empty() {
        problems.push(format!(
            "{file}: uses {}, which the config forbids (models[].onnx.forbidden-ops)",
            forbidden
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    problems
}

/// Every way `model` breaks what `target`'s compiler takes
/// (`[workspace.metadata.release.targets.<target>]`).
pub fn against_target(
    path: &Path,
    model: &onnx::OnnxModel,
    target: &str,
    rules: &crate::core::config::TargetRules,
) -> Vec<String> {
    let file = path.display();
    let key = format!("targets.{target}");
    let mut problems = Vec::new();
    if let (false, Some(opset)) = (rules.opsets.is_empty(), model.opset()) {
        if !rules.opsets.contains(&opset) {
            problems.push(format!(
                "{file}: opset {opset}, but {target} takes {:?} ({key}.opsets)",
                rules.opsets
            ));
        }
    }
    let mut found = |what: &str, fix: &str, rule: &str, nodes: Vec<&onnx::Node>| {
        if let Some(first) = nodes.first() {
            let name = if first.name.is_empty() {
                "<no name>"
            } else {
                &first.name
            };
            problems.push(format!(
                "{file}: {what} in {} node{}, e.g. `{name}` ({}); {fix} ({key}.{rule})",
                nodes.len(),
                if nodes.len() == 1 { "" } else { "s" },
                first.op
            ));
        }
    };
    let nodes = &model.nodes;
    found(
        &format!("an op {target} rejects"),
        "replace it",
        "forbidden-ops",
        nodes
            .iter()
            .filter(|n| rules.forbidden_ops.contains(&n.op))
            .collect(),
    );
    if rules.no_conv_1d {
        found(
            "a 1-D Conv",
            "write it as Conv2d with a (1, k) kernel over [N, C, 1, T]",
            "no-conv-1d",
            nodes
                .iter()
                .filter(|n| n.op == "Conv" && n.kernel_rank == Some(1))
                .collect(),
        );
    }
    if rules.no_pad_slice {
        let padded: Vec<&String> = nodes
            .iter()
            .filter(|n| n.op == "Pad")
            .flat_map(|n| &n.outputs)
            .collect();
        found(
            "a Slice after a Pad",
            "pad on the left only",
            "no-pad-slice",
            nodes
                .iter()
                .filter(|n| {
                    n.op == "Slice" && n.inputs.first().is_some_and(|i| padded.contains(&i))
                })
                .collect(),
        );
    }
    if rules.named_nodes {
        found(
            "no name",
            "name every node: the DFC takes start and end nodes by name",
            "named-nodes",
            nodes.iter().filter(|n| n.name.is_empty()).collect(),
        );
    }
    problems
}

/// The rules of the target `model` compiles for, when the config has them.
pub fn target_rules<'w>(
    ws: &'w Workspace,
    model: &Model,
) -> Option<(&'w str, &'w crate::core::config::TargetRules)> {
    let arch = model.hef.as_ref()?.hw_arch.as_str();
    ws.release
        .targets
        .get_key_value(arch)
        .map(|(k, v)| (k.as_str(), v))
}

/// The facts of an ONNX file, or every reason it cannot go to a compiler.
pub fn onnx_problems(path: &Path) -> Result<onnx::OnnxModel, String> {
    let model = onnx::read(path).map_err(|why| format!("{}: {why}", path.display()))?;
    let dynamic: Vec<String> = model
        .inputs
        .iter()
        .chain(&model.outputs)
        .filter(|t| t.dims.is_empty() || t.dims.iter().any(Option::is_none))
        .map(|t| format!("{} {}", t.name, shape(&t.dims)))
        .collect();
    if !dynamic.is_empty() {
        return Err(format!(
            "{}: dynamic or missing dims in {}; export with static shapes (no dynamic_axes), as the Hailo DFC requires",
            path.display(),
            dynamic.join(", ")
        ));
    }
    Ok(model)
}

fn shape(dims: &[Option<u64>]) -> String {
    let dims: Vec<String> = dims
        .iter()
        .map(|d| d.map_or("?".to_owned(), |v| v.to_string()))
        .collect();
    format!("[{}]", dims.join(", "))
}

type Rules<'w> = (&'w str, &'w crate::core::config::TargetRules);

/// What `check-onnx --model/--target` checks against: the model's declared
/// interface and the rules of a target.
fn check_onnx_against<'w>(
    ws: &'w Workspace,
    model: Option<&str>,
    target: Option<&str>,
) -> Result<(Option<&'w crate::core::config::OnnxSpec>, Option<Rules<'w>>)> {
    let model = match model {
        Some(name) => Some(
            ws.release
                .models
                .iter()
                .find(|m| m.name == name)
                .with_context(|| {
                    format!("no model {name} in [workspace.metadata.release.models]")
                })?,
        ),
        None => None,
    };
    let rules = match target {
        Some(target) => Some(
            ws.release
                .targets
                .get_key_value(target)
                .map(|(k, v)| (k.as_str(), v))
                .with_context(|| {
                    format!(
                        "no [workspace.metadata.release.targets.{target}] in Cargo.toml (configured: {})",
                        ws.release.targets.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                })?,
        ),
        None => model.and_then(|m| target_rules(ws, m)),
    };
    let spec = model.and_then(|m| m.onnx.as_ref());
    if let (Some(m), None, None) = (model, spec, rules) {
        bail!(
            "model {} declares no `onnx` table (inputs, outputs, opsets) in Cargo.toml and compiles for no configured target",
            m.name
        );
    }
    Ok((spec, rules))
}

/// `models check-onnx`: the facts of each file, every problem at once.
fn check_onnx(
    files: &[PathBuf],
    spec: Option<&crate::core::config::OnnxSpec>,
    rules: Option<Rules>,
    json: bool,
) -> Result<()> {
    let mut problems = Vec::new();
    let mut facts = Vec::new();
    for file in files {
        let before = problems.len();
        problems.extend(onnx_problems(file).err());
        let Ok(model) = onnx::read(file) else {
            continue;
        };
        if let Some(spec) = spec {
            problems.extend(against_spec(file, &model, spec));
        }
        if let Some((target, rules)) = rules {
            problems.extend(against_target(file, &model, target, rules));
        }
        if json {
            let ok = problems.len() == before;
            facts.push(serde_json::json!({ "file": file, "model": model, "ok": ok }));
            continue;
        }
        let mut ops: Vec<(String, usize)> = Vec::new();
        for op in &model.ops {
            match ops.iter_mut().find(|(o, _)| o == op) {
                Some((_, n)) => *n += 1,
                None => ops.push((op.clone(), 1)),
            }
        }
        let tensors = |ts: &[onnx::Tensor]| {
            ts.iter()
                .map(|t| format!("{} {}", t.name, shape(&t.dims)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        say!(
            "{}: ONNX IR {}, opset {}, input {}, output {}; ops {}",
            file.display(),
            model.ir_version,
            model.opset().map_or("?".to_owned(), |v| v.to_string()),
            tensors(&model.inputs),
            tensors(&model.outputs),
            ops.iter()
                .map(|(o, n)| format!("{o} x{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if json {
        say!("{}", serde_json::to_string_pretty(&facts)?);
    }
    match problems.as_slice() {
        [] => Ok(()),
        [one] => bail!("{one}"),
        many => bail!(
            "{} files fail the ONNX check:\n{}",
            many.len(),
            crate::core::report::bullets(many)
        ),
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

/// The files of a model's newest metadata directory, which a release ships
/// beside its assets, sorted.
pub fn metadata_files(workspace: &Workspace, model: &Model) -> Result<Vec<PathBuf>> {
    let dir = newest_version_dir(&workspace.root.join(&model.metadata))?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
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
        let read = metadata::read(&workspace.root, model, path, &version.to_string(), problems);
        metadata::check(model, &read, problems);
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
        if let Some(newest) = &newest {
            metadata::check_asset_name(asset, newest, model.accuracy_in_name, problems);
        }
        if asset.extension().is_some_and(|e| e == "hef") {
            if let Err(why) = hef::inspect(asset) {
                problems.push(format!("{}: {why}", asset.display()));
            }
        }
        if asset.extension().is_some_and(|e| e == "onnx") {
            match onnx_problems(asset) {
                Err(problem) => problems.push(problem),
                Ok(read) => {
                    if let Some(spec) = &model.onnx {
                        problems.extend(against_spec(asset, &read, spec));
                    }
                    if let Some((target, rules)) = target_rules(workspace, model) {
                        problems.extend(against_target(asset, &read, target, rules));
                    }
                }
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
