//! The release configuration: `[workspace.metadata.release]` in the root
//! `Cargo.toml`, and where the workspace is.
//!
//! Every key is documented in `docs/CONFIG.md`. Unknown keys are rejected with
//! their name and line; problems that TOML types cannot express (a tag pattern
//! without `{version}`, an upper-case image name, ...) are all collected and
//! reported together.
//!
//! Not for: editing the manifest (version bumps go through `toml_edit` in the
//! version module, which preserves formatting).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::core::record::{one_or_many, table_or_tables, At, Decode, DecodeError};

/// The repository the xtask works on.
#[derive(Debug)]
pub struct Workspace {
    /// The directory holding the workspace's root `Cargo.toml`.
    pub root: PathBuf,
    /// `[workspace.package] version`, when present.
    pub version: Option<String>,
    /// `[workspace.package] license` and `repository`, for image labels.
    pub license: Option<String>,
    pub repository: Option<String>,
    pub release: ReleaseConfig,
}

impl Workspace {
    /// Finds the workspace root from the current directory upwards and reads
    /// its release configuration.
    pub fn discover() -> Result<Workspace> {
        let cwd = std::env::current_dir().context("reading the current directory")?;
        let root = find_root(&cwd)?;
        Workspace::load(&root)
    }

    pub fn load(root: &Path) -> Result<Workspace> {
        let path = root.join("Cargo.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let doc = toml_edit::Document::parse(text.as_str()).map_err(|err| {
            anyhow::anyhow!(
                "{}: not valid TOML: {}\nfix it, then run the command again",
                path.display(),
                err.to_string().trim_end()
            )
        })?;
        let workspace = doc.get("workspace");
        let package = |key: &str| -> Result<Option<String>> {
            let Some(item) = workspace
                .and_then(|w| w.get("package"))
                .and_then(|p| p.get(key))
            else {
                return Ok(None);
            };
            crate::core::record::from_toml(item, &At::default())
                .and_then(|value| Option::<String>::decode(&value, &At::default()))
                .map_err(|err| {
                    let line = item.span().map_or(String::new(), |s| {
                        format!(
                            ":{}",
                            text[..s.start.min(text.len())].matches('\n').count() + 1
                        )
                    });
                    anyhow::anyhow!(
                        "{}{line}: [workspace.package] {key}: {err}\n\
                         write it as a string, e.g. `{key} = \"...\"`",
                        path.display()
                    )
                })
        };
        let release = match workspace
            .and_then(|w| w.get("metadata"))
            .and_then(|m| m.get("release"))
        {
            Some(item) => crate::core::record::from_toml(item, &At::default())
                .and_then(|value| ReleaseConfig::decode(&value, &At::default()))
                .map_err(|err| {
                    let problem = err.to_string();
                    anyhow::anyhow!(
                        "{}: {}{problem}\nfix the key named above; every key of \
                         [workspace.metadata.release] is documented in docs/CONFIG.md",
                        path.display(),
                        line_of_key(&text, &problem)
                            .map_or(String::new(), |l| format!("line {l}: "))
                    )
                })?,
            None => {
                refuse_misspelt_release(&path, &text)?;
                ReleaseConfig::default()
            }
        };
        let problems: Vec<String> = release
            .problems()
            .into_iter()
            .map(|problem| match line_of_key(&text, &problem) {
                Some(line) => format!("line {line}: {problem}"),
                None => problem,
            })
            .collect();
        if !problems.is_empty() {
            bail!(
                "{}: [workspace.metadata.release] has {} problem{}:\n{}",
                path.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                crate::core::report::bullets(&problems)
            );
        }
        Ok(Workspace {
            root: root.to_owned(),
            version: package("version")?,
            license: package("license")?,
            repository: package("repository")?,
            release,
        })
    }
}

impl Workspace {
    /// `[workspace.package] version` as SemVer: the product version.
    pub fn product_version(&self) -> Result<semver::Version> {
        let text = self.version.as_deref().context(
            "Cargo.toml: [workspace.package] has no `version`; add the product version, e.g. `version = \"0.1.0\"`",
        )?;
        semver::Version::parse(text).with_context(|| {
            format!("Cargo.toml: [workspace.package] version = {text:?} is not SemVer")
        })
    }
}

