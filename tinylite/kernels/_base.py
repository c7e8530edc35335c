"""What a kernel sees: a `Node` with `TensorSpec` inputs and outputs and its
typed op data (`op_data`, `Draft`), plus the helpers many kernels share (fused
activations, padding, broadcasting).

A kernel is ``prepare(node) -> eval``.  prepare validates the node, sets its
outputs' shapes and precomputes what eval needs into the module's op data, a
frozen dataclass (TFLite Micro's typed OpData structs)::

    @op_data
    class OpData(OpDataBase):
        geometry: dict = None
        act: Callable | None = None

    def prepare(node):
        d = node.draft(OpData)          # filled field by field
        d.geometry = ...
        return eval_float

    def eval_float(node, inputs, outputs):
        data = node.data                # the frozen OpData: plain numpy from here

The interpreter freezes the draft once the node is prepared (the reference
kernel, then the optimized one that applies: kernels/optimized).  A node
takes no attribute but its own (`Node.__slots__`), so state outside the op
data is an error, not a silent side channel; per-array buffers go in
``node.cache``, which each derived copy of a node (a rewritten step, a batch
slice) gets empty."""
from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, fields as dataclass_fields, replace
from functools import partial

import numpy as np

from ..flatbuffer.schema import ACTIVATION_NAMES, PADDING_NAMES


class DynamicShape(Exception):
    """Raised by prepare when an output shape depends on a value not known yet.

    The interpreter then runs this node's prepare again at invoke time, with
    every input's current value in ``spec.data``.
    """


class TensorSpec:
    """A tensor as a kernel's prepare sees it."""

    __slots__ = ("index", "name", "shape", "dtype", "quantization", "data", "is_variable", "non_negative")

    def __init__(self, index, name, shape, dtype, quantization=None, data=None, is_variable=False,
                 non_negative=False):
        self.index = index
        self.name = name
        self.shape = shape                  # tuple of ints; None when only known at invoke
        self.dtype = np.dtype(dtype)
        self.quantization = quantization    # graph.QuantizationParameters or None
        self.data = data                    # the value when known at prepare (constants)
        self.is_variable = is_variable
        # True where the model makes every value here >= 0 or NaN: the float output of an op that
        # clamps at 0 (set by the interpreter: interpreter/hybrid.non_negative_tensors; a plan
        # rewrite may move that clamp past a pool that alone reads the tensor).
        self.non_negative = non_negative

    @property
    def scale(self):
        """The per-tensor scale (first scale), or 0.0 when not quantized."""
        q = self.quantization
        return float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else 0.0

    @property
    def zero_point(self):
        q = self.quantization
        return int(q.zero_point[0]) if q is not None and q.zero_point is not None and len(q.zero_point) else 0

    @property
    def size(self):
        return math.prod(int(d) for d in self.shape) if self.shape is not None else None

    def __repr__(self):
        return f"TensorSpec({self.index}, {self.name!r}, {self.shape}, {self.dtype})"


class MissingOperand(ValueError):
    """A kernel asked for an input or output the model's operator does not list."""


class Operands(list):
    """A node's inputs or outputs.  Asking for one the operator does not list is
    a clear error about the model (not an IndexError from inside a kernel), so
    each kernel need not check its operand count before it reads them."""

    # The node's name and index, not the node: a node holds its operands, and a reference back
    # would make every node a reference cycle (kept until a full garbage collection).
    __slots__ = ("op_name", "index", "kind")

    def __init__(self, items, node, kind):
        super().__init__(items)
        self.op_name, self.index, self.kind = node.op_name, node.index, kind

    def __getitem__(self, k):
        try:
            return list.__getitem__(self, k)
        except IndexError:
            n = len(self)
            raise MissingOperand(
                f"{self.op_name} (node {self.index}) needs {self.kind} {k}, but the operator lists {n} "
                f"{self.kind}{'s' if n != 1 else ''} (this op takes at least {k + 1}). The operator's "
                f"{self.kind} list is cut short: the file is corrupt or was written for another version "
                "of the op.") from None


