//! Cuts a (rotated) rectangle out of an image straight into a model's input tensor: crop,
//! rotation, resize and normalization in one pass, with no intermediate image.

use image::RgbImage;
use tract_nnef::prelude::tract_ndarray::Array4;
use tract_nnef::prelude::*;

use super::geometry::RotatedRect;
use super::VisionError;

/// A model's input: a 1x3x`height`x`width` f32 tensor of zeros (mid-gray once normalized).
/// Made as an ndarray, then copied into tract's aligned storage: `Tensor::zero` skips the copy
/// but left the Worker's wasm memory higher after a 12 MP photo (63.5 vs 59.2 MiB, `npm run
/// bench:worker`, with no faster detection): where the allocator puts each tile's input
/// matters more here than the copy's ~1 ms.
pub fn blank_input(height: usize, width: usize) -> Tensor {
    Array4::<f32>::zeros((1, 3, height, width)).into_tensor()
}

/// Writes `rect` of `image`, resized to `width` x `height`, into `tensor[0, .., 0..height,
/// 0..width]` (the tensor is 1x3xHxW f32; columns right of `width` are left as they are).
/// `normalize` maps an RGB pixel (0-255 per channel) to the model's three input channels.
pub fn sample_into(
    tensor: &mut Tensor,
    image: &RgbImage,
    rect: &RotatedRect,
    width: usize,
    height: usize,
    normalize: impl Fn([f32; 3]) -> [f32; 3],
) -> Result<(), VisionError> {
    let grid = Grid::new(rect, width, height);
    let (plane_h, plane_w) = (tensor.shape()[2], tensor.shape()[3]);
    let plane = plane_h * plane_w;
    let mut plain = tensor.try_as_plain_ram_mut().map_err(VisionError::model)?;
    let out = plain.as_slice_mut::<f32>().map_err(VisionError::model)?;
    let mut write = |row: usize, col: usize, rgb: [f32; 3]| {
        let value = normalize(rgb);
        for (c, v) in value.into_iter().enumerate() {
            out[c * plane + row * plane_w + col] = v;
        }
    };
    if grid.along.1 == 0.0 && grid.across.0 == 0.0 {
        grid.sample_upright(image, &mut write);
    } else {
        grid.sample_rotated(image, &mut write);
    }
    Ok(())
}

/// Where each output pixel's samples fall in the image: the output pixel (col, row) covers the
/// image from `origin + col * along + row * across`, `taps` x `taps` bilinear samples spread
/// over it and averaged when shrinking, or thin strokes alias.
struct Grid {
    origin: (f32, f32),
    along: (f32, f32),
    across: (f32, f32),
    taps: usize,
    width: usize,
    height: usize,
}

impl Grid {
    fn new(rect: &RotatedRect, width: usize, height: usize) -> Grid {
        let step = (rect.width() / width as f32).max(rect.height() / height as f32);
        // Pixel centers are at integers: the image point of (u, v) is half a pixel up-left of
        // `RotatedRect::point_at`'s.
        let (x0, y0) = rect.point_at(0.0, 0.0);
        let (x1, y1) = rect.point_at(1.0, 0.0);
        let (x2, y2) = rect.point_at(0.0, 1.0);
        Grid {
            origin: (x0 - 0.5, y0 - 0.5),
            along: ((x1 - x0) / width as f32, (y1 - y0) / width as f32),
            across: ((x2 - x0) / height as f32, (y2 - y0) / height as f32),
            taps: step.ceil().clamp(1.0, 4.0) as usize,
            width,
            height,
        }
    }

    /// The offset of tap `t` within an output pixel, 0..1.
    fn tap(&self, t: usize) -> f32 {
        (t as f32 + 0.5) / self.taps as f32
    }

