//! What a photo's first bytes say, without decoding its pixels: its real format and declared
//! size, and whether decoding would refuse that size. The Worker checks uploads with it, so a
//! photo the pipeline cannot take (a bomb, a 24 MP WebP) is refused before it is stored.

use std::io::Cursor;

use image::codecs::webp::WebPDecoder;
use image::ImageDecoder;

use super::decode::{check_size, Format, Holding};
use super::error::VisionError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspected {
    /// `image/jpeg`, `image/png` or `image/webp`, from the bytes, whatever the upload claimed.
    pub media_type: &'static str,
    /// The declared size, when the header could be read.
    pub dimensions: Option<(u32, u32)>,
}

/// The photo's format and size; an error when the format is not one we read
/// (`UnsupportedFormat`), or when decoding would refuse the declared size (`TooLarge`,
/// `TooLargeFor`, `Empty`: the same checks and words as `decode`). An unreadable header is
/// left for decoding to describe.
pub fn inspect(bytes: &[u8]) -> Result<Inspected, VisionError> {
    let format = Format::sniff(bytes).ok_or(VisionError::UnsupportedFormat)?;
    let header = match format {
        Format::Jpeg => {
            let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
            decoder.read_info().ok().and_then(|()| decoder.info()).map(|i| {
                ((u32::from(i.width), u32::from(i.height)), Holding::jpeg(&i))
            })
        }
        Format::Png => png_header(bytes),
        Format::WebP => WebPDecoder::new(Cursor::new(bytes)).ok().map(|d| (d.dimensions(), Holding::WEBP)),
    };
    if let Some(((width, height), holding)) = header {
        check_size(bytes, width, height, holding)?;
    }
    Ok(Inspected { media_type: format.media_type(), dimensions: header.map(|(size, _)| size) })
}

/// PNG's first chunk is IHDR: width, height, bit depth, colour type, compression, filter,
/// interlace. Read here because the png crate wants to read on to the pixel data, which a
/// bomb's header need not be followed by.
fn png_header(bytes: &[u8]) -> Option<((u32, u32), Holding)> {
    match bytes.get(12..29)? {
        [b'I', b'H', b'D', b'R', w0, w1, w2, w3, h0, h1, h2, h3, _, _, _, _, interlace] => Some((
            (u32::from_be_bytes([*w0, *w1, *w2, *w3]), u32::from_be_bytes([*h0, *h1, *h2, *h3])),
            Holding::png(*interlace != 0),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG header declaring width x height pixels, and nothing else.
    fn png_header_alone(width: u32, height: u32, interlace: u8) -> Vec<u8> {
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
        png.extend(width.to_be_bytes());
        png.extend(height.to_be_bytes());
        png.extend([8, 2, 0, 0, interlace]);
        png.extend(crc(&png[12..]).to_be_bytes());
        png
    }

    #[test]
    fn reads_format_and_size_from_a_header_alone() {
        let png = png_header_alone(3000, 2000, 0);
        assert_eq!(inspect(&png).unwrap(), Inspected { media_type: "image/png", dimensions: Some((3000, 2000)) });
        assert!(matches!(inspect(b"hello, not a photo"), Err(VisionError::UnsupportedFormat)));
        assert_eq!(inspect(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(), Inspected { media_type: "image/jpeg", dimensions: None });
    }

    #[test]
    fn refuses_what_decoding_would_refuse_for_its_size() {
        assert!(matches!(inspect(&png_header_alone(100_000, 100_000, 0)), Err(VisionError::TooLarge { .. })));
        assert!(matches!(
            inspect(&png_header_alone(3000, 2000, 1)),
            Err(VisionError::TooLargeFor { format: "interlaced PNG", limit_megapixels: 4, .. })
        ));
        assert_eq!(inspect(&png_header_alone(0, 10, 0)), Err(VisionError::Empty));
        // A lossless WebP's header (VP8L) declaring 6000x4000 pixels.
        let size = (6000u32 - 1) | ((4000 - 1) << 14);
        let mut webp = b"RIFF\x12\0\0\0WEBPVP8L\x05\0\0\0\x2f".to_vec();
        webp.extend(size.to_le_bytes());
        assert_eq!(
            inspect(&webp).unwrap_err().to_string(),
            "image too large for a WebP: 6000x4000 pixels (limit 4 megapixels for a WebP; send a \
             baseline JPEG or a non-interlaced PNG)"
        );
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
