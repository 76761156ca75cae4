//! A plan to the interview date: how many new questions a day, and at what retention reviews
//! must be scheduled, so that every question has been seen before the date and the predicted
//! recall on the date reaches the desired retention.
//!
//! The prediction is FSRS's own: the `fsrs` crate's simulator plays the days until the date
//! with the learner's cards (their memory states and due dates), the learner's parameters and
//! typical rating odds, for each candidate plan; the cheapest plan that reaches the target
//! wins. Nothing here is a hand-made schedule.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::schedule::DAY;
use super::{CardKind, Quiz, QuizError};

/// Reviews are never scheduled above this retention (the workload explodes beyond it).
const MAX_SCHEDULE_RETENTION: f32 = 0.97;
/// Where the plan's pace was first set, to tell whether the learner keeps it.
const PLAN_START_KEY: &str = "interview_plan_start";

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// "YYYY-MM-DD".
    pub date: String,
    /// Days from today to the date (0: it is today).
    pub days_left: u32,
    pub questions: usize,
    pub seen: usize,
    /// New questions to learn a day, today included.
    pub new_per_day: usize,
    /// New questions learned today so far.
    pub new_today: usize,
    /// Cards due now (overdue included).
    pub due_now: usize,
    /// Mean and largest number of reviews a day until the date, as simulated.
    pub reviews_per_day: f32,
    pub peak_reviews: usize,
    /// The mean predicted recall of all questions on the date, if the plan is kept.
    pub predicted_retention: f32,
    /// The desired retention (settings).
    pub target_retention: f32,
    /// The retention reviews are to be scheduled for to reach the target on the date.
    pub schedule_retention: f32,
    /// Whether any plan reaches the target (else the plan shown is the best one found).
    pub reachable: bool,
    /// Whether the learner has kept the pace since the date was set.
    pub on_track: bool,
    /// Learned since the date was set, and what the pace asked for by today.
    pub learned_since_start: usize,
    pub expected_since_start: usize,
}

/// The plan as last computed, with the pace set on the day the date was first planned for.
#[derive(Serialize, Deserialize)]
struct PlanStart {
    date: String,
    /// The day (unix days) the date was first planned for.
    day: i64,
    new_per_day: usize,
    /// The latest plan's schedule retention (the quiz schedules with it until the date).
    #[serde(default)]
    schedule_retention: Option<f32>,
}

/// The retention the last plan to `date` schedules reviews at, while the date is ahead.
pub fn schedule_retention(
    db: &crate::database::Database,
    date: &str,
    now: i64,
) -> Result<Option<f32>, QuizError> {
    let stored: Option<PlanStart> = db
        .meta(PLAN_START_KEY)?
        .and_then(|j| serde_json::from_str(&j).ok());
    let ahead = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .is_some_and(|d| d.and_utc().timestamp() > now);
    Ok(stored
        .filter(|s| s.date == date && ahead)
        .and_then(|s| s.schedule_retention))
}

/// An interview date as the settings and the CLI give it.
pub fn parse_date(date: &str) -> Result<NaiveDate, QuizError> {
    NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| {
        QuizError::Settings(format!(
            "interview date {date:?} is not a date like 2027-01-15"
        ))
    })
}