    /// Any rectangle: every sample interpolated on its own.
    fn sample_rotated(&self, image: &RgbImage, write: &mut impl FnMut(usize, usize, [f32; 3])) {
        let pixels = Pixels::new(image);
        let weight = 1.0 / (self.taps * self.taps) as f32;
        for row in 0..self.height {
            for col in 0..self.width {
                let mut sum = [0f32; 3];
                for ty in 0..self.taps {
                    let v = row as f32 + self.tap(ty);
                    for tx in 0..self.taps {
                        let u = col as f32 + self.tap(tx);
                        let x = self.origin.0 + u * self.along.0 + v * self.across.0;
                        let y = self.origin.1 + u * self.along.1 + v * self.across.1;
                        let p = pixels.bilinear(x, y);
                        for c in 0..3 {
                            sum[c] += p[c] * weight;
                        }
                    }
                }
                write(row, col, sum);
            }
        }
    }

    /// An upright rectangle (every detector tile; a text line found level): a sample's column
    /// depends on the output column only and its row on the output row only, so the same sum
    /// is taken in two passes, along each image row used and then down the rows, each image
    /// row's pass computed once for all the output rows that read it: a detector tile shrunk
    /// with 2x2 taps takes a sixth of `sample_rotated`'s time natively (docs/vision.md).
    fn sample_upright(&self, image: &RgbImage, write: &mut impl FnMut(usize, usize, [f32; 3])) {
        let (image_w, image_h) = (image.width() as usize, image.height() as usize);
        let columns = self.weights(self.origin.0, self.along.0, self.width, image_w);
        let rows = self.weights(self.origin.1, self.across.1, self.height, image_h);
        let per_pixel = 2 * self.taps;
        // Image rows filtered along, by row index modulo `slots`: an output row reads image
        // rows less than `slots` apart, and never one above the previous output row's.
        let slots = self.across.1.abs().ceil() as usize + 3;
        let mut filtered: Vec<(usize, Vec<[f32; 3]>)> = vec![(usize::MAX, vec![[0.0; 3]; self.width]); slots];
        let raw = image.as_raw();
        let mut sum = vec![[0f32; 3]; self.width];
        for (row, taps) in rows.chunks_exact(per_pixel).enumerate() {
            sum.fill([0.0; 3]);
            for &(y, wy) in taps {
                let (at, line) = &mut filtered[y % slots];
                if *at != y {
                    *at = y;
                    let source = &raw[y * image_w * 3..][..image_w * 3];
                    for (out, taps) in line.iter_mut().zip(columns.chunks_exact(per_pixel)) {
                        *out = [0.0; 3];
                        for &(x, wx) in taps {
                            for c in 0..3 {
                                out[c] += f32::from(source[x * 3 + c]) * wx;
                            }
                        }
                    }
                }
                for (s, f) in sum.iter_mut().zip(line.iter()) {
                    for c in 0..3 {
                        s[c] += f[c] * wy;
                    }
                }
            }
            for (col, &rgb) in sum.iter().enumerate() {
                write(row, col, rgb);
            }
        }
    }

    /// Along one image axis: for each of `count` output pixels, its taps' two neighbouring image
    /// pixels (clamped to `0..limit`) with their linear interpolation weights over `taps`.
    fn weights(&self, start: f32, step: f32, count: usize, limit: usize) -> Vec<(usize, f32)> {
        let last = limit as i64 - 1;
        let mut out = Vec::with_capacity(count * 2 * self.taps);
        for i in 0..count {
            for t in 0..self.taps {
                let p = start + (i as f32 + self.tap(t)) * step;
                let (f, frac) = (p.floor(), p - p.floor());
                let near = (f as i64).clamp(0, last) as usize;
                let far = (f as i64 + 1).clamp(0, last) as usize;
                out.push((near, (1.0 - frac) / self.taps as f32));
                out.push((far, frac / self.taps as f32));
            }
        }
        out
    }
}

/// An RGB image's bytes, read at fractional positions.
struct Pixels<'a> {
    raw: &'a [u8],
    width: i64,
    height: i64,
}

