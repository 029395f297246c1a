//! Commits grouped into Keep a Changelog sections, and the level they call for.

use semver::Version;

use super::commits::{parse, Commit, Kind};
use crate::core::config::ChangelogConfig;
use crate::version::level::Level;

/// One bullet of a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The markdown after `- `.
    pub text: String,
    pub breaking: bool,
    /// Full commit hash; empty for an entry a person wrote.
    pub hash: String,
    /// A line a person wrote that is not a `- ` bullet: written back as is.
    pub verbatim: bool,
}

record!(read write: Entry (Same) {
    text,
    breaking,
    hash = Default::default() ; skip_if String::is_empty,
    verbatim = Default::default() ; skip_if std::ops::Not::not,
});

/// The sections of one release, in Keep a Changelog order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    pub groups: Vec<(String, Vec<Entry>)>,
}

record!(read write: Section (Same) {
    groups,
});

impl Section {
    /// Adds one commit (they arrive newest first, as `git log` gives them);
    /// commits the changelog does not list are dropped on the spot, so memory
    /// holds only what will be printed. Call [`Section::finish`] after the last.
    pub fn add_commit(&mut self, commit: &Commit, config: &ChangelogConfig, slug: Option<&str>) {
        if let Some(name) = section_of(commit, config) {
            self.push(name, entry(commit, slug));
        }
    }

    /// Oldest first within each group, then [`Section::sort`].
    pub fn finish(&mut self, order: &[String]) {
        for (_, entries) in &mut self.groups {
            entries.reverse();
        }
        self.sort(order);
    }

    pub fn push(&mut self, name: &str, entry: Entry) {
        match self.groups.iter_mut().find(|(n, _)| n == name) {
            Some((_, entries)) => entries.push(entry),
            None => self.groups.push((name.to_owned(), vec![entry])),
        }
    }

    /// Hand-written lines under no heading first, then the configured
    /// order (Keep a Changelog's by default), others after; breaking
    /// entries first in each.
    pub fn sort(&mut self, order: &[String]) {
        let rank = |name: &str| match name {
            "" => 0,
            name => 1 + order.iter().position(|s| s == name).unwrap_or(order.len()),
        };
        self.groups.sort_by_key(|(name, _)| rank(name));
        for (_, entries) in &mut self.groups {
            entries.sort_by_key(|e| !e.breaking);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.iter().all(|(_, entries)| entries.is_empty())
    }

    /// The section's lines, without line endings, one at a time: `### Added`,
    /// ``, `- entry`, wrapped entries' continuation lines as written, ...
    pub fn for_each_line(&self, mut line: impl FnMut(&str)) {
        let mut first = true;
        for (name, entries) in self.groups.iter().filter(|(_, e)| !e.is_empty()) {
            if !first {
                line("");
            }
            first = false;
            // Lines a person wrote under no heading stay under none.
            if !name.is_empty() {
                line(&format!("### {name}"));
                line("");
            }
            for entry in entries {
                let mut parts = entry.text.split('\n');
                let first = parts.next().unwrap_or_default();
                match entry.verbatim {
                    true => line(first),
                    false => line(&format!("- {first}")),
                }
                parts.for_each(&mut line);
            }
        }
    }

    /// The whole section with `eol` line endings.
    pub fn render(&self, eol: &str) -> String {
        let mut out = String::new();
        self.for_each_line(|l| {
            out.push_str(l);
            out.push_str(eol);
        });
        out
    }
}

fn entry(commit: &Commit, slug: Option<&str>) -> Entry {
    let mut text = String::new();
    if commit.breaking.is_some() {
        text.push_str("**BREAKING** ");
    }
    if let Some(scope) = &commit.scope {
        text.push_str(&format!("**{scope}:** "));
    }
    text.push_str(&commit.description);
    if let Some(note) = commit
        .breaking
        .as_deref()
        .filter(|n| !n.is_empty() && *n != commit.description)
    {
        // A multi-line note continues the bullet: its lines are indented.
        let note = note.replace('\n', "\n  ");
        text.push_str(&format!(" (BREAKING CHANGE: {note})"));
    }
    let short = &commit.hash[..commit.hash.len().min(7)];
    match slug {
        Some(slug) => text.push_str(&format!(
            " ([{short}](https://github.com/{slug}/commit/{}))",
            commit.hash
        )),
        None => text.push_str(&format!(" ({short})")),
    }
    text.shrink_to_fit();
    Entry {
        verbatim: false,
        text,
        breaking: commit.breaking.is_some(),
        hash: commit.hash.clone(),
    }
}

/// The section a commit is listed under, `None` when it is left out.
pub fn section_of<'c>(commit: &Commit, config: &'c ChangelogConfig) -> Option<&'c str> {
    // Reverting a commit the changelog never listed (a chore, a docs change)
    // changes nothing a reader saw, so it is not listed either.
    if let Some(reverted) = &commit.reverted {
        let original = parse(&commit.hash, reverted, "");
        if commit.breaking.is_none() && section_of(&original, config).is_none() {
            return None;
        }
    }
    match &commit.kind {
        Kind::Typed(kind) => match config.sections.get(kind) {
            Some(name) => Some(name.as_str()),
            // Unlisted types (docs, chore, ci, ...) matter only when breaking.
            None if commit.breaking.is_some() => Some("Changed"),
            None => None,
        },
        Kind::Other if commit.breaking.is_some() => Some("Changed"),
        Kind::Other => config.other_section.as_deref(),
    }
}

