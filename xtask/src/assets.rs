//! What `[[workspace.metadata.release.assets]]` ships: repository files
//! chosen by glob (among those git tracks or would track), each under its
//! configured name, or all of them in one deterministic zip bundle.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::core::config::Workspace;
use crate::core::runner::Runner;
use crate::tools::git::Git;

/// One file of the release: its name there, and what makes it.
pub struct Planned {
    pub name: String,
    /// A file of the repository, or a bundle's files.
    pub from: Vec<String>,
    pub bundle: bool,
}

/// Every configured asset for `version`; a glob that matches nothing is an
/// error naming its key.
pub fn planned(ws: &Workspace, version: &str, runner: &Runner) -> Result<Vec<Planned>> {
    if ws.release.assets.is_empty() {
        return Ok(Vec::new());
    }
    let listed = runner.read(&Git::at(&ws.root).files())?;
    let files: Vec<&str> = crate::tools::git::listed(&listed).collect();
    let mut planned = Vec::new();
    let mut unmatched = Vec::new();
    for (i, asset) in ws.release.assets.iter().enumerate() {
        let mut matched: Vec<String> = Vec::new();
        for glob in &asset.files {
            let hits: Vec<&&str> = files
                .iter()
                .filter(|f| crate::core::glob::matches(glob, f))
                .collect();
            if hits.is_empty() {
                let key = format!("assets[{i}].files");
                unmatched.push(format!(
                    "{}: {key}: {glob:?} matches no file of the repository",
                    crate::core::config::where_key(&ws.root, &key)
                ));
            }
            matched.extend(hits.into_iter().map(|f| (*f).to_owned()));
        }
        matched.sort();
        matched.dedup();
        match &asset.bundle {
            Some(bundle) => planned.push(Planned {
                name: bundle.replace("{version}", version),
                from: matched,
                bundle: true,
            }),
            None => planned.extend(matched.into_iter().map(|file| Planned {
                name: name(&asset.name, &file, version),
                from: vec![file],
                bundle: false,
            })),
        }
    }
    if !unmatched.is_empty() {
        bail!(
            "{}\n(`git ls-files`: ignored files never ship); fix each glob or remove it",
            unmatched.join("\n")
        );
    }
    Ok(planned)
}

/// `{file}`, `{stem}`, `{ext}`, `{version}` of one file's release name.
fn name(template: &str, file: &str, version: &str) -> String {
    let base = Path::new(file)
        .file_name()
        .map_or(file.to_owned(), |n| n.to_string_lossy().into_owned());
    let (stem, ext) = match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem.to_owned(), ext.to_owned()),
        _ => (base.clone(), String::new()),
    };
    crate::core::config::fill(
        template,
        &[
            ("file", &base),
            ("stem", &stem),
            ("ext", &ext),
            ("version", version),
        ],
    )
}

/// Writes every configured asset into `dist`.
pub fn stage(ws: &Workspace, version: &str, dist: &Path, runner: &Runner) -> Result<()> {
    for asset in planned(ws, version, runner)? {
        let target = dist.join(&asset.name);
        if asset.bundle {
            let entries = asset
                .from
                .iter()
                .map(|f| {
                    let data =
                        std::fs::read(ws.root.join(f)).with_context(|| format!("reading {f}"))?;
                    Ok((f.clone(), data))
                })
                .collect::<Result<Vec<_>>>()?;
            std::fs::write(&target, crate::core::zip::archive(&entries)?)
                .with_context(|| format!("writing {}", target.display()))?;
        } else {
            let from = ws.root.join(&asset.from[0]);
            std::fs::copy(&from, &target)
                .with_context(|| format!("copying {} to {}", from.display(), target.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::name;

    #[test]
    fn a_release_name_from_its_template() {
        assert_eq!(name("{file}", "flows/a.json", "1.0.0"), "a.json");
        assert_eq!(
            name("{stem}-{version}.{ext}", "bench/results.json", "1.0.0"),
            "results-1.0.0.json"
        );
        assert_eq!(name("{file}", ".env.example", "1.0.0"), ".env.example");
    }
}
