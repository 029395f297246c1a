//! `cargo xtask checksums` against the real GNU `sha256sum`, side by side:
//! stdout, stderr and exit code must be byte-identical, for nasty names and
//! every `--check` flag.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{self, TempDir};

const NASTY: &[&str] = &[
    "plain.bin",
    "with space",
    "*leading-star",
    " leading-space",
    "back\\slash",
    "new\nline",
    "carriage\rreturn",
    "ünïcödé.pth",
    "-leading-dash",
    "it's:colon",
    "mixed\\\n\r all",
];

/// Sizes around the 1 MiB read buffer and the 64-byte SHA block.
const SIZES: &[usize] = &[
    0,
    1,
    63,
    64,
    65,
    1000,
    (1 << 20) - 1,
    1 << 20,
    (1 << 20) + 1,
    3 * (1 << 20) + 7,
];

fn content(seed: usize, len: usize) -> Vec<u8> {
    let mut x = (seed as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A directory of nasty names and sizes the implementation never saw.
fn data_dir() -> TempDir {
    let dir = TempDir::new("sums");
    for (i, name) in NASTY.iter().enumerate() {
        std::fs::write(dir.path().join(name), content(i, SIZES[i % SIZES.len()])).unwrap();
    }
    for (i, size) in SIZES.iter().enumerate() {
        std::fs::write(
            dir.path().join(format!("size-{size}.bin")),
            content(100 + i, *size),
        )
        .unwrap();
    }
    std::fs::create_dir(dir.path().join("subdir")).unwrap();
    dir
}

struct Outcome {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn run(program: &mut Command, dir: &Path, stdin: &[u8]) -> Outcome {
    let mut child = program
        .current_dir(dir)
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// Runs `sha256sum ARGS` and `xtask checksums ARGS` in `dir` and asserts
/// they answer the same, byte for byte.
fn same(dir: &Path, args: &[&str], stdin: &[u8]) -> Outcome {
    let gnu = run(Command::new("sha256sum").args(args), dir, stdin);
    let ours = run(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("checksums")
            .args(args),
        dir,
        stdin,
    );
    let ours_err = String::from_utf8_lossy(&ours.stderr)
        .replace("cargo xtask checksums --help", "sha256sum --help");
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert_eq!(
        show(&ours.stdout),
        show(&gnu.stdout),
        "stdout differs for {args:?}"
    );
    assert_eq!(ours_err, show(&gnu.stderr), "stderr differs for {args:?}");
    assert_eq!(ours.code, gnu.code, "exit code differs for {args:?}");
    gnu
}

fn all_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".txt") && n != "subdir")
        .collect();
    names.sort();
    names
}

fn args_with<'a>(flags: &[&'a str], names: &'a [String]) -> Vec<&'a str> {
    let mut args = flags.to_vec();
    args.push("--");
    args.extend(names.iter().map(String::as_str));
    args
}

#[test]
fn generation_is_byte_identical_for_nasty_names() {
    let dir = data_dir();
    let names = all_names(dir.path());
    let text = same(dir.path(), &args_with(&[], &names), b"");
    assert_eq!(text.code, 0);
    same(dir.path(), &args_with(&["-b"], &names), b"");
    same(
        dir.path(),
        &args_with(
            &[],
            &[
                "missing".to_owned(),
                "with space".to_owned(),
                "gone\nfile".to_owned(),
            ],
        ),
        b"",
    );
    same(dir.path(), &[], b"from standard input");
    same(dir.path(), &["-", "plain.bin"], b"x");
}

/// Writes `sums.txt` with GNU's own tool, then breaks the tree in `damage`
/// and compares every --check flag combination.
fn check_all_flags(dir: &Path, sums: &str) {
    for flags in [
        &[][..],
        &["--quiet"],
        &["--status"],
        &["--strict"],
        &["--warn"],
        &["--ignore-missing"],
        &["--warn", "--strict", "--ignore-missing"],
        &["--quiet", "--ignore-missing"],
    ] {
        let mut args = vec!["-c"];
        args.extend_from_slice(flags);
        args.push(sums);
        same(dir, &args, b"");
    }
}

fn gnu_sums(dir: &Path, flags: &[&str], names: &[String], file: &str) {
    let out = run(
        Command::new("sha256sum").args(args_with(flags, names)),
        dir,
        b"",
    );
    assert_eq!(out.code, 0);
    std::fs::write(dir.join(file), out.stdout).unwrap();
}

