#!/usr/bin/env bash
# docs/documents.md's measured run: the staff handbook the tests write (tests/document_fixtures.py: markdown,
# text, HTML, PDF, DOCX, plus an encrypted PDF, a scan, a 0-byte file and a binary named .md) through
# --method documents on the embedded SmolLM2-135M teacher (pick mode: it cannot quote), the preset's filters
# (version handbook), the same generation with dedup only (handbook_all: the answers from the same cache,
# the same held-out questions), the teacher-judged filters on it, a SmolLM2 LoRA student trained on it, and
# the closed-book knowledge eval of the student against its base.
#
#   bash benchmarks/documents_run.sh      # OUT=/tmp/kb STEPS=5
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DG=${DG:-.venv/bin/datagen}
OUT=${OUT:-/tmp/kb}
STEPS=${STEPS:-5}
t() { local s=$SECONDS; "$@"; echo "== $((SECONDS - s)) s: $*" >&2; }

PYTHONPATH=tests:. $PY -c "from pathlib import Path; from document_fixtures import write_corpus; write_corpus(Path('$OUT/docs'))"
GGUF=$($PY -c "from datagen.backends.embedded import smollm2_path; print(smollm2_path())")
GEN=(--method documents --docs "$OUT/docs" --out "$OUT/runs" --method_cfg.evidence pick --method_cfg.chunk_tokens 60
     --method_cfg.overlap_tokens 15 --method_cfg.min_chunk_tokens 10 --method_cfg.heldout 2)
t $DG generate "${GEN[@]}" --name handbook --filters exact_dup,support,document_dedup
t $DG generate "${GEN[@]}" --name handbook_all --filters exact_dup,document_dedup
t $DG train sft --data handbook_all/v0001 --runs "$OUT/runs" --model "$GGUF" --max_steps "$STEPS" --num_eval 2 \
  --out "$OUT/adapters" --seed 0
t $DG eval --students "$OUT/adapters/handbook_all/sft-0001" --eval_set knowledge:handbook_all/v0001 \
  --runs "$OUT/runs" --judge false --heldout none --out "$OUT/evals" --resamples 10000
t $DG compare --out "$OUT/evals" --format md
t $DG filter --from handbook_all/v0001 --out "$OUT/runs" --filters faithfulness,closed_book \
  --max-tokens 64 --temperature 0
