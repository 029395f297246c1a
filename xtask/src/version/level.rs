//! The next version from a level (`patch`, `minor`, `rc`, ...) or an explicit
//! version. Levels mean what they mean in cargo-release: on a pre-release,
//! `patch` / `release` finish it (`1.2.4-rc.2` -> `1.2.4`), `minor` finishes
//! `1.3.0-rc.1` but moves `1.2.4-rc.2` on to `1.3.0`. Pre-release levels step
//! within `alpha < beta < rc` and never backwards.

use std::fmt;

use anyhow::{bail, Result};
use semver::{Prerelease, Version};

use super::pep440::{pre_release, PreKind};

/// What the user asked to release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Level(Level),
    Exact(Version),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Major,
    Minor,
    Patch,
    /// Finish the current pre-release.
    Release,
    Pre(PreKind),
    /// The version the files already hold (a first release of an existing
    /// project, or a bump made by hand); it must be above the last release.
    Current,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Major => "major",
            Level::Minor => "minor",
            Level::Patch => "patch",
            Level::Release => "release",
            Level::Current => "current",
            Level::Pre(kind) => kind.semver_name(),
        })
    }
}

impl Target {
    pub fn parse(text: &str) -> Result<Target> {
        let level = match text {
            "major" => Level::Major,
            "minor" => Level::Minor,
            "patch" => Level::Patch,
            "release" => Level::Release,
            "current" => Level::Current,
            "alpha" => Level::Pre(PreKind::Alpha),
            "beta" => Level::Pre(PreKind::Beta),
            "rc" => Level::Pre(PreKind::Rc),
            _ => {
                let bare = text.strip_prefix('v').unwrap_or(text);
                return match Version::parse(bare) {
                    Ok(version) => Ok(Target::Exact(version)),
                    Err(err) => bail!(
                        "`{text}` is neither a level (major, minor, patch, release, current, alpha, beta, rc) \
                         nor a SemVer version: {err}"
                    ),
                };
            }
        };
        Ok(Target::Level(level))
    }
}

/// The version after `current` for `target`, with `pre` asking for a
/// pre-release of the level's version. Always greater than `current`.
pub fn next_version(current: &Version, target: &Target, pre: Option<PreKind>) -> Result<Version> {
    let next = match (target, pre) {
        (Target::Level(Level::Current), None) => return Ok(current.clone()),
        (Target::Level(Level::Current), Some(_)) => {
            bail!("`current` releases the version the files hold; it takes no --pre")
        }
        (Target::Exact(_), Some(_)) => {
            bail!("--pre goes with a level, not with an explicit version")
        }
        (Target::Level(Level::Pre(_)), Some(_)) => {
            bail!(
                "--pre goes with major, minor or patch; `{}` is already a pre-release level",
                target_name(target)
            )
        }
        (Target::Level(Level::Release), Some(_)) => {
            bail!("`release` finishes a pre-release; it takes no --pre")
        }
        (Target::Exact(version), None) => version.clone(),
        (Target::Level(Level::Pre(kind)), None) => pre_step(current, *kind)?,
        (Target::Level(level), None) => release_of(current, *level)?,
        (Target::Level(level), Some(kind)) => {
            let base = release_of(current, *level)?;
            if !current.pre.is_empty() && same_base(&base, current) {
                pre_step(current, kind)?
            } else {
                with_pre(base, kind, 1)
            }
        }
    };
    if next <= *current {
        bail!(
            "{next} is not greater than the current version {current} (SemVer precedence); \
             a release must move forward"
        );
    }
    Ok(next)
}

fn target_name(target: &Target) -> String {
    match target {
        Target::Level(level) => level.to_string(),
        Target::Exact(version) => version.to_string(),
    }
}

fn same_base(a: &Version, b: &Version) -> bool {
    (a.major, a.minor, a.patch) == (b.major, b.minor, b.patch)
}

fn with_pre(base: Version, kind: PreKind, n: u64) -> Version {
    let pre = Prerelease::new(&format!("{}.{n}", kind.semver_name())).expect("a valid pre-release");
    Version { pre, ..base }
}

/// The release version a level leads to from `current`.
fn release_of(current: &Version, level: Level) -> Result<Version> {
    let is_pre = !current.pre.is_empty();
    let (major, minor, patch) = (current.major, current.minor, current.patch);
    let (major, minor, patch) = match level {
        Level::Major if is_pre && minor == 0 && patch == 0 => (major, 0, 0),
        Level::Major => (major + 1, 0, 0),
        Level::Minor if is_pre && patch == 0 => (major, minor, 0),
        Level::Minor => (major, minor + 1, 0),
        Level::Patch | Level::Release if is_pre => (major, minor, patch),
        Level::Patch => (major, minor, patch + 1),
        Level::Release => bail!(
            "{current} is not a pre-release, so there is nothing to finish; use patch, minor or major"
        ),
        Level::Pre(_) | Level::Current => {
            unreachable!("pre-release levels are stepped by pre_step, current is current")
        }
    };
    Ok(Version::new(major, minor, patch))
}

