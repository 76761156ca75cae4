//! Scanned pages and page images, read by OCR (PaddleOCR PP-OCRv4 through `studydesk-ocr`, on
//! the same ONNX Runtime as the embedder).
//!
//! A PDF page whose text layer is empty (or a few stray characters) is rendered with pdfium and
//! read; an image file is read as a one-page document. The recognised lines go through the same
//! cleaning as a text layer (running heads, hyphenation, paragraphs), and their boxes are kept
//! so that a citation of a scanned page is highlighted like one of a text page.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use image::RgbImage;
use serde::{Deserialize, Serialize};
use studydesk_ocr::{Ocr, OcrError, OcrOptions};

use super::ExtractError;

/// Where setup puts the OCR models inside the cache folder.
pub const MODELS_RELATIVE_DIR: &str = "models/ppocr-v4";
/// Pages are rendered for OCR at this resolution: small print (table cells, footnotes) is
/// read better at 200 than at 150 DPI, and the cost grows with the length of the text, not
/// with the resolution.
pub const OCR_DPI: f32 = 200.0;
/// A rendered page's longest side is capped (a poster-sized page would otherwise take GBs).
const MAX_RENDER_SIDE: f32 = 4000.0;
/// A page with fewer letters and digits than this in its text layer is read by OCR: none, or a
/// page number and a few stray characters.
pub const MIN_PAGE_TEXT: usize = 20;
/// Images larger than this (in pixels, or on either side) are refused before they are decoded.
pub const MAX_IMAGE_PIXELS: u64 = 80_000_000;
pub const MAX_IMAGE_SIDE: u32 = 20_000;

/// One recognised line: its text and its box as fractions of the page, origin at the top left
/// (`[x0, y0, x1, y1]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrLine {
    pub text: String,
    pub bbox: [f32; 4],
}

/// The lines OCR read on one page of a document (1-based page number).
#[derive(Debug, Clone, PartialEq)]
pub struct ScannedPage {
    pub page: u32,
    pub lines: Vec<OcrLine>,
}

/// The OCR models, loaded on the first page that needs them (most imports never do).
pub struct Scanner {
    models_dir: PathBuf,
    ort_lib: PathBuf,
    loaded: Mutex<Option<Arc<Ocr>>>,
}

impl Scanner {
    pub fn new(cache_dir: &Path) -> Scanner {
        Scanner {
            models_dir: cache_dir.join(MODELS_RELATIVE_DIR),
            ort_lib: crate::embed::ort_path(cache_dir),
            loaded: Mutex::new(None),
        }
    }

    fn engine(&self) -> Result<Arc<Ocr>, ExtractError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(ocr) = loaded.as_ref() {
            return Ok(ocr.clone());
        }
        let setup = |detail: String| ExtractError::OcrMissing {
            dir: self.models_dir.clone(),
            detail,
        };
        let environment =
            crate::embed::ort_environment(&self.ort_lib).map_err(|e| setup(e.to_string()))?;
        let ocr = Ocr::open_in(&self.models_dir, &environment, OcrOptions::default())
            .map_err(|e| setup(e.to_string()))?;
        let ocr = Arc::new(ocr);
        *loaded = Some(ocr.clone());
        Ok(ocr)
    }

    /// The page's lines in reading order; a page without text gives none.
    pub fn read(&self, file: &str, page: &RgbImage) -> Result<Vec<OcrLine>, ExtractError> {
        let ocr = self.engine()?;
        let lines = ocr.read(page).map_err(|e| ExtractError::Ocr {
            file: file.into(),
            detail: match e {
                OcrError::Inference { stage, message } => format!("{stage}: {message}"),
                other => other.to_string(),
            },
        })?;
        Ok(lines
            .into_iter()
            .map(|l| OcrLine {
                text: l.text,
                bbox: l.bbox,
            })
            .collect())
    }
}

/// Letters and digits in a text layer: what decides whether a page needs OCR.
pub fn text_amount(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphanumeric()).count()
}

