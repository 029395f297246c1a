//! Every place the product version is written, found by byte position.
//!
//! TOML files are parsed with `toml_edit` only to *locate* each version value;
//! edits then replace exactly those bytes in the original text, so comments,
//! key order, quoting, whitespace and CRLF line endings survive untouched and
//! the diff of a bump is exactly the version tokens.
//!
//! The places: `[workspace.package] version`; the `version` of members listed
//! in `crates`; `version` requirements of path dependencies on bumped members;
//! their `[[package]]` entries in `Cargo.lock`; `[project] version` of the
//! Python package (PEP 440) and its `__version__` literals; the config's
//! `version-files`. Every problem found is reported at once.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use semver::{Version, VersionReq};
use toml_edit::{Document, Item, Value};

use super::pep440::{to_pep440, Pep440Version};
use crate::core::config::Workspace;
use crate::core::runner::Runner;

/// How a location writes the version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `1.3.0-rc.1`
    Semver,
    /// `1.3.0rc1`
    Pep440,
    /// A Cargo requirement on a bumped member: `=1.3.0-rc.1`, `^0.2`.
    Requirement,
}

string_enum!(Form (Lower) { Semver, Pep440, Requirement });

/// One written version.
#[derive(Debug)]
pub struct Location {
    /// Relative to the workspace root.
    pub file: PathBuf,
    pub field: String,
    /// The token as written.
    pub found: String,
    pub form: Form,
    span: Range<usize>,
}

impl Location {
    /// A PEP 440 location's version in normal form (`1.0.0-RC1` ->
    /// `1.0.0rc1`), when it parses.
    pub fn normal_form(&self) -> Option<String> {
        (self.form == Form::Pep440)
            .then(|| Pep440Version::parse(&self.found))
            .flatten()
            .map(|v| v.to_string())
    }

    /// The normal form, when the file spells the version another way.
    pub fn respelled(&self) -> Option<String> {
        self.normal_form().filter(|normal| *normal != self.found)
    }
}

/// The product version and everywhere it is written.
pub struct VersionSources {
    root: PathBuf,
    pub current: Version,
    texts: BTreeMap<PathBuf, String>,
    pub locations: Vec<Location>,
}

/// A file a bump changes.
#[derive(Clone, Debug)]
pub struct FileChange {
    pub file: PathBuf,
    pub before: String,
    pub after: String,
}

impl VersionSources {
    pub fn locate(workspace: &Workspace, runner: &Runner) -> Result<VersionSources> {
        let mut finder = Finder {
            root: workspace.root.clone(),
            texts: BTreeMap::new(),
            locations: Vec::new(),
            problems: Vec::new(),
        };
        // What git tracks or would track: scans never read ignored files
        // (`target/`, virtualenvs, data directories).
        let listed: Option<Vec<PathBuf>> = runner
            .read(&crate::tools::git::Git::at(&workspace.root).files())
            .ok()
            .map(|out| crate::tools::git::listed(&out).map(PathBuf::from).collect());
        let current = finder.workspace_version();
        let bumped_dirs = finder.members(workspace, runner);
        finder.cargo_lock(&bumped_dirs);
        let missing = |path: &str, key: &str| {
            format!(
                "{path} does not exist ({key} in [workspace.metadata.release] of {}); create it or fix the key",
                crate::core::config::where_key(&workspace.root, key)
            )
        };
        for (i, python) in workspace.release.python.iter().enumerate() {
            // `.` is the root: `pyproject.toml`, not `./pyproject.toml`.
            let dir = crate::core::config::repo_dir(&python.path);
            if workspace.root.join(&dir).is_dir() {
                finder.pyproject(&dir);
                finder.uv_lock(&dir);
                finder.dunder_versions(&dir, listed.as_deref());
            } else {
                finder
                    .problems
                    .push(missing(&python.path, &format!("python[{i}].path")));
            }
        }
        if let Some(current) = &current {
            for (i, file) in workspace.release.version_files.iter().enumerate() {
                let key = format!("version-files[{i}].path");
                if file.path.contains(['*', '?']) {
                    // A glob over the files git tracks or would track.
                    let listed = listed.as_deref().unwrap_or_default();
                    let files: Vec<PathBuf> = listed
                        .iter()
                        .filter(|f| crate::core::glob::matches(&file.path, &f.to_string_lossy()))
                        .filter(|f| workspace.root.join(f).is_file())
                        .cloned()
                        .collect();
                    if files.is_empty() {
                        finder.problems.push(format!(
                            "{key} = {:?} matches no file of the repository (`git ls-files`); fix the glob",
                            file.path
                        ));
                    } else {
                        finder.pattern(&files, &file.search, file.count, current);
                    }
                } else if workspace.root.join(&file.path).is_file() {
                    finder.pattern(
                        &[PathBuf::from(&file.path)],
                        &file.search,
                        file.count,
                        current,
                    );
                } else {
                    finder.problems.push(missing(&file.path, &key));
                }
            }
        }
        match (current, finder.problems.is_empty()) {
            (Some(current), true) => Ok(VersionSources {
                root: finder.root,
                current,
                texts: finder.texts,
                locations: finder.locations,
            }),
            _ => bail!(
                "cannot locate the version, {} problem{}:\n{}",
                finder.problems.len(),
                if finder.problems.len() == 1 { "" } else { "s" },
                crate::core::report::bullets(&finder.problems)
            ),
        }
    }