/// `alpha.N` -> `alpha.N+1` / `beta.1` / `rc.1`; from a release, the next
/// patch's first pre-release.
fn pre_step(current: &Version, kind: PreKind) -> Result<Version> {
    let base = Version::new(current.major, current.minor, current.patch);
    match pre_release(current)? {
        None => Ok(with_pre(
            Version::new(current.major, current.minor, current.patch + 1),
            kind,
            1,
        )),
        Some((now, n)) if now == kind => Ok(with_pre(base, kind, n + 1)),
        Some((now, _)) if now < kind => Ok(with_pre(base, kind, 1)),
        Some((now, _)) => bail!(
            "{current} is already at {}; a {} would go backwards (alpha < beta < rc). \
             Use `{}` for the next {}, or `release` to finish it",
            now.semver_name(),
            kind.semver_name(),
            now.semver_name(),
            now.semver_name()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(current: &str, target: &str, pre: Option<PreKind>) -> Result<String> {
        let current = Version::parse(current).unwrap();
        next_version(&current, &Target::parse(target)?, pre).map(|v| v.to_string())
    }

    #[test]
    fn the_issue_table() {
        use PreKind::*;
        let cases: &[(&str, &str, Option<PreKind>, &str)] = &[
            ("1.2.3", "patch", None, "1.2.4"),
            ("1.2.3", "minor", None, "1.3.0"),
            ("1.2.3", "major", None, "2.0.0"),
            ("1.2.3", "rc", None, "1.2.4-rc.1"),
            ("1.2.3", "alpha", None, "1.2.4-alpha.1"),
            ("1.2.3", "beta", None, "1.2.4-beta.1"),
            ("1.2.3", "minor", Some(Rc), "1.3.0-rc.1"),
            ("1.2.4-rc.1", "rc", None, "1.2.4-rc.2"),
            ("1.2.4-alpha.2", "beta", None, "1.2.4-beta.1"),
            ("1.2.4-rc.2", "release", None, "1.2.4"),
            ("1.2.4-rc.2", "patch", None, "1.2.4"),
            ("1.2.4-rc.2", "minor", None, "1.3.0"),
        ];
        for (current, level, pre, expected) in cases {
            assert_eq!(
                next(current, level, *pre).unwrap(),
                *expected,
                "{current} {level} {pre:?}"
            );
        }
        let err = next("1.2.4-rc.2", "beta", None).unwrap_err().to_string();
        assert!(err.contains("would go backwards"), "{err}");
    }

    #[test]
    fn wider_cases() {
        use PreKind::*;
        let cases: &[(&str, &str, Option<PreKind>, &str)] = &[
            ("0.1.0", "minor", None, "0.2.0"),
            ("0.9.9", "major", None, "1.0.0"),
            ("1.3.0-rc.1", "minor", None, "1.3.0"),
            ("2.0.0-beta.3", "major", None, "2.0.0"),
            ("2.0.0-beta.3", "minor", None, "2.0.0"),
            ("2.1.0-beta.3", "major", None, "3.0.0"),
            ("1.2.3", "major", Some(Alpha), "2.0.0-alpha.1"),
            ("1.2.3", "patch", Some(Beta), "1.2.4-beta.1"),
            ("1.3.0-rc.1", "minor", Some(Rc), "1.3.0-rc.2"),
            ("1.3.0-alpha.4", "minor", Some(Rc), "1.3.0-rc.1"),
            ("1.2.4-rc.1", "minor", Some(Alpha), "1.3.0-alpha.1"),
            ("1.2.4-alpha.9", "alpha", None, "1.2.4-alpha.10"),
            ("1.2.4-alpha.2", "rc", None, "1.2.4-rc.1"),
            ("1.2.3", "1.4.0-rc.1", None, "1.4.0-rc.1"),
            ("1.2.3", "v2.0.0", None, "2.0.0"),
            ("1.2.3-rc.1", "1.2.3", None, "1.2.3"),
        ];
        for (current, level, pre, expected) in cases {
            assert_eq!(
                next(current, level, *pre).unwrap(),
                *expected,
                "{current} {level} {pre:?}"
            );
        }
    }

    #[test]
    fn refusals_say_why() {
        use PreKind::*;
        let cases: &[(&str, &str, Option<PreKind>, &str)] = &[
            (
                "1.2.3",
                "1.2.3",
                None,
                "not greater than the current version 1.2.3",
            ),
            ("1.2.3", "1.2.2", None, "not greater"),
            ("1.2.3", "1.2.3-rc.1", None, "not greater"),
            ("1.2.3", "release", None, "not a pre-release"),
            ("1.2.3", "release", Some(Rc), "takes no --pre"),
            ("1.2.3", "rc", Some(Rc), "already a pre-release level"),
            ("1.2.3", "2.0.0", Some(Rc), "not with an explicit version"),
            ("1.2.3", "bigger", None, "neither a level"),
            ("1.2.3", "1.3", None, "nor a SemVer version"),
            ("1.3.0-rc.2", "minor", Some(Beta), "would go backwards"),
            ("1.2.0-dev.1", "rc", None, "no PEP 440 equivalent"),
        ];
        for (current, level, pre, why) in cases {
            let err = next(current, level, *pre).unwrap_err().to_string();
            assert!(err.contains(why), "{current} {level} {pre:?}: {err}");
        }
    }
}
