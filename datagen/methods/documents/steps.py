"""The documents method's steps: read, chunk, ask, check the evidence, answer, hold out. Each teacher
step is one batch (a rerun asks the response cache the same requests in the same order).

    run_steps(teacher, Config(docs=["handbook/"]), ctx) -> [Record, ...]  (rejections through ctx.reject)
"""
from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from datagen.documents import chunk_text, read_documents
from datagen.errors import DatagenError
from datagen.extras import MissingExtra
from datagen.methods.documents.heldout import decontaminate, split_heldout
from datagen.methods.documents.parse import find_verbatim, parse_question, question_problem
from datagen.methods.documents.prompts import (Job, build_answer_requests, build_question_requests, pick_evidence,
                                               source_meta)
from datagen.record import Record

METHOD = "documents"


def read_all(cfg, ctx) -> list:
    """The readable documents; each unreadable one is a rejected record (stage "read") with its reason."""
    docs, bad = read_documents(list(cfg.docs))
    for u in bad:
        rec = Record.make(f"[document] {u.path}", lineage=ctx.lineage(METHOD, operation="read"),
                          meta={"source": {"path": u.path, "sha256": u.sha256, "kind": u.kind}})
        ctx.reject(rec, u.reason, "read", u.detail)
    ctx.stats["unreadable"] = dict(Counter(u.reason for u in bad))
    if not docs:
        needs = sorted({u.kind.upper() for u in bad if u.reason == "missing_extra"})
        if needs:  # the one fix that reads them: say it as every missing extra is said
            raise MissingExtra(f"reading {' and '.join(needs)} documents", "documents")
        why = "; ".join(f"{u.path}: {u.reason}" for u in bad[:4]) + ("; ..." if len(bad) > 4 else "")
        raise DatagenError(f"no readable document in method_cfg.docs ({len(bad)} file(s) unreadable: {why})")
    return docs


def make_jobs(docs: list, cfg, ctx) -> list[Job]:
    chunks = [(d, c) for d in docs for c in chunk_text(d.text, cfg.chunking)]
    chunks = chunks[: cfg.max_chunks] if cfg.max_chunks else chunks
    ctx.stats["chunks"] = len(chunks)
    base = ctx.rng.getrandbits(64)
    jobs = []
    for d, c in chunks:
        for kind in cfg.kinds:
            picked = None
            if cfg.evidence == "pick":
                picked = pick_evidence(d, c, random.Random(f"{base}:{d.sha256}:{c.start}:{kind}"),
                                       cfg.min_evidence_words)
                if picked is None:
                    continue
            jobs.append(Job(d, c, kind, picked))
    return jobs


def ask(jobs: list[Job], teacher, cfg, ctx) -> list[tuple[Job, str, dict]]:
    """(job, question, meta) for every question whose evidence occurs in its chunk; the rest rejected."""
    template = ctx.templates.load(cfg.question_template)
    ctx.progress.set_total(len(jobs), desc="documents: questions")
    out = []
    for job, comp in zip(jobs, teacher.complete(build_question_requests(jobs, template, ctx.sampling))):
        lineage = ctx.lineage(METHOD, template, operation=f"question:{job.kind}")
        meta = {"source": source_meta(job.doc, job.chunk), "question_kind": job.kind}
        if not comp.ok:
            ctx.reject(Record.make(f"[question] {job.key}", lineage=lineage, meta=meta), "teacher_error", "teacher",
                       comp.error or "")
            continue
        question, evidence = parse_question(comp.text)
        span = job.evidence or (find_verbatim(evidence, job.doc.text, job.chunk.start, job.chunk.end)
                                if evidence else None)
        meta["evidence"] = {"text": job.doc.text[span[0]:span[1]] if span else evidence,
                            "span": list(span) if span else None}
        why = question_problem(question, meta["evidence"]["text"], span, cfg.min_evidence_words)
        if why:
            ctx.reject(Record.make(question or comp.text.strip()[:300] or "(empty)", lineage=lineage,
                                   meta={**meta, "reply": comp.text[:1000]}), why, "parse")
        else:
            out.append((job, question, meta))
    return out


def answer(asked: list, teacher, cfg, ctx) -> list[Record]:
    template = ctx.templates.load(cfg.answer_template)
    sampling = ctx.sampling.replace(max_tokens=cfg.answer_max_tokens) if cfg.answer_max_tokens else ctx.sampling
    ctx.progress.set_total(len(asked), desc="documents: answers")
    comps = teacher.complete(build_answer_requests([(j, q) for j, q, _ in asked], template, sampling))
    out, seen = [], set()
    for (job, question, meta), comp in zip(asked, comps):
        text = (comp.text or "").strip() if comp.ok else ""
        rec = Record.make(question, job.chunk.text if cfg.context == "input" else "", text,
                          lineage=ctx.lineage(METHOD, template, operation=f"answer:{job.kind}", sampling=sampling),
                          meta={**meta, "finish_reason": comp.finish_reason if comp.ok else None})
        if not comp.ok:
            ctx.reject(rec, "teacher_error", "teacher", comp.error or "")
        elif not text:
            ctx.reject(rec, "empty_output", "parse")
        elif rec.id in seen:
            ctx.reject(rec, "duplicate_record", "parse")
        else:
            seen.add(rec.id)
            out.append(rec)
    return out


def run_steps(teacher, cfg, ctx) -> list[Record]:
    docs = read_all(cfg, ctx)
    jobs = make_jobs(docs, cfg, ctx)
    asked = ask(jobs, teacher, cfg, ctx)
    records = answer(asked, teacher, cfg, ctx)
    train, held = split_heldout(records, cfg.heldout, ctx.sampling.seed or 0, cfg.heldout_min_support)
    train, near = decontaminate(train, held, cfg.heldout_jaccard)
    for r in held:
        ctx.reject(r, "heldout_eval", "heldout", "a knowledge eval question: never trained on")
    for r, held_id in near:
        ctx.reject(r, "heldout_overlap", "heldout", held_id)
    per_doc = Counter(r.meta["source"]["sha256"] for r in train)
    ctx.stats.update(documents=len(docs), questions_asked=len(jobs), questions_grounded=len(asked),
                     answered=len(records), heldout=len(held), heldout_overlap=len(near), kept=len(train),
                     per_document=[{"path": d.path, "sha256": d.sha256, "kind": d.kind, "records": per_doc[d.sha256]}
                                   for d in docs])
    return train
