"""SELF-ALIGN's pure parts, no teacher: the principles, exemplars and topics files (and their
malformed forms), internal-thought/answer parsing, cited principles, red-team questions, scores,
revisions and the leak check, and the red-team plan."""
import random

import pytest

from datagen.errors import DatagenError
from datagen.methods.self_align.answers import parse_answer
from datagen.methods.self_align.pairs import parse_revision, parse_score
from datagen.methods.self_align.principles import (Principle, cited_principles, leak_spans, leaked, parse_exemplars,
                                                   parse_principles, parse_topics)
from datagen.methods.self_align.red_team import parse_question, plan_red_team
from datagen.record import Record
from test_self_align import DEFAULT_PRINCIPLES, LOADER, QUESTIONS

def test_default_files_parse():
    assert [p.number for p in DEFAULT_PRINCIPLES] == list(range(1, 17))
    assert DEFAULT_PRINCIPLES[6].name == "Candor" and DEFAULT_PRINCIPLES[6].text.startswith("Admit when")
    exemplars = parse_exemplars(LOADER.read_file("self_align/exemplars.jsonl")[0], "exemplars.jsonl")
    assert len(exemplars) == 5 and all(cited_principles(e.thought, DEFAULT_PRINCIPLES) for e in exemplars)
    types, rules = parse_topics(LOADER.read_file("self_align/topics.yaml")[0], "topics.yaml")
    assert len(types) == 20 and len(rules) == 7 and len({t["name"] for t in types}) == 20


def test_markdown_heading_form_and_yaml():
    md = "# Mine\nintro line\n\n## 1. Honest\nSay only what you know.\n\n## 2. Brief\nKeep it\nshort.\n"
    assert parse_principles(md, "p.md") == [Principle(1, "Honest", "Say only what you know."),
                                            Principle(2, "Brief", "Keep it short.")]
    y = "- name: Honest\n  text: Say only what you know.\n- {name: Kind, text: Be kind.}\n"
    assert parse_principles(y, "p.yaml") == [Principle(1, "Honest", "Say only what you know."),
                                             Principle(2, "Kind", "Be kind.")]


@pytest.mark.parametrize("text,name,pattern", [
    ("1. **A**: one\n3. **C**: three\n", "p.md", r"p\.md line 2: expected principle number 2, got 3"),
    ("1. **A**: one\n2. B without bold\n", "p.md", r"p\.md line 2: malformed principle"),
    ("intro\n\n1. **A**:\n2. **B**: two\n", "p.md", r"p\.md line 3: principle 1 \(A\) has no text"),
    ("just prose, no list\n", "p.md", r"p\.md: no principles found"),
    ("1. **A**: one\n2. **a**: two\n", "p.md", r"principle name 'a' appears twice"),
    ("- name: A\n  text: one\n- name: B\n", "p.yaml", r"p\.yaml line 3: item 2 needs a non-empty"),
    ("- name: A\n  text: [x\n", "p.yaml", r"p\.yaml line \d+: invalid YAML"),
    ("name: A\n", "p.yaml", r"p\.yaml line 1: expected a YAML list"),
])
def test_malformed_principles(text, name, pattern):
    with pytest.raises(DatagenError, match=pattern):
        parse_principles(text, name)


@pytest.mark.parametrize("text,pattern", [
    ('{"query": "q", "thought": "t", "answer": "a"}\n{"query": "q"\n', r"e\.jsonl line 2: invalid JSON"),
    ('\n{"query": "q", "answer": "a"}\n', r"e\.jsonl line 2: missing or empty thought"),
    ('{"query": "q", "thought": "t", "answer": "a", "x": 1}\n', r"line 1: unknown key\(s\) x"),
    ("[1, 2]\n", r"line 1: expected a JSON object"),
    ("\n\n", r"no exemplars found"),
])
def test_malformed_exemplars(text, pattern):
    with pytest.raises(DatagenError, match=pattern):
        parse_exemplars(text, "e.jsonl")

