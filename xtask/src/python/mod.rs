//! `cargo xtask python build|check|publish`: the Python package, from
//! `python -m build` to the index, uploaded once.
//!
//! PyPI files are immutable: a version can never be uploaded again with other
//! content. So `publish` first asks the index what it holds for the version
//! (PyPI's JSON API, or the simple index elsewhere): a file with the same
//! sha256 is skipped, one with another sha256 stops the release ("burned").
//! An upload answered 400 "already exists" or 409 is checked the same way.

pub mod venv;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Arg, ArgMatches, Command};

use crate::checksums::{hex, sha256_files};
use crate::core::config::{PythonPackage, Workspace};
use crate::core::runner::Runner;
use crate::tools::python;
use crate::version::pep440::to_pep440;

/// Build, check or publish the Python package.
#[derive(Debug)]
pub enum Python {
    Build,
    Check,
    Publish {
        repository_url: Option<String>,
        execute: bool,
    },
}

impl Python {
    pub fn args(cmd: Command) -> Command {
        cmd.subcommand_required(true)
            .arg_required_else_help(true)
            .subcommand(Command::new("build").about(
                "Build the wheel and sdist into target/dist/v<VERSION>/ (isolated `python -m \
                 build`)",
            ))
            .subcommand(
                Command::new("check")
                    .about("Run `twine check --strict` on the built wheel and sdist"),
            )
            .subcommand(
                Command::new("publish")
                    .about(
                        "Upload the built files once: files the index already has with the same \
                         sha256 are skipped (dry run unless --execute)",
                    )
                    .arg(
                        Arg::new("repository-url")
                            .long("repository-url")
                            .value_name("URL")
                            .help(
                                "Upload URL [default: TWINE_REPOSITORY_URL, else the config's \
                                 index-url]",
                            ),
                    )
                    .arg(crate::cli::execute_flag(
                        "Upload; without it, only say what would be uploaded",
                    )),
            )
    }

