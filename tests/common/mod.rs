//! Helpers shared by the integration tests: real inputs from `../shared`, real models from the
//! cache folder that setup provisions, and a fresh data folder per test binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use studydesk_engine::config::Paths;

/// `../shared` beside the repository: the real papers and eval sets.
pub fn shared() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        dir.join("papers").is_dir(),
        "tests need ../shared/papers beside the repository ({})",
        dir.display()
    );
    dir
}

pub fn paper(name: &str) -> PathBuf {
    shared().join("papers").join(name)
}

/// A fresh, empty data folder named for the test, using the provisioned cache folder.
pub fn fresh_paths(name: &str) -> Paths {
    let data_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("studydesk-{name}"));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    let resolved = Paths::resolve(Some(&data_dir)).unwrap();
    assert!(
        resolved
            .cache_dir
            .join(studydesk_engine::embed::MODEL_RELATIVE_DIR)
            .join("model.onnx")
            .is_file(),
        "tests need the provisioned model in {} (run scripts/setup.sh)",
        resolved.cache_dir.display()
    );
    resolved
}

/// A scratch folder for generated input files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("inputs-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Ties a child process to the test that starts it: the kernel kills the child when the
/// test's thread ends, however it ends (a panic, a timeout, the test binary killed), so no
/// server a test starts can outlive it.
pub fn dies_with_test(command: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe, and nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Runs the `studydesk` binary on a data folder, as a user would.
pub fn studydesk(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_studydesk"))
        .args(args)
        .env("STUDYDESK_DATA_DIR", data_dir)
        .output()
        .expect("run studydesk")
}

/// A line on the terminal even while the test harness captures output (it captures the print
/// macros only), so that a run always shows what it covered and what it skipped.
pub fn say(line: String) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The CLI's standard output, after checking that it succeeded.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Runs the `studydesk` binary with `input` on its standard input.
pub fn studydesk_with_input(data_dir: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_studydesk"))
        .args(args)
        .env("STUDYDESK_DATA_DIR", data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// What `search --json` returns, without scores (engines round them differently): source,
/// document or bank item, page and text of each hit, in order.
pub fn search_results(data_dir: &Path, query: &str) -> Vec<String> {
    let out = json(&ok(&studydesk(
        data_dir,
        &["search", "--json", "--top-k", "8", query],
    )));
    out["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{} {} {} {}",
                h["source"],
                h["doc"]
                    .as_str()
                    .or(h["question_id"].as_str())
                    .unwrap_or(""),
                h["page"],
                h["text"]
            )
        })
        .collect()
}

/// How many passages the data folder's index holds, as `store status` says.
pub fn store_passages(data_dir: &Path) -> usize {
    let text = ok(&studydesk(data_dir, &["store", "status"]));
    text.lines()
        .find_map(|l| l.strip_prefix("passages: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"))
}

/// Checks that each file was refused with one line naming it and its cause.
pub fn assert_refused<T: std::fmt::Debug, E: std::fmt::Display>(
    cases: &[(PathBuf, &str)],
    results: &[(PathBuf, Result<T, E>)],
) {
    assert_eq!(results.len(), cases.len());
    for ((file, cause), (path, result)) in cases.iter().zip(results) {
        assert_eq!(file, path);
        let name = path.file_name().unwrap().to_string_lossy();
        let error = match result {
            Err(e) => e.to_string(),
            Ok(outcome) => panic!("{name} should be refused, got {outcome:?}"),
        };
        assert!(error.contains(&*name), "error should name {name}: {error}");
        assert!(
            error.contains(cause),
            "{name}: expected {cause:?} in: {error}"
        );
        assert_eq!(error.lines().count(), 1, "{error}");
    }
}

/// A fresh data folder named for the test with the bank indexed and `paper` imported.
pub fn library_with_paper(
    name: &str,
    paper_name: &str,
) -> (Paths, studydesk_engine::library::Library) {
    use studydesk_engine::library::{Library, Quiet};
    let paths = fresh_paths(name);
    let library = Library::open(&paths).unwrap();
    library.ensure_bank_indexed(&Quiet).unwrap();
    library
        .import_file(&paper(paper_name), &Quiet, &studydesk_engine::Cancel::new())
        .unwrap();
    (paths, library)
}

/// The local model of the tier this machine grades with by default (see `Tier::for_machine`:
/// grading is where the larger model matters), served for the test, and a client of it.
pub fn grading_model(
    paths: &Paths,
) -> (
    studydesk_engine::llm::ChatClient,
    studydesk_engine::llm::local::LocalServer,
) {
    use studydesk_engine::llm::local::{LocalModel, LocalServer, TierChoice};
    let model = LocalModel::choose(TierChoice::Better, &paths.cache_dir)
        .expect("the local models are provisioned by `bash scripts/setup.sh --with-llm`");
    let server = LocalServer::start(&model, &paths.data_dir.join("llama-server.log")).unwrap();
    (
        studydesk_engine::llm::ChatClient::new(server.provider()),
        server,
    )
}
