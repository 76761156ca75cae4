//! Text clean-up: Unicode normalisation, de-hyphenation, running headers and footers,
//! paragraphs and section headings, and the reference list (which only misleads retrieval:
//! it names other papers' titles).

use super::{DocKind, Document, Page, Paragraph};
use crate::text::normalize;

pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}' | '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FFEF}')
}

/// Builds a PDF's document from pdfium's raw page text.
pub fn pdf(stem: &str, metadata_title: Option<&str>, raw_pages: &[String]) -> Document {
    let pages: Vec<Vec<String>> = raw_pages
        .iter()
        .map(|raw| {
            normalize(&raw.replace('\r', "\n"))
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !is_margin_noise(l))
                .map(String::from)
                .collect()
        })
        .collect();
    let pages = drop_running_lines(pages);
    let title = metadata_title
        .map(normalize)
        .filter(|t| plausible_title(t))
        .or_else(|| pages.first().and_then(|lines| title_from_first_page(lines)))
        .unwrap_or_else(|| stem.to_string());

    let mut section: Option<String> = None;
    let mut in_references = false;
    let pages = pages
        .iter()
        .enumerate()
        .map(|(i, lines)| Page {
            number: Some(i as u32 + 1),
            paragraphs: paragraphs(lines, &mut section, &mut in_references),
        })
        .collect();
    Document {
        kind: DocKind::Pdf,
        title,
        pages,
        scanned: Vec::new(),
    }
}

/// Builds a note's document: Markdown headings become sections, blank lines end paragraphs.
pub fn note(kind: DocKind, stem: &str, text: &str) -> Document {
    let text = normalize(text);
    let mut title = None;
    let mut section: Option<String> = None;
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    let flush =
        |current: &mut String, section: &Option<String>, paragraphs: &mut Vec<Paragraph>| {
            if !current.trim().is_empty() {
                paragraphs.push(Paragraph {
                    section: section.clone(),
                    text: current.trim().to_string(),
                });
            }
            current.clear();
        };
    let mut in_code = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if kind == DocKind::Markdown && trimmed.starts_with("```") {
            in_code = !in_code;
        }
        let heading = (kind == DocKind::Markdown && !in_code)
            .then(|| trimmed.strip_prefix('#'))
            .flatten()
            .map(|h| h.trim_start_matches('#').trim());
        if let Some(heading) = heading.filter(|h| !h.is_empty()) {
            flush(&mut current, &section, &mut paragraphs);
            title.get_or_insert_with(|| heading.to_string());
            section = Some(heading.to_string());
        } else if trimmed.is_empty() && !in_code {
            flush(&mut current, &section, &mut paragraphs);
        } else {
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(line);
        }
    }
    flush(&mut current, &section, &mut paragraphs);
    Document {
        kind,
        title: title.unwrap_or_else(|| stem.to_string()),
        pages: vec![Page {
            number: None,
            paragraphs,
        }],
        scanned: Vec::new(),
    }
}

/// Page numbers and arXiv side stamps.
fn is_margin_noise(line: &str) -> bool {
    let digits_only = line
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    digits_only || (line.starts_with("arXiv:") && line.len() < 60)
}

