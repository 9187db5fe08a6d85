//! A fixed-window message counter per socket, small enough to live in its attachment.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateWindow {
    pub start_ms: u64,
    pub count: u32,
}

impl RateWindow {
    /// Counts one message at `now_ms`; false when it is over `limit` in its `window_ms` window.
    pub fn admit(&mut self, now_ms: u64, limit: u32, window_ms: u64) -> bool {
        if now_ms.saturating_sub(self.start_ms) >= window_ms {
            *self = RateWindow { start_ms: now_ms, count: 0 };
        }
        self.count += 1;
        self.count <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_per_window() {
        let mut window = RateWindow::default();
        assert!((0..3).all(|i| window.admit(1_000 + i, 3, 10_000)));
        assert!(!window.admit(1_500, 3, 10_000));
        assert!(window.admit(11_000, 3, 10_000), "a new window starts afresh");
    }
}
