//! Retrieval: hybrid search over the bank and the documents in both languages, on scores made
//! comparable across them, with near-duplicates removed.
//!
//! Why not one plain search: multilingual-e5-small rates any same-language passage higher than
//! a cross-language one (a Chinese query scores ~0.88 against every page of a Chinese survey
//! and ~0.84 against the English paper that answers it). So dense candidates are drawn per
//! partition — the bank, Chinese documents, English documents — and each score is taken
//! relative to its partition's background (the score at a fixed depth of the same list): what
//! counts is how far a passage stands out from its peers. That calibrated dense ranking and
//! the BM25 ranking are then fused by reciprocal rank.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use uuid::Uuid;

use crate::embed::{EmbedError, Embedder};
use crate::glossary::Glossary;
use crate::lexical::{Lexicon, SparseVector};
use crate::store::{Hit, Mode, Passage, Scope, SearchRequest, Source, StoreError, VectorStore};
use crate::text::Lang;
use ts_rs::TS;

/// Candidates drawn from each partition and each side.
const CANDIDATES: usize = 50;
/// The depth whose score serves as a partition's background.
const BACKGROUND_RANK: usize = 20;
/// RRF's rank constant.
const RRF_K: f32 = 60.0;
/// How many places lower each further passage of the same document counts in a ranking.
const SAME_DOC_RANKS: f32 = 1.0;
/// Passages sharing this much of their vocabulary are one passage to a reader.
const DUPLICATE_JACCARD: f32 = 0.8;
/// The places at the top of a list where one document may hold at most `PER_DOC_AT_TOP`.
const TOP: usize = 5;
const PER_DOC_AT_TOP: usize = 2;
/// Extra candidates kept past `top_k`, to fill places a crowding document gave up.
const DEFERRABLE: usize = 10;

#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub top_k: usize,
    /// Restricts bank items to one topic (documents have no topic and are still searched).
    pub topic_id: Option<String>,
    pub source: Option<Source>,
    /// Only this document's passages (the bank is then left out).
    pub doc_id: Option<String>,
    pub mode: Mode,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            top_k: 10,
            topic_id: None,
            source: None,
            doc_id: None,
            mode: Mode::Hybrid,
        }
    }
}

/// One result, in the shape `studydesk search --json` prints and the UI reads.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SearchHit {
    pub rank: usize,
    pub score: f32,
    pub source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub question_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub topic_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub doc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub doc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub section: Option<String>,
    pub text: String,
}

impl SearchHit {
    /// A bank item put among the sources by id rather than found by a search (no rank, no
    /// score): the question being explained or graded.
    pub fn bank_item(
        question_id: String,
        topic_id: Option<String>,
        section: Option<String>,
        text: String,
    ) -> SearchHit {
        SearchHit {
            rank: 0,
            score: 0.0,
            source: Source::Bank,
            question_id: Some(question_id),
            topic_id,
            doc: None,
            doc_id: None,
            page: None,
            section,
            text,
        }
    }
}

/// Weight of a glossary translation in a query's BM25 vector, relative to the query's own terms.
const GLOSSARY_WEIGHT: f32 = 0.7;
/// Weight of the query's translation into the other language (the whole query, by a model).
const TRANSLATION_WEIGHT: f32 = 0.9;

/// A query as it is searched: its text and, when a model translated it, the same query in
/// the other language.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub text: String,
    pub translation: Option<String>,
}

impl Query {
    pub fn new(text: impl Into<String>) -> Query {
        Query {
            text: text.into(),
            translation: None,
        }
    }

    pub fn translated(text: impl Into<String>, translation: Option<String>) -> Query {
        Query {
            text: text.into(),
            translation,
        }
    }
}

/// A query ready to search: its dense vectors and its BM25 vector. The dense vector is
/// embedded as written and also bridged into the other language, which reaches passages
/// written in it far better than the original: the model's translation when there is one,
/// else the query followed by the glossary's translations of its terms. The BM25 vector
/// carries the other language's words at a lower weight.
#[derive(Debug, Clone)]
pub struct QueryVectors {
    pub text: String,
    pub lang: Lang,
    pub dense: Vec<f32>,
    pub bridged: Option<Vec<f32>>,
    pub sparse: SparseVector,
}

