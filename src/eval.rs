//! Retrieval evaluation: scores a set of queries with known answers (Recall@k and MRR).
//!
//! The file format is the one in `shared/eval/*.tsv`: one query per line, a tab, then what
//! should be found — a document's file name, or a substring of one bank item's text (its
//! question or one of its points).
//! Lines starting with `#` are comments.

use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;

use crate::bank::Bank;
use crate::retrieve::SearchHit;

/// Ranks looked at: Recall@10 and MRR count hits up to here.
pub const DEPTH: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected \"query<TAB>expected\"")]
    Format { path: String, line: usize },
    #[error("{path}:{line}: no bank question contains {expected:?}")]
    UnknownBankItem {
        path: String,
        line: usize,
        expected: String,
    },
}

#[derive(Debug, Clone)]
pub enum Expected {
    Doc(String),
    /// Any of these bank questions (usually exactly one).
    BankItems(HashSet<String>),
}

#[derive(Debug, Clone)]
pub struct EvalQuery {
    pub query: String,
    pub expected: Expected,
    pub expected_text: String,
}

pub fn load(path: &Path, bank: &Bank) -> Result<Vec<EvalQuery>, EvalError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: name.clone(),
        source,
    })?;
    let mut queries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (query, expected) = line.split_once('\t').ok_or(EvalError::Format {
            path: name.clone(),
            line: i + 1,
        })?;
        let expected = expected.trim();
        let is_file = [".pdf", ".md", ".markdown", ".txt"]
            .iter()
            .any(|ext| expected.to_lowercase().ends_with(ext));
        let target = if is_file {
            Expected::Doc(expected.to_string())
        } else {
            let ids: HashSet<String> = bank
                .questions()
                .filter(|q| {
                    q.text.contains(expected) || q.points.iter().any(|p| p.contains(expected))
                })
                .map(|q| q.id.clone())
                .collect();
            if ids.is_empty() {
                return Err(EvalError::UnknownBankItem {
                    path: name,
                    line: i + 1,
                    expected: expected.into(),
                });
            }
            Expected::BankItems(ids)
        };
        queries.push(EvalQuery {
            query: query.trim().to_string(),
            expected: target,
            expected_text: expected.into(),
        });
    }
    Ok(queries)
}

/// 1-based rank of the first hit that satisfies the query, if any within the hits.
pub fn first_relevant(query: &EvalQuery, hits: &[SearchHit]) -> Option<usize> {
    hits.iter()
        .position(|hit| match &query.expected {
            Expected::Doc(name) => hit.doc.as_deref() == Some(name.as_str()),
            Expected::BankItems(ids) => hit.question_id.as_ref().is_some_and(|id| ids.contains(id)),
        })
        .map(|i| i + 1)
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Scores {
    pub queries: usize,
    #[serde(rename = "recall@1")]
    pub recall_at_1: f64,
    #[serde(rename = "recall@5")]
    pub recall_at_5: f64,
    #[serde(rename = "recall@10")]
    pub recall_at_10: f64,
    pub mrr: f64,
}

impl Scores {
    /// Scores from the rank each query's answer was found at.
    pub fn from_ranks(ranks: &[Option<usize>]) -> Scores {
        let n = ranks.len();
        if n == 0 {
            return Scores::default();
        }
        let recall =
            |k: usize| ranks.iter().filter(|r| r.is_some_and(|r| r <= k)).count() as f64 / n as f64;
        let mrr = ranks
            .iter()
            .map(|r| r.filter(|&r| r <= DEPTH).map_or(0.0, |r| 1.0 / r as f64))
            .sum::<f64>()
            / n as f64;
        Scores {
            queries: n,
            recall_at_1: recall(1),
            recall_at_5: recall(5),
            recall_at_10: recall(10),
            mrr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_from_ranks() {
        let s = Scores::from_ranks(&[Some(1), Some(3), None, Some(7)]);
        assert_eq!(s.queries, 4);
        assert_eq!(s.recall_at_1, 0.25);
        assert_eq!(s.recall_at_5, 0.5);
        assert_eq!(s.recall_at_10, 0.75);
        assert!((s.mrr - (1.0 + 1.0 / 3.0 + 1.0 / 7.0) / 4.0).abs() < 1e-12);
    }
}