    pub fn from_matches(matches: &ArgMatches) -> Python {
        match matches.subcommand() {
            Some(("build", _)) => Python::Build,
            Some(("check", _)) => Python::Check,
            Some(("publish", args)) => Python::Publish {
                repository_url: args.get_one::<String>("repository-url").cloned(),
                execute: args.get_flag("execute"),
            },
            other => unreachable!("{other:?}: not a subcommand of Python::args"),
        }
    }

    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        crate::python::venv::packaging_tools(&workspace.root, &Runner::new(false))?;
        let packages = packages(&workspace)?;
        if packages.is_empty() {
            bail!("Cargo.toml: [workspace.metadata.release] has no `python` table, so there is no Python package to release");
        }
        let version = workspace.product_version()?;
        let pep440 = to_pep440(&version)?;
        let dist = crate::core::dist::Dist::of(&workspace.root, &version);
        for package in &packages {
            match &self {
                Python::Build => {
                    // What git lists, never an ignored file (a local config, a key).
                    let source = crate::steps::package_source(
                        &workspace,
                        &package.config.path,
                        &version.to_string(),
                        &Runner::new(false),
                    )?;
                    let built = build_staged(
                        &workspace,
                        package,
                        &source,
                        &dist,
                        &pep440,
                        &Runner::new(false),
                    )?;
                    say!(
                        "built {} and {}",
                        built.wheel.display(),
                        built.sdist.display()
                    );
                }
                Python::Check => check(&package.staged(dist.dir(), &pep440)?, &Runner::new(false))?,
                Python::Publish {
                    repository_url,
                    execute,
                } => {
                    if !package.config.publish {
                        say!("{}: not uploaded ({}.publish = false: the project's own CI publishes it)", package.name, package.key);
                        continue;
                    }
                    let url = upload_url(package.config, repository_url.clone());
                    publish(
                        &package.staged(dist.dir(), &pep440)?,
                        &url,
                        &Runner::new(!execute),
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// A configured package and its distribution name, as its pyproject.toml says.
pub struct Package<'a> {
    pub config: &'a PythonPackage,
    /// `python[i]`, the config key, for messages.
    pub key: String,
    pub name: String,
}

impl Package<'_> {
    /// Its built files of `pep440` in `dir`, checked.
    pub fn staged(&self, dir: &Path, pep440: &str) -> Result<PythonDist> {
        PythonDist::find(dir, &self.name, pep440).with_context(|| {
            format!(
                "no build of {} {pep440} in {}: run `cargo xtask python build`",
                self.name,
                dir.display()
            )
        })
    }
}

/// The configured packages with their names; two of one name are refused.
pub fn packages(workspace: &Workspace) -> Result<Vec<Package<'_>>> {
    let mut packages: Vec<Package> = Vec::new();
    for (i, config) in workspace.release.python.iter().enumerate() {
        let key = format!("python[{i}]");
        let pyproject = workspace.root.join(&config.path).join("pyproject.toml");
        let text = std::fs::read_to_string(&pyproject).with_context(|| {
            format!(
                "reading {} ({key}.path in Cargo.toml); fix the path or create it",
                pyproject.display()
            )
        })?;
        let doc: toml_edit::DocumentMut = text
            .parse()
            .with_context(|| format!("{}: not valid TOML", pyproject.display()))?;
        let name = doc
            .get("project")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .with_context(|| format!("{}: [project] has no `name`", pyproject.display()))?
            .to_owned();
        if let Some(twin) = packages
            .iter()
            .find(|p| normalize(&p.name) == normalize(&name))
        {
            bail!(
                "Cargo.toml: {key} ({}) and {} ({}) both build the distribution {name:?}; an index takes \
                 one project of a name: list each package once",
                config.path,
                twin.key,
                twin.config.path
            );
        }
        packages.push(Package { config, key, name });
    }
    Ok(packages)
}

/// A built wheel and sdist of one version.
pub struct PythonDist {
    pub wheel: PathBuf,
    pub sdist: PathBuf,
    /// The distribution name as in pyproject.toml.
    pub name: String,
    pub pep440: String,
}

impl PythonDist {
    /// The one wheel and one sdist of `name` `pep440` in `dir`, which may
    /// hold other files (a release directory is flat).
    pub fn find(dir: &Path, name: &str, pep440: &str) -> Result<PythonDist> {
        let prefix = format!("{}-{pep440}", file_stem(name));
        let ours = |file: &Path| {
            let file_name = crate::core::dist::name_of(file).to_lowercase();
            file_name.starts_with(&format!("{prefix}-")) || file_name == format!("{prefix}.tar.gz")
        };
        let files: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let of = |suffix: &str| -> Vec<PathBuf> {
            files
                .iter()
                .filter(|f| f.to_string_lossy().ends_with(suffix) && ours(f))
                .cloned()
                .collect()
        };
        let (wheels, sdists) = (of(".whl"), of(".tar.gz"));
        if wheels.len() != 1 || sdists.len() != 1 {
            let others: Vec<String> = files
                .iter()
                .filter(|f| {
                    let n = f.to_string_lossy();
                    (n.ends_with(".whl") || n.ends_with(".tar.gz")) && !ours(f)
                })
                .map(|f| crate::core::dist::name_of(f))
                .collect();
            bail!(
                "{} holds {} wheel(s) and {} sdist(s) of {name} {pep440}; a release needs exactly one of each{}",
                dir.display(),
                wheels.len(),
                sdists.len(),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" (other versions or projects there: {})", others.join(", "))
                }
            );
        }
        Ok(PythonDist {
            wheel: wheels[0].clone(),
            sdist: sdists[0].clone(),
            name: name.to_owned(),
            pep440: pep440.to_owned(),
        })
    }

    pub fn files(&self) -> Vec<PathBuf> {
        vec![self.wheel.clone(), self.sdist.clone()]
    }
}

