"""Sequence layers: Embedding and Keras masks, LSTM, GRU, SimpleRNN, Bidirectional,
TimeDistributed (and mask-aware GlobalAveragePooling1D).

An LSTM without a mask becomes TFLite's fused UNIDIRECTIONAL_SEQUENCE_LSTM.  Its
state inputs must be variable tensors, which the op overwrites with the final
state; a `stateful` layer keeps them (zero at allocation, as after
`layer.reset_states()`), while a stateless one gets them from a FILL of zeros
that runs on every invoke, so one call never leaks into the next.

Everything the fused op cannot express (GRU, SimpleRNN, masks, initial states,
returned states, other activations) is unrolled over the static time axis into
builtin ops: one FULLY_CONNECTED projects the inputs of all steps, UNPACK splits
them per step, and each step is FULLY_CONNECTED on the previous state plus
elementwise gates.  A Keras mask is applied exactly as Keras does: on a masked
step the states (and the output, unless zero_output_for_mask) keep their old
values, `new * m + old * (1 - m)` with m in {0, 1}.
"""
from __future__ import annotations

import numpy as np

from .keras_ops import OP_LOWERINGS
from .layers import (
    IDENTITY_LAYERS,
    KWARG_LOWERINGS,
    LAZY_LAYERS,
    LOWERINGS,
    activation,
    activation_name,
    fail,
    lower_layer,
)
from .ops import batch_size, binary, expand_dims, f32, i32, reduce, reshape, transpose
from .spec import LayerSpec

_TENSOR_KWARGS_OK = {"mask", "initial_state", "training"}


def kw_lowering(*names):
    def register(fn):
        for n in names:
            if n not in LAZY_LAYERS and (n in LOWERINGS or n in IDENTITY_LAYERS):
                # A model using n would get the eager lowering when this module is not loaded yet.
                raise RuntimeError(f"{n} overrides an eager lowering: add it to layers.LAZY_LAYERS")
            KWARG_LOWERINGS[n] = fn
        return fn
    return register


def _check_kwargs(layer, kwargs, allowed=_TENSOR_KWARGS_OK):
    for k, v in kwargs.items():
        if k not in allowed and _is_tensor(v):
            fail(layer, f"call argument {k!r} is a tensor; it is not supported for this layer")


def _is_tensor(v):
    if isinstance(v, (list, tuple)):
        return any(_is_tensor(a) for a in v)
    return hasattr(v, "index")


def _mask_arg(layer, mask):
    """The call's mask: one tensor (or None)."""
    if isinstance(mask, (list, tuple)):
        masks = [m for m in mask if m is not None]
        if not masks:
            return None
        if len(masks) > 1:
            fail(layer, "several masks for one input are not supported")
        mask = masks[0]
    return mask if hasattr(mask, "index") else None


def float_mask(ctx, mask, name):
    """A mask as float32 0/1 (Keras casts non-boolean masks to bool first)."""
    if mask.dtype == np.bool_:
        return ctx.b.op("CAST", [mask], mask.shape, name + "/Cast", {"in_data_type": "BOOL",
                                                                      "out_data_type": "FLOAT32"},
                        out_dtypes=np.float32)
    if mask.dtype == np.float32:
        return bool_to_float(ctx, ctx.b.op("NOT_EQUAL", [mask, f32(ctx, 0.0, name + "/zero")], mask.shape,
                                           name + "/NotEqual", out_dtypes=np.bool_), name)
    m = ctx.b.op("NOT_EQUAL", [mask, ctx.b.const(np.zeros((), mask.dtype), name + "/zero")], mask.shape,
                 name + "/NotEqual", out_dtypes=np.bool_)
    return bool_to_float(ctx, m, name)


def bool_to_float(ctx, m, name):
    return ctx.b.op("CAST", [m], m.shape, name + "/Cast", {"in_data_type": "BOOL", "out_data_type": "FLOAT32"},
                    out_dtypes=np.float32)


def rsub(ctx, value, x, name):
    """value - x for a constant value."""
    return ctx.b.op("SUB", [f32(ctx, value, name + "/x"), x], x.shape, name)


# -- masks and embeddings ---------------------------------------------------------------------

def _not_equal(ctx, x, value, name):
    c = ctx.b.const(np.asarray(value, x.dtype), name + "/y")
    return ctx.b.op("NOT_EQUAL", [x, c], x.shape, name, out_dtypes=np.bool_)


@kw_lowering("Embedding")
def _embedding(ctx, layer, inputs, kwargs):
    _check_kwargs(layer, kwargs, {"training"})
    ids, cfg = inputs[0], layer.config
    if cfg.get("lora_rank"):
        fail(layer, "option lora_rank is set; merge the LoRA weights first")
    table = layer.weight("embeddings", 0)
    if table.dtype != np.float32 or table.ndim != 2:
        fail(layer, f"embeddings of dtype {table.dtype} and shape {table.shape} are not supported (a float "
                    "matrix); quantized Keras embeddings cannot be converted, use a float model")
    n = layer.name
    idx = ids
    if ids.dtype not in (np.int32, np.int64):
        # Keras casts other ids to int32 (truncating toward zero, as CAST does).
        idx = ctx.b.op("CAST", [ids], ids.shape, n + "/Cast", {"in_data_type": _type_name(ids.dtype),
                                                                "out_data_type": "INT32"}, out_dtypes=np.int32)
    y = ctx.b.op("GATHER", [f32(ctx, table, n + "/embeddings"), idx], ids.shape + (table.shape[1],), n + "/Gather",
                 {"axis": 0, "batch_dims": 0}, out_dtypes=np.float32)
    if cfg.get("mask_zero"):
        return [y, _not_equal(ctx, ids, 0, n + "/NotEqual")]
    return y


