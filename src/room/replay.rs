//! Catching up after a reconnect: every logged frame after the client's `since`, preceded by
//! a notice when the bounded log no longer reaches back that far.

/// The oldest seq still logged, when frames after `since` have been trimmed away.
pub fn truncated_at(since: u64, oldest_logged: Option<u64>) -> Option<u64> {
    oldest_logged.filter(|&oldest| oldest > since + 1)
}

/// Frames with a seq at or below this are trimmed, to keep the last `limit` frames.
pub fn trim_through(last_seq: u64, limit: u64) -> u64 {
    last_seq.saturating_sub(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_only_when_frames_after_since_are_gone() {
        assert_eq!(truncated_at(0, None), None);
        assert_eq!(truncated_at(0, Some(1)), None);
        assert_eq!(truncated_at(4, Some(5)), None);
        assert_eq!(truncated_at(9, Some(5)), None);
        assert_eq!(truncated_at(3, Some(5)), Some(5));
        assert_eq!(truncated_at(0, Some(2)), Some(2));
    }

    #[test]
    fn trimming_keeps_the_last_limit_frames() {
        assert_eq!(trim_through(5, 10), 0);
        assert_eq!(trim_through(10_050, 10_000), 50);
    }
}
