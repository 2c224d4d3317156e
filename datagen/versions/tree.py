"""Evolution trees from a dataset version alone (records.parquet + rejected.parquet): every record
names its parent in lineage.parents; a record whose parent is not in the version is rooted at
meta["seed"] (the starting instruction, kept by Evol-Instruct in every record it makes).

    render_tree(open_version("runs/evo"), "3f1c2a") ->
    seed 9ab01c2d  "Name a fruit."
    └─ r1 concretize  kept  3f1c2a4b  "Name a tropical fruit grown in Brazil."  <==
"""
from __future__ import annotations

from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.record import short_id


@dataclass
class Node:
    id: str
    instruction: str
    status: str            # "seed" | "kept" | the rejection reason
    parent: str | None = None
    step: int = 0
    operation: str = ""
    children: list = field(default_factory=list)


def build_index(version) -> dict[str, Node]:
    """id -> Node for every kept and rejected record, plus the seeds named in meta["seed"].
    Rejected records with equal content (same id) under different parents each appear under
    their own parent; the index keeps one of them (a kept record first)."""
    nodes: dict[str, Node] = {}
    seeds: dict[str, Node] = {}
    every: list[Node] = []
    rows = [(r, "kept") for r in version.records()] + [(j.record, j.reason) for j in version.rejected()]
    for rec, status in rows:
        parents = rec.lineage.parents
        node = Node(rec.id, rec.prompt_text(), status, parents[0] if parents else None,
                    rec.lineage.step, rec.lineage.operation)
        every.append(node)
        nodes.setdefault(rec.id, node)
        seed = rec.meta.get("seed") if isinstance(rec.meta, dict) else None
        if isinstance(seed, dict) and seed.get("id"):
            text = seed.get("instruction", "") + (f"\n\n{seed['input']}" if seed.get("input") else "")
            seeds.setdefault(seed["id"], Node(seed["id"], text, "seed"))
    for sid, node in seeds.items():
        nodes.setdefault(sid, node)
    for node in every:
        if node.parent in nodes and node.parent != node.id:
            nodes[node.parent].children.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: (n.step, n.status != "kept", n.operation, n.id))
    return nodes


def find(nodes: dict[str, Node], prefix: str) -> Node:
    """A record by id or a unique id prefix (at least 4 characters)."""
    if prefix in nodes:
        return nodes[prefix]
    if len(prefix) < 4:
        raise DatagenError(f"record id prefix {prefix!r} is too short: give at least 4 characters")
    hits = [n for i, n in nodes.items() if i.startswith(prefix)]
    if not hits:
        raise DatagenError(f"no record with id {prefix!r} in this version")
    if len(hits) > 1:
        raise DatagenError(f"record id prefix {prefix!r} is ambiguous ({len(hits)} records): give more characters")
    return hits[0]


def ancestry(nodes: dict[str, Node], node: Node) -> list[Node]:
    """[root, ..., node]: parent links followed up to a record whose parent is not in the version."""
    chain = [node]
    seen = {node.id}
    while chain[-1].parent in nodes and chain[-1].parent not in seen:
        chain.append(nodes[chain[-1].parent])
        seen.add(chain[-1].id)
    return chain[::-1]


def render_tree(version, record_id: str, width: int = 100) -> str:
    """The whole tree under the target's root seed, eliminated attempts included; '<==' marks the target."""
    nodes = build_index(version)
    target = find(nodes, record_id)
    chain = ancestry(nodes, target)
    root = chain[0]
    lines = [f"{'seed' if root.status == 'seed' else 'root'} {short_id(root.id)}  {_short(root.instruction, width)}"
             + ("  <==" if root is target else "")]
    if root.status != "seed" and root.parent:
        lines[0] += f"  (parent {short_id(root.parent)} not in this version)"

    visited = {id(root)}

    def walk(node: Node, indent: str) -> None:
        children = [c for c in node.children if id(c) not in visited]
        visited.update(id(c) for c in children)
        for i, child in enumerate(children):
            last = i == len(node.children) - 1
            mark = "  <==" if child is target else ""
            status = "kept" if child.status == "kept" else f"eliminated: {child.status}"
            lines.append(f"{indent}{'└─' if last else '├─'} r{child.step} {child.operation or '?'} [{status}] "
                         f"{short_id(child.id)}  {_short(child.instruction, width)}{mark}")
            walk(child, indent + ("   " if last else "│  "))

    walk(root, "")
    path = " -> ".join(f"{short_id(n.id)}" + (f" ({n.operation})" if n.operation else "") for n in chain)
    lines.append(f"\npath: {path}")
    return "\n".join(lines)


def _short(text: str, width: int) -> str:
    one = " ".join(text.split())
    return repr(one if len(one) <= width else one[: width - 1] + "…")
