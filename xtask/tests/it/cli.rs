//! The command line as a user meets it.

use crate::support::{self, repo_root, Xtask};

#[test]
fn help_lists_every_subcommand_with_a_description() {
    let run = Xtask::new(&repo_root()).args(&["--help"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (name, words) in [
        ("doctor", "tools and credentials"),
        ("bump", "new version in every file"),
        ("version", "every file holds it"),
        ("checksums", "like GNU sha256sum"),
        ("test", "Run every test"),
        ("bench", "speed goals"),
    ] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no `{name}` in --help:\n{}", run.stdout));
        assert!(
            line.contains(words),
            "`{name}` line lacks {words:?}: {line}"
        );
    }
    assert!(
        run.stdout.contains("dry run unless `--execute`"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_usage_exits_2_with_a_message() {
    let run = Xtask::new(&repo_root()).args(&["relase"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unrecognized subcommand 'relase'"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_mistyped_flag_gets_a_suggestion_and_the_usage_says_cargo_xtask() {
    let run = Xtask::new(&repo_root())
        .args(&["release", "--exeucte"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("a similar argument exists: '--execute'"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Usage: cargo xtask release"),
        "{}",
        run.stderr
    );
}

#[test]
fn outside_a_workspace_the_error_says_where_to_run() {
    let dir = support::TempDir::new("nowhere");
    let run = Xtask::new(dir.path()).args(&["doctor"]).run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: no workspace found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("run `cargo xtask` inside the monorepo"),
        "{}",
        run.stderr
    );
}

/// A `cargo xtask …` command the docs show, where it is shown.
struct Documented {
    place: String,
    command: String,
}

/// Every `cargo xtask` command in README.md and docs/*.md that a reader can
/// type as it stands: lines of code blocks, and inline code spans with no
/// placeholder (`<X>`, `[--flag]`, `a|b`, `...`). Commands that change the
/// world (`--execute`) or take minutes (`test`, `bench`) are left to their
/// own tests.
fn documented_commands() -> Vec<Documented> {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let mut in_block = false;
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_block = !in_block;
                continue;
            }
            let candidates: Vec<String> = if in_block {
                vec![line.split(" #").next().unwrap().trim().to_owned()]
            } else {
                line.split('`')
                    .skip(1)
                    .step_by(2)
                    .map(|s| s.trim().to_owned())
                    .collect()
            };
            for command in candidates {
                let placeholder = ["<", "[", "|", "...", "…", "X.Y"]
                    .iter()
                    .any(|p| command.contains(p))
                    || command.split_whitespace().any(|word| {
                        word.len() >= 3 && word.bytes().all(|b| b.is_ascii_uppercase())
                    });
                let long_or_changing = command.contains("--execute")
                    || command.starts_with("cargo xtask test")
                    || command.starts_with("cargo xtask bench");
                if command.starts_with("cargo xtask ")
                    && !placeholder
                    && !long_or_changing
                    && !found.iter().any(|d: &Documented| d.command == command)
                {
                    found.push(Documented {
                        place: format!("{name}:{}", n + 1),
                        command,
                    });
                }
            }
        }
    }
    found
}

/// Documented commands that need what no script can install here (the
/// Hailo DFC), report what is missing by their exit code (`doctor`) or
/// refuse this repository (`init`), and what they must say instead of
/// succeeding.
const FAIL_HERE_SAYING: &[(&str, &str)] = &[
    (
        "cargo xtask hef-compile",
        "`hailo`: install the Hailo Dataflow Compiler 3.x",
    ),
    (
        "cargo xtask doctor --json",
        "needed tools are missing or not working",
    ),
    // This repository is configured: init refuses to replace it
    // (tests/it/adopt.rs runs it where it belongs).
    ("cargo xtask init", "already has a release configuration"),
];

#[test]
fn every_documented_command_runs_as_written() {
    let commands = documented_commands();
    let typed: Vec<&str> = commands.iter().map(|d| d.command.as_str()).collect();
    // The README's main command is among them: the collector itself works.
    assert!(typed.contains(&"cargo xtask release"), "{typed:?}");
    assert!(commands.len() >= 5, "{typed:?}");

    let fixture = support::Fixture::new();
    let fakes = support::Fakes::install();
    let xtask = env!("CARGO_BIN_EXE_xtask");
    let mut failures = Vec::new();
    for Documented { place, command } in &commands {
        // A shell, because the reader's shell expands what the docs show
        // (globs, `~`); `cargo xtask` is this build of the binary.
        let script = format!("cargo() {{ shift; '{xtask}' \"$@\"; }}\n{command}");
        let mut sh = std::process::Command::new("sh");
        sh.args(["-c", &script])
            .current_dir(&fixture.root)
            .stdin(std::process::Stdio::null())
            .env("XTASK_PYTHON", support::venv_python());
        for var in support::SECRET_VARS {
            sh.env_remove(var);
        }
        for (key, value) in fakes.env() {
            sh.env(key, value);
        }
        let out = sh.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = FAIL_HERE_SAYING.iter().find(|(c, _)| c == command);
        if let Some((_, saying)) = expected {
            if out.status.code() != Some(1) || !stderr.contains(saying) {
                failures.push(format!(
                    "{place}: `{command}` should fail here saying {saying:?}, got {:?}:\n{stderr}",
                    out.status.code()
                ));
            }
        } else if !out.status.success() {
            let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
            failures.push(format!(
                "{place}: `{command}` exited {:?}:\n    {}",
                out.status.code(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} documented commands fail:\n{}",
        failures.len(),
        commands.len(),
        failures.join("\n")
    );
}

#[test]
fn a_secret_too_short_to_mask_is_refused_by_name() {
    let run = Xtask::new(&repo_root())
        .args(&["version"])
        .env("TWINE_PASSWORD", "e")
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: TWINE_PASSWORD is shorter than 8 characters"),
        "{}",
        run.stderr
    );
    // Nothing ran: no output but the error, and no letter hidden in it.
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(!run.stderr.contains("***"), "{}", run.stderr);
}

#[test]
fn a_cargo_toml_that_does_not_parse_is_named_with_its_line() {
    let dir = support::TempDir::new("bad-toml");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"x\"\n",
    )
    .unwrap();
    let run = Xtask::new(dir.path()).args(&["version"]).run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("Cargo.toml: not valid TOML: TOML parse error at line 2"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("no workspace found"), "{}", run.stderr);
}

#[test]
fn the_xtask_survives_the_ignore_patterns_of_ml_repositories() {
    // What ML projects' .gitignore files commonly say: a copied xtask/ must
    // lose no file to them, or the adoption commit silently lacks it.
    let patterns = "models/\ndata/\ncheckpoints/\nweights/\noutputs/\nruns/\nlogs/\nwandb/\n\
                    *.pt\n*.pth\n*.onnx\n*.npy\n*.hef\n*.har\n*.ckpt\n*.bin\n*.log\n";
    let dir = support::TempDir::new("ml-ignore");
    let repo = dir.path();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(repo)
            .output()
            .unwrap()
    };
    assert!(git(&["init", "--quiet"]).status.success());
    std::fs::write(repo.join(".gitignore"), patterns).unwrap();
    let xtask = repo_root().join("xtask");
    let mut files = Vec::new();
    let mut stack = vec![xtask.clone()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(
                    path.strip_prefix(repo_root())
                        .unwrap()
                        .display()
                        .to_string(),
                );
            }
        }
    }
    assert!(files.len() > 50, "{files:?}");
    let mut check = vec!["check-ignore", "--no-index"];
    check.extend(files.iter().map(String::as_str));
    let ignored = git(&check);
    assert!(
        ignored.stdout.is_empty(),
        "common ML ignore patterns drop these xtask files:\n{}",
        String::from_utf8_lossy(&ignored.stdout)
    );
}
