#!/usr/bin/env bash
# Round 35 on one lent GPU machine (device tool; an H200 with 16 CPU cores), in one command of under 480 s.
# The data travelled beforehand as three stored zips of ../shared/data (LSPET train images, joints.mat, COCO-MINI
# train, the YOLOX-nano detector), unpacked into /tmp/data: pack_for_gpu.py beside this file, whose docstring has the
# three calls.
# Both arms are fed by CPU loader workers, so their steps are sized here from the per-crop cost measured on this
# machine (70 % of what seven workers could load in each arm's time), and every run is cut at a hard deadline.
#   arm a: long_lq_from_bundle.yaml, ~420 s;  arm b: one_recipe_teacher.yaml ~170 s, then one_recipe_lq.yaml.
# Usage there: OUT=<folder for what comes back> bash configs/lspet/round35/run_on_gpu.sh
# A dry run anywhere (two steps per phase): STEP_CAP=2 OUT=/tmp/r35 bash configs/lspet/round35/run_on_gpu.sh
set -u
T0=$(date +%s)
OUT=${OUT:-runs/lspet/r35_gpu_out}
LOGS=$(mktemp -d)
mkdir -p "$OUT" ../shared
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
[ -e ../shared/data ] || ln -s /tmp/data ../shared/data
R=configs/lspet/round35
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"

# one core's cost per crop, LQ and clean, on this machine's CPUs
read -r LQ_MS CLEAN_MS < <(python3 - <<'PY'
import time
from lqpose.codec import codec_for
from lqpose.config import load_config
from lqpose.data.topdown import TopDownDataset
from lqpose.data.readers import load_poseset
from lqpose.engine.train import TrainConfig, _trainable

def cost(path, n):
    cfg = load_config(TrainConfig, path)
    ps = load_poseset(cfg.data.format, cfg.data.train_ann, cfg.data.train_images, cfg.data.keypoints)
    inst = _trainable(ps, cfg.data.train_ann)
    ds = TopDownDataset(inst, ps.spec, codec_for(tuple(cfg.data.input_size), cfg.data.sigma), train=True,
                        augment=cfg.data.augment, lq=cfg.data.lq, seed=0)
    ds.set_epoch(0)
    for i in range(5):
        ds[i]
    t = time.perf_counter()
    for i in range(n):
        ds[(i * 37) % len(ds)]
    return (time.perf_counter() - t) / n * 1000

print(f"{cost('configs/lspet/round35/long_lq_from_bundle.yaml', 150):.2f}",
      f"{cost('configs/lspet/round35/one_recipe_teacher.yaml', 300):.2f}")
PY
)
echo "per crop on one core: LQ ${LQ_MS} ms, clean ${CLEAN_MS} ms"
steps() {  # steps of 64 that seven workers load in $1 seconds at $2 ms per crop, at 70 % (STEP_CAP: a dry run)
  python3 -c "print(min(${STEP_CAP:-1000000}, max(100, int($1 * 1000 * 7 / $2 / 64 * 0.7))))"
}
left() { echo $((T0 + $1 - $(date +%s))); }

A_STEPS=$(steps "$(left 430)" "$LQ_MS")
echo "arm a: ${A_STEPS} steps"
timeout -s INT "$(left 470)" python3 -m lqpose.cli train $R/long_lq_from_bundle.yaml --set optim.steps="$A_STEPS" \
  > "$LOGS/a_train.log" 2>&1 &
A_PID=$!

B1_STEPS=$(steps 170 "$CLEAN_MS")
B1_STEPS=$((B1_STEPS > 12000 ? 12000 : B1_STEPS))  # the plan in its config
echo "arm b, phase 1: ${B1_STEPS} steps"
timeout -s INT "$(left 260)" python3 -m lqpose.cli train $R/one_recipe_teacher.yaml --set optim.steps="$B1_STEPS" \
  > "$LOGS/b1_train.log" 2>&1
echo "arm b, phase 1 ended at +$(( $(date +%s) - T0 )) s"
B2_STEPS=$(steps "$(left 430)" "$LQ_MS")
echo "arm b, phase 2: ${B2_STEPS} steps"
timeout -s INT "$(left 470)" python3 -m lqpose.cli train $R/one_recipe_lq.yaml --set optim.steps="$B2_STEPS" \
  > "$LOGS/b2_train.log" 2>&1
wait $A_PID
echo "both arms ended at +$(( $(date +%s) - T0 )) s"

for run in r35_long_lq_from_bundle:a r35_one_recipe_teacher:b1 r35_one_recipe_lq:b2; do
  dir=runs/lspet/${run%%:*} tag=${run##*:}
  if [ -f "$dir/student.pt" ]; then cp "$dir/student.pt" "$OUT/${tag}_student.pt"
  elif [ -f "$dir/last.pt" ]; then cp "$dir/last.pt" "$OUT/${tag}_last.pt"; fi
  [ -f "$dir/log.csv" ] && cp "$dir/log.csv" "$OUT/${tag}_log.csv"
done
for tag in a b1 b2; do echo "== $tag: end of its log"; tr '\r' '\n' < "$LOGS/${tag}_train.log" | grep -v "^train:" | tail -n 25; done
ls -la "$OUT"
