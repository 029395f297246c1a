//! `cargo xtask doctor`: which tools and credentials a release of this
//! repository needs, and which of them this machine has.
//!
//! What is needed follows from `[workspace.metadata.release]`: a Python
//! package needs python3 with `build` and `twine`, images need docker with a
//! running daemon (and buildx for more than the host platform), a GitHub slug
//! needs `gh`, a model with `hef` needs the Hailo DFC. Exit 0 only when every
//! needed tool answers. Credentials are reported as set or not set; their
//! values are never printed.

use anyhow::{bail, Result};
use clap::{ArgMatches, Command};

use crate::core::config::{ReleaseConfig, Workspace};
use crate::core::runner::{on_path, Cmd, Runner};
use crate::tools::{self, docker, first_version, gh, gpg, hailo, python, Tool};

/// Check the tools and credentials a release needs.
#[derive(Debug)]
pub struct Doctor {
    json: bool,
}

#[derive(Debug)]
pub struct Report<'a> {
    version: Option<&'a str>,
    /// The release configuration as read, defaults filled in.
    config: &'a ReleaseConfig,
    pub tools: Vec<Check>,
    pub credentials: Vec<Credential>,
    /// Needed tools that are missing or not answering.
    pub missing: Vec<String>,
}

record!(write: Report<'a> (Same) {
    version,
    config,
    tools,
    credentials,
    missing,
});

#[derive(Debug)]
pub struct Check {
    pub name: &'static str,
    status: Status,
    version: Option<String>,
    /// What needs it in this repository's release; `None` when optional.
    needed_for: Option<String>,
    /// Whether a release cannot run without it (credentials only matter for
    /// `--execute`, so they are reported but never required here).
    required: bool,
    /// How to get it, when it is not `ok`.
    pub fix: Option<String>,
}

record!(write: Check (Same) {
    name,
    status,
    version ; skip_if Option::is_none,
    needed_for,
    required,
    fix ; skip_if Option::is_none,
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Ok,
    Missing,
    /// Installed but not working (daemon down, plugin absent, not logged in).
    Failing,
    /// Not there yet, and made by the first command that needs it
    /// (`build`, `twine`: `target/xtask-python`).
    OnDemand,
}

string_enum!(Status (Lower) { Ok, Missing, Failing, OnDemand });

#[derive(Debug)]
pub struct Credential {
    pub name: &'static str,
    pub set: bool,
    pub needed_for: String,
}

record!(write: Credential (Same) {
    name,
    set,
    needed_for,
});

impl Doctor {
    pub fn args(cmd: Command) -> Command {
        cmd.arg(crate::cli::json_flag("Print the report as JSON"))
    }

    pub fn from_matches(matches: &ArgMatches) -> Doctor {
        Doctor {
            json: matches.get_flag("json"),
        }
    }

    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        let runner = Runner::new(false);
        let report = examine(&workspace, &runner);
        if self.json {
            say!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_report(&workspace, &report);
        }
        if !report.missing.is_empty() {
            bail!(
                "{} needed tool{} missing or not working: {} (see the fixes above)",
                report.missing.len(),
                if report.missing.len() == 1 {
                    " is"
                } else {
                    "s are"
                },
                report.missing.join(", ")
            );
        }
        Ok(())
    }
}

/// One tool to look for: its probe command and what needs it.
struct Probe {
    name: &'static str,
    tool: &'static Tool,
    /// The command whose success means "present and working".
    cmd: Cmd,
    needed_for: Option<String>,
    /// A credential check rather than a tool: reported, never required.
    credential: bool,
    /// Fix when the program exists but the probe fails.
    failing_fix: Option<String>,
    version: fn(&str) -> Option<String>,
}

/// The fix for a missing `build` or `twine`: nothing to do by hand.
const PROVISIONED: &str =
    "nothing to install: `cargo xtask python build` and `cargo xtask release` \
     make target/xtask-python with the pinned build, twine and packaging when python3 lacks them";

