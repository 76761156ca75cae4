//! `studydesk serve`: the desktop UI in a browser, over HTTP on 127.0.0.1 only.
//!
//! It only translates: `POST /api/call/<command>` runs the command on a worker thread and
//! streams its events and result back as server-sent events; when the browser goes away (the
//! stop button aborts the request), the command is cancelled and the model stops. Every API request needs the
//! random token printed with the URL, and a Host header naming this loopback address, so
//! neither another local user's page nor a DNS-rebinding site can drive it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use studydesk_app::{App, Call, Command, ErrorView, Event};
use studydesk_engine::Cancel;

/// The page may load only its own bundled files and talk only to this server.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The largest request body: a base64 upload of the largest file the library imports.
const MAX_BODY_BYTES: usize =
    (studydesk_engine::library::MAX_FILE_BYTES as usize / 3 + 1) * 4 + (1 << 20);

static NEXT_CALL: AtomicU64 = AtomicU64::new(1);

/// How long running calls get to end after a shutdown signal cancelled them.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

struct Server {
    app: App,
    token: String,
    ui: PathBuf,
    hosts: Vec<String>,
    /// The cancel token of every call in progress, so that a shutdown can stop them.
    running: Mutex<HashMap<u64, Cancel>>,
}

pub fn run(app: App, ui: PathBuf, port: u16, on_ready: impl FnOnce(&str)) -> Result<()> {
    if !ui.join("index.html").is_file() {
        anyhow::bail!(
            "the UI is not built: {} has no index.html (run `npm ci && npm run build` in ui/)",
            ui.display()
        );
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
        let port = listener.local_addr()?.port();
        let server = Arc::new(Server {
            app,
            token: token.clone(),
            ui,
            hosts: vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")],
            running: Mutex::default(),
        });
        let stopping = server.clone();
        let router = Router::new()
            .route("/api/call/{command}", post(call))
            .route("/", get(index))
            .route("/{*path}", get(asset))
            // An upload is the file in base64 inside the JSON body: room for the largest file
            // the library accepts (axum's default limit is 2 MB, smaller than most papers).
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(server);
        on_ready(&format!("http://127.0.0.1:{port}/#token={token}"));
        // Ctrl-C or SIGTERM: stop taking requests, cancel the running ones, let them end for a
        // few seconds, then stop anyway. The local model goes with the app when it drops.
        let (signalled, mut heard) = tokio::sync::watch::channel(false);
        let shutdown = async move {
            shutdown_signal().await;
            for cancel in stopping.running.lock().unwrap_or_else(|p| p.into_inner()).values() {
                cancel.cancel();
            }
            let _ = signalled.send(true);
        };
        let serving = axum::serve(listener, router).with_graceful_shutdown(shutdown);
        tokio::select! {
            served = serving => served?,
            _ = async {
                let _ = heard.wait_for(|s| *s).await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => eprintln!("studydesk serve: calls still running after {} s; stopping anyway", SHUTDOWN_GRACE.as_secs()),
        }
        Ok(())
    });
    // A call that ignored its cancel must not hold the process: the blocking pool is not
    // waited for (the local model dies with the process).
    runtime.shutdown_background();
    served
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match term.as_mut() {
                    Some(term) => { term.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({"error": message}).to_string(),
    )
        .into_response()
}

fn host_allowed(server: &Server, headers: &HeaderMap) -> bool {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| server.hosts.iter().any(|allowed| allowed == h))
}

async fn call(
    State(server): State<Arc<Server>>,
    UrlPath(command): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !host_allowed(&server, &headers) {
        return refuse(StatusCode::FORBIDDEN, "unexpected Host header");
    }
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| constant_time_eq(t.as_bytes(), server.token.as_bytes()));
    if !authorised {
        return refuse(StatusCode::UNAUTHORIZED, "missing or wrong token");
    }
    let args: serde_json::Value = if body.is_empty() {
        serde_json::Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &format!("body is not JSON: {e}")),
        }
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let cancel = Cancel::new();
    let call_id = NEXT_CALL.fetch_add(1, Ordering::Relaxed);
    server
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(call_id, cancel.clone());
    let worker = server.clone();
    let worker_cancel = cancel.clone();
    // The core is synchronous (and long work is long): it runs on a blocking thread and its
    // events go out as they happen.
    tokio::task::spawn_blocking(move || {
        let send = |value: serde_json::Value| {
            let _ = tx.send(Bytes::from(format!("data: {value}\n\n")));
        };
        let events = |event: Event| send(serde_json::to_value(event).unwrap_or_default());
        let call = Call::new(&events, worker_cancel);
        let result =
            Command::parse(&command, args).and_then(|command| worker.app.call(command, &call));
        let last = match result {
            Ok(result) => serde_json::json!({"kind": "done", "result": result}),
            Err(error) => serde_json::json!({"kind": "error", "error": ErrorView::from(&error)}),
        };
        worker
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&call_id);
        send(last);
    });
    // The stream owns a guard: when the client goes away, axum drops the stream, and the guard
    // cancels the command.
    let guard = CancelOnDrop(cancel);
    let stream = futures_util::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(bytes), (rx, guard)))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| refuse(StatusCode::INTERNAL_SERVER_ERROR, "response"))
}

/// Cancels a command when the response streaming its events is dropped: the client closed
/// the connection before the result (or the result was sent and nothing is left to stop).
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

async fn index(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    serve_file(&server, &headers, "index.html").await
}

async fn asset(
    State(server): State<Arc<Server>>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    serve_file(&server, &headers, &path).await
}

async fn serve_file(server: &Server, headers: &HeaderMap, path: &str) -> Response {
    if !host_allowed(server, headers) {
        return refuse(StatusCode::FORBIDDEN, "unexpected Host header");
    }
    // Only plain relative paths inside the UI folder.
    let relative = Path::new(path);
    if relative
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return refuse(StatusCode::NOT_FOUND, "not found");
    }
    let file = server.ui.join(relative);
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime(&file)));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            headers.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
        Err(_) => refuse(StatusCode::NOT_FOUND, "not found"),
    }
}

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
