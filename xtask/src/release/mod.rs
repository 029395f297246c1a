//! `cargo xtask release`: plan, preflight, prepare, build, verify, publish,
//! post-verify, with a journal so that any failure can be finished with
//! `--resume`.
//!
//! Dry run by default: preflight, the file edits as diffs, every local step
//! really run into `target/dist/v<X.Y.Z>/` and verified, the publish commands
//! printed, and a table of what `--execute` would additionally need. The work
//! tree, the index and every git ref stay as they were.

mod journal;
mod plan;
mod preflight;
mod rollback;
mod stage;

pub use rollback::Rollback;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::config::Workspace;
use crate::runner::{Effect, Runner};
use crate::supply_chain::ReleaseCommit;
use crate::tools::git::Git;
use crate::version::pep440::PreKind;
use journal::{Journal, Lock, Status};
use plan::{Plan, Request, STEPS};

/// Release this repository: plan, check, build, verify, publish (dry run unless --execute).
#[derive(clap::Args, Debug)]
pub struct Release {
    /// A level (major, minor, patch, release, alpha, beta, rc), `auto` (from the
    /// conventional commits; the default) or an explicit version.
    target: Option<String>,
    /// Make the level's version a pre-release.
    #[arg(long, value_enum)]
    pre: Option<PreKind>,
    /// Do it: edit, commit, tag, push, publish.
    #[arg(long)]
    execute: bool,
    /// Finish the release in progress from its journal (never bumps again).
    #[arg(long, conflicts_with_all = ["target", "pre"])]
    resume: bool,
    /// Leave out a step (repeatable): prepare, build, verify, push,
    /// github-draft, pypi, docker, github-publish, post-verify.
    #[arg(long, value_name = "STEP")]
    skip: Vec<String>,
    /// Print the plan as JSON (schema in docs/RELEASING.md) and stop.
    #[arg(long)]
    json: bool,
    /// Do not run `cargo xtask test` first (said loudly).
    #[arg(long)]
    skip_tests: bool,
    /// Sign with this GPG key [default: RELEASE_GPG_KEY, else the config's sign-key].
    #[arg(long, value_name = "KEYID")]
    sign_key: Option<String>,
}

impl Release {
    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        for step in &self.skip {
            if !STEPS.contains(&step.as_str()) {
                bail!(
                    "--skip {step}: not a step; the steps are {}",
                    STEPS.join(", ")
                );
            }
        }
        let runner = Runner::new(!self.execute);
        let _lock = Lock::acquire(&workspace.root, self.resume)?;
        // Before the plan: its commands, the preflight's tool check and the
        // build all use the interpreter that has build and twine.
        if workspace.release.python.is_some() {
            crate::venv::packaging_tools(&workspace.root, &runner)?;
        }
        let existing = Journal::load(&workspace.root)?;
        let arguments: Vec<String> = std::env::args().skip(1).collect();

        let (mut journal, edits, previous) = if self.resume {
            let journal = existing.context(
                "nothing to resume: no release is in progress (target/release/journal.json)",
            )?;
            if !self.execute {
                say!(
                    "release of {} in progress, stopped at {}; `--resume --execute` finishes it",
                    journal.plan.tag,
                    journal.stuck_at().unwrap_or("the end")
                );
                return Ok(());
            }
            (journal, Vec::new(), None)
        } else {
            if let (Some(existing), true) = (&existing, self.execute) {
                bail!(
                    "a release of {} is in progress (stopped at {}): finish it with `cargo xtask release --resume --execute`, \
                     or undo it with `cargo xtask rollback {} --execute`",
                    existing.plan.tag,
                    existing.stuck_at().unwrap_or("its end"),
                    existing.plan.tag
                );
            }
            let sign_key = crate::supply_chain::signing_key(&workspace, self.sign_key.as_deref());
            let request = Request {
                target: self.target.as_deref(),
                pre: self.pre,
                skip: &self.skip,
                sign_key,
            };
            let (plan, sources, pending) = plan::plan(&workspace, &request, &runner)?;
            let edits = sources.rewrite(&semver::Version::parse(&plan.version)?)?;
            (
                Journal::new(&workspace.root, plan, arguments),
                edits,
                pending.previous.map(|p| p.version),
            )
        };
        if self.json {
            say!("{}", serde_json::to_string_pretty(&journal.plan)?);
            return Ok(());
        }
        let plan = &journal.plan;
        say!(
            "release {} -> {} (tag {}, from {} at {}{})",
            plan.current_version,
            plan.version,
            plan.tag,
            plan.branch,
            &plan.commit[..plan.commit.len().min(7)],
            plan.previous_tag
                .as_ref()
                .map(|p| format!(", after {p}"))
                .unwrap_or_default()
        );

