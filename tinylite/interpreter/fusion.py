"""Plan-level rewrites of a subgraph's steps, made once in allocate_tensors.

They change how values are computed, never which values reach the graph's
outputs, and they only touch tensors that nothing but the rewritten steps
reads.  Intermediate tensors they skip or leave holding other values are
unobservable: LiteRT reuses their memory too.  Under
experimental_preserve_all_tensors the interpreter runs no rewrite.

- `alias_reshapes`: RESHAPE, SQUEEZE and EXPAND_DIMS of an intermediate
  tensor become a view of their input, and their step disappears.
- `fuse_conv_max_pool`: a CONV_2D followed by a MAX_POOL_2D whose windows
  tile its output (stride = filter, no padding) becomes one step that
  computes only the convolution outputs the pool reads, ordered so the pool
  is a running maximum over contiguous blocks (see optimized/conv_2d.py).

No rewrite writes on a prepared node: a rewritten step gets a node its
kernel derives (Node.derived, optimized/conv_2d.fuse_max_pool,
optimized/prelu.on_pooled).
- `bias_rows`: the input of a one-row FULLY_CONNECTED with a constant
  bias lives in a buffer with one more element, a constant 1, so the bias
  rides in the product as an extra weight row (fully_connected binds it).
- `pool_before_prelu`: a PRELU with positive alphas, constant over
  height and width, whose only reader is a MAX_POOL_2D runs after the pool,
  in place on its 4-9x smaller output (x -> alpha*x for x < 0 is
  increasing, so it commutes with max exactly).
- `move_activations`: the fused clamp of a convolution whose only reader is
  a MAX_POOL_2D moves onto the pool, whose output is 4-9x smaller (a
  non-decreasing function commutes with max exactly).
"""
from __future__ import annotations

import numpy as np

ALIAS_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")


def _readers(steps) -> dict[int, int]:
    readers: dict[int, int] = {}
    for _, node, _, _ in steps:
        for s in node.inputs:
            if s is not None:
                readers[s.index] = readers.get(s.index, 0) + 1
    return readers


def alias_reshapes(plans, keep: set[int]) -> dict[int, int]:
    """{output tensor: input tensor} for the reshaping steps in `plans` whose
    output can be a view of their input.  `keep` holds the tensors that must
    own their memory (graph inputs and outputs, variables, constants,
    dynamic tensors)."""
    aliases = {}
    for node, fn, _, dynamic in plans:
        if dynamic or fn is None or node.op_name not in ALIAS_OPS:
            continue
        src, dst = node.inputs[0], node.outputs[0]
        if src.index in keep or dst.index in keep or src.dtype != dst.dtype:
            continue
        aliases[dst.index] = aliases.get(src.index, src.index)
    return aliases


def bias_rows(plans, aliases: dict[int, int], keep: set[int], produced: set[int]) -> dict[int, list]:
    """{tensor: [FULLY_CONNECTED nodes]} for `bias_rows`: one-row float layers
    with a constant bias, whose input (after aliases) is computed by a step
    and may live outside the arena (not in `keep`)."""
    from ..kernels.optimized import fully_connected

    rows: dict[int, list] = {}
    for node, fn, _, dynamic in plans:
        if dynamic or fn is not fully_connected.eval_float_fast or node.data.wt is None or not node.has_input(2):
            continue
        x, bias = node.inputs[0], node.inputs[2]
        if bias.data is None or x.dtype != np.float32 or int(np.prod(x.shape)) != node.data.depth:
            continue
        root = aliases.get(x.index, x.index)
        if root in produced and root not in keep:
            rows.setdefault(root, []).append(node)
    return rows


def keep_fused_inputs_alive(plans, producers: dict, last_use: dict, aliases: dict) -> None:
    """Extend, for the arena plan, the life of the inputs of a convolution or
    PRELU to the step of the max pool reading it: once rewritten
    (fuse_conv_max_pool, pool_before_prelu), the pool's step reads that
    input while it writes the pool's output, so the two must not share
    memory.  Any such pair counts, rewritten or not: planning comes before
    the rewrites, and the cost is a little memory."""
    for step, (node, _, _, _) in enumerate(plans):
        if node.op_name == "MAX_POOL_2D" and node.inputs[0].index in producers:
            conv = plans[producers[node.inputs[0].index]][0]
            if conv.op_name in ("CONV_2D", "PRELU"):
                for s in conv.inputs:
                    if s is not None:
                        i = aliases.get(s.index, s.index)
                        last_use[i] = max(last_use.get(i, step), step)


