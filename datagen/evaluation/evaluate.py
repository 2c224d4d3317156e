"""`datagen eval`: students (and their base) answer an eval set through the session's cached teacher
layer; answers are scored for verifiable instruction following, compared pairwise by the judge in
both orders, and each student's held-out loss is measured on the records its training held out.
An interrupted eval resumes from the response cache; a re-scored eval asks no model again.

    evaluate(EvalConfig(students=["adapters/self_instruct/sft-0001"], limit=40)) -> Path("evals/ifeval/e0001")
"""
from __future__ import annotations

import json
import logging

from datagen import config as C
from datagen.backends import public_config
from datagen.versions import open_version
from datagen.errors import DatagenError
from datagen.evaluation import knowledge as K
from datagen.evaluation import scoring
from datagen.constraints import KINDS
from datagen.evaluation.config import ANSWER_TOKENS
from datagen.evaluation.evalset import BUNDLED, load_eval_set
from datagen.evaluation.models import Model, models_of
from datagen.evaluation.paired import compare_scored
from datagen.evaluation.store import write_eval
from datagen.record import canonical_json
from datagen.run import run_id_of  # the same rule: where and how it runs is not part of the id
from datagen.session import open_session
from datagen.teacher import Request, Sampling
from datagen.templates import TemplateLoader

log = logging.getLogger("datagen")


def ask(teacher, label: str, progress, prompts: list[tuple[str, str]], sampling: Sampling) -> list:
    """[(prompt id, prompt text)] -> one Completion per prompt from the model's cached teacher."""
    reqs = [Request(messages=({"role": "user", "content": text},), sampling=sampling, key=pid) for pid, text in prompts]
    progress.set_total(len(reqs), desc=f"eval: {label}")
    comps = teacher.complete(reqs)
    if teacher.stopped:
        raise DatagenError(f"eval stopped: {teacher.stopped} while {label} answered; rerun with a larger "
                           "budget (the cache keeps every answer so far)")
    return comps


def heldout_jobs(cfg, models: list[Model]) -> list[tuple[Model, str, list[str] | None]]:
    """(student, version, ids): auto = the records each adapter's training held out (its provenance);
    a VERSION = that version's seeded split (the trainer's, with --num_eval = heldout_max) for every student."""
    if cfg.heldout == "none":
        return []
    jobs = []
    for m in (m for m in models if m.role == "student"):
        ds = m.provenance.get("dataset") or {}
        if cfg.heldout != "auto":
            jobs.append((m, cfg.heldout, None))
        elif ds.get("path") and ds.get("held_out_ids"):
            jobs.append((m, ds["path"], list(ds["held_out_ids"])[: cfg.heldout_max]))
    return jobs


def heldout(cfg, models: list[Model]) -> tuple[dict, dict]:
    """{label: loss summary} for students with local weights and for the base on the same rows, and
    {label: (version ref, held-out records)} for the reference comparison."""
    jobs = heldout_jobs(cfg, models)
    if not jobs:
        return {}, {}
    try:
        from finetune.heldout import heldout_loss, heldout_rows
    except ImportError:
        raise DatagenError("held-out records need the train extra (pip install 'datagen[train]'); "
                           "or pass --heldout none") from None
    losses, held = {}, {}
    base = next((m for m in models if m.role == "base" and m.teacher.backend == "student"), None)
    for m, version, ids in jobs:
        records = heldout_rows(version, ids, n=cfg.heldout_max, runs=cfg.runs)[: cfg.heldout_max]
        ref = open_version(version, cfg.runs).ref
        held[m.label] = (ref, records)
        if m.teacher.backend != "student" or not records:
            continue  # an endpoint has no weights to measure a loss with
        ids = [r.id for r in records]
        losses[m.label] = scoring.loss_summary(heldout_loss(m.spec, version, cfg.runs, ids), cfg.seed, cfg.resamples)
        if base is not None and f"base@{ref}" not in losses:
            b = heldout_loss(base.spec, version, cfg.runs, ids)
            losses[f"base@{ref}"] = scoring.loss_summary(b, cfg.seed, cfg.resamples)
    return losses, held


def pairs_to_judge(cfg, models: list[Model]) -> list[tuple[Model, Model, str]]:
    students = [m for m in models if m.role == "student"]
    base = next((m for m in models if m.role == "base"), None)
    pairs = [(s, base, "base") for s in students if base is not None and "base" in cfg.compare]
    if "students" in cfg.compare:
        pairs += [(students[0], s, "students") for s in students[1:]]
    return pairs


