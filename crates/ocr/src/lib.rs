//! Offline OCR of page images, Chinese and English: PaddleOCR's PP-OCRv4 models (as ONNX, from
//! RapidOCR 1.4.4) on ONNX Runtime through `ort`.
//!
//! The pipeline: detection (DB) finds text lines, the orientation classifier votes on whether the
//! page is upside down, the recognizer (SVTR-LCNet with CTC) reads each line (vertical lines both
//! ways round); lines are then put in reading order (columns left to right, each top to bottom). [`join_lines`] joins them into paragraphs.
//!
//! Models are looked up by file name in one folder ([`DET_MODEL`], [`REC_MODEL`], [`CLS_MODEL`]);
//! the recognizer's alphabet is read from its ONNX metadata (key `character`).

mod det;
mod ink;
mod join;
mod layout;
mod rec;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use image::RgbImage;
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

pub use det::DetParams;
pub use join::{Paragraph, is_wide, join_lines};
pub use layout::reading_order;

/// Text detection model (PP-OCRv4 det, Chinese and English).
pub const DET_MODEL: &str = "ch_PP-OCRv4_det_infer.onnx";
/// Text recognition model (PP-OCRv4 rec: Chinese, English, digits; alphabet in its metadata).
pub const REC_MODEL: &str = "ch_PP-OCRv4_rec_infer.onnx";
/// Text line orientation model (0 or 180 degrees).
pub const CLS_MODEL: &str = "ch_ppocr_mobile_v2.0_cls_infer.onnx";

/// The recognizer's narrowest input, as a width:height ratio. RapidOCR pads every line to at
/// least 320x48 (6.7); short lines (table cells, labels) read as well at 3.3 for half the work.
const REC_MIN_RATIO: f32 = 160.0 / 48.0;
/// The orientation classifier's input (3x48x192).
const CLS_HEIGHT: u32 = 48;
const CLS_WIDTH: u32 = 192;

/// One line of text on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    /// Mean probability of the recognized characters, 0 to 1.
    pub confidence: f32,
    /// `[x0, y0, x1, y1]`, fractions of the page width and height.
    pub bbox: [f32; 4],
}

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("OCR model file {path} is missing")]
    ModelMissing { path: PathBuf },
    #[error("OCR model file {path} could not be loaded: {message}")]
    ModelLoad { path: PathBuf, message: String },
    #[error("OCR model file {path} has no character list in its metadata (key `character`)")]
    NoAlphabet { path: PathBuf },
    #[error("ONNX Runtime library {path} is missing")]
    RuntimeMissing { path: PathBuf },
    #[error("ONNX Runtime could not be started from {path}: {message}")]
    Runtime { path: PathBuf, message: String },
    #[error("image {path} could not be read: {message}")]
    ImageUnreadable { path: PathBuf, message: String },
    #[error("the image could not be decoded: {0}")]
    ImageInvalid(String),
    #[error("OCR failed in the {stage} model: {message}")]
    Inference {
        stage: &'static str,
        message: String,
    },
}

/// Settings of the pipeline; the defaults are RapidOCR 1.4.4's.
#[derive(Debug, Clone)]
pub struct OcrOptions {
    pub det: DetParams,
    /// Run the orientation classifier over the lines to find pages that are upside down (such a
    /// page is then read turned).
    pub use_cls: bool,
    /// A line's vote counts when the classifier is at least this sure of it.
    pub cls_thresh: f32,
    /// Lines recognized with a lower confidence are dropped.
    pub text_score: f32,
    /// Lines per recognizer run (lines of similar length go together). One is fastest on CPU:
    /// batching pads lines to the longest of the batch.
    pub rec_batch: usize,
    /// The recognizer's input height: 48 is what the model was trained with. 40 read our test
    /// pages as well for a quarter less work; 32 does not work.
    pub rec_height: u32,
    /// A space is put between two characters that are not Chinese (or other wide) characters
    /// when, on the way from one to the other, the recognizer gave "space" at least this
    /// probability (even if it preferred "blank"): the model often swallows the spaces between
    /// English words. 1 or more turns this off (plain greedy decoding).
    pub space_thresh: f32,
    /// ONNX Runtime threads per model run (0: ONNX Runtime's default, one per core). On a
    /// machine busy with other work, 1 is fastest.
    pub threads: usize,
}

