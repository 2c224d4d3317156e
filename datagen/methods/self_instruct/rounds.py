"""One Self-Instruct round (Wang et al. 2022 §2.2-2.3): generate new instructions from in-context
tasks, filter them and check ROUGE-L novelty against the whole pool, identify classification tasks,
then write instances (output-first for classification). Alpaca's variant (Taori et al. 2023) asks
for whole tasks at once and skips classification.

    Round(setup, pool, round_no=1).run() -> the round's stats; kept records land in pool.out
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datagen.methods.self_instruct import parse as P
from datagen.methods.self_instruct.prompts import Task, build_generate_prompts, derive_seed, one_line, persona_for
from datagen.record import Record
from datagen.teacher import Request

METHOD = "self_instruct"


@dataclass
class Setup:
    """Fixed for the run: config, context, teacher, templates, samplings and few-shot examples."""
    cfg: Any
    ctx: Any
    teacher: Any
    gen_t: Any
    cls_t: Any
    inst_t: dict
    gen_s: Any
    cls_s: Any
    inst_s: Any
    cls_ex: list
    inst_ex: dict
    personas: Any = None  # a PersonaSampler, or None: prompts rendered exactly as without personas


@dataclass
class Pool:
    """What grows: the seed and machine task pools, the novelty index over both, and the output."""
    seed_pool: list[Task]
    index: Any
    pool_ids: list[str]
    machine_pool: list[Task] = field(default_factory=list)
    out: list[Record] = field(default_factory=list)


def error_reason(comp) -> str:
    """"bad_request: prompt too long" -> "bad_request"; budget stops read "budget_exhausted"."""
    return (comp.error or "teacher_error").split(":")[0].strip() or "teacher_error"


class Round:
    def __init__(self, setup: Setup, pool: Pool, round_no: int) -> None:
        self.s, self.pool, self.round_no = setup, pool, round_no
        self.st = {"round": round_no, "requests": 0, "prompts": setup.cfg.prompts_per_round, "parsed": 0,
                   "candidates": 0, "classification": 0, "kept": 0, "dropped": {}}

    def count(self, reason: str) -> str:
        self.st["dropped"][reason] = self.st["dropped"].get(reason, 0) + 1
        return reason

    def drop(self, rec: Record, reason: str, stage: str, detail: str = "") -> None:
        self.s.ctx.reject(rec, self.count(reason), stage, detail)

    def reject_answer(self, req: Request, comp, lineage, reason: str, stage: str) -> None:
        """A whole answer is unusable: the rejected row is its prompt, with the answer in meta."""
        rec = Record.make(req.messages[-1]["content"], lineage=lineage,
                          meta={"answer": comp.text, "finish_reason": comp.finish_reason})
        self.s.ctx.reject(rec, self.count(reason), stage, comp.error or "")

    def run(self) -> dict:
        """The three steps one after another (the sequential schedule)."""
        cands = self.take_generation(self.s.teacher.complete(self.generation_requests()))
        pending = self.classify(cands)
        reqs = self.instance_requests(pending)
        self.take_instances(pending, self.s.teacher.complete(reqs) if reqs else [])
        return self.st

    def generation_requests(self) -> list[Request]:
        """The round's B generation prompts, in-context tasks sampled from the pools as they are now."""
        s = self.s
        self.batch = build_generate_prompts((self.pool.seed_pool, self.pool.machine_pool), s.cfg, s.gen_t, s.gen_s,
                                            s.ctx.rng, self.round_no, s.personas)
        self.st["requests"] += len(self.batch)
        s.ctx.progress.set_total(len(self.batch), desc=f"self_instruct round {self.round_no}: instructions")
        return [req for req, _ in self.batch]

    def take_generation(self, answers) -> list[tuple[Record, int]]:
        """New instructions from each answer; those that pass filters and novelty join the pool.
        Returns (candidate, pool slot) pairs awaiting classification (none in alpaca_style)."""
        s, cfg = self.s, self.s.cfg
        cands: list[tuple[Record, int]] = []
        for i, ((req, tasks), comp) in enumerate(zip(self.batch, answers)):
            lineage = s.ctx.lineage(METHOD, s.gen_t, parents=[t.id for t in tasks], step=self.round_no,
                                    sampling=req.sampling)
            if not comp.ok:
                self.reject_answer(req, comp, lineage, error_reason(comp), "teacher")
                continue
            limit = cfg.alpaca_tasks_per_request if cfg.alpaca_style else cfg.max_new_per_prompt
            whole = {t[0]: t[1:] for t in P.parse_alpaca_tasks(comp.text, limit + 1)} if cfg.alpaca_style else {}
            items = list(whole) if cfg.alpaca_style else P.parse_instructions(comp.text, limit=limit + 1)
            self.st["parsed"] += len(items)
            meta = {"round": self.round_no, "gen_finish_reason": comp.finish_reason}
            if s.personas is not None:  # only then: a run without personas keeps its records byte for byte
                meta["persona_id"] = persona_for(s.personas, cfg, self.round_no, i).id
            if comp.finish_reason == "length" and items:  # the last item may be cut mid-sentence
                self.drop(Record.make(items.pop(), lineage=lineage, meta=meta), "truncated", "parse")
            if not items:
                self.reject_answer(req, comp, lineage, "no_instructions", "parse")
            for item in items[:limit]:
                rec = self.novel(Record.make(item, lineage=lineage, meta=dict(meta)))
                if rec is None:
                    continue
                if cfg.alpaca_style:
                    rec = self.keep_whole(rec, whole[item], comp.finish_reason)
                    if rec is None:
                        continue
                self.pool.pool_ids.append(rec.id)
                self.pool.index.add(item)
                if not cfg.alpaca_style:
                    cands.append((rec, len(self.pool.pool_ids) - 1))
        self.st["candidates"] = len(cands)
        return cands

    def novel(self, rec: Record) -> Record | None:
        """The §2.3 instruction filters, then ROUGE-L < threshold against the whole pool."""
        from filters.self_instruct import instruction_reason

        cfg, item = self.s.cfg, rec.instruction
        verdict = instruction_reason(item, cfg.min_words, cfg.max_words)
        if verdict:
            reason, detail = verdict if isinstance(verdict, tuple) else (verdict, "")
            self.drop(rec, reason, "self_instruct:filter", detail)
            return None
        score, j = self.pool.index.query(item)
        if score >= cfg.novelty_threshold:  # Wang et al. 2022 §2.3: ROUGE-L < 0.7 with the pool
            self.drop(rec, "not_novel", "self_instruct:novelty", self.pool.pool_ids[j])
            return None
        rec.meta.update(novelty=round(score, 4), most_similar=self.pool.pool_ids[j] if j >= 0 else None)
        return rec

    def keep_whole(self, rec: Record, instance: tuple[str, str], finish_reason) -> Record | None:
        """alpaca_style: the task came whole; check its instance and keep it (no classification)."""
        from filters.self_instruct import copied_output_reason, instances_reason

        rec = rec.replace(input=instance[0], output=instance[1],
                          meta=dict(rec.meta, alpaca_style=True, finish_reason=finish_reason))
        bad = instances_reason([instance]) or (self.s.cfg.drop_copied_output and copied_output_reason([instance]))
        if bad:
            self.drop(rec, bad, "self_instruct:filter")
            return None
        self.pool.out.append(rec)
        self.pool.machine_pool.append(Task(rec.instruction, rec.id, False, rec.input, rec.output))
        self.st["kept"] += 1
        return rec

    def classify(self, cands) -> list[tuple[Record, int]]:
        """§2.2 classification identification: the candidates with a verdict."""
        s = self.s
        reqs = [Request(messages=s.cls_t.render(examples=s.cls_ex, instruction=one_line(r.instruction)),
                        sampling=s.cls_s, key=f"cls-{self.round_no}-{k}") for k, (r, _) in enumerate(cands)]
        self.st["requests"] += len(reqs)
        s.ctx.progress.set_total(len(reqs), desc=f"self_instruct round {self.round_no}: classification")
        pending = []
        for (rec, slot), comp in zip(cands, s.teacher.complete(reqs) if reqs else []):
            if not comp.ok:
                self.drop(rec, error_reason(comp), "teacher", comp.error or "")
                continue
            verdict = P.parse_is_classification(comp.text)
            rec.meta.update(is_classification=bool(verdict), classification_answer=comp.text.strip()[:40])
            self.st["classification"] += bool(verdict)
            pending.append((rec, slot))
        return pending

    def instance_requests(self, pending) -> list[Request]:
        """A request for the instances of each classified task (output-first for classification tasks)."""
        s, cfg = self.s, self.s.cfg
        reqs = []
        for k, (rec, _) in enumerate(pending):
            c = rec.meta["is_classification"]
            msgs = s.inst_t[c].render(examples=s.inst_ex[c], instruction=one_line(rec.instruction),
                                      no_input=cfg.no_input)
            seed = derive_seed(s.ctx.sampling.seed, self.round_no, 50_000 + k)
            reqs.append(Request(messages=msgs, sampling=s.inst_s.replace(seed=seed), key=f"inst-{self.round_no}-{k}"))
        self.st["requests"] += len(reqs)
        s.ctx.progress.set_total(len(reqs), desc=f"self_instruct round {self.round_no}: instances")
        return reqs

    def take_instances(self, pending, answers) -> None:
        """Each task with valid instances joins the machine pool."""
        for (rec, slot), comp in zip(pending, answers):
            if not comp.ok:
                self.drop(rec, error_reason(comp), "teacher", comp.error or "")
                continue
            self.add_instances(rec, slot, comp)

    def add_instances(self, rec: Record, slot: int, comp) -> None:
        from filters.self_instruct import copied_output_reason, instances_reason

        c, cfg, tpl = rec.meta["is_classification"], self.s.cfg, self.s.inst_t[rec.meta["is_classification"]]
        pairs = P.parse_instances(comp.text, c)
        if comp.finish_reason == "length" and len(pairs) > 1:
            pairs = pairs[:-1]  # the last instance was cut by max_tokens
        meta = dict(rec.meta, instance_template=tpl.name, instance_template_sha=tpl.sha,
                    finish_reason=comp.finish_reason, instances=len(pairs))
        if not pairs:
            self.drop(rec.replace(meta=dict(meta, answer=comp.text)), "no_instance", "parse")
            return
        reason = instances_reason(pairs) or (copied_output_reason(pairs) if cfg.drop_copied_output else None)
        if reason:
            self.drop(rec.replace(meta=dict(meta, answer=comp.text)), reason, "self_instruct:filter")
            return
        made = [Record.make(rec.instruction, inp, outp, lineage=rec.lineage, meta=meta)
                for inp, outp in pairs[: cfg.max_instances]]
        self.pool.out.extend(made)
        self.pool.pool_ids[slot] = made[0].id
        self.pool.machine_pool.append(Task(rec.instruction, made[0].id, False, made[0].input, made[0].output))
        self.st["kept"] += 1