def _type_name(dtype):
    return {np.dtype(np.float32): "FLOAT32", np.dtype(np.int32): "INT32", np.dtype(np.int64): "INT64",
            np.dtype(np.bool_): "BOOL", np.dtype(np.uint8): "UINT8", np.dtype(np.int8): "INT8",
            np.dtype(np.int16): "INT16"}[np.dtype(dtype)]


@kw_lowering("Masking")
def _masking(ctx, layer, inputs, kwargs):
    _check_kwargs(layer, kwargs, {"training"})
    x = inputs[0]
    value = float(layer.config.get("mask_value", 0.0))
    n = layer.name
    keep = reduce(ctx, "REDUCE_ANY", _not_equal(ctx, x, value, n + "/NotEqual"), [-1], True, n + "/Any")
    mask = reshape(ctx, keep, keep.shape[:-1], n + "/mask") if sum(d is None for d in keep.shape) <= 1 else \
        ctx.b.op("SQUEEZE", [keep], keep.shape[:-1], n + "/mask", {"squeeze_dims": np.array([-1], np.int32)})
    if value == 0.0:
        return [x, mask]               # masked steps are already all zeros
    y = binary(ctx, "MUL", x, bool_to_float(ctx, keep, n + "/keep"), n + "/mul")
    return [y, mask]



def _op_not_equal(ctx, layer, args, kwargs):
    x, y = args[0], args[1]
    n = layer.name
    if hasattr(y, "index") and not hasattr(x, "index"):
        x, y = y, x
    if not hasattr(y, "index"):
        return _not_equal(ctx, x, y, n)
    from .ops import bshape

    return ctx.b.op("NOT_EQUAL", [x, y], bshape(x.shape, y.shape), n, out_dtypes=np.bool_)


def _op_any(ctx, layer, args, kwargs):
    x = args[0]
    axis = layer.config.get("axis")
    axes = list(range(x.rank)) if axis is None else ([axis] if isinstance(axis, int) else list(axis))
    if x.dtype != np.bool_:
        x = _not_equal(ctx, x, 0, layer.name + "/NotEqual")
    return reduce(ctx, "REDUCE_ANY", x, axes, bool(layer.config.get("keepdims", False)), layer.name)


def _logical(kind):
    def fn(ctx, layer, args, kwargs):
        x, y = args[0], args[1]
        if x is y or (hasattr(x, "index") and hasattr(y, "index") and x.index == y.index):
            return x                      # Keras ORs a mask with itself when merging equal masks
        from .ops import bshape

        return ctx.b.op(kind, [x, y], bshape(x.shape, y.shape), layer.name, out_dtypes=np.bool_)
    return fn


def _mask_op(name, fn):
    if name in OP_LOWERINGS:
        # keras_ops.lower_op loads this module only for ops it does not know.
        raise RuntimeError(f"keras op {name} is lowered in keras_ops.py already")
    OP_LOWERINGS[name] = fn


_mask_op("NotEqual", _op_not_equal)
_mask_op("LogicalOr", _logical("LOGICAL_OR"))
_mask_op("LogicalAnd", _logical("LOGICAL_AND"))
_mask_op("Any", _op_any)

_global_avg_1d = LOWERINGS["GlobalAveragePooling1D"]


@kw_lowering("GlobalAveragePooling1D", "GlobalAvgPool1D")
def _masked_global_avg(ctx, layer, inputs, kwargs):
    _check_kwargs(layer, kwargs, {"mask", "training"})
    mask = _mask_arg(layer, kwargs.get("mask"))
    if mask is None:
        return _global_avg_1d(ctx, layer, inputs)
    x, n = inputs[0], layer.name
    m = expand_dims(ctx, float_mask(ctx, mask, n + "/mask"), 2, n + "/mask/ExpandDims")
    keep = bool(layer.config.get("keepdims", False))
    total = reduce(ctx, "SUM", binary(ctx, "MUL", x, m, n + "/masked"), [1], keep, n + "/Sum")
    count = reduce(ctx, "SUM", m, [1], keep, n + "/count")
    return binary(ctx, "DIV", total, count, n + "/truediv")


# -- recurrent layers -------------------------------------------------------------------------

_FUSED_ACTIVATIONS = {"tanh": "TANH", "relu": "RELU", "relu6": "RELU6"}
_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