/// The shape of a line with its numbers blanked, so "Page 3" and "Page 4" count as one.
fn line_shape(line: &str) -> String {
    line.chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// Drops lines near the top or bottom of a page whose shape recurs on many pages: running
/// heads, journal names, footers.
fn drop_running_lines(pages: Vec<Vec<String>>) -> Vec<Vec<String>> {
    const EDGE: usize = 3;
    if pages.len() < 4 {
        return pages;
    }
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for lines in &pages {
        let mut seen = std::collections::HashSet::new();
        let n = lines.len();
        for (i, line) in lines.iter().enumerate() {
            if (i < EDGE || i + EDGE >= n) && seen.insert(line_shape(line)) {
                *counts.entry(line_shape(line)).or_default() += 1;
            }
        }
    }
    let threshold = (pages.len() * 2 / 5).max(3);
    pages
        .into_iter()
        .map(|lines| {
            let n = lines.len();
            lines
                .into_iter()
                .enumerate()
                .filter(|(i, line)| {
                    !((*i < EDGE || i + EDGE >= n)
                        && counts.get(&line_shape(line)).copied().unwrap_or(0) >= threshold)
                })
                .map(|(_, line)| line)
                .collect()
        })
        .collect()
}

/// The first plausible line of page 1, joined with the next when the title plainly goes on
/// ("Direct Preference Optimization:" / "Your Language Model is Secretly a Reward Model").
fn title_from_first_page(lines: &[String]) -> Option<String> {
    let at = lines.iter().position(|l| plausible_title(l))?;
    let mut title = lines[at].clone();
    let last_word = title.split_whitespace().last().unwrap_or("").to_lowercase();
    let continues =
        title.ends_with([':', '-', ',']) || TITLE_CONNECTORS.contains(&last_word.as_str());
    if let Some(next) = lines
        .get(at + 1)
        .filter(|n| continues && n.chars().count() <= 100 && plausible_title(n))
    {
        join_line(&mut title, next);
    }
    Some(title)
}

/// Words a title line does not end on unless the title goes on.
const TITLE_CONNECTORS: &[&str] = &[
    "from", "of", "for", "and", "with", "to", "in", "on", "via", "the", "a", "by",
];

fn plausible_title(line: &str) -> bool {
    let words = line.split_whitespace().count();
    let chars = line.chars().count();
    let cjk = line.chars().filter(|&c| is_cjk(c)).count();
    (cjk >= 4 || words >= 2)
        && chars <= 200
        && !line.starts_with("arXiv")
        && !line.to_ascii_lowercase().starts_with("microsoft word")
        && !line.contains('@')
        && line.chars().any(char::is_alphabetic)
}

fn is_sentence_end(c: char) -> bool {
    // Full-width ！？： were folded to ASCII by NFKC already.
    matches!(c, '.' | '!' | '?' | ':' | ';' | '。')
}

/// Known unnumbered section names, compared in lower case.
const NAMED_SECTIONS: &[&str] = &[
    "abstract",
    "introduction",
    "related work",
    "background",
    "conclusion",
    "conclusions",
    "discussion",
    "acknowledgements",
    "acknowledgments",
    "references",
    "bibliography",
    "appendix",
    "摘要",
    "引言",
    "参考文献",
    "致谢",
];

/// "3.2 Scaled Dot-Product Attention", "A Proofs", "Abstract", "2.1 模型结构".
fn heading(line: &str) -> Option<&str> {
    let chars = line.chars().count();
    if chars > 90 || line.ends_with([',', ';', '.', '。', ',']) {
        return None;
    }
    let lower = line.to_lowercase();
    let bare = lower.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ');
    if NAMED_SECTIONS.contains(&bare) {
        return Some(line);
    }
    let (label, rest) = line.split_once(' ')?;
    let numbered = !label.is_empty()
        && label
            .trim_end_matches('.')
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
        && label.len() <= 8;
    // "A", "B.2", "C.1.3" (appendices), but not "S." (an author's initial in a reference).
    let lettered = label.starts_with(|c: char| c.is_ascii_uppercase())
        && (label.len() == 1
            || label[1..].strip_prefix('.').is_some_and(|rest| {
                !rest.is_empty()
                    && rest
                        .split('.')
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            }));
    if !(numbered || lettered) {
        return None;
    }
    let rest = rest.trim();
    let mut rc = rest.chars();
    let starts_like_title = match (rc.next(), rc.next()) {
        (Some(a), Some(b)) => {
            (a.is_uppercase() && (b.is_lowercase() || b.is_uppercase())) || is_cjk(a)
        }
        _ => false,
    };
    let words = rest.split_whitespace().count();
    (starts_like_title && words <= 12 && rest.chars().filter(|c| c.is_alphabetic()).count() >= 3)
        .then_some(line)
}

fn starts_references(heading: &str) -> bool {
    let lower = heading.to_lowercase();
    let bare = lower.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ');
    matches!(bare, "references" | "bibliography" | "参考文献")
}

fn starts_appendix(heading: &str) -> bool {
    let lower = heading.to_lowercase();
    lower.starts_with("appendix")
        || lower.starts_with("supplementary")
        || lower.starts_with("附录")
        || heading.starts_with(|c: char| c.is_ascii_uppercase())
            && heading
                .as_bytes()
                .get(1)
                .is_some_and(|&b| b == b' ' || b == b'.')
}

/// Joins a page's lines into paragraphs, tracking the section heading and skipping the
/// reference list (state carried across pages).
fn paragraphs(
    lines: &[String],
    section: &mut Option<String>,
    in_references: &mut bool,
) -> Vec<Paragraph> {
    let mut lengths: Vec<usize> = lines
        .iter()
        .map(|l| l.chars().count())
        .filter(|&n| n > 20)
        .collect();
    lengths.sort_unstable();
    let typical = lengths.get(lengths.len() * 3 / 4).copied().unwrap_or(60);

    let mut out = Vec::new();
    let mut current = String::new();
    let mut current_section = section.clone();
    let flush = |current: &mut String,
                 current_section: &Option<String>,
                 out: &mut Vec<Paragraph>,
                 skip: bool| {
        let text = current.trim();
        if !text.is_empty() && !skip {
            out.push(Paragraph {
                section: current_section.clone(),
                text: text.to_string(),
            });
        }
        current.clear();
    };
    for line in lines {
        if let Some(h) = heading(line) {
            flush(&mut current, &current_section, &mut out, *in_references);
            if starts_references(h) {
                *in_references = true;
            } else if *in_references && starts_appendix(h) {
                *in_references = false;
            }
            *section = Some(h.to_string());
            current_section = section.clone();
            continue;
        }
        join_line(&mut current, line);
        let short = line.chars().count() * 4 < typical * 3;
        if short && line.ends_with(is_sentence_end) {
            flush(&mut current, &current_section, &mut out, *in_references);
            current_section = section.clone();
        }
    }
    flush(&mut current, &current_section, &mut out, *in_references);
    out
}

/// Appends a line to a paragraph: "trans-" + "former" → "transformer"; CJK lines join
/// without a space; everything else with one.
fn join_line(paragraph: &mut String, line: &str) {
    if paragraph.is_empty() {
        paragraph.push_str(line);
        return;
    }
    let last = paragraph.chars().last().unwrap_or(' ');
    let first = line.chars().next().unwrap_or(' ');
    if last == '-'
        && first.is_lowercase()
        && paragraph
            .chars()
            .rev()
            .nth(1)
            .is_some_and(char::is_alphabetic)
    {
        paragraph.pop();
    } else if !(is_cjk(last) && is_cjk(first)) {
        paragraph.push(' ');
    }
    paragraph.push_str(line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_ligatures_radicals_and_spaces() {
        assert_eq!(
            normalize("e\u{FB03}cient  \u{2F63}成\u{00AD}式"),
            "efficient 生成式"
        );
        assert_eq!(normalize(" a \t b \n c "), "a b\nc");
    }

    #[test]
    fn detects_headings() {
        assert!(heading("3.2 Scaled Dot-Product Attention").is_some());
        assert!(heading("1 Introduction").is_some());
        assert!(heading("Abstract").is_some());
        assert!(heading("A Proofs of the Main Results").is_some());
        assert!(heading("2.1 模型结构").is_some());
        assert!(heading("3 0.5 0.7").is_none());
        assert!(
            heading("We propose a new simple network architecture, the Transformer.").is_none()
        );
        assert!(heading("2 W x + b").is_none());
        assert!(heading("B.2 Hyperparameters").is_some());
        assert!(heading("S. Pinker, The Language Instinct: How the Mind Creates").is_none());
    }

    #[test]
    fn joins_lines_into_paragraphs_and_skips_references() {
        let lines: Vec<String> = [
            "1 Introduction",
            "Recurrent neural networks, long short-term memory and gated recur-",
            "rent neural networks in particular, have been firmly established as state",
            "of the art approaches.",
            "References",
            "[1] Jimmy Lei Ba, Jamie Ryan Kiros, and Geoffrey E Hinton. Layer normalization.",
            "A Appendix material",
            "More text here that matters.",
        ]
        .map(String::from)
        .to_vec();
        let mut section = None;
        let mut refs = false;
        let paras = paragraphs(&lines, &mut section, &mut refs);
        assert_eq!(paras.len(), 2, "{paras:?}");
        assert!(paras[0].text.contains("gated recurrent neural networks"));
        assert_eq!(paras[0].section.as_deref(), Some("1 Introduction"));
        assert_eq!(paras[1].text, "More text here that matters.");
        assert!(!refs);
    }

    #[test]
    fn two_line_titles_are_joined() {
        let lines: Vec<String> = [
            "Direct Preference Optimization:",
            "Your Language Model is Secretly a Reward Model",
            "Rafael Rafailov",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            title_from_first_page(&lines).unwrap(),
            "Direct Preference Optimization: Your Language Model is Secretly a Reward Model"
        );
        let lines: Vec<String> = ["Layer Normalization", "Jimmy Lei Ba"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            title_from_first_page(&lines).unwrap(),
            "Layer Normalization"
        );
    }

    #[test]
    fn running_heads_are_dropped() {
        let topics = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
        let pages: Vec<Vec<String>> = (1..=6)
            .map(|i| {
                vec![
                    format!("Journal of Things {i}"),
                    format!("body text about {}", topics[i - 1]),
                    format!("{i}"),
                ]
            })
            .collect();
        let cleaned = drop_running_lines(pages);
        assert!(
            cleaned
                .iter()
                .all(|p| p.len() == 1 && p[0].starts_with("body")),
            "{cleaned:?}"
        );
    }
}
