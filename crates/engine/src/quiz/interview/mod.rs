//! A mock interview: the interviewer asks a bank question, grades the typed answer against its
//! rubric, and follows up on what the answer left out or got wrong, one or two times, before
//! it moves on; at the end, a debrief cites the sources of every point.
//!
//! The decisions a small model would get wrong are made without it: which question comes next
//! (weak and due topics first, alternating a topic's fundamentals with its weak cards), which
//! rubric point a follow-up probes (a contradicted point is challenged first, then the missed
//! point the answer came least close to) and the key term it must name. The model only grades
//! (the rubric grading of `grade`) and phrases a missed point's follow-up question; a phrasing
//! that does not name the term, or gives the point away, is replaced by a fixed one.
//!
//! Every answer is written as it is given, the main question's FSRS review in the same
//! transaction, so a quit or a crash mid-interview loses nothing answered; an interview left
//! open can be resumed or finished later, and its debrief is stored.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::grade::{self, Grading, PointsFrom, Rubric, Verdict};
use super::schedule::Rating;
use super::{Card, CardKind, Quiz, QuizError, cards};
use crate::bank::Bank;
use crate::cancel::Cancel;
use crate::llm::{ChatClient, ChatOptions};
use crate::text::Lang;
use crate::tutor::Citation;

mod debrief;
mod follow_up;
mod records;

pub use debrief::debrief;
pub use follow_up::{
    KeyTerm, checked_follow_up, choose_probe, fixed_follow_up, follow_up_prompt, key_term,
};
pub use records::{finish, list, load, open_interview};
use records::{insert_interview, insert_turn, load_in, write_answer, write_end};

/// Follow-ups per question at most.
pub const MAX_FOLLOW_UPS: usize = 2;
/// Items of the debrief's "study next".
const STUDY_NEXT: usize = 3;
/// A follow-up phrasing sharing this much with the point gives the answer away.
const LEAKS_POINT: f64 = 0.6;

#[derive(Debug, Clone, Default)]
pub struct InterviewOptions {
    /// Bank topic ids; empty for all.
    pub topics: Vec<String>,
    /// No new question is asked after this long.
    pub minutes: u32,
    /// The interviewer's language; `None` keeps the questions' own (the bank's Chinese).
    pub lang: Option<Lang>,
    /// Main questions at most (besides the time limit).
    pub max_questions: Option<usize>,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnKind {
    Question,
    FollowUp,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeReason {
    /// The answer left the point out.
    Missed,
    /// The answer said something the point contradicts.
    Wrong,
}

/// The rubric point a follow-up asks about.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub point: String,
    /// Its source among the main question's grading sources.
    pub n: Option<usize>,
    /// The point's key term the follow-up names.
    pub term: String,
    pub reason: ProbeReason,
}

/// A question or follow-up as asked, and its answer once given.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct Turn {
    pub seq: u32,
    pub card_id: String,
    pub topic_id: Option<String>,
    pub kind: TurnKind,
    /// What the interviewer asked.
    pub prompt: String,
    pub probe: Option<Probe>,
    pub answer: Option<String>,
    pub grading: Option<Grading>,
    /// Unix seconds.
    pub asked_at: i64,
    pub answered_at: Option<i64>,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct Interview {
    pub id: i64,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub minutes: u32,
    /// Main questions at most, besides the time limit.
    pub max_questions: Option<usize>,
    pub topics: Vec<String>,
    pub lang: Option<Lang>,
    pub turns: Vec<Turn>,
    pub debrief: Option<Debrief>,
}

impl Interview {
    /// The question waiting for an answer, if any.
    pub fn current(&self) -> Option<&Turn> {
        self.turns.last().filter(|t| t.answer.is_none())
    }

