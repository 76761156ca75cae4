//! API keys in the OS keyring (the Secret Service on Linux: GNOME Keyring, KWallet; the
//! Keychain on macOS; the Credential Manager on Windows), one per service URL: a language-model
//! endpoint or a Qdrant server. Keys never go into config.toml or a log; an environment variable
//! named in the config still wins, for scripts and CI.

use crate::error::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error)]
#[error("API key store: {0}")]
pub struct KeyringError(String);

const SERVICE: &str = "studydesk";

/// The environment variable config.toml names for a key is not set (or is empty).
#[derive(Debug)]
pub struct UnsetVariable(pub String);

/// The key for a service: the environment variable named in config.toml wins (scripts, CI);
/// otherwise the OS keyring's entry for `url`, if any. Without a keyring there is no stored
/// key, and a service that needs one says so when it refuses the request.
pub fn lookup(env_var: Option<&str>, url: &str) -> Result<Option<String>, UnsetVariable> {
    match env_var {
        Some(var) => match std::env::var(var) {
            Ok(key) if !key.trim().is_empty() => Ok(Some(key.trim().to_string())),
            _ => Err(UnsetVariable(var.to_string())),
        },
        None => Ok(load(url).unwrap_or(None)),
    }
}

/// Each service has its own key: the account is the base URL without a trailing slash.
fn account(base_url: &str) -> String {
    base_url.trim().trim_end_matches('/').to_string()
}

fn entry(base_url: &str) -> Result<keyring::Entry, KeyringError> {
    keyring::Entry::new(SERVICE, &account(base_url)).map_err(unavailable)
}

fn unavailable(error: keyring::Error) -> KeyringError {
    KeyringError(match error {
        keyring::Error::NoDefaultStore | keyring::Error::PlatformFailure(_) => format!(
            "no OS keyring is available ({error}); on Linux it needs a running Secret Service such as GNOME Keyring, or put the key in an environment variable and name it in config.toml (api_key_env)"
        ),
        other => other.to_string(),
    })
}

/// Stores (or replaces) the key for a service.
pub fn store(base_url: &str, key: &str) -> Result<(), KeyringError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(KeyringError("the API key is empty".into()));
    }
    entry(base_url)?.set_password(key).map_err(unavailable)
}

/// The stored key for a service, if any.
pub fn load(base_url: &str) -> Result<Option<String>, KeyringError> {
    match entry(base_url)?.get_password() {
        Ok(key) => Ok(Some(key)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(other) => Err(unavailable(other)),
    }
}

/// Deletes the stored key; false when there was none.
pub fn delete(base_url: &str) -> Result<bool, KeyringError> {
    match entry(base_url)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(other) => Err(unavailable(other)),
    }
}

impl Classify for KeyringError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Setup
    }
}
