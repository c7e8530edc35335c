"""Python's cyclic garbage collector paused while a model is parsed and planned.

Loading a model makes tens of thousands of small container objects (the
parsed tables, nodes, op data, bound calls) that all stay alive with the
interpreter.  Each 700 of them trigger a young-generation collection that
walks them again, and every tenth of those an older one: a few milliseconds
of every load spent proving that live objects are alive, plus, now and then,
a full collection of the whole process inside the load.  What a load makes
is freed by reference counting once the interpreter is dropped (its
finalizer breaks the plan's cycles; tests/kernels/test_load_lifecycle.py),
so the collector has nothing to reclaim there: the pause only postpones the
young collection of the objects the load made to the first one after it.

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
                gc.enable()
