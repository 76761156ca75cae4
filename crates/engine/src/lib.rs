//! StudyDesk's engine: everything the desktop app and the CLI do, with no shell in it (no
//! HTTP server, no command-line parser, no window).
//!
//! Modules follow the pipeline: the question [`bank`] is parsed; documents are extracted
//! ([`extract`]) and cut into passages ([`chunk`]); passages are embedded ([`embed`]) and
//! weighted for BM25 ([`lexical`]), bridged across languages ([`glossary`]) and kept in the
//! index ([`store`]) beside the records of the [`database`]; the [`library`] ties import and
//! removal together; [`retrieve`] runs hybrid search; the [`tutor`] answers from what it finds
//! with a language model ([`llm`]); the [`quiz`] grades and schedules.

pub mod bank;
pub mod cancel;
pub mod chunk;
pub mod config;
pub mod database;
pub mod embed;
pub mod error;
pub mod eval;
pub mod extract;
pub mod glossary;
pub mod keys;
pub mod lexical;
pub mod library;
pub mod llm;
pub mod quiz;
pub mod retrieve;
pub mod store;
pub mod text;
pub mod translate;
pub mod tutor;

pub use cancel::Cancel;
pub use error::{Classify, ErrorKind, Remedy};
pub use text::Lang;

/// Hex SHA-256 of some bytes: content ids of documents, fingerprints of models and the bank.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
