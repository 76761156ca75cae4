//! Query translation: a question in one language finds the passages written in the other
//! (a Chinese question about an English paper, an English question about a Chinese bank
//! item) when it is also searched in that language's words. The model translates, in one
//! short constrained call; translations are kept in the database, so a query is translated
//! once per model. Without a model, the glossary's bridge is the fallback (`retrieve`).

use serde::Deserialize;
use serde_json::json;

use crate::cancel::Cancel;
use crate::database::DatabaseError;
use crate::library::Library;
use crate::llm::{ChatClient, ChatOptions, LlmError, Message};
use crate::text::Lang;

/// Longest query translated (longer text is a passage, not a query).
const MAX_QUERY_CHARS: usize = 400;
const MAX_TRANSLATION_CHARS: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

#[derive(Deserialize)]
struct Reply {
    translation: String,
}

/// The query in the other language (Chinese ↔ English), from the cache or the model. `None`
/// when there is nothing to translate (empty, too long) or the model's reply is unusable.
pub fn translate(
    library: &Library,
    llm: &ChatClient,
    query: &str,
    cancel: &Cancel,
) -> Result<Option<String>, TranslateError> {
    let query = query.trim();
    if query.is_empty() || query.chars().count() > MAX_QUERY_CHARS {
        return Ok(None);
    }
    let target = Lang::of(query).other();
    let model = llm.provider().model.clone();
    let cached = library.db().cached_translation(query, target, &model)?;
    if let Some(cached) = cached {
        return Ok(Some(cached).filter(|t| !t.is_empty()));
    }
    let schema = json!({
        "type": "object",
        "properties": {"translation": {"type": "string", "maxLength": MAX_TRANSLATION_CHARS}},
        "required": ["translation"],
        "additionalProperties": false
    });
    let reply = llm.complete(
        &prompt(query, target),
        &ChatOptions {
            temperature: Some(0.0),
            max_tokens: Some(160),
            json_schema: Some(schema),
            ..ChatOptions::default()
        },
        cancel,
    )?;
    let translation = serde_json::from_str::<Reply>(reply.trim())
        .map(|r| r.translation.trim().to_string())
        .unwrap_or_default();
    // A reply in the wrong language, the query echoed back, or an answer instead of a
    // translation (a small model's habit: far longer than the query) translates nothing: kept
    // as empty, so the next search does not ask again.
    let usable = !translation.is_empty()
        && Lang::of(&translation) == target
        && translation != query
        && weight(&translation) <= 3 * weight(query) + 20;
    let kept = if usable { translation.as_str() } else { "" };
    library
        .db()
        .cache_translation(query, target, &model, kept)?;
    Ok(usable.then_some(translation))
}

/// The conversation that asks for a translation: the task, then two worked examples (general
/// ones, not about any query) so that a small model translates instead of answering.
fn prompt(query: &str, target: Lang) -> Vec<Message> {
    let (task, examples): (&str, [(&str, &str); 2]) = match target {
        Lang::En => (
            "You translate search queries about machine learning from Chinese into English. Translate the whole query faithfully and nothing else: do not answer it, do not explain. Keep names and abbreviations (LoRA, KV cache, GPT) as they are.",
            [
                (
                    "梯度裁剪为什么能防止梯度爆炸",
                    "why gradient clipping prevents exploding gradients",
                ),
                (
                    "Transformer 的位置编码怎么实现",
                    "how to implement positional encoding in the Transformer",
                ),
            ],
        ),
        Lang::Zh => (
            "You translate search queries about machine learning from English into Simplified Chinese. Translate the whole query faithfully and nothing else: do not answer it, do not explain. Keep names and abbreviations (LoRA, KV cache, GPT) as they are.",
            [
                (
                    "why does gradient clipping prevent exploding gradients",
                    "为什么梯度裁剪能防止梯度爆炸",
                ),
                (
                    "how to implement positional encoding in the Transformer",
                    "Transformer 的位置编码怎么实现",
                ),
            ],
        ),
    };
    let mut messages = vec![Message::system(task)];
    for (source, translation) in examples {
        messages.push(Message::user(source));
        messages.push(Message::assistant(
            json!({ "translation": translation }).to_string(),
        ));
    }
    messages.push(Message::user(query));
    messages
}

/// A text's length in words, counting a Chinese character as a word.
fn weight(text: &str) -> usize {
    text.chars().filter(|c| crate::text::is_han(*c)).count() + text.split_whitespace().count()
}
