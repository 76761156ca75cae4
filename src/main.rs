//! `studydesk`: the command line. Everything the app can do goes through the application
//! layer (`studydesk_app::App`), the same code the desktop window and the browser UI call;
//! what only a terminal does (reading the bank, keys, moving the index, retrieval evals,
//! serving the UI) is here too.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use studydesk_app::{
    App, AskArgs, ConversationArgs, DocArgs, EditGeneratedArgs, ExportArgs, ExportFormat,
    GenerateArgs, GeneratedArgs, IdArgs, ImportPathsArgs, ImportedFile, InterviewArgs,
    InterviewStartArgs, NoArgs, PlanArgs, SearchArgs, SearchManyArgs, SessionArgs, SettingsArgs,
};
use studydesk_engine::Lang;
use studydesk_engine::bank::{Bank, Question};
use studydesk_engine::config::{Config, Paths};
use studydesk_engine::store::{Mode, Source};

mod cli;
mod serve;

use cli::print;

#[derive(Parser)]
#[command(
    name = "studydesk",
    version,
    about = "Study for LLM interviews with your question bank, papers and notes"
)]
struct Cli {
    /// Folder for StudyDesk's index, records and config.toml [default: the OS data folder]
    #[arg(long, global = true, env = "STUDYDESK_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Browse the built-in question bank: topics with their question counts
    Bank {
        /// Print the whole parsed bank as JSON
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<BankAction>,
    },
    /// Show where StudyDesk keeps its data, which model answers, and the settings in force
    Info,
    /// Import PDFs (scanned pages are read by OCR), images (.png, .jpg), Markdown and text notes (files or folders) into the library
    Import {
        #[arg(required = true, value_name = "FILE_OR_FOLDER")]
        paths: Vec<PathBuf>,
    },
    /// List imported documents
    Docs {
        #[arg(long)]
        json: bool,
    },
    /// Remove an imported document and all its passages (by file name or id)
    Remove { doc: String },
    /// Search your documents and the bank: two lists (`--json`: `docs`, `bank`, and the mixed
    /// `hits`), or one with `--source`
    Search {
        /// The query (or use --queries-file)
        query: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 10)]
        top_k: usize,
        /// Only bank items of this topic (e.g. t05); documents are still searched
        #[arg(long)]
        topic: Option<String>,
        /// Only one source
        #[arg(long, value_parser = ["bank", "docs"])]
        source: Option<String>,
        /// hybrid (default), dense or lexical
        #[arg(long, default_value = "hybrid")]
        mode: Mode,
        /// Run every line of this file as a query; prints one JSON object per line
        #[arg(long, value_name = "FILE", conflicts_with = "query")]
        queries_file: Option<PathBuf>,
        /// Do not translate the query with the model (the glossary still bridges languages)
        #[arg(long)]
        no_translate: bool,
    },
    /// Ask a question: a streamed answer from the bank and your documents, with sources
    Ask {
        question: String,
        /// Keep to one topic's bank items (e.g. t01)
        #[arg(long)]
        topic: Option<String>,
        /// Continue a conversation (see `studydesk chats`)
        #[arg(long)]
        conversation: Option<i64>,
    },
    /// Explain one bank question: definition, mechanism, why it matters, pitfalls
    Explain { question_id: String },
    /// List conversations, or export one to Markdown
    Chats {
        #[command(subcommand)]
        action: Option<ChatsAction>,
    },
    /// Review questions: due ones first, then new ones; graded against the sources, scheduled with FSRS
    Quiz {
        /// Only this topic's bank questions (repeatable), e.g. --topic t01
        #[arg(long = "topic", value_name = "ID")]
        topics: Vec<String>,
        /// Only the questions generated from this document
        #[arg(long)]
        doc: Option<String>,
        /// New questions to add after the due ones [default: quiz.new_cards, 10]
        #[arg(long = "new", value_name = "N")]
        new_cards: Option<usize>,
        /// Only questions that are due
        #[arg(long)]
        due: bool,
        /// Grade yourself against the reference even when a model is available
        #[arg(long)]
        self_grade: bool,
        /// The mistake notebook's questions (graded below 3), due or not
        #[arg(long)]
        mistakes: bool,
    },
    /// A mock interview: questions from your weak and due topics, follow-ups on what your
    /// answers missed or got wrong, and a cited debrief
    Interview {
        /// Only this topic (repeatable), e.g. --topic t05
        #[arg(long = "topic", value_name = "ID")]
        topics: Vec<String>,
        #[arg(long, default_value_t = 20)]
        minutes: u32,
        /// The interviewer's language: zh or en [default: the questions' own]
        #[arg(long, value_parser = ["zh", "en"])]
        lang: Option<String>,
        /// Main questions at most [default: as many as the minutes allow]
        #[arg(long, value_name = "N")]
        questions: Option<usize>,
        /// Continue the interview left open (after a crash or Ctrl-C)
        #[arg(long, conflicts_with_all = ["topics", "lang", "questions"])]
        resume: bool,
        /// List past interviews
        #[arg(long, conflicts_with = "resume")]
        list: bool,
        /// Show an interview's debrief again
        #[arg(long, value_name = "ID", conflicts_with_all = ["resume", "list"])]
        show: Option<i64>,
    },
    /// The mistake notebook: questions graded below 3, what was wrong, and the passages that
    /// correct them (review them with `quiz --mistakes`, export with `export --mistakes`)
    Mistakes {
        #[arg(long)]
        json: bool,
    },
    /// A daily plan to your interview date from FSRS's predictions (saves the date)
    Plan {
        /// The interview date, e.g. 2027-01-15 [default: the saved one]
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Progress per topic, retention and the review forecast
    Stats {
        #[arg(long)]
        json: bool,
        /// Fit the FSRS parameters to your own review log first
        #[arg(long)]
        refit: bool,
    },
    /// Generate practice questions with answers from an imported paper or note
    Generate {
        /// File name or id of an imported document (see `studydesk docs`)
        doc: String,
        #[arg(long, default_value_t = 5)]
        count: usize,
        /// Language of the questions: zh or en [default: the passage's]
        #[arg(long, value_parser = ["zh", "en"])]
        lang: Option<String>,
    },
    /// List, edit or delete generated questions
    Questions {
        #[command(subcommand)]
        action: Option<QuestionsAction>,
    },
    /// Export the questions: `anki` (tab-separated notes) or `markdown`
    Export {
        #[arg(value_parser = ["anki", "markdown"])]
        format: String,
        file: PathBuf,
        /// Only this topic's bank questions (repeatable)
        #[arg(long = "topic", value_name = "ID")]
        topics: Vec<String>,
        /// The mistake notebook instead of the questions
        #[arg(long, conflicts_with = "topics")]
        mistakes: bool,
    },
    /// Store, check or delete the API key of the configured endpoint in the OS keyring
    Key {
        #[command(subcommand)]
        action: cli::keys::KeyAction,
        /// The endpoint [default: [llm] base_url in config.toml]
        #[arg(long, global = true)]
        base_url: Option<String>,
        /// The key of the Qdrant server in config.toml ([store] qdrant_url) instead
        #[arg(long, global = true, conflicts_with = "base_url")]
        store: bool,
    },
    /// Where the index lives (embedded engine or Qdrant server); copy it from one to the other
    Store {
        #[command(subcommand)]
        action: cli::store::StoreAction,
    },
    /// Serve the app's UI to a browser on 127.0.0.1 (prints the URL with its access token)
    Serve {
        /// The built UI (ui/dist)
        #[arg(long, env = "STUDYDESK_UI", default_value = "ui/dist")]
        ui: PathBuf,
        /// Port to listen on; 0 picks a free one
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Score retrieval on query files (query TAB expected): Recall@1/5/10 and MRR
    Eval {
        #[arg(required = true, value_name = "QUERIES_TSV")]
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value = "hybrid")]
        mode: Mode,
        /// Do not translate the queries with the model (the glossary still bridges languages)
        #[arg(long)]
        no_translate: bool,
    },
    /// Score the tutor's answers on sets of questions (question TAB paper TAB key facts):
    /// key-fact coverage, the expected paper cited, any citation, seconds per answer
    EvalAnswers {
        #[arg(required = true, value_name = "ANSWERS_TSV")]
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Print every answer with its citations
        #[arg(long)]
        show: bool,
    },
    /// Score the grading on sets of learner answers (card TAB good|partial|wrong TAB answer):
    /// band accuracy, good > partial > wrong per card, mean grade per band
    EvalGrades {
        #[arg(required = true, value_name = "GRADES_TSV")]
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Print what was found correct, missed and wrong in every answer
        #[arg(long)]
        show: bool,
    },
}