        let mut needs = Vec::new();
        if !self.resume {
            let problems =
                preflight::repository(&workspace, &journal.plan, previous.as_ref(), &runner)?;
            if !problems.is_empty() {
                bail!(
                    "preflight found {} problem{}:\n{}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    crate::report::bullets(&problems)
                );
            }
            needs = preflight::tools(&workspace, &self.skip, &runner);
            if self.execute && !needs.is_empty() {
                bail!(
                    "--execute needs what this machine lacks:\n{}",
                    crate::report::bullets(
                        &needs
                            .iter()
                            .map(|(w, f, h)| format!("{w} ({f}): {h}"))
                            .collect::<Vec<_>>()
                    )
                );
            }
            if self.execute && !self.skip_tests {
                runner.run(&crate::tools::bench::this_binary(Effect::Stage, ["test"])?.cwd(&workspace.root))
                    .context("the tests fail; a release needs them green (--skip-tests skips them, at your risk)")?;
            } else if self.skip_tests && self.execute {
                say!("!!! --skip-tests: releasing without running the tests !!!");
            } else if !self.execute {
                say!("dry run: the tests are not run; --execute runs `cargo xtask test` here first (--skip-tests skips them)");
            }
        }

        for step in STEPS {
            if journal
                .plan
                .steps
                .iter()
                .any(|s| s.name == *step && s.status == "skipped")
            {
                say!("== {step}: skipped (--skip)");
                continue;
            }
            if journal.done(step) {
                say!("== {step}: done earlier");
                continue;
            }
            say!("== {step}");
            match run_step(step, &workspace, &mut journal, &edits, &runner) {
                Ok((outputs, step_needs)) => {
                    needs.extend(step_needs);
                    if self.execute {
                        if *step == "build" && !needs.is_empty() {
                            let message = crate::report::bullets(
                                &needs
                                    .iter()
                                    .map(|(w, f, h)| format!("{w} ({f}): {h}"))
                                    .collect::<Vec<_>>(),
                            );
                            journal.record(step, Status::Failed, outputs, Some(message.clone()))?;
                            bail!("the build lacks what a release ships:\n{message}\nget them, then `cargo xtask release --resume --execute`");
                        }
                        set_status(&mut journal.plan, step, "done");
                        journal.record(step, Status::Done, outputs, None)?;
                    } else {
                        set_status(&mut journal.plan, step, "dry-run");
                    }
                }
                Err(err) => {
                    if self.execute {
                        set_status(&mut journal.plan, step, "failed");
                        journal.record(
                            step,
                            Status::Failed,
                            serde_json::Value::Null,
                            Some(format!("{err:#}")),
                        )?;
                        bail!(
                            "{err:#}\n\nthe release of {} stopped at `{step}`. Fix the cause, then `cargo xtask release --resume --execute`: \
                             it continues from there, skipping what is already done",
                            journal.plan.tag
                        );
                    }
                    return Err(err);
                }
            }
        }

        if self.execute {
            say!("\nreleased {}.", journal.plan.tag);
            journal.archive(&workspace.root)?;
        } else {
            if !needs.is_empty() {
                say!("\nWhat `--execute` needs that this machine lacks:\n");
                let width = needs.iter().map(|n| n.0.len()).max().unwrap_or(0);
                for (what, why, how) in &needs {
                    say!("  {what:<width$}  for {why}\n  {:<width$}  -> {how}", "");
                }
            }
            let when = if needs.is_empty() {
                "To release for real"
            } else {
                "Once what is listed above is here, to release for real"
            };
            say!(
                "\nDry run: staged and verified {}; nothing was committed, tagged, pushed or published.\n{when}: cargo xtask release {}--execute",
                journal.plan.dist.display(),
                self.target.as_ref().map(|t| format!("{t} ")).unwrap_or_default()
            );
        }
        Ok(())
    }
}

