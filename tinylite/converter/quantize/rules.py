"""Per-op quantization rules: which inputs are weights and biases, which
outputs have fixed parameters, which ops keep their input's scale.

The table lists the ops tinylite's interpreter runs with integer activations
(the ``prepare_quantized`` paths of tinylite/kernels/<op>.py and the type-generic
data-movement kernels).
An op that is not listed, or that the interpreter still refuses once
quantized (full_integer.py checks by preparing the model), stays in float
with DEQUANTIZE/QUANTIZE around it, or is an error in strict mode.

16x8 covers every listed op, including those TensorFlow 2.21 refuses (PRELU,
NEG).  PRELU's alpha stays int8 (per tensor, symmetric) with int16
activations: LiteRT reads an int16 alpha in a way tinylite's kernel does not
reproduce yet, while int8 alpha runs bit-exact in both.  The float-only kernels
(SIN, FLOOR, DIV, ...) fall back to float, as do ELU, LOG_SOFTMAX, ARG_MAX and the
comparisons in 16x8 (LiteRT has no int16 kernel for the first three, and compares
some int16 tensors as raw values).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    # input index -> quantized axis of a weight (None: per tensor)
    weights: dict = field(default_factory=dict)
    # input index of the bias (scale = input scale * weight scale)
    bias: int | None = None
    # "calibrated": from the dataset; "same": the first input's parameters (a constant's own, for a
    # GATHER from a table); "fixed": FIXED[op][dtype]; "none": no float output (a comparison, ARG_MAX:
    # only the inputs are quantized)
    output: str = "calibrated"
    # inputs that are data (activations) and must share the output's parameters (CONCATENATION)
    same_inputs: bool = False
    # inputs that are not quantized (shape, axis and index operands)
    int_inputs: tuple = ()
    # only these activation types (None: int8 and int16)
    types: tuple | None = None


_CONV = Rule(weights={1: 0}, bias=2)
RULES: dict[str, Rule] = {
    "CONV_2D": _CONV,
    "DEPTHWISE_CONV_2D": Rule(weights={1: 3}, bias=2),
    "FULLY_CONNECTED": Rule(weights={1: 0}, bias=2),
    "TRANSPOSE_CONV": Rule(weights={1: 0}, bias=3, int_inputs=(0,)),
    "PRELU": Rule(weights={1: None}),
    "BATCH_MATMUL": Rule(),
    "ADD": Rule(), "SUB": Rule(), "MUL": Rule(),
    "MEAN": Rule(int_inputs=(1,)), "SUM": Rule(int_inputs=(1,)),
    "SQUARED_DIFFERENCE": Rule(types=("int8",)),
    "RSQRT": Rule(), "SQRT": Rule(),
    "RELU": Rule(), "RELU6": Rule(), "RELU_N1_TO_1": Rule(),
    "LEAKY_RELU": Rule(), "HARD_SWISH": Rule(), "GELU": Rule(), "EXP": Rule(),
    "RESIZE_BILINEAR": Rule(int_inputs=(1,)),
    "CONCATENATION": Rule(same_inputs=True),
    "PACK": Rule(same_inputs=True),
    "SOFTMAX": Rule(output="fixed"),
    "LOGISTIC": Rule(output="fixed"),
    "TANH": Rule(output="fixed"),
    # LiteRT has no int16 LOG_SOFTMAX: it stays float in 16x8 models.
    "LOG_SOFTMAX": Rule(output="fixed", types=("int8",)),
    # Same scale in and out: the kernels move or compare values without rescaling.
    "MAX_POOL_2D": Rule(output="same"),
    "AVERAGE_POOL_2D": Rule(output="same"),
    "REDUCE_MAX": Rule(output="same", int_inputs=(1,)),
    "RESHAPE": Rule(output="same", int_inputs=(1,)),
    "SQUEEZE": Rule(output="same"),
    "EXPAND_DIMS": Rule(output="same", int_inputs=(1,)),
    "TRANSPOSE": Rule(output="same", int_inputs=(1,)),
    "PAD": Rule(output="same", int_inputs=(1,)),
    "MIRROR_PAD": Rule(output="same", int_inputs=(1,)),
    "SLICE": Rule(output="same", int_inputs=(1, 2)),
    "STRIDED_SLICE": Rule(output="same", int_inputs=(1, 2, 3)),
    "GATHER": Rule(output="same", int_inputs=(1,)),
    "TILE": Rule(output="same", int_inputs=(1,)),
    "SPACE_TO_DEPTH": Rule(output="same"),
    "DEPTH_TO_SPACE": Rule(output="same"),
    "RESIZE_NEAREST_NEIGHBOR": Rule(output="same", int_inputs=(1,)),
    "SPLIT": Rule(output="same", int_inputs=(0,)),
    "SPLIT_V": Rule(output="same", int_inputs=(1, 2)),
    "UNPACK": Rule(output="same"),
    "REVERSE_V2": Rule(output="same", int_inputs=(1,)),
    # NEG negates raw values, ignoring the zero point: right only for symmetric (int16) tensors.
    "NEG": Rule(output="same", types=("int16",)),
    # MAXIMUM and MINIMUM compare raw values: every input on the output's grid.
    "MAXIMUM": Rule(same_inputs=True), "MINIMUM": Rule(same_inputs=True),
    "TOPK_V2": Rule(output="same", int_inputs=(1,)),
    "FILL": Rule(output="same", int_inputs=(0,)),
    "ABS": Rule(), "LOG": Rule(),
    "ELU": Rule(types=("int8",)),
    # SELECT picks raw values: both branches on the output's grid (the condition is bool).
    "SELECT_V2": Rule(same_inputs=True), "SELECT": Rule(same_inputs=True),
    # Integer or bool results from quantized int8 inputs (each input on its own grid).  LiteRT has
    # no int16 ARG_MAX, and compares some int16 tensors as raw values whatever their grids.
    "ARG_MAX": Rule(output="none", int_inputs=(1,), types=("int8",)),
    "ARG_MIN": Rule(output="none", int_inputs=(1,), types=("int8",)),
    **{op: Rule(output="none", types=("int8",))
       for op in ("GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "EQUAL", "NOT_EQUAL")},
}

# Fixed output parameters (scale, zero point), as TFLite's kernels require them.
FIXED = {
    "SOFTMAX": {"int8": (1.0 / 256, -128), "int16": (1.0 / 32768, 0)},
    "LOGISTIC": {"int8": (1.0 / 256, -128), "int16": (1.0 / 32768, 0)},
    "TANH": {"int8": (1.0 / 128, 0), "int16": (1.0 / 32768, 0)},
    # [-255/16, 0]: log-probabilities below -16 saturate.
    "LOG_SOFTMAX": {"int8": (16.0 / 256, 127)},
}

# Ops whose first output is a float tensor computed from non-float inputs only
# (SHAPE etc.) never need quantization; these run on any type unchanged.
TYPE_FREE = {"SHAPE"}


def rule(op_name: str, act: str) -> Rule | None:
    r = RULES.get(op_name)
    if r is None or (r.types is not None and act not in r.types):
        return None
    return r


def layer_of(tensor_name: str) -> str:
    """The Keras layer a tensor came from (tinylite's converter names tensors 'layer/...')."""
    return tensor_name.split("/", 1)[0] if tensor_name else tensor_name
