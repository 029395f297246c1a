//! `cargo xtask verify-release DIR|TAG`: what a user runs on a downloaded
//! release. Checks `sha256sum.txt`, every signature (and that the expected key
//! made it), every provenance subject, and every HEF's header; each failure
//! names the file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Arg, ArgMatches, Command};

use crate::checksums::{check_file_in, hex, sha256_files, CheckOptions, Report, Verbosity};
use crate::core::config::Workspace;
use crate::core::dist::{NOTES, PROVENANCE, SIGNATURE, SUMS};
use crate::core::runner::Runner;
use crate::model::hef;
use crate::supply_chain::signing_key;
use crate::tools::{gh, gpg};

/// Verify a release directory: checksums, signatures, provenance, HEF files.
#[derive(Debug)]
pub struct VerifyRelease {
    target: String,
    key: Option<String>,
}

impl VerifyRelease {
    pub fn args(cmd: Command) -> Command {
        cmd.arg(Arg::new("target").value_name("TARGET").required(true).help(
            "A directory of a release's assets (downloaded, or staged in \
                     target/dist/v<X.Y.Z>), or a tag: its GitHub release's assets are downloaded \
                     with `gh release download` into a temporary directory",
        ))
        .arg(Arg::new("key").long("key").value_name("KEYID").help(
            "The key the signatures must be made with [default: RELEASE_GPG_KEY, else \
                     the config's sign-key]",
        ))
    }

    pub fn from_matches(matches: &ArgMatches) -> VerifyRelease {
        VerifyRelease {
            target: crate::cli::required(matches, "target"),
            key: matches.get_one::<String>("key").cloned(),
        }
    }

    /// The directory to check: TARGET when it is one, else the assets of the
    /// GitHub release TARGET names, downloaded into a fresh directory.
    fn directory(&self, runner: &Runner) -> Result<Download> {
        let target = Path::new(&self.target);
        if target.is_dir() {
            return Ok(Download::Given(target.to_owned()));
        }
        // A tag as this repository names its releases (`tag-name`), else
        // `v1.2.0` / `1.2.0` outside one.
        let workspace = Workspace::discover().ok();
        let version = match &workspace {
            Some(ws) => ws.release.version_in_tag(&self.target),
            None => Some(self.target.strip_prefix('v').unwrap_or(&self.target)),
        };
        if self.target.contains('/') || version.is_none_or(|v| semver::Version::parse(v).is_err()) {
            let example = workspace
                .as_ref()
                .map_or("v1.2.0".to_owned(), |ws| ws.release.tag_for(&"1.2.0"));
            bail!(
                "{}: no such directory (and not a release tag like {example} to download); name a directory \
                 of downloaded assets, or a release's tag",
                self.target
            );
        }
        let dir = std::env::temp_dir().join(format!(
            "xtask-verify-{}-{}",
            self.target,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let cwd = workspace
            .as_ref()
            .map_or_else(|| PathBuf::from("."), |ws| ws.root.clone());
        let repo = crate::github::Repo {
            slug: workspace
                .as_ref()
                .and_then(|ws| ws.release.github.as_deref()),
            cwd: &cwd,
        };
        crate::tools::require(&[&crate::tools::GH])?;
        let download = Download::Fetched(dir.clone());
        runner
            .run(&repo.at(gh::release_download(&self.target, &dir)))
            .with_context(|| {
                format!(
                    "downloading the assets of the GitHub release {}",
                    self.target
                )
            })?;
        say!(
            "downloaded the assets of {} into {}",
            self.target,
            dir.display()
        );
        Ok(download)
    }

    pub fn run(self) -> Result<()> {
        let runner = Runner::new(false);
        let download = self.directory(&runner)?;
        let dir = download.path().to_owned();
        let expected = Workspace::discover()
            .ok()
            .and_then(|ws| signing_key(&ws, self.key.as_deref()))
            .or(self.key.clone());
        let mut problems = Vec::new();
        problems.extend(sums_problem(&dir));
        let signatures = check_signatures(&dir, expected.as_deref(), &runner, &mut problems)?;
        let provenance = dir.join(PROVENANCE);
        check_provenance(&dir, &provenance, &mut problems);
        let hefs: Vec<PathBuf> = files(&dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "hef"))
            .collect();
        for file in &hefs {
            if let Err(why) = hef::inspect(file) {
                problems.push(format!("{}: {why}", file.display()));
            }
        }
        if !problems.is_empty() {
            bail!(
                "{} does not verify:\n{}",
                dir.display(),
                crate::core::report::bullets(&problems)
            );
        }
        // Name only what was checked: no "HEF headers" without a HEF.
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let mut checked = vec![SUMS.to_owned()];
        if signatures > 0 {
            checked.push(plural(signatures, "signature"));
        }
        if provenance.is_file() {
            checked.push("the provenance".to_owned());
        }
        if !hefs.is_empty() {
            checked.push(plural(hefs.len(), "HEF header"));
        }
        say!("{}: verified {}", dir.display(), checked.join(", "));
        if signatures == 0 {
            say!("note: the release is not signed (no .asc files); `--key KEYID` makes a signature by that key required");
        }
        Ok(())
    }
}

/// `sha256sum -c --strict sha256sum.txt` in `dir`, as GNU reports it.
fn sums_problem(dir: &Path) -> Option<String> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut report = Report {
        out: &mut out,
        err: &mut err,
        utf8: true,
    };
    let sums = dir.join(SUMS);
    let options = CheckOptions {
        verbosity: Verbosity::Quiet,
        strict: true,
        ..CheckOptions::default()
    };
    if check_file_in(
        dir,
        sums.as_os_str().as_encoded_bytes(),
        options,
        &mut report,
    ) {
        return None;
    }
    Some(
        format!(
            "{SUMS} does not verify:\n{}{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        )
        .trim_end()
        .to_owned(),
    )
}

/// Every `.asc` verifies over its file, by the expected key when one is
/// named (and then the checksums must be signed); returns how many.
fn check_signatures(
    dir: &Path,
    expected: Option<&str>,
    runner: &Runner,
    problems: &mut Vec<String>,
) -> Result<usize> {
    let signatures: Vec<PathBuf> = files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "asc"))
        .collect();
    if let Some(key) = expected {
        // A release signed by the key signs at least its checksum file;
        // no signature at all is not "every signature verifies".
        let sums_signature = dir.join(format!("{SUMS}{SIGNATURE}"));
        if !sums_signature.is_file() {
            problems.push(format!(
                "{}: missing; the release must be signed by {key} (from --key, RELEASE_GPG_KEY \
                 or the config's sign-key), and an unsigned release is not",
                sums_signature.display()
            ));
        }
    }
    for signature in &signatures {
        let signed = signature.with_extension("");
        let out = runner.output(&gpg::verify(signature, &signed))?;
        let signer = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("[GNUPG:] VALIDSIG "))
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_owned);
        match (out.success(), signer, expected) {
            (true, Some(fpr), Some(key))
                if !fpr
                    .to_uppercase()
                    .ends_with(key.to_uppercase().trim_start_matches("0X")) =>
            {
                problems.push(format!(
                    "{}: signed by {fpr}, not by the release key {key}",
                    signature.display()
                ))
            }
            (true, Some(_), _) => {}
            _ => problems.push(format!(
                "{}: the signature over {} does not verify ({})",
                signature.display(),
                signed.display(),
                out.stderr
                    .lines()
                    .rfind(|l| !l.trim().is_empty())
                    .unwrap_or("gpg said nothing")
                    .trim()
            )),
        }
    }
    Ok(signatures.len())
}

