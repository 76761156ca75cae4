//! The quiz from the terminal: a piped session with self-grading, stats and export, and a
//! session killed midway that keeps every review already answered.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::studydesk_with_input as run;

fn data_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("studydesk-cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn studydesk(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_studydesk"));
    command.env("STUDYDESK_DATA_DIR", data_dir);
    command
}

fn stats(data_dir: &Path) -> serde_json::Value {
    let out = run(data_dir, &["stats", "--json"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_self_graded_session_is_scheduled_and_exported() {
    let dir = data_dir("session");
    // Answer, rate Good; blank answer, rate Again; then quit.
    let out = run(
        &dir,
        &["quiz", "--topic", "t02", "--new", "3", "--self-grade"],
        "激活函数引入非线性\n3\n\n1\n:q\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("[1/3] t02-q001"), "{stdout}");
    // No document imported and no points in the bank for this item: the learner is told
    // there is nothing to grade against, rather than shown an empty list.
    assert!(stdout.contains("nothing to grade against"), "{stdout}");
    assert!(!stdout.contains("Sources:"), "{stdout}");
    assert!(stdout.contains("Good — next review in"), "{stdout}");
    assert!(stdout.contains("Again — next review in 10 min"), "{stdout}");
    assert!(stdout.contains("Session over: 2 reviewed"), "{stdout}");

    let stats = stats(&dir);
    let t02 = stats["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic_id"] == "t02")
        .unwrap();
    assert_eq!(t02["seen"], 2);
    assert_eq!(stats["reviews"], 2);

    // Nothing is due right away: a --due session says so.
    let out = run(
        &dir,
        &["quiz", "--topic", "t02", "--due", "--self-grade"],
        "",
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Nothing to review"));

    let file = dir.join("t02.tsv");
    let out = run(
        &dir,
        &["export", "anki", file.to_str().unwrap(), "--topic", "t02"],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("#separator:tab\n"));
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 22);
    let out = run(&dir, &["export", "anki", "/nonexistent/dir/x.tsv"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dir/x.tsv"));
}

#[test]
fn a_killed_session_keeps_the_reviews_already_answered() {
    let dir = data_dir("killed");
    let mut child = studydesk(&dir)
        .args(["quiz", "--topic", "t03", "--new", "5", "--self-grade"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all("交叉熵\n3\n".as_bytes()).unwrap();
    stdin.flush().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    // Wait until the first review is stored and the second question is asked, then kill.
    while !seen.contains("[2/5]") {
        let mut line = String::new();
        assert!(
            lines.read_line(&mut line).unwrap() > 0,
            "session ended early: {seen}"
        );
        seen.push_str(&line);
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let stats = stats(&dir);
    assert_eq!(stats["reviews"], 1, "{stats}");
    let t03 = stats["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic_id"] == "t03")
        .unwrap();
    assert_eq!(t03["seen"], 1);
}

#[test]
fn a_mock_interview_from_the_terminal_with_the_bank_alone() {
    // No document imported: the interviewer grades from the bank's points or the model's
    // knowledge, and says so.
    let dir = data_dir("interview");
    let out = run(
        &dir,
        &[
            "interview",
            "--topic",
            "t02",
            "--questions",
            "1",
            "--minutes",
            "10",
        ],
        "激活函数给网络引入非线性。\n:q\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::say(stdout.to_string());
    assert!(stdout.contains("[Q1] t02-q001"), "{stdout}");
    assert!(stdout.contains("=== Debrief: interview 1 ==="), "{stdout}");
    assert!(
        stdout.contains("not cover it") || stdout.contains("bank's points"),
        "the debrief says the grading is not from the learner's sources: {stdout}"
    );
    assert!(stdout.contains("By topic:"), "{stdout}");

    let listed = run(&dir, &["interview", "--list"], "");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("1 question"), "{listed}");
    let shown = run(&dir, &["interview", "--show", "1"], "");
    assert!(String::from_utf8_lossy(&shown.stdout).contains("Q1 t02-q001"));
    // The question's one review is in the log, and the mastery map has the topic.
    let progress = stats(&dir);
    let t02 = progress["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic_id"] == "t02")
        .unwrap();
    assert_eq!(t02["seen"], 1);
    assert!(t02["mastery"].is_number(), "{t02}");
    assert_eq!(progress["reviews"], 1);

    // A plan to a date a month away saves the date; stats carry the plan from then on.
    let date = studydesk_engine::quiz::day_string(studydesk_engine::quiz::now() + 30 * 86_400);
    let plan = run(&dir, &["plan", "--date", &date], "");
    let plan_text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    assert!(
        plan_text.contains(&format!("Interview on {date} (30 days left)")),
        "{plan_text}"
    );
    assert_eq!(stats(&dir)["plan"]["date"], date.as_str());
    let past = run(&dir, &["plan", "--date", "2020-01-01"], "");
    assert!(!past.status.success());
    assert!(String::from_utf8_lossy(&past.stderr).contains("has passed"));
}