impl Default for OcrOptions {
    fn default() -> Self {
        OcrOptions {
            det: DetParams::default(),
            use_cls: true,
            cls_thresh: 0.9,
            text_score: 0.5,
            rec_batch: 1,
            rec_height: 48,
            space_thresh: 0.02,
            threads: 0,
        }
    }
}

/// The loaded models. `read` may be called from several threads; runs of one model take turns.
pub struct Ocr {
    det: Mutex<Session>,
    cls: Option<Mutex<Session>>,
    rec: Mutex<Session>,
    alphabet: rec::Charset,
    options: OcrOptions,
}

impl std::fmt::Debug for Ocr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ocr")
            .field("alphabet", &self.alphabet.len())
            .field("options", &self.options)
            .finish()
    }
}

/// Load ONNX Runtime from `ort_lib` (once per process) and return the process's `ort`
/// environment, creating it if this is the first user. `ort` allows one environment per process:
/// an app that also builds one elsewhere (fastembed does, unless given one) should build it once
/// and hand the same one to [`Ocr::open_in`] and to the other users.
pub fn runtime(ort_lib: &Path) -> Result<Environment, OcrError> {
    static ENV: Mutex<Option<Environment>> = Mutex::new(None);
    if !ort_lib.is_file() {
        return Err(OcrError::RuntimeMissing {
            path: ort_lib.to_path_buf(),
        });
    }
    let failed = |message: String| OcrError::Runtime {
        path: ort_lib.to_path_buf(),
        message,
    };
    // `ort` panics on some load failures; loading twice is a no-op.
    std::panic::catch_unwind(|| ort::init_from(ort_lib).map(drop).map_err(|e| e.to_string()))
        .unwrap_or_else(|_| Err("the library could not be loaded".into()))
        .map_err(failed)?;
    let mut env = ENV.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(env) = env.as_ref() {
        return Ok(env.clone());
    }
    let built = ort::init()
        .with_name("studydesk")
        .build()
        .map_err(|e| failed(e.to_string()))?;
    *env = Some(built.clone());
    Ok(built)
}

impl Ocr {
    /// Load the models from `models_dir` on the ONNX Runtime library `ort_lib`, with the default
    /// options.
    pub fn open(models_dir: &Path, ort_lib: &Path) -> Result<Ocr, OcrError> {
        Ocr::open_with(models_dir, ort_lib, OcrOptions::default())
    }

    /// Like [`Ocr::open`], with other options.
    pub fn open_with(
        models_dir: &Path,
        ort_lib: &Path,
        options: OcrOptions,
    ) -> Result<Ocr, OcrError> {
        // Name a missing model before anything else, whatever the runtime's state.
        for name in [DET_MODEL, REC_MODEL]
            .into_iter()
            .chain(options.use_cls.then_some(CLS_MODEL))
        {
            let path = models_dir.join(name);
            if !path.is_file() {
                return Err(OcrError::ModelMissing { path });
            }
        }
        let env = runtime(ort_lib)?;
        Ocr::open_in(models_dir, &env, options)
    }

