"""`tinylite demo`: the pipeline on an embedded default, with no network.

Until the converter lands, the demo builds a small float CNN in code, writes
it as a .tflite file, reads it back and runs it in the interpreter.
"""
from __future__ import annotations

import os
import time

import numpy as np


def build_model() -> bytes:
    from .testing import single_op_model

    rng = np.random.default_rng(0)
    w = (rng.standard_normal((8, 3, 3, 1)) * 0.3).astype(np.float32)
    b = np.zeros(8, np.float32)
    return single_op_model(
        "CONV_2D", [dict(name="image", shape=[1, 28, 28, 1], shape_signature=[-1, 28, 28, 1]),
                    dict(name="kernel", data=w), dict(name="bias", data=b)],
        [("features", [1, 28, 28, 8])],
        options=dict(padding="SAME", stride_h=1, stride_w=1, fused_activation_function="RELU"))


def run_demo(output: str) -> int:
    from .flatbuffer import save_model
    from .interpreter import Interpreter

    os.makedirs(output, exist_ok=True)
    content = build_model()
    path = os.path.join(output, "demo_conv.tflite")
    save_model(content, path)
    ip = Interpreter(model_path=path)
    ip.allocate_tensors()
    d = ip.get_input_details()[0]
    x = np.random.default_rng(1).random((1, 28, 28, 1), np.float32)
    ip.set_tensor(d["index"], x)
    t = time.perf_counter()
    ip.invoke()
    dt = time.perf_counter() - t
    y = ip.get_tensor(ip.get_output_details()[0]["index"])
    print(f"wrote {path} ({len(content)} bytes)")
    print(f"ran it: input {d['shape'].tolist()} -> output {list(y.shape)} in {dt * 1e3:.2f} ms, "
          f"mean activation {float(y.mean()):.4f}")
    return 0
