"""Semantic dedup: the greedy blockwise search matches a brute-force reference, and the bundled
all-MiniLM-L6-v2 (loaded offline) drops paraphrases but keeps sibling tasks."""
import numpy as np
import pytest

from extras import requires

from datagen.errors import DatagenError
from datagen.record import Record
from datagen.filtering import build_filters
from filters.semantic import greedy_dedup, load_model


def brute_force(emb, threshold):
    out, kept = [], []
    for i, e in enumerate(emb):
        sims = [float(e @ emb[k]) for k in kept]
        if sims and max(sims) >= threshold:
            out.append(kept[int(np.argmax(sims))])
        else:
            out.append(-1)
            kept.append(i)
    return out


@pytest.mark.parametrize("block", [1, 3, 16, 1024])
def test_blockwise_search_equals_brute_force(block):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(6, 8))
    emb = np.concatenate([centers, centers[[0, 2, 2, 5]] + 0.05 * rng.normal(size=(4, 8)), rng.normal(size=(10, 8))])
    emb = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
    emb = emb[rng.permutation(len(emb))]
    expected = brute_force(emb, 0.95)
    assert greedy_dedup(emb, 0.95, block=block, chunk=2).tolist() == expected
    assert sum(p >= 0 for p in expected) >= 4


# (earlier instruction, later instruction, dropped?) at the default cosine 0.9
TABLE = [
    ("What is the capital of France?", "Tell me the capital city of France.", True),
    ("Give three tips for staying healthy.", "What are three tips to stay healthy?", True),
    ("Summarize this article.", "Summarise this article.", True),
    ("What is the capital of France?", "What is the capital of Germany?", False),
    ("Translate hello into French.", "Translate hello into Spanish.", False),
    ("Write a poem about the sea.", "Write a Python function to reverse a list.", False),
    ("¿Cuál es la capital de Francia?", "cual es la capital de francia", True),
    ("東京の天気は？", "東京の天気はどうですか？", True),
    ("東京の天気は？", "大阪の人口は？", False),
    ("Wie spät ist es?", "Wie viel Uhr ist es?", False),  # a German paraphrase: the model is English-only
    ("def add(a, b): return a + b", "def add(a, b):\n    return a + b", True),
    ("def add(a, b): return a + b", "def mul(a, b): return a * b", False),
    ("", "", False),
    ("Explain gravity. " * 300, "Explain gravity. " * 290, True),  # very long: truncated by the model
]


@pytest.mark.parametrize("first,second,dropped", TABLE)
@requires("semantic")
def test_semantic_table(first, second, dropped):
    a, b = Record.make(first, output="x"), Record.make(second, output="y")
    (_, fn), = build_filters(["semantic"])
    assert fn([a, b]) == [None, ("semantic_duplicate", a.id) if dropped else None]


@requires("semantic")
def test_missing_model_dir_is_a_clear_error(tmp_path):
    with pytest.raises(DatagenError, match="not found"):
        load_model(str(tmp_path / "none"))