#[derive(Subcommand)]
enum QuestionsAction {
    /// List generated questions, of one document or all
    List {
        #[arg(long)]
        doc: Option<String>,
    },
    /// Change a generated question or its answer
    Edit {
        id: String,
        #[arg(long)]
        question: Option<String>,
        #[arg(long)]
        answer: Option<String>,
    },
    /// Delete a generated question with its review history
    Delete { id: String },
}

#[derive(Subcommand)]
enum ChatsAction {
    /// Print a conversation as Markdown
    Export { id: i64 },
}

#[derive(Subcommand)]
enum BankAction {
    /// Show one question with its points, e.g. `studydesk bank show t01-q001`
    Show {
        question_id: String,
        #[arg(long)]
        json: bool,
    },
    /// List the questions of one topic, e.g. `studydesk bank topic t05`
    Topic { topic_id: String },
}

fn main() {
    let cli = Cli::parse();
    if let Err(error) = run(cli) {
        let _ = writeln!(
            std::io::stderr(),
            "studydesk: {}",
            cli::errors::one_line(&error)
        );
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let paths = Paths::resolve(cli.data_dir.as_deref())?;
    // A typo in config.toml is reported whatever the command, not only by those that read it.
    let config = Config::load(&paths)?;
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Bank { json, action } => bank_command(&mut out, json, action)?,
        Command::Info => {
            writeln!(out, "data folder:  {}", paths.data_dir.display())?;
            writeln!(out, "config file:  {}", paths.config_file().display())?;
            writeln!(out, "cache folder: {}", paths.cache_dir.display())?;
            let plan = studydesk_app::model::plan(&config.llm, &paths.cache_dir);
            writeln!(out, "model:        {}", print::plan(&plan))?;
            write!(out, "{}", toml::to_string_pretty(&config)?)?;
        }
        Command::Import { paths: inputs } => {
            let app = open_app(&paths)?;
            let terminal = cli::Terminal::new();
            let report = app.import_paths(
                ImportPathsArgs {
                    paths: inputs.iter().map(|p| p.display().to_string()).collect(),
                },
                &terminal.call(),
            )?;
            terminal.finish();
            for file in &report.files {
                match file {
                    ImportedFile::Imported { doc, replaced } => {
                        let pages = doc
                            .pages
                            .map(|p| format!("{p} pages, "))
                            .unwrap_or_default();
                        let note = if *replaced > 0 {
                            " (replaced the earlier version)"
                        } else {
                            ""
                        };
                        writeln!(
                            out,
                            "imported  {}: {pages}{} passages{note}",
                            doc.file_name, doc.chunks
                        )?;
                    }
                    ImportedFile::Unchanged { doc } => {
                        writeln!(out, "unchanged {}: already imported", doc.file_name)?;
                    }
                    ImportedFile::Failed { error, .. } => {
                        eprintln!("failed    {}", cli::errors::with_hint(error));
                    }
                }
            }
            let failed = report.failed();
            if failed > 0 {
                anyhow::bail!(
                    "{failed} of {} files could not be imported (see above)",
                    report.files.len()
                );
            }
        }
        Command::Docs { json } => {
            let app = open_app(&paths)?;
            let docs = app.docs(NoArgs {}, &cli::quiet())?;
            if json {
                serde_json::to_writer_pretty(&mut out, &docs)?;
                writeln!(out)?;
            } else {
                print::docs(&mut out, &docs)?;
            }
        }
        Command::Remove { doc } => {
            let app = open_app(&paths)?;
            let removed = app.remove_doc(DocArgs { doc_id: doc }, &cli::quiet())?.doc;
            writeln!(
                out,
                "removed {} ({} passages)",
                removed.file_name, removed.chunks
            )?;
        }
        Command::Search {
            query,
            json,
            top_k,
            topic,
            source,
            mode,
            queries_file,
            no_translate,
        } => {
            let app = open_app(&paths)?;
            let source = source.map(|s| {
                if s == "bank" {
                    Source::Bank
                } else {
                    Source::Doc
                }
            });
            if let Some(file) = queries_file {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let queries: Vec<String> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect();
                let results = app.search_many(
                    SearchManyArgs {
                        queries: queries.clone(),
                        top_k: Some(top_k),
                        topic_id: topic,
                        source,
                        mode: Some(mode),
                        translate: translate_flag(no_translate),
                    },
                    &cli::quiet(),
                )?;
                for (query, hits) in queries.iter().zip(results) {
                    serde_json::to_writer(
                        &mut out,
                        &serde_json::json!({ "query": query, "hits": hits }),
                    )?;
                    writeln!(out)?;
                }
            } else {
                let query = query.context("give a query, or --queries-file")?;
                let search = |source: Option<Source>| {
                    app.search(
                        SearchArgs {
                            query: query.clone(),
                            top_k: Some(top_k),
                            topic_id: topic.clone(),
                            source,
                            mode: Some(mode),
                            translate: translate_flag(no_translate),
                        },
                        &cli::quiet(),
                    )
                };
                if source.is_some() {
                    let hits = search(source)?;
                    if json {
                        serde_json::to_writer_pretty(
                            &mut out,
                            &serde_json::json!({ "hits": hits }),
                        )?;
                        writeln!(out)?;
                    } else {
                        print::hits(&mut out, &hits)?;
                    }
                } else {
                    // Two lists: what the documents say, and the bank's questions on it (the
                    // query's translation and embedding are cached, so these cost little).
                    let docs = search(Some(Source::Doc))?;
                    let bank = search(Some(Source::Bank))?;
                    if json {
                        let hits = search(None)?;
                        serde_json::to_writer_pretty(
                            &mut out,
                            &serde_json::json!({ "docs": docs, "bank": bank, "hits": hits }),
                        )?;
                        writeln!(out)?;
                    } else {
                        writeln!(out, "Your documents:")?;
                        if docs.is_empty() {
                            writeln!(
                                out,
                                "    (none imported: `studydesk import <file-or-folder>`)"
                            )?;
                        }
                        print::hits(&mut out, &docs)?;
                        writeln!(out, "\nBank questions:")?;
                        print::hits(&mut out, &bank)?;
                    }
                }
            }
        }
        Command::Ask {
            question,
            topic,
            conversation,
        } => {
            let app = open_app(&paths)?;
            let terminal = cli::Terminal::interruptible();
            let result = app.ask(
                AskArgs {
                    question,
                    topic_id: topic,
                    conversation_id: conversation,
                },
                &terminal.call(),
            )?;
            print::answer_end(&mut out, &result.answer, app.off_reason())?;
            writeln!(
                out,
                "\n(conversation {id}: continue with `studydesk ask --conversation {id} \"…\"`)",
                id = result.conversation_id
            )?;
        }
        Command::Explain { question_id } => {
            let app = open_app(&paths)?;
            let terminal = cli::Terminal::interruptible();
            let result = app.explain(
                studydesk_app::QuestionArgs { question_id },
                &terminal.call(),
            )?;
            print::answer_end(&mut out, &result.answer, app.off_reason())?;
        }
        Command::Chats { action } => {
            let app = open_app(&paths)?;
            match action {
                None => {
                    print::conversations(&mut out, &app.conversations(NoArgs {}, &cli::quiet())?)?
                }
                Some(ChatsAction::Export { id }) => {
                    let export = app.export_conversation(ConversationArgs { id }, &cli::quiet())?;
                    write!(out, "{}", export.markdown)?;
                }
            }
        }
        Command::Quiz {
            topics,
            doc,
            new_cards,
            due,
            self_grade,
            mistakes,
        } => {
            let app = open_app(&paths)?;
            let args = SessionArgs {
                topics,
                doc_id: doc,
                new_cards,
                due_only: due,
                mistakes,
            };
            let stdin = std::io::stdin();
            cli::quiz::session(&app, args, self_grade, &mut stdin.lock(), &mut out)?;
        }
        Command::Interview {
            topics,
            minutes,
            lang,
            questions,
            resume,
            list,
            show,
        } => {
            let app = open_app(&paths)?;
            if list {
                for i in app.interviews(NoArgs {}, &cli::quiet())? {
                    writeln!(
                        out,
                        "{:>4}  {}  {} question{}  {}  {}",
                        i.id,
                        studydesk_engine::quiz::day_string(i.started_at),
                        i.questions,
                        if i.questions == 1 { "" } else { "s" },
                        i.score.map_or("-".into(), |s| format!("{s:.1}/5")),
                        if i.ended_at.is_none() { "(open)" } else { "" }
                    )?;
                }
                return Ok(());
            }
            if let Some(id) = show {
                let interview = app.interview(InterviewArgs { id }, &cli::quiet())?;
                match &interview.debrief {
                    Some(d) => cli::interview::print_debrief(&mut out, &interview, d)?,
                    None => writeln!(
                        out,
                        "interview {id} is still open: `studydesk interview --resume`"
                    )?,
                }
                return Ok(());
            }
            let start = (!resume).then(|| InterviewStartArgs {
                topics,
                minutes: Some(minutes),
                lang: lang.map(|l| if l == "zh" { Lang::Zh } else { Lang::En }),
                max_questions: questions,
            });
            let stdin = std::io::stdin();
            cli::interview::run(&app, start, &mut stdin.lock(), &mut out)?;
        }
        Command::Mistakes { json } => {
            let app = open_app(&paths)?;
            let mistakes = app.mistakes(NoArgs {}, &cli::quiet())?;
            if json {
                serde_json::to_writer(&mut out, &mistakes)?;
                writeln!(out)?;
            } else {
                cli::print::mistakes(&mut out, &mistakes)?;
            }
        }
        Command::Plan { date, json } => {
            let app = open_app(&paths)?;
            let plan = app.plan(
                PlanArgs {
                    date: date.clone(),
                    topics: Vec::new(),
                },
                &cli::quiet(),
            )?;
            if let Some(date) = date {
                let mut config = app.config();
                config.quiz.interview_date = Some(date);
                app.save_settings(
                    SettingsArgs {
                        config,
                        api_key: None,
                    },
                    &cli::quiet(),
                )?;
            }
            if json {
                serde_json::to_writer(&mut out, &plan)?;
                writeln!(out)?;
            } else {
                cli::print::study_plan(&mut out, &plan)?;
            }
        }
        Command::Stats { json, refit } => {
            let app = open_app(&paths)?;
            if refit {
                let fit = app.refit(NoArgs {}, &cli::quiet())?;
                match fit.items {
                    Some(items) => eprintln!("fitted FSRS parameters on {items} items"),
                    None => eprintln!(
                        "not enough reviews yet to fit FSRS parameters (needs {} reviews that follow an earlier one by a day or more); keeping the defaults",
                        fit.needed
                    ),
                }
            }
            let stats = app.stats(NoArgs {}, &cli::quiet())?;
            if json {
                serde_json::to_writer(&mut out, &stats)?;
                writeln!(out)?;
            } else {
                print::stats(&mut out, &stats)?;
            }
        }
        Command::Generate { doc, count, lang } => {
            let app = open_app(&paths)?;
            let terminal = cli::Terminal::interruptible();
            let report = app.generate(
                GenerateArgs {
                    doc_id: doc,
                    count: Some(count),
                    lang: lang.as_deref().and_then(Lang::parse),
                },
                &terminal.call(),
            )?;
            print::generate_report(&mut out, &report)?;
        }
        Command::Questions { action } => {
            let app = open_app(&paths)?;
            match action.unwrap_or(QuestionsAction::List { doc: None }) {
                QuestionsAction::List { doc } => {
                    let questions = app.generated(GeneratedArgs { doc_id: doc }, &cli::quiet())?;
                    print::generated(&mut out, &questions)?;
                }
                QuestionsAction::Edit {
                    id,
                    question,
                    answer,
                } => {
                    let edited = app.edit_generated(
                        EditGeneratedArgs {
                            id,
                            question,
                            answer,
                        },
                        &cli::quiet(),
                    )?;
                    writeln!(out, "updated {}", edited.id)?;
                }
                QuestionsAction::Delete { id } => {
                    let deleted = app.delete_generated(IdArgs { id }, &cli::quiet())?;
                    writeln!(out, "deleted {}", deleted.id)?;
                }
            }
        }
        Command::Export {
            format,
            file,
            topics,
            mistakes,
        } => {
            let app = open_app(&paths)?;
            let format = if format == "anki" {
                ExportFormat::Anki
            } else {
                ExportFormat::Markdown
            };
            let export = app.export_cards(
                ExportArgs {
                    format,
                    topics,
                    mistakes,
                },
                &cli::quiet(),
            )?;
            if export.cards == 0 {
                anyhow::bail!(if mistakes {
                    "nothing to export: the mistake notebook is empty"
                } else {
                    "nothing to export: no question matches"
                });
            }
            std::fs::write(&file, &export.text)
                .with_context(|| format!("cannot write {}", file.display()))?;
            writeln!(
                out,
                "wrote {} questions to {}{}",
                export.cards,
                file.display(),
                if format == ExportFormat::Anki {
                    " (Anki: File → Import; the headers map the fields)"
                } else {
                    ""
                }
            )?;
        }
        Command::Key {
            action,
            base_url,
            store,
        } => {
            cli::keys::run(&mut out, &config, action, base_url, store)?;
        }
        Command::Store { action } => {
            let cancel = cli::ctrl_c_cancels();
            cli::store::run(&mut out, &paths, &config, action, &cancel)?;
        }
        Command::Serve { ui, port } => {
            let app = App::open(paths)?;
            serve::run(app, ui, port, |url| {
                println!("StudyDesk is serving on {url}");
                let _ = std::io::stdout().flush();
            })?;
        }
        Command::Eval {
            files,
            json,
            mode,
            no_translate,
        } => {
            let app = open_app(&paths)?;
            let report = cli::eval::retrieval(&app, &files, mode, translate_flag(no_translate))?;
            if json {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            } else {
                cli::eval::print_retrieval(&mut out, &report)?;
            }
        }
        Command::EvalAnswers { files, json, show } => {
            let app = open_app(&paths)?;
            let report = cli::eval::answers(&app, &files)?;
            if json {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            } else {
                cli::eval::print_answers(&mut out, &report, show)?;
            }
        }
        Command::EvalGrades { files, json, show } => {
            let app = open_app(&paths)?;
            let report = cli::eval::grades(&app, &files)?;
            if json {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            } else {
                cli::eval::print_grades(&mut out, &report, show)?;
            }
        }
    }
    Ok(())
}

