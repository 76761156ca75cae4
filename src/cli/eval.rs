//! `studydesk eval`: retrieval quality of query sets (query TAB expected), through the same
//! search the app runs.

use std::io::Write;
use std::path::PathBuf;

use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use studydesk_app::{App, GradeArgs, SearchManyArgs};
use studydesk_engine::bank::Bank;
use studydesk_engine::eval::{self, Band, GradeCase, GradeScores, Scores};
use studydesk_engine::store::{Mode, Source};
use studydesk_engine::tutor::{Listener, Tutor};

#[derive(Serialize)]
pub struct RetrievalReport {
    #[serde(flatten)]
    overall: Scores,
    files: Vec<FileScores>,
    #[serde(skip)]
    misses: Vec<String>,
}

#[derive(Serialize)]
struct FileScores {
    file: String,
    /// In the mixed list (bank questions and document passages together).
    #[serde(flatten)]
    scores: Scores,
    /// In the list of the expected source alone (the bank's related questions, or the
    /// documents' passages), as the app shows them.
    own_list: Scores,
}

pub fn retrieval(
    app: &App,
    files: &[PathBuf],
    mode: Mode,
    translate: Option<bool>,
) -> Result<RetrievalReport> {
    let mut all_ranks = Vec::new();
    let mut per_file = Vec::new();
    let mut misses = Vec::new();
    for file in files {
        let queries = eval::load(file, Bank::builtin())?;
        let results = app.search_many(
            SearchManyArgs {
                queries: queries.iter().map(|q| q.query.clone()).collect(),
                top_k: Some(eval::DEPTH),
                mode: Some(mode),
                translate,
                ..SearchManyArgs::default()
            },
            &super::quiet(),
        )?;
        let ranks: Vec<Option<usize>> = queries
            .iter()
            .zip(&results)
            .map(|(q, hits)| eval::first_relevant(q, hits))
            .collect();
        // The same queries in the list of their expected source alone.
        let mut own_ranks = Vec::new();
        for source in [Source::Bank, Source::Doc] {
            let own: Vec<&eval::EvalQuery> =
                queries.iter().filter(|q| q.source() == source).collect();
            if own.is_empty() {
                continue;
            }
            let hits = app.search_many(
                SearchManyArgs {
                    queries: own.iter().map(|q| q.query.clone()).collect(),
                    top_k: Some(eval::DEPTH),
                    mode: Some(mode),
                    source: Some(source),
                    translate,
                    ..SearchManyArgs::default()
                },
                &super::quiet(),
            )?;
            own_ranks.extend(
                own.iter()
                    .zip(&hits)
                    .map(|(q, hits)| eval::first_relevant(q, hits)),
            );
        }
        for (q, rank) in queries.iter().zip(&ranks) {
            if !rank.is_some_and(|r| r <= 5) {
                misses.push(format!(
                    "{} -> {} (rank {})",
                    q.query,
                    q.expected_text,
                    rank.map_or("-".into(), |r| r.to_string())
                ));
            }
        }
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        per_file.push(FileScores {
            file: name,
            scores: Scores::from_ranks(&ranks),
            own_list: Scores::from_ranks(&own_ranks),
        });
        all_ranks.extend(ranks);
    }
    Ok(RetrievalReport {
        overall: Scores::from_ranks(&all_ranks),
        files: per_file,
        misses,
    })
}

pub fn print_retrieval(out: &mut impl Write, report: &RetrievalReport) -> Result<()> {
    let line = |name: &str, s: &Scores| {
        format!(
            "{name:<34} queries {:>3}  R@1 {:.3}  R@5 {:.3}  R@10 {:.3}  MRR {:.3}",
            s.queries, s.recall_at_1, s.recall_at_5, s.recall_at_10, s.mrr
        )
    };
    for f in &report.files {
        writeln!(out, "{}", line(&f.file, &f.scores))?;
        writeln!(out, "{}", line("  in its own list", &f.own_list))?;
    }
    writeln!(out, "{}", line("overall (mixed lists)", &report.overall))?;
    for miss in &report.misses {
        writeln!(out, "  missed@5: {miss}")?;
    }
    Ok(())
}

