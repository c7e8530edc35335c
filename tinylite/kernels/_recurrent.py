"""Shared machinery of the recurrent kernels: the LSTM cell (float, hybrid and
integer, as TFLite's lstm_eval defines them), the sequence loop over time and
the basic RNN step.

An LSTM op names its tensors by position; `LstmCell` gathers one direction's
weights from a table of positions (`UNI_LSTM`, `BIDI_FW`, `BIDI_BW`) and runs
one time step on a batch: gates i, f, c (the candidate, "g") and o.

TFLite quirks kept on purpose:
- the cell activation is the op's fused activation (TANH usually); NONE leaves
  the candidate un-activated, and the hidden state is then o * g (the output
  activation writes nothing, so its scratch keeps the candidate),
- with no input gate weights (CIFG) the input gate is 1 - f,
- peepholes on i and f see the previous cell state, on o the new one,
- layer norm normalizes each gate's pre-activation (epsilon 1e-8 on the
  variance), scales by its coefficients and only then adds the bias.
"""
from __future__ import annotations

import numpy as np

from ..flatbuffer.schema import ACTIVATION_NAMES


GATES = ("i", "f", "c", "o")

# Positions of one direction's tensors in the op's inputs.
UNI_LSTM = dict(
    wx=(1, 2, 3, 4), wh=(5, 6, 7, 8), peep=(9, 10, 11), bias=(12, 13, 14, 15), proj=16, proj_bias=17,
    h=18, c=19, ln=(20, 21, 22, 23), aux=None)
BIDI_FW = dict(
    wx=(1, 2, 3, 4), wh=(5, 6, 7, 8), peep=(9, 10, 11), bias=(12, 13, 14, 15), proj=16, proj_bias=17,
    h=35, c=36, ln=None, aux=(40, 41, 42, 43))
BIDI_BW = dict(
    wx=(18, 19, 20, 21), wh=(22, 23, 24, 25), peep=(26, 27, 28), bias=(29, 30, 31, 32), proj=33, proj_bias=34,
    h=37, c=38, ln=None, aux=(44, 45, 46, 47))


def _opt(node, i):
    return node.inputs[i] if i is not None and node.has_input(i) else None


def sigmoid(x):
    return np.float32(1) / (np.float32(1) + np.exp(-x))


def apply_activation(code, x):
    """TFLite's ApplyActivationToVector on float32; None for NONE (the caller's
    buffer keeps what it held)."""
    name = ACTIVATION_NAMES.get(code, "NONE")
    if name == "NONE":
        return None
    if name == "RELU":
        return np.maximum(x, np.float32(0))
    if name == "RELU_N1_TO_1":
        return np.clip(x, np.float32(-1), np.float32(1))
    if name == "RELU6":
        return np.clip(x, np.float32(0), np.float32(6))
    if name == "TANH":
        return np.tanh(x)
    if name == "SIGN_BIT":
        return np.signbit(x).astype(np.float32)
    raise ValueError(f"unknown activation code {code}")


def layer_norm(x, coeff, bias):
    mean = x.mean(axis=-1, keepdims=True, dtype=np.float32)
    diff = x - mean
    var = (diff * diff).mean(axis=-1, keepdims=True, dtype=np.float32)
    return diff / np.sqrt(var + np.float32(1e-8)) * coeff + bias


