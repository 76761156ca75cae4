//! Joining lines (in reading order) into paragraphs.

use super::Line;

/// Lines joined into a paragraph; `boxes` are its lines' boxes, for highlighting it on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Paragraph {
    pub text: String,
    /// Mean of the lines' confidences.
    pub confidence: f32,
    /// `[x0, y0, x1, y1]` of each line, fractions of the page width and height.
    pub boxes: Vec<[f32; 4]>,
}

impl Paragraph {
    /// The union of the lines' boxes.
    pub fn bbox(&self) -> [f32; 4] {
        self.boxes
            .iter()
            .fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
    }
}

/// Join lines given in reading order into paragraphs. A new paragraph starts where the vertical
/// gap to the previous line is clearly larger than the page's usual line spacing, the text size changes, the line is indented against the
/// paragraph, or the previous line stopped well short of the paragraph's right edge; a paragraph
/// carries on into the next column when its last line is full and does not end a sentence.
/// Chinese and Japanese text is joined without spaces, other text with one space, and words
/// hyphenated at a line end are joined ("normal-" + "ization" gives "normalization").
pub fn join_lines(lines: &[Line]) -> Vec<Paragraph> {
    let lines: Vec<&Line> = lines.iter().filter(|l| !l.text.trim().is_empty()).collect();
    let spacing = line_spacing(&lines);
    let mut out: Vec<Paragraph> = Vec::new();
    let mut current: Vec<&Line> = Vec::new();
    for line in lines {
        if !current.is_empty() && breaks_before(&current, line, spacing) {
            out.push(paragraph(&current));
            current.clear();
        }
        current.push(line);
    }
    if !current.is_empty() {
        out.push(paragraph(&current));
    }
    out
}

fn height(l: &Line) -> f32 {
    l.bbox[3] - l.bbox[1]
}

fn width(l: &Line) -> f32 {
    l.bbox[2] - l.bbox[0]
}

/// The average width of a character of the line (page-width fractions).
fn char_width(l: &Line) -> f32 {
    let n: f32 = l
        .text
        .trim()
        .chars()
        .map(|c| if is_wide(c) { 2.0 } else { 1.0 })
        .sum();
    if n == 0.0 { 0.0 } else { width(l) / n }
}

/// The page's usual blank between a line and the next one in the same column, as a fraction of
/// the line height (typeset Chinese leaves more than English).
fn line_spacing(lines: &[&Line]) -> f32 {
    let mut gaps: Vec<f32> = lines
        .windows(2)
        .filter_map(|w| {
            let (a, b) = (w[0], w[1]);
            let h = height(a).max(height(b));
            let gap = b.bbox[1] - a.bbox[3];
            let same_column = b.bbox[0] < a.bbox[2] && a.bbox[0] < b.bbox[2];
            (same_column && h > 0.0 && gap > -0.2 * h && gap < 2.0 * h).then_some(gap / h)
        })
        .collect();
    gaps.sort_by(f32::total_cmp);
    // The lower median: paragraph breaks are the outliers above it.
    if gaps.is_empty() {
        0.3
    } else {
        gaps[(gaps.len() - 1) / 2].max(0.0)
    }
}

