"""Streaming filters (issue 17): `datagen filter` reads the parent batch by batch and never loads it
whole; stream_filters gives what apply_filters gives on the whole list (kept, rejections in order,
funnel), and MinHash candidates are decided on the exact shingle-set Jaccard."""
import random

import numpy as np
import pytest

from datagen import versions as D
from datagen import refilter as RF
from datagen.cli import main
from datagen.versions import open_version, write_version
from datagen.versions import VersionWriter
from datagen.filtering import apply_filters, build_filters, stream_filters
from datagen.record import Record
from filters.minhash import MinHash, NearDupIndex
from filters.shingle_sets import pair_jaccard, shingle_sets
from filters.shingles import shingle_hashes, words

SPECS = ["exact_dup", {"name": "minhash", "batch_size": 50}, {"name": "length", "field": "instruction", "min_words": 4}]


def corpus(n=400, seed=1):
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(2000)]
    out = []
    for i in range(n):
        u = rng.random()
        if out and u < 0.1:
            out.append(rng.choice(out).upper())
        elif out and u < 0.2:
            out.append(rng.choice(out) + " " + rng.choice(vocab))
        elif u < 0.25:
            out.append("too short")
        else:
            out.append(" ".join(rng.choices(vocab, k=rng.randint(10, 30))))
    recs, seen = [], set()
    for t in out:
        r = Record.make(t, output="fine")
        if r.id not in seen:
            seen.add(r.id)
            recs.append(r)
    return recs


def test_stream_filters_equals_apply_filters():
    records = corpus()
    kept, rejected, funnel = apply_filters(build_filters(SPECS), records)
    got_kept, lanes = [], {}
    got_funnel = stream_filters(build_filters(SPECS), (records[i:i + 37] for i in range(0, len(records), 37)),
                                got_kept.extend, lambda lane, rej: lanes.setdefault(lane, []).extend(rej))
    assert got_kept == kept and got_funnel == funnel
    assert [j for lane in sorted(lanes) for j in lanes[lane]] == rejected
    assert {j.reason for j in rejected} == {"exact_duplicate", "near_duplicate", "too_short"}


def test_filter_command_never_loads_the_parent(tmp_path, monkeypatch):
    records = corpus()
    runs = tmp_path / "runs"
    v = write_version(runs, "c", records, [], {}, shard_rows=60)
    kept, rejected, _ = apply_filters(build_filters(SPECS), records)
    want = D.content_sha256(kept, rejected)

    def whole(self):
        raise AssertionError("the parent was loaded whole")
    monkeypatch.setattr(D.DatasetVersion, "records", whole)
    monkeypatch.setattr(RF, "BATCH", 45)
    monkeypatch.setenv("DATAGEN_SHARD_ROWS", "50")
    assert main(["filter", "--from", v.ref, "--out", str(runs), "--filters", "exact_dup,minhash,length",
                 "--minhash.batch_size", "50", "--length.min_words", "4", "--length.field", "instruction"]) == 0
    child = open_version(runs / "c")
    m = child.manifest()
    assert child.version == "v0002" and m["content_sha256"] == want
    assert len(m["shards"]["records"]) == -(-len(kept) // 50) and m["counts"]["input"] == len(records)
    monkeypatch.undo()
    assert child.records() == kept


def test_a_filter_that_needs_every_record_still_works_streamed(tmp_path):
    records = corpus()
    specs = ["exact_dup", {"name": "minhash", "keep": "smallest_id"}]
    kept, rejected, funnel = apply_filters(build_filters(specs), records)
    with VersionWriter(tmp_path, "c", shard_rows=70) as w:
        got = stream_filters(build_filters(specs), (records[i:i + 33] for i in range(0, len(records), 33)),
                             w.add, lambda lane, rej: w.reject(rej, lane))
        v = w.commit({})
    assert got == funnel and v.records() == kept
    assert v.manifest()["content_sha256"] == D.content_sha256(kept, rejected)


def test_pair_jaccard_is_the_set_jaccard():
    rng = random.Random(3)
    vocab = [f"v{i}" for i in range(40)]
    texts = [" ".join(rng.choices(vocab, k=rng.randint(0, 25))) for _ in range(60)]
    sets = shingle_sets(*shingle_hashes(texts, 3), len(texts))
    i, j = np.array([rng.randrange(60) for _ in range(300)]), np.array([rng.randrange(60) for _ in range(300)])
    got = pair_jaccard(sets, i, sets, j)

    def sh(t):
        w = words(t)
        return {tuple(w[k:k + 3]) for k in range(max(1, len(w) - 2))} if w else set()
    for a, b, g in zip(i, j, got):
        x, y = sh(texts[a]), sh(texts[b])
        assert g == pytest.approx(len(x & y) / len(x | y) if x | y else 1.0)


def test_exact_verification_decides_on_the_true_jaccard():
    # pairs planted just under and just over the threshold: exact verification gets all of them
    rng = random.Random(5)
    base = [f"w{i}" for i in range(200)]
    texts, truth = [], []
    for n_changed in (3, 4, 5, 6, 7, 8):
        a = [f"{w}n{n_changed}" for w in base]
        b = list(a)
        for p in rng.sample(range(5, 195), n_changed):
            b[p] = b[p] + "x"
        sa = {tuple(a[k:k + 5]) for k in range(196)}
        sb = {tuple(b[k:k + 5]) for k in range(196)}
        texts += [" ".join(a), " ".join(b)]
        truth.append(len(sa & sb) / len(sa | sb) >= 0.75)
    got = NearDupIndex(0.75).add(texts)
    assert [bool(got[k] >= 0) for k in range(1, len(texts), 2)] == truth
    assert True in truth and False in truth


def test_minhash_stream_equals_a_call():
    records = corpus()
    fn = MinHash(batch_size=64)
    step = MinHash(batch_size=64).stream()
    streamed = [v for lo in range(0, len(records), 91) for v in step(records[lo:lo + 91])]
    assert streamed == fn(records)
