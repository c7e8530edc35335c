"""Attention layers: MultiHeadAttention and (dot-product) Attention.

MultiHeadAttention's EinsumDense projections are FULLY_CONNECTED ops (their
kernels [in, heads, dim] flattened), the heads are split with RESHAPE and
TRANSPOSE, and scores and context are BATCH_MATMULs.  The query scaling
1/sqrt(key_dim) is folded into the query projection.  Masks (attention_mask,
the inputs' Keras masks, use_causal_mask) become an additive bias of -1e9 on the
masked scores before SOFTMAX, as Keras's own Attention layer does; a causal mask
over static lengths is a constant.
"""
from __future__ import annotations

import numpy as np

from .layers import fail, softmax
from .ops import binary, f32, i32, reshape, transpose, unary
from .sequence import _check_kwargs, _sub_weights, float_mask, kw_lowering

_LARGE = 1.0e9


def _value(v):
    return v if hasattr(v, "index") else None


def _causal(t, s):
    return np.tril(np.ones((t, s), np.float32))


def _mask_bias(ctx, masks, causal, shape, name):
    """Combine 0/1 masks (Values broadcasting to [B, T, S]) and a constant causal
    mask into an additive bias, or None."""
    if not masks:
        if causal is None:
            return None
        return f32(ctx, (causal - 1.0) * _LARGE, name + "/causal_bias")
    m = masks[0]
    for k, other in enumerate(masks[1:], 1):
        m = binary(ctx, "MUL", m, other, f"{name}/and{k}")
    if causal is not None:
        m = binary(ctx, "MUL", m, f32(ctx, causal, name + "/causal"), name + "/and_causal")
    # (m - 1) * 1e9 as m * 1e9 - 1e9: 0 where attended, -1e9 where masked.
    return binary(ctx, "ADD", binary(ctx, "MUL", m, _LARGE, name + "/scaled"), -_LARGE, name + "/bias")


def _static_len(layer, v, what):
    if v.rank != 3 or v.shape[1] is None:
        fail(layer, f"{what} of shape {v.shape} is not supported (expected [batch, length, features] with a static "
                    "length)")
    return v.shape[1]


