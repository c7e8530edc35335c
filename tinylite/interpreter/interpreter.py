"""`Interpreter`: a drop-in for `tf.lite.Interpreter` / `ai_edge_litert.interpreter.Interpreter`.

>>> import numpy as np, tinylite
>>> from tinylite.testing import single_op_model
>>> content = single_op_model("ADD", [("x", [1, 3]), ("y", [1, 3])], [("z", [1, 3])])
>>> interpreter = tinylite.Interpreter(model_content=content)
>>> interpreter.allocate_tensors()
>>> x, y = interpreter.get_input_details()
>>> interpreter.set_tensor(x["index"], np.array([[1, 2, 3]], np.float32))
>>> interpreter.set_tensor(y["index"], np.array([[10, 20, 30]], np.float32))
>>> interpreter.invoke()
>>> interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
array([[11., 22., 33.]], dtype=float32)
"""
from __future__ import annotations

import contextlib
import enum
import os
import threading
import weakref
from collections.abc import Mapping

import numpy as np

from ..errors import DelegateLoadError, InvalidModelError
from ..flatbuffer import strings
from ..flatbuffer.reader import parse, read_model
from ..flatbuffer.schema import TENSOR_TYPE_NAMES, TENSOR_TYPES, numpy_dtype
from .custom_ops import OpResolver, resolve_registerer
from .gc_pause import gc_paused
from .subgraph import SubgraphRunner

_STRING = TENSOR_TYPES["STRING"]

_get_ident = threading.get_ident


class OpResolverType(enum.Enum):
    """Which kernels run, as in LiteRT: BUILTIN_REF runs the reference kernels
    (kernels/<op>.py) with no plan rewrites, bit-exact with LiteRT's
    BUILTIN_REF on integer models; the others run the optimized kernels
    (kernels/optimized), bit-exact with LiteRT's BUILTIN_WITHOUT_DEFAULT_DELEGATES."""

    AUTO = 0
    BUILTIN = 1
    BUILTIN_REF = 2
    BUILTIN_WITHOUT_DEFAULT_DELEGATES = 3


def _op_resolver_type(value) -> OpResolverType:
    if isinstance(value, OpResolverType):
        return value
    # The same enum from tf.lite / ai_edge_litert: code written for them passes theirs.
    if isinstance(value, enum.Enum) and value.name in OpResolverType.__members__:
        return OpResolverType[value.name]
    raise ValueError(f"Unrecognized passed in op resolver type: {value}. Pass a tinylite.OpResolverType: "
                     f"{', '.join(OpResolverType.__members__)}.")


def _details_dtype(tensor_type: int):
    """The dtype get_*_details report: np.bytes_ for STRING (held as an object array), as LiteRT does."""
    return np.bytes_ if tensor_type == _STRING else numpy_dtype(tensor_type)


def load_delegate(library, options=None):
    """LiteRT's ``load_delegate``: always raises, since tinylite runs no native delegates.

    The error is a ValueError (and an OSError), so code that falls back to the CPU
    when a delegate cannot be loaded keeps working:

    >>> try:
    ...     delegates = [load_delegate("libedgetpu.so.1")]
    ... except ValueError:
    ...     delegates = []
    >>> delegates
    []
    """
    raise DelegateLoadError(
        f"Failed to load delegate from {library}\ntinylite runs no native delegates (TfLiteDelegate libraries "
        "such as the Edge TPU, GPU, Hexagon or XNNPACK delegates): every op runs on the CPU with numpy. Create "
        "the Interpreter without experimental_delegates.")


class _View:
    """What a numpy array from `tensor(i)()` and every view of it hold on to: while
    one is alive, the interpreter refuses to reallocate or run (as LiteRT does)."""

    __slots__ = ("__array_interface__", "_array", "__weakref__")

    def __init__(self, array: np.ndarray):
        self._array = array
        self.__array_interface__ = array.__array_interface__


