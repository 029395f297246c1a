//! The floor everything stands on: starting processes (`runner`), masking
//! what is printed (`redact`, with `say!` / `tell!`), all-or-nothing writes
//! (`atomic`), diffs, bullet lists, the configuration, and the release
//! directory (`dist`). Nothing here knows a tool or a release step.

#[macro_use]
pub mod redact;
#[macro_use]
pub mod record;

pub mod atomic;
pub mod config;
pub mod diff;
pub mod dist;
pub mod glob;
pub mod report;
pub mod runner;
pub mod template;
pub mod zip;
