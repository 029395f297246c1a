//! Models the product pulls by name at run time (an Ollama tag, a Hugging
//! Face revision), pinned by digest in `[workspace.metadata.release.references]`:
//! each pin is checked against what the registry holds now with the
//! project's own `check` command, and a release whose pin moved is refused.

use anyhow::Result;

use crate::core::config::{sha256_hex, Workspace};
use crate::core::runner::{Effect, Runner};

/// Every pin that no longer matches, or could not be checked.
pub fn problems(ws: &Workspace, runner: &Runner) -> Result<Vec<String>> {
    let references = &ws.release.references;
    let mut problems = Vec::new();
    for model in &references.models {
        let argv: Vec<String> = references
            .check
            .iter()
            .map(|a| {
                crate::core::config::fill(a, &[("name", &model.name), ("digest", &model.digest)])
            })
            .collect();
        let cmd = crate::tools::project(&argv, &Default::default(), &ws.root, Effect::Query);
        let out = runner.output(&cmd)?;
        let pinned = sha256_hex(&model.digest).unwrap_or_default();
        if !out.success() {
            problems.push(format!(
                "referenced model {}: `{cmd}` failed: {} (references.check in Cargo.toml)",
                model.name,
                out.stderr.trim()
            ));
            continue;
        }
        match first_digest(&out.stdout) {
            Some(found) if found == pinned => {}
            Some(found) => problems.push(format!(
                "referenced model {} is pinned to sha256:{pinned}, but the registry now holds \
                 sha256:{found}: the name moved; pin the new digest in references.models of \
                 Cargo.toml once it is tested, or serve the pinned one again",
                model.name
            )),
            None => problems.push(format!(
                "referenced model {}: `{cmd}` printed no sha256 digest (64 hex digits); \
                 references.check must print the registry's digest",
                model.name
            )),
        }
    }
    Ok(problems)
}

/// The first 64-hex-digit word (with or without `sha256:`) in `text`.
fn first_digest(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .find_map(sha256_hex)
}

#[cfg(test)]
mod tests {
    use super::first_digest;

    #[test]
    fn the_first_sha256_counts_with_or_without_its_prefix() {
        let hex = "a".repeat(64);
        assert_eq!(
            first_digest(&format!("digest: sha256:{hex}\n")),
            Some(hex.clone())
        );
        assert_eq!(
            first_digest(&format!("{{\"digest\": \"{hex}\"}}")),
            Some(hex.clone())
        );
        assert_eq!(
            first_digest(&format!("{} {hex}", "b".repeat(63))),
            Some(hex)
        );
        assert_eq!(first_digest("NAME ID\nqwen 2b4d3f0e1c9a"), None);
    }
}
