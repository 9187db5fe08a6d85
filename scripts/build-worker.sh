#!/usr/bin/env bash
# Builds the Worker (build/index.js + build/index_bg.wasm) unless it is newer than every
# input, so `wrangler dev` and the tests do not rebuild what is already built.
set -euo pipefail
cd "$(dirname "$0")/.."
# The models are static assets (wrangler.toml [assets]), read once per isolate by the queue
# consumer: the files of models/, copied (not committed twice: public/models/ is git-ignored).
mkdir -p public/models
for model in models/*.nnef.tar; do
  cmp -s "$model" "public/$model" || cp "$model" "public/$model"
done
out=build/index_bg.wasm
if [ -f "$out" ] && [ -z "$(find src models Cargo.toml Cargo.lock .cargo -newer "$out" -print -quit)" ]; then
  echo "build/ is up to date"
  exit 0
fi
# worker-build downloads nothing when given these binaries (node_modules/.bin is on PATH
# under npm run; wasm-bindgen comes from scripts/setup-toolchain.sh).
WASM_BINDGEN_BIN=wasm-bindgen ESBUILD_BIN=esbuild worker-build --profile worker "$@"
