//! The header of a NumPy `.npy` file: enough to check a calibration set's
//! dtype and shape without reading the data.

use std::io::Read;
use std::path::Path;

/// `descr` (e.g. `<f4`) and `shape` of a `.npy` file.
pub fn header(path: &Path) -> Result<(String, Vec<u64>), String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut start = [0u8; 12];
    file.read_exact(&mut start[..10])
        .map_err(|_| "too short to be a .npy file".to_owned())?;
    if &start[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (no \\x93NUMPY magic)".to_owned());
    }
    let len = match start[6] {
        1 => usize::from(u16::from_le_bytes([start[8], start[9]])),
        2 | 3 => {
            file.read_exact(&mut start[10..12])
                .map_err(|_| "truncated .npy header".to_owned())?;
            u32::from_le_bytes([start[8], start[9], start[10], start[11]]) as usize
        }
        v => return Err(format!(".npy format version {v} is unknown")),
    };
    let mut dict = vec![0u8; len.min(1 << 16)];
    file.read_exact(&mut dict)
        .map_err(|_| "truncated .npy header".to_owned())?;
    let dict = String::from_utf8_lossy(&dict);
    let field = |key: &str| -> Option<String> {
        let at = dict.find(&format!("'{key}':"))? + key.len() + 3;
        Some(dict[at..].trim_start().to_owned())
    };
    let descr = field("descr").and_then(|v| {
        v.strip_prefix('\'')
            .and_then(|v| v.split('\'').next())
            .map(str::to_owned)
    });
    let shape = field("shape").and_then(|v| {
        let inner = v.strip_prefix('(')?.split(')').next()?.to_owned();
        inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|n| n.parse().ok())
            .collect::<Option<Vec<u64>>>()
    });
    match (descr, shape) {
        (Some(descr), Some(shape)) => Ok((descr, shape)),
        _ => Err(format!("unreadable .npy header: {}", dict.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dtype_and_shape() {
        let path = std::env::temp_dir().join(format!("xtask-npy-{}.npy", std::process::id()));
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1024, 1, 100, 9), }";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(
            header(&path).unwrap(),
            ("<f4".to_owned(), vec![1024, 1, 100, 9])
        );
        std::fs::write(&path, b"not numpy at all").unwrap();
        assert!(header(&path).unwrap_err().contains("no \\x93NUMPY magic"));
        std::fs::remove_file(path).unwrap();
    }
}
