//! The local model: a llama.cpp `llama-server` that StudyDesk starts on 127.0.0.1, on a free
//! port, with a random API key, checks for health, restarts if it dies and stops on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{LlmError, Provider};

/// Where setup puts the server and the default model, inside the cache folder.
pub const SERVER_RELATIVE_PATH: &str = "llama/llama-server";
pub const MODEL_RELATIVE_PATH: &str = "models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";
/// Context window the server is started with; prompts are trimmed to fit it.
pub const CONTEXT_TOKENS: u32 = 4096;
const STARTUP_LIMIT: Duration = Duration::from_secs(120);

pub struct LocalServer {
    child: Option<Child>,
    binary: PathBuf,
    model: PathBuf,
    log: PathBuf,
    port: u16,
    api_key: String,
    threads: usize,
}

impl LocalServer {
    /// The binary and model setup provisioned, if both are there.
    pub fn provisioned(cache_dir: &Path) -> Option<(PathBuf, PathBuf)> {
        let binary = cache_dir.join(SERVER_RELATIVE_PATH);
        let model = cache_dir.join(MODEL_RELATIVE_PATH);
        (binary.is_file() && model.is_file()).then_some((binary, model))
    }

    /// Starts the server and waits until it answers its health check. Its output goes to
    /// `log`, which is quoted when it fails to start.
    pub fn start(binary: &Path, model: &Path, log: &Path) -> Result<LocalServer, LlmError> {
        // ggml's threads spin; leave a core for the rest of the app on small machines.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        let mut server = LocalServer {
            child: None,
            binary: binary.to_path_buf(),
            model: model.to_path_buf(),
            log: log.to_path_buf(),
            port: 0,
            api_key: random_key(),
            threads,
        };
        server.launch()?;
        Ok(server)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn launch(&mut self) -> Result<(), LlmError> {
        self.stop();
        self.port = free_port()?;
        let log = std::fs::File::create(&self.log).map_err(|e| {
            LlmError::LocalServer(format!("cannot write {}: {e}", self.log.display()))
        })?;
        let log_err = log
            .try_clone()
            .map_err(|e| LlmError::LocalServer(e.to_string()))?;
        let mut command = Command::new(&self.binary);
        command
            .arg("--model")
            .arg(&self.model)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--api-key", &self.api_key])
            .args(["--ctx-size", &CONTEXT_TOKENS.to_string()])
            .args(["--threads", &self.threads.to_string()])
            .args(["--parallel", "1", "--no-webui"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let child = spawn_tied_to_process(command).map_err(|e| {
            LlmError::LocalServer(format!("cannot run {}: {e}", self.binary.display()))
        })?;
        self.child = Some(child);
        self.wait_healthy()
    }

    fn wait_healthy(&mut self) -> Result<(), LlmError> {
        let started = Instant::now();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .new_agent();
        let url = format!("http://127.0.0.1:{}/health", self.port);
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
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

    /// Restarts the server if it has died since the last call.
    pub fn ensure_running(&mut self) -> Result<(), LlmError> {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => Ok(()),
            _ => self.launch(),
        }
    }

    /// How the chat client reaches this server.
    pub fn provider(&self) -> Provider {
        Provider {
            base_url: format!("http://127.0.0.1:{}/v1", self.port),
            model: self
                .model
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            api_key: Some(self.api_key.clone()),
            timeout: Duration::from_secs(300),
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
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
/// without running its destructors (SIGKILL, a crash): on Linux the kernel sends it SIGTERM
/// when its parent dies. The kernel's "parent" is the thread that forked, so every server is
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
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
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
