//! Release-notes templates (the notes, the title) over a JSON context. The
//! renderer is the crate `xtask-formats` (`xtask/formats/`, a Jinja subset:
//! docs/RELEASE-NOTES.md, "Template syntax"), which has no dependencies so
//! that cargo builds it beside the xtask's own; this reads the JSON into its
//! values.

use anyhow::Result;
use xtask_formats::template::{self, Value};

/// Renders `source` (called `name` in errors: the file's path) with
/// `context`: a variable the context lacks is an error naming the template
/// and its line, never an empty string in a published release.
pub fn render(name: &str, source: &str, context: &serde_json::Value) -> Result<String> {
    template::render(name, source, &value(context)).map_err(anyhow::Error::msg)
}

/// A JSON value as a template's: a whole number stays whole (`1`, not
/// `1.0`), objects are maps in key order.
fn value(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::None,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::Int(u.into()),
            (None, Some(i)) => Value::Int(i.into()),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::Str(s.clone()),
        J::Array(items) => Value::List(items.iter().map(value).collect()),
        J::Object(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), value(v))).collect()),
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
