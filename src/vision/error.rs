//! Why a photo could not be read, in words a person understands.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisionError {
    /// The bytes are not a format we decode.
    UnsupportedFormat,
    /// The file claims to be an image of a known format but cannot be decoded.
    Corrupt {
        format: &'static str,
        reason: String,
    },
    /// Declared dimensions above the limit: refused before decoding (decompression bombs).
    TooLarge {
        width: u64,
        height: u64,
        limit_megapixels: u64,
    },
    /// Formats decoded only at full size (WebP, interlaced PNG), or from all of their
    /// coefficients at once (progressive JPEG), have a lower limit than baseline JPEG and PNG,
    /// which are shrunk while they are decoded: the memory is the limit.
    TooLargeFor {
        format: &'static str,
        width: u64,
        height: u64,
        limit_megapixels: u64,
    },
    /// A zero-sized image: nothing to read.
    Empty,
    /// A model could not be loaded or run (a bug or a bad model file, not a bad photo).
    Model(String),
}

impl fmt::Display for VisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VisionError::UnsupportedFormat => write!(f, "not a JPEG, PNG or WebP image"),
            VisionError::Corrupt { format, reason } => {
                write!(f, "the {format} is truncated or corrupt: {reason}")
            }
            VisionError::TooLarge {
                width,
                height,
                limit_megapixels,
            } => write!(
                f,
                "image too large: {width}x{height} pixels (limit {limit_megapixels} megapixels)"
            ),
            VisionError::TooLargeFor {
                format,
                width,
                height,
                limit_megapixels,
            } => {
                let a = if format.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                write!(
                    f,
                    "image too large for {a} {format}: {width}x{height} pixels (limit \
                     {limit_megapixels} megapixels for {a} {format}; send a baseline JPEG or a \
                     non-interlaced PNG)"
                )
            }
            VisionError::Empty => write!(f, "the image has no pixels"),
            VisionError::Model(reason) => write!(f, "the recognition model failed: {reason}"),
        }
    }
}

impl std::error::Error for VisionError {}

impl VisionError {
    pub(crate) fn model(e: impl fmt::Display) -> Self {
        VisionError::Model(format!("{e:#}"))
    }
}
