//! Editing CHANGELOG.md for a release, in the project's style (Keep a
//! Changelog's by default).
//!
//! The lines a person wrote under `## [Unreleased]` are kept, bullets and
//! loose lines alike, and merged with the generated ones (no duplicates);
//! that section becomes the release's (`## [X.Y.Z] - YYYY-MM-DD`, or the
//! project's `changelog.heading`) beside a fresh, empty `## [Unreleased]`,
//! above the releases or (`unreleased = "bottom"`) below them; the compare
//! links are updated where headings link. Every other byte of the file is
//! kept, line endings included. A file that already has the version's
//! section is left as it is.

use semver::Version;

use super::section::{Entry, Section};
use crate::core::config::{ChangelogConfig, UnreleasedAt};

/// How a project writes its changelog.
pub struct Style<'a> {
    pub heading: &'a str,
    pub unreleased: UnreleasedAt,
    /// The release's tag, for `{tag}`.
    pub tag: &'a str,
}

impl<'a> Style<'a> {
    pub fn of(config: &'a ChangelogConfig, tag: &'a str) -> Style<'a> {
        Style {
            heading: &config.heading,
            unreleased: config.unreleased,
            tag,
        }
    }

    fn heading(&self, version: &Version, date: &str) -> String {
        crate::core::config::fill(
            self.heading,
            &[
                ("version", &version.to_string()),
                ("date", date),
                ("tag", self.tag),
            ],
        )
    }

    /// The start of `version`'s heading, up to its version (and a closing
    /// bracket): `## [0.2.0]`, `## Version 0.2.0`.
    fn prefix(&self, version: &Version) -> String {
        let (before, after) = self
            .heading
            .split_once("{version}")
            .unwrap_or((self.heading, ""));
        let close = after.chars().next().filter(|c| matches!(c, ']' | ')'));
        format!(
            "{before}{version}{}",
            close.map(String::from).unwrap_or_default()
        )
    }

    /// Whether a release heading links (`[X.Y.Z]`), so compare links apply.
    fn links(&self) -> bool {
        self.heading.contains("[{version}]")
    }
}

/// What the compare links need.
pub struct Links<'a> {
    pub slug: &'a str,
    pub tag: &'a str,
    pub previous_tag: Option<&'a str>,
}

/// The parts of the file around the `[Unreleased]` section.
struct Layout<'a> {
    /// Up to and including the `## [Unreleased]` heading line.
    head: &'a str,
    /// The section's body.
    body: &'a str,
    /// From the next `## ` heading or link definition on.
    tail: &'a str,
    eol: &'static str,
}

fn layout(text: &str) -> Layout<'_> {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut offset = 0;
    // Where the `## [Unreleased]` heading line ends.
    let mut heading_end: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end();
        if heading_end.is_none() && is_unreleased_heading(bare) {
            heading_end = Some(offset + line.len());
        } else if let Some(end) = heading_end {
            if bare.starts_with("## ") || is_link_definition(bare) {
                return Layout {
                    head: &text[..end],
                    body: &text[end..offset],
                    tail: &text[offset..],
                    eol,
                };
            }
        }
        offset += line.len();
    }
    match heading_end {
        Some(end) => Layout {
            head: &text[..end],
            body: &text[end..],
            tail: "",
            eol,
        },
        None => {
            // No [Unreleased] yet: the release goes before the first version.
            let at = first_position(text, |l| l.starts_with("## ") || is_link_definition(l))
                .unwrap_or(text.len());
            Layout {
                head: &text[..at],
                body: "",
                tail: &text[at..],
                eol,
            }
        }
    }
}

