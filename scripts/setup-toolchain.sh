#!/usr/bin/env bash
# Installs what building the Worker needs beyond Rust and Node, each at the version that
# Cargo.lock and worker-build expect; a tool already at its pinned version is not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKER_BUILD_VERSION=0.8.7
# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock, byte for byte.
WASM_BINDGEN_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if ! worker-build --version 2>/dev/null | grep -Eq "(^| )$WORKER_BUILD_VERSION\$"; then
  cargo install worker-build --version "$WORKER_BUILD_VERSION"
fi
if ! wasm-bindgen --version 2>/dev/null | grep -Eq "(^| )$WASM_BINDGEN_VERSION\$"; then
  # --locked fails here: the tool's own lock wants a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
[ -d node_modules ] || npm install
