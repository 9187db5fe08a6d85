//! Cuts a (rotated) rectangle out of an image straight into a model's input tensor: crop,
//! rotation, resize and normalization in one pass, with no intermediate image.

use image::RgbImage;
use tract_nnef::prelude::tract_ndarray::Array4;
use tract_nnef::prelude::*;

use super::geometry::RotatedRect;
use super::VisionError;

/// A model's input: a 1x3x`height`x`width` f32 tensor of zeros (mid-gray once normalized).
/// Made as an ndarray, then copied into tract's aligned storage: `Tensor::zero` skips the copy
/// but left the Worker's wasm memory 2.2 MiB higher after a 12 MP photo (78.8 vs 76.6 MiB,
/// `npm run bench:worker`): where the allocator puts each tile's input matters more here than
/// the copy's ~1 ms.
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
    // Average several bilinear samples per output pixel when shrinking, or thin strokes alias.
    let step_u = rect.width() / width as f32;
    let step_v = rect.height() / height as f32;
    let taps = step_u.max(step_v).ceil().clamp(1.0, 4.0) as usize;
    let weight = 1.0 / (taps * taps) as f32;
    let (plane_h, plane_w) = (tensor.shape()[2], tensor.shape()[3]);
    let plane = plane_h * plane_w;
    let mut plain = tensor.try_as_plain_ram_mut().map_err(VisionError::model)?;
    let out = plain.as_slice_mut::<f32>().map_err(VisionError::model)?;
    // The image point of (u, v) is origin + u * along + v * across (`RotatedRect::point_at`),
    // minus half a pixel: pixel centers are at integers.
    let (x0, y0) = rect.point_at(0.0, 0.0);
    let (x1, y1) = rect.point_at(1.0, 0.0);
    let (x2, y2) = rect.point_at(0.0, 1.0);
    let along = ((x1 - x0) / width as f32, (y1 - y0) / width as f32);
    let across = ((x2 - x0) / height as f32, (y2 - y0) / height as f32);
    let pixels = Pixels::new(image);
    for row in 0..height {
        for col in 0..width {
            let mut sum = [0f32; 3];
            for ty in 0..taps {
                let v = row as f32 + (ty as f32 + 0.5) / taps as f32;
                for tx in 0..taps {
                    let u = col as f32 + (tx as f32 + 0.5) / taps as f32;
                    let x = x0 + u * along.0 + v * across.0 - 0.5;
                    let y = y0 + u * along.1 + v * across.1 - 0.5;
                    let p = pixels.bilinear(x, y);
                    for c in 0..3 {
                        sum[c] += p[c] * weight;
                    }
                }
            }
            let value = normalize(sum);
            let at = row * plane_w + col;
            for c in 0..3 {
                out[c * plane + at] = value[c];
            }
        }
    }
    Ok(())
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
