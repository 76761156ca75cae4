//! Grading a free-text answer against a rubric taken from the sources.
//!
//! A small model cannot grade an answer as a whole (asked for a 0–5 grade, it gives 5 to
//! everything), nor tell reliably whether an answer *states* a point. So the grade is built
//! from separate, small decisions:
//! - the rubric: the key sentences of the user's documents that answer the question (else the
//!   bank item's points, else key points the model writes from its general knowledge, marked
//!   as such);
//! - coverage, with no model: the share of each point's key terms the answer mentions, in
//!   either language (the glossary bridges Chinese and English);
//! - contradiction, by the model: for each point, how likely it says the answer "expresses
//!   the same idea" as the point, against how likely it says so when the question itself is
//!   given as the answer. An answer that contradicts a point lowers that probability well
//!   below the baseline; an answer that agrees keeps it.
//!
//! Blank answers, answers that copy the question and answers about something else score 0
//! before any model call.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use super::schedule::Rating;
use super::{Card, CardKind, QuizError};
use crate::cancel::Cancel;
use crate::glossary::Glossary;
use crate::lexical::Lexicon;
use crate::library::Library;
use crate::llm::{ChatClient, ChatOptions, Message};
use crate::retrieve::{Query, SearchHit};
use crate::store::Source;
use crate::text::{Lang, excerpt, sentences};
use crate::tutor::evidence::{self, KeySentence};
use crate::tutor::{Citation, label};

/// Points in a rubric.
const RUBRIC_POINTS: usize = 4;
/// Rubric points may score this far below the best sentence: wider than an answer's quotes,
/// since the best sentences of a "what is the formula" question are formulas, which are not
/// points.
const RUBRIC_MARGIN: f32 = 0.10;
/// A point counts as stated when the answer mentions this share of its key terms.
const STATED_COVERAGE: f32 = 0.5;
/// An answer whose character pairs are mostly the question's copies the question.
const COPIED_QUESTION: f32 = 0.7;
/// Fewer letters or digits than this is a blank answer.
const MIN_CONTENT_CHARS: usize = 4;

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The answer says it.
    Stated,
    /// The answer does not say it.
    Missed,
    /// The answer says something the point contradicts.
    Contradicted,
}

/// Where a rubric's points come from.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointsFrom {
    /// Key sentences of the user's documents (or of a generated card's passage).
    Sources,
    /// The question bank's own points for the item.
    Bank,
    /// The model's general knowledge: the user's documents do not cover the question.
    Model,
    /// Nothing to grade against.
    Nothing,
}

/// One point of a rubric and how the answer fared on it.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RubricPoint {
    pub text: String,
    /// The source it comes from, among the grading's sources.
    pub n: Option<usize>,
    pub verdict: Verdict,
    /// Share of the point's key terms the answer mentions (`None`: the point has none).
    pub coverage: Option<f32>,
    /// How much less the model agreed with the answer than with the bare question.
    pub drop: Option<f32>,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grading {
    /// 0–5 when the answer was graded; `None` for self-grading.
    pub score: Option<u8>,
    /// Why the score is 0 without a judgement (blank, the question copied, off-topic).
    pub zero_reason: Option<String>,
    pub points: Vec<RubricPoint>,
    pub points_from: PointsFrom,
    /// The points the answer states, the ones it misses, and what it says against a point
    /// (the learner's words and the source's).
    pub correct: Vec<String>,
    pub missed: Vec<String>,
    pub wrong: Vec<String>,
    /// What a good answer says: the rubric's points with their sources.
    pub model_answer: String,
    /// Numbered sources the answer was graded against.
    pub sources: Vec<Citation>,
    /// Citations in the model answer that pointed at no source; removed.
    pub dropped_citations: Vec<usize>,
    /// The rating the score suggests.
    pub suggested: Option<Rating>,
}

/// The thresholds on the mean drop of agreement that mark an answer wrong (1) and plainly
/// wrong (0), per model: a larger model's probabilities move further.
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    wrong: f32,
    plainly_wrong: f32,
}

fn thresholds(llm: &ChatClient) -> Thresholds {
    let model = llm.provider().model.to_lowercase();
    if model.contains("0.5b") {
        Thresholds {
            wrong: 0.06,
            plainly_wrong: 0.15,
        }
    } else {
        Thresholds {
            wrong: 0.20,
            plainly_wrong: 0.35,
        }
    }
}

