"""How much memory a plan may ask for, checked before numpy is asked.

A corrupt or hostile model can describe a tensor, or a kernel's scratch
buffer (a padded copy of an input, an im2col matrix), of terabytes.  Asking
numpy for it either fails with a MemoryError deep inside a kernel or, under
overcommit, succeeds and gets the process killed when the pages are touched.
So every allocation whose size comes from the model is weighed first against
what this process may still allocate: the headroom under its address-space
limit (RLIMIT_AS) where one is set, and never more than the machine's
physical memory.
"""
from __future__ import annotations

import os

from ..errors import PrepareError


def _physical_bytes() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _address_space_headroom() -> int | None:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        return max(soft - used, 0)
    except (ImportError, OSError, ValueError, AttributeError):
        return None


def available_bytes() -> int | None:
    """What this process may still allocate, as far as can be told (None: unknown)."""
    limits = [b for b in (_physical_bytes(), _address_space_headroom()) if b is not None]
    return min(limits) if limits else None


def _size(n: int) -> str:
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def check(nbytes: int, what: str, error=PrepareError) -> None:
    """Raise `error` if `nbytes` more cannot be allocated; `what` names what needs them."""
    free = available_bytes()
    if free is not None and nbytes > free:
        raise error(f"{what} needs {_size(nbytes)}, more than this process can allocate ({_size(free)} "
                    "available). A shape or an option in the model is implausibly large: check the model, and the "
                    "shapes given to resize_tensor_input.")
