"""Files that parse but describe a broken graph: each gets a clear error naming
the node (or tensor) at fault, or runs as LiteRT runs it; never a raw
exception, an internal message or an unbounded allocation.  (Each case is one
the fuzz of issue 15 found.)"""
import re

import numpy as np
import pytest

import tinylite
from tinylite.errors import InvalidModelError, PrepareError, TinyliteError
from tinylite.flatbuffer import read_model, write_model
from tinylite.testing import chain_model, single_op_model

from oracle import litert_interpreter, run_litert, run_tinylite

INTERNALS = re.compile(r"IndexError|KeyError|AttributeError|TypeError|OverflowError|ZeroDivisionError|NoneType|"
                       r"UFunc|index out of range|negative dimensions are not allowed|cannot reshape|Cannot cast")


def fc_model():
    rng = np.random.default_rng(0)
    return chain_model(("x", [2, 4]), [
        ("RELU", [], ("r", [2, 4]), None),
        ("FULLY_CONNECTED", [dict(name="w", data=rng.standard_normal((3, 4)).astype(np.float32)),
                             dict(name="b", data=np.zeros(3, np.float32))], ("y", [2, 3]), None)])


def edited(content, edit):
    m = read_model(content)
    edit(m, m.subgraphs[0])
    return write_model(m)


def run(content):
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    for d in ip.get_input_details():
        ip.set_tensor(d["index"], np.ones(d["shape"], d["dtype"]))
    ip.invoke()
    return [ip.get_tensor(d["index"]) for d in ip.get_output_details()]


def clean_error(content, error=TinyliteError, match=None):
    with pytest.raises(error) as info:
        run(content)
    message = str(info.value)
    assert not INTERNALS.search(message), message
    if match:
        assert re.search(match, message), message
    return info.value


# -- tensors nobody writes, tensors written twice, cycles --

def test_op_reading_a_tensor_nothing_writes():
    # The subgraph's input list emptied: RELU's input is written by nothing.
    content = edited(fc_model(), lambda m, sg: setattr(sg, "inputs", []))
    clean_error(content, InvalidModelError, r"Node number 0 \(RELU\) reads tensor 0 \('x'\), but no op writes it")


def test_op_reading_the_output_of_a_removed_op():
    content = edited(fc_model(), lambda m, sg: sg.operators.pop(0))
    clean_error(content, InvalidModelError, r"Node number 0 \(FULLY_CONNECTED\) reads tensor 1 \('r'\)")


def test_ops_out_of_order():
    content = edited(fc_model(), lambda m, sg: sg.operators.reverse())
    clean_error(content, InvalidModelError, r"written only later, by Node number 1 .*out of order")


def test_tensor_with_two_writers():
    content = chain_model(("x", [2, 4]), [("RELU", [], ("a", [2, 4]), None), ("RELU6", [], ("b", [2, 4]), None),
                                          ("TANH", [], ("c", [2, 4]), None)])
    def edit(m, sg):
        sg.operators[2].outputs = [1]      # TANH writes RELU's output too
        sg.outputs = [1]
    clean_error(edited(content, edit), InvalidModelError, r"tensor 1 \('a'\) has two writers, Node number 0 and "
                r"Node number 2 \(TANH\)")


def test_op_reading_its_own_output():
    def edit(m, sg):
        sg.operators[1].inputs[0] = sg.operators[1].outputs[0]
    clean_error(edited(fc_model(), edit), InvalidModelError, r"Node number 1 \(FULLY_CONNECTED\) reads tensor 4 "
                r"\('y'\), which is its own output")


def test_graph_output_nothing_writes():
    def edit(m, sg):
        sg.tensors.append(type(sg.tensors[0])(name="orphan", shape=np.array([2], np.int32)))
        sg.outputs = [len(sg.tensors) - 1]
    clean_error(edited(fc_model(), edit), InvalidModelError, r"output tensor 5 \('orphan'\) of the graph is never "
                "written")


