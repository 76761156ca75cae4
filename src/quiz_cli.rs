//! The quiz commands: an interactive review session in the terminal, stats, generation of
//! practice questions, their editing, and exports.

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use studydesk::library::Library;
use studydesk::llm::{Backend, ChatClient};
use studydesk::quiz::export::{self, AnkiNote};
use studydesk::quiz::generate::{self, GenerateEvent, GenerateOptions};
use studydesk::quiz::grade::{self, Grading};
use studydesk::quiz::{self, Card, Quiz, Rating, ReviewInput, SessionOptions};

/// Runs a session: each card is shown, answered, graded and rated; every rating is stored at
/// once, so ending the session any way (`:q`, end of input, Ctrl-C) loses nothing answered.
pub fn session(
    quiz: &Quiz<'_>,
    llm: Option<&ChatClient>,
    options: &SessionOptions,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<()> {
    let cards = quiz.session(options, quiz::now())?;
    let due = cards.iter().filter(|c| c.state.is_some()).count();
    if cards.is_empty() {
        writeln!(
            out,
            "Nothing to review: no card is due{}.",
            if options.due_only {
                " (leave out --due to add new questions)"
            } else {
                " and no new questions are left in this selection"
            }
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{} questions: {due} due, {} new. Answer in your own words and press Enter (an empty answer means \"I don't know\"); `:q` ends the session.",
        cards.len(),
        cards.len() - due
    )?;
    if llm.is_none() {
        writeln!(
            out,
            "Generation is off: you will grade yourself against the reference and the sources."
        )?;
    }
    let mut reviewed = 0;
    for (i, card) in cards.iter().enumerate() {
        writeln!(
            out,
            "\n[{}/{}] {}  {}",
            i + 1,
            cards.len(),
            card.id,
            card.topic_title
                .clone()
                .unwrap_or_else(|| card.source_label())
        )?;
        writeln!(out, "Q: {}", card.question)?;
        write!(out, "> ")?;
        out.flush()?;
        let shown = Instant::now();
        let Some(answer) = read_line(input)? else {
            break;
        };
        if answer.trim() == ":q" {
            break;
        }
        let duration_ms = shown.elapsed().as_millis() as u64;
        let grading = grade::grade(quiz.library(), llm, card, &answer)?;
        print_grading(out, card, &grading)?;
        let Some(rating) = ask_rating(quiz, card, grading.suggested, input, out)? else {
            break;
        };
        let state = quiz.review(
            &card.id,
            &ReviewInput {
                rating,
                grade: grading.score,
                answer: answer.trim().to_string(),
                duration_ms: Some(duration_ms),
            },
            quiz::now(),
        )?;
        reviewed += 1;
        writeln!(
            out,
            "{} — next review {}",
            rating.label(),
            when(state.due - quiz::now())
        )?;
    }
    writeln!(
        out,
        "\nSession over: {reviewed} reviewed. `studydesk stats` shows your progress."
    )?;
    Ok(())
}

fn read_line(input: &mut impl BufRead) -> Result<Option<String>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\n', '\r']).to_string()))
}

fn print_grading(out: &mut impl Write, card: &Card, grading: &Grading) -> Result<()> {
    match grading.score {
        Some(score) => writeln!(out, "\nGrade: {score}/5")?,
        None => writeln!(out, "\nReference:")?,
    }
    for (mark, items) in [
        ("✓", &grading.correct),
        ("…", &grading.missed),
        ("✗", &grading.wrong),
    ] {
        for item in items {
            writeln!(out, "  {mark} {item}")?;
        }
    }
    if grading.score.is_none() {
        if card.points.is_empty() && card.reference_answer.is_none() {
            writeln!(
                out,
                "  (the bank lists no points for this question; see the sources)"
            )?;
        }
        for point in &card.points {
            writeln!(out, "  - {point}")?;
        }
        if let Some(answer) = &card.reference_answer {
            writeln!(out, "  {answer}")?;
        }
    } else if !grading.model_answer.is_empty() {
        writeln!(out, "Model answer: {}", grading.model_answer)?;
    }
    writeln!(out, "Sources:")?;
    for source in &grading.sources {
        let text: String = source
            .hit
            .text
            .replace('\n', " ")
            .chars()
            .take(140)
            .collect();
        writeln!(out, "  [{}] {}: {text}", source.n, source.label)?;
    }
    Ok(())
}

fn ask_rating(
    quiz: &Quiz<'_>,
    card: &Card,
    suggested: Option<Rating>,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<Option<Rating>> {
    let preview = quiz.scheduler().preview(card.state.as_ref(), quiz::now())?;
    let buttons: Vec<String> = Rating::ALL
        .iter()
        .zip(preview)
        .enumerate()
        .map(|(i, (r, days))| {
            format!(
                "{} {} ({})",
                i + 1,
                r.label(),
                when((days * 86_400.0) as i64)
            )
        })
        .collect();
    loop {
        write!(out, "How well did you recall it? {}", buttons.join("  "))?;
        if let Some(s) = suggested {
            write!(out, "  [Enter = {}]", s.label())?;
        }
        write!(out, ": ")?;
        out.flush()?;
        let Some(line) = read_line(input)? else {
            return Ok(None);
        };
        let line = line.trim();
        if line == ":q" {
            return Ok(None);
        }
        if line.is_empty()
            && let Some(s) = suggested
        {
            return Ok(Some(s));
        }
        if let Some(r) = line.parse::<u8>().ok().and_then(Rating::from_number) {
            return Ok(Some(r));
        }
        writeln!(out, "type 1, 2, 3 or 4")?;
    }
}

/// "in 10 min", "in 3 days".
fn when(seconds: i64) -> String {
    match seconds {
        s if s < 3600 => format!("in {} min", (s / 60).max(1)),
        s if s < 86_400 => format!("in {} h", s / 3600),
        s => {
            let days = (s as f64 / 86_400.0).round() as i64;
            format!("in {days} day{}", if days == 1 { "" } else { "s" })
        }
    }
}

pub fn stats(out: &mut impl Write, quiz: &Quiz<'_>, json: bool) -> Result<()> {
    let stats = quiz.stats(quiz::now())?;
    if json {
        serde_json::to_writer(&mut *out, &stats)?;
        writeln!(out)?;
        return Ok(());
    }
    // The topic goes last: Chinese titles are double width and would break the columns.
    writeln!(
        out,
        "{:>9} {:>5} {:>4} {:>9}  topic",
        "questions", "seen", "due", "retention"
    )?;
    for t in stats.topics.iter().chain([&stats.total]) {
        let retention = t
            .retention
            .map_or("-".to_string(), |r| format!("{:.0}%", r * 100.0));
        writeln!(
            out,
            "{:>9} {:>5} {:>4} {retention:>9}  {} {}",
            t.questions, t.seen, t.due, t.topic_id, t.title
        )?;
    }
    writeln!(
        out,
        "\n{} reviews logged · target retention {:.0}% · FSRS parameters: {}",
        stats.reviews,
        stats.desired_retention * 100.0,
        stats.parameters
    )?;
    let forecast: Vec<String> = stats
        .forecast
        .iter()
        .map(|d| format!("{} {}", &d.day[5..], d.count))
        .collect();
    writeln!(out, "Due in the next 7 days: {}", forecast.join(" · "))?;
    Ok(())
}

pub fn generate(
    out: &mut impl Write,
    library: &Library,
    backend: &Backend,
    doc: &str,
    options: &GenerateOptions,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<()> {
    let llm = generate::require_model(backend)?;
    let doc = library.find_doc(doc)?;
    let report = generate::generate(library, llm, &doc, options, cancel, &mut |event| {
        let line = match event {
            GenerateEvent::Started { candidates } => {
                format!(
                    "drafting from up to {candidates} passages of {}…",
                    doc.file_name
                )
            }
            GenerateEvent::Kept { question } => format!(
                "kept {} (p.{}): {}\n      answer: {}",
                question.id,
                question.page.unwrap_or(0),
                question.question,
                question.answer
            ),
            GenerateEvent::Dropped { dropped } => format!(
                "dropped (p.{}): {}\n      {}",
                dropped.page.unwrap_or(0),
                dropped.question,
                dropped.reason
            ),
        };
        eprintln!("{line}");
    })?;
    write!(
        out,
        "{}: kept {} of {} drafted questions",
        report.doc,
        report.kept.len(),
        report.kept.len() + report.dropped.len(),
    )?;
    if report.kept.is_empty() {
        writeln!(
            out,
            "; none held up against its source, try again or another document."
        )?;
    } else {
        writeln!(
            out,
            "; they join the review pool (`studydesk quiz --doc {}`).",
            report.doc
        )?;
    }
    Ok(())
}

pub fn list_generated(out: &mut impl Write, quiz: &Quiz<'_>, doc_id: Option<&str>) -> Result<()> {
    let questions = quiz.generated(doc_id)?;
    if questions.is_empty() {
        writeln!(
            out,
            "no generated questions yet: `studydesk generate <doc>`"
        )?;
    }
    for q in questions {
        writeln!(
            out,
            "{}  {} p.{}{}\n    Q: {}\n    A: {}",
            q.id,
            q.doc,
            q.page.unwrap_or(0),
            if q.edited { " (edited)" } else { "" },
            q.question,
            q.answer
        )?;
    }
    Ok(())
}

pub fn export(
    out: &mut impl Write,
    quiz: &Quiz<'_>,
    format: &str,
    file: &Path,
    topics: &[String],
) -> Result<()> {
    let cards: Vec<Card> = quiz
        .all_cards()?
        .into_iter()
        .filter(|c| topics.is_empty() || c.topic_id.as_ref().is_some_and(|t| topics.contains(t)))
        .collect();
    if cards.is_empty() {
        bail!("nothing to export for topics {topics:?}");
    }
    let text = match format {
        "anki" => {
            let notes: Vec<AnkiNote> = cards.iter().map(AnkiNote::from_card).collect();
            export::anki_tsv(&notes)
        }
        _ => export::markdown(&cards),
    };
    std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))?;
    writeln!(
        out,
        "wrote {} questions to {}{}",
        cards.len(),
        file.display(),
        if format == "anki" {
            " (in Anki: File → Import, then pick the note type and deck)"
        } else {
            ""
        }
    )?;
    Ok(())
}
