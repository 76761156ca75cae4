//! Embeddings: multilingual-e5-small (384-d, mean pooling) through fastembed and ONNX Runtime.
//!
//! The model comes from the cache folder, where setup builds it offline from registry
//! packages; where the cache lacks it, fastembed's normal download from the Hugging Face hub
//! is tried. ONNX Runtime is loaded at run time from the library setup provisions.

use crate::error::{Classify, ErrorKind, Remedy};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

use fastembed::{
    EmbeddingModel, InitOptionsUserDefined, Pooling, TextEmbedding, TextInitOptions,
    TokenizerFiles, UserDefinedEmbeddingModel,
};

pub const DIMENSION: usize = 384;
/// Where setup puts the model, inside the cache folder.
pub const MODEL_RELATIVE_DIR: &str = "models/multilingual-e5-small";
pub const ORT_RELATIVE_PATH: &str = "onnxruntime/libonnxruntime.so";
/// Overrides the ONNX Runtime library (the variable `ort` itself reads).
pub const ORT_ENV: &str = "ORT_DYLIB_PATH";
/// e5 was trained with these prefixes; without them retrieval quality drops.
const QUERY_PREFIX: &str = "query: ";
const PASSAGE_PREFIX: &str = "passage: ";
const MAX_TOKENS: usize = 512;
const BATCH: usize = 16;
/// Query vectors kept (a few MB).
const QUERY_CACHE: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "ONNX Runtime is not installed at {path} (or set {ORT_ENV} to a libonnxruntime.so, 1.24 or newer)"
    )]
    RuntimeMissing { path: PathBuf },
    #[error("cannot load ONNX Runtime from {path}: {message}")]
    Runtime { path: PathBuf, message: String },
    #[error("the embedding model is not in {dir} and could not be downloaded ({message})")]
    ModelMissing { dir: PathBuf, message: String },
    #[error("cannot read model file {path}: {error}")]
    ModelFile {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot load the embedding model: {0}")]
    Load(String),
    #[error("embedding failed: {0}")]
    Inference(String),
}

pub struct Embedder {
    // fastembed needs `&mut` to run a batch; one session serves all callers in turn.
    model: Mutex<TextEmbedding>,
    /// Recent query vectors: a learner asks, follows up, searches again with the same words,
    /// and the bridged form of a query recurs across partitions.
    queries: Mutex<HashMap<String, Vec<f32>>>,
    /// Names the model and its build, so the index is rebuilt when either changes.
    pub model_id: String,
}

impl Embedder {
    /// Loads the model from `cache_dir`, or from the hub when the cache has none.
    pub fn open(cache_dir: &Path) -> Result<Embedder, EmbedError> {
        let environment = ort_environment(&ort_path(cache_dir))?;
        let dir = cache_dir.join(MODEL_RELATIVE_DIR);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if dir.join("model.onnx").is_file() {
            let read = |name: &str| {
                let path = dir.join(name);
                std::fs::read(&path).map_err(|error| EmbedError::ModelFile { path, error })
            };
            let onnx = read("model.onnx")?;
            let digest = crate::sha256_hex(&onnx);
            let files = TokenizerFiles {
                tokenizer_file: read("tokenizer.json")?,
                config_file: read("config.json")?,
                special_tokens_map_file: read("special_tokens_map.json")?,
                tokenizer_config_file: read("tokenizer_config.json")?,
            };
            let model = UserDefinedEmbeddingModel::new(onnx, files).with_pooling(Pooling::Mean);
            let options = InitOptionsUserDefined::new()
                .with_environment(environment)
                .with_max_length(MAX_TOKENS)
                .with_intra_threads(threads);
            let model = TextEmbedding::try_new_from_user_defined(model, options)
                .map_err(|e| EmbedError::Load(e.to_string()))?;
            return Ok(Embedder {
                model: Mutex::new(model),
                queries: Mutex::default(),
                model_id: format!("multilingual-e5-small@{}", &digest[..12]),
            });
        }
        let options = TextInitOptions::new(EmbeddingModel::MultilingualE5Small)
            .with_environment(environment)
            .with_cache_dir(cache_dir.join("hf-hub"))
            .with_max_length(MAX_TOKENS)
            .with_intra_threads(threads)
            .with_show_download_progress(false);
        let model = TextEmbedding::try_new(options).map_err(|e| EmbedError::ModelMissing {
            dir: dir.clone(),
            message: e.to_string(),
        })?;
        Ok(Embedder {
            model: Mutex::new(model),
            queries: Mutex::default(),
            model_id: "multilingual-e5-small@hub".into(),
        })
    }

