//! Text detection (DB, "differentiable binarization") pre- and post-processing, as PaddleOCR and
//! RapidOCR do it: resize to multiples of 32, normalize, then threshold the probability map,
//! take connected regions, fit minimum-area rectangles, score them, unclip (grow) them by
//! `area * ratio / perimeter` and map them back to the page.

use image::RgbImage;
use image::imageops::FilterType;

/// A quadrilateral on the page: top-left, top-right, bottom-right, bottom-left, in pixels.
pub type Quad = [[f32; 2]; 4];

/// Parameters of the detector (RapidOCR 1.4.4's `config.yaml` values by default).
#[derive(Debug, Clone)]
pub struct DetParams {
    /// Pages whose longer side exceeds this are scaled down first (`Global.max_side_len`).
    pub max_side_len: u32,
    /// The shorter side is scaled up to at least this (`Det.limit_side_len`, `limit_type: min`).
    pub limit_side_len: u32,
    /// Probability threshold of the binarized map.
    pub thresh: f32,
    /// Minimum mean probability inside a box.
    pub box_thresh: f32,
    /// How much a box grows: distance = area * ratio / perimeter.
    pub unclip_ratio: f32,
    /// At most this many regions are considered.
    pub max_candidates: usize,
    /// Dilate the binarized map with a 2x2 kernel.
    pub use_dilation: bool,
}

impl Default for DetParams {
    fn default() -> Self {
        DetParams {
            max_side_len: 2000,
            limit_side_len: 736,
            thresh: 0.3,
            box_thresh: 0.5,
            unclip_ratio: 1.6,
            max_candidates: 1000,
            use_dilation: true,
        }
    }
}

/// The size the detector runs at for a page of `w`x`h` (both multiples of 32).
pub fn det_size(w: u32, h: u32, p: &DetParams) -> (u32, u32) {
    let (mut w, mut h) = (w as f64, h as f64);
    let max_side = w.max(h);
    if max_side > p.max_side_len as f64 {
        let r = p.max_side_len as f64 / max_side;
        w = (w * r).floor();
        h = (h * r).floor();
    }
    let min_side = w.min(h);
    if min_side < p.limit_side_len as f64 {
        let r = p.limit_side_len as f64 / min_side;
        w = (w * r).floor();
        h = (h * r).floor();
    }
    let round32 = |v: f64| (((v / 32.0).round() * 32.0) as u32).max(32);
    (round32(w), round32(h))
}

/// The detector's input: a 1x3xHxW tensor in BGR order, normalized to [-1, 1].
pub fn det_input(img: &RgbImage, w: u32, h: u32) -> Vec<f32> {
    let resized;
    let src = if img.width() == w && img.height() == h {
        img
    } else {
        resized = image::imageops::resize(img, w, h, FilterType::Triangle);
        &resized
    };
    let plane = (w * h) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, px) in src.pixels().enumerate() {
        // BGR, as the models were trained on OpenCV images.
        out[i] = px[2] as f32 / 127.5 - 1.0;
        out[plane + i] = px[1] as f32 / 127.5 - 1.0;
        out[2 * plane + i] = px[0] as f32 / 127.5 - 1.0;
    }
    out
}

/// A detected box on the page with its mean probability.
#[derive(Debug, Clone)]
pub struct DetBox {
    pub quad: Quad,
    #[allow(dead_code)]
    pub score: f32,
}

/// DB post-processing of the probability map `prob` (`w`x`h`, row-major) into boxes in the
/// coordinates of a `dest_w`x`dest_h` page.
pub fn boxes_from_map(
    prob: &[f32],
    w: usize,
    h: usize,
    dest_w: u32,
    dest_h: u32,
    p: &DetParams,
) -> Vec<DetBox> {
    assert_eq!(prob.len(), w * h);
    let mut mask: Vec<bool> = prob.iter().map(|&v| v > p.thresh).collect();
    if p.use_dilation {
        mask = dilate2x2(&mask, w, h);
    }
    let mut out = Vec::new();
    for region in regions(&mask, w, h).into_iter().take(p.max_candidates) {
        let hull = convex_hull(region);
        let Some(rect) = min_area_rect(&hull) else {
            continue;
        };
        if rect.short_side() < 3.0 {
            continue;
        }
        let quad = rect.corners_ordered();
        let score = box_score_fast(prob, w, h, &quad);
        if score < p.box_thresh {
            continue;
        }
        let grown = unclip(&rect, p.unclip_ratio);
        if grown.short_side() < 5.0 {
            continue;
        }
        let mut quad = grown.corners_ordered();
        for pt in quad.iter_mut() {
            pt[0] = (pt[0] / w as f32 * dest_w as f32)
                .round()
                .clamp(0.0, dest_w as f32);
            pt[1] = (pt[1] / h as f32 * dest_h as f32)
                .round()
                .clamp(0.0, dest_h as f32);
        }
        let quad = clip_quad(order_clockwise(quad), dest_w, dest_h);
        let width = dist(quad[0], quad[1]) as i64;
        let height = dist(quad[0], quad[3]) as i64;
        if width <= 3 || height <= 3 {
            continue;
        }
        out.push(DetBox { quad, score });
    }
    out
}

