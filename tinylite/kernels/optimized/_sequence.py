"""What the optimized recurrent kernels share: the float/hybrid LSTM and the
basic RNN over a whole sequence as bound numpy calls without per-step
allocations (FastLstmSequence: UNIDIRECTIONAL_SEQUENCE_LSTM, LSTM,
BIDIRECTIONAL_SEQUENCE_LSTM; FastRnnSequence: UNIDIRECTIONAL_SEQUENCE_RNN,
RNN, BIDIRECTIONAL_SEQUENCE_RNN).  The integer LSTM is _integer_lstm.py."""
from __future__ import annotations

from functools import partial

import numpy as np
from numpy._core.umath import clip as _clip

from .. import _recurrent
from ._hybrid import product_dtype, RowQuantizer

RNN_ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH")


def rnn_applies(rnn) -> bool:
    """FastRnnSequence runs this _recurrent.RnnCell (no auxiliary input, one of RNN_ACTIVATIONS)."""
    return _recurrent.ACTIVATION_NAMES.get(rnn.activation, "NONE") in RNN_ACTIVATIONS and \
        getattr(rnn, "a_t", None) is None and (not rnn.hybrid or len(rnn.q) == 2)


def rnn_arrays(inputs, outputs):
    """The arrays a basic RNN node's calls are bound to: input, output, state."""
    return inputs[0], outputs[-1], inputs[4]


def rnn_calls(node, inputs, x, y, time_major):
    """The bound calls of a basic RNN node: input x, output y (views of inputs[0] and
    outputs[-1]), state inputs[4]."""
    rnn = node.data.rnn
    n_batch = x.shape[1] if time_major else x.shape[0]
    return FastRnnSequence(rnn).calls(x, y, inputs[4].reshape(n_batch, rnn.units), time_major)


