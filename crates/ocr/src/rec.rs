//! Line crops, the recognizer's and the orientation classifier's inputs, and CTC decoding.

use image::imageops::FilterType;
use image::{Rgb, RgbImage};

use super::det::{Quad, dist};

/// Cut the quad out of the page as an upright image (bilinear sampling, edges replicated).
/// Crops at least 1.5 times as tall as wide are turned a quarter (counter-clockwise), as
/// RapidOCR does; the second value says whether it was.
pub fn crop_quad(img: &RgbImage, q: &Quad) -> (RgbImage, bool) {
    let w = dist(q[0], q[1]).max(dist(q[2], q[3])) as u32;
    let h = dist(q[0], q[3]).max(dist(q[1], q[2])) as u32;
    let (w, h) = (w.max(1), h.max(1));
    let (ux, uy) = (
        (q[1][0] - q[0][0]) / w as f32,
        (q[1][1] - q[0][1]) / w as f32,
    );
    let (vx, vy) = (
        (q[3][0] - q[0][0]) / h as f32,
        (q[3][1] - q[0][1]) / h as f32,
    );
    let axis_aligned = uy == 0.0 && vx == 0.0 && ux == 1.0 && vy == 1.0;
    let out = if axis_aligned {
        let (x0, y0) = (q[0][0] as u32, q[0][1] as u32);
        let w = w.min(img.width().saturating_sub(x0)).max(1);
        let h = h.min(img.height().saturating_sub(y0)).max(1);
        image::imageops::crop_imm(img, x0.min(img.width() - 1), y0.min(img.height() - 1), w, h)
            .to_image()
    } else {
        let mut out = RgbImage::new(w, h);
        for (x, y, px) in out.enumerate_pixels_mut() {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            let sx = q[0][0] + ux * fx + vx * fy - 0.5;
            let sy = q[0][1] + uy * fx + vy * fy - 0.5;
            *px = bilinear(img, sx, sy);
        }
        out
    };
    if out.height() as f32 / out.width() as f32 >= 1.5 {
        (image::imageops::rotate270(&out), true)
    } else {
        (out, false)
    }
}

