"""The part SFT and DPO share: check the data, load the student, let TRL train it, write the run folder.

A run is written to a temp folder and renamed to OUT/NAME/<trainer>-NNNN/ at the end, holding the adapter
(or full weights), the tokenizer, metrics.json (loss per step), before_after.json, provenance.json and,
with --merge, merged/ weights.

    train("sft", data_args, student_args, sft_config, model_config, make_trainer) -> {"path": ..., ...}
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from datagen.errors import DatagenError
from datagen.hf import models
from datagen.names import child
from datagen.outfile import make_dir
from finetune import data, peft_methods, provenance, sample

log = logging.getLogger("datagen.finetune")


def prepare(kind: str, data_args, student_args, model_args, seed: int) -> dict:
    """Everything that can fail on bad input, before a model is loaded: the version, its rows, the held-out
    prompts, the model and adapter paths."""
    version, records = data.open_checked(data_args)
    fmt = data.check_kind(records, kind, version.ref, data_args.format)
    if data_args.eval_prompts:
        train_records, prompts, held = records, data.read_prompts(data_args.eval_prompts), []
    else:
        train_records, held_records = data.split_eval(records, data_args.num_eval, seed)
        prompts = [data.prompt_messages(r) for r in held_records]
        train_ids = {r.id for r in train_records}
        held = [r.id for r in held_records if r.id not in train_ids]
    if student_args.adapter and not (Path(student_args.adapter) / "adapter_config.json").is_file():
        raise DatagenError(f"adapter not found: {student_args.adapter} (no adapter_config.json)")
    model_spec = model_args.model_name_or_path or (
        models.base_of(student_args.adapter) if student_args.adapter else None)
    model_dir, base_info = models.resolve_model(model_spec)
    return {"version": version, "fmt": fmt, "rows": data.rows_for(train_records, fmt), "prompts": prompts,
            "held": held, "model_dir": model_dir, "base_info": base_info, "n_train": len(train_records)}


def check_peft(student_args, model_args, kind: str) -> None:
    """--peft against the trainer, --full, --merge and a continued --adapter's method (one line, before loading)."""
    method = student_args.peft
    peft_methods.check(method, model_args.use_peft, student_args.merge, kind)
    if student_args.adapter:
        own = peft_methods.adapter_method(student_args.adapter)
        if method != "lora" and own != method:
            raise DatagenError(f"--peft {method}: adapter {student_args.adapter} is a {own} adapter; "
                               f"continue it without --peft (or with --peft {own})")
        if own in peft_methods.METHODS:  # the adapter's own method meets the same rules
            peft_methods.check(own, True, student_args.merge or not model_args.use_peft, kind)


def load(model_dir: Path, model_args, adapter: str | None, peft: str = "lora", num_virtual_tokens: int = 16):
    """-> (model, tokenizer, chat template info, peft_config for the trainer or None). `peft` picks the adapter
    method of a new adapter (finetune/peft_methods.py); a continued --adapter keeps its own."""
    tok, template = models.load_tokenizer(model_dir)
    model = models.load_model(model_dir, tok, model_args.dtype)
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter, is_trainable=True)
        if not model_args.use_peft:  # --full on top of an adapter: fold it in, train every weight
            model = model.merge_and_unload()
        return model, tok, template, None
    return model, tok, template, peft_methods.peft_config(peft, model_args, num_virtual_tokens)


def claim_run_dir(root: Path, kind: str) -> Path:
    """The next free OUT/NAME/<kind>-NNNN (mkdir is atomic, so two runs never share one)."""
    root.mkdir(parents=True, exist_ok=True)
    while True:
        used = [int(p.name.rsplit("-", 1)[1]) for p in root.glob(f"{kind}-[0-9][0-9][0-9][0-9]")]
        final = root / f"{kind}-{max(used, default=0) + 1:04d}"
        try:
            final.mkdir()
            return final
        except FileExistsError:
            continue