class FastLstmSequence:
    """A float or hybrid LSTM over a whole sequence as bound numpy calls,
    without per-step allocations, for every cell with TANH activation and no
    auxiliary input: CIFG, peepholes, layer norm, projection (with or without
    bias), cell and projection clipping.

    The input side of every step is one matrix product for the whole
    sequence (bias included unless layer norm adds it later); each step is
    then the recurrent product and in-place ufunc calls on buffers made once
    per set of arrays.  The gates are laid out (i, f, o, g) so that one
    sigmoid covers three of them, or (i, f, g, o) with peepholes (o sees the
    new cell state); layer norm normalizes every gate of a block in one set
    of calls over a [batch, gates, cells] view, with the reference's
    operations (sum / n, x - mean, mean of squares, + 1e-8, sqrt, divide,
    * coefficients, + bias).  The same arithmetic as LstmCell.step except
    where the bias is added without layer norm (x W + b, then + h R), which
    moves results by rounding only; tests compare the two.

    Hybrid cells (int8 weights, float activations) quantize the rows as
    LiteRT does (optimized._hybrid.RowQuantizer: the whole input sequence at
    once, the state once per step), take exact integer products and keep the
    reference's float32 operations in its order (x part + h part, then the
    bias): a last-bit difference there could move the next step's
    quantization.

    The sigmoid gates (i, f, o) are kept negated from the weights on (their
    weights, biases and peephole weights negated, layer norm's bias too):
    negation is exact and commutes with every sum and product, so the
    reference's sigmoid 1 / (1 + exp(-x)) then starts at the exp, one call
    fewer a step, with the same values.
    """

    @staticmethod
    def applies(cell) -> bool:
        return (cell.specs["aux"] is None
                and _recurrent.ACTIVATION_NAMES.get(cell.activation, "NONE") == "TANH")

    def __init__(self, cell):
        self.cell = cell
        gates = [k for k in (("i", "f", "c", "o") if cell.peephole else ("i", "f", "o", "c")) if k in cell.gates]
        self.gates = gates
        n = cell.n_cell
        sign = np.concatenate([np.full(n, 1 if k == "c" else -1, np.float32) for k in gates])
        if cell.hybrid:
            def side(q):
                w = np.concatenate([q[k]["wt"] for k in gates], axis=1) * sign
                scale = np.concatenate([np.broadcast_to(q[k]["scale"], (n,)) for k in gates]).astype(np.float32)
                return w.astype(product_dtype(w, 0)), scale
            (self.wx, self.wx_scale), (self.wh, self.wh_scale) = side(cell.q_x), side(cell.q_h)
            if cell.q_proj is not None:
                self.wp = cell.q_proj["wt"].astype(product_dtype(cell.q_proj["wt"], 0))
                self.wp_scale = np.broadcast_to(cell.q_proj["scale"], (cell.n_output,)).astype(np.float32)
        else:
            cols = np.concatenate([np.arange(cell.gates.index(k) * n, (cell.gates.index(k) + 1) * n)
                                   for k in gates])
            self.wx = np.ascontiguousarray(cell.wx_t[:, cols] * sign)
            self.wh = np.ascontiguousarray(cell.wh_t[:, cols] * sign)
        self.bias = np.concatenate([cell.bias[k] for k in gates]) * sign
        self.peep = {k: -v for k, v in cell.peep.items()}
        self.col = {k: slice(j * n, (j + 1) * n) for j, k in enumerate(gates)}
        self.ln = np.concatenate([cell.ln[k] for k in gates]) if cell.layer_norm else None

    def calls(self, x, y, h, c, time_major, reverse=False):
        """x [B, T, n_input] (or [T, B, n_input] time-major), y the output (a view), h [B, n_output],
        c [B, n_cell] the state arrays; `reverse` walks the time axis backward."""
        cell = self.cell
        xs, out = _recurrent.time_major_view(x, time_major), _recurrent.time_major_view(y, time_major)
        (T, B), n = xs.shape[:2], cell.n_cell
        G = len(self.gates)
        col = self.col
        one = np.float32(1)
        calls = []
        if cell.hybrid:
            rows = x.reshape(-1, x.shape[2])
            q = np.empty(rows.shape, self.wx.dtype)
            prod = np.empty((rows.shape[0], G * n), self.wx.dtype)
            scale = np.empty((rows.shape[0], G * n), np.float32)
            flat = np.empty((rows.shape[0], G * n), np.float32)
            quantize = RowQuantizer(rows, q, cell.asym)
            calls += [quantize, partial(np.matmul, q, self.wx, out=prod), partial(np.copyto, flat, prod),
                      partial(np.multiply, quantize.sf[:, None], self.wx_scale, out=scale),
                      partial(np.multiply, flat, scale, out=flat)]
            inputs = _recurrent.time_major_view(flat.reshape(x.shape[:2] + (G * n,)), time_major)
        else:
            inputs = np.empty((T, B, G * n), np.float32)
            calls.append(partial(np.matmul, xs, self.wx, out=inputs))
            if self.ln is None:
                calls.append(partial(np.add, inputs, self.bias, out=inputs))
        acc = np.empty((B, G * n), np.float32)
        tmp = np.empty((B, n), np.float32)
        hidden = np.empty((B, n), np.float32) if cell.proj is not None else None
        ln_calls = {}

        def gate(k):
            return acc[:, col[k]]

        # Blocks of gates handled together: everything, or all but o with peepholes.
        last = G - 1 if cell.peephole else G
        blocks = [(0, last)] + ([(last, G)] if cell.peephole else [])
        for a, b in blocks:
            # After any peephole product: layer norm with its bias, or (hybrid: the reference's order) the bias.
            if self.ln is not None:
                ln_calls[a] = self._layer_norm_calls(acc[:, a * n:b * n], B, b - a, slice(a * n, b * n))
            elif cell.hybrid:
                ln_calls[a] = [partial(np.add, acc[:, a * n:b * n], self.bias[a * n:b * n], out=acc[:, a * n:b * n])]
        sig_first = acc[:, :(2 if "i" in col else 1) * n] if cell.peephole else acc[:, :col["o"].stop]
        peep_first = None
        if cell.peephole:
            pk = [k for k in ("i", "f") if k in col]
            peep_first = (acc[:, :len(pk) * n].reshape(B, len(pk), n), np.stack([self.peep[k] for k in pk]),
                          np.empty((B, len(pk), n), np.float32))
        i = gate("i") if "i" in col else np.empty((B, n), np.float32)
        f, g, o = gate("f"), gate("c"), gate("o")
        h_next = h if hidden is None else hidden
        recurrent = self._hybrid_product(h, acc, self.wh, self.wh_scale) if cell.hybrid else None
        for t in (reversed(range(T)) if reverse else range(T)):
            if recurrent is None:
                calls += [partial(np.dot, h, self.wh, out=acc), partial(np.add, acc, inputs[t], out=acc)]
            else:
                calls += recurrent + [partial(np.add, inputs[t], acc, out=acc)]
            if peep_first is not None:
                pv, pw, pt = peep_first
                calls += [partial(np.multiply, c[:, None, :], pw, out=pt), partial(np.add, pv, pt, out=pv)]
            calls += ln_calls.get(0, [])
            calls += _sigmoid_calls(sig_first) + [partial(np.tanh, g, out=g)]
            if cell.cifg:
                calls.append(partial(np.subtract, one, f, out=i))
            calls += [partial(np.multiply, f, c, out=c), partial(np.multiply, i, g, out=g),
                      partial(np.add, c, g, out=c)]
            if cell.cell_clip > 0:
                calls.append(partial(_clip, c, -cell.cell_clip, cell.cell_clip, out=c))
            if cell.peephole:
                calls += [partial(np.multiply, c, self.peep["o"], out=tmp), partial(np.add, o, tmp, out=o)]
                calls += ln_calls.get(G - 1, [])
                calls += _sigmoid_calls(o)
            calls += [partial(np.tanh, c, out=tmp), partial(np.multiply, o, tmp, out=h_next)]
            if cell.proj is not None:
                calls += ([partial(np.dot, hidden, cell.proj_t, out=h)] if not cell.hybrid else
                          self._hybrid_product(hidden, h, self.wp, self.wp_scale))
                if cell.proj_b is not None:
                    calls.append(partial(np.add, h, cell.proj_b, out=h))
                if cell.proj_clip > 0:
                    calls.append(partial(_clip, h, -cell.proj_clip, cell.proj_clip, out=h))
            calls.append(partial(np.copyto, out[t], h))
        return calls

    def _hybrid_product(self, rows, dst, w, w_scale):
        """dst = (rows quantized) @ w * (row factor x weight scale), as _recurrent's
        _hybrid_matmul: exact integer products, then one float32 multiply."""
        q = np.empty(rows.shape, w.dtype)
        prod = np.empty(dst.shape, w.dtype)
        scale = np.empty(dst.shape, np.float32)
        quantize = RowQuantizer(rows, q, self.cell.asym)
        calls = [quantize, partial(np.dot, q, w, out=prod)]
        calls.append(partial(np.copyto, dst, prod) if prod.dtype != dst.dtype else None)
        return [c for c in calls if c is not None] + [
            partial(np.multiply, quantize.sf[:, None], w_scale, out=scale),
            partial(np.multiply, prod if prod.dtype == dst.dtype else dst, scale, out=dst)]

    def _layer_norm_calls(self, x, B, k, cs):
        """_recurrent.layer_norm of k gates at once (x [B, k * n], in place), bias added."""
        n = self.cell.n_cell
        x3 = x.reshape(B, k, n)
        assert np.shares_memory(x3, x)
        mean = np.empty((B, k, 1), np.float32)
        var = np.empty((B, k, 1), np.float32)
        sq = np.empty((B, k, n), np.float32)
        w = self.ln[cs].reshape(k, n)
        b = self.bias[cs].reshape(k, n)
        nf = np.float32(n)
        return [partial(np.add.reduce, x3, axis=2, keepdims=True, out=mean), partial(np.divide, mean, nf, out=mean),
                partial(np.subtract, x3, mean, out=x3), partial(np.multiply, x3, x3, out=sq),
                partial(np.add.reduce, sq, axis=2, keepdims=True, out=var), partial(np.divide, var, nf, out=var),
                partial(np.add, var, np.float32(1e-8), out=var), partial(np.sqrt, var, out=var),
                partial(np.divide, x3, var, out=x3), partial(np.multiply, x3, w, out=x3),
                partial(np.add, x3, b, out=x3)]