/// OpenCV `dilate` with a 2x2 kernel (anchor at its bottom-right cell): a pixel is set when it or
/// its left, upper or upper-left neighbour is.
fn dilate2x2(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut out = mask.to_vec();
    for y in 0..h {
        for x in 0..w {
            if out[y * w + x] {
                continue;
            }
            let left = x > 0 && mask[y * w + x - 1];
            let up = y > 0 && mask[(y - 1) * w + x];
            let upleft = x > 0 && y > 0 && mask[(y - 1) * w + x - 1];
            out[y * w + x] = left || up || upleft;
        }
    }
    out
}

/// Connected regions (8-connectivity) of the mask. Each region is returned as the leftmost and
/// rightmost pixel of each of its rows, which is all the convex hull needs.
pub(crate) fn regions(mask: &[bool], w: usize, h: usize) -> Vec<Vec<[f32; 2]>> {
    let mut seen = vec![false; mask.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    let mut extents: Vec<(usize, usize, usize)> = Vec::new(); // (y, min x, max x)
    let mut row_of: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        extents.clear();
        row_of.clear();
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            match row_of.get(&y) {
                Some(&k) => {
                    let e = &mut extents[k];
                    e.1 = e.1.min(x);
                    e.2 = e.2.max(x);
                }
                None => {
                    row_of.insert(y, extents.len());
                    extents.push((y, x, x));
                }
            }
            let (x0, x1) = (x.saturating_sub(1), (x + 1).min(w - 1));
            let (y0, y1) = (y.saturating_sub(1), (y + 1).min(h - 1));
            for ny in y0..=y1 {
                for nx in x0..=x1 {
                    let j = ny * w + nx;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        let mut pts = Vec::with_capacity(extents.len() * 2);
        for &(y, a, b) in &extents {
            pts.push([a as f32, y as f32]);
            if b != a {
                pts.push([b as f32, y as f32]);
            }
        }
        out.push(pts);
    }
    out
}

/// Andrew's monotone chain; returns the hull counter-clockwise (in y-up terms), no repeated point.
pub(crate) fn convex_hull(mut pts: Vec<[f32; 2]>) -> Vec<[f32; 2]> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut lower: Vec<[f32; 2]> = Vec::new();
    for &p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0.0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<[f32; 2]> = Vec::new();
    for &p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0.0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// A rotated rectangle: center, unit direction of its first side, and the two side lengths.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RotRect {
    pub center: [f32; 2],
    pub dir: [f32; 2],
    pub len_u: f32,
    pub len_v: f32,
}

impl RotRect {
    pub fn short_side(&self) -> f32 {
        self.len_u.min(self.len_v)
    }

    pub fn corners(&self) -> [[f32; 2]; 4] {
        let (u, v) = (self.dir, [-self.dir[1], self.dir[0]]);
        let (hu, hv) = (self.len_u / 2.0, self.len_v / 2.0);
        let c = self.center;
        let at = |a: f32, b: f32| [c[0] + u[0] * a + v[0] * b, c[1] + u[1] * a + v[1] * b];
        [at(-hu, -hv), at(hu, -hv), at(hu, hv), at(-hu, hv)]
    }

    /// The corners as RapidOCR's `get_mini_boxes` orders them (by x, then top/bottom of each pair).
    pub fn corners_ordered(&self) -> Quad {
        let mut pts = self.corners();
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let (i1, i4) = if pts[1][1] > pts[0][1] {
            (0, 1)
        } else {
            (1, 0)
        };
        let (i2, i3) = if pts[3][1] > pts[2][1] {
            (2, 3)
        } else {
            (3, 2)
        };
        [pts[i1], pts[i2], pts[i3], pts[i4]]
    }
}

/// Minimum-area enclosing rectangle of a convex hull (rotating calipers over its edges).
pub(crate) fn min_area_rect(hull: &[[f32; 2]]) -> Option<RotRect> {
    if hull.is_empty() {
        return None;
    }
    if hull.len() < 3 {
        // A point or a segment: a degenerate rectangle.
        let a = hull[0];
        let b = *hull.last().unwrap();
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = (dx * dx + dy * dy).sqrt();
        let dir = if len > 0.0 {
            [dx / len, dy / len]
        } else {
            [1.0, 0.0]
        };
        return Some(RotRect {
            center: [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0],
            dir,
            len_u: len,
            len_v: 0.0,
        });
    }
    let mut best: Option<(f32, RotRect)> = None;
    for i in 0..hull.len() {
        let a = hull[i];
        let b = hull[(i + 1) % hull.len()];
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = (dx * dx + dy * dy).sqrt();
        if len == 0.0 {
            continue;
        }
        let u = [dx / len, dy / len];
        let v = [-u[1], u[0]];
        let (mut umin, mut umax, mut vmin, mut vmax) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in hull {
            let pu = p[0] * u[0] + p[1] * u[1];
            let pv = p[0] * v[0] + p[1] * v[1];
            umin = umin.min(pu);
            umax = umax.max(pu);
            vmin = vmin.min(pv);
            vmax = vmax.max(pv);
        }
        let area = (umax - umin) * (vmax - vmin);
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let (cu, cv) = ((umin + umax) / 2.0, (vmin + vmax) / 2.0);
            let center = [u[0] * cu + v[0] * cv, u[1] * cu + v[1] * cv];
            best = Some((
                area,
                RotRect {
                    center,
                    dir: u,
                    len_u: umax - umin,
                    len_v: vmax - vmin,
                },
            ));
        }
    }
    best.map(|(_, r)| r)
}

