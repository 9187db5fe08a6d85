#!/usr/bin/env bash
# What the dashboard's browser test (tests/dashboard.test.mjs) needs beyond the build: Debian's
# chromium, driven through playwright-core (which a node_modules installed before it was added
# lacks). Run by `npm test`, not by `npm start`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/playwright-core ] || npm install
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  else
    echo "setup: no apt-get, chromium not installed; tests/dashboard.test.mjs will fail" >&2
  fi
fi
