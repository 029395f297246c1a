//! `cargo xtask bench build`: how long a fresh checkout waits for
//! `cargo xtask --help`, beside a cold build of an empty crate.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use super::{remove_dir, secs, time, verdict};
use crate::core::config::Workspace;
use crate::core::runner::Runner;
use crate::tools::{bench, cargo};

const COLD_GOAL: Duration = Duration::from_secs(15);
const WARM_GOAL: Duration = Duration::from_millis(500);

pub fn run(runs: usize) -> Result<()> {
    let workspace = Workspace::discover()?;
    let root = &workspace.root;
    let bench_dir = root.join("target/bench/build");
    let runner = Runner::new(false);

    // Downloads are not part of the build a user waits for twice.
    runner.run(&crate::tools::cargo::fetch(root))?;

    let hello = bench_dir.join("hello");
    write_hello_crate(&hello)?;
    let hello_target = bench_dir.join("hello-target");
    remove_dir(&hello_target)?;
    let hello_cold = time(
        &runner,
        &cargo::build_quiet(&hello).env("CARGO_TARGET_DIR", hello_target.display().to_string()),
    )?;

    let xtask_target = bench_dir.join("xtask-target");
    remove_dir(&xtask_target)?;
    // The alias itself, as a user types it, into an empty target directory.
    let help =
        cargo::xtask(root, ["--help"]).env("CARGO_TARGET_DIR", xtask_target.display().to_string());
    let cold = time(&runner, &help)?;
    let mut warm: Vec<Duration> = (0..runs)
        .map(|_| time(&runner, &help))
        .collect::<Result<_>>()?;
    warm.sort();
    let warm_median = warm[warm.len() / 2];
    let binary = bench::binary_at(&xtask_target.join("xtask/xtask"), ["--help"]);
    let mut direct: Vec<Duration> = (0..runs)
        .map(|_| time(&runner, &binary))
        .collect::<Result<_>>()?;
    direct.sort();

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    say!("bench build ({cores} cores)");
    say!(
        "  cold `cargo xtask --help`, empty target dir   {:>8}   goal <= {:>6}  {}",
        secs(cold),
        secs(COLD_GOAL),
        verdict(cold <= COLD_GOAL)
    );
    say!(
        "    reference: cold build of an empty crate      {:>8}   ratio {:.1}x",
        secs(hello_cold),
        cold.as_secs_f64() / hello_cold.as_secs_f64()
    );
    say!(
        "  warm `cargo xtask --help`, median of {runs:<3}      {:>8}   goal <= {:>6}  {}",
        secs(warm_median),
        secs(WARM_GOAL),
        verdict(warm_median <= WARM_GOAL)
    );
    say!(
        "    reference: the built binary alone            {:>8}   cargo's share {:.0}%",
        secs(direct[direct.len() / 2]),
        100.0 * (1.0 - direct[direct.len() / 2].as_secs_f64() / warm_median.as_secs_f64())
    );
    Ok(())
}

fn write_hello_crate(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    // `[workspace]` keeps cargo from adopting it into the monorepo above.
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )?;
    std::fs::write(
        dir.join("src/main.rs"),
        "fn main() {\n    println!(\"hello\");\n}\n",
    )?;
    Ok(())
}
