//! `cargo xtask release`: a fixed plan, then its steps in order
//! (`steps/`), with a journal so that any failure can be finished with
//! `--resume`.
//!
//! Dry run by default: preflight, the file edits as diffs, every local step
//! really run into `target/dist/v<X.Y.Z>/` and verified, the publish commands
//! printed exactly as `--execute` runs them, and a table of what `--execute`
//! would additionally need. The work tree, the index and every git ref stay
//! as they were.

pub mod journal;
pub mod plan;
mod rollback;
pub mod split;

pub use rollback::Rollback;

use anyhow::{bail, Context, Result};
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

use crate::core::config::Workspace;
use crate::core::runner::Runner;
use crate::steps::{self, Cx, Need};
use crate::version::pep440::PreKind;
use crate::version::sources::FileChange;
use journal::{Journal, Lock, Status};
use plan::{Request, StepName};

/// Release this repository: plan, check, build, verify, publish (dry run unless --execute).
#[derive(Debug)]
pub struct Release {
    /// Across machines: `plan` once, `build` each part where its tools
    /// are, `publish` from one place (docs/DISTRIBUTED.md).
    split: Option<split::Split>,
    /// The steps this run takes (the plan machine's), else all.
    stages: Option<&'static [StepName]>,
    target: Option<String>,
    pre: Option<PreKind>,
    execute: bool,
    resume: bool,
    skip: Vec<StepName>,
    only: Option<StepName>,
    json: bool,
    skip_tests: bool,
    sign_key: Option<String>,
}

impl Release {
    pub fn args(cmd: Command) -> Command {
        split::Split::args(cmd)
            .args_conflicts_with_subcommands(true)
            .arg(Arg::new("target").value_name("TARGET").help(
                "A level (major, minor, patch, release, current, alpha, beta, rc), `auto` (from \
                 the conventional commits; the default) or an explicit version",
            ))
            .arg(pre_arg())
            .arg(crate::cli::execute_flag(
                "Do it: edit, commit, tag, push, publish",
            ))
            .arg(
                Arg::new("resume")
                    .long("resume")
                    .action(ArgAction::SetTrue)
                    .conflicts_with_all(["target", "pre"])
                    .help("Finish the release in progress from its journal (never bumps again)"),
            )
            .arg(skip_arg())
            .arg(
                Arg::new("only")
                    .long("only")
                    .value_name("STEP")
                    .value_parser(value_parser!(StepName))
                    .conflicts_with("skip")
                    .help(
                        "Run only this step of the release in progress (or, with none, of a new \
                         plan): e.g. `--only build` stages and nothing else",
                    ),
            )
            .arg(crate::cli::json_flag(
                "Print the plan as JSON (schema in docs/RELEASING.md) and stop",
            ))
            .arg(
                Arg::new("skip-tests")
                    .long("skip-tests")
                    .action(ArgAction::SetTrue)
                    .help("Do not run `cargo xtask test` first (said loudly)"),
            )
            .arg(sign_key_arg())
    }

    pub fn from_matches(matches: &ArgMatches) -> Release {
        Release {
            split: matches
                .subcommand_name()
                .map(|_| split::Split::from_matches(matches)),
            stages: None,
            target: matches.get_one::<String>("target").cloned(),
            pre: matches.get_one::<PreKind>("pre").copied(),
            execute: matches.get_flag("execute"),
            resume: matches.get_flag("resume"),
            skip: matches
                .get_many::<StepName>("skip")
                .map(|steps| steps.copied().collect())
                .unwrap_or_default(),
            only: matches.get_one::<StepName>("only").copied(),
            json: matches.get_flag("json"),
            skip_tests: matches.get_flag("skip-tests"),
            sign_key: matches.get_one::<String>("sign-key").cloned(),
        }
    }

