//! Large language models: one client for OpenAI-compatible chat completions with SSE
//! streaming (llama.cpp's server, Ollama, vLLM, LM Studio, OpenAI, DeepSeek…), and the local
//! llama-server that StudyDesk runs itself when no provider is configured.

use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod local;

use crate::config::LlmConfig;
use ts_rs::TS;

/// The model that answers, as configured.
pub enum Backend {
    /// A remote or self-hosted OpenAI-compatible endpoint.
    Remote(ChatClient),
    /// StudyDesk's own llama-server; it stops when this value is dropped.
    Local(local::LocalServer, ChatClient),
    /// No model: answers are the retrieved passages alone. The reason says why.
    Off(String),
}

impl Backend {
    /// Connects as configured: the configured endpoint, else the local model when setup has
    /// provisioned it (starting the server, with its log at `log`), else off.
    pub fn connect(
        config: &LlmConfig,
        cache_dir: &std::path::Path,
        log: &std::path::Path,
    ) -> Result<Backend, LlmError> {
        if !config.enabled {
            return Ok(Backend::Off(
                "generation is turned off in config.toml ([llm] enabled = false)".into(),
            ));
        }
        if let Some(base_url) = &config.base_url {
            // Local servers need no key.
            let api_key = crate::keys::lookup(config.api_key_env.as_deref(), base_url)
                .map_err(|unset| LlmError::MissingKey { var: unset.0 })?;
            return Ok(Backend::Remote(ChatClient::new(Provider {
                base_url: base_url.clone(),
                model: config.model.clone().unwrap_or_else(|| "default".into()),
                api_key,
                timeout: Duration::from_secs(config.timeout_seconds),
            })));
        }
        match local::LocalServer::provisioned(cache_dir) {
            Some((binary, model)) => {
                let server = local::LocalServer::start(&binary, &model, log)?;
                let client = ChatClient::new(server.provider());
                Ok(Backend::Local(server, client))
            }
            None => Ok(Backend::Off(
                "no language model is configured and the local one is not installed (run `bash scripts/setup.sh --with-llm`, or set [llm] base_url in config.toml)".into(),
            )),
        }
    }

    pub fn client(&self) -> Option<&ChatClient> {
        match self {
            Backend::Remote(client) | Backend::Local(_, client) => Some(client),
            Backend::Off(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(
        "cannot reach the language model at {url}: {detail} (is the server running, and is the URL right?)"
    )]
    Unreachable { url: String, detail: String },
    #[error(
        "the language model at {url} refused the API key (HTTP {status}); check the key in settings"
    )]
    Unauthorized { url: String, status: u16 },
    #[error("the server at {url} has no model {model:?}: {detail}")]
    UnknownModel {
        url: String,
        model: String,
        detail: String,
    },
    #[error(
        "{url} is not an OpenAI-compatible chat endpoint (HTTP 404); the base URL usually ends in /v1"
    )]
    NotFound { url: String },
    #[error("the language model at {url} answered HTTP {status}: {detail}")]
    Http {
        url: String,
        status: u16,
        detail: String,
    },
    #[error("the language model at {url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("the answer stream from {url} broke off before it finished")]
    DroppedStream { url: String },
    #[error("the answer was cancelled")]
    Cancelled,
    #[error("the language model sent something unexpected: {0}")]
    BadResponse(String),
    #[error("the API key variable {var} named in config.toml ([llm] api_key_env) is not set")]
    MissingKey { var: String },
    #[error(transparent)]
    Keyring(#[from] crate::keys::KeyringError),
    #[error("the local language model could not start: {0}")]
    LocalServer(String),
}

/// Where a model is served and how to reach it. The key is never printed.
#[derive(Clone)]
pub struct Provider {
    /// e.g. `http://127.0.0.1:8080/v1` or `https://api.deepseek.com/v1`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    /// Longest wait for the first byte of an answer.
    pub timeout: Duration,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ChatOptions {
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Constrains the answer to JSON matching this schema (`response_format: json_schema`).
    pub json_schema: Option<serde_json::Value>,
    /// Fixes the sampler's randomness (reproducible drafts); providers may ignore it.
    pub seed: Option<u64>,
}

/// What a finished answer reports besides its text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub text: String,
    pub finish_reason: Option<String>,
    /// Seconds from sending the request to the first token.
    pub first_token_seconds: Option<f64>,
    pub tokens: usize,
}

pub struct ChatClient {
    agent: ureq::Agent,
    provider: Provider,
    retries: u32,
}

