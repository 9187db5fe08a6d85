//! Stage "decode": photo bytes → an upright RGB working copy of bounded size.
//!
//! The format is sniffed from the bytes (never trusted from a file name), declared dimensions are
//! checked before any pixel is decoded (decompression bombs), and a big photo never exists at
//! full size in memory: JPEGs are decoded already scaled down in the DCT (1/2, 1/4, 1/8), PNGs
//! are shrunk row by row as they are decoded, and WebP (decoded whole by its crate) has a lower
//! size limit. The EXIF orientation is applied so boxes are in the photo as people see it.

use std::io::Cursor;

use image::codecs::webp::WebPDecoder;
use image::metadata::Orientation;
use image::{imageops, DynamicImage, ImageDecoder, RgbImage};

use super::error::VisionError;
use super::shrink::RowShrinker;

/// Photos above this many pixels are refused before decoding.
pub const MAX_MEGAPIXELS: u64 = 50;
/// WebP and interlaced PNG are decoded at full size (up to 4 bytes a pixel) before they are
/// shrunk: above this they would take the Worker's memory (docs/vision.md).
pub const MAX_FULL_DECODE_MEGAPIXELS: u64 = 4;
/// A progressive JPEG is decoded from all of its DCT coefficients at once (2 bytes a sample,
/// whatever scale is asked for): at most this many bytes of them. A 12 MP photo at 4:2:0 takes
/// 34 MiB, and the Worker's memory peaks at 73 MiB; 24 MP took it to 119 MiB, 24 MP at 4:4:4
/// to 199 MiB, over the isolate's 128 MB (docs/vision.md, "Memory").
const MAX_PROGRESSIVE_COEFFICIENT_BYTES: u64 = 48 << 20;
/// The working copy's longest side: enough for a bib a few percent of the frame tall to keep
/// ~20 px digits, small enough that a 12 MP photo's working copy is ~9 MB.
pub const WORKING_LONG_SIDE: u32 = 2048;
/// Decoded images up to this much larger than the working size are not shrunk.
const KEEP_LARGER_BY: f32 = 1.25;

/// A decoded photo: the upright working copy and the size of the upright original.
#[derive(Debug, Clone)]
pub struct Photo {
    pub(crate) image: RgbImage,
    width: u32,
    height: u32,
}

impl Photo {
    /// Width of the original photo, after its EXIF orientation is applied.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height of the original photo, after its EXIF orientation is applied.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Original pixels per working-copy pixel, horizontally and vertically.
    pub(crate) fn scale(&self) -> (f32, f32) {
        (
            self.width as f32 / self.image.width() as f32,
            self.height as f32 / self.image.height() as f32,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Jpeg,
    Png,
    WebP,
}

impl Format {
    pub(super) fn sniff(bytes: &[u8]) -> Option<Format> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(Format::Jpeg),
            [0x89, b'P', b'N', b'G', ..] => Some(Format::Png),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(Format::WebP),
            _ => None,
        }
    }

    pub(super) fn media_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::WebP => "WebP",
        }
    }
}

/// Decodes a JPEG, PNG or WebP photo into an upright working copy.
pub fn decode(bytes: &[u8]) -> Result<Photo, VisionError> {
    let format = Format::sniff(bytes).ok_or(VisionError::UnsupportedFormat)?;
    // A decoder bug must not take the whole process down with it (where unwinding exists).
    let decoded = std::panic::catch_unwind(|| match format {
        Format::Jpeg => decode_jpeg(bytes),
        Format::Png => decode_png(bytes),
        Format::WebP => decode_webp(bytes),
    });
    let (image, orientation) = decoded
        .unwrap_or_else(|_| Err(corrupt(format, "the decoder gave up on it".to_string())))?;
    let (width, height) = match orientation {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (image.original.1, image.original.0),
        _ => image.original,
    };
    // Shrunk before it is turned: a rotation copies the image.
    let mut upright = DynamicImage::ImageRgb8(shrink_to_working_size(image.pixels));
    upright.apply_orientation(orientation);
    Ok(Photo {
        image: upright.into_rgb8(),
        width,
        height,
    })
}

