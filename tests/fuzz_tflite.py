"""Seeded fuzzing of the .tflite path: mutants of real files and of models
built in code, each loaded, allocated and run in a worker process with a
memory cap and a per-mutant deadline.

Every mutant must end in a correct run or in one of tinylite's own errors
with a clean message.  The outcomes that fail a run:

- raw: any other exception, or a tinylite error whose message is a Python
  internal ("IndexError: ...", "object has no attribute", ...);
- blowup: a MemoryError anywhere in the exception chain (tinylite asked numpy
  for more than the process may have instead of refusing the model first), or
  the worker dying;
- hang: no answer within the deadline, where LiteRT, run on the same file and
  inputs, finishes (where LiteRT runs forever too, the mutant is an infinite
  loop of the model's own, such as a WHILE whose condition stays true, and
  counts as "loops").

``tests/test_fuzz_tflite.py`` runs a few hundred mutants in CI; for a larger
run (about 4 mutants a second on one core):

    python tests/fuzz_tflite.py --mutants 3200 --seed 1
"""
from __future__ import annotations

import argparse
import os
import pickle
import re
import select
import struct
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# Files larger than this make a mutant's run too slow for a few hundred per minute.
MAX_SOURCE_BYTES = 150_000
# The worker may grow this much past what it holds after its imports.
MEMORY_CAP = 1536 << 20
# A mutant whose arena is bigger than this is allocated but not run (a valid, slow model).
INVOKE_ARENA_LIMIT = 64 << 20

# Phrases of Python's and numpy's own messages: a tinylite error carrying one
# tells the user about tinylite's internals instead of about their model.
LEAKS = re.compile(
    r"\b(IndexError|KeyError|AttributeError|TypeError|OverflowError|ZeroDivisionError|UFuncTypeError|"
    r"NameError|AssertionError|UnboundLocalError|RecursionError|StopIteration|MemoryError)\b|"
    r"index out of range|object has no attribute|not subscriptable|unsupported operand|NoneType|"
    r"cannot reshape array|negative dimensions are not allowed|could not be broadcast|out of bounds for axis|"
    r"invalid literal|only integer scalar|ufunc|too many indices|zero-size array|cannot convert float|"
    r"division by zero|setting an array element|maximum supported dimension|at 0x[0-9a-f]+")


# ---------------------------------------------------------------- sources

