//! The database: the SQLite file beside the index that holds everything that is not a vector.
//! Which documents were imported, from which file and content, and whether their import
//! finished ([`documents`]); the conversations with the tutor ([`conversations`]); the quiz's
//! card states, review log and generated questions (`crate::quiz::cards`).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Classify, ErrorKind};

pub mod conversations;
pub mod documents;
mod translations;

pub use conversations::{ConversationSummary, StoredMessage};
pub use documents::DocRecord;

pub const DB_FILE: &str = "studydesk.sqlite3";

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("database {path}: {error}")]
    Open {
        path: String,
        error: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(
        "the database was written by a newer StudyDesk (schema {found}, this one knows {known})"
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
    r"
    -- A query in the other language, as a model translated it (empty: nothing usable).
    CREATE TABLE query_translations (
        query       TEXT NOT NULL,
        target      TEXT NOT NULL,      -- 'en' or 'zh'
        model       TEXT NOT NULL,
        translation TEXT NOT NULL,
        PRIMARY KEY (query, target, model)
    );
",
    r"
    -- A generated question asks for a sentence of its passage, or leaves a term of it blank.
    ALTER TABLE generated_questions ADD COLUMN kind TEXT NOT NULL DEFAULT 'question';
",
    r"
    -- The lines OCR read on a document's scanned pages, with their boxes (fractions of the
    -- page, origin top left), so that a citation of a scanned page can be highlighted.
    CREATE TABLE ocr_lines (
        doc_id TEXT NOT NULL,
        page   INTEGER NOT NULL,
        line   INTEGER NOT NULL,
        text   TEXT NOT NULL,
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        PRIMARY KEY (doc_id, page, line)
    );
",
    r"
    -- How each review's answer was graded (JSON): the mistake notebook shows what was wrong.
    ALTER TABLE reviews ADD COLUMN grading TEXT;
    -- Mock interviews: each question and follow-up as it was asked and answered, so an
    -- interview cut short by a quit or a crash keeps what was answered.
    CREATE TABLE interviews (
        id            INTEGER PRIMARY KEY,
        started_at    INTEGER NOT NULL,
        ended_at      INTEGER,
        minutes       INTEGER NOT NULL,
        max_questions INTEGER,
        topics        TEXT NOT NULL,      -- JSON array of topic ids, empty for all
        lang          TEXT,               -- 'zh', 'en' or NULL (the questions' own)
        debrief       TEXT                -- JSON, written when the interview ends
    );
    CREATE TABLE interview_turns (
        interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
        seq          INTEGER NOT NULL,
        card_id      TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('question', 'follow_up')),
        prompt       TEXT NOT NULL,
        probe        TEXT,                -- JSON: the rubric point a follow-up probes
        answer       TEXT,
        grading      TEXT,                -- JSON
        asked_at     INTEGER NOT NULL,
        answered_at  INTEGER,
        PRIMARY KEY (interview_id, seq)
    );
",
];

pub struct Database {
    conn: Connection,
}

impl Database {
    pub fn open(path: &Path) -> Result<Database, DatabaseError> {
        let open_err = |error| DatabaseError::Open {
            path: path.display().to_string(),
            error,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        let mut db = Database { conn };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&mut self) -> Result<(), DatabaseError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(DatabaseError::TooNew {
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

    pub fn meta(&self, key: &str) -> Result<Option<String>, DatabaseError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), DatabaseError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

impl Classify for DatabaseError {
    fn kind(&self) -> ErrorKind {
        match self {
            // A folder that cannot be opened or a newer schema: this computer's state.
            DatabaseError::Open { .. } | DatabaseError::TooNew { .. } => ErrorKind::Setup,
            DatabaseError::Sql(_) => ErrorKind::Internal,
        }
    }
}