class _Rnn:
    """One recurrent layer's options and weights."""

    def __init__(self, layer):
        cfg = layer.config
        self.layer = layer
        self.kind = layer.class_name
        if self.kind not in _GATES:
            fail(layer, f"recurrent layer {self.kind} is not supported (LSTM, GRU, SimpleRNN)")
        if cfg.get("time_major"):
            fail(layer, "option time_major=True is not supported; use batch-major inputs [batch, time, features]")
        if cfg.get("cell") is not None and self.kind not in _GATES:
            fail(layer, "a generic keras.layers.RNN with a custom cell is not supported")
        self.units = int(cfg["units"])
        self.activation = activation_name(cfg.get("activation", "tanh"))
        self.recurrent_activation = activation_name(cfg.get("recurrent_activation", "sigmoid")) \
            if self.kind != "SimpleRNN" else None
        self.return_sequences = bool(cfg.get("return_sequences", False))
        self.return_state = bool(cfg.get("return_state", False))
        self.go_backwards = bool(cfg.get("go_backwards", False))
        self.stateful = bool(cfg.get("stateful", False))
        self.zero_output_for_mask = bool(cfg.get("zero_output_for_mask", False))
        self.kernel = layer.weight("kernel", 0)
        self.recurrent = layer.weight("recurrent_kernel", 1)
        n = _GATES[self.kind] * self.units
        use_bias = cfg.get("use_bias", True)
        self.bias = layer.weight("bias", 2, required=False) if use_bias else None
        if self.kernel.ndim != 2 or self.kernel.shape[1] != n or self.recurrent.shape != (self.units, n):
            fail(layer, f"weights of shapes {self.kernel.shape} and {self.recurrent.shape} do not fit "
                        f"{self.units} units")
        self.reset_after = False
        if self.kind == "GRU":
            # Keras 3 and TF 2 default to reset_after=True; its bias holds an input and a
            # recurrent row.
            self.reset_after = bool(cfg.get("reset_after", self.bias is not None and self.bias.ndim == 2))
            if self.bias is not None and (self.bias.ndim == 2) != self.reset_after:
                fail(layer, f"bias of shape {self.bias.shape} does not fit reset_after={self.reset_after}")

    def project_x(self, ctx, x, name):
        """The gates' input terms for every step at once: [batch, time, gates * units]."""
        return _fc(ctx, x, self.kernel, self.input_bias, name)

    def project_h(self, ctx, h, name):
        """The gates' recurrent terms from the previous output h."""
        return _fc(ctx, h, self.recurrent, None, name)

    def state_shape(self, x):
        """The shape of one state (and of one step's output) for input x."""
        return (x.shape[0], self.units)

    def check_mask(self):
        pass

    def check_input(self, x):
        if x.rank != 3:
            fail(self.layer, f"input of shape {x.shape} is not supported (expected [batch, time, features])")
        if x.shape[2] != self.kernel.shape[0]:
            fail(self.layer, f"input has {x.shape[2]} features, the kernel expects {self.kernel.shape[0]}")

    @property
    def input_bias(self):
        if self.bias is None:
            return None
        return self.bias[0] if self.bias.ndim == 2 else self.bias

    @property
    def recurrent_bias(self):
        return self.bias[1] if self.bias is not None and self.bias.ndim == 2 else None

    def states(self):
        return 2 if self.kind == "LSTM" else 1


class _ConvLstm(_Rnn):
    """A ConvLSTM2D: an LSTM whose gates' input and recurrent terms are 2-D convolutions (the
    input's with the layer's strides, padding and dilation; the recurrent one 'same', stride 1),
    over [batch, time, height, width, channels]; its states are feature maps."""

    def __init__(self, layer):
        cfg = layer.config
        self.layer, self.kind = layer, "LSTM"
        self.units = int(cfg["filters"])
        self.activation = activation_name(cfg.get("activation", "tanh"))
        self.recurrent_activation = activation_name(cfg.get("recurrent_activation", "sigmoid"))
        self.return_sequences = bool(cfg.get("return_sequences", False))
        self.return_state = bool(cfg.get("return_state", False))
        self.go_backwards = bool(cfg.get("go_backwards", False))
        self.stateful = bool(cfg.get("stateful", False))
        self.zero_output_for_mask = False
        self.reset_after = False
        from .layers import _conv_geometry

        self.strides, self.dilation, self.padding = _conv_geometry(layer, 2)
        self.kernel = layer.weight("kernel", 0)                       # (kh, kw, cin, 4 filters)
        self.recurrent = layer.weight("recurrent_kernel", 1)          # (kh, kw, filters, 4 filters)
        self.bias = layer.weight("bias", 2, required=False) if cfg.get("use_bias", True) else None
        f = self.units
        if self.kernel.ndim != 4 or self.kernel.shape[3] != 4 * f or self.recurrent.shape[2:] != (f, 4 * f):
            fail(layer, f"weights of shapes {self.kernel.shape} and {self.recurrent.shape} do not fit {f} filters")

    def _conv(self, ctx, x, kernel, bias, strides, dilation, padding, name):
        from .layers import _conv2d_op

        filt = np.ascontiguousarray(np.transpose(kernel, (3, 0, 1, 2)))          # OHWI
        bias = np.zeros(kernel.shape[3], np.float32) if bias is None else bias
        return _conv2d_op(ctx, name, x, filt, bias, strides, dilation, padding)

    def project_x(self, ctx, x, name):
        # All steps at once: [batch * time, h, w, c] through one CONV_2D, then back.
        b, t, h, w, c = x.shape
        flat = reshape(ctx, x, (None if b is None or t is None else b * t, h, w, c), name + "/frames")
        y = self._conv(ctx, flat, self.kernel, self.bias, self.strides, self.dilation, self.padding, name)
        shape = (b, t) + tuple(y.shape[1:])
        if b is not None or t is not None:
            return reshape(ctx, y, shape, name + "/steps")
        dims = _dims(ctx, x, name + "/shape")[:2] + [i32(ctx, d, f"{name}/out{j}") for j, d in enumerate(y.shape[1:])]
        packed = ctx.b.op("PACK", dims, (5,), name + "/steps_shape", {"values_count": 5, "axis": 0},
                          out_dtypes=np.int32)
        return ctx.b.op("RESHAPE", [y, packed], shape, name + "/steps")

    def project_h(self, ctx, h, name):
        return self._conv(ctx, h, self.recurrent, None, (1, 1), (1, 1), "same", name)

    def state_shape(self, x):
        from .layers import conv_out

        kh, kw = self.kernel.shape[:2]
        return (x.shape[0],) + tuple(conv_out(x.shape[2 + i], k, self.strides[i], self.dilation[i], self.padding)
                                     for i, k in enumerate((kh, kw))) + (self.units,)

    def check_mask(self):
        fail(self.layer, "a mask into ConvLSTM2D is not supported")

    def check_input(self, x):
        if x.rank != 5 or any(d is None for d in x.shape[2:]):
            fail(self.layer, f"input of shape {x.shape} is not supported (expected [batch, time, height, width, "
                             "channels] with static height, width and channels)")
        if x.shape[4] != self.kernel.shape[2]:
            fail(self.layer, f"input has {x.shape[4]} channels, the kernel expects {self.kernel.shape[2]}")


