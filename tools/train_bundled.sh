#!/usr/bin/env bash
# Reproduces the models that ship in edge/bundled/ (README, "Training the shipped models"), step by step:
#   tools/train_bundled.sh data | detector | quality | ship | variants | all      (WORK=/path/to/scratch, default out/train)
# Each step skips what an earlier run already wrote, so an interrupted step can be run again; the detector's
# training resumes from its checkpoint. Timings in the comments are those of a 2-core x86-64 box, no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${WORK:-out/train}
PY=${PY:-.venv/bin/python}
mkdir -p "$W/runs" "$W/q"

data() {  # clips of seed 0 to train on, seed 1 to stop early on; the evaluation uses seed 2 (README)
    [[ -d $W/bench0 ]] || $PY tools/make_benchmark.py --out "$W/bench0" --clips 40 --seed 0 --workers 2     # ~4 min
    [[ -d $W/bench1 ]] || $PY tools/make_benchmark.py --out "$W/bench1" --clips 6 --seed 1 --workers 2      # ~1 min
    [[ -f $W/train/annotations.json ]] || $PY -m export coco-from-benchmark "$W/bench0" --stride 10 --out "$W/train"   # 816 frames
    [[ -f $W/val/annotations.json ]] || $PY -m export coco-from-benchmark "$W/bench1" --stride 10 --out "$W/val"       # 131 frames
    [[ -f $W/qframes/annotations.json ]] || $PY -m export coco-from-benchmark "$W/bench0" --stride 5 --out "$W/qframes" # 1611 frames
}

detector() {  # D-FINE-N from scratch at 320 px: clean frames first, then domain randomisation (one core each)
    local resume1="" resume2=""
    [[ -f $W/runs/det1/checkpoints/last.pt ]] && resume1=--resume
    [[ -f $W/runs/det1/detector.onnx ]] || $PY -m export train-detector --data "$W/train" --val "$W/val" --out "$W/runs/det1" \
        --queries 100 --no-augment --minutes 25 --seed 0 --threads 1 $resume1
    [[ -f $W/runs/det2/checkpoints/last.pt ]] && resume2=--resume
    [[ -f $W/runs/det2/detector.onnx ]] || $PY -m export train-detector --data "$W/train" --val "$W/val" --out "$W/runs/det2" \
        --init "$W/runs/det1/best" --backbone-lr-scale 1 --warmup-steps 50 --ema-decay 0.999 --ema-warmup 100 \
        --stop-augment 0.6 --minutes 25 --seed 1 --threads 1 $resume2
}

quality() {  # EfficientNetV2-B0 students of two teachers on the decoded product crops of seed 0
    [[ -f $W/q/ocr.json ]] || $PY -m export label-quality "$W/qframes" --teacher ocr --threads 1 --out "$W/q/ocr.json"   # ~13 min
    [[ -f $W/q/brisque.json ]] || $PY -m export label-quality "$W/qframes" --teacher brisque --out "$W/q/brisque.json"  # ~20 s
    for teacher in ocr brisque; do
        local resume=""
        [[ -f $W/runs/q-$teacher/last.pt ]] && resume=--resume
        [[ -f $W/runs/q-$teacher/quality.onnx ]] || $PY -m export train-quality --labels "$W/q/$teacher.json" \
            --out "$W/runs/q-$teacher" --epochs 8 --seed 0 --threads 1 $resume
    done
}

ship() {  # the chosen pair into the package's model pack (README: which teacher ships and why)
    local pack=edge/bundled/manifest.yaml
    $PY -m export dfine "$W/runs/${DETECTOR_RUN:-det2}/best" --input-size 320 -o edge/bundled/detector.onnx --pack $pack --name detector
    cp "$W/runs/q-${TEACHER:-ocr}/quality.onnx" edge/bundled/quality.onnx
    $PY -m export register edge/bundled/quality.onnx --pack $pack --name quality --source "$W/runs/q-${TEACHER:-ocr}"
}

variants() {  # FP16 and INT8 of both, each checked against FP32 on held-out frames and crops of seed 1
    local v=$W/variants
    mkdir -p "$v"
    [[ -d $W/held ]] || $PY -m export frames "$W/bench1" --out "$W/held"
    $PY -m export fp16 edge/bundled/detector.onnx -o "$v/detector-fp16.onnx" --holdout "$W/held/frames" --report-json "$v/detector-fp16.json"
    $PY -m export int8 edge/bundled/detector.onnx -o "$v/detector-int8.onnx" --calib "$W/train/frames" --holdout "$W/held/frames" \
        --target cpu --report-json "$v/detector-int8.json"
    $PY -m export fp16 edge/bundled/quality.onnx -o "$v/quality-fp16.onnx" --holdout "$W/held/crops" --report-json "$v/quality-fp16.json"
    $PY -m export int8 edge/bundled/quality.onnx -o "$v/quality-int8.onnx" --calib "$W/q/ocr_crops" --holdout "$W/held/crops" \
        --target cpu --report-json "$v/quality-int8.json"
}

case "${1:-all}" in
    data) data ;;
    detector) detector ;;
    quality) quality ;;
    ship) ship ;;
    variants) variants ;;
    all) data; detector; quality; ship; variants ;;
    *) echo "usage: $0 data|detector|quality|ship|variants|all" >&2; exit 2 ;;
esac