#[test]
fn check_is_byte_identical_on_clean_corrupted_missing_and_malformed_input() {
    let dir = data_dir();
    let d = dir.path();
    let names = all_names(d);
    gnu_sums(d, &[], &names, "text.txt");
    gnu_sums(d, &["-b"], &names, "binary.txt");
    let bsd = run(
        Command::new("sha256sum").args(args_with(&["--tag"], &names)),
        d,
        b"",
    );
    std::fs::write(d.join("bsd.txt"), bsd.stdout).unwrap();
    for sums in ["text.txt", "binary.txt", "bsd.txt"] {
        check_all_flags(d, sums);
    }

    // Corrupted and missing files.
    std::fs::write(d.join("with space"), b"tampered").unwrap();
    std::fs::remove_file(d.join("new\nline")).unwrap();
    std::fs::remove_file(d.join("-leading-dash")).unwrap();
    for sums in ["text.txt", "bsd.txt"] {
        check_all_flags(d, sums);
    }

    // Malformed lines among good ones, CRLF endings, comments, a directory.
    let text = std::fs::read_to_string(d.join("binary.txt")).unwrap();
    let hash = "0".repeat(64);
    let mangled = format!(
        "garbage line\n\n# a comment\n   \n{}{hash}  subdir\n{hash}\n{}  short\nSHA256 (x) = 123\n\\{hash}  bad\\tescape\n",
        text.replace('\n', "\r\n"),
        &hash[1..]
    );
    std::fs::write(d.join("mangled.txt"), mangled).unwrap();
    check_all_flags(d, "mangled.txt");

    // Whole-file problems: empty, missing, a directory, stdin, several files.
    std::fs::write(d.join("empty.txt"), b"").unwrap();
    std::fs::write(d.join("only-junk.txt"), b"junk\nmore junk\n").unwrap();
    check_all_flags(d, "empty.txt");
    check_all_flags(d, "only-junk.txt");
    check_all_flags(d, "no-such-sums.txt");
    check_all_flags(d, "subdir");
    same(d, &["-c", "text.txt", "empty.txt", "bsd.txt"], b"");
    same(d, &["-c"], &std::fs::read(d.join("binary.txt")).unwrap());
    same(d, &["-c", "-"], b"");
    // Every listed file missing.
    same(d, &["-c", "--ignore-missing", "text.txt"], b"");
    for name in &names {
        let _ = std::fs::remove_file(d.join(name));
    }
    check_all_flags(d, "text.txt");
}

#[test]
fn flags_that_mean_nothing_in_a_mode_are_refused_like_gnu() {
    let dir = data_dir();
    same(dir.path(), &["--quiet", "plain.bin"], b"");
    same(dir.path(), &["--strict", "plain.bin"], b"");
    same(dir.path(), &["-c", "-b", "x.txt"], b"");
}

#[test]
fn a_directory_is_walked_in_byte_wise_sorted_order() {
    let dir = TempDir::new("walk");
    let d = dir.path();
    for (i, name) in ["b/z", "b/a", "a.txt", "a/b", "A", "b/c/d", "-x"]
        .iter()
        .enumerate()
    {
        let path = d.join("tree").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content(i, 100 * i)).unwrap();
    }
    let ours = run(
        Command::new(env!("CARGO_BIN_EXE_xtask")).args(["checksums", "tree"]),
        d,
        b"",
    );
    assert_eq!(ours.code, 0);
    // What `find | LC_ALL=C sort | xargs sha256sum` gives.
    let find = Command::new("sh")
        .args([
            "-c",
            "find tree -type f | LC_ALL=C sort | tr '\\n' '\\0' | xargs -0 sha256sum --",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&find.stdout)
    );
    let listed: Vec<&str> = std::str::from_utf8(&ours.stdout)
        .unwrap()
        .lines()
        .map(|l| &l[66..])
        .collect();
    assert_eq!(
        listed,
        [
            "tree/-x",
            "tree/A",
            "tree/a.txt",
            "tree/a/b",
            "tree/b/a",
            "tree/b/c/d",
            "tree/b/z"
        ]
    );
}