/// A rubric and the sources its points come from.
#[derive(Debug, Clone)]
pub struct Rubric {
    pub points: Vec<(String, Option<usize>)>,
    pub from: PointsFrom,
    pub sources: Vec<Citation>,
}

/// The rubric of a card: its generated question's passage and answer, or the key sentences
/// of the user's documents that answer it, or the bank's points, or (with a model) key points
/// from the model's general knowledge.
pub fn rubric(
    library: &Library,
    llm: Option<&ChatClient>,
    card: &Card,
    cancel: &Cancel,
) -> Result<Rubric, QuizError> {
    let lang = Lang::of(&card.question);
    if let (CardKind::Generated, Some(q)) = (&card.kind, &card.source) {
        let own = SearchHit {
            rank: 0,
            score: 0.0,
            source: Source::Doc,
            question_id: None,
            topic_id: None,
            doc: Some(q.doc.clone()),
            doc_id: Some(q.doc_id.clone()),
            page: q.page,
            section: None,
            text: q.passage.clone(),
        };
        let sources = vec![Citation {
            n: 1,
            label: label(&own),
            hit: own,
        }];
        let points = sentences(&q.answer)
            .into_iter()
            .take(RUBRIC_POINTS)
            .map(|s| (s, Some(1)))
            .collect();
        return Ok(Rubric {
            points,
            from: PointsFrom::Sources,
            sources,
        });
    }
    let text = format!("{} {}", card.question, card.points.join(" "));
    let translation = match llm {
        Some(llm) => {
            crate::translate::translate(library, llm, text.trim(), cancel).unwrap_or_default()
        }
        None => None,
    };
    let query = Query::translated(text.trim(), translation);
    let found = evidence::gather(library, &query, card.topic_id.as_deref())?;
    // The sources are preferred down to the lower of the two coverage thresholds: the
    // alternative, key points a small model writes from memory, is often wrong (the 1.5B
    // model wrote LayerNorm's formula with an extra "+ gamma * x").
    let near = found
        .key_sentences
        .first()
        .is_some_and(|k| k.score >= evidence::COVERED_WITHOUT_TRANSLATION);
    if found.covered || near {
        let keys = evidence::key_sentences_up_to(
            library,
            &query,
            &found.passages,
            2 * RUBRIC_POINTS,
            RUBRIC_MARGIN,
        )
        .map_err(|e| QuizError::Library(e.into()))?;
        let points = rubric_points(keys, &found.passages);
        if !points.is_empty() {
            return Ok(Rubric {
                points,
                from: PointsFrom::Sources,
                sources: found.passages,
            });
        }
    }
    if !card.points.is_empty() {
        return Ok(Rubric {
            points: card.points.iter().map(|p| (p.clone(), None)).collect(),
            from: PointsFrom::Bank,
            sources: found.passages,
        });
    }
    let Some(llm) = llm else {
        return Ok(Rubric {
            points: Vec::new(),
            from: PointsFrom::Nothing,
            sources: found.passages,
        });
    };
    Ok(Rubric {
        points: model_points(llm, &card.question, lang, cancel)?
            .into_iter()
            .map(|p| (p, None))
            .collect(),
        from: PointsFrom::Model,
        sources: found.passages,
    })
}

/// Key sentences as rubric points, all from the one document that answers the question best
/// (points drawn from a paper and a survey at once grade against two framings): asides
/// ("Moreover…") and reports of results are facts of the paper, not of the concept, so they
/// go last; captions and sentences about other papers ("[187, 188]", "et al.") are not points.
fn rubric_points(keys: Vec<KeySentence>, passages: &[Citation]) -> Vec<(String, Option<usize>)> {
    let doc_of = |n: usize| {
        passages
            .iter()
            .find(|c| c.n == n)
            .and_then(|c| c.hit.doc_id.clone())
    };
    let keys: Vec<KeySentence> = keys.into_iter().filter(|k| is_point(&k.text)).collect();
    // The document whose best sentences score highest on average (its top three).
    let mut docs: Vec<(Option<String>, f32)> = Vec::new();
    for doc in keys.iter().map(|k| doc_of(k.n)) {
        if docs.iter().any(|(d, _)| *d == doc) {
            continue;
        }
        let mut scores: Vec<f32> = keys
            .iter()
            .filter(|k| doc_of(k.n) == doc)
            .map(|k| k.score)
            .collect();
        scores.truncate(3);
        let mean = scores.iter().sum::<f32>() / scores.len().max(1) as f32;
        docs.push((doc, mean));
    }
    let best = docs
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(d, _)| d);
    let mut keys: Vec<KeySentence> = keys
        .into_iter()
        .filter(|k| best.as_ref().is_none_or(|b| doc_of(k.n) == *b))
        .collect();
    keys.sort_by(|a, b| {
        let rank = |k: &KeySentence| {
            k.score
                - if is_aside_or_result(&k.text) {
                    0.03
                } else {
                    0.0
                }
        };
        rank(b).total_cmp(&rank(a))
    });
    keys.into_iter()
        .take(RUBRIC_POINTS)
        .map(|k| (evidence::quote(&k.text), Some(k.n)))
        .collect()
}

