//! `cargo xtask checksums`: SHA-256 checksums exactly as GNU `sha256sum`
//! writes and verifies them, hashed on every core with the CPU's SHA
//! extensions (GNU's does not use them).
//!
//! The output (`-b`, `-t`, `--tag`, `-z`), messages, warnings and exit codes
//! are coreutils 9.1's, down to the escaping of odd file names and which of
//! several flags wins, so `sha256sum -c` on a device verifies what this
//! writes and the other way round. Differences, on purpose: a directory
//! argument is walked (sha256sum refuses it), `-o FILE` writes the file
//! atomically and not at all when any input failed, and `--help` is ours.

mod check;
mod gnu;
mod hasher;

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::parser::ValueSource;
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

use crate::core::atomic;
use check::check_file;
pub use check::{check_file_in, CheckOptions, Report, Verbosity};
use hasher::{hash_in_order, Input};

/// `cargo xtask checksums`, its flags resolved as GNU's getopt loop leaves
/// them: `--quiet`, `--status` and `--warn` are one setting, and so are
/// `-b`, `-t` and `--tag`'s binary mode; in each the last one given wins.
#[derive(Debug)]
pub struct Checksums {
    paths: Vec<OsString>,
    check: bool,
    /// `None` when neither -b, -t nor --tag was given.
    binary: Option<bool>,
    tag: bool,
    zero: bool,
    output: Option<PathBuf>,
    verbosity: Verbosity,
    strict: bool,
    ignore_missing: bool,
}

/// The flag among `ids` that came last on the command line, if any did.
fn last_of<'a>(matches: &ArgMatches, ids: &[&'a str]) -> Option<&'a str> {
    ids.iter()
        // A flag not given still has its default, with an index of its own.
        .filter(|id| matches.value_source(id) == Some(ValueSource::CommandLine))
        .filter_map(|id| Some((matches.indices_of(id)?.max()?, *id)))
        .max()
        .map(|(_, id)| id)
}

impl Checksums {
    pub fn args(cmd: Command) -> Command {
        cmd.infer_long_args(true)
            .args_override_self(true)
            .after_help(
                "The lines written and read, the messages, warnings and exit codes are GNU \
sha256sum's (coreutils 9.1); the tests compare both tools byte for byte. Unlike sha256sum, a \
directory is hashed recursively (its files in byte-wise sorted path order), -o writes a file \
atomically, this help is not GNU's, and there is no --version.",
            )
            .arg(
                Arg::new("paths")
                    .value_name("PATH")
                    .value_parser(value_parser!(OsString))
                    .num_args(1..)
                    .action(ArgAction::Append)
                    .help(
                        "Files to hash (`-` or none: standard input); directories are walked. \
                         With --check: checksum files to verify",
                    ),
            )
            .arg(
                Arg::new("check")
                    .short('c')
                    .long("check")
                    .action(ArgAction::SetTrue)
                    .help("Verify the listed checksums, like `sha256sum -c`"),
            )
            .arg(
                Arg::new("binary")
                    .short('b')
                    .long("binary")
                    .action(ArgAction::Count)
                    .help("Write `HASH *NAME` lines (binary mode)"),
            )
            .arg(
                Arg::new("text")
                    .short('t')
                    .long("text")
                    .action(ArgAction::Count)
                    .help("Write `HASH  NAME` lines (text mode, the default)"),
            )
            .arg(
                Arg::new("tag")
                    .long("tag")
                    .action(ArgAction::Count)
                    .help("Write BSD-style lines, `SHA256 (NAME) = HASH`"),
            )
            .arg(
                Arg::new("zero")
                    .short('z')
                    .long("zero")
                    .action(ArgAction::SetTrue)
                    .help("End each line with NUL, not newline, and write names unescaped"),
            )
            .arg(
                Arg::new("output")
                    .short('o')
                    .long("output")
                    .value_name("FILE")
                    .value_parser(value_parser!(PathBuf))
                    .help(
                        "Write the lines to FILE atomically (nothing on any error) instead of \
                         stdout",
                    ),
            )
            .arg(
                Arg::new("quiet")
                    .long("quiet")
                    .action(ArgAction::Count)
                    .help("With --check: do not print OK for each verified file"),
            )
            .arg(
                Arg::new("status")
                    .long("status")
                    .action(ArgAction::Count)
                    .help("With --check: print nothing; the exit code tells"),
            )
            .arg(
                Arg::new("strict")
                    .long("strict")
                    .action(ArgAction::SetTrue)
                    .help("With --check: fail on improperly formatted lines"),
            )
            .arg(
                Arg::new("warn")
                    .short('w')
                    .long("warn")
                    .action(ArgAction::Count)
                    .help("With --check: warn about each improperly formatted line"),
            )
            .arg(
                Arg::new("ignore-missing")
                    .long("ignore-missing")
                    .action(ArgAction::SetTrue)
                    .help("With --check: do not fail or report for missing files"),
            )
    }

