//! Cuts a (rotated) rectangle out of an image straight into a model's input tensor: crop,
//! rotation, resize and normalization in one pass, with no intermediate image.

use image::RgbImage;
use tract_nnef::prelude::tract_ndarray::{s, Array4};

use super::geometry::RotatedRect;

/// Maps an RGB pixel (0-255 per channel) to the three input channels a model expects.
pub type Normalize = fn([f32; 3]) -> [f32; 3];

/// Writes `rect` of `image`, resized to `width` x `height`, into `tensor[0, .., 0..height,
/// 0..width]` (the tensor is 1x3xHxW; columns right of `width` are left as they are).
pub fn sample_into(
    tensor: &mut Array4<f32>,
    image: &RgbImage,
    rect: &RotatedRect,
    width: usize,
    height: usize,
    normalize: Normalize,
) {
    // Average several bilinear samples per output pixel when shrinking, or thin strokes alias.
    let step_u = rect.width() / width as f32;
    let step_v = rect.height() / height as f32;
    let taps = step_u.max(step_v).ceil().clamp(1.0, 4.0) as usize;
    let weight = 1.0 / (taps * taps) as f32;
    let mut view = tensor.slice_mut(s![0, .., ..height, ..width]);
    for row in 0..height {
        for col in 0..width {
            let mut sum = [0f32; 3];
            for ty in 0..taps {
                for tx in 0..taps {
                    let u = (col as f32 + (tx as f32 + 0.5) / taps as f32) / width as f32;
                    let v = (row as f32 + (ty as f32 + 0.5) / taps as f32) / height as f32;
                    let (x, y) = rect.point_at(u, v);
                    let p = bilinear(image, x - 0.5, y - 0.5);
                    for c in 0..3 {
                        sum[c] += p[c] * weight;
                    }
                }
            }
            let out = normalize(sum);
            for c in 0..3 {
                view[[c, row, col]] = out[c];
            }
        }
    }
}

/// The pixel value at a fractional position (pixel centers at integers), edges clamped.
fn bilinear(image: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: i64, yi: i64| {
        image
            .get_pixel(xi.clamp(0, w - 1) as u32, yi.clamp(0, h - 1) as u32)
            .0
    };
    let (xi, yi) = (x0 as i64, y0 as i64);
    let (p00, p10, p01, p11) = (
        at(xi, yi),
        at(xi + 1, yi),
        at(xi, yi + 1),
        at(xi + 1, yi + 1),
    );
    let mut out = [0f32; 3];
    for c in 0..3 {
        let top = f32::from(p00[c]) * (1.0 - fx) + f32::from(p10[c]) * fx;
        let bottom = f32::from(p01[c]) * (1.0 - fx) + f32::from(p11[c]) * fx;
        out[c] = top * (1.0 - fy) + bottom * fy;
    }
    out
}