class LstmCell:
    """One direction of an LSTM: weights gathered from `node` by a position table."""

    def __init__(self, node, table, n_input, aux_input=None):
        self.node = node
        opt = lambda i: _opt(node, i)   # noqa: E731
        wx = [opt(i) for i in table["wx"]]
        wh = [opt(i) for i in table["wh"]]
        if any(w is None for w in wx[1:] + wh[1:]):
            node.fail("the forget, cell and output gates need input and recurrent weights")
        self.cifg = wx[0] is None
        if self.cifg != (wh[0] is None):
            node.fail("input_to_input and recurrent_to_input weights must be both present or both absent (CIFG)")
        self.n_cell = wx[1].shape[0]
        if len(wh[1].shape) != 2:
            node.fail(f"recurrent weights must be 2-D, got {list(wh[1].shape)}")
        self.n_output = wh[1].shape[1]
        gates = GATES[1:] if self.cifg else GATES
        self.gates = gates
        specs_x = wx[1:] if self.cifg else wx
        specs_h = wh[1:] if self.cifg else wh
        for s in specs_x:
            if tuple(s.shape) != (self.n_cell, n_input):
                node.fail(f"input weights {s.name!r} have shape {list(s.shape)}, expected [{self.n_cell}, {n_input}]")
        for s in specs_h:
            if tuple(s.shape) != (self.n_cell, self.n_output):
                node.fail(f"recurrent weights {s.name!r} have shape {list(s.shape)}, "
                          f"expected [{self.n_cell}, {self.n_output}]")
        peep = [opt(i) for i in table["peep"]]
        self.peephole = peep[2] is not None
        if self.peephole and (peep[1] is None or (peep[0] is None) != self.cifg):
            node.fail("peephole weights: cell_to_forget and cell_to_output are needed, and cell_to_input exactly "
                      "when the input gate exists")
        bias = [opt(i) for i in table["bias"]]
        if any(b is None for b in bias[1:]) or (bias[0] is None) != self.cifg:
            node.fail("gate biases: forget, cell and output are needed, and input exactly when the input gate exists")
        ln = [opt(i) for i in table["ln"]] if table["ln"] else [None] * 4
        self.layer_norm = ln[1] is not None
        if self.layer_norm and (any(s is None for s in ln[1:]) or (ln[0] is None) != self.cifg):
            node.fail("layer norm coefficients must be given for every gate that exists")
        self.proj = opt(table["proj"])
        self.proj_bias = opt(table["proj_bias"])
        if self.proj is None and self.n_output != self.n_cell:
            node.fail(f"without projection weights the output size ({self.n_output}) must equal the number of "
                      f"cells ({self.n_cell})")
        if self.proj is not None and tuple(self.proj.shape) != (self.n_output, self.n_cell):
            node.fail(f"projection weights have shape {list(self.proj.shape)}, expected "
                      f"[{self.n_output}, {self.n_cell}]")
        aux = [opt(i) for i in table["aux"]] if table.get("aux") and aux_input is not None else None
        if aux is not None and all(a is None for a in aux):
            aux = None
        self.h_spec, self.c_spec = opt(table["h"]), opt(table["c"])
        for s, what in ((self.h_spec, "output (activation) state"), (self.c_spec, "cell state")):
            if s is None:
                node.fail(f"the {what} input is missing")
            if not s.is_variable:
                node.fail(f"the {what} {s.name!r} must be a variable tensor (is_variable), as TFLite requires")
        self.activation = node.options.get("fused_activation_function", 0)
        self.cell_clip = np.float32(node.options.get("cell_clip", 0.0) or 0.0)
        self.proj_clip = np.float32(node.options.get("proj_clip", 0.0) or 0.0)
        self.specs = dict(wx=dict(zip(GATES, wx)), wh=dict(zip(GATES, wh)), peep=dict(zip(("i", "f", "o"), peep)),
                          bias=dict(zip(GATES, bias)), ln=dict(zip(GATES, ln)),
                          aux=None if aux is None else dict(zip(GATES, aux)))
        self.hybrid = wx[1].dtype != np.float32
        for s in self.all_specs():
            if s.data is None:
                node.fail(f"weight tensor {s.name!r} must be a constant")
        if self.hybrid:
            self._prepare_hybrid()
        else:
            for s in self.all_specs():
                node.expect_dtype(s, np.float32)
            self._prepare_float()

    def all_specs(self):
        sp = self.specs
        out = [sp["wx"][g] for g in self.gates] + [sp["wh"][g] for g in self.gates]
        out += [s for s in sp["peep"].values() if s is not None]
        out += [s for s in sp["bias"].values() if s is not None]
        out += [s for s in sp["ln"].values() if s is not None]
        if sp["aux"] is not None:
            out += [sp["aux"][g] for g in self.gates]
        out += [s for s in (self.proj, self.proj_bias) if s is not None]
        return out

    def check_states(self, n_batch):
        for s, n, what in ((self.h_spec, self.n_output, "output state"), (self.c_spec, self.n_cell, "cell state")):
            if s.size != n_batch * n:
                self.node.fail(f"the {what} {s.name!r} has {s.size} elements ({list(s.shape)}), expected batch "
                               f"{n_batch} x {n}; LiteRT does not resize variable tensors either")

    # -- float --

    def _prepare_float(self):
        sp = self.specs
        g = self.gates
        f32 = lambda s: np.asarray(s.data, np.float32)   # noqa: E731
        self.wx_t = np.ascontiguousarray(np.concatenate([f32(sp["wx"][k]) for k in g]).T)
        self.wh_t = np.ascontiguousarray(np.concatenate([f32(sp["wh"][k]) for k in g]).T)
        self.aux_t = None
        if sp["aux"] is not None:
            self.aux_t = np.ascontiguousarray(np.concatenate([f32(sp["aux"][k]) for k in g]).T)
        self.bias = {k: f32(sp["bias"][k]) for k in g}
        self.peep = {k: f32(s) for k, s in sp["peep"].items() if s is not None}
        self.ln = {k: f32(s) for k, s in sp["ln"].items() if s is not None}
        self.proj_t = None if self.proj is None else np.ascontiguousarray(f32(self.proj).T)
        self.proj_b = None if self.proj_bias is None else f32(self.proj_bias)

    def _gate_inputs_float(self, x, h, aux):
        matmul = self.node.matmul()
        acc = matmul(x, self.wx_t)
        if aux is not None and self.aux_t is not None:
            acc += matmul(aux, self.aux_t)
        acc += matmul(h, self.wh_t)
        return dict(zip(self.gates, np.split(acc, len(self.gates), axis=1)))

    def step(self, x, h, c, aux=None):
        """One time step: x [batch, n_input]; h, c updated in place; returns the output [batch, n_output]."""
        pre = self._gate_inputs_hybrid(x, h, c, aux) if self.hybrid else self._gate_inputs_float(x, h, aux)
        return self._finish(pre, h, c)

    def _peephole(self, k, c):
        w = self.peep.get(k)
        return 0 if w is None else w * c

    def _gate(self, k, pre, c_for_peephole):
        v = pre[k]
        if self.peephole and k != "c":
            v = v + self._peephole(k, c_for_peephole)
        if self.layer_norm:
            return layer_norm(v, self.ln[k], self.bias[k])
        return v + self.bias[k]

    def _finish(self, pre, h, c):
        f = sigmoid(self._gate("f", pre, c))
        i = None if self.cifg else sigmoid(self._gate("i", pre, c))
        g = self._gate("c", pre, c)
        act_g = apply_activation(self.activation, g)
        if act_g is not None:
            g = act_g
        c_new = f * c + (np.float32(1) - f if i is None else i) * g
        if self.cell_clip > 0:
            np.clip(c_new, -self.cell_clip, self.cell_clip, out=c_new)
        o = sigmoid(self._gate("o", pre, c_new))
        act_c = apply_activation(self.activation, c_new)
        hidden = o * (g if act_c is None else act_c)
        out = self._project(hidden)
        c[...] = c_new
        h[...] = out
        return out

    def _project(self, hidden):
        if self.proj is None:
            return hidden
        if self.hybrid:
            out = self._hybrid_matmul(hidden, self.q_proj)
        else:
            out = self.node.matmul()(hidden, self.proj_t)
        if self.proj_b is not None:
            out = out + self.proj_b
        if self.proj_clip > 0:
            np.clip(out, -self.proj_clip, self.proj_clip, out=out)
        return out

    # -- hybrid (float activations, int8 weights) --

    def _prepare_hybrid(self):
        from ._quantization import _is_quantized

        sp = self.specs
        node = self.node
        self.asym = bool(node.options.get("asymmetric_quantize_inputs"))

        def quant(s):
            if s.dtype != np.int8 or not _is_quantized(s):
                from ._quantization import _unsupported

                _unsupported(node, f"hybrid LSTM needs int8 weights with a scale; {s.name!r} is {s.dtype.name}")
            scales = np.asarray(s.quantization.scale, np.float32).reshape(-1)
            w = s.data.astype(np.float64)
            return dict(wt=np.ascontiguousarray(w.T), scale=scales, row_sums=s.data.astype(np.int64).sum(axis=1))

        self.q_x = {k: quant(sp["wx"][k]) for k in self.gates}
        self.q_h = {k: quant(sp["wh"][k]) for k in self.gates}
        self.q_aux = None if sp["aux"] is None else {k: quant(sp["aux"][k]) for k in self.gates}
        f32 = lambda s: np.asarray(s.data, np.float32)   # noqa: E731
        self.bias = {k: f32(sp["bias"][k]) for k in self.gates}
        self.ln = {k: f32(s) for k, s in sp["ln"].items() if s is not None}
        # Peephole weights are int8 too: TFLite multiplies them by their scale in float32.
        self.peep = {}
        for k, s in sp["peep"].items():
            if s is None:
                continue
            if s.dtype == np.float32:
                self.peep[k] = f32(s)
            else:
                self.peep[k] = (s.data.astype(np.float32) * np.float32(s.quantization.scale[0])).astype(np.float32)
        self.q_proj = None if self.proj is None else quant(self.proj)
        self.proj_b = None if self.proj_bias is None else f32(self.proj_bias)

    def _quantize_rows(self, rows):
        from ._quantization import _asymmetric_quantize_rows, _symmetric_quantize_rows

        return (_asymmetric_quantize_rows if self.asym else _symmetric_quantize_rows)(rows)

    def _hybrid_matmul(self, rows, q, quantized=None):
        qv, sf, zp = self._quantize_rows(rows) if quantized is None else quantized
        acc = np.rint(qv.astype(np.float64) @ q["wt"]).astype(np.int64)
        if self.asym:
            acc -= q["row_sums"][None, :] * zp[:, None]
        scale = (sf[:, None] * q["scale"][None, :]).astype(np.float32)
        return acc.astype(np.float32) * scale

    def _gate_inputs_hybrid(self, x, h, c, aux):
        pre = {k: np.zeros((x.shape[0], self.n_cell), np.float32) for k in self.gates}
        # TFLite skips the products of an all-zero input or state; the result is the same.
        for rows, weights in ((x, self.q_x), (aux, self.q_aux), (h, self.q_h)):
            if rows is None or weights is None or not rows.any():
                continue
            quantized = self._quantize_rows(rows)
            for k in self.gates:
                pre[k] += self._hybrid_matmul(rows, weights[k], quantized)
        return pre


