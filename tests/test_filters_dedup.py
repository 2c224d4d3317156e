"""Exact dedup on normalized text: a table of (earlier, later, duplicate?) and the streaming index."""
import pytest

from datagen.errors import DatagenError
from datagen.record import Record
from datagen.filtering import build_filters
from filters.dedup import ExactDup, ExactIndex

CODE = "def f(x):\n    return x * 2\n"
LONG = "word " * 50000

TABLE = [
    ("Name a color.", "Name a color.", True),
    ("Name a color.", "  name A   COLOR. ", True),           # case and whitespace fold
    ("Name a color.", "Name a colour.", False),
    ("Wie spät ist es?", "wie  SPÄT ist es?", True),          # Unicode case folding
    ("東京の天気は？", "東京の天気は？", True),
    ("東京の天気は？", "大阪の天気は？", False),
    (CODE, CODE.replace("\n    ", "\n\t"), True),             # whitespace inside code folds too
    (CODE, CODE.replace("2", "3"), False),
    ("", "", True),
    (LONG, LONG + " ", True),
    (LONG, LONG + "x", False),
]


@pytest.mark.parametrize("first,second,dup", TABLE)
def test_exact_dup_table(first, second, dup):
    a, b = Record.make(first, output="same"), Record.make(second, output="same")
    assert ExactDup()([a, b]) == [None, ("exact_duplicate", a.id) if dup else None]


def test_fields_choose_what_counts():
    a, b = Record.make("Q1", output="Same answer."), Record.make("Q2", output="same answer.")
    assert ExactDup()([a, b]) == [None, None]
    assert ExactDup(fields=["output"])([a, b]) == [None, ("exact_duplicate", a.id)]
    with pytest.raises(DatagenError, match="unknown field"):
        build_filters([{"name": "exact_dup", "fields": ["nope"]}])


def test_streaming_index_reports_first_positions_across_batches():
    idx = ExactIndex()
    assert idx.add(["a", "A ", "b"]).tolist() == [-1, 0, -1]
    assert idx.add(["b", "c", " a"]).tolist() == [2, -1, 0]
    assert idx.size == 3 and idx.seen == 6
