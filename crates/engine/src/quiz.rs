//! The quiz: bank questions and generated practice questions as review cards, answered in
//! free text, graded against the sources and scheduled with FSRS.
//!
//! A card is identified by its question's id (`t01-q001`, or `g-…` for generated ones), so
//! review history follows the bank's stable ids. Cards that were never reviewed are "new";
//! the others have a memory state and a due date.

use std::collections::HashMap;

use serde::Serialize;

use crate::bank::{Bank, BankError};
use crate::config::QuizConfig;
use crate::database::DatabaseError;
use crate::error::{Classify, ErrorKind, Remedy};
use crate::library::{Library, LibraryError};
use crate::llm::{LlmError, OffReason};
use ts_rs::TS;

pub mod cards;
pub mod export;
pub mod generate;
pub mod grade;
pub mod interview;
pub mod mistakes;
pub mod plan;
pub mod schedule;

pub use cards::{GeneratedQuestion, QuestionKind, ReviewInput};
pub use schedule::{CardState, DAY, Rating, Scheduler};

/// The pseudo-topic of generated questions (in stats and session topic lists).
pub const GENERATED: &str = "generated";
/// Where fitted FSRS parameters are kept (records `meta`).
const PARAMETERS_KEY: &str = "fsrs_parameters";

#[derive(Debug, thiserror::Error)]
pub enum QuizError {
    #[error("quiz tables: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error(transparent)]
    Library(#[from] LibraryError),
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Bank(#[from] BankError),
    #[error("scheduler: {0}")]
    Scheduler(String),
    #[error("quiz settings: {0}")]
    Settings(String),
    #[error("no question {0} (bank ids look like t01-q001, generated ones like g-3f2a9c01d4)")]
    UnknownCard(String),
    #[error("{0} needs a language model, and there is none: {1}")]
    NeedsModel(&'static str, OffReason),
    #[error("{doc} has no passages long enough to ask about")]
    NothingToAsk { doc: String },
    #[error("cannot write {path}: {error}")]
    Write { path: String, error: std::io::Error },
}

impl Classify for QuizError {
    fn kind(&self) -> ErrorKind {
        match self {
            QuizError::Database(e) => e.kind(),
            QuizError::Library(e) => e.kind(),
            QuizError::Llm(e) => e.kind(),
            QuizError::Bank(e) => e.kind(),
            QuizError::Sql(_) | QuizError::Scheduler(_) => ErrorKind::Internal,
            QuizError::Settings(_) | QuizError::UnknownCard(_) | QuizError::NothingToAsk { .. } => {
                ErrorKind::Input
            }
            QuizError::NeedsModel(..) => ErrorKind::Setup,
            QuizError::Write { .. } => ErrorKind::Setup,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            QuizError::Library(e) => e.remedy(),
            QuizError::Llm(e) => e.remedy(),
            QuizError::NeedsModel(_, OffReason::NotInstalled) => Some(Remedy::InstallModel),
            _ => None,
        }
    }
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CardKind {
    Bank,
    Generated,
}

/// A question as the quiz shows it, with what it is checked against.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub id: String,
    pub kind: CardKind,
    pub topic_id: Option<String>,
    pub topic_title: Option<String>,
    pub question: String,
    /// The bank item's key points (bank cards).
    pub points: Vec<String>,
    /// The reference answer (generated cards).
    pub reference_answer: Option<String>,
    /// The passage a generated card came from.
    pub source: Option<GeneratedQuestion>,
    /// `None` for a card never reviewed.
    pub state: Option<CardState>,
}

impl Card {
    fn from_bank(question: &crate::bank::Question, topic_title: &str) -> Card {
        Card {
            id: question.id.clone(),
            kind: CardKind::Bank,
            topic_id: Some(question.topic_id.clone()),
            topic_title: Some(topic_title.to_string()),
            question: question.text.clone(),
            points: question.points.clone(),
            reference_answer: None,
            source: None,
            state: None,
        }
    }

    fn from_generated(q: GeneratedQuestion) -> Card {
        Card {
            id: q.id.clone(),
            kind: CardKind::Generated,
            topic_id: None,
            topic_title: None,
            question: q.question.clone(),
            points: Vec::new(),
            reference_answer: Some(q.answer.clone()),
            source: Some(q),
            state: None,
        }
    }

    /// "bank t01-q001" or "paper.pdf p.3".
    pub fn source_label(&self) -> String {
        match &self.source {
            Some(q) => match q.page {
                Some(page) => format!("{} p.{page}", q.doc),
                None => q.doc.clone(),
            },
            None => format!("bank {}", self.id),
        }
    }
}

/// Which cards a session draws from. Topics select bank questions (and "generated" the
/// generated ones), a document selects the questions generated from it; neither means
/// everything.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    pub topics: Vec<String>,
    pub doc_id: Option<String>,
    /// New (never reviewed) cards to add after the due ones.
    pub new_cards: usize,
    /// Only cards that are due.
    pub due_only: bool,
    /// The mistake notebook's cards, due or not (newest mistake first).
    pub mistakes: bool,
}

/// Per-topic progress.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct TopicProgress {
    /// A bank topic id, or "generated".
    pub topic_id: String,
    pub title: String,
    pub questions: usize,
    pub seen: usize,
    pub due: usize,
    /// Mean predicted recall of the seen cards now.
    pub retention: Option<f32>,
    /// Mean grade (0–1, a grade of 5 is 1) of the last graded answers of the topic's cards,
    /// within the last 30 days.
    pub recent_score: Option<f32>,
    /// Retention and recent score together (their mean where both are known): the mastery
    /// map's colour. `None` for a topic not studied yet.
    pub mastery: Option<f32>,
    /// The topic's weakest questions seen so far, weakest first (at most three).
    pub weakest: Vec<WeakQuestion>,
}

/// A question among a topic's weakest.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct WeakQuestion {
    pub id: String,
    pub question: String,
    /// Predicted recall now.
    pub retention: f32,
    /// The last grade (0–5), if the answer was graded.
    pub last_grade: Option<u8>,
}

