//! Jinja templates from the repository (release notes, titles), rendered
//! with minijinja over a JSON context. A variable the context lacks is an
//! error naming the template and its line, never an empty string in a
//! published release.

use std::collections::BTreeMap;

use anyhow::Result;
use minijinja::{Environment, UndefinedBehavior, Value};

/// Renders `source` (called `name` in errors: the file's path) with `context`.
/// Block tags leave no blank lines (`trim_blocks`, `lstrip_blocks`), the
/// final newline is kept.
pub fn render(name: &str, source: &str, context: &serde_json::Value) -> Result<String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are valid");
    env.set_syntax(syntax);
    env.add_template(name, source)
        .and_then(|()| env.get_template(name)?.render(value(context)))
        .map_err(|err| {
            let line = err.line().map_or(String::new(), |l| format!(":{l}"));
            let what = err
                .detail()
                .map_or(err.kind().to_string(), |d| format!("{}: {d}", err.kind()));
            let known = match context {
                serde_json::Value::Object(map) => map
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            anyhow::anyhow!("{name}{line}: {what}\nthe template's variables are: {known}")
        })
}

fn value(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::from(()),
        J::Bool(b) => Value::from(*b),
        J::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::from(u),
            (None, Some(i)) => Value::from(i),
            _ => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::from(s.as_str()),
        J::Array(items) => items.iter().map(value).collect(),
        J::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| (k.clone(), value(v)))
                .collect::<BTreeMap<String, Value>>(),
        ),
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
}