fn bilinear(img: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: i64, yi: i64| img.get_pixel(xi.clamp(0, w - 1) as u32, yi.clamp(0, h - 1) as u32);
    let (xi, yi) = (x0 as i64, y0 as i64);
    let (a, b, c, d) = (
        at(xi, yi),
        at(xi + 1, yi),
        at(xi, yi + 1),
        at(xi + 1, yi + 1),
    );
    let mut out = [0u8; 3];
    for k in 0..3 {
        let top = a[k] as f32 * (1.0 - fx) + b[k] as f32 * fx;
        let bottom = c[k] as f32 * (1.0 - fx) + d[k] as f32 * fx;
        out[k] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    Rgb(out)
}

/// Write `img` resized to height `height` (keeping its aspect, at most `max_width` wide) into a
/// 3 x `height` x `width` slot, BGR, normalized to [-1, 1], padded on the right with 0.
pub fn write_normalized(img: &RgbImage, height: u32, width: u32, out: &mut [f32]) {
    debug_assert_eq!(out.len(), (3 * height * width) as usize);
    let ratio = img.width() as f32 / img.height() as f32;
    let resized_w = ((height as f32 * ratio).ceil() as u32).clamp(1, width);
    let resized = if std::env::var_os("OCR_AA").is_some() {
        image::imageops::resize(img, resized_w, height, FilterType::Triangle)
    } else {
        resize_linear(img, resized_w, height)
    };
    let plane = (height * width) as usize;
    out.fill(0.0);
    for (x, y, px) in resized.enumerate_pixels() {
        let i = (y * width + x) as usize;
        out[i] = px[2] as f32 / 127.5 - 1.0;
        out[plane + i] = px[1] as f32 / 127.5 - 1.0;
        out[2 * plane + i] = px[0] as f32 / 127.5 - 1.0;
    }
}

/// Bilinear resize as OpenCV's `INTER_LINEAR` does it (no smoothing when shrinking), which is
/// what the models were trained with.
pub fn resize_linear(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    let (sx, sy) = (
        img.width() as f32 / w as f32,
        img.height() as f32 / h as f32,
    );
    let mut out = RgbImage::new(w, h);
    for (x, y, px) in out.enumerate_pixels_mut() {
        let fx = ((x as f32 + 0.5) * sx - 0.5).max(0.0);
        let fy = ((y as f32 + 0.5) * sy - 0.5).max(0.0);
        *px = bilinear(img, fx, fy);
    }
    out
}

/// The recognizer's alphabet: index 0 is the CTC blank, then the model's characters, then a
/// space when the model uses one (PP-OCR's `use_space_char`).
#[derive(Debug, Clone)]
pub struct Charset {
    chars: Vec<String>,
}

impl Charset {
    /// From the model's `character` metadata (one character a line).
    pub fn from_metadata(list: &str, use_space_char: bool) -> Charset {
        let mut chars = vec![String::new()];
        chars.extend(list.lines().map(|l| l.trim_end_matches('\r').to_string()));
        if use_space_char {
            chars.push(" ".to_string());
        }
        Charset { chars }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }
}

/// Greedy CTC decoding of one sequence of `steps` x `classes` probabilities: take the best class
/// at each step, merge repeats, drop blanks (class 0). The confidence is the mean probability of
/// the kept steps (0 when nothing is kept).
///
/// When the alphabet ends with a space, a space is also put between two narrow (not Chinese)
/// characters if some step between them gave the space at least `space_thresh`, though another
/// class won there.
pub fn ctc_greedy(
    probs: &[f32],
    classes: usize,
    charset: &Charset,
    space_thresh: f32,
) -> (String, f32) {
    let space = charset
        .chars
        .iter()
        .rposition(|c| c == " ")
        .filter(|&i| i > 0);
    let mut text = String::new();
    let (mut sum, mut n) = (0f32, 0usize);
    let mut prev = usize::MAX;
    let mut gap_space = 0f32;
    for step in probs.chunks_exact(classes) {
        let (best, p) =
            step.iter().enumerate().fold(
                (0usize, f32::MIN),
                |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
            );
        if best != 0 && best != prev {
            if let Some(c) = charset.chars.get(best) {
                let after_narrow = text
                    .chars()
                    .last()
                    .is_some_and(|l| l != ' ' && !super::join::is_wide(l));
                let narrow = c
                    .chars()
                    .next()
                    .is_some_and(|f| f != ' ' && !super::join::is_wide(f));
                if gap_space >= space_thresh && after_narrow && narrow {
                    text.push(' ');
                }
                text.push_str(c);
            }
            sum += p;
            n += 1;
            gap_space = 0.0;
        } else if let Some(s) = space
            && prev != usize::MAX
        {
            gap_space = gap_space.max(step[s]);
        }
        prev = best;
    }
    (text, if n == 0 { 0.0 } else { sum / n as f32 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(seq: &[usize], classes: usize, p: f32) -> Vec<f32> {
        let mut out = vec![(1.0 - p) / (classes - 1) as f32; seq.len() * classes];
        for (t, &c) in seq.iter().enumerate() {
            out[t * classes + c] = p;
        }
        out
    }

    #[test]
    fn charset_has_blank_first_and_space_last() {
        let cs = Charset::from_metadata("a\nb\n中\n", true);
        assert_eq!(cs.len(), 5);
        assert_eq!(cs.chars[0], "");
        assert_eq!(cs.chars[3], "中");
        assert_eq!(cs.chars[4], " ");
    }

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        let cs = Charset::from_metadata("a\nb\nl\n中\n", true);
        // classes: 0 blank, 1 a, 2 b, 3 l, 4 中, 5 space
        let seq = [0, 1, 1, 0, 3, 3, 0, 3, 5, 4, 4, 0, 2];
        let (text, conf) = ctc_greedy(&one_hot(&seq, 6, 0.9), 6, &cs, 1.0);
        assert_eq!(text, "all 中b");
        assert!((conf - 0.9).abs() < 1e-5);
    }

    #[test]
    fn ctc_of_only_blanks_is_empty_with_zero_confidence() {
        let cs = Charset::from_metadata("a\n", true);
        let (text, conf) = ctc_greedy(&one_hot(&[0, 0, 0], 3, 0.99), 3, &cs, 1.0);
        assert_eq!(text, "");
        assert_eq!(conf, 0.0);
    }

    #[test]
    fn ctc_confidence_is_mean_of_kept_steps() {
        let cs = Charset::from_metadata("x\ny\n", false);
        let mut probs = one_hot(&[1, 0, 2], 3, 0.8);
        probs[2 * 3 + 2] = 0.6;
        let (text, conf) = ctc_greedy(&probs, 3, &cs, 1.0);
        assert_eq!(text, "xy");
        assert!((conf - 0.7).abs() < 1e-5);
    }

    #[test]
    fn ctc_puts_back_a_likely_space_between_latin_letters_only() {
        let cs = Charset::from_metadata("a\nb\n中\n文\n", true);
        // classes: 0 blank, 1 a, 2 b, 3 中, 4 文, 5 space
        let seq = [1, 0, 0, 2, 0, 3, 0, 4];
        let mut probs = one_hot(&seq, 6, 0.9);
        // Between a and b the space came second with 0.2; between 中 and 文 too.
        for t in [1, 6] {
            probs[t * 6] = 0.7;
            probs[t * 6 + 5] = 0.2;
        }
        let (text, _) = ctc_greedy(&probs, 6, &cs, 0.1);
        assert_eq!(text, "a b中文");
        let (text, _) = ctc_greedy(&probs, 6, &cs, 0.5);
        assert_eq!(text, "ab中文");
    }

    #[test]
    fn crop_of_tall_box_is_turned() {
        let img = RgbImage::from_pixel(100, 100, Rgb([255, 255, 255]));
        let q = [[10.0, 10.0], [20.0, 10.0], [20.0, 60.0], [10.0, 60.0]];
        let (c, turned) = crop_quad(&img, &q);
        assert_eq!((c.width(), c.height(), turned), (50, 10, true));
    }

    #[test]
    fn normalized_slot_is_padded_with_zero() {
        let img = RgbImage::from_pixel(20, 10, Rgb([255, 0, 0]));
        let mut out = vec![9.0; 3 * 48 * 320];
        write_normalized(&img, 48, 320, &mut out);
        // Red in RGB is the last plane in BGR.
        assert!((out[2 * 48 * 320] - 1.0).abs() < 1e-5);
        assert!((out[0] + 1.0).abs() < 1e-5);
        assert_eq!(out[319], 0.0);
    }
}
