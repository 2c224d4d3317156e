"""keep=smallest_id on Ray (issue 17): hash/band-key shuffle, verification on the workers and
connected components give the same kept ids as the local filter, whatever the record order."""
from __future__ import annotations

import random

from datagen.ray_exec import distribute
from filters.dedup import ExactDup
from filters.minhash import MinHash
from test_cluster_rule import corpus


def test_ray_smallest_id_equals_local(ray_local):
    records = corpus(n=400)
    shuffled = list(records)
    random.Random(7).shuffle(shuffled)
    for fn in (ExactDup(keep="smallest_id"), MinHash(keep="smallest_id")):
        local = fn(records)
        assert sum(v is not None for v in local) > 20
        on_ray = distribute(fn, ray_local, block_size=97)(records)
        assert on_ray == local
        kept = {r.id for r, v in zip(records, local) if v is None}
        assert {r.id for r, v in zip(shuffled, distribute(fn, ray_local, block_size=61)(shuffled))
                if v is None} == kept
