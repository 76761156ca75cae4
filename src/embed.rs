//! Embeddings: multilingual-e5-small (384-d, mean pooling) through fastembed and ONNX Runtime.
//!
//! The model comes from the cache folder, where setup builds it offline from registry
//! packages; where the cache lacks it, fastembed's normal download from the Hugging Face hub
//! is tried. ONNX Runtime is loaded at run time from the library setup provisions.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

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

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "ONNX Runtime is not installed at {path}: run `bash scripts/setup.sh`, or set {ORT_ENV} to a libonnxruntime.so (1.24 or newer)"
    )]
    RuntimeMissing { path: PathBuf },
    #[error("cannot load ONNX Runtime from {path}: {message}")]
    Runtime { path: PathBuf, message: String },
    #[error(
        "the embedding model is not in {dir} and could not be downloaded ({message}): run `bash scripts/setup.sh` to build it offline"
    )]
    ModelMissing { dir: PathBuf, message: String },
    #[error("cannot read model file {path}: {source}")]
    ModelFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot load the embedding model: {0}")]
    Load(String),
    #[error("embedding failed: {0}")]
    Inference(String),
}

pub struct Embedder {
    // fastembed needs `&mut` to run a batch; one session serves all callers in turn.
    model: Mutex<TextEmbedding>,
    /// Names the model and its build, so the index is rebuilt when either changes.
    pub model_id: String,
}

impl Embedder {
    /// Loads the model from `cache_dir`, or from the hub when the cache has none.
    pub fn open(cache_dir: &Path) -> Result<Embedder, EmbedError> {
        load_runtime(&ort_path(cache_dir))?;
        let dir = cache_dir.join(MODEL_RELATIVE_DIR);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if dir.join("model.onnx").is_file() {
            let read = |name: &str| {
                let path = dir.join(name);
                std::fs::read(&path).map_err(|source| EmbedError::ModelFile { path, source })
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
                .with_max_length(MAX_TOKENS)
                .with_intra_threads(threads);
            let model = TextEmbedding::try_new_from_user_defined(model, options)
                .map_err(|e| EmbedError::Load(e.to_string()))?;
            return Ok(Embedder {
                model: Mutex::new(model),
                model_id: format!("multilingual-e5-small@{}", &digest[..12]),
            });
        }
        let options = TextInitOptions::new(EmbeddingModel::MultilingualE5Small)
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
            model_id: "multilingual-e5-small@hub".into(),
        })
    }

    pub fn embed_query(&self, query: &str) -> Result<Vec<f32>, EmbedError> {
        let mut out = self.run(QUERY_PREFIX, &[query])?;
        Ok(out.pop().unwrap_or_default())
    }

    pub fn embed_queries(&self, queries: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.run(QUERY_PREFIX, queries)
    }

    pub fn embed_passages(&self, passages: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.run(PASSAGE_PREFIX, passages)
    }

    /// Embeds in batches of similar length: a batch is padded to its longest text, so mixing
    /// a 20-token bank item with a 300-token page passage wastes most of the work.
    fn run(&self, prefix: &str, texts: &[impl AsRef<str>]) -> Result<Vec<Vec<f32>>, EmbedError> {
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

/// `ort` panics on first use when its library is missing, so check and load it up front.
fn load_runtime(path: &Path) -> Result<(), EmbedError> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    if !path.is_file() {
        return Err(EmbedError::RuntimeMissing {
            path: path.to_path_buf(),
        });
    }
    LOADED
        .get_or_init(|| {
            std::panic::catch_unwind(|| ort::init_from(path).map(drop).map_err(|e| e.to_string()))
                .unwrap_or_else(|_| Err("the library could not be loaded".into()))
        })
        .clone()
        .map_err(|message| EmbedError::Runtime {
            path: path.to_path_buf(),
            message,
        })
}
