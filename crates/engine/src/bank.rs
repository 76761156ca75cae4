//! The question bank: the built-in interview questions, parsed into topics and questions.
//!
//! The bank text was extracted from a PDF, so its structure is implicit: topic and subsection
//! headings are plain lines, questions are numbered lines (`- 12. …` or `12. …`), and the
//! sub-bullets under a question use whatever glyph the extractor produced (`-`, `•`, `○`, `。`,
//! `▼`, `a.`, or just indentation). Numbering restarts at 1 for every topic, which is the only
//! reliable signal of where a topic begins.

use crate::error::{Classify, ErrorKind};
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The bank StudyDesk ships with (see `corpus/README.md`).
pub const BUILTIN_TEXT: &str = include_str!("../../../corpus/llm-interview-questions.zh.txt");

#[derive(Debug, thiserror::Error)]
pub enum BankError {
    #[error("cannot read question bank {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("question bank {path} is not UTF-8 text (is it a binary file?)")]
    NotText { path: String },
    #[error("question bank {path} is empty")]
    Empty { path: String },
    #[error(
        "question bank {path} has no topics: expected numbered questions such as \"- 1. …\" under a heading"
    )]
    NoTopics { path: String },
    #[error("no question with id {0:?} (ids look like \"t03-q012\")")]
    UnknownQuestion(String),
    #[error("no topic with id {0:?} (ids look like \"t03\")")]
    UnknownTopic(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bank {
    /// The document's own title (its first line), e.g. "小黄搞AI-大模型面试目录".
    pub title: String,
    pub topics: Vec<Topic>,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    /// `t01` … `t35`: the topic's ordinal in the bank.
    pub id: String,
    pub title: String,
    /// The count the title announces ("(20题)"), which the source does not always honour.
    pub declared_count: Option<u32>,
    pub questions: Vec<Question>,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// `t03-q012`: topic ordinal plus the question's position in its topic. Positions, not the
    /// printed numbers, because the source repeats numbers (RAG has two 41s and two 42s).
    pub id: String,
    pub topic_id: String,
    /// The number printed in the source.
    pub number: u32,
    pub subsection: Option<String>,
    pub text: String,
    pub points: Vec<String>,
}

impl Bank {
    /// The built-in bank, parsed once per process.
    pub fn builtin() -> &'static Bank {
        static BANK: OnceLock<Bank> = OnceLock::new();
        BANK.get_or_init(|| {
            Bank::parse(BUILTIN_TEXT, "corpus/llm-interview-questions.zh.txt")
                .expect("the built-in bank is checked by the test suite")
        })
    }

    pub fn from_path(path: &Path) -> Result<Bank, BankError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|error| BankError::Read {
            path: name.clone(),
            error,
        })?;
        let text =
            String::from_utf8(bytes).map_err(|_| BankError::NotText { path: name.clone() })?;
        Bank::parse(&text, &name)
    }

    /// Parses bank text; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Bank, BankError> {
        if text.contains('\0') {
            return Err(BankError::NotText {
                path: origin.into(),
            });
        }
        let mut lines = text
            .lines()
            .map(|line| line.trim_end())
            .filter(|line| !is_noise(line));
        let title = lines
            .next()
            .map(|line| line.trim().to_string())
            .ok_or_else(|| BankError::Empty {
                path: origin.into(),
            })?;

        let mut builder = Builder::default();
        for line in lines {
            builder.push(line);
        }
        let topics = builder.finish();
        if topics.is_empty() {
            return Err(BankError::NoTopics {
                path: origin.into(),
            });
        }
        Ok(Bank { title, topics })
    }

    pub fn question(&self, id: &str) -> Result<&Question, BankError> {
        self.questions()
            .find(|q| q.id == id)
            .ok_or_else(|| BankError::UnknownQuestion(id.into()))
    }

    pub fn topic(&self, id: &str) -> Result<&Topic, BankError> {
        self.topics
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| BankError::UnknownTopic(id.into()))
    }

    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.topics.iter().flat_map(|t| t.questions.iter())
    }
}

impl Question {
    /// The text a reader (or a retriever) needs to understand the item on its own.
    pub fn full_text(&self, topic_title: &str) -> String {
        let mut out = String::from(topic_title);
        if let Some(sub) = &self.subsection {
            out.push_str(" / ");
            out.push_str(sub);
        }
        out.push('\n');
        out.push_str(&self.text);
        for point in &self.points {
            out.push_str("\n- ");
            out.push_str(point);
        }
        out
    }
}

/// Blank lines and the lone page numbers ("0") the PDF extraction left behind.
fn is_noise(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.chars().all(|c| c.is_ascii_digit())
}

