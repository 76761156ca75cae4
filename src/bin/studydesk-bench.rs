//! `studydesk-bench`: indexing, embedding and query speed on the real bank and papers.
//!
//! Prints: cold bank indexing time; pages/s and passages/s importing a folder of papers; OCR
//! accuracy (against the text layer of the scanned originals) and pages/s;
//! embedding tokens/s against Python onnxruntime on the same ONNX file and texts (as a ratio);
//! query latency p50/p95 (embedding + hybrid search) at the real corpus size and at a larger
//! synthetic index after `optimize()`; the rate of copying that index the way `store migrate`
//! does; first-token latency and streaming rate of `ask` on the
//! local model.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use studydesk_engine::bank::Bank;
use studydesk_engine::chunk::{Chunker, bank_passage};
use studydesk_engine::config::Paths;
use studydesk_engine::embed::MODEL_RELATIVE_DIR;
use studydesk_engine::lexical::Lexicon;

use studydesk_engine::Cancel;
use studydesk_engine::glossary::Glossary;
use studydesk_engine::library::{ImportOutcome, Library, Quiet};
use studydesk_engine::llm::ChatClient;
use studydesk_engine::llm::local::{LocalModel, LocalServer, TierChoice};
use studydesk_engine::retrieve::{self, Query, QueryVectors, SearchOptions};
use studydesk_engine::store::edge::EdgeStore;
use studydesk_engine::store::{Passage, Point, Source, VectorStore, point_id};
use studydesk_engine::text::Lang;
use studydesk_engine::tutor::{Listener, Tutor};

#[derive(Parser)]
#[command(about = "Measure StudyDesk's indexing, embedding and query speed")]
struct Args {
    /// Folder of papers to import
    #[arg(long, default_value = "../shared/papers")]
    papers: PathBuf,
    /// Query files (query TAB expected) whose queries time the searches
    #[arg(long, default_values = ["../shared/eval/dev_bank_queries.tsv", "../shared/eval/dev_paper_queries.tsv"])]
    queries: Vec<PathBuf>,
    /// Size of the synthetic index for the large-corpus latency figure
    #[arg(long, default_value_t = 50_000)]
    synthetic: usize,
    /// Python with onnxruntime and tokenizers, for the reference embedding run
    #[arg(long, default_value = ".venv/bin/python")]
    python: PathBuf,
    /// Sizes of the synthetic indexes on which the embedded engine and a Qdrant server (when
    /// QDRANT_URL names one) are compared side by side
    #[arg(long, value_delimiter = ',', default_values_t = [50_000, 500_000])]
    table_sizes: Vec<usize>,
    /// Only the embedded-versus-server table
    #[arg(long)]
    table_only: bool,
    /// Only the OCR figures (accuracy and pages/s on the scans)
    #[arg(long)]
    ocr_only: bool,
    /// Scratch folder (emptied first)
    #[arg(long, default_value = "target/bench")]
    scratch: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let _ = std::fs::remove_dir_all(&args.scratch);
    let data_dir = args.scratch.join("data");
    std::fs::create_dir_all(&data_dir)?;
    let paths = Paths::resolve(Some(&data_dir))?;
    if args.ocr_only {
        return ocr_figures(&paths, &args.papers, &args.scratch);
    }
    if args.table_only {
        let library = Library::open(&paths)?;
        let embedder = library.embedder();
        let bank = Bank::builtin();
        let texts: Vec<String> = bank.questions().map(|q| bank_passage(bank, q)).collect();
        let vectors = embedder.embed_passages(&texts)?;
        let sparse: Vec<_> = texts
            .iter()
            .map(|t| Lexicon::shared().document_vector(t))
            .collect();
        let queries = load_queries(&args.queries)?;
        return store_table(
            &args,
            embedder,
            &texts,
            &vectors,
            &sparse,
            &queries,
            &SearchOptions::default(),
        );
    }

