"""Shape and data-movement ops against LiteRT: squeeze, expand_dims, transpose,
concatenation, unpack, split(_v), slice, gather, pad(v2), mirror_pad, fill, tile,
space/depth, arg_max/min, reshape, shape, pack, strided_slice."""
import numpy as np
import pytest

from oracle import assert_same_outputs, run_litert, run_tinylite
from tinylite.flatbuffer.reader import parse
from tinylite.flatbuffer.writer import write_model
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)

Q = (0.25, 3)                      # a quantization shared by input and output
DTYPES = [np.float32, np.int32, np.int64, np.bool_]


def data(shape, dtype=np.float32):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype)


def const(name, value, dtype=None):
    return dict(name=name, data=np.asarray(value, dtype))


def tensor(name, shape, dtype=np.float32, quant=None, **kw):
    d = dict(name=name, shape=list(shape), dtype=dtype, **kw)
    if quant is not None:
        d["quantization"] = quant
    return d


def check(op, inputs, outputs, feeds, options=None):
    assert_same_outputs(single_op_model(op, inputs, outputs, options=options), feeds)


def out(dtype=np.float32, quant=None, name="y", shape=(1,)):
    return tensor(name, shape, dtype, quant)


def with_scalars(content, *names):
    """The model with the named one-element constants made rank 0 (single_op_model
    stores every constant with at least one dimension)."""
    model = parse(content)
    for t in model.subgraphs[0].tensors:
        if t.name in names:
            t.shape = np.zeros(0, np.int32)
    return write_model(model)


def dtype_cases(extra=(np.int8,)):
    """(dtype, quantization) pairs: the plain types plus quantized ones on one grid."""
    return [(d, None) for d in DTYPES] + [(d, Q) for d in extra]


# --- SQUEEZE / EXPAND_DIMS ---

@pytest.mark.parametrize("dims", [[], [0], [2, 0], [-1], [-4, 3]])
@pytest.mark.parametrize("dtype,quant", dtype_cases((np.int8, np.uint8, np.int16)))
def test_squeeze(dims, dtype, quant):
    if dtype == np.int16 and quant is not None:
        quant = (0.25, 0)           # TFLite keeps int16 zero points at 0
    x = data((1, 3, 1, 1), dtype)
    check("SQUEEZE", [tensor("x", x.shape, dtype, quant)], [out(dtype, quant)], [x],
          dict(squeeze_dims=np.array(dims, np.int32)))


def test_squeeze_batch_resize():
    x = data((4, 1, 3, 1))
    check("SQUEEZE", [tensor("x", [1, 1, 3, 1], shape_signature=[-1, 1, 3, 1])], [out()], [x],
          dict(squeeze_dims=np.array([1, 3], np.int32)))


@pytest.mark.parametrize("axis", [0, 1, 3, -1, -2, -4])
@pytest.mark.parametrize("axis_dtype", [np.int32, np.int64])
def test_expand_dims(axis, axis_dtype):
    for dtype, quant in dtype_cases():
        x = data((2, 3, 4), dtype)
        check("EXPAND_DIMS", [tensor("x", x.shape, dtype, quant), const("a", [axis], axis_dtype)],
              [out(dtype, quant)], [x])


def test_expand_dims_axis_as_input():
    x = data((2, 3))
    content = single_op_model("EXPAND_DIMS", [tensor("x", x.shape), tensor("a", [], np.int32)], [out()])
    for axis in (0, -1, 1):
        assert_same_outputs(content, [x, np.int32(axis)])


# --- TRANSPOSE ---

@pytest.mark.parametrize("perm", [[1, 0], [0, 2, 1], [2, 0, 1], [3, 1, 0, 2], [-1, 0, -2], [4, 2, 0, 1, 3],
                                  [5, 0, 4, 1, 3, 2]])
def test_transpose(perm):
    shape = (2, 3, 4, 5, 6, 7)[:len(perm)]
    for dtype, quant in dtype_cases():
        x = data(shape, dtype)
        check("TRANSPOSE", [tensor("x", shape, dtype, quant), const("p", perm, np.int32)], [out(dtype, quant)], [x])


def test_transpose_batch_resize():
    x = data((5, 3, 4))
    check("TRANSPOSE", [tensor("x", [1, 3, 4], shape_signature=[-1, 3, 4]), const("p", [2, 0, 1], np.int32)],
          [out()], [x])


# --- CONCATENATION / PACK / UNPACK ---