def op_data(cls):
    """Class decorator: `cls` becomes a kernel's op data, a frozen dataclass
    whose typed fields (keyword-only, each with a default) are what the
    kernel's prepare precomputed, as TFLite Micro's per-op OpData structs.

    Each kernel module declares its own (``@op_data class OpData``); an
    optimized kernel's op data subclasses its op's reference one, and an op
    whose prepare uses a shared helper that fills fields (kernels/_quantization,
    _activations, ...) subclasses that helper's class."""
    return dataclass(frozen=True, kw_only=True)(cls)


@op_data
class OpDataBase:
    """Base of every kernel's op data (see `op_data`)."""


class Draft:
    """The op data of a node being prepared, filled field by field (TFLite
    Micro's Prepare fills its OpData so), then frozen once prepare is done.

    A write to a field no requested class declares is an error at once, so a
    typo or a stray attribute cannot become silent state.  Reading a field
    not written yet gives its default."""

    __slots__ = ("classes", "values")

    def __init__(self, cls):
        object.__setattr__(self, "classes", [cls])
        object.__setattr__(self, "values", {})

    def want(self, cls) -> None:
        if cls not in self.classes:
            self.classes.append(cls)

    def _field(self, name):
        for cls in self.classes:
            f = cls.__dataclass_fields__.get(name)
            if f is not None:
                return f
        return None

    def __setattr__(self, name, value):
        if self._field(name) is None:
            raise AttributeError(
                f"op data {' / '.join(c.__module__ + '.' + c.__qualname__ for c in self.classes)} declares no "
                f"field {name!r}: declare it (with its type) in the kernel's OpData class")
        self.values[name] = value

    def __getattr__(self, name):
        values = object.__getattribute__(self, "values")
        if name in values:
            return values[name]
        f = self._field(name)
        if f is None:
            raise AttributeError(f"op data declares no field {name!r}")
        return f.default_factory() if f.default is MISSING else f.default

    def freeze(self):
        """The op data: the requested class that derives from all the others, with the values written."""
        for cls in self.classes:
            if all(issubclass(cls, c) for c in self.classes):
                return _make(cls, self.values)
        names = ", ".join(c.__module__ + "." + c.__qualname__ for c in self.classes)
        raise TypeError(f"op data classes {names} were requested for one node, but none derives from all the "
                        "others: the op's OpData must subclass each helper's")


_BLANKS: dict = {}      # op data class -> (its defaults, its fields made by a factory), or None


def _make(cls, values):
    """cls(**values) for an op data class, without its generated __init__ (a frozen dataclass's
    sets each of its fields through object.__setattr__: ~5 us a node at every allocate_tensors):
    the defaults, then the values, straight into the instance's dict (the names were checked
    when written, see Draft.__setattr__).  A class with a __post_init__ takes its __init__."""
    blank = _BLANKS.get(cls, False)
    if blank is False:
        blank = None
        if not hasattr(cls, "__post_init__") and "__slots__" not in cls.__dict__:
            fields = dataclass_fields(cls)
            blank = ({f.name: f.default for f in fields if f.default is not MISSING},
                     [(f.name, f.default_factory) for f in fields if f.default is MISSING
                      and f.default_factory is not MISSING])
            if len(blank[0]) + len(blank[1]) != len(fields):
                blank = None            # a field without a default: the __init__ says which is missing
        _BLANKS[cls] = blank
    if blank is None:
        return cls(**values)
    obj = object.__new__(cls)
    d = obj.__dict__
    d.update(blank[0])
    for name, factory in blank[1]:
        d[name] = factory()
    d.update(values)
    return obj


_NODE_SLOTS = frozenset()      # Node.__slots__, set below (a set: __setattr__ checks it on every write)


