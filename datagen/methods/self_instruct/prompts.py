"""Self-Instruct prompt building (Wang et al. 2022 §2.2): in-context task sampling from the pool,
per-request seeds, and the fixed few-shot examples of the classification and instance prompts.
Pure functions over an explicit rng.

    derive_seed(0, 2, 5) -> 200005
"""
from __future__ import annotations

from dataclasses import dataclass

from datagen.record import Record, normalize
from datagen.teacher import Request


@dataclass
class Task:
    """A pool entry for in-context sampling: Task("Name a fruit.", id="ab12...", is_seed=True)."""
    instruction: str
    id: str
    is_seed: bool
    input: str = ""
    output: str = ""


def one_line(text: str) -> str:
    return normalize(text)


def sample_context(seed_pool: list[Task], machine_pool: list[Task], cfg, rng) -> list[Task]:
    """num_prompt_instructions tasks: num_machine_instructions from the machine pool (fewer while
    it is small), the rest from the seeds, shuffled. (12 seeds, 0 machine, 8/2) -> 8 seeds."""
    n_machine = min(cfg.num_machine_instructions, len(machine_pool))
    n_seed = min(cfg.num_prompt_instructions - n_machine, len(seed_pool))
    chosen = rng.sample(seed_pool, n_seed) + rng.sample(machine_pool, n_machine)
    rng.shuffle(chosen)
    return chosen


def build_generate_prompts(pools: tuple[list[Task], list[Task]], cfg, template, sampling, rng,
                           round_no: int, personas=None) -> list[tuple[Request, list[Task]]]:
    """B requests from the (seed, machine) pools, each with the in-context tasks it shows (their ids
    become the lineage parents); cfg.alpaca_style shows whole tasks (instruction, input, output) and
    asks for complete new ones. With `personas` (a PersonaSampler) each prompt is also given the
    persona of persona_for(...) as the template variable `persona`."""
    out = []
    for i in range(cfg.prompts_per_round):
        tasks = sample_context(*pools, cfg, rng)
        s = sampling.replace(seed=derive_seed(sampling.seed, round_no, i))
        extra = {} if personas is None else {"persona": persona_for(personas, cfg, round_no, i).text}
        if cfg.alpaca_style:
            msgs = template.render(tasks=[{"instruction": one_line(t.instruction), "input": t.input, "output": t.output}
                                          for t in tasks], num=cfg.alpaca_tasks_per_request, no_input=cfg.no_input,
                                   **extra)
        else:
            msgs = template.render(tasks=[one_line(t.instruction) for t in tasks], **extra)
        out.append((Request(messages=msgs, sampling=s, key=f"gen-{round_no}-{i}"), tasks))
    return out


def persona_for(personas, cfg, round_no: int, i: int):
    """The persona of generation prompt i of a round: the run's k-th, k counting prompts from round 1."""
    return personas.at((round_no - 1) * cfg.prompts_per_round + i)


def derive_seed(base: int | None, round_no: int, i: int) -> int | None:
    """A distinct, reproducible seed per request: (0, round 2, request 5) -> 200005."""
    return None if base is None else base + round_no * 100_000 + i


def classification_examples(seeds: list[Record], n: int, rng) -> list[dict]:
    """Up to n seeds for the yes/no prompt, 3 in 8 of them classification tasks, shuffled. (Measured on
    SmolLM2-135M: 4 of 8 doubled its false "Yes" answers, 2 of 8 gave no "Yes" at all.)"""
    yes = [s for s in seeds if s.meta.get("is_classification")]
    no = [s for s in seeds if not s.meta.get("is_classification")]
    n_yes = min(len(yes), max(1, 3 * n // 8))
    chosen = [(s, True) for s in rng.sample(yes, n_yes)] + [(s, False) for s in rng.sample(no, min(len(no), n - n_yes))]
    rng.shuffle(chosen)
    return [{"instruction": one_line(s.instruction), "is_classification": c} for s, c in chosen]


def instance_examples(seeds: list[Record], n: int, classification: bool, rng) -> list[dict]:
    """n seed instances for the instance prompts; open tasks alternate with and without an input,
    so the teacher sees that a task may need none."""
    pool = [s for s in seeds if bool(s.meta.get("is_classification")) == classification and s.output]
    with_input, without = [s for s in pool if s.input], [s for s in pool if not s.input]
    if classification or not with_input or not without:
        picked = rng.sample(pool, min(n, len(pool)))
    else:
        a, b = rng.sample(with_input, min(len(with_input), (n + 1) // 2)), rng.sample(without, min(len(without), n // 2))
        picked = [x for pair in zip(a, b) for x in pair] + a[len(b):] + b[len(a):]
    return [{"instruction": one_line(s.instruction), "input": s.input, "output": s.output} for s in picked]
