//! `cargo xtask init`: the release configuration of a repository the xtask
//! was just copied into, from what the repository already holds: its
//! pyproject and lock file, Dockerfiles, changelog style, model directories
//! and files, tag pattern, default branch and GitHub slug. It writes the
//! root `Cargo.toml` (the workspace with the xtask, and
//! `[workspace.metadata.release]` with a comment on every decision), says
//! what it found and what it could not decide, and never replaces a
//! configuration without `--force`. A dry run unless `--execute`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::core::runner::Runner;
use crate::tools::git::Git;

/// Write this repository's release configuration from what it holds (dry run unless --execute).
#[derive(Debug)]
pub struct Init {
    execute: bool,
    force: bool,
}

/// The first line of a Cargo.toml init wrote (and may replace with --force).
const HEADER: &str = "# Written by `cargo xtask init`";

/// The changelog init starts where a repository has none.
const NEW_CHANGELOG: &str = "# Changelog\n\n\
All notable changes to this project are documented in this file.\n\n\
The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\n\
and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).\n\n\
## [Unreleased]\n";

/// A TOML string, quoted and escaped.
fn q(text: &str) -> String {
    toml_edit::Value::from(text).to_string()
}

/// What the repository holds, as far as a release needs it.
#[derive(Default)]
struct Found {
    github: Option<String>,
    branch: Option<String>,
    tag_name: Option<(String, usize)>,
    version: Option<(String, &'static str)>,
    /// Each package's directory, and whether a uv.lock records it.
    python: Vec<(String, bool)>,
    dockerfiles: Vec<PathBuf>,
    changelog: Option<Changelog>,
    models: Vec<Model>,
    /// What it saw but could not decide, with what to do.
    undecided: Vec<String>,
}

struct Changelog {
    path: String,
    heading: Option<String>,
    bottom: bool,
    /// No `[Unreleased]` heading among its releases.
    none: bool,
}

struct Model {
    name: String,
    metadata: String,
    card: Option<String>,
    assets: Vec<String>,
    json_files: Vec<String>,
}

impl Init {
    pub fn args(cmd: Command) -> Command {
        cmd.arg(crate::cli::execute_flag(
            "Write the root Cargo.toml (and `/target/` into .gitignore)",
        ))
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Replace a root Cargo.toml that already has a release configuration"),
        )
    }

    pub fn from_matches(matches: &ArgMatches) -> Init {
        Init {
            execute: matches.get_flag("execute"),
            force: matches.get_flag("force"),
        }
    }