impl QueryVectors {
    /// Embeds queries and their bridged forms in one batch (repeated texts once, and texts
    /// embedded recently not at all: see [`Embedder::embed_queries`]).
    pub fn embed(
        embedder: &Embedder,
        glossary: &Glossary,
        queries: &[Query],
        options: &SearchOptions,
    ) -> Result<Vec<QueryVectors>, EmbedError> {
        let lexicon = Lexicon::shared();
        let bridges: Vec<Option<String>> = queries
            .iter()
            .map(|q| {
                // Only where the search reaches passages in the other language: the bank is
                // Chinese, so a Chinese query of the bank alone needs no bridge.
                let other_language = match (options.source, options.doc_id.is_some()) {
                    (Some(Source::Bank), false) => Lang::of(&q.text) != Lang::Zh,
                    _ => true,
                };
                if !other_language {
                    return None;
                }
                match &q.translation {
                    Some(translation) => Some(translation.clone()),
                    None => glossary.bridge(&q.text, lexicon),
                }
            })
            .collect();
        let mut texts: Vec<String> = queries.iter().map(|q| q.text.clone()).collect();
        texts.extend(bridges.iter().flatten().cloned());
        let mut vectors = embedder.embed_queries(&texts)?.into_iter();
        let originals: Vec<Vec<f32>> = vectors.by_ref().take(queries.len()).collect();
        Ok(queries
            .iter()
            .zip(originals)
            .zip(&bridges)
            .map(|((query, dense), bridge)| {
                let text = &query.text;
                let mut expansions: Vec<(String, f32)> = glossary
                    .translations(text, lexicon)
                    .into_iter()
                    .map(|t| (t, GLOSSARY_WEIGHT))
                    .collect();
                if let Some(translation) = &query.translation {
                    expansions.push((translation.clone(), TRANSLATION_WEIGHT));
                }
                QueryVectors {
                    text: text.clone(),
                    lang: Lang::of(text),
                    dense,
                    bridged: bridge.as_ref().and_then(|_| vectors.next()),
                    sparse: lexicon.query_vector(text, &expansions),
                }
            })
            .collect())
    }

    /// The vector to search passages of language `lang` with.
    fn for_lang(&self, lang: Lang) -> &[f32] {
        match &self.bridged {
            Some(bridged) if lang != self.lang => bridged,
            _ => &self.dense,
        }
    }
}

