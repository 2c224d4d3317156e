"""Evol-Instruct's parsing, no teacher: messy rewrites, leaked prompt text, the judge's equal/not-equal
verdict and the answer rules of the four elimination rules (WizardLM sec. 3.2)."""
from __future__ import annotations

import pytest

from datagen.methods.evol_instruct import parse as P

# ---- parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ('Rewritten Prompt: "Name three red fruits."', "Name three red fruits."),
    ("**New task:** Explain photosynthesis to a child.\n\nExplanation: I added an audience.",
     "Explain photosynthesis to a child."),
    ("Here is the rewritten prompt:\n\nDescribe the water cycle in 50 words.", "Describe the water cycle in 50 words."),
    ("#Rewritten Prompt#:\nList two prime numbers above 100.", "List two prime numbers above 100."),
    ("```\nWrite a haiku about rain.\n```", "Write a haiku about rain."),
    ("NEW TASK: “Summarize the article in three bullet points.” (Note: I added a format.)",
     "Summarize the article in three bullet points."),
    ("## Evolved instruction\n\nCompare wind and solar power for a small island.",
     "Compare wind and solar power for a small island."),
    ("Compute the mean.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nThis rewritten task adds a table.",
     "Compute the mean.\n\n| a | b |\n|---|---|\n| 1 | 2 |"),
    ("What year did it end?\n\nThis is a classic problem that needs several steps.", "What year did it end?"),
    ('Translate "hello" into French.', 'Translate "hello" into French.'),
    ('"Cats" and "dogs": which sleep more?', '"Cats" and "dogs": which sleep more?'),
    ("Version control: explain what a commit is.", "Version control: explain what a commit is."),
    ("", None), ("***", None), ('"  "', None), ("New task:", None),
])
def test_parse_rewrite(raw, expected):
    assert P.parse_rewrite(raw) == expected


@pytest.mark.parametrize("text, reason", [
    ("Rewrite the #Given Prompt# so it is harder.", "prompt_leak"),
    ("Make the given prompt longer.", "prompt_leak"),
    ("Explain tides. #Created Prompt#", "prompt_leak"),
    ("ORIGINAL TASK: Explain tides.", "prompt_leak"),       # our own template's marker
    ("Explain tides to a ten-year-old in two sentences.", None),
    ("Write a prompt for an image model that shows a lighthouse.", None),
])
def test_leak_reason(text, reason):
    assert P.leak_reason(text) == reason


def test_leak_extra_markers():
    assert P.leak_reason("Per the SOURCE TEXT, list...") is None
    assert P.leak_reason("Per the SOURCE TEXT, list...", ("source text",)) == "prompt_leak"


@pytest.mark.parametrize("text, verdict", [
    ("Equal", True), ("equal.", True), ("They are the same.", True), ("Yes", True),
    ("Not Equal", False), ("Different", False), ("not the same", False), ("No.", False),
    ("The tasks are not equal because B adds a limit.", False),
    ("The answer is equal or different.", None), ("The task is not only different but also", False),
    ("banana", None), ("", None), (None, None),
])
def test_parse_equal(text, verdict):
    assert P.parse_equal(text) is verdict


LONG_SORRY = "Sorry for the wait. " + "Tides are caused by the moon's gravity pulling on the oceans. " * 9


@pytest.mark.parametrize("answer, reason", [
    ("Sorry, I can't help with that.", "answer_refusal"),
    ("I apologize, but I cannot answer.", "answer_refusal"),
    (LONG_SORRY, None),                          # >= 80 words: a real answer (WizardLM sec. 3.2)
    ("The, and of it!", "answer_only_stopwords"),
    ("... ?!", "answer_only_stopwords"),
    ("The moon pulls the sea.", None),
    ("42", None),
])
def test_answer_reason(answer, reason):
    assert P.answer_reason(answer) == reason


def test_stats_helpers():
    assert P.distinct_n(["a b c", "a b d"]) == 0.75
    assert P.distinct_n([]) == 0.0
    assert P.length_stats(["a b", "c"]) == {"words_mean": 1.5, "words_median": 1.5}
    assert P.mean_pairwise_rouge_l(["a b", "a b"]) == 1.0 and P.mean_pairwise_rouge_l(["a"]) is None
    assert P.mean_pairwise_rouge_l(["a b", "c d", "a d"]) == round((0 + 0.5 + 0.5) / 3, 4)
