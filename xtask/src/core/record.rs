//! Typed records in and out of JSON without a derive: `record!` writes the
//! `serde::Serialize` impl (the same objects `#[derive(Serialize)]` wrote)
//! and a [`Decode`] impl that reads a `serde_json::Value`, naming the key
//! path of whatever is wrong (`docker[1].platforms: invalid type: ...`).
//! The TOML config is read through the same trait ([`from_toml`]).
//!
//! Why not serde's derive: its proc macro (syn, serde_derive) cost a fresh
//! checkout's cold build of `cargo xtask` about 3 s on 2 cores
//! (docs/ARCHITECTURE.md, "Build time").
//!
//! Not for: formats. Text in and out is serde_json's and toml_edit's.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

/// What went wrong and where: `docker[1].platforms: invalid type: ...`.
#[derive(Debug)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// A key path inside a document: empty at the top, then `a.b[2].c`.
#[derive(Clone, Debug, Default)]
pub struct At(String);

impl At {
    pub fn key(&self, key: &str) -> At {
        if self.0.is_empty() {
            At(key.to_owned())
        } else {
            At(format!("{}.{key}", self.0))
        }
    }

    pub fn index(&self, i: usize) -> At {
        At(format!("{}[{i}]", self.0))
    }

    pub fn error(&self, message: impl fmt::Display) -> DecodeError {
        if self.0.is_empty() {
            DecodeError(message.to_string())
        } else {
            DecodeError(format!("{}: {message}", self.0))
        }
    }

    fn invalid(&self, found: &Value, expected: &str) -> DecodeError {
        let found = match found {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => format!("boolean `{b}`"),
            Value::Number(n) => format!("number `{n}`"),
            Value::String(s) => format!("string {s:?}"),
            Value::Array(_) => "a list".to_owned(),
            Value::Object(_) => "a table".to_owned(),
        };
        self.error(format!("invalid type: {found}, expected {expected}"))
    }
}

/// A type read from a JSON value.
pub trait Decode: Sized {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError>;

    /// The value of a key that is not there (`at` is the table, `key` the
    /// missing key): an error, except where "nothing" is a value.
    fn absent(at: &At, key: &str) -> Result<Self, DecodeError> {
        Err(at.error(format!("missing field `{key}`")))
    }
}

/// A map key read from its string.
pub trait DecodeKey: Sized {
    fn decode_key(key: &str, at: &At) -> Result<Self, DecodeError>;
}

/// Reads `T` from JSON text.
pub fn from_str<T: Decode>(text: &str) -> Result<T, DecodeError> {
    let value: Value = serde_json::from_str(text).map_err(|err| DecodeError(err.to_string()))?;
    T::decode(&value, &At::default())
}

/// A TOML item as the JSON value the records read: tables are objects. A
/// datetime (no record has one) and a float JSON cannot hold (`nan`, `inf`)
/// are errors naming the key.
pub fn from_toml(item: &toml_edit::Item, at: &At) -> Result<Value, DecodeError> {
    match item {
        toml_edit::Item::None => Ok(Value::Null),
        toml_edit::Item::Value(value) => toml_value(value, at),
        toml_edit::Item::Table(table) => toml_table(table.iter(), at),
        toml_edit::Item::ArrayOfTables(tables) => tables
            .iter()
            .enumerate()
            .map(|(i, t)| toml_table(t.iter(), &at.index(i)))
            .collect::<Result<_, _>>()
            .map(Value::Array),
    }
}

fn toml_table<'a>(
    entries: impl Iterator<Item = (&'a str, &'a toml_edit::Item)>,
    at: &At,
) -> Result<Value, DecodeError> {
    entries
        .map(|(k, v)| Ok((k.to_owned(), from_toml(v, &at.key(k))?)))
        .collect::<Result<serde_json::Map<_, _>, _>>()
        .map(Value::Object)
}

