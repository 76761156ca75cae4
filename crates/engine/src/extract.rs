//! Extraction: turns a PDF, Markdown or text file into clean page text for chunking.
//!
//! PDFs are read with pdfium (the PDF engine in Chromium), bound at run time to the
//! `libpdfium.so` that setup provisions. It was chosen over `pdf-extract` by measurement on the
//! papers this app is for: `pdf-extract` panics on arXiv files, returns nothing for CJK fonts
//! without a ToUnicode map, and reports `Ok("")` for corrupted files. pdfium runs in a worker
//! thread with a time limit, so a hostile file can neither crash nor hang an import.

use crate::error::{Classify, ErrorKind, Remedy};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use pdfium_render::prelude::*;
use ts_rs::TS;

mod clean;
pub mod render;

/// Where setup puts pdfium inside the cache folder.
pub const PDFIUM_RELATIVE_PATH: &str = "pdfium/libpdfium.so";
/// Overrides the pdfium library to use.
pub const PDFIUM_ENV: &str = "STUDYDESK_PDFIUM";

/// A PDF that takes longer than this to read is refused rather than blocking an import.
const PDF_TIME_LIMIT: Duration = Duration::from_secs(120);
/// Fewer characters than this per page on average means there is no usable text layer.
const MIN_CHARS_PER_PAGE: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{file}: cannot read: {error}")]
    Read { file: String, error: std::io::Error },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: unsupported file type (StudyDesk imports .pdf, .md, .markdown and .txt)")]
    Unsupported { file: String },
    #[error("{file}: not a PDF (the file does not start with %PDF; is it {looks_like}?)")]
    NotPdf {
        file: String,
        looks_like: &'static str,
    },
    #[error("{file}: the PDF is damaged or truncated ({detail})")]
    Damaged { file: String, detail: String },
    #[error(
        "{file}: the PDF is encrypted (password-protected); remove the password and import it again"
    )]
    Encrypted { file: String },
    #[error(
        "{file}: no text layer ({chars} characters on {pages} pages); it looks scanned or image-only, run OCR on it first"
    )]
    NoTextLayer {
        file: String,
        pages: usize,
        chars: usize,
    },
    #[error("{file}: not UTF-8 or GBK text; save it as UTF-8 and import it again")]
    Encoding { file: String },
    #[error("{file}: reading the PDF took longer than {seconds} s; skipped")]
    TimedOut { file: String, seconds: u64 },
    #[error("{file}: the PDF reader failed: {detail}")]
    Crashed { file: String, detail: String },
    #[error(
        "the PDF engine (pdfium) is not installed at {path} (or set {PDFIUM_ENV} to a libpdfium.so): {detail}"
    )]
    PdfiumMissing { path: PathBuf, detail: String },
}

#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    Pdf,
    Markdown,
    Text,
}

/// A document's text, page by page, ready for chunking.
#[derive(Debug, Clone)]
pub struct Document {
    pub kind: DocKind,
    pub title: String,
    pub pages: Vec<Page>,
}

#[derive(Debug, Clone)]
pub struct Page {
    /// 1-based page number; `None` for notes, which have no pages.
    pub number: Option<u32>,
    pub paragraphs: Vec<Paragraph>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Paragraph {
    /// The section heading in force where this paragraph starts.
    pub section: Option<String>,
    pub text: String,
}

impl Document {
    pub fn char_count(&self) -> usize {
        self.pages
            .iter()
            .flat_map(|p| &p.paragraphs)
            .map(|p| p.text.chars().count())
            .sum()
    }
}

/// The file's name as the user knows it, used in every message about it.
pub fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

pub fn kind_of(path: &Path) -> Option<DocKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => Some(DocKind::Pdf),
        "md" | "markdown" => Some(DocKind::Markdown),
        "txt" | "text" => Some(DocKind::Text),
        _ => None,
    }
}

/// Reads and cleans one file. `pdfium` is the library to use for PDFs.
pub fn extract(path: &Path, bytes: &[u8], pdfium: &Path) -> Result<Document, ExtractError> {
    let file = file_label(path);
    let kind = kind_of(path).ok_or_else(|| ExtractError::Unsupported { file: file.clone() })?;
    if bytes.is_empty() {
        return Err(ExtractError::Empty { file });
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.clone());
    match kind {
        DocKind::Pdf => extract_pdf(&file, &stem, bytes, pdfium),
        DocKind::Markdown | DocKind::Text => {
            let text = decode_text(&file, bytes)?;
            let doc = clean::note(kind, &stem, &text);
            if doc.char_count() == 0 {
                return Err(ExtractError::Empty { file });
            }
            Ok(doc)
        }
    }
}

/// UTF-8 (with or without BOM), else GBK/GB18030 when it decodes cleanly, else refused.
fn decode_text(file: &str, bytes: &[u8]) -> Result<String, ExtractError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.contains('\0') {
            return Err(ExtractError::Encoding { file: file.into() });
        }
        return Ok(text.to_string());
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    let has_han = text.chars().any(clean::is_cjk);
    if had_errors || !has_han || text.contains('\0') {
        return Err(ExtractError::Encoding { file: file.into() });
    }
    Ok(text.into_owned())
}

