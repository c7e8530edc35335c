"""TFLite's sparse tensor encoding (``SparsityParameters``) turned back into dense arrays.

A sparse constant stores only its kept values.  Its ``dim_metadata`` walks the
tensor in ``traversal_order`` over the *expanded* dimensions: the original ones
(block counts where ``block_map`` blocks them) followed by one in-block
dimension per blocked original dimension.  Each level is either DENSE (every
index 0..dense_size-1) or SPARSE_CSR (the indices ``array_indices[seg[p]:seg[p+1]]``
under the parent position ``p``), as LiteRT's FormatConverter reads them.  The
walk here is vectorized level by level, so densifying costs in proportion to
the tensor, not to a Python loop over its elements.
"""
from __future__ import annotations

import numpy as np

DENSE, SPARSE_CSR = 0, 1


class SparsityError(ValueError):
    """The sparsity metadata does not describe a tensor of the given shape and values."""


def _vector(entry):
    if entry is None:
        return None
    return np.asarray(entry[1] if isinstance(entry, tuple) else entry, dtype=np.int64)


def densify(values: np.ndarray, shape, sparsity: dict) -> np.ndarray:
    """The dense array of `shape` that a sparse tensor's kept `values` and metadata describe.

    >>> s = {"traversal_order": [0, 1], "block_map": [], "dim_metadata": [
    ...     {"format": 0, "dense_size": 2, "array_segments": None, "array_indices": None},
    ...     {"format": 1, "dense_size": 0, "array_segments": [0, 1, 3], "array_indices": [2, 0, 1]}]}
    >>> densify(np.array([5., 6., 7.]), (2, 3), s)
    array([[0., 0., 5.],
           [6., 7., 0.]])
    """
    shape = tuple(int(d) for d in shape)
    n = len(shape)
    order = [int(v) for v in (sparsity.get("traversal_order") if sparsity.get("traversal_order") is not None
                              else range(n))]
    block_map = [int(v) for v in (sparsity.get("block_map") if sparsity.get("block_map") is not None else [])]
    dims = sparsity.get("dim_metadata") or []
    if len(order) != n + len(block_map) or len(dims) != len(order) or sorted(order) != list(range(len(order))):
        raise SparsityError(
            f"sparsity metadata has traversal order {order}, block map {block_map} and {len(dims)} "
            f"dimension entries, which do not describe a tensor of shape {list(shape)}")
    if any(not 0 <= b < n for b in block_map):
        raise SparsityError(f"block map {block_map} names a dimension outside shape {list(shape)}")
    # Block sizes come from the dense sizes of the in-block levels.
    block_size = {}
    for level, expanded in enumerate(order):
        if expanded >= n:
            size = int(dims[level].get("dense_size") or 0)
            block = block_map[expanded - n]
            if dims[level].get("format", DENSE) != DENSE or size <= 0 or shape[block] % size:
                raise SparsityError(f"block dimension {expanded} of shape {list(shape)} needs a dense size "
                                    f"dividing {shape[block]}, got {size}")
            block_size[block] = size

    positions = np.zeros(1, np.int64)            # each partial path's position at the current level
    coords = np.zeros((len(order), 1), np.int64)  # each path's index per expanded dimension
    total = int(np.prod(shape)) if shape else 1
    for level, expanded in enumerate(order):
        meta = dims[level]
        if meta.get("format", DENSE) == DENSE:
            size = int(meta.get("dense_size") or 0)
            if size < 0 or positions.size * max(size, 1) > total:
                raise SparsityError(f"dense size {size} at level {level} exceeds the tensor's {total} elements")
            step = np.arange(size, dtype=np.int64)
            positions = (positions[:, None] * size + step).ravel()
            coords = np.repeat(coords, size, axis=1)
            coords[expanded] = np.tile(step, coords.shape[1] // max(size, 1)) if size else coords[expanded]
        else:
            segments, indices = _vector(meta.get("array_segments")), _vector(meta.get("array_indices"))
            if segments is None or indices is None or segments.size < 1 or positions.size and (
                    positions.max() + 1 >= segments.size):
                raise SparsityError(f"sparse level {level} has {0 if segments is None else segments.size} "
                                    f"segments for {positions.size} parent positions")
            start, stop = segments[positions], segments[positions + 1]
            counts = stop - start
            if (counts < 0).any() or stop.max(initial=0) > indices.size:
                raise SparsityError(f"sparse level {level}: segments are not increasing or exceed its "
                                    f"{indices.size} indices")
            new_positions = np.repeat(start - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
            coords = np.repeat(coords, counts, axis=1)
            coords[expanded] = indices[new_positions]
            positions = new_positions
    kept = coords.shape[1]
    values = np.asarray(values).reshape(-1)
    if values.size < kept:
        raise SparsityError(f"sparsity metadata keeps {kept} values but the buffer holds {values.size}")
    dense_coords = []
    for d in range(n):
        c = coords[d]
        if d in block_size:
            c = c * block_size[d] + coords[n + block_map.index(d)]
        if c.size and (c.min() < 0 or c.max() >= shape[d]):
            raise SparsityError(f"sparse index {int(c.max())} is out of range for dimension {d} of "
                                f"shape {list(shape)}")
        dense_coords.append(c)
    out = np.zeros(shape, values.dtype)
    if kept:
        out[tuple(dense_coords)] = values[:kept]
    return out
