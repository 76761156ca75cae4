//! The `studydesk` binary as a user runs it.

mod common;

use common::studydesk;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("studydesk-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bank_json_reports_the_whole_bank() {
    let dir = temp_dir("json");
    let out = studydesk(&dir, &["bank", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bank: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let topics = bank["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 35);
    let questions: usize = topics
        .iter()
        .map(|t| t["questions"].as_array().unwrap().len())
        .sum();
    assert_eq!(questions, 949);
    let first = &topics[0];
    assert_eq!(first["id"], "t01");
    assert_eq!(first["declared_count"], 20);
    let q = &first["questions"][0];
    for key in ["id", "number", "subsection", "text", "points"] {
        assert!(q.get(key).is_some(), "question JSON lacks {key}: {q}");
    }
}

#[test]
fn bank_lists_topics_and_shows_a_question() {
    let dir = temp_dir("list");
    let out = studydesk(&dir, &["bank"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("35 topics, 949 questions"), "{text}");
    assert!(
        text.contains("t19   92  大模型(LLMs)分布式训练面"),
        "{text}"
    );

    let out = studydesk(&dir, &["bank", "show", "t16-q002"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("强化学习的核心组成部分是什么?"), "{text}");
    assert!(text.contains("- 策略(Policy)"), "{text}");
}

#[test]
fn errors_are_one_clear_line_and_exit_non_zero() {
    let dir = temp_dir("errors");
    let out = studydesk(&dir, &["bank", "show", "t99-q999"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("t99-q999"), "{err}");

    std::fs::write(dir.join("config.toml"), "langauge = \"zh\"\n").unwrap();
    let out = studydesk(&dir, &["bank"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("config.toml") && err.contains("langauge"),
        "{err}"
    );
}

#[test]
fn data_dir_comes_from_flag_then_environment() {
    let env_dir = temp_dir("env");
    let flag_dir = temp_dir("flag");
    let out = studydesk(&env_dir, &["info"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("data folder:  {}", env_dir.display())),
        "{text}"
    );

    let out = studydesk(
        &env_dir,
        &["--data-dir", flag_dir.to_str().unwrap(), "info"],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("data folder:  {}", flag_dir.display())),
        "{text}"
    );
}
