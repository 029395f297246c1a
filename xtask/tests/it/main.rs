//! The xtask's integration tests, as one test binary.
//!
//! Cargo makes every file directly in `tests/` a crate of its own: each one
//! compiles the shared `support` harness again and is linked on its own
//! against the whole dependency graph, and linking is the slow part of
//! building tests. One binary is one link instead of fourteen, `support`
//! compiled once, and one crate where the compiler can tell whether a helper
//! of `support` is dead. (rust-analyzer and matklad, "Delete Cargo
//! Integration Tests", recommend this layout.)
//!
//! Each module below is what used to be `tests/NAME.rs`; a test's full name
//! is `NAME::test`, so `cargo test -p xtask --test it NAME::` runs one module.
//! The fake tools the tests install live in `tests/fakes/` (scripts, not
//! Rust), beside this directory.

mod support;

mod adopt;
mod changelog;
mod checksums;
mod cli;
mod conventions;
mod distributed;
mod docker;
mod doctor;
mod fakes;
mod gh_release;
mod model_schema;
mod models;
mod python_dist;
mod python_package;
mod references;
mod release;
mod supply_chain;
mod templates;
mod versions;
mod workflows;
