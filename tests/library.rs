//! Indexing and retrieval end to end: the real bank and papers, the real embedding model and
//! the embedded Qdrant engine.

mod common;

use std::sync::OnceLock;

use studydesk_engine::Cancel;
use studydesk_engine::bank::Bank;
use studydesk_engine::eval::{self, Scores};
use studydesk_engine::library::{ImportOutcome, Library, LibraryError, Quiet};
use studydesk_engine::retrieve::{Query, SearchOptions};
use studydesk_engine::store::{Mode, Scope, Source};

/// One library for this test binary: the bank plus all of ../shared/papers (17 papers with a
/// text layer, the scanned one, read by OCR, and its SOURCES.md).
fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let paths = common::fresh_paths("library");
        let library = Library::open(&paths).unwrap();
        assert!(
            library.ensure_bank_indexed(&Quiet).unwrap(),
            "a fresh folder indexes the bank"
        );
        let results =
            library.import_paths(&[common::shared().join("papers")], &Quiet, &Cancel::new());
        for (path, result) in &results {
            let name = path.file_name().unwrap().to_string_lossy();
            assert!(
                matches!(result, Ok(ImportOutcome::Imported { .. })),
                "{name}: {result:?}"
            );
        }
        library
    })
}

fn scores(file: &str, mode: Mode) -> Scores {
    let queries = eval::load(&common::shared().join("eval").join(file), Bank::builtin()).unwrap();
    let texts: Vec<Query> = queries.iter().map(|q| Query::new(&q.query)).collect();
    let options = SearchOptions {
        top_k: eval::DEPTH,
        mode,
        ..SearchOptions::default()
    };
    let results = library().search_many(&texts, &options).unwrap();
    let ranks: Vec<_> = queries
        .iter()
        .zip(&results)
        .map(|(q, hits)| eval::first_relevant(q, hits))
        .collect();
    Scores::from_ranks(&ranks)
}

#[test]
fn papers_are_imported_page_by_page() {
    let library = library();
    // Other tests add and remove notes meanwhile; count what came from ../shared/papers.
    let papers = std::fs::canonicalize(common::shared().join("papers")).unwrap();
    let docs: Vec<_> = library
        .docs()
        .unwrap()
        .into_iter()
        .filter(|d| d.path.starts_with(papers.to_str().unwrap()))
        .collect();
    assert_eq!(
        docs.len(),
        19,
        "17 papers with a text layer, the scan and SOURCES.md"
    );
    assert!(docs.iter().all(|d| d.ready));
    let lora = docs
        .iter()
        .find(|d| d.file_name == "lora-2106.09685.pdf")
        .unwrap();
    assert_eq!(lora.pages, Some(26));
    assert!(
        lora.title.to_lowercase().contains("low-rank adaptation"),
        "{}",
        lora.title
    );
    let stored = library
        .count(&Scope {
            doc_id: Some(lora.id.clone()),
            ..Scope::default()
        })
        .unwrap();
    assert_eq!(stored, lora.chunks as usize);
    assert_eq!(
        library
            .count(&Scope {
                source: Some(Source::Bank),
                ..Scope::default()
            })
            .unwrap(),
        949
    );
}

/// Recall figures themselves are printed by `studydesk eval` and `scripts/bench.sh`, not
/// asserted here; what a test can hold is the design's claim: fusing both sides beats either.
#[test]
fn hybrid_beats_either_side_alone() {
    let total = |mode| {
        let (b, p) = (
            scores("dev_bank_queries.tsv", mode),
            scores("dev_paper_queries.tsv", mode),
        );
        (b.recall_at_5 * b.queries as f64 + p.recall_at_5 * p.queries as f64)
            / (b.queries + p.queries) as f64
    };
    let (hybrid, dense, lexical) = (
        total(Mode::Hybrid),
        total(Mode::Dense),
        total(Mode::Lexical),
    );
    eprintln!("Recall@5 overall: hybrid {hybrid:.3}, dense {dense:.3}, lexical {lexical:.3}");
    assert!(
        hybrid > dense && hybrid > lexical,
        "hybrid {hybrid} dense {dense} lexical {lexical}"
    );
}

