//! Reading order of detected line boxes: columns left to right, each top to bottom.
//!
//! The boxes are taken in rows (by their vertical centres). Consecutive rows are grouped while
//! the union of their boxes leaves a vertical gutter (an x range that no box covers, away from
//! the block's left and right edges, at least `gutter` wide); a full-width line (a title, a
//! caption) ends such a group. A group with a gutter is cut at its gutters into columns, and
//! each column is ordered the same way (so a column may have columns of its own); a row without
//! a gutter is read left to right. This is a recursive XY-cut that prefers columns, so that
//! aligned rows of two columns are not read across.
//!
//! A group with four columns or more is taken for a table and read row by row.
//!
//! Vertical text (a box at least twice as tall as wide, like arXiv's margin stamp) is put after
//! everything else, so that it does not split the body text.

/// The order in which to read `boxes` (`[x0, y0, x1, y1]`, any unit with square pixels). The
/// boxes should be tight around the text (the detector's own boxes overlap their neighbours).
pub fn reading_order(boxes: &[[f32; 4]]) -> Vec<usize> {
    let (vertical, horizontal): (Vec<usize>, Vec<usize>) =
        (0..boxes.len()).partition(|&i| is_vertical(&boxes[i]));
    let mut heights: Vec<f32> = horizontal
        .iter()
        .map(|&i| boxes[i][3] - boxes[i][1])
        .collect();
    let line_h = median(&mut heights).unwrap_or(1.0).max(1e-6);
    let mut out = order_block(boxes, horizontal, line_h, 0);
    let mut vertical = vertical;
    vertical.sort_by(|&a, &b| {
        boxes[a][0]
            .total_cmp(&boxes[b][0])
            .then(boxes[a][1].total_cmp(&boxes[b][1]))
    });
    out.extend(vertical);
    out
}

fn is_vertical(b: &[f32; 4]) -> bool {
    (b[3] - b[1]) >= 2.0 * (b[2] - b[0])
}

fn median(v: &mut [f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[v.len() / 2])
}

fn order_block(b: &[[f32; 4]], idx: Vec<usize>, line_h: f32, depth: usize) -> Vec<usize> {
    if idx.len() <= 1 {
        return idx;
    }
    let gutter = 0.6 * line_h;
    let rows = rows_of(b, idx, line_h);
    let mut out = Vec::new();
    let mut group: Vec<usize> = Vec::new();
    let mut group_rows = 0;
    let flush = |group: &mut Vec<usize>, rows: usize, out: &mut Vec<usize>| {
        if group.is_empty() {
            return;
        }
        let gaps = gutters(b, group, gutter);
        if gaps.is_empty() || depth >= 12 {
            // A single row (or too deep): left to right.
            let mut g = std::mem::take(group);
            if rows > 1 {
                g.sort_by(|&p, &q| {
                    center_y(&b[p])
                        .total_cmp(&center_y(&b[q]))
                        .then(b[p][0].total_cmp(&b[q][0]))
                });
            } else {
                g.sort_by(|&p, &q| b[p][0].total_cmp(&b[q][0]));
            }
            out.extend(g);
            return;
        }
        // Four columns or more: a table, read row by row.
        if gaps.len() >= 3 {
            let mut g = std::mem::take(group);
            g.sort_by(|&p, &q| center_y(&b[p]).total_cmp(&center_y(&b[q])));
            for row in rows_of(b, g, line_h) {
                let mut row = row;
                row.sort_by(|&p, &q| b[p][0].total_cmp(&b[q][0]));
                out.extend(row);
            }
            return;
        }
        // Cut into columns at the gutters and order each column on its own.
        let mut columns: Vec<Vec<usize>> = vec![Vec::new(); gaps.len() + 1];
        for &i in group.iter() {
            let cx = (b[i][0] + b[i][2]) / 2.0;
            let k = gaps.iter().take_while(|g| g.1 <= cx).count();
            columns[k].push(i);
        }
        group.clear();
        for col in columns {
            out.extend(order_block(b, col, line_h, depth + 1));
        }
    };
    for row in rows {
        if group.is_empty() {
            group.extend(&row);
            group_rows = 1;
            continue;
        }
        let mut merged = group.clone();
        merged.extend(&row);
        if !gutters(b, &merged, gutter).is_empty() {
            group = merged;
            group_rows += 1;
        } else {
            flush(&mut group, group_rows, &mut out);
            group.extend(&row);
            group_rows = 1;
        }
    }
    flush(&mut group, group_rows, &mut out);
    out
}

fn center_y(b: &[f32; 4]) -> f32 {
    (b[1] + b[3]) / 2.0
}

