//! What commands return: the engine's own types where they fit, and these views where a
//! screen needs something shaped for it.

use serde::Serialize;
use ts_rs::TS;

use studydesk_engine::bank::Question;
use studydesk_engine::config::Config;
use studydesk_engine::database::{ConversationSummary, DocRecord, StoredMessage};
use studydesk_engine::extract::render::Rect;
use studydesk_engine::llm::OffReason;
use studydesk_engine::llm::local::Tier;
use studydesk_engine::quiz::Card;
use studydesk_engine::retrieve::SearchHit;
use studydesk_engine::tutor::Answer;

use crate::error::ErrorView;

/// `status`: what the app has and where.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct Status {
    pub bank_indexed: bool,
    pub questions: usize,
    pub docs: usize,
    pub llm: LlmStatus,
    /// Where the index lives: the embedded engine's folder, or a Qdrant server's collection.
    pub index: String,
    pub data_dir: String,
    pub version: String,
}

/// The language model's state, as the status bar shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LlmStatus {
    /// Not connected yet: it connects (or starts) with the first question.
    NotStarted {
        plan: ModelPlan,
    },
    /// The local model is loading.
    Starting {
        plan: ModelPlan,
    },
    Ready {
        plan: ModelPlan,
    },
    /// The last attempt to start or reach it failed.
    Failed {
        plan: ModelPlan,
        error: ErrorView,
    },
}

/// Which model answers, before or after it is running.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelPlan {
    /// An OpenAI-compatible provider.
    Remote { base_url: String, model: String },
    /// StudyDesk's own llama-server with one of its models.
    Local { tier: Tier, label: String },
    /// No model: answers are the cited passages alone.
    Off { reason: OffReason, detail: String },
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct IndexResult {
    /// False when the bank was already indexed.
    pub indexed: bool,
}

/// `topic`: one topic's questions with their review state.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct TopicView {
    pub id: String,
    pub title: String,
    pub questions: Vec<TopicQuestion>,
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct TopicQuestion {
    pub id: String,
    pub number: u32,
    pub subsection: Option<String>,
    pub text: String,
    pub points: Vec<String>,
    pub seen: bool,
    pub due: bool,
}

/// `question`: a bank question with the document passages that answer it best.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct QuestionView {
    pub question: Question,
    pub topic_title: String,
    pub related: Vec<SearchHit>,
}

/// `ask` and `explain`.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct AskResult {
    pub answer: Answer,
    pub conversation_id: i64,
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct ConversationView {
    pub summary: ConversationSummary,
    pub messages: Vec<StoredMessage>,
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct MarkdownExport {
    pub markdown: String,
}

/// `import_file`, `remove_doc`, `reindex_doc`.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct DocResult {
    pub doc: DocRecord,
}

/// `import_paths`: what happened to each file.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct ImportReport {
    pub files: Vec<ImportedFile>,
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportedFile {
    /// Indexed; `replaced` earlier versions of the same file went.
    Imported {
        doc: DocRecord,
        replaced: usize,
    },
    /// The same content was already imported.
    Unchanged {
        doc: DocRecord,
    },
    Failed {
        file: String,
        error: ErrorView,
    },
}

impl ImportReport {
    pub fn failed(&self) -> usize {
        self.files
            .iter()
            .filter(|f| matches!(f, ImportedFile::Failed { .. }))
            .count()
    }
}

/// `page_image`: a rendered PDF page with the cited passage's boxes.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct PageView {
    pub doc: String,
    pub page: u32,
    pub pages: u32,
    pub width: u32,
    pub height: u32,
    pub highlights: Vec<Rect>,
    pub png_base64: String,
}

/// `quiz_session`: a card and the interval each rating would set, in days.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct SessionCard {
    #[serde(flatten)]
    pub card: Card,
    /// Again, Hard, Good, Easy.
    pub preview: [f64; 4],
}

/// `refit`: how many training items the parameters were fitted on, or why not.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct RefitResult {
    /// `None` when the log is too short to fit on; the defaults stay.
    pub items: Option<usize>,
    /// The least number of items a fit needs.
    pub needed: usize,
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct Deleted {
    pub id: String,
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct ExportText {
    pub text: String,
    /// Questions in the export.
    pub cards: usize,
}

/// `settings` and `save_settings`. The key itself is never sent back.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct SettingsView {
    pub config: Config,
    /// An API key is available for the configured endpoint (keyring or environment).
    pub api_key_stored: bool,
    /// The local model "auto" means on this computer.
    pub auto_tier: Tier,
    /// Local models that are installed.
    pub installed_tiers: Vec<Tier>,
}
