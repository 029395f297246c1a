//! The GitHub workflows call commands that exist, with the README's test
//! command and the release's inputs wired as documented.

use crate::support::{repo_root, Xtask};

fn workflow(name: &str) -> String {
    std::fs::read_to_string(repo_root().join(".github/workflows").join(name)).unwrap()
}

/// Every `cargo xtask <command>` in `text` is a subcommand the binary knows.
fn assert_commands_exist(text: &str) {
    let help = Xtask::new(&repo_root()).args(&["--help"]).run().stdout;
    let mut found = 0;
    for line in text.lines() {
        if let Some(rest) = line.split("cargo xtask ").nth(1) {
            let command = rest.split_whitespace().next().unwrap();
            found += 1;
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{command} "))),
                "`cargo xtask {command}` is not a subcommand:\n{help}"
            );
        }
    }
    assert!(found > 0, "no cargo xtask command found");
}

#[test]
fn ci_runs_the_readme_test_command() {
    let ci = workflow("ci.yml");
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    assert!(
        readme.contains("cargo xtask test"),
        "the README names the test command"
    );
    // GitHub runs the same script as every other CI.
    assert!(ci.contains("bash .ci/run"), "{ci}");
    assert!(std::fs::read_to_string(repo_root().join(".ci/run"))
        .unwrap()
        .trim_end()
        .ends_with("cargo xtask test"));
}

#[test]
fn the_release_workflow_is_dispatched_with_a_bump_and_a_dry_run_switch() {
    let release = workflow("release.yml");
    assert_commands_exist(&release);
    assert!(release.contains("workflow_dispatch:"));
    for option in ["auto", "patch", "minor", "major", "rc"] {
        assert!(release.contains(option), "bump option {option}");
    }
    assert!(release.contains("dry_run:") && release.contains("type: boolean"));
    assert!(release.contains("cargo xtask release ${{ inputs.bump }} $execute"));
    assert!(release.contains("execute=\"--execute\""));
    // "Nothing to release" (exit 21) is not a failed run.
    assert!(release.contains("\"$status\" -eq 21"));
    // Secrets go through the environment, never the command line.
    for line in release.lines().filter(|l| l.contains("cargo xtask")) {
        assert!(
            !line.contains("secrets."),
            "a secret on a command line: {line}"
        );
    }
    for secret in ["GH_TOKEN:", "TWINE_PASSWORD:"] {
        assert!(
            release.contains(secret),
            "{secret} not in the job's environment"
        );
    }
}
