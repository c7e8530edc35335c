"""Optimized SPLIT_V: the bound copies of optimized/split.py."""
from .. import _layout
from . import register
from .split import eval_bound


@register("SPLIT_V", when=lambda node, ref: ref is _layout.eval_split)
def prepare_bound(node, reference_fn):
    return eval_bound
