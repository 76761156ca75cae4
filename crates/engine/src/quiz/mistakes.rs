//! The mistake notebook (错题本): every question whose latest graded answer scored below 3,
//! with that answer, what was wrong or missing, and the passages that correct it. Answering it
//! again with 3 or more takes it out, as a learner crosses out a mistake they have mastered.

use serde::Serialize;
use ts_rs::TS;

use super::export::AnkiNote;
use super::grade::Verdict;
use super::{Quiz, QuizError, cards};
use crate::tutor::Citation;

/// Below this grade an answer is a mistake.
pub const MISTAKE_BELOW: u8 = 3;

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct Mistake {
    pub card_id: String,
    pub topic_id: Option<String>,
    pub topic_title: Option<String>,
    pub question: String,
    /// The learner's answer, as given.
    pub answer: String,
    pub grade: u8,
    /// Unix seconds.
    pub reviewed_at: i64,
    /// What the answer said against the sources.
    pub wrong: Vec<String>,
    /// What it left out.
    pub missed: Vec<String>,
    /// The passages the wrong and missed points come from.
    pub corrections: Vec<Citation>,
}

/// The notebook, newest mistake first.
pub fn mistakes(quiz: &Quiz<'_>) -> Result<Vec<Mistake>, QuizError> {
    let last_grades = cards::last_grades(quiz.library().db().conn())?;
    let mut out = Vec::new();
    for last in last_grades {
        if last.grade >= MISTAKE_BELOW {
            continue;
        }
        // A generated question deleted since is no longer a card to review.
        let Ok(card) = quiz.card(&last.card_id) else {
            continue;
        };
        let (wrong, missed, corrections) = match &last.grading {
            Some(g) => {
                let wanted: Vec<usize> = g
                    .points
                    .iter()
                    .filter(|p| p.verdict != Verdict::Stated)
                    .filter_map(|p| p.n)
                    .collect();
                (
                    g.wrong.clone(),
                    g.missed.clone(),
                    g.sources
                        .iter()
                        .filter(|c| wanted.contains(&c.n))
                        .cloned()
                        .collect(),
                )
            }
            None => (Vec::new(), card.points.clone(), Vec::new()),
        };
        out.push(Mistake {
            card_id: card.id.clone(),
            topic_id: card.topic_id.clone(),
            topic_title: card.topic_title.clone(),
            question: card.question.clone(),
            answer: last.answer,
            grade: last.grade,
            reviewed_at: last.reviewed_at,
            wrong,
            missed,
            corrections,
        });
    }
    Ok(out)
}

/// The notebook as Markdown.
pub fn markdown(mistakes: &[Mistake]) -> String {
    let mut out = String::from("# StudyDesk mistake notebook\n");
    for m in mistakes {
        out.push_str(&format!(
            "\n## {} `{}`\n\n{} · {} · grade {}/5\n\n**Your answer:** {}\n",
            m.question,
            m.card_id,
            m.topic_title.as_deref().unwrap_or("generated"),
            super::day_string(m.reviewed_at),
            m.grade,
            if m.answer.trim().is_empty() {
                "(none)"
            } else {
                m.answer.trim()
            }
        ));
        if !m.wrong.is_empty() {
            out.push_str("\n**Wrong:**\n");
            for w in &m.wrong {
                out.push_str(&format!("- {w}\n"));
            }
        }
        if !m.missed.is_empty() {
            out.push_str("\n**Missed:**\n");
            for w in &m.missed {
                out.push_str(&format!("- {w}\n"));
            }
        }
        for c in &m.corrections {
            out.push_str(&format!(
                "\n> [{}] {}\n>\n> — {}\n",
                c.n,
                c.hit.text.replace('\n', " "),
                c.label
            ));
        }
    }
    out
}

/// The notebook as Anki notes: the question in front; the correction, the sources and the
/// learner's answer behind.
pub fn anki_notes(mistakes: &[Mistake]) -> Vec<AnkiNote> {
    mistakes
        .iter()
        .map(|m| {
            let mut back: Vec<String> = m
                .wrong
                .iter()
                .chain(&m.missed)
                .map(|p| format!("• {p}"))
                .collect();
            back.extend(
                m.corrections
                    .iter()
                    .map(|c| format!("[{}] {}", c.n, c.label)),
            );
            back.push(format!("Your answer ({}/5): {}", m.grade, m.answer.trim()));
            let mut tags = vec!["studydesk".to_string(), "studydesk::mistakes".to_string()];
            if let Some(topic) = &m.topic_id {
                tags.push(format!("studydesk::{topic}"));
            }
            AnkiNote {
                front: m.question.clone(),
                back: back.join("\n"),
                tags,
                source: format!("mistake {}", m.card_id),
            }
        })
        .collect()
}
