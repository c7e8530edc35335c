"""Every .tflite file in the shared zoo (../shared/zoo: real files published by
other projects) runs in tinylite and agrees with LiteRT on seeded random
inputs (tinylite.testing.random_inputs: integer inputs over their full range,
index-like inputs within the bounds of what they index):
- integer outputs bit-exact with LiteRT's BUILTIN_WITHOUT_DEFAULT_DELEGATES
  resolver (its default resolver, i.e. XNNPACK, for files whose custom ops
  LiteRT runs only there);
- float outputs within 1e-4 of the largest magnitude of LiteRT's output,
  dynamic-range (hybrid) files included, which are also checked on more seeds.
Files LiteRT rejects must still run in tinylite and give finite outputs of
the declared shapes.  Rows of TFLite_Detection_PostProcess outputs past the
detection count are not compared: LiteRT leaves them unwritten."""
import os
from pathlib import Path

import numpy as np
import pytest

from support import CORPUS, need
from tinylite.flatbuffer.reader import parse
from tinylite.testing import random_inputs

ZOO = Path(os.environ.get("TINYLITE_ZOO", CORPUS.parent / "zoo"))
FILES = sorted(p.stem for p in ZOO.glob("*.tflite")) if ZOO.is_dir() else ["(zoo missing)"]
RTOL = 1e-4


def is_hybrid(content):
    """Whether any op takes float32 activations with int8/int4 weights."""
    model = parse(content)
    for sg in model.subgraphs:
        for op in sg.operators:
            types = [sg.tensors[i].type if i >= 0 else None for i in op.inputs]
            if len(types) > 1 and types[0] == 0 and types[1] in (9, 17) \
                    and model.op_name(op) in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
                return True
    return False


# Dynamic-range (hybrid) models quantize each image's activations on the fly,
# so a last-bit difference in an earlier float op would move a quantization
# step; the float convolutions before a hybrid op sum in LiteRT's order and the
# quantization rounds as LiteRT's does (docs/hybrid_drift.md), so they are held
# to the float bar too (measured: at most 8.1e-7 over 30 seeds), on 12 seeds.
HYBRID_RTOL = RTOL
HYBRID_SEEDS = range(1, 12)         # with seed 0: 12 per file (about 30 s for the style transfer)
HYBRID_FILES = ([p.stem for p in sorted(ZOO.glob("*.tflite")) if is_hybrid(p.read_bytes())] if ZOO.is_dir()
                else ["(zoo missing)"])


def litert(content):
    from ai_edge_litert import interpreter as lite

    for kind in (lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES, lite.OpResolverType.AUTO):
        try:
            ip = lite.Interpreter(model_content=content, experimental_op_resolver_type=kind)
            ip.allocate_tensors()
            return ip
        except (RuntimeError, ValueError) as e:
            if "unresolved custom op" not in str(e):
                return None         # LiteRT rejects the file
    return None


def run(ip, feeds):
    for d, x in zip(ip.get_input_details(), feeds):
        ip.set_tensor(d["index"], x)
    ip.invoke()
    return [ip.get_tensor(d["index"]) for d in ip.get_output_details()]


def detection_rows(content):
    """{output position: (count output position, rows per detection)} for outputs of
    TFLite_Detection_PostProcess (fast NMS fills max_classes_per_detection rows per box)."""
    from flatbuffers import flexbuffers

    model = parse(content)
    sg = model.subgraphs[0]
    found = {}
    for op in sg.operators:
        code = model.operator_codes[op.opcode_index]
        if code.custom_code != "TFLite_Detection_PostProcess":
            continue
        opts = flexbuffers.Loads(bytes(op.custom_options))
        per = 1 if opts.get("use_regular_nms") else int(opts.get("max_classes_per_detection", 1))
        count = list(sg.outputs).index(op.outputs[3])
        for o in op.outputs[:3]:
            if o in sg.outputs:
                found[list(sg.outputs).index(o)] = (count, per)
    return found


@pytest.mark.parametrize("name", FILES)
def test_zoo_file_matches_litert(name):
    check_file(name, seeds=[0])


@pytest.mark.parametrize("name", HYBRID_FILES)
def test_dynamic_range_file_matches_litert_over_seeds(name):
    """Where a hybrid op's quantization could drift, one seed is not enough (before the
    float order was LiteRT's, 7 of 30 seeds of tfex_mobilenet_v2_035_96_embedder moved)."""
    check_file(name, seeds=HYBRID_SEEDS)


@pytest.mark.parametrize("name", HYBRID_FILES)
def test_dynamic_range_file_matches_litert_reference_resolver(name):
    """BUILTIN_REF against LiteRT's BUILTIN_REF: the float convolutions before a hybrid
    op then sum as LiteRT's reference kernels do (docs/hybrid_drift.md)."""
    check_file(name, seeds=[0], reference=True)      # LiteRT's reference convolutions are slow


def check_file(name, seeds, reference=False):
    need(ZOO.is_dir(), f"model zoo not found at {ZOO} (set TINYLITE_ZOO)")
    import tinylite
    import tinylite.errors

    try:
        import ai_edge_litert  # noqa: F401
    except ImportError:
        need(False, "ai-edge-litert is not installed (pip install '.[test]')")
    content = (ZOO / f"{name}.tflite").read_bytes()
    if reference:
        from ai_edge_litert import interpreter as lite

        ip = tinylite.Interpreter(model_content=content,
                                  experimental_op_resolver_type=tinylite.OpResolverType.BUILTIN_REF)
        try:
            ip.allocate_tensors()
        except tinylite.errors.UnsupportedOpError as e:
            # Blockwise INT4 weights: LiteRT runs them on its optimized kernel only, and so does tinylite.
            assert "not BUILTIN_REF" in str(e)
            return
        ref = lite.Interpreter(model_content=content, experimental_op_resolver_type=lite.OpResolverType.BUILTIN_REF)
        ref.allocate_tensors()
    else:
        ip = tinylite.Interpreter(model_content=content)
        ip.allocate_tensors()
        ref = litert(content)
    rows = detection_rows(content)
    bound = HYBRID_RTOL if is_hybrid(content) else RTOL
    for seed in seeds:
        feeds = random_inputs(content, seed=seed)
        got = run(ip, feeds)
        if ref is None:
            # LiteRT rejects it; tinylite still runs it.
            for g, d in zip(got, ip.get_output_details()):
                assert tuple(g.shape) == tuple(d["shape"])
                assert g.dtype.kind != "f" or np.all(np.isfinite(g))
            continue
        compare(got, run(ref, feeds), rows, bound, seed)


def compare(got, want, rows, bound, seed):
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape and g.dtype == w.dtype, f"output {k}: {g.shape} {g.dtype} vs {w.shape} {w.dtype}"
        if k in rows:
            count, per = rows[k]
            n = int(want[count].reshape(-1)[0]) * per
            g, w = g[:, :n], w[:, :n]
        if w.dtype.kind == "f":
            scale = float(np.max(np.abs(w))) if w.size else 0.0
            err = float(np.max(np.abs(g.astype(np.float64) - w))) if w.size else 0.0
            assert err <= bound * scale, f"seed {seed}, output {k}: max error {err:.3g} > {bound} x {scale:.3g}"
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"seed {seed}, output {k}")