_TYPE_NAMES_FOR_ERRORS = {np.dtype(np.float64): "FLOAT64"}


def _type_name(dtype) -> str:
    from ..flatbuffer.schema import tensor_type

    try:
        return TENSOR_TYPE_NAMES[tensor_type(dtype)]
    except ValueError:
        return np.dtype(dtype).name.upper()


class Interpreter:
    """Runs a .tflite model.

    Args mirror `tf.lite.Interpreter`: exactly one of `model_path` /
    `model_content`; the `experimental_*` options are accepted
    (`experimental_preserve_all_tensors` keeps every intermediate readable with
    `get_tensor`).  `num_threads` sets numpy's BLAS threads during invoke (a
    process-wide setting, left as the last invoke set it) and splits the heavy
    steps of a batch across that many threads; unset, an invoke runs on one
    thread (BLAS included), which is never much slower than more threads at
    batch 1 and keeps a busy machine's spinning BLAS threads out of the way
    (see interpreter/threads.py).

    tinylite runs no native delegates: a non-empty `experimental_delegates` is
    a ValueError (and `load_delegate` always raises, as LiteRT's does for a
    library it cannot load).

    `custom_ops={"Name": prepare}` runs the model's custom op `Name` with a
    Python kernel; see `tinylite.interpreter.custom_ops`, and
    `InterpreterWithCustomOps` for LiteRT's registerer form.
    """

    def __init__(self, model_path=None, model_content=None, experimental_delegates=None, num_threads=None,
                 experimental_op_resolver_type=OpResolverType.AUTO, experimental_preserve_all_tensors=False,
                 *, custom_ops=None, **experimental_options):
        unknown = [k for k in experimental_options if not k.startswith("experimental_")]
        if unknown:
            raise TypeError(f"Interpreter() got an unexpected keyword argument {unknown[0]!r}")
        self._op_resolver_type = _op_resolver_type(experimental_op_resolver_type)
        if num_threads is not None:
            if not isinstance(num_threads, int):
                raise ValueError("type of num_threads should be int")
            if num_threads < 1:
                raise ValueError("num_threads should >= 1")
        if experimental_delegates:
            raise ValueError(
                f"tinylite runs no native delegates, so experimental_delegates={experimental_delegates!r:.200} "
                "cannot be applied: every op runs on the CPU with numpy. Create the Interpreter without "
                "experimental_delegates.")
        self._op_resolver = OpResolver()
        for registerer in getattr(self, "_custom_op_registerers", None) or []:
            resolve_registerer(registerer)(self._op_resolver)
        if custom_ops is not None:
            if not isinstance(custom_ops, Mapping):
                raise ValueError(f"custom_ops must map custom op names to kernels (prepare functions), got "
                                 f"{type(custom_ops).__name__}")
            for name, kernel in custom_ops.items():
                self._op_resolver.add_custom(name, kernel)
        try:
            with gc_paused():
                self._model = self._read(model_path, model_content)
        except InvalidModelError as e:
            # LiteRT's words first (code matches on them), then what exactly is wrong.
            if str(e).startswith(_NOT_A_FLATBUFFER):
                raise
            raise InvalidModelError(f"{_NOT_A_FLATBUFFER}: {e}") from None
        # Weak references to the holders behind the arrays tensor(i)() returned; each
        # removes itself when its last array dies.  A plain set: invoke checks it every call.
        self._views: set = set()
        self._num_threads = num_threads
        self._workers = None
        self._preserve = bool(experimental_preserve_all_tensors)
        self._runners: dict[int, SubgraphRunner] = {}
        # State shared by all subgraphs: resource variables (VAR_HANDLE / ASSIGN_VARIABLE /
        # READ_VARIABLE) and which CALL_ONCE ops have run.  reset_all_variables leaves it, as TFLite does.
        self._resources: dict = {}
        self._signature_defs = self.get_signature_list()
        # Held while an invoke runs: get_tensor/set_tensor from another thread wait
        # for it instead of reading or writing buffers the plan is using.
        self._run_lock = threading.Lock()
        self._invoking = None            # the thread ident of the running invoke

    @staticmethod
    def _read(model_path, model_content):
        """The parsed model of the file or bytes given to the constructor."""
        if model_path is not None and model_content is None:
            path = os.fspath(model_path)
            if os.path.isdir(path):
                raise ValueError(f"Could not open '{path}': it is a directory, not a .tflite file. Pass "
                                 "the model file's path, e.g. model_path='model.tflite'.")
            if not os.path.isfile(path):
                raise ValueError(f"Could not open '{path}': no such file.")
            return read_model(path)
        elif model_content is not None and model_path is None:
            return parse(model_content)
        elif model_path is None and model_content is None:
            raise ValueError("`model_path` or `model_content` must be specified.")
        else:
            raise ValueError("Can't both provide `model_path` and `model_content`")

    def __del__(self):
        # The runners' plans hold reference cycles (nodes <-> runner, the tape's error handler);
        # breaking them here frees a dropped interpreter's arrays now, not at the next full
        # collection of the cyclic garbage collector.
        for runner in list((getattr(self, "_runners", None) or {}).values()):
            try:
                runner.release()
            except Exception:  # noqa: BLE001 - never raise from a finalizer (interpreter shutdown)
                pass

    # -- structure --

    def _runner(self, subgraph_index: int = 0) -> SubgraphRunner:
        runner = self._runners.get(subgraph_index)
        if runner is None:
            if not 0 <= subgraph_index < len(self._model.subgraphs):
                raise ValueError(f"subgraph_index is out of range: {subgraph_index} for the model, which has "
                                 f"{len(self._model.subgraphs)} subgraphs.")
            runner = SubgraphRunner(self._model, subgraph_index, self._preserve, self)
            self._runners[subgraph_index] = runner
        return runner

    def _executor(self):
        """Worker threads for batch-split steps (num_threads - 1 of them; the
        calling thread runs one slice itself)."""
        if self._workers is None:
            from concurrent.futures import ThreadPoolExecutor

            self._workers = ThreadPoolExecutor(max_workers=self._num_threads - 1, thread_name_prefix="tinylite")
        return self._workers

    def num_subgraphs(self) -> int:
        return len(self._model.subgraphs)

    def allocate_tensors(self) -> None:
        """Prepare every op, plan memory; call again after `resize_tensor_input`."""
        if self._views:
            self._ensure_safe()
        with gc_paused():
            self._runner(0).allocate()

    def invoke(self) -> None:
        """Run the model.  While it runs, get_tensor and set_tensor called from
        other threads wait for it to finish (so they never see half-written
        values); a second invoke from another thread is an error."""
        if self._views:
            self._ensure_safe()
        lock = self._run_lock
        # (No context manager, keyword or method lookup that can be saved: this path is a good part
        # of a tiny model's invoke, ~1 us of tfls_movie_review's 14.)
        if not lock.acquire(False):
            self._wait_for_readers()
        self._invoking = _get_ident()
        try:
            (self._runners.get(0) or self._runner(0)).invoke()
        finally:
            self._invoking = None
            lock.release()

    def _wait_for_readers(self):
        if self._invoking is not None:
            raise RuntimeError("Interpreter.invoke was called while another invoke of the same interpreter is "
                               "running (from another thread?); an Interpreter runs one invoke at a time: use "
                               "one Interpreter per thread.")
        self._run_lock.acquire()     # a get_tensor copy holds it for a moment

    @contextlib.contextmanager
    def _running(self):
        if not self._run_lock.acquire(blocking=False):
            self._wait_for_readers()
        self._invoking = threading.get_ident()
        try:
            yield
        finally:
            self._invoking = None
            self._run_lock.release()

    @contextlib.contextmanager
    def _between_invokes(self):
        """Wait for an invoke running in another thread; the calling thread's own
        invoke (a kernel calling back) does not wait for itself."""
        if self._invoking == threading.get_ident():
            yield
            return
        with self._run_lock:
            yield

    def _safe_to_run(self) -> bool:
        """True when no numpy array from `tensor(i)()` (or a view of one) is alive."""
        return not self._views

    def _ensure_safe(self) -> None:
        if self._views:
            raise RuntimeError(
                f"There is at least 1 reference to internal data in the interpreter in the form of a numpy array "
                f"or slice ({len(self._views)} alive). Be sure to only hold the function returned from tensor() "
                "if you are using raw data access: delete the arrays it returned (or copy them) before "
                "allocate_tensors(), invoke() or resize_tensor_input().")

    def reset_all_variables(self) -> None:
        for r in self._runners.values():
            r.reset_variables()

    # -- details --

    def _check_index(self, tensor_index, subgraph_index=0):
        n = len(self._model.subgraphs[subgraph_index].tensors)
        if not isinstance(tensor_index, (int, np.integer)) or not 0 <= int(tensor_index) < n:
            # LiteRT's words: the "max" it names is the number of tensors.
            raise ValueError(f"Invalid tensor index {tensor_index} exceeds max tensor index {n} (subgraph "
                             f"{subgraph_index} has {n} tensors, indices 0 to {n - 1})")
        return int(tensor_index)

    def _get_tensor_details(self, tensor_index, subgraph_index=0) -> dict:
        i = self._check_index(tensor_index, subgraph_index)
        runner = self._runner(subgraph_index)
        t = runner.subgraph.tensors[i]
        shape = runner.shapes[i]
        arr = runner.arrays[i]
        if arr is not None:
            shape = arr.shape
        shape = np.array(shape if shape is not None else t.shape, dtype=np.int32)
        signature = np.array(t.shape_signature if t.shape_signature is not None else t.shape, dtype=np.int32)
        q = t.quantization
        scales = np.zeros(0, np.float32)
        zero_points = np.zeros(0, np.int32)
        qdim = 0
        quantization = (0.0, 0)
        if q is not None and q.scale is not None and len(q.scale):
            scales = np.asarray(q.scale, np.float32)
            zp = q.zero_point if q.zero_point is not None else np.zeros(len(scales), np.int64)
            zero_points = np.asarray(zp, np.int32)
            qdim = q.quantized_dimension
            if len(scales) == 1:
                quantization = (float(scales[0]), int(zero_points[0]) if len(zero_points) else 0)
        return {
            "name": t.name,
            "index": i,
            "shape": shape,
            "shape_signature": signature,
            "dtype": _details_dtype(t.type),
            "quantization": quantization,
            "quantization_parameters": {
                "scales": scales,
                "zero_points": zero_points,
                "quantized_dimension": qdim,
                "block_size": 0,
            },
            "sparsity_parameters": _sparsity_details(t.sparsity),
        }

    def get_input_details(self) -> list[dict]:
        return [self._get_tensor_details(i) for i in self._model.subgraphs[0].inputs]

    def get_output_details(self) -> list[dict]:
        return [self._get_tensor_details(i) for i in self._model.subgraphs[0].outputs]

    def get_tensor_details(self, subgraph_index=0) -> list[dict]:
        if not 0 <= subgraph_index < len(self._model.subgraphs):
            raise ValueError(f"subgraph_index is out of range: {subgraph_index} for the model, which has "
                             f"{len(self._model.subgraphs)} subgraphs.")
        return [self._get_tensor_details(i, subgraph_index)
                for i in range(len(self._model.subgraphs[subgraph_index].tensors))]

    def _get_op_details(self, op_index) -> dict:
        """One operator of subgraph 0: index, op_name (a custom op's custom code), inputs and
        outputs (tensor indices, -1 for an omitted optional input), operand_types, result_types."""
        sg = self._model.subgraphs[0]
        n = len(sg.operators)
        if isinstance(op_index, bool) or not isinstance(op_index, (int, np.integer)) or not 0 <= op_index < n:
            raise ValueError(f"Invalid node index {op_index}: subgraph 0 has {n} nodes (indices 0 to {n - 1})")
        op = sg.operators[int(op_index)]
        return {
            "index": int(op_index),
            "op_name": self._model.op_name(op),
            "inputs": np.array(op.inputs, np.int32),
            "outputs": np.array(op.outputs, np.int32),
            "operand_types": [_details_dtype(sg.tensors[t].type) for t in op.inputs if t != -1],
            "result_types": [_details_dtype(sg.tensors[t].type) for t in op.outputs if t != -1],
        }

    def _get_ops_details(self) -> list[dict]:
        """`_get_op_details` of every operator of subgraph 0, in execution order."""
        return [self._get_op_details(i) for i in range(len(self._model.subgraphs[0].operators))]

    # -- data --

    def set_tensor(self, tensor_index, value, subgraph_index=0) -> None:
        """Copy `value` into a tensor (an input, usually)."""
        # The common call (an int index, an array of the tensor's dtype and shape, an allocated plan)
        # checked and copied without the general path's conversions and context manager: 6.3 -> ~2 us.
        runner = self._runners.get(subgraph_index)
        if runner is not None and runner.ready and type(tensor_index) is int and type(value) is np.ndarray:
            arrays = runner.arrays
            target = arrays[tensor_index] if 0 <= tensor_index < len(arrays) else None
            if (target is not None and value.dtype == target.dtype and value.shape == target.shape
                    and not target.dtype.hasobject and target.flags.writeable):
                if self._invoking == _get_ident():
                    np.copyto(target, value)
                else:
                    with self._run_lock:
                        np.copyto(target, value)
                return
        runner = self._runner(subgraph_index)
        i = self._check_index(tensor_index, subgraph_index)
        target = runner.arrays[i]
        if target is None or not runner.ready and i not in runner.variables:
            raise ValueError("Cannot set tensor: Tensor is unallocated. Try calling allocate_tensors() first")
        value = np.asarray(value)
        t = runner.subgraph.tensors[i]
        if t.type == _STRING and value.dtype.kind in "OSU":
            try:
                value = strings.from_numpy(value)
            except ValueError as e:
                raise ValueError(f"Cannot set tensor: {e} (input {i}, name: {t.name})") from None
        if value.dtype != target.dtype:
            raise ValueError(
                f"Cannot set tensor: Got value of type {_type_name(value.dtype)} but expected type "
                f"{TENSOR_TYPE_NAMES[t.type]} for input {i}, name: {t.name} ")
        if value.ndim != target.ndim:
            raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {value.ndim} but expected "
                             f"{target.ndim} for input {i}.")
        for d, (got, want) in enumerate(zip(value.shape, target.shape)):
            if got != want:
                raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {got} but expected {want} for "
                                 f"dimension {d} of input {i}.")
        if not target.flags.writeable:
            raise ValueError(f"Cannot set tensor: tensor {i} ({t.name}) is a constant of the model.")
        with self._between_invokes():
            np.copyto(target, value)

    def get_tensor(self, tensor_index, subgraph_index=0) -> np.ndarray:
        """A copy of a tensor's current value.

        Called while another thread's invoke runs, it waits for that invoke to
        finish and returns the value it left: always a consistent copy, never
        one half-written.  (LiteRT makes no such promise: its copy races the
        invoke.)  `tensor()` gives a live view and does not wait.
        """
        runner = self._runners.get(subgraph_index)
        if runner is not None and type(tensor_index) is int and 0 <= tensor_index < len(runner.arrays):
            # The common call, without the general path's checks and context manager: 4.7 -> ~1.5 us.
            if self._invoking == _get_ident():
                arr = runner.arrays[tensor_index]
                if arr is not None:
                    return np.array(arr)
            else:
                with self._run_lock:
                    arr = runner.arrays[tensor_index]
                    if arr is not None:
                        return np.array(arr)
        runner = self._runner(subgraph_index)
        i = self._check_index(tensor_index, subgraph_index)
        with self._between_invokes():
            arr = runner.arrays[i]
            if arr is None and i in runner.elided:
                raise ValueError(
                    f"Tensor {i} is an intermediate that no step computes: a plan rewrite "
                    f"({runner.elided[i]}) computes its readers' results without it. Create the interpreter "
                    "with experimental_preserve_all_tensors=True to read every intermediate tensor.")
            if arr is None:
                raise ValueError(f"Tensor data is null. Run allocate_tensors() first (tensor {i}).")
            return np.array(arr)

    def tensor(self, tensor_index):
        """A function returning a numpy view of the tensor's current buffer (no copy).

        While such an array (or any view of it) is alive, `allocate_tensors`,
        `invoke` and `resize_tensor_input` raise RuntimeError, as LiteRT's do:
        hold the function, not the array.
        """
        i = self._check_index(tensor_index)
        runner = self._runner(0)
        views = self._views

        def view():
            array = runner.arrays[i]
            if array is None:
                return None
            holder = _View(array)
            views.add(weakref.ref(holder, views.discard))
            return np.asarray(holder)
        return view

    def resize_tensor_input(self, input_index, tensor_size, strict=False, subgraph_index=0) -> None:
        """Change an input's shape; call `allocate_tensors()` before the next invoke."""
        self._ensure_safe()
        runner = self._runner(subgraph_index)
        i = self._check_index(input_index, subgraph_index)
        sg = runner.subgraph
        if i not in sg.inputs:
            raise ValueError(f"Tensor {i} is not an input of the model; only inputs can be resized.")
        new = np.array(tensor_size, dtype=np.int32).reshape(-1)
        if np.any(new < 0):
            raise ValueError(f"Cannot resize input {i} to {new.tolist()}: dimensions must be >= 0.")
        t = sg.tensors[i]
        if strict:
            signature = t.shape_signature if t.shape_signature is not None else t.shape
            current = runner.shapes[i]
            if len(new) != len(signature):
                raise RuntimeError(f"Attempting to resize tensor {i} of rank {len(signature)} to rank {len(new)}. "
                                   "ResizeInputTensorStrict only allows mutating unknown dimensions identified "
                                   "by -1.")
            for d, (n, sig, cur) in enumerate(zip(new, signature, current)):
                if sig != -1 and int(n) != int(cur):
                    raise RuntimeError(
                        f"Attempting to resize dimension {d} of tensor {i} with value {cur} to {n}. "
                        "ResizeInputTensorStrict only allows mutating unknown dimensions identified by -1.")
        if runner.shapes[i] != tuple(int(d) for d in new):
            runner.op_state.clear()         # LiteRT prepares every op afresh after a real resize
        runner.shapes[i] = tuple(int(d) for d in new)
        runner.ready = False

    # -- signatures --

    def _get_full_signature_list(self) -> dict:
        out = {}
        for sd in self._model.signature_defs:
            out[sd.signature_key] = {
                "inputs": {tm.name: tm.tensor_index for tm in sd.inputs},
                "outputs": {tm.name: tm.tensor_index for tm in sd.outputs},
                "subgraph_index": sd.subgraph_index,
            }
        return out

    def get_signature_list(self) -> dict:
        return {k: {"inputs": list(v["inputs"]), "outputs": list(v["outputs"])}
                for k, v in self._get_full_signature_list().items()}

    def get_signature_runner(self, signature_key=None):
        if signature_key is None:
            if len(self._signature_defs) != 1:
                raise ValueError(
                    f"SignatureDef signature_key is None and model has {len(self._signature_defs)} Signatures. "
                    "None is only allowed when the model has 1 SignatureDef")
            signature_key = next(iter(self._signature_defs))
        return SignatureRunner(self, signature_key)

    # -- extras beyond tf.lite --

    @property
    def model(self):
        """The parsed model (`tinylite.graph.Model`)."""
        return self._model

    @property
    def arena_bytes(self) -> int:
        """Bytes of the activation arena planned by the last `allocate_tensors`."""
        return sum(r.arena_bytes for r in self._runners.values())