    pub fn embed_query(&self, query: &str) -> Result<Vec<f32>, EmbedError> {
        let mut out = self.embed_queries(&[query.to_string()])?;
        Ok(out.pop().unwrap_or_default())
    }

    /// Query vectors; those of recent queries come from the cache, the rest are embedded in
    /// one batch.
    pub fn embed_queries(&self, queries: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let cached: Vec<Option<Vec<f32>>> = {
            let cache = self.queries.lock().unwrap_or_else(|p| p.into_inner());
            queries.iter().map(|q| cache.get(q).cloned()).collect()
        };
        let mut missing: Vec<String> = queries
            .iter()
            .zip(&cached)
            .filter(|(_, c)| c.is_none())
            .map(|(q, _)| q.clone())
            .collect();
        missing.sort();
        missing.dedup();
        let fresh = self.run(QUERY_PREFIX, &missing)?;
        let mut cache = self.queries.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() + missing.len() > QUERY_CACHE {
            cache.clear();
        }
        cache.extend(missing.into_iter().zip(fresh));
        Ok(queries
            .iter()
            .zip(cached)
            .map(|(q, c)| c.or_else(|| cache.get(q).cloned()).unwrap_or_default())
            .collect())
    }

    /// Forgets the cached query vectors, so the next queries are embedded again (the bench
    /// times a first embedding this way).
    pub fn forget_queries(&self) {
        self.queries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    pub fn embed_passages(&self, passages: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.run(PASSAGE_PREFIX, passages)
    }

    /// Embeds in batches of similar length: a batch is padded to its longest text, so mixing
    /// a 20-token bank item with a 300-token page passage wastes most of the work.
    fn run(&self, prefix: &str, texts: &[impl AsRef<str>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = texts
            .iter()
            .map(|t| format!("{prefix}{}", t.as_ref()))
            .collect();
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let sorted: Vec<&str> = order.iter().map(|&i| texts[i].as_str()).collect();
        let mut model = self
            .model
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let vectors = model
            .embed(&sorted, Some(BATCH))
            .map_err(|e| EmbedError::Inference(e.to_string()))?;
        let mut out = vec![Vec::new(); texts.len()];
        for (slot, vector) in order.into_iter().zip(vectors) {
            out[slot] = vector;
        }
        Ok(out)
    }
}

/// The ONNX Runtime library to use: `ORT_DYLIB_PATH`, else the one setup put in the cache.
pub fn ort_path(cache_dir: &Path) -> PathBuf {
    match std::env::var_os(ORT_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => cache_dir.join(ORT_RELATIVE_PATH),
    }
}

/// The process's ONNX Runtime environment, loading the library on first use. `ort` allows one
/// environment per process, and both the embedder and OCR run on it. (`ort` panics on first use
/// when its library is missing, so the library is checked and loaded up front.)
pub fn ort_environment(path: &Path) -> Result<Environment, EmbedError> {
    static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();
    if !path.is_file() {
        return Err(EmbedError::RuntimeMissing {
            path: path.to_path_buf(),
        });
    }
    ENVIRONMENT
        .get_or_init(|| {
            std::panic::catch_unwind(|| ort::init_from(path).map(drop).map_err(|e| e.to_string()))
                .unwrap_or_else(|_| Err("the library could not be loaded".into()))?;
            ort::init()
                .with_name("studydesk")
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|message| EmbedError::Runtime {
            path: path.to_path_buf(),
            message,
        })
}

impl Classify for EmbedError {
    fn kind(&self) -> ErrorKind {
        match self {
            EmbedError::Inference(_) => ErrorKind::Internal,
            _ => ErrorKind::Setup,
        }
    }
    fn remedy(&self) -> Option<Remedy> {
        (self.kind() == ErrorKind::Setup).then_some(Remedy::InstallRuntime)
    }
}
