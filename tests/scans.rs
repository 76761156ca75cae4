//! Scanned PDFs and page images, read by OCR on import: the real English scan of
//! `../shared/papers`, a Chinese scan made here from pages of the Chinese survey (whose text layer
//! is the reference), an image; their text is searchable in both languages, their citations are
//! highlighted on the page, and bad scans are refused clearly without losing anything.

mod common;

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use studydesk_engine::Cancel;
use studydesk_engine::database::DocRecord;
use studydesk_engine::extract::{self, DocKind};
use studydesk_engine::library::{
    ImportOutcome, Library, LibraryError, Progress, ProgressSink, Quiet,
};
use studydesk_engine::retrieve::{SearchHit, SearchOptions};
use studydesk_engine::store::{Scope, Source};

const ZH_SURVEY: &str = "zh-llm-survey-rucaibox.pdf";
const EN_SCAN: &str = "scanned-image-only-rag-p1-2.pdf";

struct Fixture {
    library: Library,
    scratch: PathBuf,
    /// The OCR progress events seen while importing the Chinese scan: (done, total).
    ocr_events: Vec<(usize, usize)>,
}

/// Records OCR progress.
struct OcrEvents(Mutex<Vec<(usize, usize)>>);
impl ProgressSink for OcrEvents {
    fn report(&self, event: Progress<'_>) {
        if let Progress::Ocr { done, total, .. } = event {
            self.0.lock().unwrap().push((done, total));
        }
    }
}

/// One library for this test binary: a real paper with a text layer, the English scan and a
/// Chinese scan of pages 5 and 6 of the survey at 150 DPI.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let paths = common::fresh_paths("scans");
        let library = Library::open(&paths).unwrap();
        let scratch = common::scratch("scans");
        let zh_scan = scratch.join("zh-survey-scan-p5-6.pdf");
        let copy = extract::render::image_only_copy(
            &extract::pdfium_path(&paths.cache_dir),
            &common::paper(ZH_SURVEY),
            &[5, 6],
            150.0,
        )
        .unwrap();
        std::fs::write(&zh_scan, copy).unwrap();
        for paper in ["attention-is-all-you-need-1706.03762.pdf", EN_SCAN] {
            let outcome = library.import_file(&common::paper(paper), &Quiet, &Cancel::new());
            assert!(
                matches!(outcome, Ok(ImportOutcome::Imported { .. })),
                "{paper}: {outcome:?}"
            );
        }
        let events = OcrEvents(Mutex::default());
        let outcome = library.import_file(&zh_scan, &events, &Cancel::new());
        assert!(
            matches!(outcome, Ok(ImportOutcome::Imported { .. })),
            "{outcome:?}"
        );
        Fixture {
            library,
            scratch,
            ocr_events: events.0.into_inner().unwrap(),
        }
    })
}

fn doc(name: &str) -> DocRecord {
    fixture().library.find_doc(name).unwrap()
}

fn passages(doc: &DocRecord) -> Vec<SearchHit> {
    fixture()
        .library
        .search(
            "the",
            &SearchOptions {
                top_k: 200,
                doc_id: Some(doc.id.clone()),
                ..SearchOptions::default()
            },
        )
        .unwrap()
}

