//! The renderer against minijinja, configured as the old code did (strict
//! undefined, `trim_blocks`, `lstrip_blocks`, the final newline kept): each
//! template of the table over each context renders byte for byte the same,
//! or both fail, ours naming the same line (and for an undefined value or a
//! syntax error, saying so). minijinja is a dev-dependency of the xtask (not
//! of `xtask-formats`, whose lock entries would then differ in a copied
//! `xtask/`): this is the only place it is compiled.

use serde_json::{json, Value as Json};

use xtask_formats::template;

/// Ours, over the context read as the xtask reads it (`core/template.rs`,
/// which an integration test cannot call).
fn render(name: &str, source: &str, context: &Json) -> Result<String, String> {
    fn ours(json: &Json) -> template::Value {
        use template::Value as V;
        match json {
            Json::Null => V::None,
            Json::Bool(b) => V::Bool(*b),
            Json::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => V::Int(u.into()),
                (None, Some(i)) => V::Int(i.into()),
                _ => V::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => V::Str(s.clone()),
            Json::Array(items) => V::List(items.iter().map(ours).collect()),
            Json::Object(map) => V::Map(map.iter().map(|(k, v)| (k.clone(), ours(v))).collect()),
        }
    }
    template::render(name, source, &ours(context))
}

const NAME: &str = "t.md.j2";

fn minijinja_render(name: &str, source: &str, context: &Json) -> Result<String, minijinja::Error> {
    use minijinja::{syntax::SyntaxConfig, Environment, UndefinedBehavior};
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .unwrap();
    env.set_syntax(syntax);
    env.add_template(name, source)?;
    env.get_template(name)?.render(value(context))
}

/// The old code's conversion of the JSON context.
fn value(json: &Json) -> minijinja::Value {
    use minijinja::Value;
    match json {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::from(u),
            (None, Some(i)) => Value::from(i),
            _ => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => items.iter().map(value).collect(),
        Json::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| (k.clone(), value(v)))
                .collect::<std::collections::BTreeMap<String, Value>>(),
        ),
    }
}

/// Renders with both; a description of the difference, if any.
fn differ(name: &str, source: &str, context: &Json) -> Option<String> {
    let ours = render(name, source, context).map_err(|e| e.to_string());
    let theirs = minijinja_render(name, source, context);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) if a == b => None,
        (Err(ours), Err(theirs)) => {
            let line = theirs.line().map_or(String::new(), |l| format!(":{l}"));
            let kind = match theirs.kind() {
                minijinja::ErrorKind::UndefinedError => "undefined value",
                minijinja::ErrorKind::SyntaxError => "syntax error",
                _ => "",
            };
            let prefix = format!("{name}{line}: {kind}");
            let tail = "\nthe template's variables are: ";
            (!ours.starts_with(&prefix) || !ours.contains(tail))
                .then(|| format!("errors differ: ours {ours:?}, minijinja's {theirs:?}"))
        }
        _ => Some(format!("ours {ours:?}, minijinja's {theirs:?}")),
    }
}

/// Everything the templates below use, in three versions: full, empty
/// (lists empty, values none) and missing (an empty context).
fn contexts() -> [Json; 3] {
    let full: Json = serde_json::from_str(
        r#"{
        "title": "edge v1.2.0 - 2 features", "name": "edge", "version": "1.2.0",
        "empty": "", "zero": 0, "one": 1, "pi": 3.14159, "neg": -7, "acc": 0.5768, "whole": 1.0,
        "big": 18446744073709551615, "tiny": 1e-7, "huge": 1e20, "t": true, "f": false,
        "nothing": null, "items": ["a", "b", "c"], "nums": [3, 1, 2.5], "nested": [[1, 2], [3]],
        "words": "Hello World", "spaced": " \t padded \n", "quote": "it's \"q\"\n",
        "unicode": "héllo wörld", "sha": "0123456789abcdef0123", "empty_list": [], "empty_map": {},
        "map": {"b": 2, "a": "x", "c": [1, null, true, 0.5, "it's"]},
        "models": [
            {"name": "tcn", "version": "0.1.0", "accuracy_percent": "72%", "size": 1234,
             "size_human": "1.2 KiB", "target": "hailo8", "files": ["tcn.onnx", "tcn.hef"],
             "facts": {"input_shape": [100, 9], "platform": null, "accuracy": 0.72}},
            {"name": "vae", "version": null, "accuracy_percent": null, "size": 0,
             "size_human": "0 B", "target": null, "files": [], "facts": {}}
        ]}"#,
    )
    .unwrap();
    let mut empty = full.clone();
    for (_, value) in empty.as_object_mut().unwrap() {
        *value = match value {
            Json::Array(_) => json!([]),
            Json::Object(_) => json!({}),
            _ => Json::Null,
        };
    }
    [full, empty, json!({})]
}

