//! The store contract: one suite, run against every backend available. The embedded engine
//! (qdrant-edge) always runs; a Qdrant server runs when `QDRANT_URL` names one (its key, if it
//! needs one, in `QDRANT_API_KEY`). No registry ships a Qdrant server binary and these machines
//! have no container engine, so CI runs the embedded backend only, and the suite says so.
//!
//! The fixture is real: the points of a library that indexed the whole bank and a real paper
//! with the real model, read back from its index.

mod common;

use common::say;

use std::collections::BTreeMap;

use studydesk_engine::Cancel;
use studydesk_engine::Lang;
use studydesk_engine::config::{Paths, ServerStoreConfig, StoreConfig};
use studydesk_engine::database::DocRecord;
use studydesk_engine::embed::Embedder;
use studydesk_engine::lexical::Lexicon;
use studydesk_engine::library::{INDEX_DIR, Library, Quiet};
use studydesk_engine::store::edge::EdgeStore;
use studydesk_engine::store::migrate::{MigrateError, copy_index};
use studydesk_engine::store::server::{Create, ServerStore};
use studydesk_engine::store::{
    Mode, Passage, Point, Scope, SearchRequest, Source, StoreError, VectorStore, point_id,
};
use uuid::Uuid;

const PAPER: &str = "lora-2106.09685.pdf";

/// A real library (the whole bank and one paper, indexed by `Library` itself) and every point
/// of its embedded index, read back with vectors: the points a store holds in real use.
struct Fixture {
    /// The library's folders; its index is closed again once the points are read.
    paths: Paths,
    /// The imported paper's record.
    doc: DocRecord,
    points: Vec<Point>,
    embedder: Embedder,
}

/// Built once per test binary: indexing is the slow part.
fn fixture() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(Fixture::build)
}

impl Fixture {
    fn build() -> Fixture {
        let paths = common::fresh_paths("store-library");
        let doc = {
            let library = Library::open(&paths).unwrap();
            assert!(library.ensure_bank_indexed(&Quiet).unwrap());
            let results = library.import_paths(&[common::paper(PAPER)], &Quiet, &Cancel::new());
            assert!(results[0].1.is_ok(), "{:?}", results[0].1);
            library.docs().unwrap().remove(0)
        };
        let points = {
            let index = EdgeStore::open(&paths.data_dir.join(INDEX_DIR)).unwrap();
            walk(&index, 256).into_values().collect()
        };
        let embedder = Embedder::open(&paths.cache_dir).unwrap();
        Fixture {
            paths,
            doc,
            points,
            embedder,
        }
    }

    fn doc_scope(&self) -> Scope {
        Scope::doc(&self.doc.id)
    }

    fn count(&self, keep: impl Fn(&Passage) -> bool) -> usize {
        self.points.iter().filter(|p| keep(&p.passage)).count()
    }

    fn search(
        &self,
        store: &dyn VectorStore,
        query: &str,
        scope: &Scope,
        mode: Mode,
    ) -> Vec<studydesk_engine::store::Hit> {
        let dense = self.embedder.embed_query(query).unwrap();
        let sparse = Lexicon::shared().query_vector(query, &[]);
        store
            .search(&SearchRequest {
                dense: &dense,
                sparse: &sparse,
                scope,
                mode,
                limit: 10,
                candidates: 50,
            })
            .unwrap()
    }
}

/// A backend under test, with a way to remove what it created.
struct Backend {
    name: String,
    store: Box<dyn VectorStore>,
    server: Option<ServerStoreConfig>,
}

/// A collection name no earlier or concurrent run uses.
fn unique_collection(purpose: &str) -> String {
    format!(
        "studydesk-test-{purpose}-{}",
        Uuid::new_v4().simple().to_string().get(..12).unwrap()
    )
}

fn server_config(purpose: &str) -> Option<ServerStoreConfig> {
    let url = std::env::var("QDRANT_URL").ok().filter(|u| !u.is_empty())?;
    Some(ServerStoreConfig {
        qdrant_url: url,
        api_key_env: std::env::var_os("QDRANT_API_KEY").map(|_| "QDRANT_API_KEY".into()),
        collection: unique_collection(purpose),
        shard_number: None,
        replication_factor: None,
    })
}

