//! GNU coreutils' `sha256sum` formats, byte for byte (checked against
//! coreutils 9.1 by the tests):
//! - output lines `HASH  NAME` / `HASH *NAME`, with a leading `\` and `\\`,
//!   `\n`, `\r` escapes when the name holds any of those characters;
//! - `--check` input lines: text, binary, BSD `SHA256 (NAME) = HASH` and
//!   "reversed" `HASH NAME` lines, escaped names, comments, CRLF;
//! - names in messages, quoted like gnulib's `quotef` (shell-escape style,
//!   `:` quoted too), which depends on whether the locale is UTF-8.

use std::io;

pub const HEX_LEN: usize = 64;

/// A name as `sha256sum` writes it in a generated line: `(escaped, bytes)`.
pub fn escape_for_sums(name: &[u8]) -> (bool, Vec<u8>) {
    escape_if(name, |b| matches!(b, b'\\' | b'\n' | b'\r'))
}

/// A name as `sha256sum -c` prints it before `: OK`: escaped only when it
/// holds a newline (coreutils 9.1).
pub fn escape_for_check(name: &[u8]) -> (bool, Vec<u8>) {
    escape_if(name, |b| b == b'\n')
}

fn escape_if(name: &[u8], trigger: impl Fn(u8) -> bool) -> (bool, Vec<u8>) {
    if !name.iter().copied().any(trigger) {
        return (false, name.to_vec());
    }
    let mut out = Vec::with_capacity(name.len() + 4);
    for &b in name {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    (true, out)
}

/// How `sha256sum` writes a generated line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// `HASH *NAME` (`-b`, and the default of `--tag`) rather than `HASH  NAME`.
    pub binary: bool,
    /// BSD style, `SHA256 (NAME) = HASH` (`--tag`).
    pub tag: bool,
    /// End the line with NUL, and never escape the name (`-z`).
    pub zero: bool,
}

/// One generated line, newline included.
pub fn sums_line(digest: &[u8; 32], name: &[u8], binary: bool) -> Vec<u8> {
    styled_line(
        digest,
        name,
        Style {
            binary,
            ..Style::default()
        },
    )
}

/// One generated line in `style`, its end (newline or NUL) included: what
/// coreutils' `output_file` writes.
pub fn styled_line(digest: &[u8; 32], name: &[u8], style: Style) -> Vec<u8> {
    // With -z a name is written as it is: the NUL end is unambiguous.
    let (escaped, name) = if style.zero {
        (false, name.to_vec())
    } else {
        escape_for_sums(name)
    };
    let mut line = Vec::with_capacity(HEX_LEN + name.len() + 16);
    if escaped {
        line.push(b'\\');
    }
    if style.tag {
        line.extend_from_slice(b"SHA256 (");
        line.extend_from_slice(&name);
        line.extend_from_slice(b") = ");
        line.extend_from_slice(hex(digest).as_bytes());
    } else {
        line.extend_from_slice(hex(digest).as_bytes());
        line.extend_from_slice(if style.binary { b" *" } else { b"  " });
        line.extend_from_slice(&name);
    }
    line.push(if style.zero { 0 } else { b'\n' });
    line
}

pub fn hex(digest: &[u8; 32]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// How the lines of one checksum file have been written so far: GNU refuses
/// to mix "reversed" `HASH NAME` lines with `HASH  NAME` ones in one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    #[default]
    Unknown,
    Standard,
    Reversed,
}

/// A parsed `--check` line.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    /// Lower-case hex digest.
    pub hex: String,
    pub name: Vec<u8>,
}

