//! `cargo xtask docker build|publish|tags`: the configured images, built for
//! this version with OCI labels and published with the tag policy of
//! [`tags`], once.
//!
//! With the buildx plugin every configured platform is built and pushed in
//! one `docker buildx build --push`, and the digest comes from its metadata
//! file. Without it (plain engines, like Debian's), the host platform is
//! built with `docker build`, then tagged and pushed. Either way the version
//! tag `X.Y.Z` is never overwritten: if the registry has it with another
//! image, publishing stops; moving tags (`X.Y`, `X`, `latest`) are updated.

mod tags;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{ArgMatches, Command};
use semver::Version;

use crate::core::config::{DockerImage, Workspace};
use crate::core::runner::Runner;
use crate::tools::docker::{self, BuildSpec};
use crate::tools::git::Git;
use crate::version::released::released_versions;
pub use tags::{build_metadata_note, for_image, tag_version, Tag};

/// Build or publish the configured container images.
#[derive(Debug)]
pub enum Docker {
    Build,
    Publish { execute: bool },
    Tags,
}

impl Docker {
    pub fn args(cmd: Command) -> Command {
        cmd.subcommand_required(true)
            .arg_required_else_help(true)
            .subcommand(Command::new("build").about(
                "Build every image for this version (all platforms with buildx, the host's without)",
            ))
            .subcommand(
                Command::new("publish")
                    .about(
                        "Push the images with the tag policy, never overwriting a version tag (dry \
                         run unless --execute)",
                    )
                    .arg(
                        crate::cli::execute_flag("Push; without it, only say what would be pushed"),
                    ),
            )
            .subcommand(Command::new("tags").about("Print the tags this version gets"))
    }

    pub fn from_matches(matches: &ArgMatches) -> Docker {
        match matches.subcommand() {
            Some(("build", _)) => Docker::Build,
            Some(("publish", args)) => Docker::Publish {
                execute: args.get_flag("execute"),
            },
            Some(("tags", _)) => Docker::Tags,
            other => unreachable!("{other:?}: not a subcommand of Docker::args"),
        }
    }

    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        let execute = matches!(self, Docker::Publish { execute: true });
        let runner = Runner::new(!execute);
        let plans = plan(&workspace, &runner)?;
        if let Some(note) = plans.first().and_then(|p| build_metadata_note(&p.version)) {
            tell!("note: {note}");
        }
        for plan in &plans {
            match self {
                Docker::Tags => say!(
                    "{}: {}",
                    plan.image.name,
                    plan.tags
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Docker::Build => build(plan, &runner)?,
                Docker::Publish { .. } => {
                    publish(plan, &runner)?;
                }
            }
        }
        Ok(())
    }
}

/// Everything one image's build and publish need, worked out up front.
pub struct Plan<'a> {
    pub image: &'a DockerImage,
    pub version: Version,
    pub tags: Vec<Tag>,
    labels: Vec<String>,
    context: PathBuf,
    dockerfile: PathBuf,
    buildx: bool,
    /// What this run builds: the configured platforms, or the host's.
    platforms: Vec<String>,
    /// `target/dist/v<X.Y.Z>/docker/<image>.json`: what was built and pushed.
    record: PathBuf,
}

/// What a build and a push left behind, for re-runs and resume.
#[derive(Debug, Default)]
struct Record {
    /// The local image's config digest (plain docker).
    image_id: Option<String>,
    /// The pushed manifest (list) digest.
    digest: Option<String>,
}

record!(read write: Record (Same) {
    image_id,
    digest,
});

/// What every image of one release is built from.
pub struct Source {
    pub version: Version,
    /// The commit the images are built from (`revision` label).
    pub revision: String,
    /// Its commit date (`created` label).
    pub created: String,
    /// Whether the buildx plugin is there.
    pub buildx: bool,
}

impl Source {
    pub fn buildx(runner: &Runner) -> Result<bool> {
        Ok(runner.output(&docker::buildx_version())?.success())
    }
}

