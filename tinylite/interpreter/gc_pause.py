"""Python's cyclic garbage collector paused while a model is parsed and planned.

Loading a model makes tens of thousands of small container objects (the
parsed tables, nodes, op data, bound calls) that all stay alive with the
interpreter.  Each 700 of them trigger a young-generation collection that
walks them again, and every tenth of those an older one: a few milliseconds
of every load spent proving that live objects are alive, plus, now and then,
a full collection of the whole process inside the load.  What a load makes
is freed by reference counting once the interpreter is dropped (its
finalizer breaks the plan's cycles; tests/kernels/test_load_lifecycle.py),
so the collector has nothing to reclaim there, and after the pause those
objects go straight to the oldest generation (see _promote_young) instead of
being walked by the next young collections.

The collector's state is process-wide: the first thread to enter records
whether the user had it enabled and disables it, the last to leave restores
that state (so concurrent loads, and a control-flow subgraph planned inside
its parent's allocate, never leave it off), even when the load raises.
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused():
    """Run the body with the cyclic collector disabled, then restore the caller's setting."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                _promote_young()
                gc.enable()


def _promote_young():
    """Move the young generations' objects to the oldest one, without a collection.

    Left young, what the load made (~12,000 objects for a 200-op model) would be walked by
    the first young collection after the pause (~1 ms, right at the end of the load) and
    again by the next-generation one, only to find it alive: it lives as long as the
    interpreter.  gc.freeze() moves every tracked object to the permanent generation and
    gc.unfreeze() back into the oldest one, both in constant time.  Skipped where the
    process froze objects itself (unfreeze would release them)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