@pytest.mark.parametrize("axis,count", [(0, 2), (1, 3), (-1, 5), (2, 1), (-3, 2)])
def test_concatenation(axis, count):
    for dtype, quant in dtype_cases((np.int8, np.uint8)):
        xs = []
        for i in range(count):
            shape = [2, 3, 4]
            shape[axis] = i + 1
            xs.append(data(shape, dtype))
        ins = [tensor(f"x{i}", x.shape, dtype, quant) for i, x in enumerate(xs)]
        check("CONCATENATION", ins, [out(dtype, quant)], xs, dict(axis=axis))


def test_concatenation_with_constant_and_batch_resize():
    x = data((3, 2, 4))
    c = data((1, 2, 4))
    check("CONCATENATION", [tensor("x", [1, 2, 4], shape_signature=[-1, 2, 4]), const("c", c)], [out()], [x],
          dict(axis=0))


def test_concatenation_constant_scalars():
    content = single_op_model("CONCATENATION", [const("a", 1.5, np.float32), const("b", -2.0, np.float32),
                                                const("c", 3.0, np.float32)], [out()], options=dict(axis=0))
    got, _ = assert_same_outputs(with_scalars(content, "a", "b", "c"), [])
    np.testing.assert_array_equal(got[0], [1.5, -2.0, 3.0])


@pytest.mark.parametrize("activation", ["RELU", "RELU6", "RELU_N1_TO_1", "TANH", "SIGN_BIT"])
@pytest.mark.parametrize("dtype,quant", [(np.float32, None), (np.int32, None), (np.int8, Q)])
def test_concatenation_fused_activation_refused(activation, dtype, quant):
    # LiteRT's prepare refuses any fused activation on CONCATENATION, for every type
    # (concatenation.cc: "params->activation != kTfLiteActNone"); tinylite used to apply
    # it, so a file only tinylite could run went unnoticed.  Both refuse it at allocate.
    a, b = data((2, 3), dtype), data((2, 2), dtype)
    content = single_op_model("CONCATENATION", [tensor("a", a.shape, dtype, quant), tensor("b", b.shape, dtype, quant)],
                              [out(dtype, quant)], options=dict(axis=1, fused_activation_function=activation))
    with pytest.raises(RuntimeError, match="activation"):
        run_litert(content, [a, b])
    with pytest.raises(RuntimeError) as caught:
        run_tinylite(content, [a, b])
    message = str(caught.value)
    assert f"fused_activation_function is {activation}" in message and "LiteRT" in message, message
    assert "re-convert" in message, message


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("count", [1, 3])
def test_pack(axis, count):
    for dtype, quant in [(np.float32, None), (np.int32, None), (np.int64, None), (np.int8, Q)]:
        xs = [data((2, 3), dtype) for _ in range(count)]
        check("PACK", [tensor(f"x{i}", (2, 3), dtype, quant) for i in range(count)], [out(dtype, quant)], xs,
              dict(axis=axis, values_count=count))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_unpack(axis):
    shape = (2, 3, 4)
    n = shape[axis]
    for dtype, quant in [(np.float32, None), (np.int32, None), (np.bool_, None), (np.int8, Q)]:
        x = data(shape, dtype)
        check("UNPACK", [tensor("x", shape, dtype, quant)], [out(dtype, quant, f"y{i}") for i in range(n)], [x],
              dict(num=n, axis=axis))


def test_unpack_int64():
    # LiteRT's UNPACK has no int64 kernel ("Type 'INT64' is not supported by unpack");
    # it is pure data movement, so tinylite runs it.  Compare with numpy.
    x = data((3, 2), np.int64)
    content = single_op_model("UNPACK", [tensor("x", x.shape, np.int64)],
                              [out(np.int64, name="y0"), out(np.int64, name="y1")], options=dict(num=2, axis=1))
    got = run_tinylite(content, [x])
    for i in range(2):
        np.testing.assert_array_equal(got[i], x[:, i])


# --- SPLIT / SPLIT_V ---

@pytest.mark.parametrize("axis,num", [(0, 2), (1, 3), (-1, 2), (2, 1), (-3, 1)])
def test_split(axis, num):
    for dtype, quant in [(np.float32, None), (np.int32, None), (np.int64, None), (np.int8, Q)]:
        x = data((2, 6, 4), dtype)
        check("SPLIT", [const("axis", axis, np.int32), tensor("x", x.shape, dtype, quant)],
              [out(dtype, quant, f"y{i}") for i in range(num)], [x], dict(num_splits=num))


