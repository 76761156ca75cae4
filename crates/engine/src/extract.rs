//! Extraction: turns a PDF, an image, a Markdown or text file into clean page text for chunking.
//!
//! PDFs are read with pdfium (the PDF engine in Chromium), bound at run time to the
//! `libpdfium.so` that setup provisions. It was chosen over `pdf-extract` by measurement on the
//! papers this app is for: `pdf-extract` panics on arXiv files, returns nothing for CJK fonts
//! without a ToUnicode map, and reports `Ok("")` for corrupted files. pdfium runs in a worker
//! thread with a time limit, so a hostile file can neither crash nor hang an import. Pages
//! without a text layer, and images, are read by OCR ([`scan`]).

use crate::cancel::Cancel;
use crate::error::{Classify, ErrorKind, Remedy};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use pdfium_render::prelude::*;
use ts_rs::TS;

mod clean;
pub mod render;
pub mod scan;

pub use scan::{OcrLine, ScannedPage, Scanner};

/// Where setup puts pdfium inside the cache folder.
pub const PDFIUM_RELATIVE_PATH: &str = "pdfium/libpdfium.so";
/// Overrides the pdfium library to use.
pub const PDFIUM_ENV: &str = "STUDYDESK_PDFIUM";

/// A PDF that takes longer than this to read is refused rather than blocking an import.
const PDF_TIME_LIMIT: Duration = Duration::from_secs(120);
/// Rendering one page for OCR that takes longer than this means the file is refused.
const RENDER_TIME_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{file}: cannot read: {error}")]
    Read { file: String, error: std::io::Error },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error(
        "{file}: unsupported file type (StudyDesk imports .pdf, .png, .jpg, .md, .markdown and .txt)"
    )]
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
        "{file}: no text found: {pages} page(s) without a text layer, and OCR read no text on them (blank pages or pictures without text?)"
    )]
    NoText { file: String, pages: usize },
    #[error("{file}: cannot read the image: {detail}")]
    BadImage { file: String, detail: String },
    #[error(
        "{file}: the image is {width} × {height} pixels; StudyDesk reads images up to {} megapixels and {} pixels a side",
        scan::MAX_IMAGE_PIXELS / 1_000_000,
        scan::MAX_IMAGE_SIDE
    )]
    ImageTooLarge {
        file: String,
        width: u32,
        height: u32,
    },
    #[error("{file}: OCR failed: {detail}")]
    Ocr { file: String, detail: String },
    #[error("the OCR models are not installed in {dir} ({detail}); run scripts/provision.sh")]
    OcrMissing { dir: PathBuf, detail: String },
    #[error("the import was cancelled")]
    Cancelled,
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
    /// A PNG or JPEG image: one page, read by OCR.
    Image,
    Markdown,
    Text,
}

/// A document's text, page by page, ready for chunking.
#[derive(Debug, Clone)]
pub struct Document {
    pub kind: DocKind,
    pub title: String,
    pub pages: Vec<Page>,
    /// The pages read by OCR, with their lines' boxes (for highlighting citations).
    pub scanned: Vec<ScannedPage>,
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
        "png" | "jpg" | "jpeg" => Some(DocKind::Image),
        "md" | "markdown" => Some(DocKind::Markdown),
        "txt" | "text" => Some(DocKind::Text),
        _ => None,
    }
}

/// What reading a file takes besides the file: the PDF engine, OCR for pages without text,
/// and the import's progress and cancellation.
pub struct Reader<'a> {
    pub pdfium: &'a Path,
    pub scanner: &'a Scanner,
    /// Called as OCR starts on a page: (pages read so far, pages to read).
    pub on_ocr_page: &'a dyn Fn(usize, usize),
    pub cancel: &'a Cancel,
}