/// The images of the workspace's version, built from HEAD (the `docker`
/// subcommands).
pub fn plan<'a>(workspace: &'a Workspace, runner: &Runner) -> Result<Vec<Plan<'a>>> {
    let version = workspace.product_version()?;
    let git = Git::at(&workspace.root);
    let revision = runner.read(&git.resolve("HEAD"))?.trim().to_owned();
    let created = runner.read(&git.commit_date("HEAD"))?.trim().to_owned();
    let released = released_versions(&workspace.release, &workspace.root, runner)?;
    let source = Source {
        version: version.clone(),
        created,
        buildx: Source::buildx(runner)?,
        revision,
    };
    Ok(workspace
        .release
        .docker
        .iter()
        .map(|image| {
            let tags = for_image(
                image,
                &version,
                &released,
                &source.revision[..source.revision.len().min(7)],
            );
            Plan::new(workspace, image, &source, tags)
        })
        .collect())
}

impl<'a> Plan<'a> {
    /// One image of `source` with exactly `tags`.
    pub fn new(
        workspace: &'a Workspace,
        image: &'a DockerImage,
        source: &Source,
        tags: Vec<Tag>,
    ) -> Plan<'a> {
        let repository = match (&workspace.release.github, &workspace.repository) {
            (Some(slug), _) => format!("https://github.com/{slug}"),
            (None, Some(repository)) => repository.clone(),
            (None, None) => String::new(),
        };
        let version = &source.version;
        let title = image.name.rsplit('/').next().unwrap_or(&image.name);
        let labels = [
            ("version", version.to_string()),
            ("revision", source.revision.clone()),
            ("source", repository),
            ("created", source.created.clone()),
            ("title", title.to_owned()),
            ("licenses", workspace.license.clone().unwrap_or_default()),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("org.opencontainers.image.{key}={value}"))
        .collect();
        let file_name = image.name.replace(['/', ':'], "_");
        Plan {
            image,
            tags,
            labels,
            context: workspace
                .root
                .join(image.context.replace("{version}", &version.to_string())),
            dockerfile: workspace.root.join(&image.dockerfile),
            buildx: source.buildx,
            platforms: if source.buildx {
                image.platforms.clone()
            } else {
                vec![host_platform()]
            },
            record: workspace.root.join(format!(
                "target/xtask-release/v{version}/docker/{file_name}.json"
            )),
            version: version.clone(),
        }
    }

    /// The commands that build and publish the image, as a first publish
    /// runs them (a re-run skips what the registry already holds).
    pub fn commands(&self) -> Vec<crate::core::runner::Cmd> {
        let args = self.build_args();
        let mut commands: Vec<crate::core::runner::Cmd> = login_command(self).into_iter().collect();
        if self.buildx {
            let refs: Vec<String> = self.tags.iter().map(|t| self.reference(&t.name)).collect();
            let metadata = self.record.with_extension("buildx-metadata.json");
            commands.push(docker::buildx_build(
                &self.spec(&refs, &args),
                &self.platforms,
                &metadata,
                true,
            ));
            return commands;
        }
        let version_ref = self.version_ref();
        commands.push(docker::build(
            &self.spec(std::slice::from_ref(&version_ref), &args),
        ));
        commands.push(docker::push(&version_ref));
        for tag in &self.tags {
            let reference = self.reference(&tag.name);
            if reference != version_ref {
                commands.push(docker::tag(&version_ref, &reference));
                commands.push(docker::push(&reference));
            }
        }
        commands
    }
}

/// This machine as an OCI platform (`linux/amd64`, `linux/arm64`,
/// `linux/arm/v7` on a 32-bit Raspberry Pi OS): the one owner of that name.
pub fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm/v7",
        other => other,
    };
    format!("linux/{arch}")
}

