"""Optimized kernels: the same results as the reference kernels of
tinylite/kernels (bit-exact for integer ops), computed with fewer, cheaper
numpy passes.

Each module is named after the builtin op it speeds up and offers
`plan(node)`: None where its kernel does not apply (the reference kernel then
runs), else the eval function to use, which also carries a binder
(kernels._base.binds).  The reference kernel's prepare calls `plan` at its end;
`ENABLED = False` (or `reference_kernels()`) makes every prepare keep the
reference kernels, which tests use to compare the two on random shapes and
parameters.

Shared machinery: _requantize (LiteRT's fixed-point requantization computed
exactly in float64), and integer sums computed exactly in float32/float64
BLAS and elementwise passes (exact while every partial sum stays below 2**24
or 2**53; each kernel checks the bound from its constant weights at prepare).
"""
from contextlib import contextmanager

ENABLED = True


@contextmanager
def reference_kernels():
    """Prepare models with the reference kernels only (for differential tests)."""
    global ENABLED
    saved, ENABLED = ENABLED, False
    try:
        yield
    finally:
        ENABLED = saved
