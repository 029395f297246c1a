//! `docker` and its `buildx` plugin.

use std::path::Path;
use std::time::Duration;

use crate::core::runner::{Cmd, Effect};

/// The daemon may be remote or hung; never wait long for it.
const DAEMON_TIMEOUT: Duration = Duration::from_secs(15);

/// The client version; works without a daemon.
pub fn client_version() -> Cmd {
    super::command("docker", Effect::Query).arg("--version")
}

/// The daemon's version; fails when no daemon answers.
pub fn server_version() -> Cmd {
    super::command("docker", Effect::Query)
        .args(["version", "--format", "{{.Server.Version}}"])
        .timeout(DAEMON_TIMEOUT)
}

/// The buildx plugin's version; fails when the plugin is not installed.
pub fn buildx_version() -> Cmd {
    super::command("docker", Effect::Query)
        .args(["buildx", "version"])
        .timeout(DAEMON_TIMEOUT)
}

/// What goes into one image build.
pub struct BuildSpec<'a> {
    pub dockerfile: &'a Path,
    pub context: &'a Path,
    /// Full references, `name:tag`.
    pub refs: &'a [String],
    /// `key=value`.
    pub labels: &'a [String],
    /// `key=value`.
    pub build_args: &'a [String],
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--target STAGE`.
    pub target: Option<&'a str>,
}

impl BuildSpec<'_> {
    fn args(&self) -> Vec<String> {
        let mut args = vec!["--file".to_owned(), self.dockerfile.display().to_string()];
        for r in self.refs {
            args.extend(["--tag".to_owned(), r.clone()]);
        }
        for l in self.labels {
            args.extend(["--label".to_owned(), l.clone()]);
        }
        for a in self.build_args {
            args.extend(["--build-arg".to_owned(), a.clone()]);
        }
        if self.no_cache {
            args.push("--no-cache".to_owned());
        }
        if let Some(target) = self.target {
            args.extend(["--target".to_owned(), target.to_owned()]);
        }
        args
    }
}

/// `docker build` with the engine's own builder: the host platform only.
pub fn build(spec: &BuildSpec) -> Cmd {
    super::command("docker", Effect::Stage)
        .arg("build")
        .args(spec.args())
        .arg(spec.context.display().to_string())
}

/// `docker buildx build` for `platforms`; `--push` publishes, else the
/// result stays in the build cache (`--load` it when it is one platform).
pub fn buildx_build(
    spec: &BuildSpec,
    platforms: &[String],
    metadata_file: &Path,
    push: bool,
) -> Cmd {
    let effect = if push { Effect::Change } else { Effect::Stage };
    let mut cmd = super::command("docker", effect)
        .args(["buildx", "build", "--platform", &platforms.join(",")])
        .args(spec.args())
        .arg("--metadata-file")
        .arg(metadata_file.display().to_string());
    if push {
        cmd = cmd.arg("--push");
    } else if platforms.len() == 1 {
        cmd = cmd.arg("--load");
    }
    cmd.arg(spec.context.display().to_string())
}

/// `docker buildx build` of one platform, pushed by digest under `name`
/// with no tag: one part of a multi-platform image, merged later by
/// `imagetools create`.
pub fn buildx_push_by_digest(
    spec: &BuildSpec,
    platform: &str,
    name: &str,
    metadata_file: &Path,
) -> Cmd {
    super::command("docker", Effect::Change)
        .args(["buildx", "build", "--platform", platform])
        .args(spec.args())
        .arg("--metadata-file")
        .arg(metadata_file.display().to_string())
        // One platform's manifest, not an index with attestations: the
        // merge lists exactly the platforms' digests.
        .args(["--provenance=false", "--sbom=false"])
        .arg("--output")
        .arg(format!(
            "type=image,name={name},push-by-digest=true,name-canonical=true,push=true"
        ))
        .arg(spec.context.display().to_string())
}

/// `docker buildx imagetools create`: one manifest list of `sources`
/// (`name@sha256:...`), under every reference of `refs`.
pub fn imagetools_create(refs: &[String], sources: &[String]) -> Cmd {
    let mut cmd = super::command("docker", Effect::Change).args(["buildx", "imagetools", "create"]);
    for r in refs {
        cmd = cmd.args(["--tag", r]);
    }
    cmd.args(sources).timeout(DAEMON_TIMEOUT)
}

/// `docker manifest create --amend LIST SOURCE...` (the engine without
/// buildx): a manifest list of `sources` (`name@sha256:...`), kept locally
/// until pushed.
pub fn manifest_create(list: &str, sources: &[String], insecure: bool) -> Cmd {
    let mut cmd = super::command("docker", Effect::Stage).args(["manifest", "create", "--amend"]);
    if insecure {
        cmd = cmd.arg("--insecure");
    }
    cmd.arg(list).args(sources).timeout(DAEMON_TIMEOUT)
}

/// `docker manifest push LIST`: prints the list's digest last.
pub fn manifest_push(list: &str, insecure: bool) -> Cmd {
    let mut cmd = super::command("docker", Effect::Change).args(["manifest", "push"]);
    if insecure {
        cmd = cmd.arg("--insecure");
    }
    cmd.arg(list).timeout(DAEMON_TIMEOUT)
}

/// `docker manifest inspect REF`: the manifest (list) as the registry holds it.
pub fn manifest_raw(reference: &str, insecure: bool) -> Cmd {
    let mut cmd = super::command("docker", Effect::Query).args(["manifest", "inspect"]);
    if insecure {
        cmd = cmd.arg("--insecure");
    }
    cmd.arg(reference).timeout(DAEMON_TIMEOUT)
}

/// The manifest list of `reference` as the registry holds it (JSON).
pub fn imagetools_raw(reference: &str) -> Cmd {
    super::command("docker", Effect::Query)
        .args(["buildx", "imagetools", "inspect", "--raw", reference])
        .timeout(DAEMON_TIMEOUT)
}

pub fn tag(source: &str, target: &str) -> Cmd {
    super::command("docker", Effect::Stage).args(["tag", source, target])
}

pub fn push(reference: &str) -> Cmd {
    super::command("docker", Effect::Change).args(["push", reference])
}

/// The local image's ID, which is its config digest.
pub fn image_id(reference: &str) -> Cmd {
    super::command("docker", Effect::Query)
        .args(["image", "inspect", "--format", "{{.Id}}", reference])
}

/// The registry's manifest for `reference` (`-v`: with its digest); fails
/// with "no such manifest" when the tag is not there.
pub fn manifest_inspect(reference: &str, insecure: bool) -> Cmd {
    let mut cmd = super::command("docker", Effect::Query).args(["manifest", "inspect", "-v"]);
    if insecure {
        cmd = cmd.arg("--insecure");
    }
    cmd.arg(reference).timeout(DAEMON_TIMEOUT)
}

/// The digest buildx sees for `reference` in its registry.
pub fn imagetools_inspect(reference: &str) -> Cmd {
    super::command("docker", Effect::Query)
        .args(["buildx", "imagetools", "inspect", reference])
        .timeout(DAEMON_TIMEOUT)
}

/// `docker login` with the password on stdin, from DOCKER_PASSWORD.
pub fn login(registry: &str, user: &str) -> Cmd {
    super::command("docker", Effect::Stage)
        .args(["login", "--username", user, "--password-stdin", registry])
        .stdin_secret("DOCKER_PASSWORD")
        .timeout(DAEMON_TIMEOUT)
}