    pub fn from_matches(matches: &ArgMatches) -> Checksums {
        let verbosity = match last_of(matches, &["quiet", "status", "warn"]) {
            Some("quiet") => Verbosity::Quiet,
            Some("status") => Verbosity::Status,
            Some("warn") => Verbosity::Warn,
            _ => Verbosity::Normal,
        };
        let binary = last_of(matches, &["binary", "text", "tag"]).map(|id| id != "text");
        Checksums {
            paths: crate::cli::all(matches, "paths"),
            check: matches.get_flag("check"),
            binary,
            tag: matches.get_count("tag") > 0,
            zero: matches.get_flag("zero"),
            output: matches.get_one::<PathBuf>("output").cloned(),
            verbosity,
            strict: matches.get_flag("strict"),
            ignore_missing: matches.get_flag("ignore-missing"),
        }
    }

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
                verbosity: self.verbosity,
                strict: self.strict,
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

    /// GNU's refusals of flag combinations, in the order coreutils 9.1
    /// checks them (only the first is reported).
    fn usage_error(&self) -> Option<String> {
        let meaningful_only =
            |flag: &str| format!("the --{flag} option is meaningful only when verifying checksums");
        let verbosity = self.verbosity;
        [
            (
                self.tag && self.binary == Some(false),
                "--tag does not support --text mode".to_owned(),
            ),
            (
                self.zero && self.check,
                "the --zero option is not supported when verifying checksums".to_owned(),
            ),
            (
                self.tag && self.check,
                "the --tag option is meaningless when verifying checksums".to_owned(),
            ),
            (
                self.binary.is_some() && self.check,
                "the --binary and --text options are meaningless when verifying checksums"
                    .to_owned(),
            ),
            (
                self.output.is_some() && self.check,
                "--output writes generated checksums; it is meaningless when verifying".to_owned(),
            ),
            (
                self.ignore_missing && !self.check,
                meaningful_only("ignore-missing"),
            ),
            (
                verbosity == Verbosity::Status && !self.check,
                meaningful_only("status"),
            ),
            (
                verbosity == Verbosity::Warn && !self.check,
                meaningful_only("warn"),
            ),
            (
                verbosity == Verbosity::Quiet && !self.check,
                meaningful_only("quiet"),
            ),
            (self.strict && !self.check, meaningful_only("strict")),
        ]
        .into_iter()
        .find_map(|(refused, message)| refused.then_some(message))
    }

    /// Hashes the inputs and writes the lines; false when any input failed.
    fn generate(&self, utf8: bool) -> Result<bool> {
        let (names, inputs) = expand(&self.paths);
        let mut lines = Vec::new();
        let mut ok = true;
        let (mut stdout, mut stderr) = (io::stdout().lock(), io::stderr().lock());
        hash_in_order(&inputs, |index, result| match result {
            Ok(digest) => {
                let style = gnu::Style {
                    binary: self.binary.unwrap_or(false),
                    tag: self.tag,
                    zero: self.zero,
                };
                let line = gnu::styled_line(&digest, &names[index], style);
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