/// Parses one line, without its newline and the one carriage return before
/// it. `None` for an improperly formatted line. Updates `layout` the way
/// coreutils' `split_3` does: only a line whose digest is well formed can
/// decide whether the file is "reversed", so a malformed line never changes
/// how the lines after it are read.
pub fn parse_line(line: &[u8], layout: &mut Layout) -> Option<Entry> {
    let mut i = 0;
    while i < line.len() && is_white(line[i]) {
        i += 1;
    }
    let escaped = line.get(i) == Some(&b'\\');
    if escaped {
        i += 1;
    }
    let rest = &line[i..];
    if let Some(after) = rest.strip_prefix(b"SHA256") {
        let after = after.strip_prefix(b" ").unwrap_or(after);
        return parse_bsd(after.strip_prefix(b"(")?, escaped);
    }
    // GNU's minimum: the digest, one blank and a one-byte name.
    if rest.len() < HEX_LEN + 2 + usize::from(rest.first() == Some(&b'\\')) {
        return None;
    }
    let (digest, after) = rest.split_at(HEX_LEN);
    if !is_white(after[0]) || !is_hex_digest(digest) {
        return None;
    }
    let after = &after[1..];
    let name = if after.len() == 1 || (after[0] != b' ' && after[0] != b'*') {
        if *layout == Layout::Standard {
            return None;
        }
        *layout = Layout::Reversed;
        after
    } else if *layout != Layout::Reversed {
        *layout = Layout::Standard;
        &after[1..]
    } else {
        after
    };
    entry(digest, name, escaped)
}

fn parse_bsd(rest: &[u8], escaped: bool) -> Option<Entry> {
    let close = rest.iter().rposition(|&b| b == b')')?;
    let (name, after) = (&rest[..close], &rest[close + 1..]);
    let after = trim_white(after).strip_prefix(b"=")?;
    entry(c_string(trim_white(after)), name, escaped)
}

fn is_hex_digest(digest: &[u8]) -> bool {
    digest.len() == HEX_LEN && digest.iter().all(u8::is_ascii_hexdigit)
}

fn entry(digest: &[u8], name: &[u8], escaped: bool) -> Option<Entry> {
    if !is_hex_digest(digest) {
        return None;
    }
    // sha256sum reads names as C strings: an escaped name may not hold a NUL,
    // a plain one ends at the first.
    let name = if escaped {
        unescape(name)?
    } else {
        c_string(name).to_vec()
    };
    Some(Entry {
        hex: String::from_utf8_lossy(digest).to_ascii_lowercase(),
        name,
    })
}

/// `bytes` up to its first NUL, as C would read it.
fn c_string(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or_default()
}

fn trim_white(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_white(b)).unwrap_or(s.len());
    &s[start..]
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t')
}

/// `\\`, `\n`, `\r` back to bytes; any other escape makes the line invalid.
fn unescape(name: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(name.len());
    let mut bytes = name.iter();
    while let Some(&b) = bytes.next() {
        if b == 0 {
            return None;
        }
        if b != b'\\' {
            out.push(b);
            continue;
        }
        out.push(match bytes.next()? {
            b'\\' => b'\\',
            b'n' => b'\n',
            b'r' => b'\r',
            _ => return None,
        });
    }
    Some(out)
}

