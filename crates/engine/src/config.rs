//! Where StudyDesk keeps its data, and the user's settings (`config.toml` in the data folder).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Classify, ErrorKind};
use crate::llm::local::TierChoice;
use crate::text::Lang;

/// Overrides the data folder (the `--data-dir` flag wins over it).
pub const DATA_DIR_ENV: &str = "STUDYDESK_DATA_DIR";
/// Overrides the cache folder where provisioned models and libraries live.
pub const CACHE_DIR_ENV: &str = "STUDYDESK_CACHE";
pub const CONFIG_FILE: &str = "config.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no home folder to keep StudyDesk's data in; set {DATA_DIR_ENV} or pass --data-dir")]
    NoHome,
    #[error("cannot create data folder {path}: {error}")]
    CreateDir {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path} is not valid StudyDesk configuration: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// The folders StudyDesk reads and writes.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Index, records, review history and `config.toml`.
    pub data_dir: PathBuf,
    /// Provisioned models and native libraries; safe to delete (setup re-creates it).
    pub cache_dir: PathBuf,
}

impl Paths {
    /// `explicit` (the `--data-dir` flag) wins, then `STUDYDESK_DATA_DIR`, then the OS data folder
    /// (`~/.local/share/studydesk` on Linux).
    pub fn resolve(explicit: Option<&Path>) -> Result<Paths, ConfigError> {
        let dirs = directories::ProjectDirs::from("", "", "studydesk");
        let data_dir = match (explicit, std::env::var_os(DATA_DIR_ENV)) {
            (Some(dir), _) => dir.to_path_buf(),
            (None, Some(dir)) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs
                .as_ref()
                .ok_or(ConfigError::NoHome)?
                .data_dir()
                .to_path_buf(),
        };
        let cache_dir = match std::env::var_os(CACHE_DIR_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs
                .as_ref()
                .ok_or(ConfigError::NoHome)?
                .cache_dir()
                .to_path_buf(),
        };
        Ok(Paths {
            data_dir,
            cache_dir,
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.data_dir.join(CONFIG_FILE)
    }

    pub fn ensure_data_dir(&self) -> Result<(), ConfigError> {
        std::fs::create_dir_all(&self.data_dir).map_err(|error| ConfigError::CreateDir {
            path: self.data_dir.clone(),
            error,
        })
    }
}

/// The user's settings. Every field has a default, so a missing file means "all defaults";
/// unknown keys are refused so that a typo is reported instead of silently ignored.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The language StudyDesk writes answers, explanations and feedback in: "zh" or "en";
    /// unset, each follows its question's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Lang>,
    /// Where the index lives: the embedded engine in the data folder, or a Qdrant server.
    pub store: StoreConfig,
    /// The language model that writes answers.
    pub llm: LlmConfig,
    pub quiz: QuizConfig,
}

/// Where the passages and their vectors are stored and searched.
///
/// In `config.toml`: `store = "embedded"` (the default: qdrant-edge in the data folder), or
/// `store = { qdrant_url = "https://…:6334", api_key_env = "…", collection = "…" }` for a
/// Qdrant server or cluster. Either way the records (documents, chats, reviews) stay in the
/// data folder.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Default, PartialEq)]
#[ts(untagged)]
pub enum StoreConfig {
    #[default]
    #[ts(type = "\"embedded\"")]
    Embedded,
    Server(ServerStoreConfig),
}

/// A Qdrant server (or cluster) reached over gRPC.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerStoreConfig {
    /// The server's gRPC address, e.g. "http://localhost:6334"; "https://" uses TLS.
    pub qdrant_url: String,
    /// Name of the environment variable that holds the API key. Without it, the key stored in
    /// the OS keyring for `qdrant_url` is used (`studydesk key set --store`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// The collection that holds this library; one collection per library.
    #[serde(default = "default_collection")]
    pub collection: String,
    /// When StudyDesk creates the collection on a cluster: the shards it is split into…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_number: Option<u32>,
    /// …and the copies of each shard on different nodes (2 or more keeps search and import
    /// working when a node is lost). Unset: the server's defaults (one copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_factor: Option<u32>,
}

pub const DEFAULT_COLLECTION: &str = "studydesk";

fn default_collection() -> String {
    DEFAULT_COLLECTION.to_string()
}

impl Serialize for StoreConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            StoreConfig::Embedded => serializer.serialize_str("embedded"),
            StoreConfig::Server(server) => server.serialize(serializer),
        }
    }
}

// By hand rather than `untagged`, so that a typo inside the server table is reported as such
// instead of "data did not match any variant".
impl<'de> Deserialize<'de> for StoreConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = StoreConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#""embedded" or a table { qdrant_url = "http://…:6334", … }"#)
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<StoreConfig, E> {
                match value {
                    "embedded" => Ok(StoreConfig::Embedded),
                    other => Err(E::custom(format!(
                        r#"unknown store {other:?}: use "embedded" or {{ qdrant_url = "http://…:6334" }}"#
                    ))),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<StoreConfig, A::Error> {
                ServerStoreConfig::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(StoreConfig::Server)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Spaced-repetition settings.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuizConfig {
    /// The recall probability reviews are scheduled for: higher means more frequent reviews.
    pub desired_retention: f64,
    /// New questions added to a session after the due ones.
    pub new_cards: usize,
    /// "YYYY-MM-DD": the plan sets the daily new questions and the review retention so that
    /// every question is seen and recalled at the desired retention on this day.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub interview_date: Option<String>,
}

impl Default for QuizConfig {
    fn default() -> Self {
        QuizConfig {
            desired_retention: 0.9,
            new_cards: 10,
            interview_date: None,
        }
    }
}

/// Which language model answers. With no `base_url`, StudyDesk runs its local model.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// `false` turns generation off: answers are then the cited passages alone.
    pub enabled: bool,
    /// An OpenAI-compatible endpoint, e.g. "https://api.deepseek.com/v1" or
    /// "http://127.0.0.1:11434/v1" (Ollama).
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// Name of the environment variable that holds the API key; the key itself never goes
    /// into this file.
    pub api_key_env: Option<String>,
    /// Longest wait for an answer to start.
    pub timeout_seconds: u64,
    /// The local model when no `base_url` is set: "fast" (0.5B), "better" (1.5B) or "auto"
    /// (the better one on machines with 4 cores and 8 GiB or more).
    pub local_model: TierChoice,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            enabled: true,
            base_url: None,
            model: None,
            api_key_env: None,
            timeout_seconds: 120,
            local_model: TierChoice::Auto,
        }
    }
}

impl Config {
    /// Reads `config.toml` from the data folder; a missing file gives the defaults.
    pub fn load(paths: &Paths) -> Result<Config, ConfigError> {
        let path = paths.config_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Invalid {
                path,
                message: e.message().to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(error) => Err(ConfigError::Read { path, error }),
        }
    }

    pub fn save(&self, paths: &Paths) -> Result<(), ConfigError> {
        paths.ensure_data_dir()?;
        let path = paths.config_file();
        let text = toml::to_string_pretty(self).expect("config serialises");
        // Write then rename, so a crash never leaves a half-written config behind.
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|error| ConfigError::Write { path, error })
    }
}

impl Classify for ConfigError {
    fn kind(&self) -> ErrorKind {
        match self {
            ConfigError::Invalid { .. } => ErrorKind::Input,
            _ => ErrorKind::Setup,
        }
    }
}