/// Pixels decoded at some scale, and the size of the stored (not yet oriented) original.
struct Decoded {
    pixels: RgbImage,
    original: (u32, u32),
}

fn corrupt(format: Format, reason: String) -> VisionError {
    VisionError::Corrupt {
        format: format.name(),
        reason,
    }
}

/// How a decoder holds a photo while it decodes it, known from the header: what sets the
/// largest photo it can take within the Worker's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Holding {
    /// Shrunk while it is decoded (baseline JPEG, non-interlaced PNG): `MAX_MEGAPIXELS`.
    Shrunk,
    /// Decoded whole at full size (WebP, interlaced PNG): `MAX_FULL_DECODE_MEGAPIXELS`.
    Whole(&'static str),
    /// A progressive JPEG: all of its DCT coefficients at once, `MAX_PROGRESSIVE_COEFFICIENT_BYTES`.
    Coefficients,
}

impl Holding {
    pub(super) const WEBP: Holding = Holding::Whole("WebP"); // image-webp has no row reader

    pub(super) fn jpeg(info: &jpeg_decoder::ImageInfo) -> Holding {
        match info.coding_process {
            jpeg_decoder::CodingProcess::DctProgressive => Holding::Coefficients,
            _ => Holding::Shrunk,
        }
    }

    /// An interlaced PNG's rows come in seven passes: it is decoded whole.
    pub(super) fn png(interlaced: bool) -> Holding {
        if interlaced {
            Holding::Whole("interlaced PNG")
        } else {
            Holding::Shrunk
        }
    }
}

/// Refuses, from its header alone, a photo its decoder could not hold within the memory: the
/// same check at upload (`inspect`) and before decoding, so the reasons are the same.
pub(super) fn check_size(
    bytes: &[u8],
    width: u32,
    height: u32,
    holding: Holding,
) -> Result<(), VisionError> {
    check_dimensions(width, height)?;
    let (format, limit_pixels) = match holding {
        Holding::Shrunk => return Ok(()),
        Holding::Whole(format) => (format, MAX_FULL_DECODE_MEGAPIXELS * 1_000_000),
        // Unreadable sampling factors count as the most memory: 4:4:4 colour.
        Holding::Coefficients => {
            let samples = samples_per_pixel(bytes).unwrap_or(3.0);
            let pixels = MAX_PROGRESSIVE_COEFFICIENT_BYTES as f64 / (2.0 * samples);
            ("progressive JPEG", pixels as u64)
        }
    };
    let (w, h) = (u64::from(width), u64::from(height));
    if w * h > limit_pixels {
        return Err(VisionError::TooLargeFor {
            format,
            width: w,
            height: h,
            limit_megapixels: limit_pixels / 1_000_000,
        });
    }
    Ok(())
}

/// Samples per pixel over all of a progressive JPEG's components (1.5 for 4:2:0 colour, 3 for
/// 4:4:4), from the sampling factors in its frame header (SOF2), which jpeg-decoder reads but
/// does not expose. Walks the segments from the start: an EXIF thumbnail has frame headers too.
fn samples_per_pixel(bytes: &[u8]) -> Option<f64> {
    let mut at = 2; // after SOI
    loop {
        let [0xFF, marker, len0, len1] = *bytes.get(at..at + 4)? else {
            return None;
        };
        let len = usize::from(u16::from_be_bytes([len0, len1]));
        if marker == 0xC2 {
            // precision, height, width, component count, then 3 bytes a component.
            let frame = bytes.get(at + 4..at + 2 + len)?;
            let count = usize::from(*frame.get(5)?);
            let factors = (0..count)
                .map(|c| {
                    frame
                        .get(7 + 3 * c)
                        .map(|hv| (f64::from(hv >> 4), f64::from(hv & 0x0F)))
                })
                .collect::<Option<Vec<_>>>()?;
            let h_max = factors.iter().map(|f| f.0).fold(0.0, f64::max);
            let v_max = factors.iter().map(|f| f.1).fold(0.0, f64::max);
            return (h_max > 0.0 && v_max > 0.0)
                .then(|| factors.iter().map(|(h, v)| h * v / (h_max * v_max)).sum());
        }
        at += 2 + len;
    }
}

