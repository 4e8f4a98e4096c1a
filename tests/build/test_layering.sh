#!/usr/bin/env bash
# The layer graph of the README, checked against the build: a layer's sources can include the
# headers of the layers below it and of nothing else.
#   test_layering.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1" source="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Each layer, then the layers its headers may include besides its own (the documented graph).
declare -A below=(
  [common]=""
  [coco]="common"
  [config]="common"
  [io]="common"
  [ops]=""
  [runtime]="common"
  [structures]="coco common"
  [solver]="io common"
  [distributed]="common"
  [data]="structures coco common io"
  [modeling]="structures coco common ops io"
  [visualization]="structures coco common"
  [engine]="data modeling solver distributed runtime visualization structures coco common ops io"
  [evaluation]="data modeling structures coco common ops io"
  [build]="config engine evaluation data modeling solver distributed runtime visualization structures coco common ops io"
  [api]="build config engine evaluation data modeling solver distributed runtime visualization structures coco common ops io"
  [serving]="api build config engine evaluation data modeling solver distributed runtime visualization structures coco common ops io"
)
# A header of each layer.
declare -A header=(
  [common]=common/error.h [coco]=coco/rle.h [config]=config/config.h [io]=io/image.h
  [ops]=ops/nms.h [runtime]=runtime/device.h [structures]=structures/boxes.h
  [solver]=solver/lr_schedule.h [distributed]=distributed/launch.h [data]=data/transforms.h
  [modeling]=modeling/box_coder.h [visualization]=visualization/plot.h
  [engine]=engine/checkpoint.h [evaluation]=evaluation/results_writer.h
  [build]=build/job_output.h [api]=api/predictor.h [serving]=serving/server.h
)
compiler="${CXX:-c++}"
failures=0
for layer in "${!below[@]}"; do
  includes_file="$build/layer_includes/$layer.txt"
  [[ -f $includes_file ]] || { echo "missing $includes_file"; exit 1; }
  flags=()
  IFS=';' read -r -a dirs <<<"$(tr -d '\n' <"$includes_file")"
  for dir in "${dirs[@]}"; do [[ -n $dir ]] && flags+=("-I$dir"); done
  # Everything allowed preprocesses.
  allowed="$layer ${below[$layer]}"
  : >"$work/allowed.cpp"
  for other in $allowed; do echo "#include \"mrcnn/${header[$other]}\"" >>"$work/allowed.cpp"; done
  if ! "$compiler" -std=c++20 -E "${flags[@]}" "$work/allowed.cpp" -o /dev/null 2>"$work/error.txt"; then
    echo "FAIL: $layer cannot include its own or a lower layer's header:"; head -5 "$work/error.txt"
    failures=$((failures + 1))
  fi
  # Everything else is not found.
  for other in "${!header[@]}"; do
    [[ " $allowed " == *" $other "* ]] && continue
    echo "#include \"mrcnn/${header[$other]}\"" >"$work/upward.cpp"
    if "$compiler" -std=c++20 -E "${flags[@]}" "$work/upward.cpp" -o /dev/null 2>/dev/null; then
      echo "FAIL: $layer can include mrcnn/${header[$other]} ($other is not below it)"
      failures=$((failures + 1))
    fi
  done
done
# And the sources agree: no file includes a header of a layer that is not below its own.
for layer in "${!below[@]}"; do
  allowed="$layer ${below[$layer]}"
  while IFS= read -r line; do
    file="${line%%:*}"
    used="$(sed -nE 's|.*#include "mrcnn/([a-z_]+)/.*|\1|p' <<<"$line")"
    [[ -z $used || " $allowed " == *" $used "* ]] && continue
    echo "FAIL: $file includes a header of $used, which is not below $layer"
    failures=$((failures + 1))
  done < <(grep -rn '#include "mrcnn/' "$source/src/mrcnn/$layer" || true)
done
if ((failures)); then
  echo "layering: $failures violations"
  exit 1
fi
echo "layering: ${#below[@]} layers, every include within the graph"