/// One answer of `eval-answers`.
#[derive(Serialize)]
pub struct AnsweredCase {
    question: String,
    paper: String,
    coverage: f64,
    cites_paper: bool,
    cites_anything: bool,
    covered: bool,
    /// The best key sentence's score (what "covered" is decided on).
    best_sentence: Option<f32>,
    seconds: f64,
    /// Until the reader saw the first text (the quoted sources, or the model's first words).
    first_content_seconds: Option<f64>,
    cited: Vec<String>,
    answer: String,
}

#[derive(Serialize)]
pub struct AnswerReport {
    model: String,
    questions: usize,
    key_fact_coverage: f64,
    cites_expected_paper: f64,
    cites_anything: f64,
    median_seconds: f64,
    median_first_content_seconds: f64,
    cases: Vec<AnsweredCase>,
}

/// When the first text reached the reader.
struct FirstContent {
    start: Instant,
    at: Option<f64>,
}

impl Listener for FirstContent {
    fn token(&mut self, piece: &str) {
        if !piece.trim().is_empty() {
            self.at
                .get_or_insert_with(|| self.start.elapsed().as_secs_f64());
        }
    }
}

/// Asks every question of answer-quality sets as a learner would (nothing is stored) and
/// scores the answers: key facts present, the expected paper cited, anything cited, time.
pub fn answers(app: &App, files: &[PathBuf]) -> Result<AnswerReport> {
    let backend = app.backend()?;
    let tutor = Tutor::new(app.library(), backend.client());
    let language = app.config().language;
    let mut cases = Vec::new();
    for file in files {
        for case in eval::load_answer_cases(file)? {
            let start = Instant::now();
            let mut first = FirstContent { start, at: None };
            let answer = tutor.ask(
                &case.question,
                &[],
                None,
                language,
                &studydesk_engine::Cancel::new(),
                &mut first,
            )?;
            let seconds = start.elapsed().as_secs_f64();
            let cited: Vec<String> = answer.citations.iter().map(|c| c.label.clone()).collect();
            cases.push(AnsweredCase {
                coverage: case.coverage(&answer.text),
                cites_paper: answer
                    .citations
                    .iter()
                    .any(|c| c.hit.doc.as_deref() == Some(case.paper.as_str())),
                cites_anything: answer.generated && !answer.citations.is_empty(),
                covered: answer.covered,
                best_sentence: answer.key_sentences.first().map(|k| k.score),
                seconds,
                first_content_seconds: first.at,
                cited,
                answer: answer.text,
                question: case.question,
                paper: case.paper,
            });
        }
    }
    let n = cases.len().max(1) as f64;
    let share =
        |f: &dyn Fn(&AnsweredCase) -> bool| cases.iter().filter(|c| f(c)).count() as f64 / n;
    Ok(AnswerReport {
        model: super::print::plan(&app.model_plan()),
        questions: cases.len(),
        key_fact_coverage: cases.iter().map(|c| c.coverage).sum::<f64>() / n,
        cites_expected_paper: share(&|c| c.cites_paper),
        cites_anything: share(&|c| c.cites_anything),
        median_seconds: median(cases.iter().map(|c| c.seconds).collect()),
        median_first_content_seconds: median(
            cases
                .iter()
                .filter_map(|c| c.first_content_seconds)
                .collect(),
        ),
        cases,
    })
}

