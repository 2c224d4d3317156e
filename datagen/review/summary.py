"""What a review has found so far, for the app, `datagen report` and `datagen compare`: how many items
each annotator decided, the annotators' kappa, human-human and human-judge agreement (MT-Bench's two
forms), and for an eval the human win rate of each model pair with its 95% interval beside the judge's.

The "judge" of a pair version is the pair itself (its chosen answer); of a best-of-n version, the
scorer's best; of an eval, the order-swapped LLM judge; in records mode, the version's verdict
(kept = accepted), so the agreement says how often people confirm the filters.

    summarize(target, read_journals(target.journals), "pairs") -> {"annotators": [...], "agreement": {...}, ...}
    review_lines(summary) -> ["pairs: 2 annotators, 40 items labelled; Cohen's kappa 0.61 (30 items); ..."]
"""
from __future__ import annotations

from datagen.evaluation.stats import OUTCOME_SCORE, mean_ci
from datagen.review.agreement import agreement_report
from datagen.review.journal import read_journals
from datagen.review.pairs import SKIP, TIE, pair_items, pair_labels

KAPPA = {"cohen": "Cohen's", "fleiss": "Fleiss'"}
RESAMPLES = 2000  # bootstrap resamples of a human win rate (items are few; 2,000 keeps the page fast)


def record_votes(entries: list[dict]) -> dict[str, dict[str, str]]:
    """{key: {annotator: "accepted" | "rejected"}}: each annotator's own last verdict on each record."""
    out: dict[str, dict[str, str]] = {}
    for e in entries:
        if e.get("mode") == "records" and e.get("action") in ("accept", "reject", "clear"):
            per = out.setdefault(e["item"], {})
            if e["action"] == "clear":
                per.pop(e["annotator"], None)
            else:
                per[e["annotator"]] = "accepted" if e["action"] == "accept" else "rejected"
    return {k: v for k, v in out.items() if v}


def win_rates(items, labels: dict) -> list[dict]:
    """Per model pair of an eval: the human win rate of the first model (votes averaged per item, a tie
    half a win) with its bootstrap 95% interval over items, and the judge's on the same items."""
    groups: dict[tuple, list] = {}
    for it in items:
        votes = [v for v in labels.get(it.key, {}).values() if v != SKIP]
        if votes:
            groups.setdefault(tuple(it.extra["models"]), []).append((it, votes))
    out = []
    for (a, b), rows in groups.items():
        def score(choice):
            return OUTCOME_SCORE["tie"] if choice == TIE else float(choice == a)
        human = [sum(score(v) for v in votes) / len(votes) for _, votes in rows]
        judged = [score(it.judge) for it, _ in rows if it.judge is not None]
        out.append({"a": a, "b": b, "items": len(rows), "human": mean_ci(human, resamples=RESAMPLES),
                    "judge_same_items": mean_ci(judged, resamples=RESAMPLES)})
    return out