@kw_lowering("MultiHeadAttention")
def _mha(ctx, layer, inputs, kwargs):
    _check_kwargs(layer, kwargs, {"query", "value", "key", "query_mask", "value_mask", "key_mask", "attention_mask",
                                  "training"})
    cfg, n = layer.config, layer.name
    args = list(inputs)
    query = args.pop(0) if args else _value(kwargs.get("query"))
    value = args.pop(0) if args else _value(kwargs.get("value"))
    key = args.pop(0) if args else _value(kwargs.get("key"))
    if query is None or value is None:
        fail(layer, "query and value inputs are required")
    key = key if key is not None else value
    if cfg.get("use_gate"):
        fail(layer, "option use_gate=True is not supported")
    if cfg.get("sliding_window") is not None:
        fail(layer, "option sliding_window is not supported")
    axes = cfg.get("attention_axes")
    if axes is not None and [int(a) % 3 for a in (axes if isinstance(axes, (list, tuple)) else [axes])] != [1]:
        fail(layer, f"option attention_axes={axes} is not supported (attention over the sequence axis only)")
    t = _static_len(layer, query, "query")
    s = _static_len(layer, value, "value")
    if key.shape[1] != s:
        fail(layer, f"key length {key.shape[1]} differs from value length {s}")
    heads, key_dim = int(cfg["num_heads"]), int(cfg["key_dim"])
    use_bias = cfg.get("use_bias", True)

    def proj(aliases, position):
        ws = _sub_weights(layer, aliases)
        if ws is None:                                 # no names: Keras's order q, k, v, out
            per = 2 if use_bias else 1
            ws = layer.weights[position * per:(position + 1) * per]
        if not ws:
            fail(layer, f"weights of the {sorted(a for a in aliases if a)[0]} projection are missing")
        kernel = ws[0][1]
        bias = ws[1][1] if use_bias and len(ws) > 1 else None
        return kernel, bias

    qk, qb = proj({"query", "query_dense"}, 0)
    kk, kb = proj({"key", "key_dense"}, 1)
    vk, vb = proj({"value", "value_dense"}, 2)
    ok, ob = proj({"attention_output", "output_dense"}, 3)
    value_dim = vk.shape[-1]
    scale = np.float32(1.0 / np.sqrt(float(key_dim)))

    def project(x, kernel, bias, dim, name, mult=None):
        w = kernel.reshape(kernel.shape[0], -1)
        b = None if bias is None else bias.reshape(-1)
        if mult is not None:
            w = w * mult
            b = None if b is None else b * mult
        wt = f32(ctx, np.ascontiguousarray(w.T), name + "/kernel")
        bt = f32(ctx, b, name + "/bias") if b is not None and np.any(b) else None
        y = ctx.b.op("FULLY_CONNECTED", [x, wt, bt], x.shape[:2] + (w.shape[1],), name, {"keep_num_dims": True})
        y = reshape(ctx, y, x.shape[:2] + (heads, dim), name + "/heads")
        return transpose(ctx, y, [0, 2, 1, 3], name + "/transpose")        # [B, N, L, dim]

    q = project(query, qk, qb, key_dim, n + "/query", scale)
    k = project(key, kk, kb, key_dim, n + "/key")
    v = project(value, vk, vb, value_dim, n + "/value")
    batch = query.shape[0]
    scores = ctx.b.op("BATCH_MATMUL", [q, k], (batch, heads, t, s), n + "/scores", {"adj_x": False, "adj_y": True})

    masks = []
    qm, vm, km = (_value(kwargs.get(k)) for k in ("query_mask", "value_mask", "key_mask"))
    if qm is not None:
        masks.append(reshape(ctx, float_mask(ctx, qm, n + "/query_mask"), (qm.shape[0], t, 1), n + "/query_mask/3d"))
    for m, what in ((vm, "value_mask"), (km, "key_mask")):
        if m is not None:
            masks.append(reshape(ctx, float_mask(ctx, m, f"{n}/{what}"), (m.shape[0], 1, s), f"{n}/{what}/3d"))
    am = _value(kwargs.get("attention_mask"))
    if am is not None:
        if am.rank != 3:
            fail(layer, f"attention_mask of shape {am.shape} is not supported (expected [batch, {t}, {s}])")
        masks.append(float_mask(ctx, am, n + "/attention_mask"))
    causal = _causal(t, s) if kwargs.get("use_causal_mask") else None
    bias = _mask_bias(ctx, masks, causal, (batch, t, s), n + "/mask")
    if bias is not None:
        bias4 = reshape(ctx, bias, (bias.shape[0], 1) + bias.shape[1:], n + "/mask/heads") \
            if bias.rank == 3 else bias
        scores = binary(ctx, "ADD", scores, bias4, n + "/masked_scores")
    probs = softmax(ctx, scores, -1, n + "/softmax")
    ctxt = ctx.b.op("BATCH_MATMUL", [probs, v], (batch, heads, t, value_dim), n + "/context",
                    {"adj_x": False, "adj_y": False})
    ctxt = reshape(ctx, transpose(ctx, ctxt, [0, 2, 1, 3], n + "/context/transpose"), (batch, t, heads * value_dim),
                   n + "/context/merge")
    out_dims = ok.shape[2:]
    w = ok.reshape(heads * value_dim, -1)
    bt = f32(ctx, ob.reshape(-1), n + "/attention_output/bias") if ob is not None and np.any(ob) else None
    y = ctx.b.op("FULLY_CONNECTED", [ctxt, f32(ctx, np.ascontiguousarray(w.T), n + "/attention_output/kernel"), bt],
                 (batch, t, w.shape[1]), n + "/attention_output", {"keep_num_dims": True})
    if len(out_dims) > 1:
        y = reshape(ctx, y, (batch, t) + tuple(out_dims), n + "/attention_output/reshape")
    if kwargs.get("return_attention_scores"):
        return [y, probs]
    return y