pub fn print_answers(out: &mut impl Write, report: &AnswerReport, show: bool) -> Result<()> {
    for c in &report.cases {
        writeln!(
            out,
            "{:>4.0}% facts  {}  {}  {:>5.1} s (first text {:>4.1} s)  {}",
            c.coverage * 100.0,
            if c.cites_paper {
                "cites paper"
            } else {
                "no paper   "
            },
            if c.covered { "covered" } else { "NOT COVERED" },
            c.seconds,
            c.first_content_seconds.unwrap_or(f64::NAN),
            c.question
        )?;
        if show {
            writeln!(out, "      cited: {}", c.cited.join(" · "))?;
            for line in c.answer.lines() {
                writeln!(out, "      | {line}")?;
            }
        }
    }
    writeln!(
        out,
        "{}: {} questions · key-fact coverage {:.2} · cites the expected paper {:.2} · any citation {:.2} · median {:.1} s per answer, first text after {:.1} s",
        report.model,
        report.questions,
        report.key_fact_coverage,
        report.cites_expected_paper,
        report.cites_anything,
        report.median_seconds,
        report.median_first_content_seconds
    )?;
    Ok(())
}

/// One graded answer of `eval-grades`.
#[derive(Serialize)]
pub struct GradedCase {
    card_id: String,
    band: Band,
    grade: u8,
    seconds: f64,
    correct: Vec<String>,
    missed: Vec<String>,
    wrong: Vec<String>,
    answer: String,
}

#[derive(Serialize)]
pub struct GradeReport {
    model: String,
    #[serde(flatten)]
    scores: GradeScores,
    median_seconds: f64,
    cases: Vec<GradedCase>,
}

/// Grades every answer of grading sets through the app's `grade` command (nothing is stored)
/// and scores the grades against their bands.
pub fn grades(app: &App, files: &[PathBuf]) -> Result<GradeReport> {
    let mut graded: Vec<(GradeCase, u8)> = Vec::new();
    let mut cases = Vec::new();
    for file in files {
        for case in eval::load_grade_cases(file)? {
            let start = Instant::now();
            let grading = app.grade(
                GradeArgs {
                    card_id: case.card_id.clone(),
                    answer: case.answer.clone(),
                    self_grade: false,
                },
                &super::quiet(),
            )?;
            let grade = grading.score.ok_or_else(|| {
                anyhow::anyhow!(
                    "no model graded the answers: {}",
                    super::print::plan(&app.model_plan())
                )
            })?;
            cases.push(GradedCase {
                card_id: case.card_id.clone(),
                band: case.band,
                grade,
                seconds: start.elapsed().as_secs_f64(),
                correct: grading.correct,
                missed: grading.missed,
                wrong: grading.wrong,
                answer: case.answer.clone(),
            });
            graded.push((case, grade));
        }
    }
    Ok(GradeReport {
        model: super::print::plan(&app.model_plan()),
        scores: GradeScores::of(&graded),
        median_seconds: median(cases.iter().map(|c| c.seconds).collect()),
        cases,
    })
}

pub fn print_grades(out: &mut impl Write, report: &GradeReport, show: bool) -> Result<()> {
    for c in &report.cases {
        writeln!(
            out,
            "{}  {:<7}  {}/5 {}  {:>5.1} s  {}",
            c.card_id,
            c.band.as_str(),
            c.grade,
            if c.band.accepts(c.grade) {
                "✓"
            } else {
                "✗"
            },
            c.seconds,
            studydesk_engine::text::excerpt(&c.answer, 40)
        )?;
        if show {
            for (mark, items) in [("✓", &c.correct), ("…", &c.missed), ("✗", &c.wrong)] {
                for item in items {
                    writeln!(out, "      {mark} {item}")?;
                }
            }
        }
    }
    let s = &report.scores;
    writeln!(
        out,
        "{}: {} answers · band accuracy {:.2} · good > partial > wrong on {} of {} cards · mean grade good {:.1} / partial {:.1} / wrong {:.1} · median {:.1} s per grade",
        report.model,
        s.answers,
        s.band_accuracy,
        s.ordered_cards,
        s.cards,
        s.mean_good,
        s.mean_partial,
        s.mean_wrong,
        report.median_seconds
    )?;
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}
