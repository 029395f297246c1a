//! The steps that change the world outside this checkout: push, the GitHub
//! draft, the index, the images, publishing the draft; and post-verify,
//! which only reads back what they did.

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::{Cx, Outcome, Step};
use crate::core::runner::Cmd;
use crate::github::Repo;
use crate::python::PythonDist;
use crate::release::plan::StepName;
use crate::tools::gh;
use crate::tools::git::Git;

/// Under a dry run, prints the step's commands and does nothing else.
fn dry_run(cx: &Cx, name: StepName) -> Result<Option<Outcome>> {
    if !cx.dry_run() {
        return Ok(None);
    }
    super::print_commands(cx, name)?;
    Ok(Some(Outcome::default()))
}

/// The tag's commit, by name: what is pushed to the branch is what the tag
/// points at, never whatever is checked out when the push runs.
fn tag_commit(tag: &str) -> String {
    format!("refs/tags/{tag}^{{commit}}")
}

pub struct Push;

impl Step for Push {
    fn commands(&self, cx: &Cx) -> Result<Vec<Cmd>> {
        let plan = cx.plan;
        let git = Git::at(&cx.ws.root);
        let mut tags = vec![plan.tag.as_str()];
        tags.extend(plan.extra_tags.iter().map(|t| t.name.as_str()));
        let rev = tag_commit(&plan.tag);
        Ok(vec![match &plan.merge_back {
            // The merge commit is made at the push, from origin's branch then.
            Some(into) => git.push_atomic_merged(
                &rev,
                &plan.branch,
                &tags,
                &format!("<the merge of {} into {into}>", plan.tag),
                into,
            ),
            None => git.push_atomic(&rev, &plan.branch, &tags),
        }])
    }

    /// The tag is on origin at the release commit.
    fn done(&self, cx: &Cx) -> Result<bool> {
        let git = Git::at(&cx.ws.root);
        let local = cx.runner.read(&git.resolve(&tag_commit(&cx.plan.tag)))?;
        let remote = cx
            .runner
            .read(&git.remote_ref(&format!("refs/tags/{}^{{}}", cx.plan.tag)))?;
        let Some(sha) = remote.split_whitespace().next() else {
            return Ok(false);
        };
        if sha != local.trim() {
            bail!(
                "{} is on origin at {sha}, not at the release commit {}; it is never overwritten",
                cx.plan.tag,
                local.trim()
            );
        }
        Ok(true)
    }

    fn run(&self, cx: &Cx) -> Result<Outcome> {
        if let Some(done) = dry_run(cx, StepName::Push)? {
            return Ok(done);
        }
        if let (Some(made), Ok(local)) = (
            cx.release_commit(),
            cx.runner
                .read(&Git::at(&cx.ws.root).resolve(&tag_commit(&cx.plan.tag))),
        ) {
            if made != local.trim() {
                bail!(
                    "tag {} points at {}, but the release commit is {made}; it was moved by hand. \
                     Undo the release with `cargo xtask rollback {} --execute` and release again",
                    cx.plan.tag,
                    local.trim(),
                    cx.plan.tag
                );
            }
        }
        if self.done(cx)? {
            say!("{} is already on origin at the release commit", cx.plan.tag);
            return Ok(Outcome::default());
        }
        let mut commands = self.commands(cx)?;
        if let (Some(into), Some(release)) = (&cx.plan.merge_back, cx.release_commit()) {
            let merge = merge_back(cx, release, into)?;
            let mut tags = vec![cx.plan.tag.as_str()];
            tags.extend(cx.plan.extra_tags.iter().map(|t| t.name.as_str()));
            commands = vec![Git::at(&cx.ws.root).push_atomic_merged(
                &tag_commit(&cx.plan.tag),
                &cx.plan.branch,
                &tags,
                &merge,
                into,
            )];
        }
        for command in commands {
            cx.runner.run(&command).with_context(|| {
                format!(
                    "nothing was pushed. If origin's {} moved, the release commit is no longer on top of it: \
                     `cargo xtask rollback {} --execute`, `git pull --rebase`, then release again",
                    cx.plan.branch, cx.plan.tag
                )
            })?;
        }
        Ok(Outcome::default())
    }
}