/// A sentence that can be a rubric point: a statement of the concept, not a caption, a list
/// item, a pointer to code or a comparison of results, and not about other papers.
fn is_point(sentence: &str) -> bool {
    // A learner writes a formula in their own notation; a PDF's extraction of one cannot be
    // compared with it.
    if crate::text::looks_like_formula(sentence) {
        return false;
    }
    let lower = sentence.trim_start().to_lowercase();
    const CAPTIONS: [&str; 5] = ["figure", "fig.", "table", "图", "表"];
    if CAPTIONS.iter().any(|c| lower.starts_with(c)) {
        return false;
    }
    // Pointers to code, to results, to other parts of the paper or to others' work.
    const NOT_POINTS: [&str; 11] = [
        "http",
        "github",
        "code will be",
        "codes will be",
        "comparing",
        "we examine",
        "following section",
        "next section",
        "we will study",
        "the authors show",
        "we thank",
    ];
    if NOT_POINTS.iter().any(|c| lower.contains(c)) {
        return false;
    }
    // "As discussed in Section 5.3.1", "正如在第 5.3.1节中讨论的": about the paper's outline.
    let section_pointer = ["section ", "sec. ", "§"].iter().any(|w| {
        lower
            .split(w)
            .skip(1)
            .any(|rest| rest.trim_start().starts_with(|c: char| c.is_ascii_digit()))
    }) || lower.split('第').skip(1).any(|rest| {
        let rest = rest.trim_start();
        rest.starts_with(|c: char| c.is_ascii_digit())
            && rest
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
                .starts_with(['节', '章'])
    });
    if section_pointer {
        return false;
    }
    // "4) P-tuning: …", "(2) we …": an item of a list, out of its list.
    let enumerated = lower.trim_start_matches('(');
    if enumerated
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit())
        && enumerated
            .chars()
            .nth(1)
            .is_some_and(|c| c == ')' || c == '.')
    {
        return false;
    }
    // Reference markers: "[12]", "[187, 188]", "et al."
    let cites_others = lower.contains("et al")
        || lower
            .split('[')
            .skip(1)
            .any(|rest| rest.chars().next().is_some_and(|c| c.is_ascii_digit()));
    !cites_others
}

fn is_aside_or_result(sentence: &str) -> bool {
    let lower = sentence.to_lowercase();
    const ASIDES: [&str; 5] = [
        "also",
        "furthermore",
        "moreover",
        "in addition",
        "additionally",
    ];
    const RESULTS: [&str; 8] = [
        "outperform",
        "state-of-the-art",
        "sota",
        "benchmark",
        "accuracy",
        "bleu",
        "experiment",
        "result",
    ];
    ASIDES.iter().any(|a| lower.starts_with(a)) || RESULTS.iter().any(|r| lower.contains(r))
}

/// Key points a correct answer states, from the model's general knowledge (used when the
/// documents do not cover the question and the bank lists no points).
fn model_points(
    llm: &ChatClient,
    question: &str,
    lang: Lang,
    cancel: &Cancel,
) -> Result<Vec<String>, QuizError> {
    let schema = json!({
        "type": "object",
        "properties": {"points": {"type": "array", "items": {"type": "string", "maxLength": 120}, "minItems": 2, "maxItems": 3}},
        "required": ["points"],
        "additionalProperties": false
    });
    let reply = llm.complete(
        &[
            Message::system(format!(
                "You are an interviewer for LLM engineering jobs. List the 2 or 3 key facts a correct answer to the question must state, each as one short factual sentence in {}.",
                lang.prompt_name()
            )),
            Message::user(question),
        ],
        &ChatOptions {
            temperature: Some(0.0),
            max_tokens: Some(400),
            json_schema: Some(schema),
            ..ChatOptions::default()
        },
        cancel,
    )?;
    #[derive(Deserialize)]
    struct Points {
        points: Vec<String>,
    }
    Ok(serde_json::from_str::<Points>(reply.trim())
        .map(|p| p.points)
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.trim().to_string())
        // A small model's formulas are often wrong (the 1.5B wrote LayerNorm's with an extra
        // "+ gamma * x"), and a rubric must not teach a wrong one.
        .filter(|p| !p.is_empty() && !crate::text::looks_like_formula(p))
        // Nor code, nor a sentence that only announces what follows ("…as follows:").
        .filter(|p| !p.contains('`') && !p.ends_with([':', '：']))
        .collect())
}

