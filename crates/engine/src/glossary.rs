//! A bilingual glossary: a curated list of LLM-interview vocabulary (`corpus/glossary.tsv`)
//! plus the pairs the question bank writes itself, "张量并行(Tensor Parallelism)",
//! "知识图谱(KG)". English queries gain the Chinese terms and Chinese queries the English ones,
//! so that BM25 can match across languages where multilingual-e5-small's cross-lingual
//! similarity is weakest.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::bank::BUILTIN_TEXT;
use crate::lexical::Lexicon;
use crate::text::{is_han, normalize};

/// The curated part, compiled in.
pub const CURATED: &str = include_str!("../../../corpus/glossary.tsv");

/// A Chinese term takes at most this many of the words just before the parenthesis.
const MAX_ZH_WORDS: usize = 3;
const MAX_ZH_CHARS: usize = 8;
/// Translations appended to a query for the embedder.
const MAX_BRIDGE_TERMS: usize = 6;

pub struct Glossary {
    /// Stemmed English term sequence ("pipelin parallel") → Chinese terms.
    en_to_zh: HashMap<Vec<String>, HashSet<String>>,
    /// Chinese term ("流水线并行") → stemmed English terms.
    zh_to_en: HashMap<String, HashSet<String>>,
    /// Chinese term → English phrases as written ("pipeline parallelism"), for the embedder.
    zh_to_phrases: HashMap<String, Vec<String>>,
    longest_key: usize,
}

