//! Killing StudyDesk (SIGKILL) in the middle of an import, then importing again, leaves no
//! duplicate passages and no half document.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use studydesk::library::Library;
use studydesk::records::Records;
use studydesk::store::Scope;

fn studydesk(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_studydesk"));
    cmd.env("STUDYDESK_DATA_DIR", data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn a_killed_import_is_cleaned_up_and_redone() {
    let paths = common::fresh_paths("kill");
    let paper = common::paper("instructgpt-2203.02155.pdf");
    // Index the bank first, so that the kill lands in the paper's import.
    let status = studydesk(&paths.data_dir).arg("docs").status().unwrap();
    assert!(status.success());

    let mut child = studydesk(&paths.data_dir)
        .arg("import")
        .arg(&paper)
        .spawn()
        .unwrap();
    let db = paths.data_dir.join(studydesk::records::DB_FILE);
    let started = Instant::now();
    // Wait until the import has begun writing passages, then kill it.
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the import never started"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before it could be killed"
        );
        let importing = Records::open(&db)
            .unwrap()
            .all()
            .unwrap()
            .iter()
            .any(|d| !d.ready);
        if importing {
            std::thread::sleep(Duration::from_millis(1500));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let unfinished = Records::open(&db).unwrap().all().unwrap();
    assert!(
        unfinished.iter().all(|d| !d.ready),
        "the killed import had not finished: {unfinished:?}"
    );

    let out = studydesk(&paths.data_dir)
        .arg("import")
        .arg(&paper)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let library = Library::open(&paths).unwrap();
    let docs = library.docs().unwrap();
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert!(docs[0].ready);
    let stored = library
        .count(&Scope {
            doc_id: Some(docs[0].id.clone()),
            ..Scope::default()
        })
        .unwrap();
    assert_eq!(
        stored, docs[0].chunks as usize,
        "no duplicate or missing passages"
    );
    assert_eq!(library.count(&Scope::default()).unwrap(), 949 + stored);
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
