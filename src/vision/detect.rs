//! Stage "detection": where is text in the photo? PP-OCR's DB detector paints a per-pixel text
//! probability; each connected blob of likely text becomes a rotated rectangle, grown back to
//! the full text height (DB paints a shrunk core of every text line).

use super::decode::Photo;
use super::error::VisionError;
use super::geometry::RotatedRect;
use super::models::{run, Plan, DETECTION_TILE};
use super::sampling::{blank_input, sample_into};

/// The photo's long side as the detector sees it, unless the caller sets another
/// (`Pipeline::with_detection_size`): tuned on close-ups (docs/accuracy.md).
pub const DETECTION_LONG_SIDE: usize = 1280;
/// The sizes a caller may set: below 640 most bibs are too small to find; the working copy's
/// long side is at most 2560, so above it there is nothing more to see.
pub const DETECTION_SIZES: std::ops::RangeInclusive<usize> = 640..=2560;
/// Neighbouring tiles share this many pixels, so text on a tile's edge is whole in the other.
const TILE_OVERLAP: usize = 64;
/// Pixels above this probability are text (PaddleOCR's `det_db_thresh`).
const TEXT_PROBABILITY: f32 = 0.3;
/// Blobs whose mean probability is below this are dropped (`det_db_box_thresh`).
const MIN_BLOB_SCORE: f32 = 0.6;
/// How far the shrunk core is grown back, relative to its area / perimeter (`unclip_ratio`):
/// 2.0 rather than PaddleOCR's 1.5 leaves the recognizer a margin around short numbers, whose
/// first or last digit was otherwise often cut or dropped.
const UNCLIP_RATIO: f32 = 2.0;
/// Blobs thinner than this (in detector pixels) are noise.
const MIN_SIDE: f32 = 3.0;

/// A place in the photo that likely holds one line of text.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// In working-copy pixels.
    pub(crate) rect: RotatedRect,
    /// The detector's mean text probability over the blob, 0..1.
    pub score: f32,
}

/// The text regions of `photo`, seen at `long_side` pixels on its longest side.
pub fn detect(plan: &Plan, photo: &Photo, long_side: usize) -> Result<Vec<Region>, VisionError> {
    let (width, height) = photo.image.dimensions();
    if width == 0 || height == 0 {
        return Ok(Vec::new());
    }
    let (dw, dh) = detection_size(width, height, long_side);
    let (sx, sy) = (width as f32 / dw as f32, height as f32 / dh as f32);
    // The detector runs on overlapping tiles of the photo at detection size, stitched into one
    // probability map (the larger probability where tiles overlap): the network's activations
    // for a whole 1280 px photo take ~170 MB, a 672 px tile's ~30 MB. The map keeps a byte per
    // pixel (probability x 255): a quarter of f32's memory, and finer than the thresholds.
    let mut map = vec![0u8; dw * dh];
    for ty in tile_starts(dh) {
        for tx in tile_starts(dw) {
            let (tw, th) = (DETECTION_TILE.min(dw - tx), DETECTION_TILE.min(dh - ty));
            // A tile larger than the photo keeps 0s around it: the mean color once normalized.
            let mut input = blank_input(DETECTION_TILE, DETECTION_TILE);
            let area = RotatedRect {
                center: (
                    (tx as f32 + tw as f32 / 2.0) * sx,
                    (ty as f32 + th as f32 / 2.0) * sy,
                ),
                axis: (1.0, 0.0),
                half_width: tw as f32 / 2.0 * sx,
                half_height: th as f32 / 2.0 * sy,
            };
            sample_into(&mut input, &photo.image, &area, tw, th, normalize)?;
            let output = run(plan, input)?;
            let tile = output
                .try_as_plain_ram()
                .and_then(|plain| plain.as_slice::<f32>())
                .map_err(VisionError::model)?;
            if tile.len() != DETECTION_TILE * DETECTION_TILE {
                return Err(VisionError::Model(format!(
                    "detector output shape {:?}",
                    output.shape()
                )));
            }
            for y in 0..th {
                let row = &tile[y * DETECTION_TILE..][..tw];
                for (m, &p) in map[(ty + y) * dw + tx..][..tw].iter_mut().zip(row) {
                    *m = (*m).max(quantize(p));
                }
            }
        }
    }
    Ok(text_blobs(&map, dw, dh)
        .into_iter()
        .map(|region| Region {
            rect: region.rect.scaled(sx, sy),
            ..region
        })
        .collect())
}