    // 1. The bank, cold: a fresh data folder, model load included.
    let start = Instant::now();
    let library = Library::open(&paths)?;
    let opened = start.elapsed();
    library.ensure_bank_indexed(&Quiet)?;
    println!(
        "bank index, cold: {:.1} s for {} items (of which {:.1} s opening: model, tokenizer, store)",
        start.elapsed().as_secs_f64(),
        Bank::builtin().questions().count(),
        opened.as_secs_f64()
    );

    // 2. Importing the papers.
    let start = Instant::now();
    let results = library.import_paths(std::slice::from_ref(&args.papers), &Quiet, &Cancel::new());
    let seconds = start.elapsed().as_secs_f64();
    let (mut pages, mut chunks, mut failed) = (0u64, 0u64, 0);
    for (_, result) in &results {
        match result {
            Ok(ImportOutcome::Imported { doc, .. }) => {
                pages += u64::from(doc.pages.unwrap_or(0));
                chunks += u64::from(doc.chunks);
            }
            Ok(ImportOutcome::Unchanged { .. }) => {}
            Err(_) => failed += 1,
        }
    }
    println!(
        "import {}: {} files ({failed} refused), {pages} pages, {chunks} passages in {seconds:.1} s: {:.1} pages/s, {:.1} passages/s",
        args.papers.display(),
        results.len(),
        pages as f64 / seconds,
        chunks as f64 / seconds
    );

    // 2b. OCR: what it reads against the text layer of the page it is a picture of, and how fast.
    ocr_figures(&paths, &args.papers, &args.scratch)?;

    // 3. Embedding throughput against Python onnxruntime, same texts and file.
    let embedder = library.embedder();
    let bank = Bank::builtin();
    let texts: Vec<String> = bank.questions().map(|q| bank_passage(bank, q)).collect();
    let model_dir = paths.cache_dir.join(MODEL_RELATIVE_DIR);
    let chunker = Chunker::from_tokenizer_file(&model_dir.join("tokenizer.json"))?;
    let tokens: usize = texts
        .iter()
        .map(|t| chunker.count_tokens(&format!("passage: {t}")) + 2)
        .sum();
    embedder.embed_passages(&texts[..16])?; // warm-up
    let start = Instant::now();
    embedder.embed_passages(&texts)?;
    let rust_rate = tokens as f64 / start.elapsed().as_secs_f64();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    print!(
        "embedding: {rust_rate:.0} tokens/s ({} bank passages, {tokens} tokens, {threads} threads)",
        texts.len()
    );
    match python_rate(&args.python, &model_dir, &texts, threads, &args.scratch) {
        Ok(py) => println!(
            "; Python onnxruntime {py:.0} tokens/s; ratio {:.2}x",
            rust_rate / py
        ),
        Err(e) => println!("; Python reference not run: {e:#}"),
    }

    // 4. Query latency at the real corpus size.
    let queries = load_queries(&args.queries)?;
    let options = SearchOptions::default();
    let real = latencies(&queries, |q| {
        library.search(q, &options).map(drop).map_err(Into::into)
    })?;
    let total = library.count(&Default::default())?;
    println!(
        "query (embed + hybrid search), {total} passages: {}",
        summary(&real)
    );

