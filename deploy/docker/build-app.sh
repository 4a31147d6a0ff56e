#!/usr/bin/env bash
# The build steps of every chunkmesh image, in one place: the Dockerfiles' build stages run this,
# and CI runs it outside Docker (deploy/docker/check-build.sh) so the steps are proven where no
# base image can be pulled.
#
#   deploy/docker/build-app.sh cpu|cuda OUT_DIR      (run from a copy of the repository)
#
# It installs and builds in the current directory (npm ci: the native addon, then the TypeScript
# to dist/), with CHUNKMESH_PORTABLE=1 (no -march=native: the image runs on any x86-64 CPU); cpu
# builds without CUDA, cuda needs nvcc and builds kernels for sm_80 and sm_90a (A100, H100; set in
# native/CMakeLists.txt). It then drops the dev dependencies (tsx, typescript, ...) and copies to
# OUT_DIR only what runs: OUT_DIR/app (compiled JavaScript, the addon, production node_modules,
# the proto files) and OUT_DIR/models/stories260K (the tiny model the chart uses by default).
set -euo pipefail
flavour=${1:?usage: build-app.sh cpu|cuda OUT_DIR}
out=${2:?usage: build-app.sh cpu|cuda OUT_DIR}

export CHUNKMESH_PORTABLE=1
case "$flavour" in
  cpu) export CHUNKMESH_CPU_ONLY=1 ;;
  cuda)
    unset CHUNKMESH_CPU_ONLY
    command -v nvcc >/dev/null || { echo "build-app.sh cuda: nvcc is not on the PATH" >&2; exit 1; }
    ;;
  *) echo "build-app.sh: flavour must be cpu or cuda, got $flavour" >&2; exit 2 ;;
esac

echo "== npm ci ($flavour, portable)"
npm ci --no-audit --no-fund
# the addon must be what the image promises: portable, and with CUDA exactly when asked
CUDA="$([ "$flavour" = cuda ] && echo true || echo false)" node --input-type=module -e '
  const { buildInfo } = await import("@chunkmesh/native");
  const b = buildInfo();
  if (b.nativeArch || String(b.cudaCompiled) !== process.env.CUDA) {
    console.error(`build-app.sh: the addon is ${JSON.stringify(b)}, wanted portable with cudaCompiled=${process.env.CUDA}`);
    process.exit(1);
  }'

echo "== drop dev dependencies"
npm prune --omit=dev --no-audit --no-fund

echo "== stage the runtime into $out"
rm -rf "$out"
mkdir -p "$out/app/native/build/Release" "$out/models"
cp package.json package-lock.json "$out/app/"
cp -a node_modules proto "$out/app/"
cp native/package.json "$out/app/native/"
cp -a native/dist "$out/app/native/"
cp native/build/Release/chunkmesh_native.node "$out/app/native/build/Release/"
for pkg in common model worker router jobs cli; do
  mkdir -p "$out/app/services/$pkg"
  cp services/$pkg/package.json "$out/app/services/$pkg/"
  cp -a services/$pkg/dist "$out/app/services/$pkg/"
done
cp -a services/cli/bin "$out/app/services/cli/"
cp -a test/fixtures/stories260K "$out/models/"
# workspace links whose packages are not shipped (test-support is a dev-only workspace)
find "$out/app/node_modules" -xtype l -delete
test ! -e "$out/app/node_modules/tsx" || { echo "build-app.sh: tsx is still installed" >&2; exit 1; }
echo "== staged: $(du -sh "$out/app" | cut -f1) app, $(du -sh "$out/models" | cut -f1) models"