    pub fn run(self) -> Result<()> {
        let runner = Runner::new(!self.execute);
        let cwd = std::env::current_dir().context("reading the current directory")?;
        let top = runner.read(&Git::at(&cwd).toplevel()).context(
            "init needs a git repository: run it at the root of the repository the xtask was copied into",
        )?;
        let root = PathBuf::from(top.trim());
        let manifest = root.join("Cargo.toml");
        let mut foreign = false;
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            let configured = text.contains("[workspace.metadata.release");
            let written_by_init = text.starts_with(HEADER);
            if configured && !(self.force && written_by_init) {
                bail!(
                    "{} already has a release configuration ([workspace.metadata.release]); \
                     edit it (docs/CONFIG.md){}",
                    manifest.display(),
                    if written_by_init {
                        ", or pass --force to replace it with what init finds"
                    } else {
                        ""
                    }
                );
            }
            // Another project's workspace: print what to add, never replace it.
            foreign = !written_by_init;
            if foreign && self.execute {
                bail!(
                    "{} exists and init did not write it: add `xtask` to its [workspace] members and \
                     the tables `init` (without --execute) prints (docs/ADOPTING.md)",
                    manifest.display()
                );
            }
        }
        let found = look(&root, &runner)?;
        let config = write_config(&found);
        report(&found);
        // No changelog yet: a release writes its section into one, so init
        // starts it (Keep a Changelog's, with an empty [Unreleased]).
        let new_changelog = found.changelog.is_none().then(|| root.join("CHANGELOG.md"));
        if new_changelog.is_some() && !self.execute {
            say!("no changelog found: --execute starts CHANGELOG.md (Keep a Changelog) for the releases to fill");
        }
        let ignored = ignored_xtask_files(&root, &runner)?;
        if !ignored.is_empty() {
            tell!(
                "warning: .gitignore ignores files of the xtask, so a commit would lack them: {}; \
                 add `!xtask/` after the rule that matches, or `git add -f xtask`",
                ignored.join(", ")
            );
        }
        let gitignore = root.join(".gitignore");
        let target_ignored = runner
            .output(&Git::at(&root).check_ignore(&["target/x".to_owned()]))?
            .success();
        // docs/ADOPTING.md copies the lock into xtask/ (where cargo looks
        // while xtask/ is its own workspace); the workspace's lock is the root's.
        let copied_lock = root.join("xtask/Cargo.lock");
        let move_lock = !foreign && !root.join("Cargo.lock").is_file() && copied_lock.is_file();
        if !root.join("Cargo.lock").is_file() && !copied_lock.is_file() {
            tell!(
                "warning: no Cargo.lock: copy the xtask's Cargo.lock into xtask/ as docs/ADOPTING.md \
                 says (`cargo xtask` builds --locked)"
            );
        }
        if !self.execute {
            if foreign {
                say!(
                    "{} is another workspace: add `xtask` to its members and these tables:",
                    manifest.display()
                );
            }
            say!("{}", config.trim_end());
            say!(
                "\nDry run: nothing was written; `cargo run --locked --target-dir target --manifest-path \
                 xtask/Cargo.toml -- init --execute` writes {}{}{}.",
                manifest.display(),
                if move_lock { ", moves xtask/Cargo.lock beside it" } else { "" },
                if target_ignored { "" } else { " and adds /target/ to .gitignore" }
            );
            return Ok(());
        }
        crate::core::atomic::write_all(&[(manifest.clone(), config.into_bytes())])?;
        say!("wrote {}", manifest.display());
        if let Some(changelog) = &new_changelog {
            crate::core::atomic::write_all(&[(
                changelog.clone(),
                NEW_CHANGELOG.as_bytes().to_vec(),
            )])?;
            say!("wrote {} (no changelog was there)", changelog.display());
        }
        if move_lock {
            std::fs::rename(&copied_lock, root.join("Cargo.lock"))
                .context("moving xtask/Cargo.lock to the workspace's root")?;
            say!("moved xtask/Cargo.lock to Cargo.lock, the workspace's lock");
        }
        if !target_ignored {
            let mut text = std::fs::read_to_string(&gitignore).unwrap_or_default();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(
                "# cargo's build output and the release's staging (cargo xtask)\n/target/\n",
            );
            crate::core::atomic::write_all(&[(gitignore.clone(), text.into_bytes())])?;
            say!("added /target/ to {}", gitignore.display());
        }
        say!(
            "next: commit the xtask and this configuration (`git add -A && git commit -m \"chore: adopt the \
             release xtask\"`; a release starts from a clean tree), then `cargo xtask release` (a dry run)"
        );
        Ok(())
    }
}

