//! `studydesk`: the command-line face of the StudyDesk core.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use studydesk::bank::{Bank, Question};
use studydesk::config::{Config, Paths};

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
    }
    Ok(())
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
