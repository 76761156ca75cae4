//! `studydesk serve`: the desktop UI in a browser, over HTTP on 127.0.0.1 only.
//!
//! It only translates: `POST /api/call/<command>` runs [`App::call`] on a worker thread and
//! streams its events and result back as server-sent events. Every API request needs the
//! random token printed with the URL, and a Host header naming this loopback address, so
//! neither another local user's page nor a DNS-rebinding site can drive it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use studydesk::app::{App, Event};

/// The page may load only its own bundled files and talk only to this server.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

struct Server {
    app: App,
    token: String,
    ui: PathBuf,
    hosts: Vec<String>,
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
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
        let port = listener.local_addr()?.port();
        let server = Arc::new(Server {
            app,
            token: token.clone(),
            ui,
            hosts: vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")],
        });
        let router = Router::new()
            .route("/api/call/{command}", post(call))
            .route("/", get(index))
            .route("/{*path}", get(asset))
            .with_state(server);
        on_ready(&format!("http://127.0.0.1:{port}/#token={token}"));
        // Ctrl-C or SIGTERM stop it cleanly, and with it the local model it may have started.
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        Ok(())
    })
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
    let worker = server.clone();
    // The core is synchronous (and long work is long): it runs on a blocking thread and its
    // events go out as they happen.
    tokio::task::spawn_blocking(move || {
        let send = |value: serde_json::Value| {
            let _ = tx.send(Bytes::from(format!("data: {value}\n\n")));
        };
        let events = |event: Event| send(serde_json::to_value(event).unwrap_or_default());
        let last = match worker.app.call(&command, args, &events) {
            Ok(result) => serde_json::json!({"kind": "done", "result": result}),
            Err(error) => serde_json::json!({"kind": "error", "message": error.to_string()}),
        };
        send(last);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(bytes), rx))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| refuse(StatusCode::INTERNAL_SERVER_ERROR, "response"))
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
