//! The structure of a Hailo Executable Format (`.hef`) file, checked without
//! a device or HailoRT (layout from HailoRT's sources, see shared FACTS.md):
//! a big-endian magic `0x01484546` ("\x01HEF"), a u32 version and a u32
//! protobuf size; version 2 adds a u64 xxh3, a u64 `ccws_size` and two
//! reserved u64s (a 44-byte header), and the file is exactly
//! `44 + hef_proto_size + ccws_size` bytes.
//!
//! Earlier hand-made pipelines shipped text and JSON "HEF" placeholders for
//! this very model; they fail here, and so does a truncated file.

use std::io::Read;
use std::path::Path;

pub const MAGIC: u32 = 0x0148_4546;
const V2_HEADER: u64 = 44;

/// A HEF's header, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HefHeader {
    pub version: u32,
    pub proto_size: u64,
    pub ccws_size: u64,
    pub xxh3: String,
    pub file_size: u64,
}

record!(write: HefHeader (Same) {
    version,
    proto_size,
    ccws_size,
    xxh3,
    file_size,
});

/// Reads and checks a `.hef`; the error says what is wrong and what it
/// looks like instead.
pub fn inspect(path: &Path) -> Result<HefHeader, String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let file_size = file
        .metadata()
        .map_err(|e| format!("cannot stat: {e}"))?
        .len();
    let mut header = [0u8; V2_HEADER as usize];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(format!("cannot read: {e}")),
        }
    }
    let be32 = |at: usize| u32::from_be_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    let be64 = |at: usize| u64::from_be_bytes(header[at..at + 8].try_into().expect("8 bytes"));
    if read < 12 || be32(0) != MAGIC {
        return Err(format!("not a HEF: {}", describe(&header[..read])));
    }
    let version = be32(4);
    let proto_size = u64::from(be32(8));
    if version != 2 {
        return Err(format!(
            "HEF header version {version} is not one this check knows (version 2, written by the Dataflow Compiler 3.x for Hailo-8/8L)"
        ));
    }
    if read < V2_HEADER as usize {
        return Err(format!(
            "truncated: {file_size} bytes, shorter than the {V2_HEADER}-byte version 2 header"
        ));
    }
    let ccws_size = be64(20);
    let expected = V2_HEADER
        .checked_add(proto_size)
        .and_then(|n| n.checked_add(ccws_size));
    if expected != Some(file_size) {
        return Err(format!(
            "{file_size} bytes, but the header promises {V2_HEADER} + {proto_size} (proto) + {ccws_size} (ccws) = {}: \
             truncated or padded",
            expected.map_or("more than fits".to_owned(), |n| n.to_string())
        ));
    }
    Ok(HefHeader {
        version,
        proto_size,
        ccws_size,
        xxh3: format!("{:016x}", be64(12)),
        file_size,
    })
}

/// What a file that is not a HEF looks like, for the error.
fn describe(start: &[u8]) -> String {
    let text = String::from_utf8_lossy(start);
    let trimmed = text.trim_start();
    if start.is_empty() {
        "the file is empty".to_owned()
    } else if trimmed.starts_with('{') || trimmed.starts_with('[') {
        "it is JSON text, a placeholder rather than a compiled model".to_owned()
    } else if start
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        format!(
            "it is text ({:?}...), a placeholder rather than a compiled model",
            trimmed.chars().take(24).collect::<String>()
        )
    } else {
        format!(
            "it starts with {:02x?} instead of the HEF magic 01 48 45 46",
            &start[..start.len().min(4)]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hef(proto: usize, ccws: usize) -> Vec<u8> {
        let mut data = MAGIC.to_be_bytes().to_vec();
        data.extend_from_slice(&2u32.to_be_bytes());
        data.extend_from_slice(&(proto as u32).to_be_bytes());
        data.extend_from_slice(&0x1122_3344_5566_7788u64.to_be_bytes());
        data.extend_from_slice(&(ccws as u64).to_be_bytes());
        data.extend_from_slice(&[0u8; 16]);
        data.extend(std::iter::repeat_n(7u8, proto + ccws));
        data
    }

    fn check(bytes: &[u8]) -> Result<HefHeader, String> {
        let path =
            std::env::temp_dir().join(format!("xtask-hef-{}-{}", std::process::id(), bytes.len()));
        std::fs::write(&path, bytes).unwrap();
        let result = inspect(&path);
        std::fs::remove_file(path).unwrap();
        result
    }

    #[test]
    fn a_well_formed_hef_passes() {
        let header = check(&hef(100, 300)).unwrap();
        assert_eq!(
            (
                header.version,
                header.proto_size,
                header.ccws_size,
                header.file_size
            ),
            (2, 100, 300, 444)
        );
        assert_eq!(header.xxh3, "1122334455667788");
    }

    #[test]
    fn placeholders_and_truncation_fail_with_the_reason() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"{\"model\": \"tcn\", \"placeholder\": true}",
                "JSON text, a placeholder",
            ),
            (b"TODO: compile with the DFC\n", "it is text"),
            (b"", "the file is empty"),
            (b"\x89PNG\r\n\x1a\n1234", "instead of the HEF magic"),
        ];
        for (bytes, why) in cases {
            let err = check(bytes).unwrap_err();
            assert!(err.contains(why), "{err}");
        }
        let full = hef(100, 300);
        assert!(check(&full[..300])
            .unwrap_err()
            .contains("truncated or padded"));
        assert!(check(&full[..30])
            .unwrap_err()
            .contains("shorter than the 44-byte"));
        let mut padded = full.clone();
        padded.push(0);
        assert!(check(&padded).is_err());
        let mut v3 = full;
        v3[7] = 3;
        assert!(check(&v3).unwrap_err().contains("version 3"));
    }
}
