"""IFEval-style constraints: every kind passes and fails where it should, the edge cases (unicode,
the empty answer, JSON in code fences), loose vs strict scoring, and argument validation."""
import pytest

from datagen.errors import DatagenError
from datagen.evaluation.constraints import KINDS, check, loose_variants, score, validate

YNM = ["My answer is yes.", "My answer is no.", "My answer is maybe."]

# kind, args, an answer that passes, an answer that fails
CASES = [
    ("word_count", {"relation": "at_most", "n": 5}, "One two three four five.", "One two three four five six."),
    ("word_count", {"relation": "at_least", "n": 3}, "Well-known facts don't lie.", "Two words"),
    ("word_count", {"relation": "exactly", "n": 2}, "café naïve", "café naïve crème"),
    ("sentence_count", {"relation": "at_most", "n": 2}, "Dr. Smith came. He left at 3.30 pm!", "One. Two. Three."),
    ("sentence_count", {"relation": "exactly", "n": 3}, "Hi... Really? Yes.", "Just one sentence here."),
    ("paragraph_count", {"n": 3}, "First.\n\nSecond.\n***\nThird.", "First.\nStill first.\n\nSecond."),
    ("include_keywords", {"keywords": ["ice cream", "Sun"]}, "I ate Ice  cream in the sun.", "Nice creams in the sunshine."),
    ("forbidden_words", {"words": ["cat"]}, "A category of dogs.", "My Cat sleeps."),
    ("keyword_frequency", {"keyword": "tilt", "relation": "at_least", "n": 2}, "Tilt, tilt!", "The tilt is tilted."),
    ("keyword_frequency", {"keyword": "heater", "relation": "at_most", "n": 1}, "The heater broke.", "heater heater"),
    ("letter_frequency", {"letter": "z", "relation": "at_least", "n": 3}, "Zebras zoom zigzag.", "A zebra."),
    ("capital_word_frequency", {"relation": "at_least", "n": 2}, "Do it NOW, RIGHT now.", "I am A runner, NOW."),
    ("capital_word_frequency", {"relation": "at_most", "n": 0}, "I liked it a lot.", "It was GREAT."),
    ("json_format", {}, '{"cause": "plates", "effects": ["waves"]}', "cause: plates"),
    ("bullet_points", {"n": 2}, "Intro\n* one\n- two\n***", "* one\n* two\n* three"),
    ("title", {}, "<<A Day at Sea>>\nWaves.", "<< >> no title here"),
    ("section_count", {"n": 2, "splitter": "SECTION"}, "SECTION 1\nIngredients\n## Section 2\nSteps", "SECTION 1\nAll of it."),
    ("section_count", {"n": 3, "splitter": "Day"}, "Day 1: Forum\nDay 2: Vatican\nDay 3: Trastevere", "Day 1 and Day 2"),
    ("placeholder_count", {"n": 2}, "Meet at [address] on [date].", "See [the docs](http://x.org) on [date]."),
    ("highlight_count", {"n": 2}, "A *key* idea and a **bold** one.", "* a bullet with *one* highlight\n* another"),
    ("postscript", {"marker": "P.S."}, "Bye!\n\n**P.S.** Bring snacks.", "I wrote P.S. in the middle."),
    ("postscript", {"marker": "P.P.S"}, "Love,\nAnn\np.p.s don't forget", "Love,\nAnn\nP.S. don't forget"),
    ("two_responses", {}, "Bubbles\n******\nGoldie", "Bubbles\n******\nBubbles"),
    ("answer_from_options", {"options": YNM}, "My answer is no. Penguins swim.", "My answer is yes. My answer is no."),
    ("lowercase", {}, "all quiet here, café.", "All quiet here."),
    ("uppercase", {}, "LOST CAT! CALL 555-0100.", "LOST CAT! Call me."),
    ("no_commas", {}, "No commas at all.", "Well, no."),
    ("starts_with", {"phrase": "Dear"}, "  dear Sam,\nhello", "Hello Sam, dear."),
    ("ends_with", {"phrase": "Any other questions?"}, "That is all. Any other  questions? \n", "Any other questions? Bye."),
    ("quotation", {}, '"Happy birthday, Grandma!"', 'Happy birthday, "Grandma!"'),
    ("quotation", {}, "“Curly quotes count too.”", '""'),
    ("repeat_prompt", {"prompt_to_repeat": "Explain why cats purr."}, "Explain why cats  purr. Cats purr when calm.",
     "Sure! Explain why cats purr. They purr."),
]


