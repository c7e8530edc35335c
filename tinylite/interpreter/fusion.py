"""Plan rewrites as declared patterns, applied once in allocate_tensors
before memory planning (the `rewrite` stage of subgraph.SubgraphRunner).

A `Pattern` names a chain of ops (each reading the previous one's output as
its first input), the conditions under which it applies, and what replaces
the matched steps.  `apply` runs every pattern of `PATTERNS` over the plan,
in order, before the arena is planned: the planner sees the rewritten plan,
so a tensor a rewrite no longer computes (a convolution's output computed
only inside its fused pool) gets no memory at all, and every other tensor's
lifetime is the one of the steps that really read and write it.

What every pattern may rely on (`apply` checks it before a pattern's own
conditions): no matched step is dynamic, and each tensor between two ops of
the chain is read by the next op only (counted through reshape views), is
not an output, input, variable or constant of the subgraph, and has a shape
known at prepare.  Rewrites change how values are computed, never which
values reach the graph's outputs; the intermediates they skip are
unobservable, as LiteRT reuses their memory too.  Under
experimental_preserve_all_tensors (every intermediate readable) and under
the reference op resolver the interpreter applies no pattern.

No rewrite writes on a prepared node: replacement steps get nodes their
kernels derive (Node.derived, optimized/conv_2d.fuse_max_pool,
optimized/prelu.on_pooled).  Patterns identify the kernels chosen at prepare
by their eval function, importing an op's kernel modules only once a node
of that op matched (a model without depthwise convolutions never imports
them).

The patterns (in the order they apply):

- `reshape_view`: RESHAPE, SQUEEZE and EXPAND_DIMS of an intermediate
  tensor become a view of their input; their step disappears.
- `conv_max_pool`: a float or integer CONV_2D followed by a MAX_POOL_2D
  whose windows tile its output (stride = filter, no padding) becomes one
  step that computes only the convolution outputs the pool reads, ordered
  so the pool is a maximum over contiguous blocks (see optimized/conv_2d.py;
  integer: optimized/_gemm.py, which pools the accumulators and requantizes
  only the maxima; 16-bit: optimized/_gemm16.py, likewise).  The
  convolution's output tensor is gone.
- `pool_before_prelu`: a PRELU with positive alphas, constant over height
  and width, whose only reader is a MAX_POOL_2D runs after the pool, in
  place on its 4-9x smaller output (x -> alpha*x for x < 0 is increasing,
  so it commutes with max exactly).  The PRELU's output tensor is gone.
- `pool_before_prelu_int`: the same for an int8/uint8 PRELU (its table kernel)
  whose every alpha's table is nondecreasing in the input (checked on the
  table: a negative alpha makes it decrease) and a pool without a clamp.
- `activation_onto_pool`: the fused clamp of a convolution whose only
  reader is a MAX_POOL_2D moves onto the pool, whose output is 4-9x smaller
  (a non-decreasing function commutes with max exactly).
- `bias_row`: the input of a one-row float FULLY_CONNECTED with a constant
  bias lives in a buffer with one more element, a constant 1, outside the
  arena, so the bias rides in the product as an extra weight row
  (optimized/fully_connected.py reads `bias_row`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

ALIAS_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")


@dataclass
class Match:
    """One place a pattern matched: the plan's entries (node, eval function,
    kernel module, dynamic) of its ops, in chain order."""
    entries: list

    @property
    def nodes(self):
        return [e[0] for e in self.entries]

    @property
    def fns(self):
        return [e[1] for e in self.entries]


@dataclass
class Rewriting:
    """What the patterns share while they run over one plan, and what they
    hand on to memory planning and binding."""
    keep: set                                       # tensors that must own their memory
    aliases: dict = field(default_factory=dict)     # tensor -> the tensor it is a view of
    bias_rows: dict = field(default_factory=dict)   # tensor -> its [1, size + 1] buffer ending in a 1
    elided: dict = field(default_factory=dict)      # tensor no step computes any more -> the pattern's name
    produced: set = field(default_factory=set)      # tensors some step writes (set before each pattern)
    fired: dict = field(default_factory=dict)       # pattern name -> how many places it rewrote

    def root(self, i: int) -> int:
        return self.aliases.get(i, i)


@dataclass(frozen=True)
class Pattern:
    """A plan rewrite.  `ops`: the chain matched, one entry per op, each an op
    name or a tuple of them; op k + 1 reads op k's first output as its first
    input.  `when(match, rewriting)`: the pattern's own conditions (the
    kernels prepare chose, dtypes, geometry), checked after the shared ones
    (see the module's docstring).  `replace(match, rewriting)`: for each
    matched op, the entries taking its place in the plan ([] drops it)."""
    name: str
    ops: tuple
    when: Callable
    replace: Callable


PATTERNS: list[Pattern] = []


def pattern(name: str, ops: tuple, when: Callable):
    """Register the decorated function as the `replace` of a Pattern."""
    def wrap(replace):
        PATTERNS.append(Pattern(name, ops, when, replace))
        return replace
    return wrap


def _is(op, name) -> bool:
    return name == op if isinstance(op, str) else name in op


def _readers(plans, rw: Rewriting) -> dict[int, int]:
    """How many reads of each tensor the plan makes, a view's reads counted
    on the tensor it views."""
    readers: dict[int, int] = {}
    for node, _, _, _ in plans:
        for s in node.inputs:
            if s is not None:
                i = rw.root(s.index)
                readers[i] = readers.get(i, 0) + 1
    return readers


def _matches(p: Pattern, plans, rw: Rewriting):
    """(positions, Match) for each place `p` matches in `plans`, no entry in two."""
    readers, producer = {}, {}
    if len(p.ops) > 1:          # (a one-op pattern looks at no chain)
        readers = _readers(plans, rw)
        for k, (node, _, _, _) in enumerate(plans):
            for s in node.outputs:
                producer.setdefault(s.index, k)
    used: set[int] = set()
    for last, (node, fn, _, dynamic) in enumerate(plans):
        if not _is(p.ops[-1], node.op_name) or dynamic or fn is None:
            continue
        positions = [last]
        for op in reversed(p.ops[:-1]):
            first = plans[positions[0]][0]
            if not first.inputs or first.inputs[0] is None:
                break
            t = first.inputs[0].index
            k = producer.get(t)
            if (k is None or t in rw.keep or t in rw.aliases or readers.get(t) != 1
                    or not _is(op, plans[k][0].op_name) or plans[k][3] or plans[k][1] is None
                    or len(plans[k][0].outputs) != 1 or plans[k][0].outputs[0].shape is None):
                break
            positions.insert(0, k)
        if len(positions) != len(p.ops) or used.intersection(positions):
            continue
        m = Match([plans[k] for k in positions])
        if p.when(m, rw):
            used.update(positions)
            yield positions, m


def apply(plans, keep: set[int]) -> tuple[list, Rewriting]:
    """The plan's entries with every pattern of PATTERNS applied, and what
    the rewrites decided (views, bias rows, tensors no longer computed)."""
    rw = Rewriting(set(keep))
    names = None
    for p in PATTERNS:
        # A pattern whose last op the plan lacks cannot match: skip its passes over the plan
        # (each costs ~1 ms on a model of 600 ops, and most models hold few of the patterns' ops).
        if names is None:
            names = {node.op_name for node, _, _, _ in plans}
        if not any(_is(p.ops[-1], name) for name in names):
            continue
        rw.produced = {s.index for node, _, _, _ in plans for s in node.outputs}
        replaced: dict[int, list] = {}
        for positions, m in list(_matches(p, plans, rw)):
            rw.fired[p.name] = rw.fired.get(p.name, 0) + 1
            for k, entries in zip(positions, p.replace(m, rw)):
                replaced[k] = entries
            written = {s.index for k in positions for e in replaced[k] for s in e[0].outputs}
            for node in m.nodes:
                for s in node.outputs:
                    if s.index not in written and s.index not in rw.aliases:
                        rw.elided[s.index] = p.name
        if replaced:
            plans = [e for k, entry in enumerate(plans) for e in replaced.get(k, [entry])]
            names = None
    return plans, rw


# -- the patterns --

def _alias_when(m, rw) -> bool:
    src, dst = m.nodes[0].inputs[0], m.nodes[0].outputs[0]
    return src.index not in rw.keep and dst.index not in rw.keep and src.dtype == dst.dtype


@pattern("reshape_view", (ALIAS_OPS,), when=_alias_when)
def _alias(m, rw):
    node = m.nodes[0]
    rw.aliases[node.outputs[0].index] = rw.root(node.inputs[0].index)
    return [[]]



def _tiling_pool(pool) -> bool:
    g = pool.data.geometry
    return (g["fh"], g["fw"]) == (g["sh"], g["sw"]) and not any(g["pad"]) and bool(np.prod(pool.outputs[0].shape))


def _conv_pool_when(m, rw) -> bool:
    from ..kernels.optimized import _gemm, _gemm16, conv_2d, max_pool_2d

    if not _tiling_pool(m.nodes[1]):
        return False
    if m.fns[0] is conv_2d.eval_float_fast and m.fns[1] is max_pool_2d.eval_float_fast:
        return True
    if m.fns[0] is _gemm16.eval_gemm16 and m.fns[1] is max_pool_2d.eval_int:
        return _gemm16.fusable_max_pool(*m.nodes)
    return (m.fns[0] is _gemm.eval_int and m.fns[1] is max_pool_2d.eval_int
            and _gemm.fusable_max_pool(*m.nodes))


@pattern("conv_max_pool", ("CONV_2D", "MAX_POOL_2D"), when=_conv_pool_when)
def _conv_max_pool(m, rw):
    from ..kernels.optimized import _gemm, _gemm16, conv_2d

    (conv, conv_fn, kernel, _), (pool, _, _, _) = m.entries
    fuse = {_gemm.eval_int: _gemm.fuse_max_pool, _gemm16.eval_gemm16: _gemm16.fuse_max_pool}.get(
        conv_fn, conv_2d.fuse_max_pool)
    fused_fn, fused = fuse(conv, pool)
    return [[(fused, fused_fn, kernel, False)], []]



def _prelu_pool_when(m, rw) -> bool:
    from ..kernels.optimized import max_pool_2d, prelu

    act, pool = m.nodes
    if m.fns[0] is not prelu.eval_float_fast or m.fns[1] is not max_pool_2d.eval_float_fast:
        return False
    alpha, x = act.inputs[1].data, act.inputs[0]
    if alpha is None or pool.data.act is not None or len(x.shape) != 4 or not alpha.size:
        return False
    # alpha must not vary over height and width: after the pool, positions move.
    spatial = alpha.shape[-3:-1] if len(alpha.shape) >= 3 else ()
    return all(d == 1 for d in spatial) and bool(np.all(np.isfinite(alpha) & (alpha > 0)))


@pattern("pool_before_prelu", ("PRELU", "MAX_POOL_2D"), when=_prelu_pool_when)
def _pool_before_prelu(m, rw):
    from ..kernels.optimized import prelu

    return _pool_then_prelu(m, prelu.on_pooled)


def _pool_then_prelu(m, on_pooled):
    """The pool on the PRELU's input, then the PRELU (its node for the pooled shape made by
    `on_pooled`) in place on the pool's output."""
    (act, act_fn, act_kernel, _), (pool, pool_fn, pool_kernel, _) = m.entries
    y = pool.outputs[0]
    pooled = pool.derived(inputs=[act.inputs[0]] + list(pool.inputs[1:]))
    in_place = on_pooled(act, y.shape).derived(inputs=[y] + list(act.inputs[1:]), outputs=[y])
    return [[], [(pooled, pool_fn, pool_kernel, False), (in_place, act_fn, act_kernel, False)]]



