#!/usr/bin/env bash
# Reproduces the accuracy numbers of docs/accuracy.md: builds the release CLI, scans the RBNR
# development set (read from ../shared, never copied here), scores the reads.
#   scripts/score.sh [extra `finishline scan` options, e.g. --det-model F --rec-model F]
# Writes the reads to target/reads.jsonl (override with READS=...).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/rbnr}
READS=${READS:-target/reads.jsonl}
cargo build --release --bin finishline
./target/release/finishline scan "$@" "$DATA/set1" "$DATA/set2" > "$READS"
python3 ../shared/tools/score_bibs.py "$DATA/labels.json" "$READS"
python3 - "$READS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = [r for r in rows if "stageMs" in r]
errors = len(rows) - len(ok)
mean = lambda k: sum(r["stageMs"][k] for r in ok) / max(len(ok), 1)
print(f"photos {len(rows)}, errors {errors}; mean ms per photo: total {sum(r['ms'] for r in ok) / max(len(ok), 1):.0f}, "
      + ", ".join(f"{k} {mean(k):.1f}" for k in ("decode", "detection", "ocr", "color")))
PY
