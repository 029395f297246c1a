//! SHA-256 of many files at once: a bounded pool of std threads, each
//! streaming its file through one reused buffer, results handed back in input
//! order. Memory stays at (threads x buffer) whatever the file sizes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Large enough that syscalls cost nothing next to hashing; small enough that
/// two of them are nothing next to the 32 MiB memory budget.
const BUFFER: usize = 1 << 20;

/// Inputs at least this large get a progress line on a terminal.
const PROGRESS_FROM: u64 = 256 << 20;

/// What to hash.
#[derive(Clone, Debug)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

/// Hashes every input, using all cores, and calls `ready(index, result)` in
/// input order as soon as each result and all before it are known.
pub fn hash_in_order(inputs: &[Input], mut ready: impl FnMut(usize, io::Result<[u8; 32]>)) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(inputs.len().max(1));
    let next = AtomicUsize::new(0);
    let done_bytes = AtomicU64::new(0);
    let total: u64 = inputs
        .iter()
        .map(|input| match input {
            Input::File(path) => std::fs::metadata(path).map_or(0, |m| m.len()),
            Input::Stdin => 0,
        })
        .sum();
    let show_progress = total >= PROGRESS_FROM && io::stderr().is_terminal();
    let (send, receive) = mpsc::channel::<(usize, io::Result<[u8; 32]>)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let send = send.clone();
            let (next, done_bytes) = (&next, &done_bytes);
            scope.spawn(move || {
                let mut buffer = vec![0u8; BUFFER];
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(index) else {
                        break;
                    };
                    let result = hash_one(input, &mut buffer, done_bytes);
                    if send.send((index, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(send);
        let progress = show_progress.then(|| Progress::new(total));
        let mut pending = BTreeMap::new();
        let mut expected = 0;
        loop {
            let received = match &progress {
                Some(p) => match receive.recv_timeout(Duration::from_millis(200)) {
                    Ok(r) => Some(r),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        p.show(done_bytes.load(Ordering::Relaxed));
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => None,
                },
                None => receive.recv().ok(),
            };
            let Some((index, result)) = received else {
                break;
            };
            pending.insert(index, result);
            while let Some(result) = pending.remove(&expected) {
                // Results go to the same screen: never after the progress text.
                if let Some(p) = &progress {
                    p.clear();
                }
                ready(expected, result);
                expected += 1;
            }
        }
        if let Some(p) = progress {
            p.clear();
        }
    });
}

fn hash_one(input: &Input, buffer: &mut [u8], done_bytes: &AtomicU64) -> io::Result<[u8; 32]> {
    match input {
        Input::Stdin => hash_reader(io::stdin().lock(), buffer, done_bytes),
        Input::File(path) => hash_reader(File::open(path)?, buffer, done_bytes),
    }
}

fn hash_reader(
    mut reader: impl Read,
    buffer: &mut [u8],
    done_bytes: &AtomicU64,
) -> io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    loop {
        let n = match reader.read(buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buffer[..n]);
        done_bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
    Ok(hasher.finalize().into())
}

/// `hashed 1.2 GiB / 3.0 GiB (1.8 GiB/s)` on one rewritten stderr line.
struct Progress {
    total: u64,
    started: Instant,
    /// Whether the line is on screen now.
    shown: std::cell::Cell<bool>,
}

impl Progress {
    fn new(total: u64) -> Progress {
        Progress {
            total,
            started: Instant::now(),
            shown: std::cell::Cell::new(false),
        }
    }

    fn show(&self, done: u64) {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let rate = gib(done) / self.started.elapsed().as_secs_f64().max(1e-3);
        let _ = write!(
            io::stderr(),
            "\rhashed {:.2} GiB / {:.2} GiB ({rate:.2} GiB/s)",
            gib(done),
            gib(self.total)
        );
        self.shown.set(true);
    }

    fn clear(&self) {
        if self.shown.replace(false) {
            let _ = write!(io::stderr(), "\r\x1b[K");
        }
    }
}
