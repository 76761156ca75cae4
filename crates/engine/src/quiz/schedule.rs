//! Spaced repetition with FSRS (the scheduler Anki uses), through the `fsrs` crate.
//!
//! A card's memory is its stability (days until recall falls to 90%) and difficulty. A review's
//! rating moves both, and the next due date is the interval after which recall is predicted
//! to fall to the desired retention. "Again" brings a card back after a short relearning step
//! within the same day, as Anki does, rather than the next day.

use fsrs::{FSRS, FSRSItem, FSRSReview, MemoryState};
use serde::{Deserialize, Serialize};

use super::QuizError;
use ts_rs::TS;

pub const DAY: i64 = 86_400;
/// How soon a forgotten card comes back.
pub const RELEARN_SECONDS: i64 = 10 * 60;
/// FSRS-6 keeps its forgetting-curve decay as the last of its 21 parameters.
const DECAY_INDEX: usize = 20;

/// How well the answer was recalled, as Anki's four buttons.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    Again = 1,
    Hard = 2,
    Good = 3,
    Easy = 4,
}

impl Rating {
    pub const ALL: [Rating; 4] = [Rating::Again, Rating::Hard, Rating::Good, Rating::Easy];

    pub fn from_number(n: u8) -> Option<Rating> {
        Rating::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// The rating a grade of 0–5 suggests: below 2 is a lapse, 5 is effortless.
    pub fn suggested_by(score: u8) -> Rating {
        match score {
            0 | 1 => Rating::Again,
            2 => Rating::Hard,
            3 | 4 => Rating::Good,
            _ => Rating::Easy,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Rating::Again => "Again",
            Rating::Hard => "Hard",
            Rating::Good => "Good",
            Rating::Easy => "Easy",
        }
    }
}

/// The memory state of a card that has been reviewed at least once.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardState {
    pub stability: f32,
    pub difficulty: f32,
    /// Unix seconds.
    pub due: i64,
    pub last_review: i64,
    pub reps: u32,
    pub lapses: u32,
}

pub struct Scheduler {
    fsrs: FSRS,
    /// The parameters in use (FSRS's defaults when none were fitted): the plan simulates
    /// with them.
    parameters: Vec<f32>,
    decay: f32,
    desired_retention: f64,
}

impl Scheduler {
    /// `parameters` empty means FSRS's defaults (fitted on many users' reviews).
    pub fn new(parameters: &[f32], desired_retention: f64) -> Result<Scheduler, QuizError> {
        if !(0.7..=0.99).contains(&desired_retention) {
            return Err(QuizError::Settings(format!(
                "desired retention {desired_retention} is outside 0.70–0.99"
            )));
        }
        let fsrs = FSRS::new(parameters).map_err(fsrs_error)?;
        let decay = parameters
            .get(DECAY_INDEX)
            .copied()
            .unwrap_or(fsrs::DEFAULT_PARAMETERS[DECAY_INDEX]);
        Ok(Scheduler {
            fsrs,
            parameters: if parameters.is_empty() {
                fsrs::DEFAULT_PARAMETERS.to_vec()
            } else {
                parameters.to_vec()
            },
            decay,
            desired_retention,
        })
    }

    pub fn desired_retention(&self) -> f64 {
        self.desired_retention
    }

    pub fn parameters(&self) -> &[f32] {
        &self.parameters
    }

    /// The state after a review at `now`, and the interval it sets in days.
    pub fn review(
        &self,
        state: Option<&CardState>,
        rating: Rating,
        now: i64,
    ) -> Result<(CardState, f64), QuizError> {
        let [again, hard, good, easy] = self.next_states(state, now)?;
        let (memory, days) = match rating {
            Rating::Again => again,
            Rating::Hard => hard,
            Rating::Good => good,
            Rating::Easy => easy,
        };
        let seconds = interval_seconds(rating, days);
        let next = CardState {
            stability: memory.stability,
            difficulty: memory.difficulty,
            due: now + seconds,
            last_review: now,
            reps: state.map_or(0, |s| s.reps) + 1,
            lapses: state.map_or(0, |s| s.lapses) + u32::from(rating == Rating::Again),
        };
        Ok((next, seconds as f64 / DAY as f64))
    }