impl Glossary {
    /// The curated glossary plus the pairs of the built-in bank, built once per process.
    pub fn builtin() -> &'static Glossary {
        static GLOSSARY: OnceLock<Glossary> = OnceLock::new();
        GLOSSARY.get_or_init(|| {
            let lexicon = Lexicon::shared();
            let mut glossary = Glossary {
                en_to_zh: HashMap::new(),
                zh_to_en: HashMap::new(),
                zh_to_phrases: HashMap::new(),
                longest_key: 0,
            };
            glossary.add_curated(CURATED, lexicon);
            glossary.mine(BUILTIN_TEXT, lexicon);
            glossary
        })
    }

    /// Lines of "中文<TAB>english|alternative"; `#` starts a comment.
    pub fn add_curated(&mut self, tsv: &str, lexicon: &Lexicon) {
        for line in tsv.lines().filter(|l| !l.starts_with('#')) {
            let Some((zh, english)) = line.split_once('\t') else {
                continue;
            };
            for alternative in english.split('|').map(str::trim).filter(|e| !e.is_empty()) {
                self.add_pair(lexicon, zh.trim(), alternative);
            }
        }
    }

    /// Pairs written as "中文(English)" in a text.
    pub fn mine(&mut self, text: &str, lexicon: &Lexicon) {
        let glossary = self;
        let text = normalize(text);
        let mut rest = text.as_str();
        while let Some(open) = rest.find('(') {
            let before = &rest[..open];
            let after = &rest[open + 1..];
            let Some(close) = after.find(')') else { break };
            let inside = &after[..close];
            rest = &after[close + 1..];
            let han_tail: String = before
                .chars()
                .rev()
                .take_while(|&c| is_han(c))
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if han_tail.chars().count() < 2
                || !inside
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
            {
                continue;
            }
            for english in inside
                .split([',', '/', ';'])
                .map(str::trim)
                .filter(|e| !e.is_empty())
            {
                if english.chars().any(is_han) || english.len() > 48 {
                    continue;
                }
                glossary.add_mined(lexicon, &han_tail, english);
            }
        }
    }

    /// The Chinese term is the end of the Han run before the parenthesis: as many words as the
    /// English has, within limits ("为什么需要流水线并行(Pipeline Parallelism)" → 流水线并行).
    fn add_mined(&mut self, lexicon: &Lexicon, han_tail: &str, english: &str) {
        let key: Vec<String> = lexicon.plain_terms(english);
        if key.is_empty() || key.len() > 4 {
            return;
        }
        // An acronym stands for as many words as it has letters ("KG" → 知识图谱).
        let want = if key.len() == 1
            && english.len() <= 5
            && english.chars().all(|c| c.is_ascii_uppercase())
        {
            english.len()
        } else {
            key.len()
        };
        let words = lexicon.segment_han(han_tail);
        let mut taken: Vec<&str> = Vec::new();
        let mut chars = 0;
        for word in words.iter().rev() {
            let n = word.chars().count();
            if lexicon.is_stopword(word)
                || taken.len() >= MAX_ZH_WORDS.min(want.max(2))
                || chars + n > MAX_ZH_CHARS
            {
                break;
            }
            taken.push(word);
            chars += n;
        }
        if taken.is_empty() {
            return;
        }
        taken.reverse();
        self.add_pair(lexicon, &taken.concat(), english);
    }

    fn add_pair(&mut self, lexicon: &Lexicon, zh: &str, english: &str) {
        let key: Vec<String> = lexicon.plain_terms(english);
        if key.is_empty() || key.len() > 4 || zh.chars().count() < 2 {
            return;
        }
        self.en_to_zh
            .entry(key.clone())
            .or_default()
            .insert(zh.to_string());
        self.zh_to_en
            .entry(zh.to_string())
            .or_default()
            .extend(key.iter().cloned());
        let phrases = self.zh_to_phrases.entry(zh.to_string()).or_default();
        if !phrases.iter().any(|p| p.eq_ignore_ascii_case(english)) {
            phrases.push(english.to_string());
        }
        self.longest_key = self.longest_key.max(key.len());
    }

    /// The query followed by its glossary translations in readable form: what the embedder
    /// sees to reach passages in the other language. `None` when nothing translates.
    pub fn bridge(&self, query: &str, lexicon: &Lexicon) -> Option<String> {
        let mut extra: Vec<&str> = self
            .chinese_for(&lexicon.plain_terms(query))
            .into_iter()
            .flat_map(|zh| zh.iter().map(String::as_str))
            .collect();
        let mut longest_first: Vec<(&String, &Vec<String>)> = self
            .zh_to_phrases
            .iter()
            .filter(|(zh, _)| query.contains(zh.as_str()))
            .collect();
        longest_first.sort_by_key(|(zh, _)| std::cmp::Reverse(zh.chars().count()));
        let mut covered: Vec<&str> = Vec::new();
        for (zh, phrases) in longest_first {
            // "分组查询注意力" already says what "注意力" would add.
            if covered.iter().any(|c| c.contains(zh.as_str())) {
                continue;
            }
            covered.push(zh);
            extra.extend(phrases.iter().take(2).map(String::as_str));
        }
        let mut seen = HashSet::new();
        extra.retain(|e| seen.insert(*e));
        // A few terms carry the meaning across; more only lengthen what the embedder reads.
        extra.truncate(MAX_BRIDGE_TERMS);
        (!extra.is_empty()).then(|| format!("{query} ({})", extra.join(", ")))
    }

    /// The Chinese terms for the English phrases in `terms`, scanning left to right and taking
    /// the longest phrase the glossary knows at each position.
    fn chinese_for(&self, terms: &[String]) -> Vec<&HashSet<String>> {
        (0..terms.len())
            .filter_map(|start| {
                (1..=self.longest_key.min(terms.len() - start))
                    .rev()
                    .find_map(|len| self.en_to_zh.get(&terms[start..start + len]))
            })
            .collect()
    }

    /// The glossary's English terms a text mentions, in English or by a Chinese equivalent, as
    /// stemmed phrases ("layer norm", "kv cach"): what two texts in different languages can be
    /// compared by.
    pub fn english_terms(&self, text: &str, lexicon: &Lexicon) -> HashSet<String> {
        let terms = lexicon.plain_terms(text);
        let mut out = HashSet::new();
        for start in 0..terms.len() {
            for len in 1..=self.longest_key.min(terms.len() - start) {
                let key = &terms[start..start + len];
                if self.en_to_zh.contains_key(key) {
                    out.insert(key.join(" "));
                }
            }
        }
        for (zh, phrases) in &self.zh_to_phrases {
            if text.contains(zh.as_str()) {
                for phrase in phrases {
                    let key = lexicon.plain_terms(phrase);
                    if !key.is_empty() {
                        out.insert(key.join(" "));
                    }
                }
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.en_to_zh.len()
    }

    pub fn is_empty(&self) -> bool {
        self.en_to_zh.is_empty()
    }

    /// Terms in the other language for what the query says in one: Chinese words for the
    /// English phrases it contains, stemmed English terms for the Chinese terms.
    pub fn translations(&self, query: &str, lexicon: &Lexicon) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for zh in self.chinese_for(&lexicon.plain_terms(query)) {
            out.extend(zh.iter().filter(|w| seen.insert(w.to_string())).cloned());
        }
        for (zh, en) in &self.zh_to_en {
            if query.contains(zh.as_str()) {
                out.extend(en.iter().filter(|w| seen.insert(w.to_string())).cloned());
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mines_pairs_from_the_bank() {
        let glossary = Glossary::builtin();
        let lexicon = Lexicon::shared();
        assert!(glossary.len() > 50, "{}", glossary.len());
        // Curated: general vocabulary.
        let zh = glossary.translations("how do pipeline parallelism bubbles arise", lexicon);
        assert!(zh.contains(&"流水线并行".to_string()), "{zh:?}");
        // Mined from the bank, not in the curated list: "动态损失缩放(Dynamic Loss Scaling)".
        assert!(
            glossary
                .translations("why dynamic loss scaling helps fp16", lexicon)
                .contains(&"动态损失缩放".to_string())
        );
        let en = glossary.translations("张量并行的通信开销", lexicon);
        assert!(en.contains(&"tensor".to_string()), "{en:?}");
    }

    #[test]
    fn english_terms_meet_across_languages() {
        let glossary = Glossary::builtin();
        let lexicon = Lexicon::shared();
        let zh = glossary.english_terms("梯度累积可以模拟更大的批大小", lexicon);
        let en = glossary.english_terms(
            "Gradient accumulation simulates a larger batch size.",
            lexicon,
        );
        assert!(zh.contains("gradient accumul"), "{zh:?}");
        assert!(zh.contains("batch size"), "{zh:?}");
        assert!(zh.is_subset(&en), "{zh:?} vs {en:?}");
    }

    #[test]
    fn the_bridge_names_the_other_language_once_longest_first() {
        let glossary = Glossary::builtin();
        let bridged = glossary
            .bridge("旋转位置编码为什么能外推", Lexicon::shared())
            .expect("a bridge");
        assert!(
            bridged.starts_with("旋转位置编码为什么能外推 ("),
            "{bridged}"
        );
        assert!(bridged.contains("rotary position embedding"), "{bridged}");
        // "位置编码" is inside "旋转位置编码", so its translation is not added again.
        assert!(!bridged.contains("positional encoding"), "{bridged}");
    }
}