#[test]
fn filters_by_topic_and_source() {
    let library = library();
    let options = SearchOptions {
        topic_id: Some("t05".into()),
        source: Some(Source::Bank),
        ..SearchOptions::default()
    };
    let hits = library.search("multi-query attention", &options).unwrap();
    assert!(!hits.is_empty());
    assert!(
        hits.iter().all(|h| h.topic_id.as_deref() == Some("t05")),
        "{hits:?}"
    );

    let options = SearchOptions {
        source: Some(Source::Doc),
        ..SearchOptions::default()
    };
    let hits = library
        .search("low-rank adaptation of attention weights", &options)
        .unwrap();
    assert!(
        hits.iter()
            .all(|h| h.source == Source::Doc && h.doc.is_some() && h.page.is_some())
    );
    assert!(
        hits[..3]
            .iter()
            .any(|h| h.doc.as_deref() == Some("lora-2106.09685.pdf")),
        "{:?}",
        &hits[..3]
    );
    assert!(hits.windows(2).all(|w| w[0].rank + 1 == w[1].rank));
}

#[test]
fn chinese_papers_are_searchable_in_chinese() {
    let options = SearchOptions {
        source: Some(Source::Doc),
        top_k: 5,
        ..SearchOptions::default()
    };
    let hits = library().search("大语言模型的涌现能力", &options).unwrap();
    assert!(
        hits.iter()
            .any(|h| h.doc.as_deref() == Some("zh-llm-survey-rucaibox.pdf")),
        "{:?}",
        hits.iter().map(|h| (&h.doc, h.page)).collect::<Vec<_>>()
    );
    let survey_hit = hits
        .iter()
        .find(|h| h.doc.as_deref() == Some("zh-llm-survey-rucaibox.pdf"))
        .unwrap();
    assert!(
        survey_hit
            .text
            .chars()
            .filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c))
            .count()
            > 50
    );
}

#[test]
fn notes_reimport_replace_and_remove() {
    let library = library();
    let dir = common::scratch("notes");
    let note = dir.join("sourdough-notes.md");
    std::fs::write(&note, "# Sourdough\n\nA levain is fed flour and water at a 1:1:1 ratio.\n\n## Baking\n\nBake at 250 °C with steam for the first twenty minutes.\n").unwrap();

    let first = library.import_file(&note, &Quiet, &Cancel::new()).unwrap();
    let ImportOutcome::Imported { doc, replaced: 0 } = first else {
        panic!("{first:?}")
    };
    assert_eq!(doc.title, "Sourdough");
    assert!(matches!(
        library.import_file(&note, &Quiet, &Cancel::new()).unwrap(),
        ImportOutcome::Unchanged { .. }
    ));

    // A changed file replaces its earlier version.
    std::fs::write(
        &note,
        "# Sourdough\n\nA levain is fed rye flour and water.\n",
    )
    .unwrap();
    let ImportOutcome::Imported {
        doc: new_doc,
        replaced: 1,
    } = library.import_file(&note, &Quiet, &Cancel::new()).unwrap()
    else {
        panic!("expected a replacement")
    };
    assert_eq!(
        library
            .count(&Scope {
                doc_id: Some(doc.id.clone()),
                ..Scope::default()
            })
            .unwrap(),
        0
    );
    let hits = library
        .search(
            "levain rye flour",
            &SearchOptions {
                source: Some(Source::Doc),
                top_k: 3,
                ..SearchOptions::default()
            },
        )
        .unwrap();
    assert_eq!(hits[0].doc.as_deref(), Some("sourdough-notes.md"));
    assert_eq!(hits[0].page, None, "notes have no pages");

    let removed = library.remove("sourdough-notes.md").unwrap();
    assert_eq!(removed.id, new_doc.id);
    assert_eq!(
        library
            .count(&Scope {
                doc_id: Some(new_doc.id),
                ..Scope::default()
            })
            .unwrap(),
        0
    );
    assert!(matches!(
        library.remove("sourdough-notes.md"),
        Err(LibraryError::UnknownDoc(_))
    ));
}