def test_zero_size_tensor_with_a_buffer_index_is_not_a_constant_when_an_op_writes_it():
    # Its (empty) buffer read as a zero-size constant made the next op fold on it.
    def edit(m, sg):
        sg.tensors[1].shape = np.array([0, 4], np.int32)
        sg.tensors[1].buffer = m.add_buffer(b"")
    expected = run(fc_model())
    np.testing.assert_array_equal(run(edited(fc_model(), edit))[0], expected[0])


# -- variables, quantization parameters, types, sizes --

def test_constant_marked_as_variable_is_rejected_like_litert():
    content = edited(fc_model(), lambda m, sg: setattr(sg.tensors[2], "is_variable", True))
    clean_error(content, InvalidModelError, r"tensor 2 \('w'\) is a variable tensor but also has constant data")
    with pytest.raises((ValueError, RuntimeError)):
        ip = litert_interpreter(content)
        ip.allocate_tensors()


def per_channel_fc(scales):
    rng = np.random.default_rng(0)
    return single_op_model(
        "FULLY_CONNECTED",
        [dict(name="x", shape=[2, 8], dtype=np.int8, quantization=(0.05, 3)),
         dict(name="w", data=rng.integers(-127, 128, (4, 8)).astype(np.int8),
              quantization=(scales, [0] * len(scales), 0)),
         dict(name="b", data=np.zeros(4, np.int32), quantization=([1e-3] * 4, [0] * 4))],
        [dict(name="y", shape=[2, 4], dtype=np.int8, quantization=(0.1, -2))])


def test_per_channel_scale_count_must_match_the_channels_like_litert():
    run(per_channel_fc([0.01, 0.02, 0.03, 0.04]))
    content = per_channel_fc([0.01, 0.02, 0.03])
    clean_error(content, InvalidModelError, r"tensor 1 \('w'\) of shape \[4, 8\] has 3 per-channel scales for "
                r"dimension 0, which has 4 channels")
    with pytest.raises((ValueError, RuntimeError)):
        ip = litert_interpreter(content)
        ip.allocate_tensors()


@pytest.mark.parametrize("scale", [np.inf, np.nan, -0.5])
def test_quantization_scale_must_be_finite_and_not_negative(scale):
    content = per_channel_fc([0.01, scale, 0.03, 0.04])
    clean_error(content, InvalidModelError, r"tensor 1 \('w'\) \(INT8\) has quantization scale 1 .*finite and "
                "not negative")


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_zero_scale_runs_like_litert(dtype):
    """TensorFlow's 16x8 files give a tensor of zeros (a dynamic-batch RNN's initial state, then
    multiplied into the cell and through FULLY_CONNECTED) scale 0; LiteRT runs them, its
    multipliers then 0.  (LiteRT's ADD aborts on a zero scale; tinylite's runs.)"""
    zeros = dict(name="zeros", shape=[4], dtype=dtype, quantization=(0.0, 0), data=np.zeros(4, dtype))
    content = single_op_model("MUL", [dict(name="x", shape=[4], dtype=dtype, quantization=(0.1, 0)), zeros],
                              [dict(name="y", shape=[4], dtype=dtype, quantization=(0.05, 0))])
    x = np.array([1, -7, 30, 100], dtype)
    np.testing.assert_array_equal(run_tinylite(content, [x])[0], run_litert(content, [x])[0])
    fc = single_op_model("FULLY_CONNECTED", [
        dict(name="state", shape=[2, 4], dtype=dtype, quantization=(0.0, 0)),
        dict(name="w", shape=[3, 4], dtype=np.int8, quantization=(0.02, 0), data=np.arange(12, dtype=np.int8).reshape(3, 4)),
        dict(name="b", shape=[3], dtype=np.int64 if dtype == np.int16 else np.int32, quantization=(0.0, 0),
             data=np.array([5, -3, 0]))],
        [dict(name="y", shape=[2, 3], dtype=dtype, quantization=(0.05, 1 if dtype == np.int8 else 0))])
    state = np.zeros((2, 4), dtype)
    np.testing.assert_array_equal(run_tinylite(fc, [state])[0], run_litert(fc, [state])[0])


