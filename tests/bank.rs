//! The question bank parsed from the real built-in file.

use studydesk_engine::bank::{BUILTIN_TEXT, Bank, BankError};

fn topic_by_title<'a>(bank: &'a Bank, prefix: &str) -> &'a studydesk_engine::bank::Topic {
    bank.topics
        .iter()
        .find(|t| t.title.starts_with(prefix))
        .unwrap_or_else(|| panic!("no topic titled {prefix}…"))
}

#[test]
fn has_35_topics_and_949_questions() {
    let bank = Bank::builtin();
    assert_eq!(bank.title, "小黄搞AI-大模型面试目录");
    assert_eq!(bank.topics.len(), 35);
    assert_eq!(bank.topics[0].title, "Normalization面试清单(20题)");
    assert_eq!(bank.topics[34].title, "思维链(COT)");
    assert_eq!(bank.questions().count(), 949);
}

#[test]
fn per_topic_counts_match_the_source() {
    let bank = Bank::builtin();
    for (prefix, count, declared) in [
        ("Normalization", 20, Some(20)),
        ("激活函数", 22, Some(22)),
        ("Attention", 25, Some(25)),
        ("LoRA系列篇", 39, Some(39)),
        ("大模型(LLMs)分布式训练面", 92, None),
        // The source repeats 41 and 42, so the RAG topic holds 50 items for a declared 48.
        ("大模型RAG面", 50, Some(48)),
        ("大模型推理面", 24, Some(24)),
        ("LLMs Tokenizer", 25, None),
        ("思维链", 31, None),
    ] {
        let topic = topic_by_title(bank, prefix);
        assert_eq!(topic.questions.len(), count, "{}", topic.title);
        assert_eq!(topic.declared_count, declared, "{}", topic.title);
    }
}

#[test]
fn numbering_restarts_per_topic_and_duplicates_are_kept() {
    let bank = Bank::builtin();
    for topic in &bank.topics {
        assert_eq!(topic.questions[0].number, 1, "{}", topic.title);
    }
    let rag = topic_by_title(bank, "大模型RAG面");
    let numbers: Vec<u32> = rag.questions.iter().map(|q| q.number).collect();
    assert_eq!(numbers.iter().filter(|&&n| n == 41).count(), 2);
    assert_eq!(numbers.iter().filter(|&&n| n == 42).count(), 2);
}

#[test]
fn questions_keep_subsections_and_points() {
    let bank = Bank::builtin();
    let q = bank.question("t01-q001").unwrap();
    assert_eq!(q.text, "LayerNorm的计算公式是什么?它的原理是什么?");
    assert_eq!(q.subsection.as_deref(), Some("LayerNorm 基础理论"));
    assert!(q.points.is_empty());

    // Indented sub-bullets with stacked glyphs ("- 。 …") become clean points.
    let rl = topic_by_title(bank, "大模型(LLMs)强化学习面");
    let q = &rl.questions[1];
    assert_eq!(q.text, "强化学习的核心组成部分是什么?");
    assert_eq!(q.points.len(), 5);
    assert_eq!(q.points[1], "动作空间(Action Spaces): 离散与连续的区别?");

    // A question written without a leading "-" still counts.
    let langchain = topic_by_title(bank, "LangChain");
    let q = langchain.questions.iter().find(|q| q.number == 5).unwrap();
    assert!(q.text.starts_with("什么是LangChain Model?"), "{}", q.text);
    assert_eq!(q.subsection.as_deref(), Some("LangChain 基础知识"));

    // Unmarked lines between questions (bullets the extractor lost) are points, not headings.
    let eval = topic_by_title(bank, "大模型(LLMs)评测面");
    let q = &eval.questions[2];
    assert!(q.text.starts_with("大模型常见的评估方法有哪些?"));
    assert!(
        q.points.iter().any(|p| p.starts_with("任务导向评估")),
        "{:?}",
        q.points
    );
    assert_eq!(
        eval.questions[3].subsection.as_deref(),
        Some("大模型评估工具")
    );

    // Positional encoding: RoPE subsection, and indented points under question 21.
    let pe = topic_by_title(bank, "LLMs位置编码篇");
    let q = pe.questions.iter().find(|q| q.number == 21).unwrap();
    assert_eq!(q.subsection.as_deref(), Some("长度外推问题"));
    assert_eq!(
        q.points,
        [
            "Sinusoidal编码的特性",
            "RoPE对长度外推的适应性",
            "ALiBi如何改进长度外推性?"
        ]
    );
}

#[test]
fn page_break_noise_is_dropped() {
    let bank = Bank::builtin();
    for q in bank.questions() {
        assert!(!q.text.is_empty());
        for p in &q.points {
            assert!(!p.is_empty() && p != "0", "{}: {p:?}", q.id);
        }
    }
}

#[test]
fn ids_are_readable_unique_and_stable() {
    let bank = Bank::builtin();
    let again = Bank::parse(BUILTIN_TEXT, "again").unwrap();
    assert_eq!(bank, &again);
    let mut ids: Vec<&str> = bank.questions().map(|q| q.id.as_str()).collect();
    assert_eq!(ids[0], "t01-q001");
    assert_eq!(bank.topics[8].questions[49].id, "t09-q050");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 949);
    for topic in &bank.topics {
        for q in &topic.questions {
            assert!(q.id.starts_with(&format!("{}-q", topic.id)));
            assert_eq!(q.topic_id, topic.id);
        }
    }
}

#[test]
fn malformed_banks_give_clear_errors() {
    let dir = std::env::temp_dir().join(format!("studydesk-bank-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "\n\n  \n").unwrap();
    let err = Bank::from_path(&empty).unwrap_err();
    assert!(matches!(err, BankError::Empty { .. }), "{err}");
    assert!(err.to_string().contains("empty.txt"));

    let binary = dir.join("bank.bin");
    std::fs::write(&binary, [0x89, b'P', b'N', b'G', 0, 0xff, 0xfe]).unwrap();
    let err = Bank::from_path(&binary).unwrap_err();
    assert!(matches!(err, BankError::NotText { .. }), "{err}");
    assert!(err.to_string().contains("bank.bin"));

    let prose = dir.join("prose.txt");
    std::fs::write(
        &prose,
        "A title\n\nJust some prose.\nNo numbered questions here.\n",
    )
    .unwrap();
    let err = Bank::from_path(&prose).unwrap_err();
    assert!(matches!(err, BankError::NoTopics { .. }), "{err}");

    let missing = dir.join("missing.txt");
    let err = Bank::from_path(&missing).unwrap_err();
    assert!(matches!(err, BankError::Read { .. }));
    assert!(err.to_string().contains("missing.txt"));

    std::fs::remove_dir_all(&dir).unwrap();
}
