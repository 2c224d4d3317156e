#!/usr/bin/env bash
# The whole loop measured (README.md "The whole loop", docs/evaluation.md): the main job (Self-Instruct with the full filter
# chain, decontaminate included) and a second dataset version (the teacher's answers to the seeds),
# a SmolLM2 LoRA student trained on each, then `datagen eval` of both students and their base on the
# bundled eval set with the embedded teacher as judge, and `datagen compare`. About 40 min on 2 cores.
#
#   bash benchmarks/eval_loop.sh        # RUNS=runs ADAPTERS=adapters EVALS=evals LIMIT=40 STEPS=20
set -euo pipefail
cd "$(dirname "$0")/.."
DG=.venv/bin/datagen
RUNS=${RUNS:-runs}
ADAPTERS=${ADAPTERS:-adapters}
EVALS=${EVALS:-evals}
LIMIT=${LIMIT:-40}
STEPS=${STEPS:-20}
GGUF=$(.venv/bin/python -c "from datagen.backends.embedded import smollm2_path; print(smollm2_path())")
t() { local s=$SECONDS; "$@"; echo "== $((SECONDS - s)) s: $*" >&2; }

[ -d "$RUNS/self_instruct" ] || t $DG generate --out "$RUNS"
[ -d "$RUNS/answer" ] || t $DG generate --method answer --out "$RUNS" --filters exact_dup,minhash,quality,decontaminate
for data in self_instruct answer; do
  [ -d "$ADAPTERS/$data" ] || t $DG train sft --data "$data" --runs "$RUNS" --model "$GGUF" --max_steps "$STEPS" \
    --num_eval 12 --out "$ADAPTERS" --seed 0
done
t $DG eval --students "$ADAPTERS/self_instruct/sft-0001,$ADAPTERS/answer/sft-0001" --compare base,students \
  --limit "$LIMIT" --answer_max_tokens 128 --runs "$RUNS" --out "$EVALS" --name loop
t $DG compare --out "$EVALS" --format md