#[test]
fn output_file_is_written_atomically_and_not_at_all_on_error() {
    let dir = data_dir();
    let d = dir.path();
    let ours = run(
        Command::new(env!("CARGO_BIN_EXE_xtask")).args([
            "checksums",
            "-o",
            "out.txt",
            "plain.bin",
            "with space",
        ]),
        d,
        b"",
    );
    assert_eq!(ours.code, 0);
    assert!(ours.stdout.is_empty());
    let gnu = run(
        Command::new("sha256sum").args(["plain.bin", "with space"]),
        d,
        b"",
    );
    assert_eq!(std::fs::read(d.join("out.txt")).unwrap(), gnu.stdout);
    // GNU's own verifier accepts what we wrote.
    assert_eq!(
        run(
            Command::new("sha256sum").args(["-c", "--strict", "out.txt"]),
            d,
            b""
        )
        .code,
        0
    );

    let failed = run(
        Command::new(env!("CARGO_BIN_EXE_xtask")).args([
            "checksums",
            "-o",
            "out.txt",
            "plain.bin",
            "missing",
        ]),
        d,
        b"",
    );
    assert_eq!(failed.code, 1);
    assert!(String::from_utf8_lossy(&failed.stderr)
        .contains("sha256sum: missing: No such file or directory"));
    assert_eq!(
        std::fs::read(d.join("out.txt")).unwrap(),
        gnu.stdout,
        "a failed run replaced out.txt"
    );
}

#[test]
fn a_large_input_spans_many_buffers_and_shows_no_progress_when_piped() {
    let dir = TempDir::new("large");
    // Sparse: 300 MiB that cost no disk, above the progress threshold.
    let file = std::fs::File::create(dir.path().join("big.hef")).unwrap();
    file.set_len(300 << 20).unwrap();
    std::fs::write(dir.path().join("small"), b"tail").unwrap();
    let out = same(dir.path(), &["big.hef", "small"], b"");
    assert!(out.stderr.is_empty());
}

#[test]
fn progress_appears_on_a_terminal() {
    let Some(script) = support::which("script") else {
        panic!("`script` (util-linux/bsdutils) is needed to give the xtask a terminal: apt-get install bsdutils");
    };
    let dir = TempDir::new("tty");
    let file = std::fs::File::create(dir.path().join("big.onnx")).unwrap();
    file.set_len(2 << 30).unwrap();
    let command = format!(
        "{} checksums big.onnx >/dev/null",
        env!("CARGO_BIN_EXE_xtask")
    );
    let out = Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{seen}");
    assert!(
        seen.contains("hashed ") && seen.contains("GiB/s"),
        "no progress line on a terminal: {seen:?}"
    );
}

#[test]
fn a_file_that_fails_to_read_is_reported_like_gnu() {
    // Tests run as root, which reads through any permission bits; a file
    // whose read itself fails (EIO) is the unreadable case that remains.
    let dir = data_dir();
    same(dir.path(), &["/proc/self/mem", "plain.bin"], b"");
    let listed = format!(
        "{}  /proc/self/mem\n{}  plain.bin\n",
        "0".repeat(64),
        "0".repeat(64)
    );
    std::fs::write(dir.path().join("mem.txt"), listed).unwrap();
    check_all_flags(dir.path(), "mem.txt");
}

/// Every ordered choice of up to `len` flags from `alphabet`, repeats allowed.
fn sequences<'a>(alphabet: &[&'a str], len: usize) -> Vec<Vec<&'a str>> {
    let mut all = vec![Vec::new()];
    let mut last = vec![Vec::new()];
    for _ in 0..len {
        last = last
            .iter()
            .flat_map(|seq: &Vec<&'a str>| {
                alphabet.iter().map(move |flag| {
                    let mut next = seq.clone();
                    next.push(flag);
                    next
                })
            })
            .collect();
        all.extend(last.iter().cloned());
    }
    all
}

