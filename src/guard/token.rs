//! Subscribe tokens: `<expiry>.<hex HMAC-SHA256(secret, "<eventId>.<expiry>")>`, expiry in
//! seconds since the epoch. Bound to one event, checked in constant time (hmac's verify).

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    /// Not signed by our secret for this event: forged, or another event's token.
    Forged,
    Expired,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenError::Malformed => "the token is malformed",
            TokenError::Forged => "the token is not valid for this event",
            TokenError::Expired => "the token has expired",
        })
    }
}

fn mac(secret: &str, event_id: &str, expires: u64) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{event_id}.{expires}").as_bytes());
    mac
}

/// A token that lets its holder subscribe to `event_id` until `expires` (epoch seconds).
pub fn issue_token(secret: &str, event_id: &str, expires: u64) -> String {
    let signature = mac(secret, event_id, expires).finalize().into_bytes();
    let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
    format!("{expires}.{hex}")
}

/// Checks a token for `event_id` at time `now` (epoch seconds).
pub fn verify_token(secret: &str, event_id: &str, token: &str, now: u64) -> Result<(), TokenError> {
    let (expires, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let expires: u64 = expires.parse().map_err(|_| TokenError::Malformed)?;
    let signature = decode_hex(signature).ok_or(TokenError::Malformed)?;
    mac(secret, event_id, expires).verify_slice(&signature).map_err(|_| TokenError::Forged)?;
    if now >= expires {
        return Err(TokenError::Expired);
    }
    Ok(())
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cret";

    #[test]
    fn a_token_opens_its_event_until_it_expires() {
        let token = issue_token(SECRET, "race-a", 1_000);
        assert_eq!(verify_token(SECRET, "race-a", &token, 999), Ok(()));
        assert_eq!(verify_token(SECRET, "race-a", &token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn another_events_token_a_forgery_or_garbage_is_refused() {
        let token = issue_token(SECRET, "race-a", 1_000);
        assert_eq!(verify_token(SECRET, "race-b", &token, 0), Err(TokenError::Forged));
        assert_eq!(verify_token("other", "race-a", &token, 0), Err(TokenError::Forged));
        let later = token.replacen("1000.", "9999.", 1);
        assert_eq!(verify_token(SECRET, "race-a", &later, 0), Err(TokenError::Forged));
        for bad in ["", "1000", "x.y", "1000.zz", "1000.abcd", "é.é"] {
            assert_eq!(verify_token(SECRET, "race-a", bad, 0), Err(TokenError::Malformed), "{bad}");
        }
    }
}
