//! The commits of a release: everything since the previous release tag,
//! read with one streaming `git log` and parsed as conventional commits.
//!
//! `type(scope)!: description`, `BREAKING CHANGE:` / `BREAKING-CHANGE:`
//! footers (their value runs over the following lines up to the next footer
//! token, as the spec says), git's `Revert "..."` subjects; a merge commit
//! counts only when its own message is conventional (`feat!: ...`), since a
//! plain `Merge branch ...` repeats what it merges; anything else is "other".

use anyhow::{bail, Result};
use semver::Version;

use crate::core::config::ReleaseConfig;
use crate::core::runner::Runner;
use crate::tools::git::Git;

/// What a commit says it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A conventional commit's type, lower case (`feat`, `fix`, `revert`, ...).
    Typed(String),
    /// Not a conventional commit.
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    pub hash: String,
    pub kind: Kind,
    pub scope: Option<String>,
    pub description: String,
    /// `Some` for a breaking change: the footer's text, or empty for `!`.
    pub breaking: Option<String>,
    /// For git's `Revert "SUBJECT"`: the reverted commit's subject.
    pub reverted: Option<String>,
    /// A merge commit (more than one parent).
    pub merge: bool,
}

/// The release tag before HEAD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousTag {
    pub tag: String,
    pub version: Version,
}

/// The highest SemVer release tag (by `tag-name`) merged into HEAD: on a
/// hotfix branch that is the line's last release, not main's.
pub fn previous_tag(config: &ReleaseConfig, runner: &Runner) -> Result<Option<PreviousTag>> {
    let tags = runner.read(&Git::here().merged_tags(&config.tag_for(&"*")))?;
    Ok(tags
        .lines()
        .filter_map(|tag| {
            let version = config.version_in_tag(tag)?;
            Some(PreviousTag {
                tag: tag.to_owned(),
                version: Version::parse(version).ok()?,
            })
        })
        .max_by(|a, b| a.version.cmp(&b.version)))
}

/// Every commit after the revision `since` (all history when `None`) that touches the
/// configured paths, newest first, streamed to `each`; merge commits only
/// when their own subject is conventional.
pub fn for_each_commit(
    config: &ReleaseConfig,
    since: Option<&str>,
    runner: &Runner,
    mut each: impl FnMut(Commit),
) -> Result<()> {
    let range = match since {
        Some(since) => format!("{since}..HEAD"),
        None => "HEAD".to_owned(),
    };
    let log = Git::here().log_records(&range, &config.changelog.paths);
    runner.for_each_record(&log, 0, |record| {
        let text = String::from_utf8_lossy(record);
        let mut fields = text.splitn(4, '\u{1f}');
        let (Some(hash), Some(parents), Some(subject)) =
            (fields.next(), fields.next(), fields.next())
        else {
            bail!("unexpected `git log` record: {text:?}");
        };
        let subject = without_prefix(&config.changelog.commit_prefixes, subject);
        let mut commit = parse(hash.trim(), subject, fields.next().unwrap_or(""));
        commit.merge = parents.split_whitespace().count() > 1;
        if !commit.merge || matches!(commit.kind, Kind::Typed(_)) && commit.reverted.is_none() {
            each(commit);
        }
        Ok(())
    })
}

/// The value of a `BREAKING CHANGE:` / `BREAKING-CHANGE:` footer: its first
/// line and every following line up to the next footer token (`Token: ` or
/// `Token #`) or the end, blank lines dropped, joined with newlines.
fn breaking_footer(body: &str) -> Option<String> {
    let mut lines = body.lines();
    let first = lines.find_map(|line| {
        line.strip_prefix("BREAKING CHANGE:")
            .or_else(|| line.strip_prefix("BREAKING-CHANGE:"))
    })?;
    let mut value = vec![first.trim()];
    value.extend(
        lines
            .take_while(|line| !is_footer_start(line))
            .map(str::trim)
            .filter(|line| !line.is_empty()),
    );
    let value: Vec<&str> = value.into_iter().filter(|l| !l.is_empty()).collect();
    Some(value.join("\n"))
}

/// A line that starts a footer: `Token: value`, `Token #value` (a token is
/// a word of letters, digits and `-`), or `BREAKING CHANGE: value`.
fn is_footer_start(line: &str) -> bool {
    if line.starts_with("BREAKING CHANGE:") {
        return true;
    }
    let token_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(line.len());
    token_end > 0 && (line[token_end..].starts_with(": ") || line[token_end..].starts_with(" #"))
}

