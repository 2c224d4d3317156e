"""The prefill plan (datagen/backends/llama_plan.py): which class of llama.cpp call each prompt row is
computed in, and how far a prompt may reuse a slot's rows without moving a row out of its class. The
real-model check that the numbers then never change is benchmarks/embedded.py --check (and
tests/test_llama_batch.py)."""
from datagen.backends.llama_plan import agree, calls, cut, segments

NL, X = 10, 1  # token ids: a newline, any other token


def toks(*parts):
    """toks(20, "\n\n", 150) -> 20 other tokens, two newlines, 150 others."""
    out = []
    for p in parts:
        out += [NL, NL] if p == "\n\n" else [X] * p
    return out


def breaks(prev, tok):  # a blank line: a newline after a newline
    return tok == NL and prev == NL


def test_a_prompt_splits_at_its_last_blank_line_into_classed_regions():
    assert segments(toks(170), breaks) == [(0, 170, "T")]
    assert segments(toks(40), breaks) == [(0, 40, "R")]
    assert segments(toks(1), breaks) == [(0, 1, "L")]
    assert segments(toks(20, "\n\n", 150), breaks) == [(0, 22, "R"), (22, 172, "T")]
    assert segments(toks(100, "\n\n", 50, "\n\n", 30), breaks) == [(0, 154, "T"), (154, 184, "R")]
    # a blank line as the last tokens starts no region of its own
    assert segments(toks(100, "\n\n"), breaks) == [(0, 102, "T")]


def test_classes_agree_row_by_row():
    assert agree([(0, 154, "T"), (154, 184, "R")], [(0, 154, "T"), (154, 160, "R")]) == 160
    assert agree([(0, 154, "T"), (154, 300, "T")], [(0, 154, "T"), (154, 160, "R")]) == 154
    assert agree([(0, 40, "R")], [(0, 200, "T")]) == 0


def test_reuse_keeps_every_row_in_its_class():
    few_shot = [(0, 192, "T"), (192, 210, "R")]
    # the shared examples all reused, the last paragraph computed in its own call
    assert cut(few_shot, [(0, 192, "T"), (192, 205, "R")], common=195, n=210) == 195
    assert cut(few_shot, [(0, 192, "T"), (192, 205, "R")], common=150, n=210) == 128  # the T call keeps 64 rows
    # one region: a tiled call of at least 64 rows from the point of difference or before it
    assert cut([(0, 210, "T")], [(0, 230, "T")], common=189, n=210) == 146
    # rows the held prompt computed in another class are not reused
    assert cut([(0, 40, "R")], [(0, 200, "T")], common=39, n=40) == 0
    # an R region keeps at least 2 rows to compute; the last row is always computed
    assert cut([(0, 40, "R")], [(0, 50, "R")], common=40, n=40) == 38
    # tiled rows are the same numbers wherever their call started: reused up to the point of difference
    assert cut([(0, 22, "R"), (22, 172, "T")], [(0, 22, "R"), (22, 90, "T")], common=60, n=172) == 60


def test_calls_hold_a_region_each_and_tiled_chunks_of_64_to_512_rows():
    assert calls([(0, 22, "R"), (22, 172, "T")], 0, 512) == [(0, 22), (22, 172)]
    assert calls([(0, 192, "T"), (192, 210, "R")], 195, 512) == [(195, 210)]
    assert calls([(0, 1100, "T")], 0, 512) == [(0, 367), (367, 734), (734, 1100)]
    assert calls([(0, 210, "T")], 146, 512) == [(146, 210)]
    assert all(b - a >= 64 for a, b in calls([(0, 1030, "T")], 0, 512))