def test_scales_whose_product_overflows_say_so():
    # An LSTM's float32 scale products overflowed to inf: "OverflowError: cannot convert float infinity".
    from tinylite.kernels._fixedpoint import quantize_multiplier

    with pytest.raises(ValueError, match="rescaling factor of inf.*implausibly large or small") as info:
        with np.errstate(over="ignore"):
            quantize_multiplier(float(np.float32(1e38) * np.float32(1e38)))
    assert not INTERNALS.search(str(info.value))


def test_unknown_tensor_type_is_named_at_load():
    content = edited(fc_model(), lambda m, sg: setattr(sg.tensors[3], "type", 99))
    with pytest.raises(InvalidModelError, match=r"tensor 3 \('b'\) has tensor type 99, which the TFLite schema does "
                                                r"not define"):
        tinylite.Interpreter(model_content=content)


def test_constant_buffer_larger_than_its_shape():
    content = edited(fc_model(), lambda m, sg: setattr(sg.tensors[2], "shape", np.array([0, 4], np.int32)))
    clean_error(content, InvalidModelError, r"constant tensor 2 \('w'\) of shape \[0, 4\] and type FLOAT32 needs 0 "
                "bytes, but its buffer 1 holds 48")


def test_missing_inputs_name_the_node_and_the_count():
    content = edited(fc_model(), lambda m, sg: sg.operators[1].inputs.__delitem__(slice(1, None)))
    clean_error(content, PrepareError, r"Node number 1 \(FULLY_CONNECTED\) failed to prepare: .*needs input 1, but "
                "the operator lists 1 input")


def test_omitted_required_input():
    def edit(m, sg):
        sg.operators[1].inputs[1] = -1
    clean_error(edited(fc_model(), edit), PrepareError, r"Node number 1 \(FULLY_CONNECTED\) failed to prepare: "
                r"input 1 is omitted \(tensor index -1\), but this op needs it")


def test_bias_count_must_match_the_output_channels():
    def edit(m, sg):
        b = sg.tensors[2]
        b.shape = np.array([6], np.int32)
        b.buffer = m.add_buffer(np.zeros(6, np.float32))
    rng = np.random.default_rng(0)
    content = single_op_model(
        "CONV_2D", [("x", [1, 5, 5, 2]), dict(name="w", data=rng.standard_normal((3, 3, 3, 2)).astype(np.float32)),
                    dict(name="b", data=np.zeros(3, np.float32))],
        [("y", [1, 5, 5, 3])], options=dict(padding="SAME", stride_h=1, stride_w=1))
    clean_error(edited(content, edit), PrepareError, r"Node number 0 \(CONV_2D\).*bias 'b' has 6 values \(\[6\]\) "
                "for 3 output channels")


def test_output_type_an_op_cannot_produce():
    content = chain_model(("x", [1, 4, 4, 1]), [
        ("AVERAGE_POOL_2D", [], ("y", [1, 2, 2, 1], np.bool_),
         dict(padding="VALID", stride_h=2, stride_w=2, filter_height=2, filter_width=2))])
    clean_error(content, TinyliteError, r"AVERAGE_POOL_2D")


@pytest.mark.parametrize("op", ["TANH", "LOGISTIC"])
def test_float_op_writing_a_string_tensor(op):
    # TANH stored floats as Python objects in a STRING tensor; LOGISTIC raised a ufunc TypeError.
    content = edited(single_op_model(op, [("x", [2, 3])], [("y", [2, 3])]),
                     lambda m, sg: setattr(sg.tensors[1], "type", 5))
    clean_error(content, PrepareError, rf"Node number 0 \({op}\) writes output 1 \('y'\) as a STRING tensor, but "
                "its inputs are float32")


# -- shapes --

