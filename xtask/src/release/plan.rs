//! The plan of a release: pure data worked out before anything runs.
//!
//! Versions, tags, the file edits, the changelog section, the images and their
//! tags, and every step with the exact commands it will run (secrets only by
//! name). `--json` prints it; the dry run prints it; the journal stores it, so
//! `--resume` never plans (or bumps) again.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use semver::Version;

use crate::changelog::section::Section;
use crate::changelog::Pending;
use crate::core::config::Workspace;
use crate::core::dist::{Dist, Planned};
use crate::core::runner::Runner;
use crate::tools::git::Git;
use crate::version::level::{next_version, Level, Target};
use crate::version::pep440::{to_pep440, PreKind};
use crate::version::released::{is_highest, released_versions};
use crate::version::sources::VersionSources;

/// A step of the release. The order of the variants is the order they run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepName {
    Preflight,
    Prepare,
    Build,
    Verify,
    Push,
    Ci,
    GithubDraft,
    Pypi,
    Docker,
    GithubPublish,
    PostVerify,
}

string_enum!(StepName (Kebab) { Preflight, Prepare, Build, Verify, Push, Ci, GithubDraft, Pypi, Docker, GithubPublish, PostVerify });

/// `--skip STEP` and `--only STEP`, each with what the step does.
impl clap::ValueEnum for StepName {
    fn value_variants<'a>() -> &'a [Self] {
        &StepName::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            StepName::Preflight => "Every check that can fail, before anything changes",
            StepName::Prepare => {
                "The version edits, the CHANGELOG section, the release commit and tag"
            }
            StepName::Build => "Everything the release ships, into target/dist/v<X.Y.Z>/",
            StepName::Verify => "`sha256sum -c`, `twine check`, `models check` of what was built",
            StepName::Push => "The release commit and tag to origin, atomically",
            StepName::Ci => "Waits for the project's CI on the pushed release commit (`[ci]`)",
            StepName::GithubDraft => "The draft GitHub release with every asset",
            StepName::Pypi => "The wheel and sdist to the index",
            StepName::Docker => "The images, built and pushed with the planned tags",
            StepName::GithubPublish => "The GitHub release out of draft",
            StepName::PostVerify => {
                "Reads back what was published: assets, index files, image digests"
            }
        };
        Some(clap::builder::PossibleValue::new(self.as_str()).help(help))
    }
}

impl StepName {
    pub const ALL: [StepName; 11] = [
        StepName::Preflight,
        StepName::Prepare,
        StepName::Build,
        StepName::Verify,
        StepName::Push,
        StepName::Ci,
        StepName::GithubDraft,
        StepName::Pypi,
        StepName::Docker,
        StepName::GithubPublish,
        StepName::PostVerify,
    ];

    pub fn as_str(self) -> &'static str {
        self.json_name()
    }
}

impl std::fmt::Display for StepName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a release will do, worked out once before anything runs and never
/// changed afterwards; what the steps did lives in the journal.
#[derive(Clone, Debug)]
pub struct Plan {
    pub version: String,
    pub pep440_version: Option<String>,
    pub current_version: String,
    pub tag: String,
    pub previous_tag: Option<String>,
    /// The version of the previous release, which this one must exceed.
    pub previous_version: Option<String>,
    pub branch: String,
    /// HEAD when the release was planned: the release commit's parent.
    pub commit: String,
    /// Whether this release becomes GitHub's latest and moves `latest` tags.
    pub latest: bool,
    /// The GPG key that signs the checksums and provenance, if any.
    pub sign_key: Option<String>,
    /// Where each published Python package is uploaded, by distribution
    /// name (TWINE_REPOSITORY_URL, else its `index-url`), without
    /// credentials; a resume uses these.
    pub index_urls: std::collections::BTreeMap<String, String>,
    pub file_edits: Vec<String>,
    /// The CHANGELOG.md section this release writes.
    pub changelog: Section,
    /// The GitHub release's title (the first line of its notes).
    pub title: String,
    /// The release commit's message and the annotated tag's, filled in.
    pub commit_message: String,
    pub tag_message: String,
    /// Further tags on the release commit (`models-v0.2.0`), pushed with it.
    pub extra_tags: Vec<ExtraTag>,
    /// The branch the release commit is merged into in the same push
    /// (`merge-back`, when the release is from another branch).
    pub merge_back: Option<String>,
    /// The staged directory, `target/dist/v<X.Y.Z>`.
    pub dist: PathBuf,
    /// The files the release ships, by the name they are downloaded under.
    pub assets: Vec<String>,
    pub images: Vec<Image>,
    pub steps: Vec<PlannedStep>,
}

record!(read write: Plan (Same) {
    version,
    pep440_version,
    current_version,
    tag,
    previous_tag,
    previous_version,
    branch,
    commit,
    latest,
    sign_key,
    index_urls = Default::default(),
    file_edits,
    changelog,
    title,
    commit_message = Default::default(),
    tag_message = Default::default(),
    extra_tags = Default::default(),
    merge_back = Default::default(),
    dist,
    assets,
    images,
    steps,
});