def _fc(ctx, x, w, b, name):
    """x @ w + b with w as Keras stores it ([in, out])."""
    bias = f32(ctx, b, name + "/bias") if b is not None and np.any(b) else None
    return ctx.b.op("FULLY_CONNECTED", [x, f32(ctx, np.ascontiguousarray(w.T), name + "/weights"), bias],
                    x.shape[:-1] + (w.shape[1],), name, {"keep_num_dims": x.rank > 2})


def _split(ctx, x, n, name, used=None):
    """x split into n equal parts along the last axis.  Parts not `used` are None:
    they are sliced out one by one instead, so that no op has an unread output."""
    if n == 1:
        return [x]
    part = x.shape[-1] // n
    if used is None or all(used):
        return ctx.b.op("SPLIT", [i32(ctx, x.rank - 1, name + "/axis"), x], [x.shape[:-1] + (part,)] * n, name,
                        {"num_splits": n}, out_dtypes=x.dtype)
    out = []
    for k, u in enumerate(used):
        if not u:
            out.append(None)
            continue
        begin = [0] * (x.rank - 1) + [k * part]
        size = [-1] * (x.rank - 1) + [part]
        out.append(ctx.b.op("SLICE", [x, i32(ctx, begin, f"{name}_{k}/begin"), i32(ctx, size, f"{name}_{k}/size")],
                            x.shape[:-1] + (part,), f"{name}_{k}", out_dtypes=x.dtype))
    return out


def _reverse_time(ctx, x, name, axis=1):
    """x reversed along its time axis (1 batch-major, 0 time-major)."""
    return ctx.b.op("REVERSE_V2", [x, i32(ctx, [axis], name + "/axis")], x.shape, name)


def _last_step(ctx, y, name):
    """y[:, -1] of a [batch, time, features] sequence."""
    return ctx.b.op("STRIDED_SLICE", [y, i32(ctx, [0, -1, 0], name + "/begin"), i32(ctx, [0, 0, 0], name + "/end"),
                                      i32(ctx, [1, 1, 1], name + "/strides")], (y.shape[0], y.shape[2]), name,
                    {"begin_mask": 5, "end_mask": 5, "shrink_axis_mask": 2})


def lower_rnn(ctx, layer, x, mask=None, initial_state=None, zero_output_for_mask=None, time_order=False):
    """Lower one LSTM/GRU/SimpleRNN/ConvLSTM2D call: (output, [final states]).  `time_order` gives
    a go_backwards sequence in input time order (as Bidirectional wants it)."""
    p = _ConvLstm(layer) if layer.class_name == "ConvLSTM2D" else _Rnn(layer)
    if zero_output_for_mask is not None:
        p.zero_output_for_mask = zero_output_for_mask
    p.check_input(x)
    if initial_state is not None:
        initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        initial_state = [s for s in initial_state if s is not None] or None
        if initial_state is not None and len(initial_state) != p.states():
            fail(layer, f"initial_state has {len(initial_state)} tensors, {p.kind} takes {p.states()}")
    fused_act = _FUSED_ACTIVATIONS.get(p.activation)
    fused = (type(p) is _Rnn and p.kind == "LSTM" and mask is None and initial_state is None and not p.return_state
             and fused_act is not None and p.recurrent_activation == "sigmoid")
    if p.stateful and not fused:
        fail(layer, "option stateful=True is only supported for an LSTM without masks, initial_state or "
                    "return_state, with activation tanh/relu/relu6 and recurrent_activation sigmoid (the "
                    "fused TFLite op keeps the state between invocations)")
    if fused:
        y = _fused_lstm(ctx, p, x, fused_act)
        if p.return_sequences:
            return (_reverse_time(ctx, y, layer.name + "/ReverseV2_out") if time_order and p.go_backwards else y), []
        return _last_step(ctx, y, layer.name + "/strided_slice"), []
    return _unrolled(ctx, p, x, mask, initial_state, time_order)


def _fused_lstm(ctx, p, x, act):
    layer, u, n = p.layer, p.units, p.layer.name
    if p.go_backwards:
        x = _reverse_time(ctx, x, n + "/ReverseV2")
    w = [f32(ctx, np.ascontiguousarray(p.kernel[:, k * u:(k + 1) * u].T), f"{n}/input_to_{g}_weights")
         for k, g in enumerate("ifco")]
    r = [f32(ctx, np.ascontiguousarray(p.recurrent[:, k * u:(k + 1) * u].T), f"{n}/recurrent_to_{g}_weights")
         for k, g in enumerate("ifco")]
    bias = p.bias if p.bias is not None else np.zeros(4 * u, np.float32)
    b = [f32(ctx, bias[k * u:(k + 1) * u], f"{n}/{g}_gate_bias") for k, g in enumerate("ifco")]
    batch = x.shape[0]
    if p.stateful:
        if batch is None:
            fail(layer, "option stateful=True needs a fixed batch size (keras.Input(batch_shape=...))")
        h = _variable(ctx, (batch, u), n + "/output_state")
        c = _variable(ctx, (batch, u), n + "/cell_state")
    else:
        if batch is None:
            dims = ctx.b.op("PACK", [batch_size(ctx, x, n + "/state"), i32(ctx, u, n + "/state/units")], (2,),
                            n + "/state/dims", {"values_count": 2, "axis": 0}, out_dtypes=np.int32)
        else:
            dims = i32(ctx, [batch, u], n + "/state/dims")
        h = ctx.b.op("FILL", [dims, f32(ctx, 0.0, n + "/state/zero")], (batch, u), n + "/output_state",
                     out_dtypes=np.float32)
        c = ctx.b.op("FILL", [dims, f32(ctx, 0.0, n + "/state/zero_c")], (batch, u), n + "/cell_state",
                     out_dtypes=np.float32)
        for v in (h, c):
            ctx.b.sg.tensors[v.index].is_variable = True
    inputs = [x] + w + r + [None, None, None] + b + [None, None, h, c, None, None, None, None]
    return ctx.b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, x.shape[:2] + (u,), n + "/lstm",
                    {"fused_activation_function": act, "cell_clip": 0.0, "proj_clip": 0.0, "time_major": False,
                     "asymmetric_quantize_inputs": False})


