//! `hailo` (the Hailo Dataflow Compiler CLI) and `hailortcli` (HailoRT).
//! Neither can be installed here; tests drive fakes with the same interface.

use crate::runner::{Cmd, Effect};
use crate::tools::first_version;

pub fn version() -> Cmd {
    Cmd::new("hailo", Effect::Query).arg("--version")
}

pub fn hailortcli_version() -> Cmd {
    Cmd::new("hailortcli", Effect::Query).arg("--version")
}

/// The DFC and HailoRT versions in `hailo --version` output, which also
/// prints `[info]` lines; either may be absent.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DfcVersions {
    pub dfc: Option<String>,
    pub hailort: Option<String>,
}

impl DfcVersions {
    pub fn parse(output: &str) -> DfcVersions {
        let mut versions = DfcVersions::default();
        for line in output.lines() {
            if line.contains("Dataflow Compiler") {
                versions.dfc = versions.dfc.or_else(|| first_version(line));
            } else if line.contains("HailoRT") {
                versions.hailort = versions.hailort.or_else(|| first_version(line));
            }
        }
        versions
    }

    /// `DFC 3.30.0, HailoRT 4.20.0`, or the parts that are known.
    pub fn summary(&self) -> Option<String> {
        let parts: Vec<String> = [("DFC", &self.dfc), ("HailoRT", &self.hailort)]
            .into_iter()
            .filter_map(|(name, v)| v.as_ref().map(|v| format!("{name} {v}")))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_versions_among_info_lines() {
        let out = "[info] Current Time: 10:00:00, 11/21/26\n[info] CPU: Architecture: x86_64\n\
                   HailoRT v4.20.0\nHailo Dataflow Compiler v3.30.0\n";
        let v = DfcVersions::parse(out);
        assert_eq!(v.dfc.as_deref(), Some("3.30.0"));
        assert_eq!(v.hailort.as_deref(), Some("4.20.0"));
        assert_eq!(v.summary().as_deref(), Some("DFC 3.30.0, HailoRT 4.20.0"));
    }

    #[test]
    fn unknown_output_gives_no_versions() {
        assert_eq!(DfcVersions::parse("usage: hailo ...").summary(), None);
    }
}