class Node:
    """One operator being prepared or run.

    What prepare precomputes lives in one op-data object, ``node.data``
    (see `op_data`): prepare fills it with ``d = node.draft(OpData)``, and
    once the interpreter has prepared the node (reference kernel, then the
    optimized kernel that applies) it is frozen and the node takes no new
    attribute: only ``cache`` (per-array buffers) and ``scratch`` change.
    """

    __slots__ = ("_index", "op_name", "options", "inputs", "outputs", "version", "custom_options", "runner",
                 "intermediates", "reference", "litert_order", "cache", "scratch", "data", "_sealed")
    _WRITABLE = frozenset(("cache", "scratch"))

    def __init__(self, index, op_name, options, inputs, outputs, version=1, custom_options=None,
                 runner=None, intermediates=None, reference=False, litert_order=False):
        object.__setattr__(self, "_sealed", False)
        self._index = index
        self.op_name = op_name
        self.options = options or {}
        self.inputs: list[TensorSpec | None] = Operands(inputs, self, "input")
        self.outputs: list[TensorSpec] = Operands(outputs, self, "output")
        self.version = version
        self.custom_options = custom_options
        self.runner = runner                # the SubgraphRunner (control flow ops call subgraphs)
        self.intermediates = intermediates or []
        # True under OpResolverType.BUILTIN_REF: integer kernels then follow LiteRT's reference
        # arithmetic where its optimized kernels round differently (see kernels/optimized).
        self.reference = reference
        # True where a hybrid op quantizes a float value computed from this op's output: float
        # kernels then sum in LiteRT's order (kernels/_litert_order.py).  Set by the interpreter.
        self.litert_order = litert_order
        # Buffers and views an eval function builds for the arrays it was given (per step):
        # empty in every node `derived` makes, so a copy never shares them.
        self.cache: dict = {}
        self.scratch: list[tuple[int, str]] = []    # (bytes, what) of the buffers eval allocates
        self.data = None                    # the op data (a Draft while prepare runs)

    def __setattr__(self, name, value):
        if name not in _NODE_SLOTS:
            raise AttributeError(
                f"{self.op_name} (node {self._index}): a kernel may not set {name!r} on its node; put what "
                "prepare computes in the kernel's op data (d = node.draft(OpData); d.field = ...) and "
                "per-array buffers in node.cache")
        if self._sealed and name not in Node._WRITABLE:
            raise AttributeError(f"{self.op_name} (node {self._index}) is prepared: its {name!r} no longer "
                                 "changes (make a copy with node.derived(...))")
        object.__setattr__(self, name, value)

    def draft(self, cls):
        """The op data being filled by this node's prepare, declared by `cls`
        (made on first use; a helper's class and the op's share one draft)."""
        d = self.data
        if not isinstance(d, Draft):
            d = Draft(cls)
            self.data = d
        else:
            d.want(cls)
        return d

    def unseal(self) -> None:
        """Start (again) to prepare: empty op data, attributes writable (a dynamic step's re-prepare)."""
        object.__setattr__(self, "_sealed", False)
        self.data = None
        self.scratch = []

    def release(self) -> None:
        """Drop the buffers and op data (the interpreter going away): they may refer back to the
        node (an 8-bit pair table fills itself by running the node's reference kernel), a
        reference cycle that would outlive the interpreter until a full garbage collection."""
        object.__setattr__(self, "cache", {})
        object.__setattr__(self, "data", None)

    def seal(self) -> None:
        """Prepare is done: freeze the op data, refuse further attribute writes."""
        if isinstance(self.data, Draft):
            self.data = self.data.freeze()
        object.__setattr__(self, "_sealed", True)

    def derived(self, **changes):
        """A copy of this prepared node for another step (a plan rewrite, a slice
        of the batch), with an empty `cache`: `changes` naming a node attribute
        (``outputs``) replace it, the others replace fields of the op data.
        Rewrites make such copies instead of writing on the prepared node."""
        node = Node.__new__(Node)
        for name in Node.__slots__:
            object.__setattr__(node, name, getattr(self, name))
        fields = {k: v for k, v in changes.items() if k not in Node.__slots__}
        for k in changes.keys() - fields.keys():
            object.__setattr__(node, k, changes[k])
        if fields:
            object.__setattr__(node, "data", replace(self.data, **fields))
        object.__setattr__(node, "cache", {})
        return node

    def reserve(self, shape, dtype, what: str) -> None:
        """Declare a scratch buffer eval will allocate (a padded copy of an
        input, an im2col matrix), so that allocate_tensors counts it in the
        model's memory check before any kernel asks numpy for it."""
        count = 1
        for d in shape:
            count *= max(int(d), 0)          # Python ints: a corrupt shape cannot overflow the count
        self.scratch.append((count * np.dtype(dtype).itemsize, what))

    @property
    def index(self) -> int:
        """The op's position in its subgraph (read-only: messages name the node by it)."""
        return self._index

    def value(self, i):
        """The value of input i at prepare time; DynamicShape if it is only known at invoke."""
        spec = self.inputs[i]
        if spec is None or spec.data is None:
            raise DynamicShape(f"{self.op_name} input {i} is not constant")
        return spec.data

    @property
    def exact_products(self):
        """True in an interpreter whose float matrix products must not depend on the BLAS
        kernel (calibration: see `exact_matmul`).  Kernels then take their plain path."""
        return bool(getattr(getattr(self.runner, "interpreter", None), "_exact_products", False))

    def matmul(self):
        """The float matrix product this node calls: np.matmul, or `exact_matmul`."""
        return exact_matmul if self.exact_products else np.matmul

    def has_input(self, i):
        return i < len(self.inputs) and self.inputs[i] is not None

    def fail(self, message):
        """Raise the error a kernel reports for a model it cannot run."""
        raise ValueError(f"{self.op_name} (node {self.index}): {message}")

    def expect_dtype(self, spec, *allowed):
        if spec.dtype not in [np.dtype(a) for a in allowed]:
            names = ", ".join(np.dtype(a).name for a in allowed)
            from ..errors import UnsupportedOpError

            raise UnsupportedOpError(
                f"{self.op_name} (node {self.index}): tensor {spec.name!r} has type {spec.dtype.name}; "
                f"tinylite runs this op on {names}")