    /// What each location should say for the current version, and whether it does.
    pub fn check(&self) -> Vec<(&Location, String, bool)> {
        let pep440 = to_pep440(&self.current);
        self.locations
            .iter()
            .map(|loc| {
                let (expected, agrees) = match loc.form {
                    Form::Semver => (
                        self.current.to_string(),
                        loc.found == self.current.to_string(),
                    ),
                    // By value, as pip and PyPI compare: `1.0.0-rc1` is `1.0.0rc1`.
                    Form::Pep440 => match &pep440 {
                        Ok(p) => (
                            p.clone(),
                            Pep440Version::parse(&loc.found).is_some()
                                && Pep440Version::parse(&loc.found) == Pep440Version::parse(p),
                        ),
                        Err(err) => (format!("(none: {err})"), false),
                    },
                    Form::Requirement => (
                        format!("a requirement matching {}", self.current),
                        VersionReq::parse(&loc.found).is_ok_and(|req| req.matches(&self.current)),
                    ),
                };
                (loc, expected, agrees)
            })
            .collect()
    }

    /// The new text of every file that changes for `new`.
    pub fn rewrite(&self, new: &Version) -> Result<Vec<FileChange>> {
        let semver = new.to_string();
        let pep440 = to_pep440(new)?;
        let mut by_file: BTreeMap<&Path, Vec<(&Range<usize>, String)>> = BTreeMap::new();
        for loc in &self.locations {
            let token = match loc.form {
                Form::Semver => semver.clone(),
                Form::Pep440 => pep440.clone(),
                Form::Requirement => {
                    let operator: String = loc
                        .found
                        .chars()
                        .take_while(|c| "=^~ ".contains(*c))
                        .collect();
                    format!("{}{semver}", operator.trim_end())
                }
            };
            by_file
                .entry(&loc.file)
                .or_default()
                .push((&loc.span, token));
        }
        let mut changes = Vec::new();
        for (file, mut edits) in by_file {
            let before = &self.texts[file];
            let mut after = before.clone();
            // From the end, so earlier spans stay valid.
            edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
            for (span, token) in edits {
                after.replace_range(span.clone(), &token);
            }
            if file.extension().is_some_and(|e| e == "toml" || e == "lock") {
                Document::parse(after.as_str()).with_context(|| {
                    format!(
                        "{}: the edited file would not parse (a bug)",
                        file.display()
                    )
                })?;
            }
            if &after != before {
                changes.push(FileChange {
                    file: file.to_owned(),
                    before: before.clone(),
                    after,
                });
            }
        }
        Ok(changes)
    }

    pub fn path(&self, file: &Path) -> PathBuf {
        self.root.join(file)
    }
}

struct Finder {
    root: PathBuf,
    texts: BTreeMap<PathBuf, String>,
    locations: Vec<Location>,
    problems: Vec<String>,
}

impl Finder {
    /// Reads and parses a TOML file; problems are recorded, `None` returned.
    fn toml(&mut self, file: &Path) -> Option<Document<String>> {
        let text = self.read(file)?;
        match Document::parse(text) {
            Ok(doc) => Some(doc),
            Err(err) => {
                self.problems.push(format!(
                    "{}: {}",
                    file.display(),
                    err.to_string().trim_end()
                ));
                None
            }
        }
    }

