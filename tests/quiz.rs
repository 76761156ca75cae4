//! The quiz on the real bank, a real paper, the real index and the real local model (the
//! 1.5B "better" tier):
//! FSRS scheduling and its persistence, grading, generation with its checks, export.

mod common;

use std::sync::OnceLock;

use studydesk_engine::Cancel;
use studydesk_engine::Lang;
use studydesk_engine::config::QuizConfig;
use studydesk_engine::library::Library;
use studydesk_engine::llm::ChatClient;
use studydesk_engine::llm::local::LocalServer;
use studydesk_engine::quiz::export::{AnkiNote, anki_tsv, parse_anki_tsv};
use studydesk_engine::quiz::generate::{self, GenerateOptions, QUESTION_TOP_K};
use studydesk_engine::quiz::grade;
use studydesk_engine::quiz::{
    CardKind, DAY, QuestionKind, Quiz, Rating, ReviewInput, SessionOptions,
};
use studydesk_engine::retrieve::SearchOptions;

const T0: i64 = 1_790_000_000;
const PAPER: &str = "layer-normalization-1607.06450.pdf";
const SEED: u64 = 7;

struct Fixture {
    library: Library,
    client: ChatClient,
    _server: LocalServer,
}

/// One library with the bank and the layer-normalization paper, and the local model.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (paths, library) = common::library_with_paper("quiz", PAPER);
        let (client, server) = common::grading_model(&paths);
        Fixture {
            library,
            client,
            _server: server,
        }
    })
}

fn review(quiz: &Quiz<'_>, id: &str, rating: Rating, at: i64) -> studydesk_engine::quiz::CardState {
    quiz.review(
        id,
        &ReviewInput {
            rating,
            grade: None,
            answer: "my answer".into(),
            duration_ms: Some(5000),
            grading: None,
        },
        at,
    )
    .unwrap()
}

#[test]
fn reviews_persist_across_restarts_and_due_cards_come_first() {
    let paths = common::fresh_paths("quiz-schedule");
    let config = QuizConfig::default();
    {
        let library = Library::open(&paths).unwrap();
        let quiz = Quiz::open(&library, &config).unwrap();
        let first = quiz
            .session(
                &SessionOptions {
                    topics: vec!["t01".into()],
                    new_cards: 3,
                    ..SessionOptions::default()
                },
                T0,
            )
            .unwrap();
        let ids: Vec<&str> = first.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            ["t01-q001", "t01-q002", "t01-q003"],
            "new cards in bank order"
        );
        let good = review(&quiz, "t01-q001", Rating::Good, T0);
        let again = review(&quiz, "t01-q002", Rating::Again, T0);
        assert!(good.due >= T0 + DAY, "Good schedules a day or more ahead");
        assert_eq!(again.due, T0 + 600, "Again comes back in ten minutes");
    }
    // A new process: the same states, from the database.
    let library = Library::open(&paths).unwrap();
    let quiz = Quiz::open(&library, &config).unwrap();
    let later = T0 + 30 * DAY;
    let session = quiz
        .session(
            &SessionOptions {
                topics: vec!["t01".into()],
                new_cards: 2,
                ..SessionOptions::default()
            },
            later,
        )
        .unwrap();
    let ids: Vec<&str> = session.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["t01-q002", "t01-q001", "t01-q003", "t01-q004"],
        "due cards first, most overdue first, then new ones"
    );
    let due_only = quiz
        .session(
            &SessionOptions {
                topics: vec!["t01".into()],
                due_only: true,
                new_cards: 5,
                ..SessionOptions::default()
            },
            T0 + 60,
        )
        .unwrap();
    assert!(due_only.is_empty(), "nothing is due a minute later");

    // Intervals grow with Good and restart with Again.
    let mut at = later;
    let mut intervals = Vec::new();
    for _ in 0..3 {
        let state = review(&quiz, "t01-q001", Rating::Good, at);
        intervals.push(state.due - at);
        at = state.due;
    }
    assert!(intervals.windows(2).all(|w| w[1] > w[0]), "{intervals:?}");
    let lapsed = review(&quiz, "t01-q001", Rating::Again, at);
    assert_eq!(lapsed.due - at, 600);
    assert_eq!(lapsed.lapses, 1);

    let stats = quiz.stats(at).unwrap();
    let t01 = stats.topics.iter().find(|t| t.topic_id == "t01").unwrap();
    assert_eq!((t01.questions, t01.seen), (20, 2));
    assert_eq!(stats.reviews, 6);
    assert_eq!(stats.total.questions, 949);
    assert_eq!(stats.forecast.len(), 7);
    assert!(t01.retention.is_some_and(|r| r > 0.0 && r <= 1.0));
}

