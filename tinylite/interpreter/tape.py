"""The plan as one straight-line function of zero-argument calls, made once
per plan, and the context it runs in.

A step (kernel, node, inputs, outputs) whose kernel has a binder (see
kernels._base.binds) becomes the numpy calls the kernel would make, with
their arrays fixed; any other step becomes one call of its kernel.  The
calls are then compiled into a function that makes them one after another:
no per-step unpacking, no per-kernel lookups of cached views, no loop.  At
batch 1 those cost as much as a small model's smaller ops (fashion_cnn:
about 6 of the 62 us an invoke took, for the same numpy calls).
"""
from __future__ import annotations

import contextvars
from functools import lru_cache, partial
from types import FunctionType

import numpy as np

from ..kernels._base import Node


def bind_step(fn, node, ins, outs, bind=True) -> list:
    """One step as a list of zero-argument calls (with bind=False, one call of
    its kernel, as the reference resolver runs them)."""
    binder = getattr(fn, "bind", None) if bind else None
    calls = binder(node, ins, outs) if binder is not None else None
    return calls if calls is not None else [partial(fn, node, ins, outs)]


def call_name(call, op: str) -> str:
    """What a bound call runs, for profiles: the numpy function ("dot",
    "copyto", "maximum", "maximum.reduce"), "<op> kernel" for a step run
    whole, "<op> <name>" for a binder's own Python function."""
    fn = call.func if isinstance(call, partial) else call
    if isinstance(call, partial) and call.args and isinstance(call.args[0], Node):
        return f"{op} kernel"
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, np.ufunc):
        return f"{owner.__name__}.{fn.__name__}"
    if isinstance(fn, FunctionType):
        return f"{op} {fn.__name__}"
    return getattr(fn, "__name__", type(fn).__name__)


# numpy 2 deprecates a positional output for these (a third argument reads as a third input).
_KEYWORD_OUT = (np.maximum, np.minimum)


def positional_out(call):
    """A bound ufunc call with its output passed by position (np.add(x, y, out)) rather than by
    keyword (out=out), the same call: numpy parses the keyword at every call, 0.2 us of the 0.35-0.5
    a small ufunc call costs (measured on 16 values), a tenth of a small int8 model's invoke.
    (Tape applies it to plans of up to MAX_COMPILED_CALLS calls.)"""
    keywords = getattr(call, "keywords", None)
    if not keywords or "out" not in keywords or type(call) is not partial:
        return call
    fn = call.func
    if type(fn) is not np.ufunc or len(call.args) != fn.nin or fn in _KEYWORD_OUT:
        return call
    keywords = dict(keywords)
    out = keywords.pop("out")
    return partial(fn, *call.args, *(out if type(out) is tuple else (out,)), **keywords)


# Compiling the straight-line function costs ~25 us a call at load; past this many calls a loop
# over them runs within a few percent of it (1.87 against 1.83 us a call, measured on 3000 calls).
MAX_COMPILED_CALLS = 500


@lru_cache(maxsize=32)
def _plan_code(n: int):
    """The compiled source of a plan of n calls (c0() .. c{n-1}() from its namespace).  It depends
    on n only, so plans of one length share it: compiling costs ~7 us a call, paid once per length
    in a process (a model loaded again, or another of as many calls)."""
    # Line 3 + i of the source makes call i: the traceback's line number names it.
    source = ("def run():\n    try:\n" + "".join(f"        c{i}()\n" for i in range(n)) + "        return\n"
              "    except Exception as e:\n        on_error(owner[e.__traceback__.tb_lineno - 3], e)\n")
    return compile(source, "<tinylite plan>", "exec")


class Tape:
    """The bound steps: `run()` makes `calls` in order, and hands an exception
    to `on_error(step, exception)` with the index of the step that raised it;
    `groups[k]` are the calls of step k (for profiles)."""

    def __init__(self, steps, on_error, bind=True):
        self.groups = [bind_step(*step, bind=bind) for step in steps]
        self.calls = [c for group in self.groups for c in group]
        self.owner = [k for k, group in enumerate(self.groups) for _ in group]
        if len(self.calls) > MAX_COMPILED_CALLS:
            self.run = self._loop(self.calls, self.owner, on_error)
            return
        # A plan of few calls (a small model, where they cost more than their arithmetic) passes its
        # ufuncs' outputs by position; in a large one the 0.2 us a call saves is lost in its work,
        # and rewriting its thousands of calls would cost ms of its load.
        self.groups = [[positional_out(c) for c in group] for group in self.groups]
        self.calls = [c for group in self.groups for c in group]
        names = [f"c{i}" for i in range(len(self.calls))]
        namespace = dict(zip(names, self.calls), on_error=on_error, owner=self.owner)
        exec(_plan_code(len(names)), namespace)  # noqa: S102 - our own source, names only
        # Taken out of its namespace (its globals): left there, the function and its globals would
        # be a reference cycle keeping every bound call and array alive until a full collection.
        self.run = namespace.pop("run")

    @staticmethod
    def _loop(calls, owner, on_error):
        def run():
            call = None
            try:
                for call in calls:
                    call()
            except Exception as e:
                on_error(owner[next(i for i, c in enumerate(calls) if c is call)], e)
        return run


def quiet_context():
    """A copy of the current context in which numpy ignores floating-point
    errors (overflow and NaN are values in TFLite, not events, and LiteRT
    prints no warnings), or None where numpy keeps that state per thread
    (numpy < 2): callers then wrap their run in np.errstate.

    Running in a context made once costs nothing per invoke; entering
    np.errstate costs 1.4 us, and even setting numpy's context variable
    directly 0.7 us (its first lookups after a change are slower)."""
    if int(np.__version__.split(".")[0]) < 2:
        return None
    context = contextvars.copy_context()
    context.run(np.seterr, all="ignore")
    return context


def run_quietly(context, fn, *args):
    """fn(*args) with floating-point errors ignored (`context` from quiet_context)."""
    if context is None:
        with np.errstate(all="ignore"):
            return fn(*args)
    try:
        return context.run(fn, *args)
    except RuntimeError as e:
        if str(e).startswith("cannot enter context"):
            raise RuntimeError("Interpreter.invoke was called while another invoke of the same interpreter is "
                               "running (from another thread?); an Interpreter runs one invoke at a time: use "
                               "one Interpreter per thread.") from None
        raise