    fn read(&mut self, file: &Path) -> Option<String> {
        match std::fs::read_to_string(self.root.join(file)) {
            Ok(text) => {
                self.texts.insert(file.to_owned(), text.clone());
                Some(text)
            }
            Err(err) => {
                self.problems
                    .push(format!("{}: cannot read: {err}", file.display()));
                None
            }
        }
    }

    /// Records the string `value` at `field` of `file` as a location.
    fn string(&mut self, file: &Path, field: String, value: &Value, form: Form) {
        let text = &self.texts[file];
        let (Some(found), Some(span)) = (value.as_str(), value.span()) else {
            self.problems.push(format!(
                "{}: {field} must be a string, found `{}`",
                file.display(),
                value.to_string().trim()
            ));
            return;
        };
        let raw = &text[span.clone()];
        let quoted = raw.len() >= 2
            && (raw.starts_with('"') || raw.starts_with('\''))
            && !raw.starts_with("\"\"\"")
            && !raw.starts_with("'''");
        let inner = span.start + 1..span.end - 1;
        if !quoted || text[inner.clone()] != *found {
            self.problems.push(format!(
                "{}: {field} = {raw} is written with escapes or multi-line quotes; write it as a plain \"{found}\"",
                file.display()
            ));
            return;
        }
        self.locations.push(Location {
            file: file.to_owned(),
            field,
            found: found.to_owned(),
            form,
            span: inner,
        });
    }

