"""STABLEHLO_GATHER, STABLEHLO_SCATTER and STABLEHLO_REDUCE_WINDOW against
LiteRT on single-op models (the scatter update and the reduction body are
one-op subgraphs): every data type LiteRT's kernels take, int32 and int64
indices, clamped gather starts, out-of-bounds and duplicate scatter indices,
base dilation and (negative) padding."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(11)
I64 = np.int64
ALL_NUMERIC = [np.float32, np.float16, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
               np.uint32, np.uint64]


def values(shape, dtype, low=-20, high=20):
    if np.dtype(dtype) == np.bool_:
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(shape) * 4).astype(dtype)
    if np.dtype(dtype).kind == "u":
        low = 0
    return rng.integers(low, high, shape).astype(dtype)


def gather_model(operand_shape, idx_shape, idx_dtype, dtype, out_rank, **opts):
    options = {k: (np.array(v, I64) if isinstance(v, list) else v) for k, v in opts.items()}
    return single_op_model("STABLEHLO_GATHER", [("x", operand_shape, dtype), ("i", idx_shape, idx_dtype)],
                           [("y", [1] * out_rank, dtype)], options=options)


GATHERS = [
    # torch.index_select-like: rows of a matrix; index_vector_dim is the (implicit) trailing dim.
    dict(operand=[5, 3], idx=[4], out_rank=2, offset_dims=[1], collapsed_slice_dims=[0], start_index_map=[0],
         index_vector_dim=1, slice_sizes=[1, 3]),
    # 2-D start vectors, windows of 2x2 (clamped near the edge), batch in front.
    dict(operand=[4, 6], idx=[3, 2], out_rank=3, offset_dims=[1, 2], collapsed_slice_dims=[], start_index_map=[0, 1],
         index_vector_dim=1, slice_sizes=[2, 2]),
    # index vector on dim 0, offset dims before the batch dims, one start dim mapped to operand dim 2.
    dict(operand=[2, 3, 5], idx=[1, 2, 2], out_rank=4, offset_dims=[0, 1], collapsed_slice_dims=[2],
         start_index_map=[2], index_vector_dim=0, slice_sizes=[2, 2, 1]),
]


@pytest.mark.parametrize("dtype", ALL_NUMERIC)
@pytest.mark.parametrize("idx_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("case", range(len(GATHERS)))
def test_stablehlo_gather(dtype, idx_dtype, case):
    g = dict(GATHERS[case])
    operand, idx, out_rank = g.pop("operand"), g.pop("idx"), g.pop("out_rank")
    x = values(operand, dtype)
    # Starts beyond the operand's edge are clamped so the slice fits; negative ones to 0.
    i = rng.integers(-2, max(operand) + 2, idx).astype(idx_dtype)
    assert_same_outputs(gather_model(operand, idx, idx_dtype, dtype, out_rank, **g), [x, i], rtol=0, atol=0)


SCATTER_BODIES = {"replace": None, "add": "STABLEHLO_ADD", "mul": "STABLEHLO_MULTIPLY", "max": "STABLEHLO_MAXIMUM",
                  "min": "STABLEHLO_MINIMUM"}


def scatter_model(input_shape, idx_shape, idx_dtype, upd_shape, dtype, body, **opts):
    options = {k: (np.array(v, I64) if isinstance(v, list) else v) for k, v in opts.items()}
    options["update_computation_subgraph_index"] = 1
    op = SCATTER_BODIES[body]
    sub = (op, [("a", [], dtype), ("b", [], dtype)], [("c", [], dtype)], None)
    return single_op_model("STABLEHLO_SCATTER", [("x", input_shape, dtype), ("i", idx_shape, idx_dtype),
                                                 ("u", upd_shape, dtype)],
                           [("y", input_shape, dtype)], options=options, bodies=[sub])


SCATTERS = [
    # Rows of a matrix (duplicates and out-of-range rows among the indices).
    dict(input=[6, 3], idx=[5, 1], upd=[5, 3], update_window_dims=[1], inserted_window_dims=[0],
         scatter_dims_to_operand_dims=[0], index_vector_dim=1),
    # Single elements at 2-D index vectors read along dim 0.
    dict(input=[4, 5], idx=[2, 7], upd=[7], update_window_dims=[], inserted_window_dims=[0, 1],
         scatter_dims_to_operand_dims=[0, 1], index_vector_dim=0),
    # 2x2 windows placed at 2-D starts, windows that run over the edge partly skipped.
    dict(input=[5, 6], idx=[3, 2], upd=[3, 2, 2], update_window_dims=[1, 2], inserted_window_dims=[],
         scatter_dims_to_operand_dims=[1, 0], index_vector_dim=1),
]


@pytest.mark.parametrize("body", list(SCATTER_BODIES))
@pytest.mark.parametrize("dtype", ALL_NUMERIC + [np.bool_])
@pytest.mark.parametrize("case", range(len(SCATTERS)))
def test_stablehlo_scatter(body, dtype, case):
    s = dict(SCATTERS[case])
    shape, idx, upd = s.pop("input"), s.pop("idx"), s.pop("upd")
    idx_dtype = np.int64 if case % 2 else np.int32
    x, u = values(shape, dtype, -5, 6), values(upd, dtype, -5, 6)
    i = rng.integers(-1, max(shape) + 1, idx).astype(idx_dtype)
    content = scatter_model(shape, idx, idx_dtype, upd, dtype, body, **s)
    assert_same_outputs(content, [x, i, u], rtol=0, atol=0)


RW_BODIES = {"ADD": "add", "STABLEHLO_ADD": "add", "MUL": "mul", "STABLEHLO_MULTIPLY": "mul",
             "MAXIMUM": "max", "STABLEHLO_MAXIMUM": "max", "MINIMUM": "min", "STABLEHLO_MINIMUM": "min",
             "LOGICAL_AND": "all", "STABLEHLO_AND": "all", "LOGICAL_OR": "any"}
RW_TYPES = [np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_]
WINDOWS = [  # window_dimensions, window_strides, base_dilations, window_dilations, padding
    ([2, 2], [1, 1], [1, 1], [1, 1], [0, 0, 0, 0]),
    ([3, 2], [2, 1], [2, 1], [1, 2], [1, 0, 2, 1]),
    ([2, 3], [1, 2], [1, 2], [2, 1], [-1, 1, 0, -2]),
]


# LiteRT adds and multiplies bool tensors as int8 bytes (1 + 1 = 2, not a bool): not a case to match.
@pytest.mark.parametrize("body,dtype", [(b, t) for b in RW_BODIES for t in RW_TYPES
                                        if not (t == np.bool_ and RW_BODIES[b] in ("add", "mul"))])
@pytest.mark.parametrize("w", range(len(WINDOWS)))
def test_stablehlo_reduce_window(body, dtype, w):
    kind = RW_BODIES[body]
    window, strides, base, dil, padding = WINDOWS[w]
    body_types = np.bool_ if kind in ("all", "any") else dtype
    options = dict(window_dimensions=np.array(window, I64), window_strides=np.array(strides, I64),
                   base_dilations=np.array(base, I64), window_dilations=np.array(dil, I64),
                   padding=np.array(padding, I64), body_subgraph_index=1)
    body_options = dict(fused_activation_function="NONE") if body in ("ADD", "MUL") else None
    sub = (body, [("a", [], body_types), ("b", [], body_types)], [("c", [], body_types)], body_options)
    content = single_op_model("STABLEHLO_REDUCE_WINDOW", [("x", [5, 7], dtype), dict(name="i", shape=[], dtype=dtype)],
                              [("y", [1, 1], dtype)], options=options, bodies=[sub])
    x = values([5, 7], dtype, -3, 4)
    init = np.array({"mul": 1, "all": True, "any": False, "max": -100, "min": 100}.get(kind, 0)).astype(dtype) \
        if dtype != np.bool_ else np.array(kind in ("all", "min"))
    if np.dtype(dtype).kind == "u" and kind == "max":
        init = np.array(0, dtype)
    rtol = 1e-6 if np.dtype(dtype).kind == "f" else 0
    assert_same_outputs(content, [x, init], rtol=rtol, atol=0)
