//! SemVer to PEP 440, for the Python package, and PEP 440 versions as
//! `packaging.version.Version` reads them, so spellings PEP 440 treats as
//! equal (`1.0.0-rc1`, `1.0.0RC1`, `1.0.0.rc1`) compare equal.
//!
//! Only pre-releases that mean the same and sort the same in both schemes are
//! accepted: `-alpha.N`, `-beta.N`, `-rc.N` become `aN`, `bN`, `rcN`, which is
//! `packaging.version.Version(v)`'s normal form. Anything else (`-dev.1`,
//! `-rc.1.2`, `-SNAPSHOT`, `-alpha` without a number) and any build metadata
//! is refused with the reason, because PyPI would reject it or order it
//! differently from Cargo.

use anyhow::{bail, Result};
use semver::Version;

/// The pre-release kinds both schemes agree on, in precedence order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PreKind {
    Alpha,
    Beta,
    Rc,
}

/// `--pre alpha|beta|rc`.
impl clap::ValueEnum for PreKind {
    fn value_variants<'a>() -> &'a [Self] {
        &[PreKind::Alpha, PreKind::Beta, PreKind::Rc]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.semver_name()))
    }
}

impl PreKind {
    pub fn semver_name(self) -> &'static str {
        match self {
            PreKind::Alpha => "alpha",
            PreKind::Beta => "beta",
            PreKind::Rc => "rc",
        }
    }

    fn pep440_name(self) -> &'static str {
        match self {
            PreKind::Alpha => "a",
            PreKind::Beta => "b",
            PreKind::Rc => "rc",
        }
    }
}

/// A version's pre-release as one of ours: `(kind, number)`, `None` for a
/// release, an error for anything PEP 440 cannot say the same way.
pub fn pre_release(version: &Version) -> Result<Option<(PreKind, u64)>> {
    if !version.build.is_empty() {
        bail!(
            "{version}: build metadata (`+{}`) becomes a PEP 440 local version, which PyPI \
             rejects; release {} instead",
            version.build,
            Version {
                build: semver::BuildMetadata::EMPTY,
                ..version.clone()
            }
        );
    }
    if version.pre.is_empty() {
        return Ok(None);
    }
    let pre = version.pre.as_str();
    let base = format!("{}.{}.{}", version.major, version.minor, version.patch);
    let parts: Vec<&str> = pre.split('.').collect();
    let kind = match parts[0] {
        "alpha" => PreKind::Alpha,
        "beta" => PreKind::Beta,
        "rc" => PreKind::Rc,
        _ => bail!(
            "{version}: pre-release `-{pre}` has no PEP 440 equivalent that sorts the same; \
             use `-alpha.N`, `-beta.N` or `-rc.N` (e.g. {base}-rc.1)"
        ),
    };
    let number = match parts.as_slice() {
        [_, n] => n.parse::<u64>().ok(),
        _ => None,
    };
    match number {
        Some(n) => Ok(Some((kind, n))),
        None => bail!(
            "{version}: pre-release `-{pre}` must be `{}.N` with one number (e.g. {base}-{}.1), \
             so that Cargo and PyPI order it the same",
            kind.semver_name(),
            kind.semver_name()
        ),
    }
}

/// The PEP 440 normal form of `version`, or why there is none.
pub fn to_pep440(version: &Version) -> Result<String> {
    let base = format!("{}.{}.{}", version.major, version.minor, version.patch);
    Ok(match pre_release(version)? {
        None => base,
        Some((kind, n)) => format!("{base}{}{n}", kind.pep440_name()),
    })
}