fn toml_value(value: &toml_edit::Value, at: &At) -> Result<Value, DecodeError> {
    use toml_edit::Value as T;
    Ok(match value {
        T::String(s) => Value::String(s.value().clone()),
        T::Integer(i) => Value::from(*i.value()),
        T::Float(f) => serde_json::Number::from_f64(*f.value())
            .map(Value::Number)
            .ok_or_else(|| at.error(format!("{} is not a number JSON can hold", f.value())))?,
        T::Boolean(b) => Value::Bool(*b.value()),
        // serde refused a datetime where a string was expected; so do we.
        T::Datetime(d) => {
            return Err(at.error(format!(
                "invalid type: datetime `{}`, expected a string (quote it)",
                d.value()
            )))
        }
        T::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| toml_value(v, &at.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        T::InlineTable(table) => Value::Object(
            table
                .iter()
                .map(|(k, v)| Ok((k.to_owned(), toml_value(v, &at.key(k))?)))
                .collect::<Result<_, DecodeError>>()?,
        ),
    })
}

/// The object at `at`, with its keys checked: with `strict`, a key that is
/// not in `known` is refused the way serde's `deny_unknown_fields` did.
pub fn object<'v>(
    value: &'v Value,
    at: &At,
    known: &[&str],
    strict: bool,
) -> Result<&'v serde_json::Map<String, Value>, DecodeError> {
    let Value::Object(map) = value else {
        return Err(at.invalid(value, "a table"));
    };
    if strict {
        if let Some(key) = map.keys().find(|k| !known.contains(&k.as_str())) {
            let expected = known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(at
                .key(key)
                .error(format!("unknown field `{key}`, expected one of {expected}")));
        }
    }
    Ok(map)
}

/// How a record's Rust names become its keys, as serde's `rename_all`.
#[derive(Clone, Copy)]
pub enum Case {
    /// As written: `tag_name`, `Pending`.
    Same,
    /// `tag-name`, `github-draft`.
    Kebab,
    /// `databaseId`.
    Camel,
    /// `ondemand`: lowercased, nothing else.
    Lower,
}

impl Case {
    /// The key for a field (`tag_name`) or variant (`GithubDraft`).
    pub fn key(self, name: &str) -> String {
        let words: Vec<String> = if name.contains('_') || name.starts_with(char::is_lowercase) {
            name.split('_').map(str::to_owned).collect()
        } else {
            let mut words: Vec<String> = Vec::new();
            for c in name.chars() {
                if c.is_uppercase() || words.is_empty() {
                    words.push(String::new());
                }
                if let Some(word) = words.last_mut() {
                    word.extend(c.to_lowercase());
                }
            }
            words
        };
        match self {
            Case::Same => name.to_owned(),
            Case::Kebab => words.join("-"),
            Case::Lower => name.to_lowercase(),
            Case::Camel => words
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let mut chars = w.chars();
                    match chars.next() {
                        Some(first) if i > 0 => first.to_uppercase().chain(chars).collect(),
                        _ => w.clone(),
                    }
                })
                .collect(),
        }
    }
}

impl Decode for String {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| at.invalid(value, "a string"))
    }
}

impl Decode for PathBuf {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        String::decode(value, at).map(PathBuf::from)
    }
}

impl Decode for bool {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        value
            .as_bool()
            .ok_or_else(|| at.invalid(value, "a boolean"))
    }
}

impl Decode for f64 {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        value.as_f64().ok_or_else(|| at.invalid(value, "a number"))
    }
}

impl Decode for u64 {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        value
            .as_u64()
            .ok_or_else(|| at.invalid(value, "a whole number, 0 or more"))
    }
}

impl Decode for u32 {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        u64::decode(value, at)?
            .try_into()
            .map_err(|_| at.invalid(value, "a whole number below 2^32"))
    }
}

impl Decode for usize {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        u64::decode(value, at)?
            .try_into()
            .map_err(|_| at.invalid(value, "a smaller whole number"))
    }
}

impl Decode for Value {
    fn decode(value: &Value, _: &At) -> Result<Self, DecodeError> {
        Ok(value.clone())
    }

    fn absent(_: &At, _: &str) -> Result<Self, DecodeError> {
        Ok(Value::Null)
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        match value {
            Value::Null => Ok(None),
            value => T::decode(value, at).map(Some),
        }
    }

    fn absent(_: &At, _: &str) -> Result<Self, DecodeError> {
        Ok(None)
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        let Value::Array(items) = value else {
            return Err(at.invalid(value, "a list"));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| T::decode(item, &at.index(i)))
            .collect()
    }
}

impl<A: Decode, B: Decode> Decode for (A, B) {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        match value {
            Value::Array(pair) if pair.len() == 2 => Ok((
                A::decode(&pair[0], &at.index(0))?,
                B::decode(&pair[1], &at.index(1))?,
            )),
            value => Err(at.invalid(value, "a list of two")),
        }
    }
}

impl DecodeKey for String {
    fn decode_key(key: &str, _: &At) -> Result<Self, DecodeError> {
        Ok(key.to_owned())
    }
}

