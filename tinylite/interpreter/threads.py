"""What `num_threads` does: how many cores one invoke may use.

The default (`num_threads` unset) is one thread: BLAS runs one thread during
invoke and every step runs in the calling thread.  numpy's own default (one
BLAS thread per core) is never much faster at batch 1, where products are
small, and can be far slower on a machine whose cores are busy: OpenBLAS's
threads spin waiting for work, and a user on a busy 2-core machine measured 16
ms per invoke with numpy's default against 0.66 ms with one thread.  Ask for
more with `num_threads=N`, which uses two levers:

- Batch splitting.  A heavy step whose output rows depend only on the same
  rows of its input (convolutions, pools, large fully connected layers) runs
  on `num_threads` slices of the batch at once, each slice in its own
  thread.  numpy releases the GIL in its copies, ufunc loops and BLAS calls,
  so the slices run in parallel.  Batch 1 is never split: LiteRT's own
  threads split single images, which numpy cannot do without paying more in
  dispatch than it gains.
- BLAS threads.  numpy's BLAS has one process-wide thread count, which the
  interpreter sets for its invoke (threadpoolctl finds the library numpy
  loaded): one thread when the plan splits batches, `num_threads`
  otherwise.  Never both at once: OpenBLAS's idle threads spin for a while
  after each call, and spinning beside the slice threads on the same cores
  made a split step twice slower, not faster.
"""
from __future__ import annotations

import numpy as np

from .tape import bind_step, quiet_context, run_quietly

# Below these sizes a step costs less than handing half of it to a thread
# (tens of microseconds), or BLAS loses more on thinner slices than the
# threads gain (measured: a fully connected layer of 32 rows of 576 -> 64,
# 36 us whole, 66 us in two halves).
MIN_SPLIT_MACS = 1 << 21          # convolutions
MIN_SPLIT_FC_MACS = 1 << 23       # fully connected layers
MIN_SPLIT_ELEMENTS = 1 << 18      # pools (output x window) and PRELU (input)

class Blas:
    """numpy's BLAS thread count, set only when it changes."""

    def __init__(self):
        self.controller = None
        self.current = None
        try:
            from threadpoolctl import ThreadpoolController

            libs = ThreadpoolController().select(user_api="blas").lib_controllers
            if libs:
                self.controller = libs[0]
                self.current = self.controller.get_num_threads()
        except Exception:  # noqa: BLE001 - no control over BLAS threads: leave them be
            self.controller = None

    def set(self, n: int) -> None:
        if self.controller is not None and n != self.current:
            self.controller.set_num_threads(n)
            self.current = n


_blas = None


def blas() -> Blas:
    global _blas
    if _blas is None:
        _blas = Blas()
    return _blas


def _splittable():
    from ..kernels import average_pool_2d, conv_2d, depthwise_conv_2d, fully_connected, max_pool_2d
    from ..kernels.optimized import average_pool_2d as fast_average_pool, conv_2d as fast_conv
    from ..kernels.optimized import depthwise_conv_2d as fast_depthwise
    from ..kernels.optimized import fully_connected as fast_fc, max_pool_2d as fast_max_pool, prelu as fast_prelu

    return {fast_conv.eval_float_fast, fast_conv.eval_float_max_pooled, fast_conv.eval_float_winograd_pooled,
            fast_conv.eval_float_chunked, conv_2d.eval_float, depthwise_conv_2d.eval_float,
            fast_depthwise.eval_float, max_pool_2d.eval_float, fast_max_pool.eval_float_fast,
            average_pool_2d.eval_float, fast_average_pool.eval_float_fast, fully_connected.eval_float,
            fast_fc.eval_float_fast, fast_prelu.eval_float_fast}


def _worth_splitting(node, ins, outs) -> bool:
    op = node.op_name
    if op == "FULLY_CONNECTED":
        return outs[0].size * node.data.depth >= MIN_SPLIT_FC_MACS
    if op == "PRELU":
        return ins[0].size >= MIN_SPLIT_ELEMENTS
    g = node.data.geometry
    taps = g.get("kh", g.get("fh")) * g.get("kw", g.get("fw"))
    if op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        # A conv fused with its pool computes its own (pre-pool) output, of the geometry's size.
        filt = node.inputs[1].shape
        cout, per_tap = (filt[0], filt[-1]) if op == "CONV_2D" else (filt[-1], 1)
        return ins[0].shape[0] * g["oh"] * g["ow"] * cout * taps * per_tap >= MIN_SPLIT_MACS
    return outs[0].size * taps >= MIN_SPLIT_ELEMENTS


class BatchSplit:
    """One step run on slices of its batch in parallel threads."""

    def __init__(self, fn, node, ins, outs, parts: int, executor):
        self.fn, self.executor = fn, executor
        n = outs[0].shape[0]
        edges = np.linspace(0, n, parts + 1).round().astype(int)
        self.parts = []
        for a, b in zip(edges[:-1], edges[1:]):
            # Each slice's step gets a node of its own: the same op data, its own
            # per-array caches (Node.derived).
            self.parts.append((node.derived(), [ins[0][a:b]] + list(ins[1:]), [outs[0][a:b]]))
        self.bound = [bind_step(fn, *p) for p in self.parts]
        # The calling thread runs the first slice in the invoke's context;
        # each worker's slice needs its own (a context runs in one thread).
        self.contexts = [quiet_context() for _ in self.parts]

    def __call__(self, node, ins, outs):
        futures = [self.executor.submit(run_quietly, context, _run, calls)
                   for context, calls in zip(self.contexts[1:], self.bound[1:])]
        _run(self.bound[0])
        for f in futures:
            f.result()


def _run(calls):
    for call in calls:
        call()


def split_batches(steps, num_threads: int, executor) -> list:
    """The steps, with the heavy batch-parallel ones split `num_threads` ways
    (the plan then runs BLAS at one thread: see the module's docstring)."""
    fns = _splittable()
    result = []
    for fn, node, ins, outs in steps:
        n = outs[0].shape[0] if len(outs) == 1 and outs[0].ndim else 0
        if (fn in fns and n >= 2 and ins[0] is not None and ins[0].ndim and ins[0].shape[0] == n
                and _worth_splitting(node, ins, outs)):
            fn = BatchSplit(fn, node, ins, outs, min(num_threads, n), executor)
        result.append((fn, node, ins, outs))
    return result