/// A PEP 440 version, parsed the way `packaging.version.Version` parses it
/// (its `VERSION_PATTERN`, case-insensitive, surrounding whitespace and a
/// leading `v` allowed). `Display` writes the normal form, `==` is
/// packaging's equality: trailing `.0`s of the release do not count.
#[derive(Clone, Debug)]
pub struct Pep440Version {
    epoch: u64,
    release: Vec<u64>,
    /// (`a` | `b` | `rc`, number)
    pre: Option<(&'static str, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    /// Local segments, lower case, numbers as numbers.
    local: Vec<LocalPart>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum LocalPart {
    Number(u64),
    Text(String),
}

impl Pep440Version {
    /// `None` when `text` is not a PEP 440 version (or a number in it does
    /// not fit in 64 bits).
    pub fn parse(text: &str) -> Option<Pep440Version> {
        let mut p = Cursor {
            s: text.trim().to_ascii_lowercase().into_bytes(),
            at: 0,
        };
        p.eat(b"v");
        let mut epoch = 0;
        let mut release = vec![p.number()?];
        if p.eat(b"!") {
            epoch = release[0];
            release = vec![p.number()?];
        }
        while p.peek() == Some(b'.') && p.s.get(p.at + 1).is_some_and(u8::is_ascii_digit) {
            p.at += 1;
            release.push(p.number()?);
        }
        let pre = p.try_part(|p| {
            p.separator();
            let kind = if p.eat(b"alpha") || p.eat(b"a") {
                "a"
            } else if p.eat(b"beta") || p.eat(b"b") {
                "b"
            } else if p.eat(b"preview") || p.eat(b"pre") || p.eat(b"c") || p.eat(b"rc") {
                "rc"
            } else {
                return None;
            };
            p.separator();
            Some((kind, p.optional_number()?))
        });
        let post = p
            .try_part(|p| {
                p.eat(b"-").then_some(())?;
                p.number()
            })
            .or_else(|| {
                p.try_part(|p| {
                    p.separator();
                    (p.eat(b"post") || p.eat(b"rev") || p.eat(b"r")).then_some(())?;
                    p.separator();
                    p.optional_number()
                })
            });
        let dev = p.try_part(|p| {
            p.separator();
            p.eat(b"dev").then_some(())?;
            p.separator();
            p.optional_number()
        });
        let mut local = Vec::new();
        if p.eat(b"+") {
            let rest = std::str::from_utf8(&p.s[p.at..]).ok()?;
            for part in rest.split(['-', '_', '.']) {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return None;
                }
                local.push(match part.bytes().all(|b| b.is_ascii_digit()) {
                    true => LocalPart::Number(part.parse().ok()?),
                    false => LocalPart::Text(part.to_owned()),
                });
            }
            p.at = p.s.len();
        }
        (p.at == p.s.len()).then_some(Pep440Version {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    /// The release without trailing zeros: `1.0` and `1.0.0` are one version.
    fn release_key(&self) -> &[u64] {
        let end = self
            .release
            .iter()
            .rposition(|&n| n != 0)
            .map_or(0, |i| i + 1);
        &self.release[..end]
    }
}

impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        (
            self.epoch,
            self.release_key(),
            self.pre,
            self.post,
            self.dev,
            &self.local,
        ) == (
            other.epoch,
            other.release_key(),
            other.pre,
            other.post,
            other.dev,
            &other.local,
        )
    }
}

impl Eq for Pep440Version {}

impl std::fmt::Display for Pep440Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}!", self.epoch)?;
        }
        let release: Vec<String> = self.release.iter().map(u64::to_string).collect();
        f.write_str(&release.join("."))?;
        if let Some((kind, n)) = self.pre {
            write!(f, "{kind}{n}")?;
        }
        if let Some(n) = self.post {
            write!(f, ".post{n}")?;
        }
        if let Some(n) = self.dev {
            write!(f, ".dev{n}")?;
        }
        if !self.local.is_empty() {
            let local: Vec<String> = self
                .local
                .iter()
                .map(|part| match part {
                    LocalPart::Number(n) => n.to_string(),
                    LocalPart::Text(t) => t.clone(),
                })
                .collect();
            write!(f, "+{}", local.join("."))?;
        }
        Ok(())
    }
}

/// A position in the lower-cased text being parsed.
struct Cursor {
    s: Vec<u8>,
    at: usize,
}

