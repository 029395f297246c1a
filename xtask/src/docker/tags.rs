//! Which tags an image gets for a version (after docker/metadata-action and
//! goreleaser, minus their known gap):
//! - `X.Y.Z` always, the full version, pre-release included;
//! - `X.Y`, `X` (never `0`) and `latest` only for a release that is the
//!   highest released version: a pre-release, or a patch on an older line
//!   (`1.1.5` after `1.2.0`), moves none of them;
//! - configured extra tags, with `{version}` and `{sha}` filled in.

use semver::Version;
use serde::Serialize;

use crate::version::released::is_highest;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tag {
    pub name: String,
    /// Moves from release to release (`latest`, `1.2`); `X.Y.Z` never does.
    pub moving: bool,
}

/// The tags of `version`, given every version released before (from the
/// repository's release tags; pre-releases are ignored there).
pub fn tags(
    version: &Version,
    released: &[Version],
    extra: &[String],
    short_sha: &str,
) -> Vec<Tag> {
    let mut tags = vec![Tag {
        name: version.to_string(),
        moving: false,
    }];
    if is_highest(version, released) {
        tags.push(Tag {
            name: format!("{}.{}", version.major, version.minor),
            moving: true,
        });
        if version.major > 0 {
            tags.push(Tag {
                name: version.major.to_string(),
                moving: true,
            });
        }
        tags.push(Tag {
            name: "latest".to_owned(),
            moving: true,
        });
    }
    for template in extra {
        let name = template
            .replace("{version}", &version.to_string())
            .replace("{sha}", short_sha);
        if !tags.iter().any(|t| t.name == name) {
            // An extra tag that names this version or commit never moves.
            let moving = !(template.contains("{version}") || template.contains("{sha}"));
            tags.push(Tag { name, moving });
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(version: &str, released: &[&str]) -> Vec<String> {
        let released: Vec<Version> = released
            .iter()
            .map(|v| Version::parse(v).unwrap())
            .collect();
        tags(&Version::parse(version).unwrap(), &released, &[], "abc1234")
            .into_iter()
            .map(|t| t.name)
            .collect()
    }

    #[test]
    fn the_issue_cases() {
        assert_eq!(
            names("0.3.0", &["0.1.0", "0.2.0"]),
            ["0.3.0", "0.3", "latest"]
        );
        assert_eq!(
            names("1.2.3", &["1.2.2", "1.1.0"]),
            ["1.2.3", "1.2", "1", "latest"]
        );
        assert_eq!(names("1.3.0-rc.1", &["1.2.3"]), ["1.3.0-rc.1"]);
        assert_eq!(names("1.1.5", &["1.1.4", "1.2.0"]), ["1.1.5"]);
    }

    #[test]
    fn more_cases() {
        assert_eq!(names("1.0.0", &[]), ["1.0.0", "1.0", "1", "latest"]);
        // A pre-release of a later version does not hold a release back.
        assert_eq!(
            names("1.2.0", &["1.1.0", "1.3.0-rc.1"]),
            ["1.2.0", "1.2", "1", "latest"]
        );
        // Re-running the release of the current highest version keeps its tags.
        assert_eq!(
            names("1.2.0", &["1.1.0", "1.2.0"]),
            ["1.2.0", "1.2", "1", "latest"]
        );
        assert_eq!(names("2.0.0-beta.2", &[]), ["2.0.0-beta.2"]);
    }

    #[test]
    fn extra_tags() {
        let extra = vec![
            "sha-{sha}".to_owned(),
            "edge".to_owned(),
            "{version}".to_owned(),
        ];
        let all = tags(&Version::new(1, 0, 0), &[], &extra, "abc1234");
        let sha = all.iter().find(|t| t.name == "sha-abc1234").unwrap();
        assert!(!sha.moving);
        assert!(all.iter().find(|t| t.name == "edge").unwrap().moving);
        assert_eq!(all.iter().filter(|t| t.name == "1.0.0").count(), 1);
    }
}
