//! The table `finishline upload` ends with: each file, how it ended, the numbers read.

use comfy_table::{presets, Table};
use finishline::vision::PhotoReading;

use super::describe::numbers_read;

/// How one photo ended, as far as this run knows.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Processed: what was read (maybe nothing).
    Read(PhotoReading),
    /// Processed, and the Worker could not read it (the reason).
    Failed(String),
    /// The upload was refused or never got through (the reason).
    NotUploaded(String),
    /// Uploaded, not processed yet when this run stopped waiting.
    Pending,
}

pub struct Row {
    pub name: String,
    pub outcome: Outcome,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub read: usize,
    pub nothing_read: usize,
    pub failed: usize,
    pub not_uploaded: usize,
    pub pending: usize,
}

pub fn totals(rows: &[Row]) -> Totals {
    let mut t = Totals::default();
    for row in rows {
        match &row.outcome {
            Outcome::Read(r) if r.detections.is_empty() => t.nothing_read += 1,
            Outcome::Read(_) => t.read += 1,
            Outcome::Failed(_) => t.failed += 1,
            Outcome::NotUploaded(_) => t.not_uploaded += 1,
            Outcome::Pending => t.pending += 1,
        }
    }
    t
}

pub fn table(rows: &[Row]) -> String {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_header(["photo", "status", "numbers read"]);
    for row in rows {
        let (status, detail) = match &row.outcome {
            Outcome::Read(reading) => ("read", numbers_read(&reading.detections)),
            Outcome::Failed(reason) => ("failed", reason.clone()),
            Outcome::NotUploaded(reason) => ("not uploaded", reason.clone()),
            Outcome::Pending => ("processing", "not finished yet: see `finishline watch`".into()),
        };
        table.add_row([row.name.as_str(), status, detail.as_str()]);
    }
    table.to_string()
}

/// The line under the table: `10 photos: 8 with numbers, 1 without, 1 failed`.
pub fn totals_line(t: &Totals) -> String {
    let total = t.read + t.nothing_read + t.failed + t.not_uploaded + t.pending;
    let mut parts = vec![format!("{} with numbers read", t.read), format!("{} without", t.nothing_read)];
    for (n, what) in [(t.failed, "failed"), (t.not_uploaded, "not uploaded"), (t.pending, "still processing")] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    format!("{total} photos: {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use finishline::vision::{Color, Detection, PixelBox};

    fn reading(numbers: &[(&str, f32, Option<&str>)]) -> PhotoReading {
        let detections: Vec<Detection> = numbers
            .iter()
            .map(|&(number, confidence, color)| Detection {
                number: number.into(),
                confidence,
                bbox: PixelBox { x: 1, y: 2, w: 3, h: 4 },
                color: color.map(|name| Color { name: name.into(), rgb: [0, 0, 0] }),
            })
            .collect();
        PhotoReading {
            plate_number: detections.first().and_then(|d| d.number.parse().ok()),
            confidence: detections.first().map_or(0.0, |d| d.confidence),
            detections,
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            Row { name: "a.jpg".into(), outcome: Outcome::Read(reading(&[("3638", 0.971, Some("orange")), ("12", 0.5, None)])) },
            Row { name: "b.jpg".into(), outcome: Outcome::Read(reading(&[])) },
            Row { name: "c.jpg".into(), outcome: Outcome::Failed("the JPEG is truncated or corrupt".into()) },
            Row { name: "d.png".into(), outcome: Outcome::NotUploaded("413 the photo is larger than 25 MB".into()) },
            Row { name: "e.jpg".into(), outcome: Outcome::Pending },
        ]
    }

    #[test]
    fn the_table_says_what_became_of_each_file() {
        let expected = "\
┌───────┬──────────────┬──────────────────────────────────────────┐
│ photo ┆ status       ┆ numbers read                             │
╞═══════╪══════════════╪══════════════════════════════════════════╡
│ a.jpg ┆ read         ┆ 3638 (97%, orange), 12 (50%)             │
│ b.jpg ┆ read         ┆ no number read                           │
│ c.jpg ┆ failed       ┆ the JPEG is truncated or corrupt         │
│ d.png ┆ not uploaded ┆ 413 the photo is larger than 25 MB       │
│ e.jpg ┆ processing   ┆ not finished yet: see `finishline watch` │
└───────┴──────────────┴──────────────────────────────────────────┘";
        assert_eq!(table(&rows()), expected);
    }

    #[test]
    fn totals_count_each_ending() {
        let t = totals(&rows());
        assert_eq!(t, Totals { read: 1, nothing_read: 1, failed: 1, not_uploaded: 1, pending: 1 });
        assert_eq!(
            totals_line(&t),
            "5 photos: 1 with numbers read, 1 without, 1 failed, 1 not uploaded, 1 still processing"
        );
        assert_eq!(totals_line(&totals(&rows()[..2])), "2 photos: 1 with numbers read, 1 without");
    }
}
