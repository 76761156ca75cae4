//! Query translations, kept so that a query is translated once per model.

use rusqlite::{OptionalExtension, params};

use super::{Database, DatabaseError};
use crate::text::Lang;

impl Database {
    /// The stored translation of `query` into `target` by `model`; `Some("")` when the model
    /// gave nothing usable last time.
    pub fn cached_translation(
        &self,
        query: &str,
        target: Lang,
        model: &str,
    ) -> Result<Option<String>, DatabaseError> {
        Ok(self
            .conn
            .query_row(
                "SELECT translation FROM query_translations WHERE query = ?1 AND target = ?2 AND model = ?3",
                params![query, target.as_str(), model],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn cache_translation(
        &self,
        query: &str,
        target: Lang,
        model: &str,
        translation: &str,
    ) -> Result<(), DatabaseError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO query_translations (query, target, model, translation) VALUES (?1, ?2, ?3, ?4)",
            params![query, target.as_str(), model, translation],
        )?;
        Ok(())
    }
}