def fuse_conv_max_pool(steps, graph_outputs: set[int]) -> list:
    """The steps, with each optimized CONV_2D whose only reader is a max pool
    tiling its output (stride = filter, no padding) replaced by the conv
    kernel's fused step (optimized/conv_2d.py's fuse_max_pool)."""
    from ..kernels.optimized import conv_2d, max_pool_2d

    readers = _readers(steps)
    producer = {node.outputs[0].index: k for k, (_, node, _, _) in enumerate(steps) if node.outputs}
    fused: dict[int, tuple] = {}      # conv step -> replacement
    dropped: set[int] = set()         # pool steps folded into their conv
    for k, (fn, pool, _, outs) in enumerate(steps):
        if fn is not max_pool_2d.eval_float_fast:
            continue
        g = pool.data.geometry
        src = pool.inputs[0].index
        if (g["fh"], g["fw"]) != (g["sh"], g["sw"]) or any(g["pad"]) or not outs[0].size:
            continue
        if readers.get(src) != 1 or src in graph_outputs or src not in producer:
            continue
        c = producer[src]
        conv_fn, conv, conv_ins, _ = steps[c]
        if conv_fn is not conv_2d.eval_float_fast or c in fused:
            continue
        fused_fn, fused_node = conv_2d.fuse_max_pool(conv, pool)
        fused[c] = (fused_fn, fused_node, conv_ins, outs)
        dropped.add(k)
    return [fused.get(k, step) for k, step in enumerate(steps) if k not in dropped]


def _commutes_with_max(prelu_node, pool_node) -> bool:
    alpha = prelu_node.inputs[1].data
    x = prelu_node.inputs[0]
    if alpha is None or pool_node.data.act is not None or len(x.shape) != 4 or not alpha.size:
        return False
    # alpha must not vary over height and width: after the pool, positions move.
    spatial = alpha.shape[-3:-1] if len(alpha.shape) >= 3 else ()
    return all(d == 1 for d in spatial) and bool(np.all(np.isfinite(alpha) & (alpha > 0)))


def pool_before_prelu(steps, graph_outputs: set[int]) -> list:
    from ..kernels.optimized import max_pool_2d, prelu

    readers = _readers(steps)
    position = {node.outputs[0].index: k for k, (_, node, _, _) in enumerate(steps) if node.outputs}
    moved: dict[int, list] = {}       # pool step -> [pool, prelu] steps
    dropped: set[int] = set()
    for k, (fn, pool, _, outs) in enumerate(steps):
        src = pool.inputs[0].index if fn is max_pool_2d.eval_float_fast else None
        if src is None or readers.get(src) != 1 or src in graph_outputs or src not in position:
            continue
        p = position[src]
        prelu_fn, act, act_ins, _ = steps[p]
        if prelu_fn is not prelu.eval_float_fast or not _commutes_with_max(act, pool):
            continue
        moved[k] = [(fn, pool, [act_ins[0]], outs), (prelu_fn, prelu.on_pooled(act, outs[0].shape), [outs[0], act_ins[1]],
                                                      outs)]
        dropped.add(p)
    result = []
    for k, step in enumerate(steps):
        if k not in dropped:
            result.extend(moved.get(k, [step]))
    return result


def move_activations(steps, graph_outputs: set[int]) -> list:
    """The steps, with the fused clamp of a convolution whose only reader is
    a max pool moved onto the pool (both get derived nodes)."""
    from ..kernels import conv_2d, depthwise_conv_2d
    from ..kernels.optimized import conv_2d as conv_2d_fast
    from ..kernels.optimized import max_pool_2d

    convs = (conv_2d.eval_float, conv_2d_fast.eval_float_fast, depthwise_conv_2d.eval_float)
    readers = _readers(steps)
    producer = {}
    for k, (fn, node, _, _) in enumerate(steps):
        for s in node.outputs:
            producer[s.index] = k
    steps = list(steps)
    for k, (fn, node, ins, outs) in enumerate(steps):
        if fn is not max_pool_2d.eval_float_fast or node.data.act is not None:
            continue
        src = node.inputs[0].index
        if readers.get(src) != 1 or src in graph_outputs or src not in producer:
            continue
        c = producer[src]
        conv_fn, conv, conv_ins, conv_outs = steps[c]
        if conv_fn in convs and conv.data.act is not None:
            steps[k] = (fn, node.derived(act=conv.data.act), ins, outs)
            steps[c] = (conv_fn, conv.derived(act=None), conv_ins, conv_outs)
    return steps
