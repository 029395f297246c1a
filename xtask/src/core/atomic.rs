//! All-or-nothing file writes: temp file beside the target, permissions kept,
//! fsync, rename.
//!
//! [`write_all`] writes every temp file first and renames only when all of
//! them were written, so a failure while writing (disk full, a missing
//! directory) changes nothing on disk. Renames within one directory are
//! atomic; a failure among the renames themselves is reported with the files
//! already replaced.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes each `(path, contents)` atomically, all or none.
pub fn write_all(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let mut written: Vec<(PathBuf, &Path)> = Vec::new();
    for (path, contents) in files {
        match write_temp(path, contents) {
            Ok(temp) => written.push((temp, path)),
            Err(err) => {
                for (temp, _) in &written {
                    let _ = std::fs::remove_file(temp);
                }
                return Err(err.context("nothing was changed"));
            }
        }
    }
    let mut replaced = Vec::new();
    for (temp, path) in &written {
        if let Err(err) = std::fs::rename(temp, path) {
            for (temp, _) in &written {
                let _ = std::fs::remove_file(temp);
            }
            return Err(err).with_context(|| {
                format!(
                    "replacing {} (already replaced: {})",
                    path.display(),
                    if replaced.is_empty() {
                        "none".to_owned()
                    } else {
                        replaced.join(", ")
                    }
                )
            });
        }
        replaced.push(path.display().to_string());
    }
    Ok(())
}

/// Whether `name` is one of our temporary files (`.NAME.xtask-PID.tmp`),
/// which a kill during a write can leave behind.
pub fn is_temp_name(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".tmp"))
        .and_then(|rest| rest.rsplit_once(".xtask-"))
        .is_some_and(|(file, pid)| {
            !file.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
        })
}

fn write_temp(path: &Path, contents: &[u8]) -> Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let temp = dir.join(format!(
        ".{}.xtask-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut file: File = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.write_all(contents)?;
        file.sync_all()
    })();
    if let Err(err) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(err).with_context(|| format!("writing {}", path.display()));
    }
    Ok(temp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognised_exactly() {
        assert!(is_temp_name(".Cargo.toml.xtask-4242.tmp"));
        assert!(is_temp_name(".x.xtask-1.tmp"));
        for other in [
            "Cargo.toml",
            ".Cargo.toml.tmp",
            ".Cargo.toml.xtask-.tmp",
            ".xtask-12.tmp",
            ".a.xtask-1x.tmp",
        ] {
            assert!(!is_temp_name(other), "{other}");
        }
    }
    use std::os::unix::fs::PermissionsExt;

    fn scratch(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-atomic-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn replaces_contents_and_keeps_permissions() {
        let dir = scratch("perm");
        let path = dir.join("run.sh");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o751)).unwrap();
        write_all(&[(path.clone(), b"new".to_vec())]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o751
        );
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temp file left behind"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_write_changes_no_file() {
        let dir = scratch("none");
        let first = dir.join("a.toml");
        std::fs::write(&first, "a = 1\n").unwrap();
        let impossible = dir.join("no-such-dir/b.toml");
        let err = write_all(&[
            (first.clone(), b"a = 2\n".to_vec()),
            (impossible, b"b".to_vec()),
        ])
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("nothing was changed"),
            "{err:#}"
        );
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "a = 1\n");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "temp files were cleaned up"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
