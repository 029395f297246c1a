//! `cargo xtask bump`: one new version in every file that carries it.
//!
//! Dry run by default: prints the unified diff of every file it would change
//! and writes nothing. `--execute` writes all files atomically, or none when
//! anything is wrong (disagreeing sources, a pattern found the wrong number of
//! times, a version PyPI would refuse).

use anyhow::{bail, Result};
use clap::{value_parser, Arg, ArgMatches, Command};

use crate::core::atomic;
use crate::core::config::Workspace;
use crate::core::diff;
use crate::core::runner::Runner;
use crate::version::level::{next_version, Target};
use crate::version::pep440::{to_pep440, PreKind};
use crate::version::sources::VersionSources;

/// Set a new version in every file that carries it (dry run unless --execute).
#[derive(Debug)]
pub struct Bump {
    target: String,
    pre: Option<PreKind>,
    execute: bool,
}

impl Bump {
    pub fn args(cmd: Command) -> Command {
        cmd.arg(Arg::new("target").value_name("TARGET").required(true).help(
            "A level (major, minor, patch, release, current, alpha, beta, rc), `auto` \
                     (from the conventional commits since the last release tag), or an explicit \
                     SemVer version greater than the current one (e.g. 1.4.0-rc.1)",
        ))
        .arg(
            Arg::new("pre")
                .long("pre")
                .value_name("PRE")
                .value_parser(value_parser!(PreKind))
                .help("Make the level's version a pre-release: `minor --pre rc` gives 1.3.0-rc.1"),
        )
        .arg(crate::cli::execute_flag(
            "Write the files. Without it, only the diff is shown",
        ))
    }

    pub fn from_matches(matches: &ArgMatches) -> Bump {
        Bump {
            target: crate::cli::required(matches, "target"),
            pre: matches.get_one::<PreKind>("pre").copied(),
            execute: matches.get_flag("execute"),
        }
    }

    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        let runner = Runner::new(!self.execute);
        let sources = VersionSources::locate(&workspace, &runner)?;
        let disagreeing: Vec<String> = sources
            .check()
            .into_iter()
            .filter(|(_, _, agrees)| !agrees)
            .map(|(loc, expected, _)| {
                format!(
                    "  - {}: {} is {}, expected {expected}",
                    loc.file.display(),
                    loc.field,
                    loc.found
                )
            })
            .collect();
        if !disagreeing.is_empty() {
            bail!(
                "the version is not the same everywhere, so a bump cannot tell which to trust:\n{}\n\
                 make them agree with Cargo.toml's [workspace.package] version {} (see `cargo xtask version`), then bump",
                disagreeing.join("\n"),
                sources.current
            );
        }
        let target = if self.target == "auto" {
            crate::changelog::auto_target(&workspace, &runner)?
        } else {
            Target::parse(&self.target)?
        };
        let next = next_version(&sources.current, &target, self.pre)?;
        let level = match (&target, self.pre) {
            (Target::Level(level), None) => Some(*level),
            _ => None,
        };
        crate::changelog::refuse_existing_tag(&workspace, &next, level, &runner)?;
        let pep440 = to_pep440(&next)?;
        let changes = sources.rewrite(&next)?;
        let current = &sources.current;
        // Spellings PEP 440 reads as the current version agree, but the new
        // version is written in normal form: say so, it shows in the diff.
        for loc in &sources.locations {
            if let Some(normal) = loc.respelled() {
                say!(
                    "{}: {} `{}` is PEP 440's {normal} spelled another way; the new version is written in normal form ({pep440})",
                    loc.file.display(),
                    loc.field,
                    loc.found
                );
            }
        }
        if !self.execute {
            for change in &changes {
                say!(
                    "{}",
                    diff::unified(
                        &change.file.display().to_string(),
                        &change.before,
                        &change.after
                    )
                    .trim_end()
                );
            }
            say!(
                "\n{current} -> {next} (Python: {pep440}): {} files would change. Dry run: nothing was written; \
                 run again with --execute to write them.",
                changes.len()
            );
            return Ok(());
        }
        let files: Vec<_> = changes
            .iter()
            .map(|c| (sources.path(&c.file), c.after.clone().into_bytes()))
            .collect();
        atomic::write_all(&files)?;
        for change in &changes {
            say!("wrote {}", change.file.display());
        }
        say!(
            "{current} -> {next} (Python: {pep440}) in {} files.",
            changes.len()
        );
        Ok(())
    }
}
