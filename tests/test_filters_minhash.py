"""MinHash LSH near-duplicates: the numpy shingling and signatures match their definitions (and
datasketch), and the filter drops what it should on a table of text pairs."""
import random

import numpy as np
import pytest
import datasketch

from datagen.errors import DatagenError
from datagen.record import Record
from datagen.filtering import build_filters
from filters.minhash import MinHash, NearDupIndex
from filters.shingles import shingle_hashes, words
from filters.signatures import signatures


def shingles(text, k=5):
    ws = words(text)
    if not ws:
        return set()
    return {tuple(ws[i:i + k]) for i in range(max(1, len(ws) - k + 1))}


def jaccard(a, b):
    return len(a & b) / len(a | b) if a | b else 1.0


def rand_text(rng, n, vocab):
    return " ".join(rng.choice(vocab) for _ in range(n))


VOCAB = [f"w{i}" for i in range(3000)]


def test_words_fold_case_punctuation_and_split_cjk():
    assert words("Hello,  World! “Quoted”—text… ¿Qué? x_y") == ["hello", "world", "quoted", "text", "qué", "x", "y"]
    assert words("東京abc 日本語。") == ["東", "京", "abc", "日", "本", "語"]
    assert words("") == [] and words("!!! ...") == []


def test_shingle_hashes_are_the_shingle_sets():
    rng = random.Random(0)
    texts = [rand_text(rng, rng.randint(0, 40), VOCAB[:50]) for _ in range(60)]
    texts += ["a b", "Über café, naïve 東京", "", "x"]
    hashes, owner = shingle_hashes(texts, 5)
    sets = [set(hashes[owner == i].tolist()) for i in range(len(texts))]
    for i, t in enumerate(texts):  # one hash per distinct shingle: no collisions, none missing
        assert len(sets[i]) == len(shingles(t)), t
    for _ in range(200):  # so Jaccard on hashes is exactly Jaccard on shingles
        i, j = rng.randrange(len(texts)), rng.randrange(len(texts))
        if shingles(texts[i]) or shingles(texts[j]):
            assert jaccard(sets[i], sets[j]) == pytest.approx(jaccard(shingles(texts[i]), shingles(texts[j])))
    for short in (["ok"], ["a b"], ["a b c d"]):  # fewer words than k, alone in a batch: one shingle
        assert shingle_hashes(short, 5)[0].size == 1
    # batching does not change a text's hashes
    alone, _ = shingle_hashes([texts[5]], 5)
    assert sorted(alone.tolist()) == sorted(hashes[owner == 5].tolist())


def test_signatures_equal_datasketch_minhash_on_the_same_hashes():
    rng = random.Random(1)
    texts = [rand_text(rng, rng.randint(1, 30), VOCAB) for _ in range(20)] + [rand_text(rng, 500, VOCAB), ""]
    sig, has = signatures(texts, num_perm=64, k=3, seed=7, chunk=100)  # the long text spans 5 chunks
    hashes, owner = shingle_hashes(texts, 3)
    assert has.tolist() == [bool(shingles(t, 3)) for t in texts]
    for i in range(len(texts) - 1):
        m = datasketch.MinHash(num_perm=64, seed=7, hashfunc=lambda x: x)
        m.update_batch(hashes[owner == i].tolist())
        assert np.array_equal(m.hashvalues, sig[i])


BASE = ("The committee reviewed the annual budget and decided to increase funding for public libraries, "
        "school lunch programs and road repairs, while cutting spending on consultants and travel for the "
        "next two fiscal years.")
DE = ("Der Ausschuss hat den Jahreshaushalt geprüft und beschlossen, die Mittel für öffentliche Bibliotheken, "
      "Schulessen und Straßenreparaturen in den nächsten zwei Jahren deutlich zu erhöhen.")
ZH = "委员会审查了年度预算，决定在未来两个财政年度增加对公共图书馆、学校午餐计划和道路维修的资金，同时削减顾问和差旅开支。"
CODE = "def mean(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total / len(xs)\n"
LONG = " ".join(f"w{(i * 7919) % 5000}" for i in range(20000))

