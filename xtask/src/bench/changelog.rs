//! `cargo xtask bench changelog`: `cargo xtask changelog` on a history of
//! conventional commits (made with `git fast-import`, kept between runs)
//! against the bare `git log` it reads, and against `git-cliff` when it is
//! installed. Memory is sampled on the xtask binary at a tenth of the
//! history and at all of it, beside the size of what it prints.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{median, secs, verdict};
use crate::config::Workspace;
use crate::runner::{on_path, Cmd, Effect, Runner};

const GOAL: f64 = 2.0;

pub fn run(commits: usize, runs: usize) -> Result<()> {
    let workspace = Workspace::discover()?;
    let dir = workspace.root.join("target/bench/changelog");
    let runner = Runner::new(false);
    let big = history(&dir, commits, &runner)?;
    let small = history(&dir, (commits / 10).max(1), &runner)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let ours = std::env::current_exe().context("finding the xtask binary")?;

    let git_log = Cmd::new("git", Effect::Query)
        .args([
            "log",
            "-z",
            "--full-history",
            "--format=%H%x1f%P%x1f%s%x1f%b",
            "HEAD",
            "--",
        ])
        .cwd(&big);
    let changelog = |repo: &Path| {
        Cmd::new(&cargo, Effect::Query)
            .args(["xtask", "-C"])
            .arg(repo.display().to_string())
            .args(["changelog", "--unreleased"])
            .cwd(&workspace.root)
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
        let cliff = median(
            &runner,
            &Cmd::new("git-cliff", Effect::Query)
                .arg("--unreleased")
                .cwd(&big),
            runs,
        )?;
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
    let direct = |repo: &Path| {
        Cmd::new(ours.display().to_string(), Effect::Query)
            .arg("-C")
            .arg(repo.display().to_string())
            .args(["changelog", "--unreleased"])
    };
    for (repo, count) in [(&small, (commits / 10).max(1)), (&big, commits)] {
        let run = runner.measure(&direct(repo))?;
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
    let count = Cmd::new("git", Effect::Query)
        .args(["rev-list", "--count", "HEAD"])
        .cwd(&repo);
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
    runner.run(
        &Cmd::new("git", Effect::Stage)
            .args(["init", "--quiet", "-b", "main"])
            .cwd(&repo),
    )?;
    runner.run(
        &Cmd::new("git", Effect::Stage)
            .args(["fast-import", "--quiet"])
            .cwd(&repo)
            .stdin_file(&stream),
    )?;
    runner.run(
        &Cmd::new("git", Effect::Stage)
            .args(["reset", "--quiet", "--hard", "main"])
            .cwd(&repo),
    )?;
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
