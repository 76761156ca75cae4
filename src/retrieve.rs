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
use crate::lexical::{Lexicon, language_of};
use crate::store::{Hit, Mode, Passage, Scope, SearchRequest, Source, StoreError, VectorStore};
use ts_rs::TS;

/// Candidates drawn from each partition and each side.
const CANDIDATES: usize = 50;
/// The depth whose score serves as a partition's background.
const BACKGROUND_RANK: usize = 20;
/// RRF's rank constant.
const RRF_K: f32 = 60.0;
/// Passages sharing this much of their vocabulary are one passage to a reader.
const DUPLICATE_JACCARD: f32 = 0.8;

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
#[derive(Debug, Clone, Serialize)]
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

/// A query's dense vectors: as written, and bridged with its glossary translations, which
/// reaches passages in the other language better.
#[derive(Debug, Clone)]
pub struct QueryVectors {
    pub text: String,
    pub lang: &'static str,
    pub dense: Vec<f32>,
    pub bridged: Option<Vec<f32>>,
}

impl QueryVectors {
    /// Embeds queries and their bridged forms in one batch.
    pub fn embed(embedder: &Embedder, queries: &[String]) -> Result<Vec<QueryVectors>, EmbedError> {
        let glossary = Glossary::shared();
        let bridges: Vec<Option<String>> = queries
            .iter()
            .map(|q| glossary.bridge(q, Lexicon::shared()))
            .collect();
        let mut texts: Vec<String> = queries.to_vec();
        texts.extend(bridges.iter().flatten().cloned());
        let mut vectors = embedder.embed_queries(&texts)?.into_iter();
        let originals: Vec<Vec<f32>> = vectors.by_ref().take(queries.len()).collect();
        Ok(queries
            .iter()
            .zip(originals)
            .zip(&bridges)
            .map(|((text, dense), bridge)| QueryVectors {
                text: text.clone(),
                lang: language_of(text),
                dense,
                bridged: bridge.as_ref().and_then(|_| vectors.next()),
            })
            .collect())
    }

    /// The vector to search passages of language `lang` with.
    fn for_lang(&self, lang: &str) -> &[f32] {
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
    let sparse = Lexicon::shared().query_vector(&query.text);
    let fetch = |scope: Scope, mode: Mode| {
        let lang = scope.lang.clone().unwrap_or_else(|| "zh".into());
        store.search(&SearchRequest {
            dense: query.for_lang(&lang),
            sparse: &sparse,
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
        lang: Some("zh".into()),
        ..Scope::default()
    };
    let docs = Scope {
        source: Some(Source::Doc),
        doc_id: options.doc_id.clone(),
        ..Scope::default()
    };
    let docs_in = |lang: &str| Scope {
        lang: Some(lang.into()),
        ..docs.clone()
    };
    let source = match options.doc_id {
        Some(_) => Some(Source::Doc),
        None => options.source,
    };
    let (dense_parts, lexical_parts) = match source {
        Some(Source::Bank) => (vec![bank.clone()], vec![bank]),
        Some(Source::Doc) => (vec![docs_in("zh"), docs_in("en")], vec![docs]),
        None => (
            vec![bank.clone(), docs_in("zh"), docs_in("en")],
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

    // Reciprocal rank fusion over the (calibrated) dense and the lexical rankings.
    let mut fused: HashMap<Uuid, f32> = HashMap::new();
    for mut list in lists {
        list.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (rank, (id, _)) in list.into_iter().enumerate() {
            *fused.entry(id).or_default() += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let mut ranked: Vec<Hit> = fused
        .into_iter()
        .filter_map(|(id, score)| {
            passages
                .remove(&id)
                .map(|passage| Hit { id, score, passage })
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));

    Ok(dedupe(ranked, options.top_k)
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