impl Plan {
    pub fn dist(&self) -> Dist {
        Dist::at(&self.dist)
    }

    pub fn step(&self, name: StepName) -> &PlannedStep {
        self.steps
            .iter()
            .find(|s| s.name == name)
            .expect("a plan has every step")
    }
}

/// A staged file as the build step recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

record!(read write: Asset (Same) {
    path,
    size,
    sha256,
});

#[derive(Clone, Debug)]
pub struct Image {
    pub name: String,
    pub tags: Vec<crate::docker::Tag>,
    /// Why the tags differ from the version, e.g. build metadata dropped.
    pub note: Option<String>,
}

record!(read write: Image (Same) {
    name,
    tags,
    note = Default::default() ; skip_if Option::is_none,
});

/// A further tag: annotated with `message`, or lightweight without one.
#[derive(Clone, Debug)]
pub struct ExtraTag {
    pub name: String,
    pub message: Option<String>,
}

record!(read write: ExtraTag (Same) {
    name,
    message,
});

#[derive(Clone, Debug)]
pub struct PlannedStep {
    pub name: StepName,
    /// Left out with --skip.
    pub skipped: bool,
    /// The commands that change something, as `--execute` runs them
    /// (secrets by name only).
    pub commands: Vec<String>,
}

record!(read write: PlannedStep (Same) {
    name,
    skipped,
    commands,
});

/// What the user asked for.
pub struct Request<'a> {
    pub target: Option<&'a str>,
    pub pre: Option<PreKind>,
    pub skip: &'a [StepName],
    pub sign_key: Option<String>,
}

/// The plan of a release, from the workspace and the request; the version
/// sources come back too (a dry run shows their edits).
pub fn plan(
    workspace: &Workspace,
    request: &Request,
    runner: &Runner,
) -> Result<(Plan, VersionSources)> {
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
    let version = target_version(workspace, request, &current, runner)?;
    let packages = crate::python::packages(workspace)?;
    let pep440 = (!packages.is_empty())
        .then(|| to_pep440(&version))
        .transpose()?;
    let released = released_versions(&workspace.release, &workspace.root, runner)?;
    let pending = Pending::collect(workspace, runner)?;
    let mut file_edits: Vec<String> = sources
        .rewrite(&version)?
        .iter()
        .map(|c| c.file.display().to_string())
        .collect();
    file_edits.push(workspace.release.changelog.path.clone());
    let mut planned = planned_assets(
        workspace,
        &version,
        pep440.as_deref(),
        request.sign_key.is_some(),
    )?;
    // The configured repository files: before the records, which cover them.
    for asset in crate::assets::planned(workspace, &version.to_string(), runner)? {
        let from = match asset.bundle {
            true => format!("the bundle of {} files", asset.from.len()),
            false => asset.from.join(", "),
        };
        planned.push(Planned {
            name: asset.name,
            from,
        });
    }
    planned.sort_by(|a, b| a.name.cmp(&b.name));
    crate::core::dist::refuse_duplicates(&planned).context("the release's assets")?;
    let tag = workspace.release.tag_for(&version);
    let title = crate::changelog::notes::title(workspace, &version, &tag, &pending.merged)?;
    let summary = crate::changelog::notes::summary(&pending.merged);
    let version_text = version.to_string();
    let previous_tag = pending
        .previous
        .as_ref()
        .map(|p| p.tag.clone())
        .unwrap_or_default();
    let values = [
        ("version", version_text.as_str()),
        ("tag", tag.as_str()),
        ("pep440", pep440.as_deref().unwrap_or(version_text.as_str())),
        ("summary", summary.as_str()),
        ("previous_tag", previous_tag.as_str()),
    ];
    let release = &workspace.release;
    let tag_message = crate::core::config::fill(&release.tag_message, &values);
    let extra_tags = release
        .extra_tags
        .iter()
        .map(|t| ExtraTag {
            name: crate::core::config::fill(&t.name, &values),
            message: t.annotated.then(|| {
                t.message.as_ref().map_or(tag_message.clone(), |m| {
                    crate::core::config::fill(m, &values)
                })
            }),
        })
        .collect();
    let commit_message = crate::core::config::fill(&release.commit_message, &values);
    let mut plan = Plan {
        version: version.to_string(),
        pep440_version: pep440,
        current_version: current.to_string(),
        title,
        commit_message,
        tag_message,
        extra_tags,
        merge_back: release
            .merge_back
            .clone()
            .filter(|target| *target != branch),
        tag,
        previous_tag: pending.previous.as_ref().map(|p| p.tag.clone()),
        previous_version: pending.previous.as_ref().map(|p| p.version.to_string()),
        branch,
        latest: is_highest(&version, &released),
        sign_key: request.sign_key.clone(),
        index_urls: packages
            .iter()
            .filter(|p| p.config.publish)
            .map(|p| (p.name.clone(), crate::python::upload_url(p.config, None)))
            .collect(),
        file_edits,
        changelog: pending.merged,
        dist: Dist::of(&workspace.root, &version).dir().to_owned(),
        assets: planned.into_iter().map(|p| p.name).collect(),
        images: images(workspace, &version, &released, &commit),
        commit,
        steps: Vec::new(),
    };
    plan.steps = steps(workspace, &plan, request.skip, runner)?;
    Ok((plan, sources))
}

