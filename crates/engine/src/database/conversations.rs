//! Conversations with the tutor: each question and answer, with the answer's sources.

use rusqlite::params;
use serde::Serialize;
use ts_rs::TS;

use super::{Database, DatabaseError};
use crate::llm::Role;

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
    pub role: Role,
    pub content: String,
    /// The answer's sources as JSON (see `tutor::Citation`).
    #[ts(as = "Vec<crate::tutor::Citation>")]
    pub citations: serde_json::Value,
    pub created_at: String,
}

impl Database {
    pub fn create_conversation(
        &self,
        topic_id: Option<&str>,
        title: &str,
    ) -> Result<i64, DatabaseError> {
        self.conn.execute(
            "INSERT INTO conversations (topic_id, title, created_at) VALUES (?1, ?2, unixepoch())",
            params![topic_id, title],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn add_message(
        &self,
        conversation_id: i64,
        role: Role,
        content: &str,
        citations: &serde_json::Value,
    ) -> Result<(), DatabaseError> {
        self.conn.execute(
            "INSERT INTO messages (conversation_id, role, content, citations, created_at)
             VALUES (?1, ?2, ?3, ?4, unixepoch())",
            params![
                conversation_id,
                role.as_str(),
                content,
                citations.to_string()
            ],
        )?;
        Ok(())
    }

    pub fn conversations(&self) -> Result<Vec<ConversationSummary>, DatabaseError> {
        self.conversations_where("", [])
    }

    fn conversations_where<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<ConversationSummary>, DatabaseError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT c.id, c.topic_id, c.title, COUNT(m.id), datetime(c.created_at, 'unixepoch')
             FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id
             {filter} GROUP BY c.id ORDER BY c.id"
        ))?;
        let rows = stmt.query_map(params, |r| {
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

    pub fn conversation(&self, id: i64) -> Result<Option<ConversationSummary>, DatabaseError> {
        Ok(self.conversations_where("WHERE c.id = ?1", [id])?.pop())
    }

    pub fn messages(&self, conversation_id: i64) -> Result<Vec<StoredMessage>, DatabaseError> {
        let mut stmt = self.conn.prepare(
            "SELECT role, content, citations, datetime(created_at, 'unixepoch')
             FROM messages WHERE conversation_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([conversation_id], |r| {
            let citations: String = r.get(2)?;
            let role: String = r.get(0)?;
            Ok(StoredMessage {
                role: if role == "user" {
                    Role::User
                } else {
                    Role::Assistant
                },
                content: r.get(1)?,
                citations: serde_json::from_str(&citations)
                    .unwrap_or(serde_json::Value::Array(Vec::new())),
                created_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
