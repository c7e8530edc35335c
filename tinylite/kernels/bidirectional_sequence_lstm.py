"""BIDIRECTIONAL_SEQUENCE_LSTM: a forward LSTM and a backward LSTM (run from the
last time step to the first) over one sequence; outputs kept apart or, with
`merge_outputs`, concatenated on the last axis.

Input 39 (aux_input) chains stacked layers as TFLite does: with aux weights
both directions add aux_input's product; without them the backward cell reads
aux_input instead of the input.
"""
from __future__ import annotations

import numpy as np

from . import _recurrent
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What BIDIRECTIONAL_SEQUENCE_LSTM's prepare computes for eval."""

    cells: tuple = None
    merge: bool = None
    bw_reads_aux: bool = None
    aux_into_cells: bool = None
    walk_time_major: bool = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    if len(node.inputs) != 48:
        node.fail(f"expected 48 inputs, got {len(node.inputs)}")
    x = node.inputs[0]
    if len(x.shape) != 3:
        node.fail(f"input must be 3-D, got shape {list(x.shape)}")
    node.expect_dtype(x, np.float32)
    time_major = bool(node.options.get("time_major", True))
    merge = bool(node.options.get("merge_outputs", False))
    aux = node.inputs[39] if node.has_input(39) else None
    fw_uses_aux = node.has_input(41)
    if aux is not None and tuple(aux.shape[:2]) != tuple(x.shape[:2]):
        node.fail(f"aux_input of shape {list(aux.shape)} does not match the input's {list(x.shape)}")
    n_batch = x.shape[1] if time_major else x.shape[0]
    fw = _recurrent.LstmCell(node, _recurrent.BIDI_FW, x.shape[2], aux if fw_uses_aux else None)
    bw_in = x if (fw_uses_aux or aux is None) else aux
    bw = _recurrent.LstmCell(node, _recurrent.BIDI_BW, bw_in.shape[2], aux if fw_uses_aux else None)
    fw.check_states(n_batch)
    bw.check_states(n_batch)
    d.cells = (fw, bw)
    d.merge = merge
    d.bw_reads_aux = aux is not None and not fw_uses_aux
    d.aux_into_cells = aux is not None and fw_uses_aux
    # LiteRT 2.3's hybrid kernel walks batch-major input batch-major too (lstm_eval::EvalHybrid
    # gets the op's time_major).
    d.walk_time_major = time_major
    lead = tuple(x.shape[:2])
    if merge:
        if len(node.outputs) != 1:
            node.fail(f"merge_outputs needs exactly 1 output, got {len(node.outputs)}")
        node.outputs[0].shape = lead + (fw.n_output + bw.n_output,)
    else:
        if len(node.outputs) != 2:
            node.fail(f"expected 2 outputs (forward and backward), got {len(node.outputs)}")
        node.outputs[0].shape = lead + (fw.n_output,)
        node.outputs[1].shape = lead + (bw.n_output,)
    return eval_bidi


def eval_bidi(node, inputs, outputs):
    data = node.data
    fw, bw = data.cells
    tm = data.walk_time_major
    x = _recurrent.time_major_view(inputs[0], tm)
    aux = None if inputs[39] is None else _recurrent.time_major_view(inputs[39], tm)
    out_fw = _recurrent.time_major_view(outputs[0], tm)
    if data.merge:
        out_bw = out_fw[..., fw.n_output:]
        out_fw = out_fw[..., :fw.n_output]
    else:
        out_bw = _recurrent.time_major_view(outputs[1], tm)
    n_batch = x.shape[1]
    states = [(inputs[p].reshape(n_batch, cell.n_output), inputs[q].reshape(n_batch, cell.n_cell))
              for cell, (p, q) in ((fw, (35, 36)), (bw, (37, 38)))]
    cell_aux = aux if data.aux_into_cells else None
    bw_x = aux if data.bw_reads_aux else x
    (h, c), (hb, cb) = states
    for t in range(x.shape[0]):
        out_fw[t] = fw.step(x[t], h, c, None if cell_aux is None else cell_aux[t])
    for t in reversed(range(x.shape[0])):
        out_bw[t] = bw.step(bw_x[t], hb, cb, None if cell_aux is None else cell_aux[t])