    fn main_questions(&self) -> usize {
        self.turns
            .iter()
            .filter(|t| t.kind == TurnKind::Question)
            .count()
    }
}

/// An interview in the list of past ones.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct InterviewSummary {
    pub id: i64,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub topics: Vec<String>,
    pub questions: usize,
    /// Mean score (0–5) of the graded main answers.
    pub score: Option<f32>,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Debrief {
    pub questions: Vec<QuestionDebrief>,
    pub topics: Vec<TopicScore>,
    /// The three things to study next: wrong points first, then missed ones.
    pub study_next: Vec<StudyItem>,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuestionDebrief {
    pub card_id: String,
    pub topic_id: Option<String>,
    pub question: String,
    pub answer: String,
    pub score: Option<u8>,
    pub rating: Option<Rating>,
    pub points_from: PointsFrom,
    pub points: Vec<DebriefPoint>,
    pub follow_ups: Vec<FollowUpDebrief>,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DebriefPoint {
    pub text: String,
    /// The main answer's verdict on the point.
    pub verdict: Verdict,
    /// Stated when a follow-up asked for it.
    pub recovered: bool,
    /// The passage (and page) the point comes from.
    pub source: Option<Citation>,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FollowUpDebrief {
    pub question: String,
    pub answer: String,
    pub verdict: Option<Verdict>,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopicScore {
    pub topic_id: String,
    pub title: String,
    pub questions: usize,
    /// Mean score, 0–5.
    pub score: f32,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StudyItem {
    pub card_id: String,
    pub text: String,
    pub verdict: Verdict,
    pub source: Option<Citation>,
}

pub struct Interviewer<'q, 'a> {
    quiz: &'q Quiz<'a>,
    llm: &'q ChatClient,
}

impl<'q, 'a> Interviewer<'q, 'a> {
    pub fn new(quiz: &'q Quiz<'a>, llm: &'q ChatClient) -> Interviewer<'q, 'a> {
        Interviewer { quiz, llm }
    }

    /// Starts an interview and asks its first question.
    pub fn start(
        &self,
        options: &InterviewOptions,
        cancel: &Cancel,
        now: i64,
    ) -> Result<Interview, QuizError> {
        let bank = Bank::builtin();
        for topic in &options.topics {
            bank.topic(topic)?;
        }
        if options.minutes == 0 {
            return Err(QuizError::Settings(
                "an interview lasts at least a minute".into(),
            ));
        }
        let id = insert_interview(self.quiz.library().db().conn(), options, now)?;
        let interview = self.load(id)?;
        let Some(card) = self.pick(&interview, now)? else {
            return Err(QuizError::Settings(
                "no bank question is left in these topics".into(),
            ));
        };
        let turn = self.ask(&interview, &card, cancel, now)?;
        insert_turn(self.quiz.library().db().conn(), id, &turn)?;
        self.load(id)
    }

    /// Reads an interview (the records lock is held only while reading: grading and
    /// translation take it too).
    fn load(&self, id: i64) -> Result<Interview, QuizError> {
        load_in(self.quiz.library().db().conn(), id)
    }

    /// Grades the answer to the current question, records the main question's review, and asks
    /// the next follow-up or question, or ends the interview when time or questions are up.
    pub fn answer(
        &self,
        id: i64,
        answer: &str,
        duration_ms: Option<u64>,
        cancel: &Cancel,
        now: i64,
    ) -> Result<Interview, QuizError> {
        let library = self.quiz.library();
        let mut interview = self.load(id)?;
        if interview.ended_at.is_some() {
            return Err(QuizError::Settings(format!("interview {id} has ended")));
        }
        let Some(turn) = interview.current().cloned() else {
            return Err(QuizError::Settings(format!(
                "interview {id} has no question waiting for an answer"
            )));
        };
        let card = self.quiz.card(&turn.card_id)?;
        let grading = match (&turn.kind, &turn.probe) {
            (TurnKind::FollowUp, Some(probe)) => {
                let main = main_grading(&interview, &turn.card_id).ok_or_else(|| {
                    QuizError::Settings(format!("interview {id}: a follow-up without its question"))
                })?;
                let rubric = Rubric {
                    points: vec![(probe.point.clone(), probe.n)],
                    from: main.points_from,
                    sources: main.sources.clone(),
                };
                grade::grade_against(Some(self.llm), &turn.prompt, &rubric, answer, cancel)?
            }
            _ => grade::grade(library, Some(self.llm), &card, answer, cancel)?,
        };
        // What comes next is decided (and a follow-up phrased) before anything is written, so
        // the answer, its review and the next question are written together.
        if let Some(last) = interview.turns.last_mut() {
            last.answer = Some(answer.to_string());
            last.grading = Some(grading.clone());
            last.answered_at = Some(now);
        }
        let time_up = now - interview.started_at >= i64::from(interview.minutes) * 60;
        let next = if time_up {
            None
        } else if let Some(probe) = self.next_probe(&interview, &turn.card_id) {
            Some(self.follow_up(&interview, &card, probe, cancel, now)?)
        } else if interview
            .max_questions
            .is_none_or(|m| interview.main_questions() < m)
        {
            match self.pick(&interview, now)? {
                Some(next_card) => Some(self.ask(&interview, &next_card, cancel, now)?),
                None => None,
            }
        } else {
            None
        };
        let db = library.db();
        let tx = db.conn().unchecked_transaction()?;
        write_answer(&tx, id, turn.seq, answer, &grading, now)?;
        if turn.kind == TurnKind::Question {
            // One review per question, rated by the answer given before any follow-up helped.
            let rating = grading.score.map_or(Rating::Again, Rating::suggested_by);
            let previous = cards::state(&tx, &turn.card_id)?;
            let (state, interval) = self
                .quiz
                .scheduler()
                .review(previous.as_ref(), rating, now)?;
            cards::write_review(
                &tx,
                &turn.card_id,
                &cards::ReviewInput {
                    rating,
                    grade: grading.score,
                    answer: answer.trim().to_string(),
                    duration_ms,
                    grading: Some(grading.clone()),
                },
                previous.as_ref(),
                &state,
                interval,
            )?;
        }
        match &next {
            Some(next) => insert_turn(&tx, id, next)?,
            None => {
                let debrief = debrief(&interview);
                write_end(&tx, id, &debrief, now)?;
            }
        }
        tx.commit()?;
        let ended = load_in(db.conn(), id);
        drop(db);
        ended
    }

    /// Ends the interview now (the question waiting, if any, is dropped) and writes its
    /// debrief; ending an ended one returns it as it is.
    pub fn finish(&self, id: i64, now: i64) -> Result<Interview, QuizError> {
        finish(self.quiz.library(), id, now)
    }

    /// The next main question: the topics with due cards first, then the weakest (lowest
    /// mastery; a topic never studied counts as weak), taken in turn; within a topic, its
    /// fundamentals (the bank's order, first questions first) alternate with its weak cards
    /// (due, least likely recalled, or last graded below 3).
    fn pick(&self, interview: &Interview, now: i64) -> Result<Option<Card>, QuizError> {
        let asked: HashSet<&str> = interview.turns.iter().map(|t| t.card_id.as_str()).collect();
        let stats = self.quiz.stats(now)?;
        let mut topics: Vec<&super::TopicProgress> = stats
            .topics
            .iter()
            .filter(|t| t.topic_id != super::GENERATED)
            .filter(|t| interview.topics.is_empty() || interview.topics.contains(&t.topic_id))
            .collect();
        topics.sort_by(|a, b| {
            (b.due > 0).cmp(&(a.due > 0)).then(
                a.mastery
                    .unwrap_or(UNSEEN_MASTERY)
                    .total_cmp(&b.mastery.unwrap_or(UNSEEN_MASTERY)),
            )
        });
        let last_grades: HashMap<String, u8> = cards::last_grades(self.quiz.library().db().conn())?
            .into_iter()
            .map(|g| (g.card_id, g.grade))
            .collect();
        let mut by_topic: HashMap<String, Vec<Card>> = HashMap::new();
        for card in self.quiz.all_cards()? {
            if card.kind != CardKind::Bank || asked.contains(card.id.as_str()) {
                continue;
            }
            if let Some(topic) = &card.topic_id {
                by_topic.entry(topic.clone()).or_default().push(card);
            }
        }
        let asked_count = interview.main_questions();
        let start = asked_count % topics.len().max(1);
        for topic in topics.iter().cycle().skip(start).take(topics.len()) {
            let Some(cards) = by_topic.remove(&topic.topic_id) else {
                continue;
            };
            let weak = |c: &Card| {
                c.state.as_ref().is_some_and(|s| s.due <= now)
                    || last_grades.get(&c.id).is_some_and(|&g| g < 3)
            };
            let weakest = cards
                .iter()
                .filter(|c| weak(c))
                .min_by(|a, b| {
                    let r = |c: &Card| {
                        c.state
                            .as_ref()
                            .map_or(0.0, |s| self.quiz.scheduler().retrievability(s, now))
                    };
                    r(a).total_cmp(&r(b))
                })
                .cloned();
            let fundamental = cards.iter().find(|c| c.state.is_none()).cloned();
            let (first, second) = if asked_count.is_multiple_of(2) {
                (fundamental, weakest)
            } else {
                (weakest, fundamental)
            };
            if let Some(card) = first.or(second).or_else(|| cards.into_iter().next()) {
                return Ok(Some(card));
            }
        }
        Ok(None)
    }

    /// A main question as the interviewer asks it, in the interview's language.
    fn ask(
        &self,
        interview: &Interview,
        card: &Card,
        cancel: &Cancel,
        now: i64,
    ) -> Result<Turn, QuizError> {
        let mut prompt = card.question.clone();
        if let Some(lang) = interview.lang
            && Lang::of(&prompt) != lang
            && let Ok(Some(translated)) =
                crate::translate::translate(self.quiz.library(), self.llm, &prompt, cancel)
        {
            prompt = translated;
        }
        Ok(Turn {
            seq: interview.turns.len() as u32 + 1,
            card_id: card.id.clone(),
            topic_id: card.topic_id.clone(),
            kind: TurnKind::Question,
            prompt,
            probe: None,
            answer: None,
            grading: None,
            asked_at: now,
            answered_at: None,
        })
    }

    /// The point the next follow-up on `card_id` probes, if it should have one.
    fn next_probe(&self, interview: &Interview, card_id: &str) -> Option<Probe> {
        let turns: Vec<&Turn> = interview
            .turns
            .iter()
            .filter(|t| t.card_id == card_id)
            .collect();
        let follow_ups = turns
            .iter()
            .filter(|t| t.kind == TurnKind::FollowUp)
            .count();
        if follow_ups >= MAX_FOLLOW_UPS {
            return None;
        }
        let main = turns.first()?;
        let grading = main.grading.as_ref()?;
        let answer = main.answer.as_deref().unwrap_or_default();
        let probed: Vec<&str> = turns
            .iter()
            .filter_map(|t| t.probe.as_ref().map(|p| p.point.as_str()))
            .collect();
        choose_probe(&main.prompt, answer, grading, &probed)
    }

    /// A follow-up on `probe`: a wrong statement is challenged in fixed words (quoting the
    /// learner, not the source); a missed point is asked about by the model, checked to name
    /// the point's key term without giving the point away.
    fn follow_up(
        &self,
        interview: &Interview,
        card: &Card,
        probe: Probe,
        cancel: &Cancel,
        now: i64,
    ) -> Result<Turn, QuizError> {
        let main = interview
            .turns
            .iter()
            .find(|t| t.card_id == card.id && t.kind == TurnKind::Question);
        let question = main.map_or(card.question.as_str(), |t| t.prompt.as_str());
        let answer = main.and_then(|t| t.answer.as_deref()).unwrap_or_default();
        let lang = interview.lang.unwrap_or_else(|| Lang::of(question));
        let fixed = fixed_follow_up(&probe, answer, lang);
        let prompt = match probe.reason {
            ProbeReason::Wrong => fixed,
            ProbeReason::Missed => {
                let reply = self.llm.complete(
                    &follow_up_prompt(question, answer, &probe, lang),
                    &ChatOptions {
                        temperature: Some(0.0),
                        max_tokens: Some(80),
                        ..ChatOptions::default()
                    },
                    cancel,
                )?;
                checked_follow_up(&reply, &probe).unwrap_or(fixed)
            }
        };
        Ok(Turn {
            seq: interview.turns.len() as u32 + 1,
            card_id: card.id.clone(),
            topic_id: card.topic_id.clone(),
            kind: TurnKind::FollowUp,
            prompt,
            probe: Some(probe),
            answer: None,
            grading: None,
            asked_at: now,
            answered_at: None,
        })
    }
}

/// The mastery a topic never studied is ranked with: weaker than a topic known moderately.
const UNSEEN_MASTERY: f32 = 0.3;

/// The grading of a card's main question in this interview.
fn main_grading<'i>(interview: &'i Interview, card_id: &str) -> Option<&'i Grading> {
    interview
        .turns
        .iter()
        .find(|t| t.card_id == card_id && t.kind == TurnKind::Question)?
        .grading
        .as_ref()
}
