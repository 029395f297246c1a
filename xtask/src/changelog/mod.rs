//! `cargo xtask changelog`: the changelog section a release would write, from
//! the conventional commits since the previous release tag and the entries a
//! person wrote under `## [Unreleased]`; `--write` puts it into CHANGELOG.md,
//! `--notes` prints the GitHub release body.

pub mod commits;
mod file;
pub mod notes;
pub mod section;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};
use semver::Version;

use crate::core::config::{Entries, Workspace};
use crate::core::runner::Runner;
use crate::version::level::{next_version, Level, Target};
use crate::version::released::released_versions;
use commits::{for_each_commit, previous_tag, Kind, PreviousTag};
use section::{auto_level, Section, Tally};

/// Print the changelog section a release would write (or write it, or the notes).
#[derive(Debug)]
pub struct Changelog {
    unreleased: bool,
    json: bool,
    write: bool,
    execute: bool,
    notes: bool,
    context: bool,
    dist: Option<PathBuf>,
    date: Option<String>,
}

/// What a release would write: the commits since the previous tag, grouped,
/// merged with the hand-written `[Unreleased]` entries.
pub struct Pending {
    pub previous: Option<PreviousTag>,
    pub tally: Tally,
    /// The version the release would carry: the auto level applied to the
    /// workspace version, exactly as `bump auto` and `release` compute it;
    /// the workspace version when there is nothing to release.
    pub version: Version,
    /// The auto level, `None` when there is nothing to release.
    pub level: Option<Level>,
    pub merged: Section,
    /// Commits that are not conventional and so not listed: `SHORT SUBJECT`.
    pub left_out: Vec<String>,
}

/// `bump auto` / `release auto` found no commit that calls for a release.
/// `main` exits with [`NothingToRelease::EXIT_CODE`], commitizen's
/// `NO_INCREMENT`, so CI can tell it from a failure.
#[derive(Debug)]
pub struct NothingToRelease(pub String);

impl NothingToRelease {
    pub const EXIT_CODE: u8 = 21;
}

impl std::fmt::Display for NothingToRelease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NothingToRelease {}

/// The commits since the previous release tag, grouped and counted as they
/// stream by: nothing the changelog does not print is kept, except one line
/// per non-conventional commit left out, so the output can name it.
struct Commits {
    previous: Option<PreviousTag>,
    section: Section,
    tally: Tally,
    left_out: Vec<String>,
}

fn commits_since(workspace: &Workspace, runner: &Runner) -> Result<Commits> {
    let previous = previous_tag(&workspace.release, runner)?;
    let (mut section, mut tally, mut left_out) = (Section::default(), Tally::default(), Vec::new());
    let slug = workspace.release.github.as_deref();
    let config = &workspace.release.changelog;
    let since = match &previous {
        Some(previous) => Some(previous.tag.clone()),
        None => first_release_start(workspace, runner)?,
    };
    for_each_commit(&workspace.release, since.as_deref(), runner, |commit| {
        tally.add(&commit);
        // Not conventional, or a type no convention has (`WIP: ...`,
        // `ML-53: ...`): said, never silently dropped.
        let unknown_type = match &commit.kind {
            Kind::Other => true,
            Kind::Typed(kind) => {
                !KNOWN_TYPES.contains(&kind.as_str()) && !config.sections.contains_key(kind)
            }
        };
        if unknown_type && section::section_of(&commit, config).is_none() {
            left_out.push(format!(
                "{} {}",
                &commit.hash[..commit.hash.len().min(7)],
                commit.description
            ));
        }
        section.add_commit(&commit, config, slug);
    })?;
    section.finish(&config.section_order);
    // Oldest first, like the entries.
    left_out.reverse();
    Ok(Commits {
        previous,
        section,
        tally,
        left_out,
    })
}

