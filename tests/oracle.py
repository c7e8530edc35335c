"""Differential testing helpers: run the same .tflite bytes in ai-edge-litert
and in tinylite and compare."""
from __future__ import annotations

import numpy as np

from support import need


def litert_interpreter(content: bytes, resolver: str = "builtin", **options):
    try:
        from ai_edge_litert import interpreter as lite
    except ImportError:  # pragma: no cover - depends on the machine
        need(False, "ai-edge-litert is not installed (pip install '.[test]')")
    kind = {"builtin": lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
            "ref": lite.OpResolverType.BUILTIN_REF,
            "auto": lite.OpResolverType.AUTO}[resolver]
    return lite.Interpreter(model_content=content, experimental_op_resolver_type=kind, **options)


def run(interpreter, feeds):
    """Resize inputs to the feeds' shapes, run once, return outputs in order."""
    inputs = interpreter.get_input_details()
    assert len(inputs) == len(feeds), f"model has {len(inputs)} inputs, {len(feeds)} feeds given"
    for d, x in zip(inputs, feeds):
        if tuple(d["shape"]) != np.shape(x):
            interpreter.resize_tensor_input(d["index"], np.shape(x))
    interpreter.allocate_tensors()
    for d, x in zip(inputs, feeds):
        interpreter.set_tensor(d["index"], np.asarray(x, dtype=d["dtype"]))
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def run_litert(content, feeds, resolver="builtin"):
    return run(litert_interpreter(content, resolver), feeds)


def run_tinylite(content, feeds, resolver="builtin"):
    """tinylite with the op resolver matching LiteRT's `resolver` ("ref": BUILTIN_REF)."""
    import tinylite

    kind = tinylite.OpResolverType.BUILTIN_REF if resolver == "ref" else tinylite.OpResolverType.BUILTIN
    return run(tinylite.Interpreter(model_content=content, experimental_op_resolver_type=kind), feeds)


def assert_same_outputs(content, feeds, rtol=1e-5, atol=1e-6, resolver=None, max_lsb=0):
    """tinylite's outputs equal LiteRT's, with the matching op resolvers: float
    within rtol/atol (relative to the largest reference magnitude), integers
    within `max_lsb`.  Without `resolver`, both modes: tinylite's default
    against LiteRT's BUILTIN_WITHOUT_DEFAULT_DELEGATES, then tinylite's
    BUILTIN_REF against LiteRT's BUILTIN_REF (where LiteRT's reference
    resolver has the op).  Returns the default mode's (got, want)."""
    if resolver is not None:
        return _assert_same_outputs(content, feeds, rtol, atol, resolver, max_lsb)
    result = _assert_same_outputs(content, feeds, rtol, atol, "builtin", max_lsb)
    try:
        litert_interpreter(content, "ref").allocate_tensors()
    except (ValueError, RuntimeError) as e:
        if "Registration failed" not in str(e) and "Didn't find op" not in str(e):
            raise
        return result       # an op LiteRT's reference resolver does not have
    _assert_same_outputs(content, feeds, rtol, atol, "ref", max_lsb)
    return result


def _assert_same_outputs(content, feeds, rtol, atol, resolver, max_lsb):
    want = run_litert(content, feeds, resolver)
    got = run_tinylite(content, feeds, resolver)
    assert len(got) == len(want)
    where = f" ({resolver} resolvers)"
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, f"output {k}{where}: shape {g.shape} != LiteRT {w.shape}"
        assert g.dtype == w.dtype, f"output {k}{where}: dtype {g.dtype} != LiteRT {w.dtype}"
        if w.dtype.kind == "f":
            finite = np.isfinite(w)
            scale = float(np.max(np.abs(w[finite]))) if finite.any() else 0.0
            assert np.array_equal(finite, np.isfinite(g)), f"output {k}{where}: inf/nan positions differ"
            err = float(np.max(np.abs(g[finite] - w[finite]))) if finite.any() else 0.0
            assert err <= rtol * scale + atol, f"output {k}{where}: max abs error {err} > {rtol}*{scale}+{atol}"
        elif w.dtype == np.bool_ or w.dtype.kind == "b":
            assert np.array_equal(g, w), f"output {k}{where}: booleans differ"
        else:
            diff = np.abs(g.astype(np.int64) - w.astype(np.int64))
            assert diff.max(initial=0) <= max_lsb, f"output {k}{where}: integer outputs differ by up to {diff.max()}"
    return got, want