/// The render width in pixels for a page of this size (PDF points) at [`OCR_DPI`].
pub fn render_width(width_pt: f32, height_pt: f32) -> i32 {
    let scale = OCR_DPI / 72.0;
    let longest = width_pt.max(height_pt) * scale;
    let shrink = (MAX_RENDER_SIDE / longest).min(1.0);
    (width_pt * scale * shrink).round().max(1.0) as i32
}

/// Decodes an image file, refusing before decoding one too large to handle.
pub fn decode_image(file: &str, bytes: &[u8]) -> Result<RgbImage, ExtractError> {
    let unreadable = |detail: String| ExtractError::BadImage {
        file: file.into(),
        detail,
    };
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unreadable(e.to_string()))?;
    if reader.format().is_none() {
        return Err(unreadable("it is not a PNG or JPEG image".into()));
    }
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| unreadable(e.to_string()))?;
    if width == 0 || height == 0 {
        return Err(unreadable("the image has no pixels".into()));
    }
    if width > MAX_IMAGE_SIDE
        || height > MAX_IMAGE_SIDE
        || width as u64 * height as u64 > MAX_IMAGE_PIXELS
    {
        return Err(ExtractError::ImageTooLarge {
            file: file.into(),
            width,
            height,
        });
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unreadable(e.to_string()))?;
    reader.no_limits();
    Ok(reader
        .decode()
        .map_err(|e| unreadable(e.to_string()))?
        .to_rgb8())
}

/// The characters of OCR lines with boxes, in the form the highlighter takes for a text layer
/// (`[left, bottom, right, top]`, here on a page of size 1×1): each line's box is shared out
/// among its characters by their widths (a CJK character counts as two).
pub fn line_chars(lines: &[OcrLine]) -> Vec<(char, [f32; 4])> {
    let mut out = Vec::new();
    for line in lines {
        let [x0, y0, x1, y1] = line.bbox;
        let width = |c: char| if studydesk_ocr::is_wide(c) { 2.0 } else { 1.0 };
        let total: f32 = line.text.chars().map(width).sum();
        if total == 0.0 {
            continue;
        }
        let mut at = 0.0;
        for c in line.text.chars() {
            let left = x0 + (x1 - x0) * at / total;
            at += width(c);
            let right = x0 + (x1 - x0) * at / total;
            out.push((c, [left, 1.0 - y1, right, 1.0 - y0]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ocr_lines_are_highlighted_where_the_passage_is() {
        let lines = vec![
            OcrLine {
                text: "A heading of the page".into(),
                bbox: [0.1, 0.05, 0.5, 0.07],
            },
            OcrLine {
                text: "Layer normalization computes the mean and vari-".into(),
                bbox: [0.1, 0.40, 0.9, 0.42],
            },
            OcrLine {
                text: "ance over all summed inputs of a layer.".into(),
                bbox: [0.1, 0.43, 0.7, 0.45],
            },
        ];
        let rects = super::super::render::locate(
            &line_chars(&lines),
            "Layer normalization computes the mean and variance over all summed inputs of a layer.",
            (1.0, 1.0),
        );
        assert_eq!(rects.len(), 2, "{rects:?}");
        assert!((rects[0].y - 0.40).abs() < 1e-4 && (rects[0].h - 0.02).abs() < 1e-4);
        assert!((rects[1].y - 0.43).abs() < 1e-4);
        assert!(rects[0].x >= 0.1 - 1e-4 && rects[0].x + rects[0].w <= 0.9 + 1e-4);
    }

    #[test]
    fn render_width_is_capped_for_huge_pages() {
        assert_eq!(render_width(612.0, 792.0), 1700);
        let w = render_width(5000.0, 2000.0);
        assert!(w as f32 <= MAX_RENDER_SIDE, "{w}");
    }

    #[test]
    fn a_broken_image_is_refused_naming_the_file() {
        let err = decode_image("notes.jpg", b"\xff\xd8\xff\xe0 not really a jpeg").unwrap_err();
        assert!(matches!(err, ExtractError::BadImage { .. }), "{err:?}");
        assert!(err.to_string().starts_with("notes.jpg: "), "{err}");
    }
}