fn first_position(text: &str, test: impl Fn(&str) -> bool) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if test(line.trim_end()) {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

fn is_unreleased_heading(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower == "## [unreleased]" || lower == "## unreleased"
}

fn is_link_definition(line: &str) -> bool {
    line.starts_with('[') && line.contains("]: ")
}

/// The entries a person wrote under `## [Unreleased]`, verbatim.
pub fn unreleased(text: &str) -> Section {
    let body = layout(text).body;
    let mut section = Section::default();
    let mut entry: Option<String> = None;
    let flush = |section: &mut Section, current: &Option<String>, entry: &mut Option<String>| {
        if let (Some(name), Some(text)) = (current, entry.take()) {
            section.push(
                name,
                Entry {
                    text: text.trim_end().to_owned(),
                    breaking: text.contains("**BREAKING**"),
                    hash: String::new(),
                    verbatim: false,
                },
            );
        }
    };
    // Lines before any `###` heading belong to the unnamed group.
    let mut current = Some(String::new());
    for line in body.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(name) = line.strip_prefix("### ") {
            flush(&mut section, &current, &mut entry);
            current = Some(name.trim().to_owned());
        } else if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            flush(&mut section, &current, &mut entry);
            entry = Some(item.to_owned());
        } else if entry.is_none() && !line.trim().is_empty() {
            // A loose line, not a bullet: kept as written.
            if let Some(name) = &current {
                section.push(
                    name,
                    Entry {
                        text: line.to_owned(),
                        breaking: line.contains("**BREAKING**"),
                        hash: String::new(),
                        verbatim: true,
                    },
                );
            }
        } else if let (Some(text), false) = (entry.as_mut(), line.trim().is_empty()) {
            // A wrapped entry keeps its continuation lines as written.
            text.push('\n');
            text.push_str(line);
        } else if line.trim().is_empty() {
            flush(&mut section, &current, &mut entry);
        }
    }
    flush(&mut section, &current, &mut entry);
    section
}

/// Hand-written entries first, then generated ones that say something new.
pub fn merge(hand: Section, generated: Section, order: &[String]) -> Section {
    let known: Vec<String> = hand
        .groups
        .iter()
        .flat_map(|(_, e)| e.iter().map(|e| e.text.clone()))
        .collect();
    let mut merged = hand;
    for (name, entries) in generated.groups {
        for entry in entries {
            let short = &entry.hash[..entry.hash.len().min(7)];
            let duplicate = known.iter().any(|k| {
                (!short.is_empty() && k.contains(short)) || *k == without_link(&entry.text)
            });
            if !duplicate {
                merged.push(&name, entry);
            }
        }
    }
    merged.sort(order);
    merged
}

/// An entry's text without its trailing commit reference.
fn without_link(text: &str) -> &str {
    match text.rfind(" (") {
        Some(at) if text.ends_with(')') => &text[..at],
        _ => text,
    }
}

/// The file with `section` released as `version` on `date`, in `style`;
/// `None` when the file already has that version's section.
pub fn release(
    text: &str,
    version: &Version,
    date: &str,
    section: &Section,
    links: Option<&Links>,
    style: &Style,
) -> Option<String> {
    let already = style.prefix(version);
    if text.lines().any(|l| {
        let l = l.trim_end();
        // `## [0.2.0] - ...`, `## [0.2.0](link) - ...`, `## Version 0.2.0`.
        l.strip_prefix(&already)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '(']))
    }) {
        return None;
    }
    let Layout {
        head, tail, eol, ..
    } = layout(text);
    let mut released = format!("{}{eol}{eol}", style.heading(version, date));
    if section.is_empty() {
        released.push_str(&format!("No notable changes.{eol}"));
    } else {
        released.push_str(&section.render(eol));
    }
    let links = links.filter(|_| style.links());
    let keeps_unreleased = style.unreleased != UnreleasedAt::None;
    let rest = update_links(tail, version, links, keeps_unreleased, eol);
    let mut out = String::with_capacity(text.len() + released.len() + 256);
    let has_heading = head.lines().any(|l| is_unreleased_heading(l.trim_end()));
    match style.unreleased {
        UnreleasedAt::Top | UnreleasedAt::None => {
            out.push_str(head);
            if !has_heading && keeps_unreleased {
                if !out.is_empty() && !out.ends_with(&format!("{eol}{eol}")) {
                    out.push_str(eol);
                }
                out.push_str(&format!("## [Unreleased]{eol}"));
            }
            // One blank line before the release's heading.
            if has_heading
                || keeps_unreleased
                || (!out.is_empty() && !out.ends_with(&format!("{eol}{eol}")))
            {
                out.push_str(eol);
            }
            out.push_str(&released);
        }
        UnreleasedAt::Bottom => {
            // The release goes where `[Unreleased]` was; it follows, empty.
            let (before, heading) = match has_heading {
                // No `[Unreleased]` yet: the release goes after the last
                // release, before the link definitions.
                false => {
                    let at = first_position(text, is_link_definition).unwrap_or(text.len());
                    let mut out = text[..at].to_owned();
                    if !out.is_empty() && !out.ends_with(&format!("{eol}{eol}")) {
                        out.push_str(eol);
                    }
                    out.push_str(&released);
                    out.push_str(&format!("{eol}## [Unreleased]{eol}"));
                    let rest = update_links(&text[at..], version, links, true, eol);
                    if !rest.is_empty() {
                        out.push_str(eol);
                    }
                    out.push_str(&rest);
                    return Some(out);
                }
                true => {
                    let start = head
                        .trim_end_matches(['\r', '\n'])
                        .rfind('\n')
                        .map_or(0, |i| i + 1);
                    (
                        &head[..start],
                        head[start..].trim_end_matches(['\r', '\n']).to_owned(),
                    )
                }
            };
            out.push_str(before);
            if !out.is_empty() && !out.ends_with(&format!("{eol}{eol}")) {
                out.push_str(eol);
            }
            out.push_str(&released);
            out.push_str(&format!("{eol}{heading}{eol}"));
        }
    }
    if !rest.is_empty() {
        out.push_str(eol);
    }
    out.push_str(&rest);
    Some(out)
}