def test_cases_cover_every_kind():
    assert {c[0] for c in CASES} == set(KINDS)
    assert len(KINDS) >= 18


@pytest.mark.parametrize("kind, args, good, bad", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_kind_passes_and_fails(kind, args, good, bad):
    assert check(kind, good, args) is True
    assert check(kind, bad, args) is False


def test_unicode_words_and_letters():
    assert check("word_count", "Über naïve café façade", {"relation": "exactly", "n": 4})
    assert check("letter_frequency", "Éé é e", {"letter": "é", "relation": "exactly", "n": 3})
    assert check("include_keywords", "Wir aßen Crème brûlée.", {"keywords": ["crème BRÛLÉE"]})
    assert not check("forbidden_words", "l'été est là", {"words": ["été"]})
    assert not check("uppercase", "STRASSE ß", {})  # ß is a lowercase letter
    assert check("no_commas", "日本語、ok", {}) and not check("no_commas", "中文，逗号", {})


@pytest.mark.parametrize("kind, args, expected", [
    ("word_count", {"relation": "at_least", "n": 1}, False),
    ("word_count", {"relation": "at_most", "n": 50}, True),
    ("sentence_count", {"relation": "at_least", "n": 1}, False),
    ("paragraph_count", {"n": 1}, False),
    ("bullet_points", {"n": 1}, False),
    ("include_keywords", {"keywords": ["x"]}, False),
    ("forbidden_words", {"words": ["x"]}, True),
    ("no_commas", {}, True),
    ("json_format", {}, False),
    ("quotation", {}, False),
    ("two_responses", {}, False),
    ("title", {}, False),
    ("starts_with", {"phrase": "Dear"}, False),
])
def test_empty_answer_checkers(kind, args, expected):
    assert check(kind, "", args) is expected
    assert check(kind, "  \n ", args) is expected


def test_empty_answer_scores_nothing():
    # A blank answer follows no instruction, even the vacuously true ones (as in IFEval's evaluation).
    result = score([("no_commas", {}), ("word_count", {"relation": "at_most", "n": 5})], " \n")
    assert result == {"strict": [False, False], "loose": [False, False]}


@pytest.mark.parametrize("answer, ok", [
    ('```json\n{"a": [1, 2]}\n```', True),
    ('  ```JSON\n[{"a": 1}]\n```  ', True),
    ('```\n{"a": 1}\n```', True),
    ('{"a": 1}\n\nHope this helps!', False),
    ('Here is the JSON:\n```json\n{"a": 1}\n```', False),
    ('```json\n{"a": 1,}\n```', False),
    ("42", False),  # valid JSON, but not the structured answer that was asked for
    ('"just a string"', False),
])
def test_json_fences_and_trailing_prose(answer, ok):
    assert check("json_format", answer, {}) is ok


def test_loose_variants_are_the_papers_eight():
    answer = "Sure, here it is:\n*Dear* Sam,\nHope it helps!"
    assert loose_variants(answer) == [
        answer,
        "Sure, here it is:\nDear Sam,\nHope it helps!",
        "*Dear* Sam,\nHope it helps!",
        "Dear Sam,\nHope it helps!",
        "Sure, here it is:\n*Dear* Sam,",
        "Sure, here it is:\nDear Sam,",
        "*Dear* Sam,",
        "Dear Sam,",
    ]
    assert loose_variants("one line") == ["one line"]  # removing its only line leaves nothing to check


def test_loose_passes_where_strict_fails():
    constraints = [("starts_with", {"phrase": "Dear Sam"}), ("no_commas", {}),
                   ("ends_with", {"phrase": "Best wishes"}), ("lowercase", {})]
    answer = "Sure, here it is:\n**Dear Sam** thanks for the help.\nBest wishes\nHope it helps!"
    result = score(constraints, answer)
    assert result["strict"] == [False, False, False, False]
    assert result["loose"] == [True, True, True, False]
    assert check("starts_with", "Dear Sam hi", {"phrase": "Dear Sam"})  # the same text, strictly


def test_loose_json_with_an_outro_line():
    answer = '```json\n{"steps": ["vote"]}\n```\nLet me know if you need more.'
    assert score([("json_format", {})], answer) == {"strict": [False], "loose": [True]}


def test_score_strict_matches_check_and_loose_never_below_strict():
    answer = "SECTION 1\nhello, world\nSECTION 2\n*P.S.* bye"
    constraints = [(k, a) for k, a, _, _ in CASES]
    result = score(constraints, answer)
    assert result["strict"] == [check(k, answer, a) for k, a in constraints]
    assert all(loose or not strict for strict, loose in zip(result["strict"], result["loose"]))
    assert len(result["loose"]) == len(constraints)


def test_validate_returns_typed_args_with_defaults():
    assert validate("section_count", {"n": 2}, "here") == {"n": 2, "splitter": "SECTION"}
    assert validate("postscript", {}, "here") == {"marker": "P.S."}
    assert validate("letter_frequency", {"letter": "Z", "relation": "at_least", "n": 1}, "here")["letter"] == "z"
    assert validate("include_keywords", {"keywords": [" sun "]}, "here") == {"keywords": ("sun",)}


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(DatagenError, match=r"^prompt 7: unknown constraint kind 'word_cont' \(valid kinds: .*word_count"):
        validate("word_cont", {}, "prompt 7")
    with pytest.raises(DatagenError, match="unknown constraint kind"):
        check("nope", "answer", {})


@pytest.mark.parametrize("kind, args, match", [
    ("word_count", {"n": 5}, "needs argument 'relation'"),
    ("word_count", {"relation": "at_most"}, "needs argument 'n'"),
    ("word_count", {"relation": "fewer", "n": 5}, "'relation' must be one of at_least, at_most, exactly"),
    ("word_count", {"relation": "at_most", "n": -1}, "'n' must be an integer from 0"),
    ("word_count", {"relation": "at_most", "n": "50"}, "'n' must be an integer"),
    ("word_count", {"relation": "at_most", "n": 10**9}, "'n' must be an integer from 0 to 100000"),
    ("bullet_points", {"n": 0}, "'n' must be an integer from 1"),
    ("no_commas", {"strict": True}, "no_commas does not take 'strict'"),
    ("word_count", {"relation": "at_most", "n": 5, "num": 5}, r"does not take 'num' \(its arguments: relation, n\)"),
    ("letter_frequency", {"letter": "ab", "relation": "at_least", "n": 1}, "'letter' must be a single letter"),
    ("include_keywords", {"keywords": "sun"}, "'keywords' must be a list"),
    ("include_keywords", {"keywords": ["sun", ""]}, "non-empty strings"),
    ("answer_from_options", {"options": ["yes"]}, "at least 2"),
    ("starts_with", {"phrase": "  "}, "'phrase' must be a non-empty string"),
    ("word_count", ["at_most", 5], "must be an object"),
])
def test_bad_args_are_clear_errors(kind, args, match):
    with pytest.raises(DatagenError, match=match) as info:
        validate(kind, args, "eval set x.jsonl line 4")
    assert str(info.value).startswith("eval set x.jsonl line 4: ")


def test_every_kind_is_described():
    for name, kind in KINDS.items():
        assert kind.name == name and kind.description and callable(kind.checker)
        assert name == name.lower() and " " not in name
