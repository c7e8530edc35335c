"""The fused UNIDIRECTIONAL_SEQUENCE_LSTM under quantization, as TensorFlow's
quantizer writes it.

- Dynamic range: the weight matrices (inputs 1-8, peepholes 9-11, projection
  16) become symmetric int8 per tensor, all of them or none: if any of them has
  fewer than 1024 elements the op stays float (a hybrid LSTM reads every weight
  as int8; TensorFlow never quantizes an LSTM partially).  The hybrid kernel
  then quantizes the activations per row, asymmetrically as TensorFlow sets it.
- Full integer (int8): TFLite's 8x8->16 integer LSTM: int8 input, output and
  output (hidden) state with the output's calibrated parameters, int8 weights
  per tensor, int32 biases in the input x input-weight scale, an int16 cell
  state whose scale is the power of two that covers the calibrated cell range
  (2**(ceil(log2(max|c|)) - 15)), and the five intermediate tensors: the four
  gate intermediates stay float and unquantized (they only matter with layer
  normalization), the fifth carries the hidden state's parameters.
  The cell range is not a tensor of the float graph (the op keeps it inside),
  so calibration recomputes the cell over every time step with a float
  reference of the cell in numpy (`cell_range`), as TensorFlow's calibrator
  logs it from inside its float LSTM kernel.
- 16x8: LiteRT has no int16-activation UNIDIRECTIONAL_SEQUENCE_LSTM, so the op
  stays float in a 16x8 model (between DEQUANTIZE and QUANTIZE).

Only the layout Keras layers produce is made integer (no peepholes, projection
or layer normalization, tanh activation); any other LSTM stays float.
"""
from __future__ import annotations

import math

import numpy as np

from ...kernels._base import exact_matmul

NAME = "UNIDIRECTIONAL_SEQUENCE_LSTM"
INPUT_WEIGHTS = (1, 2, 3, 4)          # input_to_{input, forget, cell, output}
RECURRENT_WEIGHTS = (5, 6, 7, 8)
PEEPHOLES = (9, 10, 11)
BIASES = (12, 13, 14, 15)
PROJECTION = (16, 17)
H_STATE, C_STATE = 18, 19
LAYER_NORM = (20, 21, 22, 23)
DYNAMIC_WEIGHTS = INPUT_WEIGHTS + RECURRENT_WEIGHTS + PEEPHOLES + (16,)
# The integer kernel's tanh takes the cell with at most 6 integer bits (scale <= 2**-9).
MAX_CELL_INT_BITS = 6
_ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT", 6: "SIGMOID"}


def activation(op) -> str:
    act = (op.builtin_options or {}).get("fused_activation_function", "TANH")
    return act if isinstance(act, str) else _ACTIVATIONS.get(int(act), str(act))


def _input(op, j):
    return op.inputs[j] if j < len(op.inputs) else -1


def float_cell_layout(model, op):
    """The float weights of a Keras-style LSTM (no peepholes, projection or layer
    norm, batch- or time-major) as a dict, or None for any other layout."""
    sg = model.subgraphs[0]
    if any(_input(op, j) >= 0 for j in PEEPHOLES + PROJECTION + LAYER_NORM):
        return None
    arrays = {}
    for j in INPUT_WEIGHTS + RECURRENT_WEIGHTS + BIASES:
        i = _input(op, j)
        if i < 0:
            continue
        a = model.buffer_array(sg.tensors[i])
        if a is None or a.dtype != np.float32:
            return None
        arrays[j] = a
    cifg = 1 not in arrays
    need = [2, 3, 4, 6, 7, 8, 13, 14, 15] + ([] if cifg else [1, 5, 12])
    if any(j not in arrays for j in need) or (cifg and (5 in arrays or 12 in arrays)):
        return None
    return arrays


