"""The decoding loop of LlamaBatchEngine (datagen/backends/llama_batch.py): which sequence sits in which
slot, what goes into each llama_decode call, and when a candidate is done.

The rules that keep a prompt's text independent of what is decoded beside it (llama.cpp's CPU kernels
compute a row alone, but pick a different kernel for a lone row than for several, and for one query of a
stream than for several):
- a prefill call holds one prompt, and each prompt row keeps the class of call its prompt gives it (64+ rows
  of a stream: flash attention's tiled kernel; fewer: its row kernel; one: the lone-row matmul) whatever it
  reuses: the plan of datagen/backends/llama_plan.py;
- a decode call holds one token of every active sequence and at least 2 outputs (a lone sequence gets a
  throwaway companion in a free slot);
- active sequences sit in slots 0..k-1 (llama.cpp splits a batch at a gap in the sequence ids), so a slot
  freed while nothing waits is filled by moving the last sequence into it (a KV stream copy);
- a prompt reuses only another prompt's tokens (computed by a prefill call), never generated ones.
"""
from __future__ import annotations

import codecs
from collections import deque
from dataclasses import dataclass

from datagen.backends.llama_plan import calls, cut, segments


MIN_REUSE = 16  # prompt tokens worth copying another slot's KV stream for (a copy moves the whole stream)


@dataclass(frozen=True)
class Generated:
    text: str
    finish_reason: str  # "stop" | "length" | "error"
    prompt_tokens: int
    completion_tokens: int
    error: str | None = None


@dataclass(frozen=True)
class Job:
    prompt: str
    max_tokens: int
    temperature: float
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    special: bool = True  # parse <|im_start|> and the like in the prompt as special tokens


class _Seq:
    """One candidate being decoded in slot `slot`."""

    def __init__(self, job_index: int, k: int, slot: int, job: Job, sampler, n_prompt: int) -> None:
        self.job_index, self.k, self.slot, self.job, self.sampler = job_index, k, slot, job, sampler
        self.n_prompt, self.n_gen, self.text, self.last = n_prompt, 0, "", -1
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
        self.finish: str | None = None




