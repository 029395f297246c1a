//! A template's values: the context's (JSON's kinds, read by the caller),
//! plus undefined. They print,
//! compare and test true as minijinja's do (Python's way: `None`, `True`,
//! `1.0`, an empty list is false).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Clone, Debug)]
pub enum Value {
    /// A name or attribute the context lacks, `what` says which for the
    /// error. A `silent` one (`a if b` without an else, when `b` is false)
    /// prints as nothing; any other is an error wherever it is used, except
    /// under `is defined` and `default`.
    Undefined {
        silent: bool,
        what: String,
    },
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    /// Keys in sorted order, as the old code handed the context over.
    Map(BTreeMap<String, Value>),
}

impl Value {
    pub fn undefined(what: String) -> Value {
        Value::Undefined {
            silent: false,
            what,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Value::Undefined { .. } => "undefined",
            Value::None => "none",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::List(_) => "sequence",
            Value::Map(_) => "map",
        }
    }

    /// minijinja's order of kinds, for `<` between different ones.
    fn rank(&self) -> u8 {
        match self {
            Value::Undefined { .. } => 0,
            Value::None => 1,
            Value::Bool(_) => 2,
            Value::Int(_) | Value::Float(_) => 3,
            Value::Str(_) => 4,
            Value::List(_) => 6,
            Value::Map(_) => 7,
        }
    }

    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined { .. })
    }

    /// Undefined and not silent: an error where strict mode says so.
    pub fn is_strict_undefined(&self) -> bool {
        matches!(self, Value::Undefined { silent: false, .. })
    }

    pub fn is_true(&self) -> bool {
        match self {
            Value::Undefined { .. } | Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(items) => !items.is_empty(),
            Value::Map(map) => !map.is_empty(),
        }
    }

    /// An integer, for an index or a count: also `true` and `2.0`.
    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some((*b).into()),
            Value::Float(f) if *f as i64 as f64 == *f => Some(*f as i64 as i128),
            _ => None,
        }
    }

    /// A number for arithmetic, booleans counting as 0 and 1.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => self.as_number_int().map(|i| i as f64),
        }
    }

    pub fn as_number_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some((*b).into()),
            _ => None,
        }
    }

    /// The items a `for` loop or `join` goes through: a map's keys, a
    /// string's characters, nothing for none.
    pub fn items(&self) -> Option<Vec<Value>> {
        match self {
            Value::Undefined { .. } | Value::None => Some(Vec::new()),
            Value::Str(s) => Some(s.chars().map(|c| Value::Str(c.into())).collect()),
            Value::List(items) => Some(items.clone()),
            Value::Map(map) => Some(map.keys().cloned().map(Value::Str).collect()),
            _ => None,
        }
    }

    /// As `{{ value }}` prints it.
    pub fn to_text(&self) -> String {
        match self {
            Value::Undefined { .. } => String::new(),
            Value::Str(s) => s.clone(),
            Value::Float(f) => float(*f),
            other => {
                let mut out = String::new();
                other.repr(&mut out);
                out
            }
        }
    }

    /// As a list or map prints its items: strings quoted like Python's.
    fn repr(&self, out: &mut String) {
        match self {
            Value::Undefined { .. } => out.push_str("undefined"),
            Value::None => out.push_str("None"),
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => _ = write!(out, "{i}"),
            Value::Float(f) => _ = write!(out, "{f:?}"),
            Value::Str(s) => quote(s, out),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "" } else { ", " });
                    item.repr(out);
                }
                out.push(']');
            }
            Value::Map(map) => {
                out.push('{');
                for (i, (key, value)) in map.iter().enumerate() {
                    out.push_str(if i == 0 { "" } else { ", " });
                    quote(key, out);
                    out.push_str(": ");
                    value.repr(out);
                }
                out.push('}');
            }
        }
    }

    /// `==`: numbers by value (`1 == 1.0 == true`), containers item by item.
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) => true,
            (Value::Undefined { .. }, Value::Undefined { .. }) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.equals(b))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.equals(w)))
            }
            (Value::Float(_), _) | (_, Value::Float(_)) => {
                match (self.exact_f64(), other.exact_f64()) {
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                }
            }
            _ => match (self.as_number_int(), other.as_number_int()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }

    /// An integer converts only when the float holds it exactly.
    fn exact_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => self
                .as_number_int()
                .map(|i| i as f64)
                .filter(|f| *f as i128 == self.as_number_int().unwrap_or_default()),
        }
    }

    /// `<` and friends: a total order, kinds first (none < bool < number <
    /// string < list < map), as minijinja orders them.
    pub fn compare(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Bool(b), Value::Int(_) | Value::Float(_)) => {
                return Value::Int((*b).into()).compare(other)
            }
            (Value::Int(_) | Value::Float(_), Value::Bool(b)) => {
                return self.compare(&Value::Int((*b).into()))
            }
            _ => {}
        }
        match self.rank().cmp(&other.rank()) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) => a
                .iter()
                .zip(b)
                .map(|(a, b)| a.compare(b))
                .find(|o| o.is_ne())
                .unwrap_or(a.len().cmp(&b.len())),
            (Value::Map(a), Value::Map(b)) => a
                .iter()
                .zip(b)
                .map(|((ka, va), (kb, vb))| ka.cmp(kb).then_with(|| va.compare(vb)))
                .find(|o| o.is_ne())
                .unwrap_or(a.len().cmp(&b.len())),
            (Value::Float(_), _) | (_, Value::Float(_)) => {
                let (a, b) = (self.as_f64().unwrap_or(0.0), other.as_f64().unwrap_or(0.0));
                if a == b {
                    Ordering::Equal
                } else {
                    a.total_cmp(&b)
                }
            }
            _ => match (self.as_number_int(), other.as_number_int()) {
                (Some(a), Some(b)) => a.cmp(&b),
                _ => Ordering::Equal,
            },
        }
    }
}

/// A float as minijinja prints it: Rust's shortest form, with `.0` when
/// that has no point (`1.0`, `0.5768`, `100000000000000000000.0`).
pub fn float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        format!("{}inf", if f < 0.0 { "-" } else { "" })
    } else {
        let mut text = f.to_string();
        if !text.contains('.') {
            text.push_str(".0");
        }
        text
    }
}

/// Python's repr of a string: single quotes unless it holds one and no `"`.
fn quote(s: &str, out: &mut String) {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let n = c as u32;
                _ = match n {
                    0..=0xff => write!(out, "\\x{n:02x}"),
                    0x100..=0xffff => write!(out, "\\u{n:04x}"),
                    _ => write!(out, "\\U{n:08x}"),
                };
            }
            c => out.push(c),
        }
    }
    out.push(q);
}