def train(kind: str, data_args, student_args, train_args, model_args,
          make_trainer: Callable[..., object]) -> dict:
    """Run one training job; make_trainer(model, tok, dataset, train_args, peft_config) builds the TRL trainer."""
    check_peft(student_args, model_args, kind)
    prep = prepare(kind, data_args, student_args, model_args, train_args.seed)
    model, tok, template, peft_config = load(prep["model_dir"], model_args, student_args.adapter,
                                             student_args.peft, student_args.num_virtual_tokens)
    root = child(student_args.out, student_args.name or prep["version"].name, "run name")
    tmp = temp_run(root)
    try:
        train_args.output_dir = str(tmp / "trainer")
        max_new = student_args.eval_max_new_tokens
        before = sample.generate(model, tok, prep["prompts"], max_new) if prep["prompts"] else []
        trainer = make_trainer(model, tok, data.to_dataset(prep["rows"]), train_args, peft_config)
        set_loss = {"before": set_loss_of(trainer)} if student_args.train_set_loss else {}
        t0 = time.time()
        trainer.train()
        seconds = time.time() - t0
        if set_loss:
            set_loss["after"] = set_loss_of(trainer)
        model = trainer.model
        model.eval()
        after = sample.generate(model, tok, prep["prompts"], max_new) if prep["prompts"] else []
        outputs = save(model, tok, tmp, student_args.merge, template)
        history = provenance.loss_history(trainer.state.log_history)
        metrics = provenance.summarize(history, seconds, trainer.state.global_step)
        if set_loss:
            metrics["train_set_loss"] = set_loss
        provenance.write_json(tmp / "metrics.json", {"summary": metrics, "history": history})
        provenance.write_json(tmp / "before_after.json", [
            {"prompt": p, "before": b, "after": a} for p, b, a in zip(prep["prompts"], before, after)])
        discard(tmp / "trainer")
        prov = provenance.build(
            kind, dataset=provenance.dataset_entry(prep["version"], prep["n_train"], prep["held"]),
            base_model=base_entry(prep), chat_template=template,
            configs={"data": data_args, "student": student_args, "training": train_args, "model": model_args},
            metrics=metrics, adapter_parent=student_args.adapter, outputs=outputs, peft=peft_of(model))
        final = publish(tmp, root, kind, prov)
    except BaseException:
        discard(tmp)
        raise
    return {"path": final, "metrics": metrics, "prompts": prep["prompts"], "before": before, "after": after}


def peft_of(model) -> dict:
    """The trained adapter's method and settings for provenance.json ({"method": "full"} for full weights)."""
    from peft import PeftModel

    return peft_methods.describe(model.peft_config["default"] if isinstance(model, PeftModel) else None)


def base_entry(prep: dict) -> dict:
    """The provenance's base_model: where it came from, and the sha of the GGUF it was converted from."""
    return dict(prep["base_info"], **{k: v for k, v in models.read_source(prep["model_dir"]).items() if k == "sha256"})


def temp_run(root: Path) -> Path:
    """A private temp folder inside OUT/NAME/ that publish() renames into the next run folder."""
    make_dir(root, "--out")
    return Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))


def publish(tmp: Path, root: Path, kind: str, prov: dict) -> Path:
    """Write provenance.json and rename tmp onto the next free OUT/NAME/<kind>-NNNN in one step. On any
    failure the caller removes tmp (see discard); a claimed folder left empty is removed here."""
    final = claim_run_dir(root, kind)
    try:
        prov["path"] = str(final)
        provenance.write_json(tmp / "provenance.json", prov)
        os.chmod(tmp, 0o755)  # mkdtemp made it private
        os.replace(tmp, final)  # onto the empty claimed folder: one step
    except BaseException:
        if final.is_dir() and not any(final.iterdir()):
            final.rmdir()
        raise
    return final


def discard(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)


def set_loss_of(trainer, dataset=None) -> float:
    """Mean loss over the (already tokenized) training rows, or over `dataset` (rows the trainer tokenized,
    e.g. one held-out row: finetune.heldout), same masking as training, no update."""
    dataset = trainer.train_dataset if dataset is None else dataset
    return float(trainer.evaluate(eval_dataset=dataset, metric_key_prefix="train_set")["train_set_loss"])


def save(model, tok, out: Path, merge: bool, template: dict) -> list[str]:
    """Adapter (only the trained 'default' one) or full weights, the tokenizer, and merged/ on request."""
    from peft import PeftModel

    written = []
    if isinstance(model, PeftModel):
        model.save_pretrained(str(out), selected_adapters=["default"],
                              save_embedding_layers=bool(template.get("added_tokens")))
        written.append("adapter")
        if merge:
            merged = model.merge_and_unload(adapter_names=["default"])
            merged.save_pretrained(str(out / "merged"))
            tok.save_pretrained(str(out / "merged"))
            written.append("merged")
    else:
        model.save_pretrained(str(out))
        written.append("full")
        if merge:
            log.info("--merge has nothing to do for a full fine-tune: the run folder holds full weights")
    tok.save_pretrained(str(out))
    return written