def _prelu_int_pool_when(m, rw) -> bool:
    from ..kernels.optimized import max_pool_2d, prelu

    act, pool = m.nodes
    if m.fns[0] is not prelu.eval_int_table or m.fns[1] is not max_pool_2d.eval_int:
        return False
    alpha, x = act.inputs[1].data, act.inputs[0]
    info = np.iinfo(x.dtype)
    if alpha is None or len(x.shape) != 4 or (pool.data.q_lo, pool.data.q_hi) != (info.min, info.max):
        return False
    spatial = alpha.shape[-3:-1] if len(alpha.shape) >= 3 else ()
    return all(d == 1 for d in spatial) and prelu.int_table_nondecreasing(act)


@pattern("pool_before_prelu_int", ("PRELU", "MAX_POOL_2D"), when=_prelu_int_pool_when)
def _pool_before_prelu_int(m, rw):
    from ..kernels.optimized import prelu

    return _pool_then_prelu(m, prelu.on_pooled_int)


def _activation_when(m, rw) -> bool:
    from ..kernels.optimized import max_pool_2d

    conv, pool = m.nodes
    if m.fns[1] is not max_pool_2d.eval_float_fast or pool.data.act is not None or conv.data.act is None:
        return False
    if conv.op_name == "CONV_2D":
        from ..kernels import conv_2d
        from ..kernels.optimized import conv_2d as conv_2d_fast

        return m.fns[0] in (conv_2d.eval_float, conv_2d_fast.eval_float_fast)
    from ..kernels import depthwise_conv_2d

    return m.fns[0] is depthwise_conv_2d.eval_float


