//! OCR of real pages, rendered with pdfium from the shared papers, on the provisioned models
//! (`scripts/provision.sh` puts them in `$STUDYDESK_CACHE/models/ppocr-v4`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::{Rgb, RgbImage};
use pdfium_render::prelude::*;
use studydesk_ocr::{Line, Ocr, OcrError, join_lines};

fn cache() -> PathBuf {
    match std::env::var_os("STUDYDESK_CACHE").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/studydesk")
        }
    }
}

fn provisioned(path: PathBuf) -> PathBuf {
    assert!(
        path.is_file(),
        "{} is missing: run scripts/provision.sh",
        path.display()
    );
    path
}

fn models_dir() -> PathBuf {
    cache().join("models/ppocr-v4")
}

fn ort_lib() -> PathBuf {
    match std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
        Some(lib) => PathBuf::from(lib),
        None => cache().join("onnxruntime/libonnxruntime.so"),
    }
}

fn papers() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/papers");
    assert!(
        dir.is_dir(),
        "tests need ../shared/papers beside the repository"
    );
    dir
}

fn ocr() -> &'static Ocr {
    static OCR: OnceLock<Ocr> = OnceLock::new();
    OCR.get_or_init(|| {
        provisioned(models_dir().join(studydesk_ocr::REC_MODEL));
        Ocr::open(&models_dir(), &provisioned(ort_lib())).expect("open OCR")
    })
}

/// Page `index` (0-based) of a PDF rendered at `dpi` with pdfium.
fn render(pdf: &Path, index: i32, dpi: f32) -> RgbImage {
    let lib = provisioned(cache().join("pdfium/libpdfium.so"));
    static PDFIUM: OnceLock<Pdfium> = OnceLock::new();
    let pdfium = PDFIUM.get_or_init(|| Pdfium::new(Pdfium::bind_to_library(&lib).expect("pdfium")));
    let doc = pdfium.load_pdf_from_file(pdf, None).expect("open pdf");
    let page = doc.pages().get(index).expect("page");
    let w = (page.width().value * dpi / 72.0).round() as i32;
    let h = (page.height().value * dpi / 72.0).round() as i32;
    let bitmap = page
        .render_with_config(
            &PdfRenderConfig::new()
                .set_target_width(w)
                .set_maximum_height(h),
        )
        .expect("render");
    let rgba = bitmap.as_rgba_bytes();
    let (bw, bh) = (bitmap.width() as u32, bitmap.height() as u32);
    RgbImage::from_fn(bw, bh, |x, y| {
        let i = ((y * bw + x) * 4) as usize;
        Rgb([rgba[i], rgba[i + 1], rgba[i + 2]])
    })
}

