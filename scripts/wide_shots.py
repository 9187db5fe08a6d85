#!/usr/bin/env python3
"""Wide shots: how many bibs `finishline scan` reads when they are small in a large photo.

RBNR's photos are close-ups of a few runners. A wide shot is simulated by putting four of them
(of one size) side by side, 2x2, and enlarging the result 2x: a 5-8 megapixel photo with each
runner at half the share of the frame. Built in a temporary directory from ../shared/data/rbnr
(never copied here), scanned at each detection size, scored by ../shared/tools/score_bibs.py.

  python3 scripts/wide_shots.py [--sizes 1280,1888,2048]

Prints one row per size: recall, precision, F1, mean ms per photo (docs/accuracy.md, "Wide shots").
"""
import argparse, collections, json, os, subprocess, sys, tempfile

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "rbnr")
SCORE = os.path.join(ROOT, "..", "shared", "tools", "score_bibs.py")
CLI = os.path.join(ROOT, "target", "release", "finishline")


def make_mosaics(out):
    labels = json.load(open(os.path.join(DATA, "labels.json")))
    by_size = collections.defaultdict(list)
    for key, label in sorted(labels.items()):
        by_size[(label["width"], label["height"])].append(key)
    mosaics = {}
    for (w, h), keys in sorted(by_size.items()):
        for group in (keys[i:i + 4] for i in range(0, len(keys) - 3, 4)):
            mosaic, bibs = Image.new("RGB", (2 * w, 2 * h)), []
            for j, key in enumerate(group):
                ox, oy = (j % 2) * w, (j // 2) * h
                mosaic.paste(Image.open(os.path.join(DATA, key)).convert("RGB"), (ox, oy))
                for bib in labels[key]["bibs"]:
                    b = bib["box"]
                    box = {"x": 2 * (b["x"] + ox), "y": 2 * (b["y"] + oy), "w": 2 * b["w"], "h": 2 * b["h"]}
                    bibs.append({"number": bib["number"], "box": box})
            name = f"wide/mosaic_{len(mosaics):02d}.jpg"
            mosaic.resize((4 * w, 4 * h), Image.LANCZOS).save(os.path.join(out, name), quality=92)
            mosaics[name] = {"bibs": bibs, "width": 4 * w, "height": 4 * h}
    with open(os.path.join(out, "labels.json"), "w") as f:
        json.dump(mosaics, f)
    return mosaics


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1280,1888,2048")
    sizes = parser.parse_args().sizes.split(",")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "finishline"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "wide"))
        mosaics = make_mosaics(tmp)
        bibs = sum(len(m["bibs"]) for m in mosaics.values())
        print(f"{len(mosaics)} wide shots, {bibs} labelled bibs\n")
        print("| detection size | recall | precision | F1 | ms per photo |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for size in sizes:
            reads = os.path.join(tmp, f"reads_{size}.jsonl")
            with open(reads, "w") as f:
                subprocess.run([CLI, "scan", "--detection-size", size, os.path.join(tmp, "wide")], stdout=f, check=True)
            score = subprocess.run([sys.executable, SCORE, os.path.join(tmp, "labels.json"), reads],
                                   capture_output=True, text=True, check=True).stdout.split()
            recall, precision, f1 = (score[score.index(k) + 1] for k in ("recall", "precision", "f1"))
            ms = [json.loads(line)["ms"] for line in open(reads)]
            print(f"| {size} | {recall} | {precision} | {f1} | {sum(ms) / len(ms):.0f} |")


if __name__ == "__main__":
    main()
