//! Keeps secret values out of everything the xtask prints.
//!
//! Secrets reach the xtask only through its environment (see [`SECRET_VARS`]).
//! Their values are collected once at start-up, and every line that leaves the
//! process (child output relayed by the runner, error messages, the final
//! `error:` report) passes through [`redact`]. Credentials embedded in URLs
//! (`https://user:token@host/`) are masked as well, whatever their source.
//!
//! Everything the xtask itself prints goes through [`say!`] (stdout) and
//! [`tell!`] (stderr), which redact; `println!` and `eprintln!` are denied by
//! clippy at the crate root, so nothing can print around them.
//!
//! Not for: deciding which child gets which secret; that is the runner's job.

use std::borrow::Cow;
use std::io::Write;
use std::sync::OnceLock;

/// `println!`, with secrets masked.
macro_rules! say {
    ($($arg:tt)*) => { $crate::redact::print_line(&format!($($arg)*)) };
}

/// `eprintln!`, with secrets masked.
macro_rules! tell {
    ($($arg:tt)*) => { $crate::redact::eprint_line(&format!($($arg)*)) };
}

pub fn print_line(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{}", redact(text));
}

pub fn eprint_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", redact(text));
}

/// Environment variables whose values are secrets. They are removed from the
/// environment of every child that does not declare it needs them.
pub const SECRET_VARS: &[&str] = &[
    "TWINE_PASSWORD",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "RELEASE_GPG_PASSPHRASE",
    "DOCKER_PASSWORD",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
];

/// What a secret is replaced with.
pub const MASK: &str = "***";

fn secret_values() -> &'static [String] {
    static VALUES: OnceLock<Vec<String>> = OnceLock::new();
    VALUES.get_or_init(|| {
        let mut values: Vec<String> = SECRET_VARS
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .collect();
        // Longest first, so a secret that contains another is masked whole.
        values.sort_by_key(|value| std::cmp::Reverse(value.len()));
        values.dedup();
        values
    })
}

/// `text` with every secret value from the environment, and every password in
/// a URL, replaced by [`MASK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    redact_with(text, secret_values())
}

fn redact_with<'a>(text: &'a str, secrets: &[String]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), MASK));
        }
    }
    match mask_url_passwords(&out) {
        Some(masked) => Cow::Owned(masked),
        None => out,
    }
}

/// Masks the password in every `scheme://user:password@host` of `text`;
/// `None` when there is none.
fn mask_url_passwords(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    let mut changed = false;
    while let Some(start) = rest.find("://") {
        let authority_start = start + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@') {
            if let Some(colon) = authority[..at].find(':') {
                out.push_str(&authority[..=colon]);
                out.push_str(MASK);
                out.push_str(&authority[at..]);
                rest = &rest[authority_end..];
                changed = true;
                continue;
            }
        }
        out.push_str(authority);
        rest = &rest[authority_end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_of_every_secret() {
        let secrets = vec!["tok-1234567890".to_owned(), "hunter22".to_owned()];
        let text = "a tok-1234567890 b hunter22 c tok-1234567890";
        assert_eq!(redact_with(text, &secrets), "a *** b *** c ***");
    }

    #[test]
    fn leaves_text_without_secrets_borrowed() {
        let secrets = vec!["tok-1234567890".to_owned()];
        assert!(matches!(
            redact_with("nothing here", &secrets),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn masks_passwords_in_urls() {
        let cases = [
            (
                "upload to https://alice:s3cret@pypi.example/legacy/ now",
                "upload to https://alice:***@pypi.example/legacy/ now",
            ),
            ("https://token@host/x", "https://token@host/x"),
            ("no url", "no url"),
            (
                "two: http://a:b@h1 and http://c:d@h2/p",
                "two: http://a:***@h1 and http://c:***@h2/p",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_with(input, &[]), expected, "input: {input}");
        }
    }

    #[test]
    fn longer_secret_is_masked_before_a_shorter_one_inside_it() {
        let mut secrets = vec!["abcd".to_owned(), "abcdefgh".to_owned()];
        secrets.sort_by_key(|value| std::cmp::Reverse(value.len()));
        assert_eq!(redact_with("xabcdefghx", &secrets), "x***x");
    }
}
