//! Identifiers that cross the wire: their syntax, and how new ones are made.
//!
//! Ids end up in R2 keys, Durable Object names, SQL rows and log lines, so only a small
//! alphabet is accepted. Randomness comes from the caller (the shell owns entropy).

/// The kinds of id a request can carry, each with its own alphabet and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Event,
    Photo,
    Request,
}

impl IdKind {
    fn max_len(self) -> usize {
        match self {
            IdKind::Event | IdKind::Photo => 64,
            IdKind::Request => 128,
        }
    }

    fn allows(self, c: char) -> bool {
        c.is_ascii_alphanumeric()
            || c == '_'
            || c == '-'
            || (self == IdKind::Request && (c == '.' || c == ':'))
    }

    pub fn name(self) -> &'static str {
        match self {
            IdKind::Event => "eventId",
            IdKind::Photo => "photoId",
            IdKind::Request => "requestId",
        }
    }

    /// Checks an id's syntax; the error says what is accepted.
    pub fn check(self, id: &str) -> Result<(), String> {
        if !id.is_empty() && id.len() <= self.max_len() && id.chars().all(|c| self.allows(c)) {
            return Ok(());
        }
        let alphabet = if self == IdKind::Request { "A-Z a-z 0-9 _ - . :" } else { "A-Z a-z 0-9 _ -" };
        Err(format!("{} must be 1-{} characters of {}", self.name(), self.max_len(), alphabet))
    }
}

/// The SHA-256 of a photo's bytes, in hex: tells a repeated upload from a different one.
pub fn content_digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// A new requestId (`req_` and 24 hex digits) from 12 random bytes.
pub fn new_request_id(random: [u8; 12]) -> String {
    format!("req_{}", hex(&random))
}

/// A new photoId (`ph_` and 24 hex digits) from 12 random bytes.
pub fn new_photo_id(random: [u8; 12]) -> String {
    format!("ph_{}", hex(&random))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabets() {
        assert!(IdKind::Event.check("race-2026_A").is_ok());
        assert!(IdKind::Request.check("req_abc123:retry.2").is_ok());
        assert!(IdKind::Event.check(&"e".repeat(64)).is_ok());
        assert!(IdKind::Request.check(&"r".repeat(128)).is_ok());
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "../etc", "a b", "a/b", "é", "a.b", "a:b"] {
            assert!(IdKind::Event.check(bad).is_err(), "{bad:?}");
        }
        assert!(IdKind::Event.check(&"e".repeat(65)).is_err());
        assert!(IdKind::Request.check(&"r".repeat(129)).is_err());
        assert!(IdKind::Request.check("req abc").is_err());
        assert_eq!(
            IdKind::Photo.check("x/y").unwrap_err(),
            "photoId must be 1-64 characters of A-Z a-z 0-9 _ -"
        );
    }

    #[test]
    fn digests_tell_bytes_apart() {
        assert_eq!(
            content_digest(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_ne!(content_digest(b"a"), content_digest(b"b"));
    }

    #[test]
    fn new_ids_are_valid_and_distinct() {
        let a = new_request_id([0; 12]);
        let b = new_request_id([0xab; 12]);
        assert_eq!(a, "req_000000000000000000000000");
        assert_ne!(a, b);
        assert!(IdKind::Request.check(&b).is_ok());
        assert!(IdKind::Photo.check(&new_photo_id([7; 12])).is_ok());
    }
}