fn check_dimensions(width: u32, height: u32) -> Result<(), VisionError> {
    let (w, h) = (u64::from(width), u64::from(height));
    if w == 0 || h == 0 {
        return Err(VisionError::Empty);
    }
    if w * h > MAX_MEGAPIXELS * 1_000_000 {
        return Err(VisionError::TooLarge {
            width: w,
            height: h,
            limit_megapixels: MAX_MEGAPIXELS,
        });
    }
    Ok(())
}

fn decode_jpeg(bytes: &[u8]) -> Result<(Decoded, Orientation), VisionError> {
    let fail = |e: jpeg_decoder::Error| corrupt(Format::Jpeg, e.to_string());
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(fail)?;
    let info = decoder
        .info()
        .ok_or_else(|| corrupt(Format::Jpeg, "no frame header".into()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_size(bytes, width, height, Holding::jpeg(&info))?;
    // Ask for the smallest DCT scale that still covers the working size.
    let (req_w, req_h) = working_size(width, height);
    let (out_w, out_h) = decoder.scale(req_w as u16, req_h as u16).map_err(fail)?;
    let data = decoder.decode().map_err(fail)?;
    let info = decoder
        .info()
        .ok_or_else(|| corrupt(Format::Jpeg, "no frame header".into()))?;
    let (out_w, out_h) = (u32::from(out_w), u32::from(out_h));
    let rgb: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => data,
        jpeg_decoder::PixelFormat::L8 => data.iter().flat_map(|&l| [l, l, l]).collect(),
        // 16-bit samples come big-endian: keep the high byte.
        jpeg_decoder::PixelFormat::L16 => data
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0]])
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => data
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(255 - p[3]);
                [p[0], p[1], p[2]].map(|c| (u16::from(255 - c) * k / 255) as u8)
            })
            .collect(),
    };
    let pixels = RgbImage::from_raw(out_w, out_h, rgb)
        .ok_or_else(|| corrupt(Format::Jpeg, "fewer pixels than its header declares".into()))?;
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    Ok((
        Decoded {
            pixels,
            original: (width, height),
        },
        orientation,
    ))
}