    // 5. A large synthetic index: real passage vectors, perturbed, after optimize().
    let store = EdgeStore::open(&args.scratch.join("synthetic"))?;
    let vectors = embedder.embed_passages(&texts)?;
    let lexicon = Lexicon::shared();
    let sparse: Vec<_> = texts.iter().map(|t| lexicon.document_vector(t)).collect();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let start = Instant::now();
    for batch_start in (0..args.synthetic).step_by(1000) {
        let end = (batch_start + 1000).min(args.synthetic);
        store.upsert(synthetic_points(
            batch_start..end,
            &vectors,
            &sparse,
            &texts,
            &mut rng,
        ))?;
    }
    store.flush()?;
    let loaded = start.elapsed();
    let start = Instant::now();
    store.optimize()?;
    println!(
        "synthetic index: {} passages written in {:.1} s, optimize() {:.1} s",
        args.synthetic,
        loaded.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    let large = latencies(&queries, |q| {
        let vectors =
            QueryVectors::embed(embedder, Glossary::builtin(), &[Query::new(q)], &options)?;
        retrieve::search(&store, &vectors[0], &options)?;
        Ok(())
    })?;
    println!(
        "query (embed + hybrid search), {} synthetic passages: {}",
        args.synthetic,
        summary(&large)
    );
    let search_only = {
        let all: Vec<Query> = queries.iter().map(Query::new).collect();
        let vectors = QueryVectors::embed(embedder, Glossary::builtin(), &all, &options)?;
        let mut i = 0;
        latencies(&queries, |_| {
            retrieve::search(&store, &vectors[i % vectors.len()], &options)?;
            i += 1;
            Ok(())
        })?
    };
    println!(
        "hybrid search alone, {} synthetic passages: {}",
        args.synthetic,
        summary(&search_only)
    );
    // The walk `store migrate` does (pages with vectors, upserts, count checks), here into a
    // second embedded index so that it runs without a server.
    let copy_dir = args.scratch.join("synthetic-copy");
    let _ = std::fs::remove_dir_all(&copy_dir);
    let copy = EdgeStore::open(&copy_dir)?;
    let start = Instant::now();
    let report = studydesk_engine::store::migrate::copy_index(
        &store,
        &copy,
        &args.scratch.join("synthetic-copy.json"),
        &mut |_, _| {},
        &Cancel::new(),
    )?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "index copy (store migrate's walk), {} passages: {seconds:.1} s, {:.0} passages/s",
        report.copied,
        report.copied as f64 / seconds
    );
    drop(copy);
    let _ = std::fs::remove_dir_all(&copy_dir);

    // 5b. The embedded engine and a Qdrant server side by side.
    store_table(
        &args, embedder, &texts, &vectors, &sparse, &queries, &options,
    )?;