def test_negative_computed_shape_names_the_node():
    content = single_op_model(
        "CONV_2D", [("x", [1, 0, 5, 2]), dict(name="w", data=np.ones((3, 3, 3, 2), np.float32)),
                    dict(name="b", data=np.zeros(3, np.float32))],
        [("y", [1, 1, 3, 3])], options=dict(padding="VALID", stride_h=1, stride_w=1))
    clean_error(content, PrepareError, r"Node number 0 \(CONV_2D\) computes output 3 \('y'\) of shape \[1, -2, 3, 3\], "
                r"which has a negative dimension, from inputs of shapes \[\[1, 0, 5, 2\]")


def test_input_of_unknown_size_asks_for_resize():
    content = edited(fc_model(), lambda m, sg: setattr(sg.tensors[0], "shape", np.array([-1, 4], np.int32)))
    clean_error(content, PrepareError, r"input tensor 0 \('x'\) has shape \[-1, 4\].*resize_tensor_input\(0")


# -- memory --

def max_pool(filter_height):
    return single_op_model("MAX_POOL_2D", [("x", [1, 6, 5, 2])], [("y", [1])],
                           options=dict(padding="SAME", stride_h=2, stride_w=1, filter_height=filter_height,
                                        filter_width=3))


def test_pool_with_a_huge_filter_runs():
    # filter_height 2**31 - 1 made a 5 TiB padded copy; the taps that read only padding are
    # now dropped.  (LiteRT refuses filters past 2**16 or so; where it runs one, every window
    # here covers all the rows, as 2**31 - 1 does.)
    x = np.random.default_rng(0).standard_normal((1, 6, 5, 2)).astype(np.float32)
    ip = tinylite.Interpreter(model_content=max_pool(2**31 - 1))
    ip.allocate_tensors()
    ip.set_tensor(0, x)
    ip.invoke()
    ours = ip.get_tensor(ip.get_output_details()[0]["index"])
    assert ip.arena_bytes < 1 << 12
    theirs = litert_interpreter(max_pool(65537))
    theirs.allocate_tensors()
    theirs.set_tensor(0, x)
    theirs.invoke()
    np.testing.assert_array_equal(ours, theirs.get_tensor(theirs.get_output_details()[0]["index"]))


@pytest.mark.parametrize("dtype", [np.float32, np.int8])
@pytest.mark.parametrize("op", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("fh,pad", [(1, "SAME"), (4, "SAME"), (7, "SAME"), (13, "SAME"), (3, "VALID"), (6, "VALID"),
                                    (65537, "SAME")])
def test_pool_geometries_match_litert(op, fh, pad, dtype):
    # Windows reaching past the input on every side: the taps dropped read only padding.
    q = dict(quantization=(0.05, -3)) if dtype == np.int8 else {}
    content = single_op_model(op, [dict(name="x", shape=[2, 6, 5, 3], dtype=dtype, **q)],
                              [dict(name="y", shape=[1], dtype=dtype, **q)],
                              options=dict(padding=pad, stride_h=2, stride_w=3, filter_height=fh, filter_width=fh))
    rng = np.random.default_rng(fh)
    x = (rng.integers(-128, 128, (2, 6, 5, 3)) if dtype == np.int8 else rng.standard_normal((2, 6, 5, 3))).astype(dtype)
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    ip.set_tensor(0, x)
    ip.invoke()
    theirs = litert_interpreter(content)
    theirs.allocate_tensors()
    theirs.set_tensor(0, x)
    theirs.invoke()
    ours, expected = ip.get_tensor(ip.get_output_details()[0]["index"]), \
        theirs.get_tensor(theirs.get_output_details()[0]["index"])
    if dtype == np.int8:
        np.testing.assert_array_equal(ours, expected)
    else:
        np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)


