//! The filters and tests of the subset, each as minijinja's builtin does it
//! (what it accepts, what it refuses, what it makes of an undefined value).

use super::value::Value;
use super::{Error, Kind};

pub const FILTERS: [&str; 13] = [
    "length", "default", "d", "join", "upper", "lower", "trim", "replace", "round", "first",
    "last", "string", "int",
];
pub const TESTS: [&str; 3] = ["defined", "undefined", "none"];

/// `value | name(args)`.
pub fn filter(name: &str, value: Value, args: &[Value], line: u32) -> Result<Value, Error> {
    let (min, max) = match name {
        "default" | "d" => (0, 2),
        "join" | "trim" | "round" => (0, 1),
        "replace" => (2, 3),
        _ => (0, 0),
    };
    if args.len() > max {
        let msg = format!("`{name}` with more than {max} argument(s)");
        return Err(Error::unsupported(line, &msg));
    }
    if args.len() < min {
        return Err(Error::at(Kind::Invalid, line, "missing argument"));
    }
    let invalid = |msg: String| Err(Error::at(Kind::Invalid, line, &msg));
    // Strict mode: an undefined value is an error as a string, as something
    // to go through or count, in all but `default` (and `int`, which says so).
    if value.is_strict_undefined() && !matches!(name, "default" | "d") {
        return Err(Error::undefined(&value, line));
    }
    let text = |value: &Value| match value {
        Value::Undefined { silent: false, .. } => Err(Error::undefined(value, line)),
        value => Ok(value.to_text()),
    };
    let arg = |i: usize| {
        args.get(i)
            .filter(|a| !a.is_undefined() && !matches!(a, Value::None))
    };
    Ok(match name {
        "default" | "d" => {
            let lax = match args.get(1) {
                Some(lax) if lax.is_strict_undefined() => return Err(Error::undefined(lax, line)),
                Some(lax) => lax.is_true(),
                None => false,
            };
            if value.is_undefined() || (lax && !value.is_true()) {
                args.first().cloned().unwrap_or(Value::Str(String::new()))
            } else {
                value
            }
        }
        "length" => match &value {
            Value::Undefined { .. } => Value::Int(0),
            Value::Str(s) => Value::Int(s.chars().count() as i128),
            Value::List(items) => Value::Int(items.len() as i128),
            Value::Map(map) => Value::Int(map.len() as i128),
            other => {
                return invalid(format!(
                    "cannot calculate length of value of type {}",
                    other.kind()
                ))
            }
        },
        "join" => {
            let sep = arg(0).map(Value::to_text).unwrap_or_default();
            let Some(items) = value.items() else {
                return invalid(format!("cannot join value of type {}", value.kind()));
            };
            let items: Vec<String> = items.iter().map(Value::to_text).collect();
            Value::Str(items.join(&sep))
        }
        "upper" => Value::Str(text(&value)?.to_uppercase()),
        "lower" => Value::Str(text(&value)?.to_lowercase()),
        "trim" => {
            let value = text(&value)?;
            Value::Str(match arg(0).map(Value::to_text) {
                Some(chars) => {
                    let chars: Vec<char> = chars.chars().collect();
                    value.trim_matches(&chars[..]).to_owned()
                }
                None => value.trim().to_owned(),
            })
        }
        "replace" => {
            let (value, from, to) = (text(&value)?, text(&args[0])?, text(&args[1])?);
            let count = match arg(2) {
                Some(count) => match count.as_int() {
                    Some(count) => usize::try_from(count).unwrap_or(usize::MAX),
                    None => {
                        return invalid(format!("cannot convert {} to an integer", count.kind()))
                    }
                },
                None => usize::MAX,
            };
            Value::Str(value.replacen(&from, &to, count))
        }
        "round" => {
            let precision = match arg(0).map(|p| p.as_int().and_then(|p| i32::try_from(p).ok())) {
                None => 0,
                Some(Some(p)) if p >= 0 => p,
                Some(Some(_)) => {
                    return Err(Error::unsupported(line, "`round` to a negative precision"))
                }
                Some(None) => return invalid("round's precision is not an integer".to_owned()),
            };
            match value {
                Value::Int(_) => value,
                Value::Float(f) if precision > 1074 => Value::Float(f),
                Value::Float(f) => {
                    // Formatting rounds half to even on the exact binary
                    // value, as Python (and minijinja) do.
                    let text = format!("{f:.prec$}", prec = precision as usize);
                    Value::Float(text.parse().unwrap_or(f))
                }
                other => return invalid(format!("cannot round value ({})", other.kind())),
            }
        }
        "first" | "last" => {
            let items = match &value {
                Value::Undefined { .. } => return Ok(value),
                Value::Str(_) | Value::List(_) | Value::Map(_) => value.items().unwrap_or_default(),
                _ => return invalid(format!("cannot get {name} item from value")),
            };
            let item = if name == "first" {
                items.first()
            } else {
                items.last()
            };
            item.cloned().unwrap_or_else(|| {
                Value::undefined(format!("the {name} item of an empty {}", value.kind()))
            })
        }
        "string" => match value {
            Value::Str(_) => value,
            other => Value::Str(other.to_text()),
        },
        "int" => match &value {
            Value::Undefined { .. } | Value::None => Value::Int(0),
            Value::Bool(b) => Value::Int((*b).into()),
            Value::Int(_) => value,
            Value::Float(f) => Value::Int(*f as i128),
            Value::Str(s) => match parse_int(s) {
                Some(i) => Value::Int(i),
                None => match s.parse::<f64>() {
                    Ok(f) => Value::Int(f as i128),
                    Err(err) => return invalid(err.to_string()),
                },
            },
            other => return invalid(format!("cannot convert {} to integer", other.kind())),
        },
        _ => unreachable!("the parser lets only FILTERS through"),
    })
}

/// A decimal integer with an optional sign.
fn parse_int(s: &str) -> Option<i128> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let n: i128 = digits.parse().ok()?;
    Some(if negative { -n } else { n })
}

/// `value is name`.
pub fn test(name: &str, value: &Value, args: &[Value], line: u32) -> Result<bool, Error> {
    if !args.is_empty() {
        return Err(Error::at(Kind::Invalid, line, "too many arguments"));
    }
    Ok(match name {
        "defined" => !value.is_undefined(),
        "undefined" => value.is_undefined(),
        _ => matches!(value, Value::None),
    })
}
