//! Checksums: SHA-256 of outputs in `sha256sum -c` format.
//!
//! Pure functions over bytes and names; writing files is the caller's job.

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// A `SHA256SUMS` body: one `<hex>  <name>` line per entry, sorted by name
/// (binary-safe two-space form that `sha256sum -c` reads).
pub fn sha256sums(entries: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .iter()
        .map(|(name, hex)| format!("{hex}  {name}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest_and_sorted_lines() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let s = sha256sums(&[("b.pdf".into(), "22".into()), ("a.pdf".into(), "11".into())]);
        assert_eq!(s, "11  a.pdf\n22  b.pdf\n");
    }
}
