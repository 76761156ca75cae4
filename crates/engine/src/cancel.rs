//! Stopping work that is under way: an answer being generated, an import, a question
//! generation run. One token per call; whoever may stop the call holds a clone (the CLI's
//! Ctrl-C handler, the desktop's cancel command, the HTTP server when its client goes away).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the work to stop at its next check (an answer's next token, the next batch of an
    /// import). Idempotent.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
