//! Where the ink is: tight boxes around the text of detected lines, and splitting lines that the
//! detector ran across a narrow column gutter (common on two-column Chinese pages, whose justified
//! lines reach the gutter from both sides).

use image::RgbImage;

use super::det::Quad;

/// Darker than this (0-255 luminance) is ink; light watermarks and paper tints are not.
const INK_LEVEL: u32 = 160;

/// Which pixels of the page are ink.
pub struct InkMap {
    w: usize,
    h: usize,
    ink: Vec<bool>,
}

impl InkMap {
    pub fn new(img: &RgbImage) -> InkMap {
        let ink = img
            .pixels()
            .map(|p| (299 * p[0] as u32 + 587 * p[1] as u32 + 114 * p[2] as u32) / 1000 < INK_LEVEL)
            .collect();
        InkMap {
            w: img.width() as usize,
            h: img.height() as usize,
            ink,
        }
    }

    #[cfg(test)]
    pub fn from_fn(w: usize, h: usize, f: impl Fn(usize, usize) -> bool) -> InkMap {
        let mut ink = vec![false; w * h];
        for y in 0..h {
            for x in 0..w {
                ink[y * w + x] = f(x, y);
            }
        }
        InkMap { w, h, ink }
    }

    fn at(&self, x: usize, y: usize) -> bool {
        self.ink[y * self.w + x]
    }

    /// Pixel bounds of a box, clamped to the page: (x0, y0, x1, y1), end exclusive.
    fn clamp(&self, b: &[f32; 4]) -> (usize, usize, usize, usize) {
        let cx = |v: f32| (v.max(0.0) as usize).min(self.w);
        let cy = |v: f32| (v.max(0.0) as usize).min(self.h);
        (cx(b[0]), cy(b[1]), cx(b[2].ceil()), cy(b[3].ceil()))
    }

    /// For each x of the box, whether the middle half of its rows has ink there.
    fn columns(&self, b: &[f32; 4]) -> (usize, Vec<bool>) {
        let (x0, y0, x1, y1) = self.clamp(b);
        let q = (y1.saturating_sub(y0)) / 4;
        let (ya, yb) = (y0 + q, (y1 - q).max(y0 + q + 1).min(y1));
        let cols = (x0..x1).map(|x| (ya..yb).any(|y| self.at(x, y))).collect();
        (x0, cols)
    }
}

/// The axis-aligned box around a quad.
pub fn aabb(q: &Quad) -> [f32; 4] {
    let xs = q.iter().map(|p| p[0]);
    let ys = q.iter().map(|p| p[1]);
    [
        xs.clone().fold(f32::MAX, f32::min),
        ys.clone().fold(f32::MAX, f32::min),
        xs.fold(f32::MIN, f32::max),
        ys.fold(f32::MIN, f32::max),
    ]
}

/// The tight box of a line's ink inside its detection box: across, the ink of the box's middle
/// rows; up and down, the rows with ink that run on from the middle of the box (so that a
/// neighbouring line's descenders reaching into the box are left out). None without ink.
pub fn ink_box(ink: &InkMap, b: &[f32; 4]) -> Option<[f32; 4]> {
    let (x0, cols) = ink.columns(b);
    let first = cols.iter().position(|&c| c)?;
    let last = cols.iter().rposition(|&c| c)?;
    let (xa, xb) = (x0 + first, x0 + last + 1);
    let (_, y0, _, y1) = ink.clamp(b);
    let row_ink = |y: usize| (xa..xb).any(|x| ink.at(x, y));
    let mid = (y0 + y1) / 2;
    // Start from the inked row nearest the middle.
    let start = (0..(y1 - y0))
        .flat_map(|d| [mid.checked_sub(d), Some(mid + d)])
        .flatten()
        .find(|&y| y >= y0 && y < y1 && row_ink(y))?;
    let mut top = start;
    while top > y0 && row_ink(top - 1) {
        top -= 1;
    }
    let mut bottom = start + 1;
    while bottom < y1 && row_ink(bottom) {
        bottom += 1;
    }
    Some([xa as f32, top as f32, xb as f32, bottom as f32])
}

/// Blank runs of at least `min` pixels between ink, as (start, end) page x, end exclusive.
fn blank_runs(x0: usize, cols: &[bool], min: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut seen_ink = false;
    let mut run_start = None;
    for (i, &c) in cols.iter().enumerate() {
        if c {
            if let Some(s) = run_start.take()
                && seen_ink
                && i - s >= min
            {
                out.push((x0 + s, x0 + i));
            }
            seen_ink = true;
        } else if run_start.is_none() {
            run_start = Some(i);
        }
    }
    out
}

