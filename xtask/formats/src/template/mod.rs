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

use std::fmt;

use anyhow::Result;

/// Renders `source` (called `name` in errors: the file's path) with `context`.
/// Block tags leave no blank lines (`trim_blocks`, `lstrip_blocks`), the
/// final newline is kept.
pub fn render(name: &str, source: &str, context: &serde_json::Value) -> Result<String> {
    parser::parse(source)
        .and_then(|template| eval::render(&template, context, escapes_html(name)))
        .map_err(|err| {
            let line = err.line.map_or(String::new(), |l| format!(":{l}"));
            let known = match context {
                serde_json::Value::Object(map) => map
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            anyhow::anyhow!("{name}{line}: {err}\nthe template's variables are: {known}")
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_loops_conditions_and_numbers_as_written() {
        let out = render(
            "t.j2",
            "# {{ title }}\n{% for m in models %}\n- {{ m.name }} {{ m.acc }}{% if m.hef %} (hef){% endif %};\n{% endfor %}\n",
            &json!({"title": "x v1", "models": [{"name": "a", "acc": 0.5768, "hef": true}, {"name": "b", "acc": 1, "hef": null}]}),
        )
        .unwrap();
        assert_eq!(out, "# x v1\n- a 0.5768 (hef);\n- b 1;\n");
    }

    #[test]
    fn an_unknown_variable_names_the_template_line() {
        let err = render(
            ".github/notes.j2",
            "# {{ title }}\n\n{{ titel }}\n",
            &json!({"title": "x"}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(".github/notes.j2:3: undefined value"),
            "{err}"
        );
        assert!(err.contains("variables are: title"), "{err}");
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let err = render("n.j2", "ok\n{% for x in %}\n", &json!({}))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("n.j2:2: syntax error"), "{err}");
    }

    #[test]
    fn a_missing_attribute_says_what_its_parent_has() {
        let err = render(
            "n.j2",
            "{% for a in assets %}\n{{ a.size_humane }}\n{% endfor %}",
            &json!({"assets": [{"name": "x", "size_human": "1 B"}]}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("n.j2:2: undefined value: `a.size_humane` (a has name, size_human)\n"),
            "{err}"
        );
    }

    #[test]
    fn the_rest_of_jinja_is_refused_naming_the_line_and_the_subset() {
        for (source, what) in [
            ("{% set x = 1 %}", "`{% set %}`"),
            ("{% macro m() %}{% endmacro %}", "`{% macro %}`"),
            ("{% include 'a.j2' %}", "`{% include %}`"),
            ("{% raw %}{{ x }}{% endraw %}", "`{% raw %}`"),
            ("{{ x | title }}", "the filter `title`"),
            ("{{ x is even }}", "the test `even`"),
            ("{{ range(3) }}", "calling a function or method"),
            ("{{ x.items() }}", "calling a function or method"),
            ("{{ {'a': 1} }}", "a map literal"),
            ("{{ (1, 2) }}", "a tuple"),
            ("{% for k, v in x %}{% endfor %}", "unpacking"),
            ("{{ x | join(', ', 'name') }}", "`join` with more than 1"),
            ("{{ x | default(d='-') }}", "a keyword argument"),
            ("{{ 2 ** 3 }}", "`**`"),
        ] {
            let source = format!("line 1\n\n  {source}\n");
            let err = render("t.j2", &source, &serde_json::json!({"x": [1]}))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("t.j2:3: not supported: "),
                "{source}: {err}"
            );
            assert!(err.contains(what), "{source}: {err}");
            assert!(err.contains("docs/RELEASE-NOTES.md"), "{err}");
        }
    }
}
