#!/usr/bin/env bash
# Does datagen's data make a better student? (issue 25, docs/evaluation.md "The measured gain")
#
# The whole recipe in one command, on 2 CPU cores and no GPU: the embedded SmolLM2-135M-Instruct as
# teacher, constraint prompts from the bundled seeds (training kinds and training wordings only), N
# candidates each, verified, the passing ones kept (rejection sampling: RFT, Yuan et al. 2023; AutoIF,
# Dong et al. 2024; where none passes, the best one rewritten by rule for the format kinds and kept if it
# then passes: method_cfg.repair), 13-gram decontaminated against both eval sets -> a SmolLM2-135M LoRA student (SFT)
# -> `datagen eval` of the student and its base on the held-out set (414 prompts we wrote: tasks,
# wordings and half the kinds never seen in training), both answered greedily through the same engine,
# with paired differences (bootstrap 95% interval, McNemar's exact p) -> `datagen compare`.
# An optional on-policy round (ROUNDS=1): the student answers the prompts again, passing vs failing
# answers make DPO pairs, DPO from the SFT adapter, evaluated beside it.
#
#   bash benchmarks/student_gain.sh                 # OUT=gain VARIANTS=10 N=4 MAXC=3 STEPS=150 LR=1e-3 ROUNDS=0
set -euo pipefail
cd "$(dirname "$0")/.."
DG=${DG:-.venv/bin/datagen}
OUT=${OUT:-gain}
RUNS=$OUT/runs ADAPTERS=$OUT/adapters EVALS=$OUT/evals
VARIANTS=${VARIANTS:-10}        # constraint sets per seed instruction (63 seeds)
N=${N:-4}                       # candidates per prompt
MAXC=${MAXC:-3}                 # most constraints per training prompt (the held-out set has 1-3)
STEPS=${STEPS:-150}             # SFT steps
HELDOUT=${HELDOUT:-16}          # records held out of SFT for the held-out loss
ROUNDS=${ROUNDS:-0}             # on-policy DPO rounds after SFT
DPO_STEPS=${DPO_STEPS:-$STEPS}  # DPO steps a round
PAIR_UNFINISHED=${PAIR_UNFINISHED:-true}  # a round's cut-off or looping answer is the rejected side
SEEDS=${SEEDS:-}                # seed instructions used (empty = all 63)
LIMIT=${LIMIT:-}                # eval prompts (empty = all 414)
ANSWER=${ANSWER:-512}           # eval answer tokens
LR=${LR:-1e-3}                  # SFT learning rate (2e-4 on q/v barely moved the loss: 1.48 -> 1.48, session 8)
LORA=${LORA:-q_proj k_proj v_proj o_proj gate_proj up_proj down_proj}  # LoRA on all seven linear maps
SFT_ARGS=${SFT_ARGS:-}          # more `datagen train sft` flags, e.g. "--lora_r 32"
GGUF=$(.venv/bin/python -c "from datagen.backends.embedded import smollm2_path; print(smollm2_path())")
t() { local s=$SECONDS; "$@"; echo "== $((SECONDS - s)) s: $*" >&2; }

[ -d "$RUNS/ifdata" ] || t $DG generate --config benchmarks/student_gain.yaml --out "$RUNS" --name ifdata \
  --method_cfg.variants "$VARIANTS" --method_cfg.n "$N" --method_cfg.max_constraints "$MAXC" \
  ${SEEDS:+--method_cfg.limit "$SEEDS"}
[ -d "$ADAPTERS/ifdata" ] || t $DG train sft --data ifdata --runs "$RUNS" --model "$GGUF" --max_steps "$STEPS" \
  --num_eval "$HELDOUT" --out "$ADAPTERS" --seed 0 --learning_rate "$LR" --lora_target_modules $LORA $SFT_ARGS
STUDENTS=$ADAPTERS/ifdata/sft-0001
for r in $(seq 1 "$ROUNDS"); do
  prev=$(echo "$STUDENTS" | awk -F, '{print $NF}')
  [ -d "$RUNS/ifpairs_r$r" ] || t $DG generate --method constraints --out "$RUNS" --name "ifpairs_r$r" \
    --teacher student --model "$prev" --seed "$r" --method_cfg.variants "$VARIANTS" --method_cfg.n 4 \
    --method_cfg.max_constraints "$MAXC" --method_cfg.keep pairs \
    --method_cfg.pair_unfinished "$PAIR_UNFINISHED" --config benchmarks/student_gain.yaml
  [ -d "$ADAPTERS/ifpairs_r$r" ] || t $DG train dpo --data "ifpairs_r$r" --runs "$RUNS" --model "$GGUF" \
    --adapter "$prev" --max_steps "$DPO_STEPS" --num_eval 8 --out "$ADAPTERS" --seed 0
  STUDENTS="$STUDENTS,$ADAPTERS/ifpairs_r$r/dpo-0001"
done
t $DG eval --students "$STUDENTS" --eval_set heldout ${LIMIT:+--limit "$LIMIT"} --answer_max_tokens "$ANSWER" \
  --judge false --runs "$RUNS" --out "$EVALS" --name gain
t $DG compare --out "$EVALS" --format md