#[test]
fn quiet_status_and_warn_are_one_setting_in_every_order() {
    let dir = TempDir::new("verbosity");
    let d = dir.path();
    std::fs::write(d.join("a.txt"), b"a").unwrap();
    std::fs::write(d.join("b.txt"), b"b").unwrap();
    let gnu = run(Command::new("sha256sum").args(["a.txt", "b.txt"]), d, b"");
    let good = String::from_utf8(gnu.stdout).unwrap();
    let (line_a, line_b) = good.split_once('\n').unwrap();
    let files = [
        // The issue's case: a 63-digit hash on the first line.
        ("short-first.txt", format!("{}\n{line_b}\n", &line_a[1..])),
        (
            "mixed.txt",
            format!("junk\n{line_a}\n{}  b.txt\n", "0".repeat(64)),
        ),
        (
            "missing.txt",
            format!("{line_a}\n{}  gone.txt\n", "1".repeat(64)),
        ),
        ("all-missing.txt", format!("{}  gone.txt\n", "2".repeat(64))),
    ];
    for (name, text) in &files {
        std::fs::write(d.join(name), text).unwrap();
    }
    let mut compared = 0;
    for order in sequences(&["--status", "--warn", "--quiet", "-w"], 3) {
        for extra in [&[][..], &["--strict"], &["--ignore-missing"]] {
            for (file, _) in &files {
                let mut args = vec!["-c"];
                args.extend(&order);
                args.extend(extra);
                args.push(file);
                same(d, &args, b"");
                compared += 1;
            }
        }
    }
    // 85 orders x 3 extras x 4 files, all identical (each `same` asserts).
    assert_eq!(compared, 85 * 3 * 4);
    eprintln!("GNU sha256sum: {compared}/{compared} --status/--warn/--quiet orders identical");

    // The issue's rows, spelled out: GNU reads on after the malformed line.
    let out = same(d, &["-c", "short-first.txt"], b"");
    assert_eq!((out.code, &out.stdout[..]), (0, &b"b.txt: OK\n"[..]));
    let warned = same(d, &["-c", "--status", "--warn", "short-first.txt"], b"");
    assert_eq!(
        String::from_utf8_lossy(&warned.stderr),
        "sha256sum: short-first.txt: 1: improperly formatted SHA256 checksum line\n\
         sha256sum: WARNING: 1 line is improperly formatted\n"
    );
    let silent = same(
        d,
        &[
            "-c",
            "--warn",
            "--status",
            "--ignore-missing",
            "all-missing.txt",
        ],
        b"",
    );
    assert!(silent.stdout.is_empty() && silent.stderr.is_empty());
    assert_eq!(silent.code, 1);
}

#[test]
fn a_malformed_line_never_changes_how_later_lines_are_read() {
    let dir = TempDir::new("malformed");
    let d = dir.path();
    for name in ["a", "b", " c", "*d"] {
        std::fs::write(d.join(name), name.as_bytes()).unwrap();
    }
    let gnu = run(Command::new("sha256sum").args(["a", "b"]), d, b"");
    let good = String::from_utf8(gnu.stdout).unwrap();
    let reversed = good.replace("  ", " ");
    let h = &good[..64];
    let bad_first_lines = [
        format!("{}  a", &h[1..]),
        format!("{} a", &h[1..]),
        format!("{h}0  a"),
        format!("{}g  a", &h[1..]),
        format!("{}g a", &h[1..]),
        format!("\\{h}  bad\\escape"),
        format!("\\{h} bad\\escape"),
        "____not_all_hex_so_no_match_____ blah".to_owned(),
        format!("SHA256 (a) = {}", &h[1..]),
        format!("SHA256 (a) = {h} "),
        "\r".to_owned(),
        "#comment".to_owned(),
        format!("{h}\ta"),
        format!("{h} \ta"),
    ];
    let mut compared = 0;
    for (i, first) in bad_first_lines.iter().enumerate() {
        for (j, rest) in [&good, &reversed].iter().enumerate() {
            let name = format!("sums-{i}-{j}.txt");
            std::fs::write(d.join(&name), format!("{first}\n{rest}")).unwrap();
            for flags in [&[][..], &["--warn"], &["--strict"], &["--status"]] {
                let mut args = vec!["-c"];
                args.extend(flags);
                args.push(&name);
                same(d, &args, b"");
                compared += 1;
            }
        }
    }
    eprintln!("GNU sha256sum: {compared}/{compared} malformed-first-line cases identical");
}

/// One of coreutils' own cases (tests/misc/md5sum.pl, md5sum-bsd.sh,
/// md5sum-newline.pl, sha256sum.pl in 9.1), translated to SHA-256: the
/// arguments, the files, standard input, and the exit code coreutils expects.
struct CoreutilsCase {
    name: &'static str,
    args: &'static [&'static str],
    files: Vec<(&'static str, Vec<u8>)>,
    stdin: &'static [u8],
    exit: i32,
}

const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// SHA-256 of "286": a digest that starts with `00`, as md5sum.pl's
/// check-ignore-missing-6 wants ("9t" there; coreutils 8.25 took such
/// digests for missing files).
const HASH_286: &str = "00328ce57bbc14b33bd6695bc8eb32cdf2fb5f3a7d89ec14a42825e15d39df60";