/// All the text without whitespace.
fn squeeze(lines: &[Line]) -> String {
    lines
        .iter()
        .flat_map(|l| l.text.chars())
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[test]
fn english_scan_reads_title_and_abstract_in_order() {
    let ocr = ocr();
    let page = render(&papers().join("scanned-image-only-rag-p1-2.pdf"), 0, 150.0);
    let lines = ocr.read(&page).expect("ocr");
    let text = squeeze(&lines);
    let title = text
        .find("Retrieval-AugmentedGenerationfor")
        .expect("title");
    let abstract_ = text.find("Abstract").expect("abstract heading");
    let intro = text.find("Introduction").expect("introduction heading");
    assert!(title < abstract_ && abstract_ < intro, "{text}");
    assert!(text.contains("Knowledge-IntensiveNLPTasks"), "{text}");
    // Spaces between English words survive, and paragraphs de-hyphenate their line ends.
    let paragraphs = join_lines(&lines);
    let all: Vec<&str> = paragraphs.iter().map(|p| p.text.as_str()).collect();
    let all = all.join("\n");
    assert!(
        all.contains(
            "Large pre-trained language models have been shown to store factual knowledge"
        ),
        "{all}"
    );
    assert!(all.contains("downstream NLP tasks"), "{all}");
    for l in &lines {
        assert!(
            l.bbox[0] >= 0.0 && l.bbox[2] <= 1.0 && l.bbox[0] < l.bbox[2] && l.bbox[1] < l.bbox[3],
            "{l:?}"
        );
        assert!(l.confidence >= 0.5 && l.confidence <= 1.0, "{l:?}");
    }
    // The abstract is one paragraph whose boxes are its lines.
    let abs = paragraphs
        .iter()
        .find(|p| p.text.starts_with("Large pre-trained"))
        .expect("abstract paragraph");
    assert!(abs.boxes.len() >= 15, "{abs:?}");
}

#[test]
fn chinese_two_column_page_reads_left_column_first() {
    let ocr = ocr();
    let page = render(&papers().join("zh-llm-survey-rucaibox.pdf"), 4, 150.0);
    let lines = ocr.read(&page).expect("ocr");
    let text = squeeze(&lines);
    let left_top = text.find("在OpenAI的早期").expect("left column, top");
    let left_end = text.find("为了对该条件概率").expect("left column, end");
    let right_top = text
        .find("建模，自然语言文本可以自然地用作")
        .expect("right column, top");
    let right_end = text.find("GPT-3的论文正式介绍").expect("right column, end");
    assert!(
        left_top < left_end && left_end < right_top && right_top < right_end,
        "{text}"
    );
    // Chinese lines join without spaces.
    let paragraphs = join_lines(&lines);
    assert!(
        paragraphs.iter().any(
            |p| p.text.contains("并使用大规模的网页数据集 WebText进行训练")
                || p.text.contains("并使用大规模的网页数据集WebText进行训练")
        ),
        "{paragraphs:#?}"
    );
}

#[test]
fn blank_page_and_textless_picture_give_no_lines() {
    let ocr = ocr();
    let blank = RgbImage::from_pixel(1275, 1650, Rgb([255, 255, 255]));
    assert!(ocr.read(&blank).expect("blank page").is_empty());
    // A "photo": smooth colour gradients and a few soft discs, no text.
    let photo = RgbImage::from_fn(800, 600, |x, y| {
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
        Rgb(c.map(|v| v.clamp(0.0, 255.0) as u8))
    });
    assert!(ocr.read(&photo).expect("photo").is_empty());
    assert!(
        ocr.read(&RgbImage::new(0, 0))
            .expect("empty image")
            .is_empty()
    );
}

#[test]
fn corrupt_image_is_an_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("studydesk-ocr-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.png");
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(b"not really a png");
    std::fs::write(&path, &bytes).unwrap();
    let err = studydesk_ocr::load_image(&path).unwrap_err();
    assert!(matches!(err, OcrError::ImageUnreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("broken.png"), "{err}");
    assert!(studydesk_ocr::load_image(&dir.join("absent.png")).is_err());
    assert!(matches!(
        studydesk_ocr::decode_image(&bytes),
        Err(OcrError::ImageInvalid(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_model_is_an_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("studydesk-ocr-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = Ocr::open(&dir, &ort_lib()).unwrap_err();
    assert!(matches!(err, OcrError::ModelMissing { .. }), "{err:?}");
    assert!(err.to_string().contains(studydesk_ocr::DET_MODEL), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn upside_down_page_is_read_turned_with_boxes_on_the_page_as_given() {
    let ocr = ocr();
    let page = render(&papers().join("scanned-image-only-rag-p1-2.pdf"), 0, 150.0);
    let turned = image::imageops::rotate180(&page);
    let lines = ocr.read(&turned).expect("ocr");
    let text = squeeze(&lines);
    assert!(
        text.starts_with("Retrieval-AugmentedGenerationfor"),
        "{text}"
    );
    // The title is at the top of the page, so at the bottom of the turned image.
    assert!(lines[0].bbox[1] > 0.8, "{:?}", lines[0]);
}