/// Builds `source` in a scratch directory, then moves the wheel and sdist
/// into the release directory `dist`, replacing any earlier build of the
/// project there; the rest of `dist` stays as it is.
pub fn build_staged(
    workspace: &Workspace,
    package: &Package,
    source: &Path,
    dist: &crate::core::dist::Dist,
    pep440: &str,
    runner: &Runner,
) -> Result<PythonDist> {
    let name = &package.name;
    let scratch = workspace
        .root
        .join("target/xtask-release/python-build")
        .join(file_stem(name));
    let built = build_into(source, &scratch, name, pep440, runner)?;
    dist.create()?;
    let stem = format!("{}-", file_stem(name));
    for entry in std::fs::read_dir(dist.dir())
        .with_context(|| format!("reading {}", dist.dir().display()))?
    {
        let path = entry?.path();
        let file_name = crate::core::dist::name_of(&path).to_lowercase();
        if file_name.starts_with(&stem)
            && (file_name.ends_with(".whl") || file_name.ends_with(".tar.gz"))
        {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    for file in built.files() {
        let target = dist.file(&crate::core::dist::name_of(&file));
        std::fs::rename(&file, &target)
            .with_context(|| format!("moving {} to {}", file.display(), target.display()))?;
    }
    PythonDist::find(dist.dir(), name, pep440)
}

/// Whether pip's or uv's line says the index could not be reached,
/// rather than that the package is broken.
pub fn unreachable_index(said: &str) -> bool {
    [
        "Temporary failure in name resolution",
        "NameResolutionError",
        "Network is unreachable",
        "Failed to establish a new connection",
        "failed to lookup address information",
        "dns error",
    ]
    .iter()
    .any(|needle| said.contains(needle))
}

/// How a distribution name starts its file names (wheel and sdist).
pub fn file_stem(name: &str) -> String {
    name.replace(['-', '.'], "_").to_lowercase()
}

/// Builds `source` into a clean `dir` and checks that exactly one wheel and
/// one sdist of `name` `pep440` came out, with that version in their metadata.
pub fn build_into(
    source: &Path,
    dir: &Path,
    name: &str,
    pep440: &str,
    runner: &Runner,
) -> Result<PythonDist> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cleaning {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut offline: Option<String> = None;
    runner
        .run_watching(&python::build(source, dir), |line| {
            if offline.is_none() && unreachable_index(line) {
                offline = Some(line.trim().to_owned());
            }
        })
        .with_context(|| match &offline {
            Some(line) => {
                format!("building the Python package: the index could not be reached ({line})")
            }
            None => "building the Python package".to_owned(),
        })?;
    let dist = PythonDist::find(dir, name, pep440)?;
    for file in dist.files() {
        let found = runner.read(&python::metadata_version(&file))?;
        if found.trim() != pep440 {
            bail!(
                "{}: its metadata says Version {}, expected {pep440}",
                file.display(),
                found.trim()
            );
        }
    }
    Ok(dist)
}

pub fn check(dist: &PythonDist, runner: &Runner) -> Result<()> {
    runner
        .run(&python::twine_check(&dist.files()))
        .context("twine check --strict failed")?;
    Ok(())
}

/// Whether twine can use PyPI's trusted publishing here: a GitHub Actions
/// job with `id-token: write` and no password set.
pub fn trusted_publishing() -> bool {
    let set = |v: &str| std::env::var_os(v).is_some_and(|v| !v.is_empty());
    set("ACTIONS_ID_TOKEN_REQUEST_URL")
        && set("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        && !set("TWINE_PASSWORD")
}

/// Where to upload: `--repository-url`, else TWINE_REPOSITORY_URL, else the config.
pub fn upload_url(python: &PythonPackage, flag: Option<String>) -> String {
    flag.or_else(|| {
        std::env::var("TWINE_REPOSITORY_URL")
            .ok()
            .filter(|u| !u.is_empty())
    })
    .unwrap_or_else(|| python.index_url.clone())
}

/// Where to ask what the index holds: PyPI's JSON API, else the simple index.
pub fn query_url(upload_url: &str, name: &str, pep440: &str) -> (&'static str, String) {
    let normalized = normalize(name);
    for (upload, api) in [
        ("https://upload.pypi.org/legacy", "https://pypi.org/pypi"),
        ("https://test.pypi.org/legacy", "https://test.pypi.org/pypi"),
    ] {
        if upload_url.trim_end_matches('/') == upload {
            return ("json", format!("{api}/{normalized}/{pep440}/json"));
        }
    }
    let base = upload_url.trim_end_matches('/').trim_end_matches("/legacy");
    ("simple", format!("{base}/simple/{normalized}/"))
}

/// PEP 503 name normalisation.
fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().map(|c| c.to_ascii_lowercase()) {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The files the index holds of `name` `pep440`, by file name; only reads.
pub fn on_index(url: &str, name: &str, pep440: &str, runner: &Runner) -> Result<Vec<String>> {
    let (kind, query) = query_url(url, name, pep440);
    let out = runner
        .read(&python::index_files(kind, &query))
        .with_context(|| format!("asking {query} which files it has"))?;
    let files: BTreeMap<String, String> = serde_json::from_str(out.trim())
        .with_context(|| format!("unexpected answer from {query}: {out}"))?;
    let prefix = format!("{}-{pep440}", file_stem(name));
    Ok(files
        .into_keys()
        .filter(|f| {
            let f = f.to_lowercase();
            f.starts_with(&format!("{prefix}-")) || f == format!("{prefix}.tar.gz")
        })
        .collect())
}

fn index_files(url: &str, dist: &PythonDist, runner: &Runner) -> Result<BTreeMap<String, String>> {
    let (kind, query) = query_url(url, &dist.name, &dist.pep440);
    let out = runner
        .read(&python::index_files(kind, &query))
        .with_context(|| format!("asking {query} which files it has"))?;
    serde_json::from_str(out.trim())
        .with_context(|| format!("unexpected answer from {query}: {out}"))
}

/// What the index already holds, compared with the local files: the files
/// still to upload, or an error if any name holds other content.
fn compare(dist: &PythonDist, remote: &BTreeMap<String, String>) -> Result<Vec<PathBuf>> {
    compare_saying(dist, remote, true)
}

/// `compare`, saying which files are skipped when `say` (not when reading
/// back what was just uploaded).
fn compare_saying(
    dist: &PythonDist,
    remote: &BTreeMap<String, String>,
    say: bool,
) -> Result<Vec<PathBuf>> {
    let files = dist.files();
    let mut missing = Vec::new();
    for (file, digest) in files.iter().zip(sha256_files(&files)) {
        let local = hex(&digest.with_context(|| format!("hashing {}", file.display()))?);
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        match remote.get(&name) {
            Some(theirs) if *theirs == local => {
                if say {
                    say!("{name}: already on the index with the same sha256; skipped");
                }
            }
            Some(theirs) => bail!(
                "{name} is already on the index with sha256 {theirs}, but this build is {local}: version {} is \
                 burned (index files are immutable); release a new version",
                dist.pep440
            ),
            None => missing.push(file.clone()),
        }
    }
    Ok(missing)
}

/// Fails when the index holds a file of this version with other content
/// (the version is burned); only reads.
pub fn refuse_burned(dist: &PythonDist, url: &str, runner: &Runner) -> Result<()> {
    compare(dist, &index_files(url, dist, runner)?).map(|_| ())
}

/// Whether the index serves every file with the local sha256; only reads.
pub fn verify_on_index(dist: &PythonDist, url: &str, runner: &Runner) -> Result<()> {
    let missing = compare_saying(dist, &index_files(url, dist, runner)?, false)?;
    if !missing.is_empty() {
        bail!(
            "{url} does not serve {}",
            missing
                .iter()
                .map(|f| crate::core::dist::name_of(f))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// Uploads what the index does not have yet, then checks it serves every
/// file with the local sha256.
pub fn publish(dist: &PythonDist, url: &str, runner: &Runner) -> Result<()> {
    let missing = compare(dist, &index_files(url, dist, runner)?)?;
    if missing.is_empty() {
        say!("{} {} is complete on {url}.", dist.name, dist.pep440);
        return Ok(());
    }
    let credentials = ["TWINE_USERNAME", "TWINE_PASSWORD"]
        .iter()
        .all(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
        || trusted_publishing();
    let upload = python::twine_upload(url, &missing);
    if runner.is_dry_run() {
        // Prints the upload as it would run.
        runner.output(&upload)?;
        if !credentials {
            say!("note: --execute needs TWINE_USERNAME and TWINE_PASSWORD (for PyPI: __token__ and an API token)");
        }
        return Ok(());
    }
    if !credentials {
        bail!("set TWINE_USERNAME and TWINE_PASSWORD to upload (for PyPI: TWINE_USERNAME=__token__ and an API token)");
    }
    let out = runner.output(&upload)?;
    if !out.success() {
        let said = format!("{}\n{}", out.stdout, out.stderr);
        match upload_failure(&said) {
            UploadFailure::AlreadyThere => {
                // Another upload got there first: fine when it is the same content.
                say!("the index answered that a file already exists; comparing sha256");
            }
            UploadFailure::Credentials(code) => bail!(
                "{url} refused the credentials (HTTP {code}): check TWINE_USERNAME and TWINE_PASSWORD"
            ),
            UploadFailure::Other => bail!("twine upload to {url} failed:\n{}", said.trim()),
        }
    }
    let remaining = compare_saying(dist, &index_files(url, dist, runner)?, false)?;
    if !remaining.is_empty() {
        bail!(
            "{url} does not list {} after the upload",
            remaining
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    say!(
        "{} {} is on {url}, every file with the local sha256.",
        dist.name,
        dist.pep440
    );
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum UploadFailure {
    AlreadyThere,
    Credentials(u16),
    Other,
}

/// Reads twine's failure output.
fn upload_failure(said: &str) -> UploadFailure {
    if said.contains("409 Conflict")
        || said.contains("400 Bad Request")
        || said.contains("already exists")
    {
        UploadFailure::AlreadyThere
    } else if said.contains("403 Forbidden") {
        UploadFailure::Credentials(403)
    } else if said.contains("401 Unauthorized") {
        UploadFailure::Credentials(401)
    } else {
        UploadFailure::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_urls() {
        assert_eq!(
            query_url("https://upload.pypi.org/legacy/", "tcn-vae", "0.2.0rc1"),
            (
                "json",
                "https://pypi.org/pypi/tcn-vae/0.2.0rc1/json".to_owned()
            )
        );
        assert_eq!(
            query_url("https://test.pypi.org/legacy", "Tcn_Vae", "1.0.0"),
            (
                "json",
                "https://test.pypi.org/pypi/tcn-vae/1.0.0/json".to_owned()
            )
        );
        assert_eq!(
            query_url("http://127.0.0.1:8080/", "tcn.vae", "1.0.0"),
            ("simple", "http://127.0.0.1:8080/simple/tcn-vae/".to_owned())
        );
        assert_eq!(
            query_url("https://pkgs.example/legacy/", "a__b", "1"),
            ("simple", "https://pkgs.example/simple/a-b/".to_owned())
        );
    }

    #[test]
    fn twine_failures_are_read() {
        assert_eq!(
            upload_failure("ERROR HTTPError: 400 Bad Request from http://x/"),
            UploadFailure::AlreadyThere
        );
        assert_eq!(
            upload_failure("HTTPError: 409 Conflict"),
            UploadFailure::AlreadyThere
        );
        assert_eq!(
            upload_failure("ERROR HTTPError: 403 Forbidden from http://x/"),
            UploadFailure::Credentials(403)
        );
        assert_eq!(upload_failure("connection refused"), UploadFailure::Other);
    }
}