/// The types of the Conventional Commits convention (Angular's and
/// commitlint's): a commit of one of these the sections leave out is left
/// out on purpose (docs, chore, ...).
const KNOWN_TYPES: &[&str] = &[
    "feat",
    "fix",
    "docs",
    "style",
    "refactor",
    "perf",
    "test",
    "build",
    "ci",
    "chore",
    "revert",
    "deprecate",
    "security",
];

/// Where the first release's changes start when no release tag exists:
/// `changelog.since`, else the commit that added the newest release heading
/// the changelog already has (a project that released by hand before it
/// tagged), else the first commit.
fn first_release_start(workspace: &Workspace, runner: &Runner) -> Result<Option<String>> {
    let config = &workspace.release.changelog;
    if let Some(since) = &config.since {
        let git = crate::tools::git::Git::at(&workspace.root);
        let found = runner.output(&git.resolve(&format!("{since}^{{commit}}")))?;
        if !found.success() {
            bail!(
                "changelog.since = {since:?} in Cargo.toml is not a commit here; name a tag, branch or \
                 commit the first release's changes start after"
            );
        }
        return Ok(Some(found.stdout.trim().to_owned()));
    }
    let text = read_changelog(workspace)?;
    let Some(heading) = file::newest_release_heading(&text, &config.heading) else {
        return Ok(None);
    };
    let git = crate::tools::git::Git::at(&workspace.root);
    let added = runner.read(&git.last_touching(&heading, &config.path))?;
    Ok(Some(added.trim().to_owned()).filter(|c| !c.is_empty()))
}

impl Pending {
    pub fn collect(workspace: &Workspace, runner: &Runner) -> Result<Pending> {
        let current = workspace.product_version()?;
        let commits = commits_since(workspace, runner)?;
        let text = read_changelog(workspace)?;
        let config = &workspace.release.changelog;
        let hand = file::unreleased(&text);
        let merged = match config.entries {
            Entries::Both => file::merge(hand, commits.section, &config.section_order),
            Entries::Hand => file::merge(hand, Section::default(), &config.section_order),
            Entries::Commits => {
                // A release moves [Unreleased] into its section: a line there
                // would be dropped, and a hand-written line is never lost.
                let mut lines = Vec::new();
                hand.for_each_line(|line| lines.push(line.to_owned()));
                let lines: Vec<String> =
                    lines.into_iter().filter(|l| !l.trim().is_empty()).collect();
                if !lines.is_empty() {
                    bail!(
                        "{}: [Unreleased] has hand-written lines, but changelog.entries = \"commits\" in Cargo.toml \
                         makes the section from commits only:\n{}\nmove them into a commit message, or set \
                         entries = \"both\"",
                        config.path,
                        lines.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
                    );
                }
                commits.section
            }
        };
        let level = auto_level(
            &commits.tally,
            &current,
            workspace.release.changelog.patch_for_any_commit,
        );
        let version = match level {
            Some(level) => next_version(&current, &Target::Level(level), None)?,
            None => current,
        };
        Ok(Pending {
            previous: commits.previous,
            tally: commits.tally,
            version,
            level,
            merged,
            left_out: commits.left_out,
        })
    }

    /// Refuses the auto version when it is already tagged on another line,
    /// as `bump auto` and `release` do.
    pub fn refuse_existing_tag(&self, workspace: &Workspace, runner: &Runner) -> Result<()> {
        match self.level {
            Some(level) => refuse_existing_tag(workspace, &self.version, Some(level), runner),
            None => Ok(()),
        }
    }

    /// Names the non-conventional commits that are not listed (on stderr).
    pub fn tell_left_out(&self) {
        if self.left_out.is_empty() {
            return;
        }
        tell!(
            "left out of the changelog, not conventional commits or of a type no convention has ({}; \
             write an entry under ## [Unreleased] for any that matters, set `other-section` to list the \
             non-conventional ones, or `changelog.sections.<type>` for a type):",
            self.left_out.len()
        );
        for line in &self.left_out {
            tell!("  - {line}");
        }
    }