    /// Load the models into an existing `ort` environment.
    pub fn open_in(
        models_dir: &Path,
        env: &Environment,
        options: OcrOptions,
    ) -> Result<Ocr, OcrError> {
        let det = session(env, &models_dir.join(DET_MODEL), options.threads)?;
        let rec_path = models_dir.join(REC_MODEL);
        let rec = session(env, &rec_path, options.threads)?;
        let cls = if options.use_cls {
            Some(session(env, &models_dir.join(CLS_MODEL), options.threads)?)
        } else {
            None
        };
        let list = rec
            .metadata()
            .ok()
            .and_then(|m| m.custom("character"))
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| OcrError::NoAlphabet {
                path: rec_path.clone(),
            })?;
        let alphabet = rec::Charset::from_metadata(&list, true);
        Ok(Ocr {
            det: Mutex::new(det),
            cls: cls.map(Mutex::new),
            rec: Mutex::new(rec),
            alphabet,
            options,
        })
    }

    /// Read the text of a page image: its lines in reading order. A page without text gives no
    /// lines.
    pub fn read(&self, page: &RgbImage) -> Result<Vec<Line>, OcrError> {
        self.read_page(page, self.cls.is_some())
    }

    fn read_page(&self, page: &RgbImage, check_upside_down: bool) -> Result<Vec<Line>, OcrError> {
        let (w, h) = page.dimensions();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let boxes = self.detect(page)?;
        if boxes.is_empty() {
            return Ok(Vec::new());
        }
        let ink = ink::InkMap::new(page);
        let quads = ink::split_at_gutters(&ink, boxes.into_iter().map(|b| b.quad).collect());
        let crops: Vec<(RgbImage, bool)> = quads.iter().map(|q| rec::crop_quad(page, q)).collect();
        if check_upside_down && self.upside_down(&crops)? {
            // Read the page turned the right way up, then put the boxes back on the page as given.
            let turned = image::imageops::rotate180(page);
            let mut lines = self.read_page(&turned, false)?;
            for l in lines.iter_mut() {
                let b = l.bbox;
                l.bbox = [1.0 - b[2], 1.0 - b[3], 1.0 - b[0], 1.0 - b[1]];
            }
            return Ok(lines);
        }
        // Vertical lines were turned a quarter counter-clockwise; text that runs top to bottom
        // then stands on its head, so those are read both ways round and the likelier kept.
        let mut items: Vec<RgbImage> = Vec::with_capacity(crops.len());
        let mut turned_pairs: Vec<(usize, usize)> = Vec::new();
        for (i, (crop, turned)) in crops.iter().enumerate() {
            items.push(crop.clone());
            if *turned {
                turned_pairs.push((i, crops.len() + turned_pairs.len()));
            }
        }
        for &(i, _) in &turned_pairs {
            items.push(image::imageops::rotate180(&crops[i].0));
        }
        let mut texts = self.recognize(&items)?;
        // Vertical lines that read bottom to top.
        let mut upward = vec![false; crops.len()];
        for &(i, j) in &turned_pairs {
            if texts[j].1 > texts[i].1 {
                texts[i] = std::mem::take(&mut texts[j]);
                upward[i] = true;
            }
        }
        texts.truncate(crops.len());
        let mut found: Vec<([f32; 4], String, f32, bool)> = Vec::new();
        for ((q, (text, confidence)), up) in quads.iter().zip(texts).zip(upward) {
            if confidence < self.options.text_score || text.trim().is_empty() {
                continue;
            }
            // The box of the line's ink: tighter than the detector's, which overlap their
            // neighbours (across narrow gutters too).
            let bb = ink::aabb(q);
            let turned = bb[3] - bb[1] >= 1.5 * (bb[2] - bb[0]);
            let px = if turned {
                bb
            } else {
                ink::ink_box(&ink, &bb).unwrap_or(bb)
            };
            found.push((px, text.trim().to_string(), confidence, up));
        }
        let pixel_boxes: Vec<[f32; 4]> = found.iter().map(|f| f.0).collect();
        let mut order = reading_order(&pixel_boxes);
        // Vertical lines come last, each column of them top to bottom: a column that reads
        // upwards is read from its bottom piece.
        let mut k = 0;
        while k < order.len() {
            let mut end = k + 1;
            if found[order[k]].3 {
                let b = found[order[k]].0;
                while end < order.len()
                    && found[order[end]].3
                    && found[order[end]].0[0] < b[2]
                    && b[0] < found[order[end]].0[2]
                {
                    end += 1;
                }
                order[k..end].reverse();
            }
            k = end;
        }
        let (fw, fh) = (w as f32, h as f32);
        Ok(order
            .into_iter()
            .map(|i| {
                let (b, text, confidence, _) = &found[i];
                Line {
                    text: text.clone(),
                    confidence: *confidence,
                    bbox: [b[0] / fw, b[1] / fh, b[2] / fw, b[3] / fh],
                }
            })
            .collect())
    }

    /// Read an image file (PNG or JPEG).
    pub fn read_file(&self, path: &Path) -> Result<Vec<Line>, OcrError> {
        self.read(&load_image(path)?)
    }

    /// Recognize one image holding a single line of text, as it is (no detection): the text and
    /// its confidence.
    pub fn recognize_line(&self, line: &RgbImage) -> Result<(String, f32), OcrError> {
        Ok(self.recognize(std::slice::from_ref(line))?.remove(0))
    }

    fn detect(&self, page: &RgbImage) -> Result<Vec<det::DetBox>, OcrError> {
        let p = &self.options.det;
        // Very flat or very short images (a single line) get black bands above and below first,
        // as RapidOCR does, so that the detector sees a page-like shape.
        let (w, h) = page.dimensions();
        let (padded, top);
        let img = if h <= 30 || w as f32 / h as f32 > 8.0 {
            let new_h = ((w as f32 / 8.0) as u32).max(30) * 2;
            top = new_h.abs_diff(h) / 2;
            let mut canvas = RgbImage::new(w, h + 2 * top);
            image::imageops::replace(&mut canvas, page, 0, top as i64);
            padded = canvas;
            &padded
        } else {
            top = 0;
            page
        };
        let (dw, dh) = det::det_size(img.width(), img.height(), p);
        let input = det::det_input(img, dw, dh);
        let tensor = Tensor::from_array(([1usize, 3, dh as usize, dw as usize], input))
            .map_err(infer("detection"))?;
        let mut session = self.det.lock().unwrap_or_else(PoisonError::into_inner);
        let outputs = session
            .run(ort::inputs![tensor])
            .map_err(infer("detection"))?;
        let (shape, prob) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(infer("detection"))?;
        let (mh, mw) = match **shape {
            [_, _, mh, mw] => (mh as usize, mw as usize),
            _ => {
                return Err(infer("detection")(format!(
                    "unexpected output shape {shape}"
                )));
            }
        };
        let mut boxes = det::boxes_from_map(&prob[..mh * mw], mw, mh, img.width(), img.height(), p);
        if top > 0 {
            for b in boxes.iter_mut() {
                for pt in b.quad.iter_mut() {
                    pt[1] = (pt[1] - top as f32).clamp(0.0, h as f32);
                }
            }
            boxes.retain(|b| b.quad[3][1] - b.quad[0][1] > 1.0);
        }
        Ok(boxes)
    }

    /// Whether the page is upside down: the orientation classifier's vote over its horizontal
    /// lines (confident votes only). Single lines are not turned on their own: squeezed into the
    /// classifier's 192x48 input, long lines are misjudged now and then.
    fn upside_down(&self, crops: &[(RgbImage, bool)]) -> Result<bool, OcrError> {
        let Some(cls) = &self.cls else {
            return Ok(false);
        };
        let lines: Vec<&RgbImage> = crops.iter().filter(|c| !c.1).map(|c| &c.0).collect();
        let slot = (3 * CLS_HEIGHT * CLS_WIDTH) as usize;
        let batch = self.options.rec_batch.max(1);
        let (mut up, mut down) = (0usize, 0usize);
        for chunk in lines.chunks(batch) {
            let mut input = vec![0f32; chunk.len() * slot];
            for (k, crop) in chunk.iter().enumerate() {
                rec::write_normalized(
                    crop,
                    CLS_HEIGHT,
                    CLS_WIDTH,
                    &mut input[k * slot..(k + 1) * slot],
                );
            }
            let shape = [chunk.len(), 3, CLS_HEIGHT as usize, CLS_WIDTH as usize];
            let tensor = Tensor::from_array((shape, input)).map_err(infer("orientation"))?;
            let mut session = cls.lock().unwrap_or_else(PoisonError::into_inner);
            let outputs = session
                .run(ort::inputs![tensor])
                .map_err(infer("orientation"))?;
            let (_, probs) = outputs[0]
                .try_extract_tensor::<f32>()
                .map_err(infer("orientation"))?;
            for p in probs.chunks_exact(2).take(chunk.len()) {
                if p[1] > self.options.cls_thresh {
                    down += 1;
                } else if p[0] > self.options.cls_thresh {
                    up += 1;
                }
            }
        }
        Ok(down > up)
    }

    /// Recognize each crop: (text, confidence), in the crops' order.
    fn recognize(&self, crops: &[RgbImage]) -> Result<Vec<(String, f32)>, OcrError> {
        let ratio = |c: &RgbImage| c.width() as f32 / c.height().max(1) as f32;
        // Similar widths together, so that little of each batch is padding.
        let mut order: Vec<usize> = (0..crops.len()).collect();
        order.sort_by(|&a, &b| ratio(&crops[a]).total_cmp(&ratio(&crops[b])));
        let mut out = vec![(String::new(), 0f32); crops.len()];
        let batch = self.options.rec_batch.max(1);
        for chunk in order.chunks(batch) {
            let max_ratio = chunk
                .iter()
                .map(|&i| ratio(&crops[i]))
                .fold(REC_MIN_RATIO, f32::max);
            let rh = self.options.rec_height.max(16);
            let width = (rh as f32 * max_ratio) as u32;
            let slot = (3 * rh * width) as usize;
            let mut input = vec![0f32; chunk.len() * slot];
            for (k, &i) in chunk.iter().enumerate() {
                rec::write_normalized(&crops[i], rh, width, &mut input[k * slot..(k + 1) * slot]);
            }
            let shape = [chunk.len(), 3, rh as usize, width as usize];
            let tensor = Tensor::from_array((shape, input)).map_err(infer("recognition"))?;
            let mut session = self.rec.lock().unwrap_or_else(PoisonError::into_inner);
            let outputs = session
                .run(ort::inputs![tensor])
                .map_err(infer("recognition"))?;
            let (shape, probs) = outputs[0]
                .try_extract_tensor::<f32>()
                .map_err(infer("recognition"))?;
            let (steps, classes) = match **shape {
                [_, t, c] => (t as usize, c as usize),
                _ => {
                    return Err(infer("recognition")(format!(
                        "unexpected output shape {shape}"
                    )));
                }
            };
            if classes != self.alphabet.len() {
                return Err(infer("recognition")(format!(
                    "the model gives {classes} classes but its alphabet has {}",
                    self.alphabet.len()
                )));
            }
            for (k, &i) in chunk.iter().enumerate() {
                let seq = &probs[k * steps * classes..(k + 1) * steps * classes];
                out[i] = rec::ctc_greedy(seq, classes, &self.alphabet, self.options.space_thresh);
            }
        }
        Ok(out)
    }
}

