//! What a photo's first bytes say, without decoding its pixels: its real format and declared
//! size. The Worker checks uploads with it, so a bomb is refused before it is stored.

use std::io::Cursor;

use image::codecs::webp::WebPDecoder;
use image::ImageDecoder;

use super::decode::Format;
use super::error::VisionError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspected {
    /// `image/jpeg`, `image/png` or `image/webp`, from the bytes, whatever the upload claimed.
    pub media_type: &'static str,
    /// The declared size, when the header could be read.
    pub dimensions: Option<(u32, u32)>,
}

pub fn inspect(bytes: &[u8]) -> Result<Inspected, VisionError> {
    let format = Format::sniff(bytes).ok_or(VisionError::UnsupportedFormat)?;
    let dimensions = match format {
        Format::Jpeg => {
            let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
            decoder.read_info().ok().and_then(|()| decoder.info()).map(|i| (u32::from(i.width), u32::from(i.height)))
        }
        Format::Png => png_size(bytes),
        Format::WebP => WebPDecoder::new(Cursor::new(bytes)).ok().map(|d| d.dimensions()),
    };
    Ok(Inspected { media_type: format.media_type(), dimensions })
}

/// PNG's first chunk is IHDR, width and height first. Read here because the png crate wants
/// to read on to the pixel data, which a bomb's header need not be followed by.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    match bytes.get(12..24)? {
        [b'I', b'H', b'D', b'R', w0, w1, w2, w3, h0, h1, h2, h3] => {
            Some((u32::from_be_bytes([*w0, *w1, *w2, *w3]), u32::from_be_bytes([*h0, *h1, *h2, *h3])))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_format_and_size_from_a_header_alone() {
        // A PNG header declaring 100000 x 100000 pixels, and nothing else.
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
        png.extend(100_000u32.to_be_bytes());
        png.extend(100_000u32.to_be_bytes());
        png.extend([8, 2, 0, 0, 0]);
        png.extend(crc(&png[12..]).to_be_bytes());
        assert_eq!(inspect(&png).unwrap(), Inspected { media_type: "image/png", dimensions: Some((100_000, 100_000)) });
        assert!(matches!(inspect(b"hello, not a photo"), Err(VisionError::UnsupportedFormat)));
        assert_eq!(inspect(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap().media_type, "image/jpeg");
    }

    fn crc(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
}