pub fn examine<'a>(workspace: &'a Workspace, runner: &Runner) -> Report<'a> {
    let config = &workspace.release;
    // `build` and `twine` as the release will run them: from the environment
    // an earlier command provisioned, when there is one.
    if let Some(python) = crate::python::venv::provisioned_packaging(&workspace.root) {
        python::use_packaging_interpreter(python);
    }
    // A chain's head must work before the rest mean anything (no `twine`
    // without `python3`). Chains run in parallel: a doctor that waits on a
    // slow `docker version` before it starts `gh --version` is one nobody runs.
    let chains = probe_chains(config);
    let mut tools: Vec<Check> = std::thread::scope(|scope| {
        let handles: Vec<_> = chains
            .iter()
            .map(|chain| scope.spawn(|| run_chain(chain, runner)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a probe thread panicked"))
            .collect()
    });
    // What the xtask provisions itself is not missing: it is made on demand.
    // (Only without XTASK_PYTHON, which must bring its own tools.)
    let python_works = tools
        .iter()
        .any(|c| c.name == "python3" && c.status == Status::Ok);
    if python_works && !python::overridden() {
        for check in tools
            .iter_mut()
            .filter(|c| ["build", "twine"].contains(&c.name) && c.status != Status::Ok)
        {
            check.status = Status::OnDemand;
            check.fix = Some(PROVISIONED.to_owned());
        }
    }
    let missing = tools
        .iter()
        .filter(|c| c.required && !matches!(c.status, Status::Ok | Status::OnDemand))
        .map(|c| c.name.to_owned())
        .collect();
    Report {
        version: workspace.version.as_deref(),
        config,
        tools,
        credentials: credentials(config),
        missing,
    }
}

fn run_chain(chain: &[Probe], runner: &Runner) -> Vec<Check> {
    let head = run_probe(&chain[0], runner);
    let head_ok = head.status == Status::Ok;
    let mut checks = vec![head];
    for probe in &chain[1..] {
        checks.push(if head_ok {
            run_probe(probe, runner)
        } else {
            Check {
                name: probe.name,
                status: Status::Missing,
                version: None,
                needed_for: probe.needed_for.clone(),
                required: probe.needed_for.is_some() && !probe.credential,
                fix: Some(format!("first get `{}` working", chain[0].name)),
            }
        });
    }
    checks
}

fn run_probe(probe: &Probe, runner: &Runner) -> Check {
    let mut check = Check {
        name: probe.name,
        status: Status::Missing,
        version: None,
        needed_for: probe.needed_for.clone(),
        required: probe.needed_for.is_some() && !probe.credential,
        fix: Some(probe.tool.install.to_owned()),
    };
    if !on_path(probe.cmd.program()) {
        // XTASK_PYTHON names the interpreter: that is what to fix, not the install.
        if let Some(python) =
            std::env::var_os("XTASK_PYTHON").filter(|_| probe.tool.install == tools::PYTHON.install)
        {
            check.fix = Some(format!(
                "XTASK_PYTHON={} does not run: point it at a Python 3.9+ interpreter, or unset it",
                python.to_string_lossy()
            ));
        }
        return check;
    }
    match runner.output(&probe.cmd) {
        Ok(out) if out.success() => {
            check.status = Status::Ok;
            check.version = (probe.version)(&format!("{}\n{}", out.stdout, out.stderr));
            check.fix = None;
        }
        Ok(out) => {
            check.status = Status::Failing;
            let said = first_line(&out.stderr).or_else(|| first_line(&out.stdout));
            check.fix = Some(match (&probe.failing_fix, said) {
                (Some(fix), Some(said)) => format!("{fix} (it said: {said})"),
                (Some(fix), None) => fix.clone(),
                (None, Some(said)) => said,
                (None, None) => format!("`{}` failed with exit code {:?}", probe.cmd, out.code),
            });
        }
        Err(err) => {
            check.status = Status::Failing;
            check.fix = Some(format!("{err:#}"));
        }
    }
    check
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

/// Where this configuration uploads Python packages (none where each is
/// published by the project's own CI, or the pypi step is off).
fn uploads(config: &ReleaseConfig) -> Vec<String> {
    let skipped = config.skip_steps.iter().any(|s| s == "pypi");
    config
        .python
        .iter()
        .filter(|p| p.publish && !skipped)
        .map(|p| crate::python::upload_url(p, None))
        .collect()
}

fn probe_chains(config: &ReleaseConfig) -> Vec<Vec<Probe>> {
    let uploads = uploads(config);
    let python_for = (!config.python.is_empty()).then(|| {
        let dirs: Vec<String> = config
            .python
            .iter()
            .map(|p| format!("{}/", p.path))
            .collect();
        format!("Python package in {}", dirs.join(", "))
    });
    // A project whose releases skip the docker step needs no engine.
    let docker: &[crate::core::config::DockerImage] =
        match config.skip_steps.iter().any(|s| s == "docker") {
            true => &[],
            false => &config.docker,
        };
    let images: Vec<&str> = docker.iter().map(|d| d.name.as_str()).collect();
    let images_for = (!images.is_empty()).then(|| format!("images {}", images.join(", ")));
    let host = crate::docker::host_platform();
    let foreign_platforms: Vec<&str> = docker
        .iter()
        .flat_map(|d| d.platforms.iter().map(String::as_str))
        .filter(|p| *p != host)
        .collect();
    let buildx_for = (!foreign_platforms.is_empty()).then(|| {
        format!(
            "building for {} on this {host} host",
            foreign_platforms.join(", ")
        )
    });
    let hef_models: Vec<String> = config
        .models
        .iter()
        .filter_map(|m| {
            m.hef
                .as_ref()
                .map(|h| format!("{} ({})", m.name, h.hw_arch.as_str()))
        })
        .collect();
    let hef_for = (!hef_models.is_empty()).then(|| format!("HEF for {}", hef_models.join(", ")));
    let sign_key = std::env::var("RELEASE_GPG_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .or(config.sign_key.clone());

    vec![
        vec![
            Probe {
                name: "git",
                tool: &tools::GIT,
                cmd: tools::git::version(),
                needed_for: Some("release commit, tag and push".to_owned()),
                credential: false,
                failing_fix: None,
                version: first_version,
            },
        ],
        vec![
            Probe {
                name: "python3",
                tool: &tools::PYTHON,
                cmd: python::version(),
                needed_for: python_for.clone(),
                credential: false,
                failing_fix: None,
                version: first_version,
            },
            Probe {
                name: "build",
                tool: &tools::PYTHON,
                cmd: python::module_version("build"),
                needed_for: python_for.as_ref().map(|_| "wheel and sdist (python -m build)".to_owned()),
                credential: false,
                failing_fix: Some(format!("`{} -m pip install -r xtask/python-tools.txt`", python::interpreter())),
                version: first_version,
            },
            Probe {
                name: "twine",
                tool: &tools::PYTHON,
                cmd: python::module_version("twine"),
                needed_for: python_for.as_ref().map(|_| match uploads.is_empty() {
                    true => "twine check".to_owned(),
                    false => format!("twine check and upload to {}", uploads.join(", ")),
                }),
                credential: false,
                failing_fix: Some(format!("`{} -m pip install -r xtask/python-tools.txt`", python::interpreter())),
                version: |text| text.split("twine version").nth(1).and_then(first_version),
            },
        ],
        vec![
            Probe {
                name: "docker",
                tool: &tools::DOCKER,
                cmd: docker::client_version(),
                needed_for: images_for.clone(),
                credential: false,
                failing_fix: None,
                version: first_version,
            },
            Probe {
                name: "docker daemon",
                tool: &tools::DOCKER,
                cmd: docker::server_version(),
                needed_for: images_for.map(|_| "image build and push".to_owned()),
                credential: false,
                failing_fix: Some(
                    "start a daemon (`systemctl start docker`, or `dockerd &` as root) or point DOCKER_HOST at one"
                        .to_owned(),
                ),
                version: first_version,
            },
            Probe {
                name: "buildx",
                tool: &tools::DOCKER,
                cmd: docker::buildx_version(),
                needed_for: buildx_for,
                credential: false,
                failing_fix: Some(
                    "install the buildx plugin (Docker's `docker-buildx-plugin` package, or \
                     `docker-buildx` where your distribution has it); without it only the host \
                     platform can be built"
                        .to_owned(),
                ),
                version: first_version,
            },
        ],
        vec![
            Probe {
                name: "gh",
                tool: &tools::GH,
                cmd: gh::version(),
                needed_for: config.github.as_ref().map(|slug| format!("GitHub release on {slug}")),
                credential: false,
                failing_fix: None,
                version: first_version,
            },
            Probe {
                name: "gh auth",
                tool: &tools::GH,
                cmd: gh::auth_status(),
                needed_for: config.github.as_ref().map(|_| "--execute: creating the GitHub release".to_owned()),
                credential: true,
                failing_fix: Some("set GH_TOKEN (or GITHUB_TOKEN), or run `gh auth login`".to_owned()),
                version: |_| None,
            },
        ],
        vec![
            Probe {
                name: "hailo",
                tool: &tools::HAILO,
                cmd: hailo::version(),
                needed_for: hef_for,
                credential: false,
                failing_fix: None,
                version: |text| hailo::DfcVersions::parse(text).summary(),
            },
        ],
        vec![
            Probe {
                name: "hailortcli",
                tool: &tools::HAILORTCLI,
                cmd: hailo::hailortcli_version(),
                needed_for: None,
                credential: false,
                failing_fix: None,
                version: first_version,
            },
        ],
        vec![
            Probe {
                name: "gpg",
                tool: &tools::GPG,
                cmd: gpg::version(),
                needed_for: sign_key.map(|key| format!("signing with key {key}")),
                credential: false,
                failing_fix: None,
                version: first_version,
            },
        ],
    ]
}

fn credentials(config: &ReleaseConfig) -> Vec<Credential> {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let mut list = Vec::new();
    // A package its own CI uploads needs no index credential here.
    let uploads = uploads(config);
    if !uploads.is_empty() && crate::python::trusted_publishing() {
        list.push(Credential {
            name: "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            set: true,
            needed_for: format!(
                "upload to {} by trusted publishing (no PyPI token)",
                uploads.join(", ")
            ),
        });
    } else if !uploads.is_empty() {
        list.push(Credential {
            name: "TWINE_USERNAME",
            set: set("TWINE_USERNAME"),
            needed_for: "upload; `__token__` with an API token".to_owned(),
        });
        list.push(Credential {
            name: "TWINE_PASSWORD",
            set: set("TWINE_PASSWORD"),
            needed_for: format!("upload to {}", uploads.join(", ")),
        });
    }
    if let Some(slug) = &config.github {
        let token = if set("GITHUB_TOKEN") && !set("GH_TOKEN") {
            "GITHUB_TOKEN"
        } else {
            "GH_TOKEN"
        };
        list.push(Credential {
            name: token,
            set: set(token),
            needed_for: format!("GitHub release on {slug} (GH_TOKEN or GITHUB_TOKEN)"),
        });
    }
    list
}

fn print_report(workspace: &Workspace, report: &Report) {
    say!(
        "Release tools for {} v{} (from {} [workspace.metadata.release]):\n",
        workspace
            .release
            .github
            .as_deref()
            .unwrap_or("this repository"),
        report.version.unwrap_or("?"),
        workspace.root.join("Cargo.toml").display()
    );
    let width = report.tools.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for check in &report.tools {
        let status = match (check.status, check.required) {
            (Status::Ok, _) => "ok",
            (Status::OnDemand, _) => "on demand",
            (Status::Missing, true) => "MISSING",
            (Status::Failing, true) => "FAILING",
            (Status::Missing, false) => "absent",
            (Status::Failing, false) => "failing",
        };
        let version = check.version.as_deref().unwrap_or("-");
        let why = match (&check.needed_for, check.required) {
            (Some(what), true) => what.clone(),
            (Some(what), false) => format!("credential, {what}"),
            (None, _) => "optional".to_owned(),
        };
        say!("  {status:<9} {:<width$}  {version:<26} {why}", check.name);
        if let Some(fix) = &check.fix {
            say!("  {:<8} {:<width$}  -> {fix}", "", "");
        }
    }
    if !report.credentials.is_empty() {
        say!("\nCredentials for `--execute` (values are never shown):\n");
        for cred in &report.credentials {
            let state = if cred.set { "set" } else { "not set" };
            say!("  {state:<8} {:<16} {}", cred.name, cred.needed_for);
        }
    }
    if report.missing.is_empty() {
        say!("\nEvery tool this release needs is here.");
    }
}
