#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (address + undefined-behaviour sanitizers) and runs
# each for FUZZ_SECONDS (default 60). Fails on any crash or sanitizer report. The COCO and RLE
# targets need no LibTorch; the .pth and safetensors readers' link the project's torch
# (scripts/setup.sh).
#   scripts/fuzz.sh [seconds]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-${FUZZ_SECONDS:-60}}"
out="build/fuzz"
mkdir -p "$out"

# The COCO layer does not use LibTorch, so its fuzzers build from its sources alone.
sources=(src/mrcnn/common/error.cpp src/mrcnn/common/strings.cpp src/mrcnn/common/json_reader.cpp
         src/mrcnn/coco/dataset.cpp src/mrcnn/coco/rle.cpp src/mrcnn/coco/training_view.cpp
         src/mrcnn/coco/eval.cpp src/mrcnn/coco/results.cpp)
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Isrc -DSIMDJSON_THREADS_ENABLED=1)

# Rebuilt when the target or any library source is newer than the binary.
stale() { [[ ! -x $out/$1 ]] || [[ -n $(find "fuzz/$1.cpp" src/mrcnn -newer "$out/$1" -print -quit) ]]; }
for target in coco_json_fuzzer rle_string_fuzzer; do
  if stale "$target"; then
    echo "fuzz: building $target"
    clang++ "${flags[@]}" "fuzz/$target.cpp" "${sources[@]}" -lsimdjson -o "$out/$target"
  fi
done
# The .pth and safetensors readers are LibTorch code: our sources instrumented, the wheel's
# libraries as they are.
torch_dir="$(.venv/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
torch_flags=(-D_GLIBCXX_USE_CXX11_ABI=1 -DFMT_HEADER_ONLY=1 -isystem "$torch_dir/include")
torch_libs=(-L"$torch_dir/lib" -Wl,-rpath,"$torch_dir/lib" -Wl,--push-state,--no-as-needed -lstdc++
            -Wl,--pop-state -ltorch_cpu -lc10)
reader_sources=(src/mrcnn/common/error.cpp src/mrcnn/common/file.cpp src/mrcnn/common/strings.cpp
                src/mrcnn/common/json_reader.cpp src/mrcnn/common/json_writer.cpp
                src/mrcnn/io/torch_checkpoint.cpp src/mrcnn/io/safetensors.cpp)
for target in torch_checkpoint_fuzzer safetensors_fuzzer; do
  if stale "$target"; then
    echo "fuzz: building $target"
    clang++ "${flags[@]}" "${torch_flags[@]}" "fuzz/$target.cpp" "${reader_sources[@]}" "${torch_libs[@]}" \
      -lsimdjson -o "$out/$target"
  fi
done

# Seed corpora: small valid inputs the fuzzer mutates from.
mkdir -p "$out/corpus_json" "$out/corpus_rle"
cat >"$out/corpus_json/gt.json" <<'JSON'
{"images": [{"id": 1, "width": 8, "height": 6, "file_name": "a.jpg"}],
 "categories": [{"id": 1, "name": "a"}, {"id": 3, "name": "b"}],
 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3], "area": 9, "iscrowd": 0,
                  "segmentation": [[1, 1, 4, 1, 4, 4]]},
                 {"id": 2, "image_id": 1, "category_id": 3, "bbox": [0, 0, 8, 6], "iscrowd": 1,
                  "segmentation": {"size": [6, 8], "counts": [0, 48]}},
                 {"id": 3, "image_id": 1, "category_id": 3, "bbox": [0, 0, 2, 2],
                  "segmentation": {"size": [6, 8], "counts": "0`0"}}]}
JSON
cat >"$out/corpus_json/results.json" <<'JSON'
[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3], "score": 0.9},
 {"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": {"size": [6, 8], "counts": "0`0"}}]
JSON
printf '\x05\x07'"04200000<" >"$out/corpus_rle/square"
printf '\x01\x01'"1130" >"$out/corpus_rle/small"
# Small state dicts in both formats torch.save writes, and as paddle.save writes them.
mkdir -p "$out/corpus_pth"
if [[ ! -f $out/corpus_pth/paddle4.pdparams ]]; then
  .venv/bin/python - "$out/corpus_pth" <<'PY'
import pickle, sys
import numpy as np
state = {"conv.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "norm._mean": np.ones(2, np.float16),
         "ids": np.arange(3), "f": np.asfortranarray(np.ones((2, 2))), "StructuredToParameterName@@": {"a": "b"}}
for protocol in (2, 4):
    with open(f"{sys.argv[1]}/paddle{protocol}.pdparams", "wb") as f:
        pickle.dump(state, f, protocol=protocol)
PY
fi
if [[ ! -f $out/corpus_pth/zip.pth ]]; then
  .venv/bin/python - "$out/corpus_pth" <<'PY'
import collections, sys, torch
state = collections.OrderedDict(a=torch.arange(6.0).view(2, 3), b=torch.tensor([1, 2]))
state["c"] = state["a"][1]  # a view sharing the first storage
torch.save(state, f"{sys.argv[1]}/zip.pth")
torch.save(state, f"{sys.argv[1]}/legacy.pth", _use_new_zipfile_serialization=False)
torch.save({"model": state}, f"{sys.argv[1]}/wrapped.pth")
PY
fi
mkdir -p "$out/corpus_safetensors"
if [[ ! -f $out/corpus_safetensors/weights.safetensors ]]; then
  .venv/bin/python - "$out/corpus_safetensors" <<'PY'
import sys, torch
from safetensors.torch import save_file
save_file({"a": torch.arange(6.0).view(2, 3), "b": torch.tensor([1, 2]), "h": torch.ones(2, dtype=torch.half),
           "e": torch.empty(0, 3)}, f"{sys.argv[1]}/weights.safetensors", metadata={"mrcnn.save": "3-ab"})
PY
fi

status=0
for target in coco_json_fuzzer rle_string_fuzzer torch_checkpoint_fuzzer safetensors_fuzzer; do
  corpus="$out/corpus_json"
  [[ $target == rle_string_fuzzer ]] && corpus="$out/corpus_rle"
  [[ $target == torch_checkpoint_fuzzer ]] && corpus="$out/corpus_pth"
  [[ $target == safetensors_fuzzer ]] && corpus="$out/corpus_safetensors"
  echo "fuzz: running $target for ${seconds}s"
  if ! LSAN_OPTIONS="suppressions=$root/fuzz/lsan_suppressions.txt" "$out/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$out/$target-" "$corpus" >"$out/$target.log" 2>&1; then
    echo "fuzz: $target FAILED; see $out/$target.log"
    tail -30 "$out/$target.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$out/$target.log" | tail -2
  fi
done
exit $status
