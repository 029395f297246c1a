//! `--check`: verify checksum files exactly like `sha256sum -c` (coreutils
//! 9.1): the same stdout lines, the same stderr messages and warnings in the
//! same order, the same success or failure per file. The listed files are
//! hashed in parallel; results are reported in line order.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::gnu::{escape_for_check, hex, parse_line, quotef, strerror, Layout};
use super::hasher::{hash_in_order, Input};

/// What `--check` prints. In coreutils `--quiet`, `--status` and `--warn`
/// are one setting, and the last one given wins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// `NAME: OK` for every verified file, the summary warnings.
    #[default]
    Normal,
    /// `--quiet`: no `OK` lines.
    Quiet,
    /// `--status`: nothing on stdout, no summary; the exit code tells.
    Status,
    /// `-w/--warn`: like normal, plus a warning for each improperly formatted line.
    Warn,
}

/// The `--check` flags that change output or outcome.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckOptions {
    pub verbosity: Verbosity,
    pub strict: bool,
    pub ignore_missing: bool,
}

impl CheckOptions {
    fn status(&self) -> bool {
        self.verbosity == Verbosity::Status
    }
}

/// Where a check writes: stdout for results, stderr for problems, and the
/// locale's quoting rule for names in messages.
pub struct Report<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub utf8: bool,
}

impl Report<'_> {
    fn problem(&mut self, parts: &[&[u8]]) {
        let _ = self.out.flush();
        let mut line = b"sha256sum: ".to_vec();
        for part in parts {
            line.extend_from_slice(part);
        }
        line.push(b'\n');
        let _ = self.err.write_all(&line);
    }

    fn result(&mut self, name: &[u8], outcome: &str) {
        let (escaped, name) = escape_for_check(name);
        let mut line = Vec::with_capacity(name.len() + 24);
        if escaped {
            line.push(b'\\');
        }
        line.extend_from_slice(&name);
        line.extend_from_slice(b": ");
        line.extend_from_slice(outcome.as_bytes());
        line.push(b'\n');
        let _ = self.out.write_all(&line);
    }
}

/// A line of the checksum file, in order.
enum Line {
    Improper(usize),
    Entry { hex: String, name: Vec<u8> },
}

/// Verifies one checksum file (`-` for standard input); true when it passes.
pub fn check_file(file: &[u8], options: CheckOptions, report: &mut Report) -> bool {
    check_file_in(Path::new(""), file, options, report)
}

/// [`check_file`] with the listed names taken relative to `dir` (the release
/// verifies its staged directory without changing the process's directory).
pub fn check_file_in(dir: &Path, file: &[u8], options: CheckOptions, report: &mut Report) -> bool {
    let stdin = file == b"-";
    let display: &[u8] = if stdin { b"standard input" } else { file };
    let quoted = quotef(display, report.utf8);
    let text = match read_all(file, stdin) {
        Ok(text) => text,
        Err(ReadError::Open(err)) => {
            report.problem(&[&quoted, b": ", strerror(&err).as_bytes()]);
            return false;
        }
        Err(ReadError::Read) => {
            report.problem(&[&quoted, b": read error"]);
            return false;
        }
    };

    let mut layout = Layout::Unknown;
    let mut lines = Vec::new();
    for (number, raw) in text.split(|&b| b == b'\n').enumerate() {
        // As coreutils reads a line: `#` comments first, then one CR before
        // the newline is dropped, then empty lines are skipped.
        if raw.first() == Some(&b'#') {
            continue;
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            continue;
        }
        lines.push(match parse_line(raw, &mut layout) {
            // Checking standard input, a line for `-` cannot be read.
            Some(entry) if !(stdin && entry.name == b"-") => Line::Entry {
                hex: entry.hex,
                name: entry.name,
            },
            _ => Line::Improper(number + 1),
        });
    }
    let inputs: Vec<Input> = lines
        .iter()
        .filter_map(|line| match line {
            Line::Entry { name, .. } if name == b"-" => Some(Input::Stdin),
            Line::Entry { name, .. } => Some(Input::File(dir.join(OsStr::from_bytes(name)))),
            Line::Improper(_) => None,
        })
        .collect();

    let mut walk = Walk {
        lines: &lines,
        cursor: 0,
        quoted: &quoted,
        options,
        counts: Counts::default(),
    };
    hash_in_order(&inputs, |_, result| walk.entry(result, report));
    walk.improper_lines(report);
    let counts = walk.counts;

    if counts.entries == 0 {
        report.problem(&[&quoted, b": no properly formatted checksum lines found"]);
        return false;
    }
    if !options.status() {
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                format!("WARNING: 1 {one}")
            } else {
                format!("WARNING: {n} {many}")
            }
        };
        if counts.improper > 0 {
            report.problem(&[plural(
                counts.improper,
                "line is improperly formatted",
                "lines are improperly formatted",
            )
            .as_bytes()]);
        }
        if counts.unreadable > 0 {
            report.problem(&[plural(
                counts.unreadable,
                "listed file could not be read",
                "listed files could not be read",
            )
            .as_bytes()]);
        }
        if counts.mismatched > 0 {
            report.problem(&[plural(
                counts.mismatched,
                "computed checksum did NOT match",
                "computed checksums did NOT match",
            )
            .as_bytes()]);
        }
        if options.ignore_missing && counts.matched == 0 {
            report.problem(&[&quoted, b": no file was verified"]);
        }
    }
    counts.mismatched == 0
        && counts.unreadable == 0
        && (!options.strict || counts.improper == 0)
        && (!options.ignore_missing || counts.matched > 0)
}

