//! The application face of the core: every command the desktop UI can give, by name, with
//! JSON arguments and a JSON result, and events for long work (progress, streamed tokens).
//!
//! Both shells only translate to this: the Tauri window passes `invoke("call", …)` through,
//! and `studydesk serve` maps `POST /api/call/<command>` to it. So the browser tests and the
//! desktop window exercise exactly the same code.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use ts_rs::TS;

use crate::bank::{Bank, BankError, Question};
use crate::config::{Config, ConfigError, Paths};
use crate::extract::ExtractError;
use crate::extract::render::Rect;
use crate::library::{ImportOutcome, Library, LibraryError, Progress, ProgressSink};
use crate::llm::{Backend, LlmError};
use crate::quiz::Card;
use crate::quiz::generate::{GenerateEvent, GenerateOptions};
use crate::quiz::{self, Quiz, QuizError, Rating, ReviewInput, SessionOptions};
use crate::records::{ConversationSummary, DocRecord, StoredMessage};
use crate::retrieve::SearchHit;
use crate::retrieve::SearchOptions;
use crate::store::Source;
use crate::tutor::Answer;
use crate::tutor::{self, Tutor, TutorError};

/// Width in pixels of rendered PDF pages.
const PAGE_WIDTH: u32 = 1100;
/// Largest file accepted through the UI.
const MAX_UPLOAD_BYTES: usize = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("{command}: bad arguments: {message}")]
    BadArguments { command: String, message: String },
    #[error(transparent)]
    Library(#[from] LibraryError),
    #[error(transparent)]
    Quiz(#[from] QuizError),
    #[error(transparent)]
    Tutor(#[from] TutorError),
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Keyring(#[from] crate::keys::KeyringError),
    #[error(transparent)]
    Bank(#[from] BankError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Records(#[from] crate::records::RecordsError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot save {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

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

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct LlmStatus {
    /// "local", "remote", "off" or "not started".
    pub mode: String,
    pub detail: String,
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

/// `settings` and `save_settings`. The key itself is never sent back.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct SettingsView {
    pub config: Config,
    /// An API key is available for the configured endpoint (keyring or environment).
    pub api_key_stored: bool,
}

/// What long commands report before their result.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A piece of a streamed answer.
    Token { text: String },
    /// Import or indexing progress.
    Progress {
        file: String,
        /// "file", "extracted" or "chunks".
        stage: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        index: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        total: Option<usize>,
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

/// Where events go: a closure the shell provides (an SSE stream, a Tauri channel).
pub type EventSink<'a> = &'a (dyn Fn(Event) + Sync);

pub struct App {
    paths: Paths,
    config: RwLock<Config>,
    library: Library,
    /// The language model, connected on first use (starting the local model takes seconds).
    backend: Mutex<Option<Arc<Backend>>>,
}

struct Sink<'a>(EventSink<'a>);

impl ProgressSink for Sink<'_> {
    fn report(&self, event: Progress<'_>) {
        let event = match event {
            Progress::File { file, index, total } => Event::Progress {
                file: file.into(),
                stage: "file",
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
                stage: "extracted",
                index: None,
                total: Some(chunks),
                done: Some(0),
                pages,
                chunks: Some(chunks),
            },
            Progress::Chunks { file, done, total } => Event::Progress {
                file: file.into(),
                stage: "chunks",
                index: None,
                total: Some(total),
                done: Some(done),
                pages: None,
                chunks: None,
            },
        };
        (self.0)(event);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
struct TopicArgs {
    topic_id: String,
}

#[derive(Deserialize)]
struct QuestionArgs {
    question_id: String,
}

#[derive(Deserialize)]
struct SearchArgs {
    query: String,
    top_k: Option<usize>,
    topic_id: Option<String>,
    source: Option<Source>,
}

#[derive(Deserialize)]
struct AskArgs {
    question: String,
    topic_id: Option<String>,
    conversation_id: Option<i64>,
}

#[derive(Deserialize)]
struct IdArgs {
    id: i64,
}

#[derive(Deserialize)]
struct ImportArgs {
    name: String,
    data_base64: String,
}

#[derive(Deserialize)]
struct DocArgs {
    doc_id: String,
}

#[derive(Deserialize)]
struct PageArgs {
    doc_id: String,
    page: u32,
    highlight: Option<String>,
}

#[derive(Deserialize)]
struct SessionArgs {
    #[serde(default)]
    topics: Vec<String>,
    doc_id: Option<String>,
    new_cards: Option<usize>,
    #[serde(default)]
    due_only: bool,
}

#[derive(Deserialize)]
struct GradeArgs {
    card_id: String,
    answer: String,
    #[serde(default)]
    self_grade: bool,
}

#[derive(Deserialize)]
struct ReviewArgs {
    card_id: String,
    rating: Rating,
    grade: Option<u8>,
    #[serde(default)]
    answer: String,
    duration_ms: Option<u64>,
}

#[derive(Deserialize)]
struct GenerateArgs {
    doc_id: String,
    count: Option<usize>,
    lang: Option<String>,
}

#[derive(Deserialize)]
struct GeneratedArgs {
    doc_id: Option<String>,
}

#[derive(Deserialize)]
struct SettingsArgs {
    config: Config,
    api_key: Option<String>,
}

fn args<T: DeserializeOwned>(command: &str, value: Value) -> Result<T, AppError> {
    let value = if value.is_null() { json!({}) } else { value };
    serde_json::from_value(value).map_err(|e| AppError::BadArguments {
        command: command.into(),
        message: e.to_string(),
    })
}

fn to_json<T: Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl App {
    pub fn open(paths: Paths) -> Result<App, AppError> {
        let config = Config::load(&paths)?;
        paths.ensure_data_dir()?;
        let library = Library::open(&paths)?;
        Ok(App {
            paths,
            config: RwLock::new(config),
            library,
            backend: Mutex::new(None),
        })
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

    fn config(&self) -> Config {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The language model, started or connected on first use.
    fn backend(&self) -> Result<Arc<Backend>, AppError> {
        let mut slot = self.backend.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(backend) = slot.as_ref() {
            return Ok(backend.clone());
        }
        let backend = Arc::new(Backend::connect(
            &self.config().llm,
            &self.paths.cache_dir,
            &self.paths.data_dir.join("llama-server.log"),
        )?);
        *slot = Some(backend.clone());
        Ok(backend)
    }

    /// Runs one command. `events` receives progress and streamed tokens before the result.
    pub fn call(
        &self,
        command: &str,
        raw: Value,
        events: EventSink<'_>,
    ) -> Result<Value, AppError> {
        let cancel = AtomicBool::new(false);
        match command {
            "status" => {
                args::<Empty>(command, raw)?;
                let bank_indexed = self.library.records().meta("bank_index")?.is_some();
                let (mode, detail) = match self
                    .backend
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .as_deref()
                {
                    Some(Backend::Remote(c)) => ("remote", c.provider().model.clone()),
                    Some(Backend::Local(..)) => ("local", "Qwen2.5 0.5B on this computer".into()),
                    Some(Backend::Off(reason)) => ("off", reason.clone()),
                    None => ("not started", "starts with the first question".into()),
                };
                Ok(to_json(Status {
                    bank_indexed,
                    questions: Bank::builtin().questions().count(),
                    docs: self.library.docs()?.len(),
                    llm: LlmStatus {
                        mode: mode.into(),
                        detail,
                    },
                    index: self.library.index_location(),
                    data_dir: self.paths.data_dir.display().to_string(),
                    version: env!("CARGO_PKG_VERSION").into(),
                }))
            }
            "index_bank" => {
                args::<Empty>(command, raw)?;
                let indexed = self.library.ensure_bank_indexed(&Sink(events))?;
                Ok(to_json(IndexResult { indexed }))
            }
            "topics" => {
                args::<Empty>(command, raw)?;
                let quiz = self.quiz()?;
                Ok(to_json(quiz.stats(quiz::now())?.topics))
            }
            "topic" => {
                let a: TopicArgs = args(command, raw)?;
                let bank = Bank::builtin();
                let topic = bank.topic(&a.topic_id)?;
                // One read of the card states, not one query per question.
                let states = crate::quiz::cards::states(self.library.records().conn())?;
                let now = quiz::now();
                let questions = topic
                    .questions
                    .iter()
                    .map(|q| {
                        let state = states.get(&q.id);
                        TopicQuestion {
                            id: q.id.clone(),
                            number: q.number,
                            subsection: q.subsection.clone(),
                            text: q.text.clone(),
                            points: q.points.clone(),
                            seen: state.is_some(),
                            due: state.as_ref().is_some_and(|s| s.due <= now),
                        }
                    })
                    .collect();
                Ok(to_json(TopicView {
                    id: topic.id.clone(),
                    title: topic.title.clone(),
                    questions,
                }))
            }
            "question" => {
                let a: QuestionArgs = args(command, raw)?;
                let bank = Bank::builtin();
                let question = bank.question(&a.question_id)?;
                let topic = bank.topic(&question.topic_id)?;
                let query = format!("{} {}", question.text, question.points.join(" "));
                let related = self.library.search(
                    &query,
                    &SearchOptions {
                        top_k: 3,
                        source: Some(Source::Doc),
                        ..SearchOptions::default()
                    },
                )?;
                Ok(to_json(QuestionView {
                    question: question.clone(),
                    topic_title: topic.title.clone(),
                    related,
                }))
            }
            "search" => {
                let a: SearchArgs = args(command, raw)?;
                let hits = self.library.search(
                    &a.query,
                    &SearchOptions {
                        top_k: a.top_k.unwrap_or(10).clamp(1, 50),
                        topic_id: a.topic_id,
                        source: a.source,
                        ..SearchOptions::default()
                    },
                )?;
                Ok(to_json(hits))
            }
            "ask" => {
                let a: AskArgs = args(command, raw)?;
                if a.question.trim().is_empty() {
                    return Err(AppError::Invalid("the question is empty".into()));
                }
                let history = match a.conversation_id {
                    Some(id) => tutor::history(&self.library, id)?,
                    None => Vec::new(),
                };
                let backend = self.backend()?;
                let tutor = Tutor::new(&self.library, backend.client());
                let answer = tutor.ask(
                    &a.question,
                    &history,
                    a.topic_id.as_deref(),
                    &cancel,
                    &mut |piece| events(Event::Token { text: piece.into() }),
                )?;
                let id = tutor::record_exchange(
                    &self.library,
                    a.conversation_id,
                    a.topic_id.as_deref(),
                    &a.question,
                    &answer,
                )?;
                Ok(to_json(AskResult {
                    answer,
                    conversation_id: id,
                }))
            }
            "explain" => {
                let a: QuestionArgs = args(command, raw)?;
                let backend = self.backend()?;
                let tutor = Tutor::new(&self.library, backend.client());
                let answer = tutor.explain(&a.question_id, &cancel, &mut |piece| {
                    events(Event::Token { text: piece.into() })
                })?;
                let topic = Bank::builtin().question(&a.question_id)?.topic_id.clone();
                let title = format!("Explain {}", a.question_id);
                let id =
                    tutor::record_exchange(&self.library, None, Some(&topic), &title, &answer)?;
                Ok(to_json(AskResult {
                    answer,
                    conversation_id: id,
                }))
            }
            "conversations" => {
                args::<Empty>(command, raw)?;
                Ok(to_json(self.library.records().conversations()?))
            }
            "conversation" => {
                let a: IdArgs = args(command, raw)?;
                let records = self.library.records();
                let summary = records
                    .conversation(a.id)?
                    .ok_or_else(|| AppError::Invalid(format!("no conversation {}", a.id)))?;
                Ok(to_json(ConversationView {
                    summary,
                    messages: records.messages(a.id)?,
                }))
            }
            "export_conversation" => {
                let a: IdArgs = args(command, raw)?;
                let markdown = tutor::export_markdown(&self.library, a.id)?
                    .ok_or_else(|| AppError::Invalid(format!("no conversation {}", a.id)))?;
                Ok(to_json(MarkdownExport { markdown }))
            }
            "docs" => {
                args::<Empty>(command, raw)?;
                Ok(to_json(self.library.docs()?))
            }
            "import_file" => {
                let a: ImportArgs = args(command, raw)?;
                let path = self.save_upload(&a)?;
                let doc = self.import(&path, events)?;
                Ok(to_json(DocResult { doc }))
            }
            "remove_doc" => {
                let a: DocArgs = args(command, raw)?;
                let doc = self.library.remove(&a.doc_id)?;
                // A copy StudyDesk made of an uploaded file goes with it.
                let uploads = self.uploads_dir();
                let uploads = std::fs::canonicalize(&uploads).unwrap_or(uploads);
                let path = PathBuf::from(&doc.path);
                if path.starts_with(&uploads) {
                    let _ = std::fs::remove_file(path);
                }
                Ok(to_json(DocResult { doc }))
            }
            "reindex_doc" => {
                let a: DocArgs = args(command, raw)?;
                let doc = self.library.find_doc(&a.doc_id)?;
                let path = PathBuf::from(&doc.path);
                if !path.is_file() {
                    return Err(AppError::Invalid(format!(
                        "{}: the original file {} is gone; import it again",
                        doc.file_name, doc.path
                    )));
                }
                self.library.remove(&doc.id)?;
                let doc = self.import(&path, events)?;
                Ok(to_json(DocResult { doc }))
            }
            "page_image" => {
                let a: PageArgs = args(command, raw)?;
                let doc = self.library.find_doc(&a.doc_id)?;
                if doc.path.is_empty() {
                    return Err(AppError::Invalid(format!(
                        "{}: the file is not on this computer (its passages came from a shared or copied index), so its pages cannot be shown; the cited passage is the text above",
                        doc.file_name
                    )));
                }
                let image = crate::extract::render::render_page(
                    &crate::extract::pdfium_path(&self.paths.cache_dir),
                    std::path::Path::new(&doc.path),
                    a.page,
                    a.highlight.as_deref(),
                    PAGE_WIDTH,
                )?;
                Ok(to_json(PageView {
                    doc: doc.file_name,
                    page: image.page,
                    pages: image.pages,
                    width: image.width,
                    height: image.height,
                    png_base64: base64::engine::general_purpose::STANDARD.encode(&image.png),
                    highlights: image.highlights,
                }))
            }
            "quiz_session" => {
                let a: SessionArgs = args(command, raw)?;
                let quiz = self.quiz()?;
                let now = quiz::now();
                let cards = quiz.session(
                    &SessionOptions {
                        topics: a.topics,
                        doc_id: a.doc_id,
                        new_cards: a.new_cards.unwrap_or(self.config().quiz.new_cards),
                        due_only: a.due_only,
                    },
                    now,
                )?;
                let mut out = Vec::new();
                for card in cards {
                    let preview = quiz.scheduler().preview(card.state.as_ref(), now)?;
                    out.push(SessionCard { card, preview });
                }
                Ok(to_json(out))
            }
            "grade" => {
                let a: GradeArgs = args(command, raw)?;
                let quiz = self.quiz()?;
                let card = quiz.card(&a.card_id)?;
                let backend = if a.self_grade {
                    None
                } else {
                    Some(self.backend()?)
                };
                let llm = backend.as_deref().and_then(Backend::client);
                Ok(to_json(crate::quiz::grade::grade(
                    &self.library,
                    llm,
                    &card,
                    &a.answer,
                )?))
            }
            "review" => {
                let a: ReviewArgs = args(command, raw)?;
                let quiz = self.quiz()?;
                let state = quiz.review(
                    &a.card_id,
                    &ReviewInput {
                        rating: a.rating,
                        grade: a.grade.map(|g| g.min(5)),
                        answer: a.answer,
                        duration_ms: a.duration_ms,
                    },
                    quiz::now(),
                )?;
                Ok(to_json(state))
            }
            "stats" => {
                args::<Empty>(command, raw)?;
                Ok(to_json(self.quiz()?.stats(quiz::now())?))
            }
            "generate" => {
                let a: GenerateArgs = args(command, raw)?;
                let doc = self.library.find_doc(&a.doc_id)?;
                let backend = self.backend()?;
                let llm = crate::quiz::generate::require_model(&backend)?;
                let report = crate::quiz::generate::generate(
                    &self.library,
                    llm,
                    &doc,
                    &GenerateOptions {
                        count: a.count.unwrap_or(5).clamp(1, 20),
                        lang: a.lang,
                        seed: None,
                    },
                    &cancel,
                    &mut |event| {
                        events(Event::Generate {
                            event: event.clone(),
                        })
                    },
                )?;
                Ok(to_json(report))
            }
            "generated" => {
                let a: GeneratedArgs = args(command, raw)?;
                Ok(to_json(self.quiz()?.generated(a.doc_id.as_deref())?))
            }
            "settings" => {
                args::<Empty>(command, raw)?;
                Ok(self.settings_view())
            }
            "save_settings" => {
                let a: SettingsArgs = args(command, raw)?;
                crate::quiz::Scheduler::new(&[], a.config.quiz.desired_retention)
                    .map_err(AppError::Quiz)?;
                // The key goes to the OS keyring, never into config.toml.
                if let Some(key) = a.api_key.as_deref().filter(|k| !k.trim().is_empty()) {
                    let Some(base_url) = a.config.llm.base_url.as_deref() else {
                        return Err(AppError::Invalid(
                            "an API key needs an endpoint: set the base URL first".into(),
                        ));
                    };
                    crate::keys::store(base_url, key)?;
                }
                // The index's location is not a setting of the running app: the library is open
                // on it. It changes in config.toml (or `studydesk store migrate --switch`).
                let mut config = a.config;
                config.store = self.config().store;
                config.save(&self.paths)?;
                *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
                // The next question connects with the new settings.
                *self.backend.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(self.settings_view())
            }
            other => Err(AppError::UnknownCommand(other.into())),
        }
    }

    fn settings_view(&self) -> Value {
        let config = self.config();
        let in_env = config
            .llm
            .api_key_env
            .as_deref()
            .is_some_and(|v| std::env::var_os(v).is_some());
        let in_keyring = config
            .llm
            .base_url
            .as_deref()
            .is_some_and(|url| matches!(crate::keys::load(url), Ok(Some(_))));
        to_json(SettingsView {
            config,
            api_key_stored: in_env || in_keyring,
        })
    }

    fn quiz(&self) -> Result<Quiz<'_>, AppError> {
        Ok(Quiz::open(&self.library, &self.config().quiz)?)
    }

    fn uploads_dir(&self) -> PathBuf {
        self.paths.data_dir.join("files")
    }

    /// Keeps an uploaded file in the data folder (the page viewer renders from it).
    fn save_upload(&self, upload: &ImportArgs) -> Result<PathBuf, AppError> {
        let name = std::path::Path::new(&upload.name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty() && !n.starts_with('.'))
            .ok_or_else(|| AppError::Invalid(format!("{:?} is not a file name", upload.name)))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(upload.data_base64.as_bytes())
            .map_err(|e| AppError::Invalid(format!("{name}: the upload is not base64 ({e})")))?;
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(AppError::Invalid(format!(
                "{name}: the file is over {} MiB",
                MAX_UPLOAD_BYTES >> 20
            )));
        }
        let dir = self.uploads_dir().join(&crate::sha256_hex(&bytes)[..12]);
        let path = dir.join(&name);
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, &bytes))
            .map_err(|source| AppError::Write {
                path: path.clone(),
                source,
            })?;
        Ok(path)
    }

    fn import(
        &self,
        path: &std::path::Path,
        events: EventSink<'_>,
    ) -> Result<crate::records::DocRecord, AppError> {
        match self.library.import_file(path, &Sink(events))? {
            ImportOutcome::Imported { doc, .. } | ImportOutcome::Unchanged { doc } => Ok(doc),
        }
    }
}
