//! Page images for citations: a PDF page rendered by pdfium, with the cited passage located
//! on it so the viewer can highlight it.
//!
//! The passage in the index has been cleaned (NFKC, hyphenation joined, running heads
//! dropped), so it is not searched as written. Both texts are reduced to their letters and
//! digits, and overlapping windows of the passage are looked up in the page's characters;
//! the matched characters' boxes are merged line by line into highlight rectangles. On a
//! scanned page the characters are those OCR read, with boxes shared out along each line.

use std::path::Path;

use pdfium_render::prelude::*;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::scan::{self, OcrLine};
use super::{ExtractError, describe, pdfium_engine};
use ts_rs::TS;

/// Characters per window looked up, and the step between windows.
const WINDOW: usize = 24;
const STEP: usize = 8;

/// A rectangle as fractions of the page, origin at the top left.
#[derive(TS)]
#[ts(export)]
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageImage {
    pub page: u32,
    pub pages: u32,
    /// PNG bytes.
    #[serde(skip)]
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub highlights: Vec<Rect>,
}

/// Renders page `page` (1-based) of a PDF at `width` pixels, locating `highlight` on it (among
/// `scanned`, the lines OCR read on the page, if it had no text layer).
pub fn render_page(
    pdfium: &Path,
    path: &Path,
    page: u32,
    highlight: Option<&str>,
    width: u32,
    scanned: &[OcrLine],
) -> Result<PageImage, ExtractError> {
    let (file, bytes) = read(path)?;
    let engine = pdfium_engine(pdfium)?;
    let damaged = |e: PdfiumError| ExtractError::Damaged {
        file: file.clone(),
        detail: describe(&e),
    };
    let document = engine
        .load_pdf_from_byte_slice(&bytes, None)
        .map_err(damaged)?;
    let pages = document.pages().len() as u32;
    if page == 0 || page > pages {
        return Err(ExtractError::Damaged {
            file,
            detail: format!("it has no page {page} (it has {pages})"),
        });
    }
    let pdf_page = document
        .pages()
        .get((page - 1) as PdfPageIndex)
        .map_err(damaged)?;
    let bitmap = pdf_page
        .render_with_config(
            &PdfRenderConfig::new()
                .set_target_width(width as i32)
                .render_annotations(true),
        )
        .map_err(damaged)?;
    let (w, h) = (bitmap.width() as u32, bitmap.height() as u32);
    let png =
        encode_png(&bitmap.as_rgba_bytes(), w, h).map_err(|detail| ExtractError::Crashed {
            file: file.clone(),
            detail,
        })?;
    let highlights = match highlight.filter(|h| !h.trim().is_empty()) {
        Some(text) if !scanned.is_empty() => locate_on_scan(scanned, text),
        Some(text) => {
            let chars = page_chars(&pdf_page).map_err(damaged)?;
            let size = (pdf_page.width().value, pdf_page.height().value);
            locate(&chars, text, size)
        }
        None => Vec::new(),
    };
    Ok(PageImage {
        page,
        pages,
        png,
        width: w,
        height: h,
        highlights,
    })
}

/// An imported image as its one page, scaled to `width` pixels (never up), with `highlight`
/// located among the lines OCR read on it.
pub fn image_page(
    path: &Path,
    scanned: &[OcrLine],
    highlight: Option<&str>,
    width: u32,
) -> Result<PageImage, ExtractError> {
    let (file, bytes) = read(path)?;
    let image = scan::decode_image(&file, &bytes)?;
    let image = if image.width() > width {
        let height = (image.height() as u64 * width as u64 / image.width() as u64).max(1) as u32;
        image::imageops::resize(&image, width, height, image::imageops::FilterType::Triangle)
    } else {
        image
    };
    let (w, h) = image.dimensions();
    let rgba: Vec<u8> = image
        .pixels()
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let png = encode_png(&rgba, w, h).map_err(|detail| ExtractError::Crashed { file, detail })?;
    let highlights = match highlight.filter(|h| !h.trim().is_empty()) {
        Some(text) => locate_on_scan(scanned, text),
        None => Vec::new(),
    };
    Ok(PageImage {
        page: 1,
        pages: 1,
        png,
        width: w,
        height: h,
        highlights,
    })
}

