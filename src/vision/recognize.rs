//! Stage "ocr": read the text in each region and keep the race numbers. PP-OCR's recognizer
//! reads a line as a sequence of per-column character probabilities (CTC); the classifier was
//! sliced to digits, ASCII letters and a few marks, so words, times ("1:23:45"), decimals
//! ("21.1") and dates near a bib are read as what they are and dropped, not as digits alone.

use super::decode::Photo;
use super::detect::Region;
use super::error::VisionError;
use super::geometry::RotatedRect;
use super::models::{run, Plan, RECOGNITION_HEIGHT, RECOGNITION_WIDTH};
use super::reading::Detection;
use super::sampling::{blank_input, sample_into};

/// The recognizer's classes after the CTC blank (class 0), in order; must match
/// ALPHABET in scripts/build_models.py.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz:.,-/#+%()'";
/// Marks dropped at either end of a line: a "#" before a number, or a bib's edge, a pin or a
/// speck read as a dot, comma, dash or bracket. Anywhere else a mark makes the line no number.
const EDGE_MARKS: &[u8] = b"#.,-()";
/// Race numbers have 1 to 6 digits.
const MAX_DIGITS: usize = 6;
/// Reads less sure than this (the mean probability of their digits) are dropped.
const MIN_CONFIDENCE: f32 = 0.8;

/// One character of a read line, and how sure the recognizer is of it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Glyph {
    character: u8,
    probability: f32,
}

pub fn read(plan: &Plan, photo: &Photo, regions: &[Region]) -> Result<Vec<Detection>, VisionError> {
    let (sx, sy) = photo.scale();
    let mut detections: Vec<Detection> = Vec::new();
    for region in regions {
        let rect = region.rect;
        let width = line_width(&rect);
        // Zeros are mid-gray after normalization: PaddleOCR pads short lines the same way.
        let mut input = blank_input(RECOGNITION_HEIGHT, RECOGNITION_WIDTH);
        sample_into(
            &mut input,
            &photo.image,
            &rect,
            width,
            RECOGNITION_HEIGHT,
            normalize,
        )?;
        let output = run(plan, input)?;
        let shape = output.shape();
        if shape.len() != 3 || shape[2] != ALPHABET.len() + 1 {
            return Err(VisionError::Model(format!(
                "recognizer output shape {shape:?}"
            )));
        }
        let flat = output
            .try_as_plain_ram()
            .and_then(|plain| plain.as_slice::<f32>())
            .map_err(VisionError::model)?;
        let rows: Vec<&[f32]> = flat.chunks_exact(shape[2]).collect();
        let glyphs = ctc_greedy(&rows);
        if let Some((number, confidence)) = number_in(&glyphs) {
            detections.push(Detection {
                number,
                confidence,
                bbox: rect
                    .scaled(sx, sy)
                    .bounding_box(photo.width(), photo.height()),
                color: None,
            });
        }
    }
    Ok(best_per_number(detections))
}

/// The input width for a line: its aspect ratio at the recognizer's height, capped.
fn line_width(rect: &RotatedRect) -> usize {
    let ratio = rect.width() / rect.height().max(1.0);
    ((RECOGNITION_HEIGHT as f32 * ratio).ceil() as usize).clamp(1, RECOGNITION_WIDTH)
}

/// PaddleOCR's recognizer normalization, on channels in BGR order.
fn normalize([r, g, b]: [f32; 3]) -> [f32; 3] {
    [b / 127.5 - 1.0, g / 127.5 - 1.0, r / 127.5 - 1.0]
}

/// Best class per step, repeats collapsed, blanks dropped.
fn ctc_greedy(steps: &[&[f32]]) -> Vec<Glyph> {
    let mut glyphs = Vec::new();
    let mut previous = 0;
    for probabilities in steps {
        let (class, &probability) = probabilities
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap_or((0, &0.0));
        if class != 0 && class != previous {
            glyphs.push(Glyph {
                character: ALPHABET[class - 1],
                probability,
            });
        }
        previous = class;
    }
    glyphs
}

/// The race number a read line holds, with its confidence (the mean probability of its digits):
/// 1 to MAX_DIGITS digits, once EDGE_MARKS are dropped from both ends. A line with a letter or
/// another mark is other text ("10K", "RUN", "1:23:45", "21.1", "2024-05-12").
fn number_in(glyphs: &[Glyph]) -> Option<(String, f32)> {
    let is_edge_mark = |g: &Glyph| EDGE_MARKS.contains(&g.character);
    let start = glyphs.iter().position(|g| !is_edge_mark(g))?;
    let end = glyphs.iter().rposition(|g| !is_edge_mark(g))? + 1;
    let digits = &glyphs[start..end];
    if digits.len() > MAX_DIGITS || !digits.iter().all(|g| g.character.is_ascii_digit()) {
        return None;
    }
    let confidence = digits.iter().map(|g| g.probability).sum::<f32>() / digits.len() as f32;
    let number = digits.iter().map(|g| g.character as char).collect();
    (confidence >= MIN_CONFIDENCE).then_some((number, confidence))
}

/// One detection per number: the same number read twice in a photo is one bib.
fn best_per_number(mut detections: Vec<Detection>) -> Vec<Detection> {
    detections.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut seen = std::collections::HashSet::new();
    detections.retain(|d| seen.insert(d.number.clone()));
    detections
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyphs(text: &str, p: f32) -> Vec<Glyph> {
        text.bytes()
            .map(|c| Glyph {
                character: c,
                probability: p,
            })
            .collect()
    }

    #[test]
    fn ctc_collapses_repeats_and_drops_blanks() {
        let one_hot = |class: usize| {
            let mut v = vec![0.0; ALPHABET.len() + 1];
            v[class] = 1.0;
            v
        };
        // "3", "3", blank, "3", "8" reads "338".
        let rows = [one_hot(4), one_hot(4), one_hot(0), one_hot(4), one_hot(9)];
        let rows: Vec<&[f32]> = rows.iter().map(|r| r.as_slice()).collect();
        let text: String = ctc_greedy(&rows)
            .iter()
            .map(|g| g.character as char)
            .collect();
        assert_eq!(text, "338");
    }

    #[test]
    fn keeps_plausible_numbers_only() {
        assert_eq!(
            number_in(&glyphs("3638", 0.9)),
            Some(("3638".to_string(), 0.9))
        );
        assert_eq!(number_in(&glyphs("3638", 0.5)), None);
        assert_eq!(number_in(&glyphs("1234567", 0.9)), None);
        assert_eq!(number_in(&glyphs("10K", 0.9)), None);
        assert_eq!(number_in(&[]), None);
        assert_eq!(number_in(&glyphs("#-.", 0.9)), None);
    }

    #[test]
    fn times_decimals_and_dates_are_not_numbers() {
        for text in ["1:23:45", "10:35", "21.1", "42,195", "2024-05-12", "12/05", "50+", "10%", "'24"] {
            assert_eq!(number_in(&glyphs(text, 0.99)), None, "{text}");
        }
    }

    #[test]
    fn marks_at_the_ends_of_a_number_are_dropped() {
        for text in ["#218", "218.", "-218-", "(218)", "218,"] {
            assert_eq!(number_in(&glyphs(text, 0.875)), Some(("218".to_string(), 0.875)), "{text}");
        }
        // Only the digits count towards the confidence.
        let mut line = glyphs("#218", 0.875);
        line[0].probability = 0.1;
        assert_eq!(number_in(&line), Some(("218".to_string(), 0.875)));
    }
}
