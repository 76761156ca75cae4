//! Evaluation sets and their scores, in the formats of `shared/eval/*.tsv` (lines starting
//! with `#` are comments):
//! - retrieval: `query<TAB>expected`, expected being a document's file name or a substring of
//!   one bank item's text; scored by Recall@k and MRR;
//! - answers: `question<TAB>paper<TAB>facts`, the paper an answer must cite and the key facts a
//!   good answer has (groups separated by `;`, alternatives within a group by `|`); scored by
//!   the share of groups present, whether the paper is cited, whether anything is;
//! - grades: `card<TAB>band<TAB>answer`, a learner's answer in the band `good`, `partial` or
//!   `wrong`; scored by band accuracy and the order good > partial > wrong per card.

use crate::error::{Classify, ErrorKind};
use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;

use crate::bank::Bank;
use crate::retrieve::SearchHit;

/// Ranks looked at: Recall@10 and MRR count hits up to here.
pub const DEPTH: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
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
    let text = std::fs::read_to_string(path).map_err(|error| EvalError::Read {
        path: name.clone(),
        error,
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

impl EvalQuery {
    /// Where the expected answer lives.
    pub fn source(&self) -> crate::store::Source {
        match self.expected {
            Expected::Doc(_) => crate::store::Source::Doc,
            Expected::BankItems(_) => crate::store::Source::Bank,
        }
    }
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

/// One question of an answer-quality set.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerCase {
    pub question: String,
    /// The file name of the paper an answer must cite.
    pub paper: String,
    /// Key facts: each group is satisfied by any of its alternatives.
    pub facts: Vec<Vec<String>>,
}

/// Reads `question<TAB>paper<TAB>facts` lines.
pub fn load_answer_cases(path: &Path) -> Result<Vec<AnswerCase>, EvalError> {
    tsv_rows(path, 3)?
        .into_iter()
        .map(|(_, fields)| {
            Ok(AnswerCase {
                question: fields[0].clone(),
                paper: fields[1].clone(),
                facts: fields[2]
                    .split(';')
                    .map(|group| {
                        group
                            .split('|')
                            .map(|alt| alt.trim().to_string())
                            .filter(|alt| !alt.is_empty())
                            .collect::<Vec<_>>()
                    })
                    .filter(|group| !group.is_empty())
                    .collect(),
            })
        })
        .collect()
}

impl AnswerCase {
    /// The share of fact groups the text states (any alternative, ignoring case).
    pub fn coverage(&self, text: &str) -> f64 {
        if self.facts.is_empty() {
            return 1.0;
        }
        let text = text.to_lowercase();
        let present = self
            .facts
            .iter()
            .filter(|group| group.iter().any(|alt| text.contains(&alt.to_lowercase())))
            .count();
        present as f64 / self.facts.len() as f64
    }
}

/// How good a learner's answer is meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    Good,
    Partial,
    Wrong,
}

impl Band {
    pub const ALL: [Band; 3] = [Band::Good, Band::Partial, Band::Wrong];

    /// The grades (0–5) this band should get.
    pub fn accepts(self, grade: u8) -> bool {
        match self {
            Band::Good => grade >= 4,
            Band::Partial => (2..=3).contains(&grade),
            Band::Wrong => grade <= 1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Good => "good",
            Band::Partial => "partial",
            Band::Wrong => "wrong",
        }
    }
}

/// One learner's answer of a grading set.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeCase {
    pub card_id: String,
    pub band: Band,
    pub answer: String,
}

/// Reads `card<TAB>band<TAB>answer` lines.
pub fn load_grade_cases(path: &Path) -> Result<Vec<GradeCase>, EvalError> {
    tsv_rows(path, 3)?
        .into_iter()
        .map(|(line, fields)| {
            let band = match fields[1].as_str() {
                "good" => Band::Good,
                "partial" => Band::Partial,
                "wrong" => Band::Wrong,
                _ => {
                    return Err(EvalError::Format {
                        path: path.display().to_string(),
                        line,
                    });
                }
            };
            Ok(GradeCase {
                card_id: fields[0].clone(),
                band,
                answer: fields[2].clone(),
            })
        })
        .collect()
}

/// Grading figures: how many grades fell in their band, and for how many cards the grades
/// kept the order good > partial > wrong.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GradeScores {
    pub answers: usize,
    pub band_accuracy: f64,
    pub cards: usize,
    pub ordered_cards: usize,
    pub mean_good: f64,
    pub mean_partial: f64,
    pub mean_wrong: f64,
}

