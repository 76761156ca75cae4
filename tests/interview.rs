//! Interview practice on the real bank, the real LayerNorm paper, the real index and the real
//! local model (the "better" tier, the one this machine grades with): the mock interviewer's
//! follow-ups, its crash safety and debrief, the mistake notebook, the mastery map and the
//! plan to an interview date.

mod common;

use std::sync::OnceLock;

use studydesk_engine::Cancel;
use studydesk_engine::bank::Bank;
use studydesk_engine::config::{Paths, QuizConfig};
use studydesk_engine::library::Library;
use studydesk_engine::llm::ChatClient;
use studydesk_engine::llm::local::LocalServer;
use studydesk_engine::quiz::grade::PointsFrom;
use studydesk_engine::quiz::grade::Verdict;
use studydesk_engine::quiz::interview::{
    self, InterviewOptions, Interviewer, ProbeReason, TurnKind,
};
use studydesk_engine::quiz::{DAY, Quiz, Rating, ReviewInput, SessionOptions, mistakes, plan};

const T0: i64 = 1_790_000_000;
const PAPER: &str = "layer-normalization-1607.06450.pdf";
const TOPIC: &str = "t01";

struct Fixture {
    paths: Paths,
    client: ChatClient,
    _server: LocalServer,
}

/// A data folder with the bank and the LayerNorm paper imported, and the local model; each
/// test opens its own library on a copy (interviews and reviews are per test).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (paths, library) = common::library_with_paper("interview", PAPER);
        drop(library);
        let (client, server) = common::grading_model(&paths);
        Fixture {
            client,
            paths,
            _server: server,
        }
    })
}

/// A copy of the fixture's data folder (index and records), for one test.
fn library_copy(name: &str) -> Library {
    Library::open(&copy_paths(name)).unwrap()
}

