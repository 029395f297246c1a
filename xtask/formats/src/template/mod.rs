//! Jinja templates from the repository (release notes, titles), rendered
//! over a JSON context by a small renderer of the Jinja subset release notes
//! need (docs/RELEASE-NOTES.md, "Template syntax"). A variable the context
//! lacks is an error naming the template and its line, never an empty string
//! in a published release; so is anything outside the subset.
//!
//! It replaced minijinja, which cost the cold build of `cargo xtask` about
//! 2.7 s of CPU. It keeps minijinja's behaviour as the old code configured
//! it (strict undefined, `trim_blocks`, `lstrip_blocks`, the final newline
//! kept): `xtask/tests/it/templates.rs` renders a table of templates with
//! both and compares (minijinja is a dev-dependency of the xtask only).

mod ast;
mod eval;
mod expr;
mod filters;
mod lexer;
mod literal;
mod ops;
mod parser;
mod value;

pub use value::Value;

use std::fmt;

/// Renders `source` (called `name` in errors: the file's path) with
/// `context` (a map; anything else is an empty one). Block tags leave no
/// blank lines (`trim_blocks`, `lstrip_blocks`), the final newline is kept.
/// An error is `NAME:LINE: what`, then the variables the context has.
pub fn render(name: &str, source: &str, context: &Value) -> Result<String, String> {
    parser::parse(source)
        .and_then(|template| eval::render(&template, context, escapes_html(name)))
        .map_err(|err| {
            let line = err.line.map_or(String::new(), |l| format!(":{l}"));
            let known = match context {
                Value::Map(map) => map
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            format!("{name}{line}: {err}\nthe template's variables are: {known}")
        })
}

/// minijinja's default: HTML escaping for a template named so.
fn escapes_html(name: &str) -> bool {
    let name = [".j2", ".jinja2", ".jinja"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name);
    matches!(name.rsplit('.').next(), Some("html" | "htm" | "xml"))
}

/// What the subset has, for the error that refuses the rest.
const SUBSET: &str = "release-notes templates use a Jinja subset: `{{ expressions }}`, \
    `{% if %}`/`elif`/`else`, `{% for %}`/`else` with `loop`, the filters length, default, \
    join, upper, lower, trim, replace, round, first, last, string, int and the tests defined, \
    undefined, none (docs/RELEASE-NOTES.md, \"Template syntax\")";

#[derive(Debug)]
struct Error {
    kind: Kind,
    /// Set where the error happens, or by the parser: the last token read.
    line: Option<u32>,
    detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Syntax,
    Undefined,
    Unsupported,
    Invalid,
}

impl Error {
    fn new(kind: Kind, detail: &str) -> Error {
        Error {
            kind,
            line: None,
            detail: detail.to_owned(),
        }
    }

    fn at(kind: Kind, line: u32, detail: &str) -> Error {
        Error {
            line: Some(line),
            ..Error::new(kind, detail)
        }
    }

    fn undefined(value: &value::Value, line: u32) -> Error {
        let what = match value {
            value::Value::Undefined { what, .. } => what.as_str(),
            _ => "",
        };
        Error::at(Kind::Undefined, line, what)
    }

    fn unsupported(line: u32, what: &str) -> Error {
        Error::at(Kind::Unsupported, line, &format!("{what}: {SUBSET}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Syntax => "syntax error",
            Kind::Undefined => "undefined value",
            Kind::Unsupported => "not supported",
            Kind::Invalid => "invalid operation",
        };
        write!(f, "{kind}: {}", self.detail)
    }
}
