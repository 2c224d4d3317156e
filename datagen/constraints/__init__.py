"""One constraint library for writing prompts, verifying answers (filters, best-of-n), rewards and eval.

    from datagen.constraints import KINDS, TRAIN_KINDS, HELDOUT_KINDS, Constraint, sample, phrase, check, score
    cs = sample(random.Random(0), 2)                      # compatible, arguments sampled
    text = instruction + " " + " ".join(phrase(c, rng) for c in cs)
    check(cs[0], answer) -> bool (strict); score(cs, answer, prompt) -> {"strict": [...], "loose": [...]}
    meta["constraints"] = [c.to_dict() for c in cs]; Constraint.from_dict(d) reads one back

A kind (registry.py) has its checker (checks_ifeval.py: IFEval's kinds by the paper's rules;
checks_new.py: datagen's own), an argument sampler (samplers.py), wordings for training and for eval
(prompts/constraints/train.yaml, eval.yaml: disjoint) and the kinds it conflicts with.
"""
from __future__ import annotations

from datagen.constraints.args import RELATIONS, Arg
from datagen.constraints.constraint import Constraint, check, compatible, constraints_of, loose_variants, phrase, \
    sample, score, validate
from datagen.constraints.registry import HELDOUT_KINDS, KINDS, TRAIN_KINDS, Kind, conflicting

__all__ = ["KINDS", "TRAIN_KINDS", "HELDOUT_KINDS", "Kind", "Arg", "RELATIONS", "Constraint", "sample", "phrase",
           "check", "score", "loose_variants", "validate", "compatible", "conflicting", "constraints_of"]