def summarize(target, entries: list[dict], mode: str) -> dict:
    if mode == "records":
        human = record_votes(entries)
        from datagen.review.records import record_items

        verdict = {it.key: {"judge": "accepted" if it.status == "kept" else "rejected"}
                   for it in record_items(target.version) if it.key in human}
        out = {"mode": mode, "agreement": agreement_report(human, verdict)}
    else:
        items = pair_items(target)
        labels = pair_labels(entries, mode)
        human = {k: {a: c for a, c in v.items() if c != SKIP} for k, v in labels.items()}
        human = {k: v for k, v in human.items() if v}
        judge = {it.key: {"judge": it.judge} for it in items if it.judge is not None and it.key in human}
        out = {"mode": mode, "items": len(items), "agreement": agreement_report(human, judge)}
        if target.kind == "eval":
            out["win_rates"] = win_rates(items, labels)
            judged = {(p["a"], p["b"]): p for p in target.eval_summary().get("pairs", [])}
            for w in out["win_rates"]:
                w["judge_all"] = judged.get((w["a"], w["b"]))
    who = sorted({a for v in human.values() for a in v})
    out.update(annotators=who, decided={a: sum(a in v for v in human.values()) for a in who}, labelled=len(human))
    ms = sorted(e["ms"] for e in entries if e.get("mode") == mode and isinstance(e.get("ms"), (int, float)))
    out["seconds_per_label"] = {"median": ms[len(ms) // 2] / 1000, "n": len(ms)} if ms else None
    return out


def summarize_all(target) -> dict[str, dict]:
    """{mode: summary} for every mode the journals of `target` hold actions of."""
    entries = read_journals(target.journals)
    modes = sorted({e.get("mode") for e in entries} & set(target.modes()))
    return {m: summarize(target, entries, m) for m in modes}


def _pct(d: dict) -> str:
    return "-" if d["agreement"] is None else f"{100 * d['agreement']:.0f}% ({d['n']} vote pairs)"


def _ci(d: dict) -> str:
    if d.get("mean") is None:
        return "-"
    lo, hi = d["ci95"]
    return f"{100 * d['mean']:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"


def review_lines(s: dict) -> list[str]:
    """A summary as text lines (`datagen compare`, `datagen review --summary`)."""
    a, k = s["agreement"], s["agreement"]["kappa"]
    kappa = ("-" if k["kappa"] is None else f"{k['kappa']:.2f}") + f" ({k['items']} items)"
    lines = [f"{s['mode']}: {len(s['annotators'])} annotator(s) ({', '.join(s['annotators']) or '-'}), "
             f"{s['labelled']} items decided" + (f"; {KAPPA[k['kind']]} kappa {kappa}" if k["kind"] else "")]
    if k["kind"]:
        lines.append(f"  human-human agreement: {_pct(a['human_human']['ties'])} with ties, "
                     f"{_pct(a['human_human']['no_ties'])} without")
    if "human_judge" in a:
        lines.append(f"  human-judge agreement: {_pct(a['human_judge']['ties'])} with ties, "
                     f"{_pct(a['human_judge']['no_ties'])} without")
    if s.get("seconds_per_label"):
        t = s["seconds_per_label"]
        lines.append(f"  median {t['median']:.1f} s from an item shown to its label ({t['n']} labels, "
                     f"{60 / max(t['median'], 1e-3):.0f} items a minute)")
    for w in s.get("win_rates", []):
        every = w.get("judge_all")
        tail = f"; judge on all {every['n']} prompts {_ci({'mean': every['win_rate'], 'ci95': every['ci95']})}" \
            if every else ""
        lines.append(f"  {w['a']} vs {w['b']}: human win rate {_ci(w['human'])} on {w['items']} items, "
                     f"judge {_ci(w['judge_same_items'])} on the same items{tail}")
    return lines


REVIEW_HEAD = ("mode", "annotators", "items decided", "kappa (items)", "human-human, ties counted",
               "human-human, ties excluded", "human-judge, ties counted", "human-judge, ties excluded")


def review_table(summaries: dict[str, dict]) -> dict | None:
    """{"head", "rows"} of the summaries of a version's or eval's reviews (`datagen report`), or None."""
    rows = []
    for s in summaries.values():
        a, k = s["agreement"], s["agreement"]["kappa"]
        kappa = "-" if k["kappa"] is None else f"{k['kind'].capitalize()} {k['kappa']:.2f} ({k['items']})"
        judge = a.get("human_judge") or {"ties": {"agreement": None}, "no_ties": {"agreement": None}}
        rows.append([s["mode"], ", ".join(s["annotators"]), str(s["labelled"]), kappa,
                     _pct(a["human_human"]["ties"]), _pct(a["human_human"]["no_ties"]), _pct(judge["ties"]),
                     _pct(judge["no_ties"])])
    return {"head": list(REVIEW_HEAD), "rows": rows} if rows else None


def reviews_of(kind: str, ref: str, path, version=None) -> dict[str, dict]:
    """summarize_all of a version or eval folder, {} when nobody has reviewed it."""
    from datagen.review.target import Target

    target = Target(kind, ref, path, version)
    return summarize_all(target) if target.journals.is_dir() else {}