/// Grades an answer; with no model, returns the rubric and the sources for self-grading.
pub fn grade(
    library: &Library,
    llm: Option<&ChatClient>,
    card: &Card,
    answer: &str,
    cancel: &Cancel,
) -> Result<Grading, QuizError> {
    let rubric = rubric(library, llm, card, cancel)?;
    grade_against(llm, &card.question, &rubric, answer, cancel)
}

/// Grades an answer to `question` against a rubric made already (an interview's follow-up is
/// graded against the one point it probes).
pub fn grade_against(
    llm: Option<&ChatClient>,
    question: &str,
    rubric: &Rubric,
    answer: &str,
    cancel: &Cancel,
) -> Result<Grading, QuizError> {
    let lang = Lang::of(question);
    let mut grading = Grading {
        score: None,
        zero_reason: None,
        points: rubric
            .points
            .iter()
            .map(|(text, n)| RubricPoint {
                text: text.clone(),
                n: *n,
                verdict: Verdict::Missed,
                coverage: None,
                drop: None,
            })
            .collect(),
        points_from: rubric.from,
        correct: Vec::new(),
        missed: Vec::new(),
        wrong: Vec::new(),
        model_answer: model_answer(rubric, lang),
        sources: rubric.sources.clone(),
        dropped_citations: Vec::new(),
        suggested: None,
    };
    let Some(llm) = llm else {
        return Ok(grading);
    };
    if let Some(reason) = zero_reason(question, answer, rubric) {
        grading.score = Some(0);
        grading.zero_reason = Some(reason.to_string());
        grading.missed = grading.points.iter().map(|p| cite(&p.text, p.n)).collect();
        grading.suggested = Some(Rating::Again);
        return Ok(grading);
    }
    let thresholds = thresholds(llm);
    let glossary = Glossary::builtin();
    let lexicon = Lexicon::shared();
    let question_terms = glossary.english_terms(question, lexicon);
    let answer_terms = answer_terms(answer);
    let mut drops = Vec::new();
    for point in &mut grading.points {
        point.coverage = coverage(&key_terms(&point.text), &question_terms, &answer_terms);
        let agreement = agreement(llm, &point.text, answer, cancel)?;
        let baseline = baseline(llm, &point.text, question, cancel)?;
        let drop = baseline - agreement;
        point.drop = Some(drop);
        drops.push(drop);
    }
    let mean_drop = drops.iter().sum::<f32>() / drops.len().max(1) as f32;
    let union = union_coverage(&grading.points, &question_terms, &answer_terms);
    for point in &mut grading.points {
        let stated = point.coverage.is_some_and(|c| c >= STATED_COVERAGE);
        let drop = point.drop.unwrap_or(0.0);
        point.verdict = if drop >= thresholds.wrong && mean_drop >= thresholds.wrong {
            Verdict::Contradicted
        } else if stated && drop < thresholds.plainly_wrong {
            Verdict::Stated
        } else {
            Verdict::Missed
        };
    }
    let score = if grading.points.is_empty() {
        // Nothing to grade against: the answer is on topic, and that is all that is known.
        2
    } else if mean_drop >= thresholds.plainly_wrong {
        0
    } else if mean_drop >= thresholds.wrong {
        1
    } else {
        let stated = grading
            .points
            .iter()
            .filter(|p| p.verdict == Verdict::Stated)
            .count() as f32
            / grading.points.len() as f32;
        2 + (3.0 * (union + stated) / 2.0 + 0.5).floor() as u8
    };
    let score = score.min(5);
    if mean_drop >= thresholds.wrong
        && !grading
            .points
            .iter()
            .any(|p| p.verdict == Verdict::Contradicted)
        && let Some(point) = grading
            .points
            .iter_mut()
            .max_by(|a, b| a.drop.unwrap_or(0.0).total_cmp(&b.drop.unwrap_or(0.0)))
    {
        point.verdict = Verdict::Contradicted;
    }
    for point in &grading.points {
        match point.verdict {
            Verdict::Stated => grading.correct.push(cite(&point.text, point.n)),
            Verdict::Missed => grading.missed.push(cite(&point.text, point.n)),
            Verdict::Contradicted => grading.wrong.push(format!(
                "{} “{}” — {} {}",
                Words::of(lang).you_wrote,
                excerpt(&closest_clause(answer, &point.text), 160),
                Words::of(lang).source_says,
                cite(&point.text, point.n)
            )),
        }
    }
    grading.score = Some(score);
    grading.suggested = Some(Rating::suggested_by(score));
    Ok(grading)
}

