//! Large language models: one client for OpenAI-compatible chat completions with SSE
//! streaming (llama.cpp's server, Ollama, vLLM, LM Studio, OpenAI, DeepSeek…), and the local
//! llama-server that StudyDesk runs itself when no provider is configured.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub mod local;

use crate::cancel::Cancel;
use crate::config::LlmConfig;
use crate::error::{Classify, ErrorKind, Remedy};

/// The model that answers, as configured.
pub enum Backend {
    /// A remote or self-hosted OpenAI-compatible endpoint.
    Remote(ChatClient),
    /// StudyDesk's own llama-server; it stops when this value is dropped.
    Local(local::LocalServer, ChatClient),
    /// No model: answers are the retrieved passages alone.
    Off(OffReason),
}

/// Why there is no model.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OffReason {
    /// `[llm] enabled = false` in config.toml.
    Disabled,
    /// No provider is configured and the local model is not provisioned.
    NotInstalled,
    /// The learner asked to grade themselves.
    SelfGrade,
}

impl std::fmt::Display for OffReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OffReason::Disabled => {
                "generation is turned off in the settings ([llm] enabled = false)"
            }
            OffReason::NotInstalled => {
                "no language model is configured and the local one is not installed"
            }
            OffReason::SelfGrade => "self-grading was asked for",
        })
    }
}

impl Backend {
    /// What `connect` would do with this configuration, without starting anything: whether a
    /// local server would be started (slow), and which model tier.
    pub fn plan(config: &LlmConfig, cache_dir: &std::path::Path) -> Plan {
        if !config.enabled {
            return Plan::Off(OffReason::Disabled);
        }
        if config.base_url.is_some() {
            return Plan::Remote;
        }
        match local::LocalModel::choose(config.local_model, cache_dir) {
            Some(model) => Plan::Local(model),
            None => Plan::Off(OffReason::NotInstalled),
        }
    }

    /// Connects as configured: the configured endpoint, else the local model when it is
    /// provisioned (starting the server, with its log at `log`), else off.
    pub fn connect(
        config: &LlmConfig,
        cache_dir: &std::path::Path,
        log: &std::path::Path,
    ) -> Result<Backend, LlmError> {
        match Backend::plan(config, cache_dir) {
            Plan::Off(reason) => Ok(Backend::Off(reason)),
            Plan::Remote => {
                let base_url = config.base_url.clone().unwrap_or_default();
                // Local servers need no key.
                let api_key = crate::keys::lookup(config.api_key_env.as_deref(), &base_url)
                    .map_err(|unset| LlmError::MissingKey { var: unset.0 })?;
                Ok(Backend::Remote(ChatClient::new(Provider {
                    base_url,
                    model: config.model.clone().unwrap_or_else(|| "default".into()),
                    api_key,
                    timeout: Duration::from_secs(config.timeout_seconds),
                    llama_cpp: false,
                })))
            }
            Plan::Local(model) => {
                let server = local::LocalServer::start(&model, log)?;
                let client = ChatClient::new(server.provider());
                Ok(Backend::Local(server, client))
            }
        }
    }

    pub fn client(&self) -> Option<&ChatClient> {
        match self {
            Backend::Remote(client) | Backend::Local(_, client) => Some(client),
            Backend::Off(_) => None,
        }
    }

    /// False once a local server has died (it is then started again on the next use).
    pub fn is_alive(&self) -> bool {
        match self {
            Backend::Local(server, _) => server.is_alive(),
            _ => true,
        }
    }
}

/// How a configuration would connect.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Off(OffReason),
    Remote,
    Local(local::LocalModel),
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(
        "cannot reach the language model at {url}: {detail} (is the server running, and is the URL right?)"
    )]
    Unreachable { url: String, detail: String },
    #[error("the language model at {url} refused the API key (HTTP {status})")]
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

impl Classify for LlmError {
    fn kind(&self) -> ErrorKind {
        match self {
            LlmError::Cancelled => ErrorKind::Cancelled,
            LlmError::MissingKey { .. } | LlmError::Keyring(_) | LlmError::LocalServer(_) => {
                ErrorKind::Setup
            }
            _ => ErrorKind::Model,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            LlmError::Unauthorized { .. } | LlmError::MissingKey { .. } => {
                Some(Remedy::StoreModelKey)
            }
            _ => None,
        }
    }
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
    /// llama.cpp's server, which takes fields other providers refuse (`cache_prompt`).
    pub llama_cpp: bool,
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

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
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
    /// Asks for the log-probabilities of this many alternatives to each generated token.
    pub top_logprobs: Option<u32>,
    /// Discourages repeating tokens already written (a small model may loop).
    pub frequency_penalty: Option<f32>,
}

