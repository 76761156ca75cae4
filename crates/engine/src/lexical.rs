//! The lexical side of hybrid search: BM25 term weights as sparse vectors, for Chinese and
//! English alike.
//!
//! Chinese has no spaces, so runs of Han characters are segmented with jieba (search mode,
//! which also emits the shorter words inside long ones); other text is split on
//! non-alphanumerics, lower-cased and stemmed (Snowball English), and camel-case names also
//! yield their parts ("LayerNorm" → layernorm, layer, norm). The store applies IDF over the
//! whole collection (Qdrant's IDF modifier), so here a document term carries BM25's
//! saturated term frequency and a query term a plain 1.

use std::collections::HashMap;
use std::sync::OnceLock;

use jieba_rs::Jieba;
use rust_stemmers::{Algorithm, Stemmer};

use crate::text::{is_han, normalize};

/// BM25's term-frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Typical passage length in terms; bank items are shorter, papers' passages longer.
const AVG_TERMS: f32 = 90.0;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVector {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl SparseVector {
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

pub struct Lexicon {
    jieba: Jieba,
    stemmer: Stemmer,
}

impl Lexicon {
    /// Shared, since jieba's dictionary takes a moment to load.
    pub fn shared() -> &'static Lexicon {
        static LEXICON: OnceLock<Lexicon> = OnceLock::new();
        LEXICON.get_or_init(|| Lexicon {
            jieba: Jieba::new(),
            stemmer: Stemmer::create(Algorithm::English),
        })
    }

    /// The index terms of a text, in order, with repeats.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let text = normalize(text);
        let mut terms = Vec::new();
        let mut rest = text.as_str();
        while let Some(first) = rest.chars().next() {
            let han = is_han(first);
            let end = rest.find(|c: char| is_han(c) != han).unwrap_or(rest.len());
            let (run, tail) = rest.split_at(end);
            if han {
                self.han_terms(run, &mut terms);
            } else {
                self.latin_terms(run, &mut terms);
            }
            rest = tail;
        }
        terms
    }

    /// English terms only, lower-cased and stemmed, without camel-case parts: the keys of the
    /// glossary.
    pub fn plain_terms(&self, text: &str) -> Vec<String> {
        normalize(text)
            .split(|c: char| !c.is_alphanumeric() || is_han(c))
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .filter(|w| !EN_STOPWORDS.contains(&w.as_str()))
            .map(|w| self.stemmer.stem(&w).into_owned())
            .collect()
    }

    /// Chinese words of a run of Han characters (jieba's accurate mode).
    pub fn segment_han(&self, run: &str) -> Vec<String> {
        self.jieba
            .cut(run, true)
            .into_iter()
            .map(|t| t.word.to_string())
            .collect()
    }

    /// The nouns of a run of Han characters (jieba's part-of-speech tags: nouns and English
    /// words), as a concept to ask about is named; "正如", "有关" or "目前为止" is not.
    pub fn han_nouns(&self, run: &str) -> Vec<String> {
        self.jieba
            .tag(run, false)
            .into_iter()
            .filter(|t| t.tag.starts_with('n') || t.tag == "eng")
            .map(|t| t.word.to_string())
            .collect()
    }

    pub fn is_stopword(&self, word: &str) -> bool {
        ZH_STOPWORDS.contains(&word) || EN_STOPWORDS.contains(&word)
    }

    fn han_terms(&self, run: &str, terms: &mut Vec<String>) {
        for token in self.jieba.cut_for_search(run, true) {
            if !ZH_STOPWORDS.contains(&token.word) {
                terms.push(token.word.to_string());
            }
        }
    }

    fn latin_terms(&self, run: &str, terms: &mut Vec<String>) {
        for word in run
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            let lower = word.to_lowercase();
            if EN_STOPWORDS.contains(&lower.as_str()) {
                continue;
            }
            let parts = camel_parts(word);
            terms.push(self.stemmer.stem(&lower).into_owned());
            if parts.len() > 1 {
                for part in parts {
                    let part = part.to_lowercase();
                    if part.len() > 1 && !EN_STOPWORDS.contains(&part.as_str()) {
                        terms.push(self.stemmer.stem(&part).into_owned());
                    }
                }
            }
        }
    }

    /// BM25 term weights of a passage.
    pub fn document_vector(&self, text: &str) -> SparseVector {
        let terms = self.terms(text);
        let length = terms.len() as f32;
        let mut counts: HashMap<u32, f32> = HashMap::new();
        for term in &terms {
            *counts.entry(term_id(term)).or_default() += 1.0;
        }
        let norm = K1 * (1.0 - B + B * length / AVG_TERMS);
        sorted(
            counts
                .into_iter()
                .map(|(id, tf)| (id, tf * (K1 + 1.0) / (tf + norm))),
        )
    }

    /// A query's terms, each once, weight 1 (IDF comes from the store), plus `expansions`
    /// (translations into the other language, each with its weight below 1): they widen the
    /// net without outvoting the query's own words.
    pub fn query_vector(&self, text: &str, expansions: &[(String, f32)]) -> SparseVector {
        let mut weights: HashMap<u32, f32> = HashMap::new();
        for (expansion, weight) in expansions {
            for t in self.terms(expansion) {
                let w = weights.entry(term_id(&t)).or_default();
                *w = w.max(*weight);
            }
        }
        for term in self.terms(text) {
            weights.insert(term_id(&term), 1.0);
        }
        sorted(weights.into_iter())
    }
}