    pub fn run(mut self) -> Result<()> {
        if let Some(split) = self.split.take() {
            return split.run();
        }
        let workspace = Workspace::discover()?;
        if self.skip.contains(&StepName::Preflight) {
            bail!("--skip preflight: the checks before any change cannot be skipped");
        }
        let runner = Runner::new(!self.execute);
        let _lock = Lock::acquire(&workspace.root, self.resume)?;
        // Before the plan: its commands, the preflight's tool check and the
        // build all use the interpreter that has build and twine.
        if !workspace.release.python.is_empty() {
            crate::python::venv::packaging_tools(&workspace.root, &runner)?;
        }
        let existing = Journal::load(&workspace.root)?;
        let (mut journal, edits) = match self.journal(&workspace, existing, &runner)? {
            Some(found) => found,
            None => return Ok(()),
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
        let needs = self.run_steps(&workspace, &mut journal, &edits, &runner)?;
        self.finish(&workspace, journal, &needs)
    }

    /// The journal to work from: the one in progress (`--resume`, or
    /// `--only` a step of it) or a new plan's. `None`: nothing to do.
    fn journal(
        &self,
        workspace: &Workspace,
        existing: Option<Journal>,
        runner: &Runner,
    ) -> Result<Option<(Journal, Vec<FileChange>)>> {
        if self.resume {
            let journal = existing.context(
                "nothing to resume: no release is in progress (target/xtask-release/journal.json)",
            )?;
            if !self.execute {
                say!(
                    "release of {} in progress, stopped at {}; `--resume --execute` finishes it",
                    journal.plan.tag,
                    journal.stuck_at().map_or("the end", |s| s.as_str())
                );
                return Ok(None);
            }
            return Ok(Some((journal, Vec::new())));
        }
        if let Some(existing) = existing {
            if self.only.is_some() {
                return Ok(Some((existing, Vec::new())));
            }
            if self.execute {
                bail!(
                    "a release of {} is in progress (stopped at {}): finish it with `cargo xtask release --resume --execute`, \
                     or undo it with `cargo xtask rollback {} --execute`",
                    existing.plan.tag,
                    existing.stuck_at().map_or("its end", |s| s.as_str()),
                    existing.plan.tag
                );
            }
        }
        let sign_key = crate::supply_chain::signing_key(workspace, self.sign_key.as_deref());
        let skip = skipped(workspace, &self.skip)?;
        let request = Request {
            target: self.target.as_deref(),
            pre: self.pre,
            skip: &skip,
            sign_key,
        };
        let (plan, sources) = plan::plan(workspace, &request, runner)?;
        let edits = sources.rewrite(&semver::Version::parse(&plan.version)?)?;
        let arguments = std::env::args().skip(1).collect();
        Ok(Some((
            Journal::new(&workspace.root, plan, arguments),
            edits,
        )))
    }

    /// Each step in order (or the one `--only` names), recording each in
    /// the journal under --execute; returns what the machine lacks.
    fn run_steps(
        &self,
        workspace: &Workspace,
        journal: &mut Journal,
        edits: &[FileChange],
        runner: &Runner,
    ) -> Result<Vec<Need>> {
        let mut needs = Vec::new();
        for name in StepName::ALL {
            if self.only.is_some_and(|only| only != name) {
                continue;
            }
            if self.stages.is_some_and(|stages| !stages.contains(&name)) {
                continue;
            }
            if journal.plan.step(name).skipped {
                say!("== {name}: skipped ({})", why_skipped(workspace, name));
                continue;
            }
            if journal.done(name) && self.only.is_none() {
                say!("== {name}: done earlier");
                continue;
            }
            say!("== {name}");
            let cx = Cx {
                ws: workspace,
                plan: &journal.plan,
                records: &journal.steps,
                runner,
                edits,
                arguments: &journal.arguments,
                skip_tests: self.skip_tests,
                split: journal.split.as_ref(),
            };
            let outcome = steps::step(name).run(&cx);
            if !self.execute {
                let outcome = outcome?;
                needs.extend(outcome.needs);
                journal.note(name, outcome.outputs);
                continue;
            }
            let outcome = match outcome {
                Ok(outcome) if outcome.needs.is_empty() => outcome,
                Ok(outcome) => {
                    let lines: Vec<String> = outcome
                        .needs
                        .iter()
                        .map(|(w, f, h)| format!("{w} ({f}): {h}"))
                        .collect();
                    let message = format!(
                        "the build lacks what a release ships:\n{}\nget them, then `cargo xtask release --resume --execute`",
                        crate::core::report::bullets(&lines)
                    );
                    journal.record(name, Status::Failed, outcome.outputs, Some(message.clone()))?;
                    bail!("{message}");
                }
                // Nothing has changed yet: no journal, nothing to resume.
                Err(err) if name == StepName::Preflight => return Err(err),
                Err(err) => {
                    journal.record(
                        name,
                        Status::Failed,
                        serde_json::Value::Null,
                        Some(format!("{err:#}")),
                    )?;
                    let again = match journal.split {
                        Some(_) => "run the same `cargo xtask release publish ... --execute` again (here, or on a \
                                    fresh checkout of the release commit)",
                        None => "`cargo xtask release --resume --execute`",
                    };
                    bail!(
                        "{err:#}\n\nthe release of {} stopped at `{name}`. Fix the cause, then {again}: \
                         it continues from there, skipping what is already done",
                        journal.plan.tag
                    );
                }
            };
            journal.record(name, Status::Done, outcome.outputs, None)?;
        }
        Ok(needs)
    }

    fn finish(&self, workspace: &Workspace, journal: Journal, needs: &[Need]) -> Result<()> {
        if self.execute {
            if journal.stuck_at().is_none() {
                say!("\nreleased {}.", journal.plan.tag);
                journal.archive(&workspace.root)?;
            } else if let Some(only) = self.only {
                say!("\n{only} of {} done; `cargo xtask release --resume --execute` finishes the rest", journal.plan.tag);
            }
            return Ok(());
        }
        if let Some(only) = self.only {
            // One step proves only itself: no claim about the rest.
            if !needs.is_empty() {
                say!("\nWhat `{only}` lacks on this machine:\n");
                print_needs(needs);
            }
            say!(
                "\nDry run of `{only}` alone: nothing was committed, tagged, pushed or published. \
                 `cargo xtask release` runs every step and lists all that --execute needs."
            );
            return Ok(());
        }
        if !needs.is_empty() {
            say!("\nWhat `--execute` needs that this machine lacks:\n");
            print_needs(needs);
        }
        let when = if needs.is_empty() {
            "To release for real"
        } else {
            "Once what is listed above is here, to release for real"
        };
        let (untouched, command) = match journal.split {
            Some(_) => (
                "nothing was published",
                "the same `cargo xtask release publish` with --execute".to_owned(),
            ),
            None => (
                "nothing was committed, tagged, pushed or published",
                format!(
                    "cargo xtask release {}--execute",
                    self.target
                        .as_ref()
                        .map(|t| format!("{t} "))
                        .unwrap_or_default()
                ),
            ),
        };
        say!(
            "\nDry run: staged and verified {}; {untouched}.\n{when}: {command}",
            journal.plan.dist.display(),
        );
        Ok(())
    }
}

/// Why the plan leaves out `step`: the config or `--skip`.
fn why_skipped(workspace: &Workspace, step: StepName) -> &'static str {
    let release = &workspace.release;
    if release.skip_steps.iter().any(|s| s == step.as_str()) {
        "skip-steps in Cargo.toml"
    } else if step == StepName::Ci && release.ci.is_none() {
        "no [ci] in Cargo.toml"
    } else if step == StepName::Pypi && release.python.iter().all(|p| !p.publish) {
        match release.python.is_empty() {
            true => "no Python package",
            false => "publish = false: its own CI uploads it",
        }
    } else {
        "--skip"
    }
}

