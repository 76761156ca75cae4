//! The quiz's tables in the records database: card states, the review log and generated
//! questions. A review and the card state it produces are written in one transaction, so a
//! crash never leaves one without the other.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::QuizError;
use super::grade::Grading;
use super::schedule::{CardState, LoggedReview, Rating};
use ts_rs::TS;

use crate::text::Lang;

/// A practice question generated from a passage of a document.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratedQuestion {
    pub id: String,
    pub doc_id: String,
    /// The document's file name.
    pub doc: String,
    pub page: Option<u32>,
    pub question: String,
    pub answer: String,
    /// The passage the question was generated from.
    pub passage: String,
    pub lang: Lang,
    pub kind: QuestionKind,
    /// Unix seconds.
    pub created_at: i64,
    pub edited: bool,
}

/// How a generated question asks.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// A question whose answer is a sentence of the passage.
    Question,
    /// A sentence of the passage with a term left blank ("LayerNorm computes … over ____").
    Cloze,
}

impl QuestionKind {
    fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Question => "question",
            QuestionKind::Cloze => "cloze",
        }
    }
}

/// What the user did in one review.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub rating: Rating,
    /// The grade 0–5, when the answer was graded by a model.
    pub grade: Option<u8>,
    pub answer: String,
    pub duration_ms: Option<u64>,
    /// How the answer was graded (kept for the mistake notebook).
    pub grading: Option<Grading>,
}