/// The merge of `release` into origin's `into` as it is now: the merge
/// commit (on no branch until the push), or the conflicted files, with
/// nothing pushed.
pub fn merge_back(cx: &Cx, release: &str, into: &str) -> Result<String> {
    let git = Git::at(&cx.ws.root);
    cx.runner.run(&git.fetch_branch(into)).with_context(|| {
        format!("fetching origin's {into} to merge the release into it (merge-back)")
    })?;
    let merged = cx.runner.output(&git.merge_tree("FETCH_HEAD", release))?;
    let mut lines = merged.stdout.lines();
    let tree = lines.next().unwrap_or_default().trim().to_owned();
    if !merged.success() {
        let files: Vec<&str> = lines.take_while(|l| !l.is_empty()).collect();
        bail!(
            "merging {} into {into} conflicts in {}; nothing was pushed. Merge {} into {into} by hand \
             and push it, then `cargo xtask release --resume --execute` without merge-back, or \
             `cargo xtask rollback {} --execute`",
            cx.plan.tag,
            files.join(", "),
            cx.plan.branch,
            cx.plan.tag
        );
    }
    let base = cx.runner.read(&git.resolve("FETCH_HEAD"))?;
    let message = format!("Merge {} into {into}", cx.plan.tag);
    let commit = cx
        .runner
        .read(&git.merge_commit(&tree, [base.trim(), release], &message))?;
    Ok(commit.trim().to_owned())
}

pub struct GithubDraft;

impl Step for GithubDraft {
    fn commands(&self, cx: &Cx) -> Result<Vec<Cmd>> {
        if cx.ws.release.github.is_none() {
            return Ok(Vec::new());
        }
        let plan = cx.plan;
        let dist = plan.dist();
        let prerelease = !semver::Version::parse(&plan.version)?.pre.is_empty();
        let files: Vec<_> = cx.asset_names().iter().map(|n| dist.file(n)).collect();
        let repo = Repo::of(cx.ws);
        let notes = dist.file(crate::core::dist::NOTES);
        Ok(vec![
            repo.at(gh::release_create(
                &plan.tag,
                &plan.title,
                &notes,
                prerelease,
            )),
            repo.at(gh::release_upload(&plan.tag, &files)),
        ])
    }

    fn run(&self, cx: &Cx) -> Result<Outcome> {
        if let Some(done) = dry_run(cx, StepName::GithubDraft)? {
            return Ok(done);
        }
        if cx.ws.release.github.is_none() {
            return Ok(Outcome::default());
        }
        let plan = cx.plan;
        let prerelease = !semver::Version::parse(&plan.version)?.pre.is_empty();
        crate::github::draft(
            &plan.tag,
            &plan.title,
            prerelease,
            &plan.dist(),
            &Repo::of(cx.ws),
            cx.runner,
        )?;
        Ok(Outcome::default())
    }
}

pub struct GithubPublish;

impl Step for GithubPublish {
    fn commands(&self, cx: &Cx) -> Result<Vec<Cmd>> {
        if cx.ws.release.github.is_none() {
            return Ok(Vec::new());
        }
        Ok(vec![
            Repo::of(cx.ws).at(gh::release_publish(&cx.plan.tag, cx.plan.latest))
        ])
    }

    fn run(&self, cx: &Cx) -> Result<Outcome> {
        if let Some(done) = dry_run(cx, StepName::GithubPublish)? {
            return Ok(done);
        }
        if cx.ws.release.github.is_some() {
            crate::github::publish(&cx.plan.tag, cx.plan.latest, &Repo::of(cx.ws), cx.runner)?;
        }
        Ok(Outcome::default())
    }
}