def _variable(ctx, shape, name):
    """A zero-initialized variable tensor (no producer: it keeps its value between invokes)."""
    from ...converter.builder import Value

    index = ctx.b._tensor(name, shape, np.float32)
    ctx.b.sg.tensors[index].is_variable = True
    return Value(index, shape, np.float32)


def _unrolled(ctx, p, x, mask, initial_state, time_order):
    layer, n = p.layer, p.layer.name
    steps = x.shape[1]
    if steps is None:
        return _looped(ctx, p, x, mask, initial_state, time_order)
    xp = p.project_x(ctx, x, n + "/input_projection")
    xs = _unpack(ctx, xp, steps, n + "/unstack")
    ms = inv = None
    if mask is not None:
        p.check_mask()
        if tuple(mask.shape[1:2]) != (steps,) or mask.rank != 2:
            fail(layer, f"mask of shape {mask.shape} does not fit the input {x.shape} (expected [batch, time])")
        m = expand_dims(ctx, float_mask(ctx, mask, n + "/mask"), 2, n + "/mask/ExpandDims")
        ms = _unpack(ctx, m, steps, n + "/mask/unstack")
        inv = [None] * steps                 # 1 - m, made per step where a previous state exists
    h = c = None
    if initial_state is not None:
        h = initial_state[0]
        c = initial_state[1] if p.kind == "LSTM" else None
    order = list(range(steps))[::-1] if p.go_backwards else list(range(steps))
    outs = []
    for k, t in enumerate(order):
        s = f"{n}/step{k}"
        h_new, c_new = _step(ctx, p, xs[t], h, c, s)
        if ms is None:
            h, c = h_new, c_new
            outs.append(h)
            continue
        if h is not None:
            inv[t] = rsub(ctx, 1.0, ms[t], s + "/mask/inverse")
        h_kept = _blend(ctx, ms[t], inv[t], h_new, h, s + "/h")
        if c_new is not None:
            c = _blend(ctx, ms[t], inv[t], c_new, c, s + "/c")
        h = h_kept
        outs.append(binary(ctx, "MUL", h_new, ms[t], s + "/zero_masked") if p.zero_output_for_mask else h)
    if p.return_sequences:
        seq = outs[::-1] if time_order and p.go_backwards else outs
        out = ctx.b.op("PACK", seq, (x.shape[0], steps) + tuple(p.state_shape(x)[1:]), n + "/stack",
                       {"values_count": steps, "axis": 1}) \
            if steps > 1 else expand_dims(ctx, seq[0], 1, n + "/stack")
    else:
        out = outs[-1]
    states = [h, c] if p.kind == "LSTM" else [h]
    return out, states


def _dims(ctx, x, name):
    """x's dimensions as int32 scalars: constants where static, else read from one SHAPE."""
    shape = None
    out = []
    for axis, d in enumerate(x.shape):
        if d is not None:
            out.append(i32(ctx, d, f"{name}/dim{axis}"))
            continue
        if shape is None:
            shape = ctx.b.op("SHAPE", [x], (x.rank,), name + "/Shape", {"out_type": "INT32"}, out_dtypes=np.int32)
        out.append(_dim(ctx, shape, axis, f"{name}/dim{axis}"))
    return out


def _dim(ctx, shape, axis, name):
    return ctx.b.op("STRIDED_SLICE", [shape, i32(ctx, [axis], name + "/begin"), i32(ctx, [axis + 1], name + "/end"),
                                      i32(ctx, [1], name + "/strides")], (), name, {"shrink_axis_mask": 1},
                    out_dtypes=np.int32)


def _zeros(ctx, dims, shape, name):
    """A float32 zeros tensor of `shape` (None where run time) from int32 scalars `dims`."""
    packed = ctx.b.op("PACK", dims, (len(dims),), name + "/dims", {"values_count": len(dims), "axis": 0},
                      out_dtypes=np.int32)
    return ctx.b.op("FILL", [packed, f32(ctx, 0.0, name + "/zero")], shape, name, out_dtypes=np.float32)


