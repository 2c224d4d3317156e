"""Rendering for the report: inline SVG charts (no JavaScript libraries, no network) and the page
template datagen/report/page.html.

    bar_chart([("write", 12), ("give", 7)], "Top verbs") -> '<svg ...>...</svg>'
"""
from __future__ import annotations

import html
import json
from pathlib import Path

import jinja2
from markupsafe import Markup

_PAGE = Path(__file__).resolve().parent / "page.html"
COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def bar_chart(items: list[tuple[str, float]], title: str, width: int = 560, color: str = COLORS[0]) -> str:
    """Horizontal bars, one per (label, value)."""
    if not items:
        return f'<p class="empty">{_esc(title)}: nothing to show</p>'
    row, label_w = 20, 170
    top = max(v for _, v in items) or 1
    h = row * len(items) + 30
    parts = [f'<svg class="chart" role="img" aria-label="{_esc(title)}" width="{width}" height="{h}" '
             f'viewBox="0 0 {width} {h}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="0" y="14" class="title">{_esc(title)}</text>']
    for i, (label, v) in enumerate(items):
        y = 24 + i * row
        w = max(1.0, (width - label_w - 60) * v / top)
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_esc(str(label)[:28])}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row - 5}" fill="{color}"/>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{_esc(_fmt(v))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(values, title: str, bins: int = 20, lo: float | None = None, hi: float | None = None,
              width: int = 560, height: int = 180, color: str = COLORS[0]) -> str:
    """Bars of how many values fall in each of `bins` equal ranges; values: a list, or a {value: times}
    counter (a million lengths kept as a few hundred counts)."""
    counted = values.items() if isinstance(values, dict) else [(v, 1) for v in values]
    counted = [(v, c) for v, c in counted if c]
    if not counted:
        return f'<p class="empty">{_esc(title)}: nothing to show</p>'
    lo = min(v for v, _ in counted) if lo is None else lo
    hi = max(v for v, _ in counted) if hi is None else hi
    if hi <= lo:
        hi = lo + 1
    counts = [0] * bins
    for v, c in counted:
        counts[min(bins - 1, max(0, int((v - lo) / (hi - lo) * bins)))] += c
    top = max(counts) or 1
    plot_h, bw = height - 40, (width - 40) / bins
    parts = [f'<svg class="chart" role="img" aria-label="{_esc(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="0" y="14" class="title">{_esc(title)} (n={sum(c for _, c in counted)})</text>']
    for i, c in enumerate(counts):
        bh = plot_h * c / top
        x = 30 + i * bw
        a, b = lo + (hi - lo) * i / bins, lo + (hi - lo) * (i + 1) / bins
        parts.append(f'<rect x="{x:.1f}" y="{20 + plot_h - bh:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" '
                     f'fill="{color}"><title>{_fmt(a)}–{_fmt(b)}: {c}</title></rect>')
    parts.append(f'<text x="30" y="{height - 4}">{_esc(_fmt(lo))}</text>'
                 f'<text x="{width - 10}" y="{height - 4}" text-anchor="end">{_esc(_fmt(hi))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def capped(counts: dict, cap: int = 600) -> dict:
    """A {length: times} counter with every length over `cap` counted at `cap` (long tails squash the chart)."""
    out: dict = {}
    for v, c in counts.items():
        out[min(v, cap)] = out.get(min(v, cap), 0) + c
    return out


def _fmt(v) -> str:
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.2f}"
    return f"{int(v):,}" if isinstance(v, (int, float)) else str(v)


# Inside <script> the HTML parser, not JSON, decides where the script ends: `</script>`, and `<!--`
# followed by `<script>` (the "script data double escaped" state) would end or swallow it. JSON
# writes these characters as \uXXXX inside strings (the only place they can occur), so the data reads
# the same and the page's parser never sees them.
_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _json_script(obj) -> str:
    """JSON safe inside <script>: no `<`, `>` or `&` at all, so no record can close or swallow it."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return text.translate(str.maketrans(_SCRIPT_UNSAFE))


def render_page(a: dict) -> str:
    fun = a["funnel"]
    lengths = a["lengths"]
    verb_items = [(row["verb"], row["count"]) for row in a["verb_noun"]]
    charts = {
        "funnel": bar_chart([("generated", fun["generated"])] + [(f"dropped: {k}", v) for k, v in
                                                                 fun["dropped"].items()] + [("kept", fun["kept"])],
                            "Funnel", color=COLORS[1]),
        "instruction_len": histogram(capped(lengths["instruction"]), "Instruction length (words)"),
        "output_len": histogram(capped(lengths["output"]), "Output length (words)", color=COLORS[2]),
        "verbs": bar_chart(verb_items, "Top root verbs of instructions", color=COLORS[3]),
        "novelty": histogram(a["novelty"], "Best ROUGE-L against the seed pool", bins=20, lo=0.0, hi=1.0,
                             color=COLORS[4]),
        "method": bar_chart(a["mix"]["method"], "Methods"),
        "operation": bar_chart(a["mix"]["operation"], "Operations", color=COLORS[6]),
        "step": bar_chart([(f"step {k}", v) for k, v in a["mix"]["step"]], "Rounds / steps", color=COLORS[7]),
    }
    conv = a.get("conversations") or {}
    if conv.get("n"):  # shown under the length charts: the page has no section of its own for it
        charts["output_len"] += (
            f'<p class="note">{conv["n"]} conversations · mean {_fmt(conv["mean_turns"])} turns · '
            f'max {conv["max_turns"]} turns (output length is the first answer)</p>'
            + bar_chart([(f"{k} turns", v) for k, v in conv["turns"]], "Turns per conversation", color=COLORS[5]))
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    tpl = env.from_string(_PAGE.read_text(encoding="utf-8"))
    return tpl.render(a=a, fun=fun, charts={k: Markup(v) for k, v in charts.items()},
                      data=Markup(_json_script(a["browse"])), fmt=_fmt)
