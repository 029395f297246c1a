//! `cargo xtask checksums`: SHA-256 checksums exactly as GNU `sha256sum`
//! writes and verifies them, hashed on every core with the CPU's SHA
//! extensions (GNU's does not use them).
//!
//! The output, messages, warnings and exit codes are coreutils 9.1's, down to
//! the escaping of odd file names, so `sha256sum -c` on a device verifies
//! what this writes and the other way round. Differences, on purpose: a
//! directory argument is walked (sha256sum refuses it), and `-o FILE` writes
//! the file atomically and not at all when any input failed.

mod check;
mod gnu;
mod hasher;

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use crate::atomic;
use check::check_file;
pub use check::{check_file_in, CheckOptions, Report};
use hasher::{hash_in_order, Input};

/// Write or verify SHA-256 checksums byte for byte like GNU sha256sum.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Output, messages and exit codes are GNU sha256sum's (coreutils 9.1), so \
`sha256sum -c` verifies what this writes. Unlike sha256sum, a directory is hashed recursively, \
its files in byte-wise sorted path order."
)]
pub struct Checksums {
    /// Files to hash (`-` or none: standard input); directories are walked.
    /// With --check: checksum files to verify.
    #[arg(value_name = "PATH")]
    paths: Vec<OsString>,
    /// Verify the listed checksums, like `sha256sum -c`.
    #[arg(short = 'c', long)]
    check: bool,
    /// Write `HASH *NAME` lines, like `sha256sum -b`.
    #[arg(short = 'b', long)]
    binary: bool,
    /// Write the lines to FILE atomically (nothing on any error) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// With --check: do not print OK for each verified file.
    #[arg(long)]
    quiet: bool,
    /// With --check: print nothing; the exit code tells.
    #[arg(long)]
    status: bool,
    /// With --check: fail on improperly formatted lines.
    #[arg(long)]
    strict: bool,
    /// With --check: warn about each improperly formatted line.
    #[arg(short = 'w', long)]
    warn: bool,
    /// With --check: do not fail or report for missing files.
    #[arg(long)]
    ignore_missing: bool,
}

impl Checksums {
    pub fn run(self) -> Result<ExitCode> {
        let utf8 = gnu::utf8_locale();
        if let Some(message) = self.usage_error() {
            let _ = writeln!(
                io::stderr(),
                "sha256sum: {message}\nTry 'cargo xtask checksums --help' for more information."
            );
            return Ok(ExitCode::FAILURE);
        }
        let ok = if self.check {
            let options = CheckOptions {
                quiet: self.quiet,
                status: self.status,
                strict: self.strict,
                warn: self.warn,
                ignore_missing: self.ignore_missing,
            };
            let files = if self.paths.is_empty() {
                vec![OsString::from("-")]
            } else {
                self.paths.clone()
            };
            let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
            let mut report = Report {
                out: &mut out,
                err: &mut err,
                utf8,
            };
            // Every file is checked, as sha256sum does, even after a failure.
            let mut all_ok = true;
            for file in &files {
                all_ok &= check_file(file.as_bytes(), options, &mut report);
            }
            all_ok
        } else {
            self.generate(utf8)?
        };
        Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }

    /// GNU's refusals of flags that mean nothing in this mode.
    fn usage_error(&self) -> Option<String> {
        if self.check {
            if self.binary {
                return Some(
                    "the --binary and --text options are meaningless when verifying checksums"
                        .to_owned(),
                );
            }
            if self.output.is_some() {
                return Some(
                    "--output writes generated checksums; it is meaningless when verifying"
                        .to_owned(),
                );
            }
            return None;
        }
        [
            ("ignore-missing", self.ignore_missing),
            ("quiet", self.quiet),
            ("status", self.status),
            ("strict", self.strict),
            ("warn", self.warn),
        ]
        .iter()
        .find(|(_, set)| *set)
        .map(|(flag, _)| format!("the --{flag} option is meaningful only when verifying checksums"))
    }

