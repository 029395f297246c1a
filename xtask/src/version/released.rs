//! The versions released so far, read from the repository's release tags, and
//! whether a version is the highest release (what moves `latest`).

use std::path::Path;

use anyhow::Result;
use semver::Version;

use crate::core::config::ReleaseConfig;
use crate::core::runner::Runner;
use crate::tools::git::Git;

/// Every version with a release tag (`tag-name` pattern) in the repository,
/// on any branch.
pub fn released_versions(
    config: &ReleaseConfig,
    root: &Path,
    runner: &Runner,
) -> Result<Vec<Version>> {
    let tags = runner.read(&Git::at(root).tags())?;
    Ok(tags
        .lines()
        .filter_map(|t| Version::parse(config.version_in_tag(t)?).ok())
        .collect())
}

/// A release (not a pre-release) above every other released release: a patch
/// on an older line is not, nor is anything below a later release.
pub fn is_highest(version: &Version, released: &[Version]) -> bool {
    version.pre.is_empty()
        && released
            .iter()
            .filter(|v| v.pre.is_empty() && *v != version)
            .all(|v| v < version)
}
