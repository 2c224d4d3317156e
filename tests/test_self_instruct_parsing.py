"""Self-Instruct's pure parts, no teacher: parsing of messy teacher text (instructions, instances,
Alpaca-style tasks) and the paper's filters on their own and as registered filters."""
import pytest

from datagen.filtering import build_filters
from datagen.methods.self_instruct import parse as P
from datagen.record import Record
from filters.self_instruct import instances_reason, instruction_reason


# --- parsing -------------------------------------------------------------------------------------

MESSY = [
    (" Describe a sunset.\nTask 10: Tell the story of a hero.\n\nI will give the user cards.",
     ["Describe a sunset.", "Tell the story of a hero."]),
    ("Here are some new tasks:\n\n1. **Write a poem about rain.**\n2. \"Name three rivers.\"\n- Sort the words.",
     ["Write a poem about rain.", "Name three rivers.", "Sort the words."]),
    ("1. 1. The first task is to pack.\n2. 2. Count the vowels.", ["The first task is to pack.", "Count the vowels."]),
    ("Task 9: Instruction: Translate the sentence.\nInput: hola\nOutput: hello\nTask 10: Spell it.",
     ["Translate the sentence.", "Spell it."]),
    (" Summarize it. Input: a long text\nTask 10: Summarize it.", ["Summarize it."]),
    ("### Task 11: Plan a trip.\n* Write a limerick.\n(3) Add the numbers.\nThanks!",
     ["Plan a trip.", "Write a limerick.", "Add the numbers."]),
    ("", []),
    ("\n\n   \n", []),
]


@pytest.mark.parametrize("text, expected", MESSY)
def test_parse_instructions_from_messy_text(text, expected):
    assert P.parse_instructions(text) == expected


def test_parse_instructions_limit():
    assert P.parse_instructions(" a b c.\nTask 2: d e f.\nTask 3: g h i.", limit=2) == ["a b c.", "d e f."]


@pytest.mark.parametrize("text, expected", [(" Yes", True), ("no.", False), ("**Yes**, it is", True),
                                            ("It is not", False), ("maybe", None), ("", None)])
def test_parse_is_classification(text, expected):
    assert P.parse_is_classification(text) is expected


@pytest.mark.parametrize("text, expected", [
    (" a cat\nOutput: un chat", [("a cat", "un chat")]),
    (" <noinput>\nOutput: Hello there.", [("", "Hello there.")]),
    (" None\nOutput: 42\n\nExample 2\nInput: x\nOutput: y\nTask: next", [("", "42"), ("x", "y")]),
    (" **Input:** ignored label\n**Output:** kept", [("ignored label", "kept")]),
    (" just rambling with no output", []),
    (" q\nAnswer: a", [("q", "a")]),
])
def test_parse_instances_input_first(text, expected):
    assert P.parse_instances_input_first(text) == expected


@pytest.mark.parametrize("text, expected", [
    (" positive\nInput: I loved it.", [("I loved it.", "positive")]),
    (" spam.\nInput: Win money now!\nClass label: not spam\nInput: See you at lunch.",
     [("Win money now!", "spam"), ("See you at lunch.", "not spam")]),
    (" odd", [("", "odd")]),
    ("", []),
])
def test_parse_instances_output_first(text, expected):
    assert P.parse_instances_output_first(text) == expected


def test_dedupe_instances_folds_whitespace_and_case():
    assert P.dedupe_instances([("a  b", "X"), ("A b", "x"), ("c", "d")]) == [("a  b", "X"), ("c", "d")]


# --- filters (Wang et al. 2022 §2.3) ----------------------------------------------------------------

@pytest.mark.parametrize("text, reason", [
    ("Name a fruit.", None),
    ("Sort these.", "instruction_too_short"),
    (" ".join(["word"] * 151), "instruction_too_long"),
    (" ".join(["word"] * 150), None),
    ("Draw a cat for me.", ("unsuitable_keyword", "draw")),
    ("Describe the image below please.", ("unsuitable_keyword", "image")),
    ("Go  to the shop and buy milk.", ("unsuitable_keyword", "go to")),
    ("Update your profile description text.", None),   # "file" only as a whole word
    ("Explain the plot of Hamlet.", ("unsuitable_keyword", "plot")),
    ("\"Quote\" this sentence back please.", "starts_with_punctuation"),
    ("¿Dónde está la biblioteca municipal?", "starts_with_punctuation"),
    ("Écris une phrase en français.", "starts_with_non_english"),
    ("3 reasons to learn Python.", None),
])
def test_instruction_reason(text, reason):
    assert instruction_reason(text) == reason


@pytest.mark.parametrize("pairs, reason", [
    ([("2+2", "4")], None),
    ([("2+2", "4"), ("2 + 2", "4"), ("3+3", "6")], None),
    ([("2+2", "4"), ("2+2", "5")], "conflicting_instances"),
    ([("", "a"), ("", "b")], "conflicting_instances"),
    ([("x", "  ")], "empty_output"),
    ([], "empty_output"),
])
def test_instances_reason(pairs, reason):
    assert instances_reason(pairs) == reason


def test_registered_filters_on_records():
    recs = [Record.make("Name a fruit.", "", "Apple"), Record.make("Draw a map.", "", "x"),
            Record.make("Give me a number.", "odd?", "7"), Record.make("Give me a number.", "odd?", "9"),
            Record.make("Name a vegetable.", "", " ")]
    (_, si), (_, ci) = build_filters(["self_instruct", "conflicting_instances"])
    assert si(recs) == [None, ("unsuitable_keyword", "draw"), None, None, "empty_output"]
    got = ci(recs)
    assert got[0] is None and got[1] is None and got[4] is None
    assert got[2] == got[3] == ("conflicting_instances", recs[2].id)
    (_, strict), = build_filters([{"name": "self_instruct", "min_words": 5, "keywords": ["fruit"]}])
    assert strict([Record.make("Name one fruit that is red."), recs[1]]) == [
        ("unsuitable_keyword", "fruit"), "instruction_too_short"]


def test_inline_answer_word_is_not_an_instance_label():
    assert P.parse_instructions(" Read the text and answer: how many legs?") == ["Read the text and answer: how many legs?"]


def test_parse_alpaca_tasks():
    text = (" Name a color.\nInput: <noinput>\nOutput: Blue.\n\nTask 5\nInstruction: **Add the numbers.**\n"
            "Input: 2, 3\nOutput: 5\n### Task 6:\nInstruction: No output here.\nInput: x\n\nInstruction: Half")
    assert P.parse_alpaca_tasks(text) == [("Name a color.", "", "Blue."), ("Add the numbers.", "2, 3", "5")]
    assert P.parse_alpaca_tasks(text, limit=1) == [("Name a color.", "", "Blue.")]


def test_echoed_no_input_marker_is_not_an_output():
    assert P.parse_instances_input_first(" \n<noinput>\nOutput: \n<noinput>") == []
    assert P.parse_instances_input_first(" <noinput>\nOutput: None") == [("", "None")]


@pytest.mark.parametrize("pairs, reason", [
    ([("I made a cake.", "I made a cake")], "output_copies_input"),
    ([("x y", "X  y!")], "output_copies_input"),
    ([("", "Hello")], None),
    ([("2+2", "4")], None),
])
def test_copied_output_reason(pairs, reason):
    from filters.self_instruct import copied_output_reason
    assert copied_output_reason(pairs) == reason
