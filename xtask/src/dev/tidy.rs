//! House rules that a compiler cannot keep, kept by a test (as
//! rust-analyzer's `xtask/src/tidy.rs` does): only the runner starts
//! processes, only `tools/` builds commands.
//!
//! Not for: style a formatter or clippy already checks.

use std::path::{Path, PathBuf};

/// What starts a process: only `runner.rs` may say it. (Spelled in pieces
/// so that this file does not match itself.)
const STARTS_PROCESSES: &[&str] = &[
    concat!("std::process::", "Command"),
    concat!("process::", "Command::new"),
    concat!("duct", "::"),
];

/// What builds a command: only `tools/` (and the runner's own tests) may.
const BUILDS_COMMANDS: &[&str] = &["Cmd::new("];

/// Every breach of the rules in `file` (a path relative to `src/`).
fn breaches(file: &str, text: &str) -> Vec<String> {
    let runner = file == "core/runner.rs";
    let tools = file.starts_with("tools/");
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        if let Some(needle) = STARTS_PROCESSES.iter().find(|p| code.contains(*p)) {
            if !runner {
                found.push(format!(
                    "src/{file}:{}: `{needle}` outside the runner; build a Cmd in tools/ and run it with the Runner",
                    n + 1
                ));
            }
        }
        if let Some(floor) = floor_breach(file, code) {
            found.push(format!("src/{file}:{}: {floor}", n + 1));
        }
        for needle in BUILDS_COMMANDS {
            if !runner && !tools && code.contains(needle) {
                found.push(format!(
                    "src/{file}:{}: `{needle}` outside tools/; add a typed function to the tool's wrapper there",
                    n + 1
                ));
            }
        }
    }
    found
}

/// `core/` uses nothing above it; `tools/` only `core/` (and itself).
fn floor_breach(file: &str, code: &str) -> Option<String> {
    let allowed: &[&str] = if file.starts_with("core/") {
        &["core"]
    } else if file.starts_with("tools/") {
        &["core", "tools"]
    } else {
        return None;
    };
    let used = code.split(concat!("crate", "::")).skip(1).map(|rest| {
        rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or_default()
    });
    let above: Vec<&str> = used.filter(|m| !allowed.contains(m)).collect();
    (!above.is_empty()).then(|| {
        format!(
            "uses `{}` from a floor above; {} may use only {}",
            above.join(", "),
            file.split('/').next().unwrap_or_default(),
            allowed.join(" and ")
        )
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("reading src/")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_runner_starts_processes_and_only_tools_build_commands() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found only {files:?}");
    let mut all = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&src).expect("under src/");
        let name = relative.to_string_lossy().replace('\\', "/");
        // This file spells out the patterns it looks for.
        if name == "dev/tidy.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("reading a source file");
        all.extend(breaches(&name, &text));
    }
    assert!(all.is_empty(), "house rules broken:\n{}", all.join("\n"));
}

#[test]
fn a_process_started_elsewhere_is_caught_with_its_place() {
    let text = concat!(
        "fn f() {\n    let c = std::process::",
        "Command::new(\"git\");\n}\n"
    );
    assert_eq!(
        breaches("release/push.rs", text),
        [format!(
            "src/release/push.rs:2: `{}` outside the runner; build a Cmd in tools/ and run it with the Runner",
            STARTS_PROCESSES[0]
        )]
    );
    assert!(breaches("core/runner.rs", text).is_empty());
    let built = "let c = Cmd::new(\"git\", Effect::Query);\n";
    assert_eq!(breaches("release/plan.rs", built).len(), 1);
    assert!(breaches("tools/git.rs", built).is_empty());
    assert!(breaches("release/plan.rs", "// Cmd::new( in a comment\n").is_empty());
    let upward = concat!("let h = crate::", "tools::install_hint(p);\n");
    assert_eq!(
        breaches("core/runner.rs", upward),
        ["src/core/runner.rs:1: uses `tools` from a floor above; core may use only core"]
    );
    assert!(breaches("steps/mod.rs", upward).is_empty());
    let domain = concat!("use crate::", "python::PythonDist;\n");
    assert_eq!(breaches("tools/gh.rs", domain).len(), 1);
    assert_eq!(breaches("core/config.rs", domain).len(), 1);
    assert!(breaches("steps/publish.rs", domain).is_empty());
}