impl<K: DecodeKey + Ord, V: Decode> Decode for BTreeMap<K, V> {
    fn decode(value: &Value, at: &At) -> Result<Self, DecodeError> {
        let Value::Object(map) = value else {
            return Err(at.invalid(value, "a table"));
        };
        map.iter()
            .map(|(k, v)| {
                let at = at.key(k);
                Ok((K::decode_key(k, &at)?, V::decode(v, &at)?))
            })
            .collect()
    }
}

/// For `skip_if`: a field that is read but never written.
pub fn always<T>(_: &T) -> bool {
    true
}

/// A string or a list of them, as a list: a model fact's sources,
/// `name = "config.json#/name"` or `name = ["a.json#/name", "b.json#/id"]`.
pub fn one_or_many(value: &Value, at: &At) -> Result<Vec<String>, DecodeError> {
    match value {
        Value::String(one) => Ok(vec![one.clone()]),
        Value::Array(_) => Vec::decode(value, at),
        value => Err(at.invalid(value, "a string or a list of strings")),
    }
}

/// One table or a list of them, as a list: `[python]` or `[[python]]`.
pub fn table_or_tables<T: Decode>(value: &Value, at: &At) -> Result<Vec<T>, DecodeError> {
    match value {
        Value::Object(_) => T::decode(value, &at.index(0)).map(|one| vec![one]),
        Value::Array(_) => Vec::decode(value, at),
        value => Err(at.invalid(value, "a table or a list of tables")),
    }
}

/// `impl Serialize` and/or `impl Decode` for a struct, field by field:
///
/// ```text
/// record!(read write: Part (Kebab, strict) {
///     id,                                  // required (an Option may be absent)
///     needs = Vec::new(),                  // the value when absent
///     tags with one_or_many = Vec::new(),  // read by a function
///     note ; skip_if Option::is_none,      // not written when the test holds
/// });
/// ```
///
/// Keys are the field names in the given [`Case`]; `strict` refuses keys
/// that are not fields. Fields not listed are not written and, when read,
/// the struct cannot be: list every field of a `read` record.
macro_rules! record {
    (read write: $($rest:tt)*) => {
        record!(@read $($rest)*);
        record!(@write $($rest)*);
    };
    (read: $($rest:tt)*) => { record!(@read $($rest)*); };
    (write: $($rest:tt)*) => { record!(@write $($rest)*); };
    (@read $name:ident ($case:ident $(, $strict:ident)?) {
        $( $field:ident $(with $via:path)? $(= $default:expr)? $(; skip_if $skip:path)? ),* $(,)?
    }) => {
        impl $crate::core::record::Decode for $name {
            fn decode(
                value: &serde_json::Value,
                at: &$crate::core::record::At,
            ) -> Result<Self, $crate::core::record::DecodeError> {
                let case = $crate::core::record::Case::$case;
                let keys = [$(case.key(stringify!($field))),*];
                let known: Vec<&str> = keys.iter().map(String::as_str).collect();
                let strict = false $(|| record!(@strict $strict))?;
                let map = $crate::core::record::object(value, at, &known, strict)?;
                let mut keys = keys.into_iter();
                Ok($name {
                    $($field: {
                        let key = keys.next().unwrap_or_default();
                        match map.get(&key) {
                            Some(value) => record!(@via value, &at.key(&key) $(, $via)?)?,
                            None => record!(@absent at, &key $(, $default)?),
                        }
                    },)*
                })
            }
        }
    };
    // The one word allowed after the case: a typo must not compile.
    (@strict strict) => { true };
    (@via $value:expr, $at:expr) => { $crate::core::record::Decode::decode($value, $at) };
    (@via $value:expr, $at:expr, $via:path) => { $via($value, $at) };
    (@absent $at:expr, $key:expr) => { $crate::core::record::Decode::absent($at, $key)? };
    (@absent $at:expr, $key:expr, $default:expr) => { $default };
    (@write $name:ident $(<$lt:lifetime>)? ($case:ident $(, $strict:ident)?) {
        $( $field:ident $(with $via:path)? $(= $default:expr)? $(; skip_if $skip:path)? ),* $(,)?
    }) => {
        impl$(<$lt>)? serde::Serialize for $name$(<$lt>)? {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let case = $crate::core::record::Case::$case;
                let mut map = serializer.serialize_map(None)?;
                $(
                    if !(false $(|| $skip(&self.$field))?) {
                        map.serialize_entry(&case.key(stringify!($field)), &self.$field)?;
                    }
                )*
                map.end()
            }
        }
    };
}

