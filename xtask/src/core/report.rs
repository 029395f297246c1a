//! How errors list what is wrong: one indented `- ` line per problem.

use std::fmt::Display;

/// ITEMS as `  - item` lines, joined by newlines.
pub fn bullets<T: Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}