/// A PNG, shrunk to the working size row by row as it is decoded (an interlaced one cannot be:
/// its rows come in seven passes, so it is decoded whole, under the lower limit).
fn decode_png(bytes: &[u8]) -> Result<(Decoded, Orientation), VisionError> {
    let fail = |e: png::DecodingError| corrupt(Format::Png, e.to_string());
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // 8-bit samples; palettes and bit depths below 8 expanded: rows are gray, gray + alpha, RGB
    // or RGBA.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    // The size is checked before the rest is read (bombs); png's own limits would call it corrupt.
    decoder.set_limits(png::Limits { bytes: usize::MAX });
    let header = decoder.read_header_info().map_err(fail)?;
    let (width, height, interlaced) = (header.width, header.height, header.interlaced);
    check_size(bytes, width, height, Holding::png(interlaced))?;
    let mut reader = decoder.read_info().map_err(fail)?;
    let orientation = reader
        .info()
        .exif_metadata
        .as_deref()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let to_rgb: fn(&[u8], &mut Vec<u8>) = match reader.output_color_type().0 {
        png::ColorType::Rgb => |row, rgb| rgb.extend_from_slice(row),
        png::ColorType::Rgba => {
            |row, rgb| rgb.extend(row.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]))
        }
        png::ColorType::Grayscale => |row, rgb| rgb.extend(row.iter().flat_map(|&l| [l, l, l])),
        png::ColorType::GrayscaleAlpha => {
            |row, rgb| rgb.extend(row.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0]]))
        }
        png::ColorType::Indexed => {
            return Err(corrupt(Format::Png, "palette not expanded".into()));
        }
    };
    let (out_w, out_h) = shrunk_size(width, height);
    let mut shrinker = RowShrinker::new(width, height, out_w, out_h);
    let mut rgb = Vec::with_capacity(width as usize * 3);
    let mut push = |row: &[u8]| {
        rgb.clear();
        to_rgb(row, &mut rgb);
        shrinker.push(&rgb);
    };
    let mut rows = 0;
    if interlaced {
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| corrupt(Format::Png, "too large to decode".into()))?;
        let mut frame = vec![0; size];
        let info = reader.next_frame(&mut frame).map_err(fail)?;
        for row in frame[..info.buffer_size()].chunks_exact(info.line_size) {
            push(row);
            rows += 1;
        }
    } else {
        while let Some(row) = reader.next_row().map_err(fail)? {
            push(row.data());
            rows += 1;
        }
    }
    if rows < height {
        return Err(corrupt(
            Format::Png,
            "fewer rows than its header declares".into(),
        ));
    }
    Ok((
        Decoded {
            pixels: shrinker.finish(),
            original: (width, height),
        },
        orientation,
    ))
}

/// WebP, decoded whole by image's decoder (under the lower size limit).
fn decode_webp(bytes: &[u8]) -> Result<(Decoded, Orientation), VisionError> {
    let fail = |e: image::ImageError| corrupt(Format::WebP, e.to_string());
    let mut decoder = WebPDecoder::new(Cursor::new(bytes)).map_err(fail)?;
    let (width, height) = decoder.dimensions();
    check_size(bytes, width, height, Holding::WEBP)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let pixels = DynamicImage::from_decoder(decoder)
        .map_err(fail)?
        .into_rgb8();
    Ok((
        Decoded {
            pixels,
            original: (width, height),
        },
        orientation,
    ))
}

/// The size of the working copy of a `width` x `height` photo: never larger than the photo.
fn working_size(width: u32, height: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= WORKING_LONG_SIDE {
        return (width, height);
    }
    let scaled = |side: u32| {
        ((u64::from(side) * u64::from(WORKING_LONG_SIDE)).div_ceil(u64::from(long)) as u32).max(1)
    };
    (scaled(width), scaled(height))
}

/// Each working pixel is the mean of the pixels it covers: `imageops::resize` would first build
/// a float copy of the image (12 bytes a pixel: 35 MB for a 12 MP photo decoded at half size).
fn shrink_to_working_size(image: RgbImage) -> RgbImage {
    let (w, h) = shrunk_size(image.width(), image.height());
    if (w, h) == image.dimensions() {
        return image;
    }
    imageops::thumbnail(&image, w, h)
}

