//! What every error of the engine says besides its message: what kind of failure it is, so a
//! UI can offer the right action, and which remedy applies, so each shell can word the fix in
//! its own terms (a command to run in a terminal, a settings page in the app).

use serde::Serialize;
use ts_rs::TS;

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Something the user gave or asked for: a bad file, an unknown id, an invalid setting.
    Input,
    /// Something this computer lacks: a model, a library, a writable folder.
    Setup,
    /// The language model or its provider: unreachable, a refused key, an unusable answer.
    Model,
    /// The index: a Qdrant server unreachable or refusing, a damaged or locked index.
    Index,
    /// The user stopped the work.
    Cancelled,
    /// A fault inside StudyDesk.
    Internal,
}

/// A fix a shell can offer for an error, in its own words.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Provision StudyDesk's offline runtime (embedding model, ONNX Runtime, pdfium).
    InstallRuntime,
    /// Provision the local language model, or configure a provider.
    InstallModel,
    /// Look up the imported documents' names and ids.
    ListDocuments,
    /// Look up the stored conversations.
    ListConversations,
    /// Store the Qdrant server's API key.
    StoreIndexKey,
    /// Store the language model provider's API key.
    StoreModelKey,
}

/// Implemented by every error type of the engine.
pub trait Classify {
    fn kind(&self) -> ErrorKind;
    fn remedy(&self) -> Option<Remedy> {
        None
    }
}
