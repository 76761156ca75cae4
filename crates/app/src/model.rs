//! The language model behind the app: connected on first use, shared by every call, started
//! again when the local server has died, and never locked while it starts (loading the local
//! model takes seconds, and `status` must answer at once).

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

use studydesk_engine::config::LlmConfig;
use studydesk_engine::llm::{Backend, LlmError, Plan};

use crate::error::ErrorView;
use crate::views::{LlmStatus, ModelPlan};

enum Slot {
    Idle,
    Starting,
    Ready(Arc<Backend>),
    Failed(ErrorView),
}

pub struct Model {
    slot: Mutex<(Slot, u64)>,
    changed: Condvar,
}

impl Model {
    pub fn new() -> Model {
        Model {
            slot: Mutex::new((Slot::Idle, 0)),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Slot, u64)> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The model, connected (or started) if it is not yet; a dead local server is replaced.
    /// Callers arriving while it starts wait for that start instead of starting another.
    pub fn get(
        &self,
        config: &LlmConfig,
        cache_dir: &Path,
        log: &Path,
    ) -> Result<Arc<Backend>, LlmError> {
        let mut guard = self.lock();
        loop {
            match &guard.0 {
                Slot::Ready(backend) if backend.is_alive() => return Ok(backend.clone()),
                Slot::Starting => {
                    guard = self.changed.wait(guard).unwrap_or_else(|p| p.into_inner());
                }
                _ => break,
            }
        }
        // Dropping a dead backend here reaps its process before the new one starts.
        guard.0 = Slot::Starting;
        let epoch = guard.1;
        drop(guard);
        let result = Backend::connect(config, cache_dir, log).map(Arc::new);
        let mut guard = self.lock();
        // Settings changed meanwhile: this connection is for the old ones; the next call
        // connects anew.
        if guard.1 == epoch {
            guard.0 = match &result {
                Ok(backend) => Slot::Ready(backend.clone()),
                Err(error) => Slot::Failed(ErrorView::of(error)),
            };
        }
        self.changed.notify_all();
        result
    }

    /// Forgets the model (after the settings changed); the next call connects anew.
    pub fn reset(&self) {
        let mut guard = self.lock();
        guard.0 = Slot::Idle;
        guard.1 += 1;
        self.changed.notify_all();
    }

    /// Where the model stands, without waiting for anything.
    pub fn status(&self, config: &LlmConfig, cache_dir: &Path) -> LlmStatus {
        let plan = plan(config, cache_dir);
        match &self.lock().0 {
            Slot::Idle => LlmStatus::NotStarted { plan },
            Slot::Starting => LlmStatus::Starting { plan },
            Slot::Ready(backend) if backend.is_alive() => LlmStatus::Ready { plan },
            // It died; the next question starts it again.
            Slot::Ready(_) => LlmStatus::NotStarted { plan },
            Slot::Failed(error) => LlmStatus::Failed {
                plan,
                error: error.clone(),
            },
        }
    }
}

impl Default for Model {
    fn default() -> Self {
        Model::new()
    }
}

/// Which model this configuration means on this computer.
pub fn plan(config: &LlmConfig, cache_dir: &Path) -> ModelPlan {
    match Backend::plan(config, cache_dir) {
        Plan::Remote => ModelPlan::Remote {
            base_url: config.base_url.clone().unwrap_or_default(),
            model: config.model.clone().unwrap_or_else(|| "default".into()),
        },
        Plan::Local(model) => ModelPlan::Local {
            tier: model.tier,
            label: model.tier.label().into(),
        },
        Plan::Off(reason) => ModelPlan::Off {
            reason,
            detail: reason.to_string(),
        },
    }
}
