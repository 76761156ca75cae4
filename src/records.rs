//! Records: the SQLite database beside the index that knows which documents were imported,
//! from which file and content, and whether their import finished.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::extract::DocKind;
use ts_rs::TS;

pub const DB_FILE: &str = "studydesk.sqlite3";

#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("records database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("records database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(
        "records database was written by a newer StudyDesk (schema {found}, this one knows {known})"
    )]
    TooNew { found: i64, known: i64 },
}

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    r"
    CREATE TABLE documents (
        id          TEXT PRIMARY KEY,   -- sha256 of the file's bytes
        file_name   TEXT NOT NULL,
        path        TEXT NOT NULL,
        kind        TEXT NOT NULL,
        title       TEXT NOT NULL,
        pages       INTEGER,
        chunks      INTEGER NOT NULL DEFAULT 0,
        status      TEXT NOT NULL CHECK (status IN ('importing', 'ready')),
        index_key   TEXT NOT NULL,      -- embedding model and index format it was indexed with
        imported_at INTEGER NOT NULL    -- unix seconds
    );
    CREATE INDEX documents_path ON documents(path);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
",
    r"
    CREATE TABLE conversations (
        id         INTEGER PRIMARY KEY,
        topic_id   TEXT,
        title      TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE messages (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role            TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content         TEXT NOT NULL,
        citations       TEXT NOT NULL DEFAULT '[]',   -- JSON array of the answer's sources
        created_at      INTEGER NOT NULL
    );
    CREATE INDEX messages_conversation ON messages(conversation_id, id);
",
    r"
    -- Practice questions generated from a document; the source passage is copied so that a
    -- question outlives the document it came from.
    CREATE TABLE generated_questions (
        id         TEXT PRIMARY KEY,    -- 'g-' and 10 hex digits
        doc_id     TEXT NOT NULL,
        doc        TEXT NOT NULL,       -- file name
        page       INTEGER,
        question   TEXT NOT NULL,
        answer     TEXT NOT NULL,
        passage    TEXT NOT NULL,
        lang       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        edited_at  INTEGER
    );
    CREATE INDEX generated_doc ON generated_questions(doc_id);
    -- The memory state of every item reviewed at least once (bank question or generated).
    CREATE TABLE cards (
        id          TEXT PRIMARY KEY,
        stability   REAL NOT NULL,
        difficulty  REAL NOT NULL,
        due         INTEGER NOT NULL,   -- unix seconds
        last_review INTEGER NOT NULL,
        reps        INTEGER NOT NULL,
        lapses      INTEGER NOT NULL
    );
    CREATE INDEX cards_due ON cards(due);
    -- Every review ever answered: the log FSRS parameters are fitted on.
    CREATE TABLE reviews (
        id            INTEGER PRIMARY KEY,
        card_id       TEXT NOT NULL,
        reviewed_at   INTEGER NOT NULL,
        rating        INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
        grade         INTEGER CHECK (grade BETWEEN 0 AND 5),
        elapsed_days  REAL NOT NULL,
        interval_days REAL NOT NULL,
        answer        TEXT NOT NULL DEFAULT '',
        duration_ms   INTEGER
    );
    CREATE INDEX reviews_card ON reviews(card_id, reviewed_at);
",
];

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationSummary {
    pub id: i64,
    pub topic_id: Option<String>,
    pub title: String,
    pub messages: u32,
    /// UTC, "YYYY-MM-DD HH:MM:SS".
    pub created_at: String,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredMessage {
    /// "user" or "assistant".
    pub role: String,
    pub content: String,
    /// The answer's sources as JSON (see `tutor::Citation`).
    #[ts(as = "Vec<crate::tutor::Citation>")]
    pub citations: serde_json::Value,
    pub created_at: String,
}

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

pub struct Records {
    conn: Connection,
}

impl Records {
    pub fn open(path: &Path) -> Result<Records, RecordsError> {
        let open_err = |source| RecordsError::Open {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        let mut records = Records { conn };
        records.migrate()?;
        Ok(records)
    }

    fn migrate(&mut self) -> Result<(), RecordsError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(RecordsError::TooNew {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The connection, for the quiz's own tables.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, RecordsError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), RecordsError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    pub fn create_conversation(
        &self,
        topic_id: Option<&str>,
        title: &str,
    ) -> Result<i64, RecordsError> {
        self.conn.execute(
            "INSERT INTO conversations (topic_id, title, created_at) VALUES (?1, ?2, unixepoch())",
            params![topic_id, title],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn add_message(
        &self,
        conversation_id: i64,
        role: &str,
        content: &str,
        citations: &serde_json::Value,
    ) -> Result<(), RecordsError> {
        self.conn.execute(
            "INSERT INTO messages (conversation_id, role, content, citations, created_at)
             VALUES (?1, ?2, ?3, ?4, unixepoch())",
            params![conversation_id, role, content, citations.to_string()],
        )?;
        Ok(())
    }

    pub fn conversations(&self) -> Result<Vec<ConversationSummary>, RecordsError> {
        let mut stmt = self.conn.prepare(
            "SELECT c.id, c.topic_id, c.title, COUNT(m.id), datetime(c.created_at, 'unixepoch')
             FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id
             GROUP BY c.id ORDER BY c.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ConversationSummary {
                id: r.get(0)?,
                topic_id: r.get(1)?,
                title: r.get(2)?,
                messages: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn conversation(&self, id: i64) -> Result<Option<ConversationSummary>, RecordsError> {
        Ok(self.conversations()?.into_iter().find(|c| c.id == id))
    }

    pub fn messages(&self, conversation_id: i64) -> Result<Vec<StoredMessage>, RecordsError> {
        let mut stmt = self.conn.prepare(
            "SELECT role, content, citations, datetime(created_at, 'unixepoch')
             FROM messages WHERE conversation_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([conversation_id], |r| {
            let citations: String = r.get(2)?;
            Ok(StoredMessage {
                role: r.get(0)?,
                content: r.get(1)?,
                citations: serde_json::from_str(&citations)
                    .unwrap_or(serde_json::Value::Array(Vec::new())),
                created_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks a document as being imported: until `finish_import`, its points may be partial.
    pub fn begin_import(&self, doc: &DocRecord) -> Result<(), RecordsError> {
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

    pub fn finish_import(&self, id: &str) -> Result<(), RecordsError> {
        self.conn
            .execute("UPDATE documents SET status = 'ready' WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn delete(&self, id: &str) -> Result<(), RecordsError> {
        self.conn
            .execute("DELETE FROM documents WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Result<Option<DocRecord>, RecordsError> {
        Ok(self.query("WHERE id = ?1", [id])?.into_iter().next())
    }

    /// Documents imported from this path (normally at most one).
    pub fn by_path(&self, path: &str) -> Result<Vec<DocRecord>, RecordsError> {
        self.query("WHERE path = ?1", [path])
    }

    pub fn all(&self) -> Result<Vec<DocRecord>, RecordsError> {
        self.query("", [])
    }

    fn query<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<DocRecord>, RecordsError> {
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
        DocKind::Markdown => "markdown",
        DocKind::Text => "text",
    }
}

fn kind_from_name(name: &str) -> DocKind {
    match name {
        "pdf" => DocKind::Pdf,
        "markdown" => DocKind::Markdown,
        _ => DocKind::Text,
    }
}