/// The embedded engine always; a server when `QDRANT_URL` is set. Says which ran.
fn backends(purpose: &str) -> Vec<Backend> {
    let dir = tempdir(purpose);
    let mut out = vec![Backend {
        name: "embedded (qdrant-edge)".into(),
        store: Box::new(EdgeStore::open(&dir).unwrap()),
        server: None,
    }];
    match server_config(purpose) {
        Some(config) => {
            let store = ServerStore::connect(&config, Create::IfMissing)
                .unwrap_or_else(|e| panic!("QDRANT_URL is set but the server cannot be used: {e}"));
            out.push(Backend {
                name: format!("Qdrant server at {}", config.qdrant_url),
                store: Box::new(store),
                server: Some(config),
            });
        }
        None => say(format!(
            "store contract ({purpose}): Qdrant server SKIPPED: QDRANT_URL is not set (a server can be built with ../shared/qdrant/build.sh; see the README)"
        )),
    }
    say(format!(
        "store contract ({purpose}): running on {}",
        out.iter()
            .map(|b| b.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(config) = &self.server
            && let Ok(store) = ServerStore::connect(config, Create::Never)
        {
            let _ = store.drop_collection();
        }
    }
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("store-{name}-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

fn ids(hits: &[studydesk_engine::store::Hit]) -> Vec<Uuid> {
    hits.iter().map(|h| h.id).collect()
}

/// Every point of a store, walked in pages of `size`.
fn walk(store: &dyn VectorStore, size: usize) -> BTreeMap<Uuid, Point> {
    let mut out = BTreeMap::new();
    let mut from = None;
    loop {
        let page = store.page(from, size).unwrap();
        assert!(page.points.len() <= size);
        for point in page.points {
            assert!(out.insert(point.id, point).is_none(), "a point came twice");
        }
        match page.next {
            Some(next) => from = Some(next),
            None => return out,
        }
    }
}

/// Vectors survive a round trip up to float rounding (a server may re-normalise for cosine),
/// and sparse vectors up to the order of their entries.
fn assert_same_point(stored: &Point, original: &Point, backend: &str) {
    assert_eq!(
        stored.passage, original.passage,
        "{backend}: payload of {}",
        original.id
    );
    assert_eq!(stored.dense.len(), original.dense.len());
    let max_diff = stored
        .dense
        .iter()
        .zip(&original.dense)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        max_diff < 1e-4,
        "{backend}: dense vector of {} changed by {max_diff}",
        original.id
    );
    let sorted = |p: &Point| {
        let mut pairs: Vec<(u32, u32)> = p
            .sparse
            .indices
            .iter()
            .zip(&p.sparse.values)
            .map(|(i, v)| (*i, v.to_bits()))
            .collect();
        pairs.sort();
        pairs
    };
    assert_eq!(
        sorted(stored),
        sorted(original),
        "{backend}: sparse vector of {}",
        original.id
    );
}

#[test]
fn every_backend_keeps_the_store_contract() {
    let fixture = fixture();
    let (bank_count, doc_count) = (
        fixture.count(|p| p.source == Source::Bank),
        fixture.count(|p| p.source == Source::Doc),
    );
    let topic_count = fixture.count(|p| p.topic_id.as_deref() == Some("t01"));
    assert!(doc_count >= 20 && topic_count > 0);
    let all = Scope::default();
    let bank = Scope {
        source: Some(Source::Bank),
        ..Scope::default()
    };
    let mut rankings: Vec<(String, Vec<Ranking>)> = Vec::new();
    for backend in backends("contract") {
        let (name, store) = (backend.name.as_str(), backend.store.as_ref());

        // Empty.
        assert_eq!(store.count(&all).unwrap(), 0, "{name}");
        assert!(store.page(None, 10).unwrap().points.is_empty(), "{name}");
        assert!(
            fixture
                .search(store, "LayerNorm", &all, Mode::Hybrid)
                .is_empty()
        );

        // Upserts in two batches; repeating one is harmless (ids are deterministic).
        let (first, second) = fixture.points.split_at(30);
        store.upsert(first.to_vec()).unwrap();
        store.upsert(second.to_vec()).unwrap();
        store.upsert(first.to_vec()).unwrap();
        store.flush().unwrap();
        assert_eq!(store.count(&all).unwrap(), fixture.points.len(), "{name}");
        assert_eq!(store.count(&bank).unwrap(), bank_count, "{name}");
        assert_eq!(
            store.count(&fixture.doc_scope()).unwrap(),
            doc_count,
            "{name}"
        );
        let t01 = Scope {
            topic_id: Some("t01".into()),
            ..Scope::default()
        };
        assert_eq!(store.count(&t01).unwrap(), topic_count, "{name}");
        let english = Scope {
            lang: Some(Lang::En),
            ..Scope::default()
        };
        assert_eq!(
            store.count(&english).unwrap(),
            fixture.count(|p| p.lang == Lang::En),
            "{name}"
        );

        // Everything comes back whole, by a walk in pages and by scope.
        let walked = walk(store, 7);
        assert_eq!(walked.len(), fixture.points.len(), "{name}");
        for original in &fixture.points {
            assert_same_point(&walked[&original.id], original, name);
        }
        let passages = store.passages(&fixture.doc_scope()).unwrap();
        assert_eq!(passages.len(), doc_count, "{name}");
        assert!(
            passages
                .iter()
                .all(|(_, p)| p.doc.as_deref() == Some(PAPER))
        );

        // Search: each mode finds the right item; filters hold.
        let mut ranking = Vec::new();
        for (query, mode, expected) in [
            (
                "LayerNorm 和 BatchNorm 有什么区别",
                Mode::Hybrid,
                Source::Bank,
            ),
            (
                "LayerNorm 和 BatchNorm 有什么区别",
                Mode::Dense,
                Source::Bank,
            ),
            (
                "LayerNorm 和 BatchNorm 有什么区别",
                Mode::Lexical,
                Source::Bank,
            ),
            (
                "low-rank decomposition of the weight update matrices",
                Mode::Hybrid,
                Source::Doc,
            ),
            (
                "low-rank decomposition of the weight update matrices",
                Mode::Dense,
                Source::Doc,
            ),
            (
                "low-rank decomposition of the weight update matrices",
                Mode::Lexical,
                Source::Doc,
            ),
        ] {
            let hits = fixture.search(store, query, &all, mode);
            assert_eq!(hits.len(), 10, "{name}: {mode:?} {query}");
            if mode == Mode::Dense {
                // Dense search against the exact answer: cosine over every point.
                let q = fixture.embedder.embed_query(query).unwrap();
                let mut exact: Vec<(f32, Uuid)> = fixture
                    .points
                    .iter()
                    .map(|p| (cosine(&q, &p.dense), p.id))
                    .collect();
                exact.sort_by(|a, b| b.0.total_cmp(&a.0));
                let top: Vec<Uuid> = exact.iter().take(10).map(|(_, id)| *id).collect();
                assert_eq!(
                    ids(&hits),
                    top,
                    "{name}: dense ranking is not the exact one"
                );
            }
            assert_eq!(hits[0].passage.source, expected, "{name}: {mode:?} {query}");
            assert!(
                hits.windows(2).all(|w| w[0].score >= w[1].score),
                "{name}: {mode:?} scores descend"
            );
            ranking.push(hits.iter().map(|h| (h.score, h.id)).collect());
        }
        let top = fixture.search(
            store,
            "LayerNorm 和 BatchNorm 有什么区别",
            &t01,
            Mode::Hybrid,
        );
        assert_eq!(top[0].passage.topic_id.as_deref(), Some("t01"), "{name}");
        assert!(
            top.iter()
                .all(|h| h.passage.topic_id.as_deref() == Some("t01")),
            "{name}"
        );
        let in_doc = fixture.search(store, "LayerNorm", &fixture.doc_scope(), Mode::Hybrid);
        assert!(!in_doc.is_empty());
        assert!(
            in_doc
                .iter()
                .all(|h| h.passage.doc_id.as_deref() == Some(fixture.doc.id.as_str())),
            "{name}"
        );
        rankings.push((name.to_string(), ranking));

        // Deleting a document removes its passages only.
        store.delete(&fixture.doc_scope()).unwrap();
        store.flush().unwrap();
        assert_eq!(store.count(&fixture.doc_scope()).unwrap(), 0, "{name}");
        assert_eq!(store.count(&all).unwrap(), bank_count, "{name}");
        let after = fixture.search(store, "low-rank decomposition", &all, Mode::Hybrid);
        assert!(
            after.iter().all(|h| h.passage.source == Source::Bank),
            "{name}"
        );
        store.optimize().unwrap();
        assert_eq!(store.count(&all).unwrap(), bank_count, "{name}");
    }
    // With a few hundred points every engine searches exhaustively, so with a server
    // configured the two must rank alike: the same hits in the same order, except that hits
    // with equal scores (reciprocal-rank fusion ties often) may come in either order, and a
    // tie at the cut-off may be cut at different members.
    for (name, ranking) in rankings.iter().skip(1) {
        for (query, (theirs, ours)) in ranking.iter().zip(&rankings[0].1).enumerate() {
            let (a, b) = (tie_groups(theirs), tie_groups(ours));
            assert!(
                a.len() == b.len()
                    && a.iter().zip(&b).all(|((sa, ia), (sb, ib))| {
                        ia == ib && (sa - sb).abs() <= 1e-4 * sa.abs().max(1e-3)
                    }),
                "{name} ranks unlike the embedded engine (query {query}): {theirs:?} / {ours:?}"
            );
        }
    }
}

/// One query's hits: score and point.
type Ranking = Vec<(f32, Uuid)>;

/// A ranking as its groups of equal scores (each group's ids sorted), the last group (which a
/// cut-off may truncate anywhere) by its score alone. Scores are compared with a tolerance: the
/// engines compute them alike, not bit for bit.
fn tie_groups(hits: &[(f32, Uuid)]) -> Vec<(f32, Vec<Uuid>)> {
    let mut groups: Vec<(f32, Vec<Uuid>)> = Vec::new();
    for &(score, id) in hits {
        match groups.last_mut() {
            Some((s, ids)) if (*s - score).abs() <= 1e-4 * s.abs().max(1e-3) => ids.push(id),
            _ => groups.push((score, vec![id])),
        }
    }
    for (_, ids) in &mut groups {
        ids.sort();
    }
    if let Some((_, ids)) = groups.last_mut() {
        ids.clear();
    }
    groups
}

#[test]
fn an_index_is_copied_whole_and_an_interrupted_copy_resumes() {
    let fixture = fixture();
    let source = EdgeStore::open(&tempdir("copy-source")).unwrap();
    source.upsert(fixture.points.clone()).unwrap();
    let total = fixture.points.len();
    assert!(total > 256, "the copy needs several pages ({total} points)");
    for backend in backends("copy") {
        let (name, target) = (backend.name.as_str(), backend.store.as_ref());
        let checkpoint = tempdir("copy-checkpoint").join("migration.json");
        // A copy run to its end (or its refusal).
        let copy_all = || copy_index(&source, target, &checkpoint, &mut |_, _| {}, &Cancel::new());

        // Stopped after the first page: nothing lost, a checkpoint left.
        let cancel = Cancel::new();
        let stopped = copy_index(
            &source,
            target,
            &checkpoint,
            &mut |done, _| {
                if done > 0 {
                    cancel.cancel();
                }
            },
            &cancel,
        );
        let Err(MigrateError::Interrupted { done, total: t }) = stopped else {
            panic!("{name}: expected an interrupted copy, got {stopped:?}");
        };
        assert_eq!((done, t), (256, total), "{name}");
        assert!(checkpoint.is_file(), "{name}");
        assert_eq!(target.count(&Scope::default()).unwrap(), 256, "{name}");

        // Run again: resumes from the checkpoint and finishes, verified.
        let report = copy_all().unwrap();
        assert!(report.resumed, "{name}");
        assert_eq!(report.copied, total - 256, "{name}");
        assert_eq!(report.bank + report.docs, total, "{name}");
        assert!(
            !checkpoint.exists(),
            "{name}: the checkpoint is removed when done"
        );
        let copied = walk(target, 100);
        for original in &fixture.points {
            assert_same_point(&copied[&original.id], original, name);
        }

        // A second copy into the now full target is refused, and changes nothing.
        let refused = copy_all();
        assert!(
            matches!(&refused, Err(MigrateError::TargetNotEmpty { count, .. }) if *count == total),
            "{name}: {refused:?}"
        );
        assert_eq!(target.count(&Scope::default()).unwrap(), total, "{name}");
    }
    assert_eq!(
        source.count(&Scope::default()).unwrap(),
        total,
        "the source is only read"
    );
}

#[test]
fn an_unreachable_server_is_named_and_the_local_index_is_untouched() {
    let paths = common::fresh_paths("store-unreachable");
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let config = ServerStoreConfig {
        qdrant_url: url.clone(),
        api_key_env: None,
        collection: "studydesk".into(),
        shard_number: None,
        replication_factor: None,
    };
    let error = ServerStore::connect(&config, Create::IfMissing)
        .err()
        .unwrap();
    assert!(
        matches!(&error, StoreError::Unreachable { url: u, .. } if *u == url),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&url) && message.contains("connection refused"),
        "{message}"
    );

    // A library with documents in its embedded index, then config.toml pointed at the server.
    let local =
        EdgeStore::open(&paths.data_dir.join(studydesk_engine::library::INDEX_DIR)).unwrap();
    let fixture_point = Point {
        id: point_id("note", 0),
        dense: vec![
            1.0 / (studydesk_engine::embed::DIMENSION as f32).sqrt();
            studydesk_engine::embed::DIMENSION
        ],
        sparse: Lexicon::shared().document_vector("rotary position embedding"),
        passage: Passage {
            source: Source::Doc,
            question_id: None,
            topic_id: None,
            doc_id: Some("note".into()),
            doc: Some("note.md".into()),
            title: Some("note".into()),
            page: None,
            page_end: None,
            section: None,
            chunk: Some(0),
            lang: Lang::En,
            text: "rotary position embedding".into(),
        },
    };
    local.upsert(vec![fixture_point]).unwrap();
    local.flush().unwrap();
    drop(local);
    let settings = studydesk_engine::config::Config {
        store: StoreConfig::Server(config),
        ..Default::default()
    };
    settings.save(&paths).unwrap();

    // Opening the library fails with the server's address and cause.
    let error = studydesk_engine::library::Library::open(&paths)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains(&url) && error.contains("connection refused"),
        "{error}"
    );
    // So does the CLI, and `store migrate --to` copies nothing.
    for args in [
        vec!["search", "rotary"],
        vec!["store", "status"],
        vec!["store", "migrate", "--to", url.as_str()],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_studydesk"))
            .arg("--data-dir")
            .arg(&paths.data_dir)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&url) && stderr.contains("connection refused"),
            "{args:?}: {stderr}"
        );
    }
    // The embedded index still holds its passage.
    let local =
        EdgeStore::open(&paths.data_dir.join(studydesk_engine::library::INDEX_DIR)).unwrap();
    assert_eq!(local.count(&Scope::default()).unwrap(), 1);
}