def cell_range(model, op, x) -> tuple[float, float] | None:
    """(min, max) of the cell state over every step of the float LSTM on input x
    (zero initial states, as the stateless lowering starts every invoke)."""
    w = float_cell_layout(model, op)
    act = activation(op)
    if w is None or act not in ("TANH", "RELU", "RELU6"):
        return None
    opts = op.builtin_options or {}
    x = np.asarray(x, np.float32)
    if x.ndim != 3:
        return None
    if opts.get("time_major"):
        x = x.transpose(1, 0, 2)
    f = {"TANH": np.tanh, "RELU": lambda v: np.maximum(v, 0), "RELU6": lambda v: np.clip(v, 0, 6)}[act]
    clip = float(opts.get("cell_clip", 0.0) or 0.0)
    batch, steps = x.shape[:2]
    n_cell = w[8].shape[0]
    h = np.zeros((batch, w[8].shape[1]), np.float32)
    c = np.zeros((batch, n_cell), np.float32)
    lo, hi = np.inf, -np.inf

    def sigmoid(v):
        return 1.0 / (1.0 + np.exp(-v))

    for t in range(steps):
        xt = x[:, t]

        def gate(k):
            # Products rounded once from float64: the range must not depend on the BLAS kernel.
            return (exact_matmul(xt, w[INPUT_WEIGHTS[k]].T) + exact_matmul(h, w[RECURRENT_WEIGHTS[k]].T)
                    + w[BIASES[k]])

        fg = sigmoid(gate(1))
        ig = 1.0 - fg if 1 not in w else sigmoid(gate(0))
        c = fg * c + ig * f(gate(2))
        if clip > 0:
            c = np.clip(c, -clip, clip)
        h = sigmoid(gate(3)) * f(c)
        lo, hi = min(lo, float(c.min())), max(hi, float(c.max()))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return lo, hi


def cell_scale(lo: float, hi: float) -> float | None:
    """The int16 cell state's power-of-two scale for a calibrated range, or None when the
    range needs more integer bits than the integer kernel's tanh takes."""
    amax = max(abs(lo), abs(hi))
    # A (nearly) constant-zero cell still gets a usable scale; at least 0 integer bits
    # keeps the kernel's fixed-point tanh in its tested range.
    bits = max(0, math.ceil(math.log2(amax))) if amax > 0 else 0
    if bits > MAX_CELL_INT_BITS:
        return None
    return 2.0 ** (bits - 15)


def state_source(model, op_index, slot):
    """How LSTM op `op_index` gets its state input `slot`: ("variable", None) for a
    producer-less variable, ("fill", fill op index) for a FILL of zeros, or None when
    the state is anything else or read by another op too."""
    sg = model.subgraphs[0]
    op = sg.operators[op_index]
    i = _input(op, slot)
    if i < 0 or i in sg.inputs or i in sg.outputs:
        return None
    readers = [k for k, o in enumerate(sg.operators) if i in o.inputs]
    if readers != [op_index]:
        return None
    producers = [k for k, o in enumerate(sg.operators) if i in o.outputs]
    if not producers:
        return ("variable", None) if sg.tensors[i].is_variable else None
    k = producers[0]
    fill = sg.operators[k]
    if model.op_name(fill) != "FILL" or len(fill.inputs) < 2:
        return None
    value = model.buffer_array(sg.tensors[fill.inputs[1]])
    if value is None or value.size != 1 or float(value.reshape(-1)[0]) != 0.0:
        return None
    return ("fill", k)


def dynamic_weights(model, sg, op, min_elements):
    """The weight inputs a dynamic-range LSTM (op of subgraph sg) quantizes, or [] when it stays
    float (some weight below `min_elements`, or weights that are not float constants)."""
    present = [j for j in DYNAMIC_WEIGHTS if _input(op, j) >= 0]
    if not present or sg.tensors[op.inputs[0]].type != 0:
        return []
    for j in present:
        t = sg.tensors[op.inputs[j]]
        a = model.buffer_array(t)
        if a is None or a.dtype != np.float32 or a.size < min_elements:
            return []
    return present
