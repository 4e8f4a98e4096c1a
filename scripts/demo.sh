#!/usr/bin/env bash
# The main job on the built-in default data: set up, build, generate the synthetic shapes set
# (once), train the demo Mask R-CNN on it from scratch with evaluation at each snapshot, score
# the final model on the val set and draw its predictions on a few val images.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
scripts/build.sh
mrcnn=build/bin/mrcnn
config=configs/shapes/mask_rcnn_r18_fpn_shapes.yml
output=output/mask_rcnn_r18_fpn_shapes
data=dataset/shapes
$mrcnn env
echo
if [[ ! -f $data/annotations/instances_val.json ]]; then
  $mrcnn make-shapes --out "$data" --train 200 --val 50 --seed 0
fi

start=$(date +%s)
# A fresh run each time; a run stopped part-way can be continued with `-r $output/<N>`.
rm -rf "$output"
$mrcnn train -c "$config" --eval
trained=$(date +%s)

echo
echo "== final model on $data/val =="
$mrcnn eval -c "$config" --json_eval --output_eval "$output"

pictures="$output/pictures"
samples="$output/val_samples"
rm -rf "$pictures" "$samples"
mkdir -p "$samples"
for image in $(ls "$data/val" | head -n 6); do cp "$data/val/$image" "$samples/"; done
$mrcnn infer -c "$config" --infer_dir "$samples" --output_dir "$pictures" --draw_threshold 0.5 >/dev/null

echo
echo "demo: trained in $((trained - start)) s, $(( $(date +%s) - start )) s with evaluation and pictures"
echo "demo: data          $data (config: $config)"
echo "demo: checkpoints   $output/{model_final,best_model,N}.safetensors"
echo "demo: metrics       $output/metrics.jsonl and $output/training_curves.png"
echo "demo: results       $output/bbox.json and $output/mask.json"
echo "demo: pictures      $pictures/"