/// `[workspace.metadata.relase]`: other tools keep tables under
/// `workspace.metadata`, so unknown names there are theirs; one a letter or
/// two from `release` is a typo that would silently drop the configuration.
fn refuse_misspelt_release(path: &Path, text: &str) -> Result<()> {
    let Ok(doc) = toml_edit::Document::parse(text.to_owned()) else {
        return Ok(());
    };
    let Some(metadata) = doc
        .as_item()
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.as_table_like())
    else {
        return Ok(());
    };
    for (key, item) in metadata.iter() {
        if key != "release" && edit_distance(key, "release") <= 2 {
            let line = item
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            bail!(
                "{}{}: [workspace.metadata.{key}] is not read: did you mean [workspace.metadata.release]? \
                 rename the table (every key is documented in docs/CONFIG.md)",
                path.display(),
                line.map(|l| format!(":{l}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// Levenshtein distance, for short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// `Cargo.toml:LINE` for `key` of the release table in `root`'s manifest,
/// else `Cargo.toml`: where to look, for messages about a key.
pub fn where_key(root: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    match line_of_key(&text, key) {
        Some(line) => format!("Cargo.toml:{line}"),
        None => "Cargo.toml".to_owned(),
    }
}

/// The line of `Cargo.toml` (`text`) that holds the key a problem starts
/// with (`docker[1].name = ...`, `changelog.heading: ...`), under
/// `[workspace.metadata.release]`: the deepest part of the key that is
/// written there.
fn line_of_key(text: &str, problem: &str) -> Option<usize> {
    let key: String = problem
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_.[]".contains(*c))
        .collect();
    let doc = toml_edit::Document::parse(text.to_owned()).ok()?;
    let mut item = doc
        .as_item()
        .get("workspace")?
        .get("metadata")?
        .get("release")?;
    let mut span = item.span();
    for part in key.trim_end_matches('.').split('.') {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let Some(next) = item.get(name) else { break };
        item = next;
        span = item.span().or(span);
        match index.map(|i| (i, item.get(i))) {
            Some((_, Some(next))) => {
                item = next;
                span = item.span().or(span);
            }
            // `python[0]` written as one table.
            Some((0, None)) if item.is_table_like() => {}
            Some(_) => break,
            None => {}
        }
    }
    let span = span?;
    Some(text[..span.start.min(text.len())].matches('\n').count() + 1)
}

/// The nearest directory at or above `start` whose `Cargo.toml` has a
/// `[workspace]` table.
fn find_root(start: &Path) -> Result<PathBuf> {
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            // A manifest that does not parse is the problem to report, not
            // "no workspace": cargo itself would stop at it too.
            let doc = text.parse::<toml_edit::DocumentMut>().map_err(|err| {
                anyhow::anyhow!(
                    "{}: not valid TOML: {}\nfix it, then run the command again",
                    manifest.display(),
                    err.to_string().trim_end()
                )
            })?;
            if doc.contains_table("workspace") {
                return Ok(dir.to_owned());
            }
        }
    }
    bail!(
        "no workspace found: neither {} nor any directory above it has a Cargo.toml with a \
         [workspace] table; run `cargo xtask` inside the monorepo",
        start.display()
    )
}

/// `[workspace.metadata.release]`: what a release of this repository contains.
#[derive(Debug)]
pub struct ReleaseConfig {
    /// GitHub repository slug, `owner/name`; no GitHub release without it.
    pub github: Option<String>,
    /// Branches a release may start from; `*` matches within the rest of a name.
    pub branches: Vec<String>,
    /// The tag of a release; must contain `{version}`.
    pub tag_name: String,
    /// The release commit's message: `{version}`, `{tag}`, `{pep440}`,
    /// `{summary}`, `{previous_tag}`.
    pub commit_message: String,
    /// The annotated tag's message, with the same placeholders.
    pub tag_message: String,
    /// Further tags on the release commit, e.g. `models-v{version}`.
    pub extra_tags: Vec<ExtraTag>,
    /// A release from another branch (`release/1.2.x`) is merged into this
    /// one, e.g. `"main"`, in the same atomic push; a conflict stops it
    /// before anything is pushed.
    pub merge_back: Option<String>,
    pub changelog: ChangelogConfig,
    pub notes: NotesConfig,
    /// Workspace members that carry their own `version` instead of
    /// `version.workspace = true`, by package name.
    pub crates: Vec<String>,
    /// Further files holding the version as text.
    pub version_files: Vec<VersionFile>,
    /// The Python packages released with the workspace: one table
    /// (`[….python]`) or several (`[[….python]]`).
    pub python: Vec<PythonPackage>,
    pub docker: Vec<DockerImage>,
    pub models: Vec<Model>,
    /// Further files a release ships, by glob: renamed, or zipped into one.
    pub assets: Vec<ReleaseAsset>,
    /// Models the product pulls by name at run time, pinned by digest.
    pub references: References,
    /// Release steps this project never runs (as `--skip` each time), e.g.
    /// `["docker"]`; preflight cannot be one.
    pub skip_steps: Vec<String>,
    /// What each compile target takes of an ONNX, by `hw-arch` name.
    pub targets: BTreeMap<String, TargetRules>,
    /// The project's own commands at fixed points of a release.
    pub hooks: Hooks,
    /// Wait for the project's CI on the pushed release commit, and stop
    /// before anything is published when it fails.
    pub ci: Option<CiWait>,
    /// A release across machines: the runner labels each part builds on,
    /// by kind (`python`, `onnx`, `hef`) or image platform (`linux/arm64`).
    pub runners: BTreeMap<String, Vec<String>>,
    /// GPG key to sign with; `RELEASE_GPG_KEY` and `--sign-key` override it.
    pub sign_key: Option<String>,
    /// Sign every asset too, not only `sha256sum.txt` and the provenance.
    pub sign_assets: bool,
    /// The SBOM asset's name, with `{version}` at most.
    pub sbom_name: String,
}

record!(read write: ReleaseConfig (Kebab, strict) {
    github,
    branches = default_branches(),
    tag_name = default_tag_name(),
    commit_message = default_commit_message(),
    tag_message = default_tag_message(),
    extra_tags = Default::default(),
    merge_back,
    changelog = Default::default(),
    notes = Default::default(),
    crates = Default::default(),
    version_files = Default::default(),
    python with table_or_tables = Default::default(),
    docker = Default::default(),
    models = Default::default(),
    assets = Default::default(),
    references = Default::default(),
    skip_steps = Default::default(),
    targets = Default::default(),
    hooks = Default::default(),
    ci,
    runners = Default::default(),
    sign_key,
    sign_assets = Default::default(),
    sbom_name = default_sbom_name(),
});

fn default_sbom_name() -> String {
    crate::core::dist::SBOM.to_owned()
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        ReleaseConfig {
            github: None,
            branches: default_branches(),
            tag_name: default_tag_name(),
            commit_message: default_commit_message(),
            tag_message: default_tag_message(),
            extra_tags: Vec::new(),
            merge_back: None,
            changelog: ChangelogConfig::default(),
            notes: NotesConfig::default(),
            crates: Vec::new(),
            version_files: Vec::new(),
            python: Vec::new(),
            docker: Vec::new(),
            models: Vec::new(),
            assets: Vec::new(),
            references: References::default(),
            skip_steps: Vec::new(),
            targets: BTreeMap::new(),
            hooks: Hooks::default(),
            ci: None,
            runners: BTreeMap::new(),
            sign_key: None,
            sign_assets: false,
            sbom_name: default_sbom_name(),
        }
    }
}

fn default_branches() -> Vec<String> {
    ["main", "release/*", "hotfix/*"].map(String::from).to_vec()
}

fn default_tag_name() -> String {
    "v{version}".to_owned()
}

fn default_commit_message() -> String {
    "chore(release): {tag}".to_owned()
}

fn default_tag_message() -> String {
    "Release {tag}".to_owned()
}

/// A further tag on the release commit.
#[derive(Debug)]
pub struct ExtraTag {
    /// With `{version}`, e.g. `models-v{version}`.
    pub name: String,
    /// Annotated (with `message`, else `tag-message`) or lightweight.
    pub annotated: bool,
    pub message: Option<String>,
}

record!(read write: ExtraTag (Kebab, strict) {
    name,
    annotated = yes(),
    message,
});

/// The placeholders of the commit and tag messages.
pub const MESSAGE_PLACEHOLDERS: &[&str] = &["version", "tag", "pep440", "summary", "previous_tag"];

/// Fills `{version}`, `{tag}`, ... of a message or tag template.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (key, value)| {
            text.replace(&format!("{{{key}}}"), value)
        })
}

/// `[workspace.metadata.release.notes]`: the release notes (the GitHub
/// release's body) and title, as Jinja templates (docs/RELEASE-NOTES.md).
#[derive(Debug)]
pub struct NotesConfig {
    /// The notes' template, relative to the root [default: the built-in one,
    /// which names no model-specific facts].
    pub template: Option<String>,
    /// The release's title.
    pub title: String,
}

record!(read write: NotesConfig (Kebab, strict) {
    template,
    title = default_title(),
});

impl Default for NotesConfig {
    fn default() -> Self {
        NotesConfig {
            template: None,
            title: default_title(),
        }
    }
}

fn default_title() -> String {
    "{{ name }} v{{ version }} - {{ summary }}".to_owned()
}