pub fn search(
    store: &dyn VectorStore,
    query: &QueryVectors,
    options: &SearchOptions,
) -> Result<Vec<SearchHit>, StoreError> {
    let sparse = &query.sparse;
    let fetch = |scope: Scope, mode: Mode| {
        // The bank is Chinese; mixed-language scopes only run lexically.
        let lang = scope.lang.unwrap_or(Lang::Zh);
        store.search(&SearchRequest {
            dense: query.for_lang(lang),
            sparse,
            scope: &scope,
            mode,
            limit: CANDIDATES,
            candidates: CANDIDATES,
        })
    };
    // The bank is Chinese throughout.
    let bank = Scope {
        source: Some(Source::Bank),
        topic_id: options.topic_id.clone(),
        lang: Some(Lang::Zh),
        ..Scope::default()
    };
    let docs = Scope {
        source: Some(Source::Doc),
        doc_id: options.doc_id.clone(),
        ..Scope::default()
    };
    let docs_in = |lang: Lang| Scope {
        lang: Some(lang),
        ..docs.clone()
    };
    let source = match options.doc_id {
        Some(_) => Some(Source::Doc),
        None => options.source,
    };
    let (dense_parts, lexical_parts) = match source {
        Some(Source::Bank) => (vec![bank.clone()], vec![bank]),
        Some(Source::Doc) => (vec![docs_in(Lang::Zh), docs_in(Lang::En)], vec![docs]),
        None => (
            vec![bank.clone(), docs_in(Lang::Zh), docs_in(Lang::En)],
            vec![bank, docs],
        ),
    };

    let mut passages: HashMap<Uuid, Passage> = HashMap::new();
    let mut lists: Vec<Vec<(Uuid, f32)>> = Vec::new();
    if options.mode != Mode::Lexical {
        let mut calibrated = Vec::new();
        for scope in dense_parts {
            let hits = fetch(scope, Mode::Dense)?;
            let Some(background) = hits
                .get(BACKGROUND_RANK.min(hits.len().saturating_sub(1)))
                .map(|h| h.score)
            else {
                continue;
            };
            for hit in hits {
                calibrated.push((hit.id, hit.score - background));
                passages.insert(hit.id, hit.passage);
            }
        }
        lists.push(calibrated);
    }
    if options.mode != Mode::Dense && !sparse.is_empty() {
        // BM25 scores share one IDF across the index, so they compare as they are.
        let mut lexical = Vec::new();
        for scope in lexical_parts {
            for hit in fetch(scope, Mode::Lexical)? {
                lexical.push((hit.id, hit.score));
                passages.insert(hit.id, hit.passage);
            }
        }
        lists.push(lexical);
    }

    // Reciprocal rank fusion over the (calibrated) dense and the lexical rankings. Within
    // each ranking, a document's later passages count as if ranked lower: a long survey
    // that matches every query with many passages weighs like one good passage, not many.
    let mut fused: HashMap<Uuid, f32> = HashMap::new();
    for mut list in lists {
        list.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (rank, (id, _)) in list.into_iter().enumerate() {
            let earlier = match passages.get(&id).and_then(|p| p.doc_id.as_deref()) {
                Some(doc) => {
                    let count = seen.entry(doc).or_default();
                    *count += 1;
                    *count - 1
                }
                None => 0,
            };
            let rank = rank as f32 + SAME_DOC_RANKS * earlier as f32;
            *fused.entry(id).or_default() += 1.0 / (RRF_K + rank + 1.0);
        }
    }
    // A query that names a method ("LoRA 论文…", "DPO 中的 β") is about it: the passages of
    // the paper its title names, and the bank questions that name it, count as if ranked
    // first in one more list.
    let names = method_names(&query.text);
    let mut named_docs: HashSet<String> = HashSet::new();
    let mut ranked: Vec<Hit> = fused
        .into_iter()
        .filter_map(|(id, score)| {
            passages.remove(&id).map(|passage| {
                let named = match passage.source {
                    Source::Doc => passage
                        .title
                        .as_deref()
                        .is_some_and(|title| names.iter().any(|n| title_names(title, n))),
                    Source::Bank => names.iter().any(|n| names_word(&passage.text, n)),
                };
                if named && passage.source == Source::Doc {
                    named_docs.extend(passage.doc_id.clone());
                }
                let score = if named {
                    score + 1.0 / (RRF_K + 1.0)
                } else {
                    score
                };
                Hit { id, score, passage }
            })
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));

    Ok(diversify(
        dedupe(ranked, options.top_k + DEFERRABLE),
        options.top_k,
        &named_docs,
    )
    .into_iter()
    .enumerate()
    .map(|(i, hit)| SearchHit {
        rank: i + 1,
        score: hit.score,
        source: hit.passage.source,
        question_id: hit.passage.question_id,
        topic_id: hit.passage.topic_id,
        doc: hit.passage.doc,
        doc_id: hit.passage.doc_id,
        page: hit.passage.page,
        section: hit.passage.section,
        text: hit.passage.text,
    })
    .collect())
}

/// The method names a query uses: acronyms and mixed-case names of three letters or more
/// (LoRA, DPO, RMSNorm, ZeRO, FlashAttention), not plain capitalised words.
fn method_names(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            w.len() >= 3
                && w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
        })
        .map(String::from)
        .collect()
}

/// Whether a paper's title names a method: as a word of the title ("LoRA: Low-Rank
/// Adaptation…"), or as the initials of consecutive capitalised words ("Direct Preference
/// Optimization" for DPO, "Retrieval-Augmented Generation" for RAG).
fn title_names(title: &str, name: &str) -> bool {
    let words: Vec<&str> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| w.eq_ignore_ascii_case(name)) {
        return true;
    }
    let initials: Vec<char> = name.chars().collect();
    if initials.len() < 3 || !initials.iter().all(|c| c.is_ascii_uppercase()) {
        return false;
    }
    words.windows(initials.len()).any(|run| {
        run.iter()
            .zip(&initials)
            .all(|(w, &i)| w.starts_with(i) && w.chars().next().is_some_and(|c| c.is_uppercase()))
    })
}

/// Whether a text has a name as a word of its own (not inside a longer name: LoRA is not
/// QLoRA).
fn names_word(text: &str, name: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case(name))
}