def test_split_axis_as_input():
    x = data((4, 6))
    content = single_op_model("SPLIT", [tensor("axis", [], np.int32), tensor("x", x.shape)],
                              [out(name="y0"), out(name="y1")], options=dict(num_splits=2))
    for axis in (0, 1, -1):
        assert_same_outputs(content, [np.int32(axis), x])


@pytest.mark.parametrize("sizes,axis", [([1, 2, 3], 1), ([2, -1], 1), ([-1, 4, 1], -1), ([0, -1, 2], 1),
                                        ([4], 0), ([1, -1], -3)])
@pytest.mark.parametrize("size_dtype", [np.int32, np.int64])
def test_split_v(sizes, axis, size_dtype):
    shape = [2, 6, 6]
    shape[axis] = 6 if len(sizes) > 1 else 4
    for dtype, quant in [(np.float32, None), (np.int32, None), (np.int64, None), (np.int8, Q)]:
        x = data(shape, dtype)
        ins = [tensor("x", shape, dtype, quant), const("s", sizes, size_dtype), const("a", [axis], np.int32)]
        check("SPLIT_V", ins, [out(dtype, quant, f"y{i}") for i in range(len(sizes))], [x],
              dict(num_splits=len(sizes)))


# --- SLICE / STRIDED_SLICE ---

@pytest.mark.parametrize("begin,size", [([0], [-1]), ([1], [2]), ([0, 1], [2, -1]), ([1, 0, 2], [1, 3, -1]),
                                        ([0, 1, 1, 0], [-1, -1, 2, 3]), ([1, 0, 1, 0, 1], [1, 2, 1, -1, 1]),
                                        ([0, 1, 0, 1, 0, 1], [2, 1, -1, 1, 2, -1]), ([2, 3], [0, 0])])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_slice(begin, size, index_dtype):
    shape = (2, 3, 4, 5, 3, 2)[:len(begin)] if len(begin) > 1 else (4,)
    # LiteRT's SLICE trusts an output shape given in the model, so give the right one.
    want = [d - b if n == -1 else n for d, b, n in zip(shape, begin, size)]
    for dtype, quant in dtype_cases():
        x = data(shape, dtype)
        ins = [tensor("x", shape, dtype, quant), const("b", begin, index_dtype), const("s", size, index_dtype)]
        check("SLICE", ins, [out(dtype, quant, shape=want)], [x])


def test_slice_begin_as_input():
    x = data((4, 5))
    content = single_op_model("SLICE",
                              [tensor("x", x.shape), tensor("b", [2], np.int32), const("s", [2, -1], np.int32)],
                              [out(shape=[])])   # no rank: LiteRT then sizes it at run time
    for begin in ([0, 0], [2, 3], [1, 4]):     # (LiteRT cannot return an empty dynamic tensor)
        assert_same_outputs(content, [x, np.array(begin, np.int32)])


STRIDED_CASES = [
    # begin, end, strides, options
    ([1], [3], [1], {}),
    ([0, 1], [2, 4], [1, 2], {}),
    ([-1, 0], [-4, 3], [-1, 1], {}),                                # negative stride and index
    ([3, 2], [0, 0], [-1, -2], {}),
    ([0, 0], [0, 0], [1, 1], dict(begin_mask=0b01, end_mask=0b11)),
    ([5, -9], [-9, 9], [-1, 1], dict(begin_mask=0b00, end_mask=0b00)),  # out-of-range clamping
    ([10, 1], [-10, 3], [-2, 1], {}),
    ([-10, 0], [10, 100], [1, 1], {}),
    ([0, 0], [0, 0], [-1, -1], dict(begin_mask=0b11, end_mask=0b11)),  # full reverse
    ([1, 2], [0, 0], [1, 1], dict(shrink_axis_mask=0b01, end_mask=0b10)),
    ([-1, -2], [0, 0], [1, 1], dict(shrink_axis_mask=0b11)),
    ([0, 1, 0], [0, 3, 0], [1, 1, 1], dict(new_axis_mask=0b101)),
    ([0, 1], [0, 3], [1, 1], dict(ellipsis_mask=0b01)),              # ..., 1:3
    ([1, 0], [2, 0], [1, 1], dict(ellipsis_mask=0b10)),              # 1:2, ...
    ([0, 0, 2], [0, 0, 3], [1, 1, 1], dict(ellipsis_mask=0b010, new_axis_mask=0b001)),
    ([1, 0, 0, 1], [2, 0, 0, 2], [1, 1, 1, 1], dict(ellipsis_mask=0b0100, new_axis_mask=0b0010,
                                                    shrink_axis_mask=0b1001)),
    ([0, 0, -1], [0, 0, 0], [1, 1, -1], dict(ellipsis_mask=0b001, new_axis_mask=0b010, end_mask=0b100)),
    # offset: end = begin + size.  LiteRT reads one size per input dimension (it
    # crashes on shorter specs), so these cover every dimension.
    ([1, -3, 0], [2, 2, 3], [1, 1, 1], dict(offset=True)),
    ([0, -2, -1], [3, 2, 1], [2, 1, 1], dict(offset=True)),
    ([0, 1, 2], [4, 2, 1], [1, 1, 1], dict(offset=True, begin_mask=0b001)),
]


