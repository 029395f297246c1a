//! The command line as a user meets it.

mod support;

use support::{repo_root, Xtask};

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
