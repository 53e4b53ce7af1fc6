#!/usr/bin/env bash
# Reproduces the models that ship in edge/bundled/ (README, "Training the shipped models"), step by step:
#   tools/train_bundled.sh data | detector | quality | ship | variants | evaluate | all   (WORK=scratch folder, default out/train)
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
    [[ -f $W/qframes/annotations.json ]] || $PY -m export coco-from-benchmark "$W/bench0" --stride 5 --out "$W/qframes" # 1611 frames, 1501 crops
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

quality() {  # EfficientNetV2-B0 students of two teachers on the decoded product crops of seed 0 (one core each)
    [[ -f $W/q/ocr.json ]] || $PY -m export label-quality "$W/qframes" --teacher ocr --threads 1 --out "$W/q/ocr.json"   # ~13 min
    [[ -f $W/q/brisque.json ]] || $PY -m export label-quality "$W/qframes" --teacher brisque --out "$W/q/brisque.json"  # ~20 s
    local epochs=(ocr 20 brisque 10)  # Table 2's 20 epochs (early stopping after 5 flat ones); BRISQUE got 10 for time
    for i in 0 2; do
        local teacher=${epochs[$i]} resume=""
        [[ -f $W/runs/q-$teacher/last.pt ]] && resume=--resume
        [[ -f $W/runs/q-$teacher/quality.onnx ]] || $PY -m export train-quality --labels "$W/q/$teacher.json" \
            --out "$W/runs/q-$teacher" --epochs "${epochs[$i+1]}" --seed 0 --threads 1 $resume          # ~2.7 min an epoch
    done
}

ship() {  # the chosen pair into the package's model pack (README: which detector stage and teacher ship, and why)
    local pack=edge/bundled/manifest.yaml
    $PY -m export dfine "$W/runs/${DETECTOR_RUN:-det2}/best" --input-size 320 -o edge/bundled/detector.onnx --pack $pack --name detector
    cp "$W/runs/q-${TEACHER:-ocr}/quality.onnx" edge/bundled/quality.onnx
    $PY -m export register edge/bundled/quality.onnx --pack $pack --name quality --source "$W/runs/q-${TEACHER:-ocr}"
}

flat() {  # every Nth file of a folder tree into a flat folder (the variant checks read flat folders)
    local from=$1 to=$2 every=$3 i=0
    mkdir -p "$to"
    for f in $(find "$from" -name "*.$4" | sort | awk "NR%$every==0" | head -64); do i=$((i+1)); cp "$f" "$to/$(printf %03d $i).$4"; done
}

variants() {  # FP16 and INT8 (CPU target) of both, checked against FP32 on held-out frames and crops of seed 1
    local v=$W/variants
    mkdir -p "$v"
    [[ -d $W/held/frames ]] || flat "$W/val/frames" "$W/held/frames" 2 jpg
    [[ -d $W/calib/frames ]] || flat "$W/train/frames" "$W/calib/frames" 12 jpg
    [[ -f $W/held/vcrops.json ]] || $PY -m export label-quality "$W/val" --crops-only --out "$W/held/vcrops.json"
    [[ -d $W/held/crops ]] || flat "$W/held/vcrops_crops" "$W/held/crops" 2 png
    [[ -d $W/calib/crops ]] || flat "$W/q/ocr_crops" "$W/calib/crops" 20 png
    $PY -m export fp16 edge/bundled/detector.onnx -o "$v/detector-fp16.onnx" --holdout "$W/held/frames" --report-json "$v/detector-fp16.json"
    $PY -m export int8 edge/bundled/detector.onnx -o "$v/detector-int8.onnx" --calib "$W/calib/frames" --holdout "$W/held/frames" \
        --target cpu --report-json "$v/detector-int8.json" --no-check
    $PY -m export fp16 edge/bundled/quality.onnx -o "$v/quality-fp16.onnx" --holdout "$W/held/crops" --report-json "$v/quality-fp16.json"
    $PY -m export int8 edge/bundled/quality.onnx -o "$v/quality-int8.onnx" --calib "$W/calib/crops" --holdout "$W/held/crops" \
        --target cpu --report-json "$v/quality-int8.json" --no-check
}

evaluate() {  # Tables 3, 9, 11 and 12 on 100 clips of seed 2, which no training step saw
    [[ -d $W/bench2 ]] || $PY tools/make_benchmark.py --out "$W/bench2" --clips 100 --seed 2 --workers 2          # ~13 min
    [[ -f $W/test/annotations.json ]] || $PY -m export coco-from-benchmark "$W/bench2" --stride 20 --out "$W/test"  # 1055 frames
    $PY -m export eval-detector edge/bundled/detector.onnx "$W/variants/detector-fp16.onnx" "$W/variants/detector-int8.onnx" \
        --data "$W/test" --json "$W/table3.json"
    $PY tools/evaluate.py "$W/bench2" --out "$W/eval" --detector none --detector oracle --detector bundled:detector.onnx \
        --quality-model ocr="$W/runs/q-ocr/quality.onnx" --quality-model brisque="$W/runs/q-brisque/quality.onnx"
}

case "${1:-all}" in
    data) data ;;
    detector) detector ;;
    quality) quality ;;
    ship) ship ;;
    variants) variants ;;
    evaluate) evaluate ;;
    all) data; detector; quality; ship; variants; evaluate ;;
    *) echo "usage: $0 data|detector|quality|ship|variants|evaluate|all" >&2; exit 2 ;;
esac
