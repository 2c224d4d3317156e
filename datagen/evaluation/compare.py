"""The comparison table: dataset version -> student -> eval, with IF strict/loose accuracy, the win
rate against the base and the held-out loss, each with its 95% interval, linked through the
provenance files (the eval's provenance names each student's adapter, whose provenance names the
dataset version and its content sha).

    compare_rows([Path("evals/ifeval/e0001")]) -> [{"dataset": "self_instruct/v0002", "student": "sft-0001", ...}]
"""
from __future__ import annotations

from pathlib import Path

from datagen.evaluation.store import read_json


def _ci(d: dict | None, scale: float = 1.0, digits: int = 1) -> str:
    if not d or d.get("mean") is None:
        return "-"
    lo, hi = d["ci95"]
    return f"{d['mean'] * scale:.{digits}f} [{lo * scale:.{digits}f}, {hi * scale:.{digits}f}]"


def _win(p: dict | None) -> str:
    if not p or p.get("win_rate") is None:
        return "-"
    lo, hi = p["ci95"]
    return f"{100 * p['win_rate']:.1f} [{100 * lo:.1f}, {100 * hi:.1f}] ({p['wins']}/{p['ties']}/{p['losses']})"


def _delta(p: dict | None) -> str:
    """A paired difference in points: "+5.0 [1.2, 8.8] p=0.012"."""
    if not p or p.get("diff") is None:
        return "-"
    lo, hi = p["ci95"]
    ci = f" [{100 * lo:+.1f}, {100 * hi:+.1f}]" if lo is not None else ""
    pv = f" p={p['p_mcnemar']:.3g}" if "p_mcnemar" in p else ""
    return f"{100 * p['diff']:+.1f}{ci}{pv}"


def paired_lines(summary: dict) -> list[str]:
    """One block per paired comparison of an eval: differences in points (a - b) with the paired
    bootstrap 95% interval and McNemar's exact p, per split of the constraint kinds, and answer length."""
    if summary.get("eval_set", {}).get("format") == "knowledge":
        from datagen.evaluation.knowledge import paired_lines as knowledge_lines

        return knowledge_lines(summary)
    lines = []
    for p in summary.get("paired", []):
        w = p["answer_words"]
        lines.append(f"  {p['a']} - {p['b']} (paired, {p['prompt_strict']['n']} prompts): "
                     f"prompt strict {_delta(p['prompt_strict'])}, loose {_delta(p['prompt_loose'])}; "
                     f"instruction strict {_delta(p['instruction_strict'])}, loose {_delta(p['instruction_loose'])}")
        for split, s in p.get("per_split", {}).items():
            lines.append(f"    {split} kinds ({s['prompts']} prompts): prompt strict {_delta(s['prompt_strict'])}; "
                         f"instruction strict {_delta(s['instruction_strict'])} "
                         f"({s['instruction_strict']['instructions']} instructions)")
        if w.get("a") is not None and w["ci95"][0] is not None:
            ans = [summary.get("models", {}).get(x, {}).get("answers") or {} for x in (p["a"], p["b"])]
            degenerate = (f"; empty {ans[0]['empty']} vs {ans[1]['empty']}, truncated {ans[0]['truncated']} vs "
                          f"{ans[1]['truncated']}") if all("empty" in a for a in ans) else ""
            lines.append(f"    mean answer words {w['a']:.1f} vs {w['b']:.1f} "
                         f"(difference {w['diff']:+.1f} [{w['ci95'][0]:+.1f}, {w['ci95'][1]:+.1f}]){degenerate}")
    return lines


