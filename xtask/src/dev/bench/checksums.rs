//! `cargo xtask bench checksums`: GNU `sha256sum` against `cargo xtask
//! checksums`, run as users run it (the alias, the dev profile), on data it
//! creates once under `target/bench/checksums/`. Peak memory is sampled on the
//! xtask binary itself, since through the alias it would be cargo's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use super::{median, secs, verdict};
use crate::core::config::Workspace;
use crate::core::runner::{Effect, Runner};
use crate::tools::{bench, cargo};

const MIB: u64 = 1 << 20;
const ONE_FILE_GOAL: f64 = 3.0;
const FOUR_FILES_GOAL: f64 = 5.5;
const RSS_GOAL_MIB: f64 = 32.0;

pub fn run(runs: usize) -> Result<()> {
    let workspace = Workspace::discover()?;
    let dir = workspace.root.join("target/bench/checksums");
    let one = vec![data_file(&dir, "one-512MiB.bin", 512 * MIB, 1)?];
    let four: Vec<PathBuf> = (1..=4)
        .map(|i| data_file(&dir, &format!("four-256MiB-{i}.bin"), 256 * MIB, 10 + i))
        .collect::<Result<_>>()?;
    let runner = Runner::new(false);
    let names = |files: &[PathBuf]| {
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
    };

    // The files are read once first so that every run finds them in the page cache.
    for file in one.iter().chain(&four) {
        std::io::copy(&mut std::fs::File::open(file)?, &mut std::io::sink())?;
    }
    let sums = dir.join("four.sha256");
    let written = runner.output(&bench::this_binary(
        Effect::Stage,
        std::iter::once("checksums".to_owned()).chain(names(&four)),
    )?)?;
    std::fs::write(&sums, written.stdout)?;

    let gnu = |args: Vec<String>| bench::sha256sum(&dir, args);
    let alias = |args: Vec<String>| {
        cargo::xtask(
            &workspace.root,
            std::iter::once("checksums".to_owned()).chain(args),
        )
    };
    let direct = |args: Vec<String>| {
        bench::this_binary(
            Effect::Query,
            std::iter::once("checksums".to_owned()).chain(args),
        )
    };
    let check = vec!["-c".to_owned(), sums.display().to_string()];

    let cases = [
        ("one 512 MiB file", names(&one), Some(ONE_FILE_GOAL)),
        ("four 256 MiB files", names(&four), Some(FOUR_FILES_GOAL)),
        ("--check of the four", check, None),
    ];
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    say!(
        "bench checksums ({cores} cores, SHA extensions: {})",
        if sha_extensions() { "yes" } else { "no" }
    );
    say!(
        "  {:<22} {:>10} {:>10} {:>7}  {:<14} {:>9} {:>9}",
        "case",
        "sha256sum",
        "xtask",
        "ratio",
        "goal",
        "RSS gnu",
        "RSS ours"
    );
    let mut generation_four = Duration::ZERO;
    for (label, args, goal) in cases {
        let theirs = median(&runner, &gnu(args.clone()), runs)?;
        let mine = median(&runner, &alias(args.clone()), runs)?;
        // A fast wrong answer is no answer: both must print the same lines.
        if theirs.output.stdout != mine.output.stdout {
            anyhow::bail!("{label}: sha256sum and cargo xtask checksums printed different lines");
        }
        let rss = runner.measure(&direct(args)?)?.peak_rss_kib;
        let ratio = theirs.elapsed.as_secs_f64() / mine.elapsed.as_secs_f64();
        let goal_text = match goal {
            Some(goal) => format!(">= {goal:.1}x {}", verdict(ratio >= goal)),
            None => {
                let vs = mine.elapsed.as_secs_f64() / generation_four.as_secs_f64();
                format!("{vs:.2}x gen {}", verdict(vs <= 1.15))
            }
        };
        if goal == Some(FOUR_FILES_GOAL) {
            generation_four = mine.elapsed;
        }
        say!(
            "  {label:<22} {:>10} {:>10} {ratio:>6.1}x  {goal_text:<14} {:>9} {:>9}",
            secs(theirs.elapsed),
            secs(mine.elapsed),
            mib(theirs.peak_rss_kib),
            format!(
                "{} {}",
                mib(rss),
                verdict(rss as f64 / 1024.0 <= RSS_GOAL_MIB)
            )
        );
    }
    say!("  (median of {runs}; xtask timed through `cargo xtask`, its memory sampled on the binary; goal <= {RSS_GOAL_MIB} MiB)");
    Ok(())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn sha_extensions() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sha")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A file of `size` pseudo-random bytes, kept between runs.
fn data_file(dir: &Path, name: &str, size: u64, seed: u64) -> Result<PathBuf> {
    let path = dir.join(name);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == size) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut block = vec![0u8; MIB as usize];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for chunk in block.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?,
    );
    for i in 0..size / MIB {
        // Every block differs, so nothing could be deduplicated or cached.
        block[..8].copy_from_slice(&i.to_le_bytes());
        file.write_all(&block)?;
    }
    file.flush()?;
    Ok(path)
}