fn breaks_before(par: &[&Line], next: &Line, spacing: f32) -> bool {
    let prev = par[par.len() - 1];
    let mut hs: Vec<f32> = par.iter().map(|l| height(l)).collect();
    hs.sort_by(f32::total_cmp);
    let h = hs[hs.len() / 2];
    // Text of another size: a heading, a caption, a footnote.
    let (hn, hp) = (height(next), height(prev));
    if hn > 1.45 * h || hn < h / 1.45 || hp > 1.45 * h {
        return true;
    }
    let mut cws: Vec<f32> = par
        .iter()
        .map(|l| char_width(l))
        .chain([char_width(next)])
        .collect();
    cws.sort_by(f32::total_cmp);
    let cw = cws[cws.len() / 2];
    let overlaps_x = |l: &Line| next.bbox[0] < l.bbox[2] && l.bbox[0] < next.bbox[2];
    let below = next.bbox[1] > prev.bbox[1] + 0.5 * h;
    if !(below && overlaps_x(prev)) {
        // Another column (or out of order): carry on only mid-sentence from a full line.
        let same_col: Vec<&&Line> = par
            .iter()
            .filter(|l| l.bbox[0] < prev.bbox[2] && prev.bbox[0] < l.bbox[2])
            .collect();
        let right = same_col.iter().map(|l| l.bbox[2]).fold(f32::MIN, f32::max);
        let full = prev.bbox[2] >= right - 2.0 * cw;
        return !(full && next.bbox[1] < prev.bbox[1] && !ends_sentence(&prev.text));
    }
    // The paragraph's edges in this column.
    let same_col: Vec<&&Line> = par.iter().filter(|l| overlaps_x(l)).collect();
    let left = same_col.iter().map(|l| l.bbox[0]).fold(f32::MAX, f32::min);
    let right = same_col
        .iter()
        .map(|l| l.bbox[2])
        .fold(f32::MIN, f32::max)
        .max(next.bbox[2]);
    // A blank line's worth more than the usual spacing.
    let gap = next.bbox[1] - prev.bbox[3];
    if gap > (spacing + 0.45) * h {
        return true;
    }
    // The first line of a paragraph is indented (by about two characters in Chinese, one em in
    // English); a hanging second line is not.
    if next.bbox[0] - left > 1.2 * cw {
        return true;
    }
    // The previous line stopped short: it ended its paragraph.
    if prev.bbox[2] < right - 3.0 * cw.max(0.25 * h) && ends_sentence(&prev.text) {
        return true;
    }
    false
}

fn ends_sentence(text: &str) -> bool {
    let t = text.trim_end();
    t.ends_with(['.', '。', '!', '！', '?', '？', ':', '：', ';', '；'])
        || t.ends_with(".)")
        || t.ends_with(".\u{201d}")
        || t.ends_with("。”")
        || t.ends_with("”")
}

fn paragraph(lines: &[&Line]) -> Paragraph {
    let mut text = String::new();
    for l in lines {
        append_line(&mut text, l.text.trim());
    }
    let confidence = lines.iter().map(|l| l.confidence).sum::<f32>() / lines.len() as f32;
    Paragraph {
        text,
        confidence,
        boxes: lines.iter().map(|l| l.bbox).collect(),
    }
}

/// Append a line to a paragraph's text: no space around Chinese (and other wide) characters,
/// one space between other words, and line-end hyphens of split words removed.
pub fn append_line(text: &mut String, line: &str) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    let Some(last) = text.chars().last() else {
        text.push_str(line);
        return;
    };
    let first = line.chars().next().unwrap();
    if last == '-' && first.is_lowercase() {
        let mut before = text.chars().rev().skip(1);
        if before.next().is_some_and(|c| c.is_alphabetic()) {
            text.pop();
            text.push_str(line);
            return;
        }
    }
    if last == '-' || last == '/' || is_wide(last) || is_wide(first) {
        text.push_str(line);
    } else {
        text.push(' ');
        text.push_str(line);
    }
}

