//! Stage "color": the background color of a bib or plate, sampled among its digits.
//!
//! The pixels where the digits are split in two by brightness (Otsu's threshold): the digits
//! and the bib between and around them. Digits are strokes, so the larger part is the bib.

use image::RgbImage;

use super::reading::{Color, PixelBox};

/// A number's box reaches past its digits (the detector's region is grown so that the
/// recognizer sees whole digits: on the RBNR photos its edges are ~0.15 of its height beyond
/// the labelled digits, median), often onto the shirt around a small bib: on a dark shirt that
/// made a white bib "black". Colors are taken this fraction of its height inside every edge.
const INSET: f32 = 0.15;

/// The background color among the digits in `area` (working-copy pixels), or None for an
/// empty area.
pub fn background_color(image: &RgbImage, area: PixelBox) -> Option<Color> {
    let x1 = (area.x + area.w).min(image.width());
    let y1 = (area.y + area.h).min(image.height());
    let inset = (area.h as f32 * INSET).round() as u32;
    // A box too small to inset keeps its whole area.
    let (x0, y0, x1, y1) = if area.x + 2 * inset < x1 && area.y + 2 * inset < y1 {
        (area.x + inset, area.y + inset, x1 - inset, y1 - inset)
    } else {
        (area.x, area.y, x1, y1)
    };
    if x0 >= x1 || y0 >= y1 {
        return None;
    }
    let pixels: Vec<[u8; 3]> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| image.get_pixel(x, y).0)
        .collect();
    let threshold = otsu(pixels.iter().map(|p| luma(*p)));
    let (dark, light): (Vec<[u8; 3]>, Vec<[u8; 3]>) =
        pixels.iter().partition(|p| luma(**p) <= threshold);
    let background = if light.len() >= dark.len() {
        light
    } else {
        dark
    };
    let rgb = mean(&background)?;
    Some(Color {
        name: name_of(rgb).to_string(),
        rgb,
    })
}

fn luma([r, g, b]: [u8; 3]) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000) as u8
}

/// The brightness threshold that best splits the values in two groups.
fn otsu(values: impl Iterator<Item = u8>) -> u8 {
    let mut histogram = [0u64; 256];
    for v in values {
        histogram[v as usize] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let sum_all: f64 = histogram
        .iter()
        .enumerate()
        .map(|(v, &n)| v as f64 * n as f64)
        .sum();
    let (mut below, mut sum_below, mut best, mut best_between) = (0u64, 0f64, 0u8, -1f64);
    for (v, &n) in histogram.iter().enumerate() {
        below += n;
        sum_below += v as f64 * n as f64;
        let above = total - below;
        if below == 0 || above == 0 {
            continue;
        }
        let mean_below = sum_below / below as f64;
        let mean_above = (sum_all - sum_below) / above as f64;
        let between = below as f64 * above as f64 * (mean_below - mean_above).powi(2);
        if between > best_between {
            best_between = between;
            best = v as u8;
        }
    }
    best
}

fn mean(pixels: &[[u8; 3]]) -> Option<[u8; 3]> {
    if pixels.is_empty() {
        return None;
    }
    let mut sum = [0u64; 3];
    for p in pixels {
        for c in 0..3 {
            sum[c] += u64::from(p[c]);
        }
    }
    Some(sum.map(|s| (s / pixels.len() as u64) as u8))
}

/// A coarse color name people use for bibs and plates.
pub fn name_of([r, g, b]: [u8; 3]) -> &'static str {
    let (r, g, b) = (
        f32::from(r) / 255.0,
        f32::from(g) / 255.0,
        f32::from(b) / 255.0,
    );
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let chroma = max - min;
    let saturation = if max > 0.0 { chroma / max } else { 0.0 };
    if max < 0.2 {
        return "black";
    }
    if saturation < 0.25 || chroma < 0.1 {
        return match max {
            v if v > 0.75 => "white",
            v if v < 0.3 => "black",
            _ => "gray",
        };
    }
    let hue = if max == r {
        60.0 * ((g - b) / chroma).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / chroma + 2.0)
    } else {
        60.0 * ((r - g) / chroma + 4.0)
    };
    match hue {
        h if !(15.0..345.0).contains(&h) => "red",
        h if h < 45.0 && max < 0.6 => "brown",
        h if h < 45.0 => "orange",
        h if h < 70.0 => "yellow",
        h if h < 165.0 => "green",
        h if h < 255.0 => "blue",
        h if h < 290.0 => "purple",
        _ => "pink",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_common_bib_colors() {
        assert_eq!(name_of([250, 250, 245]), "white");
        assert_eq!(name_of([20, 20, 20]), "black");
        assert_eq!(name_of([128, 128, 128]), "gray");
        assert_eq!(name_of([230, 40, 30]), "red");
        assert_eq!(name_of([250, 140, 20]), "orange");
        assert_eq!(name_of([240, 220, 30]), "yellow");
        assert_eq!(name_of([30, 160, 60]), "green");
        assert_eq!(name_of([30, 80, 200]), "blue");
        assert_eq!(name_of([120, 40, 180]), "purple");
        assert_eq!(name_of([240, 100, 180]), "pink");
    }

    #[test]
    fn background_is_the_bib_among_the_digits_not_the_shirt_around_it() {
        // A yellow bib on a dark shirt, two dark "digit" bars on it; the number's box, as the
        // detector grows it, reaches past the bib onto the shirt on every side.
        let mut image = RgbImage::from_pixel(80, 50, image::Rgb([20, 20, 20]));
        for y in 10..40 {
            for x in 10..70 {
                let digit = (14..36).contains(&y) && ((25..35).contains(&x) || (45..55).contains(&x));
                let rgb = if digit { [10, 10, 10] } else { [240, 210, 20] };
                image.put_pixel(x, y, image::Rgb(rgb));
            }
        }
        let color = background_color(&image, PixelBox { x: 4, y: 6, w: 72, h: 38 }).unwrap();
        assert_eq!(color.name, "yellow");
        assert_eq!(color.rgb, [240, 210, 20]);
    }

    #[test]
    fn a_box_too_small_to_inset_is_taken_whole() {
        // Inset by 0.15 of its height (2 px) on every side, a 2 px wide box would be empty.
        let image = RgbImage::from_pixel(4, 12, image::Rgb([30, 80, 200]));
        let color = background_color(&image, PixelBox { x: 1, y: 1, w: 2, h: 10 }).unwrap();
        assert_eq!(color.name, "blue");
        assert_eq!(background_color(&image, PixelBox { x: 4, y: 0, w: 2, h: 2 }), None);
    }
}