/// Reports the lines of one checksum file in order. Results arrive in entry
/// order, so each one first reports the improper lines before its entry.
struct Walk<'a> {
    lines: &'a [Line],
    cursor: usize,
    quoted: &'a [u8],
    options: CheckOptions,
    counts: Counts,
}

impl Walk<'_> {
    fn entry(&mut self, result: io::Result<[u8; 32]>, report: &mut Report) {
        self.improper_lines(report);
        if let Some(Line::Entry {
            hex: expected,
            name,
        }) = self.lines.get(self.cursor)
        {
            self.counts.entries += 1;
            verify(
                name,
                expected,
                &result,
                self.options,
                report,
                &mut self.counts,
            );
            self.cursor += 1;
        }
    }

    fn improper_lines(&mut self, report: &mut Report) {
        while let Some(Line::Improper(number)) = self.lines.get(self.cursor) {
            self.counts.improper += 1;
            if self.options.verbosity == Verbosity::Warn {
                report.problem(&[
                    self.quoted,
                    format!(": {number}: improperly formatted SHA256 checksum line").as_bytes(),
                ]);
            }
            self.cursor += 1;
        }
    }
}

#[derive(Default)]
struct Counts {
    entries: usize,
    improper: usize,
    unreadable: usize,
    mismatched: usize,
    matched: usize,
}

fn verify(
    name: &[u8],
    expected: &str,
    result: &io::Result<[u8; 32]>,
    options: CheckOptions,
    report: &mut Report,
    counts: &mut Counts,
) {
    match result {
        Err(err) if options.ignore_missing && err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => {
            counts.unreadable += 1;
            report.problem(&[&quotef(name, report.utf8), b": ", strerror(err).as_bytes()]);
            if !options.status() {
                report.result(name, "FAILED open or read");
            }
        }
        Ok(digest) if hex(digest) == expected => {
            counts.matched += 1;
            if options.verbosity != Verbosity::Status && options.verbosity != Verbosity::Quiet {
                report.result(name, "OK");
            }
        }
        Ok(_) => {
            counts.mismatched += 1;
            if !options.status() {
                report.result(name, "FAILED");
            }
        }
    }
}

enum ReadError {
    Open(io::Error),
    Read,
}

fn read_all(file: &[u8], stdin: bool) -> Result<Vec<u8>, ReadError> {
    let mut text = Vec::new();
    let read = if stdin {
        io::stdin().lock().read_to_end(&mut text)
    } else {
        let path = PathBuf::from(OsStr::from_bytes(file));
        std::fs::File::open(path)
            .map_err(ReadError::Open)?
            .read_to_end(&mut text)
    };
    read.map(|_| text).map_err(|_| ReadError::Read)
}