    /// The refusal when the commits call for no release.
    pub fn nothing_to_release(&self) -> NothingToRelease {
        let since = self
            .previous
            .as_ref()
            .map_or("the first commit".to_owned(), |p| p.tag.clone());
        NothingToRelease(match self.tally.commits {
            0 => format!("nothing to release: no commits since {since}"),
            n => format!(
                "nothing to release: none of the {n} commit{} since {since} is a feat, fix, perf, \
                 refactor or breaking change (commitizen and python-semantic-release release nothing \
                 either); release them anyway with `cargo xtask bump patch`, or set \
                 `patch-for-any-commit = true` under [workspace.metadata.release.changelog]",
                if n == 1 { "" } else { "s" }
            ),
        })
    }
}

/// Refuses a version whose tag already exists. A version computed from the
/// commits is above every release tag merged into HEAD, so an existing tag
/// was released from another line; `level` finds the next free version.
pub fn refuse_existing_tag(
    workspace: &Workspace,
    version: &Version,
    level: Option<Level>,
    runner: &Runner,
) -> Result<()> {
    let released = released_versions(&workspace.release, &workspace.root, runner)?;
    if !released.contains(version) {
        return Ok(());
    }
    let tag = workspace.release.tag_for(&version);
    let mut fix = format!(
        "merge that release into this branch (`git merge {tag}`) so its history counts, or release another version"
    );
    if let Some(level) = level.filter(|l| *l != Level::Current) {
        let mut free = version.clone();
        while released.contains(&free) {
            free = next_version(&free, &Target::Level(level), None)?;
        }
        fix.push_str(&format!(
            ": the next free {level} is {free} (`cargo xtask bump {free}`)"
        ));
    }
    bail!(
        "{version} is already released: the tag {tag} exists (made on another release line, it is not \
         merged into HEAD); {fix}"
    )
}

fn read_changelog(workspace: &Workspace) -> Result<String> {
    let path = workspace.root.join(&workspace.release.changelog.path);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

struct Report<'a> {
    previous_tag: Option<&'a str>,
    version: String,
    commits: usize,
    auto_level: Option<String>,
    sections: Vec<SectionJson<'a>>,
    /// Non-conventional commits not listed: `SHORT SUBJECT`.
    left_out: &'a [String],
}

record!(write: Report<'a> (Same) {
    previous_tag,
    version,
    commits,
    auto_level,
    sections,
    left_out,
});

struct SectionJson<'a> {
    name: &'a str,
    entries: &'a [section::Entry],
}

record!(write: SectionJson<'a> (Same) {
    name,
    entries,
});