/// Reads and cleans one file.
pub fn extract(path: &Path, bytes: &[u8], reader: &Reader<'_>) -> Result<Document, ExtractError> {
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
        DocKind::Pdf => extract_pdf(&file, &stem, bytes, reader),
        DocKind::Image => extract_image(&file, &stem, bytes, reader),
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

/// An image is one scanned page.
fn extract_image(
    file: &str,
    stem: &str,
    bytes: &[u8],
    reader: &Reader<'_>,
) -> Result<Document, ExtractError> {
    let image = scan::decode_image(file, bytes)?;
    (reader.on_ocr_page)(0, 1);
    let lines = reader.scanner.read(file, &image)?;
    let raw = lines
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let mut doc = clean::pdf(stem, None, &[raw]);
    doc.kind = DocKind::Image;
    doc.scanned = vec![ScannedPage { page: 1, lines }];
    if doc.char_count() == 0 {
        return Err(ExtractError::NoText {
            file: file.into(),
            pages: 1,
        });
    }
    Ok(doc)
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
    reader: &Reader<'_>,
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
    let engine = pdfium_engine(reader.pdfium)?;
    let owned = bytes.to_vec();
    // One page image in flight: the worker renders the next page while this thread reads one.
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let worker_file = file.to_string();
    std::thread::Builder::new()
        .name("pdf-extract".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read_pdf(engine, &worker_file, &owned, &tx)
            }));
            let failure = match result {
                Ok(Ok(())) => return,
                Ok(Err(error)) => error,
                Err(panic) => ExtractError::Crashed {
                    file: worker_file.clone(),
                    detail: panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panic".into()),
                },
            };
            let _ = tx.send(Err(failure));
        })
        .map_err(|e| ExtractError::Crashed {
            file: file.into(),
            detail: e.to_string(),
        })?;
    // The worker is left to finish on its own after a time-out: pdfium calls cannot be
    // interrupted. Dropping the receiver stops it at its next page.
    let receive = |limit: Duration| match rx.recv_timeout(limit) {
        Ok(message) => message,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(ExtractError::TimedOut {
            file: file.into(),
            seconds: limit.as_secs(),
        }),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(ExtractError::Crashed {
            file: file.into(),
            detail: "the PDF reader stopped".into(),
        }),
    };
    let FromPdf::Text {
        title,
        mut pages,
        to_scan,
    } = receive(PDF_TIME_LIMIT)?
    else {
        unreachable!("the worker sends the text layer first")
    };
    let mut scanned = Vec::with_capacity(to_scan.len());
    for (done, &index) in to_scan.iter().enumerate() {
        (reader.on_ocr_page)(done, to_scan.len());
        if reader.cancel.is_cancelled() {
            return Err(ExtractError::Cancelled);
        }
        let FromPdf::Page(page, image) = receive(RENDER_TIME_LIMIT)? else {
            unreachable!("the worker sends only pages after the text layer")
        };
        debug_assert_eq!(page, index);
        let lines = reader.scanner.read(file, &image)?;
        pages[index] = lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        scanned.push(ScannedPage {
            page: index as u32 + 1,
            lines,
        });
    }
    if pages.is_empty() {
        return Err(ExtractError::Damaged {
            file: file.into(),
            detail: "it has no pages".into(),
        });
    }
    let mut doc = clean::pdf(stem, title.as_deref(), &pages);
    doc.scanned = scanned;
    if doc.char_count() < scan::MIN_PAGE_TEXT {
        return Err(ExtractError::NoText {
            file: file.into(),
            pages: to_scan.len(),
        });
    }
    Ok(doc)
}

/// What the PDF worker sends: the text layer, then each page to OCR as an image.
enum FromPdf {
    Text {
        title: Option<String>,
        pages: Vec<String>,
        /// The pages (0-based) the worker will send as images, in this order.
        to_scan: Vec<usize>,
    },
    /// 0-based page index and its rendering.
    Page(usize, image::RgbImage),
}

/// Pages (0-based) whose text layer is empty or nearly so.
fn pages_to_scan(pages: &[String]) -> Vec<usize> {
    (0..pages.len())
        .filter(|&i| scan::text_amount(&pages[i]) < scan::MIN_PAGE_TEXT)
        .collect()
}

fn read_pdf(
    engine: &Pdfium,
    file: &str,
    bytes: &[u8],
    tx: &std::sync::mpsc::SyncSender<Result<FromPdf, ExtractError>>,
) -> Result<(), ExtractError> {
    let damaged = |e: PdfiumError| ExtractError::Damaged {
        file: file.into(),
        detail: describe(&e),
    };
    let document = engine
        .load_pdf_from_byte_slice(bytes, None)
        .map_err(|e| match e {
            PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError)
            | PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::SecurityError) => {
                ExtractError::Encrypted { file: file.into() }
            }
            other => damaged(other),
        })?;
    let title = document
        .metadata()
        .get(PdfDocumentMetadataTagType::Title)
        .map(|tag| tag.value().trim().to_string())
        .filter(|t| !t.is_empty());
    let mut pages = Vec::new();
    for page in document.pages().iter() {
        // Page content only: reader annotations (highlights, sticky notes) live outside it.
        pages.push(page.text().map(|t| t.all()).map_err(damaged)?);
    }
    let to_scan = pages_to_scan(&pages);
    let text = FromPdf::Text {
        title,
        pages,
        to_scan: to_scan.clone(),
    };
    if tx.send(Ok(text)).is_err() {
        return Ok(());
    }
    for index in to_scan {
        let page = document
            .pages()
            .get(index as PdfPageIndex)
            .map_err(damaged)?;
        let width = scan::render_width(page.width().value, page.height().value);
        let bitmap = page
            .render_with_config(&PdfRenderConfig::new().set_target_width(width))
            .map_err(damaged)?;
        let image = bitmap.as_image().map_err(damaged)?.to_rgb8();
        if tx.send(Ok(FromPdf::Page(index, image))).is_err() {
            // The import stopped (cancelled, failed or timed out).
            return Ok(());
        }
    }
    Ok(())
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
            ExtractError::PdfiumMissing { .. } | ExtractError::OcrMissing { .. } => {
                ErrorKind::Setup
            }
            ExtractError::Ocr { .. } => ErrorKind::Internal,
            ExtractError::Cancelled => ErrorKind::Cancelled,
            _ => ErrorKind::Input,
        }
    }
    fn remedy(&self) -> Option<Remedy> {
        (self.kind() == ErrorKind::Setup).then_some(Remedy::InstallRuntime)
    }
}