/// Keeps one document from filling the top of a list (a long survey touches every topic and
/// would otherwise answer every query): beyond `PER_DOC_AT_TOP` passages of one document in
/// the first `TOP` places, the next ones wait below passages of other sources. When nothing
/// else is left, they come back in their order. The paper a query names is exempt: a
/// question about LoRA may fill the top with the LoRA paper.
fn diversify(hits: Vec<Hit>, want: usize, named: &HashSet<String>) -> Vec<Hit> {
    let mut top: Vec<Hit> = Vec::with_capacity(want);
    let mut waiting: Vec<Hit> = Vec::new();
    let mut per_doc: HashMap<String, usize> = HashMap::new();
    for hit in hits {
        if top.len() >= TOP {
            top.push(hit);
            continue;
        }
        let doc = hit.passage.doc_id.clone().filter(|d| !named.contains(d));
        let seen = doc
            .as_ref()
            .map_or(0, |d| per_doc.get(d).copied().unwrap_or(0));
        if seen >= PER_DOC_AT_TOP {
            waiting.push(hit);
            continue;
        }
        if let Some(doc) = doc {
            *per_doc.entry(doc).or_default() += 1;
        }
        top.push(hit);
    }
    // The waiting ones follow the top places, before anything ranked after them.
    let split = top.len().min(TOP);
    let rest = top.split_off(split);
    top.extend(waiting);
    top.extend(rest);
    top.truncate(want);
    top
}

fn dedupe(hits: Vec<Hit>, want: usize) -> Vec<Hit> {
    let lexicon = Lexicon::shared();
    let mut kept: Vec<(Hit, HashSet<String>)> = Vec::new();
    for hit in hits {
        if kept.len() == want {
            break;
        }
        let terms: HashSet<String> = lexicon.terms(&hit.passage.text).into_iter().collect();
        let duplicate = kept
            .iter()
            .any(|(_, other)| jaccard(&terms, other) >= DUPLICATE_JACCARD);
        if !duplicate {
            kept.push((hit, terms));
        }
    }
    kept.into_iter().map(|(hit, _)| hit).collect()
}

fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let shared = a.intersection(b).count() as f32;
    shared / ((a.len() + b.len()) as f32 - shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_names_a_paper_by_its_method() {
        assert_eq!(method_names("LoRA 论文建议把低秩矩阵加在哪里"), ["LoRA"]);
        assert_eq!(method_names("DPO 中的 β 参数控制什么"), ["DPO"]);
        assert!(method_names("What does the Transformer use?").is_empty());
        assert!(title_names(
            "LoRA: Low-Rank Adaptation of Large Language Models",
            "LoRA"
        ));
        assert!(title_names(
            "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
            "DPO"
        ));
        assert!(title_names(
            "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks",
            "RAG"
        ));
        assert!(!title_names(
            "QLoRA: Efficient Finetuning of Quantized LLMs",
            "LoRA"
        ));
        assert!(!title_names("Layer Normalization", "LN"));
    }

    fn hit(doc: &str) -> Hit {
        Hit {
            id: Uuid::new_v4(),
            score: 0.0,
            passage: Passage {
                source: Source::Doc,
                question_id: None,
                topic_id: None,
                doc_id: Some(doc.into()),
                doc: Some(format!("{doc}.pdf")),
                title: None,
                page: None,
                page_end: None,
                section: None,
                chunk: None,
                lang: Lang::En,
                text: String::new(),
            },
        }
    }

    #[test]
    fn one_document_holds_at_most_two_of_the_top_five() {
        let hits = [
            "survey", "survey", "survey", "lora", "survey", "bank", "rope",
        ]
        .map(hit)
        .to_vec();
        let docs: Vec<String> = diversify(hits, 7, &HashSet::new())
            .into_iter()
            .map(|h| h.passage.doc_id.unwrap())
            .collect();
        assert_eq!(
            docs,
            [
                "survey", "survey", "lora", "bank", "rope", "survey", "survey"
            ]
        );
        // With nothing else to show, the crowding document's passages still fill the list.
        let only = ["survey", "survey", "survey"].map(hit).to_vec();
        assert_eq!(diversify(only, 3, &HashSet::new()).len(), 3);
        // The paper the query names is not held back.
        let named = HashSet::from(["survey".to_string()]);
        let hits = ["survey", "survey", "survey", "lora"].map(hit).to_vec();
        let docs: Vec<String> = diversify(hits, 4, &named)
            .into_iter()
            .map(|h| h.passage.doc_id.unwrap())
            .collect();
        assert_eq!(docs, ["survey", "survey", "survey", "lora"]);
    }
}
