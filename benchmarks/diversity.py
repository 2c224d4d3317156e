"""How diverse a version's instructions are: distinct-2, mean pairwise ROUGE-L and distinct verb-noun
pairs, one markdown row per version.

    python benchmarks/diversity.py si_plain si_personas --out runs
    | version | instructions | distinct-2 | mean pairwise ROUGE-L | verb-noun pairs (distinct) | verbs |
    | si_plain/v0001 | 60 | 0.61 | 0.142 | 41 | 17 |

- distinct-2 (Li et al. 2016): distinct word bigrams / all bigrams, over all instructions (higher = more varied).
- mean pairwise ROUGE-L F over every pair of instructions (lower = more varied), Self-Instruct's
  similarity measure (Wang et al. 2022, sec. 2.3; filters.novelty.rouge_l).
- verb-noun pairs: Self-Instruct's Figure 2 counts the root verb and its first direct noun object
  with a parser. No parser model can be downloaded here, so this is a heuristic of our own, not a
  parse: after leading politeness ("please", "can you", ...) the verb is the first of the first six
  words that is in VERBS (common task verbs), or else the first word ("what", "how"); the noun is
  the first later word that is alphabetic, not a stop word, determiner, pronoun, adverb ("-ly") or
  common adjective. It reads "Write a short poem about rain" as (write, poem), "How do I fix a
  flat tire?" as (fix, flat) and "What is the capital of France?" as (what, capital).
  Figures are comparable between versions, not with the paper's.

Versions are compared on the same number of instructions (the smallest version's count, first in
record order), since distinct-n falls as texts are added; --all uses every instruction of each.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datagen.versions import open_version  # noqa: E402
from datagen.errors import DatagenError  # noqa: E402
from datagen.methods.evol_instruct.parse import distinct_n  # noqa: E402
from filters.novelty import rouge_l  # noqa: E402

WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
LEADS = ("please", "can you", "could you", "would you", "will you", "i want you to", "i need you to",
         "help me", "i would like you to", "i'd like you to", "now", "then", "task")
VERBS = set("""add analyze analyse answer arrange ask assess build calculate categorize change check choose
classify combine compare compile complete compose compute construct convert correct count create decide
define delete describe design detect determine develop devise discuss draft edit estimate evaluate explain
express extract fill find fix format generate give group guess identify illustrate imagine improve infer
invent judge justify label list make match measure name note offer order organize outline paraphrase plan
predict prepare present produce propose provide rank rate read recommend reorder rephrase replace report
respond restate review revise rewrite say score select shorten show simplify solve sort spell state suggest
summarize summarise tell think transform translate turn use verify write""".split())
SKIP = set("""a an the this that these those some any each every all both either no my your his her its our
their me you him us them it i we they one two three four five six seven eight nine ten few several many
much more most less least other another such what which who whom whose how why when where whether if
of to in on at by for with about from into onto over under between among as and or but not so than too
very just only also be is are was were been being do does did have has had can could would should will
shall may might must up out down off new short long simple brief good best better great small large big
different following given same own main basic common list""".split())


def strip_lead(tokens: list[str]) -> list[str]:
    """Drop leading politeness: ['please', 'can', 'you', 'write'] -> ['write']."""
    changed = True
    while changed and tokens:
        changed = False
        for lead in LEADS:
            parts = lead.split()
            if tokens[:len(parts)] == parts:
                tokens, changed = tokens[len(parts):], True
    return tokens


def verb_noun(text: str) -> tuple[str, str | None] | None:
    """'Write a short poem about rain.' -> ('write', 'poem'); '' -> None."""
    tokens = strip_lead([w.lower() for w in WORD.findall(text or "")])
    if not tokens:
        return None
    i = next((k for k, t in enumerate(tokens[:6]) if t in VERBS), 0)  # "how do i fix ..." -> fix
    verb = tokens[i]
    noun = next((t for t in tokens[i + 1:] if t not in SKIP and not t.endswith("ly") and len(t) > 1), None)
    return verb, noun


def mean_pairwise_rouge_l(texts: list[str]) -> float | None:
    pairs = [(a, b) for i, a in enumerate(texts) for b in texts[i + 1:]]
    return round(sum(rouge_l(a, b) for a, b in pairs) / len(pairs), 4) if pairs else None


def measure(texts: list[str]) -> dict:
    pairs = [vn for vn in map(verb_noun, texts) if vn and vn[1]]
    return {"instructions": len(texts), "distinct_2": distinct_n(texts, 2),
            "mean_rouge_l": mean_pairwise_rouge_l(texts), "verb_noun_distinct": len(set(pairs)),
            "verbs_distinct": len({v for v, _ in pairs})}


def instructions(ref: str, out_dir: str, filtered: bool = False) -> tuple[str, list[str]]:
    """(version ref, its distinct instructions in record order); `filtered` adds those of records a
    filter dropped (the method made the instruction, a filter judged e.g. the answer)."""
    v = open_version(ref, out_dir)
    rows = v.records() + ([x.record for x in v.rejected() if x.stage.startswith("filter:")] if filtered else [])
    seen, texts = set(), []
    for r in rows:
        key = " ".join(r.instruction.split()).lower()
        if key not in seen:
            seen.add(key)
            texts.append(r.instruction)
    return v.ref, texts


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("versions", nargs="+", help="NAME or NAME/vNNNN")
    ap.add_argument("--out", default="runs", help="output_dir the versions are in")
    ap.add_argument("--all", action="store_true", help="every instruction of each version (not the same count)")
    ap.add_argument("--filtered", action="store_true",
                    help="also the instructions of records a filter dropped (e.g. for a truncated answer)")
    a = ap.parse_args(argv)
    try:
        found = [instructions(ref, a.out, a.filtered) for ref in a.versions]
    except DatagenError as exc:
        print(f"diversity: error: {exc}", file=sys.stderr)
        return 2
    n = None if a.all else min(len(t) for _, t in found)
    print("| version | instructions | distinct-2 | mean pairwise ROUGE-L | verb-noun pairs (distinct) | verbs |")
    print("|---|---|---|---|---|---|")
    for ref, texts in found:
        m = measure(texts[:n] if n is not None else texts)
        print(f"| {ref} | {m['instructions']} | {m['distinct_2']} | {m['mean_rouge_l']} | "
              f"{m['verb_noun_distinct']} | {m['verbs_distinct']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
