//! Shrinks an image fed one row at a time, so a big PNG never exists at full size: each output
//! pixel is the mean of the block of input pixels it covers (the same blocks as
//! `image::imageops::thumbnail`, which needs the whole image in memory first).

use image::RgbImage;

pub struct RowShrinker {
    /// For each input column, its output column.
    column: Vec<u32>,
    /// For each output column, how many input columns it averages.
    columns_per_output: Vec<u32>,
    /// First input row of each output row, and the input height at the end.
    row_starts: Vec<u32>,
    /// Sums of the input rows of the current output row, per output pixel and channel.
    sums: Vec<u32>,
    output: RgbImage,
    input_row: u32,
    output_row: u32,
}

impl RowShrinker {
    /// `width` x `height` in, `out_width` x `out_height` out: each out side at least 1 and at
    /// most its in side.
    pub fn new(width: u32, height: u32, out_width: u32, out_height: u32) -> RowShrinker {
        let starts = |from: u32, to: u32| -> Vec<u32> {
            let ratio = from as f64 / to as f64;
            (0..=to)
                .map(|i| ((i as f64 * ratio).ceil() as u32).min(from))
                .collect()
        };
        let column_starts = starts(width, out_width);
        let mut column = Vec::with_capacity(width as usize);
        let mut columns_per_output = Vec::with_capacity(out_width as usize);
        for (out, pair) in column_starts.windows(2).enumerate() {
            column.extend(std::iter::repeat_n(
                out as u32,
                (pair[1] - pair[0]) as usize,
            ));
            columns_per_output.push(pair[1] - pair[0]);
        }
        RowShrinker {
            column,
            columns_per_output,
            row_starts: starts(height, out_height),
            sums: vec![0; out_width as usize * 3],
            output: RgbImage::new(out_width, out_height),
            input_row: 0,
            output_row: 0,
        }
    }

    /// Adds the next input row, RGB, 3 bytes per pixel. Rows past the declared height are
    /// ignored.
    pub fn push(&mut self, rgb: &[u8]) {
        if self.output_row >= self.output.height() {
            return;
        }
        for (pixel, &out) in rgb.chunks_exact(3).zip(&self.column) {
            let sum = &mut self.sums[out as usize * 3..][..3];
            for c in 0..3 {
                sum[c] += u32::from(pixel[c]);
            }
        }
        self.input_row += 1;
        let row_end = self.row_starts[self.output_row as usize + 1];
        if self.input_row >= row_end {
            let rows = row_end - self.row_starts[self.output_row as usize];
            for (x, sum) in self.sums.chunks_exact_mut(3).enumerate() {
                let count = (rows * self.columns_per_output[x]).max(1);
                let mean = [0, 1, 2].map(|c| ((sum[c] + count / 2) / count) as u8);
                self.output
                    .put_pixel(x as u32, self.output_row, image::Rgb(mean));
                sum.fill(0);
            }
            self.output_row += 1;
        }
    }

    /// The shrunk image, once every row is in (missing rows stay black).
    pub fn finish(self) -> RgbImage {
        self.output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_the_blocks_each_output_pixel_covers() {
        // 4x2 in, 2x1 out: each output pixel is the mean of a 2x2 block.
        let mut shrinker = RowShrinker::new(4, 2, 2, 1);
        shrinker.push(&[0, 0, 0, 10, 10, 10, 100, 0, 0, 100, 0, 0]);
        shrinker.push(&[20, 20, 20, 30, 30, 30, 100, 0, 0, 100, 0, 4]);
        let out = shrinker.finish();
        assert_eq!(out.get_pixel(0, 0).0, [15, 15, 15]);
        assert_eq!(out.get_pixel(1, 0).0, [100, 0, 1]);
    }

    #[test]
    fn keeps_the_size_when_not_shrinking() {
        let mut shrinker = RowShrinker::new(3, 2, 3, 2);
        shrinker.push(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        shrinker.push(&[9, 8, 7, 6, 5, 4, 3, 2, 1]);
        let out = shrinker.finish();
        assert_eq!(
            out.as_raw(),
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1]
        );
    }

    #[test]
    fn matches_image_thumbnail_blocks() {
        let (w, h, ow, oh) = (37u32, 23u32, 10u32, 7u32);
        let input = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 11) as u8, ((x * y) % 256) as u8])
        });
        let mut shrinker = RowShrinker::new(w, h, ow, oh);
        for row in input.as_raw().chunks_exact(w as usize * 3) {
            shrinker.push(row);
        }
        let ours = shrinker.finish();
        let theirs = image::imageops::thumbnail(&input, ow, oh);
        for (a, b) in ours.as_raw().iter().zip(theirs.as_raw()) {
            assert!(a.abs_diff(*b) <= 1, "{a} vs {b}");
        }
    }
}
