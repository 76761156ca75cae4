//! StudyDesk's desktop window. It only translates: the UI's `invoke("call", …)` becomes
//! [`App::call`] on a blocking thread, and the core's events go back on the UI's channel.
//! Everything else (the UI itself, its rules) lives in `ui/` and the core.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::Arc;

use studydesk::app::App;
use studydesk::config::Paths;
use tauri::ipc::Channel;

/// The core, or why it could not open (shown by the UI on every call).
struct Shell(Result<Arc<App>, String>);

#[tauri::command]
async fn call(
    shell: tauri::State<'_, Shell>,
    command: String,
    args: serde_json::Value,
    events: Channel<serde_json::Value>,
) -> Result<serde_json::Value, String> {
    let app = shell.0.clone()?;
    tauri::async_runtime::spawn_blocking(move || {
        let send = |event| {
            let _ = events.send(serde_json::to_value(event).unwrap_or_default());
        };
        app.call(&command, args, &send).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

fn main() {
    let app = Paths::resolve(None)
        .map_err(|e| e.to_string())
        .and_then(|paths| App::open(paths).map_err(|e| e.to_string()))
        .map(Arc::new);
    if let Err(error) = &app {
        eprintln!("studydesk-desktop: {error}");
    }
    tauri::Builder::default()
        .manage(Shell(app))
        .invoke_handler(tauri::generate_handler![call])
        .run(tauri::generate_context!())
        .expect("the desktop window could not start");
}