/// One commit from its hash, subject line and body.
pub fn parse(hash: &str, subject: &str, body: &str) -> Commit {
    let footer = breaking_footer(body);
    if let Some(reverted) = subject
        .strip_prefix("Revert \"")
        .and_then(|s| s.strip_suffix('"'))
    {
        return Commit {
            hash: hash.to_owned(),
            kind: Kind::Typed("revert".to_owned()),
            scope: None,
            description: reverted.to_owned(),
            breaking: footer,
            reverted: Some(reverted.to_owned()),
            merge: false,
        };
    }
    match conventional(subject).or_else(|| conventional(without_gitmoji(subject)?)) {
        Some((kind, scope, bang, description)) => Commit {
            hash: hash.to_owned(),
            kind: Kind::Typed(kind.to_ascii_lowercase()),
            scope: scope.map(str::to_owned),
            description: description.to_owned(),
            breaking: footer.or_else(|| bang.then(String::new)),
            reverted: None,
            merge: false,
        },
        None => Commit {
            hash: hash.to_owned(),
            kind: Kind::Other,
            scope: None,
            description: subject.trim().to_owned(),
            breaking: footer,
            reverted: None,
            merge: false,
        },
    }
}

/// The subject after the first of `prefixes` it starts with (a ticket id
/// before the conventional type), when what follows is conventional; else
/// the subject as it is.
pub fn without_prefix<'s>(prefixes: &[String], subject: &'s str) -> &'s str {
    let conventional_rest = |rest: &str| {
        conventional(rest).is_some() || without_gitmoji(rest).and_then(conventional).is_some()
    };
    // The ticket id first, or after a gitmoji (`🐛 [ML-50] fix: ...`).
    let starts = [Some(subject), without_gitmoji(subject)];
    starts
        .into_iter()
        .flatten()
        .flat_map(|text| {
            prefixes.iter().filter_map(move |p| {
                (1..=text.len())
                    .filter(|&end| text.is_char_boundary(end))
                    .find(|&end| prefix_matches(p.as_bytes(), &text.as_bytes()[..end]))
                    .map(|end| text[end..].trim_start())
            })
        })
        .find(|rest| conventional_rest(rest))
        .unwrap_or(subject)
}

/// Whether `text` is exactly `pattern`, where `*` is any run of non-space
/// bytes.
fn prefix_matches(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len())
            .take_while(|&n| n == 0 || text[n - 1] != b' ')
            .any(|n| prefix_matches(rest, &text[n..])),
        Some((c, rest)) => text.first() == Some(c) && prefix_matches(rest, &text[1..]),
    }
}

/// The subject after a leading gitmoji, as emoji (`✨ feat: ...`) or as
/// shortcode (`:sparkles: feat: ...`); `None` without one.
fn without_gitmoji(subject: &str) -> Option<&str> {
    let (first, rest) = subject.trim_start().split_once(' ')?;
    let shortcode = first.len() > 2
        && first.starts_with(':')
        && first.ends_with(':')
        && first[1..first.len() - 1]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let emoji = !first.is_empty() && first.chars().all(|c| !c.is_ascii());
    (shortcode || emoji).then_some(rest.trim_start())
}