fn set_status(plan: &mut Plan, step: &str, status: &str) {
    if let Some(s) = plan.steps.iter_mut().find(|s| s.name == step) {
        s.status = status.to_owned();
    }
}

/// One step; returns its outputs and anything it could not do on this machine.
fn run_step(
    step: &str,
    ws: &Workspace,
    journal: &mut Journal,
    edits: &[crate::version::sources::FileChange],
    runner: &Runner,
) -> Result<(serde_json::Value, Vec<stage::Need>)> {
    let dry = runner.is_dry_run();
    let plan = &journal.plan;
    let version = semver::Version::parse(&plan.version)?;
    let nothing = (serde_json::Value::Null, Vec::new());
    match step {
        "prepare" => {
            prepare(ws, plan, edits, runner).map(|commit| (json!({ "commit": commit }), Vec::new()))
        }
        "build" => {
            let arguments = journal.arguments.clone();
            // The commit prepare made, which the tag points at; never the
            // commit the plan started from.
            let made = journal
                .steps
                .get("prepare")
                .and_then(|s| s.outputs["commit"].as_str())
                .map(str::to_owned);
            let parent = journal.plan.commit.clone();
            let commit = match (&made, dry) {
                (Some(sha), false) => ReleaseCommit::Made(sha),
                (None, false) => bail!(
                    "the journal has no release commit from `prepare`; run `cargo xtask release --resume --execute` to redo it"
                ),
                (_, true) => ReleaseCommit::NotYet { parent: &parent },
            };
            let needs = stage::build(
                ws,
                &mut journal.plan,
                commit,
                edits,
                &arguments,
                dry,
                runner,
            )?;
            Ok((json!({ "assets": journal.plan.assets }), needs))
        }
        "verify" => stage::verify(ws, plan, runner).map(|()| nothing),
        "push" => push(ws, plan, runner).map(|()| nothing),
        "github-draft" if ws.release.github.is_some() => {
            if dry {
                print_commands(plan, step);
                return Ok(nothing);
            }
            crate::gh_release::draft(&plan.tag, &version, &plan.dist, &ws.root, runner)
                .map(|()| nothing)
        }
        "pypi" => match &ws.release.python {
            Some(package) if !dry => {
                let dist = crate::python::PythonDist::in_dir(
                    &plan.dist.join("python"),
                    &crate::python::project_name(ws)?,
                    plan.pep440_version.as_deref().unwrap_or_default(),
                )?;
                crate::python::publish(&dist, &crate::python::upload_url(package, None), runner)
                    .map(|()| nothing)
            }
            _ => {
                print_commands(plan, step);
                Ok(nothing)
            }
        },
        "docker" => {
            if dry {
                print_commands(plan, step);
                return Ok(nothing);
            }
            let mut digests = serde_json::Map::new();
            for image in crate::docker::plan(ws, runner)? {
                crate::docker::build(&image, runner)?;
                crate::docker::publish(&image, runner)?;
                digests.insert(
                    image.image.name.clone(),
                    json!(image
                        .tags
                        .iter()
                        .map(|t| t.name.clone())
                        .collect::<Vec<_>>()),
                );
            }
            Ok((serde_json::Value::Object(digests), Vec::new()))
        }
        "github-publish" if ws.release.github.is_some() => {
            if dry {
                print_commands(plan, step);
                return Ok(nothing);
            }
            crate::gh_release::publish(&plan.tag, plan.latest, &ws.root, runner).map(|()| nothing)
        }
        "post-verify" => {
            if dry {
                return Ok(nothing);
            }
            post_verify(ws, plan, runner).map(|()| nothing)
        }
        _ => Ok(nothing),
    }
}

fn print_commands(plan: &Plan, step: &str) {
    for command in plan
        .steps
        .iter()
        .filter(|s| s.name == step)
        .flat_map(|s| &s.commands)
    {
        say!("$ {command}    # dry run: not run");
    }
}

/// The release commit's message.
pub fn release_commit_message(tag: &str) -> String {
    format!("chore(release): {tag}")
}

/// The annotated tag's message.
pub fn release_tag_message(tag: &str) -> String {
    format!("Release {tag}")
}