/// The plan to `date` over the bank's questions (all topics, or `topics`).
pub fn plan(quiz: &Quiz<'_>, date: &str, topics: &[String], now: i64) -> Result<Plan, QuizError> {
    let date_parsed = parse_date(date)?;
    let today = now.div_euclid(DAY);
    let date_day = date_parsed
        .and_hms_opt(0, 0, 0)
        .map_or(0, |d| d.and_utc().timestamp())
        .div_euclid(DAY);
    if date_day < today {
        return Err(QuizError::Settings(format!(
            "the interview date {date} has passed"
        )));
    }
    let days_left = (date_day - today) as u32;
    let cards: Vec<super::Card> = quiz
        .all_cards()?
        .into_iter()
        .filter(|c| c.kind == CardKind::Bank)
        .filter(|c| topics.is_empty() || c.topic_id.as_ref().is_some_and(|t| topics.contains(t)))
        .collect();
    let first_seen_today = first_seen_since(quiz, today * DAY)?;
    let in_scope: HashSet<&str> = cards.iter().map(|c| c.id.as_str()).collect();
    let new_today = first_seen_today
        .iter()
        .filter(|id| in_scope.contains(id.as_str()))
        .count();
    let seen = cards.iter().filter(|c| c.state.is_some()).count();
    let due_now = cards
        .iter()
        .filter(|c| c.state.as_ref().is_some_and(|s| s.due <= now))
        .count();
    // Every question is to be seen by the day before the date (today counts as a day).
    let to_learn = cards.len() - seen + new_today;
    let learning_days = days_left.max(1) as usize;
    let pace = to_learn.div_ceil(learning_days);
    let scheduler = quiz.scheduler();
    let parameters = Arc::new(scheduler.parameters().to_vec());
    let target = quiz.desired_retention() as f32;

    let existing = |retention: f32| -> Vec<fsrs::Card> {
        cards
            .iter()
            .filter(|c| !first_seen_today.contains(&c.id))
            .filter_map(|c| c.state.as_ref())
            .map(|s| fsrs::Card {
                id: 1,
                difficulty: s.difficulty,
                stability: s.stability,
                last_date: (s.last_review - now) as f32 / DAY as f32,
                due: ((s.due - now) as f32 / DAY as f32).max(0.0),
                interval: (s.due - s.last_review) as f32 / DAY as f32,
                lapses: s.lapses,
                desired_retention: retention,
                parameters: parameters.clone(),
            })
            .collect()
    };
    let simulate = |new_per_day: usize, retention: f32| -> Result<Simulated, QuizError> {
        let existing = existing(retention);
        let deck = existing.len() + to_learn;
        if deck == 0 {
            return Ok(Simulated::default());
        }
        let config = fsrs::SimulatorConfig {
            deck_size: deck,
            learn_span: days_left as usize + 1,
            max_cost_perday: f32::INFINITY,
            learn_limit: new_per_day.max(1),
            review_limit: usize::MAX,
            ..Default::default()
        };
        let result = fsrs::simulate(
            &config,
            &parameters[..],
            retention,
            Some(42),
            Some(existing),
        )
        .map_err(|e| QuizError::Scheduler(format!("plan simulation: {e:?}")))?;
        let on_date = result
            .memorized_cnt_per_day
            .last()
            .copied()
            .unwrap_or_default();
        let days = result.review_cnt_per_day.len().max(1);
        Ok(Simulated {
            retention: on_date / deck as f32,
            reviews_per_day: result.review_cnt_per_day.iter().sum::<usize>() as f32 / days as f32,
            peak_reviews: result.review_cnt_per_day.iter().copied().max().unwrap_or(0),
            cost: result.cost_per_day.iter().sum(),
        })
    };
    // Candidates: the pace that finishes just in time, and faster ones (learning earlier
    // leaves more reviews before the date), each at schedule retentions from the target up.
    let mut best: Option<(bool, usize, f32, Simulated)> = None;
    for new_per_day in [pace, pace + pace / 2, 2 * pace] {
        let mut retention = target;
        while retention <= MAX_SCHEDULE_RETENTION + 1e-6 {
            let outcome = simulate(new_per_day, retention)?;
            let reaches = outcome.retention >= target;
            let better = match &best {
                None => true,
                Some((best_reaches, _, _, b)) => match (reaches, best_reaches) {
                    (true, false) => true,
                    (false, true) => false,
                    (true, true) => outcome.cost < b.cost,
                    (false, false) => outcome.retention > b.retention,
                },
            };
            if better {
                best = Some((reaches, new_per_day, retention, outcome));
            }
            if reaches {
                break;
            }
            retention += 0.01;
        }
        if to_learn == 0 {
            break;
        }
    }
    let (reachable, new_per_day, schedule_retention, outcome) =
        best.unwrap_or((true, pace, target, Simulated::default()));

    // The pace is remembered from the day the date was set: on track means having learned
    // at least that many new questions a day since.
    let stored: Option<PlanStart> = quiz
        .library()
        .db()
        .meta(PLAN_START_KEY)?
        .and_then(|j| serde_json::from_str(&j).ok());
    let mut start = stored.filter(|s| s.date == date).unwrap_or(PlanStart {
        date: date.to_string(),
        day: today,
        new_per_day,
        schedule_retention: None,
    });
    start.schedule_retention = Some(schedule_retention);
    quiz.library().db().set_meta(
        PLAN_START_KEY,
        &serde_json::to_string(&start).unwrap_or_default(),
    )?;
    let learned_since_start = first_seen_since(quiz, start.day * DAY)?
        .iter()
        .filter(|id| in_scope.contains(id.as_str()))
        .count();
    let expected_since_start = start.new_per_day * (today - start.day).max(0) as usize;
    Ok(Plan {
        date: date.to_string(),
        days_left,
        questions: cards.len(),
        seen,
        new_per_day,
        new_today,
        due_now,
        reviews_per_day: outcome.reviews_per_day,
        peak_reviews: outcome.peak_reviews,
        predicted_retention: outcome.retention,
        target_retention: target,
        schedule_retention,
        reachable,
        on_track: learned_since_start >= expected_since_start,
        learned_since_start,
        expected_since_start,
    })
}

/// The cards first reviewed at or after `since` (unix seconds).
fn first_seen_since(quiz: &Quiz<'_>, since: i64) -> Result<HashSet<String>, QuizError> {
    let db = quiz.library().db();
    let mut stmt = db
        .conn()
        .prepare("SELECT card_id FROM reviews GROUP BY card_id HAVING MIN(reviewed_at) >= ?1")?;
    let rows = stmt.query_map([since], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, Copy, Default)]
struct Simulated {
    retention: f32,
    reviews_per_day: f32,
    peak_reviews: usize,
    cost: f32,
}