def _additive_scores(ctx, layer, q, k, t, s):
    """AdditiveAttention's scores: sum over the features of scale * tanh(q_i + k_j)."""
    n, batch, dim = layer.name, q.shape[0], q.shape[-1]
    q4 = reshape(ctx, q, (batch, t, 1, dim), n + "/query_4d")
    k4 = reshape(ctx, k, (batch, 1, s, dim), n + "/key_4d")
    pairs = unary(ctx, "TANH", binary(ctx, "ADD", q4, k4, n + "/pairs"), n + "/tanh")
    if layer.config.get("use_scale", True):
        scale = np.asarray(layer.weight("scale", 0), np.float32).reshape(dim)
        pairs = binary(ctx, "MUL", pairs, f32(ctx, scale, n + "/scale"), n + "/scaled")
    return ctx.b.op("SUM", [pairs, i32(ctx, [3], n + "/axis")], (batch, t, s), n + "/scores", {"keep_dims": False})


@kw_lowering("Attention", "AdditiveAttention")
def _attention(ctx, layer, inputs, kwargs):
    _check_kwargs(layer, kwargs, {"mask", "training"})
    cfg, n = layer.config, layer.name
    if cfg.get("score_mode", "dot") != "dot":
        fail(layer, f"option score_mode={cfg.get('score_mode')!r} is not supported (dot)")
    if len(inputs) not in (2, 3):
        fail(layer, f"takes [query, value] or [query, value, key], got {len(inputs)} inputs")
    q, v = inputs[0], inputs[1]
    k = inputs[2] if len(inputs) > 2 else v
    t = _static_len(layer, q, "query")
    s = _static_len(layer, v, "value")
    batch = q.shape[0]
    if layer.class_name == "AdditiveAttention":
        scores = _additive_scores(ctx, layer, q, k, t, s)
    else:
        scores = ctx.b.op("BATCH_MATMUL", [q, k], (batch, t, s), n + "/scores", {"adj_x": False, "adj_y": True})
    if cfg.get("use_scale") and layer.class_name == "Attention":
        scale = layer.weight("scale", 0)
        scores = binary(ctx, "MUL", scores, f32(ctx, np.asarray(scale, np.float32).reshape(()), n + "/scale"),
                        n + "/scaled")
    mask = kwargs.get("mask")
    q_mask = v_mask = None
    if isinstance(mask, (list, tuple)):
        q_mask = _value(mask[0]) if len(mask) > 0 else None
        v_mask = _value(mask[1]) if len(mask) > 1 else None
    elif _value(mask) is not None:
        fail(layer, "mask must be a list [query_mask, value_mask]")
    masks = []
    if v_mask is not None:
        masks.append(reshape(ctx, float_mask(ctx, v_mask, n + "/value_mask"), (v_mask.shape[0], 1, s),
                             n + "/value_mask/3d"))
    causal = _causal(t, s) if kwargs.get("use_causal_mask") else None
    bias = _mask_bias(ctx, masks, causal, (batch, t, s), n + "/mask")
    if bias is not None:
        scores = binary(ctx, "ADD", scores, bias, n + "/masked_scores")
    probs = softmax(ctx, scores, -1, n + "/softmax")
    y = ctx.b.op("BATCH_MATMUL", [probs, v], (batch, t, v.shape[2]), n + "/context", {"adj_x": False, "adj_y": False})
    if q_mask is not None:
        qm = reshape(ctx, float_mask(ctx, q_mask, n + "/query_mask"), (q_mask.shape[0], t, 1), n + "/query_mask/3d")
        y = binary(ctx, "MUL", y, qm, n + "/query_masked")
    if kwargs.get("return_attention_scores"):
        return [y, probs]
    return y