def _sigmoid_calls(z):
    """sigmoid(x) = 1 / (1 + exp(-x)), as _recurrent.sigmoid computes it, in place on z = -x."""
    one = np.float32(1)
    return [partial(np.exp, z, out=z), partial(np.add, z, one, out=z), partial(np.divide, one, z, out=z)]


class FastRnnSequence:
    """The basic RNN of one node (`_recurrent.RnnCell`, no auxiliary input) as bound calls."""

    def __init__(self, rnn):
        self.rnn = rnn
        if rnn.hybrid:
            (qx, qh) = rnn.q[:2]
            self.wx = qx["wt"].astype(product_dtype(qx["wt"], 0))
            self.wh = qh["wt"].astype(product_dtype(qh["wt"], 0))
            self.scale_x, self.scale_h = np.float32(qx["scale"]), np.float32(qh["scale"])
        else:
            self.wx, self.wh = rnn.w_t, rnn.r_t

    def calls(self, x, y, h, time_major, reverse=False):
        """x [B, T, n_input] (or [T, B, n_input] time-major), y its output (a view), h [B, units]
        the state; `reverse` walks the time axis backward."""
        rnn = self.rnn
        xs, out = _recurrent.time_major_view(x, time_major), _recurrent.time_major_view(y, time_major)
        (T, B), u = xs.shape[:2], rnn.units
        acc = np.empty((B, u), np.float32)
        if rnn.hybrid:
            rows = x.reshape(-1, x.shape[-1])
            q = np.empty(rows.shape, self.wx.dtype)
            prod = np.empty((rows.shape[0], u), self.wx.dtype)
            flat = np.empty((rows.shape[0], u), np.float32)
            factor = np.empty((rows.shape[0], 1), np.float32)
            quantize = RowQuantizer(rows, q, rnn.asym)
            calls = [quantize, partial(np.matmul, q, self.wx, out=prod), partial(np.copyto, flat, prod),
                     partial(np.multiply, quantize.sf[:, None], self.scale_x, out=factor),
                     partial(np.multiply, flat, factor, out=flat), partial(np.add, rnn.bias, flat, out=flat)]
            inputs = _recurrent.time_major_view(flat.reshape(x.shape[:-1] + (u,)), time_major)
            hq = np.empty((B, u), self.wh.dtype)
            hprod = np.empty((B, u), self.wh.dtype)
            hfactor = np.empty((B, 1), np.float32)
            hquantize = RowQuantizer(h, hq, rnn.asym)
            recurrent = [hquantize, partial(np.dot, hq, self.wh, out=hprod), partial(np.copyto, acc, hprod),
                         partial(np.multiply, hquantize.sf[:, None], self.scale_h, out=hfactor),
                         partial(np.multiply, acc, hfactor, out=acc)]
        else:
            inputs = np.empty((T, B, u), np.float32)
            calls = [partial(np.matmul, xs, self.wx, out=inputs)]
            recurrent = [partial(np.dot, h, self.wh, out=acc)]
        act = _recurrent.ACTIVATION_NAMES.get(rnn.activation, "NONE")
        for t in (reversed(range(T)) if reverse else range(T)):
            calls += recurrent + [partial(np.add, inputs[t], acc, out=acc)]
            if not rnn.hybrid:
                calls.append(partial(np.add, acc, rnn.bias, out=acc))
            if act == "TANH":
                calls.append(partial(np.tanh, acc, out=h))
            elif act == "RELU":
                calls.append(partial(np.maximum, acc, np.float32(0), out=h))
            elif act == "NONE":
                calls.append(partial(np.copyto, h, acc))
            else:
                lo = np.float32(-1 if act == "RELU_N1_TO_1" else 0)
                calls.append(partial(_clip, acc, lo, np.float32(1 if act == "RELU_N1_TO_1" else 6), out=h))
            calls.append(partial(np.copyto, out[t], h))
        return calls
