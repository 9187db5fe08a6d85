#!/usr/bin/env bash
# Gives `npm start` a local API token: writes one to .dev.vars (never committed) the first
# time, and prints it. Production sets its own with `wrangler secret put API_TOKEN`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! grep -q '^API_TOKEN=' .dev.vars 2>/dev/null; then
  echo "API_TOKEN=dev-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" >> .dev.vars
fi
token=$(sed -n 's/^API_TOKEN=//p' .dev.vars | head -n1)
echo "Local API token (in .dev.vars): $token"
echo "  upload: curl -H 'authorization: Bearer $token' -H 'content-type: image/jpeg' --data-binary @photo.jpg http://127.0.0.1:8787/events/my-race/photos"
echo "  dashboard: http://127.0.0.1:8787/ (any event id, and this token to upload)"
