"""FULLY_CONNECTED with blockwise-quantized INT4 weights (the schema's
BlockwiseQuantization details, float16 block scales in their own tensor)
against LiteRT's EvalBlockwise4Bit; the details survive a read/write round trip."""
import numpy as np
import pytest

import tinylite
from oracle import assert_same_outputs
from tinylite.flatbuffer.reader import parse
from tinylite.flatbuffer.writer import write_model
from tinylite.graph import Buffer, QuantizationParameters, Tensor
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


def pack_int4(values):
    v = (values.astype(np.int16) & 0xF).astype(np.uint8).reshape(-1)
    if v.size % 2:
        v = np.append(v, 0)
    return (v[0::2] | (v[1::2] << 4)).astype(np.uint8)


def blockwise_model(units, depth, block, bias=True, batch=3):
    w = rng.integers(-8, 8, (units, depth)).astype(np.int8)
    ins = [("x", [batch, depth]), dict(name="w", data=w)]
    if bias:
        ins.append(dict(name="b", data=rng.standard_normal(units).astype(np.float32)))
    content = single_op_model("FULLY_CONNECTED", ins, [("y", [batch, units])])
    m = parse(content)
    sg = m.subgraphs[0]
    wt = next(t for t in sg.tensors if t.name == "w")
    wt.type = 17                                          # INT4, packed two per byte
    m.buffers[wt.buffer] = Buffer(data=pack_int4(w))
    scales = (rng.random((units, depth // block)) * 0.05 + 0.001).astype(np.float16)
    m.buffers.append(Buffer(data=scales.reshape(-1).view(np.uint8)))
    sg.tensors.append(Tensor(name="w_scales", shape=np.array(scales.shape, np.int32), type=1,
                             buffer=len(m.buffers) - 1))
    wt.quantization = QuantizationParameters(details_type=2, details=dict(
        scales=len(sg.tensors) - 1, zero_points=-1, block_size=block))
    return write_model(m)


@pytest.mark.parametrize("units,depth,block", [(8, 64, 32), (16, 128, 32), (12, 256, 64), (4, 32, 32)])
@pytest.mark.parametrize("bias", [True, False])
def test_blockwise_int4_fully_connected(units, depth, block, bias):
    content = blockwise_model(units, depth, block, bias)
    x = rng.standard_normal((3, depth)).astype(np.float32)
    x[1] = np.abs(x[1])            # a row whose zero point is -128
    assert_same_outputs(content, [x], rtol=0, atol=0, resolver="builtin")
    # LiteRT's reference resolver has no blockwise kernel; tinylite says so rather than guess.
    with pytest.raises(tinylite.UnsupportedOpError, match="BUILTIN_REF"):
        tinylite.Interpreter(model_content=content,
                             experimental_op_resolver_type=tinylite.OpResolverType.BUILTIN_REF).allocate_tensors()


def test_blockwise_details_round_trip():
    content = blockwise_model(8, 64, 32)
    m = parse(content)
    q = next(t for t in m.subgraphs[0].tensors if t.name == "w").quantization
    assert q.details_type == 2 and q.details == dict(scales=4, zero_points=-1, block_size=32)
    again = parse(write_model(m))
    assert next(t for t in again.subgraphs[0].tensors if t.name == "w").quantization.details == q.details


def test_blockwise_bad_block_size_is_reported():
    import tinylite

    m = parse(blockwise_model(8, 64, 32))
    next(t for t in m.subgraphs[0].tensors if t.name == "w").quantization.details["block_size"] = 48
    ip = tinylite.Interpreter(model_content=write_model(m))
    with pytest.raises(Exception, match="block_size 48 does not divide"):
        ip.allocate_tensors()