/// Whitespace-collapsed, to find a quoted sentence in its passage.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The rubric of a bank card is the paper's own sentences, each found in the source it cites;
/// without a model the learner grades themselves against it.
#[test]
fn without_a_model_the_rubric_is_the_papers_own_sentences() {
    let f = fixture();
    let quiz = Quiz::open(&f.library, &QuizConfig::default()).unwrap();
    let card = quiz.card("t01-q001").unwrap();
    let grading = grade::grade(
        &f.library,
        None,
        &card,
        "它对每个样本的特征做归一化",
        &Cancel::new(),
    )
    .unwrap();
    assert_eq!(grading.score, None);
    assert_eq!(grading.points_from, grade::PointsFrom::Sources);
    assert!(grading.points.len() >= 2, "{:?}", grading.points);
    for point in &grading.points {
        let n = point.n.expect("a source's point cites it");
        let source = grading.sources.iter().find(|s| s.n == n).unwrap();
        assert_eq!(source.hit.doc.as_deref(), Some(PAPER));
        let quoted = point.text.trim_end_matches('…');
        assert!(
            squeeze(&source.hit.text).contains(&squeeze(quoted)),
            "{quoted:?} is not in [{n}] {}",
            source.label
        );
    }
    assert!(
        grading.points.iter().any(|p| {
            let text = p.text.to_lowercase();
            text.contains("mean") || text.contains("variance") || text.contains("statistics")
        }),
        "the rubric says what LayerNorm computes: {:?}",
        grading.points
    );
}

/// Answers to one card, written for this test: a correct one, one that gets the normalisation
/// axis backwards (BatchNorm's), a blank and the question copied. The grade orders them.
#[test]
fn the_model_grades_a_right_answer_above_a_wrong_one() {
    let f = fixture();
    let quiz = Quiz::open(&f.library, &QuizConfig::default()).unwrap();
    let card = quiz.card("t01-q001").unwrap();
    let grade = |answer: &str| {
        let grading =
            grade::grade(&f.library, Some(&f.client), &card, answer, &Cancel::new()).unwrap();
        eprintln!(
            "{:?} -> {:?} {:?}",
            answer,
            grading.score,
            grading
                .points
                .iter()
                .map(|p| (&p.text, p.verdict, p.coverage, p.drop))
                .collect::<Vec<_>>()
        );
        grading
    };
    let right = grade(
        "LayerNorm 对单个样本在同一层所有隐藏单元上求均值 μ 和方差 σ²，再计算 y = γ (x - μ) / sqrt(σ² + ε) + β；统计量不依赖 batch，所以训练和测试时计算相同。",
    );
    let wrong = grade(
        "LayerNorm 对每个特征在整个 batch 的样本上求均值和方差，所以它依赖 batch 大小，batch 小时效果差，测试时要用训练时的滑动平均。",
    );
    let (right_score, wrong_score) = (right.score.unwrap(), wrong.score.unwrap());
    assert!(
        right_score > wrong_score,
        "right {right_score} vs wrong {wrong_score}"
    );
    assert!(right_score >= 3, "a correct answer scores {right_score}");
    assert!(
        right
            .points
            .iter()
            .any(|p| p.verdict == grade::Verdict::Stated),
        "{:?}",
        right.points
    );
    assert!(
        wrong_score <= 2,
        "a wrong answer scores {wrong_score}: {:?}",
        wrong.points
    );
    // A blank answer and a copy of the question are zeros before any judgement.
    for (junk, reason) in [
        ("  ", "blank"),
        (card.question.as_str(), "copies the question"),
    ] {
        let graded = grade(junk);
        assert_eq!(graded.score, Some(0), "{junk:?}");
        assert_eq!(graded.zero_reason.as_deref(), Some(reason));
        assert_eq!(graded.suggested, Some(Rating::Again));
    }
}