impl Changelog {
    pub fn args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new("unreleased")
                .long("unreleased")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["write", "notes"])
                .help("Print what is pending as the `[Unreleased]` section, without a version"),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["write", "notes"])
                .help("Print the section as JSON (entries, previous tag, version, auto level)"),
        )
        .arg(
            Arg::new("write")
                .long("write")
                .action(ArgAction::SetTrue)
                .conflicts_with("notes")
                .help(
                    "Write the section into CHANGELOG.md for the workspace version (a diff \
                     unless --execute). Run after `bump`; a second run changes nothing",
                ),
        )
        .arg(
            Arg::new("execute")
                .long("execute")
                .action(ArgAction::SetTrue)
                .requires("write")
                .help("With --write: change the file"),
        )
        .arg(
            Arg::new("notes")
                .long("notes")
                .action(ArgAction::SetTrue)
                .help(
                    "Print the release notes (the GitHub release body), rendered from \
                     `notes.template` (docs/RELEASE-NOTES.md)",
                ),
        )
        .arg(
            Arg::new("context")
                .long("context")
                .action(ArgAction::SetTrue)
                .requires("notes")
                .help("Print what a notes template can use, as JSON, instead of the notes"),
        )
        .arg(
            Arg::new("dist")
                .long("dist")
                .value_name("DIR")
                .value_parser(value_parser!(PathBuf))
                .requires("notes")
                .help(
                    "With --notes: the staged release directory [default: target/dist/v<VERSION>]",
                ),
        )
        .arg(
            Arg::new("date")
                .long("date")
                .value_name("DATE")
                .help("Release date, YYYY-MM-DD [default: SOURCE_DATE_EPOCH, else today (UTC)]"),
        )
    }

    pub fn from_matches(matches: &ArgMatches) -> Changelog {
        Changelog {
            unreleased: matches.get_flag("unreleased"),
            json: matches.get_flag("json"),
            write: matches.get_flag("write"),
            execute: matches.get_flag("execute"),
            notes: matches.get_flag("notes"),
            context: matches.get_flag("context"),
            dist: matches.get_one::<PathBuf>("dist").cloned(),
            date: matches.get_one::<String>("date").cloned(),
        }
    }

    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        let runner = Runner::new(!self.execute);
        let pending = Pending::collect(&workspace, &runner)?;
        let date = match &self.date {
            Some(date) => check_date(date)?,
            None => today()?,
        };
        if self.json || !(self.write || self.notes || self.unreleased) {
            pending.refuse_existing_tag(&workspace, &runner)?;
        }
        if self.json {
            let report = Report {
                previous_tag: pending.previous.as_ref().map(|p| p.tag.as_str()),
                version: pending.version.to_string(),
                commits: pending.tally.commits,
                auto_level: pending.level.map(|l| l.to_string()),
                left_out: &pending.left_out,
                sections: pending
                    .merged
                    .groups
                    .iter()
                    .map(|(name, entries)| SectionJson { name, entries })
                    .collect(),
            };
            say!("{}", serde_json::to_string_pretty(&report)?);
        } else if self.notes {
            let dist = self.dist.clone().unwrap_or_else(|| {
                workspace
                    .root
                    .join(format!("target/dist/v{}", pending.version))
            });
            let version = &pending.version;
            let tag = workspace.release.tag_for(&version);
            let image_tag = crate::docker::tag_version(version).to_string();
            let notes = notes::Notes {
                workspace: &workspace,
                version,
                tag: &tag,
                previous_tag: pending.previous.as_ref().map(|p| p.tag.as_str()),
                date: &date,
                section: &pending.merged,
                images: workspace
                    .release
                    .docker
                    .iter()
                    .map(|i| (i.name.clone(), vec![image_tag.clone()]))
                    .collect(),
                dist: Some(&dist),
                fingerprint: None,
            };
            if self.context {
                say!("{}", serde_json::to_string_pretty(&notes.context()?)?);
            } else {
                say!("{}", notes.render()?.trim_end());
            }
        } else if self.write {
            self.write(&workspace, &pending, &date)?;
            pending.tell_left_out();
        } else if self.unreleased {
            if pending.merged.is_empty() {
                pending.tell_left_out();
                bail!(
                    "nothing pending: no commits since {} that the changelog lists",
                    since(&pending)
                );
            }
            say!("## [Unreleased]\n");
            pending.merged.for_each_line(|line| say!("{line}"));
            pending.tell_left_out();
        } else {
            // The section under the version the release will write.
            if pending.level.is_none() {
                pending.tell_left_out();
                return Err(pending.nothing_to_release().into());
            }
            let version = pending.version.to_string();
            let tag = workspace.release.tag_for(&version);
            let heading = crate::core::config::fill(
                &workspace.release.changelog.heading,
                &[("version", &version), ("date", &date), ("tag", &tag)],
            );
            say!("{heading}\n");
            // Line by line: the section can be megabytes, not worth a copy.
            pending.merged.for_each_line(|line| say!("{line}"));
            pending.tell_left_out();
        }
        Ok(())
    }

    fn write(&self, workspace: &Workspace, pending: &Pending, date: &str) -> Result<()> {
        let current = workspace.product_version()?;
        if let Some(previous) = pending.previous.as_ref().filter(|p| current <= p.version) {
            bail!(
                "the workspace version {current} is not newer than the last release {}: bump first \
                 (`cargo xtask bump auto --execute`), then write the changelog",
                previous.tag
            );
        }
        let path = workspace.root.join(&workspace.release.changelog.path);
        let before = read_changelog(workspace)?;
        let tag = workspace.release.tag_for(&current);
        let links = workspace.release.github.as_deref().map(|slug| file::Links {
            slug,
            tag: &tag,
            previous_tag: pending.previous.as_ref().map(|p| p.tag.as_str()),
        });
        let style = file::Style::of(&workspace.release.changelog, &tag);
        let Some(after) = file::release(
            &before,
            &current,
            date,
            &pending.merged,
            links.as_ref(),
            &style,
        ) else {
            say!(
                "{} already has a section for {current}; nothing to do.",
                workspace.release.changelog.path
            );
            return Ok(());
        };
        if self.execute {
            crate::core::atomic::write_all(&[(path, after.into_bytes())])?;
            say!(
                "wrote the {current} section into {}",
                workspace.release.changelog.path
            );
        } else {
            say!(
                "{}",
                crate::core::diff::unified(&workspace.release.changelog.path, &before, &after)
                    .trim_end()
            );
            say!("\nDry run: nothing was written; run again with --execute to write it.");
        }
        Ok(())
    }
}