/// What a finished answer reports besides its text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub text: String,
    pub finish_reason: Option<String>,
    /// Seconds from sending the request to the first token.
    pub first_token_seconds: Option<f64>,
    pub tokens: usize,
    /// The first token's most likely alternatives with their probabilities, when asked for
    /// (`ChatOptions::top_logprobs`) and the provider gives them.
    pub first_token_alternatives: Vec<(String, f32)>,
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

    /// Streams an answer, calling `on_token` with each piece of text as it arrives. When
    /// `cancel` is set, the stream is dropped at the next piece: closing the connection is
    /// what makes the server stop generating. Transient failures (connection refused, HTTP
    /// 429 and 5xx) are retried with backoff until the first token arrives.
    pub fn stream(
        &self,
        messages: &[Message],
        options: &ChatOptions,
        cancel: &Cancel,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Completion, LlmError> {
        let url = self.url();
        let body = self.body(messages, options);
        let started = std::time::Instant::now();
        let response = self.send_with_retries(&url, &body, cancel)?;
        let mut completion = Completion::default();
        let reader = BufReader::new(response.into_body().into_reader());
        let mut done = false;
        for line in reader.lines() {
            if cancel.is_cancelled() {
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
                if completion.first_token_alternatives.is_empty()
                    && let Some(first) = choice.logprobs.and_then(|l| l.content.into_iter().next())
                {
                    completion.first_token_alternatives = first
                        .top_logprobs
                        .into_iter()
                        .map(|t| (t.token, t.logprob.exp()))
                        .collect();
                }
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

    /// A whole answer at once (structured output, rewrites: pieces are of no use there). It is
    /// streamed all the same, so that `cancel` stops the model here too.
    pub fn complete(
        &self,
        messages: &[Message],
        options: &ChatOptions,
        cancel: &Cancel,
    ) -> Result<String, LlmError> {
        Ok(self.stream(messages, options, cancel, &mut |_| {})?.text)
    }

    /// How likely the model is to answer "yes" rather than "no": the probability of "yes"
    /// among the two as the first word of its reply, read from the first token's
    /// alternatives. A small model's sampled word is nearly always "yes"; how far that
    /// probability moves from one answer to another is what carries the judgement. Without
    /// log-probabilities from the provider, the sampled word itself (1 or 0).
    pub fn yes_probability(&self, messages: &[Message], cancel: &Cancel) -> Result<f32, LlmError> {
        let options = ChatOptions {
            temperature: Some(0.0),
            max_tokens: Some(1),
            top_logprobs: Some(20),
            ..ChatOptions::default()
        };
        let completion = self.stream(messages, &options, cancel, &mut |_| {})?;
        let (mut yes, mut no) = (0.0f32, 0.0f32);
        for (token, p) in &completion.first_token_alternatives {
            match token.trim().to_lowercase().as_str() {
                "yes" | "y" | "是" => yes += p,
                "no" | "n" | "否" => no += p,
                _ => {}
            }
        }
        if yes + no > 0.0 {
            return Ok(yes / (yes + no));
        }
        let word = completion.text.trim().to_lowercase();
        Ok(if word.starts_with('y') || word.starts_with('是') {
            1.0
        } else {
            0.0
        })
    }

    fn body(&self, messages: &[Message], options: &ChatOptions) -> String {
        let mut body = serde_json::json!({
            "model": self.provider.model,
            "messages": messages,
            "stream": true,
        });
        if self.provider.llama_cpp {
            // Reuse the evaluated prompt prefix (the fixed instructions, an earlier turn)
            // instead of reading it again: on a small CPU reading the prompt is most of the wait.
            body["cache_prompt"] = true.into();
        }
        if let Some(t) = options.temperature {
            body["temperature"] = t.into();
        }
        if let Some(n) = options.max_tokens {
            body["max_tokens"] = n.into();
        }
        if let Some(seed) = options.seed {
            body["seed"] = seed.into();
        }
        if let Some(p) = options.frequency_penalty {
            body["frequency_penalty"] = p.into();
        }
        if let Some(n) = options.top_logprobs {
            body["logprobs"] = true.into();
            body["top_logprobs"] = n.into();
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
        cancel: &Cancel,
    ) -> Result<ureq::http::Response<ureq::Body>, LlmError> {
        let mut attempt = 0;
        loop {
            if cancel.is_cancelled() {
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
    #[serde(default)]
    logprobs: Option<Logprobs>,
}

#[derive(Deserialize)]
struct Logprobs {
    #[serde(default)]
    content: Vec<TokenLogprob>,
}

#[derive(Deserialize)]
struct TokenLogprob {
    #[serde(default)]
    top_logprobs: Vec<Alternative>,
}

#[derive(Deserialize)]
struct Alternative {
    token: String,
    logprob: f32,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
}