# (earlier text, later text, dropped?) at the default threshold 0.75
PAIRS = [
    (BASE, BASE.replace("two", "three"), True),                       # one word changed
    (BASE, BASE.upper(), True),                                       # case only
    (BASE, BASE + " The vote was unanimous.", True),                  # a sentence appended
    (BASE, "The weather was sunny and warm all weekend long at the beach.", False),
    (BASE, " ".join(BASE.split()[::-1]), False),                      # same words, other order
    (DE, DE.replace("erhöhen", "anheben"), True),
    (DE, "Die Katze schläft den ganzen Tag auf dem warmen Sofa im Wohnzimmer.", False),
    (ZH, ZH.replace("学校", "大学"), True),
    (ZH, "今天天气很好，我们去公园散步，然后在湖边吃了午饭。", False),
    (CODE, CODE.replace("total", "acc"), False),                      # every line touched
    (CODE, CODE + "    # done\n", True),
    (LONG, LONG.replace("w17 ", "w18 ", 3), True),
    (LONG, " ".join(f"v{i}" for i in range(20000)), False),
    ("", "", False),                                                  # empty: left to exact_dup/quality
    ("ok", "ok", True),                                               # a one-shingle text still matches
]


@pytest.mark.parametrize("first,second,dropped", PAIRS)
def test_minhash_table(first, second, dropped):
    if first:  # the table itself agrees with exact Jaccard of word 5-gram sets
        assert (jaccard(shingles(first), shingles(second)) >= 0.75) == dropped
    a, b = Record.make("q", output=first), Record.make("q2", output=second)
    verdicts = MinHash(fields=["output"])([a, b])
    assert verdicts[0] is None
    assert verdicts[1] == (("near_duplicate", a.id) if dropped else None)


def test_planted_pairs_follow_exact_jaccard():
    rng = random.Random(3)
    texts, truth = [], []
    for target in (0.3, 0.5, 0.9, 0.95):
        for _ in range(60):
            base = [rng.choice(VOCAB) for _ in range(80)]
            var = list(base)
            while jaccard(shingles(" ".join(base)), shingles(" ".join(var))) > target:
                var[rng.randrange(len(var))] = rng.choice(VOCAB)
            j = jaccard(shingles(" ".join(base)), shingles(" ".join(var)))
            texts += [" ".join(base), " ".join(var)]
            truth.append(j >= 0.75)
    got = NearDupIndex().add(texts)
    assert (got[0::2] == -1).all()
    predicted = (got[1::2] >= 0).tolist()
    assert sum(p == t for p, t in zip(predicted, truth)) >= 0.97 * len(truth)
    assert all(got[2 * i + 1] == 2 * i for i, p in enumerate(predicted) if p)


def test_streaming_batches_give_the_same_verdicts_and_index_only_kept():
    rng = random.Random(4)
    base = [rand_text(rng, 60, VOCAB) for _ in range(40)]
    texts = base + [t.replace(t.split()[10], "changed", 1) for t in base[:25]] + ["", "tiny"]
    rng.shuffle(texts)
    whole = NearDupIndex()
    expected = whole.add(texts)
    for batch in (1, 7, 64):
        idx = NearDupIndex()
        got = np.concatenate([idx.add(texts[i:i + batch]) for i in range(0, len(texts), batch)])
        assert got.tolist() == expected.tolist()
    assert (expected >= 0).sum() == 25 and whole.kept == len(texts) - 25 - 1  # "" has no shingle
    assert whole.nbytes() > 0


def test_datasketch_backend_agrees_with_the_compact_index():
    rng = random.Random(5)
    base = [rand_text(rng, 50, VOCAB) for _ in range(30)]
    texts = base + [t + " extra words here" for t in base[:10]]
    a = NearDupIndex(backend="compact").add(texts)
    b = NearDupIndex(backend="datasketch").add(texts)
    assert a.tolist() == b.tolist() and (a >= 0).sum() == 10


def test_bad_options_are_one_line_errors():
    with pytest.raises(DatagenError, match="exceeds num_perm"):
        build_filters([{"name": "minhash", "num_perm": 64, "bands": 10, "rows": 10}])
    with pytest.raises(DatagenError, match="threshold"):
        build_filters([{"name": "minhash", "threshold": 1.5}])
    with pytest.raises(DatagenError, match="unknown field"):
        build_filters([{"name": "minhash", "fields": ["nope"]}])