_NODE_SLOTS = frozenset(Node.__slots__)


def exact_matmul(a, b, out=None):
    """a @ b for float32 operands whose result does not depend on the BLAS kernel.

    A float32 GEMM's last bits depend on how the BLAS kernel the CPU selects
    orders and fuses its sums (OpenBLAS's Haswell and SkylakeX kernels differ),
    and calibration turns such bits into different scales.  Products of float32
    values are exact in float64 and a float64 sum of them is ~2^29 times closer
    to the true value than float32's spacing, so rounding the float64 product
    once to float32 gives the correctly rounded result whatever the kernel
    (except when the true value lies within float64 noise of a float32 rounding
    boundary, which is rare enough not to reach a calibrated range)."""
    r = np.matmul(np.asarray(a, np.float64), np.asarray(b, np.float64))
    if out is None:
        return r.astype(np.float32)
    out[...] = r
    return out


# --- fused activations ---

def activation_name(node) -> str:
    return ACTIVATION_NAMES.get(node.options.get("fused_activation_function", 0), "NONE")


_CLAMPS = {"RELU": (0, None), "RELU6": (0, 6), "RELU_N1_TO_1": (-1, 1)}


def float_activation(name: str, dtype=np.float32):
    """In-place function applying a fused activation (None for NONE).

    RELU's open top is +inf for floats, so infinities pass through as in
    TFLite; NaN stays NaN, as std::max/std::min leave it.
    """
    if name == "NONE":
        return None
    if name in ("TANH", "SIGN_BIT"):
        # TFLite's CalculateActivationRange knows only the clamping activations;
        # its kernels run a fused TANH or SIGN_BIT as no activation at all.
        return None
    if name not in _CLAMPS:
        raise ValueError(f"unknown fused activation {name}")
    dtype = np.dtype(dtype)
    lo, hi = _CLAMPS[name]
    if hi is None:
        hi = np.inf if dtype.kind == "f" else np.iinfo(dtype).max
    # astype wraps out-of-range bounds (-1 for uint32) as TFLite's C++ casts do.
    lo, hi = np.array(lo).astype(dtype)[()], np.array(hi).astype(dtype)[()]
    if dtype.kind == "f":
        return Clamp(lo, None if np.isinf(hi) else hi)
    clip = np.clip
    return lambda x: clip(x, lo, hi, out=x)


