"""What a trained student was made from: provenance.json and metrics.json next to the adapter.

    loss_history([{"loss": 2.1, "step": 1}, {"train_runtime": 9.0}]) -> [{"step": 1, "loss": 2.1}]
    write_provenance(run_dir, {...}) -> run_dir / "provenance.json"
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from datagen.redact import scrub
from datagen.versions import DatasetVersion
from datagen.versions.folders import git_commit

PACKAGES = ("torch", "transformers", "trl", "peft", "datasets", "accelerate")


def loss_history(log_history: list[dict]) -> list[dict]:
    """The per-step training log entries (those with a `loss`), numbers only."""
    out = []
    for entry in log_history:
        if "loss" in entry:
            out.append({k: v for k, v in entry.items() if isinstance(v, (int, float))})
    return out


def summarize(history: list[dict], seconds: float, steps: int) -> dict:
    """First/last loss and the means of the first and last k logged steps, k = 5 or half the steps when
    fewer than 10 were logged (single steps are noisy: each sees another batch)."""
    losses = [h["loss"] for h in history]
    if not losses:
        return {"steps": steps, "seconds": round(seconds, 1)}
    k = max(1, min(5, len(losses) // 2))
    return {"steps": steps, "seconds": round(seconds, 1), "first_loss": losses[0], "last_loss": losses[-1],
            "mean_of": k,
            "first_mean": sum(losses[:k]) / k, "last_mean": sum(losses[-k:]) / k}


def jsonable(obj: Any) -> Any:
    """Config dataclasses -> plain JSON values (enums by value, unknown objects by str)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return jsonable(obj.to_dict())
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return getattr(obj, "value", None) if hasattr(obj, "value") else str(obj)


def versions() -> dict:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def dataset_entry(version: DatasetVersion, n_train: int, held_out: list[str]) -> dict:
    m = version.manifest()
    return {"ref": version.ref, "path": str(version.path.resolve()), "content_sha256": m.get("content_sha256"),
            "method": m.get("method"), "records_trained": n_train, "held_out_ids": held_out}


def build(kind: str, *, dataset: dict, base_model: dict, chat_template: dict, configs: dict, metrics: dict,
          adapter_parent: str | None, outputs: list[str], peft: dict | None = None) -> dict:
    return {
        "trainer": kind,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "dataset": dataset,
        "base_model": base_model,
        "adapter_parent": adapter_parent,
        **({"peft": peft} if peft is not None else {}),
        "chat_template": chat_template,
        "config": {name: jsonable(cfg) for name, cfg in configs.items()},
        "metrics": metrics,
        "outputs": outputs,
        "code": {"git_commit": git_commit(), "packages": versions()},
    }


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(scrub(data), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path