    fn workspace_version(&mut self) -> Option<Version> {
        let file = Path::new("Cargo.toml");
        let doc = self.toml(file)?;
        let Some(value) = doc
            .get("workspace")
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("version"))
            .and_then(Item::as_value)
        else {
            self.problems.push(
                "Cargo.toml: [workspace.package] has no `version`; it is the product version every other file follows: add `version = \"0.1.0\"`".to_owned(),
            );
            return None;
        };
        self.string(
            file,
            "[workspace.package] version".to_owned(),
            value,
            Form::Semver,
        );
        let found = value.as_str()?;
        match Version::parse(found) {
            Ok(version) => Some(version),
            Err(err) => {
                self.problems.push(format!("Cargo.toml: [workspace.package] version = \"{found}\" is not SemVer ({err}); write e.g. \"0.1.0\""));
                None
            }
        }
    }

    /// Member crates: records listed own versions and requirements on bumped
    /// members; returns the directories of the bumped members.
    fn members(&mut self, workspace: &Workspace, runner: &Runner) -> BTreeSet<PathBuf> {
        let metadata = crate::tools::cargo::metadata(&workspace.root);
        let manifests: Vec<(String, PathBuf)> = match runner.read(&metadata).and_then(|out| {
            let json: serde_json::Value = serde_json::from_str(&out)?;
            Ok(json["packages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some((
                        p["name"].as_str()?.to_owned(),
                        PathBuf::from(p["manifest_path"].as_str()?),
                    ))
                })
                .collect())
        }) {
            Ok(m) => m,
            Err(err) => {
                self.problems.push(format!(
                    "listing the workspace members with `cargo metadata`: {err:#}"
                ));
                return BTreeSet::new();
            }
        };
        let listed: BTreeSet<&str> = workspace
            .release
            .crates
            .iter()
            .map(String::as_str)
            .collect();
        for name in &listed {
            if !manifests.iter().any(|(n, _)| n == name) {
                self.problems.push(format!("Cargo.toml: [workspace.metadata.release] crates lists `{name}`, which is not a workspace member"));
            }
        }
        let mut bumped = BTreeSet::new();
        let mut docs = Vec::new();
        for (name, manifest) in &manifests {
            let file = manifest
                .strip_prefix(&self.root)
                .unwrap_or(manifest)
                .to_owned();
            let Some(doc) = self.toml(&file) else {
                continue;
            };
            let version = doc.get("package").and_then(|p| p.get("version"));
            let inherits = version
                .and_then(|v| v.get("workspace"))
                .and_then(|w| w.as_bool())
                == Some(true);
            if listed.contains(name.as_str()) {
                match version.and_then(Item::as_value).filter(|v| v.is_str()) {
                    Some(value) => self.string(&file, format!("[package] version of `{name}`"), value, Form::Semver),
                    None => self.problems.push(format!(
                        "{}: `{name}` is listed in [workspace.metadata.release] crates but has no literal [package] version; remove it from `crates` if it follows the workspace",
                        file.display()
                    )),
                }
            }
            if inherits || listed.contains(name.as_str()) {
                bumped.insert(manifest.parent().unwrap_or(Path::new("")).to_owned());
            }
            docs.push((file, doc));
        }
        let root_manifest = PathBuf::from("Cargo.toml");
        if !docs.iter().any(|(f, _)| *f == root_manifest) {
            if let Some(doc) = self.toml(&root_manifest) {
                docs.push((root_manifest, doc));
            }
        }
        for (file, doc) in &docs {
            self.path_requirements(file, doc.as_table(), "", &bumped);
        }
        bumped
    }

    /// `version` of dependencies whose `path` is a bumped member, in every
    /// dependency table of `table` (recursing into `target.*` and `workspace`).
    fn path_requirements(
        &mut self,
        file: &Path,
        table: &toml_edit::Table,
        prefix: &str,
        bumped: &BTreeSet<PathBuf>,
    ) {
        let dir = self
            .root
            .join(file)
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default();
        for (key, item) in table.iter() {
            let Some(sub) = item.as_table_like() else {
                continue;
            };
            if ["dependencies", "dev-dependencies", "build-dependencies"].contains(&key) {
                for (dep, spec) in sub.iter() {
                    let Some(spec) = spec.as_table_like() else {
                        continue;
                    };
                    let (Some(path), Some(version)) = (
                        spec.get("path").and_then(|p| p.as_str()),
                        spec.get("version").and_then(Item::as_value),
                    ) else {
                        continue;
                    };
                    let target =
                        std::fs::canonicalize(dir.join(path)).unwrap_or_else(|_| dir.join(path));
                    if bumped
                        .iter()
                        .any(|b| std::fs::canonicalize(b).unwrap_or_else(|_| b.clone()) == target)
                    {
                        let field = format!("[{prefix}{key}] {dep}.version");
                        if VersionReq::parse(version.as_str().unwrap_or(""))
                            .is_ok_and(|r| r.comparators.len() > 1)
                        {
                            self.problems.push(format!("{}: {field} has several comparators; a bump can only rewrite one, e.g. \"=0.1.0\"", file.display()));
                            continue;
                        }
                        self.string(file, field, version, Form::Requirement);
                    }
                }
            } else {
                // Dependency tables also live under `[workspace]` and `[target.<cfg>]`.
                let nested = match prefix {
                    "" => key == "target" || key == "workspace",
                    "target." => true,
                    _ => false,
                };
                if let (true, Some(sub)) = (nested, item.as_table()) {
                    self.path_requirements(file, sub, &format!("{prefix}{key}."), bumped);
                }
            }
        }
    }

    fn cargo_lock(&mut self, bumped_dirs: &BTreeSet<PathBuf>) {
        let file = Path::new("Cargo.lock");
        if !self.root.join(file).exists() {
            return;
        }
        let names: BTreeSet<String> = self
            .locations
            .iter()
            .filter(|l| l.form == Form::Semver)
            .filter_map(|l| {
                l.field
                    .strip_prefix("[package] version of `")
                    .map(|n| n.trim_end_matches('`').to_owned())
            })
            .chain(
                bumped_dirs
                    .iter()
                    .filter_map(|d| package_name(&d.join("Cargo.toml"))),
            )
            .collect();
        let Some(doc) = self.toml(file) else { return };
        let Some(packages) = doc.get("package").and_then(Item::as_array_of_tables) else {
            return;
        };
        for package in packages.iter() {
            let name = package
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or_default();
            if names.contains(name) && package.get("source").is_none() {
                if let Some(version) = package.get("version").and_then(Item::as_value) {
                    self.string(file, format!("[[package]] {name}"), version, Form::Semver);
                }
            }
        }
    }

    /// `uv.lock` beside the pyproject, or the uv workspace's above it,
    /// records the project's own version in its `[[package]]` entry (the
    /// one whose `source` is the project itself, `editable` or `virtual`);
    /// `uv sync --locked` refuses a lock that disagrees with the pyproject,
    /// so it moves with it. (`poetry.lock` records only dependencies.)
    fn uv_lock(&mut self, python_dir: &Path) {
        let Some(file) = python_dir
            .ancestors()
            .map(|dir| dir.join("uv.lock"))
            .find(|lock| self.root.join(lock).is_file())
        else {
            return;
        };
        let Some(name) = self
            .toml(&python_dir.join("pyproject.toml"))
            .and_then(|d| Some(normalized(d.get("project")?.get("name")?.as_str()?)))
        else {
            return;
        };
        let Some(doc) = self.toml(&file) else { return };
        let Some(packages) = doc.get("package").and_then(Item::as_array_of_tables) else {
            return;
        };
        for package in packages.iter() {
            let own = package
                .get("source")
                .and_then(|s| s.as_inline_table())
                .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"));
            let named = package
                .get("name")
                .and_then(|n| n.as_str())
                .is_some_and(|n| normalized(n) == name);
            if let (true, true, Some(version)) =
                (own, named, package.get("version").and_then(Item::as_value))
            {
                self.string(&file, format!("[[package]] {name}"), version, Form::Pep440);
            }
        }
    }

    fn pyproject(&mut self, python_dir: &Path) {
        let file = python_dir.join("pyproject.toml");
        let Some(doc) = self.toml(&file) else { return };
        let project = doc.get("project");
        let dynamic = project
            .and_then(|p| p.get("dynamic"))
            .and_then(|d| d.as_array());
        if dynamic.is_some_and(|d| d.iter().any(|v| v.as_str() == Some("version"))) {
            self.problems.push(format!(
                "{}: [project] dynamic lists \"version\", so the build backend computes it (e.g. [tool.hatch.version], \
                 [tool.setuptools.dynamic] or setuptools-scm) and a bump cannot keep it in step; write a static \
                 `version = \"...\"` under [project] and remove \"version\" from `dynamic`",
                file.display()
            ));
            return;
        }
        match project
            .and_then(|p| p.get("version"))
            .and_then(Item::as_value)
        {
            Some(value) => self.string(&file, "[project] version".to_owned(), value, Form::Pep440),
            None => match doc
                .get("tool")
                .and_then(|t| t.get("poetry"))
                .and_then(|p| p.get("version"))
                .and_then(|v| v.as_str())
            {
                Some(poetry) => self.problems.push(format!(
                    "{}: the version is Poetry's `[tool.poetry] version = \"{poetry}\"`, which a release does \
                     not edit; Poetry 2 reads PEP 621's [project] table: move `name` and `version = \"{poetry}\"` \
                     under [project] (and drop them from [tool.poetry])",
                    file.display()
                )),
                None => self.problems.push(format!(
                    "{}: no [project] `version`; add a static one under [project], e.g. `version = \"0.1.0\"` (PEP 440)",
                    file.display()
                )),
            },
        }
    }

    /// `__version__ = "..."` literals in the package's sources.
    /// `__version__ = "..."` in the package's `.py` files: those git lists
    /// (`listed`), else those a walk finds outside build and cache
    /// directories; tests never count.
    fn dunder_versions(&mut self, python_dir: &Path, listed: Option<&[PathBuf]>) {
        let mut files = Vec::new();
        match listed {
            Some(listed) => {
                // `python_dir` is relative to the root, `.` dropped (`repo_dir`).
                let dir = python_dir;
                files.extend(
                    listed
                        .iter()
                        .filter(|f| f.starts_with(dir) && f.extension().is_some_and(|e| e == "py"))
                        .filter(|f| {
                            !f.strip_prefix(dir).unwrap_or(f).components().any(|c| {
                                ["tests", "test"].contains(&&*c.as_os_str().to_string_lossy())
                            })
                        })
                        .map(|f| self.root.join(f)),
                );
                files.sort();
            }
            None => collect_py_files(&self.root.join(python_dir), &mut files),
        }
        for path in files {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let file = path.strip_prefix(&self.root).unwrap_or(&path).to_owned();
            let mut offset = 0;
            for line in text.split_inclusive('\n') {
                if let Some(span) = dunder_token(line) {
                    let span = offset + span.start..offset + span.end;
                    self.locations.push(Location {
                        file: file.clone(),
                        field: "__version__".to_owned(),
                        found: text[span.clone()].to_owned(),
                        form: Form::Pep440,
                        span,
                    });
                    self.texts
                        .entry(file.clone())
                        .or_insert_with(|| text.clone());
                }
                offset += line.len();
            }
        }
    }

    /// `search` with the current version, found `count` times in `files`
    /// together (one file, or the files a glob matched).
    fn pattern(&mut self, files: &[PathBuf], search: &str, count: usize, current: &Version) {
        let (form, placeholder) = if search.contains("{pep440}") {
            (Form::Pep440, "{pep440}")
        } else {
            (Form::Semver, "{version}")
        };
        let token = match form {
            Form::Pep440 => match to_pep440(current) {
                Ok(p) => p,
                Err(err) => return self.problems.push(format!("version-files: {err:#}")),
            },
            _ => current.to_string(),
        };
        let (before, after) = search
            .split_once(placeholder)
            .expect("checked by the config");
        let needle = format!("{before}{token}{after}");
        let mut found: Vec<(PathBuf, Vec<usize>)> = Vec::new();
        for file in files {
            let Some(text) = self.read(file) else { return };
            let matches: Vec<usize> = text.match_indices(&needle).map(|(i, _)| i).collect();
            found.push((file.clone(), matches));
        }
        let total: usize = found.iter().map(|(_, m)| m.len()).sum();
        if total != count {
            let place = match found.as_slice() {
                [(file, _)] => file.display().to_string(),
                _ => format!(
                    "{} files ({})",
                    found.len(),
                    found
                        .iter()
                        .filter(|(_, m)| !m.is_empty())
                        .map(|(f, m)| format!("{} {}", f.display(), m.len()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return self.problems.push(format!(
                "{place}: `{needle}` (version-files search {search:?}) is found {total} time{}, the config says {count}; fix the file or `count`",
                if total == 1 { "" } else { "s" }
            ));
        }
        let mut n = 0;
        for (file, matches) in found {
            for at in matches {
                n += 1;
                let start = at + before.len();
                self.locations.push(Location {
                    file: file.clone(),
                    field: format!("{search:?} ({n} of {count})"),
                    found: token.clone(),
                    form,
                    span: start..start + token.len(),
                });
            }
        }
    }
}

fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let doc = Document::parse(text).ok()?;
    doc.get("package")?.get("name")?.as_str().map(str::to_owned)
}

fn collect_py_files(dir: &Path, out: &mut Vec<PathBuf>) {
    const SKIP: &[&str] = &[
        "tests",
        "build",
        "dist",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        "node_modules",
    ];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            // `target/` (cargo's, with every staged copy) and hidden
            // directories (`.git`, `.venv`) when the package is the root.
            let hidden = name.starts_with('.');
            if !SKIP.contains(&name.as_str())
                && name != "target"
                && !hidden
                && !name.ends_with(".egg-info")
            {
                collect_py_files(&path, out);
            }
        } else if name.ends_with(".py") {
            out.push(path);
        }
    }
}

