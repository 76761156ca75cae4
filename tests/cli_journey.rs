//! The CLI as a user runs it on the real papers, one data folder through a whole session:
//! import (and its exit status), listing, every search flag, a query file, asking with
//! generation turned off, conversations and their export, exports of the question pool, the
//! FSRS refit on a short log, removal (and its exit status).

mod common;

use std::process::Output;

use common::{json, ok, studydesk};

fn failed(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit status 1: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn a_session_from_import_to_removal() {
    let paths = common::fresh_paths("cli-journey");
    let dir = paths.data_dir.as_path();
    let inputs = common::scratch("cli-journey");
    let rope = inputs.join("roformer-rope-2104.09864.pdf");
    std::fs::copy(common::paper("roformer-rope-2104.09864.pdf"), &rope).unwrap();
    let broken = inputs.join("broken.pdf");
    std::fs::write(&broken, b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n").unwrap();
    // Generation off: `ask` answers with the passages alone, and the model is never started.
    std::fs::write(dir.join("config.toml"), "[llm]\nenabled = false\n").unwrap();

    // Import: the good file is imported, the broken one named with its cause, exit status 1.
    let out = studydesk(
        dir,
        &["import", rope.to_str().unwrap(), broken.to_str().unwrap()],
    );
    let err = failed(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("imported  roformer-rope-2104.09864.pdf"),
        "{stdout}"
    );
    assert!(
        err.contains("broken.pdf") && err.contains("damaged"),
        "{err}"
    );
    assert!(err.contains("1 of 2 files could not be imported"), "{err}");
    // The same file again: unchanged, exit status 0.
    let text = ok(&studydesk(dir, &["import", rope.to_str().unwrap()]));
    assert!(
        text.contains("unchanged roformer-rope-2104.09864.pdf"),
        "{text}"
    );

    // docs --json: the document with its pages and passages.
    let docs = json(&ok(&studydesk(dir, &["docs", "--json"])));
    let docs = docs.as_array().unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["file_name"], "roformer-rope-2104.09864.pdf");
    assert!(docs[0]["pages"].as_u64().unwrap() > 10);
    assert!(docs[0]["chunks"].as_u64().unwrap() > 20);
    assert_eq!(docs[0]["ready"], true);

    // search: every flag.
    let search = |args: &[&str]| {
        let mut all = vec!["search", "--json"];
        all.extend_from_slice(args);
        json(&ok(&studydesk(dir, &all)))["hits"]
            .as_array()
            .unwrap()
            .clone()
    };
    let hits = search(&["--top-k", "3", "rotary position embedding long-term decay"]);
    assert_eq!(hits.len(), 3);
    assert_eq!(
        hits[0]["doc"], "roformer-rope-2104.09864.pdf",
        "{:?}",
        hits[0]
    );
    // Without --source: the documents' list and the bank's list beside the mixed one.
    let lists = json(&ok(&studydesk(
        dir,
        &["search", "--json", "--top-k", "3", "旋转位置编码 长程衰减"],
    )));
    let (doc_list, bank_list) = (
        lists["docs"].as_array().unwrap(),
        lists["bank"].as_array().unwrap(),
    );
    assert!(doc_list.len() == 3 && doc_list.iter().all(|h| h["source"] == "doc"));
    assert!(bank_list.len() == 3 && bank_list.iter().all(|h| h["source"] == "bank"));
    assert_eq!(doc_list[0]["doc"], "roformer-rope-2104.09864.pdf");
    let bank = search(&["--source", "bank", "--topic", "t04", "旋转位置编码"]);
    assert!(!bank.is_empty());
    assert!(
        bank.iter()
            .all(|h| h["source"] == "bank" && h["topic_id"] == "t04"),
        "{bank:?}"
    );
    let docs_only = search(&["--source", "docs", "旋转位置编码"]);
    assert!(!docs_only.is_empty() && docs_only.iter().all(|h| h["source"] == "doc"));
    for mode in ["dense", "lexical"] {
        let hits = search(&[
            "--mode",
            mode,
            "--source",
            "docs",
            "RoFormer relative position",
        ]);
        assert_eq!(hits[0]["doc"], "roformer-rope-2104.09864.pdf", "{mode}");
    }
    let err = failed(&studydesk(dir, &["search", "--topic", "t99", "rope"]));
    assert!(err.contains("t99"), "{err}");

    // --queries-file: one JSON line per query, in order.
    let queries = inputs.join("queries.txt");
    std::fs::write(&queries, "RoPE 的远程衰减\n\nLayerNorm 的公式\n").unwrap();
    let text = ok(&studydesk(
        dir,
        &[
            "search",
            "--top-k",
            "2",
            "--queries-file",
            queries.to_str().unwrap(),
        ],
    ));
    let lines: Vec<serde_json::Value> = text.lines().map(json).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["query"], "RoPE 的远程衰减");
    assert_eq!(lines[1]["query"], "LayerNorm 的公式");
    assert!(
        lines
            .iter()
            .all(|l| l["hits"].as_array().unwrap().len() == 2)
    );

    // ask with generation off: the reason, then the passages; stored as a conversation.
    let text = ok(&studydesk(
        dir,
        &["ask", "What makes RoPE decay with distance?"],
    ));
    assert!(text.contains("Generation is off"), "{text}");
    assert!(text.contains("turned off in the settings"), "{text}");
    assert!(text.contains("roformer-rope-2104.09864.pdf p."), "{text}");
    let text = ok(&studydesk(dir, &["chats"]));
    assert!(
        text.contains("What makes RoPE decay with distance?"),
        "{text}"
    );
    let id = text.split_whitespace().next().unwrap().to_string();
    let markdown = ok(&studydesk(dir, &["chats", "export", &id]));
    assert!(
        markdown.starts_with("# What makes RoPE decay with distance?"),
        "{markdown}"
    );
    assert!(
        markdown.contains("roformer-rope-2104.09864.pdf p."),
        "{markdown}"
    );
    let err = failed(&studydesk(dir, &["chats", "export", "999"]));
    assert!(
        err.contains("no conversation 999") && err.contains("studydesk chats"),
        "{err}"
    );

    // Exports of the pool: Markdown of one topic.
    let file = inputs.join("t01.md");
    let text = ok(&studydesk(
        dir,
        &[
            "export",
            "markdown",
            file.to_str().unwrap(),
            "--topic",
            "t01",
        ],
    ));
    assert!(text.contains("wrote 20 questions"), "{text}");
    let markdown = std::fs::read_to_string(&file).unwrap();
    assert!(markdown.contains("## t01 "), "{markdown}");
    assert_eq!(markdown.matches("\n### ").count(), 20);

    // stats --refit on an empty log: the defaults stay, and it says why.
    let out = studydesk(dir, &["stats", "--refit", "--json"]);
    let stats = json(&ok(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not enough reviews yet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stats["parameters"], "default");

    // remove: by file name, then the same name again is an error naming the cause and the fix.
    let text = ok(&studydesk(dir, &["remove", "roformer-rope-2104.09864.pdf"]));
    assert!(
        text.contains("removed roformer-rope-2104.09864.pdf"),
        "{text}"
    );
    let err = failed(&studydesk(dir, &["remove", "roformer-rope-2104.09864.pdf"]));
    assert!(
        err.contains("no imported document matches") && err.contains("studydesk docs"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let docs = json(&ok(&studydesk(dir, &["docs", "--json"])));
    assert_eq!(docs, serde_json::json!([]));
}