/// Every provenance subject has its sha256, and every file is a subject
/// (one that is not was added after the release).
fn check_provenance(dir: &Path, provenance: &Path, problems: &mut Vec<String>) {
    let text = match std::fs::read_to_string(provenance) {
        Ok(text) => text,
        Err(err) => {
            problems.push(format!(
                "{}: cannot read ({err}); every release of this tool has one, so files cannot be traced to their build",
                provenance.display()
            ));
            return;
        }
    };
    let statement: serde_json::Value = match serde_json::from_str(&text) {
        Ok(statement) => statement,
        Err(err) => {
            problems.push(format!("{}: not JSON ({err})", provenance.display()));
            return;
        }
    };
    let subjects: Vec<(String, String)> = statement["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some((
                s["name"].as_str()?.to_owned(),
                s["digest"]["sha256"].as_str()?.to_owned(),
            ))
        })
        .collect();
    if subjects.is_empty() {
        problems.push(format!("{}: no subjects", provenance.display()));
    }
    for file in files(dir) {
        let rel = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        let known = subjects.iter().any(|(name, _)| *name == rel)
            || rel == PROVENANCE
            || rel == NOTES
            || rel.ends_with(SIGNATURE);
        if !known {
            problems.push(format!(
                "{rel}: not part of the release (the provenance does not list it)"
            ));
        }
    }
    let paths: Vec<PathBuf> = subjects.iter().map(|(name, _)| dir.join(name)).collect();
    for ((name, expected), actual) in subjects.iter().zip(sha256_files(&paths)) {
        match actual {
            Ok(digest) if hex(&digest) == *expected => {}
            Ok(digest) => problems.push(format!(
                "{name}: sha256 {} differs from the provenance's {expected}",
                hex(&digest)
            )),
            Err(err) => problems.push(format!("{name}: listed in the provenance but {err}")),
        }
    }
}

/// The directory verified: one named by the user, or a download of ours,
/// removed when done.
enum Download {
    Given(PathBuf),
    Fetched(PathBuf),
}

impl Download {
    fn path(&self) -> &Path {
        match self {
            Download::Given(p) | Download::Fetched(p) => p,
        }
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        if let Download::Fetched(dir) = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for path in std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
        {
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
