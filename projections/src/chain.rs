//! The tamper-evident chain of each stream: every event carries a SHA-256 hash over the
//! previous event's hash and its own stored content, so changing, removing, reordering or
//! inserting an event breaks the chain from that event on (ADR 0011, `docs/audit.md`).
//!
//! The encoding, precisely enough to check it in another language: the SHA-256 of the
//! concatenation, for each of these fields in this order, of its length in bytes as an
//! unsigned 64-bit big-endian integer followed by its UTF-8 bytes:
//!
//! 1. the previous event's hash as 64 lowercase hex digits ([`GENESIS`] before the first);
//! 2. the aggregate type; 3. the aggregate id; 4. the sequence in decimal;
//! 5. the event type; 6. the event version;
//! 7. the payload and 8. the metadata, each exactly as stored (JSON text).
//!
//! The hash is written as 64 lowercase hex digits.

use sha2::{Digest, Sha256};

/// What the first event of a stream chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event's stored content, as the chain covers it.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a str,
    pub metadata: &'a str,
}

/// The hash of `link` chained to `previous`.
pub fn hash(previous: &str, link: &Link<'_>) -> String {
    let sequence = link.sequence.to_string();
    let mut hasher = Sha256::new();
    for field in [
        previous,
        link.aggregate_type,
        link.aggregate_id,
        &sequence,
        link.event_type,
        link.event_version,
        link.payload,
        link.metadata,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex(&hasher.finalize())
}

/// A stream's head at the end of a business day, as a leaf of the day's digest: the SHA-256
/// of its aggregate type, id, sequence (decimal) and hash, each length-prefixed as above.
pub fn head_leaf(aggregate_type: &str, aggregate_id: &str, sequence: i64, hash: &str) -> [u8; 32] {
    let sequence = sequence.to_string();
    let mut hasher = Sha256::new();
    for field in [aggregate_type, aggregate_id, sequence.as_str(), hash] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher.finalize().into()
}

/// The Merkle root of `leaves` (in the order given), as hex: each level hashes neighbours
/// in pairs (SHA-256 of the left then the right 32 bytes), a last odd node going up as it
/// is; no leaves give [`GENESIS`].
pub fn merkle_root(leaves: &[[u8; 32]]) -> String {
    if leaves.is_empty() {
        return GENESIS.to_owned();
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => {
                    let mut hasher = Sha256::new();
                    hasher.update(left);
                    hasher.update(right);
                    hasher.finalize().into()
                }
                [odd] => *odd,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    hex(&level[0])
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(payload: &str) -> Link<'_> {
        Link {
            aggregate_type: "Payment",
            aggregate_id: "t1",
            sequence: 1,
            event_type: "QrIssued",
            event_version: "1.0",
            payload,
            metadata: "{}",
        }
    }

    #[test]
    fn the_encoding_is_fixed() {
        // Reproduced outside Rust: python3 -c "import hashlib,struct; f=['0'*64,'Payment','t1',
        // '1','QrIssued','1.0','{}','{}']; print(hashlib.sha256(b''.join(struct.pack('>Q',
        // len(x.encode()))+x.encode() for x in f)).hexdigest())"
        assert_eq!(
            hash(GENESIS, &link("{}")),
            "536dbb6beb652d2a3c582c7c9edd92f2e98f0e9939cc545fffad54dafec8b799"
        );
    }

    #[test]
    fn the_merkle_root_pairs_neighbours_and_carries_an_odd_one_up() {
        let leaf = |n: u8| [n; 32];
        let pair = |a: [u8; 32], b: [u8; 32]| -> [u8; 32] {
            let mut hasher = Sha256::new();
            hasher.update(a);
            hasher.update(b);
            hasher.finalize().into()
        };
        assert_eq!(merkle_root(&[]), GENESIS);
        assert_eq!(merkle_root(&[leaf(1)]), hex(&leaf(1)));
        let three = merkle_root(&[leaf(1), leaf(2), leaf(3)]);
        assert_eq!(three, hex(&pair(pair(leaf(1), leaf(2)), leaf(3))));
        assert_ne!(
            three,
            merkle_root(&[leaf(2), leaf(1), leaf(3)]),
            "order counts"
        );
    }

    #[test]
    fn any_change_changes_the_hash() {
        let base = hash(GENESIS, &link("{\"a\":1}"));
        assert_ne!(base, hash(GENESIS, &link("{\"a\":2}")));
        assert_ne!(base, hash(&base, &link("{\"a\":1}")));
        // Lengths keep fields apart: moving a byte between two fields is a change.
        let mut moved = link("{\"a\":1}");
        moved.aggregate_type = "Paymen";
        moved.aggregate_id = "tt1";
        assert_ne!(base, hash(GENESIS, &moved));
    }
}