def _looped(ctx, p, x, mask, initial_state, time_order):
    """The layer over a time axis known only at run time: a WHILE whose body is one step.

    As TensorFlow's converter writes a Keras RNN: the inputs of all steps are projected by one
    FULLY_CONNECTED and made time-major; the loop values are the step counter, the length, the
    states, the projected inputs (and the time-major mask), and the outputs so far, which the
    body writes a step at a time with DYNAMIC_UPDATE_SLICE into a zeros tensor of the sequence's
    shape.  The body reads its step with GATHER, so every op in it has the shapes of one step."""
    layer, n = p.layer, p.layer.name
    batch = x.shape[0]
    xp = p.project_x(ctx, x, n + "/input_projection")
    xs = transpose(ctx, xp, (1, 0) + tuple(range(2, xp.rank)), n + "/time_major")
    step = tuple(p.state_shape(x))
    ms = None
    if mask is not None:
        p.check_mask()
        if mask.rank != 2 or len(mask.shape) != 2:
            fail(layer, f"mask of shape {mask.shape} does not fit the input {x.shape} (expected [batch, time])")
        m = transpose(ctx, float_mask(ctx, mask, n + "/mask"), (1, 0), n + "/mask/time_major")
        ms = expand_dims(ctx, m, 2, n + "/mask/ExpandDims")
    if p.go_backwards:
        xs = _reverse_time(ctx, xs, n + "/ReverseV2", axis=0)
        ms = None if ms is None else _reverse_time(ctx, ms, n + "/mask/ReverseV2", axis=0)
    b_dim, t_dim = _dims(ctx, x, n + "/shape")[:2]

    def zeros(lead, name):
        """Zeros of `lead` (int32 scalars) followed by a step's static dimensions."""
        return _zeros(ctx, lead + [i32(ctx, d, f"{name}/dim{j}") for j, d in enumerate(step[1:])],
                      tuple(None for _ in lead[:-1]) + step, name)
    states = list(initial_state) if initial_state is not None else [
        zeros([b_dim], f"{n}/state{k}") for k in range(p.states())]
    loop = [i32(ctx, 0, n + "/time"), t_dim] + states + [xs] + ([ms] if ms is not None else [])
    # The outputs: all steps', or the last step's where it is not the state (a zeroed masked step).
    keep_last = not p.return_sequences and ms is not None and p.zero_output_for_mask
    if p.return_sequences:
        loop.append(zeros([t_dim, b_dim], n + "/outputs"))
    elif keep_last:
        loop.append(zeros([b_dim], n + "/output"))
    shapes, dtypes = [v.shape for v in loop], [v.dtype for v in loop]
    b = ctx.b
    with b.subgraph(n + "/while_cond") as cond:
        vals = [b.param(f"{n}/while_cond/arg{k}", sh, dt) for k, (sh, dt) in enumerate(zip(shapes, dtypes))]
        b.result(b.op("LESS", vals[:2], (), n + "/while_cond/Less", out_dtypes=np.bool_))
    with b.subgraph(n + "/while_body") as body:
        s = n + "/while_body"
        vals = [b.param(f"{s}/arg{k}", sh, dt) for k, (sh, dt) in enumerate(zip(shapes, dtypes))]
        i, h = vals[0], vals[2]
        c = vals[3] if p.kind == "LSTM" else None
        k = 2 + p.states()
        step_x = b.op("GATHER", [vals[k], i], tuple(xs.shape[1:]), s + "/input", {"axis": 0, "batch_dims": 0})
        h_new, c_new = _step(ctx, p, step_x, h, c, s)
        out = h_new
        if ms is not None:
            m = b.op("GATHER", [vals[k + 1], i], (batch, 1), s + "/mask", {"axis": 0, "batch_dims": 0})
            inv = rsub(ctx, 1.0, m, s + "/mask/inverse")
            h_kept = _blend(ctx, m, inv, h_new, h, s + "/h")
            c_new = None if c_new is None else _blend(ctx, m, inv, c_new, c, s + "/c")
            out = binary(ctx, "MUL", h_new, m, s + "/zero_masked") if p.zero_output_for_mask else h_kept
            h_new = h_kept
        nxt = [binary(ctx, "ADD", i, i32(ctx, 1, s + "/one"), s + "/next"), vals[1], h_new] + (
            [c_new] if c is not None else []) + vals[k:k + (2 if ms is not None else 1)]
        if p.return_sequences:
            acc = vals[-1]
            zero = i32(ctx, 0, s + "/zero")
            start = b.op("PACK", [i] + [zero] * len(step), (len(step) + 1,), s + "/start",
                         {"values_count": len(step) + 1, "axis": 0})
            row = expand_dims(ctx, out, 0, s + "/row")
            nxt.append(b.op("DYNAMIC_UPDATE_SLICE", [acc, row, start], acc.shape, s + "/outputs"))
        elif keep_last:
            nxt.append(out)
        for v in nxt:
            b.result(v)
    ends = b.op("WHILE", loop, shapes, n + "/while", {"cond_subgraph_index": cond, "body_subgraph_index": body},
                out_dtypes=dtypes)
    h, c = ends[2], (ends[3] if p.kind == "LSTM" else None)
    if p.return_sequences:
        out = transpose(ctx, ends[-1], (1, 0) + tuple(range(2, len(step) + 1)), n + "/batch_major")
        if time_order and p.go_backwards:
            out = _reverse_time(ctx, out, n + "/ReverseV2_out")
    else:
        out = ends[-1] if keep_last else h
    return out, ([h, c] if p.kind == "LSTM" else [h])


def _step(ctx, p, xt, h, c, s):
    """One step's new (h, c) from its projected input xt (c None but for an LSTM; h and c None
    before the first step of a zero initial state)."""
    if p.kind == "LSTM":
        return _lstm_step(ctx, p, xt, h, c, s)
    if p.kind == "GRU":
        return _gru_step(ctx, p, xt, h, s), None
    z = xt if h is None else binary(ctx, "ADD", xt, p.project_h(ctx, h, s + "/recurrent"), s + "/add")
    return activation(ctx, z, p.activation, s, p.layer), None