    // 6. `ask` end to end on the local model: retrieval, prompt, streamed generation.
    let Some(model) = LocalModel::choose(TierChoice::Fast, &paths.cache_dir) else {
        println!("ask: not run (the local model is not provisioned: scripts/setup.sh --with-llm)");
        return Ok(());
    };
    let start = Instant::now();
    let server = LocalServer::start(&model, &args.scratch.join("llama-server.log"))?;
    println!(
        "local model: ready in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let client = ChatClient::new(server.provider());
    let tutor = Tutor::new(&library, Some(&client));
    let (mut first, mut rates) = (Vec::new(), Vec::new());
    for question in queries.iter().take(6) {
        let start = Instant::now();
        let mut timing = Timing {
            start,
            first_piece: None,
            pieces: 0,
        };
        tutor.ask(question, &[], None, None, &Cancel::new(), &mut timing)?;
        let Timing {
            first_piece,
            pieces,
            ..
        } = timing;
        let total = start.elapsed();
        if let Some(first_piece) = first_piece {
            first.push(first_piece);
            let generating = (total - first_piece).as_secs_f64();
            if pieces > 1 && generating > 0.0 {
                rates.push((pieces - 1) as f64 / generating);
            }
        }
    }
    let mean_rate = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    println!(
        "ask (retrieval + prompt + local generation): first token {}; {mean_rate:.1} tokens/s while streaming",
        summary(&first)
    );
    Ok(())
}

/// The English scan against the paper it was scanned from (pages 1-2), and a Chinese scan made
/// here at 150 DPI of pages 5-8 of the Chinese survey (a figure page, two text pages, a table)
/// against the survey's own text layer; each page is compared after NFKC with all whitespace
/// removed. Pages are read through the import's own extraction (render at 200 DPI, OCR,
/// cleaning).
fn ocr_figures(paths: &Paths, papers: &std::path::Path, scratch: &std::path::Path) -> Result<()> {
    use studydesk_engine::extract::{self, Document, Reader, Scanner};
    use unicode_normalization::UnicodeNormalization;
    let pdfium = extract::pdfium_path(&paths.cache_dir);
    let scanner = Scanner::new(&paths.cache_dir);
    let start = Instant::now();
    scanner.read("warm-up", &image::RgbImage::new(64, 64))?;
    println!(
        "OCR models: loaded in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    let read = |path: &std::path::Path| -> Result<(Document, f64)> {
        let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
        let start = Instant::now();
        let reader = Reader {
            pdfium: &pdfium,
            scanner: &scanner,
            on_ocr_page: &|_, _| {},
            cancel: &Cancel::new(),
        };
        let doc = extract::extract(path, &bytes, &reader)?;
        Ok((doc, start.elapsed().as_secs_f64()))
    };
    let page_text = |doc: &Document, page: u32| -> String {
        doc.pages
            .iter()
            .filter(|p| p.number == Some(page))
            .flat_map(|p| &p.paragraphs)
            .flat_map(|p| p.text.nfkc())
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    let zh = papers.join("zh-llm-survey-rucaibox.pdf");
    let zh_scan = scratch.join("zh-survey-scan-p5-8.pdf");
    std::fs::write(
        &zh_scan,
        extract::render::image_only_copy(&pdfium, &zh, &[5, 6, 7, 8], 150.0)?,
    )?;
    let cases = [
        (
            "English",
            papers.join("scanned-image-only-rag-p1-2.pdf"),
            papers.join("rag-lewis-2005.11401.pdf"),
            vec![1, 2],
        ),
        ("Chinese", zh_scan, zh, vec![5, 6, 7, 8]),
    ];
    for (language, scan, original, pages) in cases {
        let (scanned, seconds) = read(&scan)?;
        let (reference, _) = read(&original)?;
        let (mut errors, mut length) = (0, 0);
        let mut per_page = Vec::new();
        for (i, &page) in pages.iter().enumerate() {
            let ocr = page_text(&scanned, i as u32 + 1);
            let truth = page_text(&reference, page);
            let distance = strsim::levenshtein(&ocr, &truth);
            let n = truth.chars().count().max(1);
            errors += distance;
            length += n;
            per_page.push(format!(
                "p.{page} {:.3} (Dice {:.3})",
                1.0 - distance as f64 / n as f64,
                studydesk_engine::eval::bigram_dice(&ocr, &truth)
            ));
        }
        println!(
            "OCR {language}: {} pages in {seconds:.1} s ({:.2} pages/s, {} DPI); character accuracy 1 - CER {:.3}: {}",
            pages.len(),
            pages.len() as f64 / seconds,
            extract::scan::OCR_DPI,
            1.0 - errors as f64 / length as f64,
            per_page.join(", ")
        );
    }
    Ok(())
}

fn load_queries(files: &[PathBuf]) -> Result<Vec<String>> {
    let mut queries = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        queries.extend(
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(|l| l.split('\t').next())
                .map(String::from),
        );
    }
    if queries.is_empty() {
        bail!("no queries in {files:?}");
    }
    Ok(queries)
}

/// Runs every query three times (after one warm-up pass) and returns the durations.
fn latencies(queries: &[String], mut run: impl FnMut(&str) -> Result<()>) -> Result<Vec<Duration>> {
    for q in queries {
        run(q)?;
    }
    let mut out = Vec::new();
    for _ in 0..3 {
        for q in queries {
            let start = Instant::now();
            run(q)?;
            out.push(start.elapsed());
        }
    }
    Ok(out)
}

fn summary(samples: &[Duration]) -> String {
    let [p50, p95] = percentiles_ms(samples);
    format!(
        "p50 {p50:.1} ms, p95 {p95:.1} ms ({} queries)",
        samples.len()
    )
}

/// The 50th and 95th percentiles of `samples`, in milliseconds.
fn percentiles_ms(samples: &[Duration]) -> [f64; 2] {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    [at(0.5), at(0.95)]
}

/// The embedded engine and a Qdrant server (QDRANT_URL, its key in QDRANT_API_KEY; the server's
/// pid and folder in QDRANT_PID and QDRANT_HOME, which `scripts/bench.sh` sets when it starts the
/// one `scripts/provision.sh --with-qdrant` built) on the same synthetic indexes: write rate
/// (upserts in batches of 1,000, then the index build), hybrid search latency with and without
/// the query embedding, memory and disk.
fn store_table(
    args: &Args,
    embedder: &studydesk_engine::embed::Embedder,
    texts: &[String],
    vectors: &[Vec<f32>],
    sparse: &[studydesk_engine::lexical::SparseVector],
    queries: &[String],
    options: &SearchOptions,
) -> Result<()> {
    use studydesk_engine::store::server::{Create, ServerStore};
    let server_url = std::env::var("QDRANT_URL").ok().filter(|u| !u.is_empty());
    if server_url.is_none() {
        println!(
            "embedded vs server: the server rows SKIPPED (QDRANT_URL is not set; `bash scripts/bench.sh` starts the server `scripts/provision.sh --with-qdrant` builds)"
        );
    }
    let all: Vec<Query> = queries.iter().map(Query::new).collect();
    let query_vectors = QueryVectors::embed(embedder, Glossary::builtin(), &all, options)?;
    println!(
        "| index | passages | write (upsert + index build) | hybrid search p50 / p95 | with query embedding p50 / p95 | memory (RSS) | disk |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for &size in &args.table_sizes {
        let mut backends: Vec<TableBackend> = Vec::new();
        let dir = args.scratch.join(format!("table-embedded-{size}"));
        let _ = std::fs::remove_dir_all(&dir);
        backends.push((
            "embedded (qdrant-edge)".into(),
            Box::new(EdgeStore::open(&dir)?),
            None,
            dir,
        ));
        if let Some(url) = &server_url {
            let config = bench_collection(url, size);
            if let Ok(old) = ServerStore::connect(&config, Create::Never) {
                old.drop_collection()?;
            }
            let pid = std::env::var("QDRANT_PID")
                .ok()
                .and_then(|p| p.parse().ok());
            let home = std::env::var_os("QDRANT_HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            backends.push((
                format!("Qdrant server {url}"),
                Box::new(ServerStore::connect(&config, Create::IfMissing)?),
                pid,
                home,
            ));
        }
        for (name, store, pid, folder) in &backends {
            let rss_before = rss_mb(*pid);
            let disk_before = folder_mb(folder);
            let mut rng = 0x9E37_79B9_7F4A_7C15u64;
            let start = Instant::now();
            for batch_start in (0..size).step_by(1000) {
                let end = (batch_start + 1000).min(size);
                store.upsert(synthetic_points(
                    batch_start..end,
                    vectors,
                    sparse,
                    texts,
                    &mut rng,
                ))?;
            }
            store.flush()?;
            store.optimize()?;
            let seconds = start.elapsed().as_secs_f64();
            let mut i = 0;
            let search = latencies(queries, |_| {
                retrieve::search(
                    store.as_ref(),
                    &query_vectors[i % query_vectors.len()],
                    options,
                )?;
                i += 1;
                Ok(())
            })?;
            let embedded = latencies(queries, |q| {
                // A query as a user types it: embedded now, not served from the query cache.
                embedder.forget_queries();
                let vectors =
                    QueryVectors::embed(embedder, Glossary::builtin(), &[Query::new(q)], options)?;
                retrieve::search(store.as_ref(), &vectors[0], options)?;
                Ok(())
            })?;
            let process = if pid.is_some() {
                "server"
            } else {
                "this process"
            };
            println!(
                "| {name} | {size} | {seconds:.0} s, {:.0} passages/s | {} | {} | {process} {:.0} MB (+{:.0}) | {:.0} MB |",
                size as f64 / seconds,
                p50_p95(&search),
                p50_p95(&embedded),
                rss_mb(*pid),
                rss_mb(*pid) - rss_before,
                folder_mb(folder) - disk_before
            );
        }
        for (_, store, pid, folder) in backends {
            if pid.is_none() {
                drop(store);
                let _ = std::fs::remove_dir_all(&folder);
            }
        }
        if let Some(url) = &server_url {
            let config = bench_collection(url, size);
            ServerStore::connect(&config, Create::Never)?.drop_collection()?;
        }
    }
    Ok(())
}

