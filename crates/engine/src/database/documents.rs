//! Imported documents: which file, which content (its sha256 is the id), how it was indexed,
//! and whether its import finished (a crash mid-import leaves a record `recover` cleans up).

use rusqlite::params;
use serde::Serialize;
use ts_rs::TS;

use super::{Database, DatabaseError};
use crate::extract::{DocKind, OcrLine, ScannedPage};

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocRecord {
    pub id: String,
    pub file_name: String,
    pub path: String,
    pub kind: DocKind,
    pub title: String,
    pub pages: Option<u32>,
    pub chunks: u32,
    pub ready: bool,
    /// Embedding model and index format the document was indexed with.
    pub index_key: String,
    /// UTC, "YYYY-MM-DD HH:MM:SS".
    pub imported_at: String,
}

impl Database {
    /// Marks a document as being imported: until `finish_import`, its points may be partial.
    pub fn begin_import(&self, doc: &DocRecord) -> Result<(), DatabaseError> {
        self.conn.execute(
            "INSERT INTO documents (id, file_name, path, kind, title, pages, chunks, status, index_key, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'importing', ?8, unixepoch())
             ON CONFLICT(id) DO UPDATE SET file_name = excluded.file_name, path = excluded.path,
                 kind = excluded.kind, title = excluded.title, pages = excluded.pages,
                 chunks = excluded.chunks, status = 'importing', index_key = excluded.index_key,
                 imported_at = excluded.imported_at",
            params![doc.id, doc.file_name, doc.path, kind_name(doc.kind), doc.title, doc.pages, doc.chunks, doc.index_key],
        )?;
        Ok(())
    }

    pub fn finish_import(&self, id: &str) -> Result<(), DatabaseError> {
        self.conn
            .execute("UPDATE documents SET status = 'ready' WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn delete_document(&self, id: &str) -> Result<(), DatabaseError> {
        self.conn
            .execute("DELETE FROM ocr_lines WHERE doc_id = ?1", [id])?;
        self.conn
            .execute("DELETE FROM documents WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Keeps the lines OCR read on a document's pages (replacing any kept before).
    pub fn save_scanned(&mut self, id: &str, pages: &[ScannedPage]) -> Result<(), DatabaseError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM ocr_lines WHERE doc_id = ?1", [id])?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO ocr_lines (doc_id, page, line, text, x0, y0, x1, y1)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for page in pages {
                for (i, line) in page.lines.iter().enumerate() {
                    let [x0, y0, x1, y1] = line.bbox;
                    insert.execute(params![id, page.page, i as u32, line.text, x0, y0, x1, y1])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The OCR lines of one page (1-based), in reading order; none for a page with a text layer.
    pub fn scanned_lines(&self, id: &str, page: u32) -> Result<Vec<OcrLine>, DatabaseError> {
        let mut stmt = self.conn.prepare(
            "SELECT text, x0, y0, x1, y1 FROM ocr_lines WHERE doc_id = ?1 AND page = ?2 ORDER BY line",
        )?;
        let rows = stmt.query_map(params![id, page], |r| {
            Ok(OcrLine {
                text: r.get(0)?,
                bbox: [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn document(&self, id: &str) -> Result<Option<DocRecord>, DatabaseError> {
        Ok(self
            .query_documents("WHERE id = ?1", [id])?
            .into_iter()
            .next())
    }

    /// Documents imported from this path (normally at most one).
    pub fn documents_at(&self, path: &str) -> Result<Vec<DocRecord>, DatabaseError> {
        self.query_documents("WHERE path = ?1", [path])
    }

    pub fn documents(&self) -> Result<Vec<DocRecord>, DatabaseError> {
        self.query_documents("", [])
    }

    fn query_documents<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<DocRecord>, DatabaseError> {
        let sql = format!(
            "SELECT id, file_name, path, kind, title, pages, chunks, status, index_key,
                    datetime(imported_at, 'unixepoch')
             FROM documents {filter} ORDER BY imported_at, file_name"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params, |r| {
            let kind: String = r.get(3)?;
            let status: String = r.get(7)?;
            Ok(DocRecord {
                id: r.get(0)?,
                file_name: r.get(1)?,
                path: r.get(2)?,
                kind: kind_from_name(&kind),
                title: r.get(4)?,
                pages: r.get(5)?,
                chunks: r.get(6)?,
                ready: status == "ready",
                index_key: r.get(8)?,
                imported_at: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn kind_name(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Pdf => "pdf",
        DocKind::Image => "image",
        DocKind::Markdown => "markdown",
        DocKind::Text => "text",
    }
}

fn kind_from_name(name: &str) -> DocKind {
    match name {
        "pdf" => DocKind::Pdf,
        "image" => DocKind::Image,
        "markdown" => DocKind::Markdown,
        _ => DocKind::Text,
    }
}
