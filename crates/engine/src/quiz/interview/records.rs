//! The interviews' tables: an interview, its turns as asked and answered, its debrief.

use rusqlite::{OptionalExtension, params};

use super::{Debrief, Interview, InterviewOptions, InterviewSummary, Turn, TurnKind, debrief};
use crate::bank::Bank;
use crate::library::Library;
use crate::quiz::QuizError;
use crate::quiz::grade::Grading;
use crate::text::Lang;

pub(super) fn insert_interview(
    conn: &rusqlite::Connection,
    options: &InterviewOptions,
    now: i64,
) -> Result<i64, QuizError> {
    conn.execute(
        "INSERT INTO interviews (started_at, minutes, max_questions, topics, lang)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            now,
            options.minutes,
            options.max_questions.map(|m| m as i64),
            serde_json::to_string(&options.topics).unwrap_or_default(),
            options.lang.map(lang_code),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Zh => "zh",
    }
}

pub(super) fn insert_turn(
    conn: &rusqlite::Connection,
    id: i64,
    turn: &Turn,
) -> Result<(), QuizError> {
    conn.execute(
        "INSERT INTO interview_turns (interview_id, seq, card_id, kind, prompt, probe, asked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            turn.seq,
            turn.card_id,
            match turn.kind {
                TurnKind::Question => "question",
                TurnKind::FollowUp => "follow_up",
            },
            turn.prompt,
            turn.probe
                .as_ref()
                .map(|p| serde_json::to_string(p).unwrap_or_default()),
            turn.asked_at,
        ],
    )?;
    Ok(())
}

pub(super) fn write_answer(
    conn: &rusqlite::Connection,
    id: i64,
    seq: u32,
    answer: &str,
    grading: &Grading,
    now: i64,
) -> Result<(), QuizError> {
    conn.execute(
        "UPDATE interview_turns SET answer = ?1, grading = ?2, answered_at = ?3
         WHERE interview_id = ?4 AND seq = ?5",
        params![
            answer,
            serde_json::to_string(grading).unwrap_or_default(),
            now,
            id,
            seq
        ],
    )?;
    Ok(())
}

pub(super) fn write_end(
    conn: &rusqlite::Connection,
    id: i64,
    debrief: &Debrief,
    now: i64,
) -> Result<(), QuizError> {
    conn.execute(
        "UPDATE interviews SET ended_at = ?1, debrief = ?2 WHERE id = ?3",
        params![now, serde_json::to_string(debrief).unwrap_or_default(), id],
    )?;
    Ok(())
}

fn finish_in(conn: &rusqlite::Connection, id: i64, now: i64) -> Result<Interview, QuizError> {
    let interview = load_in(conn, id)?;
    if interview.ended_at.is_some() {
        return Ok(interview);
    }
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "DELETE FROM interview_turns WHERE interview_id = ?1 AND answer IS NULL",
        [id],
    )?;
    write_end(&tx, id, &debrief(&interview), now)?;
    tx.commit()?;
    load_in(conn, id)
}

/// An interview with its turns.
pub(super) fn load_in(conn: &rusqlite::Connection, id: i64) -> Result<Interview, QuizError> {
    let row = conn
        .query_row(
            "SELECT started_at, ended_at, minutes, topics, lang, debrief, max_questions
             FROM interviews WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    (r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?),
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            },
        )
        .optional()?;
    let Some(((started_at, ended_at), minutes, topics, lang, debrief, max_questions)) = row else {
        return Err(QuizError::Settings(format!("no interview {id}")));
    };
    let bank = Bank::builtin();
    let mut stmt = conn.prepare(
        "SELECT seq, card_id, kind, prompt, probe, answer, grading, asked_at, answered_at
         FROM interview_turns WHERE interview_id = ?1 ORDER BY seq",
    )?;
    let turns = stmt
        .query_map([id], |r| {
            let card_id: String = r.get(1)?;
            let kind: String = r.get(2)?;
            let probe: Option<String> = r.get(4)?;
            let grading: Option<String> = r.get(6)?;
            Ok(Turn {
                seq: r.get(0)?,
                topic_id: bank.question(&card_id).ok().map(|q| q.topic_id.clone()),
                card_id,
                kind: if kind == "follow_up" {
                    TurnKind::FollowUp
                } else {
                    TurnKind::Question
                },
                prompt: r.get(3)?,
                probe: probe.and_then(|p| serde_json::from_str(&p).ok()),
                answer: r.get(5)?,
                grading: grading.and_then(|g| serde_json::from_str(&g).ok()),
                asked_at: r.get(7)?,
                answered_at: r.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Interview {
        id,
        started_at,
        ended_at,
        minutes,
        max_questions: max_questions.map(|m| m as usize),
        topics: serde_json::from_str(&topics).unwrap_or_default(),
        lang: match lang.as_deref() {
            Some("zh") => Some(Lang::Zh),
            Some("en") => Some(Lang::En),
            _ => None,
        },
        turns,
        debrief: debrief.and_then(|d| serde_json::from_str(&d).ok()),
    })
}

/// Every interview, newest first.
fn list_in(conn: &rusqlite::Connection) -> Result<Vec<InterviewSummary>, QuizError> {
    let mut stmt = conn.prepare(
        "SELECT i.id, i.started_at, i.ended_at, i.topics,
                (SELECT COUNT(*) FROM interview_turns t
                 WHERE t.interview_id = i.id AND t.kind = 'question' AND t.answer IS NOT NULL)
         FROM interviews i ORDER BY i.started_at DESC, i.id DESC",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for (id, started_at, ended_at, topics, questions) in rows {
        let scores: Vec<u8> = load_in(conn, id)?
            .turns
            .iter()
            .filter(|t| t.kind == TurnKind::Question)
            .filter_map(|t| t.grading.as_ref()?.score)
            .collect();
        out.push(InterviewSummary {
            id,
            started_at,
            ended_at,
            topics: serde_json::from_str(&topics).unwrap_or_default(),
            questions: questions as usize,
            score: (!scores.is_empty())
                .then(|| scores.iter().map(|&s| f32::from(s)).sum::<f32>() / scores.len() as f32),
        });
    }
    Ok(out)
}

/// The newest interview not ended, if any (to resume).
fn open_interview_in(conn: &rusqlite::Connection) -> Result<Option<i64>, QuizError> {
    Ok(conn
        .query_row(
            "SELECT id FROM interviews WHERE ended_at IS NULL ORDER BY started_at DESC, id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

/// Ends an interview now (the question waiting, if any, is dropped) and writes its debrief;
/// ending an ended one returns it as it is. Needs no model.
pub fn finish(library: &Library, id: i64, now: i64) -> Result<Interview, QuizError> {
    finish_in(library.db().conn(), id, now)
}

/// An interview with its turns.
pub fn load(library: &Library, id: i64) -> Result<Interview, QuizError> {
    load_in(library.db().conn(), id)
}

/// Every interview, newest first.
pub fn list(library: &Library) -> Result<Vec<InterviewSummary>, QuizError> {
    list_in(library.db().conn())
}

/// The newest interview not ended, if any (to resume).
pub fn open_interview(library: &Library) -> Result<Option<i64>, QuizError> {
    open_interview_in(library.db().conn())
}