/// How far back grades count towards a topic's recent score.
const RECENT_DAYS: i64 = 30;
/// Weakest questions listed per topic.
const WEAKEST: usize = 3;

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct DayCount {
    /// "YYYY-MM-DD" (UTC).
    pub day: String,
    pub count: u32,
    /// Reviews rated better than Again (for the history).
    pub recalled: u32,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub topics: Vec<TopicProgress>,
    pub total: TopicProgress,
    pub reviews: usize,
    /// Cards coming due on each of the next 7 days (the first includes those overdue).
    pub forecast: Vec<DayCount>,
    /// Reviews per day over the last 30 days.
    pub history: Vec<DayCount>,
    pub desired_retention: f64,
    /// The retention reviews are scheduled at: the desired one, or higher while an interview
    /// plan needs it.
    pub schedule_retention: f64,
    /// "default" or "fitted on N items".
    pub parameters: String,
    /// The plan to the interview date, when the settings have one (filled by the app).
    pub plan: Option<plan::Plan>,
}

pub struct Quiz<'a> {
    library: &'a Library,
    scheduler: Scheduler,
    parameters: String,
    /// The settings' retention (the scheduler's may be higher, for an interview plan).
    desired_retention: f64,
}

impl<'a> Quiz<'a> {
    /// Opens the quiz with the user's fitted parameters, if any.
    pub fn open(library: &'a Library, config: &QuizConfig) -> Result<Quiz<'a>, QuizError> {
        let stored = library.db().meta(PARAMETERS_KEY)?;
        let (parameters, description): (Vec<f32>, String) = match stored {
            Some(json) => {
                let fitted: FittedParameters = serde_json::from_str(&json)
                    .map_err(|e| QuizError::Scheduler(format!("stored parameters: {e}")))?;
                let label = format!("fitted on {} items", fitted.items);
                (fitted.parameters, label)
            }
            None => (Vec::new(), "default".into()),
        };
        // Until the interview date, reviews are scheduled at the retention the plan to it
        // asks for, when that is above the desired one.
        let planned = match &config.interview_date {
            Some(date) => plan::schedule_retention(&library.db(), date, now())?,
            None => None,
        };
        let retention = planned.map_or(config.desired_retention, |p| {
            config.desired_retention.max(f64::from(p))
        });
        Ok(Quiz {
            library,
            scheduler: Scheduler::new(&parameters, retention)?,
            parameters: description,
            desired_retention: config.desired_retention,
        })
    }

    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The settings' desired retention.
    pub fn desired_retention(&self) -> f64 {
        self.desired_retention
    }

    pub fn library(&self) -> &Library {
        self.library
    }

    /// Every card: the bank's questions, then the generated ones.
    pub fn all_cards(&self) -> Result<Vec<Card>, QuizError> {
        let bank = Bank::builtin();
        let db = self.library.db();
        let states = cards::states(db.conn())?;
        let mut out: Vec<Card> = Vec::new();
        for topic in &bank.topics {
            out.extend(
                topic
                    .questions
                    .iter()
                    .map(|q| Card::from_bank(q, &topic.title)),
            );
        }
        out.extend(
            cards::generated(db.conn(), None)?
                .into_iter()
                .map(Card::from_generated),
        );
        for card in &mut out {
            card.state = states.get(&card.id).cloned();
        }
        Ok(out)
    }

    /// The memory state of every card reviewed at least once, by card id.
    pub fn states(&self) -> Result<HashMap<String, CardState>, QuizError> {
        cards::states(self.library.db().conn())
    }

    pub fn generated_question(&self, id: &str) -> Result<Option<GeneratedQuestion>, QuizError> {
        cards::generated_question(self.library.db().conn(), id)
    }

    pub fn card(&self, id: &str) -> Result<Card, QuizError> {
        let mut card = if id.starts_with("g-") {
            let db = self.library.db();
            cards::generated_question(db.conn(), id)?
                .map(Card::from_generated)
                .ok_or_else(|| QuizError::UnknownCard(id.into()))?
        } else {
            let bank = Bank::builtin();
            let question = bank
                .question(id)
                .map_err(|_| QuizError::UnknownCard(id.into()))?;
            Card::from_bank(question, &bank.topic(&question.topic_id)?.title)
        };
        card.state = cards::state(self.library.db().conn(), id)?;
        Ok(card)
    }

    /// The cards of a session: due ones first (most overdue first), then new ones in bank
    /// order.
    pub fn session(&self, options: &SessionOptions, now: i64) -> Result<Vec<Card>, QuizError> {
        let bank = Bank::builtin();
        for topic in options.topics.iter().filter(|t| *t != GENERATED) {
            bank.topic(topic)?;
        }
        let bank_topics: Vec<&String> = options.topics.iter().filter(|t| *t != GENERATED).collect();
        let with_generated =
            options.topics.is_empty() || options.topics.iter().any(|t| t == GENERATED);
        let wanted = |card: &Card| match card.kind {
            CardKind::Bank => {
                options.doc_id.is_none()
                    && (options.topics.is_empty()
                        || card
                            .topic_id
                            .as_ref()
                            .is_some_and(|t| bank_topics.contains(&t)))
            }
            CardKind::Generated => {
                with_generated
                    && options
                        .doc_id
                        .as_ref()
                        .is_none_or(|d| card.source.as_ref().is_some_and(|s| &s.doc_id == d))
            }
        };
        if options.mistakes {
            let mut all: HashMap<String, Card> = self
                .all_cards()?
                .into_iter()
                .filter(wanted)
                .map(|c| (c.id.clone(), c))
                .collect();
            return Ok(mistakes::mistakes(self)?
                .into_iter()
                .filter_map(|m| all.remove(&m.card_id))
                .collect());
        }
        let candidates: Vec<Card> = self.all_cards()?.into_iter().filter(wanted).collect();
        let (mut due, fresh): (Vec<Card>, Vec<Card>) =
            candidates.into_iter().partition(|c| c.state.is_some());
        due.retain(|c| c.state.as_ref().is_some_and(|s| s.due <= now));
        due.sort_by_key(|c| c.state.as_ref().map(|s| s.due));
        if !options.due_only {
            due.extend(fresh.into_iter().take(options.new_cards));
        }
        Ok(due)
    }

    /// Records a review and returns the card's new state.
    pub fn review(
        &self,
        card_id: &str,
        input: &ReviewInput,
        now: i64,
    ) -> Result<CardState, QuizError> {
        if card_id.starts_with("g-") {
            self.card(card_id)?;
        } else if Bank::builtin().question(card_id).is_err() {
            return Err(QuizError::UnknownCard(card_id.into()));
        }
        let db = self.library.db();
        let previous = cards::state(db.conn(), card_id)?;
        let (next, interval) = self
            .scheduler
            .review(previous.as_ref(), input.rating, now)?;
        cards::record_review(
            db.conn(),
            card_id,
            input,
            previous.as_ref(),
            &next,
            interval,
        )?;
        Ok(next)
    }

    pub fn stats(&self, now: i64) -> Result<Stats, QuizError> {
        let cards = self.all_cards()?;
        let mut groups: Vec<(String, String, Vec<&Card>)> = Bank::builtin()
            .topics
            .iter()
            .map(|t| (t.id.clone(), t.title.clone(), Vec::new()))
            .collect();
        groups.push((GENERATED.into(), "Generated questions".into(), Vec::new()));
        let index: HashMap<String, usize> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.0.clone(), i))
            .collect();
        for card in &cards {
            let key = card.topic_id.as_deref().unwrap_or(GENERATED);
            if let Some(&i) = index.get(key) {
                groups[i].2.push(card);
            }
        }
        let db = self.library.db();
        let mut recent: HashMap<String, u8> = HashMap::new();
        for (card, grade) in cards::grades_since(db.conn(), now - RECENT_DAYS * DAY)? {
            recent.entry(card).or_insert(grade);
        }
        let topics: Vec<TopicProgress> = groups
            .iter()
            .filter(|(id, _, cards)| id != GENERATED || !cards.is_empty())
            .map(|(id, title, cards)| self.progress(id, title, cards, &recent, now))
            .collect();
        let all: Vec<&Card> = cards.iter().collect();
        let mut total = self.progress("all", "All", &all, &recent, now);
        total.weakest.clear();