fn coreutils_cases() -> Vec<CoreutilsCase> {
    let f = |name: &'static str, text: &str| (name, text.as_bytes().to_vec());
    let sums = |text: String| ("f.sums", text.into_bytes());
    let case = |name, args, files, exit| CoreutilsCase {
        name,
        args,
        files,
        stdin: b"",
        exit,
    };
    vec![
        case("s1", &["--text", "f"], vec![f("f", "")], 0),
        case("s2", &["--text", "f"], vec![f("f", "a")], 0),
        case("s3", &["--text", "f"], vec![f("f", "abc")], 0),
        case(
            "s4",
            &["--text", "f"],
            vec![f(
                "f",
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            )],
            0,
        ),
        case(
            "s8",
            &["--text", "f"],
            vec![f("f", &"a".repeat(1_000_000))],
            0,
        ),
        case(
            "backslash-1",
            &["--text", ".\nfoo"],
            vec![f(".\nfoo", "")],
            0,
        ),
        case(
            "backslash-2",
            &["--text", ".\\foo"],
            vec![f(".\\foo", "")],
            0,
        ),
        case(
            "backslash-3",
            &["--text", ".\rfoo"],
            vec![f(".\rfoo", "")],
            0,
        ),
        case(
            "check-1",
            &["--check", "f.sums"],
            vec![f("f", ""), sums(format!("{EMPTY}  f\n"))],
            0,
        ),
        case(
            "check-windows",
            &["--check", "f.sums"],
            vec![f("f", ""), sums(format!("{EMPTY}  f\r\n"))],
            0,
        ),
        case(
            "ck-strict-1",
            &["--check", "--strict", "f.sums"],
            vec![f("f", ""), sums(format!("{EMPTY}  f\n\n"))],
            0,
        ),
        case(
            "ck-strict-2",
            &["--check", "--strict", "f.sums"],
            vec![f("f", ""), sums(format!("ERR\n{EMPTY}  f\n"))],
            1,
        ),
        case(
            "check-2",
            &["--check", "--status", "f.sums"],
            vec![f("f", "foo"), sums(format!("{EMPTY}  f\n"))],
            1,
        ),
        case(
            "check-quiet1",
            &["--check", "--quiet", "f.sums"],
            vec![f("f", ""), sums(format!("{EMPTY}  f\n"))],
            0,
        ),
        case(
            "check-quiet2",
            &["--check", "--quiet", "f.sums"],
            vec![f("f", "foo"), sums(format!("{EMPTY}  f\n"))],
            1,
        ),
        case(
            "check-multifail",
            &["--check", "f.sums"],
            vec![
                f("f", "foo"),
                sums(format!("{EMPTY}  f\n{EMPTY}  f\ninvalid\n")),
            ],
            1,
        ),
        case(
            "check-multifail-warn",
            &["--check", "--warn", "f.sums"],
            vec![
                f("f", "foo"),
                sums(format!("{EMPTY}  f\n{EMPTY}  f\ninvalid\n")),
            ],
            1,
        ),
        case(
            "check-bsd",
            &["--check", "f.sums"],
            vec![f("f", ""), sums(format!("SHA1 (f) = {EMPTY}\n"))],
            1,
        ),
        case(
            "check-bsd2",
            &["--check", "f.sums"],
            vec![f("f", ""), sums(format!("SHA256 (f) = {EMPTY}\n"))],
            0,
        ),
        case(
            "check-bsd3",
            &["--check", "--status", "f.sums"],
            vec![f("f", "bar"), sums(format!("SHA256 (f) = {EMPTY}\n"))],
            1,
        ),
        case(
            "check-openssl",
            &["--check", "f.sums"],
            vec![f("f", ""), sums(format!("SHA1(f)= {EMPTY}\n"))],
            1,
        ),
        case(
            "check-openssl2",
            &["--check", "f.sums"],
            vec![f("f", ""), sums(format!("SHA256(f)= {EMPTY}\n"))],
            0,
        ),
        case(
            "check-openssl3",
            &["--check", "--status", "f.sums"],
            vec![f("f", "bar"), sums(format!("SHA256(f)= {EMPTY}\n"))],
            1,
        ),
        case(
            "check-ignore-missing-1",
            &["--check", "--ignore-missing", "f.sums"],
            vec![
                f("f", ""),
                sums(format!("{EMPTY}  f\n{EMPTY}  f.missing\n")),
            ],
            0,
        ),
        case(
            "check-ignore-missing-3",
            &["--check", "--quiet", "--ignore-missing", "f.sums"],
            vec![
                f("f", ""),
                sums(format!("{EMPTY}  missing/f\n{EMPTY}  f\n")),
            ],
            0,
        ),
        case(
            "check-ignore-missing-4",
            &["--ignore-missing", "--text", "f"],
            vec![f("f", "")],
            1,
        ),
        case(
            "check-ignore-missing-5",
            &["--check", "--ignore-missing", "f.sums"],
            vec![f("f", ""), sums(format!("{EMPTY}  missing\n"))],
            1,
        ),
        case(
            "check-ignore-missing-6",
            &["--check", "--ignore-missing", "f.sums"],
            vec![f("f", "286"), sums(format!("{HASH_286}  f\n"))],
            0,
        ),
        case(
            "bsd-segv",
            &["--check", "z"],
            vec![("z", b"SHA256 (".to_vec())],
            1,
        ),
        case(
            "nul-in-cksum",
            &["--check", "h"],
            vec![("h", [vec![0u8; 64], b"  h\n".to_vec()].concat())],
            1,
        ),
        // md5sum-newline.pl
        case("newline", &["--text", "a\nb"], vec![f("a\nb", "")], 0),
        case(
            "zero",
            &["--text", "--zero", "a\nb"],
            vec![f("a\nb", "")],
            0,
        ),
        // md5sum-bsd.sh
        case("tag-check", &["--tag", "--check", "f"], vec![f("f", "")], 1),
        case("tag-text", &["--tag", "--text", "f"], vec![f("f", "")], 1),
        case(
            "tag-escapes",
            &["--tag", "test\n\\\\file", "a\\b", "a\\", "a\tb"],
            vec![
                f("test\n\\\\file", ""),
                f("a\\b", ""),
                f("a\\", ""),
                f("a\tb", ""),
            ],
            0,
        ),
        case(
            "bsd-not-triggered-by-gpg-header",
            &["-c", "f.sums"],
            vec![
                f("a", "a\n"),
                sums(format!(
                    "____not_all_hex_so_no_match_____ blah\n{}  a\n",
                    "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"
                )),
            ],
            0,
        ),
    ]
}

