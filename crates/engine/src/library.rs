//! The library: the bank and the user's documents, indexed together. This is the API the CLI
//! and the desktop app call: open, import, remove, list, search.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::bank::{BUILTIN_TEXT, Bank};
use crate::cancel::Cancel;
use crate::chunk::{self, Chunker};
use crate::config::{Config, ConfigError, Paths};
use crate::database::{Database, DatabaseError, DocRecord};
use crate::embed::{EmbedError, Embedder};
use crate::error::{Classify, ErrorKind, Remedy};
use crate::extract::render::PageImage;
use crate::extract::{self, DocKind, ExtractError, Scanner};
use crate::glossary::Glossary;
use crate::lexical::Lexicon;
use crate::retrieve::{self, Query, QueryVectors, SearchHit, SearchOptions};
use crate::store::server::Create;
use crate::store::{Passage, Point, Scope, Source, StoreError, VectorStore, point_id};
use crate::text::Lang;

/// The embedded index's folder inside the data folder.
pub const INDEX_DIR: &str = "index";
/// Bumped when chunking or the stored payload changes, so that old indexes are rebuilt.
const INDEX_FORMAT: u32 = 2;
/// Files larger than this are refused: no study note is this big, and it would stall the app.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// Passages embedded and written per step (also the granularity of progress reports).
const EMBED_STEP: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Chunk(#[from] chunk::ChunkError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("cannot create {path}: {error}")]
    CreateDir {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{file}: {reason}")]
    Input { file: String, reason: String },
    #[error("no imported document matches {0:?}")]
    UnknownDoc(String),
    #[error("{query:?} matches several documents: {candidates}; use the document id")]
    AmbiguousDoc { query: String, candidates: String },
    #[error("the import was cancelled")]
    Cancelled,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportOutcome {
    Imported { doc: DocRecord, replaced: usize },
    Unchanged { doc: DocRecord },
}

/// Progress of long work, for a progress bar.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress<'a> {
    /// Starting file `index` (0-based) of `total`.
    File {
        file: &'a str,
        index: usize,
        total: usize,
    },
    /// The file's text was read: this many pages, cut into this many passages.
    Extracted {
        file: &'a str,
        pages: Option<u32>,
        chunks: usize,
    },
    /// OCR is reading page `done + 1` of the `total` pages of the current file that have no
    /// text layer.
    Ocr {
        file: &'a str,
        done: usize,
        total: usize,
    },
    /// Passages embedded and stored so far for the current file (or the bank).
    Chunks {
        file: &'a str,
        done: usize,
        total: usize,
    },
}

pub trait ProgressSink: Sync {
    fn report(&self, event: Progress<'_>);
}

/// Ignores progress.
pub struct Quiet;
impl ProgressSink for Quiet {
    fn report(&self, _: Progress<'_>) {}
}

pub struct Library {
    store: Box<dyn VectorStore>,
    db: Mutex<Database>,
    embedder: Embedder,
    chunker: Chunker,
    pdfium: PathBuf,
    scanner: Scanner,
    index_key: String,
    glossary: &'static Glossary,
}

impl Library {
    /// Opens (or creates) the library in the data folder, with the index where `config.toml`
    /// says (`store`), and cleans up after any import that a crash interrupted. The bank is not
    /// indexed here: call [`Library::ensure_bank_indexed`].
    pub fn open(paths: &Paths) -> Result<Library, LibraryError> {
        let config = Config::load(paths)?;
        let index_dir = paths.data_dir.join(INDEX_DIR);
        std::fs::create_dir_all(&paths.data_dir).map_err(|error| LibraryError::CreateDir {
            path: paths.data_dir.clone(),
            error,
        })?;
        let store = crate::store::open(&config.store, &index_dir, Create::IfMissing)?;
        let db = Database::open(&paths.data_dir.join(crate::database::DB_FILE))?;
        let embedder = Embedder::open(&paths.cache_dir)?;
        let chunker = Chunker::from_tokenizer_file(
            &paths
                .cache_dir
                .join(crate::embed::MODEL_RELATIVE_DIR)
                .join("tokenizer.json"),
        )?;
        let index_key = format!("{}/format{INDEX_FORMAT}", embedder.model_id);
        let library = Library {
            store,
            db: Mutex::new(db),
            embedder,
            chunker,
            pdfium: extract::pdfium_path(&paths.cache_dir),
            scanner: Scanner::new(&paths.cache_dir),
            index_key,
            glossary: Glossary::builtin(),
        };
        library.recover()?;
        library.adopt_indexed_docs()?;
        Ok(library)
    }

    /// Where the index lives (config.toml's `store`), for display.
    pub fn index_location(&self) -> String {
        self.store.location()
    }

    /// The database (documents, conversations, reviews), locked for the caller.
    pub fn db(&self) -> std::sync::MutexGuard<'_, Database> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gives a record to every document whose passages are in the index but not in this data
    /// folder's records: imported on another device into a shared Qdrant collection, or brought
    /// in by `store migrate --from`. They are then listed, cited and removable like any other;
    /// their pages show as text, since the file itself is elsewhere. Returns how many.
    pub fn adopt_indexed_docs(&self) -> Result<usize, LibraryError> {
        let docs_scope = Scope {
            source: Some(Source::Doc),
            ..Scope::default()
        };
        let known = self.db().documents()?;
        let recorded: usize = known.iter().map(|d| d.chunks as usize).sum();
        // One count settles the usual case without reading any passage.
        if self.store.count(&docs_scope)? == recorded {
            return Ok(0);
        }
        let mut found: std::collections::BTreeMap<String, DocRecord> = Default::default();
        for (_, passage) in self.store.passages(&docs_scope)? {
            let Some(doc_id) = passage.doc_id.clone() else {
                continue;
            };
            if known.iter().any(|d| d.id == doc_id) {
                continue;
            }
            let file_name = passage.doc.clone().unwrap_or_else(|| doc_id.clone());
            let record = found.entry(doc_id.clone()).or_insert_with(|| DocRecord {
                kind: extract::kind_of(Path::new(&file_name)).unwrap_or(DocKind::Text),
                title: passage.title.clone().unwrap_or_else(|| file_name.clone()),
                id: doc_id,
                file_name,
                path: String::new(),
                pages: None,
                chunks: 0,
                ready: true,
                index_key: self.index_key.clone(),
                imported_at: String::new(),
            });
            record.chunks += 1;
            if let Some(last) = passage.page_end.or(passage.page) {
                record.pages = Some(record.pages.unwrap_or(0).max(last));
            }
        }
        let db = self.db();
        for record in found.values() {
            db.begin_import(record)?;
            db.finish_import(&record.id)?;
        }
        Ok(found.len())
    }

    /// Removes the partial points of imports that never finished (the process was killed).
    fn recover(&self) -> Result<(), LibraryError> {
        let unfinished: Vec<DocRecord> = self
            .db()
            .documents()?
            .into_iter()
            .filter(|d| !d.ready)
            .collect();
        for doc in unfinished {
            self.purge(&doc.id)?;
        }
        Ok(())
    }

    /// Indexes the built-in bank unless it is already indexed with the same text and model.
    /// Returns whether it (re)indexed.
    pub fn ensure_bank_indexed(&self, progress: &dyn ProgressSink) -> Result<bool, LibraryError> {
        let fingerprint = format!(
            "{}/{}",
            crate::sha256_hex(BUILTIN_TEXT.as_bytes()),
            self.index_key
        );
        let bank_scope = Scope {
            source: Some(Source::Bank),
            ..Scope::default()
        };
        let bank = Bank::builtin();
        let expected = bank.questions().count();
        let count = self.store.count(&bank_scope)?;
        let recorded = self.db().meta("bank_index")?;
        if count == expected {
            if recorded.as_deref() == Some(fingerprint.as_str()) {
                return Ok(false);
            }
            if recorded.is_none() && self.bank_matches_index(bank)? {
                // A shared or copied index indexed by another data folder: adopt it as it is.
                self.db().set_meta("bank_index", &fingerprint)?;
                return Ok(false);
            }
        }
        self.store.delete(&bank_scope)?;
        let label = "question bank";
        progress.report(Progress::Extracted {
            file: label,
            pages: None,
            chunks: expected,
        });
        // A bank item's position in the whole bank is the stable part of its point id.
        let questions: Vec<(u32, &crate::bank::Question)> = bank
            .questions()
            .enumerate()
            .map(|(i, q)| (i as u32, q))
            .collect();
        let mut done = 0;
        for step in questions.chunks(EMBED_STEP * 4) {
            let texts: Vec<String> = step
                .iter()
                .map(|(_, q)| chunk::bank_passage(bank, q))
                .collect();
            let vectors = self.embedder.embed_passages(&texts)?;
            let points = step
                .iter()
                .zip(texts)
                .zip(vectors)
                .map(|((&(position, q), text), dense)| Point {
                    id: point_id("bank", position),
                    sparse: Lexicon::shared().document_vector(&text),
                    dense,
                    passage: Passage {
                        source: Source::Bank,
                        question_id: Some(q.id.clone()),
                        topic_id: Some(q.topic_id.clone()),
                        doc_id: None,
                        doc: None,
                        title: None,
                        page: None,
                        page_end: None,
                        section: q.subsection.clone(),
                        chunk: None,
                        lang: Lang::Zh,
                        text,
                    },
                })
                .collect();
            self.store.upsert(points)?;
            done += step.len();
            progress.report(Progress::Chunks {
                file: label,
                done,
                total: expected,
            });
        }
        self.store.flush()?;
        self.db().set_meta("bank_index", &fingerprint)?;
        Ok(true)
    }

    /// Whether the indexed bank is this bank embedded by this model: the first and last items'
    /// stored text and vectors must match what this library would write. (A data folder that
    /// opens a shared Qdrant collection has no record of how its bank was indexed.)
    fn bank_matches_index(&self, bank: &Bank) -> Result<bool, LibraryError> {
        let questions: Vec<_> = bank.questions().collect();
        let Some(last) = questions.len().checked_sub(1) else {
            return Ok(false);
        };
        for position in [0, last] {
            let id = point_id("bank", position as u32);
            let page = self.store.page(Some(id), 1)?;
            let Some(stored) = page.points.into_iter().find(|p| p.id == id) else {
                return Ok(false);
            };
            let text = chunk::bank_passage(bank, questions[position]);
            if stored.passage.text != text {
                return Ok(false);
            }
            let fresh = self.embedder.embed_passages(std::slice::from_ref(&text))?;
            let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
            let dot: f32 = fresh[0].iter().zip(&stored.dense).map(|(a, b)| a * b).sum();
            let cosine = dot / (norm(&fresh[0]) * norm(&stored.dense)).max(f32::EPSILON);
            if cosine < 0.999 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Imports files and folders (recursively: every .pdf, .md, .markdown and .txt inside).
    /// A bad file never stops the others; each gets its own result.
    pub fn import_paths(
        &self,
        inputs: &[PathBuf],
        progress: &dyn ProgressSink,
        cancel: &Cancel,
    ) -> Vec<(PathBuf, Result<ImportOutcome, LibraryError>)> {
        let mut work = Vec::new();
        for input in inputs {
            collect_files(input, &mut work);
        }
        let total = work.iter().filter(|(_, refused)| refused.is_none()).count();
        let mut index = 0;
        let mut results = Vec::with_capacity(work.len());
        for (file, refused) in work {
            let result = match refused {
                Some(error) => Err(error),
                None => {
                    let label = extract::file_label(&file);
                    progress.report(Progress::File {
                        file: &label,
                        index,
                        total,
                    });
                    index += 1;
                    if cancel.is_cancelled() {
                        Err(LibraryError::Cancelled)
                    } else {
                        self.import_file(&file, progress, cancel)
                    }
                }
            };
            results.push((file, result));
        }
        if results
            .iter()
            .any(|(_, r)| matches!(r, Ok(ImportOutcome::Imported { .. })))
        {
            // Builds the search graph once for the whole batch; a failure here loses nothing.
            let _ = self.store.optimize();
        }
        results
    }

    /// Imports one file. Re-importing unchanged content is a no-op; a changed file replaces
    /// its earlier version only once the new one is fully indexed. Cancelling removes what
    /// was written of the new version and leaves everything else as it was.
    pub fn import_file(
        &self,
        path: &Path,
        progress: &dyn ProgressSink,
        cancel: &Cancel,
    ) -> Result<ImportOutcome, LibraryError> {
        let file = extract::file_label(path);
        let input_err = |reason: String| LibraryError::Input {
            file: file.clone(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| input_err(format!("cannot read: {e}")))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(input_err(format!(
                "the file is {} MiB; StudyDesk imports files up to {} MiB",
                meta.len() >> 20,
                MAX_FILE_BYTES >> 20
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| input_err(format!("cannot read: {e}")))?;
        let id = crate::sha256_hex(&bytes);
        let full_path = std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string();
        if let Some(doc) = self.db().document(&id)?
            && doc.ready
            && doc.index_key == self.index_key
        {
            return Ok(ImportOutcome::Unchanged { doc });
        }
        let on_ocr_page = |done, total| {
            progress.report(Progress::Ocr {
                file: &file,
                done,
                total,
            })
        };
        let reader = extract::Reader {
            pdfium: &self.pdfium,
            scanner: &self.scanner,
            on_ocr_page: &on_ocr_page,
            cancel,
        };
        let document = match extract::extract(path, &bytes, &reader) {
            Err(ExtractError::Cancelled) => return Err(LibraryError::Cancelled),
            other => other?,
        };
        let chunks = self.chunker.chunk_document(&document);
        if chunks.is_empty() {
            return Err(input_err("no text to index".into()));
        }
        let pages = matches!(document.kind, DocKind::Pdf | DocKind::Image)
            .then_some(document.pages.len() as u32);
        progress.report(Progress::Extracted {
            file: &file,
            pages,
            chunks: chunks.len(),
        });
        let record = DocRecord {
            id: id.clone(),
            file_name: file.clone(),
            path: full_path.clone(),
            kind: document.kind,
            title: document.title.clone(),
            pages,
            chunks: chunks.len() as u32,
            ready: false,
            index_key: self.index_key.clone(),
            imported_at: String::new(),
        };
        // From here until finish_import, a crash leaves a record that `recover` cleans up.
        self.db().begin_import(&record)?;
        if !document.scanned.is_empty() {
            self.db().save_scanned(&id, &document.scanned)?;
        }
        let scope = Scope::doc(&id);
        self.store.delete(&scope)?;
        let mut done = 0;
        for step in chunks.chunks(EMBED_STEP) {
            if cancel.is_cancelled() {
                self.purge(&id)?;
                return Err(LibraryError::Cancelled);
            }
            // The title and section travel with the passage into both vectors: a paragraph
            // about "the method" is found by the name of the paper it belongs to.
            let texts: Vec<String> = step
                .iter()
                .map(|c| match &c.section {
                    Some(section) => format!("{} | {section}\n{}", document.title, c.text),
                    None => format!("{}\n{}", document.title, c.text),
                })
                .collect();
            let vectors = self.embedder.embed_passages(&texts)?;
            let points = step
                .iter()
                .zip(&texts)
                .zip(vectors)
                .map(|((c, indexed), dense)| Point {
                    id: point_id(&id, c.index),
                    dense,
                    sparse: Lexicon::shared().document_vector(indexed),
                    passage: Passage {
                        source: Source::Doc,
                        question_id: None,
                        topic_id: None,
                        doc_id: Some(id.clone()),
                        doc: Some(file.clone()),
                        title: Some(document.title.clone()),
                        page: c.page,
                        page_end: c.page_end,
                        section: c.section.clone(),
                        chunk: Some(c.index),
                        lang: Lang::of(&c.text),
                        text: c.text.clone(),
                    },
                })
                .collect();
            self.store.upsert(points)?;
            done += step.len();
            progress.report(Progress::Chunks {
                file: &file,
                done,
                total: chunks.len(),
            });
        }
        self.store.flush()?;
        self.db().finish_import(&id)?;

        // Only now that the new version is complete does the old one go.
        let older: Vec<DocRecord> = self
            .db()
            .documents_at(&full_path)?
            .into_iter()
            .filter(|d| d.id != id)
            .collect();
        for old in &older {
            self.purge(&old.id)?;
        }
        let doc = self.db().document(&id)?.expect("record written above");
        Ok(ImportOutcome::Imported {
            doc,
            replaced: older.len(),
        })
    }

    pub fn docs(&self) -> Result<Vec<DocRecord>, LibraryError> {
        Ok(self.db().documents()?)
    }

    /// Finds a document by id (or id prefix), file name or path.
    pub fn find_doc(&self, query: &str) -> Result<DocRecord, LibraryError> {
        let docs = self.docs()?;
        let exact: Vec<&DocRecord> = docs
            .iter()
            .filter(|d| d.id == query || d.file_name == query || d.path == query)
            .collect();
        let matches = if exact.is_empty() {
            docs.iter()
                .filter(|d| query.len() >= 6 && d.id.starts_with(query))
                .collect()
        } else {
            exact
        };
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(LibraryError::UnknownDoc(query.into())),
            many => Err(LibraryError::AmbiguousDoc {
                query: query.into(),
                candidates: many
                    .iter()
                    .map(|d| format!("{} ({})", d.file_name, &d.id[..12]))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Deletes a document's passages, then its record: a crash in between leaves a record
    /// without passages, which the next removal or import settles.
    fn purge(&self, doc_id: &str) -> Result<(), LibraryError> {
        self.store.delete(&Scope::doc(doc_id))?;
        self.store.flush()?;
        self.db().delete_document(doc_id)?;
        Ok(())
    }

    /// A page of a document as an image, with `highlight` (a cited passage) located on it: a
    /// PDF page rendered by pdfium, or the imported image itself. On a scanned page the passage
    /// is found among the lines OCR read there.
    pub fn page_image(
        &self,
        doc: &DocRecord,
        page: u32,
        highlight: Option<&str>,
        width: u32,
    ) -> Result<PageImage, LibraryError> {
        let scanned = self.db().scanned_lines(&doc.id, page)?;
        let path = Path::new(&doc.path);
        Ok(match doc.kind {
            DocKind::Image => extract::render::image_page(path, &scanned, highlight, width)?,
            _ => {
                extract::render::render_page(&self.pdfium, path, page, highlight, width, &scanned)?
            }
        })
    }

    /// Removes a document and all its passages.
    pub fn remove(&self, query: &str) -> Result<DocRecord, LibraryError> {
        let doc = self.find_doc(query)?;
        self.purge(&doc.id)?;
        Ok(doc)
    }

    pub fn count(&self, scope: &Scope) -> Result<usize, LibraryError> {
        Ok(self.store.count(scope)?)
    }

    pub fn search(
        &self,
        query: &str,
        options: &SearchOptions,
    ) -> Result<Vec<SearchHit>, LibraryError> {
        self.search_query(&Query::new(query), options)
    }

    /// Searches with a query that may carry its translation into the other language.
    pub fn search_query(
        &self,
        query: &Query,
        options: &SearchOptions,
    ) -> Result<Vec<SearchHit>, LibraryError> {
        let mut results = self.search_many(std::slice::from_ref(query), options)?;
        Ok(results.pop().unwrap_or_default())
    }

    /// Searches many queries, embedding them together (much faster than one by one).
    pub fn search_many(
        &self,
        queries: &[Query],
        options: &SearchOptions,
    ) -> Result<Vec<Vec<SearchHit>>, LibraryError> {
        QueryVectors::embed(&self.embedder, self.glossary, queries, options)?
            .iter()
            .map(|q| Ok(retrieve::search(self.store.as_ref(), q, options)?))
            .collect()
    }

    /// Tokens of a text in the embedding model's tokenizer: a close enough measure of prompt
    /// size for budgeting context.
    /// A document's passages in reading order.
    pub fn doc_passages(&self, doc_id: &str) -> Result<Vec<Passage>, LibraryError> {
        let mut passages: Vec<Passage> = self
            .store
            .passages(&Scope::doc(doc_id))?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        passages.sort_by_key(|p| p.chunk);
        Ok(passages)
    }

    pub fn count_tokens(&self, text: &str) -> usize {
        self.chunker.count_tokens(text)
    }

    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }
}

/// Expands folders (sorted, recursively) into the files to import, in order; what cannot be
/// imported is kept in place with the reason.
fn collect_files(input: &Path, work: &mut Vec<(PathBuf, Option<LibraryError>)>) {
    let label = extract::file_label(input);
    let refuse = |reason: String| {
        Some(LibraryError::Input {
            file: label.clone(),
            reason,
        })
    };
    match std::fs::metadata(input) {
        Ok(meta) if meta.is_dir() => match std::fs::read_dir(input) {
            Ok(entries) => {
                let mut children: Vec<PathBuf> =
                    entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                children.sort();
                for child in children {
                    if child.is_dir() || extract::kind_of(&child).is_some() {
                        collect_files(&child, work);
                    }
                }
            }
            Err(e) => work.push((
                input.to_path_buf(),
                refuse(format!("cannot list folder: {e}")),
            )),
        },
        Ok(_) if extract::kind_of(input).is_none() => work.push((
            input.to_path_buf(),
            Some(LibraryError::Extract(ExtractError::Unsupported {
                file: label,
            })),
        )),
        Ok(_) => work.push((input.to_path_buf(), None)),
        Err(e) => work.push((input.to_path_buf(), refuse(format!("cannot read: {e}")))),
    }
}

impl Classify for LibraryError {
    fn kind(&self) -> ErrorKind {
        match self {
            LibraryError::Store(e) => e.kind(),
            LibraryError::Config(e) => e.kind(),
            LibraryError::Database(e) => e.kind(),
            LibraryError::Embed(e) => e.kind(),
            LibraryError::Chunk(e) => e.kind(),
            LibraryError::Extract(e) => e.kind(),
            LibraryError::CreateDir { .. } => ErrorKind::Setup,
            LibraryError::Cancelled => ErrorKind::Cancelled,
            LibraryError::Input { .. }
            | LibraryError::UnknownDoc(_)
            | LibraryError::AmbiguousDoc { .. } => ErrorKind::Input,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            LibraryError::Store(e) => e.remedy(),
            LibraryError::Embed(e) => e.remedy(),
            LibraryError::Chunk(e) => e.remedy(),
            LibraryError::Extract(e) => e.remedy(),
            LibraryError::UnknownDoc(_) | LibraryError::AmbiguousDoc { .. } => {
                Some(Remedy::ListDocuments)
            }
            _ => None,
        }
    }
}