/// `type(scope)!: description` -> (type, scope, bang, description).
fn conventional(subject: &str) -> Option<(&str, Option<&str>, bool, &str)> {
    let (head, description) = subject.split_once(':')?;
    let description = description.strip_prefix(' ')?.trim();
    let (head, bang) = match head.strip_suffix('!') {
        Some(head) => (head, true),
        None => (head, false),
    };
    let (kind, scope) = match head.split_once('(') {
        Some((kind, rest)) => {
            let scope = rest.strip_suffix(')')?;
            if scope.is_empty() || scope.contains(['(', ')']) {
                return None;
            }
            (kind, Some(scope))
        }
        None => (head, None),
    };
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (word(kind) && !description.is_empty()).then_some((kind, scope, bang, description))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_ids_before_the_type_are_dropped() {
        let prefixes: Vec<String> = ["[*] ", "*-* ", "#* "].map(String::from).to_vec();
        for (subject, rest) in [
            ("[ABC-12] feat: sensors", "feat: sensors"),
            ("IMU-7 fix(api): timeout", "fix(api): timeout"),
            ("#42 ✨ feat: flows", "✨ feat: flows"),
            ("🐛 [ML-50] fix: drift", "fix: drift"),
            // Not a prefix of these shapes, or nothing conventional after it.
            ("ABC feat: x", "ABC feat: x"),
            ("IMU-7 tidy up", "IMU-7 tidy up"),
            ("feat: plain", "feat: plain"),
        ] {
            assert_eq!(without_prefix(&prefixes, subject), rest, "{subject}");
        }
        assert_eq!(without_prefix(&[], "[A-1] feat: x"), "[A-1] feat: x");
    }

    fn kind(s: &str) -> Kind {
        Kind::Typed(s.to_owned())
    }

    /// (subject, body, kind, scope, description, breaking)
    type Case<'a> = (
        &'a str,
        &'a str,
        Kind,
        Option<&'a str>,
        &'a str,
        Option<&'a str>,
    );

    #[test]
    fn parses_every_commit_form() {
        let cases: &[Case] = &[
            (
                "✨ feat(models): check any ONNX",
                "",
                kind("feat"),
                Some("models"),
                "check any ONNX",
                None,
            ),
            (
                "🎉 initial commit",
                "",
                Kind::Other,
                None,
                "🎉 initial commit",
                None,
            ),
            (
                ":bug: fix: no HEF in the root",
                "",
                kind("fix"),
                None,
                "no HEF in the root",
                None,
            ),
            (
                "feat: add HEF compile",
                "",
                kind("feat"),
                None,
                "add HEF compile",
                None,
            ),
            (
                "fix(checksums): escape CR",
                "",
                kind("fix"),
                Some("checksums"),
                "escape CR",
                None,
            ),
            (
                "feat(api)!: drop v1 config",
                "",
                kind("feat"),
                Some("api"),
                "drop v1 config",
                Some(""),
            ),
            (
                "refactor!: new layout",
                "",
                kind("refactor"),
                None,
                "new layout",
                Some(""),
            ),
            (
                "Feat(Model): upper case type",
                "",
                kind("feat"),
                Some("Model"),
                "upper case type",
                None,
            ),
            (
                "perf: faster hashing",
                "Body.\n\nBREAKING CHANGE: needs SHA-NI",
                kind("perf"),
                None,
                "faster hashing",
                Some("needs SHA-NI"),
            ),
            (
                "fix: x",
                "BREAKING-CHANGE: y",
                kind("fix"),
                None,
                "x",
                Some("y"),
            ),
            (
                "Revert \"feat: add HEF compile\"",
                "This reverts commit abc.",
                kind("revert"),
                None,
                "feat: add HEF compile",
                None,
            ),
            (
                "revert: undo the thing",
                "",
                kind("revert"),
                None,
                "undo the thing",
                None,
            ),
            (
                "Update README",
                "",
                Kind::Other,
                None,
                "Update README",
                None,
            ),
            (
                "feat:no space",
                "",
                Kind::Other,
                None,
                "feat:no space",
                None,
            ),
            (
                "feat(): empty scope",
                "",
                Kind::Other,
                None,
                "feat(): empty scope",
                None,
            ),
            (
                "fix(a(b)): nested",
                "",
                Kind::Other,
                None,
                "fix(a(b)): nested",
                None,
            ),
            ("WIP: things", "", kind("wip"), None, "things", None),
            (
                "feat: new keys",
                "Body.\n\nBREAKING CHANGE: the v1 keys are gone;\nrename `a` to `b`\n  and `c` to `d`.\nRefs: #12\nSigned-off-by: A <a@b>",
                kind("feat"),
                None,
                "new keys",
                Some("the v1 keys are gone;\nrename `a` to `b`\nand `c` to `d`."),
            ),
            (
                "fix: x",
                "BREAKING-CHANGE: first\nsecond\n\nthird\nFixes #3",
                kind("fix"),
                None,
                "x",
                Some("first\nsecond\nthird"),
            ),
            (
                "fix: y",
                "BREAKING CHANGE: one\nBREAKING CHANGE: two",
                kind("fix"),
                None,
                "y",
                Some("one"),
            ),
            (
                "fix: z",
                "BREAKING CHANGE:\n  the value starts on the next line\nReviewed-by: Z",
                kind("fix"),
                None,
                "z",
                Some("the value starts on the next line"),
            ),
            ("feat: ", "", Kind::Other, None, "feat:", None),
        ];
        for (subject, body, k, scope, description, breaking) in cases {
            let c = parse("h", subject, body);
            assert_eq!(&c.kind, k, "{subject}");
            assert_eq!(c.scope.as_deref(), *scope, "{subject}");
            assert_eq!(c.description, *description, "{subject}");
            assert_eq!(c.breaking.as_deref(), *breaking, "{subject}");
        }
    }
}