impl Plan<'_> {
    fn reference(&self, tag: &str) -> String {
        format!("{}:{tag}", self.image.name)
    }

    /// The image's `X.Y.Z` reference (build metadata dropped, as in its tag).
    fn version_ref(&self) -> String {
        self.reference(&tag_version(&self.version).to_string())
    }

    fn spec<'s>(&'s self, refs: &'s [String], build_args: &'s [String]) -> BuildSpec<'s> {
        BuildSpec {
            dockerfile: &self.dockerfile,
            context: &self.context,
            refs,
            labels: &self.labels,
            build_args,
            no_cache: self.image.no_cache,
            target: self.image.target.as_deref(),
        }
    }

    fn build_args(&self) -> Vec<String> {
        self.image
            .build_args
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    /// Where buildx writes its metadata; the directory is made here.
    fn metadata_file(&self) -> Result<PathBuf> {
        if let Some(dir) = self.record.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        Ok(self.record.with_extension("buildx-metadata.json"))
    }

    fn load_record(&self) -> Record {
        std::fs::read_to_string(&self.record)
            .ok()
            .and_then(|t| crate::core::record::from_str(&t).ok())
            .unwrap_or_default()
    }

    fn save_record(&self, record: &Record) -> Result<()> {
        if let Some(dir) = self.record.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::core::atomic::write_all(&[(self.record.clone(), serde_json::to_vec_pretty(record)?)])
    }

    /// Whether the registry is on this machine (plain HTTP is allowed there).
    /// Whether the engine has the buildx plugin.
    pub fn buildx(&self) -> bool {
        self.buildx
    }

    fn local_registry(&self) -> bool {
        let host = self.image.name.split('/').next().unwrap_or_default();
        ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .any(|h| host == *h || host.starts_with(&format!("{h}:")))
    }
}

fn check_inputs(plan: &Plan) -> Result<()> {
    let mut problems = Vec::new();
    if !plan.dockerfile.is_file() {
        problems.push(format!(
            "dockerfile {} does not exist (docker[].dockerfile in Cargo.toml)",
            plan.dockerfile.display()
        ));
    }
    if !plan.context.is_dir() {
        problems.push(format!(
            "build context {} does not exist (docker[].context in Cargo.toml); stage the release first \
             (`cargo xtask python build`, or the release's build step)",
            plan.context.display()
        ));
    }
    if !problems.is_empty() {
        bail!("{}: {}", plan.image.name, problems.join("; "));
    }
    Ok(())
}

pub fn build(plan: &Plan, runner: &Runner) -> Result<()> {
    check_inputs(plan)?;
    let refs = [plan.version_ref()];
    let args = plan.build_args();
    if plan.buildx {
        runner.run(&docker::buildx_build(
            &plan.spec(&refs, &args),
            &plan.platforms,
            &plan.metadata_file()?,
            false,
        ))?;
        say!("built {} for {}", refs[0], plan.platforms.join(", "));
    } else {
        if plan.image.platforms.iter().any(|p| *p != host_platform()) {
            say!(
                "notice: the buildx plugin is not installed, so only {} is built of {}",
                host_platform(),
                plan.image.platforms.join(", ")
            );
        }
        runner.run(&docker::build(&plan.spec(&refs, &args)))?;
        let image_id = runner.read(&docker::image_id(&refs[0]))?.trim().to_owned();
        plan.save_record(&Record {
            image_id: Some(image_id.clone()),
            digest: None,
        })?;
        say!("built {} ({image_id})", refs[0]);
    }
    Ok(())
}

/// What the registry holds under a reference: the manifest digest, and the
/// config digest when docker shows it.
struct Remote {
    digest: String,
    config: Option<String>,
}

fn remote(plan: &Plan, reference: &str, runner: &Runner) -> Result<Option<Remote>> {
    if plan.buildx {
        let out = runner.output(&docker::imagetools_inspect(reference))?;
        if !out.success() {
            return not_found(reference, &out.stderr);
        }
        let digest = out
            .stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("Digest:"))
            .map(|d| d.trim().to_owned());
        return Ok(digest.map(|digest| Remote {
            digest,
            config: None,
        }));
    }
    let out = runner.output(&docker::manifest_inspect(reference, plan.local_registry()))?;
    if !out.success() {
        return not_found(reference, &out.stderr);
    }
    let json: serde_json::Value = serde_json::from_str(&out.stdout)
        .with_context(|| format!("docker manifest inspect {reference}: not JSON"))?;
    let digest = json["Descriptor"]["digest"]
        .as_str()
        .with_context(|| format!("docker manifest inspect {reference}: no digest"))?;
    let manifest: Option<serde_json::Value> = json["Raw"]
        .as_str()
        .and_then(base64)
        .and_then(|raw| serde_json::from_slice(&raw).ok());
    let config = manifest.and_then(|m| m["config"]["digest"].as_str().map(str::to_owned));
    Ok(Some(Remote {
        digest: digest.to_owned(),
        config,
    }))
}