/// Every construct of the subset, whitespace control, and errors.
const TEMPLATES: &[&str] = &[
    // Text and whitespace control.
    "plain text\nno tags\n",
    "",
    "no newline at the end",
    "{{ name }}",
    "{% if t %}yes{% endif %}",
    "a\n{% if t %}\nyes\n{% endif %}\nb\n",
    "a\n    {% if t %}\n    yes\n    {% endif %}\nb\n",
    "a\n  {% if t %}  \nyes\n  {% endif %}b\n  {% if f %}x{% endif %}   \nc\n",
    "x {% if t %}inline{% endif %} y\n  z {% if t %}\nw{% endif %}\n",
    "  {{ name }}\n  {{- name }}\n{{+ name }} {%- if t -%}  x  {%- endif -%}  \n  end {# c #}",
    "{% for i in items %}\n    {%- if loop.first %}first {% endif -%}\n    {{ i }}\n{%- endfor %}\n",
    "a {# comment at the end #}",
    "{% if t %}\n{% endif %}",
    "{{- name -}}\n  {{ version }}  \n  {{ name }}\n",
    "a  {{- name }}  b {{ name -}}  \n\n c\n",
    "a\n\n{%- if t %}\nX\n{%- endif %}\n\nb\n",
    "a\n{% if t -%}\n\n   X\n{%- endif %}\nb",
    "a\n  {%+ if t %}X{% endif +%}\nb\n  {%+ if t +%}\nY\n{% endif %}",
    "{# comment #}\nA\n  {# indented comment #}\nB\n{#- trim -#}\n  C {#+ keep +#}\n  D\n",
    "{#- notes\n    multi-line -#}\n# {{ title }}\n\n{##}x{#-#}y\n",
    "line\r\n{% if t %}\r\nwin\r\n  {% endif %}\r\nend\r\n",
    "\t{% if t %}\ttab\n\t{% endif %}\n \u{a0}{% if t %}nbsp\n{% endif %}",
    "{% if t %}a{% else %}b{% endif %}\n{% if f %}a{% else %}b{% endif %}\n",
    "{% if zero %}z{% elif one == 2 %}two{% elif one %}one{% else %}none{% endif %}\n",
    "{% if t %}\n  {% if f %}\n  a\n  {% elif not f %}\n  b\n  {% endif %}\n{% endif %}\n",
    "{{ '{{' }} {{ '%}' }} { {x} } {%- if t %} % } {% endif %}",
    // Loops.
    "{% for i in items %}{{ i }}{% if not loop.last %}, {% endif %}{% endfor %}\n",
    "{% for i in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }} {% endfor %}\n",
    "{% for i in empty_list %}{{ i }}{% else %}nothing{% endfor %}\n",
    "{% for i in items %}\n- {{ i }}\n{% else %}\nnone\n{% endfor %}\n",
    "{% for row in nested %}\n  {% for x in row %}\n  {{ loop.index }}:{{ x }}\n  {% endfor %}\n| {{ loop.index }} {{ row }}\n{% endfor %}\n",
    "{% for k in map %}{{ k }}={{ map[k] }};{% endfor %}\n",
    "{% for c in name %}[{{ c }}]{% endfor %}{% for c in unicode %}{{ c }}.{% endfor %}\n",
    "{% for x in nothing %}x{% else %}empty{% endfor %}\n",
    "{% for m in models if m.size %}{{ m.name }} {{ loop.length }}{% endfor %}\n",
    "{% for name in items %}{{ name }}{% endfor %} {{ name }}\n",
    "{% for i in empty_list %}{% else %}{{ loop.index }}{% endfor %}",
    "{% for i in items %}{% for j in nums %}{{ i }}{{ j }} {% endfor %}{% endfor %}\n",
    "{% for a in items %}{% for b in nums if loop.index > 1 %}{{ a }}{{ b }}{{ loop.depth }}{{ loop.depth0 }} {% endfor %}{% endfor %}\n",
    "| model | size |\n|---|---|\n{% for m in models %}\n| {{ m.name }} | {{ m.size_human if m.size else \"not staged\" }} | {{ m.version or \"-\" }} | {{ m.accuracy_percent or \"-\" }} |{% if m.target %} ({{ m.target }}){% endif %}\n{% endfor %}\n",
    // Expressions.
    "{{ 'single' }} {{ \"double\" }} {{ 'it\\'s' }} {{ \"tab\\tnew\\nline\" }} {{ 'a' \"b\" }} {{ \"\\u00e9\\x41\\101\\q\\/\" }} {{ '\\ud83d\\ude00' }}",
    "{{ 1 }} {{ -3 }} {{ 1.5 }} {{ 1.0 }} {{ 1e3 }} {{ 2.5e-3 }} {{ 0.5768 }} {{ 1_000 }} {{ 0x1f }} {{ 1.5e+2 }}",
    "{{ acc }} {{ whole }} {{ big }} {{ neg }} {{ tiny }} {{ huge }} {{ pi }} {{ -pi }} {{ -neg }}",
    "{{ true }} {{ false }} {{ none }} {{ True }} {{ None }} {{ nothing }} {{ t }} {{ empty }}|",
    "{{ [1, 'a', none, true, 1.5, [2], \"it's\"] }} {{ items }} {{ [] }} {{ map }} {{ models[0].facts }} {{ empty_map }} {{ [tiny, huge, quote] }}",
    "{{ models[0].name }} {{ models[0]['name'] }} {{ map.a }} {{ map['b'] }} {{ items[1] }} {{ items[-1] }} {{ nested.0.1 }} {{ name[0] }} {{ nested[1][0] }}",
    "{{ name[:2] }} {{ name[1:3] }} {{ name[-2:] }} {{ items[1:] }} {{ items[::-1] }} {{ items[::2] }} {{ name[10:] }} {{ nothing[1:] }} {{ unicode[1:4] }} {{ items[-5:-1] }} {{ name[3:1:-1] }}",
    "`{{ sha[:12] }}…` {{ sha[:12] | length }}",
    "{{ not t }} {{ t and 'yes' }} {{ f and 'yes' }} {{ empty or '-' }} {{ nothing or 'dash' }} {{ name or '-' }} {{ zero or one }} {{ t and f or 'x' }} {{ not not items }}",
    "{{ 1 == 1.0 }} {{ one != 2 }} {{ 1 < 2 }} {{ 'a' < 'b' }} {{ 2 <= 2 }} {{ 3 > 2.5 }} {{ 1 >= 2 }} {{ t == 1 }} {{ items == ['a', 'b', 'c'] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ nothing == none }} {{ 'a' == 1 }} {{ 1 < 'a' }}",
    "{{ [1, 2] < [1, 3] }} {{ [1] < [1, 0] }} {{ 'b' > 'abc' }} {{ none < 0 }} {{ f < t }} {{ models[0] == models[0] }} {{ models[0] != models[1] }} {{ items[true] }} {{ name[-1] }}",
    "{{ 'a' in ('x' if f) }} {{ ('a' if f) | default('d') }} {{ ('a' if f) ~ 'b' }} {{ ('a' if f) is defined }} {{ ('a' if f) | upper }}|",
    "{{ 'a' in items }} {{ 'z' not in items }} {{ 'ell' in words }} {{ 'a' in map }} {{ 1 in nums }} {{ 1 in [1.0] }} {{ 1 in '123' }} {{ 'x' not in name }}",
    "{{ name ~ '-' ~ version ~ one ~ pi ~ nothing ~ t ~ items }}",
    "{{ 1 + 2 }} {{ 1 + 2.5 }} {{ 7 - 10 }} {{ 3 * 4 }} {{ 3 * 1.5 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7.5 // 2 }} {{ 7.5 % 2 }} {{ -7.5 % 2 }}",
    "{{ 'ab' + 'cd' }} {{ [1] + [2] }} {{ 'ab' * 2 }} {{ 2 * 'ab' }} {{ [0] * 3 }} {{ t + 1 }} {{ 0.1 + 0.2 }} {{ one / 3 }}",
    "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'a' ~ 2 * 3 }} {{ (1 + 2) ~ 'a' }} {{ not 1 == 2 }} {{ -2 * 3 }} {{ 10 - 2 - 3 }} {{ 2 * 3 ~ 4 }} {{ not one in nums }}",
    "{{ 'yes' if t else 'no' }} {{ 'yes' if f else 'no' }} [{{ 'only' if f }}] {{ 'a' if f else 'b' if t else 'c' }}",
    // Filters and tests.
    "{{ items | length }} {{ name | length }} {{ map | length }} {{ empty_list | length }} {{ unicode | length }} {{ items|length }}",
    "{{ missing | default('dflt') }} {{ nothing | default('x') }} {{ empty | default('e', true) }} {{ name | default('n') }} [{{ missing | default }}] {{ missing | d('d') }} {{ zero | default(5, true) }}",
    "{{ items | join(', ') }} {{ nums | join }} {{ name | join('.') }} {{ nothing | join(',') }} {{ [1, none, 1.5, true] | join('/') }} {{ map | join(one) }}",
    "{{ words | upper }} {{ words | lower }} [{{ spaced | trim }}] {{ unicode | upper }} {{ 'xxhixx' | trim('x') }} {{ one | upper }} {{ nothing | lower }}",
    "{{ words | replace('o', '0') }} {{ words | replace('l', 'L', 2) }} {{ acc | replace('.', ',') }} {{ 'ab' | replace('', '-') }}",
    "{{ pi | round }} {{ pi | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ one | round(1) }} {{ acc | round(3) }} {{ 1.005 | round(2) }} {{ 0.125 | round(2) }}",
    "{{ items | first }} {{ items | last }} {{ name | first }} {{ map | first }} {{ map | last }} {{ nested | first | last }} {{ unicode | last }}",
    "{{ one | string }} {{ pi | string }} {{ nothing | string }} {{ '42' | int }} {{ '-3' | int }} {{ 3.9 | int }} {{ '2.5' | int }} {{ t | int }} {{ nothing | int }} {{ (one | string) ~ 'x' }} {{ '+7' | int }}",
    "{{ items | join(',') | upper | replace(',', ';') }} {{ models | length > 1 }} {{ -one | string }} {{ name | upper ~ version }}",
    "{{ name is defined }} {{ missing is defined }} {{ missing is not defined }} {{ missing is undefined }} {{ nothing is none }} {{ name is not none }} {{ map.zz is defined }} {{ models[0].target is none }}",
    "{% if missing is defined and missing %}x{% else %}not{% endif %} {% if missing is not defined or missing %}y{% endif %}",
    "{{ (missing is defined) | string }} {{ not missing is defined }}",
    // Errors: undefined values in strict mode.
    "{{ missing }}",
    "line 1\n{{ models[0].nope }}\n",
    "{% if missing %}x{% endif %}",
    "{{ missing or '-' }}",
    "{{ missing.attr is defined }}",
    "a\n{% for x in missing %}{% endfor %}",
    "{{ missing | length }}",
    "{{ missing | upper }}",
    "{{ missing ~ 'x' }}",
    "{{ missing == 1 }}",
    "{{ 'a' in missing }}",
    "{{ not missing }}",
    "{{ missing[0] }}",
    "{{ empty_list | first }}",
    "{{ items[7] }}",
    "{% for m in models %}\n{{ m.name }}\n{{ m.facts.platform.x }}\n{% endfor %}",
    "{{ 'x' if missing else 'y' }}",
    "{{ missing | int }}",
    "{{ missing | join(',') }}",
    "{{ ('a' if f)[1:] }}",
    "{{ ('a' if f).x }}",
    // Errors: syntax.
    "ok\n{% for x in %}\n",
    "{% if t %}\nunclosed\n",
    "{% for x in items %}\n{{ x }}\n",
    "{{ name ",
    "{{ }}",
    "a\n{% endif %}",
    "{% for x in items %}{% endif %}{% endfor %}",
    "{{ 'unterminated }}",
    "a\n{# unclosed comment",
    "{{ name | }}",
    "{{ items[ }}",
    "{% if %}{% endif %}",
    "{{ 1 + }}",
    "{% for loop in items %}{% endfor %}",
    "{{ name $ }}",
    "line1\nline2 {{ name.\n }}",
    "{% else %}",
    "{{ '\\u12' }}",
    "{% if t %}{% else %}{% else %}{% endif %}",
    "{{ name }}\n{% %}",
    "{{ 1_ }}",
    "{% if t %}x{% elif %}y{% endif %}",
    "{{ items[] }}",
    "{% for x in items %}{% endfor extra %}",
    "{{ name\n  | upper }} {{ \n missing }}",
    // Errors in an expression that spans lines: the line minijinja names.
    "{{ missing\n ~ 'x' }}",
    "{{ missing.b\n.c }}",
    "{% if\n missing %}x{% endif %}",
    "{% for x in\n missing %}{% endfor %}",
    "{{ missing\n or 'x' }}",
    "{{ 'x' if\n missing else 'y' }}",
    "{{ -\n name }}",
    "{{ items[\n 1:'a'] }}",
    "{{ [1,\n ('a' if f)] | join }}",
    "{{ 1 +\n missing }}",
    "{{ missing\n | upper }}",
    "{{ name | replace(\n missing, 'x') }}",
    "{{ items\n [missing] }}",
    "{% for m in models\n if m.nope %}{% endfor %}",
    // Errors: invalid operations.
    "{{ 1 / 0 }}",
    "{{ 'a' - 1 }}",
    "{{ nothing | length }}",
    "{{ one | first }}",
    "{{ 'x' | int }}",
    "{% for x in one %}{% endfor %}",
    "{{ one[1:] }}",
    "{{ 5 // 0 }} {{ 5 % 0 }}",
    "{{ 'a' in one }}",
    "{{ -name }}",
    "{{ pi | round('x') }}",
    "{{ items[::0] }}",
    "{{ items + 'a' }}",
];

