//! Models referenced, not built: a service that pulls models by name (Ollama
//! tags) pins each digest; the release checks every pin against the registry
//! with the project's own command, lists them in the notes and the SBOM, and
//! refuses a pin that moved. A local HTTP server answering Ollama's
//! `GET /api/tags` (the format Ollama's API documents) stands in for the
//! registry.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::support::{venv_python, Fakes, Fixture, TempDir, Xtask};

const QWEN: &str = "qwen2.5-coder:7b-q4_0";
const EMBED: &str = "nomic-embed-text:latest";

/// `ollama serve` as far as `/api/tags` goes, from a JSON file the test edits.
struct Registry {
    child: Child,
    url: String,
    tags: std::path::PathBuf,
    _dir: TempDir,
}

const SERVER: &str = r#"
import http.server, sys
path = sys.argv[1]
class Tags(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/api/tags":
            self.send_error(404)
            return
        body = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Tags)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

impl Registry {
    fn start() -> Registry {
        let dir = TempDir::new("ollama");
        let tags = dir.path().join("tags.json");
        let mut child = Command::new(venv_python())
            .args(["-c", SERVER])
            .arg(&tags)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut port = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        let registry = Registry {
            child,
            url: format!("http://127.0.0.1:{}", port.trim()),
            tags,
            _dir: dir,
        };
        registry.serve(&[(QWEN, &digest('1')), (EMBED, &digest('2'))]);
        registry
    }

    /// What the registry holds: Ollama's `/api/tags` body.
    fn serve(&self, models: &[(&str, &str)]) {
        let models: Vec<Value> = models
            .iter()
            .map(|(name, digest)| {
                json!({
                    "name": name, "model": name,
                    "modified_at": "2026-11-02T09:14:51.240839+00:00",
                    "size": 4_431_388_893u64, "digest": digest,
                    "details": {"parent_model": "", "format": "gguf", "family": "qwen2",
                                "families": ["qwen2"], "parameter_size": "7.6B",
                                "quantization_level": "Q4_0"},
                })
            })
            .collect();
        std::fs::write(&self.tags, json!({ "models": models }).to_string()).unwrap();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn digest(c: char) -> String {
    c.to_string().repeat(64)
}

/// The example with two referenced models and the built-in notes template.
fn service() -> Fixture {
    let fixture = Fixture::new();
    fixture.write(
        "scripts/model_digest.py",
        r#""""Prints the digest Ollama holds for a model name (GET /api/tags)."""
import json, os, sys, urllib.request
host = os.environ.get("OLLAMA_HOST", "http://127.0.0.1:11434")
with urllib.request.urlopen(host + "/api/tags", timeout=10) as response:
    tags = json.load(response)
for model in tags["models"]:
    if model["name"] == sys.argv[1]:
        print(model["digest"])
        sys.exit(0)
sys.exit(sys.argv[1] + ": not pulled on " + host)
"#,
    );
    let manifest = fixture
        .read("Cargo.toml")
        .replace("template = \".github/release-notes.md.j2\"\n", "")
        + &format!(
            r#"
[workspace.metadata.release.references]
check = ["{python}", "scripts/model_digest.py", "{{name}}"]

[[workspace.metadata.release.references.models]]
name = "{QWEN}"
digest = "sha256:{}"
source = "ollama"

[[workspace.metadata.release.references.models]]
name = "{EMBED}"
digest = "sha256:{}"
source = "ollama"
"#,
            digest('1'),
            digest('2'),
            python = venv_python().display(),
        );
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "feat: pin the served models"]);
    fixture
}

fn xtask(fixture: &Fixture, registry: &Registry, args: &[&str]) -> crate::support::Run {
    Xtask::new(&fixture.root)
        .args(args)
        .env("OLLAMA_HOST", &registry.url)
        .env("XTASK_PYTHON", venv_python())
        .run()
}