impl Cursor {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, word: &[u8]) -> bool {
        let found = self.s[self.at..].starts_with(word);
        if found {
            self.at += word.len();
        }
        found
    }

    /// PEP 440's optional separator, `-`, `_` or `.`.
    fn separator(&mut self) {
        if matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
            self.at += 1;
        }
    }

    fn number(&mut self) -> Option<u64> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at])
            .ok()?
            .parse()
            .ok()
    }

    /// A number if digits follow, else 0 (PEP 440's implicit number);
    /// `None` only when the digits overflow.
    fn optional_number(&mut self) -> Option<u64> {
        match self.peek() {
            Some(b) if b.is_ascii_digit() => self.number(),
            _ => Some(0),
        }
    }

    /// Runs an optional part; on no match, the position is restored.
    fn try_part<T>(&mut self, part: impl FnOnce(&mut Cursor) -> Option<T>) -> Option<T> {
        let start = self.at;
        let found = part(self);
        if found.is_none() {
            self.at = start;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pep(v: &str) -> Result<String> {
        to_pep440(&Version::parse(v).unwrap())
    }

    #[test]
    fn maps_the_pre_releases_both_schemes_share() {
        let cases = [
            ("1.2.3", "1.2.3"),
            ("0.1.0", "0.1.0"),
            ("1.2.0-alpha.1", "1.2.0a1"),
            ("1.2.0-alpha.0", "1.2.0a0"),
            ("1.2.0-beta.2", "1.2.0b2"),
            ("1.2.0-rc.1", "1.2.0rc1"),
            ("10.20.30-rc.12", "10.20.30rc12"),
        ];
        for (semver, expected) in cases {
            assert_eq!(pep(semver).unwrap(), expected, "{semver}");
        }
    }

    #[test]
    fn refuses_what_pypi_would_reject_or_misorder() {
        let cases = [
            ("1.2.0-dev.1", "no PEP 440 equivalent"),
            ("1.2.0-rc.1.2", "must be `rc.N` with one number"),
            ("1.2.0-SNAPSHOT", "no PEP 440 equivalent"),
            ("1.2.0-alpha", "must be `alpha.N`"),
            ("1.2.0-RC.1", "no PEP 440 equivalent"),
            ("1.2.0-rc.x", "must be `rc.N`"),
            ("1.2.0+build.5", "build metadata"),
            ("1.2.0-rc.1+sha.abc", "build metadata"),
        ];
        for (semver, why) in cases {
            let err = pep(semver).unwrap_err().to_string();
            assert!(err.contains(why), "{semver}: {err}");
            assert!(err.starts_with(semver), "{semver}: {err}");
        }
    }

    /// (spelling, `str(packaging.version.Version(spelling))` as packaging
    /// 26.3 prints it; `None`: packaging raises InvalidVersion).
    const NORMAL_FORMS: &[(&str, Option<&str>)] = &[
        ("1.0.0-rc1", Some("1.0.0rc1")),
        ("1.0.0RC1", Some("1.0.0rc1")),
        ("1.0.0.rc1", Some("1.0.0rc1")),
        ("1.0.0_rc_1", Some("1.0.0rc1")),
        ("1.0.0c1", Some("1.0.0rc1")),
        ("1.0.0-pre1", Some("1.0.0rc1")),
        ("1.0.0preview.1", Some("1.0.0rc1")),
        ("1.0.0-alpha.1", Some("1.0.0a1")),
        ("1.0.0a", Some("1.0.0a0")),
        ("1.0.0-beta-2", Some("1.0.0b2")),
        (" v1.0.0 ", Some("1.0.0")),
        ("V1.0", Some("1.0")),
        ("01.002.0003", Some("1.2.3")),
        ("1.0-1", Some("1.0.post1")),
        ("1.0.post", Some("1.0.post0")),
        ("1.0-r2", Some("1.0.post2")),
        ("1.0rev3", Some("1.0.post3")),
        ("1.0.dev", Some("1.0.dev0")),
        ("1.0-dev-4", Some("1.0.dev4")),
        ("1.0a1.post2.dev3", Some("1.0a1.post2.dev3")),
        ("1!2.0", Some("1!2.0")),
        ("0!2.0", Some("2.0")),
        ("1.0+Local-Build_7", Some("1.0+local.build.7")),
        ("1.0+abc.01", Some("1.0+abc.1")),
        ("1.0-rc.1", Some("1.0rc1")),
        ("1.0.0-rc.1", Some("1.0.0rc1")),
        ("1.0.0-SNAPSHOT", None),
        ("1.0.0-rc.1.2", None),
        ("1.0+", None),
        ("1.0+a..b", None),
        ("1.0.", None),
        ("", None),
        ("1.0.0-dev.1", Some("1.0.0.dev1")),
        ("1.0-1-1", None),
        ("1.0a--1", Some("1.0a0.post1")),
    ];

    #[test]
    fn normal_forms_are_packagings() {
        for (spelling, expected) in NORMAL_FORMS {
            assert_eq!(
                Pep440Version::parse(spelling)
                    .map(|v| v.to_string())
                    .as_deref(),
                *expected,
                "{spelling:?}"
            );
        }
    }

    #[test]
    fn equal_by_value_as_packaging_compares() {
        let v = |s: &str| Pep440Version::parse(s).unwrap();
        for (a, b) in [
            ("1.0.0-rc1", "1.0.0rc1"),
            ("1.0.0RC1", "1.0.0.rc1"),
            ("1.0", "1.0.0"),
            ("1.0.0.0", "1"),
            ("1.0+abc.01", "1.0+ABC-1"),
            ("0!1.0", "1.0"),
        ] {
            assert_eq!(v(a), v(b), "{a} == {b}");
        }
        for (a, b) in [
            ("1.0.0rc1", "1.0.0rc2"),
            ("1.0.0rc1", "1.0.0"),
            ("1.0", "1.0.post0"),
            ("1.0", "1.0+local"),
            ("1!1.0", "1.0"),
            ("1.0.dev0", "1.0"),
        ] {
            assert_ne!(v(a), v(b), "{a} != {b}");
        }
    }
}
