//! Path globs as `.gitignore` and shells write them, for the config's asset
//! lists: `*` and `?` within one path component, `**` across components.
//! Matched against the repository's files (`git ls-files`), never the disk.

/// Whether `path` (with `/` separators) matches `pattern`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.trim_start_matches("./").split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    components(&pattern, &path)
}

fn components(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            components(&pattern[1..], path) || (!path.is_empty() && components(pattern, &path[1..]))
        }
        (Some(p), Some(c)) => {
            component(p.as_bytes(), c.as_bytes()) && components(&pattern[1..], &path[1..])
        }
        _ => false,
    }
}

/// `*` and `?` within one component.
fn component(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            component(&pattern[1..], text) || (!text.is_empty() && component(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => component(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) => p == t && component(&pattern[1..], &text[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs_as_gitignore_writes_them() {
        for (pattern, path, expected) in [
            ("flows/*.json", "flows/a.json", true),
            ("flows/*.json", "flows/sub/a.json", false),
            ("flows/**/*.json", "flows/sub/a.json", true),
            ("flows/**/*.json", "flows/a.json", true),
            ("**/*.pth", "a/b/c.pth", true),
            ("*.pth", "c.pth", true),
            ("*.pth", "a/c.pth", false),
            (".env.example", ".env.example", true),
            ("./docker-compose.yml", "docker-compose.yml", true),
            ("model?.onnx", "model1.onnx", true),
            ("model?.onnx", "model12.onnx", false),
        ] {
            assert_eq!(matches(pattern, path), expected, "{pattern} ~ {path}");
        }
    }
}
