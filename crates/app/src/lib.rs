//! StudyDesk's application layer: the commands the desktop window, the browser UI
//! (`studydesk serve`) and the CLI all give, each a typed method of [`App`], with typed
//! results, events for long work and a cancel token per call.
//!
//! The shells only translate: the Tauri window and the HTTP server turn a command name and
//! JSON arguments into a [`Command`] and pass its JSON result back; the CLI calls the typed
//! methods and prints. So every way of using StudyDesk runs exactly the same code.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use base64::Engine as _;

use studydesk_engine::bank::Bank;
use studydesk_engine::config::{Config, Paths};
use studydesk_engine::database::{ConversationSummary, DocRecord};
use studydesk_engine::library::{ImportOutcome, Library};
use studydesk_engine::llm::local::{LocalModel, Tier, TierChoice};
use studydesk_engine::llm::{Backend, LlmError, OffReason};
use studydesk_engine::quiz::export;
use studydesk_engine::quiz::generate::{GenerateOptions, GenerateReport};
use studydesk_engine::quiz::grade::Grading;
use studydesk_engine::quiz::interview::{
    Interview, InterviewOptions, InterviewSummary, Interviewer,
};
use studydesk_engine::quiz::mistakes::Mistake;
use studydesk_engine::quiz::plan::Plan;
use studydesk_engine::quiz::{
    self, CardState, GeneratedQuestion, Quiz, ReviewInput, SessionOptions, TopicProgress,
};
use studydesk_engine::retrieve::{Query, SearchHit, SearchOptions};
use studydesk_engine::store::Source;
use studydesk_engine::tutor::{self, Citation, Listener, Tutor};

pub mod commands;
pub mod error;
pub mod events;
pub mod model;
mod uploads;
pub mod views;

pub use commands::*;
pub use error::{AppError, ErrorView};
pub use events::{Call, Event, Stage};
use model::Model;
pub use views::*;

/// Width in pixels of rendered PDF pages.
const PAGE_WIDTH: u32 = 1100;
/// A mock interview's length unless the learner says otherwise.
const DEFAULT_INTERVIEW_MINUTES: u32 = 20;

pub struct App {
    paths: Paths,
    config: RwLock<Config>,
    library: Library,
    model: Model,
}

/// Streams an answer's sources and tokens to a call's events.
struct ToEvents<'a, 'b>(&'a Call<'b>);

impl Listener for ToEvents<'_, '_> {
    fn sources(&mut self, context: &[Citation]) {
        self.0.emit(Event::Sources {
            context: context.to_vec(),
        });
    }

    fn token(&mut self, piece: &str) {
        self.0.emit(Event::Token { text: piece.into() });
    }
}