@pattern("activation_onto_pool", (("CONV_2D", "DEPTHWISE_CONV_2D"), "MAX_POOL_2D"), when=_activation_when)
def _activation_onto_pool(m, rw):
    (conv, conv_fn, conv_kernel, _), (pool, pool_fn, pool_kernel, _) = m.entries
    return [[(conv.derived(act=None), conv_fn, conv_kernel, False)],
            [(pool.derived(act=conv.data.act), pool_fn, pool_kernel, False)]]



def _bias_row_when(m, rw) -> bool:
    from ..kernels.optimized import fully_connected

    node = m.nodes[0]
    if m.fns[0] is not fully_connected.eval_float_fast or node.data.wt is None or not node.has_input(2):
        return False
    x, bias = node.inputs[0], node.inputs[2]
    if bias.data is None or x.dtype != np.float32 or int(np.prod(x.shape)) != node.data.depth:
        return False
    root = rw.root(x.index)
    return root in rw.produced and root not in rw.keep


@pattern("bias_row", ("FULLY_CONNECTED",), when=_bias_row_when)
def _bias_row(m, rw):
    (node, fn, kernel, _), = m.entries
    x = node.inputs[0]
    root = rw.root(x.index)
    if root not in rw.bias_rows:
        rw.bias_rows[root] = np.ones((1, int(np.prod(x.shape)) + 1), x.dtype)
    return [[(node.derived(bias_row=rw.bias_rows[root]), fn, kernel, False)]]

