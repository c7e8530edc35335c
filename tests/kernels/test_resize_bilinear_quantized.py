"""RESIZE_BILINEAR on uint8, int8 and int16 against LiteRT (bit-exact): the
default kernel's float weights for uint8 (and its 8x fixed-point shortcut),
the integer kernel for int8/int16; the reference resolver for int8/int16."""
import numpy as np
import pytest

from oracle import assert_same_outputs
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)
SIZES = [((4, 5), (8, 10)), ((4, 5), (7, 13)), ((9, 7), (4, 3)), ((3, 3), (1, 1)), ((1, 1), (3, 2)),
         ((5, 6), (5, 6)), ((2, 7), (9, 2)), ((3, 2), (24, 16))]
MODES = [(False, False), (True, False), (False, True)]
QUANT = {np.uint8: (0.05, 128), np.int8: (0.05, -3), np.int16: (0.001, 0)}


def model(x_shape, size, dtype, **options):
    q = QUANT[dtype]
    return single_op_model("RESIZE_BILINEAR", [
        dict(name="x", shape=list(x_shape), dtype=dtype, quantization=q),
        dict(name="s", data=np.array(size, np.int32))],
        [dict(name="y", shape=[1], dtype=dtype, quantization=q)], options=options)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16])
@pytest.mark.parametrize("hw,size", SIZES)
@pytest.mark.parametrize("align,half", MODES)
def test_resize_bilinear_quantized(dtype, hw, size, align, half):
    info = np.iinfo(dtype)
    channels = 8 if size == (24, 16) else 3       # depth 8 and 8x: LiteRT's uint8 shortcut
    x = rng.integers(info.min, info.max, (2, *hw, channels), endpoint=True).astype(dtype)
    content = model(x.shape, size, dtype, align_corners=align, half_pixel_centers=half)
    assert_same_outputs(content, [x])
    if dtype != np.uint8:
        assert_same_outputs(content, [x], resolver="ref")


def test_resize_bilinear_uint8_upscale_8x_shortcut():
    x = rng.integers(0, 256, (1, 3, 4, 16)).astype(np.uint8)
    assert_same_outputs(model(x.shape, (24, 32), np.uint8, half_pixel_centers=True), [x])


def test_resize_bilinear_rejects_mismatched_types():
    content = single_op_model("RESIZE_BILINEAR", [
        dict(name="x", shape=[1, 2, 2, 1], dtype=np.int8, quantization=(0.1, 0)),
        dict(name="s", data=np.array([4, 4], np.int32))], [dict(name="y", shape=[1], dtype=np.float32)])
    import tinylite

    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(Exception, match="differs from input type"):
        ip.allocate_tensors()