impl<'a> Pixels<'a> {
    fn new(image: &'a RgbImage) -> Pixels<'a> {
        Pixels {
            raw: image.as_raw(),
            width: i64::from(image.width()),
            height: i64::from(image.height()),
        }
    }

    /// The pixel value at a fractional position (pixel centers at integers), edges clamped.
    fn bilinear(&self, x: f32, y: f32) -> [f32; 3] {
        let (xf, yf) = (x.floor(), y.floor());
        let (fx, fy) = (x - xf, y - yf);
        let (xi, yi) = (xf as i64, yf as i64);
        let column = |x: i64| x.clamp(0, self.width - 1) as usize * 3;
        let line = |y: i64| y.clamp(0, self.height - 1) as usize * self.width as usize * 3;
        let (left, right) = (column(xi), column(xi + 1));
        let (top, bottom) = (line(yi), line(yi + 1));
        let mut out = [0f32; 3];
        for c in 0..3 {
            let at = |offset: usize| f32::from(self.raw[offset + c]);
            let upper = at(top + left) * (1.0 - fx) + at(top + right) * fx;
            let lower = at(bottom + left) * (1.0 - fx) + at(bottom + right) * fx;
            out[c] = upper * (1.0 - fy) + lower * fy;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> RgbImage {
        RgbImage::from_fn(7, 5, |x, y| {
            image::Rgb([(x * 30) as u8, (y * 50) as u8, (x * y) as u8])
        })
    }

    fn sampled(rect: RotatedRect, width: usize, height: usize) -> Vec<f32> {
        let mut tensor = blank_input(height, width + 2);
        sample_into(&mut tensor, &image(), &rect, width, height, |p| p).unwrap();
        tensor
            .try_as_plain_ram()
            .unwrap()
            .as_slice::<f32>()
            .unwrap()
            .to_vec()
    }

    #[test]
    fn the_whole_image_at_its_size_is_its_pixels_in_planes() {
        let rect = RotatedRect {
            center: (3.5, 2.5),
            axis: (1.0, 0.0),
            half_width: 3.5,
            half_height: 2.5,
        };
        let out = sampled(rect, 7, 5);
        let image = image();
        for (c, plane) in out.chunks(5 * 9).enumerate() {
            for y in 0..5 {
                for x in 0..9 {
                    let expected = if x < 7 {
                        f32::from(image.get_pixel(x as u32, y as u32)[c])
                    } else {
                        0.0
                    };
                    assert_eq!(plane[y * 9 + x], expected, "channel {c} at {x},{y}");
                }
            }
        }
    }

    #[test]
    fn upright_rectangles_read_as_every_sample_interpolated_on_its_own() {
        // Shrunk with 3x3 taps, enlarged, and reaching past the image's edges (clamped).
        let image = RgbImage::from_fn(61, 47, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, ((x * y) % 256) as u8])
        });
        for (rect, width, height) in [
            (RotatedRect { center: (30.0, 23.0), axis: (1.0, 0.0), half_width: 29.0, half_height: 21.0 }, 21, 15),
            (RotatedRect { center: (12.3, 9.7), axis: (1.0, 0.0), half_width: 6.1, half_height: 3.2 }, 40, 17),
            (RotatedRect { center: (55.0, 2.0), axis: (1.0, 0.0), half_width: 9.5, half_height: 6.0 }, 13, 9),
        ] {
            let grid = Grid::new(&rect, width, height);
            let read = |upright: bool| {
                let mut out = vec![[0f32; 3]; width * height];
                let mut write = |row: usize, col: usize, rgb| out[row * width + col] = rgb;
                if upright {
                    grid.sample_upright(&image, &mut write);
                } else {
                    grid.sample_rotated(&image, &mut write);
                }
                out
            };
            let (upright, rotated) = (read(true), read(false));
            for (i, (a, b)) in upright.iter().zip(&rotated).enumerate() {
                for c in 0..3 {
                    assert!((a[c] - b[c]).abs() < 1e-3, "{rect:?} pixel {i}: {a:?} vs {b:?}");
                }
            }
        }
    }

    #[test]
    fn a_quarter_turn_reads_the_image_rotated() {
        // Axis pointing down: the output's rows run along the image's columns, right to left.
        let rect = RotatedRect {
            center: (3.5, 2.5),
            axis: (0.0, 1.0),
            half_width: 2.5,
            half_height: 3.5,
        };
        let out = sampled(rect, 5, 7);
        let image = image();
        for row in 0..7 {
            for col in 0..5 {
                let p = image.get_pixel(6 - row as u32, col as u32);
                assert_eq!(out[row * 7 + col], f32::from(p[0]), "at {col},{row}");
            }
        }
    }
}
