"""BIDIRECTIONAL_SEQUENCE_RNN: a forward basic RNN over the time axis and a
backward one over the reversed sequence (inputs 1-4 and 5-8: weights,
recurrent weights, bias, variable hidden state each), float32 or hybrid
(int8 weights with one scale each, the float activations quantized per
step, symmetric or with asymmetric_quantize_inputs).  With merge_outputs the
two outputs are concatenated along the last axis (one output tensor), else
they are two.

The auxiliary input (input 9) works in LiteRT's two modes: with aux weights
(inputs 10, 11) both directions add aux @ aux weights after the input's
product ("cross links"); without them the backward direction reads the aux
input instead of the input (stacking after another bidirectional layer; time-major only: the batch-major
loop reads the input and ignores the aux input).  LiteRT quirks kept: the aux rows of a step are found with the input's size
as the stride (except in the float batch-major loop), so an aux input
narrower than the input reads other steps' values (and one that would read
past its end is refused here); a hybrid time-major op runs the whole
forward and backward sequence once per time step, the hidden states going on."""
from __future__ import annotations

import numpy as np

from . import _recurrent
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What BIDIRECTIONAL_SEQUENCE_RNN's prepare computes for eval."""

    stacking: bool = None
    fw: _recurrent.RnnCell = None
    bw: _recurrent.RnnCell = None
    time_major: bool = None
    merge: bool = None
    aux_size: int = None
    aux_stride: int = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    if len(x.shape) != 3:
        node.fail(f"input must be 3-D, got shape {list(x.shape)}")
    node.expect_dtype(x, np.float32)
    time_major = bool(node.options.get("time_major", False))
    steps, n_batch = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    has_aux = node.has_input(9)
    fw_aux, bw_aux = node.has_input(10), node.has_input(11)
    if fw_aux != bw_aux:
        node.fail("give both aux input weights (inputs 10 and 11) or neither")
    if fw_aux and not has_aux:
        node.fail("aux input weights are given without an aux input (input 9)")
    aux_size = 0
    if has_aux:
        a = node.inputs[9]
        node.expect_dtype(a, np.float32)
        if fw_aux and (len(a.shape) != 3 or tuple(a.shape[:2]) != tuple(x.shape[:2])):
            node.fail(f"the aux input must be 3-D with the input's first two dims {list(x.shape[:2])}, "
                      f"got {list(a.shape)}")
        if not fw_aux and time_major and tuple(a.shape) != tuple(x.shape):
            node.fail(f"without aux weights the backward direction reads the aux input as its input; it must "
                      f"have the input's shape {list(x.shape)}, got {list(a.shape)}")
        aux_size = a.shape[2] if fw_aux else 0
    # Without aux weights, LiteRT's time-major loop runs the backward direction on the aux input;
    # its batch-major loop reads the input there and ignores the aux input.
    d.stacking = has_aux and not fw_aux and time_major
    aux_args = dict(aux=None, n_aux=0) if not fw_aux else dict(n_aux=aux_size)
    d.fw = _recurrent.RnnCell(node, x.shape[2], n_batch, w=1, r=2, b=3, h=4,
                                 **({**aux_args, "aux": 10} if fw_aux else aux_args))
    d.bw = _recurrent.RnnCell(node, x.shape[2], n_batch, w=5, r=6, b=7, h=8,
                                 **({**aux_args, "aux": 11} if fw_aux else aux_args))
    if d.fw.hybrid != d.bw.hybrid:
        node.fail("forward and backward weights must both be float32 or both int8")
    d.time_major = time_major
    d.merge = bool(node.options.get("merge_outputs", False))
    d.aux_size = aux_size if fw_aux else 0
    if d.aux_size:
        # The flat offset LiteRT reads a step's aux rows from, and how many values it reads.
        stride = d.aux_size if (not d.fw.hybrid and not time_major) else x.shape[2]
        last = (steps - 1) * stride * n_batch + n_batch * d.aux_size if time_major else \
            (n_batch - 1) * stride * steps + (steps - 1) * stride + d.aux_size
        if last > int(np.prod(node.inputs[9].shape)):
            node.fail(f"LiteRT reads this aux input ({list(node.inputs[9].shape)}) with the input's row size "
                      f"{x.shape[2]} as its stride, past its end; give the aux input the input's last dim")
        d.aux_stride = stride
    lead = tuple(x.shape[:2])
    if d.merge:
        node.outputs[0].shape = lead + (d.fw.units + d.bw.units,)
    else:
        if len(node.outputs) < 2:
            node.fail("without merge_outputs the op needs a forward and a backward output")
        node.outputs[0].shape = lead + (d.fw.units,)
        node.outputs[1].shape = lead + (d.bw.units,)
    return eval_bidirectional_rnn


def _aux_rows(node, flat, t, b, steps, batch):
    """The aux rows of step t (batch rows b, or all when b is None), read at LiteRT's offsets."""
    n, stride = node.data.aux_size, node.data.aux_stride
    if b is None:                                   # time major: the step's batch rows are contiguous
        start = t * stride * batch
        return flat[start:start + batch * n].reshape(batch, n)
    start = b * stride * steps + t * stride
    return flat[start:start + n].reshape(1, n)


def eval_bidirectional_rnn(node, inputs, outputs):
    data = node.data
    xs = _recurrent.time_major_view(inputs[0], data.time_major)
    steps, batch = xs.shape[0], xs.shape[1]
    bw_xs = _recurrent.time_major_view(inputs[9], data.time_major) if data.stacking else xs
    aux_flat = inputs[9].reshape(-1) if data.aux_size else None
    fw_out = np.empty((steps, batch, data.fw.units), np.float32)
    bw_out = np.empty((steps, batch, data.bw.units), np.float32)
    h_fw = inputs[4].reshape(batch, data.fw.units)
    h_bw = inputs[8].reshape(batch, data.bw.units)
    if data.time_major:
        repeats = steps if data.fw.hybrid else 1
        for _ in range(repeats):
            for t in range(steps):
                aux = None if aux_flat is None else _aux_rows(node, aux_flat, t, None, steps, batch)
                fw_out[t] = data.fw.step(xs[t], h_fw, aux)
            for t in range(steps - 1, -1, -1):
                aux = None if aux_flat is None else _aux_rows(node, aux_flat, t, None, steps, batch)
                bw_out[t] = data.bw.step(bw_xs[t], h_bw, aux)
    else:
        # Batch major: LiteRT runs each sequence on its own (batch 1 per step).
        for b in range(batch):
            for t in range(steps):
                aux = None if aux_flat is None else _aux_rows(node, aux_flat, t, b, steps, batch)
                fw_out[t, b] = data.fw.step(xs[t, b:b + 1], h_fw[b:b + 1], aux)[0]
            for t in range(steps - 1, -1, -1):
                aux = None if aux_flat is None else _aux_rows(node, aux_flat, t, b, steps, batch)
                bw_out[t, b] = data.bw.step(bw_xs[t, b:b + 1], h_bw[b:b + 1], aux)[0]
    if data.merge:
        merged = np.concatenate([fw_out, bw_out], axis=-1)
        _recurrent.time_major_view(outputs[0], data.time_major)[...] = merged
    else:
        _recurrent.time_major_view(outputs[0], data.time_major)[...] = fw_out
        _recurrent.time_major_view(outputs[1], data.time_major)[...] = bw_out
