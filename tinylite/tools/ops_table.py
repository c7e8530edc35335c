"""docs/ops.md: every op LiteRT 2.3's builtin resolver registers and every
custom op tinylite bundles, whether tinylite runs it, and the input types its
kernel is checked on against LiteRT (tinylite/kernels/_types.py).

>>> text = render()
>>> "| CONV_2D |" in text and "TFLite_Detection_PostProcess" in text
True

Regenerate with ``python -m tinylite.tools.ops_table > docs/ops.md``;
tests/test_ops_table.py fails when the file differs.
"""
from __future__ import annotations

# The BuiltinOperator names LiteRT 2.3's BuiltinOpResolver registers (its register.cc).
LITERT_BUILTINS = (
    'ABS',
    'ADD',
    'ADD_N',
    'ARG_MAX',
    'ARG_MIN',
    'ASSIGN_VARIABLE',
    'ATAN2',
    'AVERAGE_POOL_2D',
    'BATCH_MATMUL',
    'BATCH_TO_SPACE_ND',
    'BIDIRECTIONAL_SEQUENCE_LSTM',
    'BIDIRECTIONAL_SEQUENCE_RNN',
    'BITCAST',
    'BITWISE_XOR',
    'BROADCAST_ARGS',
    'BROADCAST_TO',
    'BUCKETIZE',
    'CALL_ONCE',
    'CAST',
    'CEIL',
    'COMPLEX_ABS',
    'CONCATENATION',
    'CONV_2D',
    'CONV_3D',
    'CONV_3D_TRANSPOSE',
    'COS',
    'CUMSUM',
    'DENSIFY',
    'DEPTHWISE_CONV_2D',
    'DEPTH_TO_SPACE',
    'DEQUANTIZE',
    'DILATE',
    'DIV',
    'DYNAMIC_UPDATE_SLICE',
    'ELU',
    'EMBEDDING_LOOKUP',
    'EMBEDDING_LOOKUP_SPARSE',
    'EQUAL',
    'EXP',
    'EXPAND_DIMS',
    'FAKE_QUANT',
    'FILL',
    'FLOOR',
    'FLOOR_DIV',
    'FLOOR_MOD',
    'FULLY_CONNECTED',
    'GATHER',
    'GATHER_ND',
    'GELU',
    'GREATER',
    'GREATER_EQUAL',
    'HARD_SWISH',
    'HASHTABLE',
    'HASHTABLE_FIND',
    'HASHTABLE_IMPORT',
    'HASHTABLE_LOOKUP',
    'HASHTABLE_SIZE',
    'IF',
    'IMAG',
    'L2_NORMALIZATION',
    'L2_POOL_2D',
    'LEAKY_RELU',
    'LESS',
    'LESS_EQUAL',
    'LOCAL_RESPONSE_NORMALIZATION',
    'LOG',
    'LOGICAL_AND',
    'LOGICAL_NOT',
    'LOGICAL_OR',
    'LOGISTIC',
    'LOG_SOFTMAX',
    'LSH_PROJECTION',
    'LSTM',
    'MATRIX_DIAG',
    'MATRIX_SET_DIAG',
    'MAXIMUM',
    'MAX_POOL_2D',
    'MEAN',
    'MINIMUM',
    'MIRROR_PAD',
    'MUL',
    'MULTINOMIAL',
    'NEG',
    'NON_MAX_SUPPRESSION_V4',
    'NON_MAX_SUPPRESSION_V5',
    'NOT_EQUAL',
    'ONE_HOT',
    'PACK',
    'PAD',
    'PADV2',
    'POW',
    'PRELU',
    'QUANTIZE',
    'RANDOM_STANDARD_NORMAL',
    'RANDOM_UNIFORM',
    'RANGE',
    'RANK',
    'READ_VARIABLE',
    'REAL',
    'REDUCE_ALL',
    'REDUCE_ANY',
    'REDUCE_MAX',
    'REDUCE_MIN',
    'REDUCE_PROD',
    'REDUCE_WINDOW',
    'RELU',
    'RELU6',
    'RELU_0_TO_1',
    'RELU_N1_TO_1',
    'RESHAPE',
    'RESIZE_BILINEAR',
    'RESIZE_NEAREST_NEIGHBOR',
    'REVERSE_SEQUENCE',
    'REVERSE_V2',
    'RFFT2D',
    'RIGHT_SHIFT',
    'RNN',
    'ROUND',
    'RSQRT',
    'SCATTER_ND',
    'SEGMENT_SUM',
    'SELECT',
    'SELECT_V2',
    'SHAPE',
    'SIGN',
    'SIN',
    'SKIP_GRAM',
    'SLICE',
    'SOFTMAX',
    'SPACE_TO_BATCH_ND',
    'SPACE_TO_DEPTH',
    'SPARSE_TO_DENSE',
    'SPLIT',
    'SPLIT_V',
    'SQRT',
    'SQUARE',
    'SQUARED_DIFFERENCE',
    'SQUEEZE',
    'STABLEHLO_ADD',
    'STABLEHLO_AND',
    'STABLEHLO_CASE',
    'STABLEHLO_COMPOSITE',
    'STABLEHLO_GATHER',
    'STABLEHLO_MAXIMUM',
    'STABLEHLO_MINIMUM',
    'STABLEHLO_MULTIPLY',
    'STABLEHLO_PAD',
    'STABLEHLO_REDUCE_WINDOW',
    'STABLEHLO_RNG_BIT_GENERATOR',
    'STABLEHLO_SCATTER',
    'STABLEHLO_SHIFT_LEFT',
    'STRIDED_SLICE',
    'SUB',
    'SUM',
    'SVDF',
    'TANH',
    'TILE',
    'TOPK_V2',
    'TRANSPOSE',
    'TRANSPOSE_CONV',
    'UNIDIRECTIONAL_SEQUENCE_LSTM',
    'UNIDIRECTIONAL_SEQUENCE_RNN',
    'UNIQUE',
    'UNPACK',
    'UNSORTED_SEGMENT_MAX',
    'UNSORTED_SEGMENT_MIN',
    'UNSORTED_SEGMENT_PROD',
    'UNSORTED_SEGMENT_SUM',
    'VAR_HANDLE',
    'WHERE',
    'WHILE',
    'ZEROS_LIKE',
)

