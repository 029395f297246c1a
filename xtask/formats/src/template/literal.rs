//! Number and string literals, read as minijinja reads them.

use super::lexer::{ident_len, Tok};
use super::{Error, Kind};

/// The number `rest` starts with: how long it is, and its token or what is
/// wrong with it. minijinja's syntax: `12`, `0x1f`, `1_000`, `1.5`, `2e-3`;
/// right `after_dot`, no fraction (`a.1.0` is `a[1][0]`).
pub fn number(rest: &str, after_dot: bool) -> (usize, Result<Tok<'static>, &'static str>) {
    let radix = match rest.get(..2).map(str::to_ascii_lowercase).as_deref() {
        Some("0b") => 2,
        Some("0o") => 8,
        Some("0x") => 16,
        _ => 10,
    };
    let prefix = if radix == 10 { 0 } else { 2 };
    let digits = &rest[prefix..];
    let bytes = digits.as_bytes();
    let (mut len, mut float, mut exp) = (0, false, false);
    while let Some(&c) = bytes.get(len) {
        match c {
            b'0'..=b'9' | b'_' => {}
            b'a'..=b'f' | b'A'..=b'F' if radix == 16 => {}
            b'.' if radix == 10 && !float && !after_dot => {
                let is_exp = matches!(bytes.get(len + 1), Some(b'e' | b'E'))
                    && matches!(bytes.get(len + 2), Some(b'+' | b'-' | b'0'..=b'9'));
                if !is_exp && ident_len(&digits[len + 1..]) > 0 {
                    break;
                }
                float = true;
            }
            b'e' | b'E' if radix == 10 && !exp => (float, exp) = (true, true),
            b'+' | b'-' if exp && matches!(bytes[len - 1], b'e' | b'E') => {}
            _ => break,
        }
        len += 1;
    }
    let text = &digits[..len];
    let tok = if text.ends_with('_') {
        Err("'_' may not occur at end of number")
    } else if float {
        text.replace('_', "")
            .parse()
            .map(Tok::Float)
            .map_err(|_| "invalid float")
    } else {
        u128::from_str_radix(&text.replace('_', ""), radix)
            .ok()
            .and_then(|n| i128::try_from(n).ok())
            .map(Tok::Int)
            .ok_or("invalid integer (too large)")
    };
    (prefix + len, tok)
}

/// A string literal's escapes, as minijinja reads them (JSON's, `\x41`,
/// octal `\101`; an unknown escape stays as written).
pub fn unescape(s: &str) -> Result<String, Error> {
    let bad = || Error::new(Kind::Syntax, "bad string escape");
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    // The first half of a `\uD83D\uDE00` pair.
    let mut high = None;
    while let Some(c) = chars.next() {
        let code = match c {
            '\\' => match chars.next().ok_or_else(bad)? {
                'u' => {
                    let unit = hex(&mut chars, 4).ok_or_else(bad)? as u16;
                    let units = match high.take() {
                        Some(first) => vec![first, unit],
                        None if (0xD800..0xE000).contains(&unit) => {
                            high = Some(unit);
                            continue;
                        }
                        None => vec![unit],
                    };
                    let decoded = char::decode_utf16(units).next().and_then(Result::ok);
                    out.push(decoded.ok_or_else(bad)?);
                    continue;
                }
                'x' => hex(&mut chars, 2).ok_or_else(bad)?,
                d @ '0'..='7' => {
                    let mut digits = d.to_string();
                    while digits.len() < 3 && chars.as_str().starts_with(|c: char| c.is_digit(8)) {
                        digits.extend(chars.next());
                    }
                    u8::from_str_radix(&digits, 8).map_err(|_| bad())?.into()
                }
                d @ ('"' | '\\' | '/' | '\'') => d.into(),
                'b' => 8,
                'f' => 12,
                'n' => 10,
                'r' => 13,
                't' => 9,
                d => {
                    if high.is_some() {
                        return Err(bad());
                    }
                    out.extend(['\\', d]);
                    continue;
                }
            },
            c => c.into(),
        };
        if high.is_some() {
            return Err(bad());
        }
        out.extend(char::from_u32(code));
    }
    match high {
        Some(_) => Err(bad()),
        None => Ok(out),
    }
}

fn hex(chars: &mut std::str::Chars, n: usize) -> Option<u32> {
    let digits: String = chars.take(n).collect();
    u32::from_str_radix(&digits, 16)
        .ok()
        .filter(|_| digits.len() == n)
}