@pytest.mark.parametrize("begin,end,strides,options", STRIDED_CASES)
def test_strided_slice(begin, end, strides, options):
    shape = (4, 5, 3)
    for dtype, quant in dtype_cases():
        x = data(shape, dtype)
        ins = [tensor("x", shape, dtype, quant), const("b", begin, np.int32), const("e", end, np.int32),
               const("s", strides, np.int32)]
        check("STRIDED_SLICE", ins, [out(dtype, quant)], [x], options)


def test_strided_slice_begin_as_input():
    x = data((6, 4))
    content = single_op_model("STRIDED_SLICE", [tensor("x", x.shape), tensor("b", [2], np.int32),
                                                const("e", [5, 0], np.int32), const("s", [2, -1], np.int32)],
                              [out()])
    for begin in ([0, 3], [-2, 10], [-10, 2]):
        assert_same_outputs(content, [x, np.array(begin, np.int32)])


# --- GATHER ---

GATHER_CASES = [
    # params shape, indices shape, axis, batch_dims
    ((5,), (3,), 0, 0),
    ((5, 3), (), 0, 0),
    ((4, 5, 3), (2, 3), 1, 0),
    ((4, 5, 3), (6,), -1, 0),
    ((2, 5, 3), (2, 4), 1, 1),
    ((2, 3, 5, 4), (2, 3, 2), 2, 2),
    ((2, 3, 5, 4), (2, 6), 3, 1),
    ((2, 3, 5, 4), (2, 3, 2), -1, -1),
]


@pytest.mark.parametrize("pshape,ishape,axis,batch_dims", GATHER_CASES)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_gather(pshape, ishape, axis, batch_dims, index_dtype):
    n = pshape[axis]
    idx = rng.integers(0, n, ishape).astype(index_dtype)
    for dtype, quant in dtype_cases((np.int8, np.uint8)):
        x = data(pshape, dtype)
        check("GATHER", [tensor("x", pshape, dtype, quant), tensor("i", ishape, index_dtype)], [out(dtype, quant)],
              [x, idx], dict(axis=axis, batch_dims=batch_dims))


def test_gather_int16_and_constant_indices():
    x = data((6, 2))
    check("GATHER", [tensor("x", x.shape), const("i", [[5, 0], [2, 2]], np.int16)], [out()], [x], dict(axis=0))


@pytest.mark.parametrize("bad", [5, -1])
def test_gather_index_out_of_range(bad):
    x = data((5, 2))
    content = single_op_model("GATHER", [tensor("x", x.shape), tensor("i", [2], np.int32)], [out()])
    idx = np.array([0, bad], np.int32)
    with pytest.raises(RuntimeError):
        run_litert(content, [x, idx])
    with pytest.raises(RuntimeError, match="out of bounds"):
        run_tinylite(content, [x, idx])


# --- PAD / PADV2 / MIRROR_PAD ---

PADDINGS = [[[1, 2]], [[0, 0], [2, 1]], [[1, 0], [0, 3], [2, 2]], [[0, 0], [1, 1], [2, 0], [0, 0]],
            [[1, 0], [0, 1], [0, 0], [2, 1], [1, 1]]]


@pytest.mark.parametrize("pads", PADDINGS)
@pytest.mark.parametrize("pad_dtype", [np.int32, np.int64])
def test_pad(pads, pad_dtype):
    shape = (2, 3, 4, 3, 2)[:len(pads)]
    for dtype, quant in dtype_cases((np.int8, np.uint8)) + [(np.int16, (0.25, 0))]:
        x = data(shape, dtype)
        check("PAD", [tensor("x", shape, dtype, quant), const("p", pads, pad_dtype)], [out(dtype, quant)], [x])