fn copy_paths(name: &str) -> Paths {
    let f = fixture();
    let paths = common::fresh_paths(name);
    copy_dir(&f.paths.data_dir, &paths.data_dir);
    paths
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if !entry.file_name().to_string_lossy().ends_with(".log") {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The topic's first two questions reviewed yesterday (Good, not due): the interview starts
/// at the third, the first the learner has not seen. (The first, "LayerNorm's formula", is
/// graded from the model's knowledge today: retrieval misses the paper's formula passage.)
fn seen_first_two(library: &Library) {
    let quiz = Quiz::open(library, &QuizConfig::default()).unwrap();
    for q in &Bank::builtin().topic(TOPIC).unwrap().questions[..2] {
        quiz.review(
            &q.id,
            &ReviewInput {
                rating: Rating::Good,
                grade: None,
                answer: String::new(),
                duration_ms: None,
                grading: None,
            },
            T0 - DAY,
        )
        .unwrap();
    }
}

fn options(max_questions: usize) -> InterviewOptions {
    InterviewOptions {
        topics: vec![TOPIC.into()],
        minutes: 20,
        lang: None,
        max_questions: Some(max_questions),
    }
}

/// Reviews in the log.
fn reviews(library: &Library) -> usize {
    Quiz::open(library, &QuizConfig::default())
        .unwrap()
        .stats(T0)
        .unwrap()
        .reviews
}

#[test]
fn a_partial_answer_gets_a_follow_up_on_a_missed_point_by_its_key_term() {
    let f = fixture();
    let library = library_copy("interview-follow-up");
    seen_first_two(&library);
    let quiz = Quiz::open(&library, &QuizConfig::default()).unwrap();
    let interviewer = Interviewer::new(&quiz, &f.client);
    let cancel = Cancel::new();
    let started = interviewer.start(&options(1), &cancel, T0).unwrap();
    let first = started.current().unwrap().clone();
    // The topic's fundamentals in the bank's order, from the first question not seen yet
    // (what is due comes from the weak side, on the next question).
    assert_eq!(
        first.card_id,
        Bank::builtin().topic(TOPIC).unwrap().questions[2].id
    );
    assert_eq!(first.kind, TurnKind::Question);
    assert_eq!(reviews(&library), 2);

    let answer = "LayerNorm 不依赖 batch，小 batch 也能用。";
    let after = interviewer
        .answer(started.id, answer, Some(20_000), &cancel, T0 + 60)
        .unwrap();
    let graded = after.turns[0].grading.as_ref().unwrap();
    let next = after.current().expect("a follow-up is waiting").clone();
    common::say(format!(
        "points: {:#?}\nfollow-up: {:?} {:?}",
        graded
            .points
            .iter()
            .map(|p| (&p.text, p.verdict))
            .collect::<Vec<_>>(),
        next.prompt,
        next.probe
    ));
    assert_eq!(next.kind, TurnKind::FollowUp, "{}", next.prompt);
    assert_eq!(
        next.card_id, first.card_id,
        "a follow-up stays on the question"
    );
    let probe = next.probe.clone().unwrap();
    let point = graded
        .points
        .iter()
        .find(|p| p.text == probe.point)
        .expect("the probed point is one of the rubric's");
    match probe.reason {
        ProbeReason::Missed => assert_eq!(point.verdict, Verdict::Missed),
        ProbeReason::Wrong => assert_eq!(point.verdict, Verdict::Contradicted),
    }
    assert!(
        point
            .text
            .to_lowercase()
            .contains(&probe.term.to_lowercase()),
        "the term {:?} is the point's own",
        probe.term
    );
    assert!(
        !answer.to_lowercase().contains(&probe.term.to_lowercase()),
        "the term {:?} is one the answer left out",
        probe.term
    );
    assert!(
        next.prompt
            .to_lowercase()
            .contains(&probe.term.to_lowercase()),
        "the follow-up {:?} names {:?}",
        next.prompt,
        probe.term
    );
    // The model is asked about that point and term, and not told to reveal it.
    let messages =
        interview::follow_up_prompt(&first.prompt, answer, &probe, studydesk_engine::Lang::Zh);
    let prompt = format!("{messages:?}");
    assert!(prompt.contains(&probe.point) && prompt.contains(&probe.term));
    // One review for the question so far, rated from the answer before any follow-up.
    assert_eq!(reviews(&library), 3);

    // The follow-up's answer is graded against the one point; the question still has one
    // review, and with one question allowed, the interview ends with its debrief.
    let done = interviewer
        .answer(started.id, "我不知道。", Some(5_000), &cancel, T0 + 120)
        .unwrap();
    let follow_up = done
        .turns
        .iter()
        .find(|t| t.kind == TurnKind::FollowUp)
        .unwrap();
    assert_eq!(follow_up.grading.as_ref().unwrap().points.len(), 1);
    assert_eq!(reviews(&library), 3, "one review per question");
    // A second follow-up may come (two at most); answer until the interview ends.
    let mut view = done;
    let mut at = T0 + 180;
    while view.current().is_some() {
        assert!(view.turns.len() <= 1 + interview::MAX_FOLLOW_UPS);
        view = interviewer
            .answer(view.id, "不清楚。", None, &cancel, at)
            .unwrap();
        at += 60;
    }
    let debrief = view
        .debrief
        .as_ref()
        .expect("an ended interview has its debrief");
    assert_eq!(debrief.questions.len(), 1);
    let q = &debrief.questions[0];
    assert!(!q.follow_ups.is_empty());
    assert_eq!(
        q.points_from,
        PointsFrom::Sources,
        "the paper answers this question"
    );
    assert!(
        q.points.iter().all(|p| p
            .source
            .as_ref()
            .is_some_and(|c| c.hit.doc.as_deref() == Some(PAPER))),
        "every point of the paper's rubric cites its passage: {:#?}",
        q.points
    );
    assert!(!debrief.study_next.is_empty());
    assert_eq!(debrief.topics.len(), 1);
    assert_eq!(debrief.topics[0].topic_id, TOPIC);
}

#[test]
fn an_answer_stating_every_point_moves_on_to_the_next_question() {
    let f = fixture();
    let library = library_copy("interview-move-on");
    seen_first_two(&library);
    let quiz = Quiz::open(&library, &QuizConfig::default()).unwrap();
    let interviewer = Interviewer::new(&quiz, &f.client);
    let cancel = Cancel::new();
    let started = interviewer.start(&options(2), &cancel, T0).unwrap();
    let first = started.current().unwrap().clone();
    // The rubric's own points, as a learner who knows them would say them.
    let card = quiz.card(&first.card_id).unwrap();
    let rubric =
        studydesk_engine::quiz::grade::rubric(&library, Some(&f.client), &card, &cancel).unwrap();
    assert_eq!(rubric.from, PointsFrom::Sources);
    let perfect: Vec<String> = rubric.points.iter().map(|(p, _)| p.clone()).collect();
    let after = interviewer
        .answer(started.id, &perfect.join(" "), None, &cancel, T0 + 60)
        .unwrap();
    let graded = after.turns[0].grading.as_ref().unwrap();
    common::say(format!(
        "score {:?}: {:?}",
        graded.score,
        graded.points.iter().map(|p| p.verdict).collect::<Vec<_>>()
    ));
    assert!(graded.points.iter().all(|p| p.verdict == Verdict::Stated));
    let next = after.current().expect("a second question");
    assert_eq!(
        next.kind,
        TurnKind::Question,
        "no follow-up after a perfect answer"
    );
    assert_ne!(next.card_id, first.card_id);
}

#[test]
fn an_interview_cut_short_keeps_its_reviews_and_its_debrief_reopens() {
    let f = fixture();
    let paths = copy_paths("interview-crash");
    let (id, card) = {
        let library = Library::open(&paths).unwrap();
        seen_first_two(&library);
        let quiz = Quiz::open(&library, &QuizConfig::default()).unwrap();
        let interviewer = Interviewer::new(&quiz, &f.client);
        let cancel = Cancel::new();
        let started = interviewer.start(&options(3), &cancel, T0).unwrap();
        let card = started.current().unwrap().card_id.clone();
        interviewer
            .answer(started.id, "我不清楚这个问题。", None, &cancel, T0 + 60)
            .unwrap();
        // The app goes away here, with a question waiting (as after a crash or a quit).
        (started.id, card)
    };
    let library = Library::open(&paths).unwrap();
    assert_eq!(
        reviews(&library),
        3,
        "the answered question kept its review"
    );
    assert_eq!(
        interview::open_interview(&library).unwrap(),
        Some(id),
        "the interview can be resumed"
    );
    let reopened = interview::load(&library, id).unwrap();
    assert!(reopened.current().is_some());
    let ended = interview::finish(&library, id, T0 + 600).unwrap();
    assert!(
        ended.current().is_none(),
        "the unanswered question is dropped"
    );
    assert_eq!(ended.debrief.as_ref().unwrap().questions.len(), 1);
    drop(library);
    let library = Library::open(&paths).unwrap();
    let again = interview::load(&library, id).unwrap();
    assert_eq!(again.debrief.unwrap().questions[0].card_id, card);
    assert_eq!(interview::open_interview(&library).unwrap(), None);
    let listed = interview::list(&library).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].questions, 1);

    // The wrong answer is in the mistake notebook, with the passage that corrects it; it is
    // a session of its own, and exports.
    let quiz = Quiz::open(&library, &QuizConfig::default()).unwrap();
    let notebook = mistakes::mistakes(&quiz).unwrap();
    common::say(format!("{notebook:#?}"));
    let entry = notebook
        .iter()
        .find(|m| m.card_id == card)
        .expect("graded below 3, the question is a mistake");
    assert!(entry.grade < mistakes::MISTAKE_BELOW);
    assert_eq!(entry.answer, "我不清楚这个问题。");
    assert!(!entry.wrong.is_empty() || !entry.missed.is_empty());
    assert!(
        entry
            .corrections
            .iter()
            .any(|c| c.hit.doc.as_deref() == Some(PAPER)),
        "corrected from the paper: {:?}",
        entry.corrections
    );
    let session = quiz
        .session(
            &SessionOptions {
                mistakes: true,
                ..SessionOptions::default()
            },
            T0 + 700,
        )
        .unwrap();
    assert_eq!(
        session[0].id, card,
        "the notebook's session, though nothing is due"
    );
    let markdown = mistakes::markdown(&notebook);
    assert!(markdown.contains(&entry.question) && markdown.contains(&entry.answer));

    // The mastery map: the topic is now seen, weak, and lists the question among its weakest.
    let stats = quiz.stats(T0 + 700).unwrap();
    let topic = stats.topics.iter().find(|t| t.topic_id == TOPIC).unwrap();
    // The bad grade pulls the topic's mastery below what retention alone says.
    assert!(
        topic.mastery.unwrap() < topic.retention.unwrap(),
        "{topic:?}"
    );
    assert_eq!(topic.weakest[0].id, card);
    let other = stats.topics.iter().find(|t| t.topic_id == "t02").unwrap();
    assert_eq!(
        other.mastery, None,
        "a topic never studied has no mastery yet"
    );
}