/// Why an answer scores 0 before any judgement: blank, the question copied, or nothing of
/// the rubric or the question in it, in either language.
fn zero_reason(question: &str, answer: &str, rubric: &Rubric) -> Option<&'static str> {
    let content = answer.chars().filter(|c| c.is_alphanumeric()).count();
    let answer = answer.trim();
    if content < MIN_CONTENT_CHARS
        || ["不知道", "不会", "i don't know", "no idea"].contains(&answer.to_lowercase().as_str())
    {
        return Some("blank");
    }
    let pairs = |text: &str| -> HashSet<(char, char)> {
        let chars: Vec<char> = text
            .to_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        chars.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (of_answer, of_question) = (pairs(answer), pairs(question));
    if !of_answer.is_empty()
        && of_answer.intersection(&of_question).count() as f32 / of_answer.len() as f32
            >= COPIED_QUESTION
    {
        return Some("copies the question");
    }
    // Words can only show an answer is about something else when it is written in the
    // language of the question or of a point: an English answer to a Chinese question with a
    // Chinese rubric may share no word with either and be right, so the model judges it.
    let lang = Lang::of(answer);
    if Lang::of(question) != lang && rubric.points.iter().all(|(p, _)| Lang::of(p) != lang) {
        return None;
    }
    let glossary = Glossary::builtin();
    let lexicon = Lexicon::shared();
    let answer_terms = answer_terms(answer);
    let on_rubric = rubric
        .points
        .iter()
        .any(|(p, _)| !key_terms(p).is_disjoint(&answer_terms));
    let on_question = !glossary
        .english_terms(question, lexicon)
        .is_disjoint(&answer_terms)
        || shares_words(question, answer);
    (!on_rubric && !on_question).then_some("off-topic")
}

/// Whether two texts share a content word (same language: jieba words, stemmed English).
fn shares_words(a: &str, b: &str) -> bool {
    let lexicon = Lexicon::shared();
    let a: HashSet<String> = lexicon
        .terms(a)
        .into_iter()
        .filter(|t| t.chars().count() >= 2)
        .collect();
    lexicon
        .terms(b)
        .into_iter()
        .any(|t| t.chars().count() >= 2 && a.contains(&t))
}

/// A point's key terms: the glossary's terms it names and its acronyms and model names
/// (LoRA, MQA, GPT-3, FlashAttention), lower-cased.
pub(crate) fn key_terms(point: &str) -> HashSet<String> {
    let mut terms = Glossary::builtin().english_terms(point, Lexicon::shared());
    terms.extend(names(point));
    terms
}

/// The terms of an answer to meet a point's with: the glossary's (in either language) and the
/// names it uses.
pub(crate) fn answer_terms(answer: &str) -> HashSet<String> {
    let mut terms = Glossary::builtin().english_terms(answer, Lexicon::shared());
    terms.extend(names(answer));
    terms
}

/// Acronyms and mixed-case names: a capital letter after the first character (LoRA, KV,
/// FlashAttention, GPT-3, W_q).
fn names(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| w.len() >= 2 && w.chars().skip(1).any(|c| c.is_ascii_uppercase()))
        .map(|w| w.trim_matches('-').to_lowercase())
}