/// Everything init looks at, read only.
fn look(root: &Path, runner: &Runner) -> Result<Found> {
    let git = Git::at(root);
    let mut found = Found::default();
    let read = |cmd| {
        runner
            .output(&cmd)
            .map(|o| o.success().then(|| o.stdout.trim().to_owned()))
    };
    found.github = read(git.origin_url())?.as_deref().and_then(github_slug);
    found.branch = read(git.origin_head())?
        .and_then(|h| h.strip_prefix("origin/").map(str::to_owned))
        .or(read(git.current_branch())?);
    let tags = read(git.tags())?.unwrap_or_default();
    found.tag_name = tag_pattern(tags.lines());
    // What git tracks or would: never `target/`, a virtualenv or anything
    // else the repository ignores; the xtask is not the project's.
    let listed = runner.read(&git.files())?;
    let files: Vec<PathBuf> = crate::tools::git::listed(&listed)
        .filter(|f| !f.starts_with("xtask/") && !f.starts_with(".cargo/"))
        .map(|f| root.join(f))
        .collect();
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let (pyprojects, aside): (Vec<&PathBuf>, Vec<&PathBuf>) = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "pyproject.toml"))
        .partition(|p| {
            // Projects that test or show something are not what ships.
            !rel(p).split('/').any(|c| {
                [
                    "tests",
                    "test",
                    "examples",
                    "fixtures",
                    "docs",
                    "benchmarks",
                ]
                .contains(&c)
            })
        });
    if !aside.is_empty() {
        found.undecided.push(format!(
            "left out {} (under tests, examples or docs); add a [[python]] table if one ships",
            aside.iter().map(|p| rel(p)).collect::<Vec<_>>().join(", ")
        ));
    }
    let mut versions = Vec::new();
    for pyproject in pyprojects {
        let dir = pyproject.parent().unwrap_or(root);
        let path = match rel(dir) {
            p if p.is_empty() => ".".to_owned(),
            p => p,
        };
        let locked = dir
            .ancestors()
            .take_while(|d| d.starts_with(root))
            .any(|d| d.join("uv.lock").is_file());
        match project_version(pyproject) {
            Some(version) => versions.push((path.clone(), version)),
            None => found.undecided.push(format!(
                "{}: no static [project] version (dynamic, or Poetry's [tool.poetry] version): a release \
                 edits [project] version, so write it there before releasing",
                rel(pyproject)
            )),
        }
        found.python.push((path, locked));
    }
    // The shallowest package's version is the product's.
    versions.sort_by_key(|(path, _)| (path != ".", path.matches('/').count()));
    if let Some((_, version)) = versions.first() {
        found.version = Some((version.clone(), "pyproject.toml [project] version"));
        let others: Vec<String> = versions
            .iter()
            .filter(|(_, v)| v != version)
            .map(|(p, v)| format!("{p} at {v}"))
            .collect();
        if !others.is_empty() {
            found.undecided.push(format!(
                "the packages hold other versions ({}); a release moves them all to one version: \
                 set them to {version} by hand, or remove a package's table",
                others.join(", ")
            ));
        }
    }
    found.dockerfiles = files
        .iter()
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n == "Dockerfile" || n.starts_with("Dockerfile.") || n.ends_with(".Dockerfile")
            })
        })
        .map(|p| p.strip_prefix(root).unwrap_or(p).to_owned())
        .collect();
    for name in ["CHANGELOG.md", "CHANGES.md", "HISTORY.md"] {
        if let Ok(text) = std::fs::read_to_string(root.join(name)) {
            found.changelog = Some(changelog_style(name, &text, &mut found.undecided));
            break;
        }
    }
    if found.version.is_none() {
        if let Some((tag, _)) = &found.tag_name {
            let newest = tags
                .lines()
                .filter_map(|t| {
                    semver::Version::parse(t.trim_start_matches(|c: char| !c.is_ascii_digit())).ok()
                })
                .max();
            if let Some(v) = newest.filter(|_| tag.contains("{version}")) {
                found.version = Some((v.to_string(), "the newest release tag"));
            }
        }
    }
    found.models = models(root, &files);
    let is_model_file = |n: &String| {
        [".pth", ".pt", ".onnx", ".hef"]
            .iter()
            .any(|e| n.ends_with(e))
    };
    let weights: Vec<String> = files
        .iter()
        .filter(|p| p.parent() == Some(root))
        .map(|p| rel(p))
        .filter(is_model_file)
        .collect();
    // Model files elsewhere (`exported/kws.onnx`), outside every model's
    // directory: named, for the config to place.
    let elsewhere: Vec<String> = files
        .iter()
        .filter(|p| p.parent() != Some(root))
        .map(|p| rel(p))
        .filter(is_model_file)
        .filter(|n| {
            !found
                .models
                .iter()
                .any(|m| n.starts_with(&format!("{}/", m.metadata)))
        })
        .filter(|n| {
            !n.starts_with("xtask/")
                && !n
                    .split('/')
                    .any(|c| ["tests", "test", "fixtures"].contains(&c))
        })
        .collect();
    if !elsewhere.is_empty() {
        found.undecided.push(format!(
            "model files outside a model's directory ({}): list those a release ships in a model's assets",
            elsewhere.join(", ")
        ));
    }
    match found.models.as_mut_slice() {
        [only] => only.assets.extend(weights),
        _ if !weights.is_empty() => found.undecided.push(format!(
            "model files at the root ({}) belong to no one model; list them in a model's assets",
            weights.join(", ")
        )),
        _ => {}
    }
    Ok(found)
}

/// `owner/name` of a GitHub remote URL (https or ssh).
fn github_slug(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("git@github.com:"))
        .or_else(|| url.strip_prefix("ssh://git@github.com/"))?;
    let slug = rest.trim_end_matches('/').trim_end_matches(".git");
    (slug.split('/').count() == 2).then(|| slug.to_owned())
}

/// The tag pattern most existing version tags follow, with how many do.
fn tag_pattern<'a>(tags: impl Iterator<Item = &'a str>) -> Option<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for tag in tags {
        let Some(at) = tag.find(|c: char| c.is_ascii_digit()) else {
            continue;
        };
        let (prefix, version) = tag.split_at(at);
        if semver::Version::parse(version).is_err() {
            continue;
        }
        let pattern = format!("{prefix}{{version}}");
        match counts.iter_mut().find(|(p, _)| *p == pattern) {
            Some((_, n)) => *n += 1,
            None => counts.push((pattern, 1)),
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n)
}