fn sorted(pairs: impl Iterator<Item = (u32, f32)>) -> SparseVector {
    let mut pairs: Vec<(u32, f32)> = pairs.collect();
    pairs.sort_unstable_by_key(|&(id, _)| id);
    SparseVector {
        indices: pairs.iter().map(|p| p.0).collect(),
        values: pairs.iter().map(|p| p.1).collect(),
    }
}

/// A term's dimension: 32-bit FNV-1a, stable across builds and platforms (std's hasher is not).
pub fn term_id(term: &str) -> u32 {
    term.bytes().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

/// "LayerNorm" → ["Layer", "Norm"]; "RMSNorm" → ["RMS", "Norm"]; "GPT3" → ["GPT3"].
fn camel_parts(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (at, c) = chars[i];
        let prev = chars[i - 1].1;
        let next_lower = chars.get(i + 1).is_some_and(|&(_, n)| n.is_lowercase());
        if c.is_uppercase() && (prev.is_lowercase() || (prev.is_uppercase() && next_lower)) {
            parts.push(&word[start..at]);
            start = at;
        }
    }
    parts.push(&word[start..]);
    parts
}

const EN_STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "in", "is", "it", "its", "of", "on", "or", "that", "the", "their", "this", "to", "was", "we",
    "what", "when", "which", "who", "why", "will", "with", "our", "these", "they", "has", "have",
];

/// Question words and particles every bank item has: they carry no topic.
const ZH_STOPWORDS: &[&str] = &[
    "的",
    "是",
    "了",
    "在",
    "和",
    "与",
    "及",
    "或",
    "有",
    "中",
    "对",
    "为",
    "等",
    "如",
    "把",
    "被",
    "什么",
    "如何",
    "怎么",
    "怎样",
    "为什么",
    "哪些",
    "哪个",
    "是否",
    "吗",
    "呢",
    "吧",
    "啊",
    "一个",
    "一些",
    "这个",
    "那个",
    "这些",
    "进行",
    "可以",
    "能",
    "会",
    "请",
    "举例",
    "说明",
    "例如",
    "其",
    "它",
    "它们",
    "我们",
    "之间",
    "时",
    "上",
    "下",
    "里",
    "也",
    "还",
    "都",
    "就",
    "而",
    "并",
    "又",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_chinese_and_stems_english() {
        let lexicon = Lexicon::shared();
        let terms = lexicon.terms("LayerNorm的计算公式是什么?");
        assert!(terms.contains(&"layernorm".to_string()), "{terms:?}");
        assert!(
            terms.contains(&"layer".to_string()) && terms.contains(&"norm".to_string()),
            "{terms:?}"
        );
        assert!(terms.contains(&"公式".to_string()), "{terms:?}");
        assert!(!terms.contains(&"什么".to_string()), "{terms:?}");
        let terms = lexicon.terms("Attention layers attending to positions");
        assert_eq!(terms, ["attent", "layer", "attend", "posit"]);
    }

    #[test]
    fn camel_case_parts() {
        assert_eq!(camel_parts("LayerNorm"), ["Layer", "Norm"]);
        assert_eq!(camel_parts("RMSNorm"), ["RMS", "Norm"]);
        assert_eq!(camel_parts("GPT3"), ["GPT3"]);
        assert_eq!(camel_parts("lowercase"), ["lowercase"]);
    }

    #[test]
    fn document_weights_saturate_and_queries_are_flat() {
        let lexicon = Lexicon::shared();
        let doc = lexicon.document_vector("rope rope rope rope attention");
        let rope = doc.values[doc
            .indices
            .iter()
            .position(|&i| i == term_id("rope"))
            .unwrap()];
        let attention = doc.values[doc
            .indices
            .iter()
            .position(|&i| i == term_id("attent"))
            .unwrap()];
        assert!(rope > attention && rope < 4.0 * attention);
        let query = lexicon.query_vector("sourdough sourdough", &[]);
        assert_eq!(query.values, [1.0]);
        // An expansion never outweighs a word the query says itself.
        let query = lexicon.query_vector(
            "pipeline 流水线",
            &[("流水线".into(), 0.5), ("并行".into(), 0.5)],
        );
        let weight = |term: &str| {
            query.values[query
                .indices
                .iter()
                .position(|&i| i == term_id(term))
                .unwrap()]
        };
        assert_eq!(
            (weight("pipelin"), weight("流水线"), weight("并行")),
            (1.0, 1.0, 0.5)
        );
        assert!(doc.indices.windows(2).all(|w| w[0] < w[1]));
    }
}
