//! What a follow-up asks: the rubric point it probes, the term it names, and its wording (the
//! model's, checked, or a fixed one).

use std::sync::OnceLock;

use super::{LEAKS_POINT, Probe, ProbeReason};
use crate::bank::Bank;
use crate::llm::Message;
use crate::quiz::grade::{self, Grading, Verdict};
use crate::text::{Lang, excerpt};

/// The point a follow-up should probe, given the main answer's grading and the points probed
/// already: a contradicted point first, then a missed point named by a name or a concept;
/// `None` when the answer stated every point (move on), when it was blank or off-topic (an
/// interviewer moves on too), or when no point left has such a term to ask about.
pub fn choose_probe<'a>(
    question: &str,
    answer: &str,
    grading: &'a Grading,
    probed: &[&str],
) -> Option<Probe> {
    if grading.zero_reason.is_some() {
        return None;
    }
    let open = |verdict: Verdict| {
        grading
            .points
            .iter()
            .filter(move |p| p.verdict == verdict && !probed.contains(&p.text.as_str()))
    };
    // A wrong statement is challenged first; then the missed point whose term makes the best
    // question (a name or a glossary term before a plain word), from the sources first, the
    // one the answer came least close to first.
    let with_term = |p: &'a grade::RubricPoint| key_term(&p.text, question, answer).map(|t| (p, t));
    if let Some((point, term)) = open(Verdict::Contradicted).find_map(with_term) {
        return Some(Probe {
            point: point.text.clone(),
            n: point.n,
            term: term.word,
            reason: ProbeReason::Wrong,
        });
    }
    // A plain word makes a question about nothing ("what about 'improve'?"): a missed point
    // is asked about only by a name or a concept, else the interviewer moves on.
    let mut missed: Vec<(&grade::RubricPoint, KeyTerm)> = open(Verdict::Missed)
        .filter_map(with_term)
        .filter(|(_, term)| term.quality >= 1)
        .collect();
    missed.sort_by(|(a, ta), (b, tb)| {
        tb.quality
            .cmp(&ta.quality)
            .then(b.n.is_some().cmp(&a.n.is_some()))
            .then(
                a.coverage
                    .unwrap_or(0.0)
                    .total_cmp(&b.coverage.unwrap_or(0.0)),
            )
    });
    missed.into_iter().next().map(|(point, term)| Probe {
        point: point.text.clone(),
        n: point.n,
        term: term.word,
        reason: ProbeReason::Missed,
    })
}

/// A point's term to ask about, and how good a question it makes: 2 for a name (LoRA, RNNs),
/// 1 for a concept (an English term of the glossary, a Chinese word few bank questions use),
/// 0 for a plain word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTerm {
    pub word: String,
    pub quality: u8,
}

/// The term of a point a follow-up names: as the point writes it, not named by the question
/// nor already in the answer; a name (LoRA, KV, FlashAttention) before a concept before a
/// plain word, a word rare in the bank before a common one, a longer before a shorter.
pub fn key_term(point: &str, question: &str, answer: &str) -> Option<KeyTerm> {
    let lexicon = crate::lexical::Lexicon::shared();
    let known = grade::key_terms(point);
    let question_terms = grade::answer_terms(question);
    let answer_terms = grade::answer_terms(answer);
    let question_lower = question.to_lowercase();
    let answer_lower = answer.to_lowercase();
    let mut candidates: Vec<Candidate> = Vec::new();
    // Latin words and Chinese words, each as written.
    let mut words: Vec<String> = point
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_') || crate::text::is_han(c))
        .map(|w| w.trim_matches('-').to_string())
        .filter(|w| w.chars().count() >= 3)
        .collect();
    let mut rest = point;
    while let Some(start) = rest.find(crate::text::is_han) {
        let run: String = rest[start..]
            .chars()
            .take_while(|c| crate::text::is_han(*c))
            .collect();
        words.extend(
            lexicon
                .han_nouns(&run)
                .into_iter()
                .filter(|w| w.chars().count() >= 2 && !lexicon.is_stopword(w)),
        );
        rest = &rest[start + run.len()..];
    }
    for word in words {
        let lower = word.to_lowercase();
        if lexicon.is_stopword(&lower)
            || question_lower.contains(&lower)
            || answer_lower.contains(&lower)
        {
            continue;
        }
        let stems = grade::key_terms(&word);
        if stems
            .iter()
            .any(|t| grade::mentions(&question_terms, t) || grade::mentions(&answer_terms, t))
        {
            continue;
        }
        let is_name = word.chars().skip(1).any(|c| c.is_ascii_uppercase());
        let bank_frequency = bank_frequency(&lower);
        // A Chinese word few bank questions use is a concept ("方差"); the glossary, which
        // also lists question words ("计算", "区别"), only vouches for English ones.
        let specific = if word.chars().any(crate::text::is_han) {
            bank_frequency <= RARE_IN_BANK
        } else {
            stems.iter().any(|t| known.contains(t))
        };
        candidates.push(Candidate {
            quality: if is_name { 2 } else { u8::from(specific) },
            bank_frequency,
            length: word.chars().count(),
            word,
        });
    }
    candidates.sort_by(|a, b| {
        b.quality
            .cmp(&a.quality)
            .then(a.bank_frequency.cmp(&b.bank_frequency))
            .then(b.length.cmp(&a.length))
    });
    candidates.into_iter().next().map(|c| KeyTerm {
        quality: c.quality,
        word: c.word,
    })
}