enum Line<'a> {
    Question { number: u32, text: &'a str },
    Point(&'a str),
    Plain(&'a str),
}

fn classify(line: &str) -> Line<'_> {
    let indented = line.starts_with(char::is_whitespace);
    let t = line.trim();
    if !indented
        && let Some((number, text)) = numbered(t.strip_prefix('-').unwrap_or(t).trim_start())
    {
        return Line::Question { number, text };
    }
    const BULLETS: &[char] = &['-', '•', '○', '。', '▼', '∘', '◆', '·'];
    if indented || t.starts_with(BULLETS) || lettered(t) {
        // "- 。 text": the extractor often stacked two glyphs with a space between.
        return Line::Point(
            t.trim_start_matches(|c: char| BULLETS.contains(&c) || c.is_whitespace()),
        );
    }
    Line::Plain(t)
}

/// `12. text` or `12、text` → (12, "text").
fn numbered(s: &str) -> Option<(u32, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 {
        return None;
    }
    let number = s[..digits].parse().ok()?;
    let rest = s[digits..].trim_start();
    let rest = rest
        .strip_prefix('.')
        .or_else(|| rest.strip_prefix('、'))
        .or_else(|| rest.strip_prefix('．'))?
        .trim();
    (!rest.is_empty()).then_some((number, rest))
}

/// `a. text`: the lettered sub-points some topics use.
fn lettered(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(
        (chars.next(), chars.next(), chars.next()),
        (Some('a'..='z'), Some('.'), Some(' '))
    )
}

/// "Normalization面试清单(20题)" → 20. The extractor sometimes misread 题 as 颢.
fn declared_count(title: &str) -> Option<u32> {
    let open = title.rfind(['(', '（'])?;
    let inner = &title[open..];
    let inner = inner.trim_start_matches(['(', '（']);
    let digits: String = inner.chars().take_while(char::is_ascii_digit).collect();
    let tail = &inner[digits.len()..];
    if tail.starts_with(['题', '颢']) {
        digits.parse().ok()
    } else {
        None
    }
}

/// Walks the classified lines, holding plain lines back until the next numbered question tells
/// whether they were headings (just before a question) or unmarked points (anywhere else).
#[derive(Default)]
struct Builder {
    topics: Vec<Topic>,
    pending: Vec<String>,
    subsection: Option<String>,
}

impl Builder {
    fn push(&mut self, line: &str) {
        match classify(line) {
            Line::Plain(text) => self.pending.push(text.to_string()),
            Line::Point(text) => {
                let pending = std::mem::take(&mut self.pending);
                if let Some(q) = self.last_question() {
                    q.points.extend(pending);
                    if !text.is_empty() {
                        q.points.push(text.to_string());
                    }
                }
            }
            Line::Question { number, text } => self.question(number, text),
        }
    }

    fn question(&mut self, number: u32, text: &str) {
        let pending = std::mem::take(&mut self.pending);
        if number == 1 || self.topics.is_empty() {
            // A new topic: its title is the first held-back line, the subsection the last.
            let mut headings = pending.into_iter();
            let title = headings.next().unwrap_or_default();
            self.subsection = headings.next_back();
            let ordinal = self.topics.len() + 1;
            self.topics.push(Topic {
                id: format!("t{ordinal:02}"),
                declared_count: declared_count(&title),
                title,
                questions: Vec::new(),
            });
        } else if let Some((heading, points)) = pending.split_last() {
            if let Some(q) = self.last_question() {
                q.points.extend_from_slice(points);
            }
            self.subsection = Some(heading.clone());
        }
        let topic = self.topics.last_mut().expect("a topic was pushed above");
        let position = topic.questions.len() + 1;
        topic.questions.push(Question {
            id: format!("{}-q{position:03}", topic.id),
            topic_id: topic.id.clone(),
            number,
            subsection: self.subsection.clone(),
            text: text.to_string(),
            points: Vec::new(),
        });
    }

    fn last_question(&mut self) -> Option<&mut Question> {
        self.topics.last_mut()?.questions.last_mut()
    }

    fn finish(mut self) -> Vec<Topic> {
        // Plain lines after the last question can only be its unmarked points.
        let pending = std::mem::take(&mut self.pending);
        if let Some(q) = self.last_question() {
            q.points.extend(pending);
        }
        self.topics
    }
}

impl Classify for BankError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_shapes_the_extractor_produced() {
        assert!(matches!(
            classify("- 12. 问题?"),
            Line::Question {
                number: 12,
                text: "问题?"
            }
        ));
        assert!(matches!(
            classify("5. 什么是LangChain Model?"),
            Line::Question { number: 5, .. }
        ));
        assert!(matches!(classify(" - 1. indented"), Line::Point(_)));
        assert!(matches!(classify("○ 生成质量"), Line::Point("生成质量")));
        assert!(matches!(classify("。 人类评估"), Line::Point("人类评估")));
        assert!(matches!(classify("a. 核心思想"), Line::Point(_)));
        assert!(matches!(classify("RoPE专题"), Line::Plain("RoPE专题")));
    }

    #[test]
    fn reads_declared_counts() {
        assert_eq!(declared_count("Normalization面试清单(20题)"), Some(20));
        assert_eq!(declared_count("大模型推理面(24颢)"), Some(24));
        assert_eq!(declared_count("MOE (Mixture-of-Experts)"), None);
        assert_eq!(declared_count("思维链(COT)"), None);
    }
}