/// Some pages of a PDF (1-based) as an image-only PDF, each page a picture of the original at
/// `dpi`, as a scanner would make it. The original's text layer is then the reference for what
/// OCR should read: the tests and the benchmark measure OCR this way.
pub fn image_only_copy(
    pdfium: &Path,
    source: &Path,
    pages: &[u32],
    dpi: f32,
) -> Result<Vec<u8>, ExtractError> {
    let file = super::file_label(source);
    let engine = pdfium_engine(pdfium)?;
    let damaged = |e: PdfiumError| ExtractError::Damaged {
        file: file.clone(),
        detail: describe(&e),
    };
    let original = engine.load_pdf_from_file(source, None).map_err(damaged)?;
    let mut copy = engine.create_new_pdf().map_err(damaged)?;
    for &number in pages {
        let page = original
            .pages()
            .get(number.saturating_sub(1) as PdfPageIndex)
            .map_err(damaged)?;
        let (width, height) = (page.width(), page.height());
        let pixels = (width.value * dpi / 72.0).round() as i32;
        let picture = page
            .render_with_config(&PdfRenderConfig::new().set_target_width(pixels))
            .and_then(|bitmap| bitmap.as_image())
            .map_err(damaged)?;
        let picture = image::DynamicImage::ImageRgb8(picture.to_rgb8());
        let object =
            PdfPageImageObject::new_with_size(&copy, &picture, width, height).map_err(damaged)?;
        let mut blank = copy
            .pages_mut()
            .create_page_at_end(PdfPagePaperSize::Custom(width, height))
            .map_err(damaged)?;
        blank
            .objects_mut()
            .add_image_object(object)
            .map_err(damaged)?;
    }
    copy.save_to_bytes().map_err(damaged)
}

/// Highlight rectangles of `passage` among the lines OCR read on a page.
fn locate_on_scan(scanned: &[OcrLine], passage: &str) -> Vec<Rect> {
    locate(&scan::line_chars(scanned), passage, (1.0, 1.0))
}

/// The file's name as the user knows it, and its bytes.
fn read(path: &Path) -> Result<(String, Vec<u8>), ExtractError> {
    let file = super::file_label(path);
    match std::fs::read(path) {
        Ok(bytes) => Ok((file, bytes)),
        Err(error) => Err(ExtractError::Read { file, error }),
    }
}

/// The page's characters with their boxes (left, bottom, right, top in PDF points).
fn page_chars(page: &PdfPage<'_>) -> Result<Vec<(char, [f32; 4])>, PdfiumError> {
    let text = page.text()?;
    let mut out = Vec::new();
    for c in text.chars().iter() {
        let (Some(ch), Ok(b)) = (c.unicode_char(), c.loose_bounds()) else {
            continue;
        };
        out.push((
            ch,
            [
                b.left().value,
                b.bottom().value,
                b.right().value,
                b.top().value,
            ],
        ));
    }
    Ok(out)
}

/// Letters and digits, NFKC and lower-cased: what both texts are compared on.
fn comparable(c: char) -> impl Iterator<Item = char> {
    std::iter::once(c)
        .nfkc()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
}