class InterpreterWithCustomOps(Interpreter):
    """LiteRT's `InterpreterWithCustomOps`: an Interpreter whose custom ops come from registerers.

    Each of `custom_op_registerers` is a callable, or a name resolving to one (a
    Python import path "package.module.function", or a name given to
    `tinylite.interpreter.custom_ops.register_registerer`); it is called with the
    interpreter's `OpResolver` and registers kernels with
    `resolver.add_custom(name, prepare)`.  An unknown name is LiteRT's
    ValueError ("Looking up symbol ... failed").  Other keyword arguments are
    the Interpreter's.  See `tinylite.interpreter.custom_ops` for an example.
    """

    def __init__(self, custom_op_registerers=None, **kwargs):
        self._custom_op_registerers = list(custom_op_registerers or [])
        super().__init__(**kwargs)


_NOT_A_FLATBUFFER = "The model is not a valid Flatbuffer buffer"


class SignatureRunner:
    """Runs one SignatureDef: call with keyword arrays, get a dict of outputs."""

    def __init__(self, interpreter=None, signature_key=None):
        if not interpreter:
            raise ValueError("None interpreter provided.")
        if not signature_key:
            raise ValueError("None signature_key provided.")
        defs = interpreter._get_full_signature_list()
        if signature_key not in defs:
            raise ValueError(f'Invalid signature_key provided: "{signature_key}".')
        self._interpreter = interpreter
        self._signature_key = signature_key
        self._def = defs[signature_key]
        self._inputs = self._def["inputs"]
        self._outputs = self._def["outputs"].items()
        self._subgraph_index = self._def["subgraph_index"]

    def __call__(self, **kwargs):
        if len(kwargs) != len(self._inputs):
            raise ValueError("Invalid number of inputs provided for running a SignatureDef, "
                             f"expected {len(self._inputs)} vs provided {len(kwargs)}")
        ip = self._interpreter
        runner = ip._runner(self._subgraph_index)
        changed = False
        for name, value in kwargs.items():
            if name not in self._inputs:
                raise ValueError(f"Invalid Input name ({name}) for SignatureDef")
            idx = self._inputs[name]
            shape = tuple(np.shape(value))
            if runner.shapes[idx] != shape:
                ip.resize_tensor_input(idx, shape, subgraph_index=self._subgraph_index)
                changed = True
        if changed or not runner.ready:
            runner.allocate()
        for name, value in kwargs.items():
            ip.set_tensor(self._inputs[name], np.asarray(value), subgraph_index=self._subgraph_index)
        with ip._running():
            runner.invoke()
        return {name: ip.get_tensor(idx, self._subgraph_index) for name, idx in self._outputs}

    def get_input_details(self):
        return {n: self._interpreter._get_tensor_details(i, self._subgraph_index) for n, i in self._inputs.items()}

    def get_output_details(self):
        return {n: self._interpreter._get_tensor_details(i, self._subgraph_index) for n, i in self._outputs}


def _sparsity_details(s) -> dict:
    if not s:
        return {}
    dims = []
    for d in s["dim_metadata"]:
        # As LiteRT reports them: a dense level has its size, a CSR level its
        # segments and indices, widened to int32 whatever their stored width.
        if d["format"] == 0:
            entry = {"format": 0, "dense_size": d["dense_size"]}
        else:
            entry = {"format": d["format"]}
            for key in ("array_segments", "array_indices"):
                if d[key] is not None:
                    entry[key] = np.asarray(d[key][1], np.int32)
        dims.append(entry)
    return {"traversal_order": s["traversal_order"], "block_map": s["block_map"], "dim_metadata": dims}