def built_sources() -> list[tuple[str, bytes]]:
    """Small models made in code, so that the fuzz runs without ../shared."""
    from tinylite.testing import chain_model, single_op_model

    rng = np.random.default_rng(0)

    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    q8 = (0.05, 3)
    out = []
    out.append(("conv_pool_fc", chain_model(("x", [1, 6, 6, 2]), [
        ("CONV_2D", [dict(name="w", data=f32(3, 3, 3, 2)), dict(name="b", data=f32(3))], ("c", [1, 6, 6, 3]),
         dict(padding="SAME", stride_h=1, stride_w=1, fused_activation_function="RELU")),
        ("MAX_POOL_2D", [], ("p", [1, 3, 3, 3]), dict(padding="VALID", stride_h=2, stride_w=2, filter_height=2,
                                                      filter_width=2)),
        ("AVERAGE_POOL_2D", [], ("a", [1, 3, 3, 3]), dict(padding="SAME", stride_h=1, stride_w=1, filter_height=2,
                                                          filter_width=2)),
        ("RESHAPE", [dict(name="s", data=np.array([1, 27], np.int32))], ("r", [1, 27]), None),
        ("FULLY_CONNECTED", [dict(name="fw", data=f32(4, 27)), dict(name="fb", data=f32(4))], ("f", [1, 4]), None),
        ("SOFTMAX", [], ("y", [1, 4]), dict(beta=1.0)),
    ])))
    out.append(("strided_slice", chain_model(("x", [2, 5, 3]), [
        ("STRIDED_SLICE", [dict(name="b", data=np.array([0, 1, 0], np.int32)),
                           dict(name="e", data=np.array([2, 5, 3], np.int32)),
                           dict(name="s", data=np.array([1, 2, 1], np.int32))], ("y", [2, 2, 3]),
         dict(begin_mask=0, end_mask=0)),
        ("CONCATENATION", [dict(name="c", data=f32(2, 1, 3))], ("z", [2, 3, 3]), dict(axis=1)),
        ("TRANSPOSE", [dict(name="perm", data=np.array([2, 0, 1], np.int32))], ("t", [3, 2, 3]), None),
    ])))
    wq = rng.integers(-127, 128, (3, 8)).astype(np.int8)
    out.append(("fc_int8_per_channel", single_op_model(
        "FULLY_CONNECTED",
        [dict(name="x", shape=[2, 8], dtype=np.int8, quantization=q8),
         dict(name="w", data=wq, quantization=([0.01, 0.02, 0.03], [0, 0, 0], 0)),
         dict(name="b", data=np.array([10, -20, 30], np.int32), quantization=([0.0005, 0.001, 0.0015], [0, 0, 0]))],
        [dict(name="y", shape=[2, 3], dtype=np.int8, quantization=(0.1, -2))])))
    dw = rng.integers(-127, 128, (1, 3, 3, 4)).astype(np.int8)
    out.append(("depthwise_int8", single_op_model(
        "DEPTHWISE_CONV_2D",
        [dict(name="x", shape=[1, 5, 5, 4], dtype=np.int8, quantization=q8),
         dict(name="w", data=dw, quantization=([0.01, 0.02, 0.03, 0.04], [0] * 4, 3)),
         dict(name="b", data=np.zeros(4, np.int32), quantization=([5e-4, 1e-3, 1.5e-3, 2e-3], [0] * 4))],
        [dict(name="y", shape=[1, 5, 5, 4], dtype=np.int8, quantization=(0.2, 0))],
        options=dict(padding="SAME", stride_h=1, stride_w=1, depth_multiplier=1))))
    out.append(("add_int8", single_op_model(
        "ADD", [dict(name="a", shape=[1, 4, 3], dtype=np.int8, quantization=q8),
                dict(name="b", shape=[1, 1, 3], dtype=np.int8, quantization=(0.1, -1))],
        [dict(name="y", shape=[1, 4, 3], dtype=np.int8, quantization=(0.15, 0))])))
    out.append(("pad_mean_gather", chain_model(("x", [2, 3, 4]), [
        ("PAD", [dict(name="p", data=np.array([[0, 0], [1, 1], [0, 2]], np.int32))], ("q", [2, 5, 6]), None),
        ("MEAN", [dict(name="ax", data=np.array([1], np.int32))], ("m", [2, 6]), dict(keep_dims=False)),
        ("GATHER", [dict(name="i", data=np.array([1, 0, 5], np.int32))], ("g", [2, 3]), dict(axis=1)),
    ])))
    out.append(("quantize_dequantize", chain_model(("x", [3, 4]), [
        ("QUANTIZE", [], dict(name="q", shape=[3, 4], dtype=np.int8, quantization=(0.02, 1)), None),
        ("TANH", [], dict(name="t", shape=[3, 4], dtype=np.int8, quantization=(1 / 128, 0)), None),
        ("DEQUANTIZE", [], ("y", [3, 4]), None),
    ])))
    return out


def file_sources() -> list[tuple[str, bytes]]:
    """Small real files: the reference corpus and the zoo (when ../shared is there)."""
    corpus = Path(os.environ.get("TINYLITE_CORPUS", HERE.parents[1] / "shared" / "corpus"))
    paths = sorted(corpus.glob("*/*.tflite")) + sorted((corpus.parent / "zoo").glob("*.tflite"))
    return [(f"{p.parent.name}/{p.name}", p.read_bytes()) for p in paths if p.stat().st_size <= MAX_SOURCE_BYTES]


# ---------------------------------------------------------------- mutations

INTERESTING_INTS = [0, 1, -1, 2, 255, 2**15, 2**31 - 1, -2**31, 2**16 + 1, 7, 1000, 2**20]
INTERESTING_FLOATS = [0.0, -1.0, np.inf, -np.inf, np.nan, 1e-45, 1e38, 3.0]


def _bit_flips(data: bytes, rng) -> bytes:
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 17))):
        pos = int(rng.integers(8, len(b)))
        b[pos] ^= 1 << int(rng.integers(0, 8))
    return bytes(b)