#[test]
fn config_selects_the_store() {
    let parse = |text: &str| toml::from_str::<studydesk_engine::config::Config>(text);
    assert_eq!(parse("").unwrap().store, StoreConfig::Embedded);
    assert_eq!(
        parse(r#"store = "embedded""#).unwrap().store,
        StoreConfig::Embedded
    );
    let server =
        parse(r#"store = { qdrant_url = "https://q.example:6334", api_key_env = "QKEY" }"#)
            .unwrap()
            .store;
    assert_eq!(
        server,
        StoreConfig::Server(ServerStoreConfig {
            qdrant_url: "https://q.example:6334".into(),
            api_key_env: Some("QKEY".into()),
            collection: "studydesk".into(),
            shard_number: None,
            replication_factor: None,
        })
    );
    // Written and read back the same way (config.toml is rewritten by the app's settings).
    let config = studydesk_engine::config::Config {
        store: server.clone(),
        ..Default::default()
    };
    let text = toml::to_string_pretty(&config).unwrap();
    assert_eq!(parse(&text).unwrap().store, server);
    let message = parse(r#"store = "qdrant""#).unwrap_err().to_string();
    assert!(message.contains("unknown store \"qdrant\""), "{message}");
    let message = parse(r#"store = { qdrant_url = "http://x:6334", colection = "a" }"#)
        .unwrap_err()
        .to_string();
    assert!(message.contains("unknown field `colection`"), "{message}");
}

/// Errors only a real server can produce; skipped (and said so) without one.
#[test]
fn a_server_reports_a_wrong_key_a_missing_collection_and_a_dimension_mismatch() {
    let Some(config) = server_config("errors") else {
        say(
            "store server errors: SKIPPED: QDRANT_URL is not set (a server can be built with ../shared/qdrant/build.sh; see the README)".into()
        );
        return;
    };
    // A collection that does not exist, opened for reading.
    let missing = ServerStore::connect(&config, Create::Never).err().unwrap();
    assert!(
        matches!(missing, StoreError::MissingCollection { .. }),
        "{missing:?}"
    );

    // A collection made for another embedding model (768 dimensions).
    let client = qdrant_client::Qdrant::from_url(&config.qdrant_url)
        .api_key(std::env::var("QDRANT_API_KEY").ok())
        .skip_compatibility_check()
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut vectors = qdrant_client::qdrant::VectorsConfigBuilder::default();
    vectors.add_named_vector_params(
        "dense",
        qdrant_client::qdrant::VectorParamsBuilder::new(
            768,
            qdrant_client::qdrant::Distance::Cosine,
        ),
    );
    runtime
        .block_on(
            client.create_collection(
                qdrant_client::qdrant::CreateCollectionBuilder::new(&config.collection)
                    .vectors_config(vectors),
            ),
        )
        .unwrap();
    let mismatch = ServerStore::connect(&config, Create::IfMissing).err();
    runtime
        .block_on(client.delete_collection(&config.collection))
        .unwrap();
    let mismatch = mismatch.unwrap();
    assert!(
        matches!(mismatch, StoreError::Incompatible { .. }),
        "{mismatch:?}"
    );
    assert!(mismatch.to_string().contains("768"), "{mismatch}");

    // A wrong key, when the server wants one.
    if std::env::var_os("QDRANT_API_KEY").is_some() {
        // SAFETY: set before any thread of this test reads it; the variable is this test's own.
        unsafe { std::env::set_var("STUDYDESK_TEST_WRONG_QDRANT_KEY", "not-the-key") };
        let wrong = ServerStoreConfig {
            api_key_env: Some("STUDYDESK_TEST_WRONG_QDRANT_KEY".into()),
            ..config.clone()
        };
        let refused = ServerStore::connect(&wrong, Create::IfMissing)
            .err()
            .unwrap();
        assert!(
            matches!(refused, StoreError::Unauthorized { .. }),
            "{refused:?}"
        );
    } else {
        say("store server errors: wrong key SKIPPED: QDRANT_API_KEY is not set".into());
    }
}

/// A data folder opened on an index that another one built (a shared server collection, or a
/// copy) lists its documents and keeps its bank instead of re-indexing it.
#[test]
fn a_library_on_an_index_built_elsewhere_adopts_its_bank_and_documents() {
    // The fixture's library is the first data folder; its index is copied into a second one.
    let fixture = fixture();
    let original = &fixture.doc;
    let second = common::fresh_paths("store-adopt-second");
    {
        let from = EdgeStore::open(&fixture.paths.data_dir.join(INDEX_DIR)).unwrap();
        let to = EdgeStore::open(&second.data_dir.join(INDEX_DIR)).unwrap();
        let checkpoint = second.data_dir.join("copy.json");
        copy_index(&from, &to, &checkpoint, &mut |_, _| {}, &Cancel::new()).unwrap();
    }
    let library = Library::open(&second).unwrap();
    let docs = library.docs().unwrap();
    assert_eq!(docs.len(), 1);
    let adopted = &docs[0];
    assert_eq!(
        (
            &adopted.id,
            &adopted.file_name,
            &adopted.title,
            adopted.chunks,
            adopted.pages
        ),
        (
            &original.id,
            &original.file_name,
            &original.title,
            original.chunks,
            original.pages
        )
    );
    assert!(adopted.ready && adopted.path.is_empty());
    assert!(
        !library.ensure_bank_indexed(&Quiet).unwrap(),
        "the copied bank is the same bank and model: kept, not re-indexed"
    );
    // Adopted once: the next open finds nothing new.
    assert_eq!(library.adopt_indexed_docs().unwrap(), 0);
    // Removing the document works like for any other.
    library.remove(&adopted.id).unwrap();
    assert!(library.docs().unwrap().is_empty());
}

#[test]
fn the_store_commands_describe_the_embedded_index_and_refuse_what_cannot_work() {
    let dir = tempdir("cli");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_studydesk"))
            .arg("--data-dir")
            .arg(&dir)
            .args(args)
            .output()
            .unwrap()
    };
    let status = run(&["store", "status"]);
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "embedded index in {}",
            dir.join("index").display()
        )) && stdout.contains("passages: 0 (question bank 0, documents 0)"),
        "{stdout}"
    );
    // No server in config.toml: `key --store` has nothing to name.
    let key = run(&["key", "status", "--store"]);
    assert_eq!(key.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&key.stderr).contains("names no Qdrant server"));
    // Copying from a server nobody runs.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let from = run(&["store", "migrate", "--from", &url]);
    let stderr = String::from_utf8_lossy(&from.stderr);
    assert_eq!(from.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&url) && stderr.contains("connection refused"),
        "{stderr}"
    );
    assert!(!dir.join("store-migration.json").exists());
}