def _unpack(ctx, x, steps, name):
    if steps == 1:
        return [reshape(ctx, x, (x.shape[0],) + x.shape[2:], name)]
    return ctx.b.op("UNPACK", [x], [(x.shape[0],) + x.shape[2:]] * steps, name, {"num": steps, "axis": 1})


def _blend(ctx, m, inv, new, old, name):
    """new where m == 1, old where m == 0 (old None: zeros)."""
    kept = binary(ctx, "MUL", new, m, name + "/new")
    if old is None:
        return kept
    return binary(ctx, "ADD", kept, binary(ctx, "MUL", old, inv, name + "/old"), name + "/masked")


def _lstm_step(ctx, p, xt, h, c, s):
    layer = p.layer
    z = xt if h is None else binary(ctx, "ADD", xt, p.project_h(ctx, h, s + "/recurrent"), s + "/add")
    i, f, g, o = _split(ctx, z, 4, s + "/split", used=(True, c is not None, True, True))
    i = activation(ctx, i, p.recurrent_activation, s + "/i", layer)
    f = None if f is None else activation(ctx, f, p.recurrent_activation, s + "/f", layer)
    g = activation(ctx, g, p.activation, s + "/g", layer)
    o = activation(ctx, o, p.recurrent_activation, s + "/o", layer)
    ig = binary(ctx, "MUL", i, g, s + "/i_g")
    c_new = ig if c is None else binary(ctx, "ADD", binary(ctx, "MUL", f, c, s + "/f_c"), ig, s + "/c")
    h_new = binary(ctx, "MUL", o, activation(ctx, c_new, p.activation, s + "/c_act", layer), s + "/h")
    return h_new, c_new


def _gru_step(ctx, p, xt, h, s):
    layer, u = p.layer, p.units
    xz, xr, xh = _split(ctx, xt, 3, s + "/split_x", used=(True, p.reset_after or h is not None, True))
    if p.reset_after:
        if h is None:
            rb = p.recurrent_bias
            rz, rr, rh = (None, None, None) if rb is None else (rb[:u], rb[u:2 * u], rb[2 * u:])
        else:
            rz, rr, rh = _split(ctx, _fc(ctx, h, p.recurrent, p.recurrent_bias, s + "/recurrent"), 3, s + "/split_h")
        z = activation(ctx, _add(ctx, xz, rz, s + "/z_in"), p.recurrent_activation, s + "/z", layer)
        r = activation(ctx, _add(ctx, xr, rr, s + "/r_in"), p.recurrent_activation, s + "/r", layer)
        rec_h = None if rh is None else (binary(ctx, "MUL", r, f32(ctx, rh, s + "/rh"), s + "/r_h")
                                        if isinstance(rh, np.ndarray) else binary(ctx, "MUL", r, rh, s + "/r_h"))
        hh = activation(ctx, _add(ctx, xh, rec_h, s + "/hh_in"), p.activation, s + "/hh", layer)
    else:
        if h is None:
            z = activation(ctx, xz, p.recurrent_activation, s + "/z", layer)
            hh = activation(ctx, xh, p.activation, s + "/hh", layer)
        else:
            rz, rr = _split(ctx, _fc(ctx, h, p.recurrent[:, :2 * u], None, s + "/recurrent"), 2, s + "/split_h")
            z = activation(ctx, binary(ctx, "ADD", xz, rz, s + "/z_in"), p.recurrent_activation, s + "/z", layer)
            r = activation(ctx, binary(ctx, "ADD", xr, rr, s + "/r_in"), p.recurrent_activation, s + "/r", layer)
            rh = _fc(ctx, binary(ctx, "MUL", r, h, s + "/r_h"), p.recurrent[:, 2 * u:], None, s + "/recurrent_h")
            hh = activation(ctx, binary(ctx, "ADD", xh, rh, s + "/hh_in"), p.activation, s + "/hh", layer)
    # Keras: h = z * h_prev + (1 - z) * hh
    new = binary(ctx, "MUL", rsub(ctx, 1.0, z, s + "/one_minus_z"), hh, s + "/new")
    if h is None:
        return new
    return binary(ctx, "ADD", binary(ctx, "MUL", z, h, s + "/keep"), new, s + "/h")


def _add(ctx, x, y, name):
    """x + y where y may be a constant array or absent."""
    if y is None:
        return x
    if isinstance(y, np.ndarray):
        if not np.any(y):
            return x
        y = f32(ctx, y, name + "/y")
    return binary(ctx, "ADD", x, y, name)


_CELLS = {"LSTMCell": "LSTM", "GRUCell": "GRU", "SimpleRNNCell": "SimpleRNN"}


def _cell_layer(layer):
    """A generic keras.layers.RNN over one built-in cell as the layer of that cell's kind (its
    weights are the cell's, its options the cell's and the wrapper's)."""
    cell = layer.config.get("cell") or {}
    kind = _CELLS.get(cell.get("class_name"))
    if kind is None:
        fail(layer, f"keras.layers.RNN over a {cell.get('class_name')!r} cell is not supported (LSTMCell, GRUCell, "
                    "SimpleRNNCell; use the LSTM, GRU or SimpleRNN layer)")
    cfg = dict(cell.get("config") or {})
    for key in ("return_sequences", "return_state", "go_backwards", "stateful", "zero_output_for_mask"):
        if key in layer.config:
            cfg[key] = layer.config[key]
    return LayerSpec(kind, layer.name, cfg, layer.weights)


