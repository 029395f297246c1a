//! Which tags an image gets for a version (after docker/metadata-action and
//! goreleaser, minus their known gaps):
//! - `X.Y.Z` always, the full version, pre-release included, SemVer build
//!   metadata dropped (Docker tags cannot hold `+`; metadata-action drops it
//!   too);
//! - `X.Y` for a release that is the highest released `X.Y.*`, `X` (never
//!   `0`) for the highest released `X.*`, `latest` for the highest release of
//!   all: a hotfix on an older line (`1.4.3` after `2.1.0`) moves `1.4` and
//!   `1` when it leads them, never `latest` (metadata-action moves `latest`
//!   back there); a pre-release moves none of them;
//! - configured extra tags, with `{version}` (the tag's version) and `{sha}`.

use semver::{BuildMetadata, Version};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    /// Moves from release to release (`latest`, `1.2`); `X.Y.Z` never does.
    pub moving: bool,
}

record!(read write: Tag (Same) {
    name,
    moving,
});

/// `version` without build metadata: what its image tags and registry
/// references carry.
pub fn tag_version(version: &Version) -> Version {
    Version {
        build: BuildMetadata::EMPTY,
        ..version.clone()
    }
}

/// What the plan says when a version's build metadata does not reach its tags.
pub fn build_metadata_note(version: &Version) -> Option<String> {
    (!version.build.is_empty()).then(|| {
        format!(
            "build metadata `+{}` is dropped from the image tags (Docker tags cannot contain `+`): \
             {version} is tagged {}",
            version.build,
            tag_version(version)
        )
    })
}

/// Whether a version is above every other release of a line.
struct Leads<'a> {
    version: &'a Version,
    /// The other releases, pre-releases left out, as their tags name them.
    others: Vec<Version>,
}

