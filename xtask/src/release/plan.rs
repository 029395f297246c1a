//! The plan of a release: pure data worked out before anything runs.
//!
//! Versions, tags, the file edits, the changelog section, the images and their
//! tags, and every step with the exact commands it will run (secrets only by
//! name). `--json` prints it; the dry run prints it; the journal stores it, so
//! `--resume` never plans (or bumps) again.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use semver::Version;
use serde::{Deserialize, Serialize};

use crate::changelog::section::Section;
use crate::changelog::Pending;
use crate::config::Workspace;
use crate::runner::Runner;
use crate::tools::git::Git;
use crate::tools::{gh, python};
use crate::version::level::{next_version, Target};
use crate::version::pep440::{to_pep440, PreKind};
use crate::version::released::{is_highest, released_versions};
use crate::version::sources::VersionSources;

/// The steps of a release, in order.
pub const STEPS: &[&str] = &[
    "prepare",
    "build",
    "verify",
    "push",
    "github-draft",
    "pypi",
    "docker",
    "github-publish",
    "post-verify",
];

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Plan {
    pub version: String,
    pub pep440_version: Option<String>,
    pub current_version: String,
    pub tag: String,
    pub previous_tag: Option<String>,
    pub branch: String,
    /// HEAD when the release was planned.
    pub commit: String,
    /// Whether this release becomes GitHub's latest and moves `latest` tags.
    pub latest: bool,
    /// The GPG key that signs the checksums and provenance, if any.
    pub sign_key: Option<String>,
    pub file_edits: Vec<String>,
    /// The CHANGELOG.md section this release writes.
    pub changelog: Section,
    /// The staged directory, `target/dist/v<X.Y.Z>`.
    pub dist: PathBuf,
    /// Filled in by the build step.
    pub assets: Vec<Asset>,
    pub images: Vec<Image>,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Asset {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Image {
    pub name: String,
    pub tags: Vec<String>,
    /// Why the tags differ from the version, e.g. build metadata dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Step {
    pub name: String,
    pub status: String,
    pub commands: Vec<String>,
}

/// What the user asked for.
pub struct Request<'a> {
    pub target: Option<&'a str>,
    pub pre: Option<PreKind>,
    pub skip: &'a [String],
    pub sign_key: Option<String>,
}

pub fn plan(
    workspace: &Workspace,
    request: &Request,
    runner: &Runner,
) -> Result<(Plan, VersionSources, Pending)> {
    let sources = VersionSources::locate(workspace, runner)?;
    let current = sources.current.clone();
    let git = Git::at(&workspace.root);
    let commit = runner
        .read(&git.resolve("HEAD"))
        .context(
            "no commit to release: is this a git repository with at least one commit? \
             (`git init` and `git add -A && git commit -m 'feat: initial import'` make one)",
        )?
        .trim()
        .to_owned();
    let branch = runner.read(&git.current_branch())?.trim().to_owned();
    let target = match request.target {
        None | Some("auto") => crate::changelog::auto_target(workspace, runner)?,
        Some(target) => Target::parse(target)?,
    };
    let version = next_version(&current, &target, request.pre)?;
    // No plan proposes a version that is already tagged (on any line).
    let level = match (&target, request.pre) {
        (Target::Level(level), None) => Some(*level),
        _ => None,
    };
    crate::changelog::refuse_existing_tag(workspace, &version, level, runner)?;
    let pep440 = workspace
        .release
        .python
        .as_ref()
        .map(|_| to_pep440(&version))
        .transpose()?;
    let tag = workspace
        .release
        .tag_name
        .replace("{version}", &version.to_string());
    let released = released_versions(&workspace.release, &workspace.root, runner)?;
    let latest = is_highest(&version, &released);
    let pending = Pending::collect(workspace, runner)?;
    let mut file_edits: Vec<String> = sources
        .rewrite(&version)?
        .iter()
        .map(|c| c.file.display().to_string())
        .collect();
    file_edits.push(workspace.release.changelog.path.clone());
    let dist = workspace.root.join(format!("target/dist/v{version}"));

    let images: Vec<Image> = workspace
        .release
        .docker
        .iter()
        .map(|image| Image {
            name: image.name.clone(),
            tags: crate::docker::tags(
                &version,
                &released,
                &image.extra_tags,
                &commit[..commit.len().min(7)],
            )
            .into_iter()
            .map(|t| t.name)
            .collect(),
            note: crate::docker::build_metadata_note(&version),
        })
        .collect();
    let steps = STEPS
        .iter()
        .map(|name| Step {
            name: (*name).to_owned(),
            status: if request.skip.iter().any(|s| s == name) {
                "skipped".to_owned()
            } else {
                "pending".to_owned()
            },
            commands: commands(
                name, workspace, &version, &tag, &branch, latest, &dist, &images,
            ),
        })
        .collect();
    Ok((
        Plan {
            version: version.to_string(),
            pep440_version: pep440,
            current_version: current.to_string(),
            tag,
            previous_tag: pending.previous.as_ref().map(|p| p.tag.clone()),
            branch,
            commit,
            latest,
            sign_key: request.sign_key.clone(),
            file_edits,
            changelog: pending.merged.clone(),
            dist,
            assets: Vec::new(),
            images,
            steps,
        },
        sources,
        pending,
    ))
}

/// The commands a step runs, as a person would type them.
#[allow(clippy::too_many_arguments)]
fn commands(
    step: &str,
    ws: &Workspace,
    version: &Version,
    tag: &str,
    branch: &str,
    latest: bool,
    dist: &std::path::Path,
    images: &[Image],
) -> Vec<String> {
    let notes = dist.join("release-notes.md");
    match step {
        "prepare" => vec![
            Git::here()
                .commit_all(&super::release_commit_message(tag))
                .to_string(),
            Git::here()
                .annotated_tag(tag, &super::release_tag_message(tag))
                .to_string(),
        ],
        "push" => vec![Git::here().push_atomic("HEAD", branch, tag).to_string()],
        "github-draft" if ws.release.github.is_some() => vec![
            gh::release_create(tag, "...", &notes, !version.pre.is_empty()).to_string(),
            format!("gh release upload {tag} <every staged asset> --clobber"),
        ],
        "pypi" => match &ws.release.python {
            Some(p) => vec![python::twine_upload(
                &crate::python::upload_url(p, None),
                &[dist.join("python/*")],
            )
            .to_string()],
            None => Vec::new(),
        },
        "docker" => images
            .iter()
            .map(|i| {
                let note = i.note.as_ref().map(|n| format!("  # {n}"));
                format!(
                    "push {} as {}{}",
                    i.name,
                    i.tags.join(", "),
                    note.unwrap_or_default()
                )
            })
            .collect(),
        "github-publish" if ws.release.github.is_some() => {
            vec![gh::release_publish(tag, latest).to_string()]
        }
        _ => Vec::new(),
    }
}

/// Refuses a plan whose version does not move past the last release.
pub fn check_progress(plan: &Plan, previous: Option<&Version>) -> Result<()> {
    let version = Version::parse(&plan.version).context("the planned version")?;
    if let Some(previous) = previous.filter(|p| version <= **p) {
        bail!(
            "{} is not greater than the last release {previous}",
            plan.version
        );
    }
    Ok(())
}