def _byte_sets(data: bytes, rng) -> bytes:
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        pos = int(rng.integers(8, len(b)))
        b[pos] = int(rng.choice([0, 1, 0x7F, 0x80, 0xFF]))
    return bytes(b)


def _truncate(data: bytes, rng) -> bytes:
    return data[:int(rng.integers(0, len(data)))]


def _field(data: bytes, rng) -> bytes | None:
    """One semantic mutation of the parsed model (what bit flips rarely reach)."""
    from tinylite.flatbuffer import read_model, write_model

    m = read_model(data)
    si = int(rng.integers(0, len(m.subgraphs)))
    sg = m.subgraphs[si]
    ops, tensors = sg.operators, sg.tensors
    if not ops or not tensors:
        return None
    op = ops[int(rng.integers(0, len(ops)))]
    ti = int(rng.integers(0, len(tensors)))
    t = tensors[ti]
    kind = int(rng.integers(0, 14))
    what = f"subgraph {si} op {ops.index(op)} tensor {ti} kind {kind}"
    if kind == 0:       # unknown or different tensor type
        t.type = int(rng.choice([0, 1, 2, 3, 4, 6, 7, 9, 10, 11, 15, 16, 17, 99]))
    elif kind == 1:     # a dimension
        if len(t.shape):
            t.shape = np.array(t.shape, np.int32)
            t.shape[int(rng.integers(0, len(t.shape)))] = int(rng.choice([0, -1, 1, 3, 2**31 - 1, 65536]))
    elif kind == 2:     # rank change
        t.shape = np.array(list(t.shape) + [1] if rng.random() < 0.5 else list(t.shape)[1:], np.int32)
    elif kind == 3:     # an input rewired: to nothing, to another tensor, or to the op's own output
        if op.inputs:
            k = int(rng.integers(0, len(op.inputs)))
            op.inputs[k] = int(rng.choice([-1, int(rng.integers(0, len(tensors))), *op.outputs]))
    elif kind == 4:     # inputs missing
        if op.inputs:
            del op.inputs[int(rng.integers(0, len(op.inputs))):]
    elif kind == 5:     # an output rewired: two writers, or a constant written
        if op.outputs:
            op.outputs[int(rng.integers(0, len(op.outputs)))] = int(rng.integers(0, len(tensors)))
    elif kind == 6:     # an op removed
        ops.remove(op)
    elif kind == 7:     # quantization scale or zero point
        q = t.quantization
        if q is not None and q.scale is not None and len(q.scale):
            q.scale = np.array(q.scale, np.float32)
            q.scale[int(rng.integers(0, len(q.scale)))] = rng.choice(INTERESTING_FLOATS)
            if q.zero_point is not None and len(q.zero_point) and rng.random() < 0.3:
                q.zero_point = np.array(q.zero_point, np.int64)
                q.zero_point[0] = int(rng.choice([-129, 300, 2**40]))
    elif kind == 8:     # per-channel counts or axis
        q = t.quantization
        if q is not None and q.scale is not None and len(q.scale):
            if rng.random() < 0.5:
                n = int(rng.integers(1, len(q.scale) + 3))
                q.scale = np.resize(np.asarray(q.scale, np.float32), n)
                q.zero_point = np.zeros(n if rng.random() < 0.7 else max(n - 1, 1), np.int64)
            else:
                q.quantized_dimension = int(rng.choice([-1, 1, 3, 7]))
    elif kind == 9:     # variable flags
        t.is_variable = not t.is_variable
    elif kind == 10:    # an option value
        options = op.builtin_options or op.builtin_options_2
        if options:
            key = sorted(options)[int(rng.integers(0, len(options)))]
            if isinstance(options[key], (bool, np.bool_)):
                options[key] = not options[key]
            elif isinstance(options[key], (int, np.integer)):
                options[key] = int(rng.choice(INTERESTING_INTS))
            elif isinstance(options[key], (float, np.floating)):
                options[key] = float(rng.choice(INTERESTING_FLOATS))
            else:
                return None
    elif kind == 11:    # the op's code
        code = m.operator_codes[op.opcode_index]
        code.builtin_code = int(rng.integers(0, 160))
        code.deprecated_builtin_code = min(code.builtin_code, 127)
    elif kind == 12:    # a subgraph input replaced by a constant, or graph inputs/outputs shuffled
        if sg.inputs and rng.random() < 0.5:
            t0 = tensors[sg.inputs[0]]
            n = int(np.prod([max(int(d), 0) for d in t0.shape])) if len(t0.shape) else 1
            from tinylite.flatbuffer.schema import numpy_dtype
            try:
                t0.buffer = m.add_buffer(np.zeros(min(n, 1 << 16), numpy_dtype(t0.type)))
            except (TypeError, ValueError):
                return None
        else:
            sg.outputs = list(rng.permutation(len(tensors))[:max(len(sg.outputs), 1)].tolist())
    else:               # an op's inputs and outputs swapped with another op's
        other = ops[int(rng.integers(0, len(ops)))]
        op.inputs, other.inputs = other.inputs, op.inputs
    return write_model(m), what


