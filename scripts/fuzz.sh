#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (address + undefined-behaviour sanitizers) and runs
# each for FUZZ_SECONDS (default 60). Fails on any crash or sanitizer report.
#   scripts/fuzz.sh [seconds]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-${FUZZ_SECONDS:-60}}"
out="build/fuzz"
mkdir -p "$out"

# The readers and mask code do not use LibTorch, so the fuzzers build from their sources alone.
sources=(src/mrcnn/common/error.cpp src/mrcnn/common/strings.cpp src/mrcnn/data/coco.cpp
         src/mrcnn/io/json_reader.cpp src/mrcnn/structures/rle.cpp
         src/mrcnn/evaluation/coco_eval.cpp src/mrcnn/evaluation/coco_results.cpp)
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Isrc -DSIMDJSON_THREADS_ENABLED=1)

for target in coco_json_fuzzer rle_string_fuzzer; do
  # Rebuild when the target or any library source it uses is newer than the binary.
  if [[ ! -x $out/$target ]] || [[ -n $(find "fuzz/$target.cpp" src/mrcnn -newer "$out/$target" -print -quit) ]]; then
    echo "fuzz: building $target"
    clang++ "${flags[@]}" "fuzz/$target.cpp" "${sources[@]}" -lsimdjson -o "$out/$target"
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

status=0
for target in coco_json_fuzzer rle_string_fuzzer; do
  corpus="$out/corpus_json"
  [[ $target == rle_string_fuzzer ]] && corpus="$out/corpus_rle"
  echo "fuzz: running $target for ${seconds}s"
  if ! "$out/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$out/$target-" "$corpus" >"$out/$target.log" 2>&1; then
    echo "fuzz: $target FAILED; see $out/$target.log"
    tail -30 "$out/$target.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$out/$target.log" | tail -2
  fi
done
exit $status
