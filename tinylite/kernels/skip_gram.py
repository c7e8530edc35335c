"""SKIP_GRAM: the skip-grams of the words of the first string of a STRING
tensor, as a 1-D STRING tensor: every ngram_size-word sequence (every 1 to
ngram_size with include_all_ngrams) whose consecutive words are at most
max_skip_size words apart, joined by one space, in LiteRT's depth-first
order.  Words split as LiteRT splits them (C isspace; a string that starts
with a space loses its first word, as there); fewer words than ngram_size
give no n-grams.  The output's length depends on the value."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What prepare computes for eval."""

    params: tuple = None
    grams: list = None

SPACE = frozenset(b" \t\n\v\f\r")


def words(text: bytes) -> list[bytes]:
    out, prev = [], 0
    for i in range(1, len(text)):
        if text[i] in SPACE:
            if i > prev and text[prev] not in SPACE:
                out.append(text[prev:i])
            prev = i + 1
    if len(text) > prev:
        out.append(text[prev:])
    return out


def skip_grams(text: bytes, n: int, max_skip: int, include_all: bool) -> list[bytes]:
    w = words(text)
    if len(w) < n or n <= 0:
        return []
    grams = []
    # Depth-first over word positions; stack[k] is the k-th word of the gram being grown.
    stack, depth = [0] * n, 1
    while depth >= 0:
        if depth < n and stack[depth] + 1 < len(w) and (depth == 0 or stack[depth] - stack[depth - 1] <= max_skip):
            stack[depth] += 1
            depth += 1
            if depth < n:
                stack[depth] = stack[depth - 1]
        else:
            if depth > 0 and (depth <= n if include_all else depth == n):
                grams.append(b" ".join(w[stack[k]] for k in range(depth)))
            depth -= 1
    return grams


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    node.expect_dtype(x, np.object_)
    node.expect_dtype(node.outputs[0], np.object_)
    if x.size == 0:
        node.fail("the input holds no string; SKIP_GRAM reads the first one")
    o = node.options
    d.params = (int(o.get("ngram_size", 0)), int(o.get("max_skip_size", 0)), bool(o.get("include_all_ngrams")))
    d.grams = skip_grams(_first(node.value(0)), *d.params)
    node.outputs[0].shape = (len(d.grams),)
    return eval_skip_gram


def _first(value) -> bytes:
    s = np.asarray(value, dtype=object).reshape(-1)[0]
    return s.encode() if isinstance(s, str) else bytes(s)


def eval_skip_gram(node, inputs, outputs):
    grams = skip_grams(_first(inputs[0]), *node.data.params)
    for k, g in enumerate(grams):
        outputs[0][k] = g