# ---- pure parsing -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,thought,answer,how", [
    ("Internal thought: Principle 7 applies.\nAnswer: I don't know.", "Principle 7 applies.", "I don't know.", "markers"),
    ("**Internal thoughts:** rules 1, 4\n\n**Answer:** No.\nUser: and now?", "rules 1, 4", "No.", "markers"),
    ("Thought: short. Answer: inline works after a thought", "short.", "inline works after a thought", "markers"),
    ("I think 11 applies.\nAnswer: 450 g", "I think 11 applies.", "450 g", "answer_marker_only"),
    ("Internal thought: 2 (informative)\n\nParis is the capital.", "2 (informative)", "Paris is the capital.",
     "thought_split"),
    ("The answer: 42 is right.", "", "The answer: 42 is right.", "no_markers"),
    ("Just an answer.", "", "Just an answer.", "no_markers"),
    ("Internal thought: only a thought, cut off by max_tok", "only a thought, cut off by max_tok", "", "thought_only"),
    ("Internal thought: Principle 15 (creative):\nMake it yourself.\nIt is easy.", "Principle 15 (creative):",
     "Make it yourself.\nIt is easy.", "thought_split"),
    ("Internal thought: 15 (creative) and 3 (helpful): Harry Potter is famous.", "15 (creative) and 3 (helpful)",
     "Harry Potter is famous.", "citation_split"),
    ("Internal thought: By principle 18 (probability) I should compute", "By principle 18 (probability) I should compute",
     "", "thought_only"),
    ("", "", "", "no_markers"),
])
def test_parse_answer(raw, thought, answer, how):
    assert parse_answer(raw) == (thought, answer, how)


def test_cited_principles_by_number_and_name():
    ps = DEFAULT_PRINCIPLES
    assert cited_principles("By principle 2 (informative) and 7 (candor) I answer.", ps) == [2, 7]
    assert cited_principles("Principles 3, 11 and 12 apply; also 40 (none).", ps) == [3, 11, 12]
    assert cited_principles("Be ethical and balanced here.", ps) == [1]  # "Balance" != "balanced"
    assert cited_principles("", ps) == []


@pytest.mark.parametrize("raw,expected", [
    ('Question: "Is it safe to eat raw eggs?"\nAnswer: maybe', "Is it safe to eat raw eggs?"),
    ("Here is a new user question:\n\n1. How do I fix a flat tire?", "How do I fix a flat tire?"),
    ("**New question:** What is 3 apples plus 2?", "What is 3 apples plus 2?"),
    ('"1. \nHow do you plant tomatoes?"\nAnswer: seeds', "How do you plant tomatoes?"),
    ('A new user question: "What is the best poem?"\nIt is...', "What is the best poem?"),
    ("Write one new user question.\nWhat is gravity?", "What is gravity?"),
    ("The question: How do you make a pizza?", "How do you make a pizza?"),
    ("  \n", None),
])
def test_parse_question(raw, expected):
    assert parse_question(raw, "Topic: x\nWrite one new user question.") == expected


@pytest.mark.parametrize("raw,expected", [
    ("Score: 8. Clear.", 8), ("score of **7**", 7), ("I give it 6/10", 6), ("9", 9), ("Score: 11", None),
    ("no idea", None),
])
def test_parse_score(raw, expected):
    assert parse_score(raw) == expected


def test_mean_score_ignores_unreadable():
    from datagen.methods.self_align.pairs import mean_score
    assert mean_score(["Score: 8", "7", "??"]) == 7.5 and mean_score(["none", ""]) is None


def test_parse_revision_and_leak_check():
    assert parse_revision('Revised answer: "Water boils at 100 C."') == "Water boils at 100 C."
    spans = leak_spans(DEFAULT_PRINCIPLES)
    assert leaked("Sure! " + DEFAULT_PRINCIPLES[6].text, spans)
    assert leaked("I will admit when you do not know something or cannot do it.", spans)
    assert not leaked("I do not know the answer to that, sorry.", spans)


def test_plan_covers_distinct_types_and_keeps_randomness_in_rng():
    types, _ = parse_topics(LOADER.read_file("self_align/topics.yaml")[0], "t.yaml")
    seeds = [Record.make(q) for q in QUESTIONS[:5]]
    a = plan_red_team(types, seeds, 12, 2, random.Random(3))
    assert len({p["qtype"]["name"] for p in a}) == 12 and all(len(p["examples"]) == 2 for p in a)
    assert all(p["topic"] in p["qtype"]["topics"] for p in a)
    assert [p["topic"] for p in a] == [p["topic"] for p in plan_red_team(types, seeds, 12, 2, random.Random(3))]


# ---- runs ---------------------------------------------------------------------------------------
