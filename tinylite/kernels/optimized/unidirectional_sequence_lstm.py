"""Optimized UNIDIRECTIONAL_SEQUENCE_LSTM: the plain float cell (what
Keras's LSTM converts to: TANH, no peepholes, projection, layer norm, CIFG
or clipping) over the whole sequence without per-step allocations, and the
integer cell without peepholes or layer norm with all gates per call
(_integer_lstm.py, shared with LSTM)."""
from __future__ import annotations

import numpy as np

from .. import _recurrent
from .. import unidirectional_sequence_lstm as reference
from .._base import op_data
from . import _integer_lstm, register


@op_data
class OpData(reference.OpData, _integer_lstm.FastCellData):
    """The reference UNIDIRECTIONAL_SEQUENCE_LSTM's op data and the fast cell."""


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", dtypes=(np.int8,), when=_integer_lstm.applies)
def prepare_integer(node, reference_fn):
    return _integer_lstm.prepare_fast(node)


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", dtypes=(np.float32,),
          when=lambda node, ref: ref is reference.eval_float and FastLstmSequence.applies(node.data.cell))
def prepare_fast(node, reference_fn):
    return eval_float_fast


def eval_float_fast(node, inputs, outputs):
    data = node.data
    seq = node.cache.get("sequence")
    arrays = (inputs[0], outputs[0], inputs[18], inputs[19])
    if seq is None or any(a is not b for a, b in zip(seq.arrays, arrays)):
        seq = node.cache["sequence"] = FastLstmSequence(data.cell, inputs[0], outputs[0], inputs[18], inputs[19],
                                               data.time_major)
    seq.run()


class FastLstmSequence:
    """A float LSTM over a whole sequence without per-step allocations, for
    the plain cell (what Keras's LSTM converts to: TANH, no peepholes,
    projection, layer norm, CIFG or clipping).

    The input side of every step is one matrix product for the whole
    sequence, bias included; each step is then the recurrent product and
    a dozen in-place ufunc calls on buffers made once per set of arrays,
    with the gates laid out (i, f, o, g) so that one sigmoid covers three
    of them.  The same arithmetic as LstmCell.step except where the bias
    is added (x W + b, then + h R), which moves results by rounding only;
    tests compare the two.
    """

    @staticmethod
    def applies(cell) -> bool:
        return (not (cell.hybrid or cell.cifg or cell.peephole or cell.layer_norm) and cell.proj is None
                and cell.specs["aux"] is None and not cell.cell_clip
                and _recurrent.ACTIVATION_NAMES.get(cell.activation, "NONE") == "TANH")

    def __init__(self, cell, x, out, h_state, c_state, time_major):
        n = cell.n_cell
        order = [0, 1, 3, 2]                        # (i, f, c, o) -> (i, f, o, g)
        cols = np.concatenate([np.arange(k * n, (k + 1) * n) for k in order])
        self.wx = np.ascontiguousarray(cell.wx_t[:, cols])
        self.wh = np.ascontiguousarray(cell.wh_t[:, cols])
        self.bias = np.concatenate([cell.bias[k] for k in ("i", "f", "o", "c")])
        n_batch = x.shape[1] if time_major else x.shape[0]
        self.arrays = (x, out, h_state, c_state)      # what the views below are views of
        self.rows = x.reshape(-1, x.shape[2])
        self.inputs = np.empty((self.rows.shape[0], 4 * n), np.float32)
        self.steps = _recurrent.time_major_view(self.inputs.reshape(x.shape[:2] + (4 * n,)), time_major)
        self.outputs = _recurrent.time_major_view(out, time_major)
        self.h = h_state.reshape(n_batch, n)
        self.c = c_state.reshape(n_batch, n)
        self.acc = np.empty((n_batch, 4 * n), np.float32)
        self.sig, self.g = self.acc[:, :3 * n], self.acc[:, 3 * n:]
        self.i, self.f, self.o = (self.acc[:, k * n:(k + 1) * n] for k in range(3))
        self.tmp = np.empty((n_batch, n), np.float32)

    def run(self):
        np.dot(self.rows, self.wx, out=self.inputs)
        np.add(self.inputs, self.bias, out=self.inputs)
        one = np.float32(1)
        acc, sig, g, i, f, o, h, c, tmp, wh = (self.acc, self.sig, self.g, self.i, self.f, self.o, self.h, self.c,
                                               self.tmp, self.wh)
        for step, out in zip(self.steps, self.outputs):
            np.dot(h, wh, out=acc)
            np.add(acc, step, out=acc)
            np.negative(sig, out=sig)           # sigmoid = 1 / (1 + exp(-x)), as sigmoid() computes it
            np.exp(sig, out=sig)
            np.add(sig, one, out=sig)
            np.divide(one, sig, out=sig)
            np.tanh(g, out=g)
            np.multiply(f, c, out=c)            # c = f * c + i * g
            np.multiply(i, g, out=g)
            np.add(c, g, out=c)
            np.tanh(c, out=tmp)                 # h = o * tanh(c)
            np.multiply(o, tmp, out=h)
            np.copyto(out, h)
