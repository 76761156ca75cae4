//! Chunking: cuts documents into passages sized in the embedding model's own tokens.
//!
//! Passages never exceed the model's window, break at the largest structure that fits
//! (paragraphs, then lines, sentences — Chinese 。 included — then words), overlap a little so a
//! sentence cut in two is still found whole, and keep the page they start on for citations.

use crate::error::{Classify, ErrorKind, Remedy};
use std::path::Path;

use text_splitter::{ChunkConfig, TextSplitter};
use tokenizers::Tokenizer;

use crate::bank::{Bank, Question};
use crate::extract::Document;

/// Token budget of a passage's body. With the title line and the `passage: ` prefix it stays
/// well inside multilingual-e5-small's 512-token window.
pub const DESIRED_TOKENS: usize = 220;
pub const MAX_TOKENS: usize = 320;
pub const OVERLAP_TOKENS: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    #[error("cannot load tokenizer {path}: {message}")]
    Tokenizer { path: String, message: String },
}

/// One passage of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub index: u32,
    /// Page the passage starts on (1-based); `None` for notes.
    pub page: Option<u32>,
    /// Last page it reaches, when it runs over a page break.
    pub page_end: Option<u32>,
    pub section: Option<String>,
    pub text: String,
}

pub struct Chunker {
    splitter: TextSplitter<Tokenizer>,
    tokenizer: Tokenizer,
}

impl Chunker {
    pub fn from_tokenizer_file(path: &Path) -> Result<Chunker, ChunkError> {
        let tokenizer = Tokenizer::from_file(path).map_err(|e| ChunkError::Tokenizer {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(Chunker::new(tokenizer))
    }

    pub fn new(mut tokenizer: Tokenizer) -> Chunker {
        // Sizes must reflect the whole text, not what the model would keep of it.
        let _ = tokenizer.with_truncation(None);
        tokenizer.with_padding(None);
        let config = ChunkConfig::new(DESIRED_TOKENS..MAX_TOKENS)
            .with_sizer(tokenizer.clone())
            .with_overlap(OVERLAP_TOKENS)
            .expect("overlap is smaller than the chunk size");
        Chunker {
            splitter: TextSplitter::new(config),
            tokenizer,
        }
    }

    pub fn count_tokens(&self, text: &str) -> usize {
        self.tokenizer
            .encode_fast(text, false)
            .map(|e| e.len())
            .unwrap_or(0)
    }

    /// Cuts a whole document; passages may cross page breaks but remember where they start.
    pub fn chunk_document(&self, doc: &Document) -> Vec<Chunk> {
        // Lay the paragraphs end to end, remembering where each starts.
        let mut text = String::new();
        let mut starts: Vec<(usize, Option<u32>, Option<&str>)> = Vec::new();
        for page in &doc.pages {
            for paragraph in &page.paragraphs {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                starts.push((text.len(), page.number, paragraph.section.as_deref()));
                text.push_str(&paragraph.text);
            }
        }
        let at = |offset: usize| {
            let i = starts
                .partition_point(|(start, _, _)| *start <= offset)
                .saturating_sub(1);
            starts[i]
        };
        self.splitter
            .chunk_indices(&text)
            .enumerate()
            .map(|(index, (offset, body))| {
                let (_, page, section) = at(offset);
                let (_, last_page, _) = at(offset + body.len().saturating_sub(1));
                Chunk {
                    index: index as u32,
                    page,
                    page_end: last_page.filter(|&p| Some(p) != page),
                    section: section.map(String::from),
                    text: body.to_string(),
                }
            })
            .collect()
    }
}

/// A bank item is one passage: topic, subsection, question and its points.
pub fn bank_passage(bank: &Bank, question: &Question) -> String {
    let topic = bank
        .topic(&question.topic_id)
        .map(|t| t.title.as_str())
        .unwrap_or("");
    question.full_text(topic)
}

impl Classify for ChunkError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Setup
    }
    fn remedy(&self) -> Option<Remedy> {
        Some(Remedy::InstallRuntime)
    }
}
