//! Operators on values, as minijinja computes them: `+` adds numbers and
//! joins strings and lists, `/` always gives a float, `//` and `%` floor,
//! comparisons order kinds, strict mode refuses an undefined operand.

use super::value::Value;
use super::{Error, Kind};

/// Strict mode's truth: an undefined value is an error, not false.
pub fn truthy(value: &Value, line: u32) -> Result<bool, Error> {
    match value.is_strict_undefined() {
        true => Err(Error::undefined(value, line)),
        false => Ok(value.is_true()),
    }
}

pub fn defined(value: &Value, line: u32) -> Result<(), Error> {
    match value.is_strict_undefined() {
        true => Err(Error::undefined(value, line)),
        false => Ok(()),
    }
}

pub fn invalid<T>(line: u32, msg: String) -> Result<T, Error> {
    Err(Error::at(Kind::Invalid, line, &msg))
}

pub fn overflow(line: u32) -> Error {
    Error::at(Kind::Invalid, line, "integer overflow")
}

/// The indices `[start:stop:step]` picks from a sequence of `len`, as in Python.
pub fn slice(len: usize, start: Option<i128>, stop: Option<i128>, step: i128) -> Vec<usize> {
    let len = len as i128;
    let (low, high) = if step > 0 { (0, len) } else { (-1, len - 1) };
    let clamp = |i: i128| {
        if i < 0 {
            (i + len).max(low)
        } else {
            i.min(high)
        }
    };
    let (mut i, end) = match step > 0 {
        true => (start.map_or(0, clamp), stop.map_or(len, clamp)),
        false => (start.map_or(len - 1, clamp), stop.map_or(-1, clamp)),
    };
    let mut picked = Vec::new();
    while (step > 0 && i < end) || (step < 0 && i > end) {
        picked.push(i as usize);
        i += step;
    }
    picked
}

/// Operators but `and` and `or`, on values already computed.
pub fn binary(op: &str, a: &Value, b: &Value, line: u32) -> Result<Value, Error> {
    use Value::{Float, Int, List, Str};
    // Strict mode: no operator takes an undefined value.
    defined(a, line)?;
    defined(b, line)?;
    let ints = (a.as_number_int(), b.as_number_int());
    let floats = match (a, b) {
        (Float(_), _) | (_, Float(_)) => a.as_f64().zip(b.as_f64()),
        _ => None,
    };
    let unsupported = || {
        let msg = format!(
            "tried to use {op} operator on unsupported types {} and {}",
            a.kind(),
            b.kind()
        );
        Err(Error::at(Kind::Invalid, line, &msg))
    };
    let zero = || {
        invalid(
            line,
            format!("unable to calculate {} {op} {}", a.to_text(), b.to_text()),
        )
    };
    Ok(match op {
        "~" => Str(a.to_text() + &b.to_text()),
        "==" => Value::Bool(a.equals(b)),
        "!=" => Value::Bool(!a.equals(b)),
        "<" => Value::Bool(a.compare(b).is_lt()),
        "<=" => Value::Bool(a.compare(b).is_le()),
        ">" => Value::Bool(a.compare(b).is_gt()),
        ">=" => Value::Bool(a.compare(b).is_ge()),
        "in" | "not in" => {
            let found = match b {
                Str(s) => s.contains(&a.to_text()),
                List(items) => items.iter().any(|item| item.equals(a)),
                Value::Map(map) => matches!(a, Str(key) if map.contains_key(key)),
                Value::Undefined { .. } => false,
                _ => {
                    return invalid(
                        line,
                        "cannot perform a containment check on this value".into(),
                    )
                }
            };
            Value::Bool(found == (op == "in"))
        }
        "+" => match (a, b, floats, ints) {
            (List(x), List(y), ..) => List(x.iter().chain(y).cloned().collect()),
            (Str(x), Str(y), ..) => Str(format!("{x}{y}")),
            (_, _, Some((x, y)), _) => Float(x + y),
            (_, _, _, (Some(x), Some(y))) => Int(x.checked_add(y).ok_or_else(|| overflow(line))?),
            _ => return unsupported(),
        },
        "-" => match (floats, ints) {
            (Some((x, y)), _) => Float(x - y),
            (_, (Some(x), Some(y))) => Int(x.checked_sub(y).ok_or_else(|| overflow(line))?),
            _ => return unsupported(),
        },
        "*" => match (a, b, floats, ints) {
            (Str(s), n, ..) | (n, Str(s), ..) => match n.as_int() {
                Some(n) => Str(s.repeat(n.clamp(0, 1 << 20) as usize)),
                None => {
                    return invalid(line, "strings can only be multiplied with integers".into())
                }
            },
            (List(items), n, ..) | (n, List(items), ..) => match n.as_int() {
                Some(n) => List(
                    items
                        .iter()
                        .cloned()
                        .cycle()
                        .take(items.len() * n.clamp(0, 1 << 20) as usize)
                        .collect(),
                ),
                None => {
                    return invalid(
                        line,
                        "sequences can only be multiplied with integers".into(),
                    )
                }
            },
            (_, _, Some((x, y)), _) => Float(x * y),
            (_, _, _, (Some(x), Some(y))) => Int(x.checked_mul(y).ok_or_else(|| overflow(line))?),
            _ => return unsupported(),
        },
        "/" => match (a.as_f64(), b.as_f64()) {
            (Some(_), Some(0.0)) => return zero(),
            (Some(x), Some(y)) => Float(x / y),
            _ => return unsupported(),
        },
        _ => match (floats, ints) {
            // `//` and `%`: floored, the remainder with the divisor's sign
            // (minijinja's arithmetic, to the float's last bit).
            (Some((_, 0.0)), _) => return zero(),
            (Some((x, y)), _) => {
                let mut rem = x % y;
                let mut quot = (x - rem) / y;
                if rem == 0.0 {
                    rem = 0.0f64.copysign(y);
                } else if (rem < 0.0) != (y < 0.0) {
                    rem += y;
                    quot -= 1.0;
                }
                quot = if quot == 0.0 {
                    0.0f64.copysign(x / y)
                } else if quot - quot.floor() > 0.5 {
                    quot.floor() + 1.0
                } else {
                    quot.floor()
                };
                Float(if op == "%" { rem } else { quot })
            }
            (_, (Some(_), Some(0))) => return zero(),
            (_, (Some(x), Some(y))) => {
                let (mut quot, mut rem) = (x.checked_div(y).ok_or_else(|| overflow(line))?, x % y);
                if rem != 0 && (rem < 0) != (y < 0) {
                    quot -= 1;
                    rem += y;
                }
                Int(if op == "%" { rem } else { quot })
            }
            _ => return unsupported(),
        },
    })
}
