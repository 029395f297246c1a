//! `cargo xtask docker build|publish|tags`: the plain-engine path against a
//! real dockerd and registry (a service test), the buildx path against the
//! fake plugin.

use serde_json::Value;

use crate::support::{DockerDaemon, DockerRegistry, Fakes, Fixture, TempDir, Xtask};

/// Points the fixture's image config at `name`, a scratch image of the
/// staged release directory.
fn image_fixture(name: &str, platforms: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.ship_scratch_image(&fixture.read("Cargo.toml"), name, platforms);
    fixture.git(&["add", "-A"]);
    fixture.git(&["commit", "--quiet", "-m", "build: scratch image for tests"]);
    stage(&fixture, "wheel v1");
    fixture
}

fn stage(fixture: &Fixture, content: &str) {
    fixture.write("target/dist/v0.1.0/tcn_vae-0.1.0-py3-none-any.whl", content);
}

#[test]
#[ignore = "service: needs a real dockerd and docker-registry (apt-get install docker.io docker-registry, root); `cargo xtask test` runs it"]
fn plain_engine_publishes_the_tag_set_once_and_never_overwrites_a_version() {
    let daemon = DockerDaemon::start();
    let password = "reg-CANARY-pw-51c2";
    let registry = DockerRegistry::start(password);
    let name = format!("{}/edge/edgeinfer", registry.host);
    let fixture = image_fixture(&name, "\"linux/amd64\"");
    let config = TempDir::new("docker-config");
    let xtask = |args: &[&str]| {
        Xtask::new(&fixture.root)
            .args(args)
            .env("DOCKER_HOST", &daemon.host)
            .env("DOCKER_CONFIG", config.path())
            .env("DOCKER_USERNAME", DockerRegistry::USER)
            .env("DOCKER_PASSWORD", password)
            .run()
    };

    let build = xtask(&["docker", "build"]);
    assert_eq!(build.code, 0, "{}\n{}", build.stdout, build.stderr);
    let dry = xtask(&["docker", "publish"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("dry run: would push"), "{}", dry.stdout);
    assert_eq!(
        registry
            .get("/v2/edge/edgeinfer/tags/list", password, "*/*")
            .0,
        404,
        "a dry run pushed"
    );

    let publish = xtask(&["docker", "publish", "--execute"]);
    assert_eq!(publish.code, 0, "{}\n{}", publish.stdout, publish.stderr);
    assert!(
        !publish.all().contains(password),
        "the registry password leaked"
    );
    let tags = registry.tags("edge/edgeinfer", password);
    assert_eq!(tags, ["0.1", "0.1.0", "latest"], "0.x gets no `0` tag");
    let digest = |tag: &str| registry.digest("edge/edgeinfer", tag, password);
    assert_eq!(digest("0.1.0"), digest("latest"));
    assert_eq!(digest("0.1.0"), digest("0.1"));
    let record_path = format!(
        "target/xtask-release/v0.1.0/docker/{}.json",
        name.replace(['/', ':'], "_")
    );
    let record: Value = serde_json::from_str(&fixture.read(&record_path)).unwrap();
    assert_eq!(record["digest"], digest("0.1.0"));

    // A re-run pushes nothing.
    let again = xtask(&["docker", "publish", "--execute"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stdout
            .contains("already in the registry with this image"),
        "{}",
        again.stdout
    );
    assert!(
        !again.stderr.contains("$ docker push"),
        "a re-run pushed: {}",
        again.stderr
    );

    // Another image under the same version is refused, and the tag stays.
    stage(&fixture, "wheel v2, rebuilt");
    assert_eq!(xtask(&["docker", "build"]).code, 0);
    let overwrite = xtask(&["docker", "publish", "--execute"]);
    assert_eq!(overwrite.code, 1);
    assert!(
        overwrite
            .stderr
            .contains("a version tag is never overwritten"),
        "{}",
        overwrite.stderr
    );
    assert_eq!(digest("0.1.0"), record["digest"].as_str().unwrap());
}

#[test]
fn buildx_builds_every_platform_in_one_push_with_labels_and_digest() {
    let fixture = image_fixture(
        "registry.test/edge/edgeinfer",
        "\"linux/amd64\", \"linux/arm64\"",
    );
    let fakes = Fakes::install();
    let xtask = |args: &[&str]| Xtask::new(&fixture.root).args(args).fakes(&fakes).run();

    let build = xtask(&["docker", "build"]);
    assert_eq!(build.code, 0, "{}\n{}", build.stdout, build.stderr);
    let publish = xtask(&["docker", "publish", "--execute"]);
    assert_eq!(publish.code, 0, "{}\n{}", publish.stdout, publish.stderr);

    let builds: Vec<Value> = fakes
        .calls(Some("docker-buildx"))
        .into_iter()
        .filter(|c| c["argv"][1] == "build")
        .collect();
    assert_eq!(builds.len(), 2, "one build, one build --push");
    let argv: Vec<String> = builds[1]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let joined = argv.join(" ");
    for part in [
        "--platform linux/amd64,linux/arm64",
        "--tag registry.test/edge/edgeinfer:0.1.0",
        "--tag registry.test/edge/edgeinfer:0.1",
        "--tag registry.test/edge/edgeinfer:latest",
        "--label org.opencontainers.image.version=0.1.0",
        "--label org.opencontainers.image.source=https://github.com/edge-ml/tcn-vae-edge",
        "--label org.opencontainers.image.licenses=Apache-2.0",
        "--label org.opencontainers.image.title=edgeinfer",
        "--metadata-file",
        "--push",
    ] {
        assert!(joined.contains(part), "missing {part:?} in {joined}");
    }
    let revision = fixture.git(&["rev-parse", "HEAD"]);
    assert!(
        joined.contains(&format!("org.opencontainers.image.revision={revision}")),
        "{joined}"
    );
    let created = fixture.git(&["show", "-s", "--format=%cI", "HEAD"]);
    assert!(
        joined.contains(&format!("org.opencontainers.image.created={created}")),
        "created must be the commit's time: {joined}"
    );
    let registry = fakes.state_of("docker-buildx");
    assert_eq!(
        registry["registry.test/edge/edgeinfer:latest"],
        registry["registry.test/edge/edgeinfer:0.1.0"]
    );

    // A re-run does not rebuild.
    let again = xtask(&["docker", "publish", "--execute"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("not rebuilding"), "{}", again.stdout);
    let pushes = fakes
        .calls(Some("docker-buildx"))
        .into_iter()
        .filter(|c| c["argv"].to_string().contains("--push"))
        .count();
    assert_eq!(pushes, 1);
}

#[test]
fn without_buildx_more_platforms_are_refused_with_execute() {
    let fixture = image_fixture(
        "registry.test/edge/edgeinfer",
        "\"linux/amd64\", \"linux/arm64\"",
    );
    let empty = TempDir::new("no-plugins");
    let run = Xtask::new(&fixture.root)
        .args(&["docker", "publish", "--execute"])
        .env("DOCKER_CONFIG", empty.path())
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("without the buildx plugin only linux/amd64 can be built"),
        "{}",
        run.stderr
    );
}

#[test]
fn tag_sets_follow_the_release_tags() {
    let fixture = image_fixture("registry.test/edge/edgeinfer", "\"linux/amd64\"");
    let fakes = Fakes::install();
    let tags = |fixture: &Fixture| {
        let run = Xtask::new(&fixture.root)
            .args(&["docker", "tags"])
            .fakes(&fakes)
            .run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout.trim().split_once(": ").unwrap().1.to_owned()
    };
    assert_eq!(tags(&fixture), "0.1.0, 0.1, latest");
    let set_version = |v: &str| {
        let manifest = fixture.read("Cargo.toml");
        let current = manifest
            .split("version = \"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        fixture.write(
            "Cargo.toml",
            &manifest.replacen(
                &format!("version = \"{current}\""),
                &format!("version = \"{v}\""),
                1,
            ),
        );
    };
    set_version("1.2.3");
    assert_eq!(tags(&fixture), "1.2.3, 1.2, 1, latest");
    set_version("1.3.0-rc.1");
    assert_eq!(tags(&fixture), "1.3.0-rc.1");
    fixture.git(&["tag", "v1.2.0"]);
    set_version("1.1.5");
    assert_eq!(tags(&fixture), "1.1.5, 1.1", "a backport moves its own X.Y");
    // A hotfix on an older line: its line's tags, never latest.
    fixture.git(&["tag", "v2.1.0"]);
    set_version("1.4.3");
    assert_eq!(tags(&fixture), "1.4.3, 1.4, 1");
    // Build metadata never reaches a tag, and the command says so.
    set_version("2.1.1+build.5");
    let run = Xtask::new(&fixture.root)
        .args(&["docker", "tags"])
        .fakes(&fakes)
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.trim().ends_with(": 2.1.1, 2.1, 2, latest"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("build metadata `+build.5` is dropped from the image tags"),
        "{}",
        run.stderr
    );
}