/// A Chinese word at most this many bank questions use names a concept.
const RARE_IN_BANK: usize = 10;

struct Candidate {
    quality: u8,
    bank_frequency: usize,
    length: usize,
    word: String,
}

/// How many bank questions mention `word` (lower-cased): the bank's own vocabulary tells a
/// concept ("方差") from a word every question uses ("训练", "模型").
fn bank_frequency(word: &str) -> usize {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    TEXTS
        .get_or_init(|| {
            Bank::builtin()
                .questions()
                .map(|q| format!("{} {}", q.text, q.points.join(" ")).to_lowercase())
                .collect()
        })
        .iter()
        .filter(|text| text.contains(word))
        .count()
}

/// The model's messages for phrasing a missed point's follow-up.
pub fn follow_up_prompt(question: &str, answer: &str, probe: &Probe, lang: Lang) -> Vec<Message> {
    let language = match lang {
        Lang::Zh => "Chinese",
        Lang::En => "English",
    };
    vec![
        Message::system(
            "You are a technical interviewer for machine-learning engineering roles. You ask short, direct follow-up questions.",
        ),
        Message::user(format!(
            "Interview question: {question}\nCandidate's answer: {answer}\n\nThe answer did not cover this point: {point}\n\nWrite one short follow-up question in {language} that asks the candidate about \"{term}\", without revealing the point. Reply with the question only.",
            point = probe.point,
            term = probe.term,
        )),
    ]
}

/// The model's follow-up, if it is one question naming the term without giving the point away.
pub fn checked_follow_up(reply: &str, probe: &Probe) -> Option<String> {
    let line = reply
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())?
        .trim_matches(['"', '“', '”', '*'])
        .trim_start_matches("Follow-up question:")
        .trim()
        .to_string();
    let names_term = line.to_lowercase().contains(&probe.term.to_lowercase());
    let asks = line.ends_with('?') || line.ends_with('？');
    let short = line.chars().count() <= 220;
    let leaks =
        crate::eval::bigram_dice(&line.to_lowercase(), &probe.point.to_lowercase()) >= LEAKS_POINT;
    (names_term && asks && short && !leaks).then_some(line)
}

/// The fixed follow-up on a probe: a challenge quoting the learner for a wrong statement, a
/// question about the term for a missed point.
pub fn fixed_follow_up(probe: &Probe, answer: &str, lang: Lang) -> String {
    let term = &probe.term;
    match (probe.reason, lang) {
        (ProbeReason::Wrong, Lang::Zh) => format!(
            "你说“{}”。确定吗？再想想{term}：实际情况是怎样的？",
            excerpt(&grade::closest_clause(answer, &probe.point), 80)
        ),
        (ProbeReason::Wrong, Lang::En) => format!(
            "You said “{}”. Are you sure? Think again about {term}: what is actually the case?",
            excerpt(&grade::closest_clause(answer, &probe.point), 80)
        ),
        (ProbeReason::Missed, Lang::Zh) => {
            format!("你还没有提到{term}。它在这里起什么作用？")
        }
        (ProbeReason::Missed, Lang::En) => {
            format!("You did not mention {term}. What role does it play here?")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_term_is_the_points_concept_not_a_word_every_question_uses() {
        let term = key_term(
            "LayerNorm 在训练时对每个样本的所有特征计算均值和方差。",
            "LayerNorm 的原理是什么？",
            "对每个样本做归一化。",
        )
        .unwrap();
        assert!(["均值", "方差"].contains(&term.word.as_str()), "{term:?}");
        let term = key_term(
            "We show that layer normalization works well for RNNs and improves the training time.",
            "LayerNorm 有哪些优势？",
            "它不依赖 batch。",
        )
        .unwrap();
        assert_eq!(
            term,
            KeyTerm {
                word: "RNNs".into(),
                quality: 2
            }
        );
        // Nothing left to ask about when the answer and the question say it all.
        assert_eq!(
            key_term("LayerNorm 归一化", "LayerNorm 是什么", "归一化"),
            None
        );
    }

    #[test]
    fn a_follow_up_must_name_the_term_and_not_give_the_point_away() {
        let probe = Probe {
            point: "Layer normalization computes the mean and variance over all the hidden units of a layer.".into(),
            n: Some(1),
            term: "variance".into(),
            reason: ProbeReason::Missed,
        };
        assert_eq!(
            checked_follow_up("What does the variance tell you here?\n", &probe).as_deref(),
            Some("What does the variance tell you here?")
        );
        assert_eq!(
            checked_follow_up("Why is it useful?", &probe),
            None,
            "no term"
        );
        assert_eq!(
            checked_follow_up(
                "Does layer normalization compute the mean and variance over all the hidden units of a layer?",
                &probe
            ),
            None,
            "gives the point away"
        );
        assert!(fixed_follow_up(&probe, "", Lang::En).contains("variance"));
    }
}