/// Chinese, Japanese and Korean characters and their full-width punctuation.
pub fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x20000..=0x2FFFD | 0x30000..=0x3FFFD)
        || matches!(c, '“' | '”' | '‘' | '’' | '—' | '…')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line of `n` characters' width starting at x0 (in character widths of 0.01 of the page),
    /// on row `row` (rows 0.025 apart, lines 0.02 high).
    fn line(text: &str, x0: f32, x1: f32, row: f32) -> Line {
        Line {
            text: text.to_string(),
            confidence: 0.9,
            bbox: [x0, 0.1 + 0.025 * row, x1, 0.12 + 0.025 * row],
        }
    }

    #[test]
    fn english_lines_join_with_spaces_and_dehyphenate() {
        let lines = vec![
            line("Layer normal-", 0.1, 0.9, 0.0),
            line("ization is used in the trans-", 0.1, 0.9, 1.0),
            line("former and in retrieval-", 0.1, 0.9, 2.0),
            line("Augmented models.", 0.1, 0.4, 3.0),
        ];
        let p = join_lines(&lines);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(
            p[0].text,
            "Layer normalization is used in the transformer and in retrieval-Augmented models."
        );
        assert_eq!(p[0].boxes.len(), 4);
    }

    #[test]
    fn dehyphenation_keeps_real_dashes() {
        let mut t = String::from("pages 3-");
        append_line(&mut t, "5 of the book");
        assert_eq!(t, "pages 3-5 of the book");
        let mut t = String::from("the word -");
        append_line(&mut t, "alone");
        assert_eq!(t, "the word -alone");
    }

    #[test]
    fn chinese_lines_join_without_spaces() {
        let lines = vec![
            line("大语言模型的研究在学术界和工业界", 0.1, 0.9, 0.0),
            line("都取得了很大进展，例如 ChatGPT", 0.1, 0.9, 1.0),
            line("的发布。", 0.1, 0.2, 2.0),
        ];
        let p = join_lines(&lines);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(
            p[0].text,
            "大语言模型的研究在学术界和工业界都取得了很大进展，例如 ChatGPT的发布。"
        );
    }

    #[test]
    fn indentation_and_short_lines_start_paragraphs() {
        let lines = vec![
            line(
                "    第一段的第一行，首行缩进两个字符的宽度。",
                0.14,
                0.9,
                0.0,
            ),
            line(
                "第一段的第二行文字一直写到这一栏的最右边为止",
                0.1,
                0.9,
                1.0,
            ),
            line("第一段结束。", 0.1, 0.3, 2.0),
            line("第二段的第一行，首行缩进两个字符的宽度。", 0.14, 0.9, 3.0),
            line("第二段的第二行。", 0.1, 0.4, 4.0),
        ];
        let p = join_lines(&lines);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].text.ends_with("第一段结束。"));
        assert!(p[1].text.starts_with("第二段"));
    }

    #[test]
    fn vertical_gap_starts_a_paragraph() {
        let lines = vec![
            line(
                "The end of a paragraph that runs to the right edge of",
                0.1,
                0.9,
                0.0,
            ),
            line("the column and then stops.", 0.1, 0.9, 1.0),
            line(
                "A new paragraph after a blank line without any indentation",
                0.1,
                0.9,
                2.6,
            ),
        ];
        let p = join_lines(&lines);
        assert_eq!(p.len(), 2, "{p:?}");
    }

    #[test]
    fn wide_chinese_line_spacing_is_not_a_paragraph_break() {
        // Lines 0.02 high, 0.035 apart (Chinese leading), one paragraph, then a blank line.
        let l = |t: &str, x0: f32, y: f32| Line {
            text: t.into(),
            confidence: 0.9,
            bbox: [x0, y, 0.9, y + 0.02],
        };
        let lines = vec![
            l("第一行文字一直写到这一栏的最右边为止没有结束", 0.1, 0.100),
            l("第二行文字一直写到这一栏的最右边为止没有结束", 0.1, 0.135),
            l("第三行文字一直写到这一栏的最右边为止没有结束", 0.1, 0.170),
            l("空一行以后的新段落一直写到这一栏的最右边为止", 0.1, 0.225),
        ];
        let p = join_lines(&lines);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].boxes.len(), 3);
    }

    #[test]
    fn headings_of_another_size_stand_alone() {
        let mut heading = line("1 Introduction", 0.1, 0.3, 0.0);
        heading.bbox[3] += 0.012;
        let lines = vec![
            heading,
            line(
                "Pre-trained neural language models have been shown",
                0.1,
                0.9,
                1.5,
            ),
        ];
        assert_eq!(join_lines(&lines).len(), 2);
    }

    #[test]
    fn paragraph_continues_into_the_next_column_mid_sentence() {
        let lines = vec![
            line(
                "a sentence that runs on to the bottom of the left",
                0.05,
                0.45,
                30.0,
            ),
            line(
                "column and continues at the top of the right one.",
                0.55,
                0.95,
                0.0,
            ),
            line(
                "Next paragraph starts here with an indent of one em",
                0.57,
                0.95,
                1.0,
            ),
        ];
        let p = join_lines(&lines);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].text.contains("left column and"));
    }

    #[test]
    fn paragraph_ends_at_column_end_after_a_sentence() {
        let lines = vec![
            line(
                "the last sentence of the paragraph ends right here.",
                0.05,
                0.45,
                30.0,
            ),
            line(
                "Another paragraph at the top of the right column",
                0.55,
                0.95,
                0.0,
            ),
        ];
        assert_eq!(join_lines(&lines).len(), 2);
    }

    #[test]
    fn bbox_is_union() {
        let p = join_lines(&[line("a", 0.1, 0.5, 0.0), line("b", 0.1, 0.6, 1.0)]);
        let b = p[0].bbox();
        assert!(
            (b[0] - 0.1).abs() < 1e-6 && (b[2] - 0.6).abs() < 1e-6 && (b[3] - 0.145).abs() < 1e-6
        );
    }
}
