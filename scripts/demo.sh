#!/usr/bin/env bash
# The main job on the built-in default data: set up, build, generate the synthetic shapes set
# (once) and check it. Training and evaluating a model on it is not implemented yet.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
scripts/build.sh
mrcnn=build/bin/mrcnn
$mrcnn env
echo
data=dataset/shapes
if [[ ! -f $data/annotations/instances_val.json ]]; then
  $mrcnn make-shapes --out "$data" --train 200 --val 50 --seed 0
fi
$mrcnn coco-eval --ann "$data/annotations/instances_train.json"
$mrcnn coco-eval --ann "$data/annotations/instances_val.json"
echo
echo "demo: the shapes set is in $data (config: configs/datasets/shapes_instance.yml)."
echo "demo: training a model on it is not implemented yet; see README.md, Status."
