//! `studydesk serve`, the HTTP face the browser UI talks to: its guards (token, Host, paths)
//! and its commands streamed as server-sent events, with a real paper imported and a cited
//! page rendered with the passage highlighted.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use base64::Engine as _;
use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server on a fresh data folder; it is stopped when the value is dropped. (One
/// server for the whole file, owned by one test: a shared static would never be dropped and
/// would outlive the test process.)
fn start() -> Server {
    {
        let paths = common::fresh_paths("serve");
        let ui = common::scratch("serve-ui");
        std::fs::write(
            ui.join("index.html"),
            "<!doctype html><title>StudyDesk</title>",
        )
        .unwrap();
        let mut child = common::dies_with_test(&mut Command::new(env!("CARGO_BIN_EXE_studydesk")))
            .args(["serve", "--port", "0", "--ui"])
            .arg(&ui)
            .env("STUDYDESK_DATA_DIR", &paths.data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        let (base, token) = url.split_once("/#token=").unwrap();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Server {
            child,
            base: base.to_string(),
            token: token.to_string(),
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// Runs a command; returns its events (the last is done or error).
fn call(s: &Server, command: &str, args: Value) -> Vec<Value> {
    let mut response = agent()
        .post(&format!("{}/api/call/{command}", s.base))
        .header("Authorization", &format!("Bearer {}", s.token))
        .send(args.to_string())
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut body = String::new();
    response
        .body_mut()
        .as_reader()
        .read_to_string(&mut body)
        .unwrap();
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

fn result(s: &Server, command: &str, args: Value) -> Value {
    let events = call(s, command, args);
    let last = events.last().unwrap();
    assert_eq!(last["kind"], "done", "{command}: {last}");
    last["result"].clone()
}

#[test]
fn serve_end_to_end() {
    let s = &start();
    requests_without_the_token_or_from_another_host_are_refused(s);
    bad_commands_and_arguments_are_clear_errors(s);
    a_client_that_goes_away_cancels_its_import(s);
    an_upload_is_indexed_with_progress_and_its_cited_page_renders_highlighted(s);
    a_broken_upload_names_the_file_and_the_cause(s);
}

fn requests_without_the_token_or_from_another_host_are_refused(s: &Server) {
    let url = format!("{}/api/call/status", s.base);
    let no_token = agent().post(&url).send("{}").unwrap();
    assert_eq!(no_token.status(), 401);
    let wrong = agent()
        .post(&url)
        .header("Authorization", "Bearer 0000")
        .send("{}")
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let rebinding = agent()
        .post(&url)
        .header("Authorization", &format!("Bearer {}", s.token))
        .header("Host", "attacker.example:80")
        .send("{}")
        .unwrap();
    assert_eq!(rebinding.status(), 403);

    let page = agent().get(&format!("{}/", s.base)).call().unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers().get("content-security-policy").unwrap();
    assert!(csp.to_str().unwrap().contains("script-src 'self'"));
    let escape = agent()
        .get(&format!("{}/..%2F..%2FCargo.toml", s.base))
        .call()
        .unwrap();
    assert_eq!(escape.status(), 404);
}

/// The error a call ended with: `{kind, message, remedy?}`.
fn error_of(events: &[Value]) -> Value {
    let last = events.last().unwrap();
    assert_eq!(last["kind"], "error", "{last}");
    last["error"].clone()
}

fn bad_commands_and_arguments_are_clear_errors(s: &Server) {
    let unknown = error_of(&call(s, "format_disk", json!({})));
    assert_eq!(unknown["kind"], "input");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("unknown command")
    );
    let bad = error_of(&call(
        s,
        "review",
        json!({"card_id": "t01-q001", "rating": "perfect"}),
    ));
    let message = bad["message"].as_str().unwrap();
    assert!(message.contains("review: bad arguments"), "{message}");
    // A misspelt argument is refused, not ignored.
    let typo = error_of(&call(s, "search", json!({"query": "rope", "topk": 3})));
    assert!(typo["message"].as_str().unwrap().contains("topk"), "{typo}");
    // An unknown document is the user's input, with the remedy a UI can act on.
    let missing = error_of(&call(s, "remove_doc", json!({"doc_id": "nothing.pdf"})));
    assert_eq!(missing["kind"], "input");
    assert_eq!(missing["remedy"], "list_documents");
}

/// A browser that goes away (the stop button aborts the request) cancels its command: an
/// import stops after its current batch, and nothing of it stays in the library.
fn a_client_that_goes_away_cancels_its_import(s: &Server) {
    let bytes = std::fs::read(common::paper("zh-llm-survey-rucaibox.pdf")).unwrap();
    let mut response = agent()
        .post(&format!("{}/api/call/import_file", s.base))
        .header("Authorization", &format!("Bearer {}", s.token))
        .send(
            json!({
                "name": "zh-llm-survey-rucaibox.pdf",
                "data_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
            })
            .to_string(),
        )
        .unwrap();
    // Read until the first batch of passages is stored, then hang up.
    let mut reader = BufReader::new(response.body_mut().as_reader());
    let mut line = String::new();
    let mut seen = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the stream ended early: {seen}"
        );
        seen.push_str(&line);
        if line.contains("\"stage\":\"chunks\"") {
            break;
        }
    }
    drop(reader);
    drop(response);
    // The cancelled import is purged: the library lists no document (polling, because the
    // import notices the cancel at its next batch).
    let started = std::time::Instant::now();
    loop {
        let docs = result(s, "docs", json!({}));
        let listed = docs.as_array().unwrap();
        if listed.is_empty() {
            break;
        }
        assert!(
            listed.iter().all(|d| d["ready"] == false),
            "a cancelled import finished: {docs}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the cancelled import was never cleaned up: {docs}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn an_upload_is_indexed_with_progress_and_its_cited_page_renders_highlighted(s: &Server) {
    let status = result(s, "status", json!({}));
    assert_eq!(status["questions"], 949);

    let bytes = std::fs::read(common::paper("layer-normalization-1607.06450.pdf")).unwrap();
    let events = call(
        s,
        "import_file",
        json!({
            "name": "layer-normalization-1607.06450.pdf",
            "data_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
        }),
    );
    let stages: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "progress")
        .map(|e| e["stage"].as_str().unwrap())
        .collect();
    assert!(
        stages.contains(&"extracted") && stages.contains(&"chunks"),
        "{stages:?}"
    );
    let last_chunks = events
        .iter()
        .rev()
        .find(|e| e["stage"] == "chunks")
        .unwrap();
    assert_eq!(last_chunks["done"], last_chunks["total"]);
    let done = events.last().unwrap();
    assert_eq!(done["kind"], "done", "{done}");
    let doc = &done["result"]["doc"];
    assert_eq!(doc["pages"], 14);
    let doc_id = doc["id"].as_str().unwrap().to_string();

    let hits = result(
        s,
        "search",
        json!({"query": "layer normalization statistics over hidden units", "source": "doc", "top_k": 3}),
    );
    let hit = &hits[0];
    assert_eq!(hit["doc_id"], doc_id.as_str());
    let page = hit["page"].as_u64().unwrap();
    let image = result(
        s,
        "page_image",
        json!({"doc_id": doc_id, "page": page, "highlight": hit["text"]}),
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(image["png_base64"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(image["page"], page);
    assert_eq!(image["pages"], 14);
    let boxes = image["highlights"].as_array().unwrap();
    assert!(
        !boxes.is_empty(),
        "the cited passage is located on its page"
    );
    for b in boxes {
        for k in ["x", "y", "w", "h"] {
            let v = b[k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{b}");
        }
    }

    let missing = error_of(&call(
        s,
        "page_image",
        json!({"doc_id": doc_id, "page": 99}),
    ));
    assert_eq!(missing["kind"], "input");
    let message = missing["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("layer-normalization-1607.06450.pdf") && message.contains("no page 99"),
        "{message}"
    );

    let removed = result(s, "remove_doc", json!({"doc_id": doc_id}));
    assert_eq!(removed["doc"]["id"], doc_id.as_str());
    assert!(
        !Path::new(removed["doc"]["path"].as_str().unwrap()).exists(),
        "the uploaded copy goes too"
    );
    assert_eq!(result(s, "docs", json!({})).as_array().unwrap().len(), 0);
}

fn a_broken_upload_names_the_file_and_the_cause(s: &Server) {
    let events = call(
        s,
        "import_file",
        json!({
            "name": "notes.pdf",
            "data_base64": base64::engine::general_purpose::STANDARD.encode(b"this is not a pdf"),
        }),
    );
    let error = error_of(&events);
    assert_eq!(error["kind"], "input");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("notes.pdf") && message.contains("not a PDF"),
        "{message}"
    );
}
