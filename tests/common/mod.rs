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
