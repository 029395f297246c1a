//! The project's own tooling: `cargo xtask test` (`test_suite`), `cargo xtask
//! bench` (`bench`), and the house rules kept by a test (`tidy`). Not on any
//! release path.

pub mod bench;
pub mod test_suite;
#[cfg(test)]
mod tidy;