/// The document passages found for a query, best first.
fn search_docs(query: &str) -> Vec<SearchHit> {
    fixture()
        .library
        .search(
            query,
            &SearchOptions {
                top_k: 5,
                source: Some(Source::Doc),
                ..SearchOptions::default()
            },
        )
        .unwrap()
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

#[test]
fn the_english_scan_is_read_page_by_page_and_found_in_both_languages() {
    let scan = doc(EN_SCAN);
    assert_eq!(scan.kind, DocKind::Pdf);
    assert_eq!(scan.pages, Some(2));
    let text: String = passages(&scan)
        .iter()
        .map(|p| p.text.clone())
        .collect::<Vec<_>>()
        .join("\n");
    // Word spaces survive OCR, and line-end hyphens are joined as for a text layer.
    assert!(
        text.contains(
            "Large pre-trained language models have been shown to store factual knowledge"
        ),
        "{text}"
    );
    assert!(text.contains("non-parametric memory"), "{text}");

    let english = search_docs(
        "models that combine parametric and non-parametric memory for language generation",
    );
    assert_eq!(english[0].doc.as_deref(), Some(EN_SCAN), "{english:#?}");
    let chinese = search_docs("检索增强生成如何把参数化记忆和非参数化记忆结合起来?");
    assert!(
        chinese.iter().any(|h| h.doc.as_deref() == Some(EN_SCAN)),
        "{chinese:#?}"
    );
}

#[test]
fn the_chinese_scan_reads_like_its_text_layer() {
    let fixture = fixture();
    // Progress named every page OCR read, in order.
    assert_eq!(fixture.ocr_events, vec![(0, 2), (1, 2)]);
    let scan = doc("zh-survey-scan-p5-6.pdf");
    assert_eq!(scan.pages, Some(2));
    let hits = passages(&scan);
    let text: String = hits.iter().map(|p| p.text.as_str()).collect();
    // Chinese is joined without spurious spaces between characters.
    let chars: Vec<char> = text.chars().collect();
    let spaced = chars
        .windows(3)
        .filter(|w| is_han(w[0]) && w[1] == ' ' && is_han(w[2]))
        .count();
    assert!(
        spaced <= 2,
        "{spaced} spaces between Chinese characters: {text}"
    );
    assert!(
        squeeze(&text).contains("并使用大规模的网页数据集WebText进行训练"),
        "{text}"
    );

    // Character bigrams of what OCR read against the original's text layer of the same pages.
    let original = doc_text_of_pages(ZH_SURVEY, &[5, 6]);
    let dice = studydesk_engine::eval::bigram_dice(&squeeze(&text), &squeeze(&original));
    assert!(dice > 0.9, "bigram Dice {dice:.3} against the text layer");

    let found = search_docs("GPT-2 是用什么数据集训练的?");
    assert!(
        found
            .iter()
            .any(|h| h.doc.as_deref() == Some("zh-survey-scan-p5-6.pdf")),
        "{found:#?}"
    );
}

/// The text of some pages of a paper with a text layer, as the app extracts it.
fn doc_text_of_pages(paper: &str, pages: &[u32]) -> String {
    let path = common::paper(paper);
    let bytes = std::fs::read(&path).unwrap();
    let paths = studydesk_engine::config::Paths::resolve(None).unwrap();
    let scanner = extract::Scanner::new(&paths.cache_dir);
    let document = extract::extract(
        &path,
        &bytes,
        &extract::Reader {
            pdfium: &extract::pdfium_path(&paths.cache_dir),
            scanner: &scanner,
            on_ocr_page: &|_, _| {},
            cancel: &Cancel::new(),
        },
    )
    .unwrap();
    document
        .pages
        .iter()
        .filter(|p| p.number.is_some_and(|n| pages.contains(&n)))
        .flat_map(|p| &p.paragraphs)
        .map(|p| p.text.as_str())
        .collect()
}

#[test]
fn a_citation_of_a_scanned_page_is_highlighted_where_the_passage_is() {
    let library = &fixture().library;
    let scan = doc(EN_SCAN);
    let hits = passages(&scan);
    let abstract_ = hits
        .iter()
        .find(|h| h.text.starts_with("Large pre-trained language models"))
        .expect("the abstract is a passage");
    assert_eq!(abstract_.page, Some(1));
    let image = library
        .page_image(&scan, 1, Some(&abstract_.text), 800)
        .unwrap();
    assert_eq!((image.page, image.pages, image.width), (1, 2, 800));
    assert!(image.png.starts_with(b"\x89PNG"));
    // The abstract is the indented block under the title and the authors, from about 43 % to
    // 72 % of the page's height: a dozen or more lines there, none elsewhere (its words
    // "retrieval-augmented generation" are in the title too, which must not be marked).
    assert!(image.highlights.len() >= 10, "{:?}", image.highlights);
    for r in &image.highlights {
        assert!(r.x > 0.2 && r.x + r.w < 0.8, "{r:?}");
        assert!(r.y > 0.4 && r.y + r.h < 0.75, "{r:?}");
    }
    // The same passage is not on page 2.
    let other = library
        .page_image(&scan, 2, Some(&abstract_.text), 800)
        .unwrap();
    assert!(other.highlights.is_empty(), "{:?}", other.highlights);
}

#[test]
fn an_image_imports_as_one_page_with_highlighted_citations() {
    let fixture = fixture();
    let library = &fixture.library;
    // A photo of the scan's first page, as a phone would give it: a PNG file.
    let page = library.page_image(&doc(EN_SCAN), 1, None, 1700).unwrap();
    let photo = fixture.scratch.join("rag-first-page.png");
    std::fs::write(&photo, &page.png).unwrap();
    let outcome = library.import_file(&photo, &Quiet, &Cancel::new()).unwrap();
    let ImportOutcome::Imported { doc: image_doc, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(image_doc.kind, DocKind::Image);
    assert_eq!(image_doc.pages, Some(1));
    let hits = passages(&image_doc);
    let cited = hits
        .iter()
        .find(|h| h.text.contains("pre-trained language models"))
        .expect("the abstract was read from the image");
    assert_eq!(cited.page, Some(1));
    let shown = library
        .page_image(&image_doc, 1, Some(&cited.text), 800)
        .unwrap();
    assert_eq!(shown.width, 800);
    assert!(!shown.highlights.is_empty());
    library.remove(&image_doc.id).unwrap();
}

#[test]
fn bad_scans_are_refused_clearly_and_lose_nothing() {
    let fixture = fixture();
    let library = &fixture.library;
    let before = library.count(&Scope::default()).unwrap();
    let docs_before = library.docs().unwrap().len();
    let dir = fixture.scratch.join("bad");
    std::fs::create_dir_all(&dir).unwrap();

    let mut cases: Vec<(PathBuf, &str)> = Vec::new();
    // A PDF whose one page is blank: no text layer, and nothing for OCR to read.
    let blank_pdf = dir.join("blank-scan.pdf");
    std::fs::write(&blank_pdf, blank_pdf_bytes()).unwrap();
    cases.push((blank_pdf, "no text found"));
    let white = image::RgbImage::from_pixel(1240, 1754, image::Rgb([255, 255, 255]));
    let blank_png = dir.join("blank-page.png");
    white.save(&blank_png).unwrap();
    cases.push((blank_png, "no text found"));
    // A photo without text: smooth colours and two soft discs.
    let photo = image::RgbImage::from_fn(800, 600, |x, y| {
        let (fx, fy) = (x as f32 / 800.0, y as f32 / 600.0);
        let mut c = [
            40.0 + 150.0 * fx,
            90.0 + 100.0 * fy,
            200.0 - 120.0 * fx * fy,
        ];
        for (cx, cy, r) in [(200.0, 200.0, 90.0), (560.0, 380.0, 140.0)] {
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            if d < r {
                let k = 1.0 - d / r;
                c = [
                    c[0] * (1.0 - k) + 250.0 * k,
                    c[1] * (1.0 - k) + 220.0 * k,
                    c[2] * (1.0 - k) + 120.0 * k,
                ];
            }
        }
        image::Rgb(c.map(|v| v.clamp(0.0, 255.0) as u8))
    });
    let photo_path = dir.join("holiday.jpg");
    photo.save(&photo_path).unwrap();
    cases.push((photo_path, "no text found"));
    let broken = dir.join("broken.png");
    std::fs::write(&broken, b"\x89PNG\r\n\x1a\nnot really a png").unwrap();
    cases.push((broken, "cannot read the image"));
    // A real PNG header announcing 60,000 × 60,000 pixels.
    let mut huge = Vec::new();
    let mut writer = png::Encoder::new(&mut huge, 60_000, 60_000)
        .write_header()
        .unwrap();
    // One (empty) compressed data chunk: decoders read the size up to the first one.
    writer
        .write_chunk(
            png::chunk::IDAT,
            &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        )
        .unwrap();
    drop(writer);
    let huge_path = dir.join("poster.png");
    std::fs::write(&huge_path, huge).unwrap();
    cases.push((huge_path, "megapixels"));

    let inputs: Vec<PathBuf> = cases.iter().map(|(p, _)| p.clone()).collect();
    let results = library.import_paths(&inputs, &Quiet, &Cancel::new());
    common::assert_refused(&cases, &results);
    assert_eq!(library.count(&Scope::default()).unwrap(), before);
    assert_eq!(library.docs().unwrap().len(), docs_before);
}

/// A one-page PDF with nothing on the page.
fn blank_pdf_bytes() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

#[test]
fn cancelling_during_ocr_keeps_nothing_of_the_file() {
    let fixture = fixture();
    let library = &fixture.library;
    let before = library.count(&Scope::default()).unwrap();
    let scan = fixture.scratch.join("zh-survey-scan-p7-9.pdf");
    let paths = studydesk_engine::config::Paths::resolve(None).unwrap();
    let copy = extract::render::image_only_copy(
        &extract::pdfium_path(&paths.cache_dir),
        &common::paper(ZH_SURVEY),
        &[7, 8, 9],
        150.0,
    )
    .unwrap();
    std::fs::write(&scan, copy).unwrap();

    /// Presses "stop" as OCR starts on the second page.
    struct StopAtSecondPage(Cancel);
    impl ProgressSink for StopAtSecondPage {
        fn report(&self, event: Progress<'_>) {
            if let Progress::Ocr { done: 1, .. } = event {
                self.0.cancel();
            }
        }
    }
    let cancel = Cancel::new();
    let result = library.import_file(&scan, &StopAtSecondPage(cancel.clone()), &cancel);
    assert!(matches!(result, Err(LibraryError::Cancelled)), "{result:?}");
    assert!(library.find_doc("zh-survey-scan-p7-9.pdf").is_err());
    assert_eq!(library.count(&Scope::default()).unwrap(), before);
}
