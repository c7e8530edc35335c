"""Both op resolvers against LiteRT's matching one, on every integer file of the
shared corpus and zoo: tinylite's BUILTIN_REF against LiteRT's BUILTIN_REF, its
default (optimized) kernels against LiteRT's BUILTIN_WITHOUT_DEFAULT_DELEGATES.

Random inputs over each input's whole integer range (float inputs feeding a
QUANTIZE take values on its grid), every intermediate kept
(experimental_preserve_all_tensors in both runtimes) and compared: integer
tensors bit for bit, float ones (after a DEQUANTIZE) within 1e-5 relative.  A
failure names the first op whose output differs.

A file is integer when some op computes on quantized 8/16-bit activations and
none is a hybrid one (float activations, integer weights); the others are not
cases.  Files LiteRT cannot run, and files tinylite cannot run yet, are
expected failures (xfail) with the error: they become plain cases as soon as
tinylite runs them."""
import numpy as np
import pytest

import tinylite
from support import CORPUS, ZOO, need
from tinylite.flatbuffer.schema import numpy_dtype

from oracle import litert_interpreter

INTEGER = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))


def _files():
    files = sorted(CORPUS.glob("*/tf_*.tflite")) if CORPUS.is_dir() else []
    files += sorted(ZOO.glob("*.tflite")) if ZOO.is_dir() else []
    return files


def _kind(model) -> str:
    """'integer', 'hybrid' or 'float'."""
    quantized = False
    for sg in model.subgraphs:
        for op in sg.operators:
            name = model.op_name(op)
            live = [i for i in op.inputs if i >= 0 and model.buffer_array(sg.tensors[i]) is None
                    and not sg.tensors[i].sparsity]      # sparse constants are densified at load
            consts = [i for i in op.inputs if i >= 0 and i not in live]
            live_types = {np.dtype(numpy_dtype(sg.tensors[i].type)) for i in live}
            const_types = {np.dtype(numpy_dtype(sg.tensors[i].type)) for i in consts}
            # Float activations meeting integer weights (constant, or made by DENSIFY): hybrid.
            if name not in ("QUANTIZE", "DEQUANTIZE") and np.dtype(np.float32) in live_types and (
                    (const_types | live_types) & {np.dtype(np.int8), np.dtype(np.uint8)}):
                return "hybrid"
            if live_types & set(INTEGER) and name not in ("QUANTIZE", "DEQUANTIZE"):
                quantized = True
    return "integer" if quantized else "float"


def _feeds(model, details, rng):
    sg = model.subgraphs[0]
    feeds = []
    for d in details:
        shape = tuple(int(s) for s in d["shape"])
        dtype = np.dtype(d["dtype"])
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            feeds.append(rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype))
            continue
        # A float input: values on the grid of the QUANTIZE reading it, over its whole range.
        quantize = [op for op in sg.operators if model.op_name(op) == "QUANTIZE" and op.inputs[0] == d["index"]]
        if dtype != np.float32 or not quantize:
            return None
        t = sg.tensors[quantize[0].outputs[0]]
        info = np.iinfo(numpy_dtype(t.type))
        q = rng.integers(info.min, info.max, shape, endpoint=True)
        feeds.append(((q - int(t.quantization.zero_point[0])) * float(t.quantization.scale[0])).astype(np.float32))
    return feeds


def _run_all(ip, feeds):
    ip.allocate_tensors()
    for d, x in zip(ip.get_input_details(), feeds):
        ip.set_tensor(d["index"], x)
    ip.invoke()


def _integer_files():
    from tinylite.flatbuffer.reader import read_model

    for path in _files():
        try:
            kind = _kind(read_model(str(path)))
        except Exception:  # noqa: BLE001 - a file tinylite cannot read yet: a case, which says why
            kind = "integer"
        if kind == "integer":
            yield path


CASES = [pytest.param(path, mode, id=f"{path.parent.name}/{path.stem}-{mode}")
         for path in _integer_files() for mode in ("ref", "builtin")]


@pytest.mark.parametrize("path,mode", CASES)
def test_integer_file_bit_exact_with_litert_resolver(path, mode):
    from tinylite.flatbuffer.reader import read_model

    try:
        model = read_model(str(path))
    except Exception as e:  # noqa: BLE001 - a file tinylite cannot read yet
        pytest.xfail(f"tinylite cannot read this file yet: {e}")
    content = path.read_bytes()
    try:
        lite = litert_interpreter(content, mode, experimental_preserve_all_tensors=True)
        lite.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        pytest.xfail(f"LiteRT cannot run this file: {str(e)[:200]}")
    feeds = _feeds(model, lite.get_input_details(), np.random.default_rng(0))
    if feeds is None:
        pytest.xfail("a float input that no QUANTIZE reads: no integer range to draw from")
    resolver = tinylite.OpResolverType.BUILTIN_REF if mode == "ref" else tinylite.OpResolverType.BUILTIN
    try:
        ours = tinylite.Interpreter(model_content=content, experimental_op_resolver_type=resolver,
                                    experimental_preserve_all_tensors=True)
        ours.allocate_tensors()
    except tinylite.UnsupportedOpError as e:
        pytest.xfail(f"tinylite cannot run this file yet: {str(e)[:300]}")
    _run_all(lite, feeds)
    _run_all(ours, feeds)
    sg = model.subgraphs[0]
    for k, op in enumerate(sg.operators):
        for i in op.outputs:
            if i < 0:
                continue
            want = lite.get_tensor(i)
            got = ours.get_tensor(i)
            where = f"node {k} ({model.op_name(op)}) output tensor {i} {sg.tensors[i].name!r}"
            assert got.shape == want.shape and got.dtype == want.dtype, \
                f"{where}: {got.dtype}{got.shape} != LiteRT {want.dtype}{want.shape}"
            if want.dtype.kind == "f":
                scale = float(np.max(np.abs(want), initial=0))
                err = float(np.max(np.abs(got.astype(np.float64) - want), initial=0))
                assert err <= 1e-5 * scale + 1e-6, f"{where}: max abs error {err} (scale {scale})"
            else:
                diff = got.astype(np.int64) - want.astype(np.int64)
                assert not diff.any(), (f"{where}: {np.mean(diff != 0):.4%} of elements differ, by up to "
                                        f"{np.abs(diff).max()} LSB")
    # Keeping every tensor changes no output (the plan without it rewrites and shares memory).
    plain = tinylite.Interpreter(model_content=content, experimental_op_resolver_type=resolver)
    _run_all(plain, feeds)
    for d in plain.get_output_details():
        np.testing.assert_array_equal(plain.get_tensor(d["index"]), ours.get_tensor(d["index"]))


def test_files_present():
    need(CORPUS.is_dir() and ZOO.is_dir(), f"shared corpus/zoo not found at {CORPUS} / {ZOO}")
    assert CASES
