//! Checksums: SHA-256 of outputs in `sha256sum -c` format.
//!
//! Functions over bytes and names, and a writer that hashes as it writes;
//! which files to write is the caller's job.

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// A writer that hashes every byte written through it (to checksum a file
/// as it is written instead of reading it back).
pub struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
}

impl<W: std::io::Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hash: Sha256::new(),
        }
    }

    /// The inner writer and the lowercase hex SHA-256 of what was written.
    pub fn finish(self) -> (W, String) {
        (self.inner, format!("{:x}", self.hash.finalize()))
    }
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A `SHA256SUMS` body: one `<hex>  <name>` line per entry, sorted by name
/// (binary-safe two-space form that `sha256sum -c` reads).
pub fn sha256sums(entries: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
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
        let s = sha256sums(&[("b.pdf", "22"), ("a.pdf", "11")]);
        assert_eq!(s, "11  a.pdf\n22  b.pdf\n");
    }

    #[test]
    fn hashing_writer_hashes_what_it_writes() {
        use std::io::Write as _;
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        let (bytes, hex) = w.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!(hex, sha256_hex(b"abc"));
    }
}