impl App {
    /// Opens the data folder: its settings, its library (index and database). The model is
    /// connected on first use.
    pub fn open(paths: Paths) -> Result<App, AppError> {
        let config = Config::load(&paths)?;
        paths.ensure_data_dir()?;
        let library = Library::open(&paths)?;
        Ok(App {
            paths,
            config: RwLock::new(config),
            library,
            model: Model::new(),
        })
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    pub fn config(&self) -> Config {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The language model, started or connected on first use.
    pub fn backend(&self) -> Result<Arc<Backend>, AppError> {
        Ok(self.model.get(
            &self.config().llm,
            &self.paths.cache_dir,
            &self.paths.data_dir.join("llama-server.log"),
        )?)
    }

    /// Which model answers with the current settings (without starting it).
    pub fn model_plan(&self) -> ModelPlan {
        model::plan(&self.config().llm, &self.paths.cache_dir)
    }

    fn quiz(&self) -> Result<Quiz<'_>, AppError> {
        Ok(Quiz::open(&self.library, &self.config().quiz)?)
    }

    fn check_topic(topic_id: Option<&str>) -> Result<(), AppError> {
        if let Some(topic) = topic_id {
            Bank::builtin().topic(topic)?;
        }
        Ok(())
    }

    pub fn status(&self, _: NoArgs, _: &Call<'_>) -> Result<Status, AppError> {
        let config = self.config();
        // Each in its own statement: a database guard lives to the end of its statement.
        let bank_indexed = self.library.db().meta("bank_index")?.is_some();
        let docs = self.library.docs()?.len();
        Ok(Status {
            bank_indexed,
            questions: Bank::builtin().questions().count(),
            docs,
            llm: self.model.status(&config.llm, &self.paths.cache_dir),
            index: self.library.index_location(),
            data_dir: self.paths.data_dir.display().to_string(),
            version: env!("CARGO_PKG_VERSION").into(),
        })
    }

    pub fn index_bank(&self, _: NoArgs, call: &Call<'_>) -> Result<IndexResult, AppError> {
        Ok(IndexResult {
            indexed: self.library.ensure_bank_indexed(call)?,
        })
    }

    pub fn topics(&self, _: NoArgs, _: &Call<'_>) -> Result<Vec<TopicProgress>, AppError> {
        Ok(self.quiz()?.stats(quiz::now())?.topics)
    }

    pub fn topic(&self, args: TopicArgs, _: &Call<'_>) -> Result<TopicView, AppError> {
        let topic = Bank::builtin().topic(&args.topic_id)?;
        // One read of the card states, not one query per question.
        let states = self.quiz()?.states()?;
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
                    due: state.is_some_and(|s| s.due <= now),
                }
            })
            .collect();
        Ok(TopicView {
            id: topic.id.clone(),
            title: topic.title.clone(),
            questions,
        })
    }

    pub fn question(&self, args: QuestionArgs, _: &Call<'_>) -> Result<QuestionView, AppError> {
        let bank = Bank::builtin();
        let question = bank.question(&args.question_id)?;
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
        Ok(QuestionView {
            question: question.clone(),
            topic_title: topic.title.clone(),
            related,
        })
    }

    fn search_options(
        top_k: Option<usize>,
        topic_id: Option<String>,
        source: Option<Source>,
        mode: Option<studydesk_engine::store::Mode>,
    ) -> Result<SearchOptions, AppError> {
        Self::check_topic(topic_id.as_deref())?;
        Ok(SearchOptions {
            top_k: top_k.unwrap_or(10).clamp(1, 50),
            topic_id,
            source,
            mode: mode.unwrap_or_default(),
            ..SearchOptions::default()
        })
    }

    pub fn search(&self, args: SearchArgs, call: &Call<'_>) -> Result<Vec<SearchHit>, AppError> {
        if args.query.trim().is_empty() {
            return Err(AppError::Invalid("the query is empty".into()));
        }
        let options = Self::search_options(args.top_k, args.topic_id, args.source, args.mode)?;
        let query = self.query(&args.query, args.translate, call)?;
        Ok(self.library.search_query(&query, &options)?)
    }

    pub fn search_many(
        &self,
        args: SearchManyArgs,
        call: &Call<'_>,
    ) -> Result<Vec<Vec<SearchHit>>, AppError> {
        let options = Self::search_options(args.top_k, args.topic_id, args.source, args.mode)?;
        let queries = args
            .queries
            .iter()
            .map(|q| self.query(q, args.translate, call))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.library.search_many(&queries, &options)?)
    }

    /// A query as it is searched: with its translation into the other language when asked
    /// for (by default, when a model is configured). Without a model, or when it fails to
    /// start, the glossary bridges the languages instead.
    fn query(
        &self,
        text: &str,
        translated: Option<bool>,
        call: &Call<'_>,
    ) -> Result<Query, AppError> {
        let wanted = translated.unwrap_or_else(|| self.off_reason().is_none());
        if !wanted {
            return Ok(Query::new(text));
        }
        let Ok(backend) = self.backend() else {
            return Ok(Query::new(text));
        };
        let Some(llm) = backend.client() else {
            return Ok(Query::new(text));
        };
        use studydesk_engine::translate::{TranslateError, translate};
        match translate(&self.library, llm, text, &call.cancel) {
            Ok(translation) => Ok(Query::translated(text, translation)),
            Err(TranslateError::Llm(LlmError::Cancelled)) => Err(LlmError::Cancelled.into()),
            // A model that fails here still leaves the glossary's bridge: search goes on.
            Err(TranslateError::Llm(_)) => Ok(Query::new(text)),
            Err(TranslateError::Database(e)) => Err(e.into()),
        }
    }

    pub fn ask(&self, args: AskArgs, call: &Call<'_>) -> Result<AskResult, AppError> {
        if args.question.trim().is_empty() {
            return Err(AppError::Invalid("the question is empty".into()));
        }
        Self::check_topic(args.topic_id.as_deref())?;
        let history = match args.conversation_id {
            Some(id) => {
                self.conversation_summary(id)?;
                tutor::history(&self.library, id)?
            }
            None => Vec::new(),
        };
        let backend = self.backend()?;
        let tutor = Tutor::new(&self.library, backend.client());
        let answer = tutor.ask(
            &args.question,
            &history,
            args.topic_id.as_deref(),
            self.config().language,
            &call.cancel,
            &mut ToEvents(call),
        )?;
        let conversation_id = tutor::record_exchange(
            &self.library,
            args.conversation_id,
            args.topic_id.as_deref(),
            &args.question,
            &answer,
        )?;
        Ok(AskResult {
            answer,
            conversation_id,
        })
    }

    pub fn explain(&self, args: QuestionArgs, call: &Call<'_>) -> Result<AskResult, AppError> {
        let question = Bank::builtin().question(&args.question_id)?;
        let backend = self.backend()?;
        let tutor = Tutor::new(&self.library, backend.client());
        let answer = tutor.explain(
            &args.question_id,
            self.config().language,
            &call.cancel,
            &mut ToEvents(call),
        )?;
        let title = format!("Explain {}", args.question_id);
        let conversation_id = tutor::record_exchange(
            &self.library,
            None,
            Some(&question.topic_id),
            &title,
            &answer,
        )?;
        Ok(AskResult {
            answer,
            conversation_id,
        })
    }

    pub fn conversations(
        &self,
        _: NoArgs,
        _: &Call<'_>,
    ) -> Result<Vec<ConversationSummary>, AppError> {
        Ok(self.library.db().conversations()?)
    }

    fn conversation_summary(&self, id: i64) -> Result<ConversationSummary, AppError> {
        self.library
            .db()
            .conversation(id)?
            .ok_or(AppError::NoConversation(id))
    }

    pub fn conversation(
        &self,
        args: ConversationArgs,
        _: &Call<'_>,
    ) -> Result<ConversationView, AppError> {
        let summary = self.conversation_summary(args.id)?;
        Ok(ConversationView {
            summary,
            messages: self.library.db().messages(args.id)?,
        })
    }

    pub fn export_conversation(
        &self,
        args: ConversationArgs,
        _: &Call<'_>,
    ) -> Result<MarkdownExport, AppError> {
        let markdown = tutor::export_markdown(&self.library, args.id)?
            .ok_or(AppError::NoConversation(args.id))?;
        Ok(MarkdownExport { markdown })
    }

    pub fn docs(&self, _: NoArgs, _: &Call<'_>) -> Result<Vec<DocRecord>, AppError> {
        Ok(self.library.docs()?)
    }

    pub fn import_file(
        &self,
        args: ImportFileArgs,
        call: &Call<'_>,
    ) -> Result<DocResult, AppError> {
        let path = uploads::save(&self.uploads_dir(), &args.name, &args.data_base64)?;
        let doc = self.import_one(&path, call)?;
        Ok(DocResult { doc })
    }

    pub fn import_paths(
        &self,
        args: ImportPathsArgs,
        call: &Call<'_>,
    ) -> Result<ImportReport, AppError> {
        let paths: Vec<PathBuf> = args.paths.iter().map(PathBuf::from).collect();
        let results = self.library.import_paths(&paths, call, &call.cancel);
        let files = results
            .into_iter()
            .map(|(path, result)| match result {
                Ok(ImportOutcome::Imported { doc, replaced }) => {
                    ImportedFile::Imported { doc, replaced }
                }
                Ok(ImportOutcome::Unchanged { doc }) => ImportedFile::Unchanged { doc },
                Err(error) => ImportedFile::Failed {
                    file: studydesk_engine::extract::file_label(&path),
                    error: ErrorView::of(&error),
                },
            })
            .collect();
        Ok(ImportReport { files })
    }

    pub fn remove_doc(&self, args: DocArgs, _: &Call<'_>) -> Result<DocResult, AppError> {
        let doc = self.library.remove(&args.doc_id)?;
        // A copy StudyDesk made of an uploaded file goes with it.
        uploads::forget(&self.uploads_dir(), Path::new(&doc.path));
        Ok(DocResult { doc })
    }

    pub fn reindex_doc(&self, args: DocArgs, call: &Call<'_>) -> Result<DocResult, AppError> {
        let doc = self.library.find_doc(&args.doc_id)?;
        let path = PathBuf::from(&doc.path);
        if !path.is_file() {
            return Err(AppError::Invalid(format!(
                "{}: the original file {} is gone; import it again",
                doc.file_name, doc.path
            )));
        }
        self.library.remove(&doc.id)?;
        let doc = self.import_one(&path, call)?;
        Ok(DocResult { doc })
    }

    pub fn page_image(&self, args: PageArgs, _: &Call<'_>) -> Result<PageView, AppError> {
        let doc = self.library.find_doc(&args.doc_id)?;
        if doc.path.is_empty() {
            return Err(AppError::Invalid(format!(
                "{}: the file is not on this computer (its passages came from a shared or copied index), so its pages cannot be shown; the cited passage is the text above",
                doc.file_name
            )));
        }
        let image =
            self.library
                .page_image(&doc, args.page, args.highlight.as_deref(), PAGE_WIDTH)?;
        Ok(PageView {
            doc: doc.file_name,
            page: image.page,
            pages: image.pages,
            width: image.width,
            height: image.height,
            png_base64: base64::engine::general_purpose::STANDARD.encode(&image.png),
            highlights: image.highlights,
        })
    }

    pub fn quiz_session(
        &self,
        args: SessionArgs,
        _: &Call<'_>,
    ) -> Result<Vec<SessionCard>, AppError> {
        for topic in &args.topics {
            if topic != quiz::GENERATED {
                Bank::builtin().topic(topic)?;
            }
        }
        let quiz = self.quiz()?;
        let doc_id = match args.doc_id {
            Some(doc) => Some(self.library.find_doc(&doc)?.id),
            None => None,
        };
        let now = quiz::now();
        let cards = quiz.session(
            &SessionOptions {
                topics: args.topics,
                doc_id,
                new_cards: args.new_cards.unwrap_or(self.config().quiz.new_cards),
                due_only: args.due_only,
                mistakes: args.mistakes,
            },
            now,
        )?;
        cards
            .into_iter()
            .map(|card| {
                let preview = quiz.scheduler().preview(card.state.as_ref(), now)?;
                Ok(SessionCard { card, preview })
            })
            .collect()
    }

    pub fn grade(&self, args: GradeArgs, call: &Call<'_>) -> Result<Grading, AppError> {
        let quiz = self.quiz()?;
        let card = quiz.card(&args.card_id)?;
        let backend = if args.self_grade {
            None
        } else {
            Some(self.backend()?)
        };
        let llm = backend.as_deref().and_then(Backend::client);
        Ok(studydesk_engine::quiz::grade::grade(
            &self.library,
            llm,
            &card,
            &args.answer,
            &call.cancel,
        )?)
    }

    pub fn review(&self, args: ReviewArgs, _: &Call<'_>) -> Result<CardState, AppError> {
        if args.grade.is_some_and(|g| g > 5) {
            return Err(AppError::Invalid("a grade is 0 to 5".into()));
        }
        Ok(self.quiz()?.review(
            &args.card_id,
            &ReviewInput {
                rating: args.rating,
                grade: args.grade,
                answer: args.answer,
                duration_ms: args.duration_ms,
                grading: args.grading,
            },
            quiz::now(),
        )?)
    }

    /// Progress, with the plan to the interview date when the settings have one.
    pub fn stats(&self, _: NoArgs, _: &Call<'_>) -> Result<quiz::Stats, AppError> {
        let quiz = self.quiz()?;
        let now = quiz::now();
        let mut stats = quiz.stats(now)?;
        if let Some(date) = &self.config().quiz.interview_date {
            // A date that has passed leaves the stats without a plan rather than failing them.
            stats.plan = quiz::plan::plan(&quiz, date, &[], now).ok();
        }
        Ok(stats)
    }

    pub fn mistakes(&self, _: NoArgs, _: &Call<'_>) -> Result<Vec<Mistake>, AppError> {
        Ok(quiz::mistakes::mistakes(&self.quiz()?)?)
    }

    pub fn plan(&self, args: PlanArgs, _: &Call<'_>) -> Result<Plan, AppError> {
        for topic in &args.topics {
            Bank::builtin().topic(topic)?;
        }
        let Some(date) = args.date.or(self.config().quiz.interview_date) else {
            return Err(AppError::Invalid(
                "no interview date: give one (e.g. 2027-01-15) or set it in the settings".into(),
            ));
        };
        Ok(quiz::plan::plan(
            &self.quiz()?,
            &date,
            &args.topics,
            quiz::now(),
        )?)
    }

    pub fn interview_start(
        &self,
        args: InterviewStartArgs,
        call: &Call<'_>,
    ) -> Result<Interview, AppError> {
        let options = InterviewOptions {
            topics: args.topics,
            minutes: args.minutes.unwrap_or(DEFAULT_INTERVIEW_MINUTES),
            lang: args.lang,
            max_questions: args.max_questions,
        };
        self.with_interviewer(|interviewer| interviewer.start(&options, &call.cancel, quiz::now()))
    }

    pub fn interview_answer(
        &self,
        args: InterviewAnswerArgs,
        call: &Call<'_>,
    ) -> Result<Interview, AppError> {
        self.with_interviewer(|interviewer| {
            interviewer.answer(
                args.id,
                &args.answer,
                args.duration_ms,
                &call.cancel,
                quiz::now(),
            )
        })
    }

    /// Runs `work` with the interviewer: the quiz and the model (an interview needs one).
    fn with_interviewer<T>(
        &self,
        work: impl FnOnce(&Interviewer<'_, '_>) -> Result<T, quiz::QuizError>,
    ) -> Result<T, AppError> {
        let quiz = self.quiz()?;
        let backend = self.backend()?;
        let llm = backend.client().ok_or(quiz::QuizError::NeedsModel(
            "an interview",
            self.off_reason().unwrap_or(OffReason::Disabled),
        ))?;
        Ok(work(&Interviewer::new(&quiz, llm))?)
    }

    pub fn interview_finish(
        &self,
        args: InterviewArgs,
        _: &Call<'_>,
    ) -> Result<Interview, AppError> {
        Ok(quiz::interview::finish(
            &self.library,
            args.id,
            quiz::now(),
        )?)
    }

    pub fn interview(&self, args: InterviewArgs, _: &Call<'_>) -> Result<Interview, AppError> {
        Ok(quiz::interview::load(&self.library, args.id)?)
    }

    pub fn interviews(&self, _: NoArgs, _: &Call<'_>) -> Result<Vec<InterviewSummary>, AppError> {
        Ok(quiz::interview::list(&self.library)?)
    }

    pub fn refit(&self, _: NoArgs, _: &Call<'_>) -> Result<RefitResult, AppError> {
        let mut quiz = self.quiz()?;
        Ok(RefitResult {
            items: quiz.refit()?,
            needed: quiz::schedule::MIN_TRAINING_ITEMS,
        })
    }

    pub fn generate(
        &self,
        args: GenerateArgs,
        call: &Call<'_>,
    ) -> Result<GenerateReport, AppError> {
        let doc = self.library.find_doc(&args.doc_id)?;
        let backend = self.backend()?;
        let llm = studydesk_engine::quiz::generate::require_model(&backend)?;
        Ok(studydesk_engine::quiz::generate::generate(
            &self.library,
            llm,
            &doc,
            &GenerateOptions {
                count: args.count.unwrap_or(5).clamp(1, 20),
                lang: args.lang,
                seed: None,
            },
            &call.cancel,
            &mut |event| {
                call.emit(Event::Generate {
                    event: event.clone(),
                })
            },
        )?)
    }

    pub fn generated(
        &self,
        args: GeneratedArgs,
        _: &Call<'_>,
    ) -> Result<Vec<GeneratedQuestion>, AppError> {
        let doc_id = match args.doc_id {
            Some(doc) => Some(self.library.find_doc(&doc)?.id),
            None => None,
        };
        Ok(self.quiz()?.generated(doc_id.as_deref())?)
    }

    pub fn edit_generated(
        &self,
        args: EditGeneratedArgs,
        _: &Call<'_>,
    ) -> Result<GeneratedQuestion, AppError> {
        if args.question.is_none() && args.answer.is_none() {
            return Err(AppError::Invalid(
                "give a new question, a new answer or both".into(),
            ));
        }
        let quiz = self.quiz()?;
        quiz.edit_generated(&args.id, args.question.as_deref(), args.answer.as_deref())?;
        quiz.generated_question(&args.id)?
            .ok_or_else(|| AppError::NoGeneratedQuestion(args.id.clone()))
    }

    pub fn delete_generated(&self, args: IdArgs, _: &Call<'_>) -> Result<Deleted, AppError> {
        self.quiz()?.delete_generated(&args.id)?;
        Ok(Deleted { id: args.id })
    }

    pub fn export_cards(&self, args: ExportArgs, _: &Call<'_>) -> Result<ExportText, AppError> {
        for topic in &args.topics {
            Bank::builtin().topic(topic)?;
        }
        if args.mistakes {
            let mistakes = quiz::mistakes::mistakes(&self.quiz()?)?;
            let text = match args.format {
                ExportFormat::Anki => export::anki_tsv(&quiz::mistakes::anki_notes(&mistakes)),
                ExportFormat::Markdown => quiz::mistakes::markdown(&mistakes),
            };
            return Ok(ExportText {
                text,
                cards: mistakes.len(),
            });
        }
        let cards: Vec<_> = self
            .quiz()?
            .all_cards()?
            .into_iter()
            .filter(|c| {
                args.topics.is_empty()
                    || c.topic_id.as_ref().is_some_and(|t| args.topics.contains(t))
            })
            .collect();
        let text = match args.format {
            ExportFormat::Anki => {
                let notes: Vec<export::AnkiNote> =
                    cards.iter().map(export::AnkiNote::from_card).collect();
                export::anki_tsv(&notes)
            }
            ExportFormat::Markdown => export::markdown(&cards),
        };
        Ok(ExportText {
            text,
            cards: cards.len(),
        })
    }

    pub fn settings(&self, _: NoArgs, _: &Call<'_>) -> Result<SettingsView, AppError> {
        Ok(self.settings_view())
    }

    pub fn save_settings(
        &self,
        args: SettingsArgs,
        _: &Call<'_>,
    ) -> Result<SettingsView, AppError> {
        studydesk_engine::quiz::Scheduler::new(&[], args.config.quiz.desired_retention)?;
        if let Some(date) = &args.config.quiz.interview_date {
            quiz::plan::parse_date(date)?;
        }
        // The key goes to the OS keyring, never into config.toml.
        if let Some(key) = args.api_key.as_deref().filter(|k| !k.trim().is_empty()) {
            let Some(base_url) = args.config.llm.base_url.as_deref() else {
                return Err(AppError::Invalid(
                    "an API key needs an endpoint: set the base URL first".into(),
                ));
            };
            studydesk_engine::keys::store(base_url, key)?;
        }
        // The index's location is not a setting of the running app: the library is open on
        // it. It changes in config.toml (or `studydesk store migrate --switch`).
        let mut config = args.config;
        config.store = self.config().store;
        config.save(&self.paths)?;
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
        // The next question connects with the new settings.
        self.model.reset();
        Ok(self.settings_view())
    }

    fn settings_view(&self) -> SettingsView {
        let config = self.config();
        let in_env = config
            .llm
            .api_key_env
            .as_deref()
            .is_some_and(|v| std::env::var_os(v).is_some_and(|k| !k.is_empty()));
        let in_keyring = config
            .llm
            .base_url
            .as_deref()
            .is_some_and(|url| matches!(studydesk_engine::keys::load(url), Ok(Some(_))));
        let installed_tiers = Tier::ALL
            .into_iter()
            .filter(|&tier| LocalModel::choose(tier_choice(tier), &self.paths.cache_dir).is_some())
            .collect();
        SettingsView {
            config,
            api_key_stored: in_env || in_keyring,
            auto_tier: Tier::for_this_machine(),
            installed_tiers,
        }
    }

    fn uploads_dir(&self) -> PathBuf {
        self.paths.data_dir.join("files")
    }

    fn import_one(&self, path: &Path, call: &Call<'_>) -> Result<DocRecord, AppError> {
        match self.library.import_file(path, call, &call.cancel)? {
            ImportOutcome::Imported { doc, .. } | ImportOutcome::Unchanged { doc } => Ok(doc),
        }
    }

    /// Whether generation is off, and why (for a shell's own wording).
    pub fn off_reason(&self) -> Option<OffReason> {
        match self.model_plan() {
            ModelPlan::Off { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

fn tier_choice(tier: Tier) -> TierChoice {
    match tier {
        Tier::Fast => TierChoice::Fast,
        Tier::Better => TierChoice::Better,
    }
}