MUTATORS = [("bitflip", _bit_flips, 3), ("byteset", _byte_sets, 2), ("truncate", _truncate, 1), ("field", _field, 6)]


def mutants(sources, count: int, seed: int):
    """Yield (label, bytes) for `count` mutants; the same arguments give the same mutants."""
    weights = np.array([w for _, _, w in MUTATORS], float)
    weights /= weights.sum()
    for k in range(count):
        rng = np.random.default_rng([seed, k])
        name, data = sources[int(rng.integers(0, len(sources)))]
        for _ in range(10):
            label, fn, _ = MUTATORS[int(rng.choice(len(MUTATORS), p=weights))]
            try:
                out = fn(data, rng)
            except Exception:   # noqa: BLE001 - the writer refused this field mutation: draw another
                out = None
            if isinstance(out, tuple):
                out, what = out
                label = f"{label}({what})"
            if out is not None and out != data:
                yield f"{k}:{name}:{label}", out
                break


# ---------------------------------------------------------------- one mutant, in the worker

def _chain(e: BaseException):
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        yield e
        e = e.__cause__ or e.__context__


def run_mutant(content: bytes) -> tuple[str, str]:
    """(outcome, detail) for one mutant: ok, error (clean), raw or blowup."""
    import traceback

    import tinylite
    from tinylite.errors import TinyliteError

    try:
        ip = tinylite.Interpreter(model_content=content)
        ip.get_signature_list()
        ip.allocate_tensors()
        ip.get_tensor_details()
        if ip.arena_bytes > INVOKE_ARENA_LIMIT:
            return "ok", "allocated (too big to run here)"
        for d in ip.get_input_details():
            if int(np.prod(d["shape"])) * np.dtype(d["dtype"]).itemsize > INVOKE_ARENA_LIMIT:
                return "ok", "allocated (input too big to run here)"
            if ip.tensor(d["index"])().flags.writeable:
                ip.set_tensor(d["index"], np.ones(d["shape"], d["dtype"]))
        ip.invoke()
        for d in ip.get_output_details():
            ip.get_tensor(d["index"])
        return "ok", "ran"
    except BaseException as e:  # noqa: BLE001 - classifying every outcome is the point
        if any(isinstance(c, MemoryError) for c in _chain(e)):
            return "blowup", f"{type(e).__name__}: {e}"
        text = f"{type(e).__name__}: {e}"
        if isinstance(e, TinyliteError) and str(e) and not LEAKS.search(str(e)):
            return "error", text
        where = traceback.extract_tb(e.__traceback__)[-1:]
        loc = f" at {Path(where[0].filename).name}:{where[0].lineno}" if where else ""
        return "raw", text[:400] + loc


def _read_msg(stream):
    head = stream.read(4)
    if len(head) < 4:
        return None
    return pickle.loads(stream.read(struct.unpack("<I", head)[0]))


def _write_msg(stream, obj):
    data = pickle.dumps(obj)
    stream.write(struct.pack("<I", len(data)) + data)
    stream.flush()