        let today = now.div_euclid(DAY);
        let mut forecast: Vec<DayCount> = (0..7)
            .map(|d| DayCount {
                day: day_string((today + d) * DAY),
                count: 0,
                recalled: 0,
            })
            .collect();
        for state in cards.iter().filter_map(|c| c.state.as_ref()) {
            let offset = (state.due.div_euclid(DAY) - today).max(0);
            if let Some(slot) = forecast.get_mut(offset as usize) {
                slot.count += 1;
            }
        }
        let reviews = cards::review_log(db.conn())?.len();
        let history = cards::reviews_by_day(db.conn(), (today - 29) * DAY)?
            .into_iter()
            .map(|(day, count, recalled)| DayCount {
                day,
                count,
                recalled,
            })
            .collect();
        Ok(Stats {
            topics,
            total,
            reviews,
            forecast,
            history,
            desired_retention: self.desired_retention,
            schedule_retention: self.scheduler.desired_retention(),
            parameters: self.parameters.clone(),
            plan: None,
        })
    }

    /// A group's progress; `recent` holds each card's latest grade of the last 30 days.
    fn progress(
        &self,
        id: &str,
        title: &str,
        cards: &[&Card],
        recent: &HashMap<String, u8>,
        now: i64,
    ) -> TopicProgress {
        let states: Vec<&CardState> = cards.iter().filter_map(|c| c.state.as_ref()).collect();
        let retention = (!states.is_empty()).then(|| {
            states
                .iter()
                .map(|s| self.scheduler.retrievability(s, now))
                .sum::<f32>()
                / states.len() as f32
        });
        let grades: Vec<f32> = cards
            .iter()
            .filter_map(|c| recent.get(&c.id))
            .map(|&g| f32::from(g) / 5.0)
            .collect();
        let recent_score =
            (!grades.is_empty()).then(|| grades.iter().sum::<f32>() / grades.len() as f32);
        let mastery = match (retention, recent_score) {
            (Some(r), Some(g)) => Some((r + g) / 2.0),
            (r, g) => r.or(g),
        };
        let mut weakest: Vec<WeakQuestion> = cards
            .iter()
            .filter_map(|c| {
                let state = c.state.as_ref()?;
                Some(WeakQuestion {
                    id: c.id.clone(),
                    question: c.question.clone(),
                    retention: self.scheduler.retrievability(state, now),
                    last_grade: recent.get(&c.id).copied(),
                })
            })
            .collect();
        let weakness = |w: &WeakQuestion| match w.last_grade {
            Some(g) => (w.retention + f32::from(g) / 5.0) / 2.0,
            None => w.retention,
        };
        weakest.sort_by(|a, b| weakness(a).total_cmp(&weakness(b)));
        weakest.truncate(WEAKEST);
        TopicProgress {
            topic_id: id.to_string(),
            title: title.to_string(),
            questions: cards.len(),
            seen: states.len(),
            due: states.iter().filter(|s| s.due <= now).count(),
            retention,
            recent_score,
            mastery,
            weakest,
        }
    }

    /// Fits FSRS parameters to the review log and keeps them; `Ok(None)` when the log is
    /// still too short (the defaults stay).
    pub fn refit(&mut self) -> Result<Option<usize>, QuizError> {
        let log = cards::review_log(self.library.db().conn())?;
        let Some((parameters, items)) = schedule::fit(&log)? else {
            return Ok(None);
        };
        let scheduler = Scheduler::new(&parameters, self.scheduler.desired_retention())?;
        let json = serde_json::to_string(&FittedParameters { parameters, items })
            .map_err(|e| QuizError::Scheduler(e.to_string()))?;
        self.library.db().set_meta(PARAMETERS_KEY, &json)?;
        self.scheduler = scheduler;
        self.parameters = format!("fitted on {items} items");
        Ok(Some(items))
    }

    pub fn generated(&self, doc_id: Option<&str>) -> Result<Vec<GeneratedQuestion>, QuizError> {
        cards::generated(self.library.db().conn(), doc_id)
    }

    pub fn edit_generated(
        &self,
        id: &str,
        question: Option<&str>,
        answer: Option<&str>,
    ) -> Result<(), QuizError> {
        if cards::edit_generated(self.library.db().conn(), id, question, answer)? {
            Ok(())
        } else {
            Err(QuizError::UnknownCard(id.into()))
        }
    }

    pub fn delete_generated(&self, id: &str) -> Result<(), QuizError> {
        if cards::delete_generated(self.library.db().conn(), id)? {
            Ok(())
        } else {
            Err(QuizError::UnknownCard(id.into()))
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct FittedParameters {
    parameters: Vec<f32>,
    items: usize,
}

/// "YYYY-MM-DD" of a unix time, UTC.
pub fn day_string(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn day_string_is_the_utc_date() {
        assert_eq!(super::day_string(0), "1970-01-01");
        assert_eq!(super::day_string(1_796_000_000), "2026-11-30");
        assert_eq!(super::day_string(951_782_400), "2000-02-29");
    }
}
