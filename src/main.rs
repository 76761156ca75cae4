//! `studydesk`: the command-line face of the StudyDesk core.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::sync::atomic::AtomicBool;
use studydesk::bank::{Bank, Question};
use studydesk::config::{Config, Paths};
use studydesk::library::{ImportOutcome, Library};
use studydesk::llm::Backend;
use studydesk::quiz::generate::GenerateOptions;
use studydesk::quiz::{Quiz, SessionOptions};
use studydesk::retrieve::SearchOptions;
use studydesk::store::{Mode, Source};
use studydesk::tutor::{self, Tutor};

mod progress;
mod quiz_cli;
mod serve;
mod store_cli;

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
    /// Show where StudyDesk keeps its data and the settings in force
    Info,
    /// Import PDFs, Markdown and text notes (files or folders) into the library
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
    /// Search the bank and your documents
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
    },
    /// Store, check or delete the API key of the configured endpoint in the OS keyring
    Key {
        #[command(subcommand)]
        action: KeyAction,
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
        action: store_cli::StoreAction,
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
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Store the key, read from standard input (not echoed on a terminal)
    Set,
    /// Whether a key is stored
    Status,
    /// Delete the stored key
    Delete,
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
        // One clear line: the chain of causes, outermost first.
        let _ = writeln!(std::io::stderr(), "studydesk: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let paths = Paths::resolve(cli.data_dir.as_deref())?;
    let config = Config::load(&paths)?;
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Bank { json, action } => bank_command(&mut out, json, action)?,
        Command::Info => {
            writeln!(out, "data folder:  {}", paths.data_dir.display())?;
            writeln!(out, "config file:  {}", paths.config_file().display())?;
            writeln!(out, "cache folder: {}", paths.cache_dir.display())?;
            write!(out, "{}", toml::to_string_pretty(&config)?)?;
        }
        Command::Import { paths: inputs } => {
            let library = open_library(&paths)?;
            let progress = progress::Bars::new();
            let results = library.import_paths(&inputs, &progress);
            progress.finish();
            let mut failed = 0;
            for (_, result) in &results {
                match result {
                    Ok(ImportOutcome::Imported { doc, replaced }) => {
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
                    Ok(ImportOutcome::Unchanged { doc }) => {
                        writeln!(out, "unchanged {}: already imported", doc.file_name)?;
                    }
                    Err(error) => {
                        failed += 1;
                        eprintln!("failed    {error}");
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!(
                    "{failed} of {} files could not be imported (see above)",
                    results.len()
                );
            }
        }
        Command::Docs { json } => {
            let library = open_library(&paths)?;
            let docs = library.docs()?;
            if json {
                serde_json::to_writer_pretty(&mut out, &docs)?;
                writeln!(out)?;
            } else if docs.is_empty() {
                writeln!(out, "no documents yet: `studydesk import <file-or-folder>`")?;
            } else {
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
            }
        }
        Command::Remove { doc } => {
            let library = open_library(&paths)?;
            let removed = library.remove(&doc)?;
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
        } => {
            let library = open_library(&paths)?;
            let options = SearchOptions {
                top_k,
                topic_id: topic,
                source: source.map(|s| {
                    if s == "bank" {
                        Source::Bank
                    } else {
                        Source::Doc
                    }
                }),
                mode,
                doc_id: None,
            };
            if let Some(file) = queries_file {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let queries: Vec<String> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect();
                for (query, hits) in queries.iter().zip(library.search_many(&queries, &options)?) {
                    serde_json::to_writer(
                        &mut out,
                        &serde_json::json!({ "query": query, "hits": hits }),
                    )?;
                    writeln!(out)?;
                }
            } else {
                let query = query.context("give a query, or --queries-file")?;
                let hits = library.search(&query, &options)?;
                if json {
                    serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "hits": hits }))?;
                    writeln!(out)?;
                } else {
                    for hit in hits {
                        let place = match (&hit.question_id, &hit.doc) {
                            (Some(id), _) => format!("bank {id}"),
                            (None, Some(doc)) => match hit.page {
                                Some(p) => format!("{doc} p.{p}"),
                                None => doc.clone(),
                            },
                            _ => String::new(),
                        };
                        let snippet: String =
                            hit.text.replace('\n', " ").chars().take(160).collect();
                        writeln!(out, "{:>2}. [{place}] {snippet}", hit.rank)?;
                    }
                }
            }
        }
        Command::Ask {
            question,
            topic,
            conversation,
        } => {
            let library = open_library(&paths)?;
            if let Some(topic) = &topic {
                Bank::builtin().topic(topic)?;
            }
            let history = match conversation {
                Some(id) => {
                    library
                        .records()
                        .conversation(id)?
                        .with_context(|| format!("no conversation {id} (see `studydesk chats`)"))?;
                    tutor::history(&library, id)?
                }
                None => Vec::new(),
            };
            let backend = connect_llm(&paths, &config)?;
            let tutor = Tutor::new(&library, backend.client());
            let cancel = interrupt_flag();
            let answer = tutor.ask(
                &question,
                &history,
                topic.as_deref(),
                &cancel,
                &mut |piece| {
                    print!("{piece}");
                    let _ = std::io::stdout().flush();
                },
            )?;
            let id = tutor::record_exchange(
                &library,
                conversation,
                topic.as_deref(),
                &question,
                &answer,
            )?;
            print_sources(&mut out, &answer, &backend)?;
            writeln!(
                out,
                "\n(conversation {id}: continue with `studydesk ask --conversation {id} \"…\"`)"
            )?;
        }
        Command::Explain { question_id } => {
            let library = open_library(&paths)?;
            let backend = connect_llm(&paths, &config)?;
            let tutor = Tutor::new(&library, backend.client());
            let cancel = interrupt_flag();
            let answer = tutor.explain(&question_id, &cancel, &mut |piece| {
                print!("{piece}");
                let _ = std::io::stdout().flush();
            })?;
            print_sources(&mut out, &answer, &backend)?;
        }
        Command::Chats { action } => {
            let library = open_library(&paths)?;
            match action {
                None => {
                    let chats = library.records().conversations()?;
                    if chats.is_empty() {
                        writeln!(out, "no conversations yet: `studydesk ask \"…\"`")?;
                    }
                    for c in chats {
                        let topic = c.topic_id.unwrap_or_else(|| "-".into());
                        writeln!(
                            out,
                            "{:>4}  {}  {topic:>4}  {:>3} messages  {}",
                            c.id, c.created_at, c.messages, c.title
                        )?;
                    }
                }
                Some(ChatsAction::Export { id }) => {
                    let markdown = tutor::export_markdown(&library, id)?
                        .with_context(|| format!("no conversation {id} (see `studydesk chats`)"))?;
                    write!(out, "{markdown}")?;
                }
            }
        }
        Command::Quiz {
            topics,
            doc,
            new_cards,
            due,
            self_grade,
        } => {
            let library = open_library(&paths)?;
            let quiz = Quiz::open(&library, &config.quiz)?;
            let doc_id = doc.map(|d| library.find_doc(&d)).transpose()?.map(|d| d.id);
            let backend = if self_grade {
                Backend::Off("self-grading was asked for".into())
            } else {
                connect_llm(&paths, &config)?
            };
            let options = SessionOptions {
                topics,
                doc_id,
                new_cards: new_cards.unwrap_or(config.quiz.new_cards),
                due_only: due,
            };
            let stdin = std::io::stdin();
            quiz_cli::session(
                &quiz,
                backend.client(),
                &options,
                &mut stdin.lock(),
                &mut out,
            )?;
        }
        Command::Stats { json, refit } => {
            let library = open_library(&paths)?;
            let mut quiz = Quiz::open(&library, &config.quiz)?;
            if refit {
                match quiz.refit(&config.quiz)? {
                    Some(items) => eprintln!("fitted FSRS parameters on {items} items"),
                    None => eprintln!(
                        "not enough reviews yet to fit FSRS parameters (needs {} reviews that follow an earlier one by a day or more); keeping the defaults",
                        studydesk::quiz::schedule::MIN_TRAINING_ITEMS
                    ),
                }
            }
            quiz_cli::stats(&mut out, &quiz, json)?;
        }
        Command::Generate { doc, count, lang } => {
            let library = open_library(&paths)?;
            let backend = connect_llm(&paths, &config)?;
            let cancel = interrupt_flag();
            let options = GenerateOptions {
                count,
                lang,
                seed: None,
            };
            quiz_cli::generate(&mut out, &library, &backend, &doc, &options, &cancel)?;
        }
        Command::Questions { action } => {
            let library = open_library(&paths)?;
            let quiz = Quiz::open(&library, &config.quiz)?;
            match action.unwrap_or(QuestionsAction::List { doc: None }) {
                QuestionsAction::List { doc } => {
                    let doc_id = doc.map(|d| library.find_doc(&d)).transpose()?.map(|d| d.id);
                    quiz_cli::list_generated(&mut out, &quiz, doc_id.as_deref())?;
                }
                QuestionsAction::Edit {
                    id,
                    question,
                    answer,
                } => {
                    if question.is_none() && answer.is_none() {
                        anyhow::bail!("give --question and/or --answer");
                    }
                    quiz.edit_generated(&id, question.as_deref(), answer.as_deref())?;
                    writeln!(out, "updated {id}")?;
                }
                QuestionsAction::Delete { id } => {
                    quiz.delete_generated(&id)?;
                    writeln!(out, "deleted {id}")?;
                }
            }
        }
        Command::Export {
            format,
            file,
            topics,
        } => {
            let library = open_library(&paths)?;
            for topic in &topics {
                Bank::builtin().topic(topic)?;
            }
            let quiz = Quiz::open(&library, &config.quiz)?;
            quiz_cli::export(&mut out, &quiz, &format, &file, &topics)?;
        }
        Command::Key {
            action,
            base_url,
            store,
        } => {
            use studydesk::keys;
            let base_url = if store {
                match &config.store {
                    studydesk::config::StoreConfig::Server(server) => server.qdrant_url.clone(),
                    studydesk::config::StoreConfig::Embedded => anyhow::bail!(
                        "config.toml names no Qdrant server (store = {{ qdrant_url = \"…\" }}); give --base-url URL for another one"
                    ),
                }
            } else {
                base_url
                    .or(config.llm.base_url.clone())
                    .context("no endpoint: give --base-url, or set [llm] base_url in config.toml")?
            };
            match action {
                KeyAction::Set => {
                    let key = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                        rpassword::prompt_password(format!("API key for {base_url}: "))?
                    } else {
                        let mut line = String::new();
                        std::io::stdin().read_line(&mut line)?;
                        line
                    };
                    keys::store(&base_url, &key)?;
                    writeln!(out, "stored the API key for {base_url} in the OS keyring")?;
                }
                KeyAction::Status => match keys::load(&base_url)? {
                    Some(_) => writeln!(out, "an API key for {base_url} is stored")?,
                    None => writeln!(out, "no API key stored for {base_url}")?,
                },
                KeyAction::Delete => {
                    if keys::delete(&base_url)? {
                        writeln!(out, "deleted the API key for {base_url}")?;
                    } else {
                        writeln!(out, "no API key was stored for {base_url}")?;
                    }
                }
            }
        }
        Command::Store { action } => {
            let cancel = interrupt_flag();
            store_cli::run(&mut out, &paths, &config, action, &cancel)?;
        }
        Command::Serve { ui, port } => {
            let app = studydesk::app::App::open(paths)?;
            serve::run(app, ui, port, |url| {
                println!("StudyDesk is serving on {url}");
                let _ = std::io::stdout().flush();
            })?;
        }
        Command::Eval { files, json, mode } => {
            let library = open_library(&paths)?;
            let report = eval_files(&library, &files, mode)?;
            if json {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            } else {
                for (name, s) in report
                    .files
                    .iter()
                    .map(|f| (f.file.as_str(), &f.scores))
                    .chain([("overall", &report.overall)])
                {
                    writeln!(
                        out,
                        "{name:<28} queries {:>3}  R@1 {:.3}  R@5 {:.3}  R@10 {:.3}  MRR {:.3}",
                        s.queries, s.recall_at_1, s.recall_at_5, s.recall_at_10, s.mrr
                    )?;
                }
                for miss in &report.misses {
                    writeln!(out, "  missed@5: {miss}")?;
                }
            }
        }
    }
    Ok(())
}

