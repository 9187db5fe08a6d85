//! The service's limits, each configurable by a Worker variable of the same name.

/// Limits with their defaults; `from_vars` reads overrides (whole numbers) by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `MAX_UPLOAD_BYTES`: the largest photo accepted (413 above).
    pub max_upload_bytes: u64,
    /// `MAX_MEGAPIXELS`: the largest photo by pixel count (422 at upload when its header shows it).
    pub max_megapixels: u64,
    /// `MAX_FRAME_BYTES`: the largest client frame (the socket is closed with 1009 above).
    pub max_frame_bytes: u64,
    /// `MAX_MESSAGES_PER_MINUTE`: per socket (closed with 1008 above).
    pub max_messages_per_minute: u32,
    /// `MAX_SOCKETS_PER_ROOM`: sockets one event's room holds (503 above).
    pub max_sockets_per_room: u64,
    /// `FRAME_LOG_LIMIT`: broadcasts each room keeps for replay.
    pub frame_log_limit: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_upload_bytes: 25 * 1024 * 1024,
            max_megapixels: crate::vision::MAX_MEGAPIXELS,
            max_frame_bytes: 16 * 1024,
            max_messages_per_minute: 120,
            max_sockets_per_room: 10_000,
            frame_log_limit: 10_000,
        }
    }
}

impl Limits {
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Limits {
        let read = |name: &str, default: u64| {
            var(name).and_then(|v| v.trim().parse().ok()).filter(|&v| v > 0).unwrap_or(default)
        };
        let d = Limits::default();
        Limits {
            max_upload_bytes: read("MAX_UPLOAD_BYTES", d.max_upload_bytes),
            max_megapixels: read("MAX_MEGAPIXELS", d.max_megapixels),
            max_frame_bytes: read("MAX_FRAME_BYTES", d.max_frame_bytes),
            max_messages_per_minute: read("MAX_MESSAGES_PER_MINUTE", d.max_messages_per_minute.into())
                .try_into()
                .unwrap_or(u32::MAX),
            max_sockets_per_room: read("MAX_SOCKETS_PER_ROOM", d.max_sockets_per_room),
            frame_log_limit: read("FRAME_LOG_LIMIT", d.frame_log_limit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_override_defaults_and_nonsense_is_ignored() {
        let limits = Limits::from_vars(|name| match name {
            "MAX_UPLOAD_BYTES" => Some("1000".into()),
            "MAX_FRAME_BYTES" => Some("lots".into()),
            "MAX_SOCKETS_PER_ROOM" => Some("0".into()),
            _ => None,
        });
        assert_eq!(limits.max_upload_bytes, 1000);
        assert_eq!(limits.max_frame_bytes, Limits::default().max_frame_bytes);
        assert_eq!(limits.max_sockets_per_room, Limits::default().max_sockets_per_room);
    }
}
