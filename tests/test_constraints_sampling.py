"""Sampling and wording constraints for prompts: seeded, compatible, every kind worded for its splits,
and the eval wordings sharing no template (nor a run of five words) with the training wordings."""
import random
import re

import pytest

from datagen.constraints import HELDOUT_KINDS, KINDS, TRAIN_KINDS, Constraint, conflicting, phrase, sample
from datagen.constraints.phrasing import templates_for, wordings
from datagen.constraints.samplers import SAMPLERS
from datagen.errors import DatagenError


def test_train_and_heldout_kinds_are_disjoint_and_sampled():
    assert not set(TRAIN_KINDS) & set(HELDOUT_KINDS)
    assert len(HELDOUT_KINDS) >= 6 and len(TRAIN_KINDS) >= 25
    assert set(TRAIN_KINDS) | set(HELDOUT_KINDS) <= set(SAMPLERS) <= set(KINDS)
    assert "repeat_prompt" not in TRAIN_KINDS + HELDOUT_KINDS  # needs the request's text: eval only


def test_sample_is_seeded_compatible_and_covers_the_kinds():
    assert sample(random.Random(5), 3) == sample(random.Random(5), 3)
    seen = set()
    rng = random.Random(0)
    for _ in range(600):
        k = rng.randint(1, 3)
        cs = sample(rng, k)
        assert len(cs) == k and all(c.kind in TRAIN_KINDS for c in cs)
        assert not any(conflicting(a.kind, b.kind) for i, a in enumerate(cs) for b in cs[i + 1:])
        assert all(Constraint.from_dict(c.to_dict()) == c for c in cs)
        seen.update(c.kind for c in cs)
    assert seen == set(TRAIN_KINDS)
    assert {c.kind for c in sample(random.Random(1), 2, kinds=HELDOUT_KINDS)} <= set(HELDOUT_KINDS)


def test_sample_rejects_bad_requests():
    with pytest.raises(DatagenError, match="1 to 3"):
        sample(random.Random(0), 4)
    with pytest.raises(DatagenError, match="cannot sample"):
        sample(random.Random(0), 1, kinds=["repeat_prompt"])
    with pytest.raises(DatagenError, match="only 1 compatible"):
        sample(random.Random(0), 2, kinds=["lowercase", "uppercase"])


def _sources(split):
    out = []
    for entry in wordings(split).values():
        out.extend(entry if isinstance(entry, list) else [t for ts in entry.values() for t in ts])
    return out


def _ngrams(text, n=5):
    plain = re.findall(r"[a-z]+", re.sub(r"\{\{.*?\}\}", " | ", text.lower()).replace("|", " x "))
    return {" ".join(plain[i:i + n]) for i in range(len(plain) - n + 1)}


def test_every_kind_is_worded_for_its_splits_and_heldout_kinds_never_for_training():
    train, evals = wordings("train"), wordings("eval")
    assert set(TRAIN_KINDS) <= set(train) and not set(HELDOUT_KINDS) & set(train)
    assert set(TRAIN_KINDS) | set(HELDOUT_KINDS) <= set(evals)
    assert set(train) | set(evals) <= set(KINDS)


def test_eval_wordings_share_nothing_with_training_wordings():
    train, evals = _sources("train"), _sources("eval")
    assert not set(train) & set(evals)
    shared = set().union(*map(_ngrams, train)) & set().union(*map(_ngrams, evals))
    assert not shared, shared


@pytest.mark.parametrize("split", ["train", "eval"])
def test_every_wording_renders_and_states_its_numbers_and_words(split):
    rng = random.Random(3)
    kinds = TRAIN_KINDS if split == "train" else TRAIN_KINDS + HELDOUT_KINDS
    for kind in kinds:
        for _ in range(12):
            c = sample(rng, 1, kinds=[kind])[0]
            for source in templates_for(c.kind, c.args, split):
                text = phrase(Constraint(c.kind, c.args), random.Random(source), split)
                assert text.strip() and "{" not in text
            stated = [v for k, v in c.args.items() if k not in ("relation", "separator", "letter")]
            for value in stated:
                for item in value if isinstance(value, tuple) else [value]:
                    assert str(item) in text, (kind, text, item)


def test_phrase_rejects_an_unknown_split():
    with pytest.raises(DatagenError, match="unknown phrasing split"):
        phrase(Constraint("no_commas"), random.Random(0), "test")