def time_major_view(x, time_major):
    """[time, batch, ...] view of a sequence tensor."""
    return x if time_major else np.swapaxes(x, 0, 1)


class RnnCell:
    """The basic RNN step of RNN / UNIDIRECTIONAL_SEQUENCE_RNN: h = act(W x + R h + b)."""

    def __init__(self, node, n_input, n_batch, w, r, b, h, aux=None, n_aux=0):
        """``aux``: the position of auxiliary input weights [units, n_aux] (BIDIRECTIONAL_SEQUENCE_RNN)."""
        self.node = node
        ws, rs, bs, hs = (node.inputs[i] for i in (w, r, b, h))
        if len(ws.shape) != 2 or ws.shape[1] != n_input:
            node.fail(f"input weights have shape {list(ws.shape)}, expected [units, {n_input}]")
        self.units = ws.shape[0]
        if tuple(rs.shape) != (self.units, self.units):
            node.fail(f"recurrent weights have shape {list(rs.shape)}, expected [{self.units}, {self.units}]")
        if bs.size != self.units:
            node.fail(f"bias has {bs.size} elements, expected {self.units}")
        if not hs.is_variable:
            node.fail(f"the hidden state {hs.name!r} must be a variable tensor (is_variable), as TFLite requires")
        if hs.size != n_batch * self.units:
            node.fail(f"the hidden state {hs.name!r} has shape {list(hs.shape)}, expected [{n_batch}, {self.units}]; "
                      "LiteRT does not resize variable tensors either")
        for s in (ws, rs, bs):
            if s.data is None:
                node.fail(f"weight tensor {s.name!r} must be a constant")
        node.expect_dtype(bs, np.float32)
        self.activation = node.options.get("fused_activation_function", 0)
        self.bias = np.asarray(bs.data, np.float32)
        mats = [ws, rs]
        if aux is not None:
            a = node.inputs[aux]
            if len(a.shape) != 2 or tuple(a.shape) != (self.units, n_aux) or a.data is None:
                node.fail(f"aux input weights {a.name!r} must be a constant of shape [{self.units}, {n_aux}], "
                          f"got {list(a.shape)}")
            if a.dtype != ws.dtype:
                node.fail(f"aux input weights are {a.dtype.name}, the input weights {ws.dtype.name}")
            mats.append(a)
        self.hybrid = ws.dtype != np.float32
        if self.hybrid:
            from ._quantization import _is_quantized, _unsupported

            for s in mats:
                if s.dtype != np.int8 or not _is_quantized(s):
                    _unsupported(node, f"hybrid RNN needs int8 weights with a scale; {s.name!r} is {s.dtype.name}")
            self.asym = bool(node.options.get("asymmetric_quantize_inputs"))
            self.q = [dict(wt=s.data.astype(np.float64).T, scale=np.float32(s.quantization.scale[0]),
                           row_sums=s.data.astype(np.int64).sum(axis=1)) for s in mats]
        else:
            for s in mats:
                node.expect_dtype(s, np.float32)
            self.w_t = np.ascontiguousarray(np.asarray(ws.data, np.float32).T)
            self.r_t = np.ascontiguousarray(np.asarray(rs.data, np.float32).T)
            self.a_t = np.ascontiguousarray(np.asarray(mats[2].data, np.float32).T) if aux is not None else None

    def _hybrid(self, rows, q):
        from ._quantization import _asymmetric_quantize_rows, _symmetric_quantize_rows

        if not rows.any():
            return 0
        qv, sf, zp = (_asymmetric_quantize_rows if self.asym else _symmetric_quantize_rows)(rows)
        acc = np.rint(qv.astype(np.float64) @ q["wt"]).astype(np.int64)
        if self.asym:
            acc -= q["row_sums"][None, :] * zp[:, None]
        return acc.astype(np.float32) * (sf * q["scale"]).astype(np.float32)[:, None]

    def step(self, x, h, aux=None):
        """One step; ``aux`` (the auxiliary input's rows) adds its own product after the input's,
        before the recurrent one, as LiteRT's RnnBatchStep does."""
        if self.hybrid:
            out = self.bias + self._hybrid(x, self.q[0])
            if aux is not None:
                out = out + self._hybrid(aux, self.q[2])
            out = out + self._hybrid(h, self.q[1])
        elif aux is not None:
            matmul = self.node.matmul()
            out = self.bias + matmul(x, self.w_t) + matmul(aux, self.a_t) + matmul(h, self.r_t)
        else:
            matmul = self.node.matmul()
            out = matmul(x, self.w_t) + matmul(h, self.r_t) + self.bias
        act = apply_activation(self.activation, out)
        out = out if act is None else act
        h[...] = out
        return out
