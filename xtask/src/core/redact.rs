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
    ($($arg:tt)*) => { $crate::core::redact::print_line(&format!($($arg)*)) };
}

/// `eprintln!`, with secrets masked.
macro_rules! tell {
    ($($arg:tt)*) => { $crate::core::redact::eprint_line(&format!($($arg)*)) };
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

/// Moves credentials written into `TWINE_REPOSITORY_URL`
/// (`https://user:password@host/`) into `TWINE_USERNAME` and
/// `TWINE_PASSWORD`, and leaves the URL without them: twine reads both
/// variables; a URL is printed, journaled and seen by every child, while
/// `TWINE_PASSWORD` reaches only the child that declares it. Runs first in
/// `main`, before any thread or child exists and before secrets are read.
pub fn split_url_credentials() -> Result<(), String> {
    let Ok(url) = std::env::var("TWINE_REPOSITORY_URL") else {
        return Ok(());
    };
    let Some((bare, user, password)) = url_credentials(&url) else {
        return Ok(());
    };
    if let Ok(set) = std::env::var("TWINE_PASSWORD") {
        if !set.is_empty() && set != password {
            return Err(
                "TWINE_REPOSITORY_URL carries a password and TWINE_PASSWORD holds another: \
                 keep one (the URL without `user:password@` is best)"
                    .to_owned(),
            );
        }
    }
    std::env::set_var("TWINE_REPOSITORY_URL", bare);
    std::env::set_var("TWINE_PASSWORD", password);
    if std::env::var_os("TWINE_USERNAME").is_none_or(|u| u.is_empty()) {
        std::env::set_var("TWINE_USERNAME", user);
    }
    Ok(())
}

/// `scheme://user:password@rest` -> (`scheme://rest`, user, password), the
/// two percent-decoded; `None` without a password.
fn url_credentials(url: &str) -> Option<(String, String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (userinfo, host) = rest[..authority_end].rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    Some((
        format!("{scheme}://{host}{}", &rest[authority_end..]),
        percent_decode(user),
        percent_decode(password),
    ))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A secret shorter than this cannot be masked safely: masking `e` would
/// hide every `e` in the output. [`check_secrets`] refuses it.
pub const MIN_SECRET_LEN: usize = 8;

/// Fails, naming the variable (never the value), when a secret is too short
/// to mask.
pub fn check_secrets() -> Result<(), String> {
    let short: Vec<&str> = SECRET_VARS
        .iter()
        .filter(|name| {
            std::env::var(name)
                .is_ok_and(|v| !v.trim().is_empty() && v.trim().len() < MIN_SECRET_LEN)
        })
        .copied()
        .collect();
    if short.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} {} shorter than {MIN_SECRET_LEN} characters, too short to keep out of the output \
         (masking it would hide those letters everywhere); use the real token, or unset it",
        short.join(", "),
        if short.len() == 1 { "is" } else { "are" }
    ))
}

fn secret_values() -> &'static [String] {
    static VALUES: OnceLock<Vec<String>> = OnceLock::new();
    VALUES.get_or_init(|| {
        let plain = SECRET_VARS
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .map(|value| value.trim().to_owned())
            .filter(|value| value.len() >= MIN_SECRET_LEN);
        let mut values: Vec<String> = plain.flat_map(|v| encoded_forms(&v)).collect();
        // Longest first, so a secret that contains another is masked whole.
        values.sort_by_key(|value| std::cmp::Reverse(value.len()));
        values.dedup();
        values
    })
}

/// A secret as a tool may print it: itself, percent-encoded (in a URL),
/// and base64 (an `Authorization: Basic` header, a config dump), standard
/// and URL-safe, at each of the three byte offsets it can have inside a
/// longer encoded text (only the part that does not depend on the
/// neighbouring bytes, as GitHub Actions masks base64 secrets).
fn encoded_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned(), percent_encode(secret)];
    for offset in 0..3 {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(secret.as_bytes());
        let encoded = base64(&bytes, false);
        // Characters that mix in the padding bytes before or the unknown
        // bytes after are not the secret's own.
        let skip = (offset * 4).div_ceil(3);
        let keep = (bytes.len() / 3) * 4;
        if keep > skip + 4 {
            let core = &encoded[skip..keep];
            forms.push(core.to_owned());
            forms.push(core.replace('+', "-").replace('/', "_"));
        }
    }
    forms.retain(|f| f.len() >= MIN_SECRET_LEN);
    forms
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn base64(bytes: &[u8], pad: bool) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
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
    fn credentials_come_out_of_a_url_decoded() {
        assert_eq!(
            url_credentials("https://__token__:pypi-Ab%2Fc%40d@upload.example/legacy/"),
            Some((
                "https://upload.example/legacy/".to_owned(),
                "__token__".to_owned(),
                "pypi-Ab/c@d".to_owned()
            ))
        );
        assert_eq!(url_credentials("https://upload.example/legacy/"), None);
        assert_eq!(url_credentials("https://token@upload.example/"), None);
        assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
    }

    #[test]
    fn base64_matches_the_reference_encoder() {
        // RFC 4648's test vectors.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes(), true), encoded, "{plain}");
        }
    }

    #[test]
    fn encoded_forms_of_a_secret_are_masked_wherever_they_sit() {
        let secret = "pypi-S3cret/Token+42";
        let secrets = encoded_forms(secret);
        let basic = base64(format!("__token__:{secret}").as_bytes(), true);
        let header = format!("Authorization: Basic {basic}");
        let masked = redact_with(&header, &secrets);
        assert!(!masked.contains(&basic[12..]), "{masked}");
        assert!(masked.contains(MASK), "{masked}");
        for prefix in ["", "x", "xy", "xyz"] {
            let alone = base64(format!("{prefix}{secret}").as_bytes(), true);
            let masked = redact_with(&alone, &secrets);
            assert!(masked.contains(MASK), "{prefix:?}: {alone} -> {masked}");
        }
        let url = "https://host/?token=pypi-S3cret%2FToken%2B42";
        assert_eq!(redact_with(url, &secrets), "https://host/?token=***");
    }

    #[test]
    fn longer_secret_is_masked_before_a_shorter_one_inside_it() {
        let mut secrets = vec!["abcd".to_owned(), "abcdefgh".to_owned()];
        secrets.sort_by_key(|value| std::cmp::Reverse(value.len()));
        assert_eq!(redact_with("xabcdefghx", &secrets), "x***x");
    }
}