/// The version the request asks for; never one that is already tagged (on
/// any line).
fn target_version(
    workspace: &Workspace,
    request: &Request,
    current: &Version,
    runner: &Runner,
) -> Result<Version> {
    let target = match request.target {
        None | Some("auto") => crate::changelog::auto_target(workspace, runner)?,
        Some(target) => Target::parse(target)?,
    };
    let version = next_version(current, &target, request.pre)?;
    let level = match (&target, request.pre) {
        // `current` steps nowhere: there is no "next free current".
        (Target::Level(Level::Current), _) => None,
        (Target::Level(level), None) => Some(*level),
        _ => None,
    };
    crate::changelog::refuse_existing_tag(workspace, &version, level, runner)?;
    Ok(version)
}

/// Each configured image with the tags the policy gives this version.
fn images(
    workspace: &Workspace,
    version: &Version,
    released: &[Version],
    commit: &str,
) -> Vec<Image> {
    workspace
        .release
        .docker
        .iter()
        .map(|image| Image {
            name: image.name.clone(),
            tags: crate::docker::for_image(
                image,
                version,
                released,
                &commit[..commit.len().min(7)],
            ),
            note: crate::docker::build_metadata_note(version),
        })
        .collect()
}

/// Every step with the commands it will run, planned from `plan` alone.
fn steps(
    workspace: &Workspace,
    plan: &Plan,
    skip: &[StepName],
    runner: &Runner,
) -> Result<Vec<PlannedStep>> {
    let nothing_yet = std::collections::BTreeMap::new();
    let cx = crate::steps::Cx {
        ws: workspace,
        plan,
        records: &nothing_yet,
        runner,
        edits: &[],
        arguments: &[],
        skip_tests: false,
        split: None,
    };
    StepName::ALL
        .iter()
        .map(|&name| {
            let commands = crate::steps::step(name)
                .commands(&cx)
                .with_context(|| format!("planning {name}"))?;
            Ok(PlannedStep {
                name,
                skipped: skip.contains(&name),
                commands: commands.iter().map(|c| c.to_string()).collect(),
            })
        })
        .collect()
}

/// Every file the release will ship, and where each comes from.
fn planned_assets(
    ws: &Workspace,
    version: &Version,
    pep440: Option<&str>,
    signed: bool,
) -> Result<Vec<Planned>> {
    let mut planned = Vec::new();
    let mut add = |name: String, from: String| planned.push(Planned { name, from });
    for package in crate::python::packages(ws)? {
        let Some(pep440) = pep440 else { break };
        let stem = crate::python::file_stem(&package.name);
        let from = format!("`python -m build` of {}", package.config.path);
        add(format!("{stem}-{pep440}-py3-none-any.whl"), from.clone());
        add(format!("{stem}-{pep440}.tar.gz"), from);
    }
    for model in &ws.release.models {
        for file in crate::model::metadata_files(ws, model)? {
            let from = file
                .strip_prefix(&ws.root)
                .unwrap_or(&file)
                .display()
                .to_string();
            add(crate::core::dist::name_of(&file), from);
        }
        for asset in &model.assets {
            add(
                crate::core::dist::name_of(std::path::Path::new(asset)),
                asset.clone(),
            );
        }
        let exported = model
            .export
            .as_ref()
            .filter(|_| model.assets.iter().any(|a| a.ends_with(".pth")));
        if let Some(export) = exported {
            let calibration = (!export.calibration.is_empty()).then(|| "calib.npy".to_owned());
            let suffixes = std::iter::once("onnx".to_owned())
                .chain(export.outputs.iter().cloned())
                .chain(calibration);
            for suffix in suffixes {
                add(
                    format!("{}.{suffix}", model.name),
                    format!("the ONNX export of {}", model.name),
                );
            }
        }
        if model.hef.is_some() {
            for suffix in ["hef", "hef.json"] {
                add(
                    format!("{}.{suffix}", model.name),
                    format!("the HEF compile of {}", model.name),
                );
            }
        }
    }
    let records = [
        ws.release.sbom_for(&version),
        crate::core::dist::SUMS.to_owned(),
        crate::core::dist::MANIFEST.to_owned(),
        crate::core::dist::PROVENANCE.to_owned(),
    ];
    for name in records {
        add(name, "the release".to_owned());
    }
    if signed {
        let signed: Vec<String> = if ws.release.sign_assets {
            planned.iter().map(|p| p.name.clone()).collect()
        } else {
            vec![
                crate::core::dist::SUMS.to_owned(),
                crate::core::dist::PROVENANCE.to_owned(),
            ]
        };
        for name in signed {
            planned.push(Planned {
                from: format!("the signature of {name}"),
                name: format!("{name}{}", crate::core::dist::SIGNATURE),
            });
        }
    }
    planned.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(planned)
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
