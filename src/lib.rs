//! StudyDesk's core: everything the desktop app and the CLI do, with no UI in it.
//!
//! Modules follow the pipeline: the question [`bank`] is parsed, documents are extracted and
//! chunked, chunks are embedded and stored, and retrieval feeds the tutor and the quiz.

pub mod bank;
pub mod config;
