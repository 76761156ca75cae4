//! Killing StudyDesk (SIGKILL) in the middle of an import, then importing again, leaves no
//! duplicate passages and no half document; killing it while the local model answers leaves
//! no model server behind.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use studydesk_engine::database::Database;
use studydesk_engine::library::Library;
use studydesk_engine::llm::local::{LocalModel, TierChoice};
use studydesk_engine::store::{Scope, VectorStore};

fn studydesk(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_studydesk"));
    common::dies_with_test(&mut cmd);
    cmd.env("STUDYDESK_DATA_DIR", data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn a_killed_import_is_cleaned_up_and_redone() {
    let paths = common::fresh_paths("kill");
    // Three long papers, so that the kill lands inside an import, whatever the machine's speed.
    let inputs = common::scratch("kill-inputs");
    for name in [
        "instructgpt-2203.02155.pdf",
        "switch-transformers-2101.03961.pdf",
        "zero-1910.02054.pdf",
    ] {
        std::fs::copy(common::paper(name), inputs.join(name)).unwrap();
    }
    // Index the bank first, so that the kill lands in the papers' import.
    let status = studydesk(&paths.data_dir).arg("docs").status().unwrap();
    assert!(status.success());
    let db = paths.data_dir.join(studydesk_engine::database::DB_FILE);
    let unfinished = || -> Vec<String> {
        Database::open(&db)
            .unwrap()
            .documents()
            .unwrap()
            .into_iter()
            .filter(|d| !d.ready)
            .map(|d| d.id)
            .collect()
    };

    let mut child = studydesk(&paths.data_dir)
        .arg("import")
        .arg(&inputs)
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Wait until an import has begun writing passages, give it a moment to write some, then
    // kill it.
    while unfinished().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no import started"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before any file was begun"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // What the kill left: a document record that never finished, with some of its passages.
    let interrupted = unfinished();
    assert_eq!(
        interrupted.len(),
        1,
        "one import was under way: {interrupted:?}"
    );
    let partial = studydesk_engine::store::edge::EdgeStore::open(
        &paths.data_dir.join(studydesk_engine::library::INDEX_DIR),
    )
    .unwrap()
    .count(&Scope::doc(&interrupted[0]))
    .unwrap();

    let out = studydesk(&paths.data_dir)
        .arg("import")
        .arg(&inputs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let library = Library::open(&paths).unwrap();
    let docs = library.docs().unwrap();
    assert_eq!(docs.len(), 3, "{docs:?}");
    let mut stored_total = 0;
    for doc in &docs {
        assert!(doc.ready);
        let stored = library.count(&Scope::doc(&doc.id)).unwrap();
        assert_eq!(
            stored, doc.chunks as usize,
            "{}: no duplicate or missing passages (the killed import had written {partial})",
            doc.file_name
        );
        stored_total += stored;
    }
    assert_eq!(
        library.count(&Scope::default()).unwrap(),
        949 + stored_total
    );
}

#[test]
fn a_second_process_on_the_same_folder_is_refused() {
    let paths = common::fresh_paths("lock");
    let _first = Library::open(&paths).unwrap();
    let out = studydesk(&paths.data_dir).arg("docs").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another StudyDesk process"), "{err}");
}

/// The processes whose parent is `pid` (from every thread's `children` list).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
                out.extend(
                    list.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
        }
    }
    out
}

fn command_of(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

#[test]
fn a_killed_studydesk_takes_its_local_model_down_with_it() {
    let paths = common::fresh_paths("kill-llm");
    if LocalModel::choose(TierChoice::Fast, &paths.cache_dir).is_none() {
        panic!("the local model is provisioned by `bash scripts/setup.sh --with-llm`");
    }
    let mut child = studydesk(&paths.data_dir)
        .args(["ask", "What is layer normalization?"])
        .spawn()
        .unwrap();
    let started = Instant::now();
    let server = loop {
        if let Some(pid) = children(child.id())
            .into_iter()
            .find(|&p| command_of(p).contains("llama-server"))
        {
            break pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no llama-server was started"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    while std::path::Path::new(&format!("/proc/{server}")).exists()
        && !std::fs::read_to_string(format!("/proc/{server}/stat"))
            .is_ok_and(|s| s.contains(") Z "))
    {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "llama-server {server} outlived the killed StudyDesk"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