def compare_rows(evals: list[Path]) -> list[dict]:
    """One row per model of each eval; students carry their dataset version, bases their own line."""
    rows = []
    for folder in evals:
        summary, prov = read_json(folder / "summary.json"), read_json(folder / "provenance.json")
        described = {m["label"]: m for m in prov.get("models", [])}
        for label, m in summary["models"].items():
            vs_base = next((p for p in summary.get("pairs", []) if p["a"] == label and p["kind"] == "base"), None)
            paired = next((p for p in summary.get("paired", []) if p["a"] == label and p["kind"] == "base"), None)
            ds = (described.get(label) or {}).get("dataset") or {}
            ifs = m.get("if") or {}
            rows.append({
                "dataset": ds.get("ref") or ("(base)" if m["role"] == "base" else "-"),
                "dataset_sha": (ds.get("content_sha256") or "")[:12], "student": label, "role": m["role"],
                "eval": summary.get("eval", folder.name), "eval_path": str(folder),
                "spec": (described.get(label) or {}).get("spec", ""), "n": summary["eval_set"]["scored"],
                "if_strict": ifs.get("prompt_strict"), "if_loose": ifs.get("prompt_loose"),
                "instr_strict": ifs.get("instruction_strict"), "vs_base": vs_base,
                "paired_vs_base": (paired or {}).get("prompt_strict"),
                "knowledge": m.get("knowledge"), "knowledge_vs_base": paired if m.get("knowledge") else None,
                "heldout_loss": m.get("heldout_loss"),
                "base_heldout_loss": summary.get("base_heldout_loss", {}).get(
                    f"base@{(m.get('heldout_loss') or {}).get('version')}"),
            })
    return rows


HEAD = ("dataset", "student", "eval", "n", "IF strict %", "IF loose %", "instr. strict %",
        "strict vs base, paired (points, McNemar p)", "win % vs base (W/T/L)", "held-out loss", "base on the same rows")


def cells(r: dict) -> list[str]:
    return [r["dataset"], r["student"], r["eval"], str(r["n"]), _ci(r["if_strict"], 100), _ci(r["if_loose"], 100),
            _ci(r["instr_strict"], 100), _delta(r.get("paired_vs_base")), _win(r["vs_base"]),
            _ci(r["heldout_loss"], 1.0, 3), _ci(r["base_heldout_loss"], 1.0, 3)]


K_HEAD = ("dataset", "student", "eval", "n", "token F1 %", "exact match %", "judged correct %",
          "F1 vs base, paired (points)", "EM vs base, paired (points, McNemar p)")


def knowledge_cells(r: dict) -> list[str]:
    k, p = r["knowledge"], r.get("knowledge_vs_base") or {}
    return [r["dataset"], r["student"], r["eval"], str(r["n"]), _ci(k["token_f1"], 100), _ci(k["exact_match"], 100),
            _ci(k.get("judge_correct"), 100), _delta(p.get("token_f1")), _delta(p.get("exact_match"))]


def _table(head, body: list[list[str]], fmt: str) -> str:
    if fmt == "md":
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in body])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    fmt_row = "  ".join(f"{{:{w}s}}" for w in widths)
    return "\n".join([fmt_row.format(*head)] + [fmt_row.format(*c) for c in body])


def render_table(rows: list[dict], fmt: str = "text") -> str:
    """Text (aligned columns) or Markdown; intervals are 95% bootstrap intervals. Knowledge evals
    (token F1, exact match) get a table of their own below the instruction-following one."""
    known = [r for r in rows if r.get("knowledge")]
    rows = [r for r in rows if not r.get("knowledge")]
    if known:
        below = _table(K_HEAD, [knowledge_cells(r) for r in known], fmt)
        return below if not rows else render_table(rows, fmt) + "\n\n" + below
    return _table(HEAD, [cells(r) for r in rows], fmt)


def rows_for_version(evals: list[Path], version_ref: str, content_sha: str | None) -> list[dict]:
    """The comparison rows of students trained on this dataset version (for `datagen report`)."""
    return [r for r in compare_rows(evals) if r["dataset"] == version_ref
            or (content_sha and r["dataset_sha"] and content_sha.startswith(r["dataset_sha"]))]
