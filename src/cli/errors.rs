//! Errors as the terminal shows them: one line, each cause once, and the fix in terminal
//! terms (the engine and the app say which remedy applies; only the CLI knows it is a command
//! to type).

use studydesk_app::{AppError, ErrorView};
use studydesk_engine::store::StoreError;
use studydesk_engine::store::migrate::MigrateError;
use studydesk_engine::{Classify, Remedy};

/// The chain of causes, outermost first, skipping a cause whose text the line already holds
/// (an error that quotes its cause), then the hint for its remedy.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    match remedy_of(error).map(hint) {
        Some(hint) => format!("{line} ({hint})"),
        None => line,
    }
}

/// An error the app reported as a value (a file of a batch that failed), with its hint.
pub fn with_hint(error: &ErrorView) -> String {
    match error.remedy.map(hint) {
        Some(hint) => format!("{} ({hint})", error.message),
        None => error.message.clone(),
    }
}

fn remedy_of(error: &anyhow::Error) -> Option<Remedy> {
    error.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<AppError>() {
            e.remedy()
        } else if let Some(e) = cause.downcast_ref::<StoreError>() {
            e.remedy()
        } else if let Some(e) = cause.downcast_ref::<MigrateError>() {
            e.remedy()
        } else {
            None
        }
    })
}

/// What to type to fix it.
pub fn hint(remedy: Remedy) -> &'static str {
    match remedy {
        Remedy::InstallRuntime => "run `bash scripts/setup.sh` to install it",
        Remedy::InstallModel => {
            "run `bash scripts/setup.sh --with-llm`, or set [llm] base_url in config.toml"
        }
        Remedy::ListDocuments => "see `studydesk docs`",
        Remedy::ListConversations => "see `studydesk chats`",
        Remedy::StoreIndexKey => {
            "store the right one with `studydesk key set --store`, or name an environment variable in config.toml ([store] api_key_env)"
        }
        Remedy::StoreModelKey => {
            "store it with `studydesk key set`, or name an environment variable in config.toml ([llm] api_key_env)"
        }
    }
}