    /// Hashes the inputs and writes the lines; false when any input failed.
    fn generate(&self, utf8: bool) -> Result<bool> {
        let (names, inputs) = expand(&self.paths);
        let mut lines = Vec::new();
        let mut ok = true;
        let (mut stdout, mut stderr) = (io::stdout().lock(), io::stderr().lock());
        hash_in_order(&inputs, |index, result| match result {
            Ok(digest) => {
                let line = gnu::sums_line(&digest, &names[index], self.binary);
                if self.output.is_some() {
                    lines.extend_from_slice(&line);
                } else {
                    let _ = stdout.write_all(&line);
                }
            }
            Err(err) => {
                ok = false;
                let _ = stdout.flush();
                let mut message = b"sha256sum: ".to_vec();
                message.extend_from_slice(&gnu::quotef(&names[index], utf8));
                message.extend_from_slice(format!(": {}\n", gnu::strerror(&err)).as_bytes());
                let _ = stderr.write_all(&message);
            }
        });
        let _ = stdout.flush();
        if let Some(output) = &self.output {
            if ok {
                atomic::write_all(&[(output.clone(), lines)])?;
            } else {
                let _ = writeln!(
                    stderr,
                    "sha256sum: nothing was written to {}",
                    output.display()
                );
            }
        }
        Ok(ok)
    }
}

/// SHA-256 of each file, hashed in parallel, in the order given: the same
/// engine as the command, for the release steps.
pub fn sha256_files(paths: &[PathBuf]) -> Vec<io::Result<[u8; 32]>> {
    let inputs: Vec<Input> = paths.iter().cloned().map(Input::File).collect();
    let mut digests = Vec::with_capacity(paths.len());
    hash_in_order(&inputs, |_, result| digests.push(result));
    digests
}

/// `sha256sum.txt` for `names` (relative to `dir`), in the order given.
pub fn sums_file(dir: &Path, names: &[PathBuf]) -> Result<Vec<u8>> {
    let paths: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    let mut out = Vec::new();
    for (name, digest) in names.iter().zip(sha256_files(&paths)) {
        let digest =
            digest.map_err(|e| anyhow::anyhow!("hashing {}: {e}", dir.join(name).display()))?;
        out.extend(gnu::sums_line(&digest, name.as_os_str().as_bytes(), false));
    }
    Ok(out)
}

/// Lower-case hex of a digest.
pub fn hex(digest: &[u8; 32]) -> String {
    gnu::hex(digest)
}

/// The names to print and the inputs to hash: `-` is standard input, a
/// directory becomes its files in byte-wise sorted path order.
fn expand(paths: &[OsString]) -> (Vec<Vec<u8>>, Vec<Input>) {
    let paths = if paths.is_empty() {
        vec![OsString::from("-")]
    } else {
        paths.to_vec()
    };
    let mut names = Vec::new();
    let mut inputs = Vec::new();
    for path in &paths {
        if path == "-" {
            names.push(b"-".to_vec());
            inputs.push(Input::Stdin);
        } else if Path::new(path).is_dir() {
            let mut files = Vec::new();
            walk(Path::new(path), &mut files);
            files.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
            for file in files {
                names.push(file.as_os_str().as_bytes().to_vec());
                inputs.push(Input::File(file));
            }
        } else {
            names.push(path.as_bytes().to_vec());
            inputs.push(Input::File(PathBuf::from(path)));
        }
    }
    (names, inputs)
}

/// Files below `dir`; symlinks to files count, symlinked directories are not
/// followed (no loops), like `find DIR -type f` plus file links.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // Unreadable: hashing it reports the error in sha256sum's words.
        out.push(dir.to_owned());
        return;
    };
    for entry in entries.flatten() {
        let path = join(dir, &entry.file_name());
        let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
        if path.is_dir() && !is_link {
            walk(&path, out);
        } else if !path.is_dir() {
            out.push(path);
        }
    }
}

/// `dir/name` without doubling a trailing slash of `dir`.
fn join(dir: &Path, name: &OsStr) -> PathBuf {
    let mut bytes = dir.as_os_str().as_bytes().to_vec();
    if bytes.last() != Some(&b'/') {
        bytes.push(b'/');
    }
    bytes.extend_from_slice(name.as_bytes());
    PathBuf::from(OsStr::from_bytes(&bytes))
}
