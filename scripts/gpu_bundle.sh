#!/usr/bin/env bash
# Prepares gpu_bundle/ on a build machine, for scripts/gpu_check.sh on a GPU machine that has
# torch but no package manager and no network: our programs built here (with CUDA kernels
# for sm_80 and sm_90), the small shared libraries they use that are neither part of torch nor
# of the C runtime, a fallback libstdc++, and torchvision (the benchmarks' reference).
#   scripts/gpu_bundle.sh            # then copy the tree with gpu_bundle/ to the GPU machine
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
scripts/build.sh >/dev/null
grep -q "CUDA kernels on" <(build/bin/mrcnn env) || {
  echo "gpu_bundle: this build has no CUDA kernels (no nvcc here?)" >&2
  exit 1
}

out=gpu_bundle
rm -rf "$out"
mkdir -p "$out/bin" "$out/libexec/mrcnn" "$out/lib" "$out/lib/fallback" "$out/python"
# The front end finds the full program at ../libexec/mrcnn/ from its own folder.
programs=(build/bin/mrcnn build/libexec/mrcnn/mrcnn-main build/tests/test_ops)
cp build/bin/mrcnn build/tests/test_ops "$out/bin/"
cp build/libexec/mrcnn/mrcnn-main "$out/libexec/mrcnn/"
# Libraries that are neither torch's, CUDA's nor the C runtime's: ours to bring. Judged by
# name, not by folder: the CUDA runtime may resolve from any folder the loader knows.
for lib in $(ldd "${programs[@]}" | awk '/=> \// {print $3}' | sort -u); do
  case "$lib" in */torch/* | */nvidia/* | /usr/local/cuda*) continue ;; esac
  case "$(basename "$lib")" in
    libtorch* | libc10* | libgomp*) continue ;;  # torch's
    libcuda* | libcublas* | libcudnn* | libcufft* | libcufile* | libcurand* | libcusparse*) continue ;;
    libcusolver* | libcupti* | libnccl* | libnv*) continue ;;  # CUDA's
    libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | libutil.so* | ld-linux*) continue ;;
    libstdc++.so* | libgcc_s.so*) cp -L "$lib" "$out/lib/fallback/" ;;  # only if the host's is older
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
site="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cp -r "$site/torchvision" "$site/torchvision.libs" "$out/python/"
find "$out/python" -name __pycache__ -prune -exec rm -rf {} +
git rev-parse HEAD > "$out/COMMIT"
echo "gpu_bundle: $(du -sh "$out" | cut -f1) in $out/ ($(find "$out/lib" -maxdepth 1 -type f | wc -l) libraries, $(ls "$out/lib/fallback" | wc -l) fallbacks); commit $(cut -c1-12 "$out/COMMIT")"