/// Version edits and the CHANGELOG section, the release commit, the tag.
/// After a kill half-way, a second run finds what is already there.
fn prepare(
    ws: &Workspace,
    plan: &Plan,
    edits: &[crate::version::sources::FileChange],
    runner: &Runner,
) -> Result<String> {
    let version = semver::Version::parse(&plan.version)?;
    let sources = crate::version::sources::VersionSources::locate(ws, runner)?;
    let mut changes: Vec<crate::version::sources::FileChange> = if sources.current == version {
        Vec::new()
    } else {
        sources.rewrite(&version)?
    };
    if runner.is_dry_run() && changes.is_empty() {
        changes = edits.to_vec();
    }
    if let Some(change) =
        crate::changelog::release_edit(ws, &version, &plan.changelog, plan.previous_tag.as_deref())?
    {
        changes.push(change);
    }
    if runner.is_dry_run() {
        for change in &changes {
            say!(
                "{}",
                crate::diff::unified(
                    &change.file.display().to_string(),
                    &change.before,
                    &change.after
                )
                .trim_end()
            );
        }
        say!(
            "$ git commit --all --message 'chore(release): {}'    # dry run: not run",
            plan.tag
        );
        say!(
            "$ git tag --annotate {} --message 'Release {}'    # dry run: not run",
            plan.tag,
            plan.tag
        );
        return Ok(plan.commit.clone());
    }
    let files: Vec<_> = changes
        .iter()
        .map(|c| (ws.root.join(&c.file), c.after.clone().into_bytes()))
        .collect();
    crate::atomic::write_all(&files)?;
    let git = Git::at(&ws.root);
    let dirty = runner.read(&git.tracked_changes())?;
    if !dirty.trim().is_empty() {
        runner.run(&git.commit_all(&release_commit_message(&plan.tag)))?;
    }
    let has_tag = runner
        .output(&git.has_ref(&format!("refs/tags/{}", plan.tag)))?
        .success();
    if !has_tag {
        runner.run(&git.annotated_tag(&plan.tag, &release_tag_message(&plan.tag)))?;
    }
    Ok(runner.read(&git.resolve("HEAD"))?.trim().to_owned())
}

/// The release commit and tag to origin, atomically; a tag already there
/// must point at the same commit.
fn push(ws: &Workspace, plan: &Plan, runner: &Runner) -> Result<()> {
    let git = Git::at(&ws.root);
    if runner.is_dry_run() {
        print_commands(plan, "push");
        return Ok(());
    }
    let local = runner
        .read(&git.resolve(&format!("refs/tags/{}^{{commit}}", plan.tag)))?
        .trim()
        .to_owned();
    let remote = runner.read(&git.remote_ref(&format!("refs/tags/{}^{{}}", plan.tag)))?;
    if let Some(sha) = remote.split_whitespace().next() {
        if sha == local {
            say!("{} is already on origin at {}", plan.tag, &sha[..7]);
            return Ok(());
        }
        bail!(
            "{} is on origin at {sha}, not at the release commit {local}; it is never overwritten",
            plan.tag
        );
    }
    runner.run(&git.push_atomic("HEAD", &plan.branch, &plan.tag))?;
    Ok(())
}

/// Every asset on the GitHub release, the index serving the same files,
/// every image tag at the pushed digest.
fn post_verify(ws: &Workspace, plan: &Plan, runner: &Runner) -> Result<()> {
    if ws.release.github.is_some() {
        let release = crate::gh_release::view(&plan.tag, &ws.root, runner)?
            .with_context(|| format!("{} has no GitHub release", plan.tag))?;
        if release.is_draft {
            bail!("{} is still a draft on GitHub", plan.tag);
        }
        for asset in &plan.assets {
            let name = std::path::Path::new(&asset.path)
                .file_name()
                .unwrap_or_default()
                .to_string_lossy();
            if !release
                .assets
                .iter()
                .any(|a| a.name == name && a.size == asset.size)
            {
                bail!("the GitHub release lacks {name} ({} bytes)", asset.size);
            }
        }
    }
    if let Some(package) = &ws.release.python {
        let dist = crate::python::PythonDist::in_dir(
            &plan.dist.join("python"),
            &crate::python::project_name(ws)?,
            plan.pep440_version.as_deref().unwrap_or_default(),
        )?;
        crate::python::publish(&dist, &crate::python::upload_url(package, None), runner)?;
    }
    for image in crate::docker::plan(ws, runner)? {
        crate::docker::publish(&image, runner)?;
    }
    say!("post-verify: GitHub release, index and images all hold the release");
    Ok(())
}
