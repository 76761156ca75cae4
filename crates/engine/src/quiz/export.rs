//! Exports of the question pool: a tab-separated file Anki imports as notes, and Markdown.
//!
//! The Anki file uses Anki's file headers (separator, HTML, column names, tag column), so
//! the import dialog maps Front, Back, Tags and Source without questions. Fields are HTML:
//! `&`, `<`, `>` are escaped and newlines become `<br>`, which keeps every note on one line.

use super::{Card, CardKind};

/// One note of an Anki export.
#[derive(Debug, Clone, PartialEq)]
pub struct AnkiNote {
    pub front: String,
    pub back: String,
    pub tags: Vec<String>,
    pub source: String,
}

impl AnkiNote {
    pub fn from_card(card: &Card) -> AnkiNote {
        let back = match card.kind {
            CardKind::Generated => card.reference_answer.clone().unwrap_or_default(),
            CardKind::Bank if card.points.is_empty() => String::new(),
            CardKind::Bank => card
                .points
                .iter()
                .map(|p| format!("• {p}"))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        let mut tags = vec!["studydesk".to_string()];
        match (&card.topic_id, &card.source) {
            (Some(topic), _) => {
                tags.push(format!("studydesk::{topic}"));
                if let Some(title) = &card.topic_title {
                    tags.push(tag(title));
                }
            }
            (None, Some(source)) => {
                tags.push("studydesk::generated".into());
                tags.push(tag(source.doc.trim_end_matches(".pdf")));
            }
            _ => {}
        }
        AnkiNote {
            front: card.question.clone(),
            back,
            tags,
            source: card.source_label(),
        }
    }
}

/// Anki tags cannot hold spaces.
fn tag(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join("_")
}

pub fn anki_tsv(notes: &[AnkiNote]) -> String {
    let mut out = String::from(
        "#separator:tab\n#html:true\n#columns:Front\tBack\tTags\tSource\n#tags column:3\n",
    );
    for note in notes {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            to_html(&note.front),
            to_html(&note.back),
            note.tags.join(" "),
            to_html(&note.source)
        ));
    }
    out
}

/// Reads an export back (the round trip the tests check, and a re-import some day).
pub fn parse_anki_tsv(text: &str) -> Vec<AnkiNote> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let mut fields = line.split('\t');
            Some(AnkiNote {
                front: from_html(fields.next()?),
                back: from_html(fields.next()?),
                tags: fields
                    .next()?
                    .split(' ')
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect(),
                source: from_html(fields.next().unwrap_or("")),
            })
        })
        .collect()
}

fn to_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\t', " ")
        .replace("\r\n", "\n")
        .replace('\n', "<br>")
}

fn from_html(text: &str) -> String {
    text.replace("<br>", "\n")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The pool as Markdown, grouped by topic, generated questions by document.
pub fn markdown(cards: &[Card]) -> String {
    let mut out = String::from("# StudyDesk questions\n");
    let mut heading = String::new();
    for card in cards {
        let group = match (&card.topic_id, &card.source) {
            (Some(id), _) => format!("{id} {}", card.topic_title.as_deref().unwrap_or_default()),
            (None, Some(source)) => format!("Generated from {}", source.doc),
            _ => "Other".into(),
        };
        if group != heading {
            out.push_str(&format!("\n## {group}\n"));
            heading = group;
        }
        out.push_str(&format!("\n### {} `{}`\n\n", card.question, card.id));
        for point in &card.points {
            out.push_str(&format!("- {point}\n"));
        }
        if let Some(answer) = &card.reference_answer {
            out.push_str(&format!("{answer}\n"));
        }
        if let Some(source) = &card.source {
            out.push_str(&format!(
                "\n> {}\n>\n> — {}\n",
                source.passage.replace('\n', " "),
                card.source_label()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_round_trips() {
        let note = AnkiNote {
            front: "Why is softmax(QK^T / √d) scaled? <b>&</b>\ttab".into(),
            back: "• point one\n• point <two>".into(),
            tags: vec!["studydesk".into(), "studydesk::t02".into()],
            source: "bank t02-q001".into(),
        };
        let text = anki_tsv(std::slice::from_ref(&note));
        assert_eq!(text.lines().count(), 5, "headers and one note per line");
        let back = parse_anki_tsv(&text);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].front, note.front.replace('\t', " "));
        assert_eq!(back[0].back, note.back);
        assert_eq!(back[0].tags, note.tags);
        assert_eq!(back[0].source, note.source);
    }
}
