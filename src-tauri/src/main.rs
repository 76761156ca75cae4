//! StudyDesk's desktop window. It only translates: the UI's `invoke("call", …)` becomes a
//! command of the application layer on a blocking thread, its events go back on the UI's
//! channel, and `invoke("cancel", …)` stops a running call (the stop button). Everything
//! else (the UI itself, its rules) lives in `ui/` and the crates below.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use studydesk_app::{App, Call, Command, ErrorView, Event};
use studydesk_engine::config::Paths;
use studydesk_engine::{Cancel, ErrorKind};
use tauri::ipc::Channel;

struct Shell {
    /// The app, or why it could not open (shown by the UI on every call).
    app: Result<Arc<App>, ErrorView>,
    /// The cancel token of every call still running, by the UI's call id.
    running: Mutex<HashMap<u64, Cancel>>,
}

#[tauri::command]
async fn call(
    shell: tauri::State<'_, Shell>,
    command: String,
    args: serde_json::Value,
    call_id: u64,
    events: Channel<Event>,
) -> Result<serde_json::Value, ErrorView> {
    let app = shell.app.clone()?;
    let cancel = Cancel::new();
    shell
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(call_id, cancel.clone());
    let result = tauri::async_runtime::spawn_blocking(move || {
        let send = |event: Event| {
            let _ = events.send(event);
        };
        let call = Call::new(&send, cancel);
        Command::parse(&command, args)
            .and_then(|command| app.call(command, &call))
            .map_err(|e| ErrorView::from(&e))
    })
    .await;
    shell
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&call_id);
    result.map_err(|e| ErrorView {
        kind: ErrorKind::Internal,
        message: e.to_string(),
        remedy: None,
    })?
}

/// Stops a running call: an answer stops being generated, an import stops after its batch.
#[tauri::command]
fn cancel(shell: tauri::State<'_, Shell>, call_id: u64) {
    if let Some(cancel) = shell
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&call_id)
    {
        cancel.cancel();
    }
}

fn main() {
    let app = Paths::resolve(None)
        .map_err(|e| ErrorView::of(&e))
        .and_then(|paths| App::open(paths).map_err(|e| ErrorView::from(&e)))
        .map(Arc::new);
    if let Err(error) = &app {
        eprintln!("studydesk-desktop: {}", error.message);
    }
    tauri::Builder::default()
        .manage(Shell {
            app,
            running: Mutex::new(HashMap::new()),
        })
        .invoke_handler(tauri::generate_handler![call, cancel])
        .run(tauri::generate_context!())
        .expect("the desktop window could not start");
}
