//! The vector store: passages with a dense and a sparse (BM25) vector each, searched by
//! either or by both fused with reciprocal rank fusion.
//!
//! [`VectorStore`] is what the rest of the core sees. [`edge::EdgeStore`] implements it over
//! the embedded Qdrant engine (qdrant-edge), [`server::ServerStore`] over a Qdrant server or
//! cluster (qdrant-client, gRPC); [`open`] picks one from the configuration, and [`migrate`]
//! copies an index from one to the other.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Classify, ErrorKind, Remedy};
use crate::lexical::SparseVector;
use crate::text::Lang;
use ts_rs::TS;

pub mod edge;
pub mod migrate;
pub mod server;

pub const DENSE: &str = "dense";
pub const SPARSE: &str = "sparse";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the index in {path} is in use by another StudyDesk process; close it first (one process per data folder)"
    )]
    Locked { path: String },
    #[error("cannot open the index in {path}: {message}")]
    Open { path: String, message: String },
    #[error("index operation failed ({operation}): {message}")]
    Operation {
        operation: &'static str,
        message: String,
    },
    #[error("a stored passage has an unreadable payload: {0}")]
    Payload(String),
    #[error("cannot reach the Qdrant server at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("the Qdrant server at {url} refused the API key ({message})")]
    Unauthorized { url: String, message: String },
    #[error("the Qdrant server at {url} has no collection {collection:?}")]
    MissingCollection { url: String, collection: String },
    #[error(
        "collection {collection:?} on {url} does not fit StudyDesk's index: {message}; use another collection name ([store] collection)"
    )]
    Incompatible {
        url: String,
        collection: String,
        message: String,
    },
    #[error("the Qdrant server at {url} failed ({operation}): {message}")]
    Server {
        url: String,
        operation: &'static str,
        message: String,
    },
}

impl Classify for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Payload(_) => ErrorKind::Internal,
            _ => ErrorKind::Index,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        matches!(self, StoreError::Unauthorized { .. }).then_some(Remedy::StoreIndexKey)
    }
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An item of the built-in question bank.
    Bank,
    /// A passage of an imported document (PDF or note).
    Doc,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Bank => "bank",
            Source::Doc => "doc",
        }
    }
}

/// What is stored with each point, and what a search returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<String>,
    /// The imported file's name, e.g. `lora-2106.09685.pdf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_end: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk: Option<u32>,
    /// The passage's main language (see [`Lang::of`]).
    #[serde(default)]
    pub lang: Lang,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub id: Uuid,
    pub dense: Vec<f32>,
    pub sparse: SparseVector,
    pub passage: Passage,
}

/// Which passages a search or deletion covers; empty means all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub source: Option<Source>,
    pub topic_id: Option<String>,
    pub doc_id: Option<String>,
    pub lang: Option<Lang>,
}

impl Scope {
    /// One document's passages.
    pub fn doc(doc_id: &str) -> Scope {
        Scope {
            doc_id: Some(doc_id.to_string()),
            ..Scope::default()
        }
    }
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Dense and BM25 candidates fused by reciprocal rank.
    #[default]
    Hybrid,
    Dense,
    Lexical,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "hybrid" => Ok(Mode::Hybrid),
            "dense" => Ok(Mode::Dense),
            "lexical" => Ok(Mode::Lexical),
            other => Err(format!(
                "unknown retrieval mode {other:?} (hybrid, dense or lexical)"
            )),
        }
    }
}

pub struct SearchRequest<'a> {
    pub dense: &'a [f32],
    pub sparse: &'a SparseVector,
    pub scope: &'a Scope,
    pub mode: Mode,
    pub limit: usize,
    /// Candidates taken from each side before fusion.
    pub candidates: usize,
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub id: Uuid,
    pub score: f32,
    pub passage: Passage,
}

pub trait VectorStore: Send + Sync {
    /// Inserts or replaces points (ids are deterministic, so a repeat is harmless).
    fn upsert(&self, points: Vec<Point>) -> Result<(), StoreError>;
    fn delete(&self, scope: &Scope) -> Result<(), StoreError>;
    fn count(&self, scope: &Scope) -> Result<usize, StoreError>;
    fn search(&self, request: &SearchRequest<'_>) -> Result<Vec<Hit>, StoreError>;
    /// Every passage in a scope, without vectors, in no particular order.
    fn passages(&self, scope: &Scope) -> Result<Vec<(Uuid, Passage)>, StoreError>;
    /// Up to `limit` points with their vectors, in id order, starting at `from` (inclusive);
    /// also the id where the next page starts. Copying an index walks these pages.
    fn page(&self, from: Option<Uuid>, limit: usize) -> Result<Page, StoreError>;
    /// Where the points live, for messages: a folder or a server URL and collection.
    fn location(&self) -> String;
    /// Makes everything written so far durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// Builds search indexes after a large import (slow; run it off any UI thread).
    fn optimize(&self) -> Result<(), StoreError>;
}

/// One page of a walk over every point.
pub struct Page {
    pub points: Vec<Point>,
    pub next: Option<Uuid>,
}

/// Opens the store the configuration names: the embedded engine in `index_dir`, or a server
/// (whose collection `create` may create).
pub fn open(
    config: &crate::config::StoreConfig,
    index_dir: &std::path::Path,
    create: server::Create,
) -> Result<Box<dyn VectorStore>, StoreError> {
    Ok(match config {
        crate::config::StoreConfig::Embedded => Box::new(edge::EdgeStore::open(index_dir)?),
        crate::config::StoreConfig::Server(server) => {
            Box::new(server::ServerStore::connect(server, create)?)
        }
    })
}

/// A passage's point id: the same document content and chunk always give the same id.
pub fn point_id(owner: &str, index: u32) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{owner}/{index}").as_bytes())
}
