"""Quality heuristics: a table of (instruction, output, expected reason or None)."""
import random

import pytest

from datagen.errors import DatagenError
from datagen.record import Record
from datagen.filtering import build_filters
from filters.quality import Quality, repetition, symbol_ratio

PROSE = ("Photosynthesis lets plants turn light into chemical energy. Chlorophyll in the chloroplasts absorbs "
         "mostly red and blue light, which drives the splitting of water and releases oxygen. The energy is "
         "stored in ATP and NADPH, which the Calvin cycle then uses to fix carbon dioxide into sugars that the "
         "plant burns for growth or stores as starch in its roots, seeds and leaves.")
CODE = ("Here is the function:\n\n```python\ndef fizzbuzz(n):\n    for i in range(1, n + 1):\n        if i % 15 == 0:\n"
        "            print('FizzBuzz')\n        elif i % 3 == 0:\n            print('Fizz')\n        elif i % 5 == 0:\n"
        "            print('Buzz')\n        else:\n            print(i)\n```\n\nIt prints one line per number.")
_rng = random.Random(0)
_VOCAB = ["".join(_rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(_rng.randint(2, 9))) for _ in range(3000)]
LONG_OK = " ".join(_rng.choice(_VOCAB) for _ in range(3000))  # 3,000 varied words: long, not repetitive

TABLE = [
    # (instruction, output, expected)
    ("Explain photosynthesis.", PROSE, None),
    ("Write FizzBuzz in Python.", CODE, None),
    ("Write FizzBuzz in Python.", CODE.replace("\n```\n\nIt", "\n\nIt"), "broken_code_fence"),
    ("What is 2 + 2?", "2 + 2 = 4", None),
    ("Give the JSON for Bob, 30.", '{"name": "Bob", "age": 30}', None),
    ("Print a separator.", "!!!! ???? **** #### $$$$ %%%%", "non_alphabetic"),
    ("Wie spät ist es?", "Es ist halb drei am Nachmittag.", None),
    ("日本の首都は?", "日本の首都は東京です。", None),
    ("法国的首都是哪里？", "法国的首都是巴黎。", None),
    ("Translate 'cat' to French.", "chat", None),
    ("Say something.", "", "empty_output"),
    ("Say something.", "   \n ", "empty_output"),
    ("", "An answer without a question.", "empty_instruction"),
    ("Tell me a joke.", "As an AI language model, I do not have a sense of humour.", "refusal"),
    ("Tell me a joke.", "I'm sorry, but I can't help with that.", "refusal"),
    ("Tell me a joke.", "I cannot do that.", "refusal"),
    ("Erzähl einen Witz.", "Als KI-Sprachmodell kann ich keine Witze erzählen.", "refusal"),
    ("Cuéntame un chiste.", "Lo siento, pero no puedo hacer eso.", "refusal"),
    ("讲个笑话。", "作为一个人工智能语言模型，我无法讲笑话。", "refusal"),
    ("Why can penguins not fly?", "Penguins cannot fly because their wings evolved into flippers.", None),
    ("Summarize the plot of Hamlet in one line.", "Summarize the plot of Hamlet in one line.", "echoed_output"),
    ("Summarize the plot of Hamlet in one line.",
     "Summarize the plot of Hamlet in one line. Hamlet avenges his father and dies.", "echoed_output"),
    ("Say hi", "Say hi to everyone for me!", None),  # a short instruction inside the answer is no echo
    ("Write a long story.", "the cat sat " * 60, "repetitive"),
    ("Who are you?", "I am no knight. I am no knight. I am no knight.", "repetitive"),
    ("Who are you?", "I am no knight. I am no knight. I am a squire.", None),
    ("Count.", "One two three. Four. One two three! Five. one two three", "repetitive"),
    ("List fruits.", "\n".join(["- apple", "- apple", "- apple", "- apple", "- pear"]), "repetitive"),
    ("Write a lot.", LONG_OK, None),
    ("Write a lot.", "word " * 5000, "too_long"),
]


@pytest.mark.parametrize("instruction,output,expected", TABLE)
def test_quality_table(instruction, output, expected):
    got = Quality()([Record.make(instruction, output=output)])[0]
    reason = got[0] if isinstance(got, tuple) else got
    assert reason == expected


def test_truncated_uses_finish_reason():
    cut = Record.make("Write an essay.", output=PROSE, meta={"finish_reason": "length"})
    done = Record.make("Write an essay.", output=PROSE, meta={"finish_reason": "stop"})
    assert Quality()([cut, done]) == ["truncated", None]
    assert build_filters(["truncated"])[0][1]([cut, done]) == ["truncated", None]


def test_instruction_only_records_are_checked_on_the_instruction():
    recs = [Record.make("Name three rivers in Africa."), Record.make("   ")]
    assert Quality()(recs) == [None, "empty_instruction"]


def test_options_change_the_outcome():
    rec = Record.make("Name a color.", output="Blue.")
    assert Quality(min_words=3)([rec])[0][0] == "too_short"
    assert Quality(checks=["refusal"])([Record.make("x", output="")]) == [None]
    custom = Quality(extra_refusals=[r"\bno comment\b"])
    assert custom([Record.make("Thoughts?", output="No comment on that, sorry.")])[0][0] == "refusal"


def test_helpers_explain_their_numbers():
    assert symbol_ratio("!!! ??? ***") == 1.0 and symbol_ratio("2 + 2 = 4") == pytest.approx(0.4)
    assert symbol_ratio("```\n{}[]();\n```\nok") == 0.0  # fenced code does not count
    assert repetition("the cat " * 40).startswith("top_2gram")
    assert repetition(PROSE) is None and repetition("the cat " * 3) is None  # short texts are not judged


def test_bad_options_are_one_line_errors():
    with pytest.raises(DatagenError, match="unknown check"):
        build_filters([{"name": "quality", "checks": ["spelling"]}])
    with pytest.raises(DatagenError, match="min_words"):
        build_filters([{"name": "quality", "min_words": 10, "max_words": 5}])
