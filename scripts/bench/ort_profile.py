"""Where onnxruntime (CPU, 1 thread) spends its time on our two models, by operator type.

    python3 scripts/bench/ort_profile.py     # prints each model's top operators, % of kernel time

onnxruntime's own profiler (SessionOptions.enable_profiling) over 6 runs of each model on the
shapes our pipeline uses; the profile's JSON file is written to a temporary directory.
"""
import collections
import json
import os
import tempfile

import numpy as np
import onnxruntime as ort

root = os.path.join(os.path.dirname(__file__), "..", "..", "models")
for name, shape in [("det_ppocrv4_int8w.onnx", (1, 3, 672, 672)), ("rec_ppocrv4_alnum_int8w.onnx", (1, 3, 48, 320))]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "ort")
    session = ort.InferenceSession(os.path.join(root, name), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    for _ in range(6):
        session.run(None, {session.get_inputs()[0].name: x})
    events = json.load(open(session.end_profiling()))
    by_op = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            by_op[e["args"]["op_name"]] += e["dur"]
    total = sum(by_op.values())
    print(f"{name}: " + ", ".join(f"{op} {100 * us / total:.0f}%" for op, us in by_op.most_common(10)))