/// The pyproject's static version as SemVer (`1.0.0rc1` -> `1.0.0-rc.1`).
fn project_version(pyproject: &Path) -> Option<String> {
    let doc: toml_edit::DocumentMut = std::fs::read_to_string(pyproject).ok()?.parse().ok()?;
    let version = doc.get("project")?.get("version")?.as_str()?;
    if let Ok(v) = semver::Version::parse(version) {
        return Some(v.to_string());
    }
    let at = version.find(|c: char| c.is_ascii_alphabetic())?;
    let (release, pre) = version.split_at(at);
    let kind_end = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
    let kind = match &pre[..kind_end] {
        "a" => "alpha",
        "b" => "beta",
        "rc" => "rc",
        _ => return None,
    };
    semver::Version::parse(&format!("{release}-{kind}.{}", &pre[kind_end..]))
        .ok()
        .map(|v| v.to_string())
}

/// The heading template and where `[Unreleased]` sits, from the file.
fn changelog_style(path: &str, text: &str, undecided: &mut Vec<String>) -> Changelog {
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with("## ")).collect();
    let unreleased = headings
        .iter()
        .position(|h| h.to_ascii_lowercase().contains("unreleased"));
    let releases: Vec<(usize, &str)> = headings
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            h.contains(|c: char| c.is_ascii_digit())
                && !h.to_ascii_lowercase().contains("unreleased")
        })
        .map(|(i, h)| (i, *h))
        .collect();
    let bottom = matches!((unreleased, releases.last()), (Some(u), Some((last, _))) if u > *last);
    let heading = releases.first().and_then(|(_, h)| heading_template(h));
    if heading.is_none() && !releases.is_empty() {
        undecided.push(format!(
            "{path}: a release heading `{}` whose version and date init cannot place; set changelog.heading",
            releases[0].1
        ));
    }
    Changelog {
        path: path.to_owned(),
        heading: heading.filter(|h| h != "## [{version}] - {date}"),
        bottom,
        // Releases recorded, never an `[Unreleased]`: the project keeps none.
        none: unreleased.is_none() && !releases.is_empty(),
    }
}

/// `## Version 0.3.0 - 2026-10-01` -> `## Version {version} - {date}`.
fn heading_template(heading: &str) -> Option<String> {
    let words: Vec<&str> = heading.split_inclusive([' ', '[', ']', '(', ')']).collect();
    let mut out = String::new();
    let (mut version, mut date) = (false, false);
    for word in words {
        let (core, tail) = word.split_at(word.trim_end_matches([' ', '[', ']', '(', ')']).len());
        let bare = core.trim_start_matches('v');
        if !version && semver::Version::parse(bare).is_ok() {
            out.push_str(&core[..core.len() - bare.len()]);
            out.push_str("{version}");
            version = true;
        } else if !date
            && core.len() == 10
            && core.as_bytes()[4] == b'-'
            && core.as_bytes()[7] == b'-'
        {
            out.push_str("{date}");
            date = true;
        } else {
            out.push_str(core);
        }
        out.push_str(tail);
    }
    version.then_some(out)
}

/// Directories holding `v<X.Y.Z>/` metadata directories.
fn models(root: &Path, files: &[PathBuf]) -> Vec<Model> {
    let mut models: Vec<Model> = Vec::new();
    for file in files {
        let Some(version_dir) = file.parent() else {
            continue;
        };
        let is_version = version_dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix('v'))
            .is_some_and(|v| semver::Version::parse(v).is_ok());
        let Some(model_dir) = version_dir.parent().filter(|_| is_version) else {
            continue;
        };
        let metadata = model_dir
            .strip_prefix(root)
            .unwrap_or(model_dir)
            .display()
            .to_string();
        let name = model_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let model = match models.iter_mut().position(|m| m.metadata == metadata) {
            Some(i) => &mut models[i],
            None => {
                models.push(Model {
                    name,
                    metadata,
                    card: None,
                    assets: Vec::new(),
                    json_files: Vec::new(),
                });
                models.last_mut().expect("just pushed")
            }
        };
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file_name.eq_ignore_ascii_case("model_card.md") {
            model.card = Some(file_name);
        } else if file_name.ends_with(".json") && !model.json_files.contains(&file_name) {
            model.json_files.push(file_name);
        }
    }
    models
}

