//! A release across machines (docs/DISTRIBUTED.md): `release plan` once,
//! `release build --part` where each part's tools live (the DFC box, an arm
//! runner), `release publish` from one place, every part checked against
//! the plan before anything is published.
//!
//! The plan file holds the fixed plan, the release commit the parts are
//! built from (made and pushed with its tag by `release plan --execute`),
//! the parts and where each may build, and a hash over all of it. A part's
//! directory holds its files and `part.json`: the plan's hash, the commit,
//! the tools' versions, the sha256 of its inputs and outputs. Publish starts
//! from what the world holds (the tag on origin; the GitHub release, the
//! index and the registry are asked by the steps), so a fresh machine with
//! no journal finishes what a killed one started.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};
use serde_json::{json, Value};

use super::journal::{Journal, Lock, Status};
use super::plan::{Plan, StepName};
use super::Release;
use crate::checksums::{hex, sha256_files};
use crate::core::config::Workspace;
use crate::core::runner::Runner;
use crate::tools::git::Git;
use crate::version::pep440::PreKind;

/// A part's record beside its files.
pub const PART_MANIFEST: &str = "part.json";

/// A release across machines: plan once, build parts, publish.
#[derive(Debug)]
pub enum Split {
    Plan(PlanArgs),
    Build(BuildArgs),
    Publish(PublishArgs),
    Matrix(MatrixArgs),
}

#[derive(Debug)]
pub struct PlanArgs {
    target: Option<String>,
    pre: Option<PreKind>,
    out: PathBuf,
    execute: bool,
    skip_tests: bool,
    sign_key: Option<String>,
    skip: Vec<StepName>,
}

impl PlanArgs {
    fn args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new("target")
                .value_name("TARGET")
                .help("As for `release`: a level, `auto` (the default) or an explicit version"),
        )
        .arg(super::pre_arg())
        .arg(
            Arg::new("out")
                .long("out")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .required(true)
                .help("Where to write the plan"),
        )
        .arg(crate::cli::execute_flag(
            "Make and push the release commit and tag the parts are built from",
        ))
        .arg(
            Arg::new("skip-tests")
                .long("skip-tests")
                .action(ArgAction::SetTrue)
                .help("Do not run the project's tests first (said loudly)"),
        )
        .arg(super::sign_key_arg())
        .arg(super::skip_arg())
    }

    fn from_matches(matches: &ArgMatches) -> PlanArgs {
        PlanArgs {
            target: matches.get_one::<String>("target").cloned(),
            pre: matches.get_one::<PreKind>("pre").copied(),
            out: crate::cli::required(matches, "out"),
            execute: matches.get_flag("execute"),
            skip_tests: matches.get_flag("skip-tests"),
            sign_key: matches.get_one::<String>("sign-key").cloned(),
            skip: matches
                .get_many::<StepName>("skip")
                .map(|steps| steps.copied().collect())
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug)]
pub struct BuildArgs {
    plan: PathBuf,
    part: String,
    out: PathBuf,
    with: Vec<PathBuf>,
}

impl BuildArgs {
    fn args(cmd: Command) -> Command {
        cmd.arg(plan_arg())
            .arg(
                Arg::new("part")
                    .long("part")
                    .value_name("ID")
                    .required(true)
                    .help("The part to build, as the plan names it (`release matrix` lists them)"),
            )
            .arg(
                Arg::new("out")
                    .long("out")
                    .value_name("DIR")
                    .value_parser(value_parser!(PathBuf))
                    .required(true)
                    .help("Where its files and part.json go (emptied first)"),
            )
            .arg(
                Arg::new("with")
                    .long("with")
                    .value_name("DIR")
                    .value_parser(value_parser!(PathBuf))
                    .action(ArgAction::Append)
                    .help("A built part this one starts from: the `onnx:` part of a `hef:` part"),
            )
    }

    fn from_matches(matches: &ArgMatches) -> BuildArgs {
        BuildArgs {
            plan: crate::cli::required(matches, "plan"),
            part: crate::cli::required(matches, "part"),
            out: crate::cli::required(matches, "out"),
            with: crate::cli::all(matches, "with"),
        }
    }
}

#[derive(Debug)]
pub struct PublishArgs {
    plan: PathBuf,
    parts: Vec<PathBuf>,
    execute: bool,
}

impl PublishArgs {
    fn args(cmd: Command) -> Command {
        cmd.arg(plan_arg())
            .arg(
                Arg::new("parts")
                    .long("parts")
                    .value_name("DIR")
                    .value_parser(value_parser!(PathBuf))
                    .num_args(1..)
                    .action(ArgAction::Append)
                    .required(true)
                    .help(
                        "Directories holding the parts: each, or each of its subdirectories (as \
                     `actions/download-artifact` lays them out), with a part.json",
                    ),
            )
            .arg(crate::cli::execute_flag(
                "Publish; without it, check the parts and print what would run",
            ))
    }

    fn from_matches(matches: &ArgMatches) -> PublishArgs {
        PublishArgs {
            plan: crate::cli::required(matches, "plan"),
            parts: crate::cli::all(matches, "parts"),
            execute: matches.get_flag("execute"),
        }
    }
}