    /// The interval in days each rating would set now (shown on the rating buttons).
    pub fn preview(&self, state: Option<&CardState>, now: i64) -> Result<[f64; 4], QuizError> {
        let states = self.next_states(state, now)?;
        let mut out = [0.0; 4];
        for (i, (rating, (_, days))) in Rating::ALL.iter().zip(states).enumerate() {
            out[i] = interval_seconds(*rating, days) as f64 / DAY as f64;
        }
        Ok(out)
    }

    /// The predicted probability of recalling the card at `now`.
    pub fn retrievability(&self, state: &CardState, now: i64) -> f32 {
        let days = (now - state.last_review).max(0) as f32 / DAY as f32;
        fsrs::current_retrievability(
            MemoryState {
                stability: state.stability,
                difficulty: state.difficulty,
            },
            days,
            self.decay,
        )
    }

    fn next_states(
        &self,
        state: Option<&CardState>,
        now: i64,
    ) -> Result<[(MemoryState, f32); 4], QuizError> {
        let memory = state.map(|s| MemoryState {
            stability: s.stability,
            difficulty: s.difficulty,
        });
        let elapsed = state.map_or(0, |s| elapsed_days(s.last_review, now));
        let next = self
            .fsrs
            .next_states(memory, self.desired_retention as f32, elapsed)
            .map_err(fsrs_error)?;
        Ok([next.again, next.hard, next.good, next.easy].map(|s| (s.memory, s.interval)))
    }
}

/// Whole days between two times, as FSRS counts them.
pub fn elapsed_days(from: i64, to: i64) -> u32 {
    u32::try_from((to - from).max(0) / DAY).unwrap_or(u32::MAX)
}

fn interval_seconds(rating: Rating, days: f32) -> i64 {
    if rating == Rating::Again {
        RELEARN_SECONDS
    } else {
        (days.round() as i64).max(1) * DAY
    }
}

/// One logged review, as fitting reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedReview {
    pub card_id: String,
    pub reviewed_at: i64,
    pub rating: Rating,
}

/// Fewer training items than this and the fitted parameters are noise; FSRS's defaults stay.
pub const MIN_TRAINING_ITEMS: usize = 64;

/// Fits FSRS parameters to the user's own review log. `Ok(None)` when there are too few
/// reviews that span more than a day to learn from.
pub fn fit(log: &[LoggedReview]) -> Result<Option<(Vec<f32>, usize)>, QuizError> {
    let items = training_items(log);
    if items.len() < MIN_TRAINING_ITEMS {
        return Ok(None);
    }
    let count = items.len();
    let parameters = fsrs::compute_parameters(fsrs::ComputeParametersInput {
        train_set: items,
        ..Default::default()
    })
    .map_err(fsrs_error)?;
    Ok(Some((parameters, count)))
}

/// One item per review that follows at least one earlier review a day or more before: the
/// history up to it, and it as the outcome to predict.
pub fn training_items(log: &[LoggedReview]) -> Vec<FSRSItem> {
    let mut by_card: std::collections::BTreeMap<&str, Vec<&LoggedReview>> = Default::default();
    for review in log {
        by_card.entry(&review.card_id).or_default().push(review);
    }
    let mut items = Vec::new();
    for reviews in by_card.values_mut() {
        reviews.sort_by_key(|r| r.reviewed_at);
        let mut history: Vec<FSRSReview> = Vec::new();
        let mut previous_day = None;
        for review in reviews.iter() {
            let day = review.reviewed_at.div_euclid(DAY);
            let delta_t = previous_day.map_or(0, |p: i64| (day - p).max(0) as u32);
            history.push(FSRSReview {
                rating: review.rating as u32,
                delta_t,
            });
            previous_day = Some(day);
            if history.len() > 1 && history.iter().skip(1).any(|r| r.delta_t > 0) {
                items.push(FSRSItem {
                    reviews: history.clone(),
                });
            }
        }
    }
    items
}