/// The published packages with the wheel and sdist each ships, as staged.
fn python_dists<'w>(cx: &Cx<'w>) -> Result<Vec<(crate::python::Package<'w>, PythonDist)>> {
    let staged = super::build::staged_python(cx.ws, cx.plan, cx.runner)?;
    let published = crate::python::packages(cx.ws)?
        .into_iter()
        .filter(|p| p.config.publish);
    for package in published {
        if !staged.iter().any(|(p, _)| p.name == package.name) {
            bail!(
                "no wheel and sdist of {} staged in {}",
                package.name,
                cx.plan.dist().dir().display()
            );
        }
    }
    Ok(staged
        .into_iter()
        .filter(|(p, _)| p.config.publish)
        .collect())
}

pub struct Pypi;

impl Step for Pypi {
    fn commands(&self, cx: &Cx) -> Result<Vec<Cmd>> {
        let dist = cx.plan.dist();
        let mut commands = Vec::new();
        for package in crate::python::packages(cx.ws)? {
            if !package.config.publish {
                continue;
            }
            let stem = crate::python::file_stem(&package.name);
            let ours = |n: &String| {
                n.starts_with(&format!("{stem}-"))
                    && (n.ends_with(".whl") || n.ends_with(".tar.gz"))
            };
            let mut files: Vec<_> = cx.asset_names().into_iter().filter(ours).collect();
            if files.is_empty() {
                // Not built here (a dry run offline): as planned.
                files = cx.plan.assets.iter().filter(|n| ours(n)).cloned().collect();
            }
            // The wheel first, as `python publish` uploads them.
            files.sort_by_key(|n| !n.ends_with(".whl"));
            let files: Vec<_> = files.iter().map(|n| dist.file(n)).collect();
            let url = cx.index_url(&package);
            commands.push(crate::tools::python::twine_upload(&url, &files));
        }
        Ok(commands)
    }

    fn run(&self, cx: &Cx) -> Result<Outcome> {
        if let Some(done) = dry_run(cx, StepName::Pypi)? {
            return Ok(done);
        }
        for (package, dist) in python_dists(cx)? {
            crate::python::publish(&dist, &cx.index_url(&package), cx.runner)?;
        }
        Ok(Outcome::default())
    }
}

pub struct Docker;

impl Docker {
    /// The plan's images with the plan's tags, built from the release commit
    /// (a dry run, which has none yet, names it so).
    fn images<'a>(cx: &Cx<'a>) -> Result<Vec<crate::docker::Plan<'a>>> {
        if cx.ws.release.docker.is_empty() {
            return Ok(Vec::new());
        }
        let (revision, created) = match cx.release_commit() {
            Some(sha) => {
                let date = cx.runner.read(&Git::at(&cx.ws.root).commit_date(sha))?;
                (sha.to_owned(), date.trim().to_owned())
            }
            None => (
                "<release commit>".to_owned(),
                "<its commit date>".to_owned(),
            ),
        };
        let source = crate::docker::Source {
            version: semver::Version::parse(&cx.plan.version)?,
            revision,
            created,
            buildx: crate::docker::Source::buildx(cx.runner)?,
        };
        cx.ws
            .release
            .docker
            .iter()
            .map(|image| {
                let planned = cx
                    .plan
                    .images
                    .iter()
                    .find(|i| i.name == image.name)
                    .with_context(|| format!("the plan has no image {}", image.name))?;
                Ok(crate::docker::Plan::new(
                    cx.ws,
                    image,
                    &source,
                    planned.tags.clone(),
                ))
            })
            .collect()
    }
}

impl Docker {
    /// An image's per-platform digests, when its platforms were built as
    /// parts on other machines (a release across machines).
    fn parts(cx: &Cx, image: &str) -> Option<Vec<String>> {
        let digests = cx.split?.image_digests(image);
        (!digests.is_empty()).then_some(digests)
    }
}

impl Step for Docker {
    fn commands(&self, cx: &Cx) -> Result<Vec<Cmd>> {
        let mut commands = Vec::new();
        for image in Docker::images(cx)? {
            match Docker::parts(cx, &image.image.name) {
                Some(digests) => commands.push(crate::docker::merge_command(&image, &digests)),
                None => commands.extend(image.commands()),
            }
        }
        Ok(commands)
    }