/// Rows: boxes sorted by vertical centre, a box joining the row when its centre is within half
/// a line of the row's first box.
fn rows_of(b: &[[f32; 4]], mut idx: Vec<usize>, line_h: f32) -> Vec<Vec<usize>> {
    idx.sort_by(|&p, &q| center_y(&b[p]).total_cmp(&center_y(&b[q])));
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut row_y = f32::MIN;
    for i in idx {
        let cy = center_y(&b[i]);
        let h = (b[i][3] - b[i][1]).min(line_h);
        match out.last_mut() {
            Some(row) if (cy - row_y).abs() < 0.5 * h.max(0.5 * line_h) => row.push(i),
            _ => {
                out.push(vec![i]);
                row_y = cy;
            }
        }
    }
    out
}

/// The gutters of a group: x ranges at least `min` wide between its boxes that none of its
/// boxes covers. (Space on the left of its leftmost box or right of its rightmost one is margin.)
fn gutters(b: &[[f32; 4]], idx: &[usize], min: f32) -> Vec<(f32, f32)> {
    let mut spans: Vec<(f32, f32)> = idx.iter().map(|&i| (b[i][0], b[i][2])).collect();
    spans.sort_by(|p, q| p.0.total_cmp(&q.0));
    let mut out = Vec::new();
    let mut reach = f32::MIN;
    for (s, e) in spans {
        if reach > f32::MIN && s - reach >= min {
            out.push((reach, s));
        }
        reach = reach.max(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line of text `h` high from x0 to x1 at top y (boxes as the detector gives them).
    fn line(x0: f32, x1: f32, y: f32) -> [f32; 4] {
        [x0, y, x1, y + 30.0]
    }

    #[test]
    fn one_column_is_top_to_bottom() {
        let boxes = vec![
            line(100.0, 1100.0, 300.0),
            line(100.0, 1100.0, 200.0),
            line(100.0, 700.0, 250.0),
        ];
        assert_eq!(reading_order(&boxes), vec![1, 2, 0]);
    }

    #[test]
    fn two_columns_with_aligned_rows_are_read_column_by_column() {
        let mut boxes = Vec::new();
        // A full-width title, then two columns of five aligned lines each.
        boxes.push(line(300.0, 900.0, 100.0));
        for r in 0..5 {
            let y = 200.0 + 25.0 * r as f32;
            boxes.push(line(100.0, 590.0, y)); // left
            boxes.push(line(640.0, 1130.0, y)); // right
        }
        // A full-width caption under the columns, then one more two-column row.
        boxes.push(line(100.0, 1130.0, 400.0));
        boxes.push(line(100.0, 590.0, 450.0));
        boxes.push(line(640.0, 1130.0, 450.0));
        let order = reading_order(&boxes);
        assert_eq!(order, vec![0, 1, 3, 5, 7, 9, 2, 4, 6, 8, 10, 11, 12, 13]);
    }

    #[test]
    fn two_columns_with_offset_rows_and_a_heading() {
        let mut boxes = Vec::new();
        for r in 0..4 {
            boxes.push(line(100.0, 590.0, 200.0 + 25.0 * r as f32));
        }
        // The right column starts with a short heading and runs at other baselines.
        boxes.push(line(640.0, 800.0, 190.0));
        for r in 0..4 {
            boxes.push(line(640.0, 1130.0, 222.0 + 25.0 * r as f32));
        }
        assert_eq!(reading_order(&boxes), vec![0, 1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn boxes_on_one_row_are_left_to_right() {
        let boxes = vec![
            line(700.0, 1000.0, 100.0),
            line(100.0, 600.0, 102.0),
            line(1050.0, 1100.0, 98.0),
        ];
        assert_eq!(reading_order(&boxes), vec![1, 0, 2]);
    }

    #[test]
    fn equation_number_stays_with_its_row_in_one_column() {
        let boxes = vec![
            line(100.0, 1100.0, 100.0),
            line(400.0, 800.0, 140.0),
            line(1050.0, 1100.0, 140.0),
            line(100.0, 1100.0, 180.0),
        ];
        assert_eq!(reading_order(&boxes), vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_table_is_read_row_by_row() {
        let mut boxes = Vec::new();
        for r in 0..4 {
            let y = 100.0 + 40.0 * r as f32;
            for c in 0..5 {
                let x = 100.0 + 200.0 * c as f32;
                boxes.push(line(x, x + 120.0, y));
            }
        }
        assert_eq!(reading_order(&boxes), (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn vertical_margin_text_goes_last() {
        let boxes = vec![
            [20.0, 200.0, 60.0, 900.0],
            line(100.0, 1100.0, 300.0),
            line(100.0, 1100.0, 400.0),
        ];
        assert_eq!(reading_order(&boxes), vec![1, 2, 0]);
    }

    #[test]
    fn empty_and_single() {
        assert!(reading_order(&[]).is_empty());
        assert_eq!(reading_order(&[line(0.0, 10.0, 0.0)]), vec![0]);
    }
}
