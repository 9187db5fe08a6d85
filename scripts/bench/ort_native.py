"""Native onnxruntime (CPU, 1 thread) on our .onnx files, for scripts/bench-inference.mjs.

Reads one JSON line per photo from stdin, {"tiles": n, "crops": m}, runs the detector n times on
1x3x672x672 and the recognizer m times on 1x3x48x320 (the shapes our pipeline runs, the same
deterministic input as the JS side: timing does not depend on the values) and answers one JSON
line {"detMs", "recMs"}: the summed model time of each stage.
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort

det_path, rec_path = sys.argv[1], sys.argv[2]
options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL


def session(path, shape):
    s = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    n = int(np.prod(shape))
    x = ((np.arange(n) % 251).astype(np.float32) / 125.0 - 1.0).reshape(shape)
    feed = {s.get_inputs()[0].name: x}
    s.run(None, feed)  # warm
    return lambda: s.run(None, feed)


det = session(det_path, (1, 3, 672, 672))
rec = session(rec_path, (1, 3, 48, 320))
print(json.dumps({"ready": True, "version": ort.__version__}), flush=True)


def timed(run, count):
    t = time.perf_counter()
    for _ in range(count):
        run()
    return (time.perf_counter() - t) * 1000


for line in sys.stdin:
    job = json.loads(line)
    out = {"detMs": timed(det, job["tiles"]), "recMs": timed(rec, job["crops"])}
    print(json.dumps(out), flush=True)
