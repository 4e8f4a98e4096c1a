#!/usr/bin/env bash
# Downloads COCO 2017 (train/val images and instance annotations) into dataset/coco in the
# layout the configs expect:
#   dataset/coco/annotations/instances_{train,val}2017.json
#   dataset/coco/{train2017,val2017}/*.jpg
# Interrupted downloads resume where they stopped; every archive is checked against its
# published SHA-1 before it is unpacked. About 19 GB to download, 20 GB unpacked.
#
#   scripts/get_coco.sh [--val-only] [--dest DIR]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/dataset/coco"
val_only=0
while (($#)); do
  case "$1" in
    --val-only) val_only=1 ;;
    --dest) dest="$2"; shift ;;
    *) echo "usage: $0 [--val-only] [--dest DIR]" >&2; exit 2 ;;
  esac
  shift
done
base="${COCO_BASE_URL:-http://images.cocodataset.org}"

# archive path on the server, SHA-1, what it unpacks to
archives=(
  "annotations/annotations_trainval2017.zip 8551ee4bb5860311e79dace7e79cb91e432e78b3 annotations/instances_val2017.json"
  "zips/val2017.zip 4950dc9d00dbe1c933ee0170f5797584351d2a41 val2017"
)
if ((!val_only)); then
  archives+=("zips/train2017.zip 10ad623668ab00c62c096f0ed636d6aff41faca5 train2017")
fi

for tool in curl sha1sum unzip; do
  command -v "$tool" >/dev/null || { echo "get_coco: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
mkdir -p "$dest/downloads"

for entry in "${archives[@]}"; do
  read -r path sha1 unpacked <<<"$entry"
  name="$(basename "$path")"
  zip="$dest/downloads/$name"
  if [[ -e $dest/$unpacked ]]; then
    echo "get_coco: $unpacked already present, skipping $name"
    continue
  fi
  if [[ ! -f $zip.verified ]]; then
    echo "get_coco: downloading $name (resumes if interrupted)"
    # -C -: continue a partial file; --retry: ride out dropped connections.
    curl --fail --location --retry 10 --retry-delay 5 -C - -o "$zip" "$base/$path"
    echo "get_coco: checking $name"
    actual="$(sha1sum "$zip" | cut -d' ' -f1)"
    if [[ $actual != "$sha1" ]]; then
      echo "get_coco: $name has SHA-1 $actual, expected $sha1; delete $zip and run again" >&2
      exit 1
    fi
    touch "$zip.verified"
  fi
  echo "get_coco: unpacking $name"
  unzip -q -o "$zip" -d "$dest"
done

echo "get_coco: COCO 2017 is in $dest"
echo "  check it:  build/bin/mrcnn coco-eval --ann $dest/annotations/instances_val2017.json"
echo "  the zips in $dest/downloads can be deleted"
