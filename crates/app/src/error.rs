//! The application layer's one error type, and the shape it takes on its way to a UI:
//! `{kind, message, remedy}`, so the UI can offer the right action (open the settings, pick
//! another file, try again) instead of showing a bare string.

use std::path::PathBuf;

use serde::Serialize;
use ts_rs::TS;

use studydesk_engine::bank::BankError;
use studydesk_engine::config::ConfigError;
use studydesk_engine::database::DatabaseError;
use studydesk_engine::extract::ExtractError;
use studydesk_engine::keys::KeyringError;
use studydesk_engine::library::LibraryError;
use studydesk_engine::llm::LlmError;
use studydesk_engine::quiz::QuizError;
use studydesk_engine::tutor::TutorError;
use studydesk_engine::{Classify, ErrorKind, Remedy};

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
    Keyring(#[from] KeyringError),
    #[error(transparent)]
    Bank(#[from] BankError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("no conversation {0}")]
    NoConversation(i64),
    #[error("no generated question {0}")]
    NoGeneratedQuestion(String),
    /// The request cannot be done as asked.
    #[error("{0}")]
    Invalid(String),
    #[error("cannot save {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl Classify for AppError {
    fn kind(&self) -> ErrorKind {
        match self {
            AppError::UnknownCommand(_)
            | AppError::BadArguments { .. }
            | AppError::NoConversation(_)
            | AppError::NoGeneratedQuestion(_)
            | AppError::Invalid(_) => ErrorKind::Input,
            AppError::Library(e) => e.kind(),
            AppError::Quiz(e) => e.kind(),
            AppError::Tutor(e) => e.kind(),
            AppError::Llm(e) => e.kind(),
            AppError::Keyring(e) => e.kind(),
            AppError::Bank(e) => e.kind(),
            AppError::Config(e) => e.kind(),
            AppError::Database(e) => e.kind(),
            AppError::Extract(e) => e.kind(),
            AppError::Write { .. } => ErrorKind::Setup,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            AppError::Library(e) => e.remedy(),
            AppError::Quiz(e) => e.remedy(),
            AppError::Tutor(e) => e.remedy(),
            AppError::Llm(e) => e.remedy(),
            AppError::Extract(e) => e.remedy(),
            AppError::NoConversation(_) => Some(Remedy::ListConversations),
            _ => None,
        }
    }
}

/// An error as the UIs receive it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ErrorView {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub remedy: Option<Remedy>,
}

impl ErrorView {
    pub fn of(error: &(impl Classify + std::fmt::Display)) -> ErrorView {
        ErrorView {
            kind: error.kind(),
            message: error.to_string(),
            remedy: error.remedy(),
        }
    }
}

impl From<&AppError> for ErrorView {
    fn from(error: &AppError) -> ErrorView {
        ErrorView::of(error)
    }
}