impl ChatClient {
    pub fn new(provider: Provider) -> ChatClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(provider.timeout))
            .build()
            .new_agent();
        ChatClient {
            agent,
            provider,
            retries: 3,
        }
    }

    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    fn url(&self) -> String {
        format!(
            "{}/chat/completions",
            self.provider.base_url.trim_end_matches('/')
        )
    }

    /// Streams an answer, calling `on_token` with each piece of text as it arrives. Setting
    /// `cancel` stops the stream at the next piece. Transient failures (connection refused,
    /// HTTP 429 and 5xx) are retried with backoff until the first token arrives.
    pub fn stream(
        &self,
        messages: &[Message],
        options: &ChatOptions,
        cancel: &AtomicBool,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Completion, LlmError> {
        let url = self.url();
        let body = self.body(messages, options, true);
        let started = std::time::Instant::now();
        let response = self.send_with_retries(&url, &body, cancel)?;
        let mut completion = Completion::default();
        let reader = BufReader::new(response.into_body().into_reader());
        let mut done = false;
        for line in reader.lines() {
            if cancel.load(Ordering::Relaxed) {
                return Err(LlmError::Cancelled);
            }
            let line = line.map_err(|_| LlmError::DroppedStream { url: url.clone() })?;
            let Some(data) = line.strip_prefix("data:").map(str::trim) else {
                continue;
            };
            if data == "[DONE]" {
                done = true;
                break;
            }
            let chunk: StreamChunk = serde_json::from_str(data)
                .map_err(|e| LlmError::BadResponse(format!("{e}: {data}")))?;
            if let Some(error) = chunk.error {
                return Err(LlmError::BadResponse(error.to_string()));
            }
            for choice in chunk.choices {
                if let Some(piece) = choice
                    .delta
                    .and_then(|d| d.content)
                    .filter(|p| !p.is_empty())
                {
                    completion
                        .first_token_seconds
                        .get_or_insert(started.elapsed().as_secs_f64());
                    completion.tokens += 1;
                    completion.text.push_str(&piece);
                    on_token(&piece);
                }
                if let Some(reason) = choice.finish_reason {
                    completion.finish_reason = Some(reason);
                }
            }
        }
        if !done && completion.finish_reason.is_none() {
            return Err(LlmError::DroppedStream { url });
        }
        Ok(completion)
    }

    /// A whole answer at once (for structured output, where pieces are of no use).
    pub fn complete(
        &self,
        messages: &[Message],
        options: &ChatOptions,
    ) -> Result<String, LlmError> {
        let url = self.url();
        let body = self.body(messages, options, false);
        let response = self.send_with_retries(&url, &body, &AtomicBool::new(false))?;
        let text = response
            .into_body()
            .read_to_string()
            .map_err(|_| LlmError::DroppedStream { url: url.clone() })?;
        let parsed: FullResponse = serde_json::from_str(&text)
            .map_err(|e| LlmError::BadResponse(format!("{e}: {text}")))?;
        parsed
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| LlmError::BadResponse(format!("no answer in {text}")))
    }

    fn body(&self, messages: &[Message], options: &ChatOptions, stream: bool) -> String {
        let mut body = serde_json::json!({
            "model": self.provider.model,
            "messages": messages,
            "stream": stream,
        });
        if let Some(t) = options.temperature {
            body["temperature"] = t.into();
        }
        if let Some(n) = options.max_tokens {
            body["max_tokens"] = n.into();
        }
        if let Some(seed) = options.seed {
            body["seed"] = seed.into();
        }
        if let Some(schema) = &options.json_schema {
            body["response_format"] = serde_json::json!({
                "type": "json_schema",
                "json_schema": { "name": "answer", "strict": true, "schema": schema },
            });
        }
        body.to_string()
    }

    fn send_with_retries(
        &self,
        url: &str,
        body: &str,
        cancel: &AtomicBool,
    ) -> Result<ureq::http::Response<ureq::Body>, LlmError> {
        let mut attempt = 0;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(LlmError::Cancelled);
            }
            let result = self.send_once(url, body);
            let transient = match &result {
                Err(LlmError::Unreachable { .. }) => true,
                Err(LlmError::Http { status, .. }) => *status == 429 || *status >= 500,
                _ => false,
            };
            if !transient || attempt >= self.retries {
                return result;
            }
            attempt += 1;
            std::thread::sleep(Duration::from_millis(250 * 2u64.pow(attempt)));
        }
    }

    fn send_once(
        &self,
        url: &str,
        body: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, LlmError> {
        let mut request = self
            .agent
            .post(url)
            .header("content-type", "application/json");
        if let Some(key) = &self.provider.api_key {
            request = request.header("authorization", &format!("Bearer {key}"));
        }
        let response = request.send(body).map_err(|e| match e {
            ureq::Error::Timeout(_) => LlmError::Timeout {
                url: url.to_string(),
                seconds: self.provider.timeout.as_secs(),
            },
            other => LlmError::Unreachable {
                url: url.to_string(),
                detail: other.to_string(),
            },
        })?;
        let status = response.status().as_u16();
        if status < 400 {
            return Ok(response);
        }
        let detail = response.into_body().read_to_string().unwrap_or_default();
        let detail: String = detail.chars().take(300).collect();
        Err(match status {
            401 | 403 => LlmError::Unauthorized {
                url: url.to_string(),
                status,
            },
            404 if detail.to_lowercase().contains("model") => LlmError::UnknownModel {
                url: url.to_string(),
                model: self.provider.model.clone(),
                detail,
            },
            404 => LlmError::NotFound {
                url: url.to_string(),
            },
            _ => LlmError::Http {
                url: url.to_string(),
                status,
                detail,
            },
        })
    }
}

#[derive(Deserialize)]
struct StreamChunk {
    #[serde(default)]
    choices: Vec<StreamChoice>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct StreamChoice {
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
}

#[derive(Deserialize)]
struct FullResponse {
    choices: Vec<FullChoice>,
}

#[derive(Deserialize)]
struct FullChoice {
    message: Delta,
}
