//! `hailo` (the Hailo Dataflow Compiler CLI) and `hailortcli` (HailoRT).
//! Neither can be installed here; tests drive fakes with the same interface.

use std::path::Path;
use std::time::Duration;

use crate::core::runner::{Cmd, Effect};
use crate::tools::first_version;

pub fn version() -> Cmd {
    super::command("hailo", Effect::Query).arg("--version")
}

pub fn hailortcli_version() -> Cmd {
    super::command("hailortcli", Effect::Query).arg("--version")
}

/// The DFC and HailoRT versions as the tools print them. Every `hailo`
/// run (DFC 3.27 to 3.33) starts with banner lines such as
/// `[info] Hailo DFC Version: 3.33.0` and `[info] HailoRT Version: 4.23.0`
/// (or `HailoRT Version: Not Installed`), `info` wrapped in ANSI colour codes
/// when it thinks it writes to a terminal; `hailo --version` prints
/// `Hailo DFC Version: X.Y.Z`; `hailortcli --version` prints
/// `HailoRT-CLI version X.Y.Z`. Either may be absent.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DfcVersions {
    pub dfc: Option<String>,
    pub hailort: Option<String>,
}

impl DfcVersions {
    pub fn parse(output: &str) -> DfcVersions {
        let mut versions = DfcVersions::default();
        for line in output.lines() {
            let line = strip_ansi(line);
            if let Some(rest) = after(&line, "Hailo DFC Version:") {
                versions.dfc = versions.dfc.or_else(|| first_version(rest));
            } else if let Some(rest) =
                after(&line, "HailoRT Version:").or_else(|| after(&line, "HailoRT-CLI version"))
            {
                // `Not Installed` has no version: HailoRT stays unknown.
                versions.hailort = versions.hailort.or_else(|| first_version(rest));
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

/// The text after `label` in `line`, when the line has it.
fn after<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    line.find(label).map(|at| &line[at + label.len()..])
}

/// `line` without ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// `hailortcli parse-hef FILE`: what the HEF was compiled for; no device needed.
pub fn parse_hef(file: &Path) -> Cmd {
    super::command("hailortcli", Effect::Query)
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
        super::command("hailo", Effect::Stage)
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

    /// Banner lines as DFC 3.28 to 3.31 printed them in logs people
    /// captured (CPU and kernel details shortened).
    const CAPTURED: &str = "\
[info] Current Time: 21:39:09, 07/03/25
[info] CPU: Architecture: x86_64, Model: AMD Ryzen 7 5800H with Radeon Graphics, Number Of Cores: 16, Utilization: 0.1%
[info] Memory: Total: 7GB, Available: 5GB
[info] System info: OS: Linux, Kernel: 5.15.167.4-microsoft-standard-WSL2
[info] Hailo DFC Version: 3.31.0
[info] HailoRT Version: Not Installed
[info] PCIe: No Hailo PCIe device was found
[info] Running `hailo -h`
";

    #[test]
    fn reads_the_real_banner_with_and_without_colour() {
        let v = DfcVersions::parse(CAPTURED);
        assert_eq!(v.dfc.as_deref(), Some("3.31.0"));
        assert_eq!(v.hailort, None, "Not Installed is no version");

        // Captured from a terminal: `info` in green.
        let coloured =
            "[\u{1b}[32minfo\u{1b}[0m] System info: OS: Linux, Kernel: 6.8.0-45-generic\n\
                        [\u{1b}[32minfo\u{1b}[0m] Hailo DFC Version: 3.29.0\n\
                        [\u{1b}[32minfo\u{1b}[0m] HailoRT Version: 4.19.0\n";
        let v = DfcVersions::parse(coloured);
        assert_eq!(v.dfc.as_deref(), Some("3.29.0"));
        assert_eq!(v.hailort.as_deref(), Some("4.19.0"));
        assert_eq!(v.summary().as_deref(), Some("DFC 3.29.0, HailoRT 4.19.0"));
    }

    #[test]
    fn reads_the_version_commands() {
        assert_eq!(
            DfcVersions::parse("Hailo DFC Version: 3.33.1\n")
                .dfc
                .as_deref(),
            Some("3.33.1")
        );
        assert_eq!(
            DfcVersions::parse("HailoRT-CLI version 4.23.0\n")
                .hailort
                .as_deref(),
            Some("4.23.0")
        );
        // An invented banner is not the DFC's: nothing is read from it.
        assert_eq!(
            DfcVersions::parse("Hailo Dataflow Compiler v3.30.0\n").summary(),
            None
        );
    }

    #[test]
    fn unknown_output_gives_no_versions() {
        assert_eq!(DfcVersions::parse("usage: hailo ...").summary(), None);
    }
}