impl<'a> Leads<'a> {
    fn new(version: &'a Version, released: &[Version]) -> Leads<'a> {
        let others = released
            .iter()
            .filter(|v| v.pre.is_empty())
            .map(tag_version)
            .filter(|v| v != version)
            .collect();
        Leads { version, others }
    }

    /// Above every other release that `same_line` keeps.
    fn over(&self, same_line: &dyn Fn(&Version) -> bool) -> bool {
        self.others
            .iter()
            .filter(|v| same_line(v))
            .all(|v| v < self.version)
    }
}

/// The tags `image` gets for `version`: its own `tags` templates, else the
/// default policy and its `extra-tags`.
pub fn for_image(
    image: &crate::core::config::DockerImage,
    version: &Version,
    released: &[Version],
    short_sha: &str,
) -> Vec<Tag> {
    match &image.tags {
        Some(templates) => templated(version, released, templates, short_sha),
        None => tags(version, released, &image.extra_tags, short_sha),
    }
}

/// The tags of `version` by the project's own `templates`: one that names
/// the version or the commit never moves; one with `{major}`/`{minor}` moves
/// along its line when this release leads it; a fixed name (`latest`,
/// `stable`) moves only to the highest release. A pre-release gets only
/// the tags that never move.
pub fn templated(
    version: &Version,
    released: &[Version],
    templates: &[String],
    short_sha: &str,
) -> Vec<Tag> {
    let version = tag_version(version);
    let leads = Leads::new(&version, released);
    let leads = |same_line: &dyn Fn(&Version) -> bool| leads.over(same_line);
    let mut tags: Vec<Tag> = Vec::new();
    for template in templates {
        let pinned = template.contains("{version}")
            || template.contains("{sha}")
            || template.contains("{patch}");
        let applies = pinned
            || version.pre.is_empty()
                && if template.contains("{minor}") {
                    leads(&|v| (v.major, v.minor) == (version.major, version.minor))
                } else if template.contains("{major}") {
                    leads(&|v| v.major == version.major)
                } else {
                    leads(&|_| true)
                };
        let name = crate::core::config::fill(
            template,
            &[
                ("version", &version.to_string()),
                ("major", &version.major.to_string()),
                ("minor", &version.minor.to_string()),
                ("patch", &version.patch.to_string()),
                ("sha", short_sha),
            ],
        );
        if applies && !tags.iter().any(|t| t.name == name) {
            tags.push(Tag {
                name,
                moving: !pinned,
            });
        }
    }
    tags
}

/// The tags of `version`, given every version released before (from the
/// repository's release tags; pre-releases are ignored there).
pub fn tags(
    version: &Version,
    released: &[Version],
    extra: &[String],
    short_sha: &str,
) -> Vec<Tag> {
    let version = tag_version(version);
    let mut tags = vec![Tag {
        name: version.to_string(),
        moving: false,
    }];
    if version.pre.is_empty() {
        let leads = Leads::new(&version, released);
        let leads = |same_line: &dyn Fn(&Version) -> bool| leads.over(same_line);
        if leads(&|v| (v.major, v.minor) == (version.major, version.minor)) {
            tags.push(Tag {
                name: format!("{}.{}", version.major, version.minor),
                moving: true,
            });
        }
        if version.major > 0 && leads(&|v| v.major == version.major) {
            tags.push(Tag {
                name: version.major.to_string(),
                moving: true,
            });
        }
        if leads(&|_| true) {
            tags.push(Tag {
                name: "latest".to_owned(),
                moving: true,
            });
        }
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

    #[test]
    fn a_projects_own_tag_set() {
        let v = |s: &str| Version::parse(s).unwrap();
        let names = |version: &str, released: &[&str]| -> Vec<String> {
            let released: Vec<Version> = released.iter().map(|r| v(r)).collect();
            let templates = [
                "v{version}".to_owned(),
                "latest".to_owned(),
                "{major}.{minor}".to_owned(),
            ];
            templated(&v(version), &released, &templates, "abc1234")
                .into_iter()
                .map(|t| t.name)
                .collect()
        };
        assert_eq!(names("1.3.0", &["1.2.0"]), ["v1.3.0", "latest", "1.3"]);
        // A hotfix on an older line moves its line, never `latest`.
        assert_eq!(names("1.2.1", &["1.2.0", "1.3.0"]), ["v1.2.1", "1.2"]);
        assert_eq!(names("2.0.0-rc.1", &["1.3.0"]), ["v2.0.0-rc.1"]);
    }

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

    /// Rows modelled on docker/metadata-action's `__tests__/meta.test.ts`
    /// (`type=semver` with `{{version}}`, `{{major}}.{{minor}}`, `{{major}}`
    /// and the default `latest=auto`), where it is right, then the rows where
    /// this policy is better on purpose (0.x, older lines).
    /// (version, released before, expected tags)
    const TABLE: &[(&str, &[&str], &[&str])] = &[
        // tag11 (v1.1.1): version, major.minor, major, latest.
        ("1.1.1", &[], &["1.1.1", "1.1", "1", "latest"]),
        // tag13 (v2.0.8-beta.67): a pre-release gets only its version, no latest.
        ("2.0.8-beta.67", &[], &["2.0.8-beta.67"]),
        // event_tag_v101.12.13.
        ("101.12.13", &[], &["101.12.13", "101.12", "101", "latest"]),
        // event_tag_v9.5.7-alpha.2+fork.3.1.8: build metadata is dropped.
        ("9.5.7-alpha.2+fork.3.1.8", &[], &["9.5.7-alpha.2"]),
        (
            "1.2.3+build.5",
            &["1.2.2"],
            &["1.2.3", "1.2", "1", "latest"],
        ),
        // metadata-action writes `0` for 0.x; a `0` tag promises nothing.
        ("0.3.0", &["0.1.0", "0.2.0"], &["0.3.0", "0.3", "latest"]),
        (
            "1.2.3",
            &["1.2.2", "1.1.0"],
            &["1.2.3", "1.2", "1", "latest"],
        ),
        ("1.3.0-rc.1", &["1.2.3"], &["1.3.0-rc.1"]),
        ("1.0.0", &[], &["1.0.0", "1.0", "1", "latest"]),
        // A pre-release of a later version does not hold a release back.
        (
            "1.2.0",
            &["1.1.0", "1.3.0-rc.1"],
            &["1.2.0", "1.2", "1", "latest"],
        ),
        // Re-running the release of the current highest version keeps its tags.
        (
            "1.2.0",
            &["1.1.0", "1.2.0"],
            &["1.2.0", "1.2", "1", "latest"],
        ),
        ("2.0.0-beta.2", &[], &["2.0.0-beta.2"]),
        // Hotfixes on older lines: their own line's tags, never latest
        // (metadata-action would move latest back to them).
        (
            "1.4.3",
            &["1.4.2", "2.0.0", "2.1.0"],
            &["1.4.3", "1.4", "1"],
        ),
        ("1.4.3", &["1.4.2", "1.5.0", "2.1.0"], &["1.4.3", "1.4"]),
        ("1.1.5", &["1.1.4", "1.2.0"], &["1.1.5", "1.1"]),
        ("0.9.4", &["0.9.3", "1.0.0"], &["0.9.4", "0.9"]),
        // Below a later patch of its own line: moves nothing.
        ("1.4.3", &["1.4.4", "2.1.0"], &["1.4.3"]),
        // Re-run of a hotfix that already leads its line.
        ("1.4.3", &["1.4.3", "2.1.0"], &["1.4.3", "1.4", "1"]),
        // Build metadata never makes a version "newer" than its release.
        ("1.4.3+hotfix", &["1.4.3", "2.1.0"], &["1.4.3", "1.4", "1"]),
        ("1.4.3", &["1.4.3+b.1", "2.1.0"], &["1.4.3", "1.4", "1"]),
    ];

    #[test]
    fn the_tag_table() {
        for (version, released, expected) in TABLE {
            assert_eq!(
                names(version, released),
                *expected,
                "{version} after {released:?}"
            );
        }
    }

    #[test]
    fn no_tag_holds_a_plus() {
        for (version, released, _) in TABLE {
            for name in names(version, released) {
                assert!(!name.contains('+'), "{version}: {name}");
            }
        }
        let note = build_metadata_note(&Version::parse("1.2.3+build.5").unwrap()).unwrap();
        assert!(note.contains("`+build.5` is dropped"), "{note}");
        assert!(note.ends_with("tagged 1.2.3"), "{note}");
        assert_eq!(build_metadata_note(&Version::new(1, 2, 3)), None);
    }

    #[test]
    fn extra_tags() {
        let extra = vec![
            "sha-{sha}".to_owned(),
            "edge".to_owned(),
            "{version}".to_owned(),
            "v{version}".to_owned(),
        ];
        let version = Version::parse("1.0.0+build.7").unwrap();
        let all = tags(&version, &[], &extra, "abc1234");
        let sha = all.iter().find(|t| t.name == "sha-abc1234").unwrap();
        assert!(!sha.moving);
        assert!(all.iter().find(|t| t.name == "edge").unwrap().moving);
        assert_eq!(all.iter().filter(|t| t.name == "1.0.0").count(), 1);
        assert!(all.iter().any(|t| t.name == "v1.0.0"));
    }
}
