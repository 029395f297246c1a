//! The steps of a release, each a type behind one interface.
//!
//! A step *plans* its world-changing commands from the plan and what earlier
//! steps recorded ([`Step::commands`]: what `--json` and the dry run print,
//! and exactly what `--execute` runs), may *ask the world* whether its effect
//! is already there ([`Step::done`], asked on resume), and *runs* reading only
//! the plan and those records ([`Step::run`]). Under a dry run `run` does
//! only what is local and reversible (the build into `target/dist/`, its
//! verification) and prints the commands of the rest.
//!
//! The loop that runs them, the plan and the journal live in `release/`.

mod build;
mod ci;
mod local;
pub mod preflight;
mod publish;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::core::config::Workspace;
use crate::core::runner::{Cmd, Runner};
use crate::release::journal::StepRecord;
use crate::release::plan::{Asset, Plan, StepName};
use crate::version::sources::FileChange;

pub use build::Need;

/// The package at `path` as git lists it (never an ignored file), copied
/// under `target/` to build from.
pub fn package_source(
    ws: &Workspace,
    path: &str,
    version: &str,
    runner: &crate::core::runner::Runner,
) -> anyhow::Result<std::path::PathBuf> {
    build::edited_copy(ws, path, &[], version, runner)
}

/// The trained weights a model's ONNX export starts from, when it is
/// exported (an `export` and a `.pth` among its assets).
pub fn exported_weights(
    ws: &Workspace,
    model: &crate::core::config::Model,
) -> Option<std::path::PathBuf> {
    build::exported(ws, model)
}
pub use local::{release_commit_subject, subject};

/// What a step reads: the plan, what earlier steps recorded, the runner.
pub struct Cx<'a> {
    pub ws: &'a Workspace,
    pub plan: &'a Plan,
    pub records: &'a BTreeMap<StepName, StepRecord>,
    pub runner: &'a Runner,
    /// The version edits (a dry run builds from a copy with them applied).
    pub edits: &'a [FileChange],
    /// The arguments the release was started with, for the provenance.
    pub arguments: &'a [String],
    /// `--skip-tests`.
    pub skip_tests: bool,
    /// A release across machines: planning (no parts yet) or publishing
    /// the gathered parts.
    pub split: Option<&'a crate::release::split::SplitState>,
}

impl Cx<'_> {
    pub fn dry_run(&self) -> bool {
        self.runner.is_dry_run()
    }

    /// The release commit `prepare` made (the one the tag points at).
    pub fn release_commit(&self) -> Option<&str> {
        self.output(StepName::Prepare)?["commit"].as_str()
    }

    /// The files `build` staged, with their sizes and digests.
    pub fn built(&self) -> Option<Vec<Asset>> {
        let assets = &self.output(StepName::Build)?["assets"];
        crate::core::record::Decode::decode(assets, &crate::core::record::At::default()).ok()
    }

    /// The names of the assets: as built when the build ran, else as planned.
    pub fn asset_names(&self) -> Vec<String> {
        match self.built() {
            Some(built) => built.into_iter().map(|a| a.path).collect(),
            None => self.plan.assets.clone(),
        }
    }

    /// The index the plan uploads to; a resume never follows a
    /// TWINE_REPOSITORY_URL that changed since.
    pub fn index_url(&self, package: &crate::python::Package) -> String {
        self.plan
            .index_urls
            .get(&package.name)
            .cloned()
            .unwrap_or_else(|| crate::python::upload_url(package.config, None))
    }

    fn output(&self, step: StepName) -> Option<&Value> {
        self.records.get(&step).map(|r| &r.outputs)
    }
}

/// What a step produced: outputs for later steps and resume, and what it
/// could not do on this machine (a dry run lists those).
#[derive(Default)]
pub struct Outcome {
    pub outputs: Value,
    pub needs: Vec<Need>,
}

pub trait Step: Sync {
    /// The commands that change something, as `--execute` runs them.
    fn commands(&self, _cx: &Cx) -> Result<Vec<Cmd>> {
        Ok(Vec::new())
    }

    /// Whether the step's effect is already in the world (asked on resume,
    /// before it acts again).
    fn done(&self, _cx: &Cx) -> Result<bool> {
        Ok(false)
    }

    fn run(&self, cx: &Cx) -> Result<Outcome>;
}

/// The step of each name; every name has one, by construction.
pub fn step(name: StepName) -> &'static dyn Step {
    match name {
        StepName::Preflight => &preflight::Preflight,
        StepName::Prepare => &local::Prepare,
        StepName::Build => &build::Build,
        StepName::Verify => &build::Verify,
        StepName::Push => &publish::Push,
        StepName::Ci => &ci::Ci,
        StepName::GithubDraft => &publish::GithubDraft,
        StepName::Pypi => &publish::Pypi,
        StepName::Docker => &publish::Docker,
        StepName::GithubPublish => &publish::GithubPublish,
        StepName::PostVerify => &publish::PostVerify,
    }
}

/// Prints a step's commands as a dry run shows them.
pub fn print_commands(cx: &Cx, name: StepName) -> Result<()> {
    for command in step(name)
        .commands(cx)
        .with_context(|| format!("planning {name}"))?
    {
        say!("$ {command}    # dry run: not run");
    }
    Ok(())
}

/// When a project's hook runs (`[workspace.metadata.release.hooks]`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// At an `--execute` preflight.
    Test,
    /// At the start of the build, dry run too.
    PreRelease,
    /// After post-verify, for real only.
    PostRelease,
}

/// The commands of one hook, with the release's facts in their
/// environment; `DRY_RUN` is what it will be when they run.
pub fn hooks(cx: &Cx, hook: Hook) -> Vec<Cmd> {
    use crate::core::runner::Effect;
    let hooks = &cx.ws.release.hooks;
    let (commands, effect) = match hook {
        Hook::Test => (&hooks.test, Effect::Stage),
        Hook::PreRelease => (&hooks.pre_release, Effect::Stage),
        Hook::PostRelease => (&hooks.post_release, Effect::Change),
    };
    let plan = cx.plan;
    let env = std::collections::BTreeMap::from([
        ("NEW_VERSION".to_owned(), plan.version.clone()),
        (
            "PEP440_VERSION".to_owned(),
            plan.pep440_version
                .clone()
                .unwrap_or_else(|| plan.version.clone()),
        ),
        ("TAG".to_owned(), plan.tag.clone()),
        (
            "PREVIOUS_TAG".to_owned(),
            plan.previous_tag.clone().unwrap_or_default(),
        ),
        (
            "DRY_RUN".to_owned(),
            (hook == Hook::PreRelease && cx.dry_run()).to_string(),
        ),
        (
            "RELEASE_DIR".to_owned(),
            cx.ws.root.join(&plan.dist).display().to_string(),
        ),
    ]);
    commands
        .iter()
        .map(|argv| crate::tools::project(argv, &env, &cx.ws.root, effect))
        .collect()
}