fn not_found(reference: &str, stderr: &str) -> Result<Option<Remote>> {
    let lower = stderr.to_lowercase();
    if lower.contains("no such manifest")
        || lower.contains("not found")
        || lower.contains("manifest unknown")
    {
        Ok(None)
    } else {
        bail!("asking the registry for {reference}: {}", stderr.trim())
    }
}

/// Pushes the image under every tag; the pushed digest (`None` in a dry run).
pub fn publish(plan: &Plan, runner: &Runner) -> Result<Option<String>> {
    let foreign: Vec<&String> = plan
        .image
        .platforms
        .iter()
        .filter(|p| !plan.platforms.contains(p))
        .collect();
    if !foreign.is_empty() && !runner.is_dry_run() {
        bail!(
            "{} is configured for {}, but without the buildx plugin only {} can be built; install Docker's \
             docker-buildx-plugin (or `docker-buildx` where your distribution has it), or set \
             docker[].platforms = [\"{}\"] in Cargo.toml",
            plan.image.name,
            plan.image.platforms.join(", "),
            host_platform(),
            host_platform()
        );
    }
    login(plan, runner)?;
    let version_ref = plan.version_ref();
    let existing = match remote(plan, &version_ref, runner) {
        // A dry run needs no network: what the registry holds only decides
        // what --execute pushes, and --execute asks again before it does.
        Err(err) if runner.is_dry_run() => {
            say!("dry run: could not ask the registry for {version_ref} ({err:#}); --execute asks again before pushing");
            None
        }
        found => found?,
    };
    let digest = if plan.buildx {
        publish_buildx(plan, existing, runner)?
    } else {
        publish_plain(plan, existing, runner)?
    };
    let Some(digest) = digest else {
        say!(
            "dry run: would push {}",
            plan.tags
                .iter()
                .map(|t| plan.reference(&t.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(None);
    };
    verify_tags(plan, &digest, runner)?;
    say!(
        "{} -> {digest}",
        plan.tags
            .iter()
            .map(|t| plan.reference(&t.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Some(digest))
}

/// Builds one `platform` of the image and pushes it by digest, with no tag
/// (a part of a release built on that platform's machine); its digest.
pub fn push_platform(plan: &Plan, platform: &str, runner: &Runner) -> Result<String> {
    check_inputs(plan)?;
    login(plan, runner)?;
    if !plan.buildx {
        return push_platform_plain(plan, platform, runner);
    }
    let args = plan.build_args();
    let metadata = plan
        .metadata_file()?
        .with_extension(format!("{}.json", platform.replace('/', "-")));
    runner.run(&docker::buildx_push_by_digest(
        &plan.spec(&[], &args),
        platform,
        &plan.image.name,
        &metadata,
    ))?;
    let text = std::fs::read_to_string(&metadata)
        .with_context(|| format!("reading buildx's {}", metadata.display()))?;
    let meta: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", metadata.display()))?;
    let digest = meta["containerimage.digest"]
        .as_str()
        .with_context(|| format!("{}: no containerimage.digest", metadata.display()))?;
    say!(
        "pushed {} for {platform} by digest: {digest}",
        plan.image.name
    );
    Ok(digest.to_owned())
}

/// What merges the per-platform `digests`: `imagetools create` with
/// buildx, else `docker manifest create` (then one push per tag).
pub fn merge_command(plan: &Plan, digests: &[String]) -> crate::core::runner::Cmd {
    if !plan.buildx {
        let sources: Vec<String> = digests
            .iter()
            .map(|d| format!("{}@{d}", plan.image.name))
            .collect();
        return docker::manifest_create(&plan.version_ref(), &sources, plan.local_registry());
    }
    let refs: Vec<String> = plan.tags.iter().map(|t| plan.reference(&t.name)).collect();
    let mut sorted: Vec<&String> = digests.iter().collect();
    sorted.sort();
    let sources: Vec<String> = sorted
        .iter()
        .map(|d| format!("{}@{d}", plan.image.name))
        .collect();
    docker::imagetools_create(&refs, &sources)
}

/// The sorted platform digests of a manifest list (`manifests[].digest`
/// of the registry's JSON, as imagetools or docker manifest print it).
fn platform_digests(reference: &str, json: &str) -> Result<Vec<String>> {
    let list: serde_json::Value = serde_json::from_str(json.trim())
        .with_context(|| format!("the manifest list of {reference} is not JSON: {json}"))?;
    let mut held: Vec<String> = list["manifests"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["digest"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    held.sort();
    Ok(held)
}

/// A version tag that already names a list of other platform digests is
/// another build: never moved.
fn refuse_another_list(version_ref: &str, json: &str, wanted: &[&str]) -> Result<()> {
    let held = platform_digests(version_ref, json)?;
    if held != wanted {
        bail!(
            "{version_ref} already holds another image (platform digests {}), not this release's ({}); \
             a version tag is never moved: release a new version",
            held.join(", "),
            wanted.join(", ")
        );
    }
    Ok(())
}

/// Every planned tag is a manifest list of exactly `platforms` (the engine
/// without buildx); only reads.
pub fn verify_list(plan: &Plan, platforms: &[String], runner: &Runner) -> Result<()> {
    let mut wanted: Vec<&str> = platforms.iter().map(String::as_str).collect();
    wanted.sort();
    for tag in &plan.tags {
        let reference = plan.reference(&tag.name);
        let out = runner.read(&docker::manifest_raw(&reference, plan.local_registry()))?;
        let held = platform_digests(&reference, &out)?;
        if held != wanted {
            bail!(
                "{reference} holds the platform digests {}, not the release's {}",
                held.join(", "),
                wanted.join(", ")
            );
        }
    }
    Ok(())
}

/// The engine without buildx builds its own platform only: built with
/// `docker build`, pushed under `<version>-<os>-<arch>` (a plain push needs
/// a tag), its digest as the registry reports it.
fn push_platform_plain(plan: &Plan, platform: &str, runner: &Runner) -> Result<String> {
    let host = host_platform();
    if platform != host {
        bail!(
            "{}: without the buildx plugin this {host} engine builds {host} only; build part image:{}:{platform} \
             on a {platform} machine (the plan's runs-on labels), or install docker-buildx-plugin",
            plan.image.name,
            plan.image.name
        );
    }
    let reference = plan.reference(&format!(
        "{}-{}",
        tag_version(&plan.version),
        platform.replace('/', "-")
    ));
    let args = plan.build_args();
    let refs = [reference.clone()];
    runner.run(&docker::build(&plan.spec(&refs, &args)))?;
    let digest = push(&reference, runner)?
        .with_context(|| format!("{reference}: no digest after the push"))?;
    say!(
        "pushed {} for {platform} as {reference}: {digest}",
        plan.image.name
    );
    Ok(digest)
}

/// `docker manifest`'s merge (the engine without buildx): one list under
/// each planned tag, each push reporting the same digest.
fn merge_plain(plan: &Plan, wanted: &[&str], runner: &Runner) -> Result<Option<String>> {
    let insecure = plan.local_registry();
    let version_ref = plan.version_ref();
    let existing = runner.output(&docker::manifest_raw(&version_ref, insecure))?;
    if existing.success() {
        refuse_another_list(&version_ref, &existing.stdout, wanted)?;
    }
    let sources: Vec<String> = wanted
        .iter()
        .map(|d| format!("{}@{d}", plan.image.name))
        .collect();
    let mut merged: Option<String> = None;
    for tag in &plan.tags {
        let list = plan.reference(&tag.name);
        runner.run(&docker::manifest_create(&list, &sources, insecure))?;
        let out = runner.output(&docker::manifest_push(&list, insecure))?;
        if out.code.is_none() {
            continue;
        }
        if !out.success() {
            bail!(
                "docker manifest push {list} failed:\n{}",
                format!("{}\n{}", out.stdout, out.stderr).trim()
            );
        }
        let digest = out
            .stdout
            .split_whitespace()
            .rev()
            .find(|w| w.starts_with("sha256:"))
            .with_context(|| format!("docker manifest push {list} printed no digest"))?
            .to_owned();
        match &merged {
            Some(first) if *first != digest => bail!(
                "{list} was pushed as {digest}, but {} as {first}: the lists differ",
                plan.version_ref()
            ),
            _ => merged = Some(digest),
        }
    }
    if let Some(digest) = &merged {
        say!(
            "{} -> {digest} ({} platform{})",
            plan.tags
                .iter()
                .map(|t| plan.reference(&t.name))
                .collect::<Vec<_>>()
                .join(", "),
            wanted.len(),
            if wanted.len() == 1 { "" } else { "s" }
        );
    }
    Ok(merged)
}

/// The per-platform digests as one manifest list under every planned tag
/// (`imagetools create`); the list's digest. A version tag that already
/// names a list of exactly these digests is a resumed merge; one of others
/// is another build, refused.
pub fn merge(plan: &Plan, digests: &[String], runner: &Runner) -> Result<Option<String>> {
    login(plan, runner)?;
    let version_ref = plan.version_ref();
    let mut wanted: Vec<&str> = digests.iter().map(String::as_str).collect();
    wanted.sort();
    if !plan.buildx {
        return merge_plain(plan, &wanted, runner);
    }
    let existing = match remote(plan, &version_ref, runner) {
        Err(err) if runner.is_dry_run() => {
            say!("dry run: could not ask the registry for {version_ref} ({err:#})");
            None
        }
        found => found?,
    };
    if existing.is_some() {
        let raw = runner.read(&docker::imagetools_raw(&version_ref))?;
        refuse_another_list(&version_ref, &raw, &wanted)?;
    }
    runner.run(&merge_command(plan, digests))?;
    let refs: Vec<String> = plan.tags.iter().map(|t| plan.reference(&t.name)).collect();
    if runner.is_dry_run() {
        return Ok(None);
    }
    let digest = remote(plan, &version_ref, runner)?
        .with_context(|| format!("{version_ref}: not in the registry after imagetools create"))?
        .digest;
    verify_tags(plan, &digest, runner)?;
    say!(
        "{} -> {digest} ({} platforms)",
        refs.join(", "),
        wanted.len()
    );
    Ok(Some(digest))
}

/// Every tag resolves to `digest` in the registry; only reads.
pub fn verify_tags(plan: &Plan, digest: &str, runner: &Runner) -> Result<()> {
    for tag in &plan.tags {
        let reference = plan.reference(&tag.name);
        match remote(plan, &reference, runner)? {
            Some(r) if r.digest == digest => {}
            Some(r) => bail!(
                "{reference} resolves to {} in the registry, not the pushed {digest}",
                r.digest
            ),
            None => bail!("{reference} is not in the registry"),
        }
    }
    Ok(())
}

/// One `buildx build --push` of every tag, unless the version tag is there.
fn publish_buildx(
    plan: &Plan,
    existing: Option<Remote>,
    runner: &Runner,
) -> Result<Option<String>> {
    let record = plan.load_record();
    // What the build just made (`docker::build` ran first): a reproducible
    // build on a fresh machine finishing this release makes the same digest.
    let built = std::fs::read_to_string(plan.metadata_file()?)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|m| m["containerimage.digest"].as_str().map(str::to_owned));
    if let Some(existing) = existing {
        return match record.digest.or(built) {
            Some(ours) if ours == existing.digest => {
                say!("{} is already in the registry as {ours}; not rebuilding", plan.version_ref());
                Ok(Some(ours))
            }
            _ => bail!(
                "{} is already in the registry as {}, which this repository did not record pushing; \
                 a version tag is never overwritten: release a new version",
                plan.version_ref(),
                existing.digest
            ),
        };
    }
    check_inputs(plan)?;
    let refs: Vec<String> = plan.tags.iter().map(|t| plan.reference(&t.name)).collect();
    let args = plan.build_args();
    if runner.run(&docker::buildx_build(
        &plan.spec(&refs, &args),
        &plan.platforms,
        &plan.metadata_file()?,
        true,
    ))? != crate::core::runner::Ran::Yes
    {
        return Ok(None);
    }
    let metadata_file = plan.metadata_file()?;
    let metadata = std::fs::read_to_string(&metadata_file)
        .with_context(|| format!("reading {}", metadata_file.display()))?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata)?;
    let digest = metadata["containerimage.digest"]
        .as_str()
        .context("buildx wrote no containerimage.digest")?
        .to_owned();
    plan.save_record(&Record {
        image_id: None,
        digest: Some(digest.clone()),
    })?;
    Ok(Some(digest))
}

/// `docker push` of the version tag (unless there with the same image), then
/// of every moving tag that points elsewhere.
fn publish_plain(plan: &Plan, existing: Option<Remote>, runner: &Runner) -> Result<Option<String>> {
    let version_ref = plan.version_ref();
    let local = runner.output(&docker::image_id(&version_ref))?;
    if !local.success() {
        bail!("{version_ref} is not built here: run `cargo xtask docker build` first");
    }
    let image_id = local.stdout.trim().to_owned();
    let mut digest = match existing {
        Some(remote) if remote.config.as_deref() == Some(image_id.as_str()) => {
            say!("{version_ref} is already in the registry with this image ({}); skipped", remote.digest);
            Some(remote.digest)
        }
        Some(remote) => bail!(
            "{version_ref} is already in the registry as {} with another image than the local {image_id}; \
             a version tag is never overwritten: release a new version",
            remote.digest
        ),
        None => push(&version_ref, runner)?,
    };
    let version_tag = tag_version(&plan.version).to_string();
    for tag in plan.tags.iter().filter(|t| t.name != version_tag) {
        let reference = plan.reference(&tag.name);
        runner.run(&docker::tag(&version_ref, &reference))?;
        let Some(ours) = &digest else {
            runner.run(&docker::push(&reference))?;
            continue;
        };
        match remote(plan, &reference, runner)? {
            Some(r) if &r.digest == ours => say!("{reference} already points at {ours}"),
            Some(_) if !tag.moving => bail!("{reference} is in the registry with another image; it is not a moving tag, so it stays"),
            _ => digest = push(&reference, runner)?.or(digest),
        }
    }
    if let Some(digest) = &digest {
        plan.save_record(&Record {
            image_id: Some(image_id),
            digest: Some(digest.clone()),
        })?;
    }
    Ok(digest)
}

/// `docker push`, and the digest it reports (`None` in a dry run).
fn push(reference: &str, runner: &Runner) -> Result<Option<String>> {
    let out = runner.output(&docker::push(reference))?;
    if out.code.is_none() {
        return Ok(None);
    }
    if !out.success() {
        bail!(
            "docker push {reference} failed:\n{}",
            format!("{}\n{}", out.stdout, out.stderr).trim()
        );
    }
    let digest = out
        .stdout
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .map(str::to_owned);
    digest
        .map(Some)
        .with_context(|| format!("docker push {reference} printed no digest"))
}

/// `docker login` when DOCKER_USERNAME and DOCKER_PASSWORD are set; else the
/// engine's stored credentials are used.
fn login(plan: &Plan, runner: &Runner) -> Result<()> {
    if let Some(login) = login_command(plan) {
        runner.run(&login)?;
    }
    Ok(())
}

fn login_command(plan: &Plan) -> Option<crate::core::runner::Cmd> {
    let (Ok(user), true) = (
        std::env::var("DOCKER_USERNAME"),
        std::env::var_os("DOCKER_PASSWORD").is_some(),
    ) else {
        return None;
    };
    let first = plan.image.name.split('/').next().unwrap_or_default();
    let registry = if first.contains(['.', ':']) || first == "localhost" {
        first
    } else {
        "docker.io"
    };
    Some(docker::login(registry, &user))
}

/// Standard base64, for the raw manifest docker prints.
fn base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        assert_eq!(base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64("aGVsbG8h").unwrap(), b"hello!");
        assert_eq!(base64("eyJhIjogMX0=").unwrap(), br#"{"a": 1}"#);
        assert!(base64("bad*").is_none());
    }
}