/// Highlight rectangles of `passage` among a page's characters.
pub fn locate(
    chars: &[(char, [f32; 4])],
    passage: &str,
    (page_w, page_h): (f32, f32),
) -> Vec<Rect> {
    let mut page_text = Vec::new();
    let mut owner = Vec::new();
    for (i, (c, _)) in chars.iter().enumerate() {
        for k in comparable(*c) {
            page_text.push(k);
            owner.push(i);
        }
    }
    let wanted: Vec<char> = passage.chars().flat_map(comparable).collect();
    let mut marked = vec![false; chars.len()];
    // Every place each window of the passage occurs on the page, as (window start in the
    // passage, position on the page).
    let mut found: Vec<(usize, usize)> = Vec::new();
    let mut windows = 0;
    if wanted.len() >= WINDOW && !page_text.is_empty() {
        let mut start = 0;
        while start + WINDOW <= wanted.len() {
            let window = &wanted[start..start + WINDOW];
            found.extend(
                page_text
                    .windows(WINDOW)
                    .enumerate()
                    .filter(|(_, w)| *w == window)
                    .map(|(at, _)| (start, at)),
            );
            windows += 1;
            start += STEP;
        }
    }
    // The passage is one run of text on the page, so its windows are found at one offset
    // (give or take what cleaning or OCR changed). Phrases it shares with other text (the
    // title, an introduction repeating the abstract) are found at other offsets: only the
    // largest group of matches at one offset is marked, and none when it is a small part of
    // a long passage (the passage is elsewhere).
    let slack = (wanted.len() / 5).max(WINDOW) as i64;
    let mut offsets: Vec<(i64, usize, usize)> = found
        .iter()
        .map(|&(start, at)| (at as i64 - start as i64, start, at))
        .collect();
    offsets.sort_unstable();
    let (mut best, mut best_len, mut from) = (0, 0, 0);
    for to in 0..offsets.len() {
        while offsets[to].0 - offsets[from].0 > slack {
            from += 1;
        }
        let distinct = {
            let mut starts: Vec<usize> = offsets[from..=to].iter().map(|o| o.1).collect();
            starts.sort_unstable();
            starts.dedup();
            starts.len()
        };
        if distinct > best_len {
            (best, best_len) = (from, distinct);
        }
    }
    let enough = best_len * 4 >= windows || windows < 8;
    if enough {
        let low = offsets.get(best).map_or(0, |o| o.0);
        for &(offset, _, at) in &offsets[best..] {
            if offset - low > slack {
                break;
            }
            for &i in &owner[at..at + WINDOW] {
                marked[i] = true;
            }
        }
    }
    // Merge marked characters into one rectangle per run on a line.
    let mut rects: Vec<[f32; 4]> = Vec::new();
    for (i, (_, b)) in chars.iter().enumerate() {
        if !marked[i] || b[2] <= b[0] {
            continue;
        }
        match rects.last_mut() {
            Some(r) if same_line(r, b) && b[0] - r[2] < 3.0 * (b[3] - b[1]).max(1.0) => {
                r[0] = r[0].min(b[0]);
                r[1] = r[1].min(b[1]);
                r[2] = r[2].max(b[2]);
                r[3] = r[3].max(b[3]);
            }
            _ => rects.push(*b),
        }
    }
    rects
        .into_iter()
        .map(|[l, bottom, r, top]| Rect {
            x: (l / page_w).clamp(0.0, 1.0),
            y: ((page_h - top) / page_h).clamp(0.0, 1.0),
            w: ((r - l) / page_w).clamp(0.0, 1.0),
            h: ((top - bottom) / page_h).clamp(0.0, 1.0),
        })
        .collect()
}

fn same_line(a: &[f32; 4], b: &[f32; 4]) -> bool {
    let overlap = a[3].min(b[3]) - a[1].max(b[1]);
    overlap > 0.5 * (b[3] - b[1]).min(a[3] - a[1])
}

fn encode_png(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgba).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passage_is_found_across_lines_and_hyphenation() {
        // Two lines of 10-pt text on a 600×800 page; the passage was cleaned (hyphen joined).
        let mut chars = Vec::new();
        let mut put = |text: &str, top: f32| {
            for (i, c) in text.chars().enumerate() {
                let left = 50.0 + 6.0 * i as f32;
                chars.push((c, [left, top - 10.0, left + 5.0, top]));
            }
        };
        put("Unrelated heading text here", 760.0);
        put("Layer normalization computes the mean and vari-", 700.0);
        put("ance over all summed inputs of a layer.", 688.0);
        let rects = locate(
            &chars,
            "Layer normalization computes the mean and variance over all summed inputs of a layer.",
            (600.0, 800.0),
        );
        assert_eq!(rects.len(), 2, "{rects:?}");
        assert!((rects[0].y - 100.0 / 800.0).abs() < 1e-3);
        assert!(rects[1].y > rects[0].y);
        assert!(
            locate(
                &chars,
                "nothing of this is on the page at all, really",
                (600.0, 800.0)
            )
            .is_empty()
        );
    }
}
