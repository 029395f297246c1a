//! Deterministic zip archives for release bundles: the same files make the
//! same bytes on any machine, any day. Entries are stored (not compressed;
//! model weights do not compress and the checksums are over the archive),
//! sorted by name, dated 1980-01-01, mode 0644, names in UTF-8. No zip64:
//! over 4 GiB or 65,535 entries is an error.

use anyhow::{bail, Result};

/// The archive of `entries` (name inside the archive, contents).
pub fn archive(entries: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut entries: Vec<&(String, Vec<u8>)> = entries.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    if entries.len() > usize::from(u16::MAX) {
        bail!(
            "{} files are more than a zip without zip64 holds (65,535)",
            entries.len()
        );
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in &entries {
        let offset = small(out.len(), name)?;
        let size = small(data.len(), name)?;
        let name_len =
            u16::try_from(name.len()).map_err(|_| anyhow::anyhow!("{name}: name too long"))?;
        let crc = crc32(data);
        // The fields both headers share, from `version needed` on.
        let mut common = Vec::new();
        for v in [20u16, 0x0800, 0, 0, 0x0021] {
            common.extend(v.to_le_bytes());
        }
        for v in [crc, size, size] {
            common.extend(v.to_le_bytes());
        }
        common.extend(name_len.to_le_bytes());
        common.extend(0u16.to_le_bytes());

        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(&common);
        out.extend(name.as_bytes());
        out.extend(data);

        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(0x031Eu16.to_le_bytes()); // made by: Unix, 3.0
        central.extend(&common);
        central.extend(0u16.to_le_bytes()); // comment
        central.extend(0u16.to_le_bytes()); // disk
        central.extend(0u16.to_le_bytes()); // internal attributes
        central.extend((0o100_644u32 << 16).to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let start = small(out.len(), "the archive")?;
    let size = small(central.len(), "the archive")?;
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    let count = entries.len() as u16;
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    Ok(out)
}

fn small(n: usize, what: &str) -> Result<u32> {
    u32::try_from(n)
        .map_err(|_| anyhow::anyhow!("{what}: over 4 GiB, more than a zip without zip64 holds"))
}

/// CRC-32 (IEEE 802.3), as zip stores it.
fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_ieee() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn the_same_files_in_any_order_make_the_same_bytes() {
        let a = ("b/x.json".to_owned(), b"{}".to_vec());
        let b = ("a.txt".to_owned(), b"hello\n".to_vec());
        let one = archive(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(one, archive(&[b, a]).unwrap());
        assert_eq!(&one[..4], b"PK\x03\x04");
        assert_eq!(&one[one.len() - 22..one.len() - 18], b"PK\x05\x06");
    }
}