/// The server collection of the table's row for `size` passages.
fn bench_collection(url: &str, size: usize) -> studydesk_engine::config::ServerStoreConfig {
    studydesk_engine::config::ServerStoreConfig {
        qdrant_url: url.to_string(),
        api_key_env: std::env::var_os("QDRANT_API_KEY").map(|_| "QDRANT_API_KEY".into()),
        collection: format!("studydesk-bench-{size}"),
        shard_number: None,
        replication_factor: None,
    }
}

/// A column of the table: its name, its store, the server's pid (None: this process) and the
/// folder whose size is its disk use.
type TableBackend = (String, Box<dyn VectorStore>, Option<u32>, PathBuf);

/// Resident memory of a process (this one when `pid` is None), in MB.
fn rss_mb(pid: Option<u32>) -> f64 {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".into(),
    };
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Bytes under a folder, in MB.
fn folder_mb(dir: &std::path::Path) -> f64 {
    fn walk(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => walk(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    }
    walk(dir) as f64 / 1e6
}

fn p50_p95(samples: &[Duration]) -> String {
    let [p50, p95] = percentiles_ms(samples);
    format!("{p50:.1} / {p95:.1} ms")
}

/// Synthetic passages `range` of a large index: the bank's real vectors, perturbed, with their
/// sparse vectors and texts; one in ten a bank item, the rest documents of 500 passages.
fn synthetic_points(
    range: std::ops::Range<usize>,
    vectors: &[Vec<f32>],
    sparse: &[studydesk_engine::lexical::SparseVector],
    texts: &[String],
    rng: &mut u64,
) -> Vec<Point> {
    range
        .map(|i| {
            let base = i % texts.len();
            Point {
                id: point_id("synthetic", i as u32),
                dense: perturb(&vectors[base], rng),
                sparse: sparse[base].clone(),
                passage: Passage {
                    source: if i % 10 == 0 {
                        Source::Bank
                    } else {
                        Source::Doc
                    },
                    question_id: None,
                    topic_id: None,
                    doc_id: Some(format!("synthetic-{}", i / 500)),
                    doc: Some(format!("synthetic-{}.pdf", i / 500)),
                    title: None,
                    page: Some((i % 500 / 5) as u32 + 1),
                    page_end: None,
                    section: None,
                    chunk: Some(i as u32),
                    lang: if i % 3 == 0 { Lang::Zh } else { Lang::En },
                    text: texts[base].clone(),
                },
            }
        })
        .collect()
}

/// A unit vector near `base`: the synthetic index keeps the real corpus's geometry.
fn perturb(base: &[f32], rng: &mut u64) -> Vec<f32> {
    let mut v: Vec<f32> = base
        .iter()
        .map(|x| {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            let noise = ((*rng >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1;
            x + noise
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn python_rate(
    python: &std::path::Path,
    model_dir: &std::path::Path,
    texts: &[String],
    threads: usize,
    scratch: &std::path::Path,
) -> Result<f64> {
    if !python.is_file() {
        bail!(
            "{} not found (run scripts/bench.sh, which sets it up)",
            python.display()
        );
    }
    let file = scratch.join("texts.json");
    let prefixed: Vec<String> = texts.iter().map(|t| format!("passage: {t}")).collect();
    std::fs::write(&file, serde_json::to_vec(&prefixed)?)?;
    let out = std::process::Command::new(python)
        .arg("scripts/bench_embed.py")
        .arg(model_dir)
        .arg(&file)
        .arg(threads.to_string())
        .output()?;
    if !out.status.success() {
        bail!(
            "{}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    report["tokens_per_s"]
        .as_f64()
        .context("no tokens_per_s in the Python report")
}

/// When an answer's first piece came, and how many followed.
struct Timing {
    start: Instant,
    first_piece: Option<Duration>,
    pieces: usize,
}

impl Listener for Timing {
    fn token(&mut self, _: &str) {
        self.first_piece.get_or_insert_with(|| self.start.elapsed());
        self.pieces += 1;
    }
}
