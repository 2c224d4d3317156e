"""The cluster rule of exact and MinHash dedup (issue 17): keep=first (default) drops a record that
duplicates an earlier kept one; keep=smallest_id keeps the smallest id of each duplicate cluster
(connected components over the verified duplicate pairs), so the kept ids do not depend on order."""
import random

import numpy as np
import pytest

from datagen.cli import main
from datagen.versions import open_version, write_version
from datagen.errors import DatagenError
from datagen.filtering import apply_filters, build_filters
from datagen.record import Record
from filters.clusters import bucket_pairs, components, keep_smallest
from filters.dedup import ExactDup
from filters.minhash import MinHash

VOCAB = [f"w{i}" for i in range(5000)]


def corpus(seed=0, n=300):
    """n base texts of 30 words, and for a third of them 1-3 near copies (one or two words changed)
    plus for some an exact copy (case changed)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        base = [rng.choice(VOCAB) for _ in range(30)]
        out.append(" ".join(base))
        if i % 3 == 0:
            for _ in range(rng.randint(1, 3)):
                copy = list(base)
                copy[rng.randrange(30)] = rng.choice(VOCAB)
                out.append(" ".join(copy))
        if i % 7 == 0:
            out.append(" ".join(base).upper())
    return [Record.make(t, output="ok") for t in out]


def kept_ids(fn, records):
    return {r.id for r, v in zip(records, fn(records)) if v is None}


@pytest.mark.parametrize("make", [lambda: ExactDup(keep="smallest_id"),
                                  lambda: MinHash(keep="smallest_id", batch_size=64)])
def test_smallest_id_does_not_depend_on_order(make):
    records = corpus()
    want = kept_ids(make(), records)
    assert len(want) < len(records)
    for seed in range(4):
        shuffled = list(records)
        random.Random(seed).shuffle(shuffled)
        assert kept_ids(make(), shuffled) == want


def test_smallest_id_keeps_the_smallest_of_each_cluster_and_names_it():
    records = corpus()
    verdicts = MinHash(keep="smallest_id")(records)
    kept = {r.id for r, v in zip(records, verdicts) if v is None}
    for r, v in zip(records, verdicts):
        if v is not None:
            assert v[0] == "near_duplicate" and v[1] in kept and v[1] < r.id


def test_first_rule_depends_on_order_and_stays_the_default():
    records = corpus()
    assert ExactDup().keep == "first" and MinHash().keep == "first"
    first = kept_ids(MinHash(), records)
    smallest = kept_ids(MinHash(keep="smallest_id"), records)
    assert len(first) == len(smallest)  # same clusters here (no chains), other members kept
    assert first != smallest
    assert kept_ids(MinHash(), records[::-1]) != first


def test_a_chain_is_one_cluster_under_smallest_id():
    # B is A with two words changed, C is B with two more: A~B and B~C (Jaccard 0.81), A and C not
    # (0.66). first keeps A and C; smallest_id makes one cluster of the three and keeps one.
    a = [f"w{i}" for i in range(100)]
    b = list(a)
    b[20], b[40] = "x1", "x2"
    c = list(b)
    c[60], c[80] = "x3", "x4"
    recs = [Record.make(" ".join(t), output="ok") for t in (a, b, c)]
    first = MinHash(threshold=0.75)(recs)
    assert first[0] is None and first[1] == ("near_duplicate", recs[0].id) and first[2] is None
    smallest = MinHash(threshold=0.75, keep="smallest_id")(recs)
    assert [r.id for r, v in zip(recs, smallest) if v is None] == [min(r.id for r in recs)]


def test_components_and_pairs():
    assert components(5, np.array([3, 1]), np.array([4, 2])).tolist() == [0, 1, 1, 3, 3]
    assert components(4, np.array([3, 2, 1]), np.array([2, 1, 0])).tolist() == [0, 0, 0, 0]
    assert keep_smallest(["c", "a", "b", "d"], np.array([0, 2]), np.array([1, 3])) == ["a", None, None, "b"]
    keys = np.array([[7], [7], [9], [7]], np.uint64)
    u, v = bucket_pairs(keys, np.array([2, 0, 3, 1]), np.ones(4, bool))
    assert sorted(zip(u.tolist(), v.tolist())) == [(1, 0), (1, 3), (3, 0)]


def test_keep_option_in_filter_runs(tmp_path, capsys):
    records = corpus(n=60)
    runs = tmp_path / "runs"
    v = write_version(runs, "c", records, [], {})
    assert main(["filter", "--from", v.ref, "--out", str(runs), "--filters", "exact_dup,minhash",
                 "--exact_dup.keep", "smallest_id", "--minhash.keep", "smallest_id"]) == 0
    got = {r.id for r in open_version(runs / "c").records()}
    built = build_filters([{"name": "exact_dup", "keep": "smallest_id"}, {"name": "minhash", "keep": "smallest_id"}])
    kept, _, _ = apply_filters(built, records[::-1])
    assert got == {r.id for r in kept}
    capsys.readouterr()
    assert main(["filter", "--from", v.ref, "--out", str(runs), "--filters", "minhash", "--minhash.keep", "last"]) == 2
    assert "keep must be one of first, smallest_id" in capsys.readouterr().err
    with pytest.raises(DatagenError, match="keep must be one of"):
        build_filters([{"name": "exact_dup", "keep": "biggest"}])