/// Files of the xtask that .gitignore rules would leave out of a commit.
fn ignored_xtask_files(root: &Path, runner: &Runner) -> Result<Vec<String>> {
    let mut files = Vec::new();
    collect(&root.join("xtask"), root, &mut files);
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let out = runner.output(&Git::at(root).check_ignore(&files))?;
    Ok(out.stdout.lines().map(str::to_owned).collect())
}

fn collect(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, root, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.display().to_string());
        }
    }
}

/// The root Cargo.toml: the workspace with the xtask, the profile its alias
/// builds with, and the release configuration, each decision commented.
fn write_config(found: &Found) -> String {
    let mut out = String::new();
    let version = found.version.as_ref().map_or(
        ("0.1.0".to_owned(), "nothing found; set it"),
        |(v, from)| (v.clone(), *from),
    );
    let _ = writeln!(
        out,
        "{HEADER}; every key is documented in docs/CONFIG.md.\n\
         [workspace]\nmembers = [\"xtask\"]\nresolver = \"2\"\n\n\
         [workspace.package]\n# The product version ({}).\nversion = {}\n\n\
         # What `cargo xtask` builds with (the alias in .cargo/config.toml): quick to\n\
         # compile from cold, and the hashing fully optimised.\n\
         [profile.dev.package.sha2]\nopt-level = 3\n\n\
         [profile.xtask]\ninherits = \"dev\"\nincremental = false\ndebug = false\ndebug-assertions = false\noverflow-checks = false\npanic = \"abort\"\n\n\
         [profile.xtask.package.sha2]\nopt-level = 3",
        version.1,
        q(&version.0)
    );
    out.push_str("\n[workspace.metadata.release]\n");
    match &found.github {
        Some(slug) => {
            let _ = writeln!(
                out,
                "# From `git remote get-url origin`.\ngithub = {}",
                q(slug)
            );
        }
        None => out.push_str(
            "# No GitHub origin found: no GitHub release until `github = \"owner/name\"` is set.\n",
        ),
    }
    let branch = found.branch.clone().unwrap_or_else(|| "main".to_owned());
    let _ = writeln!(
        out,
        "# The default branch, and release and hotfix lines.\nbranches = [{}, \"release/*\", \"hotfix/*\"]",
        q(&branch)
    );
    match &found.tag_name {
        Some((pattern, n)) => {
            let _ = writeln!(
                out,
                "# As {n} existing tag{} named.\ntag-name = {}",
                if *n == 1 { " is" } else { "s are" },
                q(pattern)
            );
        }
        None => {
            out.push_str("# No version tags yet: the common `v1.2.3`.\ntag-name = \"v{version}\"\n")
        }
    }
    out.push_str(
        "# The project's own tests, run by `release --execute` before anything changes,\n\
         # go under [workspace.metadata.release.hooks], e.g. test = [[\"make\", \"test\"]].\n",
    );
    if let Some(changelog) = &found.changelog {
        let _ = writeln!(
            out,
            "\n[workspace.metadata.release.changelog]\npath = {}",
            q(&changelog.path)
        );
        if let Some(heading) = &changelog.heading {
            let _ = writeln!(
                out,
                "# As its release headings are written.\nheading = {}",
                q(heading)
            );
        }
        if changelog.bottom {
            out.push_str("# `## [Unreleased]` sits below the releases (oldest first).\nunreleased = \"bottom\"\n");
        }
        if changelog.none {
            out.push_str("# It keeps no `## [Unreleased]` heading, so none is added.\nunreleased = \"none\"\n");
        }
    }
    for (path, locked) in &found.python {
        let _ = writeln!(
            out,
            "\n[[workspace.metadata.release.python]]\n# A pyproject.toml found{}; `publish = false` if its own CI uploads it.\npath = {}",
            if *locked {
                " (its uv.lock follows the version too)"
            } else {
                ""
            },
            q(path)
        );
    }
    for dockerfile in &found.dockerfiles {
        let context =
            dockerfile
                .parent()
                .map_or(".".to_owned(), |p| match p.display().to_string() {
                    s if s.is_empty() => ".".to_owned(),
                    s => s,
                });
        let image = match (
            &found.github,
            dockerfile.parent().and_then(|p| p.file_name()),
        ) {
            (Some(slug), Some(dir)) => format!(
                "ghcr.io/{}/{}",
                slug.split('/').next().unwrap_or_default(),
                dir.to_string_lossy()
            ),
            (Some(slug), None) => format!("ghcr.io/{slug}"),
            (None, Some(dir)) => format!("registry.example/{}", dir.to_string_lossy()),
            (None, None) => "registry.example/image".to_owned(),
        };
        // `Dockerfile.worker` or `worker.Dockerfile` beside another: its own image.
        let file = dockerfile
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let image = match file
            .strip_prefix("Dockerfile.")
            .or_else(|| file.strip_suffix(".Dockerfile"))
        {
            Some(variant) => format!("{image}-{variant}"),
            None => image,
        };
        let _ = writeln!(
            out,
            "\n[[workspace.metadata.release.docker]]\n# The image name is a guess from the repository: check it.\n\
             name = {}\ndockerfile = {}\ncontext = {}",
            q(&image.to_ascii_lowercase()),
            q(&dockerfile.display().to_string()),
            q(&context)
        );
    }
    for model in &found.models {
        let _ = writeln!(
            out,
            "\n[[workspace.metadata.release.models]]\nname = {}\n# Holds v<X.Y.Z>/ directories ({}).\nmetadata = {}",
            q(&model.name),
            model.json_files.join(", "),
            q(&model.metadata)
        );
        if !model.assets.is_empty() {
            let list: Vec<String> = model.assets.iter().map(|a| q(a)).collect();
            let _ = writeln!(out, "assets = [{}]", list.join(", "));
        }
        match &model.card {
            Some(card) if card != "MODEL_CARD.md" => {
                let _ = writeln!(out, "card = {}", q(card));
            }
            Some(_) => {}
            None => out.push_str("# No model card found.\ncard = \"\"\n"),
        }
        out.push_str(
            "# Where the facts a release checks live in these JSON files (docs/MODELS.md);\n\
             # until they are mapped, `models check` names each it cannot find.\n",
        );
    }
    out
}

