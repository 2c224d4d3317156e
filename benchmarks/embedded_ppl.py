"""Perplexity of the shipped SmolLM2-135M GGUF (Q4_1) and of its re-encodings (datagen/backends/weights.py)
on a fixed text, with this llama.cpp build: a re-encoding that loses nothing scores as the shipped file.

    .venv/bin/python benchmarks/embedded_ppl.py            # Q4_1 (shipped), Q8_0, BF16, F16
    -> | Q4_1 (shipped) | 412 tokens | perplexity 14.02 | mean NLL 2.6405 |
       | Q8_0           | 412 tokens | perplexity 14.03 | mean NLL 2.6411 | paired diff +0.0006 ± 0.0012 (95%) |

The paired difference is the mean of the per-token NLL differences against the shipped file, with a
normal 95% interval over tokens. The text is below (written for this benchmark, never trained on).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TEXT = """The harbour town woke slowly on winter mornings. Before the bakery opened, the fishermen carried
crates of ice down the stone steps, and the gulls waited on the railings for anything that fell. By eight
the school bus had made its first loop along the coast road, stopping at the chapel, the post office and
the old lifeboat station, which now sold postcards and hot chocolate to the few visitors who came out of
season. Most of the houses were painted in pale colours, blue and yellow and a faded pink, because the
salt wind stripped anything darker within a couple of years.

Anna ran the small library above the harbour master's office. It had two rooms, one for children and one
for everybody else, and a window that looked straight out over the breakwater. On stormy days people came
in simply to watch the waves climb the wall and fall back in white sheets. She kept a kettle on a shelf
behind the desk and a list of who had borrowed which umbrella. The library's budget was tiny, so she asked
every visitor to bring one book they had finished with, and over ten years the shelves had filled with
cookery books, sea stories, old atlases and a surprising number of guides to learning Italian.

In March the council announced that the building would be repaired. The roof leaked, the stairs were
uneven and the wiring was older than anyone working there. For three months the books were packed into
boxes and stored in the church hall, and Anna lent them out from a folding table between the hymn books
and the flower rota. Nobody complained. If anything, more people came, because the hall was on the way to
the shop, and it was easier to stop for a minute than to climb the stairs above the harbour.

When the library reopened in June, the children painted a map of the coast on the wall of their room,
with every cove and lighthouse they could name. The oldest fisherman in town checked it carefully and
corrected two of the rocks, which he said had sunk more boats than any storm. Anna added a small brass
plate under the window, thanking everyone who had carried a box, and put the kettle back on its shelf."""


def nll(model: str, n_ctx: int = 1024) -> list[float]:
    """Per-token negative log-likelihood of TEXT (every token after the first), one window."""
    import llama_cpp
    import numpy as np

    llm = llama_cpp.Llama(model, n_ctx=n_ctx, n_threads=1, logits_all=True, verbose=False)
    toks = llm.tokenize(TEXT.encode(), add_bos=False)
    assert len(toks) < n_ctx, len(toks)
    llm.eval(toks)
    logits = np.asarray(llm.scores[: len(toks) - 1], dtype=np.float64)
    logp = logits - logits.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    return [-float(logp[i, toks[i + 1]]) for i in range(len(toks) - 1)]


def main() -> int:
    from datagen.backends.embedded import smollm2_path
    from datagen.backends.weights import build_features, fast_weights

    shipped = smollm2_path()
    print(f"build: {build_features()}\n\n| weights | tokens | perplexity | mean NLL | paired vs shipped |\n|---|---|---|---|---|")
    base = nll(str(shipped))
    print(f"| Q4_1 (shipped) | {len(base)} | {math.exp(sum(base) / len(base)):.3f} | {sum(base) / len(base):.4f} | |")
    for fmt in ("Q8_0", "BF16", "F16"):
        xs = nll(str(fast_weights(shipped, fmt)))
        d = [a - b for a, b in zip(xs, base)]
        mean = sum(d) / len(d)
        sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1))
        print(f"| {fmt} | {len(xs)} | {math.exp(sum(xs) / len(xs)):.3f} | {sum(xs) / len(xs):.4f} | "
              f"{mean:+.4f} ± {1.96 * sd / math.sqrt(len(d)):.4f} (95%) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