/// The share of a point's key terms (other than those the question names: restating the
/// question earns nothing) that the answer mentions.
fn coverage(
    point: &HashSet<String>,
    question: &HashSet<String>,
    answer: &HashSet<String>,
) -> Option<f32> {
    let wanted: Vec<&String> = point.iter().filter(|t| !question.contains(*t)).collect();
    if wanted.is_empty() {
        return None;
    }
    let hit = wanted.iter().filter(|t| mentions(answer, t)).count();
    Some(hit as f32 / wanted.len() as f32)
}

/// Coverage of all the points' key terms together.
fn union_coverage(
    points: &[RubricPoint],
    question: &HashSet<String>,
    answer: &HashSet<String>,
) -> f32 {
    let all: HashSet<String> = points.iter().flat_map(|p| key_terms(&p.text)).collect();
    coverage(&all, question, answer).unwrap_or(0.0)
}

/// A term is mentioned when the answer has it, or a longer or shorter form of it ("kv cach"
/// and "kv").
pub(crate) fn mentions(answer: &HashSet<String>, term: &str) -> bool {
    answer.contains(term)
        || answer.iter().any(|a| {
            a.len() >= 3 && term.len() >= 3 && (a.contains(term) || term.contains(a.as_str()))
        })
}

fn judge_prompt(point: &str, answer: &str) -> Vec<Message> {
    vec![
        Message::system("You are a strict examiner. Answer yes or no."),
        Message::user(format!(
            "Fact from the paper:\n{point}\n\nStudent's answer:\n{answer}\n\nDoes the student's answer express the same idea as the fact?"
        )),
    ]
}

/// How likely the model says the answer expresses the point.
fn agreement(
    llm: &ChatClient,
    point: &str,
    answer: &str,
    cancel: &Cancel,
) -> Result<f32, QuizError> {
    Ok(llm.yes_probability(&judge_prompt(point, answer), cancel)?)
}

/// The same, with the question itself as the answer: on-topic words alone earn this much.
/// Kept per model, point and question for the life of the process.
fn baseline(
    llm: &ChatClient,
    point: &str,
    question: &str,
    cancel: &Cancel,
) -> Result<f32, QuizError> {
    type Key = (String, String, String);
    static CACHE: OnceLock<Mutex<HashMap<Key, f32>>> = OnceLock::new();
    let key = (
        llm.provider().model.clone(),
        point.to_string(),
        question.to_string(),
    );
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(p) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(*p);
    }
    let p = agreement(llm, point, question, cancel)?;
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, p);
    Ok(p)
}

