//! Every command the UIs and the CLI can give, with its argument and result types: one table,
//! from which the `Command` enum, the dispatch to [`App`](crate::App)'s methods and the UI's
//! TypeScript command table (`ui/src/bindings/Commands.ts`) are all generated, so the three
//! cannot drift apart.

use serde::Deserialize;
use serde_json::Value;
use ts_rs::TS;

use studydesk_engine::database::{ConversationSummary, DocRecord};
use studydesk_engine::quiz::generate::GenerateReport;
use studydesk_engine::quiz::grade::Grading;
use studydesk_engine::quiz::interview::{Interview, InterviewSummary};
use studydesk_engine::quiz::mistakes::Mistake;
use studydesk_engine::quiz::plan::Plan;
use studydesk_engine::quiz::{CardState, GeneratedQuestion, Rating, Stats, TopicProgress};
use studydesk_engine::retrieve::SearchHit;
use studydesk_engine::store::{Mode, Source};
use studydesk_engine::{Lang, config::Config};

use crate::error::AppError;
use crate::events::Call;
use crate::views::*;

/// A command's types, for the UI's command table.
#[derive(TS)]
pub struct CommandTypes<A, R> {
    pub args: A,
    pub result: R,
}

macro_rules! commands {
    ($( $(#[doc = $doc:literal])* $name:ident => $variant:ident($args:ty) -> $result:ty; )*) => {
        /// A command with its arguments, as the shells receive it: `{"command": "ask",
        /// "args": {…}}`.
        #[derive(Debug, Deserialize)]
        #[serde(tag = "command", content = "args", rename_all = "snake_case")]
        pub enum Command {
            $( $(#[doc = $doc])* $variant($args), )*
        }

        impl Command {
            /// Every command's name, as the UIs send it.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            pub fn name(&self) -> &'static str {
                match self {
                    $( Command::$variant(_) => stringify!($name), )*
                }
            }
        }

        /// The command table the UI is typed against: each command's arguments and result.
        #[derive(TS)]
        #[ts(export)]
        #[allow(dead_code)]
        pub struct Commands {
            $( $name: CommandTypes<$args, $result>, )*
        }

        impl crate::App {
            /// Runs a command and returns its result as JSON (for the shells that only pass
            /// JSON through).
            pub fn call(&self, command: Command, call: &Call<'_>) -> Result<Value, AppError> {
                Ok(match command {
                    $( Command::$variant(args) => to_json(self.$name(args, call)?), )*
                })
            }
        }
    };
}

fn to_json<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Command {
    /// Reads a command sent by name with JSON arguments (null or absent means none).
    pub fn parse(name: &str, args: Value) -> Result<Command, AppError> {
        if !Command::NAMES.contains(&name) {
            return Err(AppError::UnknownCommand(name.to_string()));
        }
        let args = if args.is_null() {
            Value::Object(Default::default())
        } else {
            args
        };
        serde_json::from_value(serde_json::json!({ "command": name, "args": args })).map_err(|e| {
            AppError::BadArguments {
                command: name.to_string(),
                message: e.to_string(),
            }
        })
    }
}

commands! {
    /// What the app has and where; never waits for the model.
    status => Status(NoArgs) -> Status;
    /// Indexes the built-in bank unless it is indexed already (progress events).
    index_bank => IndexBank(NoArgs) -> IndexResult;
    topics => Topics(NoArgs) -> Vec<TopicProgress>;
    topic => Topic(TopicArgs) -> TopicView;
    question => Question(QuestionArgs) -> QuestionView;
    search => Search(SearchArgs) -> Vec<SearchHit>;
    /// Many queries at once (embedded together, much faster than one by one).
    search_many => SearchMany(SearchManyArgs) -> Vec<Vec<SearchHit>>;
    /// A streamed answer (token events) from the retrieved passages, with checked citations.
    ask => Ask(AskArgs) -> AskResult;
    /// A structured explanation of one bank question.
    explain => Explain(QuestionArgs) -> AskResult;
    conversations => Conversations(NoArgs) -> Vec<ConversationSummary>;
    conversation => Conversation(ConversationArgs) -> ConversationView;
    export_conversation => ExportConversation(ConversationArgs) -> MarkdownExport;
    docs => Docs(NoArgs) -> Vec<DocRecord>;
    /// A file sent by the UI (base64), kept in the data folder and imported.
    import_file => ImportFile(ImportFileArgs) -> DocResult;
    /// Files and folders on this computer, imported one by one (progress events).
    import_paths => ImportPaths(ImportPathsArgs) -> ImportReport;
    remove_doc => RemoveDoc(DocArgs) -> DocResult;
    reindex_doc => ReindexDoc(DocArgs) -> DocResult;
    /// A PDF page as PNG, with the boxes of a passage to highlight.
    page_image => PageImage(PageArgs) -> PageView;
    quiz_session => QuizSession(SessionArgs) -> Vec<SessionCard>;
    grade => Grade(GradeArgs) -> Grading;
    review => Review(ReviewArgs) -> CardState;
    stats => Stats(NoArgs) -> Stats;
    /// Fits the FSRS parameters to the learner's own review log.
    refit => Refit(NoArgs) -> RefitResult;
    /// Practice questions from a document (generate events).
    generate => Generate(GenerateArgs) -> GenerateReport;
    generated => Generated(GeneratedArgs) -> Vec<GeneratedQuestion>;
    edit_generated => EditGenerated(EditGeneratedArgs) -> GeneratedQuestion;
    delete_generated => DeleteGenerated(IdArgs) -> Deleted;
    /// The review pool (or the mistake notebook) as Anki's tab-separated text or as Markdown.
    export_cards => ExportCards(ExportArgs) -> ExportText;
    /// Questions whose latest graded answer scored below 3, with what corrects them.
    mistakes => Mistakes(NoArgs) -> Vec<Mistake>;
    /// The daily plan to the interview date (the settings' unless given).
    plan => Plan(PlanArgs) -> Plan;
    /// Starts a mock interview and asks its first question.
    interview_start => InterviewStart(InterviewStartArgs) -> Interview;
    /// Grades the answer to the waiting question and asks the next (a follow-up or a new
    /// question), or ends the interview with its debrief.
    interview_answer => InterviewAnswer(InterviewAnswerArgs) -> Interview;
    /// Ends an interview now and writes its debrief.
    interview_finish => InterviewFinish(InterviewArgs) -> Interview;
    interview => Interview(InterviewArgs) -> Interview;
    interviews => Interviews(NoArgs) -> Vec<InterviewSummary>;
    settings => Settings(NoArgs) -> SettingsView;
    save_settings => SaveSettings(SettingsArgs) -> SettingsView;
}

/// No arguments.
#[derive(Debug, Default, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct TopicArgs {
    pub topic_id: String,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct QuestionArgs {
    pub question_id: String,
}

#[derive(Debug, Default, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    pub query: String,
    #[serde(default)]
    #[ts(optional)]
    pub top_k: Option<usize>,
    /// Only this topic's bank items (documents are still searched).
    #[serde(default)]
    #[ts(optional)]
    pub topic_id: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub source: Option<Source>,
    #[serde(default)]
    #[ts(optional)]
    pub mode: Option<Mode>,
    /// Also search with the query translated by the model into the other language (Chinese
    /// ↔ English) [default: when a model is configured; translations are cached].
    #[serde(default)]
    #[ts(optional)]
    pub translate: Option<bool>,
}

#[derive(Debug, Default, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct SearchManyArgs {
    pub queries: Vec<String>,
    #[serde(default)]
    #[ts(optional)]
    pub top_k: Option<usize>,
    #[serde(default)]
    #[ts(optional)]
    pub topic_id: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub source: Option<Source>,
    #[serde(default)]
    #[ts(optional)]
    pub mode: Option<Mode>,
    /// Also search with the query translated by the model into the other language (Chinese
    /// ↔ English) [default: when a model is configured; translations are cached].
    #[serde(default)]
    #[ts(optional)]
    pub translate: Option<bool>,
}

#[derive(Debug, Default, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct AskArgs {
    pub question: String,
    #[serde(default)]
    #[ts(optional)]
    pub topic_id: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub conversation_id: Option<i64>,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ConversationArgs {
    pub id: i64,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct IdArgs {
    pub id: String,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ImportFileArgs {
    pub name: String,
    pub data_base64: String,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ImportPathsArgs {
    pub paths: Vec<String>,
}

/// A document by id (or id prefix), file name or path.
#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct DocArgs {
    pub doc_id: String,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct PageArgs {
    pub doc_id: String,
    pub page: u32,
    /// A passage's text, to find and box on the page.
    #[serde(default)]
    #[ts(optional)]
    pub highlight: Option<String>,
}

#[derive(Debug, Default, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct SessionArgs {
    /// Bank topics (and "generated"); none means every topic.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Only the questions generated from this document.
    #[serde(default)]
    #[ts(optional)]
    pub doc_id: Option<String>,
    /// New questions after the due ones [default: the quiz settings].
    #[serde(default)]
    #[ts(optional)]
    pub new_cards: Option<usize>,
    #[serde(default)]
    pub due_only: bool,
    /// The mistake notebook's questions, due or not.
    #[serde(default)]
    pub mistakes: bool,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct GradeArgs {
    pub card_id: String,
    pub answer: String,
    /// Show the reference for the learner to grade themselves, even with a model.
    #[serde(default)]
    pub self_grade: bool,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ReviewArgs {
    pub card_id: String,
    pub rating: Rating,
    /// The grade 0–5, when a model graded the answer.
    #[serde(default)]
    #[ts(optional)]
    pub grade: Option<u8>,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    #[ts(optional)]
    pub duration_ms: Option<u64>,
    /// The grading the answer got (kept for the mistake notebook).
    #[serde(default)]
    #[ts(optional)]
    pub grading: Option<Grading>,
}

#[derive(Debug, Default, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct PlanArgs {
    /// "YYYY-MM-DD" [default: the settings' interview date].
    #[serde(default)]
    #[ts(optional)]
    pub date: Option<String>,
    /// Only these topics; none means the whole bank.
    #[serde(default)]
    pub topics: Vec<String>,
}

#[derive(Debug, Default, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct InterviewStartArgs {
    /// Bank topics; none means all.
    #[serde(default)]
    pub topics: Vec<String>,
    /// No new question after this many minutes [default: 20].
    #[serde(default)]
    #[ts(optional)]
    pub minutes: Option<u32>,
    /// The interviewer's language [default: the questions' own].
    #[serde(default)]
    #[ts(optional)]
    pub lang: Option<Lang>,
    /// Main questions at most [default: as many as time allows].
    #[serde(default)]
    #[ts(optional)]
    pub max_questions: Option<usize>,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct InterviewAnswerArgs {
    pub id: i64,
    pub answer: String,
    #[serde(default)]
    #[ts(optional)]
    pub duration_ms: Option<u64>,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct InterviewArgs {
    pub id: i64,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct GenerateArgs {
    pub doc_id: String,
    #[serde(default)]
    #[ts(optional)]
    pub count: Option<usize>,
    /// The questions' language [default: each passage's].
    #[serde(default)]
    #[ts(optional)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Default, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct GeneratedArgs {
    #[serde(default)]
    #[ts(optional)]
    pub doc_id: Option<String>,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct EditGeneratedArgs {
    pub id: String,
    #[serde(default)]
    #[ts(optional)]
    pub question: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub answer: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Anki,
    Markdown,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct ExportArgs {
    pub format: ExportFormat,
    /// Only these topics' bank questions; none means the whole pool.
    #[serde(default)]
    pub topics: Vec<String>,
    /// The mistake notebook instead of the pool.
    #[serde(default)]
    pub mistakes: bool,
}

#[derive(Debug, Deserialize, TS)]
#[ts(export)]
#[serde(deny_unknown_fields)]
pub struct SettingsArgs {
    pub config: Config,
    /// A new API key for the configured endpoint; it goes to the OS keyring.
    #[serde(default)]
    #[ts(optional)]
    pub api_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_name_reads_back_as_its_command() {
        for name in Command::NAMES {
            // Arguments aside, the name must select its own variant.
            match Command::parse(name, Value::Null) {
                Ok(command) => assert_eq!(command.name(), *name),
                Err(AppError::BadArguments { command, .. }) => assert_eq!(command, *name),
                Err(other) => panic!("{name}: {other}"),
            }
        }
    }

    #[test]
    fn unknown_commands_and_fields_are_refused() {
        assert!(matches!(
            Command::parse("format_disk", Value::Null),
            Err(AppError::UnknownCommand(_))
        ));
        let error =
            Command::parse("search", serde_json::json!({"query": "rope", "topk": 3})).unwrap_err();
        assert!(error.to_string().contains("topk"), "{error}");
        let error = Command::parse("status", serde_json::json!({"verbose": true})).unwrap_err();
        assert!(matches!(error, AppError::BadArguments { .. }), "{error}");
    }
}
