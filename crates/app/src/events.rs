//! What a running command reports before its result (streamed tokens, the sources of an
//! answer, import progress, generated questions), and the context every call runs in: where
//! its events go and the token that cancels it.

use serde::Serialize;
use ts_rs::TS;

use studydesk_engine::Cancel;
use studydesk_engine::library::{Progress, ProgressSink};
use studydesk_engine::quiz::generate::GenerateEvent;
use studydesk_engine::tutor::Citation;

/// What long commands report before their result.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The passages an answer will be written from, before the model starts: the reader sees
    /// the evidence at once.
    Sources { context: Vec<Citation> },
    /// A piece of a streamed answer.
    Token { text: String },
    /// Import or indexing progress.
    Progress {
        file: String,
        stage: Stage,
        /// The file's position in the batch (`stage = file`).
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        index: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        total: Option<usize>,
        /// Passages embedded so far (`stage = chunks`), or pages read by OCR (`stage = ocr`).
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        done: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        pages: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        chunks: Option<usize>,
    },
    /// Question generation.
    Generate { event: GenerateEvent },
}

/// Where an import or indexing run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Starting a file of the batch.
    File,
    /// OCR is reading the pages that have no text layer: page `done + 1` of `total`.
    Ocr,
    /// The file's text was read and cut into passages.
    Extracted,
    /// Passages embedded and stored so far.
    Chunks,
}

/// One command's context: its events go to `events` (an SSE stream, a Tauri channel, the
/// terminal), and `cancel` stops it.
pub struct Call<'a> {
    pub events: &'a (dyn Fn(Event) + Sync),
    pub cancel: Cancel,
}

impl<'a> Call<'a> {
    pub fn new(events: &'a (dyn Fn(Event) + Sync), cancel: Cancel) -> Call<'a> {
        Call { events, cancel }
    }

    pub fn emit(&self, event: Event) {
        (self.events)(event);
    }
}

/// Ignores events: for calls whose progress nobody watches.
pub fn ignore(_: Event) {}

impl ProgressSink for Call<'_> {
    fn report(&self, event: Progress<'_>) {
        let event = match event {
            Progress::File { file, index, total } => Event::Progress {
                file: file.into(),
                stage: Stage::File,
                index: Some(index),
                total: Some(total),
                done: None,
                pages: None,
                chunks: None,
            },
            Progress::Extracted {
                file,
                pages,
                chunks,
            } => Event::Progress {
                file: file.into(),
                stage: Stage::Extracted,
                index: None,
                total: Some(chunks),
                done: Some(0),
                pages,
                chunks: Some(chunks),
            },
            Progress::Ocr { file, done, total } => Event::Progress {
                file: file.into(),
                stage: Stage::Ocr,
                index: None,
                total: Some(total),
                done: Some(done),
                pages: None,
                chunks: None,
            },
            Progress::Chunks { file, done, total } => Event::Progress {
                file: file.into(),
                stage: Stage::Chunks,
                index: None,
                total: Some(total),
                done: Some(done),
                pages: None,
                chunks: None,
            },
        };
        self.emit(event);
    }
}
