//! Bad files each get one clear error naming the file and the cause, and leave what is
//! already indexed untouched. The fixtures are generated here, from the real papers.

mod common;

use std::path::PathBuf;
use std::process::Command;

use studydesk_engine::Cancel;
use studydesk_engine::library::{ImportOutcome, Library, LibraryError, Quiet};
use studydesk_engine::store::Scope;

struct Case {
    file: PathBuf,
    /// Words the error must contain, besides the file name.
    cause: &'static str,
}

#[test]
fn bad_inputs_are_refused_clearly_and_lose_nothing() {
    let paths = common::fresh_paths("bad-inputs");
    let library = Library::open(&paths).unwrap();
    library.ensure_bank_indexed(&Quiet).unwrap();
    let good = common::paper("gqa-2305.13245.pdf");
    let ImportOutcome::Imported { doc: kept, .. } =
        library.import_file(&good, &Quiet, &Cancel::new()).unwrap()
    else {
        panic!("first import")
    };
    let before = library.count(&Scope::default()).unwrap();

    let dir = common::scratch("bad");
    let bytes = std::fs::read(&good).unwrap();
    let mut cases = Vec::new();
    let mut case = |name: &str, contents: &[u8], cause: &'static str| {
        let file = dir.join(name);
        std::fs::write(&file, contents).unwrap();
        cases.push(Case { file, cause });
    };
    case(
        "truncated.pdf",
        &bytes[..bytes.len() / 3],
        "damaged or truncated",
    );
    case("empty.pdf", b"", "empty");
    case(
        "really-text.pdf",
        b"These are my notes, saved with the wrong extension.\n",
        "not a PDF",
    );
    case(
        "binary-notes.txt",
        &[0x00, 0xff, 0x13, 0x37, 0x00, 0xfe, 0x80, 0x81],
        "not UTF-8 or GBK",
    );
    case("slides.pptx", b"PK\x03\x04", "unsupported file type");
    let encrypted = dir.join("encrypted.pdf");
    let status = Command::new("qpdf")
        .args(["--encrypt", "secret", "owner-secret", "256", "--"])
        .arg(&good)
        .arg(&encrypted)
        .status()
        .expect("qpdf is installed by scripts/test.sh");
    assert!(status.success());
    cases.push(Case {
        file: encrypted,
        cause: "encrypted",
    });
    let dangling = dir.join("moved-away.md");
    std::os::unix::fs::symlink(dir.join("nowhere.md"), &dangling).unwrap();
    cases.push(Case {
        file: dangling,
        cause: "cannot read",
    });

    // GBK-encoded Chinese notes are decoded, not refused.
    let gbk_note = dir.join("gbk-notes.txt");
    let (gbk, _, _) =
        encoding_rs::GBK.encode("旋转位置编码(RoPE)通过旋转矩阵把相对位置信息注入注意力。\n");
    std::fs::write(&gbk_note, &gbk).unwrap();

    let mut inputs: Vec<PathBuf> = cases.iter().map(|c| c.file.clone()).collect();
    inputs.push(gbk_note.clone());
    let results = library.import_paths(&inputs, &Quiet, &Cancel::new());
    assert_eq!(results.len(), cases.len() + 1);
    let refused: Vec<(PathBuf, &str)> = cases.iter().map(|c| (c.file.clone(), c.cause)).collect();
    common::assert_refused(&refused, &results[..cases.len()]);
    let (_, gbk_result) = results.last().unwrap();
    assert!(
        matches!(gbk_result, Ok(ImportOutcome::Imported { .. })),
        "{gbk_result:?}"
    );

    // Nothing already indexed was lost; only the GBK note was added.
    let gbk_doc = library.find_doc("gbk-notes.txt").unwrap();
    let after = library.count(&Scope::default()).unwrap();
    assert_eq!(after, before + gbk_doc.chunks as usize);
    assert_eq!(
        library
            .count(&Scope {
                doc_id: Some(kept.id.clone()),
                ..Scope::default()
            })
            .unwrap(),
        kept.chunks as usize
    );
    let docs = library.docs().unwrap();
    assert_eq!(docs.len(), 2, "{docs:?}");
}

#[test]
fn an_unknown_document_is_a_clear_error() {
    let paths = common::fresh_paths("unknown-doc");
    let library = Library::open(&paths).unwrap();
    let err = library.remove("never-imported.pdf").unwrap_err();
    assert!(matches!(err, LibraryError::UnknownDoc(_)));
    assert!(err.to_string().contains("never-imported.pdf"));
}