def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class Scheduler:
    def __init__(self, eng, on_done) -> None:
        self.e, self.ll, self.on_done = eng, eng.ll, on_done
        self.jobs: dict[int, Job] = {}
        self.queue: deque = deque()
        self.results: dict[int, list] = {}
        self.left: dict[int, int] = {}
        self.tokens: dict[int, list[int]] = {}
        self.active: dict[int, _Seq] = {}
        self.stats = eng.stats

    def add(self, i: int, job: Job) -> None:
        """Queue job `i`; its candidates go in groups that fit the slots."""
        self.jobs[i], self.results[i], self.left[i] = job, [None] * job.n, job.n
        for start in range(0, job.n, self.e.n_seq):
            self.queue.append((i, list(range(start, min(job.n, start + self.e.n_seq)))))

    @property
    def busy(self) -> bool:
        return bool(self.queue or self.active)

    def step(self) -> None:
        """Admit what fits (a prefill call each), then one decode call for every active sequence."""
        self.admit()
        if self.active:
            self.compact()
            self.decode_step()

    # --- admission and prefill ---------------------------------------------------------------------

    def admit(self) -> None:
        e = self.e
        while self.queue:
            i, ks = self.queue[0]
            free = [s for s in range(e.n_seq) if s not in self.active]
            if len(free) < len(ks):
                return
            self.queue.popleft()
            job = self.jobs[i]
            if i not in self.tokens:
                self.tokens[i] = e.tokenize(job.prompt, special=job.special)
            toks = self.tokens[i]
            if not toks or len(toks) >= e.n_ctx:
                err = f"Requested tokens ({len(toks)}) exceed context window of {e.n_ctx}" if toks else "empty prompt"
                for k in ks:
                    self.record(i, k, Generated("", "error", len(toks), 0, err))
                continue
            slots = free[:len(ks)]
            self.prefill(slots[0], toks)
            for k, slot in zip(ks, slots):
                if slot != slots[0]:  # the other candidates share the prefill: a copy of its KV stream
                    self.copy_stream(slots[0], slot)
                seq = _Seq(i, k, slot, job, e.make_sampler(job, k), len(toks))
                self.active[slot] = seq
                self.accept(seq, self.sample(seq, -1))

    def prefill(self, slot: int, toks: list[int]) -> None:
        """The prompt's rows from the furthest point a slot's KV lets it reuse, computed in the calls of its
        plan (datagen/backends/llama_plan.py): a row's numbers are the same whatever was reused."""
        e, n = self.e, len(toks)
        segs = segments(toks, e.is_break)

        def reusable(s: int) -> int:
            return cut(segs, e.plans[s], common_prefix(e.held[s], toks), n) if e.held[s] else 0

        start, src = reusable(slot), slot
        for s in range(e.n_seq):
            if s != slot and (c := reusable(s)) >= start + max(MIN_REUSE, 1):
                start, src = c, s
        if src != slot:
            self.copy_stream(src, slot)
        self.ll.llama_memory_seq_rm(e.mem, slot, start, -1)
        e.held[slot], e.plans[slot] = [], []
        for a, b in calls(segs, start, e.n_batch):
            self.put(list(range(a, b)), toks[a:b], [slot] * (b - a), last_logits=b == n)
        e.held[slot], e.plans[slot] = list(toks), segs
        self.stats["prompt_tokens"] += n - start
        self.stats["prompt_reused"] += start

    def copy_stream(self, src: int, dst: int) -> None:
        ll, e = self.ll, self.e
        ll.llama_memory_seq_rm(e.mem, dst, -1, -1)
        ll.llama_memory_seq_cp(e.mem, src, dst, -1, -1)
        e.held[dst], e.plans[dst] = list(e.held[src]), list(e.plans[src])

    def put(self, positions, tokens, seqs, last_logits: bool = True, all_logits: bool = False) -> None:
        b = self.e.batch
        n = len(tokens)
        for j in range(n):
            b.token[j], b.pos[j], b.n_seq_id[j] = tokens[j], positions[j], 1
            b.seq_id[j][0] = seqs[j]
            b.logits[j] = all_logits or (last_logits and j == n - 1)
        b.n_tokens = n
        rc = self.ll.llama_decode(self.e.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed ({rc})")
        self.stats["decode_calls"] += 1

    # --- decoding ----------------------------------------------------------------------------------

    def compact(self) -> None:
        """Move the last sequences into the gaps, so the active slots are 0..k-1."""
        while True:
            hole = next(s for s in range(self.e.n_seq + 1) if s not in self.active)
            high = max(self.active)
            if high < hole:
                return
            self.copy_stream(high, hole)
            seq = self.active.pop(high)
            seq.slot = hole
            self.active[hole] = seq
            self.stats["moves"] += 1

    def decode_step(self) -> None:
        e, ll = self.e, self.ll
        slots = sorted(self.active)
        seqs = [self.active[s] for s in slots]
        positions = [q.n_prompt + q.n_gen - 1 for q in seqs]
        tokens = [q.last for q in seqs]
        ids = list(slots)
        if len(seqs) == 1:  # a lone row takes another kernel: give it a companion in slot 1
            ll.llama_memory_seq_rm(e.mem, 1, -1, -1)
            e.held[1], e.plans[1] = [], []
            positions.append(0)
            tokens.append(tokens[0])
            ids.append(1)
        self.put(positions, tokens, ids, all_logits=True)
        if len(seqs) == 1:
            ll.llama_memory_seq_rm(e.mem, 1, -1, -1)
        self.stats["generated_tokens"] += len(seqs)
        for j, q in enumerate(seqs):
            self.accept(q, self.sample(q, j))

    def sample(self, q: _Seq, idx: int) -> int:
        logits = self.e.logits(idx)
        if self.e.trace is not None:  # the logits' bytes, to check that batching changes no number
            self.e.trace.setdefault((q.job_index, q.k), []).append(hash(logits.tobytes()))
        return q.sampler.sample(logits)

    def accept(self, q: _Seq, tok: int) -> None:
        e = self.e
        if self.ll.llama_vocab_is_eog(e.vocab, tok):
            return self.finish(q, "stop")
        q.n_gen += 1
        before = len(q.text)
        q.text += q.decoder.decode(e.piece(tok))
        hits = [at for at in (q.text.find(s, max(0, before - len(s) + 1)) for s in q.job.stop if s) if at >= 0]
        if hits:
            q.text = q.text[:min(hits)]
            return self.finish(q, "stop", flush=False)
        if q.n_gen >= q.job.max_tokens or q.n_prompt + q.n_gen >= e.n_ctx:
            return self.finish(q, "length")
        q.last = tok

    def finish(self, q: _Seq, reason: str, flush: bool = True) -> None:
        if flush:
            q.text += q.decoder.decode(b"", final=True)
        self.active.pop(q.slot, None)
        self.record(q.job_index, q.k, Generated(q.text, reason, q.n_prompt, q.n_gen))

    def record(self, i: int, k: int, gen: Generated) -> None:
        self.results[i][k] = gen
        self.left[i] -= 1
        if self.left[i] == 0:
            for d in (self.tokens, self.jobs, self.left):
                d.pop(i, None)
            self.on_done(i, self.results.pop(i))
