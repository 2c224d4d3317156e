"""The constraint library (datagen.constraints): every kind passes and fails where it should, the edge
cases (unicode, the empty answer, JSON in code fences), loose vs strict scoring, and argument validation."""
import pytest

from datagen.constraints import KINDS, Constraint, check, loose_variants, score, validate
from datagen.errors import DatagenError

YNM = ["My answer is yes.", "My answer is no.", "My answer is maybe."]
EN = "the weather was calm this morning and we walked along the river before breakfast"

# kind, args, an answer that passes, an answer that fails
CASES = [
    ("word_count", {"relation": "at_most", "n": 5}, "One two three four five.", "One two three four five six."),
    ("word_count", {"relation": "less_than", "n": 3}, "Two words", "Don't go"),  # "Don't" is two words (\w+)
    ("word_count", {"relation": "exactly", "n": 2}, "café naïve", "café naïve crème"),
    ("sentence_count", {"relation": "at_most", "n": 2}, "Dr. Smith came. He left at 3.30 pm!", "One. Two. Three."),
    ("sentence_count", {"relation": "exactly", "n": 3}, "Hi... Really? Yes.", "A heading\nand its text. One more."),
    ("paragraph_count", {"n": 3}, "First.\n***\nSecond.\n* * *\n***\nThird.", "First.\n\nSecond.\n\nThird."),
    ("paragraph_count", {"n": 2, "separator": "blank_line"}, "First.\n\nSecond.", "First.\n***\nSecond."),
    ("nth_paragraph_first_word", {"n": 2, "nth": 2, "first_word": "however"}, "Cats nap.\n\n\"However, dogs run.\"",
     "Cats nap.\n\nDogs run, however."),
    ("include_keywords", {"keywords": ["ice cream", "Sun"]}, "I ate Ice cream in the sunshine.", "Ice  cream, shade."),
    ("forbidden_words", {"words": ["cat"]}, "A category of dogs.", "My Cat sleeps."),
    ("keyword_frequency", {"keyword": "tilt", "relation": "at_least", "n": 2}, "Tilt, tilted!", "The tilt is here."),
    ("keyword_frequency", {"keyword": "heater", "relation": "less_than", "n": 2}, "The heater broke.", "heater heaters"),
    ("letter_frequency", {"letter": "z", "relation": "at_least", "n": 3}, "Zebras zoom zigzag.", "A zebra."),
    ("letter_frequency", {"letter": "#", "relation": "at_least", "n": 2}, "#one #two", "#one"),
    ("capital_word_frequency", {"relation": "at_least", "n": 3}, "I am A runner, NOW.", "Do it NOW, right now."),
    ("capital_word_frequency", {"relation": "less_than", "n": 1}, "it was fine.", "I liked it."),
    ("response_language", {"language": "fr"}, "Le chat dort sur le canapé pendant que nous mangeons le dîner.",
     "The cat sleeps on the sofa while we eat dinner together."),
    ("json_format", {}, '{"cause": "plates", "effects": ["waves"]}', "cause: plates"),
    ("bullet_points", {"n": 2}, "Intro\n* one\n- two\n***", "* one\n* two\n* three"),
    ("title", {}, "<<A Day at Sea>>\nWaves.", "< <no title> > here"),
    ("section_count", {"n": 2, "splitter": "SECTION"}, "SECTION 1\nA\nSECTION 2\nB\nSECTION 3\nC", "Section 1\nSection 2"),
    ("placeholder_count", {"n": 2}, "Meet at [address] on [date].", "Meet on [date]."),
    ("highlight_count", {"n": 2}, "A *key* idea and a **bold** one.", "Just *one* highlight and ** **."),
    ("postscript", {"marker": "P.S."}, "Bye!\n\nP. S. Bring snacks.", "Bye, and bring snacks."),
    ("postscript", {"marker": "P.P.S"}, "Love,\nAnn\np.p.s don't forget", "Love,\nAnn\nP.S. don't forget"),
    ("two_responses", {}, "******\nBubbles\n******\nGoldie", "Bubbles\n******\nBubbles"),
    ("answer_from_options", {"options": YNM}, "My answer is no. Penguins swim.", "my answer is no."),
    ("lowercase", {}, EN + ".", "All quiet here, " + EN),
    ("uppercase", {}, EN.upper() + "!", EN.upper() + " and then we ate."),
    ("no_commas", {}, "No commas at all.", "Well, no."),
    ("starts_with", {"phrase": "Dear"}, "  dear Sam,\nhello", "Hello Sam, dear."),
    ("ends_with", {"phrase": "Any other questions?"}, "That is all. Any other questions? \n", "Any other questions? Bye."),
    ("quotation", {}, '"Happy birthday, Grandma!"', 'Happy birthday, "Grandma!"'),
    ("repeat_prompt", {"prompt_to_repeat": "Explain why cats purr."}, "explain why cats purr. Cats purr when calm.",
     "Sure! Explain why cats purr. They purr."),
    ("end_with_question", {}, "Shall we go?**", "Let us go."),
    ("numbered_items", {"n": 3}, "1. eggs\n2) milk\n3. flour", "1. eggs\n2. milk"),
    ("no_digits", {}, "Twelve apples.", "12 apples."),
    ("number_count", {"relation": "exactly", "n": 2}, "It costs 3.50 for 1,000 grams.", "Costs 3 for 4 or 5."),
    ("unique_word_count", {"relation": "at_least", "n": 4}, "A cat, a dog, a bird.", "the the The THE cat"),
    ("max_word_length", {"n": 5}, "Short words only.", "Extraordinary words."),
    ("sentence_max_words", {"n": 4}, "I like tea. You like coffee.", "I like tea with milk and honey."),
    ("keyword_in_first_sentence", {"keyword": "river"}, "The River was wide. We swam.", "We swam. The river was wide."),
    ("line_count", {"n": 2}, "one\n\ntwo\n", "one\ntwo\nthree"),
    ("last_word", {"word": "today"}, "We finish *Today*!", "Today we finish."),
    ("question_count", {"relation": "exactly", "n": 2}, "Why? How so? I see.", "Why? I see."),
    ("keyword_order", {"keywords": ["river", "bridge"]}, "A river, then a bridge, then a river.", "A bridge over a river."),
    ("avoid_letter", {"letter": "e"}, "A cold day at camp.", "Eleven."),
    ("parenthetical_count", {"n": 2}, "Tea (green) and cake (lemon).", "Tea (green) and cake ( )."),
    ("word_repeat_limit", {"n": 2}, "Blue sky, blue sea, and a ship.", "blue, Blue, BLUE."),
    ("hashtag_count", {"n": 2}, "Fun day! #beach #sun", "Fun day! #beach # #1"),
]


