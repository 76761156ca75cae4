//! How results read in a terminal.

use std::io::Write;

use anyhow::Result;
use studydesk_app::ModelPlan;
use studydesk_engine::database::{ConversationSummary, DocRecord};
use studydesk_engine::llm::OffReason;
use studydesk_engine::quiz::generate::{GenerateEvent, GenerateReport};
use studydesk_engine::quiz::mistakes::Mistake;
use studydesk_engine::quiz::plan::Plan;
use studydesk_engine::quiz::{GeneratedQuestion, Stats};
use studydesk_engine::retrieve::SearchHit;
use studydesk_engine::text::excerpt;
use studydesk_engine::tutor::Answer;

/// "Qwen2.5-Coder 0.5B (fast) on this computer", "deepseek-chat at https://…".
pub fn plan(plan: &ModelPlan) -> String {
    match plan {
        ModelPlan::Local { label, .. } => format!("{label} on this computer"),
        ModelPlan::Remote { base_url, model } => format!("{model} at {base_url}"),
        ModelPlan::Off { detail, reason } => match reason {
            OffReason::NotInstalled => format!(
                "none: {detail} ({})",
                super::errors::hint(studydesk_engine::Remedy::InstallModel)
            ),
            _ => format!("none: {detail}"),
        },
    }
}

pub fn hits(out: &mut impl Write, hits: &[SearchHit]) -> Result<()> {
    for hit in hits {
        let place = match (&hit.question_id, &hit.doc) {
            (Some(id), _) => format!("bank {id}"),
            (None, Some(doc)) => match hit.page {
                Some(p) => format!("{doc} p.{p}"),
                None => doc.clone(),
            },
            _ => String::new(),
        };
        writeln!(
            out,
            "{:>2}. [{place}] {}",
            hit.rank,
            excerpt(&hit.text.replace('\n', " "), 160)
        )?;
    }
    Ok(())
}

pub fn docs(out: &mut impl Write, docs: &[DocRecord]) -> Result<()> {
    if docs.is_empty() {
        writeln!(out, "no documents yet: `studydesk import <file-or-folder>`")?;
    }
    for d in docs {
        let pages = d
            .pages
            .map(|p| format!("{p:>3} pages"))
            .unwrap_or_else(|| "     note".into());
        let state = if d.ready { "" } else { "  (import unfinished)" };
        writeln!(
            out,
            "{}  {pages}  {:>4} passages  {}  {}  \"{}\"{state}",
            &d.id[..12],
            d.chunks,
            d.imported_at,
            d.file_name,
            d.title
        )?;
    }
    Ok(())
}

/// After a streamed answer: the note when there was no model, the removed citations, and the
/// sources the answer cites (or the passages it was written from).
pub fn answer_end(out: &mut impl Write, answer: &Answer, off: Option<OffReason>) -> Result<()> {
    if !answer.generated {
        let why = off.map_or_else(String::new, |r| format!(": {r}"));
        writeln!(
            out,
            "Generation is off{why}.\nThe passages that answer it best:"
        )?;
    } else {
        writeln!(out)?;
    }
    if !answer.dropped_citations.is_empty() {
        writeln!(
            out,
            "(removed citations that pointed at no source: {:?})",
            answer.dropped_citations
        )?;
    }
    let (heading, sources) = if !answer.citations.is_empty() {
        ("Sources", &answer.citations)
    } else if answer.covered {
        ("Written from", &answer.context)
    } else {
        ("Nearest passages (they do not answer it)", &answer.context)
    };
    if !sources.is_empty() {
        writeln!(out, "\n{heading}:")?;
    }
    for c in sources {
        writeln!(
            out,
            "[{}] {}  {}",
            c.n,
            c.label,
            excerpt(&c.hit.text.replace('\n', " "), 120)
        )?;
    }
    if !answer.related.is_empty() {
        writeln!(out, "\nRelated bank questions:")?;
        for hit in &answer.related {
            writeln!(
                out,
                "  {}  {}",
                hit.question_id.as_deref().unwrap_or(""),
                excerpt(&hit.text.replace('\n', " "), 100)
            )?;
        }
    }
    Ok(())
}

pub fn conversations(out: &mut impl Write, chats: &[ConversationSummary]) -> Result<()> {
    if chats.is_empty() {
        writeln!(out, "no conversations yet: `studydesk ask \"…\"`")?;
    }
    for c in chats {
        let topic = c.topic_id.as_deref().unwrap_or("-");
        writeln!(
            out,
            "{:>4}  {}  {topic:>4}  {:>3} messages  {}",
            c.id, c.created_at, c.messages, c.title
        )?;
    }
    Ok(())
}

