//! `hailo` (the Hailo Dataflow Compiler CLI) and `hailortcli` (HailoRT).
//! Neither can be installed here; tests drive fakes with the same interface.

use std::path::Path;
use std::time::Duration;

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

/// `hailortcli parse-hef FILE`: what the HEF was compiled for; no device needed.
pub fn parse_hef(file: &Path) -> Cmd {
    Cmd::new("hailortcli", Effect::Query)
        .arg("parse-hef")
        .arg(file.display().to_string())
}

/// What one DFC run works on.
pub struct DfcJob<'a> {
    pub hw_arch: &'a str,
    pub net_name: &'a str,
    /// The scratch directory every command runs in (the DFC leaves logs in the cwd).
    pub scratch: &'a Path,
    /// Stops a stage that hangs (a prompt, a stuck compile).
    pub timeout: Duration,
}

impl DfcJob<'_> {
    fn cmd(&self) -> Cmd {
        Cmd::new("hailo", Effect::Stage)
            .cwd(self.scratch)
            .timeout(self.timeout)
    }

    /// `hailo parser onnx`, with explicit node names so it never stops to ask.
    pub fn parse(
        &self,
        onnx: &Path,
        har: &Path,
        start_nodes: &[String],
        end_nodes: &[String],
    ) -> Cmd {
        let mut cmd = self
            .cmd()
            .args(["parser", "onnx"])
            .arg(onnx.display().to_string())
            .args([
                "--hw-arch",
                self.hw_arch,
                "--net-name",
                self.net_name,
                "--har-path",
            ])
            .arg(har.display().to_string());
        if !start_nodes.is_empty() {
            cmd = cmd
                .arg("--start-node-names")
                .args(start_nodes.iter().cloned());
        }
        cmd.arg("--end-node-names").args(end_nodes.iter().cloned())
    }

    /// `hailo optimize`: quantisation with the calibration set.
    pub fn optimize(&self, har: &Path, calib: &Path, script: Option<&Path>, out: &Path) -> Cmd {
        let mut cmd = self
            .cmd()
            .arg("optimize")
            .arg(har.display().to_string())
            .args(["--hw-arch", self.hw_arch, "--calib-set-path"])
            .arg(calib.display().to_string());
        if let Some(script) = script {
            cmd = cmd.arg("--model-script").arg(script.display().to_string());
        }
        cmd.arg("--output-har-path").arg(out.display().to_string())
    }

    /// `hailo compiler`: the `.hef`, named after the net, in `out_dir`.
    pub fn compile(&self, har: &Path, out_dir: &Path) -> Cmd {
        self.cmd()
            .arg("compiler")
            .arg(har.display().to_string())
            .args(["--hw-arch", self.hw_arch, "--output-dir"])
            .arg(out_dir.display().to_string())
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