#[test]
fn renders_as_minijinja_does() {
    let mut failures = Vec::new();
    let contexts = contexts();
    let mut cases = 0;
    for template in TEMPLATES {
        for (i, context) in contexts.iter().enumerate() {
            // A template named *.html has its values escaped.
            let names: &[&str] = if i == 0 {
                &[NAME, "t.html.j2"]
            } else {
                &[NAME]
            };
            for name in names {
                cases += 1;
                if let Some(difference) = differ(name, template, context) {
                    failures.push(format!(
                        "{template:?} as {name} with context {i}: {difference}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases > 500, "{cases}");
}

/// The repository's two notes templates and the default title, over the
/// context `changelog --notes --context` printed for this repository, and
/// over variations: assets staged, signed, empty lists, none values.
#[test]
fn the_repositorys_templates_render_as_minijinja_does() {
    // Read, not included: a repository that adopts the xtask may have no
    // template of its own there.
    let own =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/release-notes.md.j2");
    let own = std::fs::read_to_string(own).unwrap_or_default();
    let templates = [
        include_str!("../../src/changelog/release-notes.md.j2"),
        &own,
        "{{ name }} v{{ version }} - {{ summary }}",
    ];
    let real: Json = serde_json::from_str(include_str!("templates-context.json")).unwrap();
    let mut staged = real.clone();
    staged["assets"] = json!([
        {"name": "tcn_encoder.onnx", "size": 52_000, "size_human": "50.8 KiB",
         "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "purpose": "ONNX model"},
        {"name": "sha256sum.txt", "size": 300, "size_human": "300 B",
         "sha256": "0".repeat(64), "purpose": "SHA-256 checksums of every asset"},
    ]);
    staged["models"][0]["size"] = json!(52_000);
    staged["models"][0]["size_human"] = json!("50.8 KiB");
    staged["models"][0]["files"] = json!(["tcn_encoder.onnx"]);
    staged["signed_by"] = json!("ABCDEF0123456789");
    staged["references"] = json!([{"name": "llama3:8b", "digest": "sha256:abc", "source": "ollama"}, {"name": "m", "digest": "sha256:def", "source": null}]);
    let mut bare = real.clone();
    for list in [
        "assets",
        "models",
        "references",
        "images",
        "packages",
        "install",
        "sections",
    ] {
        bare[list] = json!([]);
    }
    bare["changes"] = json!("");
    let mut nulls = staged.clone();
    for key in [
        "version",
        "accuracy_percent",
        "min_accuracy_percent",
        "target",
    ] {
        nulls["models"][0][key] = Json::Null;
    }
    nulls["models"][0]["size"] = json!(0);
    let mut failures = Vec::new();
    for (t, template) in templates.iter().enumerate() {
        for (c, context) in [&real, &staged, &bare, &nulls].into_iter().enumerate() {
            let ours = render(NAME, template, context).unwrap();
            if let Some(difference) = differ(NAME, template, context) {
                failures.push(format!("template {t}, context {c}: {difference}"));
            }
            assert!(!ours.contains("{{") && !ours.contains("{%"), "{ours}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
