//! Text utilities every stage shares: Unicode normalisation, telling Chinese from English, and
//! the language enum used wherever a text's language matters (passages, queries, settings).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// The two languages StudyDesk reads and writes.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// `Zh` when at least a fifth of the letters are Han characters, else `En`: enough to tell
    /// the Chinese survey (full of English terms) from an English paper.
    pub fn of(text: &str) -> Lang {
        let (mut han, mut letters) = (0usize, 0usize);
        for c in text.chars() {
            if is_han(c) {
                han += 1;
                letters += 1;
            } else if c.is_alphabetic() {
                letters += 1;
            }
        }
        if han * 5 >= letters.max(1) {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// How a prompt names the language an answer must be written in.
    pub fn prompt_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "Chinese (简体中文)",
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Han character (CJK ideographs, extension A, compatibility and the supplementary planes).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FA1F}')
}

/// NFKC (ligatures ﬁ→fi, Kangxi radicals ⽣→生, full-width forms), no soft hyphens or
/// zero-width characters, single spaces.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkc() {
        match c {
            '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            '\n' => {
                pending_space = false;
                while out.ends_with(' ') {
                    out.pop();
                }
                out.push('\n');
            }
            c if c.is_whitespace() || c.is_control() => pending_space = true,
            c => {
                if pending_space && !out.is_empty() && !out.ends_with('\n') {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
        }
    }
    out.trim().to_string()
}

/// A text's sentences (Unicode sentence boundaries, so Chinese 。！？ end them too), trimmed.
/// A fragment too short to stand alone joins its neighbour: the next one after an
/// abbreviation ("Fig. 3", "et al. 2020"), the previous one otherwise ("Why?").
pub fn sentences(text: &str) -> Vec<String> {
    const MIN_WEIGHT: usize = 12;
    const ABBREVIATIONS: [&str; 12] = [
        "fig.", "figs.", "eq.", "eqs.", "e.g.", "i.e.", "al.", "etc.", "vs.", "sec.", "tab.", "no.",
    ];
    let weight = |s: &str| {
        s.chars()
            .map(|c| if is_han(c) { 2 } else { 1 })
            .sum::<usize>()
    };
    let tidy = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: Vec<String> = Vec::new();
    let mut pending = String::new();
    for piece in text.split_sentence_bounds() {
        pending.push_str(piece);
        let trimmed = pending.trim();
        if trimmed.is_empty() {
            continue;
        }
        if weight(trimmed) >= MIN_WEIGHT {
            out.push(tidy(trimmed));
            pending.clear();
            continue;
        }
        let last_word = trimmed
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or("")
            .to_lowercase();
        if ABBREVIATIONS.contains(&last_word.as_str()) {
            continue;
        }
        if let Some(previous) = out.last_mut() {
            previous.push(' ');
            previous.push_str(&tidy(trimmed));
            pending.clear();
        }
    }
    let rest = tidy(&pending);
    if !rest.is_empty() {
        match out.last_mut() {
            Some(last) => {
                last.push(' ');
                last.push_str(&rest);
            }
            None => out.push(rest),
        }
    }
    out
}

/// The first `chars` characters of a text (never splits a character).
pub fn excerpt(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// A formula as extracted from a PDF ("max Φ X (x,y)∈Z X |y| t=1 log"): many one-letter
/// tokens or mathematical symbols, which a learner cannot be asked to recite.
pub fn looks_like_formula(sentence: &str) -> bool {
    let tokens: Vec<&str> = sentence.split_whitespace().collect();
    let single = tokens
        .iter()
        .filter(|t| {
            let mut chars = t.chars();
            chars.next().is_some() && chars.next().is_none() && !matches!(**t, "a" | "A" | "I")
        })
        .count();
    let symbols = sentence
        .chars()
        .filter(|c| "∈∑∏∫√≤≥≈∝=|^_−+×·".contains(*c))
        .count();
    single * 6 > tokens.len() || symbols >= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_chinese_from_english_with_embedded_terms() {
        assert_eq!(Lang::of("LayerNorm 和 BatchNorm 的区别是什么"), Lang::Zh);
        assert_eq!(Lang::of("What does LayerNorm normalise over?"), Lang::En);
        assert_eq!(Lang::of(""), Lang::En);
    }

    #[test]
    fn splits_sentences_in_both_languages() {
        assert_eq!(
            sentences(
                "LayerNorm normalises over features. It needs no batch! Why? See Fig. 3 below."
            ),
            [
                "LayerNorm normalises over features.",
                "It needs no batch! Why?",
                "See Fig. 3 below."
            ]
        );
        assert_eq!(
            sentences("层归一化在特征维度上归一化。它不依赖批大小！"),
            ["层归一化在特征维度上归一化。", "它不依赖批大小！"]
        );
    }

    #[test]
    fn normalises_ligatures_and_spaces() {
        assert_eq!(
            normalize("ﬁne\u{00AD}tuning  ⽣成 \n x"),
            "finetuning 生成\nx"
        );
    }
}
