"""The integer LSTM cell (int8 activations and weights, int16 cell state) of
UNIDIRECTIONAL_SEQUENCE_LSTM and LSTM, as TFLite's lstm_eval 8x8->16 path
(EvalInteger8x8_16) defines it.

Each gate is an int16 Q3.12 value: the input and recurrent products are each
requantized (gemmlowp double rounding) and added with int16 saturation, the
peephole product likewise; with layer norm the gate is normalized in integer
arithmetic (inverse square root by Newton-Raphson) and its bias added there,
and the intermediates 0-3 give the pre-norm gate scales.  Sigmoid and tanh are
gemmlowp's 16-bit fixed-point functions; the cell update multiplies with
rounding shifts (15 for f * c, 30 + cell_scale for i * g; CIFG uses
32767 - f), adds with saturation and clips; the hidden state is o * tanh(c)
requantized to intermediate 4's scale (2**-30 / its scale), then projected.
This is the reference kernel of both ops; the optimized one (all gates per
call, for cells without peepholes or layer norm) is
kernels/optimized/_integer_lstm.py.

Which LiteRT kernel is followed: LiteRT's x86 build runs these integer tensor
utilities on its portable (reference) code; only the peephole accumulation has
a NEON version (through NEON_2_SSE), which rounds the same way.  Kept on
purpose, as LiteRT 2.3 does them:
- the peephole product walks the gate and cell buffers with a stride of
  n_output, not n_cell (they differ only with a projection): batch-major
  inputs run one batch row at a time, so only the first n_output cells of
  each row get it; time-major inputs (and LSTM) see the batch as one flat
  buffer,
- with a projection the hidden state is stored with the *negated* hidden zero
  point, and the projection bias adds hidden_zp * row sums to match,
- without a projection intermediate 4 still sets the output's scale and zero
  point.
"""
from __future__ import annotations

import math

import numpy as np

from . import _fixedpoint as fx
from ._recurrent import GATES, LstmCell, time_major_view, UNI_LSTM
from ._base import OpDataBase, op_data


@op_data
class IntegerLstmData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    cell: IntegerLstmCell | LstmCell = None
    time_major: bool = None


_INPUTS = dict(zip(GATES, UNI_LSTM["wx"]))
_RECURRENT = dict(zip(GATES, UNI_LSTM["wh"]))
_PEEPHOLE = dict(zip(("i", "f", "o"), UNI_LSTM["peep"]))
_BIAS = dict(zip(GATES, UNI_LSTM["bias"]))
_LAYER_NORM = dict(zip(GATES, UNI_LSTM["ln"]))
_INTERMEDIATE = dict(zip(GATES, range(4)))


def _f32(x):
    return np.float32(x)


def _checked_log2(x, node, what):
    """TFLite's CheckedLog2: the scale must be a power of two (to 1e-3 in the exponent)."""
    if x <= 0:
        node.fail(f"the {what} scale must be positive, got {x}")
    log = math.log2(x)
    rounded = round(log)
    if abs(log - rounded) >= 1e-3:
        node.fail(f"the {what} scale must be a power of two for the integer LSTM, got {x}")
    return int(rounded)