fn fsrs_error(error: fsrs::FSRSError) -> QuizError {
    QuizError::Scheduler(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_780_000_000;

    #[test]
    fn good_grows_the_interval_and_again_resets_it() {
        let scheduler = Scheduler::new(&[], 0.9).unwrap();
        let (mut state, first) = scheduler.review(None, Rating::Good, T0).unwrap();
        assert!(first >= 1.0, "first Good interval {first}");
        let mut intervals = vec![first];
        for _ in 0..4 {
            let now = state.due;
            let (next, days) = scheduler.review(Some(&state), Rating::Good, now).unwrap();
            intervals.push(days);
            state = next;
        }
        assert!(
            intervals.windows(2).all(|w| w[1] > w[0]),
            "Good intervals must grow: {intervals:?}"
        );
        let stability_before = state.stability;
        let (lapsed, days) = scheduler
            .review(Some(&state), Rating::Again, state.due)
            .unwrap();
        assert_eq!(days * DAY as f64, RELEARN_SECONDS as f64);
        assert!(lapsed.stability < stability_before);
        assert_eq!(lapsed.lapses, 1);
        assert_eq!(lapsed.reps, 6);
        let (after, next) = scheduler
            .review(Some(&lapsed), Rating::Good, lapsed.due)
            .unwrap();
        assert!(
            next < *intervals.last().unwrap(),
            "after a lapse the interval restarts small: {next} vs {intervals:?}"
        );
        assert!(after.due > lapsed.due);
    }

    #[test]
    fn ratings_order_the_intervals_and_retention_shortens_them() {
        let scheduler = Scheduler::new(&[], 0.9).unwrap();
        let (state, _) = scheduler.review(None, Rating::Good, T0).unwrap();
        let preview = scheduler.preview(Some(&state), state.due).unwrap();
        assert!(preview.windows(2).all(|w| w[0] <= w[1]), "{preview:?}");
        assert!(preview[0] < 1.0 && preview[3] > preview[2]);
        let strict = Scheduler::new(&[], 0.97).unwrap();
        let strict_good = strict.preview(Some(&state), state.due).unwrap()[2];
        assert!(strict_good < preview[2], "{strict_good} vs {}", preview[2]);
        assert!(Scheduler::new(&[], 0.3).is_err());
    }

    #[test]
    fn retrievability_falls_with_time() {
        let scheduler = Scheduler::new(&[], 0.9).unwrap();
        let (state, _) = scheduler.review(None, Rating::Good, T0).unwrap();
        let fresh = scheduler.retrievability(&state, T0);
        let at_due = scheduler.retrievability(&state, state.due);
        let late = scheduler.retrievability(&state, state.due + 30 * DAY);
        assert!(fresh > 0.99 && (0.85..0.95).contains(&at_due) && late < at_due);
    }

    #[test]
    fn training_items_need_a_later_day() {
        let review = |card: &str, at: i64, rating| LoggedReview {
            card_id: card.into(),
            reviewed_at: at,
            rating,
        };
        let log = [
            review("a", T0, Rating::Good),
            review("a", T0 + 60, Rating::Good),
            review("a", T0 + 3 * DAY, Rating::Hard),
            review("b", T0, Rating::Again),
        ];
        let items = training_items(&log);
        assert_eq!(items.len(), 1);
        let deltas: Vec<u32> = items[0].reviews.iter().map(|r| r.delta_t).collect();
        assert_eq!(deltas, [0, 0, 3]);
        assert_eq!(fit(&log).unwrap(), None);
    }
}
