"""Tables of a kernel's results filled at their first use, not at prepare, and
shared by key: the 8-bit unary tables of the reference kernels (HARD_SWISH,
LEAKY_RELU, RELU-like: _quantization._lut_or_direct) and the optimized
kernels' tables (8-bit pair tables, int16 unary tables, MEAN's sum tables).

Computing one costs 0.1-4 ms of small numpy passes; a model with dozens of
such nodes spent a large part of its allocate_tensors there (dbface int8:
32 HARD_SWISH tables, 5 ms of 50).  Filled on first use, allocate pays
nothing, the first invoke pays once per distinct table, and nodes (and
interpreters) whose tables are equal by key share the work through a small
cache: an interpreter loaded again finds its tables filled at prepare."""
from __future__ import annotations

import numpy as np


class LazyTable:
    """A table of `entries` values of `dtype` filled on first use by `fill_into(array)`, or copied
    from `cache` (an OrderedDict keeping its `size` newest tables) where an equal one, by `key`, was
    filled: nodes, and interpreters, with equal parameters share the work.  `filled` tells
    whether `array` holds the table yet (then `fill` has nothing to do).

    `key` must name everything the fill depends on (its function and parameters): two tables with
    equal keys are taken to be equal.

    >>> from collections import OrderedDict
    >>> cache = OrderedDict()
    >>> a = LazyTable(("squares", 4), np.int64, lambda t: np.square(np.arange(4), out=t), cache, 8, entries=4)
    >>> a.filled
    False
    >>> a.values().tolist()
    [0, 1, 4, 9]
    >>> b = LazyTable(("squares", 4), np.int64, None, cache, 8, entries=4)   # found in the cache
    >>> b.filled, b.array is a.array
    (True, True)
    """

    __slots__ = ("key", "fill_into", "cache", "size", "array", "filled")

    def __init__(self, key, dtype, fill_into, cache, size, entries=65536):
        self.key, self.fill_into, self.cache, self.size = key, fill_into, cache, size
        cached = cache.get(key)
        self.filled = cached is not None
        # A table found filled drops its fill (which may hold a node: nothing to keep alive).
        if self.filled:
            self.fill_into = None
        self.array = cached if cached is not None else np.empty(entries, dtype)

    def fill(self):
        if self.filled:
            return
        cached = self.cache.get(self.key)
        if cached is not None:
            self.array[...] = cached
        else:
            self.fill_into(self.array)
            self.cache[self.key] = self.array
            if len(self.cache) > self.size:
                self.cache.popitem(last=False)
        self.array.setflags(write=False)     # shared from now on
        self.filled = True
        self.fill_into = None

    def values(self) -> np.ndarray:
        """The filled table."""
        if not self.filled:
            self.fill()
        return self.array

    def __len__(self):
        return len(self.array)