def ck(kind, answer, args):
    return check(Constraint(kind, args), answer)


def test_cases_cover_every_kind():
    assert {c[0] for c in CASES} == set(KINDS)


@pytest.mark.parametrize("kind, args, good, bad", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_kind_passes_and_fails(kind, args, good, bad):
    assert ck(kind, good, args) is True
    assert ck(kind, bad, args) is False


def test_unicode_words_and_letters():
    assert ck("word_count", "Über naïve café façade", {"relation": "exactly", "n": 4})
    assert ck("letter_frequency", "Éé é e", {"letter": "é", "relation": "exactly", "n": 3})
    assert ck("include_keywords", "Wir aßen Crème brûlée.", {"keywords": ["crème BRÛLÉE"]})
    assert not ck("forbidden_words", "l'été est là", {"words": ["été"]})
    assert ck("no_commas", "日本語、ok", {}) and not ck("no_commas", "中文，逗号", {})


@pytest.mark.parametrize("kind, args", [(k, a) for k, a, _, _ in CASES])
def test_a_blank_answer_passes_nothing(kind, args):
    assert ck(kind, "", args) is False and ck(kind, "  \n ", args) is False


def test_empty_answer_scores_nothing():
    # A blank answer follows no instruction, even the vacuously true ones (as in IFEval's evaluation).
    result = score([Constraint("no_commas"), Constraint("word_count", {"relation": "at_most", "n": 5})], " \n")
    assert result == {"strict": [False, False], "loose": [False, False]}


@pytest.mark.parametrize("answer, ok", [
    ('```json\n{"a": [1, 2]}\n```', True),
    ('  ```JSON\n[{"a": 1}]\n```  ', True),
    ('```\n{"a": 1}\n```', True),
    ("42", True),  # any JSON value, as IFEval's reference evaluation accepts
    ('{"a": 1}\n\nHope this helps!', False),
    ('Here is the JSON:\n```json\n{"a": 1}\n```', False),
    ('```json\n{"a": 1,}\n```', False),
])
def test_json_fences_and_trailing_prose(answer, ok):
    assert ck("json_format", answer, {}) is ok


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
    cs = [Constraint("starts_with", {"phrase": "Dear Sam"}), Constraint("no_commas"),
          Constraint("ends_with", {"phrase": "Best wishes"}), Constraint("lowercase")]
    answer = "Sure, here it is:\n**Dear Sam** thanks for the help.\nBest wishes\nHope it helps!"
    result = score(cs, answer)
    assert result["strict"] == [False, False, False, False]
    assert result["loose"] == [True, True, True, False]


def test_loose_json_with_an_outro_line():
    answer = '```json\n{"steps": ["vote"]}\n```\nLet me know if you need more.'
    assert score([Constraint("json_format")], answer) == {"strict": [False], "loose": [True]}


def test_repeat_prompt_defaults_to_the_prompt():
    c = Constraint("repeat_prompt")
    assert check(c, "Name a fruit. Apple.", prompt="Name a fruit.") and not check(c, "Apple.", prompt="Name a fruit.")
    assert not check(c, "Apple.")  # no request to compare with


def test_score_strict_matches_check_and_loose_never_below_strict():
    answer = "SECTION 1\nhello, world\nSECTION 2\n*P.S.* bye"
    cs = [Constraint(k, a) for k, a, _, _ in CASES]
    result = score(cs, answer)
    assert result["strict"] == [check(c, answer) for c in cs]
    assert all(loose or not strict for strict, loose in zip(result["strict"], result["loose"]))


def test_validate_returns_typed_args_with_defaults():
    assert validate("section_count", {"n": 2}, "here") == {"n": 2, "splitter": "SECTION"}
    assert validate("postscript", {}, "here") == {"marker": "P.S."}
    assert validate("paragraph_count", {"n": 2}, "here") == {"n": 2, "separator": "***"}
    assert validate("letter_frequency", {"letter": "Z", "relation": "at_least", "n": 1}, "here")["letter"] == "z"
    assert validate("include_keywords", {"keywords": [" sun "]}, "here") == {"keywords": ("sun",)}


def test_constraint_round_trips_through_a_dict():
    c = Constraint("include_keywords", {"keywords": ["sun", "moon"]})
    assert c.to_dict() == {"kind": "include_keywords", "keywords": ["sun", "moon"]}
    assert Constraint.from_dict(c.to_dict()) == c and hash(Constraint.from_dict(c.to_dict())) == hash(c)
    with pytest.raises(DatagenError, match="must be an object with a string 'kind'"):
        Constraint.from_dict({"n": 3}, "row 2")


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(DatagenError, match=r"^prompt 7: unknown constraint kind 'word_cont' \(valid kinds: .*word_count"):
        validate("word_cont", {}, "prompt 7")
    with pytest.raises(DatagenError, match="unknown constraint kind"):
        Constraint("nope")


@pytest.mark.parametrize("kind, args, match", [
    ("word_count", {"n": 5}, "needs argument 'relation'"),
    ("word_count", {"relation": "at_most"}, "needs argument 'n'"),
    ("word_count", {"relation": "fewer", "n": 5}, "'relation' must be one of at_least, at_most, exactly, less_than"),
    ("word_count", {"relation": "at_most", "n": -1}, "'n' must be an integer from 0"),
    ("word_count", {"relation": "at_most", "n": "50"}, "'n' must be an integer"),
    ("word_count", {"relation": "at_most", "n": 10**9}, "'n' must be an integer from 0 to 100000"),
    ("bullet_points", {"n": 0}, "'n' must be an integer from 1"),
    ("no_commas", {"strict": True}, "no_commas does not take 'strict'"),
    ("word_count", {"relation": "at_most", "n": 5, "num": 5}, r"does not take 'num' \(its arguments: relation, n\)"),
    ("letter_frequency", {"letter": "ab", "relation": "at_least", "n": 1}, "'letter' must be a single character"),
    ("letter_frequency", {"letter": " ", "relation": "at_least", "n": 1}, "'letter' must be a single character"),
    ("paragraph_count", {"n": 2, "separator": "---"}, r"'separator' must be one of \*\*\*, blank_line"),
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