/// The byte range of the version inside `__version__ = "X"` (an optional
/// `: str` annotation allowed), if `line` is such an assignment.
fn dunder_token(line: &str) -> Option<Range<usize>> {
    let rest = line.strip_prefix("__version__")?;
    let eq = rest.find('=')?;
    let annotation = rest[..eq].trim();
    if !(annotation.is_empty() || annotation == ": str" || annotation.replace(' ', "") == ":str") {
        return None;
    }
    let after = &rest[eq + 1..];
    let value = after.trim_start();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let close = value[1..].find(quote)?;
    let start = "__version__".len() + eq + 1 + (after.len() - value.len()) + 1;
    Some(start..start + close)
}

/// A distribution name as PEP 503 compares them: lower case, runs of
/// `-`, `_` and `.` as one `-`.
fn normalized(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dunder_version_tokens() {
        let cases = [
            ("__version__ = \"0.1.0\"\n", Some("0.1.0")),
            ("__version__: str = '1.2.0rc1'\n", Some("1.2.0rc1")),
            ("__version__=\"2.0.0\"", Some("2.0.0")),
            ("__version__ = version(\"tcn-vae\")\n", None),
            ("    __version__ = \"9\"\n", None),
            ("__version_info__ = (1, 2)\n", None),
        ];
        for (line, expected) in cases {
            assert_eq!(dunder_token(line).map(|r| &line[r]), expected, "{line:?}");
        }
    }
}
