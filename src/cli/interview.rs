//! `studydesk interview`: a mock interview in the terminal, through the app's commands. Each
//! answer is stored as it is given, so `:q`, the end of input, Ctrl-C or a crash loses nothing
//! answered; `--resume` continues an interview left open.

use std::io::{BufRead, Write};
use std::time::Instant;

use anyhow::Result;
use studydesk_app::{App, InterviewAnswerArgs, InterviewArgs, InterviewStartArgs};
use studydesk_engine::bank::Bank;
use studydesk_engine::quiz::grade::Verdict;
use studydesk_engine::quiz::interview::{self, Debrief, Interview, TurnKind};
use studydesk_engine::text::excerpt;

pub fn run(
    app: &App,
    start: Option<InterviewStartArgs>,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<()> {
    let mut interview = match start {
        Some(args) => {
            writeln!(out, "Starting the interview (loading the model)…")?;
            let t = Instant::now();
            let interview = app.interview_start(args, &super::quiet())?;
            writeln!(out, "({:.1} s)", t.elapsed().as_secs_f64())?;
            interview
        }
        None => {
            let Some(id) = interview::open_interview(app.library())? else {
                anyhow::bail!("no interview was left open; start one with `studydesk interview`");
            };
            app.interview(InterviewArgs { id }, &super::quiet())?
        }
    };
    writeln!(
        out,
        "Interview {} · {} min. Answer in your own words and press Enter; `:q` ends it now.",
        interview.id, interview.minutes
    )?;
    while let Some(turn) = interview.current().cloned() {
        let asked = interview
            .turns
            .iter()
            .filter(|t| t.kind == TurnKind::Question)
            .count();
        match turn.kind {
            TurnKind::Question => writeln!(
                out,
                "\n[Q{asked}] {}  {}\n{}",
                turn.card_id,
                turn.topic_id
                    .as_deref()
                    .and_then(|t| Bank::builtin().topic(t).ok())
                    .map_or("", |t| t.title.as_str()),
                turn.prompt
            )?,
            TurnKind::FollowUp => writeln!(out, "\n  ↳ {}", turn.prompt)?,
        }
        write!(out, "> ")?;
        out.flush()?;
        let shown = Instant::now();
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 || line.trim() == ":q" {
            interview =
                app.interview_finish(InterviewArgs { id: interview.id }, &super::quiet())?;
            break;
        }
        let duration_ms = shown.elapsed().as_millis() as u64;
        let t = Instant::now();
        interview = app.interview_answer(
            InterviewAnswerArgs {
                id: interview.id,
                answer: line.trim_end_matches(['\n', '\r']).to_string(),
                duration_ms: Some(duration_ms),
            },
            &super::quiet(),
        )?;
        let graded = interview
            .turns
            .iter()
            .find(|t| t.seq == turn.seq)
            .and_then(|t| t.grading.as_ref());
        if let Some(g) = graded {
            // A follow-up asks about one point: whether the answer got it, not a grade.
            let score = match turn.kind {
                TurnKind::FollowUp => match g.points.first().map(|p| p.verdict) {
                    Some(Verdict::Stated) => "got it".to_string(),
                    Some(Verdict::Contradicted) => "wrong".to_string(),
                    _ => "still missing".to_string(),
                },
                TurnKind::Question => g.score.map_or("-".into(), |s| format!("{s}/5")),
            };
            writeln!(
                out,
                "  ({score} · interviewer took {:.1} s)",
                t.elapsed().as_secs_f64()
            )?;
        }
    }
    match &interview.debrief {
        Some(debrief) => print_debrief(out, &interview, debrief)?,
        None => writeln!(
            out,
            "The interview is still open: `studydesk interview --resume`."
        )?,
    }
    Ok(())
}

pub fn print_debrief(out: &mut impl Write, interview: &Interview, debrief: &Debrief) -> Result<()> {
    writeln!(out, "\n=== Debrief: interview {} ===", interview.id)?;
    if debrief.questions.is_empty() {
        writeln!(out, "No question was answered.")?;
    }
    for (i, q) in debrief.questions.iter().enumerate() {
        writeln!(
            out,
            "\nQ{} {} — {}\n  score {}  {}",
            i + 1,
            q.card_id,
            q.question,
            q.score.map_or("-".into(), |s| format!("{s}/5")),
            match q.points_from {
                studydesk_engine::quiz::grade::PointsFrom::Model =>
                    "(graded from the model's knowledge: your documents do not cover it)",
                studydesk_engine::quiz::grade::PointsFrom::Bank =>
                    "(graded against the bank's points)",
                _ => "",
            }
        )?;
        writeln!(out, "  your answer: {}", excerpt(&q.answer, 200))?;
        for p in &q.points {
            let mark = match (p.verdict, p.recovered) {
                (Verdict::Stated, _) => "✓ hit",
                (Verdict::Contradicted, _) => "✗ wrong",
                (Verdict::Missed, true) => "↺ recovered on follow-up",
                (Verdict::Missed, false) => "· missed",
            };
            let source = p
                .source
                .as_ref()
                .map_or(String::new(), |c| format!("  [{}]", c.label));
            writeln!(out, "  {mark}: {}{source}", excerpt(&p.text, 220))?;
        }
        for f in &q.follow_ups {
            writeln!(
                out,
                "  follow-up: {}\n    → {}",
                f.question,
                excerpt(&f.answer, 160)
            )?;
        }
    }
    if !debrief.topics.is_empty() {
        writeln!(out, "\nBy topic:")?;
        for t in &debrief.topics {
            writeln!(
                out,
                "  {:.1}/5  {} {} ({} question{})",
                t.score,
                t.topic_id,
                t.title,
                t.questions,
                if t.questions == 1 { "" } else { "s" }
            )?;
        }
    }
    if !debrief.study_next.is_empty() {
        writeln!(out, "\nStudy next:")?;
        for (i, item) in debrief.study_next.iter().enumerate() {
            let source = item
                .source
                .as_ref()
                .map_or(String::new(), |c| format!(" — {}", c.label));
            writeln!(
                out,
                "  {}. ({}) {}{source}",
                i + 1,
                item.card_id,
                excerpt(&item.text, 200)
            )?;
        }
    }
    Ok(())
}