def test_scratch_buffers_count_in_the_memory_check():
    # A dilation of 2**30 under SAME padding: a padded copy of exabytes, refused before numpy is asked.
    content = single_op_model(
        "CONV_2D", [("x", [1, 5, 5, 2]), dict(name="w", data=np.ones((3, 3, 3, 2), np.float32)),
                    dict(name="b", data=np.zeros(3, np.float32))],
        [("y", [1])], options=dict(padding="SAME", stride_h=1, stride_w=1, dilation_h_factor=2**30,
                                   dilation_w_factor=2**30))
    e = clean_error(content, PrepareError, r"scratch buffers \(largest: Node number 0 \(CONV_2D\)'s padded input.*"
                    "more than this process can allocate")
    while e is not None:
        assert not isinstance(e, MemoryError)
        e = e.__context__


def test_huge_variable_is_refused_before_allocation():
    content = single_op_model("ASSIGN_VARIABLE", [("x", [2])], [], signature=False)
    m = read_model(content)
    t = m.subgraphs[0].tensors[0]
    t.shape = np.array([2**31 - 1, 2**20], np.int32)
    t.is_variable = True
    m.subgraphs[0].inputs = []
    with pytest.raises(PrepareError, match=r"Variable tensor 0 \('x'\) of shape \[2147483647, 1048576\] needs "
                                           r"8\.0 PiB|Variable tensor 0 .* needs .* more than this process"):
        tinylite.Interpreter(model_content=write_model(m)).allocate_tensors()


# -- messages --

def test_strided_slice_errors_name_the_node_number():
    # The kernel stored its slices as node.index: messages read "Node number (slice(..),) (STRIDED_SLICE)".
    content = single_op_model(
        "STRIDED_SLICE", [("x", [4]), ("b", [1], np.int32), ("e", [1], np.int32), ("s", [1], np.int32)],
        [("y", [1])], options=dict(shrink_axis_mask=1))
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    for i, v in enumerate([np.zeros(4, np.float32), np.array([9], np.int32), np.array([10], np.int32),
                           np.array([1], np.int32)]):
        ip.set_tensor(i, v)
    with pytest.raises(RuntimeError, match=r"^Node number 0 \(STRIDED_SLICE\) failed to prepare: STRIDED_SLICE "
                                           r"\(node 0\): shrink index 9 is out of range"):
        ip.invoke()
    ip.set_tensor(1, np.array([1], np.int32))
    ip.invoke()
    assert ip._runner(0).nodes[0].index == 0


def test_corrupt_flatbuffer_message_names_no_python_internals():
    content = bytearray(fc_model())
    rng = np.random.default_rng(3)
    seen = 0
    for _ in range(300):
        b = bytearray(content)
        for pos in rng.integers(8, len(b), size=6):
            b[pos] = 0xFF
        try:
            tinylite.Interpreter(model_content=bytes(b))
        except InvalidModelError as e:
            seen += 1
            assert not INTERNALS.search(str(e)), str(e)
    assert seen > 0


def test_while_condition_must_be_bool():
    from tinylite.graph import Model, Operator, Subgraph, Tensor
    from tinylite.flatbuffer.schema import OP_CODES

    m = Model()
    f32 = 0
    main = Subgraph(tensors=[Tensor("x", np.array([1], np.int32), f32), Tensor("y", np.array([1], np.int32), f32)],
                    inputs=[0], outputs=[1])
    cond = Subgraph(tensors=[Tensor("a", np.array([1], np.int32), f32)], inputs=[0], outputs=[0])
    body = Subgraph(tensors=[Tensor("a", np.array([1], np.int32), f32)], inputs=[0], outputs=[0])
    op = Operator(m.opcode_index(OP_CODES["WHILE"]), [0], [1])
    from tinylite.converter.options import encode_options

    op.builtin_options_type, op.builtin_options = encode_options(
        "WHILE", dict(cond_subgraph_index=1, body_subgraph_index=2))
    main.operators.append(op)
    m.subgraphs = [main, cond, body]
    clean_error(write_model(m), PrepareError, r"Node number 0 \(WHILE\).*cond subgraph's output .* is float32; it "
                "must be a BOOL")