/// The CHANGELOG.md edit that releases `section` as `version` today, or
/// `None` when the file already has that version's section.
pub fn release_edit(
    workspace: &Workspace,
    version: &Version,
    section: &Section,
    previous_tag: Option<&str>,
) -> Result<Option<crate::version::sources::FileChange>> {
    let before = read_changelog(workspace)?;
    let tag = workspace.release.tag_for(&version);
    let links = workspace.release.github.as_deref().map(|slug| file::Links {
        slug,
        tag: &tag,
        previous_tag,
    });
    Ok(file::release(
        &before,
        version,
        &today()?,
        section,
        links.as_ref(),
        &file::Style::of(&workspace.release.changelog, &tag),
    )
    .map(|after| crate::version::sources::FileChange {
        file: std::path::PathBuf::from(&workspace.release.changelog.path),
        before,
        after,
    }))
}

fn since(pending: &Pending) -> String {
    pending
        .previous
        .as_ref()
        .map_or("the first commit".to_owned(), |p| p.tag.clone())
}

/// The release version `bump auto` asks for, from the commits since the
/// previous release tag: the same computation as `changelog` shows.
pub fn auto_target(workspace: &Workspace, runner: &Runner) -> Result<Target> {
    let pending = Pending::collect(workspace, runner)?;
    pending.tell_left_out();
    pending.refuse_existing_tag(workspace, runner)?;
    match pending.level {
        Some(level) => Ok(Target::Level(level)),
        None => Err(pending.nothing_to_release().into()),
    }
}

fn check_date(date: &str) -> Result<String> {
    let parts: Vec<&str> = date.split('-').collect();
    let valid = parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(len, p)| p.len() == *len && p.bytes().all(|b| b.is_ascii_digit()));
    if !valid {
        bail!("--date {date:?}: expected YYYY-MM-DD");
    }
    Ok(date.to_owned())
}

/// `SOURCE_DATE_EPOCH` (reproducible builds) or now, as a UTC date.
fn today() -> Result<String> {
    let seconds = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value
            .trim()
            .parse::<i64>()
            .with_context(|| format!("SOURCE_DATE_EPOCH = {value:?} is not a number of seconds"))?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs() as i64,
    };
    let (y, m, d) = civil_from_days(seconds.div_euclid(86_400));
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_413), (2025, 11, 21));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert!(check_date("2026-11-21").is_ok());
        assert!(check_date("2026-1-21").is_err());
    }
}