@kw_lowering("LSTM", "GRU", "SimpleRNN", "ConvLSTM2D", "RNN")
def _rnn_layer(ctx, layer, inputs, kwargs):
    if layer.class_name == "RNN":
        layer = _cell_layer(layer)
    _check_kwargs(layer, kwargs)
    x = inputs[0]
    initial_state = kwargs.get("initial_state")
    if initial_state is None and len(inputs) > 1:
        initial_state = inputs[1:]           # called as layer(x, [h, c]) positionally
    out, states = lower_rnn(ctx, layer, x, _mask_arg(layer, kwargs.get("mask")), initial_state)
    if layer.config.get("return_state"):
        if not states:
            fail(layer, "internal: states requested from the fused path")
        return [out] + states
    return out


# -- wrappers ---------------------------------------------------------------------------------

def _sub_weights(layer, aliases):
    """The weights of one wrapped layer, by a path segment in their names (h5 and live:
    "<wrapper>/<inner layer name>/<cell>/<var>", .keras: "<wrapper>/<attribute>/.../vars/<k>")."""
    out = []
    for name, w in layer.weights:
        if name is None:
            return None
        segs = name.split(":")[0].split("/")
        if any(s in aliases for s in segs[1:-1]):
            out.append((name, w))
    return out


def _strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


@kw_lowering("Bidirectional")
def _bidirectional(ctx, layer, inputs, kwargs):
    _check_kwargs(layer, kwargs)
    cfg = layer.config
    x = inputs[0]
    fwd = cfg["layer"]
    fcls, fcfg = fwd["class_name"], dict(fwd.get("config") or {})
    bwd = cfg.get("backward_layer")
    if bwd:
        bcls, bcfg = bwd["class_name"], dict(bwd.get("config") or {})
    else:
        bcls, bcfg = fcls, dict(fcfg, go_backwards=not fcfg.get("go_backwards", False),
                                name="backward_" + _strip(fcfg.get("name", ""), "forward_"))
    base = _strip(fcfg.get("name", ""), "forward_")
    f_alias = {"forward_layer", fcfg.get("name"), "forward_" + base}
    b_alias = {"backward_layer", bcfg.get("name"), "backward_" + _strip(bcfg.get("name", ""), "backward_")}
    fw, bw = _sub_weights(layer, f_alias), _sub_weights(layer, b_alias)
    if fw is None or bw is None or not fw or not bw:
        half = len(layer.weights) // 2
        fw, bw = layer.weights[:half], layer.weights[half:]
    f_layer = LayerSpec(fcls, f"{layer.name}/{fcfg.get('name', 'forward')}", fcfg, fw)
    b_layer = LayerSpec(bcls, f"{layer.name}/{bcfg.get('name', 'backward')}", bcfg, bw)
    seqs = bool(fcfg.get("return_sequences"))
    mask = _mask_arg(layer, kwargs.get("mask"))
    init = kwargs.get("initial_state")
    if init is None and len(inputs) > 1:
        init = inputs[1:]
    f_init = b_init = None
    if init is not None:
        init = list(init) if isinstance(init, (list, tuple)) else [init]
        f_init, b_init = init[:len(init) // 2], init[len(init) // 2:]
    # Keras forces zero_output_for_mask = return_sequences on both directions.
    y, fs = lower_rnn(ctx, f_layer, x, mask, f_init, zero_output_for_mask=seqs)
    y_rev, bs = lower_rnn(ctx, b_layer, x, mask, b_init, zero_output_for_mask=seqs, time_order=True)
    mode = cfg.get("merge_mode", "concat")
    n = layer.name
    if mode == "concat":
        shape = y.shape[:-1] + (y.shape[-1] + y_rev.shape[-1],)
        out = [ctx.b.op("CONCATENATION", [y, y_rev], shape, n + "/concat", {"axis": y.rank - 1})]
    elif mode == "sum":
        out = [binary(ctx, "ADD", y, y_rev, n + "/add")]
    elif mode == "ave":
        out = [binary(ctx, "MUL", binary(ctx, "ADD", y, y_rev, n + "/add"), 0.5, n + "/truediv")]
    elif mode == "mul":
        out = [binary(ctx, "MUL", y, y_rev, n + "/mul")]
    elif mode is None:
        out = [y, y_rev]
    else:
        fail(layer, f"option merge_mode={mode!r} is not supported (concat, sum, ave, mul, None)")
    if fcfg.get("return_state"):
        return out + fs + bs
    return out if len(out) > 1 else out[0]


@kw_lowering("TimeDistributed")
def _time_distributed(ctx, layer, inputs, kwargs):
    _check_kwargs(layer, kwargs, {"mask", "training"})
    x = inputs[0]
    inner = layer.config["layer"]
    icls, icfg = inner["class_name"], dict(inner.get("config") or {})
    sub = LayerSpec(icls, f"{layer.name}/{icfg.get('name', 'layer')}", icfg, layer.weights)
    n = layer.name
    if x.rank < 3:
        fail(layer, f"input of shape {x.shape} is not supported (expected [batch, time, ...])")
    if icls == "Dense":
        return lower_layer(ctx, sub, [x], {})          # FULLY_CONNECTED keeps the leading dimensions
    batch, steps = x.shape[0], x.shape[1]
    if steps is None or any(d is None for d in x.shape[2:]):
        fail(layer, f"input of shape {x.shape} is not supported: the time and feature dimensions must be static")
    folded = reshape(ctx, x, (None if batch is None else batch * steps,) + x.shape[2:], n + "/fold")
    y = lower_layer(ctx, sub, [folded], {})
    if isinstance(y, (list, tuple)):
        if len(y) != 1:
            fail(layer, f"the wrapped {icls} has several outputs, which is not supported")
        y = y[0]
    return reshape(ctx, y, (batch, steps) + y.shape[1:], n + "/unfold")