/// Grow a rectangle by `area * ratio / perimeter` on every side. (RapidOCR offsets the polygon
/// with round joins and takes the minimum-area rectangle of that, which for a rectangle is the
/// same rectangle grown by the distance on each side.)
pub(crate) fn unclip(r: &RotRect, ratio: f32) -> RotRect {
    let area = r.len_u * r.len_v;
    let perimeter = 2.0 * (r.len_u + r.len_v);
    let d = if perimeter > 0.0 {
        area * ratio / perimeter
    } else {
        0.0
    };
    RotRect {
        len_u: r.len_u + 2.0 * d,
        len_v: r.len_v + 2.0 * d,
        ..*r
    }
}

/// Mean probability inside the quad ("fast" score mode).
pub(crate) fn box_score_fast(prob: &[f32], w: usize, h: usize, quad: &Quad) -> f32 {
    let xs = quad.iter().map(|p| p[0]);
    let ys = quad.iter().map(|p| p[1]);
    let clampi = |v: f32, hi: usize| (v as i64).clamp(0, hi as i64 - 1) as usize;
    let xmin = clampi(xs.clone().fold(f32::MAX, f32::min).floor(), w);
    let xmax = clampi(xs.fold(f32::MIN, f32::max).ceil(), w);
    let ymin = clampi(ys.clone().fold(f32::MAX, f32::min).floor(), h);
    let ymax = clampi(ys.fold(f32::MIN, f32::max).ceil(), h);
    // The polygon is filled at integer coordinates, as cv2.fillPoly does with int32 points.
    let poly: Vec<[f32; 2]> = quad.iter().map(|p| [p[0].trunc(), p[1].trunc()]).collect();
    let (mut sum, mut n) = (0f64, 0usize);
    for y in ymin..=ymax {
        for x in xmin..=xmax {
            if inside_convex(&poly, [x as f32, y as f32]) {
                sum += prob[y * w + x] as f64;
                n += 1;
            }
        }
    }
    if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
}

/// Whether `p` lies in (or on the border of) a convex polygon given in either orientation.
fn inside_convex(poly: &[[f32; 2]], p: [f32; 2]) -> bool {
    let (mut pos, mut neg) = (false, false);
    for i in 0..poly.len() {
        let a = poly[i];
        let b = poly[(i + 1) % poly.len()];
        let c = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
        if c > 1e-6 {
            pos = true;
        } else if c < -1e-6 {
            neg = true;
        }
        if pos && neg {
            return false;
        }
    }
    true
}

/// Top-left, top-right, bottom-right, bottom-left (RapidOCR's `order_points_clockwise`).
pub(crate) fn order_clockwise(pts: Quad) -> Quad {
    let mut xs = pts;
    xs.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (mut left, mut right) = ([xs[0], xs[1]], [xs[2], xs[3]]);
    left.sort_by(|a, b| a[1].total_cmp(&b[1]));
    right.sort_by(|a, b| a[1].total_cmp(&b[1]));
    [left[0], right[0], right[1], left[1]]
}