#[test]
fn coreutils_own_cases_are_byte_identical() {
    let cases = coreutils_cases();
    for case in &cases {
        let dir = TempDir::new("coreutils");
        for (name, contents) in &case.files {
            std::fs::write(dir.path().join(name), contents).unwrap();
        }
        let gnu = same(dir.path(), case.args, case.stdin);
        assert_eq!(
            gnu.code, case.exit,
            "{}: coreutils expects {}",
            case.name, case.exit
        );
    }
    eprintln!(
        "GNU sha256sum: {}/{} coreutils cases identical",
        cases.len(),
        cases.len()
    );
}

#[test]
fn tag_zero_text_and_binary_match_gnu_in_every_order() {
    let dir = data_dir();
    let d = dir.path();
    let names = all_names(d);
    let mut compared = 0;
    for order in sequences(&["-b", "-t", "--tag", "-z"], 3) {
        same(d, &args_with(&order, &names), b"");
        let mut check = vec!["-c"];
        check.extend(&order);
        check.push("none.txt");
        same(d, &check, b"");
        compared += 2;
    }
    // What --tag writes, GNU reads back, with every name.
    let tagged = run(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("checksums")
            .args(args_with(&["--tag"], &names)),
        d,
        b"",
    );
    std::fs::write(d.join("tagged.txt"), &tagged.stdout).unwrap();
    let verified = run(
        Command::new("sha256sum").args(["-c", "--strict", "tagged.txt"]),
        d,
        b"",
    );
    assert_eq!(
        verified.code,
        0,
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    // -z ends every line with NUL and escapes nothing, even a newline.
    let zero = same(d, &["-z", "new\nline"], b"");
    assert!(zero.stdout.ends_with(b"  new\nline\0"), "{:?}", zero.stdout);
    // Flags meaningful only with --check, in every order, without it.
    for order in sequences(
        &[
            "--status",
            "--warn",
            "--quiet",
            "--strict",
            "--ignore-missing",
        ],
        2,
    ) {
        let mut args = order.clone();
        args.push("plain.bin");
        same(d, &args, b"");
        compared += 1;
    }
    eprintln!("GNU sha256sum: {compared}/{compared} -b/-t/--tag/-z orders identical");
}