impl GradeScores {
    pub fn of(graded: &[(GradeCase, u8)]) -> GradeScores {
        let n = graded.len().max(1) as f64;
        let in_band = graded.iter().filter(|(c, g)| c.band.accepts(*g)).count();
        let mean = |band: Band| {
            let grades: Vec<f64> = graded
                .iter()
                .filter(|(c, _)| c.band == band)
                .map(|(_, g)| f64::from(*g))
                .collect();
            grades.iter().sum::<f64>() / grades.len().max(1) as f64
        };
        let mut cards: Vec<&str> = graded.iter().map(|(c, _)| c.card_id.as_str()).collect();
        cards.sort_unstable();
        cards.dedup();
        let grade_of = |card: &str, band: Band| {
            graded
                .iter()
                .find(|(c, _)| c.card_id == card && c.band == band)
                .map(|(_, g)| *g)
        };
        let ordered = cards
            .iter()
            .filter(|card| {
                matches!(
                    (grade_of(card, Band::Good), grade_of(card, Band::Partial), grade_of(card, Band::Wrong)),
                    (Some(g), Some(p), Some(w)) if g > p && p > w
                )
            })
            .count();
        GradeScores {
            answers: graded.len(),
            band_accuracy: in_band as f64 / n,
            cards: cards.len(),
            ordered_cards: ordered,
            mean_good: mean(Band::Good),
            mean_partial: mean(Band::Partial),
            mean_wrong: mean(Band::Wrong),
        }
    }
}

/// The non-comment lines of a TSV file with (at least) `fields` tab-separated fields, with
/// their 1-based line numbers.
fn tsv_rows(path: &Path, fields: usize) -> Result<Vec<(usize, Vec<String>)>, EvalError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| EvalError::Read {
        path: name.clone(),
        error,
    })?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<String> = line
            .splitn(fields, '\t')
            .map(|f| f.trim().to_string())
            .collect();
        if parts.len() < fields || parts.iter().any(String::is_empty) {
            return Err(EvalError::Format {
                path: name,
                line: i + 1,
            });
        }
        rows.push((i + 1, parts));
    }
    Ok(rows)
}

impl Classify for EvalError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Input
    }
}

/// Dice coefficient of two texts' character bigrams, 0 to 1: how much text they share whatever
/// its order (OCR may order a figure's labels or a table's cells differently from a text layer).
pub fn bigram_dice(a: &str, b: &str) -> f64 {
    let grams = |s: &str| {
        let chars: Vec<char> = s.chars().collect();
        let mut counts = std::collections::HashMap::<(char, char), usize>::new();
        for w in chars.windows(2) {
            *counts.entry((w[0], w[1])).or_default() += 1;
        }
        counts
    };
    let (ga, gb) = (grams(a), grams(b));
    let shared: usize = ga
        .iter()
        .map(|(g, n)| (*n).min(gb.get(g).copied().unwrap_or(0)))
        .sum();
    let total = ga.values().sum::<usize>() + gb.values().sum::<usize>();
    2.0 * shared as f64 / total.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_facts_count_groups_with_any_alternative() {
        let case = AnswerCase {
            question: "q".into(),
            paper: "p.pdf".into(),
            facts: vec![
                vec!["W_q".into(), "query".into()],
                vec!["W_v".into(), "value".into()],
                vec!["注意力".into(), "attention".into()],
            ],
        };
        assert_eq!(
            case.coverage("LoRA adapts the Query and Value projections."),
            2.0 / 3.0
        );
        assert_eq!(case.coverage("只改 W_q、W_v 两个注意力矩阵"), 1.0);
        assert_eq!(case.coverage(""), 0.0);
    }

    #[test]
    fn grades_are_scored_by_band_and_order() {
        let case = |card: &str, band| GradeCase {
            card_id: card.into(),
            band,
            answer: String::new(),
        };
        let graded = vec![
            (case("a", Band::Good), 5),
            (case("a", Band::Partial), 3),
            (case("a", Band::Wrong), 1),
            (case("b", Band::Good), 4),
            (case("b", Band::Partial), 4),
            (case("b", Band::Wrong), 0),
        ];
        let s = GradeScores::of(&graded);
        assert_eq!((s.answers, s.cards, s.ordered_cards), (6, 2, 1));
        assert!((s.band_accuracy - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!((s.mean_good, s.mean_partial, s.mean_wrong), (4.5, 3.5, 0.5));
    }

    #[test]
    fn bigram_dice_ignores_order_but_not_content() {
        assert_eq!(bigram_dice("abcdef", "defabc"), 0.8);
        assert_eq!(bigram_dice("abc", "xyz"), 0.0);
        assert_eq!(bigram_dice("并使用大规模", "并使用大规模"), 1.0);
    }

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
