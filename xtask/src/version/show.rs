//! `cargo xtask version`: the version as each file holds it. Exits 1 when
//! they disagree (someone edited `pyproject.toml` by hand), naming the files.

use anyhow::{bail, Result};
use clap::{ArgMatches, Command};

use crate::core::config::Workspace;
use crate::core::runner::Runner;
use crate::version::pep440::to_pep440;
use crate::version::sources::{Location, VersionSources};

/// Show the version as every file holds it; exit 1 when they disagree.
#[derive(Debug)]
pub struct Versions {
    json: bool,
}

struct Report<'a> {
    version: String,
    pep440: Option<String>,
    sources: Vec<Row<'a>>,
    agree: bool,
}

record!(write: Report<'a> (Same) {
    version,
    pep440,
    sources,
    agree,
});

struct Row<'a> {
    location: &'a Location,
    expected: String,
    agrees: bool,
    /// A PEP 440 location's version in normal form, when it parses.
    normal_form: Option<String>,
}

/// The location's own fields, then the row's.
impl serde::Serialize for Row<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let location = self.location;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("file", &location.file)?;
        map.serialize_entry("field", &location.field)?;
        map.serialize_entry("found", &location.found)?;
        map.serialize_entry("form", &location.form)?;
        map.serialize_entry("expected", &self.expected)?;
        map.serialize_entry("agrees", &self.agrees)?;
        if let Some(normal_form) = &self.normal_form {
            map.serialize_entry("normal_form", normal_form)?;
        }
        map.end()
    }
}

impl Versions {
    pub fn args(cmd: Command) -> Command {
        cmd.arg(crate::cli::json_flag("Print the report as JSON"))
    }

    pub fn from_matches(matches: &ArgMatches) -> Versions {
        Versions {
            json: matches.get_flag("json"),
        }
    }

    pub fn run(self) -> Result<()> {
        let workspace = Workspace::discover()?;
        let sources = VersionSources::locate(&workspace, &Runner::new(true))?;
        let rows: Vec<Row> = sources
            .check()
            .into_iter()
            .map(|(location, expected, agrees)| Row {
                normal_form: location.normal_form(),
                location,
                expected,
                agrees,
            })
            .collect();
        let report = Report {
            version: sources.current.to_string(),
            pep440: to_pep440(&sources.current).ok(),
            agree: rows.iter().all(|r| r.agrees),
            sources: rows,
        };
        if self.json {
            say!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            say!(
                "{} (Python: {}), from Cargo.toml [workspace.package] version\n",
                report.version,
                report.pep440.as_deref().unwrap_or("none")
            );
            let width = report
                .sources
                .iter()
                .map(|r| r.location.file.display().to_string().len())
                .max()
                .unwrap_or(0);
            for row in &report.sources {
                let status = if row.agrees { "ok" } else { "DIFFERS" };
                let file = row.location.file.display().to_string();
                say!(
                    "  {status:<8} {file:<width$}  {:<14} {}",
                    row.location.found,
                    row.location.field
                );
                if !row.agrees {
                    say!("  {:<8} {:<width$}  expected {}", "", "", row.expected);
                } else if let Some(normal) = row.location.respelled() {
                    say!(
                        "  {:<8} {:<width$}  the same PEP 440 version as {normal}; `bump` writes the normal form",
                        "",
                        ""
                    );
                }
            }
        }
        let differing: Vec<String> = report
            .sources
            .iter()
            .filter(|r| !r.agrees)
            .map(|r| format!("{} ({})", r.location.file.display(), r.location.field))
            .collect();
        if !differing.is_empty() {
            bail!(
                "{} place{} disagree{} with {}: {}",
                differing.len(),
                if differing.len() == 1 { "" } else { "s" },
                if differing.len() == 1 { "s" } else { "" },
                report.version,
                differing.join(", ")
            );
        }
        Ok(())
    }
}
