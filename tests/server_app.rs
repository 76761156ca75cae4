//! The whole app on a real Qdrant server, through the CLI as a user runs it: the index moved to
//! the server (`store migrate --to … --switch`), then search, ask, import, remove, a quiz round
//! and stats against it, the same results as on the embedded engine, the failures the README
//! promises (a wrong key; a stopped server is `tests/store.rs`'s), and the way back
//! (`store migrate --from`).
//!
//! Runs when `QDRANT_URL` names a server (`scripts/test.sh` starts the one
//! `scripts/provision.sh --with-qdrant` built, with its key in `QDRANT_API_KEY`); otherwise it
//! says loudly that it was skipped.

mod common;

use std::path::Path;
use std::process::Command;

use common::{json, ok, search_results as results, store_passages as passages, studydesk};
use studydesk_engine::config::ServerStoreConfig;
use studydesk_engine::store::server::{Create, ServerStore};

const QUERIES: [&str; 3] = [
    "layer normalization computes the mean and variance over the summed inputs",
    "LayerNorm 和 BatchNorm 的区别是什么?",
    "RMSNorm 去掉了 LayerNorm 的哪一部分?",
];

#[test]
fn the_whole_app_runs_on_a_qdrant_server_and_comes_back() {
    let Some(url) = std::env::var("QDRANT_URL").ok().filter(|u| !u.is_empty()) else {
        common::say(
            "server journey SKIPPED: QDRANT_URL is not set (scripts/provision.sh --with-qdrant builds a server; scripts/test.sh starts it)"
                .into(),
        );
        return;
    };
    let paths = common::fresh_paths("server-app");
    let dir = paths.data_dir.as_path();
    std::fs::write(dir.join("config.toml"), "[llm]\nenabled = false\n").unwrap();
    let collection = format!("studydesk-app-{}", uuid::Uuid::new_v4().simple());
    let _cleanup = DropCollection(ServerStoreConfig {
        qdrant_url: url.clone(),
        api_key_env: Some("QDRANT_API_KEY".into()),
        collection: collection.clone(),
        shard_number: None,
        replication_factor: None,
    });

    // On the embedded engine: the bank and a paper.
    ok(&studydesk(
        dir,
        &[
            "import",
            common::paper("layer-normalization-1607.06450.pdf")
                .to_str()
                .unwrap(),
        ],
    ));
    let local: Vec<Vec<String>> = QUERIES.iter().map(|q| results(dir, q)).collect();
    let local_count = passages(dir);

    // Moved to the server, and used from there.
    let text = migrate(dir, "--to", &url, &collection);
    assert!(text.contains("config.toml now uses it"), "{text}");
    let status = ok(&studydesk(dir, &["store", "status"]));
    assert!(status.contains(&collection), "{status}");
    assert_eq!(passages(dir), local_count);
    for (query, expected) in QUERIES.iter().zip(&local) {
        assert_eq!(&results(dir, query), expected, "{query}");
    }
    let text = ok(&studydesk(
        dir,
        &["ask", "What does layer normalization normalise over?"],
    ));
    assert!(
        text.contains("layer-normalization-1607.06450.pdf p."),
        "{text}"
    );

    // Import and removal write to the server.
    let rms = common::paper("rmsnorm-1910.07467.pdf");
    ok(&studydesk(dir, &["import", rms.to_str().unwrap()]));
    let docs = json(&ok(&studydesk(dir, &["docs", "--json"])));
    let rms_chunks = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["file_name"] == "rmsnorm-1910.07467.pdf")
        .unwrap()["chunks"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(passages(dir), local_count + rms_chunks);
    let hits = results(dir, "RMSNorm re-scaling invariance without re-centering");
    assert!(
        hits.iter().any(|h| h.contains("rmsnorm-1910.07467.pdf")),
        "{hits:#?}"
    );
    ok(&studydesk(dir, &["remove", "rmsnorm-1910.07467.pdf"]));
    assert_eq!(passages(dir), local_count);

    // A quiz round graded against sources found on the server; its review is kept.
    let out = common::studydesk_with_input(
        dir,
        &["quiz", "--topic", "t01", "--new", "1", "--self-grade"],
        "LayerNorm normalises over the features of one sample\n3\n:q\n",
    );
    let stdout = ok(&out);
    assert!(stdout.contains("Session over: 1 reviewed"), "{stdout}");
    let stats = json(&ok(&studydesk(dir, &["stats", "--json"])));
    let t01 = stats["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic_id"] == "t01")
        .unwrap()
        .clone();
    assert_eq!(t01["seen"], 1, "{t01}");

    // A wrong key: a clear message, and the data folder is left as it was.
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_studydesk"))
        .args(["search", "layer normalization"])
        .env("STUDYDESK_DATA_DIR", dir)
        .env("QDRANT_API_KEY", "not-the-key")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a wrong key must fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("config.toml")).unwrap(),
        config
    );

    // And back: the server's index into the embedded engine, the same results.
    let text = migrate(dir, "--from", &url, &collection);
    assert!(text.contains("config.toml now uses it"), "{text}");
    assert!(ok(&studydesk(dir, &["store", "status"])).contains("embedded"));
    assert_eq!(passages(dir), local_count);
    for (query, expected) in QUERIES.iter().zip(&local) {
        assert_eq!(&results(dir, query), expected, "{query}");
    }
}

/// `store migrate --to|--from URL … --switch`, the key from QDRANT_API_KEY.
fn migrate(dir: &Path, direction: &str, url: &str, collection: &str) -> String {
    ok(&studydesk(
        dir,
        &[
            "store",
            "migrate",
            direction,
            url,
            "--collection",
            collection,
            "--api-key-env",
            "QDRANT_API_KEY",
            "--switch",
        ],
    ))
}

/// Drops the test's collection however the test ends.
struct DropCollection(ServerStoreConfig);
impl Drop for DropCollection {
    fn drop(&mut self) {
        if let Ok(store) = ServerStore::connect(&self.0, Create::Never) {
            let _ = store.drop_collection();
        }
    }
}
