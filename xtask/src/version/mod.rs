//! Versions: the next version from a level, its PEP 440 form, and every file
//! that carries it.

pub mod bump;
pub mod show;

pub mod level;
pub mod pep440;
pub mod released;
pub mod sources;