fn extract_pdf(
    file: &str,
    stem: &str,
    bytes: &[u8],
    pdfium: &Path,
) -> Result<Document, ExtractError> {
    if !bytes.starts_with(b"%PDF-") {
        // Some writers put junk before the header; pdfium accepts up to 1 KiB of it.
        let head = &bytes[..bytes.len().min(1024)];
        if !head.windows(5).any(|w| w == b"%PDF-") {
            let looks_like = if std::str::from_utf8(head).is_ok() {
                "a text file"
            } else {
                "some other binary file"
            };
            return Err(ExtractError::NotPdf {
                file: file.into(),
                looks_like,
            });
        }
    }
    let engine = pdfium_engine(pdfium)?;
    let owned = bytes.to_vec();
    let (tx, rx) = std::sync::mpsc::channel();
    let worker_file = file.to_string();
    std::thread::Builder::new()
        .name("pdf-extract".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read_pdf_pages(engine, &worker_file, &owned)
            }));
            let _ = tx.send(result);
        })
        .map_err(|e| ExtractError::Crashed {
            file: file.into(),
            detail: e.to_string(),
        })?;
    let (raw_title, raw_pages) = match rx.recv_timeout(PDF_TIME_LIMIT) {
        Ok(Ok(result)) => result?,
        Ok(Err(panic)) => {
            let detail = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            return Err(ExtractError::Crashed {
                file: file.into(),
                detail,
            });
        }
        // The worker is left to finish on its own: pdfium calls cannot be interrupted.
        Err(_) => {
            return Err(ExtractError::TimedOut {
                file: file.into(),
                seconds: PDF_TIME_LIMIT.as_secs(),
            });
        }
    };
    let page_count = raw_pages.len();
    let doc = clean::pdf(stem, raw_title.as_deref(), &raw_pages);
    let chars = doc.char_count();
    if page_count == 0 || chars < MIN_CHARS_PER_PAGE * page_count.max(1) / 2 {
        return Err(ExtractError::NoTextLayer {
            file: file.into(),
            pages: page_count,
            chars,
        });
    }
    Ok(doc)
}

type RawPdf = (Option<String>, Vec<String>);

fn read_pdf_pages(engine: &Pdfium, file: &str, bytes: &[u8]) -> Result<RawPdf, ExtractError> {
    let document = engine
        .load_pdf_from_byte_slice(bytes, None)
        .map_err(|e| match e {
            PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError)
            | PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::SecurityError) => {
                ExtractError::Encrypted { file: file.into() }
            }
            other => ExtractError::Damaged {
                file: file.into(),
                detail: describe(&other),
            },
        })?;
    let title = document
        .metadata()
        .get(PdfDocumentMetadataTagType::Title)
        .map(|tag| tag.value().trim().to_string())
        .filter(|t| !t.is_empty());
    let mut pages = Vec::new();
    for page in document.pages().iter() {
        // Page content only: reader annotations (highlights, sticky notes) live outside it.
        let text = page
            .text()
            .map(|t| t.all())
            .map_err(|e| ExtractError::Damaged {
                file: file.into(),
                detail: describe(&e),
            })?;
        pages.push(text);
    }
    Ok((title, pages))
}

fn describe(error: &PdfiumError) -> String {
    match error {
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::FormatError) => {
            "pdfium could not parse it".into()
        }
        other => format!("{other:?}"),
    }
}

/// pdfium may be bound once per process; the first path bound wins.
fn pdfium_engine(path: &Path) -> Result<&'static Pdfium, ExtractError> {
    static ENGINE: OnceLock<Result<Pdfium, String>> = OnceLock::new();
    let missing = |detail: String| ExtractError::PdfiumMissing {
        path: path.to_path_buf(),
        detail,
    };
    if !path.is_file() {
        return Err(missing("file not found".into()));
    }
    ENGINE
        .get_or_init(|| {
            Pdfium::bind_to_library(path)
                .map(Pdfium::new)
                .map_err(|e| format!("{e:?}"))
        })
        .as_ref()
        .map_err(|detail| missing(detail.clone()))
}

/// The pdfium library to use: `STUDYDESK_PDFIUM`, else the one setup put in the cache folder.
pub fn pdfium_path(cache_dir: &Path) -> PathBuf {
    match std::env::var_os(PDFIUM_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => cache_dir.join(PDFIUM_RELATIVE_PATH),
    }
}

impl Classify for ExtractError {
    fn kind(&self) -> ErrorKind {
        match self {
            ExtractError::PdfiumMissing { .. } => ErrorKind::Setup,
            _ => ErrorKind::Input,
        }
    }
    fn remedy(&self) -> Option<Remedy> {
        matches!(self, ExtractError::PdfiumMissing { .. }).then_some(Remedy::InstallRuntime)
    }
}