fn clip_quad(mut q: Quad, w: u32, h: u32) -> Quad {
    for p in q.iter_mut() {
        p[0] = p[0].clamp(0.0, (w - 1) as f32).trunc();
        p[1] = p[1].clamp(0.0, (h - 1) as f32).trunc();
    }
    q
}

pub(crate) fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn det_size_rounds_to_32_and_respects_limits() {
        let p = DetParams::default();
        // A 150-DPI letter page keeps its size, rounded to multiples of 32.
        assert_eq!(det_size(1275, 1650, &p), (1280, 1664));
        // A 200-DPI page is first brought down to 2000 on its long side.
        assert_eq!(det_size(1700, 2200, &p), (1536, 2016));
        // A small image is scaled up so its short side reaches 736.
        let (w, h) = det_size(300, 100, &p);
        assert_eq!(h, 736);
        assert_eq!(w % 32, 0);
    }

    #[test]
    fn min_area_rect_of_axis_aligned_block() {
        let mut pts = Vec::new();
        for y in 10..20 {
            pts.push([5.0, y as f32]);
            pts.push([54.0, y as f32]);
        }
        let r = min_area_rect(&convex_hull(pts)).unwrap();
        let (a, b) = (r.len_u.max(r.len_v), r.len_u.min(r.len_v));
        assert!((a - 49.0).abs() < 1e-3 && (b - 9.0).abs() < 1e-3, "{r:?}");
        let q = order_clockwise(r.corners_ordered());
        assert!(
            (q[0][0] - 5.0).abs() < 1e-3 && (q[0][1] - 10.0).abs() < 1e-3,
            "{q:?}"
        );
        assert!(
            (q[2][0] - 54.0).abs() < 1e-3 && (q[2][1] - 19.0).abs() < 1e-3,
            "{q:?}"
        );
    }

    #[test]
    fn min_area_rect_of_rotated_block() {
        // A 40x6 bar rotated by 30 degrees.
        let (s, c) = (30f32.to_radians().sin(), 30f32.to_radians().cos());
        let mut pts = Vec::new();
        for i in 0..=40 {
            for j in 0..=6 {
                let (u, v) = (i as f32, j as f32);
                pts.push([100.0 + u * c - v * s, 100.0 + u * s + v * c]);
            }
        }
        let r = min_area_rect(&convex_hull(pts)).unwrap();
        assert!(
            (r.len_u.max(r.len_v) - 40.0).abs() < 0.1 && (r.len_u.min(r.len_v) - 6.0).abs() < 0.1,
            "{r:?}"
        );
    }

    #[test]
    fn unclip_grows_by_area_over_perimeter() {
        let r = RotRect {
            center: [0.0, 0.0],
            dir: [1.0, 0.0],
            len_u: 100.0,
            len_v: 10.0,
        };
        let g = unclip(&r, 1.6);
        let d = 100.0 * 10.0 * 1.6 / 220.0;
        assert!((g.len_u - (100.0 + 2.0 * d)).abs() < 1e-3);
        assert!((g.len_v - (10.0 + 2.0 * d)).abs() < 1e-3);
    }

    #[test]
    fn boxes_from_map_finds_two_lines() {
        let (w, h) = (200usize, 100usize);
        let mut prob = vec![0f32; w * h];
        for y in 10..22 {
            for x in 20..180 {
                prob[y * w + x] = 0.9;
            }
        }
        for y in 50..62 {
            for x in 20..100 {
                prob[y * w + x] = 0.8;
            }
        }
        // A speck too small to be a line.
        prob[90 * w + 5] = 0.99;
        let boxes = boxes_from_map(&prob, w, h, 400, 200, &DetParams::default());
        assert_eq!(boxes.len(), 2, "{boxes:?}");
        let mut tops: Vec<f32> = boxes.iter().map(|b| b.quad[0][1]).collect();
        tops.sort_by(f32::total_cmp);
        // Mapped to a page twice as large; the box grows around the region.
        // Region tops at 10 and 50, grown by area * 1.6 / perimeter (about 9 and 8), then doubled.
        assert!((tops[0] - 2.0).abs() <= 2.0, "{tops:?}");
        assert!((tops[1] - 83.0).abs() <= 2.0, "{tops:?}");
        for b in &boxes {
            assert!(b.score > 0.5);
        }
    }

    #[test]
    fn blank_map_has_no_boxes() {
        let prob = vec![0.01f32; 64 * 64];
        assert!(boxes_from_map(&prob, 64, 64, 64, 64, &DetParams::default()).is_empty());
    }
}
