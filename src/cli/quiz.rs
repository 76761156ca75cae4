//! `studydesk quiz`: a review session in the terminal. Each card is shown, answered, graded
//! and rated through the app's commands; every rating is stored at once, so ending the
//! session any way (`:q`, end of input, Ctrl-C) loses nothing answered.

use std::io::{BufRead, Write};
use std::time::Instant;

use anyhow::Result;
use studydesk_app::{App, GradeArgs, ReviewArgs, SessionArgs, SessionCard};
use studydesk_engine::quiz::grade::Grading;
use studydesk_engine::quiz::{self, Card, Rating};
use studydesk_engine::text::excerpt;

pub fn session(
    app: &App,
    args: SessionArgs,
    self_grade: bool,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<()> {
    let due_only = args.due_only;
    let cards = app.quiz_session(args, &super::quiet())?;
    let due = cards.iter().filter(|c| c.card.state.is_some()).count();
    if cards.is_empty() {
        writeln!(
            out,
            "Nothing to review: no card is due{}.",
            if due_only {
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
    let self_grade = self_grade || app.off_reason().is_some();
    if self_grade {
        writeln!(
            out,
            "You grade yourself against the reference and the sources."
        )?;
    }
    let mut reviewed = 0;
    for (i, SessionCard { card, preview }) in cards.iter().enumerate() {
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
        let grading = app.grade(
            GradeArgs {
                card_id: card.id.clone(),
                answer: answer.clone(),
                self_grade,
            },
            &super::quiet(),
        )?;
        print_grading(out, card, &grading)?;
        let Some(rating) = ask_rating(preview, grading.suggested, input, out)? else {
            break;
        };
        let state = app.review(
            ReviewArgs {
                card_id: card.id.clone(),
                rating,
                grade: grading.score,
                answer: answer.trim().to_string(),
                duration_ms: Some(duration_ms),
                grading: grading.score.map(|_| grading.clone()),
            },
            &super::quiet(),
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
    let cited = |text: &str, n: Option<usize>| match n {
        Some(n) => format!("{text} [{n}]"),
        None => text.to_string(),
    };
    match grading.score {
        Some(score) => {
            writeln!(out, "\nGrade: {score}/5")?;
            if let Some(reason) = &grading.zero_reason {
                writeln!(out, "  (scored 0 without a judgement: {reason})")?;
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
            if !grading.model_answer.is_empty() {
                writeln!(out, "Model answer: {}", grading.model_answer)?;
            }
        }
        None => {
            // Self-grading: the rubric a model would have graded against.
            writeln!(out, "\nReference:")?;
            for point in &grading.points {
                writeln!(out, "  - {}", cited(&point.text, point.n))?;
            }
            if grading.points.is_empty() {
                match &card.reference_answer {
                    Some(answer) => writeln!(out, "  {answer}")?,
                    None => writeln!(
                        out,
                        "  (nothing to grade against: the bank lists no points for this question and your documents do not answer it; import a paper on it, or grade yourself from what you know)"
                    )?,
                }
            }
        }
    }
    if !grading.sources.is_empty() {
        writeln!(out, "Sources:")?;
    }
    for source in &grading.sources {
        writeln!(
            out,
            "  [{}] {}: {}",
            source.n,
            source.label,
            excerpt(&source.hit.text.replace('\n', " "), 140)
        )?;
    }
    Ok(())
}

fn ask_rating(
    preview: &[f64; 4],
    suggested: Option<Rating>,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<Option<Rating>> {
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