/// The size a decoded `width` x `height` image is shrunk to: the working size, unless the
/// image is at most KEEP_LARGER_BY larger (a 12 MP JPEG decoded at half size, 2120 px): then it
/// is kept as it is, as a shrink by so little would blur it unevenly for little memory.
fn shrunk_size(width: u32, height: u32) -> (u32, u32) {
    let long = width.max(height);
    if long as f32 <= WORKING_LONG_SIDE as f32 * KEEP_LARGER_BY {
        return (width, height);
    }
    working_size(width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_formats_from_bytes() {
        assert_eq!(Format::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpeg));
        assert_eq!(Format::sniff(b"\x89PNG\r\n\x1a\n"), Some(Format::Png));
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::WebP));
        assert_eq!(Format::sniff(b"GIF89a"), None);
        assert_eq!(Format::sniff(b""), None);
    }

    #[test]
    fn working_size_keeps_small_photos_and_bounds_big_ones() {
        assert_eq!(working_size(720, 480), (720, 480));
        assert_eq!(working_size(4000, 3000), (2048, 1536));
        assert_eq!(working_size(3000, 4000), (1536, 2048));
        assert_eq!(working_size(100_000, 1), (2048, 1));
    }

    /// A JPEG's first segments: an EXIF block holding a thumbnail's frame header (1x1 sampling,
    /// to be skipped), then the photo's progressive frame header with these sampling factors.
    fn progressive_header(width: u16, height: u16, sampling: &[u8]) -> Vec<u8> {
        let thumbnail = [0xFF, 0xC2, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0];
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, (2 + 6 + thumbnail.len()) as u8];
        jpeg.extend(b"Exif\0\0");
        jpeg.extend(thumbnail);
        jpeg.extend([0xFF, 0xC2, 0, 8 + 3 * sampling.len() as u8, 8]);
        jpeg.extend(height.to_be_bytes());
        jpeg.extend(width.to_be_bytes());
        jpeg.push(sampling.len() as u8);
        for (id, hv) in sampling.iter().enumerate() {
            jpeg.extend([id as u8 + 1, *hv, 0]);
        }
        jpeg
    }

    #[test]
    fn progressive_jpegs_are_refused_by_the_memory_their_coefficients_take() {
        let yuv420 = progressive_header(6000, 4000, &[0x22, 0x11, 0x11]);
        let yuv444 = progressive_header(6000, 4000, &[0x11, 0x11, 0x11]);
        let grey = progressive_header(6000, 4000, &[0x11]);
        assert_eq!(samples_per_pixel(&yuv420), Some(1.5));
        assert_eq!(samples_per_pixel(&yuv444), Some(3.0));
        assert_eq!(samples_per_pixel(&grey), Some(1.0));
        assert_eq!(samples_per_pixel(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 200]), None);

        // 12 MP at 4:2:0 (the measured 73 MiB) passes; 24 MP does not, nor 12 MP at 4:4:4.
        assert_eq!(
            check_size(&yuv420, 4240, 2832, Holding::Coefficients),
            Ok(())
        );
        let refused = check_size(&yuv420, 6000, 4000, Holding::Coefficients).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "image too large for a progressive JPEG: 6000x4000 pixels (limit 16 megapixels for a \
             progressive JPEG; send a baseline JPEG or a non-interlaced PNG)"
        );
        assert!(check_size(&yuv444, 4240, 2832, Holding::Coefficients).is_err());
        assert_eq!(check_size(&grey, 4240, 2832, Holding::Coefficients), Ok(()));
        // A header whose sampling cannot be read counts as 4:4:4: 8 megapixels.
        assert!(matches!(
            check_size(b"not a jpeg", 4240, 2832, Holding::Coefficients),
            Err(VisionError::TooLargeFor {
                limit_megapixels: 8,
                ..
            })
        ));
    }

    #[test]
    fn refuses_bombs_and_what_is_decoded_whole_by_size() {
        let huge = check_size(b"", 100_000, 100_000, Holding::Shrunk);
        assert!(matches!(huge, Err(VisionError::TooLarge { .. })));
        assert_eq!(
            check_size(b"", 0, 10, Holding::Shrunk),
            Err(VisionError::Empty)
        );
        assert_eq!(check_size(b"", 8000, 6000, Holding::Shrunk), Ok(()));
        assert_eq!(check_size(b"", 2000, 2000, Holding::WEBP), Ok(()));
        let webp = check_size(b"", 6000, 4000, Holding::WEBP).unwrap_err();
        assert_eq!(
            webp.to_string(),
            "image too large for a WebP: 6000x4000 pixels (limit 4 megapixels for a WebP; send a \
             baseline JPEG or a non-interlaced PNG)"
        );
        assert!(check_size(b"", 3000, 2000, Holding::png(true)).is_err());
        assert_eq!(check_size(b"", 3000, 2000, Holding::png(false)), Ok(()));
    }
}