/// Decode an image file into RGB; an unreadable or corrupt file is an error naming it.
pub fn load_image(path: &Path) -> Result<RgbImage, OcrError> {
    let unreadable = |message: String| OcrError::ImageUnreadable {
        path: path.to_path_buf(),
        message,
    };
    let reader = image::ImageReader::open(path).map_err(|e| unreadable(e.to_string()))?;
    let reader = reader
        .with_guessed_format()
        .map_err(|e| unreadable(e.to_string()))?;
    Ok(reader
        .decode()
        .map_err(|e| unreadable(e.to_string()))?
        .to_rgb8())
}

/// Decode an image held in memory (PNG or JPEG).
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage, OcrError> {
    Ok(image::load_from_memory(bytes)
        .map_err(|e| OcrError::ImageInvalid(e.to_string()))?
        .to_rgb8())
}

fn session(env: &Environment, path: &Path, threads: usize) -> Result<Session, OcrError> {
    if !path.is_file() {
        return Err(OcrError::ModelMissing {
            path: path.to_path_buf(),
        });
    }
    let failed = |message: String| OcrError::ModelLoad {
        path: path.to_path_buf(),
        message,
    };
    let mut builder = Session::builder(env)
        .map_err(|e| failed(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| failed(e.to_string()))?;
    if threads > 0 {
        builder = builder
            .with_intra_threads(threads)
            .map_err(|e| failed(e.to_string()))?;
    }
    // Idle worker threads sleep instead of spinning: OCR runs beside other work (the UI, the
    // language model, indexing), and on a busy machine spinning threads only fight it (measured:
    // 7.6-8.8 s/page spinning against 5.6-7.2 s/page not, with 2 threads at load 4).
    builder = builder
        .with_intra_op_spinning(false)
        .map_err(|e| failed(e.to_string()))?;
    builder
        .commit_from_file(path)
        .map_err(|e| failed(e.to_string()))
}

fn infer<E: std::fmt::Display>(stage: &'static str) -> impl Fn(E) -> OcrError {
    move |e| OcrError::Inference {
        stage,
        message: e.to_string(),
    }
}
