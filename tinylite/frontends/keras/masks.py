"""Keras masks, passed implicitly from layer to layer as Keras does at call time.

A Sequential config records no masks at all, and a functional config records
only some (a layer called on a list of tensors, such as Attention, gets its
inputs' masks at run time without any trace in the config).  So the lowering
tracks a mask per tensor: Embedding(mask_zero=True) and Masking create one,
layers that support masking pass it on (RNNs only when they return sequences,
merge layers OR theirs), and a layer whose call takes a mask gets its
inputs' masks when the call did not name one.  Every other layer drops the mask,
as Keras does.
"""
from __future__ import annotations

import numpy as np

# Layers whose call takes `mask` (the lowering then handles it, or explains why not).
MASK_ARG_LAYERS = {"LSTM", "GRU", "SimpleRNN", "RNN", "ConvLSTM2D", "Bidirectional", "TimeDistributed", "GlobalAveragePooling1D",
                   "GlobalAvgPool1D", "Softmax", "BatchNormalization", "Attention", "Lambda"}
# Layers with supports_masking whose output mask is their input's.
MASK_PASSING_LAYERS = {"Dense", "Activation", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout",
                       "AlphaDropout", "LayerNormalization", "BatchNormalization", "ReLU", "LeakyReLU", "ELU",
                       "PReLU", "Softmax", "Rescaling", "Identity", "UnitNormalization", "ActivityRegularization",
                       "Normalization", "TimeDistributed"}
MERGE_LAYERS = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}
RNN_LAYERS = {"LSTM", "GRU", "SimpleRNN", "RNN", "ConvLSTM2D", "Bidirectional"}
MASK_PRODUCERS = {"Embedding", "Masking"}


def _masks(ctx):
    if not hasattr(ctx, "masks"):
        ctx.masks = {}
    return ctx.masks


def _tensors(args):
    out = []
    for a in args:
        if isinstance(a, (list, tuple)):
            out.extend(_tensors(a))
        elif hasattr(a, "index"):
            out.append(a)
    return out


def _given(v) -> bool:
    if isinstance(v, (list, tuple)):
        return any(_given(a) for a in v)
    return hasattr(v, "index")


def implicit_masks(ctx, layer, args, kwargs) -> dict:
    """The call's kwargs with the inputs' masks filled in where Keras would."""
    masks = _masks(ctx)
    if not masks:
        return kwargs
    cls = layer.class_name
    kwargs = dict(kwargs or {})
    if cls == "MultiHeadAttention":
        tensors = _tensors(args)
        named = {"query": tensors[0] if tensors else kwargs.get("query"),
                 "value": tensors[1] if len(tensors) > 1 else kwargs.get("value"),
                 "key": tensors[2] if len(tensors) > 2 else kwargs.get("key")}
        for k, v in named.items():
            if hasattr(v, "index") and not _given(kwargs.get(f"{k}_mask")) and v.index in masks:
                kwargs[f"{k}_mask"] = masks[v.index]
        return kwargs
    if cls not in MASK_ARG_LAYERS or _given(kwargs.get("mask")):
        return kwargs
    if cls == "Attention":
        tensors = _tensors(args)
        found = [masks.get(v.index) for v in tensors]
        if any(m is not None for m in found):
            kwargs["mask"] = found
        return kwargs
    tensors = _tensors(args)
    if tensors and tensors[0].index in masks:
        kwargs["mask"] = masks[tensors[0].index]
    return kwargs


def record_masks(ctx, layer, args, kwargs, outs) -> None:
    """Note the masks of a layer's outputs."""
    cls = layer.class_name
    masks = _masks(ctx)
    outs = [o for o in outs if hasattr(o, "index")]
    if not outs:
        return
    if cls in MASK_PRODUCERS:
        if len(outs) > 1:                      # their lowerings return (output, mask)
            masks[outs[0].index] = outs[1]
        return
    tensors = _tensors(args)
    if not masks or not tensors:
        return
    first = kwargs.get("mask") if _given(kwargs.get("mask")) else masks.get(tensors[0].index)
    if isinstance(first, (list, tuple)):
        first = first[0] if first and hasattr(first[0], "index") else None
    if cls in MASK_PASSING_LAYERS:
        mask = first
    elif cls in RNN_LAYERS:
        cfg = layer.config
        inner = (cfg.get("layer") or {}).get("config", cfg)
        mask = first if inner.get("return_sequences") else None
    elif cls == "MultiHeadAttention":
        mask = kwargs.get("query_mask") if _given(kwargs.get("query_mask")) else None
    elif cls == "Attention":
        mask = first
    elif cls in MERGE_LAYERS:
        mask = _combine(ctx, [masks.get(v.index) for v in tensors], "LOGICAL_OR", layer.name + "/mask", any_none=True)
    elif cls == "Concatenate" and int(layer.config.get("axis", -1)) % tensors[0].rank == tensors[0].rank - 1:
        mask = _combine(ctx, [masks.get(v.index) for v in tensors], "LOGICAL_OR", layer.name + "/mask", any_none=True)
    else:
        mask = None
    if mask is not None:
        masks[outs[0].index] = mask


def _combine(ctx, found, op, name, any_none):
    """The OR of the inputs' masks, as merge layers and a feature concatenation
    combine them (a missing mask makes the result all-true, i.e. no mask)."""
    present = [m for m in found if m is not None]
    if not present or (any_none and len(present) < len(found)):
        return None
    unique = []
    for m in present:
        if all(m.index != u.index for u in unique):
            unique.append(m)
    result = unique[0]
    for k, m in enumerate(unique[1:], 1):
        if result.dtype != np.bool_ or m.dtype != np.bool_:
            return None
        result = ctx.b.op(op, [result, m], result.shape, f"{name}_{k}", out_dtypes=np.bool_)
    return result