/// `[workspace.metadata.release.changelog]`: how commits become the
/// changelog section.
#[derive(Debug)]
pub struct ChangelogConfig {
    /// The Keep a Changelog file.
    pub path: String,
    /// Commit type -> section (Added, Changed, Deprecated, Removed, Fixed,
    /// Security). Types not listed are left out unless breaking.
    pub sections: BTreeMap<String, String>,
    /// Keep commits that are not conventional under this Keep a Changelog
    /// section; by default they are left out (and listed in the output).
    pub other_section: Option<String>,
    /// `bump auto`: release a patch for any commit, not only for `fix`,
    /// `perf` and `refactor` (commitizen's patch types).
    pub patch_for_any_commit: bool,
    /// Replaced by `other-section`; kept only to say so.
    pub keep_other: Option<bool>,
    /// Only commits touching these paths count (git pathspecs); empty: all.
    pub paths: Vec<String>,
    /// The sections a release may have, in the order it lists them.
    pub section_order: Vec<String>,
    /// A release's heading: `{version}` (required), `{date}`, `{tag}`.
    pub heading: String,
    /// Where `## [Unreleased]` sits: above the releases (`top`, newest
    /// first), below them (`bottom`, oldest first), or nowhere (`none`).
    pub unreleased: UnreleasedAt,
    /// With no release tag yet: the commit the first release's changes
    /// start after [default: the commit that added the newest release
    /// heading of the changelog, if it has one].
    pub since: Option<String>,
    /// What a subject may start with before its conventional type, e.g.
    /// a ticket id: `"[*] "`, `"*-* "`, `"#* "`; `*` stands for any run of
    /// characters without a space. The prefix is dropped from the entry.
    pub commit_prefixes: Vec<String>,
    /// What makes a release's section: `both` (commits and the hand-written
    /// `[Unreleased]` lines, an entry never twice), `commits`, or `hand`.
    pub entries: Entries,
}

record!(read write: ChangelogConfig (Kebab, strict) {
    path = default_changelog_path(),
    sections = default_sections(),
    other_section = Default::default(),
    patch_for_any_commit = Default::default(),
    keep_other = Default::default() ; skip_if crate::core::record::always,
    paths = Default::default(),
    section_order = default_section_order(),
    heading = default_heading(),
    unreleased = Default::default(),
    since,
    commit_prefixes = Default::default(),
    entries = Default::default(),
});

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Entries {
    #[default]
    Both,
    Commits,
    Hand,
}

string_enum!(Entries (Lower) { Both, Commits, Hand });

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnreleasedAt {
    #[default]
    Top,
    Bottom,
    /// The project keeps no `[Unreleased]` heading: none is added, and no
    /// `[Unreleased]` compare link.
    None,
}

string_enum!(UnreleasedAt (Lower) { Top, Bottom, None });

fn default_section_order() -> Vec<String> {
    SECTIONS.iter().map(|s| (*s).to_owned()).collect()
}

fn default_heading() -> String {
    "## [{version}] - {date}".to_owned()
}

impl Default for ChangelogConfig {
    fn default() -> Self {
        ChangelogConfig {
            path: default_changelog_path(),
            sections: default_sections(),
            other_section: None,
            patch_for_any_commit: false,
            keep_other: None,
            paths: Vec::new(),
            section_order: default_section_order(),
            heading: default_heading(),
            unreleased: UnreleasedAt::Top,
            since: None,
            commit_prefixes: Vec::new(),
            entries: Entries::Both,
        }
    }
}

/// Keep a Changelog's sections, in the order a section lists them.
pub const SECTIONS: &[&str] = &[
    "Added",
    "Changed",
    "Deprecated",
    "Removed",
    "Fixed",
    "Security",
];

fn default_changelog_path() -> String {
    "CHANGELOG.md".to_owned()
}

fn default_sections() -> BTreeMap<String, String> {
    [
        ("feat", "Added"),
        ("fix", "Fixed"),
        ("perf", "Changed"),
        ("refactor", "Changed"),
        ("revert", "Removed"),
        ("security", "Security"),
        ("deprecate", "Deprecated"),
    ]
    .into_iter()
    .map(|(t, s)| (t.to_owned(), s.to_owned()))
    .collect()
}

/// A text file that carries the version a fixed number of times.
#[derive(Debug)]
pub struct VersionFile {
    pub path: String,
    /// Text around the version, with `{version}` (SemVer) or `{pep440}`.
    pub search: String,
    /// How many times `search` must match; any other count stops a bump.
    pub count: usize,
}

record!(read write: VersionFile (Kebab, strict) {
    path,
    search,
    count = one(),
});

fn one() -> usize {
    1
}

/// A Python package released with the workspace.
#[derive(Debug)]
pub struct PythonPackage {
    /// Directory of the package's `pyproject.toml`.
    pub path: String,
    /// Upload URL of the package index.
    pub index_url: String,
    /// Upload it (`false`: the project's own CI publishes it; the release
    /// builds and checks it, and its `pypi` step is off).
    pub publish: bool,
}

record!(read write: PythonPackage (Kebab, strict) {
    path,
    index_url = default_index_url(),
    publish = yes(),
});

/// Whether two relative directories are the same (`.`, `./x/` and `x`).
fn same_dir(a: &str, b: &str) -> bool {
    repo_dir(a) == repo_dir(b)
}

