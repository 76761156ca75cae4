//! Copying an index between stores (embedded ⇄ server), point by point with vectors and
//! payloads, so nothing is re-embedded.
//!
//! The copy walks the source in id order and upserts page by page; after each page a checkpoint
//! file records where the next page starts. Point ids are deterministic, so repeating a page is
//! harmless, and an interrupted copy resumes from its checkpoint. At the end the counts of both
//! sides (bank and documents) must match. The source is only read.

use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Scope, Source, StoreError, VectorStore};
use crate::cancel::Cancel;
use crate::error::{Classify, ErrorKind, Remedy};

/// Points read and written per step (and the granularity of progress and checkpoints).
const PAGE: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{target} already holds {count} passages; copy into an empty index (another collection name, or a fresh data folder)"
    )]
    TargetNotEmpty { target: String, count: usize },
    #[error(
        "the copy does not match its source: {what} {source_count} in {from}, {target_count} in {to}"
    )]
    CountMismatch {
        what: &'static str,
        source_count: usize,
        target_count: usize,
        from: String,
        to: String,
    },
    #[error(
        "the copy stopped after {done} of {total} passages; run the same command again to resume"
    )]
    Interrupted { done: usize, total: usize },
    #[error("cannot {action} the checkpoint file {path}: {message}")]
    Checkpoint {
        action: &'static str,
        path: String,
        message: String,
    },
}

impl Classify for MigrateError {
    fn kind(&self) -> ErrorKind {
        match self {
            MigrateError::Store(e) => e.kind(),
            MigrateError::TargetNotEmpty { .. } => ErrorKind::Input,
            MigrateError::CountMismatch { .. } => ErrorKind::Index,
            MigrateError::Interrupted { .. } => ErrorKind::Cancelled,
            MigrateError::Checkpoint { .. } => ErrorKind::Setup,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            MigrateError::Store(e) => e.remedy(),
            _ => None,
        }
    }
}

/// What a finished copy did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrateReport {
    /// Points written by this run (a resumed run counts only its own).
    pub copied: usize,
    /// Whether the run continued an interrupted one.
    pub resumed: bool,
    /// Bank passages and document passages, now on both sides.
    pub bank: usize,
    pub docs: usize,
}

/// Where an interrupted copy stands.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    from: String,
    to: String,
    next: Option<Uuid>,
    copied: usize,
}

fn read_checkpoint(path: &Path) -> Result<Option<Checkpoint>, MigrateError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(MigrateError::Checkpoint {
                action: "read",
                path: path.display().to_string(),
                message: e.to_string(),
            });
        }
    };
    // A damaged checkpoint only costs a restart from the beginning (upserts are idempotent).
    Ok(serde_json::from_str(&text).ok())
}

fn write_checkpoint(path: &Path, checkpoint: &Checkpoint) -> Result<(), MigrateError> {
    let text = serde_json::to_string(checkpoint).expect("checkpoint serialises");
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| MigrateError::Checkpoint {
            action: "write",
            path: path.display().to_string(),
            message: e.to_string(),
        })
}

/// Copies every point of `from` into `to`, resuming from `checkpoint` when it describes the same
/// copy. `progress(done, total)` follows the points copied so far; setting `cancel` stops the
/// copy after the current page, resumable.
pub fn copy_index(
    from: &dyn VectorStore,
    to: &dyn VectorStore,
    checkpoint: &Path,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &Cancel,
) -> Result<MigrateReport, MigrateError> {
    let (from_name, to_name) = (from.location(), to.location());
    let all = Scope::default();
    let total = from.count(&all)?;
    let resume = read_checkpoint(checkpoint)?.filter(|c| c.from == from_name && c.to == to_name);
    let resumed = resume.is_some();
    let (mut next, mut done) = match resume {
        Some(c) => (c.next, c.copied),
        None => {
            let count = to.count(&all)?;
            if count > 0 {
                return Err(MigrateError::TargetNotEmpty {
                    target: to_name,
                    count,
                });
            }
            (None, 0)
        }
    };
    let mut copied = 0;
    progress(done.min(total), total);
    loop {
        let page = from.page(next, PAGE)?;
        let n = page.points.len();
        to.upsert(page.points)?;
        copied += n;
        done += n;
        next = page.next;
        if next.is_none() {
            break;
        }
        write_checkpoint(
            checkpoint,
            &Checkpoint {
                from: from_name.clone(),
                to: to_name.clone(),
                next,
                copied: done,
            },
        )?;
        progress(done.min(total), total);
        if cancel.is_cancelled() {
            to.flush()?;
            return Err(MigrateError::Interrupted {
                done: done.min(total),
                total,
            });
        }
    }
    to.flush()?;
    progress(total, total);
    let mut counts = [0; 2];
    for (slot, (what, source)) in [
        ("bank passages", Source::Bank),
        ("document passages", Source::Doc),
    ]
    .into_iter()
    .enumerate()
    {
        let scope = Scope {
            source: Some(source),
            ..Scope::default()
        };
        let (source_count, target_count) = (from.count(&scope)?, to.count(&scope)?);
        if source_count != target_count {
            return Err(MigrateError::CountMismatch {
                what,
                source_count,
                target_count,
                from: from_name,
                to: to_name,
            });
        }
        counts[slot] = source_count;
    }
    let (source_total, target_total) = (from.count(&all)?, to.count(&all)?);
    if source_total != target_total {
        return Err(MigrateError::CountMismatch {
            what: "passages",
            source_count: source_total,
            target_count: target_total,
            from: from_name,
            to: to_name,
        });
    }
    match std::fs::remove_file(checkpoint) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(MigrateError::Checkpoint {
                action: "remove",
                path: checkpoint.display().to_string(),
                message: e.to_string(),
            });
        }
        _ => {}
    }
    Ok(MigrateReport {
        copied,
        resumed,
        bank: counts[0],
        docs: counts[1],
    })
}