/// `impl Serialize`, `Decode` and `DecodeKey` for an enum of unit variants,
/// each written as its name in the given [`Case`] (`GithubDraft` ->
/// `github-draft`), and `json_name`.
macro_rules! string_enum {
    ($name:ident ($case:ident) { $($variant:ident),* $(,)? }) => {
        impl $name {
            pub fn json_name(&self) -> &'static str {
                // The keys are made once: they are printed in loops. The
                // match is exhaustive: a variant missing here does not compile.
                static KEYS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
                let keys = KEYS.get_or_init(|| {
                    vec![$($crate::core::record::Case::$case.key(stringify!($variant))),*]
                });
                let name = match self {
                    $($name::$variant => stringify!($variant),)*
                };
                let index = [$(stringify!($variant)),*]
                    .iter()
                    .position(|v| *v == name)
                    .unwrap_or_default();
                keys[index].as_str()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.json_name())
            }
        }

        impl $crate::core::record::DecodeKey for $name {
            fn decode_key(
                key: &str,
                at: &$crate::core::record::At,
            ) -> Result<Self, $crate::core::record::DecodeError> {
                let all = [$($name::$variant),*];
                all.iter().find(|v| v.json_name() == key).cloned().ok_or_else(|| {
                    let expected: Vec<String> =
                        all.iter().map(|v| format!("`{}`", v.json_name())).collect();
                    at.error(format!(
                        "unknown variant `{key}`, expected one of {}",
                        expected.join(", ")
                    ))
                })
            }
        }

        impl $crate::core::record::Decode for $name {
            fn decode(
                value: &serde_json::Value,
                at: &$crate::core::record::At,
            ) -> Result<Self, $crate::core::record::DecodeError> {
                let key = <String as $crate::core::record::Decode>::decode(value, at)?;
                <$name as $crate::core::record::DecodeKey>::decode_key(&key, at)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq)]
    struct Part {
        id: String,
        runs_on: Vec<String>,
        needs: Vec<String>,
        note: Option<String>,
        tags: Vec<String>,
    }

    record!(read write: Part (Kebab, strict) {
        id,
        runs_on,
        needs = Vec::new(),
        note ; skip_if Option::is_none,
        tags with one_or_many = vec!["v".to_owned()],
    });

    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum Step {
        Preflight,
        GithubDraft,
    }

    string_enum!(Step (Kebab) { Preflight, GithubDraft });

    #[test]
    fn a_record_reads_what_it_writes_and_names_what_is_wrong() {
        let part: Part = from_str(r#"{"id": "a", "runs-on": ["x"], "tags": "t"}"#).unwrap();
        assert_eq!(part.needs, Vec::<String>::new());
        assert_eq!(part.tags, ["t"]);
        assert_eq!(
            serde_json::to_string(&part).unwrap(),
            r#"{"id":"a","runs-on":["x"],"needs":[],"tags":["t"]}"#
        );
        let err = |text: &str| from_str::<Part>(text).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"id": "a", "runs-on": [1]}"#),
            "runs-on[0]: invalid type: number `1`, expected a string"
        );
        assert_eq!(err(r#"{"id": "a"}"#), "missing field `runs-on`");
        assert_eq!(
            err(r#"{"id": "a", "runs-on": [], "nedds": []}"#),
            "nedds: unknown field `nedds`, expected one of `id`, `runs-on`, `needs`, `note`, `tags`"
        );
    }

    #[test]
    fn cases_are_serdes() {
        assert_eq!(Case::Kebab.key("tag_name"), "tag-name");
        assert_eq!(Case::Kebab.key("GithubDraft"), "github-draft");
        assert_eq!(Case::Camel.key("database_id"), "databaseId");
        assert_eq!(Case::Lower.key("OnDemand"), "ondemand");
        assert_eq!(Case::Same.key("runs_on"), "runs_on");
        assert_eq!(Step::GithubDraft.json_name(), "github-draft");
        assert_eq!(json!(Step::Preflight), json!("preflight"));
        let steps: BTreeMap<Step, u64> = from_str(r#"{"github-draft": 1}"#).unwrap();
        assert_eq!(steps[&Step::GithubDraft], 1);
        let err = from_str::<Step>(r#""pubish""#).unwrap_err().to_string();
        assert!(err.contains("unknown variant `pubish`"), "{err}");
    }

    #[test]
    fn toml_reads_as_json() {
        let doc: toml_edit::DocumentMut = "a = 1\nb = [1.5, \"x\"]\n[[t]]\nc = { d = true }\n"
            .parse()
            .unwrap();
        assert_eq!(
            from_toml(doc.as_item(), &At::default()).unwrap(),
            json!({"a": 1, "b": [1.5, "x"], "t": [{"c": {"d": true}}]})
        );
    }
}
