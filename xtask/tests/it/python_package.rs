//! The example Python package builds for real: `python -m build` (isolated,
//! its backend from PyPI) and `twine check --strict`.

use std::process::Command;

use crate::support::{repo_root, venv_python, TempDir};

#[test]
fn builds_a_wheel_and_sdist_that_twine_check_strict_accepts() {
    let python = venv_python();
    let out = TempDir::new("pybuild");
    let source = TempDir::new("pysrc");
    // Build from a copy: `python -m build` writes build/ and egg-info beside the sources.
    let status = Command::new("cp")
        .args([
            "-r",
            &repo_root().join("python").display().to_string(),
            &source.path().display().to_string(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let build = Command::new(&python)
        .args(["-m", "build", "--outdir"])
        .arg(out.path())
        .arg(source.path().join("python"))
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "python -m build failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );

    let mut files: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["tcn_vae-0.1.0-py3-none-any.whl", "tcn_vae-0.1.0.tar.gz"]
    );

    let check = Command::new(&python)
        .args(["-m", "twine", "check", "--strict"])
        .args(files.iter().map(|f| out.path().join(f)))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "twine check --strict failed:\n{said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(said.matches("PASSED").count(), 2, "{said}");

    // The wheel's METADATA carries the version and the README as description.
    let metadata = Command::new(&python)
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
             print(z.read('tcn_vae-0.1.0.dist-info/METADATA').decode())",
        ])
        .arg(out.path().join(&files[0]))
        .output()
        .unwrap();
    let metadata = String::from_utf8_lossy(&metadata.stdout);
    assert!(metadata.contains("\nVersion: 0.1.0\n"), "{metadata}");
    assert!(
        metadata.contains("Description-Content-Type: text/markdown"),
        "{metadata}"
    );
}
