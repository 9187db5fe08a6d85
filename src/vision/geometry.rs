//! Rotated rectangles: where text lies in a photo, at any small angle.

use super::reading::PixelBox;

/// A rectangle rotated about its center. `axis` is the unit vector along its width (the reading
/// direction, pointing right-ish); its height runs along the perpendicular, pointing down-ish.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    pub center: (f32, f32),
    pub axis: (f32, f32),
    pub half_width: f32,
    pub half_height: f32,
}

impl RotatedRect {
    pub fn width(&self) -> f32 {
        2.0 * self.half_width
    }

    pub fn height(&self) -> f32 {
        2.0 * self.half_height
    }

    /// The unit vector along the height, a quarter turn clockwise from `axis` (y points down).
    pub fn down(&self) -> (f32, f32) {
        (-self.axis.1, self.axis.0)
    }

    /// The point at fractions (u, v) of the width and height from the top-left corner.
    pub fn point_at(&self, u: f32, v: f32) -> (f32, f32) {
        let (ax, ay) = self.axis;
        let (dx, dy) = self.down();
        let along = (u - 0.5) * self.width();
        let across = (v - 0.5) * self.height();
        (
            self.center.0 + along * ax + across * dx,
            self.center.1 + along * ay + across * dy,
        )
    }

    pub fn corners(&self) -> [(f32, f32); 4] {
        [
            self.point_at(0.0, 0.0),
            self.point_at(1.0, 0.0),
            self.point_at(1.0, 1.0),
            self.point_at(0.0, 1.0),
        ]
    }

    /// Grows every side outward by `distance`.
    pub fn grown(&self, distance: f32) -> RotatedRect {
        RotatedRect {
            half_width: self.half_width + distance,
            half_height: self.half_height + distance,
            ..*self
        }
    }

    /// The same rectangle in a frame scaled by (sx, sy); exact when sx == sy, and close enough
    /// for the small aspect changes of resizing to a multiple of 32.
    pub fn scaled(&self, sx: f32, sy: f32) -> RotatedRect {
        let (ax, ay) = (self.axis.0 * sx, self.axis.1 * sy);
        let along = (ax * ax + ay * ay).sqrt();
        let (dx, dy) = self.down();
        let across = ((dx * sx).powi(2) + (dy * sy).powi(2)).sqrt();
        RotatedRect {
            center: (self.center.0 * sx, self.center.1 * sy),
            axis: (ax / along, ay / along),
            half_width: self.half_width * along,
            half_height: self.half_height * across,
        }
    }

    /// The axis-aligned box around it, clipped to a `width` x `height` frame.
    pub fn bounding_box(&self, width: u32, height: u32) -> PixelBox {
        let corners = self.corners();
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for (x, y) in corners {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        let clip = |v: f32, max: u32| v.round().clamp(0.0, max as f32) as u32;
        let (x0, y0) = (clip(x0, width), clip(y0, height));
        let (x1, y1) = (clip(x1, width), clip(y1, height));
        PixelBox {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }

    /// The smallest rectangle holding all `points` (rotating calipers over their convex hull),
    /// turned so that its width runs along the side closest to horizontal.
    pub fn enclosing(points: &[(f32, f32)]) -> Option<RotatedRect> {
        let hull = convex_hull(points);
        if hull.len() < 3 {
            return None;
        }
        let mut best: Option<(f32, RotatedRect)> = None;
        for i in 0..hull.len() {
            let (p, q) = (hull[i], hull[(i + 1) % hull.len()]);
            let (ex, ey) = (q.0 - p.0, q.1 - p.1);
            let len = (ex * ex + ey * ey).sqrt();
            if len == 0.0 {
                continue;
            }
            let (ux, uy) = (ex / len, ey / len);
            let (mut lo_u, mut hi_u, mut lo_v, mut hi_v) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
            for &(x, y) in &hull {
                let (pu, pv) = (x * ux + y * uy, -x * uy + y * ux);
                lo_u = lo_u.min(pu);
                hi_u = hi_u.max(pu);
                lo_v = lo_v.min(pv);
                hi_v = hi_v.max(pv);
            }
            let area = (hi_u - lo_u) * (hi_v - lo_v);
            if best.as_ref().is_some_and(|(a, _)| *a <= area) {
                continue;
            }
            let (cu, cv) = ((lo_u + hi_u) / 2.0, (lo_v + hi_v) / 2.0);
            let rect = RotatedRect {
                center: (cu * ux - cv * uy, cu * uy + cv * ux),
                axis: (ux, uy),
                half_width: (hi_u - lo_u) / 2.0,
                half_height: (hi_v - lo_v) / 2.0,
            };
            best = Some((area, rect));
        }
        best.map(|(_, rect)| rect.reading_upright())
    }

    /// The same rectangle described with its width along the side closest to horizontal,
    /// pointing right.
    fn reading_upright(self) -> RotatedRect {
        let (ax, ay) = self.axis;
        let turned = if ax.abs() >= ay.abs() {
            self
        } else {
            RotatedRect {
                axis: (-ay, ax),
                half_width: self.half_height,
                half_height: self.half_width,
                ..self
            }
        };
        if turned.axis.0 < 0.0 {
            RotatedRect {
                axis: (-turned.axis.0, -turned.axis.1),
                ..turned
            }
        } else {
            turned
        }
    }
}

/// Andrew's monotone chain; returns the hull counter-clockwise without repeating the start.
fn convex_hull(points: &[(f32, f32)]) -> Vec<(f32, f32)> {
    let mut pts: Vec<(f32, f32)> = points.to_vec();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: (f32, f32), a: (f32, f32), b: (f32, f32)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut hull: Vec<(f32, f32)> = Vec::with_capacity(pts.len() * 2);
    for pass in [pts.clone(), pts.iter().rev().copied().collect()] {
        let start = hull.len();
        for p in pass {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encloses_an_axis_aligned_block() {
        let points = [
            (10.0, 20.0),
            (50.0, 20.0),
            (50.0, 30.0),
            (10.0, 30.0),
            (30.0, 25.0),
        ];
        let rect = RotatedRect::enclosing(&points).unwrap();
        assert!((rect.width() - 40.0).abs() < 1e-3 && (rect.height() - 10.0).abs() < 1e-3);
        assert!((rect.center.0 - 30.0).abs() < 1e-3 && (rect.center.1 - 25.0).abs() < 1e-3);
        assert!((rect.axis.0 - 1.0).abs() < 1e-3);
        let b = rect.bounding_box(100, 100);
        assert_eq!((b.x, b.y, b.w, b.h), (10, 20, 40, 10));
    }

    #[test]
    fn reads_a_tilted_tall_block_along_its_long_horizontal_side() {
        // A 40x10 block tilted by 10 degrees.
        let (c, s) = (10f32.to_radians().cos(), 10f32.to_radians().sin());
        let rot = |x: f32, y: f32| (100.0 + x * c - y * s, 100.0 + x * s + y * c);
        let points = [
            rot(-20.0, -5.0),
            rot(20.0, -5.0),
            rot(20.0, 5.0),
            rot(-20.0, 5.0),
        ];
        let rect = RotatedRect::enclosing(&points).unwrap();
        assert!((rect.width() - 40.0).abs() < 1e-2, "{rect:?}");
        assert!((rect.axis.1 - s).abs() < 1e-3, "{rect:?}");
    }
}
