//! The local model: a llama.cpp `llama-server` that StudyDesk starts on 127.0.0.1, on a free
//! port, with a random API key, checks for health and stops on drop (the app layer starts a
//! new one when it finds this one dead). Two tiers of model, picked by the machine or the
//! settings.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{LlmError, Provider};

/// Where setup puts the server inside the cache folder.
pub const SERVER_RELATIVE_PATH: &str = "llama/llama-server";
/// Context window the server is started with; prompts are trimmed to fit it.
pub const CONTEXT_TOKENS: u32 = 4096;
const STARTUP_LIMIT: Duration = Duration::from_secs(120);

/// The local models StudyDesk can run, smallest first.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, 491 MB): answers in seconds on two cores.
    Fast,
    /// Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, 1.1 GB): more of the facts, about 2.4× slower.
    Better,
}

/// Which tier to run: one of them, or the best the machine can run at a usable speed.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TierChoice {
    #[default]
    Auto,
    Fast,
    Better,
}

impl Tier {
    pub const ALL: [Tier; 2] = [Tier::Fast, Tier::Better];

    /// Where setup puts the model inside the cache folder.
    pub fn relative_path(self) -> &'static str {
        match self {
            Tier::Fast => "models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            Tier::Better => "models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        }
    }

    /// For people: "Qwen2.5-Coder 0.5B (fast)".
    pub fn label(self) -> &'static str {
        match self {
            Tier::Fast => "Qwen2.5-Coder 0.5B (fast)",
            Tier::Better => "Qwen2.5-Coder 1.5B (better)",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Fast => "fast",
            Tier::Better => "better",
        }
    }

    /// The tier a machine runs well. Reading a prompt is compute-bound, but StudyDesk's
    /// prompts are short (key sentences, one decision per call): measured on 2 cores with
    /// `studydesk eval-answers` and `eval-grades`, the 1.5B answers in a median 4.4 s (its
    /// quotes show after 1.5 s) against 2.2 s for the 0.5B, and grades in 4.3 s against
    /// 2.3 s, with grades that separate good, partial and wrong answers better (mean 3.2 /
    /// 2.2 / 1.2 against 3.8 / 2.5 / 2.2). So memory decides: the 1.5B needs about 1.5 GB
    /// beside the app.
    pub fn for_machine(cores: usize, memory_bytes: u64) -> Tier {
        if cores >= 2 && memory_bytes >= 8 << 30 {
            Tier::Better
        } else {
            Tier::Fast
        }
    }

    /// `for_machine` of this computer.
    pub fn for_this_machine() -> Tier {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Tier::for_machine(cores, physical_memory().unwrap_or(0))
    }
}

impl TierChoice {
    /// The tier this choice means on this computer.
    pub fn resolve(self) -> Tier {
        match self {
            TierChoice::Auto => Tier::for_this_machine(),
            TierChoice::Fast => Tier::Fast,
            TierChoice::Better => Tier::Better,
        }
    }
}

/// A provisioned local model: the server binary and the weights of one tier.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalModel {
    pub tier: Tier,
    pub binary: PathBuf,
    pub weights: PathBuf,
}

impl LocalModel {
    /// The model `choice` names, if setup provisioned it. `Auto` takes the machine's tier,
    /// or the other one when only that is provisioned.
    pub fn choose(choice: TierChoice, cache_dir: &Path) -> Option<LocalModel> {
        let binary = cache_dir.join(SERVER_RELATIVE_PATH);
        if !binary.is_file() {
            return None;
        }
        let provisioned = |tier: Tier| {
            let weights = cache_dir.join(tier.relative_path());
            weights.is_file().then(|| LocalModel {
                tier,
                binary: binary.clone(),
                weights,
            })
        };
        let wanted = choice.resolve();
        provisioned(wanted).or_else(|| match choice {
            TierChoice::Auto => Tier::ALL
                .into_iter()
                .filter(|&t| t != wanted)
                .find_map(provisioned),
            _ => None,
        })
    }
}

/// Total physical memory, where the OS says.
fn physical_memory() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf only reads system constants.
        let (pages, size) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        (pages > 0 && size > 0).then(|| pages as u64 * size as u64)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

pub struct LocalServer {
    /// Behind a lock so that a shared server can be asked whether it still runs.
    child: Mutex<Option<Child>>,
    model: LocalModel,
    log: PathBuf,
    port: u16,
    api_key: String,
    threads: usize,
}

