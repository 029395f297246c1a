//! `cargo xtask gh-release draft|publish|status|delete`: the GitHub release of
//! this version, through `gh` only, so every state can be inspected with the
//! same commands.
//!
//! Immutable releases only take assets while they are drafts: `draft` makes
//! (or finds) the draft and uploads the staged assets whose digest differs;
//! `publish` takes it out of draft, marked latest only when this is the
//! highest release. Re-running either is a no-op once its effect is there; a
//! published release with other assets is an error, never an overwrite.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

use crate::checksums::{hex, sha256_files};
use crate::core::config::Workspace;
use crate::core::dist::Dist;
use crate::core::runner::Runner;
use crate::tools::gh;
use crate::version::released::{is_highest, released_versions};

/// Create, fill, publish or inspect the GitHub release of this version.
#[derive(Debug)]
pub struct GhRelease {
    step: Step,
    dist: Option<PathBuf>,
    execute: bool,
}

#[derive(Debug)]
enum Step {
    Draft,
    Publish,
    Status,
    Delete,
}

/// Which repository `gh` acts on: the config's `github` (as `GH_REPO` in the
/// child's environment, so neither the checkout's remotes nor a `GH_REPO`
/// the user has set can send a release elsewhere), run from `cwd`.
pub struct Repo<'a> {
    pub slug: Option<&'a str>,
    pub cwd: &'a Path,
}

impl<'a> Repo<'a> {
    pub fn of(workspace: &'a Workspace) -> Repo<'a> {
        Repo {
            slug: workspace.release.github.as_deref(),
            cwd: &workspace.root,
        }
    }

    /// `cmd` aimed at this repository.
    pub fn at(&self, cmd: crate::core::runner::Cmd) -> crate::core::runner::Cmd {
        let cmd = cmd.cwd(self.cwd);
        match self.slug {
            Some(slug) => cmd.env("GH_REPO", slug),
            None => cmd,
        }
    }
}

/// `gh release view --json` of what the release uses.
#[derive(Debug)]
pub struct Release {
    pub is_draft: bool,
    pub url: String,
    pub assets: Vec<Asset>,
}

record!(read: Release (Camel) {
    is_draft,
    url,
    assets,
});

#[derive(Debug)]
pub struct Asset {
    pub name: String,
    pub size: u64,
    /// `sha256:...` where GitHub reports it.
    pub digest: Option<String>,
}

record!(read: Asset (Same) {
    name,
    size,
    digest = Default::default(),
});

impl GhRelease {
    pub fn args(cmd: Command) -> Command {
        cmd.subcommand_required(true)
            .arg_required_else_help(true)
            .subcommand(Command::new("draft").about(
                "Make the draft release (if it is not there) and upload the staged assets whose \
                 digest differs; the body is DIST/release-notes.md",
            ))
            .subcommand(Command::new("publish").about(
                "Take the draft out of draft, marked latest only when this is the highest release",
            ))
            .subcommand(Command::new("status").about("Print the release as GitHub has it"))
            .subcommand(
                Command::new("delete").about("Delete the release (rollback); the tag stays"),
            )
            .arg(
                Arg::new("dist")
                    .long("dist")
                    .global(true)
                    .value_name("DIR")
                    .value_parser(value_parser!(PathBuf))
                    .help("The staged release directory [default: target/dist/v<VERSION>]"),
            )
            .arg(
                Arg::new("execute")
                    .long("execute")
                    .global(true)
                    .action(ArgAction::SetTrue)
                    .help("Act; without it, only say what would be done"),
            )
    }

    pub fn from_matches(matches: &ArgMatches) -> GhRelease {
        let step = match matches.subcommand_name() {
            Some("draft") => Step::Draft,
            Some("publish") => Step::Publish,
            Some("status") => Step::Status,
            Some("delete") => Step::Delete,
            other => unreachable!("{other:?}: not a subcommand of GhRelease::args"),
        };
        GhRelease {
            step,
            dist: matches.get_one::<PathBuf>("dist").cloned(),
            execute: matches.get_flag("execute"),
        }
    }

    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        let runner = Runner::new(!self.execute);
        let version = workspace.product_version()?;
        let tag = workspace.release.tag_for(&version);
        let dist = self
            .dist
            .clone()
            .unwrap_or_else(|| workspace.root.join(format!("target/dist/v{version}")));
        let cwd = &workspace.root;
        let repo = Repo::of(&workspace);
        match self.step {
            Step::Status => match view(&tag, &repo, &runner)? {
                Some(release) => say!(
                    "{tag}: {} {}\n{}",
                    if release.is_draft {
                        "draft"
                    } else {
                        "published"
                    },
                    release.url,
                    asset_lines(&release)
                ),
                None => say!("{tag}: no release on GitHub"),
            },
            Step::Draft => {
                let dist = Dist::at(dist);
                draft(
                    &tag,
                    &notes_title(&dist)?,
                    !version.pre.is_empty(),
                    &dist,
                    &repo,
                    &runner,
                )?
            }
            Step::Publish => {
                let released = released_versions(&workspace.release, cwd, &runner)?;
                publish(&tag, is_highest(&version, &released), &repo, &runner)?
            }
            Step::Delete => {
                runner.run(&repo.at(gh::release_delete(&tag)))?;
            }
        }
        Ok(())
    }
}

