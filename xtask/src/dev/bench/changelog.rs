//! `cargo xtask bench changelog`: `cargo xtask changelog` on a history of
//! conventional commits (made with `git fast-import`, kept between runs)
//! against the bare `git log` it reads, and against `git-cliff` when it is
//! installed. Memory is sampled on the xtask binary at a tenth of the
//! history and at all of it, beside the size of what it prints.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{median, secs, verdict};
use crate::core::config::Workspace;
use crate::core::runner::{on_path, Effect, Runner};
use crate::tools::git::Git;
use crate::tools::{bench, cargo};

const GOAL: f64 = 2.0;

pub fn run(commits: usize, runs: usize) -> Result<()> {
    let workspace = Workspace::discover()?;
    let dir = workspace.root.join("target/bench/changelog");
    let runner = Runner::new(false);
    let big = history(&dir, commits, &runner)?;
    let small = history(&dir, (commits / 10).max(1), &runner)?;
    // Exactly the `git log` the changelog streams.
    let git_log = Git::at(&big).log_records("HEAD", &[]);
    let changelog = |repo: &Path| {
        cargo::xtask(
            &workspace.root,
            [
                "-C",
                &repo.display().to_string(),
                "changelog",
                "--unreleased",
            ],
        )
    };
    let reference = median(&runner, &git_log, runs)?;
    let mine = median(&runner, &changelog(&big), runs)?;
    let ratio = mine.elapsed.as_secs_f64() / reference.elapsed.as_secs_f64();

    say!("bench changelog ({commits} commits)");
    say!(
        "  {:<44} {:>10}",
        "git log (what cargo xtask changelog reads)",
        secs(reference.elapsed)
    );
    say!(
        "  {:<44} {:>10}   {ratio:.2}x git log   goal <= {GOAL:.1}x {}",
        "cargo xtask changelog",
        secs(mine.elapsed),
        verdict(ratio <= GOAL)
    );
    if on_path("git-cliff") {
        let cliff = median(&runner, &bench::git_cliff_unreleased(&big), runs)?;
        let vs = mine.elapsed.as_secs_f64() / cliff.elapsed.as_secs_f64();
        say!(
            "  {:<44} {:>10}   cargo xtask changelog takes {vs:.2}x its time",
            "git-cliff --unreleased",
            secs(cliff.elapsed)
        );
    } else {
        say!(
            "  {:<44} {:>10}   (`cargo install git-cliff` to compare)",
            "git-cliff",
            "not installed"
        );
    }
    for (repo, count) in [(&small, (commits / 10).max(1)), (&big, commits)] {
        let direct = bench::this_binary(
            Effect::Query,
            [
                "-C",
                &repo.display().to_string(),
                "changelog",
                "--unreleased",
            ],
        )?;
        let run = runner.measure(&direct)?;
        say!(
            "  memory at {count:>6} commits: peak RSS {:>6.1} MiB, printed {:>6.1} MiB",
            run.peak_rss_kib as f64 / 1024.0,
            run.output.stdout.len() as f64 / (1 << 20) as f64
        );
    }
    say!("  (median of {runs}; cargo xtask timed through the alias, memory sampled on the binary)");
    Ok(())
}

/// A repository of `commits` conventional commits after an initial one,
/// built once with `git fast-import` and reused while it has that many.
fn history(dir: &Path, commits: usize, runner: &Runner) -> Result<PathBuf> {
    let repo = dir.join(format!("repo-{commits}"));
    let git = Git::at(&repo);
    let count = git.commit_count();
    if repo.join(".git").is_dir()
        && runner
            .read(&count)
            .is_ok_and(|n| n.trim() == (commits + 1).to_string())
    {
        return Ok(repo);
    }
    if repo.exists() {
        std::fs::remove_dir_all(&repo).with_context(|| format!("removing {}", repo.display()))?;
    }
    std::fs::create_dir_all(&repo)?;
    let stream = dir.join(format!("stream-{commits}.txt"));
    write_stream(&stream, commits)?;
    runner.run(&git.init("main"))?;
    runner.run(&git.fast_import(&stream))?;
    runner.run(&git.reset_hard("main"))?;
    std::fs::remove_file(&stream)?;
    Ok(repo)
}

/// Every form the parser meets, in proportions like a real project's.
fn message(i: usize) -> String {
    match i % 20 {
        0..=5 => format!("feat(scope{}): add capability {i}", i % 7),
        6..=10 => format!("fix: correct edge case {i}"),
        11 | 12 => format!("perf(core): speed up step {i}"),
        13 => format!("docs: describe {i}"),
        14 => format!("chore: tidy {i}"),
        15 => format!("refactor: restructure {i}"),
        16 => format!("Update notes {i}"),
        17 => format!("Revert \"fix: correct edge case {}\"", i.saturating_sub(10)),
        18 => format!("feat!: breaking change {i}"),
        _ => format!("fix(api): handle input {i}\n\nA longer body that explains why the change was needed.\n\nBREAKING-CHANGE: the old flag is gone"),
    }
}

fn write_stream(path: &Path, commits: usize) -> Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    let data = |out: &mut dyn Write, text: &str| -> std::io::Result<()> {
        write!(out, "data {}\n{text}\n", text.len())
    };
    let manifest = "[workspace]\nmembers = []\n\n[workspace.package]\nversion = \"1.0.0\"\n\n[workspace.metadata.release]\ngithub = \"bench/history\"\n";
    let changelog = "# Changelog\n\n## [Unreleased]\n";
    writeln!(
        out,
        "commit refs/heads/main\ncommitter Bench <bench@example.invalid> 1700000000 +0000"
    )?;
    data(&mut out, "chore: start")?;
    writeln!(out, "M 100644 inline Cargo.toml")?;
    data(&mut out, manifest)?;
    writeln!(out, "M 100644 inline CHANGELOG.md")?;
    data(&mut out, changelog)?;
    for i in 1..=commits {
        writeln!(
            out,
            "commit refs/heads/main\ncommitter Bench <bench@example.invalid> {} +0000",
            1_700_000_000 + i
        )?;
        data(&mut out, &message(i))?;
        writeln!(out, "M 100644 inline src/f{}.txt", i % 100)?;
        data(&mut out, &format!("{i}\n"))?;
    }
    out.flush()?;
    Ok(())
}
