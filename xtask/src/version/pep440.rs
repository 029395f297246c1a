//! SemVer to PEP 440, for the Python package.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum PreKind {
    Alpha,
    Beta,
    Rc,
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
}
