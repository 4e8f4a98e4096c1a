#!/usr/bin/env bash
# Installs mrcnn into a temporary prefix, builds examples/ against the installed package, runs
# the predicting one on a generated image with generated weights, the serving one for one
# request, and the training one for two steps on a generated set (the library's train job, no
# command line).
#   test_install.sh BUILD_DIR SOURCE_DIR PYTHON MRCNN_BINARY
set -euo pipefail
build="$1" source="$2" python="$3" mrcnn="$4"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
torch_prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
cmake -S "$source/examples" -B "$work/example" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$work/prefix;$torch_prefix" >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/example" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }

"$mrcnn" make-shapes --out "$work/shapes" --train 6 --val 1 --size 128x96 >/dev/null
PYTHONPATH="$source/tests/reference" "$python" -W ignore -c "
import sys, torch
from reference_models import random_maskrcnn
torch.save(random_maskrcnn(seed=1, num_classes=4).state_dict(), sys.argv[1])" "$work/weights.pth"
cat >"$work/config.yml" <<YAML
_BASE_: ['$source/configs/mask_rcnn/mask_rcnn_r50_fpn_torchvision.yml', '$source/configs/datasets/shapes_instance.yml']
label_map: contiguous
TestDataset: {dataset_dir: $work/shapes}
BBoxPostProcess: {nms: {score_threshold: 0.05}}
YAML
output="$("$work/example/mrcnn_predict_example" "$work/config.yml" "$work/weights.pth" "$work/shapes/val/000001.jpg")"
echo "$output" | tail -3
count="$(echo "$output" | tail -1 | sed -n 's/^\([0-9][0-9]*\) detections$/\1/p')"
[[ -n $count && $count -gt 0 ]] || { echo "expected detections, got: $output"; exit 1; }
# Category names come from the dataset's annotation file.
echo "$output" | head -1 | grep -Eq '^(circle|square|triangle) '

# Serving from C++: the embedded server answers a predict request, then stops on SIGTERM.
"$work/example/mrcnn_serve_example" "$work/config.yml" "$work/weights.pth" >"$work/serve.out" 2>"$work/serve.log" &
server=$!
for _ in $(seq 600); do grep -q "listening on port" "$work/serve.out" && break; sleep 0.1; done
port="$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$work/serve.out")"
[[ -n $port ]] || { kill $server; cat "$work/serve.log"; exit 1; }
"$python" - "$port" "$work/shapes/val/000001.jpg" <<'PY' || { kill $server; cat "$work/serve.log"; exit 1; }
import http.client, json, sys, time
port, image = int(sys.argv[1]), open(sys.argv[2], "rb").read()
for _ in range(600):
    c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/readyz")
    if c.getresponse().status == 200: break
    time.sleep(0.1)
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("POST", "/v1/predict", image, {"Content-Type": "image/jpeg"})
r = c.getresponse(); answer = json.loads(r.read())
assert r.status == 200 and answer["detections"], answer
print("served", len(answer["detections"]), "detections")
PY
kill -TERM $server
wait $server || { echo "the embedded server did not exit 0"; cat "$work/serve.log"; exit 1; }

# Training from C++: two steps of the test config's tiny model.
trained="$("$work/example/mrcnn_train_example" "$source/tests/cli/configs/tiny_shapes.yml" \
           "$work/shapes" "$work/output" 2 2>"$work/train.log")" || { cat "$work/train.log"; exit 1; }
echo "$trained" | tail -1
echo "$trained" | grep -q '^2 iterations trained' || { echo "expected 2 iterations: $trained"; exit 1; }
[[ -f $work/output/tiny_shapes/model_final.safetensors ]] || { echo "no model_final written"; exit 1; }
echo "install test: ok"

