"""`datagen review --commit` (and the app's Commit button): the journal becomes a new immutable version.

Records mode: a child version of the reviewed one (same name, next vNNNN): kept records as they were,
edited outputs replaced (a new record id, lineage method "human" whose parent is the old id), records
rejected by a person moved to the rejected rows with reason `human:<text>` and stage "human", and rejected
rows a person accepted moved back among the kept. As with `datagen filter`, the rejected rows hold only
this review's rejections; the parent's stay in the parent.

Pairs and blind modes: a pair version (`<name>-human` unless --name) of the items a majority of
annotators decided: chosen = the answer they picked, whatever side it was shown on. Items whose votes
were a tie, split evenly or only skips are left out and counted in the manifest.

Both manifests carry "human": the mode, annotators, the sha256 of every journal file and of them all.

    commit_records(target, entries, sha) -> DatasetVersion(runs/demo/v0002)
    commit_pairs(target, entries, sha, "pairs", "", runs) -> DatasetVersion(runs/toy-human/v0001)
"""
from __future__ import annotations

from collections import Counter

from datagen.errors import DatagenError
from datagen.record import Lineage, Record
from datagen.review.pairs import SKIP, TIE, pair_items, pair_labels
from datagen.review.records import record_items, record_states
from datagen.versions import DatasetVersion, Rejection, write_version


def human_lineage(parents: tuple[str, ...], operation: str, annotators: list[str], sha: dict) -> Lineage:
    return Lineage(method="human", parents=parents, operation=operation, teacher="human:" + ",".join(annotators),
                   run_id=sha["sha256"][:16])


def human_manifest(target, mode: str, annotators: list[str], sha: dict, **extra) -> dict:
    return {"method": "human", "human": {"mode": mode, "source": target.ref, "annotators": annotators,
                                         "journal_sha256": sha["sha256"], "journals": sha["files"], **extra}}


def edited(r: Record, output: str, who: list[str], sha: dict) -> Record:
    msgs = r.messages
    if msgs and msgs[-1].get("role") == "assistant":
        msgs = (*msgs[:-1], {**msgs[-1], "content": output})
    return r.replace(output=output, messages=msgs, lineage=human_lineage((r.id,), "edit", who, sha),
                     meta={**r.meta, "human": {"edited_from": r.id, "annotators": who}})


def commit_records(target, entries: list[dict], sha: dict) -> DatasetVersion:
    states = record_states(entries)
    if not states:
        raise DatagenError(f"nothing to commit: no records-mode action in the journals of {target.ref}")
    kept, rejected, seen = [], [], set()
    n = Counter()
    for it in record_items(target.version):
        st = states.get(it.key) or {}
        who = st.get("annotators", [])
        rec = it.record
        changed = st.get("output") is not None and st["output"] != rec.output
        if changed:
            rec = edited(rec, st["output"], who, sha)
        if it.status == "kept" and st.get("status") == "rejected":
            rejected.append(Rejection(rec, f"human:{st['reason']}", "human", "by " + ",".join(who)))
            n["rejected"] += 1
        elif it.status == "kept" or st.get("status") == "accepted":
            if rec.id in seen:
                n["duplicates_left_out"] += 1
                continue
            seen.add(rec.id)
            kept.append(rec)
            n["accepted_from_rejected"] += it.status == "rejected"
            n["edited"] += changed
    annotators = sorted({a for s in states.values() for a in s["annotators"]})
    manifest = {**human_manifest(target, "records", annotators, sha, **dict(n)), "parent": target.ref,
                "parent_content_sha256": target.version.manifest().get("content_sha256"),
                "rejected_scope": f"this review only; the parent's rejections stay in {target.ref}"}
    return write_version(target.runs, target.version.name, kept, rejected, manifest)


def decided(votes: dict[str, str]) -> str | None:
    """The majority choice of the annotators' votes (skips left out), or None: a tie vote, an even split."""
    c = Counter(v for v in votes.values() if v != SKIP)
    top = c.most_common(2)
    if not top or (len(top) > 1 and top[0][1] == top[1][1]):
        return None
    return top[0][0]


def commit_pairs(target, entries: list[dict], sha: dict, mode: str, name: str, runs) -> DatasetVersion:
    labels = pair_labels(entries, mode)
    out, seen, n = [], set(), Counter()
    for it in pair_items(target):
        votes = labels.get(it.key)
        if not votes:
            continue
        choice = decided(votes)
        if choice is None or choice == TIE:
            n["tie" if choice == TIE else "undecided"] += 1
            continue
        win, lose = (it.answers[0], it.answers[1]) if it.answers[0][0] == choice else (it.answers[1], it.answers[0])
        who = sorted(votes)
        src = it.record
        meta = {"human": {"votes": dict(Counter(votes.values())), "annotators": who, "item": it.key},
                "chosen_from": win[0], "rejected_from": lose[0], "judge": it.judge}
        rec = Record.make(src.instruction if src else it.prompt, src.input if src else "", win[1], rejected=lose[1],
                          lineage=human_lineage((src.id,) if src else (), f"label:{mode}", who, sha), meta=meta)
        if rec.id not in seen:
            seen.add(rec.id)
            out.append(rec)
            n["pairs"] += 1
    if not out:
        raise DatagenError(f"nothing to commit: no pair of {target.ref} has a majority label in {mode} mode "
                           f"({n['tie']} ties, {n['undecided']} undecided)")
    annotators = sorted({a for v in labels.values() for a in v})
    manifest = human_manifest(target, mode, annotators, sha, **dict(n))
    if target.kind == "version":
        manifest["parent"] = target.ref
    default = (target.version.name if target.version else target.path.parent.name) + "-human"
    return write_version(runs, name or default, out, [], manifest)