impl LocalServer {
    /// Starts the server and waits until it answers its health check. Its output goes to
    /// `log`, which is quoted when it fails to start.
    pub fn start(model: &LocalModel, log: &Path) -> Result<LocalServer, LlmError> {
        // ggml's threads spin; leave a core for the rest of the app on larger machines.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        let mut server = LocalServer {
            child: Mutex::new(None),
            model: model.clone(),
            log: log.to_path_buf(),
            port: free_port()?,
            api_key: random_key(),
            threads,
        };
        server.launch()?;
        Ok(server)
    }

    pub fn model(&self) -> &LocalModel {
        &self.model
    }

    fn child(&self) -> std::sync::MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stop(&self) {
        if let Some(mut child) = self.child().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn launch(&mut self) -> Result<(), LlmError> {
        let log = std::fs::File::create(&self.log).map_err(|e| {
            LlmError::LocalServer(format!("cannot write {}: {e}", self.log.display()))
        })?;
        let log_err = log
            .try_clone()
            .map_err(|e| LlmError::LocalServer(e.to_string()))?;
        let mut command = Command::new(&self.model.binary);
        command
            .arg("--model")
            .arg(&self.model.weights)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--api-key", &self.api_key])
            .args(["--ctx-size", &CONTEXT_TOKENS.to_string()])
            .args(["--threads", &self.threads.to_string()])
            .args(["--parallel", "1", "--no-webui"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let child = spawn_tied_to_process(command).map_err(|e| {
            LlmError::LocalServer(format!("cannot run {}: {e}", self.model.binary.display()))
        })?;
        *self.child() = Some(child);
        self.wait_healthy()
    }

    fn wait_healthy(&self) -> Result<(), LlmError> {
        let started = Instant::now();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .new_agent();
        let url = format!("http://127.0.0.1:{}/health", self.port);
        loop {
            if let Some(Ok(Some(status))) = self.child().as_mut().map(Child::try_wait) {
                return Err(LlmError::LocalServer(format!(
                    "llama-server exited ({status}): {}",
                    self.log_tail()
                )));
            }
            if let Ok(response) = agent.get(&url).call()
                && response.status().as_u16() == 200
            {
                return Ok(());
            }
            if started.elapsed() > STARTUP_LIMIT {
                self.stop();
                return Err(LlmError::LocalServer(format!(
                    "llama-server was not ready after {} s: {}",
                    STARTUP_LIMIT.as_secs(),
                    self.log_tail()
                )));
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Whether the server process still runs (it may have crashed or been killed).
    pub fn is_alive(&self) -> bool {
        matches!(self.child().as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// How the chat client reaches this server.
    pub fn provider(&self) -> Provider {
        Provider {
            base_url: format!("http://127.0.0.1:{}/v1", self.port),
            model: self
                .model
                .weights
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            api_key: Some(self.api_key.clone()),
            timeout: Duration::from_secs(300),
            llama_cpp: true,
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child().as_ref().map(Child::id)
    }

    /// The server's own address (for its `/slots` and `/health` endpoints).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(3).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16, LlmError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| LlmError::LocalServer(format!("no free port on 127.0.0.1: {e}")))
}

/// 128 random bits, so that other local processes cannot use the server.
fn random_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Spawns the server so that it does not outlive StudyDesk, even when StudyDesk is killed
/// without running its destructors (SIGKILL, a crash): on Linux the kernel sends it SIGKILL
/// when its parent dies. SIGKILL, not SIGTERM: llama-server treats SIGTERM as a request to
/// finish its work first, and a server busy with a prompt or stuck was seen to outlive its
/// parent that way; it holds nothing that needs a clean shutdown. The kernel's "parent" is the thread that forked, so every server is
/// spawned from one thread that lives as long as the process, never from a worker thread
/// that may end first (test threads, tokio's blocking pool).
#[cfg(target_os = "linux")]
fn spawn_tied_to_process(mut command: Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc::{Sender, channel};
    type Request = (Command, Sender<std::io::Result<Child>>);
    static SPAWNER: std::sync::OnceLock<std::sync::Mutex<Sender<Request>>> =
        std::sync::OnceLock::new();
    // SAFETY: prctl is async-signal-safe, and the closure touches nothing else between fork
    // and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = channel::<Request>();
        std::thread::Builder::new()
            .name("llama-server-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("a thread to spawn the local model from");
        std::sync::Mutex::new(tx)
    });
    let (reply, answer) = channel();
    spawner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((command, reply))
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?;
    answer
        .recv()
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?
}

#[cfg(not(target_os = "linux"))]
fn spawn_tied_to_process(mut command: Command) -> std::io::Result<Child> {
    command.spawn()
}