try:
    from numpy._core.umath import clip as _umath_clip
except ImportError:  # numpy < 2
    from numpy.core.umath import clip as _umath_clip


# Above this many bytes an elementwise pass is bound by memory: a scalar operand beats an array one.
ARRAY_BOUND_MAX_BYTES = 1 << 19


class Clamp:
    """x = min(max(x, lo), hi) in place, for float arrays.

    numpy runs its SIMD loop for maximum/minimum only when both operands are
    contiguous arrays; a scalar bound takes a strided loop 4x slower than
    reading a second array.  So a one-sided bound (RELU) is an array: a view
    of one shared buffer per value, cached per shape; past
    ARRAY_BOUND_MAX_BYTES, where the pass is bound by memory rather than by
    the loop, a scalar (reading a second array that size costs more: 1.2 MB,
    135 us against 78).  Both bounds (RELU6, RELU_N1_TO_1) are one pass of
    the clip ufunc with scalar bounds, its SIMD loop (numpy 2.4: 36 us
    against 71 for two array passes on 200k values; np.clip's Python wrapper
    costs 3 us more).  Same values, NaN included; a -0.0 input may keep its
    sign.
    """

    _buffers: dict = {}

    def __init__(self, lo, hi=None):
        self.lo, self.hi = lo, hi        # either may be None: no bound
        self.views: dict = {}
        self.last = (None, None, None)   # (array, lower bound view, upper bound view)

    @classmethod
    def _bound(cls, value, shape):
        """`value` as an array bound for an operand of `shape`, or as itself past ARRAY_BOUND_MAX_BYTES."""
        key = (value.dtype.str, value.item())
        size = math.prod(shape)     # Python ints: np.prod costs ~5 us, and binders call this per chunk
        if size * value.dtype.itemsize > ARRAY_BOUND_MAX_BYTES:
            return value
        buf = cls._buffers.get(key)
        if buf is None or buf.size < size:
            buf = np.full(max(size, 1024), value, value.dtype)
            buf.setflags(write=False)
            cls._buffers[key] = buf
        return buf[:size].reshape(shape)

    def __call__(self, x):
        if self.lo is not None and self.hi is not None and x.dtype == self.lo.dtype:
            _umath_clip(x, self.lo, self.hi, out=x)
            return
        last, lo, hi = self.last
        if x is not last:
            dtype = (self.lo if self.lo is not None else self.hi).dtype
            if not x.flags.c_contiguous or x.dtype != dtype:
                np.clip(x, -np.inf if self.lo is None else self.lo, np.inf if self.hi is None else self.hi, out=x)
                return
            bounds = self.views.get(x.shape)
            if bounds is None:
                bounds = self.views[x.shape] = tuple(None if v is None else self._bound(v, x.shape)
                                                     for v in (self.lo, self.hi))
            lo, hi = bounds
            self.last = (x, lo, hi)
        if lo is not None:
            np.maximum(x, lo, out=x)
        if hi is not None:
            np.minimum(x, hi, out=x)

    def calls(self, x) -> list:
        """This clamp on `x` as zero-argument calls (see `binds`)."""
        if not x.flags.c_contiguous or x.dtype != (self.lo if self.lo is not None else self.hi).dtype:
            return [partial(self, x)]
        if self.lo is not None and self.hi is not None:
            return [partial(_umath_clip, x, self.lo, self.hi, out=x)]
        lo, hi = (None if v is None else self._bound(v, x.shape) for v in (self.lo, self.hi))
        return ([] if lo is None else [partial(np.maximum, x, lo, out=x)]) + (
            [] if hi is None else [partial(np.minimum, x, hi, out=x)])