def _vm_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def worker() -> None:
    import resource

    import tinylite  # noqa: F401 - imported before the cap is measured

    run_mutant(built_sources()[0][1])   # warm: lazy imports happen before the cap
    cap = _vm_bytes() + MEMORY_CAP
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr     # stray prints must not corrupt the protocol
    _write_msg(stdout, "ready")
    while True:
        msg = _read_msg(stdin)
        if msg is None:
            return
        _write_msg(stdout, run_mutant(msg))


# ---------------------------------------------------------------- the parent

_LITERT_RUN = """
import sys, numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType
ip = Interpreter(model_content=sys.stdin.buffer.read(),
                 experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
ip.allocate_tensors()
constant = {int(i) for i in sys.argv[1:]}
for d in ip.get_input_details():
    if d["index"] not in constant:
        ip.set_tensor(d["index"], np.ones(d["shape"], d["dtype"]))
ip.invoke()
"""


def litert_runs_forever(content: bytes, timeout: float) -> bool:
    """Whether LiteRT, on the same inputs, does not finish either (an infinite
    WHILE is the model's own behaviour, not a hang of tinylite's).  LiteRT
    failing or crashing quickly means it finished: the hang is tinylite's."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    # Inputs holding constant data keep it in tinylite's run (set_tensor refuses them): LiteRT's too.
    try:
        from tinylite.flatbuffer import read_model

        m = read_model(content)
        sg = m.subgraphs[0]
        constant = [str(i) for i in sg.inputs if m.buffer_array(sg.tensors[i]) is not None]
    except Exception:   # noqa: BLE001 - unreadable here: LiteRT gets every input
        constant = []
    try:
        subprocess.run([sys.executable, "-c", _LITERT_RUN, *constant], input=content, timeout=timeout, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return True
    return False


class Worker:
    def __init__(self):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        if self._receive(120) != "ready":
            raise RuntimeError("the fuzz worker did not start")

    def _receive(self, timeout):
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return TimeoutError
        msg = _read_msg(self.proc.stdout)
        return EOFError if msg is None else msg

    def run(self, content: bytes, timeout: float):
        _write_msg(self.proc.stdin, content)
        return self._receive(timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def fuzz(count: int, seed: int, timeout: float = 20.0, use_files: bool = True, progress=None) -> dict:
    """Run `count` mutants; returns {"counts": Counter, "failures": [(label, outcome, detail)], "seconds": s}."""
    sources = built_sources() + (file_sources() if use_files else [])
    counts, failures = Counter(), []
    start = time.perf_counter()
    w = Worker()
    try:
        for n, (label, content) in enumerate(mutants(sources, count, seed)):
            try:
                result = w.run(content, timeout)
            except BrokenPipeError:
                result = EOFError
            if result is TimeoutError or result is EOFError:
                outcome = "hang" if result is TimeoutError else "blowup"
                detail = f"no answer within {timeout} s" if result is TimeoutError else (
                    f"worker died (exit {w.proc.poll()})")
                w.stop()
                if outcome == "hang" and litert_runs_forever(content, timeout):
                    outcome, detail = "loops", "LiteRT runs forever on it too (the model's own infinite loop)"
                w = Worker()
            else:
                outcome, detail = result
            counts[outcome] += 1
            if outcome not in ("ok", "error", "loops"):
                failures.append((label, outcome, detail))
            if progress and (n + 1) % progress == 0:
                print(f"{n + 1} mutants, {dict(counts)}, {time.perf_counter() - start:.0f} s", flush=True)
    finally:
        w.stop()
    return {"counts": counts, "failures": failures, "seconds": time.perf_counter() - start,
            "sources": len(sources)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mutants", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per mutant before it counts as a hang")
    ap.add_argument("--no-files", action="store_true", help="only the models built in code")
    args = ap.parse_args(argv)
    if args.worker:
        worker()
        return 0
    result = fuzz(args.mutants, args.seed, args.timeout, not args.no_files, progress=100)
    for label, outcome, detail in result["failures"]:
        print(f"{outcome:7s} {label}: {detail}")
    print(f"{sum(result['counts'].values())} mutants of {result['sources']} sources in {result['seconds']:.1f} s: "
          f"{dict(result['counts'])}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