def test_pad_paddings_as_input():
    x = data((2, 3))
    content = single_op_model("PAD", [tensor("x", x.shape), tensor("p", [2, 2], np.int32)], [out()])
    for pads in ([[0, 0], [0, 0]], [[1, 2], [3, 0]], [[0, 4], [1, 1]]):
        assert_same_outputs(content, [x, np.array(pads, np.int32)])


def test_dynamic_shape_changes_between_invokes():
    # One tinylite interpreter, new paddings (so a new output shape) on every invoke.
    import tinylite

    x = data((2, 3))
    content = single_op_model("PAD", [tensor("x", x.shape), tensor("p", [2, 2], np.int32)], [out()])
    interpreter = tinylite.Interpreter(model_content=content)
    interpreter.allocate_tensors()
    (xd, pd), (yd,) = interpreter.get_input_details(), interpreter.get_output_details()
    for pads in ([[1, 2], [3, 0]], [[0, 0], [0, 0]], [[2, 2], [1, 1]]):
        pads = np.array(pads, np.int32)
        interpreter.set_tensor(xd["index"], x)
        interpreter.set_tensor(pd["index"], pads)
        interpreter.invoke()
        (want,) = run_litert(content, [x, pads])
        np.testing.assert_array_equal(interpreter.get_tensor(yd["index"]), want)


def test_pad_batch_resize():
    x = data((3, 4, 4, 2))
    check("PAD", [tensor("x", [1, 4, 4, 2], shape_signature=[-1, 4, 4, 2]),
                  const("p", [[0, 0], [1, 1], [2, 2], [0, 0]], np.int32)], [out()], [x])


@pytest.mark.parametrize("pads", PADDINGS[:4])
def test_padv2(pads):
    shape = (2, 3, 4, 3)[:len(pads)]
    for dtype, quant in dtype_cases((np.int8, np.uint8)) + [(np.int16, (0.25, 0))]:
        x = data(shape, dtype)
        value = data((), dtype)
        check("PADV2", [tensor("x", shape, dtype, quant), const("p", pads, np.int32),
                        dict(name="v", data=np.asarray(value, dtype), quantization=quant)], [out(dtype, quant)], [x])


def test_padv2_value_as_input():
    x = data((2, 3))
    content = single_op_model("PADV2", [tensor("x", x.shape), const("p", [[1, 0], [2, 1]], np.int32),
                                        tensor("v", [1])], [out()])
    for v in (-7.5, 3.25):
        assert_same_outputs(content, [x, np.array([v], np.float32)])


@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
@pytest.mark.parametrize("pads", [[[2, 1]], [[0, 0], [1, 2]], [[3, 3], [2, 0]], [[1, 2], [0, 1], [2, 2]]])
def test_mirror_pad(mode, pads):
    shape = (4, 3, 3)[:len(pads)]
    if mode == "SYMMETRIC":
        pads = [[min(b + 1, d), min(a + 1, d)] for (b, a), d in zip(pads, shape)]   # up to the full size
    for pad_dtype in (np.int32, np.int64):
        for dtype, quant in dtype_cases():
            x = data(shape, dtype)
            check("MIRROR_PAD", [tensor("x", shape, dtype, quant), const("p", pads, pad_dtype)], [out(dtype, quant)],
                  [x], dict(mode=mode))


def test_mirror_pad_paddings_as_input():
    x = data((4, 5))
    content = single_op_model("MIRROR_PAD", [tensor("x", x.shape), tensor("p", [2, 2], np.int64)], [out()],
                              options=dict(mode="REFLECT"))
    for pads in ([[3, 0], [1, 4]], [[0, 0], [0, 0]]):
        assert_same_outputs(content, [x, np.array(pads, np.int64)])


# --- FILL / TILE ---

@pytest.mark.parametrize("dims", [[], [3], [2, 3], [1, 2, 3, 2], [2, 0]])
@pytest.mark.parametrize("dims_dtype", [np.int32, np.int64])
def test_fill(dims, dims_dtype):
    for dtype, quant in dtype_cases():
        value = data((), dtype)
        content = single_op_model("FILL", [const("d", np.array(dims, dims_dtype).reshape(-1)),
                                           dict(name="v", data=np.asarray(value, dtype), quantization=quant)],
                                  [out(dtype, quant)])
        assert_same_outputs(with_scalars(content, "v"), [])


