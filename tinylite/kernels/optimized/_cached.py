"""The eval function and binder most optimized kernels share: a buffers object,
built for one pair of input and output arrays, holds the kernel's bound numpy
calls; eval rebuilds it only when the interpreter hands it other arrays.  And
the lazily filled, shared tables of the table kernels (LazyTable, from kernels/_lazy.py)."""
from __future__ import annotations

from .._base import binds
from .._lazy import LazyTable  # noqa: F401 - the table kernels' shared tables


def cached_calls(key: str, buffers, name: str):
    """An eval function named `name` that runs `buffers(node, x, out).calls`,
    kept in ``node.cache[key]`` (so Node.derived() copies start empty), and its binder."""

    def eval_fn(node, inputs, outputs):
        fb = node.cache.get(key)
        if fb is None or fb.x is not inputs[0] or fb.out is not outputs[0]:
            fb = node.cache[key] = buffers(node, inputs[0], outputs[0])
        for call in fb.calls:
            call()

    @binds(eval_fn)
    def bind(node, inputs, outputs):
        fb = node.cache[key] = buffers(node, inputs[0], outputs[0])
        return list(fb.calls)

    # Profiles and tests name kernels by module and name, as for a def in that module.
    eval_fn.__module__ = bind.__module__ = buffers.__module__
    eval_fn.__name__ = eval_fn.__qualname__ = name
    bind.__name__ = bind.__qualname__ = f"_bind_{name}"
    return eval_fn


def calls_per_arrays(key: str, arrays, build, name: str):
    """An eval function named `name` that runs the calls `build(node, inputs, outputs)` makes,
    kept in ``node.cache[key]`` with the arrays `arrays(inputs, outputs)` they were made for
    (rebuilt when the interpreter hands it others), and its binder, which builds them afresh:
    for kernels bound to several arrays (a sequence op's input, output and states)."""

    def kept(node, inputs, outputs):
        keyed = arrays(inputs, outputs)
        bound = node.cache.get(key)
        if bound is None or any(a is not b for a, b in zip(bound[0], keyed)):
            bound = node.cache[key] = (keyed, build(node, inputs, outputs))
        return bound[1]

    def eval_fn(node, inputs, outputs):
        for call in kept(node, inputs, outputs):
            call()

    @binds(eval_fn)
    def bind(node, inputs, outputs):
        node.cache.pop(key, None)
        return list(kept(node, inputs, outputs))

    eval_fn.__module__ = bind.__module__ = build.__module__
    eval_fn.__name__ = eval_fn.__qualname__ = name
    bind.__name__ = bind.__qualname__ = f"_bind_{name}"
    return eval_fn
