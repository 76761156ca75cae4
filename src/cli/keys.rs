//! `studydesk key …`: API keys in the OS keyring, read from the terminal without echo.

use std::io::Write;

use anyhow::{Context, Result};
use clap::Subcommand;
use studydesk_engine::config::{Config, StoreConfig};
use studydesk_engine::keys;

#[derive(Subcommand)]
pub enum KeyAction {
    /// Store the key, read from standard input (not echoed on a terminal)
    Set,
    /// Whether a key is stored
    Status,
    /// Delete the stored key
    Delete,
}

pub fn run(
    out: &mut impl Write,
    config: &Config,
    action: KeyAction,
    base_url: Option<String>,
    store: bool,
) -> Result<()> {
    let base_url = if store {
        match &config.store {
            StoreConfig::Server(server) => server.qdrant_url.clone(),
            StoreConfig::Embedded => anyhow::bail!(
                "config.toml names no Qdrant server (store = {{ qdrant_url = \"…\" }}); give --base-url URL for another one"
            ),
        }
    } else {
        base_url
            .or(config.llm.base_url.clone())
            .context("no endpoint: give --base-url, or set [llm] base_url in config.toml")?
    };
    match action {
        KeyAction::Set => {
            let key = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                rpassword::prompt_password(format!("API key for {base_url}: "))?
            } else {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line
            };
            keys::store(&base_url, &key)?;
            writeln!(out, "stored the API key for {base_url} in the OS keyring")?;
        }
        KeyAction::Status => match keys::load(&base_url)? {
            Some(_) => writeln!(out, "an API key for {base_url} is stored")?,
            None => writeln!(out, "no API key stored for {base_url}")?,
        },
        KeyAction::Delete => {
            if keys::delete(&base_url)? {
                writeln!(out, "deleted the API key for {base_url}")?;
            } else {
                writeln!(out, "no API key was stored for {base_url}")?;
            }
        }
    }
    Ok(())
}