def evaluate(cfg, judge_backend=None, backends: dict | None = None, progress=None):
    """`backends` maps a model label to a backend that replaces its configured one (tests)."""
    from datagen.evaluation.judging import judge_all, result_rows

    cfg.check()
    knowledge = K.is_knowledge(cfg.eval_set)
    evalset = (K.load_knowledge_set(cfg.eval_set, cfg.runs) if knowledge
               else load_eval_set(None if cfg.eval_set == BUNDLED else cfg.eval_set))
    prompts = list(evalset.prompts[: cfg.limit] if cfg.limit else evalset.prompts)
    models = models_of(cfg)
    backends = backends or {}
    answer_s = Sampling(max_tokens=cfg.answer_max_tokens or ANSWER_TOKENS[evalset.format],
                        temperature=cfg.answer_temperature, seed=cfg.seed)
    need_judge = cfg.judge and (pairs_to_judge(cfg, models) or "reference" in cfg.compare)
    if need_judge and knowledge:  # the judge grades each answer against its reference instead
        TemplateLoader(cfg.templates or None).load(cfg.knowledge_template).render(question="", reference="", answer="")
    elif need_judge:  # a broken judge template fails now, before any model is loaded or asked
        TemplateLoader(cfg.templates or None).load(cfg.judge_template).render(instruction="", first="", second="")
    run_id = run_id_of(cfg)
    losses, held = heldout(cfg, models)
    with open_session(cfg, cfg.output_dir, run_id, judge_backend, progress,
                      purpose="the pairwise judge" if need_judge else None) as session:
        # one cached teacher per model for everything it answers: a student's weights load once
        teachers = {m.label: session.model(m.teacher, backends.get(m.label)) for m in models}
        answers = {m.label: ask(teachers[m.label], m.label, session.progress, [(p.id, p.prompt) for p in prompts],
                                answer_s) for m in models}
        ref_answers = {}
        if "reference" in cfg.compare:
            for m in models:
                if m.label in held:
                    recs = held[m.label][1]
                    ref_answers[m.label] = ask(teachers[m.label], m.label, session.progress,
                                               [(r.id, r.prompt_text()) for r in recs], answer_s)
        judged = judge_all(session, cfg, pairs_to_judge(cfg, models), prompts, answers, ref_answers, held) \
            if need_judge and not knowledge else []
        correct = K.judge_answers(session, cfg, prompts, answers) if need_judge and knowledge else {}
        judge_info = session.teacher_manifest()
    score = K.score if knowledge else scoring.score_answers
    scored = {label: score(prompts, [c.text for c in comps]) for label, comps in answers.items()}
    summary = summarize(cfg, evalset, prompts, models, answers, scored, judged, losses, correct)
    rows = result_rows(prompts, answers, scored, judged, ref_answers, held)
    provenance = {"run_id": run_id, "config": public_config(C.to_dict(cfg)),
                  "eval_set": {"name": evalset.name, "source": evalset.source, "sha256": evalset.sha256,
                               "prompts": len(evalset.prompts), "scored": len(prompts),
                               "format": evalset.format},
                  "models": [m.describe() | {"teacher_stats": teachers[m.label].stats.to_dict(),
                                             "engine": engine_of(teachers[m.label])} for m in models],
                  "answer_sampling": json.loads(canonical_json(answer_s.__dict__)), "judge": judge_info or None}
    return write_eval(cfg.output_dir, cfg.name or evalset.name, rows, summary, provenance)


def paired_labels(models: list[Model]) -> list[tuple[str, str, str]]:
    """(a, b, kind): every student against the base, and every two students against each other."""
    students = [m.label for m in models if m.role == "student"]
    base = next((m.label for m in models if m.role == "base"), None)
    pairs = [(s, base, "base") for s in students if base is not None]
    return pairs + [(a, b, "students") for i, a in enumerate(students) for b in students[i + 1:]]


def engine_of(teacher) -> dict | None:
    """A local student's engine (llama.cpp or transformers, format, threads, batch size); None for endpoints."""
    info = getattr(getattr(teacher, "inner", teacher), "engine_info", None)
    return info() if callable(info) else None


def summarize(cfg, evalset, prompts, models, answers, scored, judged, losses, correct=None) -> dict:
    if evalset.format == "knowledge":
        return knowledge_summary(cfg, evalset, prompts, models, answers, scored, correct or {}, losses)
    per_model = {}
    for m in models:
        comps = answers[m.label]
        per_model[m.label] = {
            "role": m.role, "spec": m.describe()["spec"], "dataset": m.describe()["dataset"],
            "if": scoring.if_summary(scored[m.label], cfg.seed, cfg.resamples),
            "answers": scoring.answer_summary([c.text for c in comps], [c.finish_reason for c in comps]),
            "heldout_loss": losses.get(m.label)}
    base_losses = {k: v for k, v in losses.items() if k.startswith("base@")}
    split_of = {k: v.split for k, v in KINDS.items()}
    paired = [{"a": a, "b": b, "kind": kind, **compare_scored(
        scored[a], scored[b], [c.text for c in answers[a]], [c.text for c in answers[b]], split_of, cfg.resamples,
        cfg.seed)} for a, b, kind in paired_labels(models)]
    return {"eval_set": {"name": evalset.name, "sha256": evalset.sha256, "scored": len(prompts),
                         "format": evalset.format},
            "models": per_model, "base_heldout_loss": base_losses, "paired": paired,
            "pairs": [scoring.pair_summary(a, b, kind, res, cfg.seed, cfg.resamples) for a, b, kind, res in judged]}


def knowledge_summary(cfg, evalset, prompts, models, answers, scored, correct: dict, losses: dict) -> dict:
    """A knowledge eval's summary: per model token F1, exact match (and the judge's correct share) with
    intervals; every student against its base (and each other) as paired differences."""
    per_model = {m.label: {
        "role": m.role, "spec": m.describe()["spec"], "dataset": m.describe()["dataset"], "if": None,
        "knowledge": K.summary(scored[m.label], correct.get(m.label), cfg.seed, cfg.resamples),
        "answers": scoring.answer_summary([c.text for c in answers[m.label]],
                                          [c.finish_reason for c in answers[m.label]]),
        "heldout_loss": losses.get(m.label)} for m in models}
    paired = [{"a": a, "b": b, "kind": kind, **K.compare(scored[a], scored[b], correct.get(a), correct.get(b),
                                                       cfg.resamples, cfg.seed)}
              for a, b, kind in paired_labels(models)]
    return {"eval_set": {"name": evalset.name, "sha256": evalset.sha256, "scored": len(prompts),
                         "format": evalset.format, "source": evalset.source},
            "models": per_model, "paired": paired, "pairs": [],
            "base_heldout_loss": {k: v for k, v in losses.items() if k.startswith("base@")},
            "documents": sorted({p.document for p in prompts})}
