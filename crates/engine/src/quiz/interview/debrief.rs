//! The debrief of an interview: per question the points hit, missed (or recovered on a
//! follow-up) and wrong with their sources, a score per topic, and what to study next.

use super::{
    Debrief, DebriefPoint, FollowUpDebrief, Interview, QuestionDebrief, STUDY_NEXT, StudyItem,
    TopicScore, Turn, TurnKind,
};
use crate::bank::Bank;
use crate::quiz::grade::Verdict;
use crate::quiz::schedule::Rating;

/// The debrief of the answered turns.
pub fn debrief(interview: &Interview) -> Debrief {
    let bank = Bank::builtin();
    let mut questions = Vec::new();
    for main in interview
        .turns
        .iter()
        .filter(|t| t.kind == TurnKind::Question && t.answer.is_some())
    {
        let Some(grading) = &main.grading else {
            continue;
        };
        let follow_ups: Vec<&Turn> = interview
            .turns
            .iter()
            .filter(|t| {
                t.card_id == main.card_id && t.kind == TurnKind::FollowUp && t.answer.is_some()
            })
            .collect();
        let recovered = |point: &str| {
            follow_ups.iter().any(|f| {
                f.probe.as_ref().is_some_and(|p| p.point == point)
                    && f.grading
                        .as_ref()
                        .is_some_and(|g| g.points.iter().any(|p| p.verdict == Verdict::Stated))
            })
        };
        let source =
            |n: Option<usize>| n.and_then(|n| grading.sources.iter().find(|c| c.n == n).cloned());
        questions.push(QuestionDebrief {
            card_id: main.card_id.clone(),
            topic_id: main.topic_id.clone(),
            question: main.prompt.clone(),
            answer: main.answer.clone().unwrap_or_default(),
            score: grading.score,
            rating: grading.score.map(Rating::suggested_by),
            points_from: grading.points_from,
            points: grading
                .points
                .iter()
                .map(|p| DebriefPoint {
                    text: p.text.clone(),
                    verdict: p.verdict,
                    recovered: p.verdict != Verdict::Stated && recovered(&p.text),
                    source: source(p.n),
                })
                .collect(),
            follow_ups: follow_ups
                .iter()
                .map(|f| FollowUpDebrief {
                    question: f.prompt.clone(),
                    answer: f.answer.clone().unwrap_or_default(),
                    verdict: f
                        .grading
                        .as_ref()
                        .and_then(|g| g.points.first())
                        .map(|p| p.verdict),
                })
                .collect(),
        });
    }
    let mut topics: Vec<TopicScore> = Vec::new();
    for q in &questions {
        let (Some(topic_id), Some(score)) = (&q.topic_id, q.score) else {
            continue;
        };
        let at = match topics.iter().position(|t| &t.topic_id == topic_id) {
            Some(at) => at,
            None => {
                topics.push(TopicScore {
                    topic_id: topic_id.clone(),
                    title: bank
                        .topic(topic_id)
                        .map(|t| t.title.clone())
                        .unwrap_or_default(),
                    questions: 0,
                    score: 0.0,
                });
                topics.len() - 1
            }
        };
        let t = &mut topics[at];
        t.score = (t.score * t.questions as f32 + f32::from(score)) / (t.questions + 1) as f32;
        t.questions += 1;
    }
    // Wrong before missed, not recovered before recovered, weaker answers first; one point per
    // question before a second one from the same question.
    let mut items: Vec<(u8, u8, usize, StudyItem)> = Vec::new();
    for q in &questions {
        for p in q.points.iter().filter(|p| p.verdict != Verdict::Stated) {
            let order = match (p.verdict, p.recovered) {
                (Verdict::Contradicted, _) => 0,
                (_, false) => 1,
                (_, true) => 2,
            };
            let nth = items.iter().filter(|i| i.3.card_id == q.card_id).count();
            items.push((
                order,
                q.score.unwrap_or(0),
                nth,
                StudyItem {
                    card_id: q.card_id.clone(),
                    text: p.text.clone(),
                    verdict: p.verdict,
                    source: p.source.clone(),
                },
            ));
        }
    }
    items.sort_by_key(|(order, score, nth, _)| (*nth, *order, *score));
    Debrief {
        questions,
        topics,
        study_next: items
            .into_iter()
            .take(STUDY_NEXT)
            .map(|(.., item)| item)
            .collect(),
    }
}
