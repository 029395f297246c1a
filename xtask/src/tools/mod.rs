//! One thin, typed wrapper per external tool. Each function *builds* a
//! [`Cmd`](crate::core::runner::Cmd) and runs nothing, so the same command can be
//! printed in a plan, run by the runner, or asserted in a test.
//!
//! This file is the catalogue: what each tool is and how to get it, so that a
//! missing tool is always reported with its fix, and all missing tools at once.

pub mod bench;
pub mod cargo;
pub mod docker;
pub mod gh;
pub mod git;
pub mod gpg;
pub mod hailo;
pub mod python;

use anyhow::{bail, Result};

/// An external program the xtask can drive.
#[derive(Debug)]
pub struct Tool {
    pub program: &'static str,
    /// How to get it, as a person would do it.
    pub install: &'static str,
}

pub const GIT: Tool = Tool {
    program: "git",
    install: "install Git: `apt-get install git`",
};

pub const PYTHON: Tool = Tool {
    program: "python3",
    install: "install Python 3.9+: `apt-get install python3 python3-venv`",
};

pub const DOCKER: Tool = Tool {
    program: "docker",
    install: "install Docker Engine: `apt-get install docker.io` (Debian) or docs.docker.com/engine/install",
};

pub const GH: Tool = Tool {
    program: "gh",
    install: "install the GitHub CLI: `apt-get install gh` (Debian) or cli.github.com",
};

pub const HAILO: Tool = Tool {
    program: "hailo",
    install: "install the Hailo Dataflow Compiler 3.x (Hailo-8/8L; x86_64 Linux only): \
              `pip install hailo_dataflow_compiler-3.x-py3-none-linux_x86_64.whl` in a venv, \
              a registered download from the Hailo Developer Zone, or use Hailo's AI Software \
              Suite container",
};

pub const HAILORTCLI: Tool = Tool {
    program: "hailortcli",
    install: "install HailoRT 4.x (the `hailort` package from the Hailo Developer Zone)",
};

pub const GPG: Tool = Tool {
    program: "gpg",
    install: "install GnuPG: `apt-get install gnupg`",
};

const CATALOGUE: &[&Tool] = &[&GIT, &PYTHON, &DOCKER, &GH, &HAILO, &HAILORTCLI, &GPG];

/// How to get `program`, when it is one of ours.
/// A command of `program`, which says how to install it when it is missing.
/// Every wrapper in `tools/` starts its commands here.
pub fn command(
    program: impl Into<String>,
    effect: crate::core::runner::Effect,
) -> crate::core::runner::Cmd {
    let program = program.into();
    let hint = install_hint(&program);
    let cmd = crate::core::runner::Cmd::new(program, effect);
    match hint {
        Some(hint) => cmd.install_hint(hint),
        None => cmd,
    }
}

/// A program the project's config names (an export, a digest check, a
/// hook), run from `cwd` with `env` added; it may work for a while without
/// a word.
pub fn project(
    argv: &[String],
    env: &std::collections::BTreeMap<String, String>,
    cwd: &std::path::Path,
    effect: crate::core::runner::Effect,
) -> crate::core::runner::Cmd {
    let (program, args) = argv
        .split_first()
        .expect("the config refuses an empty command");
    let mut cmd = command(program.as_str(), effect)
        .args(args.iter().cloned())
        .cwd(cwd)
        .heartbeat(std::time::Duration::from_secs(10));
    for (key, value) in env {
        cmd = cmd.env(key.as_str(), value.as_str());
    }
    cmd
}

pub fn install_hint(program: &str) -> Option<&'static str> {
    CATALOGUE
        .iter()
        .find(|t| t.program == program)
        .map(|t| t.install)
}

/// Fails, naming every missing tool and how to get it, unless all are on PATH.
pub fn require(tools: &[&Tool]) -> Result<()> {
    let missing: Vec<&&Tool> = tools
        .iter()
        .filter(|t| !crate::core::runner::on_path(t.program))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = missing
        .iter()
        .map(|t| format!("  - `{}`: {}", t.program, t.install))
        .collect();
    bail!(
        "{} required tool{} not on PATH:\n{}",
        missing.len(),
        if missing.len() == 1 { " is" } else { "s are" },
        lines.join("\n")
    )
}

/// The first version-like token (`1.2`, `v0.10.4`, `2.23.0`) in `text`.
pub fn first_version(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .map(|word| word.strip_prefix('v').unwrap_or(word))
        .find(|word| {
            let mut parts = word.split('.');
            let numeric = |p: Option<&str>| {
                p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            };
            numeric(parts.next()) && numeric(parts.next())
        })
        .map(|word| {
            word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_found_in_real_tool_output() {
        let cases = [
            ("git version 2.47.3", "2.47.3"),
            ("Python 3.11.7", "3.11.7"),
            ("Docker version 28.2.2, build e6534b4", "28.2.2"),
            ("github.com/docker/buildx v0.10.4 c513d34", "0.10.4"),
            (
                "gh version 2.23.0 (2023-02-27 Debian 2.23.0+dfsg1-1)",
                "2.23.0",
            ),
            ("gpg (GnuPG) 2.2.40\nlibgcrypt 1.10.1", "2.2.40"),
            (
                "build 1.2.2 (/venv/lib/python3.11/site-packages/build)",
                "1.2.2",
            ),
            ("twine version 6.1.0 (pkginfo: 1.12.0)", "6.1.0"),
            ("20.10.24+dfsg1", "20.10.24+dfsg1"),
        ];
        for (text, expected) in cases {
            assert_eq!(first_version(text).as_deref(), Some(expected), "{text}");
        }
        assert_eq!(first_version("no version here"), None);
    }

    #[test]
    fn every_missing_tool_is_named_with_its_fix() {
        const A: Tool = Tool {
            program: "xtask-missing-a",
            install: "get a",
        };
        const B: Tool = Tool {
            program: "xtask-missing-b",
            install: "get b",
        };
        let err = require(&[&A, &GIT, &B]).unwrap_err().to_string();
        assert!(err.starts_with("2 required tools are not on PATH"), "{err}");
        assert!(err.contains("`xtask-missing-a`: get a"), "{err}");
        assert!(err.contains("`xtask-missing-b`: get b"), "{err}");
    }

    #[test]
    fn install_hints_cover_the_catalogue() {
        assert!(install_hint("hailo").unwrap().contains("x86_64 Linux only"));
        assert!(install_hint("gh").unwrap().contains("apt-get install gh"));
        assert_eq!(install_hint("cowsay"), None);
    }
}