/// Commitizen's patch types (its default `bump_map`): `fix`, `perf`,
/// `refactor`. The Conventional Commits spec itself names only `fix`.
pub const PATCH_TYPES: &[&str] = &["fix", "perf", "refactor"];

/// What the level of a release depends on, counted while the commits stream by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub commits: usize,
    pub breaking: bool,
    pub feature: bool,
    /// A `fix`, `perf` or `refactor` commit.
    pub patch: bool,
}

impl Tally {
    pub fn add(&mut self, commit: &Commit) {
        self.commits += 1;
        self.breaking |= commit.breaking.is_some();
        if let Kind::Typed(kind) = &commit.kind {
            if commit.reverted.is_none() {
                self.feature |= kind == "feat";
                self.patch |= PATCH_TYPES.contains(&kind.as_str());
            }
        }
    }
}

/// `bump auto`: breaking -> major (minor while 0.x), a feature -> minor, a
/// `fix`, `perf` or `refactor` -> patch; `None` when there is nothing to
/// release, as commitizen and python-semantic-release decide. With
/// `patch_for_any_commit`, any commit calls for at least a patch.
pub fn auto_level(tally: &Tally, current: &Version, patch_for_any_commit: bool) -> Option<Level> {
    match (tally.breaking, tally.feature, tally.patch) {
        (true, _, _) if current.major == 0 => Some(Level::Minor),
        (true, _, _) => Some(Level::Major),
        (false, true, _) => Some(Level::Minor),
        (false, false, true) => Some(Level::Patch),
        _ if patch_for_any_commit && tally.commits > 0 => Some(Level::Patch),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commits(subjects: &[&str]) -> Vec<Commit> {
        // git log order: newest first.
        subjects
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| parse(&format!("{i:07}abcdef"), s, ""))
            .collect()
    }
    fn section(commits: &[Commit], config: &ChangelogConfig, slug: Option<&str>) -> Section {
        let mut section = Section::default();
        for commit in commits {
            section.add_commit(commit, config, slug);
        }
        section.finish(&config.section_order);
        section
    }

    fn tally(commits: &[Commit]) -> Tally {
        let mut tally = Tally::default();
        commits.iter().for_each(|c| tally.add(c));
        tally
    }

    #[test]
    fn groups_in_keep_a_changelog_order_with_breaking_first() {
        let list = commits(&[
            "fix(checksums): escape CR",
            "feat: add HEF compile",
            "docs: explain the flow",
            "feat(api)!: drop v1 config",
            "Update README",
            "perf: hash on every core",
            "chore(release): v0.1.0",
        ]);
        let section = section(&list, &ChangelogConfig::default(), Some("o/r"));
        let names: Vec<&str> = section.groups.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Added", "Changed", "Fixed"]);
        let added = &section.groups[0].1;
        assert!(added[0].text.starts_with("**BREAKING** **api:** drop v1 config ([0000003](https://github.com/o/r/commit/0000003abcdef))"), "{added:?}");
        assert!(added[1].text.starts_with("add HEF compile"));
        let count: usize = section.groups.iter().map(|(_, e)| e.len()).sum();
        assert_eq!(
            count, 4,
            "docs, chore and non-conventional commits are left out"
        );
        let text = section.render("\n");
        assert!(
            text.starts_with("### Added\n\n- **BREAKING** **api:**"),
            "{text}"
        );
        assert!(
            text.contains("\n\n### Changed\n\n- hash on every core"),
            "{text}"
        );
    }

    #[test]
    fn other_commits_can_be_kept_and_unlisted_breaking_types_are() {
        let config = ChangelogConfig {
            other_section: Some("Changed".to_owned()),
            ..ChangelogConfig::default()
        };
        let section = section(
            &commits(&["Update README", "ci!: require the new runner"]),
            &config,
            None,
        );
        assert_eq!(section.groups.len(), 1);
        assert_eq!(section.groups[0].0, "Changed");
        assert_eq!(
            section.groups[0].1[0].text,
            "**BREAKING** require the new runner (0000001)"
        );
        assert_eq!(section.groups[0].1[1].text, "Update README (0000000)");
    }

    #[test]
    fn a_revert_is_listed_only_when_what_it_reverts_was() {
        let config = ChangelogConfig::default();
        // (subject, listed under)
        let cases: &[(&str, Option<&str>)] = &[
            ("Revert \"feat: add HEF compile\"", Some("Removed")),
            ("Revert \"fix(x): y\"", Some("Removed")),
            ("Revert \"chore: bump deps\"", None),
            ("Revert \"docs: typo\"", None),
            ("Revert \"Update README\"", None),
            ("Revert \"ci!: new runner\"", Some("Removed")),
            ("revert: undo the thing", Some("Removed")),
        ];
        for (subject, expected) in cases {
            let commit = parse("abcdef1", subject, "");
            assert_eq!(section_of(&commit, &config), *expected, "{subject}");
        }
        let kept = ChangelogConfig {
            other_section: Some("Changed".to_owned()),
            ..ChangelogConfig::default()
        };
        let commit = parse("abcdef1", "Revert \"Update README\"", "");
        assert_eq!(section_of(&commit, &kept), Some("Removed"));
    }

    #[test]
    fn auto_levels() {
        let v = |s: &str| Version::parse(s).unwrap();
        let level = |subjects: &[&str], current: &str, any: bool| {
            auto_level(&tally(&commits(subjects)), &v(current), any)
        };
        // (subjects, current, patch-for-any-commit, level)
        let cases: &[(&[&str], &str, bool, Option<Level>)] = &[
            (&["fix: a", "feat!: b"], "1.2.3", false, Some(Level::Major)),
            (&["fix: a", "feat!: b"], "0.4.0", false, Some(Level::Minor)),
            (&["fix: a", "feat: b"], "1.2.3", false, Some(Level::Minor)),
            (
                &["fix: a", "docs: b", "Update"],
                "1.2.3",
                false,
                Some(Level::Patch),
            ),
            (&["perf: a"], "1.2.3", false, Some(Level::Patch)),
            (&["refactor(x): a"], "1.2.3", false, Some(Level::Patch)),
            (
                &["docs: a", "chore: b", "ci: c", "Update"],
                "1.2.3",
                false,
                None,
            ),
            (
                &["docs: a", "chore: b", "ci: c", "Update"],
                "1.2.3",
                true,
                Some(Level::Patch),
            ),
            (&["Revert \"feat: a\""], "1.2.3", false, None),
            (&["Revert \"fix: a\""], "1.2.3", true, Some(Level::Patch)),
            (
                &["chore!: drop python 3.9"],
                "1.2.3",
                false,
                Some(Level::Major),
            ),
            (&[], "1.2.3", false, None),
            (&[], "1.2.3", true, None),
        ];
        for (subjects, current, any, expected) in cases {
            assert_eq!(
                level(subjects, current, *any),
                *expected,
                "{subjects:?} {any}"
            );
        }
        let footer = vec![parse("abcdef1", "perf: x", "BREAKING CHANGE: y")];
        assert_eq!(
            auto_level(&tally(&footer), &v("2.0.0"), false),
            Some(Level::Major)
        );
    }
}