#[test]
fn generation_keeps_only_questions_its_source_answers() {
    let f = fixture();
    let doc = f.library.find_doc(PAPER).unwrap();
    let report = generate::generate(
        &f.library,
        &f.client,
        &doc,
        &GenerateOptions {
            count: 3,
            lang: Some(Lang::En),
            // Reproducible drafts: the small model's output varies run to run, the checks
            // on it are what this test is about.
            seed: Some(SEED),
        },
        &Cancel::new(),
        &mut |_| {},
    )
    .unwrap();
    let drafted = report.kept.len() + report.dropped.len();
    eprintln!(
        "generate {PAPER}: kept {} of {drafted}; dropped: {:?}",
        report.kept.len(),
        report.dropped.iter().map(|d| &d.reason).collect::<Vec<_>>()
    );
    assert!(drafted >= 3, "drafted {drafted}");
    assert!(
        !report.kept.is_empty(),
        "no draft held up: {:?}",
        report.dropped
    );
    let quiz = Quiz::open(&f.library, &QuizConfig::default()).unwrap();
    let stored = quiz.generated(Some(&doc.id)).unwrap();
    assert_eq!(
        stored.len(),
        report.kept.len(),
        "every kept question is stored"
    );
    for q in &report.kept {
        // The answer key is the paper's own words: its sentence (a cloze's filled in) is in
        // the passage it was drawn from.
        let key = match q.kind {
            QuestionKind::Question => q.answer.clone(),
            QuestionKind::Cloze => {
                let (term, sentence) = q.answer.split_once(" — ").expect("term — sentence");
                assert_eq!(q.question.replacen("____", term, 1), sentence);
                sentence.to_string()
            }
        };
        assert!(
            squeeze(&q.passage).contains(&squeeze(&key)),
            "the key {key:?} is not in its passage"
        );
        // Checked again here, independently: the question brings its source back.
        let hits = f
            .library
            .search(
                &q.question,
                &SearchOptions {
                    top_k: QUESTION_TOP_K,
                    ..SearchOptions::default()
                },
            )
            .unwrap();
        assert!(
            hits.iter()
                .any(|h| h.doc_id.as_deref() == Some(doc.id.as_str()) && h.page == q.page),
            "{:?} does not retrieve its source page {:?}",
            q.question,
            q.page
        );
        assert!(
            doc.pages
                .is_some_and(|n| q.page.is_some_and(|p| p >= 1 && p <= n))
        );
        assert_eq!(q.lang, Lang::En);
    }
    // Generated questions join the pool, and can be edited and deleted.
    if let Some(first) = report.kept.first() {
        let session = quiz
            .session(
                &SessionOptions {
                    doc_id: Some(doc.id.clone()),
                    new_cards: 10,
                    ..SessionOptions::default()
                },
                T0,
            )
            .unwrap();
        assert!(session.iter().all(|c| c.kind == CardKind::Generated));
        assert!(session.iter().any(|c| c.id == first.id));
        let by_topic = quiz
            .session(
                &SessionOptions {
                    topics: vec!["generated".into()],
                    new_cards: 10,
                    ..SessionOptions::default()
                },
                T0,
            )
            .unwrap();
        assert!(!by_topic.is_empty() && by_topic.iter().all(|c| c.kind == CardKind::Generated));
        quiz.edit_generated(
            &first.id,
            Some("What does layer normalization normalise over?"),
            None,
        )
        .unwrap();
        let edited = quiz.card(&first.id).unwrap();
        assert_eq!(
            edited.question,
            "What does layer normalization normalise over?"
        );
        assert!(edited.source.as_ref().unwrap().edited);
        quiz.delete_generated(&first.id).unwrap();
        assert!(quiz.card(&first.id).is_err());
    }
}

