#!/usr/bin/env bash
# Per-photo latency by stage (native, release build), peak memory, and the Worker bundle's size.
#   scripts/bench.sh
# Makes a 12-megapixel JPEG (and a progressive one) from an RBNR photo in target/bench/ (never
# in the repo; needs Python Pillow), scans it and the RBNR photos with the release CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/rbnr}
OUT=target/bench
mkdir -p "$OUT"
cargo build --release --bin finishline
python3 - "$DATA/set2/set2_12.JPG" "$OUT" <<'PY'
import sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
big = Image.open(src).convert("RGB").resize((4240, 2832), Image.BICUBIC)  # 12.0 MP
big.save(f"{out}/12mp.jpg", quality=90)
big.save(f"{out}/12mp_progressive.jpg", quality=90, progressive=True)
PY
for photo in "$OUT/12mp.jpg" "$OUT/12mp_progressive.jpg"; do
  # Two scans in one run: the second is warm; peak RSS covers models + both photos.
  /usr/bin/time -f "peak RSS %M KB" ./target/release/finishline scan "$photo" "$photo" 2> "$OUT/time.txt" \
    | python3 -c "import json,sys; [print(r['file'], 'ms', r['ms'], r['stageMs'], [d['number'] for d in r['detections']]) for r in map(json.loads, sys.stdin)]"
  cat "$OUT/time.txt"
done
echo "models only (no photo):"
/usr/bin/time -f "peak RSS %M KB" ./target/release/finishline scan /dev/null > /dev/null
./target/release/finishline scan "$DATA/set1" "$DATA/set2" > "$OUT/rbnr.jsonl"
python3 - "$OUT/rbnr.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for k in ("decode", "detection", "ocr", "color"):
    v = sorted(r["stageMs"][k] for r in rows)
    print(f"RBNR {len(v)} photos, {k}: median {v[len(v)//2]:.1f} ms, p90 {v[int(len(v)*0.9)]:.1f} ms")
v = sorted(r["ms"] for r in rows)
print(f"RBNR total per photo: median {v[len(v)//2]} ms, p90 {v[int(len(v)*0.9)]} ms")
PY
for wasm in build/index_bg.wasm target/wasm32-unknown-unknown/release/finishline.wasm; do
  [ -f "$wasm" ] && echo "$wasm: $(stat -c %s "$wasm") bytes raw, $(gzip -9 -c "$wasm" | wc -c) bytes gzip"
done
echo "models: $(cat models/*.nnef.tar | wc -c) bytes raw, $(cat models/*.nnef.tar | gzip -9 | wc -c) bytes gzip"