    fn run(&self, cx: &Cx) -> Result<Outcome> {
        if let Some(done) = dry_run(cx, StepName::Docker)? {
            return Ok(done);
        }
        let mut digests = serde_json::Map::new();
        for image in Docker::images(cx)? {
            let digest = match Docker::parts(cx, &image.image.name) {
                // Built and pushed by digest on each platform's machine: merged here.
                Some(platforms) => crate::docker::merge(&image, &platforms, cx.runner)?,
                None => {
                    crate::docker::build(&image, cx.runner)?;
                    crate::docker::publish(&image, cx.runner)?
                }
            }
            .with_context(|| format!("{}: no digest after the push", image.image.name))?;
            digests.insert(image.image.name.clone(), json!(digest));
        }
        Ok(Outcome {
            outputs: json!({ "digests": digests }),
            needs: Vec::new(),
        })
    }
}

pub struct PostVerify;

impl Step for PostVerify {
    fn commands(&self, cx: &Cx) -> Result<Vec<Cmd>> {
        Ok(super::hooks(cx, super::Hook::PostRelease))
    }

    fn run(&self, cx: &Cx) -> Result<Outcome> {
        if cx.dry_run() {
            say!("dry run: post-verify reads back the GitHub release, the index and the registry after --execute");
            super::print_commands(cx, StepName::PostVerify)?;
            return Ok(Outcome::default());
        }
        let mut checked = Vec::new();
        // Only what this release published: a skipped step's part is not read.
        let ran = |step: StepName| !cx.plan.step(step).skipped;
        if cx.ws.release.github.is_some() && ran(StepName::GithubPublish) {
            github_holds_the_assets(cx)?;
            checked.push("the GitHub release");
        }
        if ran(StepName::Pypi) {
            for (package, dist) in python_dists(cx)? {
                crate::python::verify_on_index(&dist, &cx.index_url(&package), cx.runner)?;
                if !checked.contains(&"the index") {
                    checked.push("the index");
                }
            }
        }
        let digests = cx
            .records
            .get(&StepName::Docker)
            .map(|r| r.outputs["digests"].clone());
        let images = match ran(StepName::Docker) {
            true => Docker::images(cx)?,
            false => Vec::new(),
        };
        for image in images {
            let digest = digests
                .as_ref()
                .and_then(|d| d[&image.image.name].as_str())
                .with_context(|| {
                    format!(
                        "the docker step recorded no digest for {}",
                        image.image.name
                    )
                })?;
            match Docker::parts(cx, &image.image.name) {
                // A list `docker manifest` made: each tag holds exactly the
                // parts' platform digests (the engine prints no list digest).
                Some(platforms) if !image.buildx() => {
                    crate::docker::verify_list(&image, &platforms, cx.runner)?
                }
                _ => crate::docker::verify_tags(&image, digest, cx.runner)?,
            }
            checked.push("the registry");
        }
        checked.dedup();
        match checked.is_empty() {
            true => say!("post-verify: nothing was published to read back"),
            false => say!("post-verify: {} hold the release", checked.join(", ")),
        }
        for hook in self.commands(cx)? {
            cx.runner.run(&hook).with_context(|| {
                format!("`{hook}` (hooks.post-release) failed; the release itself is published")
            })?;
        }
        Ok(Outcome::default())
    }
}

/// The published release has every built asset with its size and digest.
fn github_holds_the_assets(cx: &Cx) -> Result<()> {
    let tag = &cx.plan.tag;
    let release = crate::github::view(tag, &Repo::of(cx.ws), cx.runner)?
        .with_context(|| format!("{tag} has no GitHub release"))?;
    if release.is_draft {
        bail!("{tag} is still a draft on GitHub");
    }
    let built = cx
        .built()
        .context("the journal has no assets from the build step")?;
    for asset in &built {
        let digest = format!("sha256:{}", asset.sha256);
        let there = release.assets.iter().any(|a| {
            a.name == asset.path
                && a.size == asset.size
                && a.digest.as_ref().is_none_or(|d| *d == digest)
        });
        if !there {
            bail!(
                "the GitHub release {tag} lacks {} ({} bytes, {digest})",
                asset.path,
                asset.size
            );
        }
    }
    Ok(())
}