fn asset_lines(release: &Release) -> String {
    release
        .assets
        .iter()
        .map(|a| {
            format!(
                "  {} ({} bytes) {}",
                a.name,
                a.size,
                a.digest.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The release of `tag`, or `None` when GitHub has none.
pub fn view(tag: &str, repo: &Repo, runner: &Runner) -> Result<Option<Release>> {
    let out = runner.output(&repo.at(gh::release_view(tag)))?;
    if out.success() {
        return crate::core::record::from_str(&out.stdout)
            .map(Some)
            .with_context(|| format!("gh release view {tag}: unexpected answer"));
    }
    if out.stderr.contains("release not found") {
        return Ok(None);
    }
    bail!("gh release view {tag} failed: {}", out.stderr.trim())
}

/// The title of the notes `dist` holds: their first `# ` heading.
fn notes_title(dist: &Dist) -> Result<String> {
    let notes = dist.file(crate::core::dist::NOTES);
    let body = std::fs::read_to_string(&notes).with_context(|| {
        format!(
            "reading {}: write it first with `cargo xtask changelog --notes > {}`",
            notes.display(),
            notes.display()
        )
    })?;
    // The first heading; a template may open with anything else.
    let heading = body.lines().find(|l| l.starts_with("# "));
    Ok(heading
        .or_else(|| body.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or_default()
        .trim_start_matches('#')
        .trim()
        .to_owned())
}

/// The draft release with every staged asset, uploading only what differs.
pub fn draft(
    tag: &str,
    title: &str,
    prerelease: bool,
    dist: &Dist,
    repo: &Repo,
    runner: &Runner,
) -> Result<()> {
    let notes = dist.file(crate::core::dist::NOTES);
    if !notes.is_file() {
        bail!(
            "{}: missing; write it first with `cargo xtask changelog --notes > {}`",
            notes.display(),
            notes.display()
        );
    }
    let local = Local::of(dist)?;
    let release = match view(tag, repo, runner)? {
        Some(release) => release,
        None => {
            runner.run(&repo.at(gh::release_create(tag, title, &notes, prerelease)))?;
            match view(tag, repo, runner)? {
                Some(release) => release,
                // Dry run: nothing was created.
                None => Release {
                    is_draft: true,
                    url: String::new(),
                    assets: Vec::new(),
                },
            }
        }
    };
    let differs: Vec<PathBuf> = local
        .files
        .iter()
        .filter(|(name, _)| !local.holds(&release, name))
        .map(|(_, file)| file.path.clone())
        .collect();
    if differs.is_empty() {
        say!("{tag}: every staged asset is on the release with the same digest");
        return Ok(());
    }
    if !release.is_draft {
        bail!(
            "{tag} is already published and immutable releases take no new assets, but these differ: {}; \
             release a new version",
            differs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    runner.run(&repo.at(gh::release_upload(tag, &differs)))?;
    if runner.is_dry_run() {
        return Ok(());
    }
    let after =
        view(tag, repo, runner)?.with_context(|| format!("{tag} vanished during the upload"))?;
    if let Some((name, file)) = local
        .files
        .iter()
        .find(|(name, _)| !local.holds(&after, name))
    {
        bail!(
            "{tag}: asset {name} is not on the release with size {} and {} after the upload",
            file.size,
            file.digest
        );
    }
    say!(
        "{tag}: draft with {} assets, {} uploaded",
        local.files.len(),
        differs.len()
    );
    Ok(())
}

/// The staged assets by name, with size and digest as GitHub reports them.
struct Local {
    files: BTreeMap<String, LocalFile>,
}

struct LocalFile {
    path: PathBuf,
    size: u64,
    /// `sha256:...`.
    digest: String,
}

impl Local {
    fn of(dist: &Dist) -> Result<Local> {
        let names = dist.assets()?;
        let paths: Vec<PathBuf> = names.iter().map(|n| dist.file(n)).collect();
        let digests = sha256_files(&paths);
        let mut files = BTreeMap::new();
        for ((name, path), digest) in names.into_iter().zip(paths).zip(digests) {
            let digest = digest.with_context(|| format!("hashing {}", path.display()))?;
            let size = std::fs::metadata(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .len();
            let digest = format!("sha256:{}", hex(&digest));
            files.insert(name, LocalFile { path, size, digest });
        }
        Ok(Local { files })
    }

    /// Whether `release` has the asset `name` with this size and digest
    /// (where GitHub reports a digest).
    fn holds(&self, release: &Release, name: &str) -> bool {
        let file = &self.files[name];
        release.assets.iter().any(|a| {
            a.name == name
                && a.size == file.size
                && a.digest.as_ref().is_none_or(|d| *d == file.digest)
        })
    }
}

/// Out of draft; `latest` only for the highest release.
pub fn publish(tag: &str, latest: bool, repo: &Repo, runner: &Runner) -> Result<()> {
    let release = view(tag, repo, runner)?
        .with_context(|| format!("{tag} has no release on GitHub: run `gh-release draft` first"))?;
    if !release.is_draft {
        say!("{tag} is already published: {}", release.url);
        return Ok(());
    }
    runner.run(&repo.at(gh::release_publish(tag, latest)))?;
    if !runner.is_dry_run() && view(tag, repo, runner)?.is_none_or(|r| r.is_draft) {
        bail!("{tag} is still a draft after `gh release edit --draft=false`");
    }
    Ok(())
}