#[test]
fn the_plan_paces_new_questions_to_the_date_and_reaches_the_retention_fsrs_predicts() {
    let library = library_copy("interview-plan");
    let quiz = Quiz::open(&library, &QuizConfig::default()).unwrap();
    // Today: the quiz reads the plan's retention while the date is ahead of the clock.
    let now = studydesk_engine::quiz::now();
    let day = |d: i64| studydesk_engine::quiz::day_string(now + d * DAY);
    let near = plan::plan(&quiz, &day(10), &[], now).unwrap();
    let far = plan::plan(&quiz, &day(60), &[], now).unwrap();
    common::say(format!("{near:#?}\n{far:#?}"));
    let questions = Bank::builtin().questions().count();
    assert_eq!(near.questions, questions);
    assert!(
        near.new_per_day * 10 >= questions,
        "every question seen before the date"
    );
    assert!(far.new_per_day < near.new_per_day);
    assert!(far.reachable, "two months is enough for 90 %");
    assert!(far.predicted_retention >= far.target_retention);
    assert!(near.predicted_retention > 0.0 && near.peak_reviews > 0);
    assert!(near.on_track);
    assert!(
        plan::plan(&quiz, &day(-1), &[], now).is_err(),
        "a date that has passed"
    );
    assert!(plan::plan(&quiz, "next friday", &[], now).is_err());
    // Until the date, the quiz schedules at the plan's retention.
    let config = QuizConfig {
        interview_date: Some(day(10)),
        ..QuizConfig::default()
    };
    plan::plan(&quiz, &day(10), &[], now).unwrap();
    let scheduled = Quiz::open(&library, &config).unwrap();
    let expected = f64::from(near.schedule_retention).max(0.9);
    assert!(
        (scheduled.scheduler().desired_retention() - expected).abs() < 1e-4,
        "scheduled at {} for a plan asking {}",
        scheduled.scheduler().desired_retention(),
        near.schedule_retention
    );
    // The settings' target is still the target.
    assert_eq!(scheduled.desired_retention(), 0.9);
}
