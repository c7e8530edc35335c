"""What SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND share: their checks of the
block shape and of the paddings/crops, on 3-D (NHC) or 4-D (NHWC) inputs."""
import numpy as np

# LiteRT's kernels move elements by their size in bits, so every 1/2/4/8-byte type goes through.
TYPES = (np.float32, np.float16, np.int8, np.uint8, np.bool_, np.int16, np.int32, np.uint32, np.int64, np.uint16,
         np.uint64, np.float64)


def prepare_common(node, pairs_name):
    """(block [spatial], pairs [spatial, 2]) as int lists, after the type and shape checks."""
    x, out = node.inputs[0], node.outputs[0]
    if not 3 <= len(x.shape) <= 4:
        node.fail(f"expects a 3-D or 4-D input, got shape {list(x.shape)}")
    node.expect_dtype(x, *TYPES)
    if x.dtype != out.dtype:
        node.fail(f"output type {out.dtype.name} differs from input type {x.dtype.name}")
    if x.dtype in (np.int8, np.uint8, np.int16):
        qi = x.quantization
        if (qi is not None and qi.is_quantized) and (x.scale != out.scale or x.zero_point != out.zero_point):
            node.fail(f"input and output quantization differ (scale {x.scale} vs {out.scale}, "
                      f"zero point {x.zero_point} vs {out.zero_point}); they must be equal")
    node.expect_dtype(node.inputs[1], np.int32)
    node.expect_dtype(node.inputs[2], np.int32)
    spatial = len(x.shape) - 2
    block = np.asarray(node.value(1))
    pairs = np.asarray(node.value(2))
    if block.shape != (spatial,):
        node.fail(f"block_shape has shape {list(block.shape)}, expected [{spatial}] for a rank-{len(x.shape)} input")
    if pairs.shape != (spatial, 2):
        node.fail(f"{pairs_name} has shape {list(pairs.shape)}, expected [{spatial}, 2]")
    if np.any(block <= 0):
        node.fail(f"block_shape {block.tolist()} must be positive")
    return [int(b) for b in block], pairs.astype(np.int64).tolist()


def as_4d(shape):
    """NHC -> NH1C, as LiteRT's kernels extend 3-D shapes."""
    return tuple(shape) if len(shape) == 4 else (shape[0], shape[1], 1, shape[2])