/// The text of an I/O error without Rust's ` (os error N)` suffix, as C's
/// `strerror` gives it.
pub fn strerror(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Whether the C library would take the locale's characters as UTF-8: the
/// first of LC_ALL, LC_CTYPE, LANG names a UTF-8 locale that exists (glibc
/// falls back to "C" for one that is not installed).
pub fn utf8_locale() -> bool {
    let Some(name) = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
    else {
        return false;
    };
    let Some((language, codeset)) = name.split_once('.') else {
        return false;
    };
    let codeset = codeset
        .split('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
        .replace('-', "");
    if codeset != "utf8" {
        return false;
    }
    let installed = std::path::Path::new("/usr/lib/locale");
    language == "C"
        || installed.join(format!("{language}.utf8")).is_dir()
        || installed.join("locale-archive").is_file()
}

/// A name quoted for a message the way coreutils' `quotef` does.
pub fn quotef(name: &[u8], utf8: bool) -> Vec<u8> {
    let chars = split_chars(name, utf8);
    let needs_quotes = name.is_empty()
        || chars.iter().enumerate().any(|(i, c)| match c {
            Char::Byte(b) => {
                matches!(
                    b,
                    b'?' | b' '
                        | b'!'
                        | b'"'
                        | b'$'
                        | b'&'
                        | b'('
                        | b')'
                        | b'*'
                        | b';'
                        | b'<'
                        | b'='
                        | b'>'
                        | b'['
                        | b'^'
                        | b'`'
                        | b'|'
                        | b'\''
                        | b'\\'
                        | b':'
                ) || b.is_ascii_control()
                    || (matches!(b, b'#' | b'~') && i == 0)
                    || (matches!(b, b'{' | b'}') && name.len() == 1)
            }
            Char::Printable(_) => false,
            Char::Unprintable(_) => true,
        });
    if !needs_quotes {
        return name.to_vec();
    }
    // An apostrophe alone is quoted "like this" when nothing in the name
    // would be special inside double quotes.
    let has_apostrophe = name.contains(&b'\'');
    let double_quote_safe = chars.iter().enumerate().all(|(i, c)| match c {
        Char::Byte(b) => {
            b.is_ascii_alphanumeric()
                || b"%+,-./:]_@' ".contains(b)
                || (matches!(b, b'#' | b'~') && i == 0)
                || (matches!(b, b'{' | b'}') && name.len() == 1)
        }
        Char::Printable(_) => true,
        Char::Unprintable(_) => false,
    });
    if has_apostrophe && double_quote_safe {
        let mut out = vec![b'"'];
        out.extend_from_slice(name);
        out.push(b'"');
        return out;
    }
    let mut out = vec![b'\''];
    let mut in_escape = false;
    for c in &chars {
        let escape: Option<Vec<u8>> = match c {
            Char::Byte(b'\n') => Some(b"\\n".to_vec()),
            Char::Byte(b'\r') => Some(b"\\r".to_vec()),
            Char::Byte(b'\t') => Some(b"\\t".to_vec()),
            Char::Byte(0x07) => Some(b"\\a".to_vec()),
            Char::Byte(0x08) => Some(b"\\b".to_vec()),
            Char::Byte(0x0c) => Some(b"\\f".to_vec()),
            Char::Byte(0x0b) => Some(b"\\v".to_vec()),
            Char::Unprintable(bytes) => Some(
                bytes
                    .iter()
                    .flat_map(|b| format!("\\{b:03o}").into_bytes())
                    .collect(),
            ),
            _ => None,
        };
        match escape {
            Some(escape) => {
                if !in_escape {
                    out.extend_from_slice(b"'$'");
                    in_escape = true;
                }
                out.extend_from_slice(&escape);
            }
            None => {
                if in_escape {
                    out.extend_from_slice(b"''");
                    in_escape = false;
                }
                match c {
                    Char::Byte(b'\'') => out.extend_from_slice(b"'\\''"),
                    Char::Byte(b) => out.push(*b),
                    Char::Printable(bytes) => out.extend_from_slice(bytes),
                    Char::Unprintable(_) => unreachable!("escaped above"),
                }
            }
        }
    }
    out.push(b'\'');
    out
}

enum Char<'a> {
    /// A printable ASCII byte or a C escape (`\n`, `\t`, ...).
    Byte(u8),
    /// A printable multi-byte character.
    Printable(&'a [u8]),
    /// Bytes the locale cannot print, written as octal escapes.
    Unprintable(&'a [u8]),
}

fn split_chars(name: &[u8], utf8: bool) -> Vec<Char<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < name.len() {
        let b = name[i];
        if b < 0x80 {
            let c_escape = matches!(b, b'\n' | b'\r' | b'\t' | 0x07 | 0x08 | 0x0b | 0x0c);
            out.push(if b.is_ascii_graphic() || b == b' ' || c_escape {
                Char::Byte(b)
            } else {
                Char::Unprintable(&name[i..=i])
            });
            i += 1;
            continue;
        }
        let width = match b {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 0,
        };
        let sequence = name.get(i..i + width).filter(|_| utf8 && width > 0);
        match sequence.and_then(|s| std::str::from_utf8(s).ok()) {
            Some(text) if !text.chars().any(char::is_control) => {
                out.push(Char::Printable(&name[i..i + width]))
            }
            _ => {
                out.push(Char::Unprintable(&name[i..=i]));
                i += 1;
                continue;
            }
        }
        i += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotef_matches_what_coreutils_printed() {
        // Observed from `sha256sum` 9.1 in a UTF-8 locale.
        let cases: &[(&[u8], &str)] = &[
            (b"nonexist", "nonexist"),
            (b"no such", "'no such'"),
            (b"x\ny", "'x'$'\\n''y'"),
            (b"it's:x", "\"it's:x\""),
            (b"pl\\ain", "'pl\\ain'"),
            (b"n\new", "'n'$'\\n''ew'"),
            (b" plain", "' plain'"),
            (b"standard input", "'standard input'"),
            ("ünï".as_bytes(), "ünï"),
            (b"-dash", "-dash"),
        ];
        for (name, expected) in cases {
            assert_eq!(
                String::from_utf8_lossy(&quotef(name, true)),
                *expected,
                "{name:?}"
            );
        }
        assert_eq!(
            String::from_utf8_lossy(&quotef("ü".as_bytes(), false)),
            "''$'\\303\\274'"
        );
    }

    #[test]
    fn parses_every_line_form() {
        let h = "a".repeat(64);
        let mut layout = Layout::Unknown;
        let parse = |line: &str, layout: &mut Layout| {
            parse_line(line.as_bytes(), layout).map(|e| String::from_utf8(e.name).unwrap())
        };
        assert_eq!(
            parse(&format!("{h}  plain"), &mut layout).as_deref(),
            Some("plain")
        );
        assert_eq!(
            parse(&format!("{h} *bin"), &mut layout).as_deref(),
            Some("bin")
        );
        assert_eq!(
            parse(&format!("SHA256 (sp ace) = {h}"), &mut layout).as_deref(),
            Some("sp ace")
        );
        assert_eq!(
            parse(&format!("\\{h}  new\\nline"), &mut layout).as_deref(),
            Some("new\nline")
        );
        // The caller strips the one CR before the newline; a second is the name's.
        assert_eq!(
            parse(&format!("{h}  crlf\r"), &mut layout).as_deref(),
            Some("crlf\r")
        );
        assert_eq!(
            parse(&format!("{}  upper", h.to_uppercase()), &mut layout).as_deref(),
            Some("upper")
        );
        // A reversed line after standard ones is refused.
        assert_eq!(parse(&format!("{h} single"), &mut layout), None);
        assert_eq!(parse(&format!("\\{h}  bad\\tescape"), &mut layout), None);
        assert_eq!(parse(&format!("{}  short", &h[1..]), &mut layout), None);
        assert_eq!(parse("", &mut layout), None);
        // A plain name ends at a NUL, as a C string does; an escaped one may not hold it.
        assert_eq!(
            parse(&format!("{h}  nul\0tail"), &mut layout).as_deref(),
            Some("nul")
        );
        assert_eq!(parse(&format!("\\{h}  nul\0tail"), &mut layout), None);
    }

    #[test]
    fn a_malformed_line_does_not_decide_the_layout() {
        // (lines, names parsed or None): GNU's split_3 checks the digest before
        // it looks at the separator.
        let h = "b".repeat(64);
        let short = &h[1..];
        let cases: &[(&[String], &[Option<&str>])] = &[
            (
                &[format!("{short}  a.txt"), format!("{h}  b.txt")],
                &[None, Some("b.txt")],
            ),
            (
                &[format!("{short} a.txt"), format!("{h}  b.txt")],
                &[None, Some("b.txt")],
            ),
            (
                &[format!("{}g  a.txt", short), format!("{h} b.txt")],
                &[None, Some("b.txt")],
            ),
            (
                &[format!("{h} rev"), format!("{h}  std")],
                &[Some("rev"), Some(" std")],
            ),
            (
                &[format!("{h}  std"), format!("{h} rev")],
                &[Some("std"), None],
            ),
            // An escaped line too short for GNU's minimum is still 66 bytes long.
            (&[format!("\\{h} a")], &[Some("a")]),
        ];
        for (lines, expected) in cases {
            let mut layout = Layout::Unknown;
            let names: Vec<Option<String>> = lines
                .iter()
                .map(|l| {
                    parse_line(l.as_bytes(), &mut layout)
                        .map(|e| String::from_utf8(e.name).unwrap())
                })
                .collect();
            let expected: Vec<Option<String>> =
                expected.iter().map(|e| e.map(str::to_owned)).collect();
            assert_eq!(names, expected, "{lines:?}");
        }
    }
}
