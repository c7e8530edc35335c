"""FULLY_CONNECTED: y = x @ W.T + b, W is [units, depth].

The input is flattened to rows of `depth` (TFLite's rule); `keep_num_dims`
keeps the input's leading dimensions instead of collapsing them.

Blockwise-quantized weights (the schema's BlockwiseQuantization details: INT4
weights, one float16 scale per block of `block_size` inputs per unit, in a
tensor the details name) run as LiteRT's EvalBlockwise4Bit: each input row
quantized asymmetrically to int8, exact integer sums per block, then in
float32 and in this order: out += sum * scale per block, out -= zero_point *
sum(scale * sum of the block's weights), out *= the row's scale, out += bias.
The fused activation is not applied (LiteRT's kernel ignores it).
"""
from functools import partial

import numpy as np

from ._base import activation_calls, activation_name, binds, float_activation


def prepare(node):
    x, w = node.inputs[0], node.inputs[1]
    if len(w.shape) != 2:
        node.fail(f"weights must be 2-D [units, depth], got {list(w.shape)}")
    units, depth = w.shape
    size = int(np.prod(x.shape))
    if depth == 0 or size % depth:
        node.fail(f"input of shape {list(x.shape)} cannot be split into rows of depth {depth}")
    if node.options.get("keep_num_dims"):
        if x.shape[-1] != depth:
            node.fail(f"keep_num_dims needs the input's last dimension ({x.shape[-1]}) to equal depth {depth}")
        node.outputs[0].shape = tuple(x.shape[:-1]) + (units,)
    else:
        node.outputs[0].shape = (size // depth, units)
    node.depth = depth
    if node.has_input(2) and node.inputs[2].size != units:
        node.fail(f"bias has {node.inputs[2].size} elements, expected {units}")
    if x.dtype == np.float32 and w.dtype == np.float32:
        if activation_name(node) not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            # TFLite's (non-hybrid) kernel rejects them at prepare rather than ignoring them.
            node.fail(f"fused activation {activation_name(node)} is not supported; "
                      "only NONE, RELU, RELU6 and RELU_N1_TO_1 are")
        node.wt = np.ascontiguousarray(w.data.T) if w.data is not None else None
        node.act = float_activation(activation_name(node))
        return eval_float
    q = w.quantization
    if q is not None and q.details_type == 2:
        return _prepare_blockwise(node, x, w)
    from . import _quantized

    return _quantized.prepare_fully_connected(node)


def eval_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    # The 2-D views of the input and output, and the bias repeated per row,
    # made once per pair of arrays: at batch 1 a reshape or a broadcast costs
    # a tenth of the product itself (np.dot, too, costs less than np.matmul).
    views = node.__dict__.get("views")
    if views is None or views[0] is not x or views[1] is not out:
        views = node.views = (x, out) + _operands(node, x, out, inputs[1], inputs[2] if len(inputs) > 2 else None)
    _, _, x2, wt, res, bias = views
    if node.exact_products:
        node.matmul()(x2, wt, out=res)
    elif x2.flags.c_contiguous and wt.flags.c_contiguous:
        np.dot(x2, wt, out=res)
    else:
        np.matmul(x2, wt, out=res)
    if bias is not None:
        np.add(res, bias, out=res)
    if node.act is not None:
        node.act(out)


def _operands(node, x, out, w, b):
    """(input rows, weights [depth, units], output rows, bias to add or None).
    When the interpreter placed a one-row input in a buffer ending in a 1
    (`bias_row`, see interpreter.fusion), the bias rides in the product as
    the weights' last row."""
    res = out.reshape(-1, w.shape[0])
    row = node.__dict__.get("bias_row")
    if row is not None and np.may_share_memory(x, row):    # constant weights and bias
        wb = node.__dict__.get("wt_bias")
        if wb is None:
            wb = node.wt_bias = np.ascontiguousarray(np.concatenate([node.wt, b.reshape(1, -1)]))
        return row, wb, res, None
    if b is not None and node.inputs[2].data is not None:
        b = np.ascontiguousarray(np.broadcast_to(b, res.shape))
    return x.reshape(-1, node.depth), (w.T if node.wt is None else node.wt), res, b


@binds(eval_float)
def _bind_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    if node.wt is None or node.exact_products or not (x.flags.c_contiguous and out.flags.c_contiguous):
        return None
    x2, wt, res, bias = _operands(node, x, out, inputs[1], inputs[2] if len(inputs) > 2 else None)
    calls = [partial(np.dot, x2, wt, res)]
    if bias is not None:
        calls.append(partial(np.add, res, bias, out=res))
    return calls + activation_calls(node.act, out)


# --- blockwise-quantized INT4 weights ---

def _prepare_blockwise(node, x, w):
    from ..flatbuffer.schema import TENSOR_TYPE_NAMES

    details = w.quantization.details
    runner = node.runner
    tensors = runner.subgraph.tensors
    if TENSOR_TYPE_NAMES.get(tensors[w.index].type) != "INT4":
        node.fail(f"blockwise quantization is implemented for INT4 weights (as LiteRT), got "
                  f"{TENSOR_TYPE_NAMES.get(tensors[w.index].type)}")
    if x.dtype != np.float32 or node.outputs[0].dtype != np.float32:
        node.fail(f"blockwise INT4 weights need float32 input and output, got {x.dtype.name}")
    if w.data is None:
        node.fail("blockwise INT4 weights must be constant")
    units, depth = w.shape
    block = int(details.get("block_size", 0))
    if block <= 0 or depth % block:
        node.fail(f"block_size {block} does not divide the weights' depth {depth}")
    si = int(details.get("scales", -1))
    if not 0 <= si < len(tensors):
        node.fail(f"blockwise scales name tensor {si}, which does not exist")
    scales = runner.model.buffer_array(tensors[si])
    if scales is None or scales.size != units * (depth // block):
        node.fail(f"blockwise scales (tensor {si}) must be a constant of {units} x {depth // block} values")
    zi = int(details.get("zero_points", -1))
    if zi >= 0:
        zps = runner.model.buffer_array(tensors[zi]) if zi < len(tensors) else None
        if zps is None or np.any(zps != 0):
            from ..errors import UnsupportedOpError

            raise UnsupportedOpError(f"{node.op_name} (node {node.index}): blockwise weights with nonzero "
                                     "zero points are not supported (LiteRT's kernel assumes 0 too)")
    node.block = block
    blocks = depth // block
    node.block_scales = scales.astype(np.float32).reshape(units, blocks)
    wq = w.data.astype(np.float64).reshape(units, blocks, block)
    node.block_weights = wq
    ksum = wq.sum(axis=2).astype(np.float32)
    kfsum = np.zeros(units, np.float32)
    for bi in range(blocks):
        kfsum = (kfsum + node.block_scales[:, bi] * ksum[:, bi]).astype(np.float32)
    node.kfsum = kfsum
    return eval_blockwise


def eval_blockwise(node, inputs, outputs):
    from ._quantized import _asymmetric_quantize_rows

    x, out = inputs[0], outputs[0]
    b = inputs[2] if len(inputs) > 2 else None
    units, blocks, block = node.block_weights.shape
    rows = x.reshape(-1, blocks * block)
    q, sf, zp = _asymmetric_quantize_rows(rows)
    qb = q.astype(np.float64).reshape(len(rows), blocks, block)
    acc = np.zeros((len(rows), units), np.float32)
    for bi in range(blocks):
        sums = (qb[:, bi, :] @ node.block_weights[:, bi, :].T).astype(np.float32)   # exact integers
        acc = (acc + sums * node.block_scales[None, :, bi]).astype(np.float32)
    acc = (acc - zp.astype(np.float32)[:, None] * node.kfsum[None, :]).astype(np.float32)
    acc = (acc * sf[:, None]).astype(np.float32)
    if b is not None:
        acc = (acc + b).astype(np.float32)
    out[...] = acc.reshape(out.shape)
