//! The xtask's formats: code that reads and writes text and nothing else (no
//! processes, no configuration, no files of the repository), in a crate of
//! its own so that it compiles beside the xtask's dependencies instead of
//! after them (docs/ARCHITECTURE.md, "Build time").
//!
//! - `template`: the Jinja subset of release-notes templates.

pub mod template;