#[derive(Debug)]
pub struct MatrixArgs {
    plan: PathBuf,
    after: bool,
}

impl MatrixArgs {
    fn args(cmd: Command) -> Command {
        cmd.arg(plan_arg()).arg(
            Arg::new("after")
                .long("after")
                .action(ArgAction::SetTrue)
                .help("The parts that start from other parts (`--with`), built after them"),
        )
    }

    fn from_matches(matches: &ArgMatches) -> MatrixArgs {
        MatrixArgs {
            plan: crate::cli::required(matches, "plan"),
            after: matches.get_flag("after"),
        }
    }
}

/// The plan as a file: what every machine of the release works from.
#[derive(Clone, Debug)]
pub struct PlanFile {
    pub format: u32,
    /// `sha256:` over everything else in the file, as canonical JSON.
    pub hash: String,
    /// The commit the parts are built from: the release commit, on origin
    /// with its tag. `None` for a dry-run plan.
    pub release_commit: Option<String>,
    /// The arguments the release was planned with, for the provenance.
    pub arguments: Vec<String>,
    pub plan: Plan,
    pub parts: Vec<Part>,
}

record!(read write: PlanFile (Same) {
    format,
    hash,
    release_commit,
    arguments,
    plan,
    parts,
});

/// One thing built on one machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// `python:<dist>`, `onnx:<model>`, `hef:<model>:<hw-arch>`,
    /// `image:<name>:<platform>`.
    pub id: String,
    /// The runner labels it builds on (`runners` in the config).
    pub runs_on: Vec<String>,
    /// The parts it starts from (`release build --with`).
    pub needs: Vec<String>,
}

record!(read write: Part (Same) {
    id,
    runs_on,
    needs = Default::default(),
});

/// What a part's machine says it built, beside the files.
#[derive(Clone, Debug, PartialEq)]
pub struct PartManifest {
    pub part: String,
    pub plan_hash: String,
    pub commit: String,
    /// Tool -> version, as the tools said.
    pub tools: BTreeMap<String, String>,
    /// What it was built from: path -> sha256.
    pub inputs: BTreeMap<String, String>,
    /// Its files: name -> sha256.
    pub outputs: BTreeMap<String, String>,
    /// An ONNX export's parity record.
    pub parity: Value,
    /// An image part: the platform's digest in the registry.
    pub digest: Option<String>,
}

record!(read write: PartManifest (Same) {
    part,
    plan_hash,
    commit,
    tools,
    inputs,
    outputs,
    parity = Default::default() ; skip_if Value::is_null,
    digest = Default::default() ; skip_if Option::is_none,
});

/// What publish works from, kept in the journal.
#[derive(Clone, Debug, Default)]
pub struct SplitState {
    pub plan_hash: String,
    /// Each gathered part: where its files are and what it says of them.
    pub parts: BTreeMap<String, Gathered>,
}

record!(read write: SplitState (Same) {
    plan_hash,
    parts,
});

#[derive(Clone, Debug)]
pub struct Gathered {
    pub dir: PathBuf,
    pub manifest: PartManifest,
}

record!(read write: Gathered (Same) {
    dir,
    manifest,
});

impl SplitState {
    /// The gathered part `id`, if publish has it.
    pub fn part(&self, id: &str) -> Option<&Gathered> {
        self.parts.get(id)
    }

    /// The per-platform digests of `image`, as its parts pushed them.
    pub fn image_digests(&self, image: &str) -> Vec<String> {
        self.parts
            .iter()
            .filter(|(id, _)| image_of(id).is_some_and(|(name, _)| name == image))
            .filter_map(|(_, g)| g.manifest.digest.clone())
            .collect()
    }

    /// Copies a gathered part's files (not its part.json) into `dir`.
    pub fn copy_into(&self, id: &str, dir: &Path) -> Result<Vec<String>> {
        let gathered = self
            .part(id)
            .with_context(|| format!("part {id} was not gathered"))?;
        let mut names = Vec::new();
        for name in gathered.manifest.outputs.keys() {
            let from = gathered.dir.join(name);
            std::fs::copy(&from, dir.join(name))
                .with_context(|| format!("copying {} into {}", from.display(), dir.display()))?;
            names.push(name.clone());
        }
        // As checked when gathered, still: a file changed since is refused.
        for (name, sha) in hashes(dir, &names)? {
            if gathered.manifest.outputs[&name] != sha {
                bail!(
                    "{}: changed after part {id} was checked (sha256 {sha}, recorded {})",
                    gathered.dir.join(&name).display(),
                    gathered.manifest.outputs[&name]
                );
            }
        }
        Ok(names)
    }
}

/// `image:<name>:<platform>` -> (name, platform); a registry port's `:`
/// stays in the name.
fn image_of(id: &str) -> Option<(&str, &str)> {
    id.strip_prefix("image:")?.rsplit_once(':')
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes).into())
}