def activation_calls(act, x) -> list:
    """A fused activation from float_activation (or None) on `x`, as zero-argument calls."""
    if act is None:
        return []
    if isinstance(act, Clamp):
        return act.calls(x)
    return [partial(act, x)]


def binds(kernel):
    """Decorator: the decorated `binder(node, inputs, outputs)` becomes
    `kernel.bind`, the kernel bound to one set of arrays as a list of
    zero-argument calls (numpy calls with their arguments fixed), or None
    where it does not apply.

    The interpreter binds each step once per plan and runs the flat list of
    calls: at batch 1 the Python between a kernel's numpy calls (lookups,
    cache checks) costs as much as a small op itself.  The binder makes the
    same numpy calls as the kernel, so the two give identical results; the
    kernel stays the reference and the path for unplanned calls.
    """
    def attach(binder):
        kernel.bind = binder
        return binder
    return attach



def bound_kernel(binder, fallback, name: str):
    """A kernel whose body is `binder`'s calls, run at once, or `fallback` (the reference
    kernel) where the binder returns None; its `bind` is the binder, so the planned
    steps and unplanned calls (control flow, dynamic shapes) make the same numpy calls.

    >>> import numpy as np
    >>> k = bound_kernel(lambda node, ins, outs: [lambda: np.copyto(outs[0], ins[0])], None, "eval_copy")
    >>> out = np.zeros(2); k(None, [np.ones(2)], [out]); out.tolist(), k.__name__
    ([1.0, 1.0], 'eval_copy')
    """
    def kernel(node, inputs, outputs):
        calls = binder(node, inputs, outputs)
        if calls is None:
            fallback(node, inputs, outputs)
            return
        for call in calls:
            call()
    kernel.__name__ = kernel.__qualname__ = name
    kernel.bind = binder
    return kernel

def fused_float_activation(node):
    return float_activation(activation_name(node), node.outputs[0].dtype)


# --- padding ---

def padding_name(node) -> str:
    return PADDING_NAMES.get(node.options.get("padding", 0), "SAME")


def conv_output_size(size, filter_size, stride, dilation, padding):
    """Output length of a strided, dilated window (TFLite's ComputeOutSize)."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (size + stride - 1) // stride
    if padding == "VALID":
        return (size - effective + stride) // stride
    raise ValueError(f"unknown padding {padding}")


def conv_padding(size, filter_size, stride, dilation, out_size):
    """(before, after) padding for SAME, as TFLite computes it (extra on the after side)."""
    effective = (filter_size - 1) * dilation + 1
    total = max((out_size - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


# --- broadcasting ---

def broadcast_shape(a, b, node=None):
    try:
        return tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        msg = f"shapes {list(a)} and {list(b)} cannot be broadcast together"
        if node is not None:
            node.fail(msg)
        raise ValueError(msg) from None


def normalize_axis(axis, rank, node=None):
    a = int(axis)
    if a < 0:
        a += rank
    if not 0 <= a < max(rank, 1):
        if node is not None:
            node.fail(f"axis {axis} is out of range for rank {rank}")
        raise ValueError(f"axis {axis} is out of range for rank {rank}")
    return a


# --- resource variables (ASSIGN_VARIABLE, READ_VARIABLE) ---

def handle_of(node, array):
    handle = array.reshape(-1)[0] if array.size else None
    if not isinstance(handle, tuple):
        node.fail("input 0 is not a resource handle made by VAR_HANDLE")
    return handle
