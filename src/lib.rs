//! StudyDesk's core: everything the desktop app and the CLI do, with no UI in it.
//!
//! Modules follow the pipeline: the question [`bank`] is parsed, documents are extracted and
//! chunked, chunks are embedded and stored, and retrieval feeds the tutor and the quiz.

pub mod app;
pub mod bank;
pub mod chunk;
pub mod config;
pub mod embed;
pub mod eval;
pub mod extract;
pub mod glossary;
pub mod keys;
pub mod lexical;
pub mod library;
pub mod llm;
pub mod quiz;
pub mod records;
pub mod retrieve;
pub mod store;
pub mod tutor;

/// Hex SHA-256 of some bytes: content ids of documents, fingerprints of models and the bank.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