/// A directory of the config, relative to the root, as git lists paths:
/// `.` is the root (empty), `./python/` is `python`.
pub fn repo_dir(path: &str) -> PathBuf {
    Path::new(path)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

fn default_index_url() -> String {
    "https://upload.pypi.org/legacy/".to_owned()
}

/// A container image built and pushed by a release.
#[derive(Debug)]
pub struct DockerImage {
    /// Full image name without tag, e.g. `ghcr.io/owner/image`.
    pub name: String,
    pub dockerfile: String,
    /// Build context; `{version}` is replaced (the staged release directory).
    pub context: String,
    pub platforms: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    /// Extra tags; `{version}` and `{sha}` (short commit) are replaced.
    pub extra_tags: Vec<String>,
    /// The project's own tag set instead of `X.Y.Z`/`X.Y`/`X`/`latest`:
    /// templates with `{version}`, `{major}`, `{minor}`, `{patch}`, `{sha}`
    /// (docs/DISTRIBUTION.md says which move when).
    pub tags: Option<Vec<String>>,
    /// Build without the engine's cache (`--no-cache`).
    pub no_cache: bool,
    /// The Dockerfile stage to build (`--target`).
    pub target: Option<String>,
}

record!(read write: DockerImage (Kebab, strict) {
    name,
    dockerfile,
    context = default_context(),
    platforms = default_platforms(),
    build_args = Default::default(),
    extra_tags = Default::default(),
    tags,
    no_cache = Default::default(),
    target,
});

fn default_context() -> String {
    ".".to_owned()
}

fn default_platforms() -> Vec<String> {
    ["linux/amd64", "linux/arm64"].map(String::from).to_vec()
}

/// A trained model released with the workspace.
#[derive(Debug)]
pub struct Model {
    pub name: String,
    /// Directory holding `v<X.Y.Z>/` metadata directories.
    pub metadata: String,
    /// Files released as assets (weights, ONNX, HEF), relative to the root.
    pub assets: Vec<String>,
    /// Compile a HEF for the Hailo accelerator.
    pub hef: Option<Hef>,
    /// What the model's ONNX must declare; `models check` and
    /// `check-onnx --model` check every ONNX of the model against it.
    pub onnx: Option<OnnxSpec>,
    /// How the build makes `<name>.onnx` from the weights. Without it, an
    /// `.onnx` among the assets is the model's ONNX, shipped as it is.
    pub export: Option<Export>,
    /// How a weights name writes the accuracy as a percent (`_57pct.pth`
    /// for 0.5768): `truncate`, `round` or `either`.
    pub accuracy_in_name: PercentStyle,
    /// The model card in each version directory; `""`: the project keeps none.
    pub card: String,
    /// Where each fact the release relies on lives in the version directory's
    /// JSON files; the defaults are the example's files.
    pub facts: Facts,
}

record!(read write: Model (Kebab, strict) {
    name,
    metadata,
    assets = Default::default(),
    hef,
    onnx,
    export,
    accuracy_in_name = Default::default(),
    card = default_card(),
    facts = Default::default(),
});

/// The project's own export programs, run from the repository root. Every
/// argument and `env` value may hold placeholders: `{python}` (the
/// interpreter, `XTASK_PYTHON`), `{root}`, `{name}`, `{metadata}` (the newest
/// `v<X.Y.Z>/` directory), `{weights}`, `{onnx}`, `{calibration}`, `{out}`
/// (the staged directory).
#[derive(Debug)]
pub struct Export {
    /// Writes `{onnx}` from `{weights}`.
    pub command: Vec<String>,
    /// Writes the DFC calibration set `{calibration}` (`.npy`).
    pub calibration: Vec<String>,
    /// Trains deterministic weights into `{weights}` (`onnx-export --synthetic`).
    pub synthetic: Vec<String>,
    /// Further files `command` writes beside the ONNX, `<name>.<suffix>`.
    pub outputs: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Python modules the programs import: missing ones are named before
    /// anything runs.
    pub python_modules: Vec<String>,
    /// How to get them, for the message when they are missing.
    pub install: Option<String>,
    /// With it, `command` also writes `{reference}` (`.npz`: inputs and the
    /// source framework's outputs by ONNX name, samples first); onnxruntime
    /// must agree within this max absolute difference, recorded in the
    /// release manifest.
    pub parity_tolerance: Option<f64>,
}

record!(read write: Export (Kebab, strict) {
    command,
    calibration = Default::default(),
    synthetic = Default::default(),
    outputs = Default::default(),
    env = Default::default(),
    python_modules = Default::default(),
    install,
    parity_tolerance,
});

/// `[workspace.metadata.release.hooks]`: each a list of argv lists, run
/// from the repository root with `NEW_VERSION`, `PEP440_VERSION`, `TAG`,
/// `PREVIOUS_TAG`, `DRY_RUN` and `RELEASE_DIR` in their environment (like
/// cargo-release's hooks); a failing one stops the release.
#[derive(Debug, Default)]
pub struct Hooks {
    /// The project's tests and linters: preflight runs them before anything
    /// changes (`--execute`, unless `--skip-tests`).
    pub test: Vec<Vec<String>>,
    /// At the start of the build, before anything is staged (also in a dry
    /// run, with `DRY_RUN=true`): a sub-project's own build, a smoke test.
    pub pre_release: Vec<Vec<String>>,
    /// After everything is published and verified (`--execute` only).
    pub post_release: Vec<Vec<String>>,
}

record!(read write: Hooks (Kebab, strict) {
    test = Default::default(),
    pre_release = Default::default(),
    post_release = Default::default(),
});

impl Hooks {
    fn problems(&self) -> Vec<String> {
        let lists = [
            ("test", &self.test),
            ("pre-release", &self.pre_release),
            ("post-release", &self.post_release),
        ];
        lists
            .iter()
            .flat_map(|(key, commands)| {
                commands
                    .iter()
                    .enumerate()
                    .filter(|(_, argv)| argv.is_empty())
                    .map(move |(i, _)| format!("hooks.{key}[{i}] is empty: give the program and its arguments, e.g. [\"make\", \"test\"]"))
            })
            .collect()
    }
}

/// `[workspace.metadata.release.ci]`: the `ci` step, after the push and
/// before anything is published, reads GitHub Actions' runs of the release
/// commit (`gh run list --commit`) until they finish.
#[derive(Debug)]
pub struct CiWait {
    /// The workflows that must pass, by name; empty: every run of the commit.
    pub workflows: Vec<String>,
    /// How long to wait for them, in minutes.
    pub timeout_minutes: u64,
    /// How often to ask, in seconds.
    pub interval_seconds: u64,
}

record!(read write: CiWait (Kebab, strict) {
    workflows = Default::default(),
    timeout_minutes = default_ci_timeout(),
    interval_seconds = default_ci_interval(),
});

fn default_ci_timeout() -> u64 {
    60
}

fn default_ci_interval() -> u64 {
    20
}

/// `[workspace.metadata.release.targets.<hw-arch>]`: what a compiler for
/// that target takes of an ONNX (docs/MODELS.md says which rules are
/// Hailo's and which are our caution).
#[derive(Debug)]
pub struct TargetRules {
    /// The default-domain opsets it parses (empty: any).
    pub opsets: Vec<u64>,
    /// Op types it rejects.
    pub forbidden_ops: Vec<String>,
    /// Refuse a `Conv` with a 1-D kernel (write it as a `(1, k)` 2-D one).
    pub no_conv_1d: bool,
    /// Refuse a `Slice` fed by a `Pad` (pad on one side instead).
    pub no_pad_slice: bool,
    /// Every node needs a name (start and end nodes are given by name).
    pub named_nodes: bool,
}

record!(read write: TargetRules (Kebab, strict) {
    opsets = Default::default(),
    forbidden_ops = Default::default(),
    no_conv_1d = Default::default(),
    no_pad_slice = Default::default(),
    named_nodes = yes(),
});

fn yes() -> bool {
    true
}

/// `[[workspace.metadata.release.assets]]`: repository files a release
/// ships beside what it builds (docs/CONFIG.md).
#[derive(Debug)]
pub struct ReleaseAsset {
    /// Globs of the repository's files: `flows/*.json`, `models/**/*.json`.
    pub files: Vec<String>,
    /// Each file's name in the release: `{file}` (its own name, the
    /// default), `{stem}`, `{ext}`, `{version}`.
    pub name: String,
    /// All of them in one deterministic zip instead, e.g. `models-{version}.zip`.
    pub bundle: Option<String>,
}

record!(read write: ReleaseAsset (Kebab, strict) {
    files,
    name = default_asset_name(),
    bundle,
});

fn default_asset_name() -> String {
    "{file}".to_owned()
}

impl ReleaseAsset {
    fn problems(&self, i: usize) -> Vec<String> {
        let mut problems = Vec::new();
        if self.files.is_empty() {
            problems.push(format!(
                "assets[{i}].files = []: list globs of the files to ship, e.g. [\"flows/*.json\"]"
            ));
        }
        for word in placeholders(&self.name) {
            if !["file", "stem", "ext", "version"].contains(&word) {
                problems.push(format!(
                    "assets[{i}].name = {:?}: unknown placeholder `{{{word}}}`; use {{file}}, {{stem}}, {{ext}}, {{version}}",
                    self.name
                ));
            }
        }
        if let Some(bundle) = &self.bundle {
            if placeholders(bundle).iter().any(|w| *w != "version")
                || !bundle.ends_with(".zip")
                || bundle.contains('/')
            {
                problems.push(format!(
                    "assets[{i}].bundle = {bundle:?}: a zip's file name, with {{version}} at most, e.g. \"models-{{version}}.zip\""
                ));
            }
        }
        problems
    }
}

/// `[workspace.metadata.release.references]`: models the product pulls by
/// name (an Ollama tag, a Hugging Face revision), each pinned by its digest;
/// `check` prints the digest the registry holds now.
#[derive(Debug, Default)]
pub struct References {
    /// argv with `{name}` (and `{digest}`, the pin); the first sha256 it
    /// prints is the registry's.
    pub check: Vec<String>,
    pub models: Vec<Reference>,
}

record!(read write: References (Kebab, strict) {
    check = Default::default(),
    models = Default::default(),
});

#[derive(Debug)]
pub struct Reference {
    /// As the product pulls it: `qwen2.5-coder:7b-q4_0`.
    pub name: String,
    /// `sha256:<64 hex>`.
    pub digest: String,
    /// Where it is pulled from, for the notes and the SBOM: `ollama`, ...
    pub source: Option<String>,
}

record!(read write: Reference (Kebab, strict) {
    name,
    digest,
    source,
});

impl References {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.models.is_empty() && self.check.is_empty() {
            problems.push(
                "references.check is empty: name the command that prints a model's digest, e.g. \
                 [\"python3\", \"scripts/model_digest.py\", \"{name}\"]"
                    .to_owned(),
            );
        }
        for (i, arg) in self.check.iter().enumerate() {
            for word in placeholders(arg) {
                if !["name", "digest"].contains(&word) {
                    problems.push(format!(
                        "references.check[{i}] = {arg:?}: unknown placeholder `{{{word}}}`; use {{name}} or {{digest}}"
                    ));
                }
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, model) in self.models.iter().enumerate() {
            if sha256_hex(&model.digest).is_none() {
                problems.push(format!(
                    "references.models[{i}].digest = {:?}: expected `sha256:` and 64 hex digits",
                    model.digest
                ));
            }
            if !names.insert(model.name.as_str()) {
                problems.push(format!(
                    "references.models[{i}].name = {:?}: listed twice",
                    model.name
                ));
            }
        }
        problems
    }
}

/// The 64 hex digits of `sha256:<hex>` or `<hex>`, lower-cased.
pub fn sha256_hex(text: &str) -> Option<String> {
    let hex = text.strip_prefix("sha256:").unwrap_or(text);
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// The placeholders an export argument may hold.
pub const EXPORT_PLACEHOLDERS: &[&str] = &[
    "python",
    "root",
    "name",
    "metadata",
    "weights",
    "onnx",
    "calibration",
    "reference",
    "out",
];

impl Export {
    /// Every `{word}` in the commands and env that is not a placeholder.
    fn problems(&self, key: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let writes_reference = self.command.iter().any(|a| a.contains("{reference}"));
        if self.parity_tolerance.is_some() && !writes_reference {
            problems.push(format!(
                "{key}.parity-tolerance is set, but no argument of {key}.command passes {{reference}}: \
                 the export must write the reference it is compared with"
            ));
        }
        if self.command.is_empty() {
            problems.push(format!(
                "{key}.command is empty: name the program that writes {{onnx}} from {{weights}}"
            ));
        }
        let lists = [
            ("command", &self.command),
            ("calibration", &self.calibration),
            ("synthetic", &self.synthetic),
        ];
        let args = lists
            .iter()
            .flat_map(|(list, args)| {
                args.iter()
                    .enumerate()
                    .map(move |(i, a)| (format!("{list}[{i}]"), a))
            })
            .chain(self.env.iter().map(|(k, v)| (format!("env.{k}"), v)));
        for (at, arg) in args {
            for word in placeholders(arg) {
                if !EXPORT_PLACEHOLDERS.contains(&word) {
                    problems.push(format!(
                        "{key}.{at} = {arg:?}: unknown placeholder `{{{word}}}`; use one of {}",
                        EXPORT_PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        problems
    }
}

/// The `{word}`s in `text`.
pub fn placeholders(text: &str) -> Vec<&str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(word, _)| word))
        .collect()
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PercentStyle {
    Truncate,
    Round,
    #[default]
    Either,
}

string_enum!(PercentStyle (Lower) { Truncate, Round, Either });

fn default_card() -> String {
    "MODEL_CARD.md".to_owned()
}

/// Each fact as one or more sources `file#/json/pointer` (RFC 6901). The file
/// is relative to the model's `v<X.Y.Z>/` directory, or to the repository root
/// when it starts with `/`. Several sources must hold the same value; `[]`:
/// the project does not record that fact.
#[derive(Clone, Debug)]
pub struct Facts {
    /// Must equal the model's configured name.
    pub name: Vec<String>,
    /// The input window as the device sees it, channels last: `[100, 9]`.
    pub input_shape: Vec<String>,
    /// Size of the output (latent) vector.
    pub output_dim: Vec<String>,
    /// Validation accuracy as a fraction, `0.5768`.
    pub accuracy: Vec<String>,
    /// The release threshold for `accuracy` (may be absent from the file).
    pub min_accuracy: Vec<String>,
    /// Normalisation, one entry per input channel.
    pub mean: Vec<String>,
    pub std: Vec<String>,
    pub channels: Vec<String>,
    /// Must equal the directory's version (may be absent from the file).
    pub model_version: Vec<String>,
    /// Where the model runs, as the project words it.
    pub platform: Vec<String>,
}

record!(read write: Facts (Kebab, strict) {
    name with one_or_many = Facts::default().name,
    input_shape with one_or_many = Facts::default().input_shape,
    output_dim with one_or_many = Facts::default().output_dim,
    accuracy with one_or_many = Facts::default().accuracy,
    min_accuracy with one_or_many = Facts::default().min_accuracy,
    mean with one_or_many = Facts::default().mean,
    std with one_or_many = Facts::default().std,
    channels with one_or_many = Facts::default().channels,
    model_version with one_or_many = Facts::default().model_version,
    platform with one_or_many = Facts::default().platform,
});

impl Default for Facts {
    fn default() -> Self {
        let list = |sources: &[&str]| sources.iter().map(|s| (*s).to_owned()).collect();
        Facts {
            name: list(&["model_config.json#/name"]),
            input_shape: list(&[
                "model_config.json#/input_shape",
                "normalization.json#/window_shape",
            ]),
            output_dim: list(&[
                "model_config.json#/latent_dim",
                "eval_metrics.json#/latent_dim",
            ]),
            accuracy: list(&["eval_metrics.json#/validation_accuracy"]),
            min_accuracy: list(&["eval_metrics.json#/thresholds/min_validation_accuracy"]),
            mean: list(&["normalization.json#/mean"]),
            std: list(&["normalization.json#/std"]),
            channels: list(&["normalization.json#/channels"]),
            model_version: list(&["eval_metrics.json#/model_version"]),
            platform: Vec::new(),
        }
    }
}

impl Facts {
    /// Every fact with its key and sources, in the order checks report them.
    pub fn all(&self) -> [(&'static str, &[String]); 10] {
        [
            ("name", &self.name),
            ("input-shape", &self.input_shape),
            ("output-dim", &self.output_dim),
            ("accuracy", &self.accuracy),
            ("min-accuracy", &self.min_accuracy),
            ("mean", &self.mean),
            ("std", &self.std),
            ("channels", &self.channels),
            ("model-version", &self.model_version),
            ("platform", &self.platform),
        ]
    }
}

/// A model's ONNX interface as the project declares it.
#[derive(Debug, Default)]
pub struct OnnxSpec {
    /// Input name -> static shape, e.g. `{ imu_window = [1, 100, 9] }`.
    pub inputs: std::collections::BTreeMap<String, Vec<u64>>,
    /// Output name -> static shape.
    pub outputs: std::collections::BTreeMap<String, Vec<u64>>,
    /// The default-domain opsets accepted (empty: any).
    pub opsets: Vec<u64>,
    /// Op types the target is known to reject or the project forbids.
    pub forbidden_ops: Vec<String>,
}

record!(read write: OnnxSpec (Kebab, strict) {
    inputs = Default::default(),
    outputs = Default::default(),
    opsets = Default::default(),
    forbidden_ops = Default::default(),
});

#[derive(Debug)]
pub struct Hef {
    pub hw_arch: HwArch,
}

record!(read write: Hef (Kebab, strict) {
    hw_arch,
});

/// A Hailo target as the DFC's `--hw-arch` names it (`hailo8`, `hailo8l`,
/// `hailo15h`, ...). Which ones exist is the installed DFC's to say: it
/// refuses one it does not know, before anything is compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HwArch(String);

impl Decode for HwArch {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        String::decode(value, at).map(HwArch)
    }
}

impl serde::Serialize for HwArch {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl HwArch {
    /// `hailo` and a generation with its variant: lower-case letters and digits.
    pub fn parse(text: &str) -> Result<HwArch, String> {
        let rest = text.strip_prefix("hailo").unwrap_or_default();
        if rest.starts_with(|c: char| c.is_ascii_digit())
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        {
            Ok(HwArch(text.to_owned()))
        } else {
            Err(format!(
                "{text:?} is not a Hailo target as the DFC names them (`hailo8`, `hailo8l`, `hailo15h`, ...)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ReleaseConfig {
    /// The tag of `version` (`tag-name` filled in).
    pub fn tag_for(&self, version: &impl std::fmt::Display) -> String {
        self.tag_name.replace("{version}", &version.to_string())
    }

    /// The runner labels a part of `kind` (or an image of a platform)
    /// builds on: the config's, else GitHub's hosted runners, and a
    /// self-hosted `hailo-dfc` runner for HEFs.
    pub fn runner_for(&self, kind: &str) -> Vec<String> {
        if let Some(labels) = self.runners.get(kind) {
            return labels.clone();
        }
        let labels: &[&str] = match kind {
            "hef" => &["self-hosted", "hailo-dfc"],
            k if k.ends_with("/arm64") || k.contains("/arm64/") || k.ends_with("/arm/v7") => {
                &["ubuntu-24.04-arm"]
            }
            _ => &["ubuntu-latest"],
        };
        labels.iter().map(|l| (*l).to_owned()).collect()
    }

    /// The SBOM's asset name for `version` (`sbom-name` filled in).
    pub fn sbom_for(&self, version: &impl std::fmt::Display) -> String {
        self.sbom_name.replace("{version}", &version.to_string())
    }

    /// The version text `tag` carries, when `tag-name` names it.
    pub fn version_in_tag<'t>(&self, tag: &'t str) -> Option<&'t str> {
        let (prefix, suffix) = self.tag_name.split_once("{version}")?;
        tag.strip_prefix(prefix)?.strip_suffix(suffix)
    }

    /// Every problem the types could not catch, each naming its key and fix.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(slug) = &self.github {
            let parts: Vec<&str> = slug.split('/').collect();
            if parts.len() != 2
                || parts
                    .iter()
                    .any(|p| p.is_empty() || p.contains(char::is_whitespace))
            {
                problems.push(format!(
                    "github = {slug:?}: expected `owner/name`, e.g. \"edge-ml/tcn-vae-edge\""
                ));
            }
        }
        if !self.tag_name.contains("{version}") {
            problems.push(format!(
                "tag-name = {:?}: must contain `{{version}}`, e.g. \"v{{version}}\"",
                self.tag_name
            ));
        }
        if self.branches.is_empty() {
            problems
                .push("branches = []: no branch could release; list at least \"main\"".to_owned());
        }
        for (i, file) in self.version_files.iter().enumerate() {
            if !file.search.contains("{version}") && !file.search.contains("{pep440}") {
                problems.push(format!(
                    "version-files[{i}].search = {:?}: must contain `{{version}}` or `{{pep440}}`",
                    file.search
                ));
            }
            if file.count == 0 {
                problems.push(format!(
                    "version-files[{i}].count = 0: a file listed here must hold the version at least once"
                ));
            }
        }
        for (i, image) in self.docker.iter().enumerate() {
            // A registry host may carry a port (`127.0.0.1:5000/x`); a tag or digest
            // can only follow the last path component.
            let last = image.name.rsplit('/').next().unwrap_or_default();
            if image.name.is_empty()
                || image.name != image.name.to_lowercase()
                || last.contains([':', '@'])
            {
                problems.push(format!(
                    "docker[{i}].name = {:?}: an image name is lower case and has no tag, \
                     e.g. \"ghcr.io/owner/image\"",
                    image.name
                ));
            }
            for platform in &image.platforms {
                let parts: Vec<&str> = platform.split('/').collect();
                if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
                    problems.push(format!(
                        "docker[{i}].platforms: {platform:?} is not `os/arch[/variant]`, e.g. \"linux/arm64\""
                    ));
                }
            }
            if let Some(tags) = &image.tags {
                if !tags.iter().any(|t| t.contains("{version}")) {
                    problems.push(format!(
                        "docker[{i}].tags = {tags:?}: name one tag with {{version}} (e.g. \"v{{version}}\"): \
                         without it a release would only move tags and never pin its version"
                    ));
                }
                for tag in tags {
                    for word in placeholders(tag) {
                        if !["version", "major", "minor", "patch", "sha"].contains(&word) {
                            problems.push(format!(
                                "docker[{i}].tags: {tag:?} has `{{{word}}}`; use {{version}}, {{major}}, {{minor}}, {{patch}}, {{sha}}"
                            ));
                        }
                    }
                }
            }
            if image.platforms.is_empty() {
                problems.push(format!(
                    "docker[{i}].platforms = []: list at least one platform"
                ));
            }
        }
        problems.extend(self.changelog.problems());
        let mut names = std::collections::BTreeSet::new();
        problems.extend(self.references.problems());
        problems.extend(self.hooks.problems());
        for (i, asset) in self.assets.iter().enumerate() {
            problems.extend(asset.problems(i));
        }
        for key in self.targets.keys() {
            if let Err(why) = HwArch::parse(key) {
                problems.push(format!(
                    "targets.{key}: {why}; name the table after a hw-arch"
                ));
            }
        }
        problems.extend(self.message_problems());
        if let (Some(_), None) = (&self.ci, &self.github) {
            problems.push(
                "ci is set but github is not: the CI to wait for is GitHub Actions' on `github = \"owner/name\"`"
                    .to_owned(),
            );
        }
        if self.ci.as_ref().is_some_and(|c| c.interval_seconds == 0) {
            problems.push("ci.interval-seconds = 0: ask at most once a second, e.g. 20".to_owned());
        }
        for (key, labels) in &self.runners {
            let platform = key.split('/').count() >= 2 && !key.contains(char::is_whitespace);
            if !["python", "onnx", "hef"].contains(&key.as_str()) && !platform {
                problems.push(format!(
                    "runners.{key}: not a part kind; use python, onnx, hef or an image platform such as \"linux/arm64\""
                ));
            }
            if labels.is_empty() {
                problems.push(format!(
                    "runners.{key} = []: name the runner's labels, e.g. [\"self-hosted\", \"hailo-dfc\"]"
                ));
            }
        }
        if placeholders(&self.sbom_name)
            .iter()
            .any(|w| *w != "version")
            || !self.sbom_name.ends_with(".json")
            || self.sbom_name.contains('/')
        {
            problems.push(format!(
                "sbom-name = {:?}: a JSON file's name, with {{version}} at most, e.g. \"SBOM-{{version}}.json\"",
                self.sbom_name
            ));
        }
        for (i, image) in self.docker.iter().enumerate() {
            if let Some(first) = self.docker[..i].iter().position(|d| d.name == image.name) {
                problems.push(format!(
                    "docker[{i}].name = {:?}: docker[{first}] has the same name, so one image would overwrite \
                     the other's tags; give each image its own name",
                    image.name
                ));
            }
        }
        for (i, package) in self.python.iter().enumerate() {
            let first = self
                .python
                .iter()
                .position(|p| same_dir(&p.path, &package.path));
            if first != Some(i) {
                problems.push(format!(
                    "python[{i}].path = {:?}: python[{}] names the same directory; list each package once",
                    package.path,
                    first.unwrap_or_default()
                ));
            }
        }
        for (i, model) in self.models.iter().enumerate() {
            problems.extend(model.problems(i));
            if !names.insert(model.name.as_str()) {
                problems.push(format!("models[{i}].name = {:?}: listed twice", model.name));
            }
        }
        problems
    }
}

impl ChangelogConfig {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(keep) = self.keep_other {
            problems.push(format!(
                "changelog.keep-other = {keep}: replaced by `other-section`; commits that are not conventional \
                 are left out by default (Keep a Changelog has no \"Other\"): remove the key, or set \
                 `other-section = \"Changed\"` to keep them under a section of yours"
            ));
        }
        let changelog = self;
        let order = &changelog.section_order;
        let kac = *order == default_section_order();
        let listed = |section: &str| order.iter().any(|s| s == section);
        let why = if kac {
            "not a Keep a Changelog section, which changelog parsers reject"
        } else {
            "not in changelog.section-order"
        };
        if let Some(section) = changelog.other_section.as_ref().filter(|s| !listed(s)) {
            problems.push(format!(
                "changelog.other-section = {section:?}: {why}; use one of {}, or add it to changelog.section-order",
                order.join(", ")
            ));
        }
        for (kind, section) in changelog.sections.iter().filter(|(_, s)| !listed(s)) {
            problems.push(format!(
                "changelog.sections.{kind} = {section:?}: {why}; use one of {}, or add it to changelog.section-order",
                order.join(", ")
            ));
        }
        if !changelog.heading.contains("{version}") {
            problems.push(format!(
                "changelog.heading = {:?}: must contain {{version}}, e.g. \"## [{{version}}] - {{date}}\"",
                changelog.heading
            ));
        }
        for word in placeholders(&changelog.heading) {
            if !["version", "date", "tag"].contains(&word) {
                problems.push(format!(
                    "changelog.heading = {:?}: unknown placeholder `{{{word}}}`; use {{version}}, {{date}}, {{tag}}",
                    changelog.heading
                ));
            }
        }
        for (i, prefix) in self.commit_prefixes.iter().enumerate() {
            if prefix.trim().is_empty() || prefix.trim() == "*" {
                problems.push(format!(
                    "changelog.commit-prefixes[{i}] = {prefix:?}: would match any first word; write the ticket's \
                     shape, e.g. \"[*] \" or \"*-* \""
                ));
            }
        }
        let order = &self.section_order;
        if order.is_empty() {
            problems.push("changelog.section-order is empty: list the sections a release may have, e.g. [\"Added\", \"Fixed\"]".to_owned());
        }
        for (i, name) in order.iter().enumerate() {
            if order[..i].contains(name) {
                problems.push(format!("changelog.section-order lists {name:?} twice"));
            }
        }
        problems
    }
}

impl ReleaseConfig {
    /// The commit and tag messages' and the further tags' placeholders.
    fn message_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut messages = vec![
            ("commit-message".to_owned(), &self.commit_message),
            ("tag-message".to_owned(), &self.tag_message),
        ];
        for (i, extra) in self.extra_tags.iter().enumerate() {
            // A name is made again from the tag alone (rollback): only what
            // the tag says.
            for word in placeholders(&extra.name) {
                if !["version", "tag", "pep440"].contains(&word) {
                    problems.push(format!(
                        "extra-tags[{i}].name = {:?}: `{{{word}}}` cannot name a tag; use {{version}}, {{tag}} or {{pep440}}",
                        extra.name
                    ));
                }
            }
            if let Some(message) = &extra.message {
                messages.push((format!("extra-tags[{i}].message"), message));
            }
            if !extra.name.contains("{version}") {
                problems.push(format!(
                    "extra-tags[{i}].name = {:?}: must contain {{version}}, or every release would make the same tag",
                    extra.name
                ));
            }
        }
        for (key, text) in messages {
            for word in placeholders(text) {
                if !MESSAGE_PLACEHOLDERS.contains(&word) {
                    problems.push(format!(
                        "{key} = {text:?}: unknown placeholder `{{{word}}}`; use {}",
                        MESSAGE_PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        problems
    }
}

impl Model {
    fn problems(&self, i: usize) -> Vec<String> {
        let mut problems = Vec::new();
        let model = self;
        for (fact, sources) in model.facts.all() {
            for source in sources {
                if !matches!(source.split_once('#'), Some((file, pointer)) if !file.is_empty() && pointer.starts_with('/'))
                {
                    problems.push(format!(
                        "models[{i}].facts.{fact} = {source:?}: expected `file.json#/json/pointer`, e.g. \"eval_metrics.json#/validation_accuracy\""
                    ));
                }
            }
        }
        if let Some(Err(why)) = model
            .hef
            .as_ref()
            .map(|h| HwArch::parse(h.hw_arch.as_str()))
        {
            problems.push(format!("models[{i}].hef.hw-arch = {why}"));
        }
        if let Some(export) = &model.export {
            problems.extend(export.problems(&format!("models[{i}].export")));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> Result<Workspace> {
        let dir = std::env::temp_dir().join(format!(
            "xtask-config-{}-{}",
            std::process::id(),
            toml.len() ^ toml.bytes().map(usize::from).sum::<usize>()
        ));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("Cargo.toml"), toml)?;
        let result = Workspace::load(&dir);
        std::fs::remove_dir_all(&dir)?;
        result
    }

    #[test]
    fn the_repository_config_is_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let ws = Workspace::load(root).unwrap();
        assert_eq!(ws.release.github.as_deref(), Some("edge-ml/tcn-vae-edge"));
        assert_eq!(ws.release.python.len(), 1);
        assert!(ws.release.models.iter().any(|m| m.hef.is_some()));
        assert!(ws.version.is_some());
    }

    #[test]
    fn defaults_apply_when_the_table_is_absent() {
        let ws = load("[workspace]\nmembers = []\n").unwrap();
        assert_eq!(ws.release.tag_name, "v{version}");
        assert_eq!(ws.release.branches, ["main", "release/*", "hotfix/*"]);
        assert!(ws.release.python.is_empty());
    }

    #[test]
    fn parts_run_on_the_configured_labels_else_githubs() {
        let ws = load("[workspace]\n[workspace.metadata.release]\nrunners = { hef = [\"self-hosted\", \"dfc-3.33\"] }\n").unwrap();
        let r = &ws.release;
        assert_eq!(r.runner_for("hef"), ["self-hosted", "dfc-3.33"]);
        assert_eq!(r.runner_for("python"), ["ubuntu-latest"]);
        assert_eq!(r.runner_for("linux/arm64"), ["ubuntu-24.04-arm"]);
        assert_eq!(r.runner_for("linux/amd64"), ["ubuntu-latest"]);
        let err = load("[workspace]\n[workspace.metadata.release]\nrunners = { hfe = [] }\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("runners.hfe: not a part kind") && err.contains("runners.hfe = []"),
            "{err}"
        );
    }

    #[test]
    fn a_misspelt_release_table_is_named() {
        let err = load("[workspace]\n\n[workspace.metadata.relase]\ngithub = \"a/b\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":3: [workspace.metadata.relase] is not read: did you mean [workspace.metadata.release]?"),
            "{err}"
        );
        // Another tool's table is left alone.
        assert!(load("[workspace]\n[workspace.metadata.dist]\nx = 1\n").is_ok());
        assert_eq!(edit_distance("relase", "release"), 1);
        assert_eq!(edit_distance("releases", "release"), 1);
        assert_eq!(edit_distance("dist", "release"), 6);
    }

    #[test]
    fn python_is_one_table_or_several() {
        let one = load("[workspace]\n[workspace.metadata.release.python]\npath = \".\"\n").unwrap();
        assert_eq!(one.release.python.len(), 1);
        let two = load(
            "[workspace]\n[[workspace.metadata.release.python]]\npath = \".\"\n\
             [[workspace.metadata.release.python]]\npath = \"clients/py\"\npublish = false\n",
        )
        .unwrap();
        assert_eq!(two.release.python.len(), 2);
        assert!(!two.release.python[1].publish);
        let err = load(
            "[workspace]\n[[workspace.metadata.release.python]]\npath = \"a\"\n\
             [[workspace.metadata.release.python]]\npath = \"./a/\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("python[1].path = \"./a/\": python[0] names the same directory"),
            "{err}"
        );
        let err = load("[workspace]\n[[workspace.metadata.release.python]]\npth = \"a\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("pth") && err.contains("line 3"), "{err}");
    }

    #[test]
    fn two_images_of_one_name_and_ci_without_github_are_refused() {
        let err = load(
            "[workspace]\n[workspace.metadata.release]\nci = {}\n\
             [[workspace.metadata.release.docker]]\nname = \"ghcr.io/a/b\"\ndockerfile = \"D\"\n\
             [[workspace.metadata.release.docker]]\nname = \"ghcr.io/a/b\"\ndockerfile = \"E\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 8: docker[1].name = \"ghcr.io/a/b\": docker[0] has the same name"),
            "{err}"
        );
        assert!(err.contains("ci is set but github is not"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let err = load("[workspace]\n\n[workspace.metadata.release]\ngithb = \"a/b\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("githb"), "{err}");
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("docs/CONFIG.md"), "{err}");
    }

    #[test]
    fn an_unknown_nested_key_is_named() {
        let err = load(
            "[workspace]\n[[workspace.metadata.release.docker]]\nname = \"a\"\ndockerfile = \"D\"\nplatform = []\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("platform"), "{err}");
    }

    #[test]
    fn every_semantic_problem_is_reported_at_once() {
        let err = load(
            r#"[workspace]
[workspace.metadata.release]
github = "just-a-name"
tag-name = "release"
[[workspace.metadata.release.version-files]]
path = "README.md"
search = "version 1"
[[workspace.metadata.release.docker]]
name = "GHCR.io/Me/Img:latest"
dockerfile = "Dockerfile"
platforms = ["amd64"]
"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("5 problems"), "{err}");
        for needle in [
            "github",
            "tag-name",
            "version-files[0].search",
            "docker[0].name",
            "docker[0].platforms",
        ] {
            assert!(err.contains(needle), "missing {needle}: {err}");
        }
    }

    #[test]
    fn image_names_may_carry_a_registry_port_but_no_tag() {
        let image = |name: &str| {
            load(&format!("[workspace]\n[[workspace.metadata.release.docker]]\nname = \"{name}\"\ndockerfile = \"D\"\n"))
        };
        assert!(image("127.0.0.1:5000/edge/img").is_ok());
        assert!(image("ghcr.io/edge-ml/img").is_ok());
        assert!(image("ghcr.io/edge-ml/img:latest")
            .unwrap_err()
            .to_string()
            .contains("has no tag"));
        assert!(image("localhost:5000/img@sha256:abc").is_err());
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named_with_its_line() {
        let err = load("[workspace]\n[workspace.package]\n\nversion = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Cargo.toml:4: [workspace.package] version: invalid type: number `1`, expected a string"),
            "{err}"
        );
        // serde refused a TOML datetime where a string goes; so does the reader.
        let err = load("[workspace]\n[workspace.metadata.release.changelog]\nsince = 2024-01-01\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3: changelog.since: invalid type: datetime `2024-01-01`"),
            "{err}"
        );
    }

    #[test]
    fn malformed_toml_names_file_and_line() {
        let err = load("[workspace\nmembers = []\n").unwrap_err().to_string();
        assert!(err.contains("Cargo.toml"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn a_bad_hw_arch_is_refused() {
        let err = load(
            "[workspace]\n[[workspace.metadata.release.models]]\nname = \"m\"\nmetadata = \"models/m\"\nhef = { hw-arch = \"Hailo-8\" }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("models[0].hef.hw-arch = \"Hailo-8\" is not a Hailo target"),
            "{err}"
        );
    }
}
