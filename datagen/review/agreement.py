"""Agreement between annotators, and between annotators and the LLM judge.

Cohen's kappa for two annotators on the items both labelled, Fleiss' kappa for three or more on the
items all of them labelled (Fleiss 1971): both correct the share of agreeing labels for the agreement
chance alone would give. Kappa is None when it is undefined (every label in one category: 0/0).

The MT-Bench paper (Zheng et al. 2023, sec. 4.2, Table 5) gives agreement between two kinds of judges as
the probability that a randomly chosen individual of each kind (not the same individual) agrees on a
randomly chosen item, in two forms: ties counted (a tie is a third answer; chance is 1/3) and ties
excluded (only the vote pairs where neither said tie; chance is 1/2). Its first-turn figures: GPT-4 vs
human 66% (ties counted) and 85% (excluded); human vs human 63% and 81%.

    cohen_kappa(["A", "B", "A"], ["A", "B", "B"]) -> 0.4
    fleiss_kappa([["A", "A", "B"], ["B", "B", "B"]]) -> ...
    mtbench_agreement({"q1": {"ann": "A"}}, {"q1": {"judge": "A"}}, ties=True) -> {"agreement": 1.0, "n": 1}
"""
from __future__ import annotations

from collections import Counter
from typing import Hashable, Sequence

TIE = "tie"
Votes = dict  # item -> {who: label}


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """(p_o - p_e) / (1 - p_e) with p_e = sum over categories of the two annotators' marginal shares."""
    if len(a) != len(b):
        raise ValueError("cohen_kappa needs two label lists of the same length")
    n = len(a)
    if n == 0:
        return None
    p_o = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return None if p_e == 1 else (p_o - p_e) / (1 - p_e)


def fleiss_kappa(ratings: Sequence[Sequence[Hashable]]) -> float | None:
    """ratings: one list of labels per item, the same number m >= 2 of raters on every item.
    P_i = (sum_j n_ij^2 - m) / (m (m - 1)); P_e = sum_j p_j^2; kappa = (mean P_i - P_e) / (1 - P_e)."""
    if not ratings:
        return None
    m = len(ratings[0])
    if m < 2 or any(len(r) != m for r in ratings):
        raise ValueError("fleiss_kappa needs the same number (at least 2) of labels on every item")
    totals: Counter = Counter()
    p_items = []
    for r in ratings:
        c = Counter(r)
        totals.update(c)
        p_items.append((sum(v * v for v in c.values()) - m) / (m * (m - 1)))
    n_labels = len(ratings) * m
    p_e = sum((v / n_labels) ** 2 for v in totals.values())
    p_bar = sum(p_items) / len(p_items)
    return None if p_e == 1 else (p_bar - p_e) / (1 - p_e)


def mtbench_agreement(a: Votes, b: Votes, ties: bool = True) -> dict:
    """Share of agreeing vote pairs: for every item both hold, every vote of `a` against every vote of `b`
    by someone else; when `a` is `b` (human vs human) each two annotators are one pair. ties=False keeps
    only the pairs where neither vote is a tie. -> {"agreement": share or None, "n": vote pairs counted}."""
    agree = total = 0
    same = a is b
    for item, va in a.items():
        for who_a, x in va.items():
            for who_b, y in (b.get(item) or {}).items():
                if who_a == who_b or (same and who_a > who_b) or (not ties and TIE in (x, y)):
                    continue
                total += 1
                agree += x == y
    return {"agreement": agree / total if total else None, "n": total}


def annotator_kappa(votes: Votes) -> dict:
    """Cohen's kappa (two annotators, on the items both labelled) or Fleiss' kappa (three or more, on
    the items every one of them labelled). -> {"kind", "kappa", "items", "annotators"}."""
    who = sorted({w for v in votes.values() for w in v})
    if len(who) < 2:
        return {"kind": None, "kappa": None, "items": 0, "annotators": who}
    common = [v for v in votes.values() if all(w in v for w in who)]
    if len(who) == 2:
        kappa = cohen_kappa([v[who[0]] for v in common], [v[who[1]] for v in common])
        return {"kind": "cohen", "kappa": kappa, "items": len(common), "annotators": who}
    return {"kind": "fleiss", "kappa": fleiss_kappa([[v[w] for w in who] for v in common]) if common else None,
            "items": len(common), "annotators": who}


def agreement_report(human: Votes, judge: Votes | None = None) -> dict:
    """Everything the app, `datagen report` and `datagen compare` show: the annotators' kappa, human-human
    agreement and (with judge votes) human-judge agreement, each with ties counted and excluded."""
    out = {"kappa": annotator_kappa(human),
           "human_human": {"ties": mtbench_agreement(human, human, True),
                           "no_ties": mtbench_agreement(human, human, False)}}
    if judge is not None:
        out["human_judge"] = {"ties": mtbench_agreement(human, judge, True),
                              "no_ties": mtbench_agreement(human, judge, False)}
    return out