#[test]
fn every_pin_is_checked_against_the_registry_and_a_moved_one_is_named() {
    let registry = Registry::start();
    let fixture = service();
    let ok = xtask(&fixture, &registry, &["models", "check"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stdout
            .contains("2 referenced models: every pinned digest is what the registry holds"),
        "{}",
        ok.stdout
    );

    // Someone pushed a new build under the same tag.
    registry.serve(&[(QWEN, &digest('3')), (EMBED, &digest('2'))]);
    let moved = xtask(&fixture, &registry, &["models", "check"]);
    assert_eq!(moved.code, 1, "{}", moved.stdout);
    assert!(
        moved.stderr.contains(&format!(
            "referenced model {QWEN} is pinned to sha256:{}, but the registry now holds sha256:{}",
            digest('1'),
            digest('3')
        )),
        "{}",
        moved.stderr
    );
    assert!(moved.stderr.contains("1 problem"), "{}", moved.stderr);

    // Not pulled at all: the check command's own error is passed on.
    registry.serve(&[(EMBED, &digest('2'))]);
    let gone = xtask(&fixture, &registry, &["models", "check"]);
    assert_eq!(gone.code, 1);
    assert!(
        gone.stderr
            .contains(&format!("{QWEN}: not pulled on {}", registry.url)),
        "{}",
        gone.stderr
    );
}

#[test]
fn a_release_lists_its_pins_and_refuses_one_that_moved() {
    let registry = Registry::start();
    let fixture = service();
    let fakes = Fakes::install();
    let release = || {
        Xtask::new(&fixture.root)
            .args(&["release"])
            .env("OLLAMA_HOST", &registry.url)
            .env("XTASK_PYTHON", venv_python())
            .fakes(&fakes)
            .run()
    };
    let run = release();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let dist = fixture.root.join("target/dist/v0.2.0");
    let notes = std::fs::read_to_string(dist.join("release-notes.md")).unwrap();
    for (name, d) in [(QWEN, digest('1')), (EMBED, digest('2'))] {
        assert!(
            notes.contains(&format!("| `{name}` (ollama) | `sha256:{d}` |")),
            "{notes}"
        );
    }
    let sbom: Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("sbom.cdx.json")).unwrap())
            .unwrap();
    let referenced: Vec<&Value> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["bom-ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("model:"))
        })
        .collect();
    assert_eq!(referenced.len(), 2, "{sbom:#}");
    assert_eq!(referenced[0]["type"], "machine-learning-model");
    assert_eq!(referenced[0]["name"], QWEN);
    assert_eq!(referenced[0]["hashes"][0]["content"], digest('1'));

    registry.serve(&[(QWEN, &digest('3')), (EMBED, &digest('2'))]);
    let head = fixture.git(&["rev-parse", "HEAD"]);
    let refused = release();
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .contains(&format!("referenced model {QWEN} is pinned to")),
        "{}",
        refused.stderr
    );
    assert_eq!(fixture.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(fixture.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_bad_pin_is_refused_when_the_config_is_read() {
    let fixture = Fixture::new();
    let manifest = fixture.read("Cargo.toml")
        + "\n[workspace.metadata.release.references]\ncheck = [\"ollama-digest\", \"{model}\"]\n\n\
           [[workspace.metadata.release.references.models]]\nname = \"qwen\"\ndigest = \"2b4d3f0e1c9a\"\n";
    fixture.write("Cargo.toml", &manifest);
    let run = Xtask::new(&fixture.root).args(&["models", "check"]).run();
    assert_eq!(run.code, 1);
    for expected in [
        "references.check[1] = \"{model}\": unknown placeholder `{model}`; use {name} or {digest}",
        "references.models[0].digest = \"2b4d3f0e1c9a\": expected `sha256:` and 64 hex digits",
    ] {
        assert!(
            run.stderr.contains(expected),
            "missing {expected:?}:\n{}",
            run.stderr
        );
    }
}