/// Split the lines that run across a column gutter. A gutter is an x where at least three lines
/// of the page, and at least half of those that reach across it, leave a blank at least 0.6 text
/// heights wide (inside one detected line, or between two detected lines side by side); a line
/// with such a blank across a gutter is cut in two there when the line above or below it is
/// blank there too.
pub fn split_at_gutters(ink: &InkMap, quads: Vec<Quad>) -> Vec<Quad> {
    struct Info {
        bb: [f32; 4],
        tight: Option<[f32; 4]>,
        runs: Vec<(usize, usize)>,
    }
    let infos: Vec<Info> = quads
        .iter()
        .map(|q| {
            let bb = aabb(q);
            let tight = ink_box(ink, &bb);
            let runs = match tight {
                Some(t) if bb[2] - bb[0] > 2.0 * (bb[3] - bb[1]) => {
                    let min = (0.6 * (t[3] - t[1])).max(4.0) as usize;
                    let (x0, cols) = ink.columns(&bb);
                    blank_runs(x0, &cols, min)
                }
                _ => Vec::new(),
            };
            Info { bb, tight, runs }
        })
        .collect();
    // Evidence: blanks inside lines, and blanks between neighbouring lines of a row.
    // Each gap with the rows of its line and the line it belongs to.
    let mut found: Vec<Gap> = Vec::new();
    for (k, i) in infos.iter().enumerate() {
        if let Some(t) = i.tight {
            found.extend(i.runs.iter().map(|&(s, e)| Gap {
                s,
                e,
                y0: t[1],
                y1: t[3],
                line: k,
            }));
        }
    }
    let mut by_x: Vec<usize> = (0..infos.len())
        .filter(|&i| infos[i].tight.is_some())
        .collect();
    by_x.sort_by(|&a, &b| infos[a].bb[0].total_cmp(&infos[b].bb[0]));
    for (k, &a) in by_x.iter().enumerate() {
        let ta = infos[a].tight.unwrap();
        let ha = ta[3] - ta[1];
        // The nearest line starting to the right on the same row.
        let next = by_x[k + 1..].iter().copied().find(|&b| {
            let tb = infos[b].tight.unwrap();
            let overlap = ta[3].min(tb[3]) - ta[1].max(tb[1]);
            overlap > 0.5 * ha.min(tb[3] - tb[1]) && tb[0] >= ta[2]
        });
        if let Some(b) = next {
            let tb = infos[b].tight.unwrap();
            if tb[0] - ta[2] >= (0.6 * ha).max(4.0) && tb[0] - ta[2] < 8.0 * ha {
                found.push(Gap {
                    s: ta[2] as usize,
                    e: tb[0] as usize,
                    y0: ta[1],
                    y1: ta[3],
                    line: a,
                });
            }
        }
    }
    // Lines that reach across each x, for the share of them that leave it blank.
    let spans: Vec<(f32, f32)> = infos
        .iter()
        .filter_map(|i| i.tight.map(|t| (t[0], t[2])))
        .collect();
    let gaps: Vec<(usize, usize)> = found.iter().map(|g| (g.s, g.e)).collect();
    let gutters: Vec<usize> = gutters(&gaps)
        .into_iter()
        .filter(|&(g, support)| {
            let across = spans
                .iter()
                .filter(|s| s.0 < g as f32 && (g as f32) < s.1)
                .count();
            // A gutter is blank in most rows; a few wide word spaces that line up are not one.
            support * 2 >= across
        })
        .map(|(g, _)| g)
        .collect();
    if gutters.is_empty() {
        return quads;
    }
    let mut out = Vec::with_capacity(quads.len());
    for (k, (q, info)) in quads.into_iter().zip(&infos).enumerate() {
        let mut pieces = vec![q];
        for &g in &gutters {
            let Some(&(s, e)) = info.runs.iter().find(|(s, e)| *s <= g && g < *e) else {
                continue;
            };
            let t = info.tight.unwrap();
            // The line above or below is blank there too: a column runs on (a caption or a
            // heading that happens to have a space over a table's gutter does not).
            let h = t[3] - t[1];
            let neighbour = found.iter().any(|n| {
                n.line != k && n.s <= g && g < n.e && (n.y0 - t[3]).max(t[1] - n.y1) < 1.5 * h
            });
            if !neighbour {
                continue;
            }
            let last = pieces.pop().unwrap();
            let bb = aabb(&last);
            let margin = 0.3 * (t[3] - t[1]);
            let (cut_l, cut_r) = (
                s as f32 + margin.min((e - s) as f32 / 2.0),
                e as f32 - margin.min((e - s) as f32 / 2.0),
            );
            // A sliver on one side is a neighbouring column's ink that the box reaches into:
            // drop it. Otherwise cut the line in two.
            let (left_ok, right_ok) = (s as f32 - t[0] >= h, t[2] - e as f32 >= h);
            match (left_ok, right_ok) {
                (true, true) => {
                    pieces.push(slice(&last, bb[0], cut_l.min(bb[2])));
                    pieces.push(slice(&last, cut_r.max(bb[0]), bb[2]));
                }
                (true, false) => pieces.push(slice(&last, bb[0], cut_l.min(bb[2]))),
                (false, true) => pieces.push(slice(&last, cut_r.max(bb[0]), bb[2])),
                (false, false) => pieces.push(last),
            }
        }
        out.extend(pieces);
    }
    out
}