fn report(found: &Found) {
    let mut lines = Vec::new();
    if let Some(slug) = &found.github {
        lines.push(format!("GitHub repository {slug} (origin)"));
    }
    if let Some(branch) = &found.branch {
        lines.push(format!("default branch {branch}"));
    }
    if let Some((pattern, n)) = &found.tag_name {
        lines.push(format!("tags like {pattern} ({n})"));
    }
    if let Some((version, from)) = &found.version {
        lines.push(format!("version {version} ({from})"));
    }
    for (path, locked) in &found.python {
        lines.push(format!(
            "Python package at {path}{}",
            if *locked { " with uv.lock" } else { "" }
        ));
    }
    for dockerfile in &found.dockerfiles {
        lines.push(format!("image from {}", dockerfile.display()));
    }
    if let Some(changelog) = &found.changelog {
        lines.push(format!(
            "changelog {}{}{}",
            changelog.path,
            changelog
                .heading
                .as_ref()
                .map_or(String::new(), |h| format!(", headings `{h}`")),
            if changelog.bottom {
                ", [Unreleased] at the bottom"
            } else if changelog.none {
                ", no [Unreleased]"
            } else {
                ""
            }
        ));
    }
    for model in &found.models {
        lines.push(format!("model {} in {}", model.name, model.metadata));
    }
    say!("found:\n{}", crate::core::report::bullets(&lines));
    if !found.undecided.is_empty() {
        say!(
            "could not decide:\n{}",
            crate::core::report::bullets(&found.undecided)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_become_templates() {
        assert_eq!(
            heading_template("## [0.3.0] - 2026-10-01").as_deref(),
            Some("## [{version}] - {date}")
        );
        assert_eq!(
            heading_template("## Version 0.3.0 - 2026-10-01").as_deref(),
            Some("## Version {version} - {date}")
        );
        assert_eq!(
            heading_template("## v1.2.0 (2026-10-01)").as_deref(),
            Some("## v{version} ({date})")
        );
        assert_eq!(heading_template("## Notes"), None);
    }

    #[test]
    fn slugs_and_tag_patterns() {
        assert_eq!(
            github_slug("git@github.com:acme/hub.git").as_deref(),
            Some("acme/hub")
        );
        assert_eq!(
            github_slug("https://github.com/acme/hub").as_deref(),
            Some("acme/hub")
        );
        assert_eq!(github_slug("/tmp/origin.git"), None);
        let tags = ["v1.0.0", "v1.1.0", "models-v1.0.0", "nightly"];
        assert_eq!(
            tag_pattern(tags.into_iter()),
            Some(("v{version}".to_owned(), 2))
        );
    }
}