/// The table of what this machine lacks: what, for what, and how to get it.
fn print_needs(needs: &[Need]) {
    let width = needs.iter().map(|n| n.0.len()).max().unwrap_or(0);
    for (what, why, how) in needs {
        say!("  {what:<width$}  for {why}\n  {:<width$}  -> {how}", "");
    }
}

/// What this release leaves out: `--skip`, the config's `skip-steps`, and
/// `pypi` for a package its own CI publishes (`python.publish = false`).
fn skipped(workspace: &Workspace, asked: &[StepName]) -> Result<Vec<StepName>> {
    use clap::ValueEnum;
    let mut skip = asked.to_vec();
    for name in &workspace.release.skip_steps {
        let step = StepName::from_str(name, false).map_err(|_| {
            anyhow::anyhow!(
                "Cargo.toml: skip-steps names {name:?}, which is not a step; the steps are {}",
                StepName::ALL
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        if step == StepName::Preflight {
            bail!("Cargo.toml: skip-steps names preflight: the checks before any change cannot be skipped");
        }
        skip.push(step);
    }
    // No CI to wait for unless the config asks.
    if workspace.release.ci.is_none() {
        skip.push(StepName::Ci);
    }
    // Nothing to upload: no package, or each one published by its own CI.
    if workspace.release.python.iter().all(|p| !p.publish) {
        skip.push(StepName::Pypi);
    }
    skip.sort_by_key(|s| StepName::ALL.iter().position(|a| a == s));
    skip.dedup();
    Ok(skip)
}

/// `--pre`, for `release` and `release plan`.
fn pre_arg() -> Arg {
    Arg::new("pre")
        .long("pre")
        .value_name("PRE")
        .value_parser(value_parser!(PreKind))
        .help("Make the level's version a pre-release")
}

/// `--sign-key`, for `release` and `release plan`.
fn sign_key_arg() -> Arg {
    Arg::new("sign-key")
        .long("sign-key")
        .value_name("KEYID")
        .help("Sign with this GPG key [default: RELEASE_GPG_KEY, else the config's sign-key]")
}

/// `--skip`, for `release` and `release plan`.
fn skip_arg() -> Arg {
    Arg::new("skip")
        .long("skip")
        .value_name("STEP")
        .value_parser(value_parser!(StepName))
        .action(ArgAction::Append)
        .help("Leave out a step (repeatable)")
}