/// `--no-translate` turns translation off; otherwise the app's default (on with a model).
fn translate_flag(no_translate: bool) -> Option<bool> {
    no_translate.then_some(false)
}

/// Opens the app on the data folder, indexing the built-in bank first if it is not indexed
/// yet (with a progress bar).
fn open_app(paths: &Paths) -> Result<App> {
    paths.ensure_data_dir()?;
    let app = App::open(paths.clone())?;
    let terminal = cli::Terminal::new();
    app.index_bank(NoArgs {}, &terminal.call())?;
    terminal.finish();
    Ok(app)
}

fn bank_command(out: &mut impl Write, json: bool, action: Option<BankAction>) -> Result<()> {
    let bank = Bank::builtin();
    match action {
        None if json => {
            serde_json::to_writer_pretty(&mut *out, bank)?;
            writeln!(out)?;
        }
        None => {
            let total: usize = bank.topics.iter().map(|t| t.questions.len()).sum();
            writeln!(
                out,
                "{} — {} topics, {total} questions",
                bank.title,
                bank.topics.len()
            )?;
            for topic in &bank.topics {
                writeln!(
                    out,
                    "{:>4}  {:>3}  {}",
                    topic.id,
                    topic.questions.len(),
                    topic.title
                )?;
            }
        }
        Some(BankAction::Show { question_id, json }) => {
            let question = bank.question(&question_id)?;
            if json {
                serde_json::to_writer_pretty(&mut *out, question)?;
                writeln!(out)?;
            } else {
                let topic = bank.topic(&question.topic_id)?;
                print_question(out, &topic.title, question)?;
            }
        }
        Some(BankAction::Topic { topic_id }) => {
            let topic = bank.topic(&topic_id)?;
            writeln!(out, "{}  {}", topic.id, topic.title)?;
            let mut subsection = None;
            for q in &topic.questions {
                if q.subsection != subsection {
                    subsection.clone_from(&q.subsection);
                    writeln!(out, "\n  {}", q.subsection.as_deref().unwrap_or(""))?;
                }
                writeln!(out, "  {:<10} {}. {}", q.id, q.number, q.text)?;
            }
        }
    }
    Ok(())
}

fn print_question(out: &mut impl Write, topic_title: &str, q: &Question) -> Result<()> {
    writeln!(
        out,
        "{}  ({topic_title}{})",
        q.id,
        q.subsection
            .as_deref()
            .map(|s| format!(" / {s}"))
            .unwrap_or_default()
    )?;
    writeln!(out, "{}. {}", q.number, q.text)?;
    for point in &q.points {
        writeln!(out, "   - {point}")?;
    }
    Ok(())
}