def test_fill_inputs_dynamic():
    content = single_op_model("FILL", [tensor("d", [2], np.int32), tensor("v", [], np.int64)], [out(np.int64)])
    for dims, v in (([2, 3], 7), ([4, 1], -3)):
        assert_same_outputs(content, [np.array(dims, np.int32), np.int64(v)])


@pytest.mark.parametrize("reps", [[3], [1, 2], [2, 1, 3], [2, 2, 1, 2], [0, 2]])
@pytest.mark.parametrize("rep_dtype", [np.int32, np.int64])
def test_tile(reps, rep_dtype):
    shape = (3, 2, 2, 3)[:len(reps)]
    for dtype, quant in dtype_cases():
        x = data(shape, dtype)
        check("TILE", [tensor("x", shape, dtype, quant), const("m", reps, rep_dtype)], [out(dtype, quant)], [x])


def test_tile_multiples_as_input():
    x = data((2, 3), np.int32)
    content = single_op_model("TILE", [tensor("x", x.shape, np.int32), tensor("m", [2], np.int64)], [out(np.int32)])
    for reps in ([1, 1], [3, 2]):
        assert_same_outputs(content, [x, np.array(reps, np.int64)])


# --- SPACE_TO_DEPTH / DEPTH_TO_SPACE ---

@pytest.mark.parametrize("block", [1, 2, 3])
def test_space_to_depth(block):
    for dtype, quant in [(np.float32, None), (np.int32, None), (np.int64, None), (np.int8, Q), (np.uint8, Q)]:
        x = data((2, 6, 3 * block, 3), dtype)
        check("SPACE_TO_DEPTH", [tensor("x", x.shape, dtype, quant)], [out(dtype, quant)], [x],
              dict(block_size=block))


@pytest.mark.parametrize("block", [1, 2, 3])
def test_depth_to_space(block):
    for dtype, quant in [(np.float32, None), (np.int32, None), (np.int64, None), (np.int8, Q), (np.uint8, Q)]:
        x = data((2, 3, 2, 2 * block * block), dtype)
        check("DEPTH_TO_SPACE", [tensor("x", x.shape, dtype, quant)], [out(dtype, quant)], [x],
              dict(block_size=block))


def test_space_depth_batch_resize():
    x = data((3, 4, 4, 2))
    for op, shape in (("SPACE_TO_DEPTH", [1, 4, 4, 2]), ("DEPTH_TO_SPACE", [1, 4, 4, 8])):
        x = data([3] + shape[1:])
        check(op, [tensor("x", shape, shape_signature=[-1] + shape[1:])], [out()], [x], dict(block_size=2))


# --- ARG_MAX / ARG_MIN ---

@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("out_type", [np.int32, np.int64])
def test_arg_min_max(op, axis, out_type):
    for dtype, quant in [(np.float32, None), (np.int32, None), (np.bool_, None), (np.int8, Q), (np.uint8, Q)]:
        # Few distinct values, so ties are common: the first index must win.
        x = data((3, 4, 17), dtype) if dtype == np.bool_ else (rng.integers(0, 4, (3, 4, 17))).astype(dtype)
        for axis_dtype in (np.int32, np.int64):
            check(op, [tensor("x", x.shape, dtype, quant), const("a", [axis], axis_dtype)],
                  [out(out_type)], [x], dict(output_type="INT32" if out_type == np.int32 else "INT64"))


@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
def test_arg_min_max_vector_and_float(op):
    for n in (1, 3, 4, 17, 64):
        x = np.round(data((n,)) * 2)        # ties on a rank-1 input (scalar output)
        check(op, [tensor("x", x.shape), const("a", [0], np.int32)], [out(np.int32)], [x], dict(output_type="INT32"))


@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
def test_arg_min_max_nan(op):
    # NaN never wins, a number replaces a leading NaN, all-NaN gives 0.  Only the
    # reference loop is checked (reduction over a non-last axis): LiteRT's x86 build
    # runs a NEON-emulated kernel on the last axis whose NaN handling differs.
    rows = np.array([[np.nan, 1, 3, np.nan, 3], [np.nan] * 5, [np.nan, -np.inf, -np.inf, 2, 2],
                     [1, np.nan, 5, 5, np.nan]], np.float32)
    x = rows.T.copy()
    check(op, [tensor("x", x.shape), const("a", [0], np.int32)], [out(np.int32)], [x], dict(output_type="INT32"))


