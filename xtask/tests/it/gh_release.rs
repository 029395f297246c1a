//! `cargo xtask gh-release` against the fake `gh`, which keeps release state
//! (drafts, assets with sizes and digests, immutability) like GitHub.

use serde_json::{json, Value};

use crate::support::{self, Fakes, Fixture, Xtask};

const TOKEN: &str = "ghp_CANARY_gh_release_0123456789";

/// A fixture with tag `v0.1.0` on origin and a staged release directory.
fn staged() -> Fixture {
    let fixture = Fixture::new();
    fixture.git(&["tag", "-a", "v0.1.0", "-m", "v0.1.0"]);
    fixture.git(&["push", "--quiet", "origin", "v0.1.0"]);
    let dist = "target/dist/v0.1.0";
    fixture.write(
        &format!("{dist}/release-notes.md"),
        "# tcn-vae-edge v0.1.0 - 1 feature\n\nBody.\n",
    );
    fixture.write(&format!("{dist}/sha256sum.txt"), "abc  x\n");
    fixture.write(&format!("{dist}/tcn_vae-0.1.0-py3-none-any.whl"), "wheel");
    fixture.write(&format!("{dist}/tcn_encoder.onnx"), "onnx bytes");
    fixture
}

fn gh_release(fixture: &Fixture, fakes: &Fakes, args: &[&str]) -> support::Run {
    let mut all = vec!["gh-release"];
    all.extend_from_slice(args);
    Xtask::new(&fixture.root)
        .args(&all)
        .fakes(fakes)
        .path_first(&[&fakes.bin])
        .env("GH_TOKEN", TOKEN)
        .run()
}

fn release(fakes: &Fakes, tag: &str) -> Value {
    fakes.state_of("gh")["releases"][tag].clone()
}

fn asset_names(release: &Value) -> Vec<String> {
    let mut names: Vec<String> = release["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn uploads(fakes: &Fakes) -> Vec<Value> {
    fakes
        .calls(Some("gh"))
        .into_iter()
        .filter(|c| c["argv"][1] == "upload")
        .collect()
}

#[test]
fn draft_then_publish_and_reruns_change_nothing() {
    let fixture = staged();
    let fakes = Fakes::install();

    let dry = gh_release(&fixture, &fakes, &["draft"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        fakes.state_of("gh").is_null(),
        "a dry run created a release"
    );

    let draft = gh_release(&fixture, &fakes, &["draft", "--execute"]);
    assert_eq!(draft.code, 0, "{}\n{}", draft.stdout, draft.stderr);
    let made = release(&fakes, "v0.1.0");
    assert_eq!(made["isDraft"], true);
    assert_eq!(made["name"], "tcn-vae-edge v0.1.0 - 1 feature");
    assert_eq!(
        asset_names(&made),
        [
            "sha256sum.txt",
            "tcn_encoder.onnx",
            "tcn_vae-0.1.0-py3-none-any.whl"
        ]
    );
    let create = fakes
        .calls(Some("gh"))
        .into_iter()
        .find(|c| c["argv"][1] == "create")
        .unwrap();
    let argv = create["argv"].to_string();
    assert!(
        argv.contains("--draft") && argv.contains("--verify-tag") && !argv.contains("--prerelease"),
        "{argv}"
    );

    // Again: nothing to upload.
    let before = uploads(&fakes).len();
    assert_eq!(
        gh_release(&fixture, &fakes, &["draft", "--execute"]).code,
        0
    );
    assert_eq!(uploads(&fakes).len(), before, "a re-run uploaded again");

    // One asset changes while still a draft: only it is uploaded again.
    fixture.write("target/dist/v0.1.0/sha256sum.txt", "def  y\n");
    assert_eq!(
        gh_release(&fixture, &fakes, &["draft", "--execute"]).code,
        0
    );
    let last = uploads(&fakes).pop().unwrap();
    let files: Vec<&str> = last["argv"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .filter(|a| a.contains("/target/dist/"))
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].ends_with("sha256sum.txt"), "{files:?}");

    let publish = gh_release(&fixture, &fakes, &["publish", "--execute"]);
    assert_eq!(publish.code, 0, "{}", publish.stderr);
    let published = release(&fakes, "v0.1.0");
    assert_eq!(published["isDraft"], false);
    assert_eq!(published["isLatest"], true);
    assert_eq!(
        gh_release(&fixture, &fakes, &["publish", "--execute"]).code,
        0,
        "publishing twice is fine"
    );

    // A published release takes no new assets: an error, not an overwrite.
    fixture.write(
        "target/dist/v0.1.0/sha256sum.txt",
        "changed after publishing\n",
    );
    let late = gh_release(&fixture, &fakes, &["draft", "--execute"]);
    assert_eq!(late.code, 1);
    assert!(
        late.stderr.contains("already published and immutable"),
        "{}",
        late.stderr
    );

    // The token went to gh through its environment only.
    for call in fakes.calls(Some("gh")) {
        assert!(!call["argv"].to_string().contains(TOKEN));
        assert_eq!(call["env"]["GH_TOKEN"], TOKEN);
    }
    for run in [&draft, &publish, &late] {
        assert!(!run.all().contains(TOKEN));
    }
}

#[test]
fn a_backport_is_not_marked_latest() {
    let fixture = staged();
    fixture.git(&["tag", "v0.2.0"]);
    let fakes = Fakes::install();
    assert_eq!(
        gh_release(&fixture, &fakes, &["draft", "--execute"]).code,
        0
    );
    assert_eq!(
        gh_release(&fixture, &fakes, &["publish", "--execute"]).code,
        0
    );
    let edit = fakes
        .calls(Some("gh"))
        .into_iter()
        .find(|c| c["argv"][1] == "edit")
        .unwrap();
    assert!(
        edit["argv"].to_string().contains("--latest=false"),
        "{}",
        edit["argv"]
    );
    assert_eq!(release(&fakes, "v0.1.0")["isLatest"], false);
}

#[test]
fn a_failed_upload_is_finished_by_a_rerun() {
    let fixture = staged();
    let fakes = Fakes::install();
    fakes.fail(json!({"tool": "gh", "args": ["release", "upload"], "times": 1, "exit": 1, "stderr": "HTTP 502: Bad Gateway"}));
    let failed = gh_release(&fixture, &fakes, &["draft", "--execute"]);
    assert_eq!(failed.code, 1);
    assert!(failed.stderr.contains("HTTP 502"), "{}", failed.stderr);
    assert_eq!(
        release(&fakes, "v0.1.0")["assets"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let rerun = gh_release(&fixture, &fakes, &["draft", "--execute"]);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert_eq!(asset_names(&release(&fakes, "v0.1.0")).len(), 3);
    let creates = fakes
        .calls(Some("gh"))
        .into_iter()
        .filter(|c| c["argv"][1] == "create")
        .count();
    assert_eq!(creates, 1, "the re-run must not create the release again");
}

#[test]
fn without_a_pushed_tag_the_draft_is_refused() {
    let fixture = staged();
    fixture.git(&["push", "--quiet", "origin", ":refs/tags/v0.1.0"]);
    let fakes = Fakes::install();
    let run = gh_release(&fixture, &fakes, &["draft", "--execute"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("aborting due to --verify-tag flag"),
        "{}",
        run.stderr
    );
}
