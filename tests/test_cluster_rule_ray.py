"""keep=smallest_id on Ray (issue 17): hash/band-key shuffle, verification on the workers and
connected components in rounds over edge partitions give the same kept ids as the local filter,
whatever the record order, the block size or the number of partitions."""
from __future__ import annotations

import random

from datagen.ray.dedup import cluster_dedup
from datagen.ray.filtering import distribute
from datagen.record import Record
from filters.dedup import ExactDup
from filters.minhash import MinHash
from test_cluster_rule import VOCAB, corpus


def chains(n: int, seed: int = 3) -> list[Record]:
    """n chains A~B~C of 100-word texts: B changes 2 words of A, C 2 more of B (positions 20 apart),
    so J(A,B) and J(B,C) are ~0.81 and J(A,C) ~0.66: near duplicates at 0.75 only along the chain."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a = [rng.choice(VOCAB) for _ in range(100)]
        b = list(a)
        for p in (10, 30):
            b[p] = rng.choice(VOCAB) + "b"
        c = list(b)
        for p in (50, 70):
            c[p] = rng.choice(VOCAB) + "c"
        out += [Record.make(" ".join(t), output="ok") for t in (a, b, c)]
    return out


def kept(records, verdicts) -> set:
    return {r.id for r, v in zip(records, verdicts) if v is None}


def test_ray_smallest_id_equals_local(ray_local):
    records = corpus(n=400)
    shuffled = list(records)
    random.Random(7).shuffle(shuffled)
    for fn in (ExactDup(keep="smallest_id"), MinHash(keep="smallest_id")):
        local = fn(records)
        assert sum(v is not None for v in local) > 20
        on_ray = distribute(fn, ray_local, block_size=97)(records)
        assert on_ray == local
        assert kept(shuffled, distribute(fn, ray_local, block_size=61)(shuffled)) == kept(records, local)


def test_chains_keep_one_record_on_ray_as_locally(ray_local):
    records = chains(15) + corpus(seed=5, n=60)
    random.Random(1).shuffle(records)
    fn = MinHash(keep="smallest_id", threshold=0.75)
    local = fn(records)
    chain_ids = [{r.id for r in chains(15)[i:i + 3]} for i in range(0, 45, 3)]
    assert all(len(ids & kept(records, local)) == 1 for ids in chain_ids)  # A~B~C: one kept, not A and C
    for block_size, partitions in ((7, 1), (16, 3), (200, 8)):
        assert cluster_dedup(fn, ray_local, records, block_size, partitions) == local


def test_a_long_path_settles_in_few_rounds(ray_local):
    """40 texts, each 2 words away from the previous one (J ~0.81) and 4 from the one before (~0.66):
    one path of near duplicates, resolved to its smallest id by the rounds over edge partitions."""
    rng = random.Random(11)
    words = [rng.choice(VOCAB) for _ in range(100)]
    path = []
    for i in range(40):
        for p in ((i * 7) % 96, (i * 7 + 50) % 96):
            words[p] = f"{rng.choice(VOCAB)}s{i}"
        path.append(Record.make(" ".join(words), output="ok"))
    records = path + corpus(seed=8, n=30)
    random.Random(2).shuffle(records)
    fn = MinHash(keep="smallest_id")
    local = fn(records)
    assert len({r.id for r in path} & kept(records, local)) <= 2
    stats: dict = {}
    from datagen.ray.dedup import RowsBlock, dedup_blocks

    sources = [RowsBlock(ray_local.put([r.to_row() for r in records[lo:lo + 10]])) for lo in range(0, len(records), 10)]
    refs = dedup_blocks(fn, ray_local, sources, partitions=4, stats=stats)
    on_ray = {i for ref in refs for i in ray_local.get(ref)[2].tolist()}
    assert on_ray == {r.id.encode() for r in records} & {i.encode() for i in kept(records, local)}
    assert 2 <= stats["rounds"][0] <= 12


def test_equal_ids_tie_to_the_earlier_record(ray_local):
    records = corpus(seed=2, n=50)
    records = records + records[:20]  # the same records again: equal ids
    fn = ExactDup(keep="smallest_id")
    local = fn(records)
    assert cluster_dedup(fn, ray_local, records, block_size=9, partitions=4) == local
    assert cluster_dedup(fn, ray_local, [], block_size=9) == []


def test_filter_command_on_ray_equals_local_on_a_sharded_parent(ray_local, tmp_path, monkeypatch):
    """The workers read the parent's shards: the driver's gathered-records path is never taken."""
    import datagen.ray.dedup
    from datagen.versions import write_version
    from datagen.refilter import FilterConfig, refilter

    monkeypatch.setenv("DATAGEN_SHARD_ROWS", "40")
    records = list({r.id: r for r in chains(10) + corpus(seed=9, n=120)}.values())
    random.Random(4).shuffle(records)
    base = write_version(tmp_path / "runs", "demo", records, [], {"method": "seed", "counts": {}})
    assert len(base.manifest()["shards"]["records"]) > 3
    specs = [{"name": "exact_dup", "keep": "smallest_id"}, {"name": "minhash", "keep": "smallest_id"},
             {"name": "exact_dup", "keep": "smallest_id", "fields": ["output"]}, "length"]
    local = refilter(FilterConfig(from_version=str(base.path), filters=specs))
    monkeypatch.setattr(datagen.ray.dedup, "cluster_dedup", None)  # calling it would fail
    on_ray = refilter(FilterConfig(from_version=str(base.path), filters=specs, executor="ray"))
    assert [r.id for r in local.records()] == [r.id for r in on_ray.records()]
    key = lambda v: sorted((j.record.id, j.reason, j.detail) for j in v.rejected())  # noqa: E731
    assert key(local) == key(on_ray)
    assert {j.reason for j in local.rejected()} >= {"exact_duplicate", "near_duplicate"}
    assert local.manifest()["funnel"] == on_ray.manifest()["funnel"]
