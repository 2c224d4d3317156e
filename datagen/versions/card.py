"""The dataset card (README.md in each version): headline figures from the manifest.

    render_card(manifest, records) -> "# demo v0001\\n..."
"""
from __future__ import annotations

from collections import Counter

from datagen.record import Record


def origin(m: dict) -> str:
    """Where a version's records came from: its parent, the imported source, or the seed file."""
    if m.get("parent"):
        return f"parent `{m['parent']}`"
    if isinstance(m.get("source"), dict) and m["source"].get("path"):
        return f"imported `{m['source']['path']}`"
    return f"seeds `{m.get('seeds', {}).get('path', '?')}`"


def render_card(m: dict, records: list[Record]) -> str:
    counts = m.get("counts", {})
    teacher = m.get("teacher", {})
    stats = m.get("teacher_stats", {})
    lines = [
        f"# {m.get('name', '?')} {m.get('version', '?')}",
        "",
        f"Made by datagen with method `{m.get('method', '?')}` from {origin(m)} on {m.get('created_at', '?')}.",
        "",
        "## Funnel",
        "",
        "| stage | count |",
        "|---|---|",
        f"| generated | {counts.get('generated', counts.get('kept', 0) + counts.get('rejected', 0))} |",
    ]
    for reason, n in counts.get("dropped", {}).items():
        lines.append(f"| dropped: {reason} | {n} |")
    lines += [f"| **kept** | **{counts.get('kept', 0)}** |", ""]
    if m.get("stopped"):
        undone = ", ".join(f"{k} {v}" for k, v in (m.get("undone") or {}).items()) or "nothing"
        lines += [f"Run stopped early: {m['stopped']} ({m.get('stopped_detail')}); left undone: {undone}.", ""]
    if stats:
        lines += [
            "## Teacher",
            "",
            f"`{teacher.get('name', '?')}`: {stats.get('requests', 0)} requests "
            f"({stats.get('failed', 0)} failed), {stats.get('retries', 0)} retries, "
            f"{stats.get('cache_hits', 0)} cache hits, {stats.get('prompt_tokens', 0)} prompt + "
            f"{stats.get('completion_tokens', 0)} completion tokens.",
            "",
        ]
    if records:
        iw = sorted(len(r.instruction.split()) for r in records)
        ow = sorted(len((r.output or "").split()) for r in records)
        mix = Counter(r.lineage.method + (f"/{r.lineage.operation}" if r.lineage.operation else "") for r in records)
        lines += [
            "## Shape",
            "",
            f"Median instruction {iw[len(iw) // 2]} words, median output {ow[len(ow) // 2]} words. "
            "Mix: " + ", ".join(f"{k} {n}" for k, n in mix.most_common(8)) + ".",
            "",
        ]
        turns = [r.num_turns for r in records]
        if max(turns) > 1:
            lines[-1:] = [f"Conversations: mean {sum(turns) / len(turns):.2f} assistant turns, max {max(turns)}.", ""]
    lines += ["## Sample", ""]
    for r in records[:5]:
        instr = r.instruction.replace("\n", " ")[:160]
        out = (r.output or "").replace("\n", " ")[:160]
        more = r.num_turns - 1
        lines.append(f"- **{instr}** → {out}" + (f" (+{more} more turns)" if more > 0 else ""))
    lines += ["", f"Content sha256: `{m.get('content_sha256', '')}`", ""]
    return "\n".join(lines)