#[test]
fn anki_export_round_trips_every_card() {
    let f = fixture();
    let quiz = Quiz::open(&f.library, &QuizConfig::default()).unwrap();
    let cards: Vec<_> = quiz
        .all_cards()
        .unwrap()
        .into_iter()
        .filter(|c| c.kind == CardKind::Bank)
        .collect();
    assert_eq!(cards.len(), 949);
    let notes: Vec<AnkiNote> = cards.iter().map(AnkiNote::from_card).collect();
    let text = anki_tsv(&notes);
    let back = parse_anki_tsv(&text);
    assert_eq!(back, notes);
    let with_points = back.iter().find(|n| n.back.contains('•')).unwrap();
    assert!(
        with_points
            .tags
            .iter()
            .any(|t| t.starts_with("studydesk::t"))
    );
    assert!(back.iter().all(|n| n.source.starts_with("bank t")));
}

#[test]
fn parameters_are_fitted_to_a_learners_own_log() {
    let paths = common::fresh_paths("quiz-fit");
    let library = Library::open(&paths).unwrap();
    let config = QuizConfig::default();
    let mut quiz = Quiz::open(&library, &config).unwrap();
    assert_eq!(quiz.refit().unwrap(), None, "an empty log fits nothing");
    // A simulated learner who forgets faster than FSRS's defaults assume: recall follows a
    // forgetting curve with a third of the scheduled stability (deterministic pseudo-random).
    let mut seed: u64 = 7;
    let mut random = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as f64 / (1u64 << 31) as f64
    };
    let bank = studydesk_engine::bank::Bank::builtin();
    let cards: Vec<String> = bank.topics[3..6]
        .iter()
        .flat_map(|t| t.questions.iter().map(|q| q.id.clone()))
        .take(40)
        .collect();
    assert_eq!(cards.len(), 40);
    assert!(matches!(
        quiz.review(
            "t99-q001",
            &ReviewInput {
                rating: Rating::Good,
                grade: None,
                answer: String::new(),
                duration_ms: None,
                grading: None,
            },
            T0
        ),
        Err(studydesk_engine::quiz::QuizError::UnknownCard(_))
    ));
    for card in &cards {
        let mut at = T0;
        let mut state = review(&quiz, card, Rating::Good, at);
        for _ in 0..6 {
            let wait = state.due - at;
            at = state.due;
            let recall = (-(wait as f64 / DAY as f64) / (state.stability as f64 / 3.0)).exp();
            let rating = if random() < recall {
                Rating::Good
            } else {
                Rating::Again
            };
            state = review(&quiz, card, rating, at);
        }
    }
    // What the default parameters schedule for a new card and for one reviewed once.
    let once = review(&quiz, "t01-q002", Rating::Good, T0);
    let before_new = quiz.scheduler().preview(None, T0).unwrap();
    let before_once = quiz.scheduler().preview(Some(&once), once.due).unwrap();
    let items = quiz.refit().unwrap().expect("enough reviews to fit");
    assert!(items >= 64, "{items}");
    let stats = quiz.stats(T0).unwrap();
    assert_eq!(stats.parameters, format!("fitted on {items} items"));
    // Reopened, the fitted parameters are in force.
    drop(quiz);
    let quiz = Quiz::open(&library, &config).unwrap();
    assert_eq!(
        quiz.stats(T0).unwrap().parameters,
        format!("fitted on {items} items")
    );
    // The fitted parameters know this learner forgets faster: "Good" comes back sooner.
    let after_new = quiz.scheduler().preview(None, T0).unwrap();
    let after_once = quiz.scheduler().preview(Some(&once), once.due).unwrap();
    eprintln!(
        "Good interval, new card: {} -> {} days; reviewed once: {} -> {} days",
        before_new[2], after_new[2], before_once[2], after_once[2]
    );
    assert!(
        after_new[2] < before_new[2],
        "{before_new:?} -> {after_new:?}"
    );
    assert!(
        after_once[2] < before_once[2],
        "{before_once:?} -> {after_once:?}"
    );
}
