//! The terminal side of the CLI: how a command's events show (streamed answers on stdout,
//! progress bars and notes on stderr), Ctrl-C as cancellation, and printing.

use std::io::Write;

use studydesk_app::{Call, Event};
use studydesk_engine::Cancel;

pub mod errors;
pub mod eval;
pub mod interview;
pub mod keys;
pub mod print;
pub mod progress;
pub mod quiz;
pub mod store;

type Events = Box<dyn Fn(Event) + Sync>;

/// Where a command's events go while it runs in a terminal.
pub struct Terminal {
    events: Events,
    bars: std::sync::Arc<progress::Bars>,
    cancel: Cancel,
}

impl Terminal {
    /// Events to the terminal; Ctrl-C ends the process as usual.
    pub fn new() -> Terminal {
        let bars = std::sync::Arc::new(progress::Bars::new());
        let shown = bars.clone();
        Terminal {
            events: Box::new(move |event| show(&shown, event)),
            bars,
            cancel: Cancel::new(),
        }
    }

    /// Events to the terminal; the first Ctrl-C cancels the command (the model stops
    /// generating), a second one ends the process.
    pub fn interruptible() -> Terminal {
        let mut terminal = Terminal::new();
        terminal.cancel = ctrl_c_cancels();
        terminal
    }

    pub fn call(&self) -> Call<'_> {
        Call::new(&*self.events, self.cancel.clone())
    }

    pub fn finish(&self) {
        self.bars.finish();
    }
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal::new()
    }
}

fn show(bars: &progress::Bars, event: Event) {
    match event {
        Event::Token { text } => {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
        Event::Sources { context } => {
            let labels: Vec<String> = context
                .iter()
                .map(|c| format!("[{}] {}", c.n, c.label))
                .collect();
            if !labels.is_empty() {
                eprintln!("(reading {})", labels.join(" · "));
            }
        }
        Event::Progress { .. } => bars.show(&event),
        Event::Generate { event } => eprintln!("{}", print::generate_event(&event)),
    }
}

/// A call whose events nobody needs to see.
pub fn quiet() -> Call<'static> {
    Call::new(&studydesk_app::events::ignore, Cancel::new())
}

/// A cancel token the first Ctrl-C sets; a second Ctrl-C ends the process.
pub fn ctrl_c_cancels() -> Cancel {
    let cancel = Cancel::new();
    let handler = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if handler.is_cancelled() {
            std::process::exit(130);
        }
        handler.cancel();
    });
    cancel
}