/// A probability 0..1 as a byte 0..255.
fn quantize(p: f32) -> u8 {
    (p.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Where tiles start along a side of `length` detection pixels: as few tiles as cover it with
/// at least TILE_OVERLAP pixels shared between neighbours, spread evenly.
fn tile_starts(length: usize) -> Vec<usize> {
    if length <= DETECTION_TILE {
        return vec![0];
    }
    let count = (length - TILE_OVERLAP).div_ceil(DETECTION_TILE - TILE_OVERLAP);
    (0..count)
        .map(|i| (i * (length - DETECTION_TILE) + (count - 1) / 2) / (count - 1))
        .collect()
}

/// PaddleOCR's detector normalization, on channels in BGR order (it was trained on OpenCV's).
fn normalize([r, g, b]: [f32; 3]) -> [f32; 3] {
    [
        (b / 255.0 - 0.485) / 0.229,
        (g / 255.0 - 0.456) / 0.224,
        (r / 255.0 - 0.406) / 0.225,
    ]
}

/// The photo's size for the detector: longest side `long_side` (by default 1280, not
/// PaddleOCR's 960: small bibs are only found when the detector sees them larger).
fn detection_size(width: u32, height: u32, long_side: usize) -> (usize, usize) {
    let ratio = long_side as f32 / width.max(height) as f32;
    let side = |s: u32| ((s as f32 * ratio).round() as usize).clamp(1, long_side);
    (side(width), side(height))
}

/// Connected blobs (8-neighbour) of text pixels, each as a grown rotated rectangle.
/// `probabilities` are quantized (255 is 1.0).
fn text_blobs(probabilities: &[u8], width: usize, height: usize) -> Vec<Region> {
    let is_text = |q: u8| f32::from(q) > TEXT_PROBABILITY * 255.0;
    let mut seen = vec![false; probabilities.len()];
    let mut stack = Vec::new();
    let mut pixels = Vec::new();
    let mut regions = Vec::new();
    for start in 0..probabilities.len() {
        if seen[start] || !is_text(probabilities[start]) {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        pixels.clear();
        while let Some(i) = stack.pop() {
            pixels.push(i);
            let (x, y) = ((i % width) as isize, (i / width) as isize);
            for (dx, dy) in [
                (-1, -1),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ] {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= width as isize || ny >= height as isize {
                    continue;
                }
                let n = ny as usize * width + nx as usize;
                if !seen[n] && is_text(probabilities[n]) {
                    seen[n] = true;
                    stack.push(n);
                }
            }
        }
        if let Some(region) = blob_region(&pixels, probabilities, width) {
            regions.push(region);
        }
    }
    regions
}

fn blob_region(pixels: &[usize], probabilities: &[u8], width: usize) -> Option<Region> {
    let sum: u64 = pixels.iter().map(|&i| u64::from(probabilities[i])).sum();
    let score = sum as f32 / 255.0 / pixels.len() as f32;
    if score < MIN_BLOB_SCORE {
        return None;
    }
    // The hull only needs each row's outermost pixels (their outer corners).
    let mut rows: std::collections::BTreeMap<usize, (usize, usize)> = Default::default();
    for &i in pixels {
        let (x, y) = (i % width, i / width);
        let e = rows.entry(y).or_insert((x, x));
        e.0 = e.0.min(x);
        e.1 = e.1.max(x);
    }
    let outline: Vec<(f32, f32)> = rows
        .iter()
        .flat_map(|(&y, &(x0, x1))| {
            let (y, x0, x1) = (y as f32, x0 as f32, x1 as f32 + 1.0);
            [(x0, y), (x0, y + 1.0), (x1, y), (x1, y + 1.0)]
        })
        .collect();
    let core = RotatedRect::enclosing(&outline)?;
    if core.width().min(core.height()) < MIN_SIDE {
        return None;
    }
    let (w, h) = (core.width(), core.height());
    let grown = core.grown(w * h * UNCLIP_RATIO / (2.0 * (w + h)));
    if grown.width().min(grown.height()) < MIN_SIDE + 2.0 {
        return None;
    }
    Some(Region { rect: grown, score })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_a_side_with_overlap() {
        assert_eq!(tile_starts(500), vec![0]);
        assert_eq!(tile_starts(672), vec![0]);
        assert_eq!(tile_starts(1280), vec![0, 608]);
        assert_eq!(tile_starts(853), vec![0, 181]);
        assert_eq!(tile_starts(1300), vec![0, 314, 628]);
    }

    #[test]
    fn detection_size_has_the_long_side() {
        assert_eq!(detection_size(720, 480, 1280), (1280, 853));
        assert_eq!(detection_size(4000, 3000, 1280), (1280, 960));
        assert_eq!(detection_size(10, 3000, 1280), (4, 1280));
        assert_eq!(detection_size(2048, 1365, 1888), (1888, 1258));
    }

    #[test]
    fn a_blob_becomes_a_grown_rectangle() {
        let (w, h) = (40, 20);
        let mut p = vec![0u8; w * h];
        for y in 8..12 {
            for x in 10..30 {
                p[y * w + x] = quantize(0.9);
            }
        }
        let regions = text_blobs(&p, w, h);
        assert_eq!(regions.len(), 1);
        let r = &regions[0];
        // 20x4 core grown by 20*4*2.0/48 = 3.33 px on each side.
        assert!(
            (r.rect.width() - 26.667).abs() < 1e-3 && (r.rect.height() - 10.667).abs() < 1e-3,
            "{r:?}"
        );
        assert!((r.score - 0.9).abs() < 1.0 / 255.0);
    }
}
