//! The staged release directory, `target/dist/v<X.Y.Z>/`: the one owner of
//! where it is, what its fixed files are called and which files it ships.
//!
//! It is flat: every file sits at the top level under the name a GitHub
//! release serves it by, so the `sha256sum.txt` written here verifies in a
//! directory of downloaded assets (`sha256sum -c sha256sum.txt`), and two
//! files that would download under the same name are refused before anything
//! is built. The only file that is not an asset is `release-notes.md`, the
//! release's body.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The checksums of every other asset, GNU `sha256sum` format.
pub const SUMS: &str = "sha256sum.txt";
/// The GitHub release's body; not an asset.
pub const NOTES: &str = "release-notes.md";
/// Version, tag, commit, assets and images, for machines.
pub const MANIFEST: &str = "manifest.json";
/// The in-toto statement with a SLSA provenance predicate.
pub const PROVENANCE: &str = "provenance.intoto.json";
/// The CycloneDX SBOM's name unless the config's `sbom-name` says otherwise.
pub const SBOM: &str = "sbom.cdx.json";
/// A detached ASCII-armoured signature's suffix.
pub const SIGNATURE: &str = ".asc";

/// Files the release writes about the others: not covered by the SBOM or
/// (except the manifest) by the checksums.
const RECORDS: [&str; 3] = [SUMS, MANIFEST, PROVENANCE];

#[derive(Clone, Debug)]
pub struct Dist {
    dir: PathBuf,
}

impl Dist {
    /// `target/dist/v<version>` of the workspace at `root`.
    pub fn of(root: &Path, version: &impl Display) -> Dist {
        Dist {
            dir: root.join(format!("target/dist/v{version}")),
        }
    }

    /// Any directory laid out as a release: staged here or downloaded.
    pub fn at(dir: impl Into<PathBuf>) -> Dist {
        Dist { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Removes what an earlier build staged; the directory exists afterwards.
    pub fn clean(&self) -> Result<()> {
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)
                .with_context(|| format!("cleaning {}", self.dir.display()))?;
        }
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))
    }

    pub fn create(&self) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))
    }

    /// Every release asset staged here, byte-wise sorted: each top-level
    /// file but the notes. A subdirectory is an error: nothing can download it.
    pub fn assets(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let entries = std::fs::read_dir(&self.dir)
            .with_context(|| format!("reading {}", self.dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", self.dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() {
                bail!(
                    "{}: a release directory is flat, as GitHub serves its assets; move the files of {name}/ up",
                    entry.path().display()
                );
            }
            if name != NOTES {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// The assets the SBOM and the checksums are about: everything but the
    /// records the release writes about them (the SBOM named `sbom` too)
    /// and the signatures.
    pub fn payload(&self, sbom: &str) -> Result<Vec<String>> {
        Ok(self
            .assets()?
            .into_iter()
            .filter(|n| !RECORDS.contains(&n.as_str()) && !n.ends_with(SIGNATURE) && n != sbom)
            .collect())
    }
}

/// One file a release will ship, and where it comes from (for messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub name: String,
    pub from: String,
}

/// Refuses two planned assets that would download under one name, naming both.
pub fn refuse_duplicates(planned: &[Planned]) -> Result<()> {
    let mut problems = Vec::new();
    for (i, a) in planned.iter().enumerate() {
        if let Some(b) = planned[..i].iter().find(|b| b.name == a.name) {
            problems.push(format!(
                "{} and {} would both be the release asset {}; a GitHub release is flat, so rename one",
                b.from, a.from, a.name
            ));
        }
    }
    if !problems.is_empty() {
        bail!("{}", crate::core::report::bullets(&problems));
    }
    Ok(())
}

/// The file name of `path`, as an asset name.
pub fn name_of(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_the_flat_files_but_the_notes() {
        let dir = std::env::temp_dir().join(format!("xtask-dist-{}", std::process::id()));
        let dist = Dist::at(&dir);
        dist.clean().unwrap();
        for name in [
            "b.whl",
            "a.onnx",
            NOTES,
            SUMS,
            "sha256sum.txt.asc",
            SBOM,
            MANIFEST,
        ] {
            std::fs::write(dist.file(name), name).unwrap();
        }
        assert_eq!(
            dist.assets().unwrap(),
            ["a.onnx", "b.whl", MANIFEST, SBOM, SUMS, "sha256sum.txt.asc"]
        );
        assert_eq!(dist.payload(SBOM).unwrap(), ["a.onnx", "b.whl"]);
        std::fs::create_dir(dist.file("models")).unwrap();
        let err = dist.assets().unwrap_err().to_string();
        assert!(err.contains("models") && err.contains("flat"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn duplicates_are_refused_naming_both() {
        let planned = |name: &str, from: &str| Planned {
            name: name.to_owned(),
            from: from.to_owned(),
        };
        refuse_duplicates(&[planned("a.pth", "x"), planned("b.pth", "y")]).unwrap();
        let err = refuse_duplicates(&[
            planned("model_card.md", "models/a/v1/model_card.md"),
            planned("w.pth", "x"),
            planned("model_card.md", "models/b/v1/model_card.md"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("models/a/v1/model_card.md and models/b/v1/model_card.md would both be the release asset model_card.md"),
            "{err}"
        );
    }
}