class IntegerLstmCell:
    """The 8x8->16 integer LSTM of one UNIDIRECTIONAL_SEQUENCE_LSTM / LSTM node."""

    def __init__(self, node, n_input, per_row_peephole):
        from ._quantization import _is_quantized, _unsupported

        self.node = node
        opt = lambda i: node.inputs[i] if node.has_input(i) else None   # noqa: E731
        x = node.inputs[0]
        if len(node.intermediates) == 12:
            _unsupported(node, "the 8x8->8 integer LSTM (12 intermediate tensors) is not implemented; "
                               "the 8x8->16 one (5 intermediates) is")
        if len(node.intermediates) != 5:
            node.fail(f"an integer LSTM needs 5 intermediate tensors (the gate and hidden scales), "
                      f"got {len(node.intermediates)}; convert the model with the TFLite converter's "
                      "full-integer quantization")
        wx = {k: opt(i) for k, i in _INPUTS.items()}
        wh = {k: opt(i) for k, i in _RECURRENT.items()}
        self.cifg = wx["i"] is None
        if any(wx[k] is None or wh[k] is None for k in "fco") or (wh["i"] is None) != self.cifg:
            node.fail("the forget, cell and output gates need input and recurrent weights, and the input gate "
                      "both or neither (CIFG)")
        self.gates = GATES[1:] if self.cifg else GATES
        self.n_cell = wx["o"].shape[0]
        if len(wh["o"].shape) != 2:
            node.fail(f"recurrent weights must be 2-D, got {list(wh['o'].shape)}")
        self.n_output = wh["o"].shape[1]
        n_cell, n_output = self.n_cell, self.n_output
        for k in self.gates:
            for s, cols in ((wx[k], n_input), (wh[k], n_output)):
                if tuple(s.shape) != (n_cell, cols):
                    node.fail(f"weights {s.name!r} have shape {list(s.shape)}, expected [{n_cell}, {cols}]")
        peep = {k: opt(i) for k, i in _PEEPHOLE.items()}
        self.peephole = peep["o"] is not None
        if self.peephole and (peep["f"] is None or (peep["i"] is None) != self.cifg):
            node.fail("peephole weights: cell_to_forget and cell_to_output are needed, and cell_to_input exactly "
                      "when the input gate exists")
        if not self.peephole and any(v is not None for v in peep.values()):
            node.fail("peephole weights must be given for every gate that exists, or for none")
        bias = {k: opt(i) for k, i in _BIAS.items()}
        if any(bias[k] is None for k in "fco") or (bias["i"] is None) != self.cifg:
            node.fail("gate biases: forget, cell and output are needed, and input exactly when the input gate exists")
        ln = {k: opt(i) for k, i in _LAYER_NORM.items()} if len(node.inputs) == 24 else dict.fromkeys(GATES)
        self.layer_norm = ln["f"] is not None
        if self.layer_norm and (any(ln[k] is None for k in "co") or (ln["i"] is None) != self.cifg):
            node.fail("layer norm coefficients must be given for every gate that exists")
        proj, proj_bias = opt(16), opt(17)
        if proj is None and proj_bias is not None:
            node.fail("a projection bias needs projection weights")
        if proj is None and n_output != n_cell:
            node.fail(f"without projection weights the output size ({n_output}) must equal the number of "
                      f"cells ({n_cell})")
        if proj is not None and tuple(proj.shape) != (n_output, n_cell):
            node.fail(f"projection weights have shape {list(proj.shape)}, expected [{n_output}, {n_cell}]")
        if self.peephole and n_output > n_cell:
            # LiteRT walks the peephole buffers n_output at a time and would read past them.
            _unsupported(node, "peephole weights with a projection wider than the cell are not supported "
                               "(LiteRT reads past its buffers there)")
        h, c = opt(18), opt(19)
        for s, what in ((h, "output (activation) state"), (c, "cell state")):
            if s is None or not s.is_variable:
                node.fail(f"the {what} must be a variable tensor (is_variable), as TFLite requires")

        # Types, as LiteRT's CheckInputTensorDimensions and Prepare require them.
        def need(spec, dtype, what):
            if spec.dtype != np.dtype(dtype):
                _unsupported(node, f"{what} {spec.name!r} is {spec.dtype.name}; the integer LSTM needs "
                                   f"{np.dtype(dtype).name}")
            if spec.data is None and not spec.is_variable:
                node.fail(f"{what} {spec.name!r} must be a constant")

        weights = [wx[k] for k in self.gates] + [wh[k] for k in self.gates] + ([proj] if proj is not None else [])
        for s in weights:
            need(s, np.int8, "weight tensor")
        for k in self.gates:
            need(bias[k], np.int32, "gate bias")
            if self.peephole and k != "c":
                need(peep[k], np.int16, "peephole weight")
            if self.layer_norm:
                need(ln[k], np.int16, "layer norm coefficient")
        if proj_bias is not None:
            need(proj_bias, np.int32, "projection bias")
        need(h, np.int8, "output state")
        need(c, np.int16, "cell state")
        out = node.outputs[0]
        for s in [x, h, c, out] + weights + [peep[k] for k in self.gates if self.peephole and k != "c"] + \
                [ln[k] for k in self.gates if self.layer_norm]:
            if not _is_quantized(s):
                node.fail(f"tensor {s.name!r} has no quantization parameters")
            if len(s.quantization.scale) != 1:
                _unsupported(node, f"tensor {s.name!r} is quantized per channel; the integer LSTM takes "
                                   "per-tensor scales")
        inter = node.intermediates
        if inter[4] is None or not _is_quantized(inter[4]):
            node.fail("intermediate tensor 4 (the hidden state's scale) has no quantization parameters")
        if self.layer_norm:
            # LiteRT reads all four gate scales, the input gate's too under CIFG (and runs nothing
            # when one is missing).
            for k in GATES:
                s = inter[_INTERMEDIATE[k]]
                if s is None or not _is_quantized(s):
                    node.fail(f"with layer norm, intermediate tensor {_INTERMEDIATE[k]} (the {k} gate's scale) "
                              "needs quantization parameters, even for a CIFG LSTM")

        # Scales, in float32 as TFLite's PopulateQuantizedLstmParams8x8_16 forms them.
        cell_scale = _checked_log2(c.scale, node, "cell state")
        if not 0 <= 15 + cell_scale <= 6:
            # TFLite's ApplyTanh dispatches 0..6 integer bits and silently writes nothing otherwise.
            _unsupported(node, f"the cell state scale 2**{cell_scale} is outside what TFLite's integer tanh "
                               "handles (2**-15 .. 2**-9)")
        self.cell_scale = cell_scale
        gate_scale = {k: _f32(inter[_INTERMEDIATE[k]].scale) if self.layer_norm else _f32(2.0 ** -12)
                      for k in self.gates}
        hidden_scale, self.hidden_zp = _f32(inter[4].scale), inter[4].zero_point
        in_scale, h_scale = _f32(x.scale), _f32(h.scale)
        self.input_zp, self.h_zp = x.zero_point, h.zero_point

        def mult(real):
            return fx.quantize_multiplier(float(real))

        self.x_mult = {k: mult(_f32(wx[k].scale) * in_scale / gate_scale[k]) for k in self.gates}
        self.h_mult = {k: mult(_f32(wh[k].scale) * h_scale / gate_scale[k]) for k in self.gates}
        self.peep_w, self.peep_mult = {}, {}
        if self.peephole:
            for k in self.gates:
                if k != "c":
                    self.peep_w[k] = peep[k].data.astype(np.int64)
                    self.peep_mult[k] = mult(_f32(2.0 ** cell_scale * float(_f32(peep[k].scale))
                                                  / float(gate_scale[k])))
        self.hidden_mult = mult(_f32(2.0 ** -15 / float(hidden_scale) * 2.0 ** -15))
        self.proj_mult = mult(_f32(proj.scale) * hidden_scale / h_scale) if proj is not None else None
        self.ln_w, self.ln_bias, self.ln_mult, self.ln_guard = {}, {}, {}, {}
        if self.layer_norm:
            for k in self.gates:
                s = _f32(ln[k].scale)
                self.ln_w[k] = ln[k].data.astype(np.int64)
                self.ln_bias[k] = bias[k].data.astype(np.int64)
                self.ln_mult[k] = mult(s)
                self.ln_guard[k] = max(1, int(_f32(10000) * s))

        cell_clip = _f32(node.options.get("cell_clip", 0.0) or 0.0)
        proj_clip = _f32(node.options.get("proj_clip", 0.0) or 0.0)
        self.cell_clip = int(np.clip(cell_clip / _f32(c.scale), -32768, 32767)) if cell_clip > 0 else 0
        self.proj_clip = int(np.clip(proj_clip / _f32(out.scale), -128, 127)) if proj_clip > 0 else 0

        # Weights as float64 matrices (exact integer products through BLAS) and the effective
        # biases: bias (unless layer norm adds it later) - zero point * row sums.
        def row_sums(s):
            return s.data.astype(np.int64).sum(axis=1)

        self.wx_t = {k: wx[k].data.astype(np.float64).T.copy() for k in self.gates}
        self.wh_t = {k: wh[k].data.astype(np.float64).T.copy() for k in self.gates}
        self.bias_x = {}
        self.bias_h = {}
        for k in self.gates:
            b = 0 if self.layer_norm else bias[k].data.astype(np.int64)
            self.bias_x[k] = fx.wrap32(b - self.input_zp * row_sums(wx[k]))
            self.bias_h[k] = fx.wrap32(-self.h_zp * row_sums(wh[k]))
        self.proj_t = None
        if proj is not None:
            self.proj_t = proj.data.astype(np.float64).T.copy()
            pb = 0 if proj_bias is None else proj_bias.data.astype(np.int64)
            self.proj_bias = fx.wrap32(pb + self.hidden_zp * row_sums(proj))
        self.per_row_peephole = per_row_peephole
        self.h_spec, self.c_spec = h, c

    def check_states(self, n_batch):
        for s, n, what in ((self.h_spec, self.n_output, "output state"), (self.c_spec, self.n_cell, "cell state")):
            if s.size != n_batch * n:
                self.node.fail(f"the {what} {s.name!r} has {s.size} elements ({list(s.shape)}), expected batch "
                               f"{n_batch} x {n}; LiteRT does not resize variable tensors either")

    # -- one step --

    @staticmethod
    def _accumulate(gate, rows, w_t, bias, mult):
        """MatrixBatchVectorMultiplyAccumulate int8 -> int16: requantize the product, add, saturate."""
        acc = fx.wrap32(np.rint(rows @ w_t).astype(np.int64) + bias)
        return fx.saturate16(fx.multiply_by_quantized_multiplier(acc, *mult) + gate)

    def _peephole_add(self, gate, k, c):
        w, mult = self.peep_w[k], self.peep_mult[k]
        n = self.n_output
        if self.per_row_peephole:
            gate = gate.copy()
            prod = fx.multiply_by_quantized_multiplier(w[:n] * c[:, :n], *mult)
            gate[:, :n] = fx.saturate16(prod + gate[:, :n])
            return gate
        flat_g, flat_c = gate.reshape(-1).copy(), c.reshape(-1)
        m = flat_g.size * n // self.n_cell
        prod = fx.multiply_by_quantized_multiplier(np.resize(w[:n], m) * flat_c[:m], *mult)
        flat_g[:m] = fx.saturate16(prod + flat_g[:m])
        return flat_g.reshape(gate.shape)

    def _layer_norm(self, gate, k):
        """TFLite's integer ApplyLayerNorm over each batch row (mean and variance scaled by 2**10)."""
        n = gate.shape[1]
        s = gate.sum(axis=1)
        sum_sq = (gate * gate).sum(axis=1)
        mean = fx.wrap32(_cdiv(s * 1024, n))
        variance = sum_sq * ((1 << 20) // n) - mean * mean
        variance2 = fx.wrap32(_cdiv(variance, 1 << 20))
        variance2 = np.where(variance2 < 1, self.ln_guard[k], variance2)
        inv_a, inv_b = fx.inv_sqrt_quantized_multiplier_exp(variance2, -1)
        shifted = fx.wrap32(1024 * gate - mean[:, None])
        rescaled = fx.multiply_by_quantized_multiplier(shifted, inv_a[:, None], inv_b[:, None])
        val3 = fx.wrap32(rescaled * self.ln_w[k] + self.ln_bias[k])
        val4 = fx.wrap32(_cdiv(np.where(val3 > 0, val3 + 512, val3 - 512), 1024))
        a, b = self.ln_mult[k]
        return fx.saturate16(fx.multiply_by_quantized_multiplier(val4, a, b + 12))

    def gate_inputs(self, xs):
        """The input products of every time step at once: xs [..., n_input] int8 -> per gate int16 [..., n_cell]."""
        rows = xs.astype(np.float64)
        return {k: self._accumulate(0, rows, self.wx_t[k], self.bias_x[k], self.x_mult[k]) for k in self.gates}

    def step(self, pre, h, c):
        """One step on a batch: pre = this step's gate_inputs; h (int8) and c (int16) updated in place."""
        hr = h.astype(np.float64)
        c_prev = c.astype(np.int64)

        def gate(k, c_peep, activation):
            g = self._accumulate(pre[k], hr, self.wh_t[k], self.bias_h[k], self.h_mult[k])
            if self.peephole and k != "c":
                g = self._peephole_add(g, k, c_peep)
            if self.layer_norm:
                g = self._layer_norm(g, k)
            return activation(g, 3)

        f = gate("f", c_prev, fx.logistic16_lut)
        i = None if self.cifg else gate("i", c_prev, fx.logistic16_lut)
        g = gate("c", None, fx.tanh16_lut)
        c_new = fx.wrap16(fx.rounding_divide_by_pot(f * c_prev, 15))
        i = fx.INT16_MAX - f if i is None else i
        c_new = fx.saturate16(c_new + fx.wrap16(fx.rounding_divide_by_pot(i * g, 30 + self.cell_scale)))
        if self.cell_clip > 0:
            c_new = np.clip(c_new, -self.cell_clip, self.cell_clip)
        o = gate("o", c_new, fx.logistic16_lut)
        t = fx.tanh16_lut(c_new, 15 + self.cell_scale)
        out = self.output(fx.multiply_by_quantized_multiplier(o * t, *self.hidden_mult))
        c[...] = c_new
        h[...] = out
        return out

    def output(self, prod):
        """The step's int8 output (the next h) from the rescaled o * tanh(c): plus the hidden zero
        point, or through the projection when there is one."""
        if self.proj_t is None:
            return np.clip(prod + self.hidden_zp, -128, 127)
        hidden = np.clip(prod - self.hidden_zp, -128, 127).astype(np.float64)
        acc = fx.wrap32(np.rint(hidden @ self.proj_t).astype(np.int64) + self.proj_bias)
        out = np.clip(fx.multiply_by_quantized_multiplier(acc, *self.proj_mult) + self.h_zp, -128, 127)
        if self.proj_clip > 0:
            out = np.clip(out, -self.proj_clip, self.proj_clip)
        return out


def _cdiv(a, b):
    """C's integer division (truncates toward zero) of int64 arrays by a positive int."""
    a = np.asarray(a, np.int64)
    q = np.abs(a) // b
    return np.where(a < 0, -q, q)


def prepare_integer_lstm(node):
    """Integer LSTM (int8 activations and weights, int16 cell state) for UNIDIRECTIONAL_SEQUENCE_LSTM
    and LSTM: validates, sets the output shape and returns the eval function (see _integer_lstm.py)."""
    d = node.draft(IntegerLstmData)
    from ._quantization import _unsupported

    x = node.inputs[0]
    if x.dtype != np.int8:
        _unsupported(node, f"the input is {x.dtype.name}; LSTMs run on float32 (float or hybrid) or int8 "
                           "(integer) inputs, as in LiteRT")
    sequence = node.op_name == "UNIDIRECTIONAL_SEQUENCE_LSTM"
    time_major = bool(node.options.get("time_major", False)) if sequence else True
    n_batch = (x.shape[1] if time_major else x.shape[0]) if sequence else x.shape[0]
    # LiteRT runs batch-major sequences one batch row at a time, which shows in the peephole quirk.
    cell = IntegerLstmCell(node, x.shape[-1], per_row_peephole=sequence and not time_major)
    cell.check_states(n_batch)
    out = node.outputs[-1]
    node.expect_dtype(out, np.int8)
    out.shape = tuple(x.shape[:-1]) + (cell.n_output,)
    if not sequence:
        for s in node.outputs[:-1]:
            s.shape = tuple(s.shape) if s.shape is not None else (0,)
    d.cell = cell
    d.time_major = time_major
    return eval_integer_lstm


def sequence_views(node, inputs, outputs):
    """(inputs [time, batch, input], outputs [time, batch, output], output state,
    cell state) of an integer LSTM's arrays, for UNIDIRECTIONAL_SEQUENCE_LSTM and LSTM."""
    data = node.data
    cell = data.cell
    x = inputs[0]
    xs = x[None] if x.ndim == 2 else time_major_view(x, data.time_major)
    out = outputs[-1]
    ys = out[None] if out.ndim == 2 else time_major_view(out, data.time_major)
    n_batch = xs.shape[1]
    return xs, ys, inputs[18].reshape(n_batch, cell.n_output), inputs[19].reshape(n_batch, cell.n_cell)


def eval_integer_lstm(node, inputs, outputs):
    cell = node.data.cell
    xs, ys, h, c = sequence_views(node, inputs, outputs)
    pre = cell.gate_inputs(xs)
    for t in range(xs.shape[0]):
        ys[t] = cell.step({k: v[t] for k, v in pre.items()}, h, c)