fn connect_llm(paths: &Paths, config: &Config) -> Result<Backend> {
    let log = paths.data_dir.join("llama-server.log");
    if config.llm.base_url.is_none()
        && config.llm.enabled
        && studydesk::llm::local::LocalServer::provisioned(&paths.cache_dir).is_some()
    {
        eprintln!("starting the local model…");
    }
    Ok(Backend::connect(&config.llm, &paths.cache_dir, &log)?)
}

/// Ctrl-C stops a streamed answer cleanly (the server stops generating); a second Ctrl-C
/// ends the process as usual.
fn interrupt_flag() -> std::sync::Arc<AtomicBool> {
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if handler_flag.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    flag
}

fn print_sources(out: &mut impl Write, answer: &tutor::Answer, backend: &Backend) -> Result<()> {
    if let Backend::Off(reason) = backend {
        writeln!(
            out,
            "Generation is off: {reason}.\nThe passages that answer it best:"
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
    writeln!(out, "\nSources:")?;
    for c in &answer.citations {
        let snippet: String = c.hit.text.replace('\n', " ").chars().take(120).collect();
        writeln!(out, "[{}] {}  {snippet}", c.n, c.label)?;
    }
    Ok(())
}

/// Opens the library, indexing the built-in bank first if it is not indexed yet.
fn open_library(paths: &Paths) -> Result<Library> {
    paths.ensure_data_dir()?;
    let library = Library::open(paths)?;
    let progress = progress::Bars::new();
    library.ensure_bank_indexed(&progress)?;
    progress.finish();
    Ok(library)
}

#[derive(serde::Serialize)]
struct EvalReport {
    #[serde(flatten)]
    overall: studydesk::eval::Scores,
    files: Vec<FileScores>,
    #[serde(skip)]
    misses: Vec<String>,
}

#[derive(serde::Serialize)]
struct FileScores {
    file: String,
    #[serde(flatten)]
    scores: studydesk::eval::Scores,
}

fn eval_files(library: &Library, files: &[PathBuf], mode: Mode) -> Result<EvalReport> {
    let options = SearchOptions {
        top_k: studydesk::eval::DEPTH,
        mode,
        ..SearchOptions::default()
    };
    let mut all_ranks = Vec::new();
    let mut per_file = Vec::new();
    let mut misses = Vec::new();
    for file in files {
        let queries = studydesk::eval::load(file, Bank::builtin())?;
        let texts: Vec<String> = queries.iter().map(|q| q.query.clone()).collect();
        let results = library.search_many(&texts, &options)?;
        let ranks: Vec<Option<usize>> = queries
            .iter()
            .zip(&results)
            .map(|(q, hits)| studydesk::eval::first_relevant(q, hits))
            .collect();
        for (q, rank) in queries.iter().zip(&ranks) {
            if !rank.is_some_and(|r| r <= 5) {
                misses.push(format!(
                    "{} -> {} (rank {})",
                    q.query,
                    q.expected_text,
                    rank.map_or("-".into(), |r| r.to_string())
                ));
            }
        }
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        per_file.push(FileScores {
            file: name,
            scores: studydesk::eval::Scores::from_ranks(&ranks),
        });
        all_ranks.extend(ranks);
    }
    Ok(EvalReport {
        overall: studydesk::eval::Scores::from_ranks(&all_ranks),
        files: per_file,
        misses,
    })
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