impl PlanFile {
    fn content_hash(&self) -> Result<String> {
        // Through `Value`: its maps are sorted, so the text is canonical.
        let content = json!({
            "format": self.format,
            "release_commit": self.release_commit,
            "arguments": self.arguments,
            "plan": serde_json::to_value(&self.plan)?,
            "parts": serde_json::to_value(&self.parts)?,
        });
        Ok(format!(
            "sha256:{}",
            sha256_hex(&serde_json::to_vec(&content)?)
        ))
    }

    pub fn load(path: &Path) -> Result<PlanFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the plan {}", path.display()))?;
        let file: PlanFile = crate::core::record::from_str(&text).with_context(|| {
            format!(
                "{}: not a release plan (`cargo xtask release plan --out FILE` writes one)",
                path.display()
            )
        })?;
        let hash = file.content_hash()?;
        if hash != file.hash {
            bail!(
                "{}: its content does not match its hash ({} recorded, {hash} now): the plan was changed \
                 after it was made; plan again",
                path.display(),
                file.hash
            );
        }
        Ok(file)
    }

    /// The plan on this machine: its release directory under this
    /// checkout's `target/`, not the planning machine's.
    fn here(mut self, ws: &Workspace) -> Result<PlanFile> {
        let version = semver::Version::parse(&self.plan.version)?;
        self.plan.dist = crate::core::dist::Dist::of(&ws.root, &version)
            .dir()
            .to_owned();
        Ok(self)
    }

    fn commit(&self, path: &Path) -> Result<&str> {
        self.release_commit.as_deref().with_context(|| {
            format!(
                "{}: a dry-run plan names no release commit to build from; `cargo xtask release plan --execute` \
                 makes and pushes it",
                path.display()
            )
        })
    }

    fn part(&self, id: &str, path: &Path) -> Result<&Part> {
        self.parts.iter().find(|p| p.id == id).with_context(|| {
            format!(
                "{} has no part {id}; its parts: {}",
                path.display(),
                self.parts
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

/// The parts of `plan`: each Python package, each exported ONNX, each HEF,
/// each image platform (unless the plan skips docker).
pub fn parts(ws: &Workspace, plan: &Plan) -> Result<Vec<Part>> {
    let release = &ws.release;
    let mut parts = Vec::new();
    for package in crate::python::packages(ws)? {
        parts.push(Part {
            id: format!("python:{}", package.name),
            runs_on: release.runner_for("python"),
            needs: Vec::new(),
        });
    }
    for model in &release.models {
        let onnx = format!("onnx:{}", model.name);
        let exported = crate::steps::exported_weights(ws, model).is_some();
        if exported {
            parts.push(Part {
                id: onnx.clone(),
                runs_on: release.runner_for("onnx"),
                needs: Vec::new(),
            });
        }
        if let Some(hef) = &model.hef {
            parts.push(Part {
                id: format!("hef:{}:{}", model.name, hef.hw_arch.as_str()),
                runs_on: release.runner_for("hef"),
                needs: exported.then_some(onnx).into_iter().collect(),
            });
        }
    }
    if !plan.step(StepName::Docker).skipped {
        // An image built from the staged release (its wheel, its models)
        // needs every other part: it is built at publish, from them.
        for image in release
            .docker
            .iter()
            .filter(|i| !from_staged_release(ws, plan, i))
        {
            for platform in &image.platforms {
                parts.push(Part {
                    id: format!("image:{}:{platform}", image.name),
                    runs_on: release.runner_for(platform),
                    needs: Vec::new(),
                });
            }
        }
    }
    Ok(parts)
}

/// Whether `image` builds from the release directory (`target/dist/v{version}`).
pub fn from_staged_release(
    ws: &Workspace,
    plan: &Plan,
    image: &crate::core::config::DockerImage,
) -> bool {
    let context = image.context.replace("{version}", &plan.version);
    let dist = crate::core::dist::Dist::of(&ws.root, &plan.version);
    ws.root.join(context).starts_with(dist.dir())
}

impl Split {
    /// `release`'s subcommands.
    pub fn args(cmd: Command) -> Command {
        cmd.subcommand(PlanArgs::args(Command::new("plan")).about(
            "Plan once: preflight, then (with --execute) the release commit and tag made and \
             pushed; writes the plan with the parts to build",
        ))
        .subcommand(
            BuildArgs::args(Command::new("build"))
                .about("Build one part of a plan on this machine, at the release commit"),
        )
        .subcommand(PublishArgs::args(Command::new("publish")).about(
            "Check every part against the plan, then stage, verify and publish (dry run unless \
             --execute); run again to finish a stopped publish",
        ))
        .subcommand(
            MatrixArgs::args(Command::new("matrix"))
                .about("The plan's parts as a GitHub Actions matrix, one line of JSON"),
        )
    }

    /// The subcommand `matches` holds.
    pub fn from_matches(matches: &ArgMatches) -> Split {
        match matches.subcommand() {
            Some(("plan", args)) => Split::Plan(PlanArgs::from_matches(args)),
            Some(("build", args)) => Split::Build(BuildArgs::from_matches(args)),
            Some(("publish", args)) => Split::Publish(PublishArgs::from_matches(args)),
            Some(("matrix", args)) => Split::Matrix(MatrixArgs::from_matches(args)),
            other => unreachable!("{other:?}: not a subcommand of Split::args"),
        }
    }

    pub fn run(self) -> Result<()> {
        match self {
            Split::Plan(args) => plan(args),
            Split::Build(args) => build(args),
            Split::Publish(args) => publish(args),
            Split::Matrix(args) => matrix(args),
        }
    }
}

/// A `release` of `target` that runs the plan machine's steps.
fn plan(args: PlanArgs) -> Result<()> {
    let release = Release {
        target: args.target,
        pre: args.pre,
        execute: args.execute,
        resume: false,
        skip: args.skip,
        only: None,
        json: false,
        skip_tests: args.skip_tests,
        sign_key: args.sign_key,
        split: None,
        stages: Some(&[StepName::Preflight, StepName::Prepare, StepName::Push]),
    };
    let workspace = Workspace::discover()?;
    let runner = Runner::new(!release.execute);
    let _lock = Lock::acquire(&workspace.root, false)?;
    let existing = Journal::load(&workspace.root)?;
    let Some((mut journal, edits)) = release.journal(&workspace, existing, &runner)? else {
        return Ok(());
    };
    journal.split = Some(SplitState::default());
    let parts = parts(&workspace, &journal.plan)?;
    say!(
        "plan {} -> {} (tag {}): {} part{} to build elsewhere",
        journal.plan.current_version,
        journal.plan.version,
        journal.plan.tag,
        parts.len(),
        if parts.len() == 1 { "" } else { "s" }
    );
    release.run_steps(&workspace, &mut journal, &edits, &runner)?;
    let release_commit = match release.execute {
        true => Some(
            journal
                .steps
                .get(&StepName::Prepare)
                .and_then(|r| r.outputs["commit"].as_str())
                .context("prepare recorded no release commit")?
                .to_owned(),
        ),
        false => None,
    };
    let mut file = PlanFile {
        format: 1,
        hash: String::new(),
        release_commit,
        arguments: journal.arguments.clone(),
        plan: journal.plan.clone(),
        parts,
    };
    file.hash = file.content_hash()?;
    // This machine's journal names the plan too, so `release publish` here
    // continues it rather than refusing it as another release.
    if release.execute {
        journal.split = Some(SplitState {
            plan_hash: file.hash.clone(),
            parts: BTreeMap::new(),
        });
        journal.save()?;
    }
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::core::atomic::write_all(&[(args.out.clone(), serde_json::to_vec_pretty(&file)?)])?;
    for part in &file.parts {
        say!(
            "  {:<40} on {}{}",
            part.id,
            part.runs_on.join(", "),
            if part.needs.is_empty() {
                String::new()
            } else {
                format!(" (--with {})", part.needs.join(", "))
            }
        );
    }
    match &file.release_commit {
        Some(commit) => say!(
            "wrote {} ({}); build each part at {commit} with `cargo xtask release build --plan {} --part ID --out DIR`",
            args.out.display(),
            file.hash,
            args.out.display()
        ),
        None => say!(
            "dry run: wrote {} without a release commit; `release plan --execute` makes and pushes it, then the parts can be built",
            args.out.display()
        ),
    }
    Ok(())
}

fn matrix(args: MatrixArgs) -> Result<()> {
    let file = PlanFile::load(&args.plan)?;
    let include: Vec<Value> = file
        .parts
        .iter()
        .filter(|p| p.needs.is_empty() != args.after)
        .map(|p| {
            json!({
                "part": p.id,
                "runs-on": p.runs_on,
                "artifact": artifact_name(&p.id),
                "with": p.needs.iter().map(|n| artifact_name(n)).collect::<Vec<_>>(),
            })
        })
        .collect();
    say!("{}", json!({ "include": include }));
    Ok(())
}

/// A part's artifact name: its id with `:` and `/` made `-`.
pub fn artifact_name(id: &str) -> String {
    format!("part-{}", id.replace([':', '/', '@'], "-"))
}

/// HEAD must be the release commit, with nothing changed.
fn at_release_commit(ws: &Workspace, commit: &str, tag: &str, runner: &Runner) -> Result<()> {
    let git = Git::at(&ws.root);
    let head = runner.read(&git.resolve("HEAD"))?.trim().to_owned();
    if head != commit {
        bail!(
            "this checkout is at {head}, but the plan's parts are built from the release commit {commit} \
             (tag {tag}); check it out: `git fetch origin tag {tag} && git checkout {commit}`"
        );
    }
    if let Some(problem) = crate::steps::preflight::uncommitted(&git, runner)? {
        bail!("{problem}");
    }
    Ok(())
}

fn build(args: BuildArgs) -> Result<()> {
    let ws = Workspace::discover()?;
    let file = PlanFile::load(&args.plan)?.here(&ws)?;
    let runner = Runner::new(false);
    let commit = file.commit(&args.plan)?.to_owned();
    at_release_commit(&ws, &commit, &file.plan.tag, &runner)?;
    let part = file.part(&args.part, &args.plan)?.clone();
    if args.out.exists() {
        // Emptied only when it is an earlier part's directory, or empty.
        let earlier = args.out.join(PART_MANIFEST).is_file();
        let empty = std::fs::read_dir(&args.out)
            .with_context(|| format!("reading {}", args.out.display()))?
            .next()
            .is_none();
        if !(earlier || empty) {
            bail!(
                "{}: not empty and not a part's directory (no {PART_MANIFEST}); name a new directory with --out",
                args.out.display()
            );
        }
        std::fs::remove_dir_all(&args.out)
            .with_context(|| format!("emptying {}", args.out.display()))?;
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let out = std::fs::canonicalize(&args.out)?;
    let mut manifest = PartManifest {
        part: part.id.clone(),
        plan_hash: file.hash.clone(),
        commit: commit.clone(),
        tools: BTreeMap::new(),
        inputs: BTreeMap::new(),
        outputs: BTreeMap::new(),
        parity: Value::Null,
        digest: None,
    };
    let (kind, rest) = part.id.split_once(':').unwrap_or((part.id.as_str(), ""));
    match kind {
        "python" => build_python(&ws, &file, rest, &out, &mut manifest, &runner)?,
        "onnx" => build_onnx(&ws, rest, &out, &mut manifest, &runner)?,
        "hef" => build_hef(&ws, &file, &part, &args.with, &out, &mut manifest)?,
        "image" => build_image(&ws, &file, &part.id, &commit, &mut manifest, &runner)?,
        _ => bail!(
            "{}: part {} is of no kind this xtask builds",
            args.plan.display(),
            part.id
        ),
    }
    let names: Vec<String> = std::fs::read_dir(&out)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != PART_MANIFEST)
        .collect();
    manifest.outputs = hashes(&out, &names)?;
    crate::core::atomic::write_all(&[(
        out.join(PART_MANIFEST),
        serde_json::to_vec_pretty(&manifest)?,
    )])?;
    say!(
        "built {} at {} into {}: {}",
        part.id,
        &commit[..commit.len().min(7)],
        args.out.display(),
        match (&manifest.digest, names.is_empty()) {
            (Some(digest), _) => format!("pushed by digest {digest}"),
            (None, true) => "no files".to_owned(),
            (None, false) => {
                let mut names = names;
                names.sort();
                names.join(", ")
            }
        }
    );
    Ok(())
}

/// name -> sha256 of each of `names` in `dir`.
fn hashes(dir: &Path, names: &[String]) -> Result<BTreeMap<String, String>> {
    let paths: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    names
        .iter()
        .zip(sha256_files(&paths))
        .map(|(name, digest)| {
            let digest = digest.with_context(|| format!("hashing {}", dir.join(name).display()))?;
            Ok((name.clone(), hex(&digest)))
        })
        .collect()
}

fn tool_version(manifest: &mut PartManifest, name: &str, said: Result<String>) {
    if let Some(line) = said
        .ok()
        .and_then(|s| s.lines().next().map(|l| l.trim().to_owned()))
    {
        manifest.tools.insert(name.to_owned(), line);
    }
}

fn build_python(
    ws: &Workspace,
    file: &PlanFile,
    name: &str,
    out: &Path,
    manifest: &mut PartManifest,
    runner: &Runner,
) -> Result<()> {
    crate::python::venv::packaging_tools(&ws.root, runner)?;
    let packages = crate::python::packages(ws)?;
    let package = packages
        .iter()
        .find(|p| p.name == name)
        .with_context(|| format!("no Python package {name} in this checkout's config"))?;
    let pep440 = file.plan.pep440_version.clone().unwrap_or_default();
    let source =
        crate::steps::package_source(ws, &package.config.path, &file.plan.version, runner)?;
    crate::python::build_staged(
        ws,
        package,
        &source,
        &crate::core::dist::Dist::at(out),
        &pep440,
        runner,
    )?;
    tool_version(
        manifest,
        "python",
        runner.read(&crate::tools::python::version()),
    );
    Ok(())
}

fn model<'w>(ws: &'w Workspace, name: &str) -> Result<&'w crate::core::config::Model> {
    ws.release
        .models
        .iter()
        .find(|m| m.name == name)
        .with_context(|| format!("no model {name} in this checkout's config"))
}

fn build_onnx(
    ws: &Workspace,
    name: &str,
    out: &Path,
    manifest: &mut PartManifest,
    runner: &Runner,
) -> Result<()> {
    let model = model(ws, name)?;
    let weights = crate::steps::exported_weights(ws, model)
        .filter(|w| w.is_file())
        .with_context(|| {
            format!("model {name}: no trained weights (.pth among its assets) to export from")
        })?;
    let parity = crate::model::onnx_export::stage(ws, model, &weights, out, runner)?;
    manifest.parity = parity.unwrap_or(Value::Null);
    let rel = weights.strip_prefix(&ws.root).unwrap_or(&weights);
    manifest.inputs.insert(
        rel.display().to_string(),
        hashes(
            weights.parent().unwrap_or(&ws.root),
            &[crate::core::dist::name_of(&weights)],
        )?
        .into_values()
        .next()
        .unwrap_or_default(),
    );
    tool_version(
        manifest,
        "python",
        runner.read(&crate::tools::python::version()),
    );
    Ok(())
}

/// Verifies a part directory against the plan: its manifest, the plan's
/// hash, the commit and every file's sha256.
fn checked(dir: &Path, file: &PlanFile) -> Result<PartManifest> {
    let path = dir.join(PART_MANIFEST);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: PartManifest = crate::core::record::from_str(&text)
        .with_context(|| format!("{}: not a part manifest", path.display()))?;
    if manifest.plan_hash != file.hash {
        bail!(
            "{}: part {} was built for another plan ({}), not this one ({})",
            path.display(),
            manifest.part,
            manifest.plan_hash,
            file.hash
        );
    }
    if Some(&manifest.commit) != file.release_commit.as_ref() {
        bail!(
            "{}: part {} was built at {}, not at the release commit {}",
            path.display(),
            manifest.part,
            manifest.commit,
            file.release_commit.as_deref().unwrap_or("(none)")
        );
    }
    let names: Vec<String> = manifest.outputs.keys().cloned().collect();
    for name in &names {
        // A file of this directory, by a release asset's flat name: never a
        // path out of it, never the manifest itself.
        let plain = Path::new(name).components().count() == 1
            && matches!(
                Path::new(name).components().next(),
                Some(std::path::Component::Normal(_))
            );
        if !plain || name == PART_MANIFEST {
            bail!(
                "{}: part {} lists {name:?}, which is not a plain file name of its directory",
                path.display(),
                manifest.part
            );
        }
        if !dir.join(name).is_file() {
            bail!(
                "{}: part {} lists {name}, which is not there",
                dir.display(),
                manifest.part
            );
        }
    }
    if manifest.part.starts_with("image:") {
        let digest = manifest.digest.as_deref().unwrap_or_default();
        if crate::core::config::sha256_hex(digest).is_none() || !digest.starts_with("sha256:") {
            bail!(
                "{}: image part {} records no digest `sha256:<64 hex>` (found {digest:?})",
                path.display(),
                manifest.part
            );
        }
    }
    for (name, sha) in hashes(dir, &names)? {
        if manifest.outputs[&name] != sha {
            bail!(
                "{}: sha256 {sha}, but part {} recorded {}: the file changed after it was built",
                dir.join(&name).display(),
                manifest.part,
                manifest.outputs[&name]
            );
        }
    }
    Ok(manifest)
}

fn build_hef(
    ws: &Workspace,
    file: &PlanFile,
    part: &Part,
    with: &[PathBuf],
    out: &Path,
    manifest: &mut PartManifest,
) -> Result<()> {
    let mut ids = part.id.splitn(3, ':').skip(1);
    let name = ids.next().unwrap_or_default();
    let model = model(ws, name)?;
    let scratch = ws
        .root
        .join(format!("target/xtask-release/part-hef/{name}"));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;
    let onnx_name = format!("{name}.onnx");
    let calib_name = format!("{name}.calib.npy");
    match part.needs.first() {
        Some(needed) => {
            let (dir, from) = with
                .iter()
                .find_map(|d| {
                    checked(d, file)
                        .ok()
                        .filter(|m| &m.part == needed)
                        .map(|m| (d, m))
                })
                .with_context(|| {
                    format!(
                        "{} starts from part {needed}: pass its directory with --with DIR (as `release build` wrote it)",
                        part.id
                    )
                })?;
            // The ONNX, its calibration set and its export report (the end
            // nodes the DFC needs), as that part built them.
            for n in from.outputs.keys() {
                std::fs::copy(dir.join(n), scratch.join(n))
                    .with_context(|| format!("copying {n} of part {needed}"))?;
            }
            for n in [&onnx_name, &calib_name] {
                if !scratch.join(n).is_file() {
                    bail!("{}: part {needed} has no {n}", dir.display());
                }
            }
        }
        None => {
            // The model's own ONNX and calibration set, from its assets.
            for n in [&onnx_name, &calib_name] {
                let asset = model
                    .assets
                    .iter()
                    .find(|a| a.ends_with(n.as_str()))
                    .with_context(|| {
                        format!("model {name}: no {n} among its assets to compile the HEF from")
                    })?;
                std::fs::copy(ws.root.join(asset), scratch.join(n))?;
            }
        }
    }
    manifest.inputs = hashes(&scratch, &[onnx_name.clone(), calib_name.clone()])?;
    crate::model::hef_compile::HefCompile::defaults_for(name).compile_into(ws, &scratch)?;
    let compiled = [format!("{name}.hef"), format!("{name}.hef.json")];
    for n in &compiled {
        std::fs::rename(scratch.join(n), out.join(n))
            .with_context(|| format!("moving {n} out of {}", scratch.display()))?;
    }
    let record: Value = serde_json::from_str(&std::fs::read_to_string(out.join(&compiled[1]))?)?;
    for (tool, key) in [("hailo-dfc", "dfc_version"), ("hailort", "hailort_version")] {
        if let Some(v) = record[key].as_str() {
            manifest.tools.insert(tool.to_owned(), v.to_owned());
        }
    }
    std::fs::remove_dir_all(&scratch).ok();
    Ok(())
}

fn build_image(
    ws: &Workspace,
    file: &PlanFile,
    id: &str,
    commit: &str,
    manifest: &mut PartManifest,
    runner: &Runner,
) -> Result<()> {
    let (name, platform) =
        image_of(id).with_context(|| format!("{id}: not image:<name>:<platform>"))?;
    let image = ws
        .release
        .docker
        .iter()
        .find(|d| d.name == name)
        .with_context(|| format!("no image {name} in this checkout's config"))?;
    let version = semver::Version::parse(&file.plan.version)?;
    let created = runner
        .read(&Git::at(&ws.root).commit_date(commit))?
        .trim()
        .to_owned();
    let source = crate::docker::Source {
        version,
        revision: commit.to_owned(),
        created,
        buildx: crate::docker::Source::buildx(runner)?,
    };
    let tags = file
        .plan
        .images
        .iter()
        .find(|i| i.name == name)
        .map(|i| i.tags.clone())
        .unwrap_or_default();
    let plan = crate::docker::Plan::new(ws, image, &source, tags);
    let digest = crate::docker::push_platform(&plan, platform, runner)?;
    manifest.digest = Some(digest);
    tool_version(
        manifest,
        "buildx",
        runner.read(&crate::tools::docker::buildx_version()),
    );
    Ok(())
}

/// Every part of the plan from `dirs`, each checked; a missing, stale or
/// tampered part is refused, naming it and where it builds. A HEF must have
/// been compiled from the ONNX the release ships.
fn gather(
    file: &PlanFile,
    plan_path: &Path,
    dirs: &[PathBuf],
    ws: &Workspace,
) -> Result<SplitState> {
    let mut found: BTreeMap<String, Gathered> = BTreeMap::new();
    let mut candidates = Vec::new();
    for dir in dirs {
        if dir.join(PART_MANIFEST).is_file() {
            candidates.push(dir.clone());
        } else if dir.is_dir() {
            let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join(PART_MANIFEST).is_file())
                .collect();
            subdirs.sort();
            candidates.extend(subdirs);
        } else {
            bail!("{}: no such directory of parts", dir.display());
        }
    }
    let mut problems = Vec::new();
    for dir in candidates {
        match checked(&dir, file) {
            Ok(manifest) => {
                if file.parts.iter().all(|p| p.id != manifest.part) {
                    problems.push(format!(
                        "{}: part {} is not in the plan",
                        dir.display(),
                        manifest.part
                    ));
                } else if let Some(twin) = found.get(&manifest.part) {
                    problems.push(format!(
                        "part {} is in both {} and {}",
                        manifest.part,
                        twin.dir.display(),
                        dir.display()
                    ));
                } else {
                    let dir = std::fs::canonicalize(&dir)?;
                    found.insert(manifest.part.clone(), Gathered { dir, manifest });
                }
            }
            Err(err) => problems.push(format!("{err:#}")),
        }
    }
    for part in &file.parts {
        if !found.contains_key(&part.id) {
            problems.push(format!(
                "part {} is missing: build it on a machine labelled {} with `cargo xtask release build --plan {} --part {} --out DIR`",
                part.id,
                part.runs_on.join(", "),
                plan_path.display(),
                part.id
            ));
        }
    }
    // A HEF names the ONNX it was compiled from: the one the release ships.
    for (id, gathered) in &found {
        let Some(rest) = id.strip_prefix("hef:") else {
            continue;
        };
        let name = rest.split(':').next().unwrap_or_default();
        let record_path = gathered.dir.join(format!("{name}.hef.json"));
        let record: Value = std::fs::read_to_string(&record_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let compiled_from = record["onnx"]["sha256"].as_str().unwrap_or_default();
        let onnx_name = format!("{name}.onnx");
        let shipped = match found.get(&format!("onnx:{name}")) {
            Some(onnx) => onnx.manifest.outputs.get(&onnx_name).cloned(),
            None => ws
                .release
                .models
                .iter()
                .find(|m| m.name == name)
                .and_then(|m| m.assets.iter().find(|a| a.ends_with(&onnx_name)))
                .and_then(|a| hashes(&ws.root, std::slice::from_ref(a)).ok())
                .and_then(|h| h.into_values().next()),
        };
        match shipped {
            _ if compiled_from.is_empty() => problems.push(format!(
                "{}: part {id} carries no compile manifest naming its ONNX; build it with `release build`",
                gathered.dir.display()
            )),
            Some(sha) if sha == compiled_from => {}
            Some(sha) => problems.push(format!(
                "part {id} was compiled from an ONNX with sha256 {compiled_from}, but the release ships {onnx_name} \
                 with {sha}; build the HEF from the shipped ONNX (`release build --part {id} --with DIR`)"
            )),
            None => problems.push(format!(
                "part {id}: the release ships no {onnx_name} to check its HEF against"
            )),
        }
    }
    if !problems.is_empty() {
        bail!(
            "the parts do not make this plan's release; nothing was published:\n{}",
            crate::core::report::bullets(&problems)
        );
    }
    Ok(SplitState {
        plan_hash: file.hash.clone(),
        parts: found,
    })
}

fn publish(args: PublishArgs) -> Result<()> {
    let ws = Workspace::discover()?;
    let file = PlanFile::load(&args.plan)?.here(&ws)?;
    let runner = Runner::new(!args.execute);
    let commit = file.commit(&args.plan)?.to_owned();
    let plan = &file.plan;
    at_release_commit(&ws, &commit, &plan.tag, &runner)?;
    let git = Git::at(&ws.root);
    let remote = runner.read(&git.remote_ref(&format!("refs/tags/{}^{{}}", plan.tag)))?;
    match remote.split_whitespace().next() {
        Some(sha) if sha == commit => {}
        Some(sha) => bail!(
            "{} is on origin at {sha}, not at the plan's release commit {commit}: this plan is stale; plan again",
            plan.tag
        ),
        None => bail!(
            "{} is not on origin: `cargo xtask release plan --execute` pushes it before any part is built",
            plan.tag
        ),
    }
    // The parts this checkout's config makes of the plan: a plan file whose
    // list was edited (and its hash with it) names other ones.
    let expected = parts(&ws, plan)?;
    if expected != file.parts {
        bail!(
            "{}: its parts ({}) are not what this release commit's config makes of the plan ({}); plan again",
            args.plan.display(),
            file.parts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", "),
            expected.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    let state = gather(&file, &args.plan, &args.parts, &ws)?;
    say!(
        "publish {} from {} part{} of plan {}",
        plan.tag,
        state.parts.len(),
        if state.parts.len() == 1 { "" } else { "s" },
        file.hash
    );
    let _lock = Lock::acquire(&ws.root, true)?;
    // The release commit's tag here too: a fresh clone of the commit lacks it.
    if !runner
        .output(&git.has_ref(&format!("refs/tags/{}", plan.tag)))?
        .success()
    {
        match args.execute {
            true => {
                runner.run(&git.fetch_tag(&plan.tag))?;
            }
            false => say!("dry run: --execute fetches {} from origin first", plan.tag),
        }
    }
    // The journal of this publish when this machine ran it before, else a
    // new one that starts from what the world holds: the tag on origin.
    let mut journal = match Journal::load(&ws.root)? {
        Some(j) if j.plan.tag == plan.tag
            && j.split.as_ref().is_some_and(|s| s.plan_hash == file.hash) =>
        {
            j
        }
        Some(j) => bail!(
            "a release of {} is in progress on this machine (target/xtask-release/journal.json); finish or roll \
             it back first",
            j.plan.tag
        ),
        None => Journal::new(&ws.root, plan.clone(), file.arguments.clone()),
    };
    let prepared = json!({ "commit": commit });
    for (step, outputs) in [
        (StepName::Preflight, Value::Null),
        (StepName::Prepare, prepared),
        (StepName::Push, Value::Null),
    ] {
        match args.execute {
            true if !journal.done(step) => journal.record(step, Status::Done, outputs, None)?,
            true => {}
            false => journal.note(step, outputs),
        }
    }
    journal.split = Some(state);
    if args.execute {
        journal.save()?;
    }
    // What the publish steps need here: credentials and their tools, not
    // the build's (the parts were built elsewhere).
    let skipped: Vec<StepName> = plan
        .steps
        .iter()
        .filter(|s| s.skipped)
        .map(|s| s.name)
        .collect();
    let needs: Vec<crate::steps::Need> = crate::steps::preflight::tools(&ws, &skipped, &runner)
        .into_iter()
        .filter(|(what, _, _)| !["docker daemon", "hailo"].contains(&what.as_str()))
        .collect();
    if args.execute && !needs.is_empty() {
        let lines: Vec<String> = needs
            .iter()
            .map(|(w, f, h)| format!("{w} ({f}): {h}"))
            .collect();
        bail!(
            "publishing needs what this machine lacks; nothing was published:\n{}",
            crate::core::report::bullets(&lines)
        );
    }
    let release = Release {
        target: None,
        pre: None,
        execute: args.execute,
        resume: true,
        skip: Vec::new(),
        only: None,
        json: false,
        skip_tests: true,
        sign_key: None,
        split: None,
        stages: None,
    };
    let needs = release.run_steps(&ws, &mut journal, &[], &runner)?;
    release.finish(&ws, journal, &needs)
}

/// `--plan FILE`, which every part of a split release reads.
fn plan_arg() -> Arg {
    Arg::new("plan")
        .long("plan")
        .value_name("FILE")
        .value_parser(value_parser!(PathBuf))
        .required(true)
        .help("The plan `release plan` wrote")
}
