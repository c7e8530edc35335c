"""Custom ops (``BuiltinOperator.CUSTOM`` with a ``custom_code``) that tinylite runs
without the user registering them: the ones LiteRT bundles or runs by default.

Each kernel module here has the builtin kernels' interface (``prepare(node) ->
eval_fn``; ``node.custom_options`` holds the op's raw options, usually a
FlexBuffer map).  ``BUNDLED`` maps the custom code as it appears in files to the
module name.  Users register their own with the interpreter (see
``tinylite.Interpreter``); those take precedence over these.
"""
from __future__ import annotations

import functools
import importlib

# custom_code -> module in this package
BUNDLED: dict[str, str] = {
    "TFLite_Detection_PostProcess": "detection_postprocess",
    "AudioSpectrogram": "audio_spectrogram",
    "Mfcc": "mfcc",
    "NumericVerify": "numeric_verify",
    "aeq.hadamard_rotation": "hadamard_rotation",
    # MediaPipe's ops, which LiteRT runs through XNNPACK.
    "Convolution2DTransposeBias": "convolution_2d_transpose_bias",
    "MaxPoolingWithArgmax2D": "max_pooling_with_argmax_2d",
    "MaxUnpooling2D": "max_unpooling_2d",
}


@functools.lru_cache(maxsize=None)
def kernel_for_custom(custom_code: str):
    """The bundled kernel module of a custom op, or None when tinylite bundles none."""
    module = BUNDLED.get(custom_code)
    return None if module is None else importlib.import_module(f"{__name__}.{module}")