pub fn states(conn: &Connection) -> Result<HashMap<String, CardState>, QuizError> {
    let mut stmt = conn
        .prepare("SELECT id, stability, difficulty, due, last_review, reps, lapses FROM cards")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, state_from_row(r, 1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn state(conn: &Connection, card_id: &str) -> Result<Option<CardState>, QuizError> {
    Ok(conn
        .query_row(
            "SELECT stability, difficulty, due, last_review, reps, lapses FROM cards WHERE id = ?1",
            [card_id],
            |r| state_from_row(r, 0),
        )
        .optional()?)
}

fn state_from_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<CardState> {
    Ok(CardState {
        stability: r.get::<_, f64>(at)? as f32,
        difficulty: r.get::<_, f64>(at + 1)? as f32,
        due: r.get(at + 2)?,
        last_review: r.get(at + 3)?,
        reps: r.get(at + 4)?,
        lapses: r.get(at + 5)?,
    })
}

/// Logs a review and stores the card's new state, atomically.
pub fn record_review(
    conn: &Connection,
    card_id: &str,
    input: &ReviewInput,
    previous: Option<&CardState>,
    next: &CardState,
    interval_days: f64,
) -> Result<(), QuizError> {
    let tx = conn.unchecked_transaction()?;
    write_review(&tx, card_id, input, previous, next, interval_days)?;
    tx.commit()?;
    Ok(())
}

/// The writes of a review, inside the caller's transaction (an interview writes its turn in
/// the same one).
pub fn write_review(
    tx: &Connection,
    card_id: &str,
    input: &ReviewInput,
    previous: Option<&CardState>,
    next: &CardState,
    interval_days: f64,
) -> Result<(), QuizError> {
    let grading = input
        .grading
        .as_ref()
        .map(|g| serde_json::to_string(g).unwrap_or_default());
    let elapsed_days = previous.map_or(0.0, |p| {
        (next.last_review - p.last_review) as f64 / 86_400.0
    });
    tx.execute(
        "INSERT INTO reviews (card_id, reviewed_at, rating, grade, elapsed_days, interval_days, answer, duration_ms, grading)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            card_id,
            next.last_review,
            input.rating as u8,
            input.grade,
            elapsed_days,
            interval_days,
            input.answer,
            input.duration_ms.map(|d| d as i64),
            grading,
        ],
    )?;
    tx.execute(
        "INSERT INTO cards (id, stability, difficulty, due, last_review, reps, lapses)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(id) DO UPDATE SET stability = excluded.stability,
             difficulty = excluded.difficulty, due = excluded.due,
             last_review = excluded.last_review, reps = excluded.reps, lapses = excluded.lapses",
        params![
            card_id,
            f64::from(next.stability),
            f64::from(next.difficulty),
            next.due,
            next.last_review,
            next.reps,
            next.lapses
        ],
    )?;
    Ok(())
}

/// A card's latest graded review.
#[derive(Debug, Clone)]
pub struct LastGrade {
    pub card_id: String,
    pub reviewed_at: i64,
    pub grade: u8,
    pub answer: String,
    pub grading: Option<Grading>,
}

/// The latest graded review of every card graded at least once.
pub fn last_grades(conn: &Connection) -> Result<Vec<LastGrade>, QuizError> {
    let mut stmt = conn.prepare(
        "SELECT r.card_id, r.reviewed_at, r.grade, r.answer, r.grading FROM reviews r
         WHERE r.grade IS NOT NULL AND r.id = (
             SELECT id FROM reviews WHERE card_id = r.card_id AND grade IS NOT NULL
             ORDER BY reviewed_at DESC, id DESC LIMIT 1)
         ORDER BY r.reviewed_at DESC, r.id DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        let grading: Option<String> = r.get(4)?;
        Ok(LastGrade {
            card_id: r.get(0)?,
            reviewed_at: r.get(1)?,
            grade: r.get(2)?,
            answer: r.get(3)?,
            // A grading written by an older version that no longer reads is shown without
            // its details rather than failing the notebook.
            grading: grading.and_then(|g| serde_json::from_str(&g).ok()),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Grades (0–5) of reviews since `since`, newest first, per card.
pub fn grades_since(conn: &Connection, since: i64) -> Result<Vec<(String, u8)>, QuizError> {
    let mut stmt = conn.prepare(
        "SELECT card_id, grade FROM reviews WHERE grade IS NOT NULL AND reviewed_at >= ?1
         ORDER BY reviewed_at DESC, id DESC",
    )?;
    let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn review_log(conn: &Connection) -> Result<Vec<LoggedReview>, QuizError> {
    let mut stmt =
        conn.prepare("SELECT card_id, reviewed_at, rating FROM reviews ORDER BY reviewed_at, id")?;
    let rows = stmt.query_map([], |r| {
        let rating: u8 = r.get(2)?;
        Ok(LoggedReview {
            card_id: r.get(0)?,
            reviewed_at: r.get(1)?,
            rating: Rating::from_number(rating).unwrap_or(Rating::Again),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Reviews per UTC day since `since` (unix seconds): (day, reviews, recalled).
pub fn reviews_by_day(conn: &Connection, since: i64) -> Result<Vec<(String, u32, u32)>, QuizError> {
    let mut stmt = conn.prepare(
        "SELECT date(reviewed_at, 'unixepoch') AS day, COUNT(*), SUM(rating > 1)
         FROM reviews WHERE reviewed_at >= ?1 GROUP BY day ORDER BY day",
    )?;
    let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn insert_generated(conn: &Connection, q: &GeneratedQuestion) -> Result<(), QuizError> {
    conn.execute(
        "INSERT INTO generated_questions (id, doc_id, doc, page, question, answer, passage, lang, kind, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![q.id, q.doc_id, q.doc, q.page, q.question, q.answer, q.passage, q.lang.as_str(), q.kind.as_str(), q.created_at],
    )?;
    Ok(())
}

/// Generated questions, of one document or all, oldest first.
pub fn generated(
    conn: &Connection,
    doc_id: Option<&str>,
) -> Result<Vec<GeneratedQuestion>, QuizError> {
    query_generated(conn, "?1 IS NULL OR doc_id = ?1", doc_id)
}

pub fn generated_question(
    conn: &Connection,
    id: &str,
) -> Result<Option<GeneratedQuestion>, QuizError> {
    Ok(query_generated(conn, "id = ?1", Some(id))?.pop())
}

fn query_generated(
    conn: &Connection,
    filter: &str,
    value: Option<&str>,
) -> Result<Vec<GeneratedQuestion>, QuizError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, doc_id, doc, page, question, answer, passage, lang, created_at, edited_at IS NOT NULL, kind
         FROM generated_questions WHERE {filter} ORDER BY created_at, rowid"
    ))?;
    let rows = stmt.query_map([value], |r| {
        Ok(GeneratedQuestion {
            id: r.get(0)?,
            doc_id: r.get(1)?,
            doc: r.get(2)?,
            page: r.get(3)?,
            question: r.get(4)?,
            answer: r.get(5)?,
            passage: r.get(6)?,
            lang: Lang::parse(&r.get::<_, String>(7)?).unwrap_or_default(),
            created_at: r.get(8)?,
            edited: r.get(9)?,
            kind: if r.get::<_, String>(10)? == "cloze" {
                QuestionKind::Cloze
            } else {
                QuestionKind::Question
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Edits a generated question; its review history stays with it.
pub fn edit_generated(
    conn: &Connection,
    id: &str,
    question: Option<&str>,
    answer: Option<&str>,
) -> Result<bool, QuizError> {
    let changed = conn.execute(
        "UPDATE generated_questions SET question = COALESCE(?2, question),
             answer = COALESCE(?3, answer), edited_at = unixepoch() WHERE id = ?1",
        params![id, question, answer],
    )?;
    Ok(changed > 0)
}

/// Deletes a generated question with its card and reviews.
pub fn delete_generated(conn: &Connection, id: &str) -> Result<bool, QuizError> {
    let tx = conn.unchecked_transaction()?;
    let deleted = tx.execute("DELETE FROM generated_questions WHERE id = ?1", [id])?;
    tx.execute("DELETE FROM cards WHERE id = ?1", [id])?;
    tx.execute("DELETE FROM reviews WHERE card_id = ?1", [id])?;
    tx.commit()?;
    Ok(deleted > 0)
}