/// The learner's clause that shares most of the point's terms (what a contradiction quotes).
pub(crate) fn closest_clause(answer: &str, point: &str) -> String {
    let lexicon = Lexicon::shared();
    let mut point_terms = key_terms(point);
    point_terms.extend(lexicon.plain_terms(point));
    let clauses: Vec<&str> = answer
        .split(['。', '；', ';', '，', ',', '.', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    clauses
        .iter()
        .max_by_key(|c| {
            let mut terms = answer_terms(c);
            terms.extend(lexicon.plain_terms(c));
            point_terms.iter().filter(|t| mentions(&terms, t)).count()
        })
        .map_or_else(|| answer.trim().to_string(), |c| c.to_string())
}

fn cite(text: &str, n: Option<usize>) -> String {
    match n {
        Some(n) => format!("“{text}” [{n}]"),
        None => format!("“{text}”"),
    }
}

/// What a good answer says: the rubric's points, each with its source.
fn model_answer(rubric: &Rubric, lang: Lang) -> String {
    let words = Words::of(lang);
    let mut out = String::new();
    match rubric.from {
        PointsFrom::Model => out.push_str(&format!("*{}*\n\n", words.from_model)),
        PointsFrom::Bank => out.push_str(&format!("*{}*\n\n", words.from_bank)),
        _ => {}
    }
    for (text, n) in &rubric.points {
        out.push_str("- ");
        out.push_str(text);
        if let Some(n) = n {
            out.push_str(&format!(" [{n}]"));
        }
        out.push('\n');
    }
    out
}

struct Words {
    you_wrote: &'static str,
    source_says: &'static str,
    from_model: &'static str,
    from_bank: &'static str,
}

impl Words {
    fn of(lang: Lang) -> Words {
        match lang {
            Lang::En => Words {
                you_wrote: "You wrote",
                source_says: "but the source says",
                from_model: "Your documents do not cover this question: these points are the model's general knowledge, not checked against a source.",
                from_bank: "The question bank's points:",
            },
            Lang::Zh => Words {
                you_wrote: "你写的是",
                source_says: "资料原文是",
                from_model: "你的资料没有涉及这个问题：以下要点来自模型的一般知识，未经资料核对。",
                from_bank: "题库中的要点：",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rubric(points: &[&str]) -> Rubric {
        Rubric {
            points: points.iter().map(|p| (p.to_string(), Some(1))).collect(),
            from: PointsFrom::Sources,
            sources: Vec::new(),
        }
    }

    #[test]
    fn blank_copied_and_off_topic_answers_score_zero_before_any_judgement() {
        let question = "什么是梯度累积？它有什么作用？";
        let r = rubric(&[
            "Gradient accumulation sums gradients over several micro-batches before an optimizer step, simulating a larger batch size.",
        ]);
        assert_eq!(zero_reason(question, "  ", &r), Some("blank"));
        assert_eq!(zero_reason(question, "不知道", &r), Some("blank"));
        assert_eq!(
            zero_reason(question, "什么是梯度累积？它有什么作用", &r),
            Some("copies the question")
        );
        assert_eq!(
            zero_reason(question, "今天天气很好，适合出去散步。", &r),
            Some("off-topic")
        );
        assert_eq!(
            zero_reason(
                question,
                "把几个小批次的梯度加起来再更新参数，相当于更大的批大小。",
                &r
            ),
            None
        );
    }

    #[test]
    fn coverage_meets_a_chinese_answer_and_an_english_point() {
        let point = key_terms(
            "Gradient accumulation sums gradients over micro-batches, simulating a larger batch size.",
        );
        let question = Glossary::builtin().english_terms("为什么要用梯度累积？", Lexicon::shared());
        let good = answer_terms("多个小批次的梯度先累加，再更新，等效于更大的批大小。");
        let vague = answer_terms("这是一种训练技巧。");
        let good = coverage(&point, &question, &good).unwrap();
        let vague = coverage(&point, &question, &vague).unwrap();
        assert!(good >= 0.5 && vague == 0.0, "{good} {vague}");
    }

    #[test]
    fn a_contradiction_quotes_the_learners_clause() {
        let clause = closest_clause(
            "MQA 是多查询注意力。MQA 给每个头配多组 key 和 value，参数比 MHA 多一倍。",
            "Multi-query attention shares a single key and value head across all query heads.",
        );
        assert!(clause.contains("key"), "{clause}");
    }

    #[test]
    fn points_are_statements_of_the_concept() {
        assert!(is_point(
            "We propose FlashAttention, an IO-aware exact attention algorithm that uses tiling."
        ));
        assert!(!is_point(
            "Figure 2: A diagram illustrating the three steps of our method."
        ));
        assert!(!is_point(
            "4) P-tuning : use continuous prompts (while fixing language models' parameters)."
        ));
        assert!(!is_point(
            "We examine the P-tuning based GPTs on 1Codes will be at https://github.com/THUDM/ P-tuning"
        ));
        assert!(!is_point(
            "为了有效地建模更长的序列, 研究者们尝试引入特殊的注意力模式 [187, 188]。"
        ));
        assert!(!is_point(
            "正如在第 5.3.1节中讨论的,现有文献中提出了大量高效微调方法。"
        ));
        assert!(!is_point(
            "As discussed in Section 4.2, the adapters are placed after each sublayer."
        ));
        assert!(is_point("第一个阶段使用大规模无标注语料进行预训练。"));
    }

    #[test]
    fn an_answer_in_another_language_than_the_question_and_rubric_is_left_to_the_model() {
        // Right, in English, and sharing no word with the Chinese question or rubric.
        let r = rubric(&["减少标准自注意力机制的时间复杂度(原始为二次代价)是重要的考虑因素。"]);
        assert_eq!(
            zero_reason(
                "传统的 Attention 机制存在哪些问题?",
                "Its cost grows quadratically with the sequence length, in time and memory.",
                &r
            ),
            None
        );
    }

    #[test]
    fn names_are_acronyms_and_mixed_case() {
        let found: Vec<String> =
            names("LoRA freezes W_q; FlashAttention and GPT-3 use KV caches, not attention.")
                .collect();
        assert!(found.contains(&"lora".to_string()));
        assert!(found.contains(&"flashattention".to_string()));
        assert!(found.contains(&"gpt-3".to_string()));
        assert!(found.contains(&"kv".to_string()));
        assert!(!found.contains(&"attention".to_string()));
    }
}