def test_arg_max_axis_as_input():
    x = data((3, 5))
    content = single_op_model("ARG_MAX", [tensor("x", x.shape), tensor("a", [1], np.int32)], [out(np.int64)],
                              options=dict(output_type="INT64"))
    for axis in (0, 1, -1):
        assert_same_outputs(content, [x, np.array([axis], np.int32)])


# --- RESHAPE / SHAPE ---

@pytest.mark.parametrize("new_shape", [[6, 4], [-1, 4], [2, -1, 2], [24], [-1], [1, 2, 1, 12]])
def test_reshape(new_shape):
    for dtype, quant in dtype_cases():
        x = data((2, 3, 4), dtype)
        check("RESHAPE", [tensor("x", x.shape, dtype, quant), const("s", new_shape, np.int32)], [out(dtype, quant)],
              [x], dict(new_shape=np.array(new_shape, np.int32)))


def test_reshape_option_only():
    x = data((2, 3, 4))
    check("RESHAPE", [tensor("x", x.shape)], [out()], [x], dict(new_shape=np.array([4, 6], np.int32)))


def test_reshape_to_scalar():
    x = data((1, 1))
    check("RESHAPE", [tensor("x", x.shape), const("s", np.zeros(0, np.int32))], [out()], [x])


def test_reshape_int64_shape_tensor_uses_option():
    # TFLite reads the shape input only when it is an int32 vector; else the option wins.
    x = data((2, 3, 4))
    check("RESHAPE", [tensor("x", x.shape), const("s", [24], np.int64)], [out()], [x],
          dict(new_shape=np.array([4, 6], np.int32)))


def test_reshape_shape_as_input():
    x = data((2, 3, 4))
    content = single_op_model("RESHAPE", [tensor("x", x.shape), tensor("s", [2], np.int32)], [out()])
    for shape in ([6, 4], [-1, 2], [24, 1]):
        assert_same_outputs(content, [x, np.array(shape, np.int32)])


def test_reshape_batch_resize():
    x = data((5, 3, 4))
    check("RESHAPE", [tensor("x", [1, 3, 4], shape_signature=[-1, 3, 4]), const("s", [-1, 12], np.int32)],
          [out()], [x])


@pytest.mark.parametrize("out_type", ["INT32", "INT64"])
def test_shape(out_type):
    dt = np.int32 if out_type == "INT32" else np.int64
    for shape in ([2, 3, 4], [7], [1, 1, 1, 1, 5]):
        x = data(shape)
        check("SHAPE", [tensor("x", shape)], [out(dt)], [x], dict(out_type=out_type))
    x = data((6, 2))
    check("SHAPE", [tensor("x", [1, 2], shape_signature=[-1, 2])], [out(dt)], [x], dict(out_type=out_type))


# --- quantized tensors on different grids go to the quantized kernels ---

@pytest.mark.parametrize("op,inputs,options", [
    ("SQUEEZE", lambda q: [tensor("x", [1, 3], np.int8, q)], {}),
    ("TRANSPOSE", lambda q: [tensor("x", [2, 3], np.int8, q), const("p", [1, 0], np.int32)], {}),
    ("PAD", lambda q: [tensor("x", [2, 3], np.int8, q), const("p", [[1, 1], [0, 0]], np.int32)], {}),
    ("CONCATENATION", lambda q: [tensor("a", [2, 3], np.int8, q), tensor("b", [2, 3], np.int8, Q)], dict(axis=0)),
    ("GATHER", lambda q: [tensor("x", [4, 3], np.int8, q), tensor("i", [2], np.int32)], {}),
])
def test_requantizing_delegates_to_quantized_kernels(monkeypatch, op, inputs, options):
    import tinylite
    from tinylite.kernels import kernel_for

    calls = []

    def fake(node):
        calls.append(node.op_name)
        raise tinylite.errors.UnsupportedOpError("delegated")

    monkeypatch.setattr(kernel_for(op), "prepare_quantized", fake, raising=False)
    content = single_op_model(op, inputs((0.5, -2)), [out(np.int8, Q)], options=options)
    with pytest.raises(ValueError, match="delegated"):
        tinylite.Interpreter(model_content=content).allocate_tensors()
    assert calls == [op]