/// The heading line of the highest version `text` records, as `heading`
/// (the project's template) writes them.
pub fn newest_release_heading(text: &str, heading: &str) -> Option<String> {
    let (before, after) = heading.split_once("{version}")?;
    let before = before.split("{date}").next().unwrap_or(before);
    let stop = after.chars().next();
    text.lines()
        .filter_map(|line| {
            let line = line.trim_end();
            let rest = line.strip_prefix(before)?;
            let end = stop.and_then(|c| rest.find(c)).unwrap_or(rest.len());
            let version = Version::parse(rest[..end].trim()).ok()?;
            Some((version, line.to_owned()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, line)| line)
}

/// `[Unreleased]` compares from the new tag; the new version gets its link.
fn update_links(
    tail: &str,
    version: &Version,
    links: Option<&Links>,
    keeps_unreleased: bool,
    eol: &str,
) -> String {
    let Some(links) = links else {
        return tail.to_owned();
    };
    let base = format!("https://github.com/{}", links.slug);
    let unreleased = match keeps_unreleased {
        true => format!("[Unreleased]: {base}/compare/{}...HEAD{eol}", links.tag),
        false => String::new(),
    };
    let released = match links.previous_tag {
        Some(previous) => format!(
            "[{version}]: {base}/compare/{previous}...{}{eol}",
            links.tag
        ),
        None => format!("[{version}]: {base}/releases/tag/{}{eol}", links.tag),
    };
    let mut out = String::with_capacity(tail.len() + 256);
    let mut replaced = false;
    for line in tail.split_inclusive('\n') {
        if !replaced && line.to_ascii_lowercase().starts_with("[unreleased]:") {
            out.push_str(&unreleased);
            out.push_str(&released);
            replaced = true;
        } else {
            out.push_str(line);
        }
    }
    if !replaced {
        // No links yet: they go at the very end, after a blank line.
        if !out.is_empty() {
            if !out.ends_with('\n') {
                out.push_str(eol);
            }
            out.push_str(eol);
        }
        out.push_str(&unreleased);
        out.push_str(&released);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn order() -> Vec<String> {
        crate::core::config::SECTIONS
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    pub(super) fn kac() -> Style<'static> {
        Style {
            heading: "## [{version}] - {date}",
            unreleased: UnreleasedAt::Top,
            tag: "v0.0.0",
        }
    }

    const FILE: &str = "# Changelog\n\nIntro text.\n\n## [Unreleased]\n\n### Added\n\n- A hand-written entry\n  that wraps.\n- feat one (hand copy)\n\n### Notes\n\n- Keep me.\n\n## [0.1.0] - 2026-01-01\n\n### Added\n\n- First.\n\n[Unreleased]: https://github.com/o/r/compare/v0.1.0...HEAD\n[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0\n";

    pub(super) fn generated() -> Section {
        let mut s = Section::default();
        s.push(
            "Added",
            Entry {
                text: "feat one (hand copy) ([abc1234](u))".into(),
                breaking: false,
                hash: "abc1234ffff".into(),
                verbatim: false,
            },
        );
        s.push(
            "Fixed",
            Entry {
                text: "a fix ([def5678](u))".into(),
                breaking: false,
                hash: "def5678ffff".into(),
                verbatim: false,
            },
        );
        s
    }

    #[test]
    fn releases_the_unreleased_section_keeping_everything_else() {
        let v = Version::new(0, 2, 0);
        let merged = merge(unreleased(FILE), generated(), &order());
        let links = Links {
            slug: "o/r",
            tag: "v0.2.0",
            previous_tag: Some("v0.1.0"),
        };
        let out = release(FILE, &v, "2026-11-21", &merged, Some(&links), &kac()).unwrap();
        let expected = "# Changelog\n\nIntro text.\n\n## [Unreleased]\n\n## [0.2.0] - 2026-11-21\n\n### Added\n\n- A hand-written entry\n  that wraps.\n- feat one (hand copy)\n\n### Fixed\n\n- a fix ([def5678](u))\n\n### Notes\n\n- Keep me.\n\n## [0.1.0] - 2026-01-01\n\n### Added\n\n- First.\n\n[Unreleased]: https://github.com/o/r/compare/v0.2.0...HEAD\n[0.2.0]: https://github.com/o/r/compare/v0.1.0...v0.2.0\n[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0\n";
        assert_eq!(out, expected);
        // A second run for the same version changes nothing.
        assert_eq!(
            release(&out, &v, "2026-11-22", &merged, Some(&links), &kac()),
            None
        );
    }

    #[test]
    fn crlf_files_stay_crlf_and_a_missing_unreleased_heading_is_added() {
        let text = "# Changelog\r\n\r\n## [0.1.0] - 2026-01-01\r\n\r\n- First.\r\n";
        let out = release(
            text,
            &Version::new(0, 1, 1),
            "2026-11-21",
            &generated(),
            None,
            &kac(),
        )
        .unwrap();
        assert_eq!(
            out,
            "# Changelog\r\n\r\n## [Unreleased]\r\n\r\n## [0.1.1] - 2026-11-21\r\n\r\n### Added\r\n\r\n- feat one (hand copy) ([abc1234](u))\r\n\r\n### Fixed\r\n\r\n- a fix ([def5678](u))\r\n\r\n## [0.1.0] - 2026-01-01\r\n\r\n- First.\r\n"
        );
    }
}

#[cfg(test)]
mod style_tests {
    use super::tests::{kac, order};
    use super::*;

    /// A models repository's changelog: oldest first, `[Unreleased]` at the
    /// bottom with loose lines under it and no `###` heading.
    #[test]
    fn unreleased_at_the_bottom_keeps_every_loose_line() {
        let text = "# Changelog\n\n## [0.1.0] - 2026-01-01\n\nFirst models.\n\n## [Unreleased]\n\nRetrained on the March data.\n- Faster calibration\n  over two lines.\nThreshold raised to 0.55\n";
        let style = Style {
            unreleased: UnreleasedAt::Bottom,
            ..kac()
        };
        let merged = merge(unreleased(text), Section::default(), &order());
        let out = release(
            text,
            &Version::new(0, 2, 0),
            "2026-11-30",
            &merged,
            None,
            &style,
        )
        .unwrap();
        assert_eq!(
            out,
            "# Changelog\n\n## [0.1.0] - 2026-01-01\n\nFirst models.\n\n## [0.2.0] - 2026-11-30\n\nRetrained on the March data.\n- Faster calibration\n  over two lines.\nThreshold raised to 0.55\n\n## [Unreleased]\n"
        );
        // Every hand-written line is still there.
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("## "))
        {
            assert!(out.contains(line), "lost {line:?}");
        }
        assert_eq!(
            release(
                &out,
                &Version::new(0, 2, 0),
                "2026-12-01",
                &merged,
                None,
                &style
            ),
            None
        );
    }

    /// Oldest first without an `[Unreleased]` heading yet: the release goes
    /// after the last one, then the heading, then the links.
    #[test]
    fn a_project_without_unreleased_gets_none() {
        let style = Style {
            unreleased: UnreleasedAt::None,
            heading: "## v{version} ({date})",
            tag: "v1.3.0",
        };
        let text = "# Changelog\n\n## v1.2.3 (2026-01-02)\n\n- Old\n";
        let out = release(
            text,
            &Version::new(1, 3, 0),
            "2026-02-01",
            &super::tests::generated(),
            None,
            &style,
        )
        .unwrap();
        assert!(!out.contains("Unreleased"), "{out}");
        assert!(
            out.starts_with("# Changelog\n\n## v1.3.0 (2026-02-01)\n\n### Added\n")
                && out.ends_with("## v1.2.3 (2026-01-02)\n\n- Old\n"),
            "{out}"
        );
    }

    #[test]
    fn bottom_without_an_unreleased_heading_appends_after_the_releases() {
        let text = "# Changelog\n\n## [0.1.0] - 2026-01-01\n\n- First\n";
        let style = Style {
            unreleased: UnreleasedAt::Bottom,
            ..kac()
        };
        let mut section = Section::default();
        section.push(
            "Fixed",
            Entry {
                text: "a fix".into(),
                breaking: false,
                hash: String::new(),
                verbatim: false,
            },
        );
        let out = release(
            text,
            &Version::new(0, 1, 1),
            "2026-11-30",
            &section,
            None,
            &style,
        )
        .unwrap();
        assert_eq!(
            out,
            "# Changelog\n\n## [0.1.0] - 2026-01-01\n\n- First\n\n## [0.1.1] - 2026-11-30\n\n### Fixed\n\n- a fix\n\n## [Unreleased]\n"
        );
    }

    /// A heading that links its version is found again: no second section.
    #[test]
    fn a_linked_heading_counts_as_released() {
        let style = Style {
            heading: "## [{version}](https://x/releases/tag/{tag}) - {date}",
            ..kac()
        };
        let text = "## [Unreleased]\n\n## [0.2.0](https://x/releases/tag/v0.2.0) - 2026-11-30\n";
        assert_eq!(
            release(
                text,
                &Version::new(0, 2, 0),
                "2026-12-01",
                &Section::default(),
                None,
                &style
            ),
            None
        );
    }

    /// `## Version X.Y.Z - YYYY-MM-DD` headings (no links to update).
    #[test]
    fn the_projects_heading_template() {
        let text = "# Changelog\n\n## [Unreleased]\n\n### Infrastructure\n\n- New runner\n\n## Version 0.3.0 - 2026-10-01\n\n- Old\n";
        let style = Style {
            heading: "## Version {version} - {date}",
            ..kac()
        };
        let mut order = order();
        order.push("Infrastructure".to_owned());
        let merged = merge(unreleased(text), Section::default(), &order);
        let links = Links {
            slug: "o/r",
            tag: "v0.4.0",
            previous_tag: Some("v0.3.0"),
        };
        let out = release(
            text,
            &Version::new(0, 4, 0),
            "2026-11-30",
            &merged,
            Some(&links),
            &style,
        )
        .unwrap();
        assert_eq!(
            out,
            "# Changelog\n\n## [Unreleased]\n\n## Version 0.4.0 - 2026-11-30\n\n### Infrastructure\n\n- New runner\n\n## Version 0.3.0 - 2026-10-01\n\n- Old\n"
        );
        assert_eq!(
            release(
                &out,
                &Version::new(0, 4, 0),
                "2026-12-01",
                &merged,
                None,
                &style
            ),
            None
        );
        assert_eq!(
            release(
                text,
                &Version::new(0, 3, 0),
                "2026-12-01",
                &merged,
                None,
                &style
            ),
            None
        );
    }
}

#[cfg(test)]
mod crlf_tests {
    use super::*;

    #[test]
    fn a_wrapped_hand_entry_in_a_crlf_file_keeps_crlf_endings() {
        let text = "# Changelog\r\n\r\n## [Unreleased]\r\n\r\n### Added\r\n\r\n- A long entry\r\n  wrapped here.\r\n";
        let merged = merge(unreleased(text), Section::default(), &super::tests::order());
        let out = release(
            text,
            &Version::new(1, 0, 0),
            "2026-11-21",
            &merged,
            None,
            &super::tests::kac(),
        )
        .unwrap();
        assert_eq!(
            out,
            "# Changelog\r\n\r\n## [Unreleased]\r\n\r\n## [1.0.0] - 2026-11-21\r\n\r\n### Added\r\n\r\n- A long entry\r\n  wrapped here.\r\n"
        );
        assert!(
            !out.replace("\r\n", "").contains('\n'),
            "a bare LF slipped in: {out:?}"
        );
    }
}