# Ops tinylite leaves out on purpose, and why (none now: every op LiteRT 2.3's builtin resolver
# registers runs, the stateful ones with LiteRT's own state, e.g. seeded random streams).
LEFT_OUT: dict[str, str] = {}


def _types():
    from ..kernels._types import INPUT_TYPES

    return INPUT_TYPES


def _runs(op: str) -> bool:
    from ..kernels import supported_ops
    from ..kernels.custom import BUNDLED

    return op in supported_ops() or op in BUNDLED


def rows() -> list[dict]:
    """One dict per op: name, kind ("builtin"/"custom"), litert, tinylite, types, note."""
    from ..kernels import supported_ops
    from ..kernels.custom import BUNDLED

    types = _types()
    names = sorted(set(LITERT_BUILTINS) | set(supported_ops()))
    out = []
    for op in names + sorted(BUNDLED):
        combos = types.get(op, [])
        runs = _runs(op)
        if runs:
            note = "" if combos else "no single-op differential test (runs in model tests only)"
        else:
            note = LEFT_OUT.get(op, "not implemented yet")
        out.append(dict(name=op, kind="custom" if op in BUNDLED else "builtin",
                        litert=op in LITERT_BUILTINS or op in BUNDLED, tinylite=runs,
                        types=[", ".join(c) or "(no inputs)" for c in combos], note=note))
    return out


def render() -> str:
    """The Markdown table of docs/ops.md."""
    rs = rows()
    builtin = [r for r in rs if r["kind"] == "builtin" and r["litert"]]
    done = sum(r["tinylite"] for r in builtin)
    lines = [
        "# Operators",
        "",
        "Generated by `python -m tinylite.tools.ops_table > docs/ops.md` from the kernel registry",
        "(`tinylite/kernels/`, `tinylite/kernels/custom/`) and the input types each kernel's single-op",
        "differential tests run against LiteRT (`tinylite/kernels/_types.py`, one entry per input-type",
        "combination; `-` is an omitted optional input). `tests/test_ops_table.py` fails when this file",
        "is out of date.",
        "",
        f"LiteRT 2.3's builtin resolver registers {len(builtin)} ops; tinylite runs {done} of them.",
        "",
        "| op | LiteRT | tinylite | input types checked against LiteRT | note |",
        "|---|---|---|---|---|",
    ]
    for r in rs:
        name = f"custom `{r['name']}`" if r["kind"] == "custom" else r["name"]
        lines.append(f"| {name} | {'yes' if r['litert'] else 'no'} | {'yes' if r['tinylite'] else 'no'} | "
                     f"{'; '.join(r['types'])} | {r['note']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
