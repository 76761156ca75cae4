//! Evidence for an answer or a grade, chosen for a small model that reads slowly: a few
//! passages of the user's documents (bank items are questions, not answers: they come back as
//! related questions, never as evidence), and within them the sentences that answer the
//! question, which the answer quotes with their numbers.
//!
//! A question in one language is searched in both (its translation by the model, or the
//! glossary's bridge), and its sentences are scored against the query in the sentence's own
//! language, so a Chinese question finds the sentence of an English paper that answers it.

use std::collections::HashSet;

use serde::Serialize;
use ts_rs::TS;

use super::{Citation, label};
use crate::embed::EmbedError;
use crate::lexical::Lexicon;
use crate::library::{Library, LibraryError};
use crate::retrieve::{Query, SearchHit, SearchOptions};
use crate::store::Source;
use crate::text::{Lang, sentences};

/// Document passages the key sentences are drawn from (only those sentences reach the model).
pub const PASSAGES: usize = 4;
/// Bank questions shown beside an answer.
pub const RELATED: usize = 3;
/// Key sentences quoted, and at most this many from one passage.
pub const KEY_SENTENCES: usize = 3;
const KEY_SENTENCES_PER_PASSAGE: usize = 2;
/// A sentence this far below the best one is not key.
const KEY_MARGIN: f32 = 0.06;
/// Below this best-sentence score the sources do not cover the question (cosine of
/// multilingual-e5-small plus the term-overlap and rank bonuses), for a query the model
/// translated. Measured with `studydesk eval-answers --json` (`best_sentence`) over all of
/// `../shared/papers` with the 0.5B model: the development questions the papers answer scored
/// 0.891 to 0.996; off-topic questions asked by hand (cooking, weather, taxes, sports,
/// geography) 0.851 to 0.874.
pub const COVERED: f32 = 0.88;
/// The same without a model, when only the glossary bridges a Chinese question to English
/// sentences: on-topic 0.872 to 0.996, off-topic 0.834 to 0.889. The ranges overlap; the
/// threshold keeps the answers (an off-topic question may then be shown its nearest
/// sentences, under their passages' labels).
pub const COVERED_WITHOUT_TRANSLATION: f32 = 0.87;
/// Weight of the share of query terms a sentence contains.
const TERM_WEIGHT: f32 = 0.08;
/// Weight of its passage's retrieval rank (divided by the rank).
const PASSAGE_RANK_WEIGHT: f32 = 0.02;
/// Sentences longer than this are cut in a quote.
const MAX_QUOTE_CHARS: usize = 360;

/// A sentence of a passage that answers the question.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct KeySentence {
    /// The number of its passage among the answer's sources.
    pub n: usize,
    pub text: String,
    pub score: f32,
}

#[derive(Debug, Clone)]
pub struct Evidence {
    /// What was searched, with its translation if any.
    pub query: Query,
    /// Numbered document passages [1]…
    pub passages: Vec<Citation>,
    /// Bank questions near the question (what an interviewer asks around it).
    pub related: Vec<SearchHit>,
    pub key_sentences: Vec<KeySentence>,
    /// Whether the passages answer the question at all.
    pub covered: bool,
}

/// Gathers the evidence for a query: passages of the user's documents (optionally of one
/// document), related bank questions (optionally of one topic), and the key sentences.
pub fn gather(
    library: &Library,
    query: &Query,
    topic_id: Option<&str>,
) -> Result<Evidence, LibraryError> {
    let passages = library.search_query(
        query,
        &SearchOptions {
            top_k: PASSAGES,
            source: Some(Source::Doc),
            ..SearchOptions::default()
        },
    )?;
    let related = library.search_query(
        query,
        &SearchOptions {
            top_k: RELATED,
            source: Some(Source::Bank),
            topic_id: topic_id.map(String::from),
            ..SearchOptions::default()
        },
    )?;
    let passages: Vec<Citation> = passages
        .into_iter()
        .enumerate()
        .map(|(i, hit)| Citation {
            n: i + 1,
            label: label(&hit),
            hit,
        })
        .collect();
    let key_sentences = key_sentences(library, query, &passages)?;
    let threshold = if query.translation.is_some() {
        COVERED
    } else {
        COVERED_WITHOUT_TRANSLATION
    };
    let covered = key_sentences.first().is_some_and(|k| k.score >= threshold);
    Ok(Evidence {
        query: query.clone(),
        passages,
        related,
        key_sentences,
        covered,
    })
}

/// The sentences of the passages that answer the query best: scored by the embedding
/// similarity between the sentence and the query in the sentence's language, plus the share
/// of the query's terms (in either language) that the sentence contains.
pub fn key_sentences(
    library: &Library,
    query: &Query,
    passages: &[Citation],
) -> Result<Vec<KeySentence>, EmbedError> {
    key_sentences_up_to(library, query, passages, KEY_SENTENCES, KEY_MARGIN)
}