pub fn stats(out: &mut impl Write, stats: &Stats) -> Result<()> {
    // The topic goes last: Chinese titles are double width and would break the columns. The
    // mastery column is the mastery map: retention and recent grades together, with a bar.
    writeln!(
        out,
        "{:>9} {:>5} {:>4} {:>9} {:>6}  {:<10}  topic",
        "questions", "seen", "due", "retention", "grades", "mastery"
    )?;
    for t in stats.topics.iter().chain([&stats.total]) {
        let percent = |v: Option<f32>| v.map_or("-".to_string(), |r| format!("{:.0}%", r * 100.0));
        let bar = t.mastery.map_or("-".to_string(), |m| {
            let filled = (m * 5.0).round() as usize;
            format!(
                "{}{} {:.0}%",
                "█".repeat(filled),
                "░".repeat(5 - filled.min(5)),
                m * 100.0
            )
        });
        writeln!(
            out,
            "{:>9} {:>5} {:>4} {:>9} {:>6}  {:<10}  {} {}",
            t.questions,
            t.seen,
            t.due,
            percent(t.retention),
            percent(t.recent_score),
            bar,
            t.topic_id,
            t.title
        )?;
    }
    let weakest: Vec<String> = stats
        .topics
        .iter()
        .filter(|t| t.mastery.is_some_and(|m| m < 0.6))
        .flat_map(|t| t.weakest.iter().take(1))
        .map(|w| format!("{} ({:.0}%)", w.id, w.retention * 100.0))
        .collect();
    if !weakest.is_empty() {
        writeln!(
            out,
            "\nWeakest questions of weak topics: {}",
            weakest.join(" · ")
        )?;
    }
    writeln!(
        out,
        "\n{} reviews logged · target retention {:.0}%{} · FSRS parameters: {}",
        stats.reviews,
        stats.desired_retention * 100.0,
        if stats.schedule_retention > stats.desired_retention + 1e-6 {
            format!(
                " (scheduled at {:.0}% for the interview plan)",
                stats.schedule_retention * 100.0
            )
        } else {
            String::new()
        },
        stats.parameters
    )?;
    let forecast: Vec<String> = stats
        .forecast
        .iter()
        .map(|d| format!("{} {}", &d.day[5..], d.count))
        .collect();
    writeln!(out, "Due in the next 7 days: {}", forecast.join(" · "))?;
    if let Some(plan) = &stats.plan {
        writeln!(out)?;
        study_plan(out, plan)?;
    }
    Ok(())
}

pub fn study_plan(out: &mut impl Write, plan: &Plan) -> Result<()> {
    writeln!(
        out,
        "Interview on {} ({} day{} left): {} of {} questions seen.",
        plan.date,
        plan.days_left,
        if plan.days_left == 1 { "" } else { "s" },
        plan.seen,
        plan.questions
    )?;
    writeln!(
        out,
        "Today: {} new question{} ({} done), {} due now. Then about {:.0} reviews a day (at most {}).",
        plan.new_per_day,
        if plan.new_per_day == 1 { "" } else { "s" },
        plan.new_today,
        plan.due_now,
        plan.reviews_per_day,
        plan.peak_reviews
    )?;
    writeln!(
        out,
        "Predicted recall on the day: {:.0}% (target {:.0}%{}){}",
        plan.predicted_retention * 100.0,
        plan.target_retention * 100.0,
        if plan.schedule_retention > plan.target_retention + 1e-6 {
            format!(
                "; reviews scheduled at {:.0}% to get there",
                plan.schedule_retention * 100.0
            )
        } else {
            String::new()
        },
        if plan.reachable {
            ""
        } else {
            " — the target is out of reach by this date; this is the closest plan"
        }
    )?;
    writeln!(
        out,
        "{}: {} new questions learned since the date was set, {} expected by now.",
        if plan.on_track { "On track" } else { "Behind" },
        plan.learned_since_start,
        plan.expected_since_start
    )?;
    Ok(())
}

pub fn mistakes(out: &mut impl Write, mistakes: &[Mistake]) -> Result<()> {
    if mistakes.is_empty() {
        writeln!(
            out,
            "The mistake notebook is empty: no question's latest graded answer is below 3."
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{} question{} in the mistake notebook (review: `studydesk quiz --mistakes`; export: `studydesk export markdown FILE --mistakes`)",
        mistakes.len(),
        if mistakes.len() == 1 { "" } else { "s" }
    )?;
    for m in mistakes {
        writeln!(
            out,
            "\n{} · {}/5 · {}\nQ: {}\nYou: {}",
            m.card_id,
            m.grade,
            studydesk_engine::quiz::day_string(m.reviewed_at),
            m.question,
            if m.answer.trim().is_empty() {
                "(no answer)"
            } else {
                m.answer.trim()
            }
        )?;
        for w in &m.wrong {
            writeln!(out, "  ✗ {w}")?;
        }
        for w in &m.missed {
            writeln!(out, "  · missed {w}")?;
        }
        for c in &m.corrections {
            writeln!(
                out,
                "  [{}] {}: {}",
                c.n,
                c.label,
                excerpt(&c.hit.text, 160)
            )?;
        }
    }
    Ok(())
}

pub fn generate_event(event: &GenerateEvent) -> String {
    match event {
        GenerateEvent::Started { candidates } => {
            format!("drafting from up to {candidates} passages…")
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
    }
}

pub fn generate_report(out: &mut impl Write, report: &GenerateReport) -> Result<()> {
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

pub fn generated(out: &mut impl Write, questions: &[GeneratedQuestion]) -> Result<()> {
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
