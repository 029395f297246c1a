//! Unified diffs of text files, for dry runs: what `--execute` would write.
//!
//! Lines are compared without their line endings, so a CRLF file's diff
//! reads like any other; the common head and tail are skipped before the
//! line matching, which keeps whole-file diffs of small edits cheap.

/// `diff -u` style output for one file; empty when nothing changes.
pub fn unified(label: &str, before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let ops = line_ops(&old, &new);
    let mut out = format!("--- a/{label}\n+++ b/{label}\n");
    for hunk in hunks(&ops, 3) {
        let (mut old_line, mut new_line) = (hunk.old_start, hunk.new_start);
        let (mut old_len, mut new_len) = (0, 0);
        let mut body = String::new();
        for op in &ops[hunk.range.clone()] {
            match *op {
                Op::Same(i) => {
                    body.push_str(&format!(" {}\n", old[i]));
                    old_len += 1;
                    new_len += 1;
                }
                Op::Delete(i) => {
                    body.push_str(&format!("-{}\n", old[i]));
                    old_len += 1;
                }
                Op::Insert(j) => {
                    body.push_str(&format!("+{}\n", new[j]));
                    new_len += 1;
                }
            }
        }
        if old_len == 0 {
            old_line -= 1;
        }
        if new_len == 0 {
            new_line -= 1;
        }
        out.push_str(&format!(
            "@@ -{old_line},{old_len} +{new_line},{new_len} @@\n{body}"
        ));
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Same(usize),
    Delete(usize),
    Insert(usize),
}

fn line_ops(old: &[&str], new: &[&str]) -> Vec<Op> {
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (a, b) = (&old[head..old.len() - tail], &new[head..new.len() - tail]);
    // Longest common subsequence of the changed middle.
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<Op> = (0..head).map(Op::Same).collect();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push(Op::Same(head + i));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Deletions before insertions, as `diff -u` prints them.
            ops.push(Op::Delete(head + i));
            i += 1;
        } else {
            ops.push(Op::Insert(head + j));
            j += 1;
        }
    }
    let old_tail = old.len() - tail;
    ops.extend((0..tail).map(|k| Op::Same(old_tail + k)));
    ops
}

struct Hunk {
    range: std::ops::Range<usize>,
    /// 1-based first line numbers, as in `@@ -a +b @@`.
    old_start: usize,
    new_start: usize,
}

fn hunks(ops: &[Op], context: usize) -> Vec<Hunk> {
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for &i in &changed {
        let start = i.saturating_sub(context);
        let end = (i + context + 1).min(ops.len());
        match ranges.last_mut() {
            Some(last) if start <= last.end => last.end = end,
            _ => ranges.push(start..end),
        }
    }
    ranges
        .into_iter()
        .map(|range| {
            // Line numbers of the hunk's first line on each side.
            let (mut old_start, mut new_start) = (1, 1);
            for op in &ops[..range.start] {
                match op {
                    Op::Same(..) => {
                        old_start += 1;
                        new_start += 1;
                    }
                    Op::Delete(_) => old_start += 1,
                    Op::Insert(_) => new_start += 1,
                }
            }
            Hunk {
                range,
                old_start,
                new_start,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_token_change_gives_one_hunk_with_context() {
        let before = "a\nb\nc\nversion = \"0.1.0\"\nd\ne\nf\ng\n";
        let after = before.replace("0.1.0", "0.2.0");
        assert_eq!(
            unified("Cargo.toml", before, &after),
            "--- a/Cargo.toml\n+++ b/Cargo.toml\n@@ -1,7 +1,7 @@\n a\n b\n c\n-version = \"0.1.0\"\n+version = \"0.2.0\"\n d\n e\n f\n"
        );
    }

    #[test]
    fn insertions_and_far_apart_changes() {
        let before: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let after = before
            .replacen("2\n", "2\nnew\n", 1)
            .replace("18\n", "eighteen\n");
        let diff = unified("f", &before, &after);
        assert!(
            diff.contains("@@ -1,5 +1,6 @@\n 1\n 2\n+new\n 3\n 4\n 5\n"),
            "{diff}"
        );
        assert!(
            diff.contains("@@ -15,6 +16,6 @@\n 15\n 16\n 17\n-18\n+eighteen\n 19\n 20\n"),
            "{diff}"
        );
    }

    #[test]
    fn crlf_lines_compare_without_their_endings() {
        let diff = unified("w.txt", "x\r\nv1\r\n", "x\r\nv2\r\n");
        assert!(diff.ends_with(" x\n-v1\n+v2\n"), "{diff:?}");
    }

    #[test]
    fn no_change_no_diff() {
        assert_eq!(unified("f", "same\n", "same\n"), "");
    }
}