/// [`key_sentences`]: at most `count` of them, none further than `margin` below the best.
pub fn key_sentences_up_to(
    library: &Library,
    query: &Query,
    passages: &[Citation],
    count: usize,
    margin: f32,
) -> Result<Vec<KeySentence>, EmbedError> {
    let candidates: Vec<(usize, String)> = passages
        .iter()
        .flat_map(|c| {
            sentences(&c.hit.text)
                .into_iter()
                .filter(|s| is_statement(s))
                .map(move |s| (c.n, s))
        })
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let lang = Lang::of(&query.text);
    // The query in each language: as written, and translated (or bridged by the glossary).
    let other = query
        .translation
        .clone()
        .or_else(|| crate::glossary::Glossary::builtin().bridge(&query.text, Lexicon::shared()))
        .unwrap_or_else(|| query.text.clone());
    let embedder = library.embedder();
    let queries = embedder.embed_queries(&[query.text.clone(), other.clone()])?;
    let texts: Vec<String> = candidates.iter().map(|(_, s)| s.clone()).collect();
    let vectors = embedder.embed_passages(&texts)?;
    let lexicon = Lexicon::shared();
    let query_terms: HashSet<String> = lexicon
        .terms(&query.text)
        .into_iter()
        .chain(lexicon.terms(&other))
        .collect();
    let mut scored: Vec<KeySentence> = candidates
        .into_iter()
        .zip(vectors)
        .map(|((n, text), vector)| {
            let query_vector = if Lang::of(&text) == lang {
                &queries[0]
            } else {
                &queries[1]
            };
            let terms: HashSet<String> = lexicon.terms(&text).into_iter().collect();
            let overlap = if query_terms.is_empty() {
                0.0
            } else {
                query_terms.intersection(&terms).count() as f32 / query_terms.len() as f32
            };
            KeySentence {
                n,
                // Retrieval ranked the passages with more than this sentence's words: its
                // order breaks near ties.
                score: cosine(query_vector, &vector)
                    + TERM_WEIGHT * overlap
                    + PASSAGE_RANK_WEIGHT / n as f32,
                text,
            }
        })
        .collect();
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    let best = scored.first().map_or(0.0, |k| k.score);
    let mut chosen: Vec<KeySentence> = Vec::new();
    for candidate in scored {
        if chosen.len() == count || candidate.score < best - margin {
            break;
        }
        let from_passage = chosen.iter().filter(|k| k.n == candidate.n).count();
        // Rubrics take more sentences, and their passage may hold several.
        let per_passage = KEY_SENTENCES_PER_PASSAGE.max(count / 2);
        if from_passage < per_passage {
            chosen.push(candidate);
        }
    }
    Ok(chosen)
}

/// A sentence worth quoting: prose, not a caption, a chart's axis labels, a formula fragment
/// or a reference. English prose has function words ("the", "of", "is"); the labels of a
/// chart extracted from a PDF ("BatchNorm bz128 Baseline bz128 Epoch 0.005") have none.
fn is_statement(sentence: &str) -> bool {
    let visible = sentence.chars().filter(|c| !c.is_whitespace()).count();
    let letters = sentence.chars().filter(|c| c.is_alphabetic()).count();
    if visible < 15 || letters * 10 < visible * 6 {
        return false;
    }
    let lower = sentence.to_lowercase();
    let caption = ["figure ", "fig. ", "table "].iter().any(|c| {
        lower.match_indices(c).any(|(at, _)| {
            lower[at + c.len()..]
                .split(|ch: char| !ch.is_ascii_digit())
                .next()
                .is_some_and(|n| !n.is_empty())
                && lower[at + c.len()..]
                    .trim_start_matches(|ch: char| ch.is_ascii_digit())
                    .starts_with(':')
        })
    });
    if caption {
        return false;
    }
    if Lang::of(sentence) == Lang::Zh {
        return true;
    }
    const FUNCTION_WORDS: [&str; 20] = [
        "the", "of", "a", "an", "is", "are", "and", "to", "in", "for", "that", "with", "by", "on",
        "as", "it", "we", "this", "be", "from",
    ];
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let function = words.iter().filter(|w| FUNCTION_WORDS.contains(w)).count();
    let numeric = words
        .iter()
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .count();
    function >= 2 && function * 10 >= words.len() && numeric * 5 <= words.len()
}

/// A sentence as quoted: whole when short, else its start.
pub fn quote(sentence: &str) -> String {
    if sentence.chars().count() <= MAX_QUOTE_CHARS {
        sentence.to_string()
    } else {
        let cut: String = sentence.chars().take(MAX_QUOTE_CHARS).collect();
        format!("{}…", cut.trim_end())
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b)).max(f32::EPSILON)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_prose() {
        assert!(is_statement(
            "LayerNorm computes the mean and variance over the hidden units of a layer."
        ));
        assert!(!is_statement("Table 3: 12.1 45.3 77.0 0.31"));
        assert!(!is_statement("(3)"));
        assert!(is_statement(
            "层归一化在每个样本的隐藏单元上计算均值和方差。"
        ));
    }

    #[test]
    fn long_sentences_are_cut_in_a_quote() {
        let long = "word ".repeat(200);
        let quoted = super::quote(&long);
        assert!(quoted.chars().count() <= super::MAX_QUOTE_CHARS + 1);
        assert!(quoted.ends_with('…'));
        assert_eq!(super::quote("short."), "short.");
    }

    #[test]
    fn chart_labels_and_captions_are_not_statements() {
        assert!(!is_statement(
            "BatchNorm bz128 Baseline bz128 LayerNorm bz128 Epoch Train NLL LayerNorm bz4 Baseline bz4 Epoch 0.005 0.010 0.015 Test Err."
        ));
        assert!(!is_statement(
            "LayerNorm bz4 Baseline bz4 Figure 6: Permutation invariant MNIST model negative log likelihood and test error with layer normalization."
        ));
        assert!(is_statement(
            "Layer normalization computes the mean and variance from all of the summed inputs to the neurons in a layer."
        ));
        assert!(is_statement("层归一化对同一层的所有神经元计算均值和方差。"));
    }
}