/// A blank run across a line (inside it, or between it and the next line of its row).
struct Gap {
    s: usize,
    e: usize,
    y0: f32,
    y1: f32,
    line: usize,
}

/// The x positions supported by at least three gaps that overlap one another, with their support.
fn gutters(gaps: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut centers: Vec<(usize, usize, usize)> =
        gaps.iter().map(|&(s, e)| ((s + e) / 2, s, e)).collect();
    centers.sort();
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < centers.len() {
        // Gaps whose blanks contain this one's centre.
        let c = centers[i].0;
        let support: Vec<usize> = centers
            .iter()
            .filter(|g| g.1 <= c && c < g.2)
            .map(|g| g.0)
            .collect();
        if support.len() >= 3 {
            let mut s = support.clone();
            s.sort();
            let g = s[s.len() / 2];
            match out.last_mut() {
                Some(prev) if g <= prev.0 + 4 => prev.1 = prev.1.max(support.len()),
                _ => out.push((g, support.len())),
            }
        }
        i += 1;
    }
    out
}

/// The part of a quad between page x `xa` and `xb` (measured along its top and bottom edges).
fn slice(q: &Quad, xa: f32, xb: f32) -> Quad {
    let bb = aabb(q);
    let w = (bb[2] - bb[0]).max(1e-3);
    let (ta, tb) = (
        ((xa - bb[0]) / w).clamp(0.0, 1.0),
        ((xb - bb[0]) / w).clamp(0.0, 1.0),
    );
    let lerp =
        |p: [f32; 2], r: [f32; 2], t: f32| [p[0] + (r[0] - p[0]) * t, p[1] + (r[1] - p[1]) * t];
    [
        lerp(q[0], q[1], ta),
        lerp(q[0], q[1], tb),
        lerp(q[3], q[2], tb),
        lerp(q[3], q[2], ta),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> Quad {
        [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    }

    /// A page with text rows 20 px high every 30 px: "characters" 16 px wide with 4 px between
    /// them, from x 50 to 480 (left column) and 500 to 950 (right column).
    fn two_column_page() -> InkMap {
        InkMap::from_fn(1000, 400, |x, y| {
            let row = y % 30;
            let in_row = (5..25).contains(&row);
            let in_col = (50..482).contains(&x) || (500..950).contains(&x);
            in_row && in_col && (x % 20) < 16
        })
    }

    #[test]
    fn ink_box_is_tight() {
        let ink = two_column_page();
        let b = ink_box(&ink, &[40.0, 0.0, 300.0, 30.0]).unwrap();
        assert_eq!(b, [50.0, 5.0, 296.0, 25.0]);
        assert!(ink_box(&ink, &[960.0, 0.0, 990.0, 30.0]).is_none());
    }

    #[test]
    fn lines_across_a_gutter_are_split() {
        let ink = two_column_page();
        // Rows 0..4 detected across both columns; row 5 detected as two lines.
        let mut quads: Vec<Quad> = (0..5)
            .map(|r| rect(45.0, 30.0 * r as f32, 955.0, 30.0 * r as f32 + 30.0))
            .collect();
        quads.push(rect(45.0, 150.0, 485.0, 180.0));
        quads.push(rect(495.0, 150.0, 955.0, 180.0));
        let out = split_at_gutters(&ink, quads);
        assert_eq!(out.len(), 12, "{out:?}");
        for q in &out {
            let bb = aabb(q);
            // No piece runs across the gutter (478..500).
            assert!(bb[2] <= 500.0 || bb[0] >= 478.0, "{bb:?}");
        }
    }

    #[test]
    fn a_neighbouring_columns_sliver_is_cut_off() {
        let ink = two_column_page();
        let mut quads: Vec<Quad> = (0..4)
            .map(|r| rect(45.0, 30.0 * r as f32, 955.0, 30.0 * r as f32 + 30.0))
            .collect();
        // A right-column line whose box reaches 6 px into the left column's last character.
        quads.push(rect(476.0, 120.0, 955.0, 150.0));
        let out = split_at_gutters(&ink, quads);
        assert_eq!(out.len(), 9, "{out:?}");
        let last = aabb(out.last().unwrap());
        assert!(last[0] > 482.0 && last[0] <= 500.0, "{last:?}");
    }

    #[test]
    fn one_column_lines_are_not_split() {
        // Words of 86 px with 14 px spaces, wide enough to count, that line up by twos here
        // and there.
        let shift = [0, 37, 71, 19, 53, 88];
        let ink = InkMap::from_fn(1000, 180, |x, y| {
            (5..25).contains(&(y % 30)) && (50..950).contains(&x) && (x + shift[y / 30]) % 100 < 86
        });
        let quads: Vec<Quad> = (0..6)
            .map(|r| rect(45.0, 30.0 * r as f32, 955.0, 30.0 * r as f32 + 30.0))
            .collect();
        assert_eq!(split_at_gutters(&ink, quads).len(), 6);
    }
}
