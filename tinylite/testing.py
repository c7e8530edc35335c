"""Build small .tflite models in code: the fixtures of tinylite's differential
tests (the same bytes run in tinylite and in ai-edge-litert).

>>> from tinylite.testing import single_op_model
>>> content = single_op_model(
...     "CONV_2D",
...     [("x", [1, 5, 5, 2]), dict(name="w", data=np.ones((3, 3, 3, 2), np.float32)), None],
...     [("y", [1, 5, 5, 3])],
...     options=dict(padding="SAME", stride_w=1, stride_h=1))
>>> len(content) > 0
True
"""
from __future__ import annotations

import numpy as np

from .converter.options import encode_options  # noqa: F401  (re-exported for tests)
from .flatbuffer.schema import OP_CODES, TENSOR_TYPES, tensor_type
from .flatbuffer.writer import write_model
from .graph import Model, Operator, QuantizationParameters, SignatureDef, Subgraph, Tensor, TensorMap

def _quant(q):
    if q is None or isinstance(q, QuantizationParameters):
        return q
    if isinstance(q, dict):
        scale = np.atleast_1d(np.asarray(q["scale"], np.float32))
        zp = np.atleast_1d(np.asarray(q.get("zero_point", np.zeros(len(scale))), np.int64))
        return QuantizationParameters(scale=scale, zero_point=zp,
                                      quantized_dimension=int(q.get("quantized_dimension", 0)))
    scale, zp = q[0], q[1]
    qdim = q[2] if len(q) > 2 else 0
    scale = np.atleast_1d(np.asarray(scale, np.float32))
    return QuantizationParameters(scale=scale, zero_point=np.atleast_1d(np.asarray(zp, np.int64)),
                                  quantized_dimension=int(qdim))


def _tensor(model: Model, desc) -> Tensor:
    if isinstance(desc, tuple):
        desc = dict(zip(("name", "shape", "dtype"), desc))
    desc = dict(desc)
    data = desc.get("data")
    dtype = desc.get("dtype", data.dtype if isinstance(data, np.ndarray) else np.float32)
    shape = desc.get("shape", None if data is None else np.shape(data))
    buffer = 0
    if data is not None:
        data = np.asarray(data, dtype=dtype, order="C")   # keeps 0-d constants 0-d
        if desc.get("sparsity") is None:                  # a sparse constant stores its kept values only
            shape = data.shape
        buffer = model.add_buffer(data)
    sig = desc.get("shape_signature")
    return Tensor(
        name=desc["name"],
        shape=np.array(shape, np.int32).reshape(-1),
        type=TENSOR_TYPES["RESOURCE"] if isinstance(dtype, str) and dtype == "resource" else tensor_type(dtype),
        buffer=buffer,
        quantization=_quant(desc.get("quantization")),
        is_variable=bool(desc.get("is_variable", False)),
        shape_signature=None if sig is None else np.array(sig, np.int32),
        sparsity=desc.get("sparsity"),
    )


def _add_op(model: Model, sg: Subgraph, op_name: str, op_inputs: list, op_outputs: list,
            options: dict | None, version: int = 1, custom_options: bytes | None = None) -> None:
    from .flatbuffer.schema import OPTIONS2_TYPES, OPTIONS_TYPES, options_for_op as _ofo

    options_type, values = encode_options(op_name, options)
    if op_name in OP_CODES:
        opcode = model.opcode_index(OP_CODES[op_name], version)
    else:
        opcode = model.opcode_index(OP_CODES["CUSTOM"], version, custom_code=op_name)
    op = Operator(opcode, op_inputs, op_outputs)
    found = _ofo(op_name)
    if found is not None and found[0] not in OPTIONS_TYPES and found[0] in OPTIONS2_TYPES:
        op.builtin_options_2_type, op.builtin_options_2 = options_type, values
    else:
        op.builtin_options_type, op.builtin_options = options_type, values
    op.custom_options = custom_options
    sg.operators.append(op)


def _finish(model: Model, sg: Subgraph, signature: bool) -> bytes:
    if signature:
        model.signature_defs.append(SignatureDef(
            [TensorMap(sg.tensors[i].name, i) for i in sg.inputs],
            [TensorMap(sg.tensors[i].name, i) for i in sg.outputs], "serving_default", 0))
    return write_model(model)


def single_op_model(op_name: str, inputs: list, outputs: list, options: dict | None = None,
                    version: int = 1, signature: bool = True, custom_options: bytes | None = None,
                    bodies: list | None = None) -> bytes:
    """A one-operator model as .tflite bytes.

    ``inputs``/``outputs``: ``(name, shape[, dtype])`` tuples, or dicts with
    ``name``, ``shape``, ``dtype``, ``data`` (a constant input), ``quantization``
    (``(scale, zero_point[, quantized_dimension])``), ``shape_signature``, ``sparsity``
    (SparsityParameters as nested dicts: ``data`` holds the kept values, ``shape`` the
    dense shape); ``None`` for an omitted optional input.  Non-constant inputs become
    model inputs.

    ``bodies``: the subgraphs the op refers to by index (a reduction or update
    computation, the branches of a case), numbered from 1 in the order given;
    each is ``(op_name or None, inputs, outputs, options)`` described as above,
    a one-op subgraph (``None``: no op, the subgraph's output is its last input).
    """
    model = Model()
    sg = Subgraph()
    model.subgraphs.append(sg)
    for body in bodies or ():
        _body_subgraph(model, *body)
    op_inputs = []
    for desc in inputs:
        if desc is None:
            op_inputs.append(-1)
            continue
        t = _tensor(model, desc)
        sg.tensors.append(t)
        op_inputs.append(len(sg.tensors) - 1)
        if t.buffer == 0 and not t.is_variable:
            sg.inputs.append(len(sg.tensors) - 1)
    op_outputs = []
    for desc in outputs:
        sg.tensors.append(_tensor(model, desc))
        op_outputs.append(len(sg.tensors) - 1)
    sg.outputs = list(op_outputs)
    _add_op(model, sg, op_name, op_inputs, op_outputs, options, version, custom_options)
    return _finish(model, sg, signature)


def record_op(op_name: str, input_types: tuple) -> None:
    """Called by test-model builders that assemble operators themselves (multi-subgraph
    models) with each op and its input type names ("-" for an omitted input), so
    scripts/collect_kernel_types.py, which replaces this function, lists them with the
    combinations single_op_model, chain_model and graph_model record.  Does nothing
    otherwise.

    >>> record_op("WHILE", ("int32", "float32"))
    """


def _body_subgraph(model: Model, op_name: str | None, inputs: list, outputs: list, options: dict | None) -> None:
    sg = Subgraph()
    model.subgraphs.append(sg)
    for desc in inputs:
        sg.tensors.append(_tensor(model, desc))
        if sg.tensors[-1].buffer == 0:
            sg.inputs.append(len(sg.tensors) - 1)
    if op_name is None:
        sg.outputs = [sg.inputs[-1]]
        return
    op_inputs = list(range(len(sg.tensors)))
    for desc in outputs:
        sg.tensors.append(_tensor(model, desc))
    sg.outputs = list(range(len(op_inputs), len(sg.tensors)))
    _add_op(model, sg, op_name, op_inputs, list(sg.outputs), options)


def _split_options(options):
    """(builtin options, version, custom options): bytes are a custom op's options."""
    if isinstance(options, (bytes, bytearray)):
        return None, 1, bytes(options)
    return options, 1, None


def chain_model(x, ops: list, signature: bool = True) -> bytes:
    """A model running ``ops`` one after another on the input ``x`` (a
    ``(name, shape[, dtype])`` tuple or dict, as for single_op_model).

    Each op is ``(op_name, extra_inputs, output, options)``: the previous
    op's output is its first input, ``extra_inputs`` follow (descriptions as
    above, usually constants, ``None`` for an omitted input) and ``output``
    describes its one output.  The last output is the model's.  A custom
    op's ``options`` are its raw custom options (bytes, e.g. a FlexBuffer).

    >>> content = chain_model(("x", [1, 4, 4, 1]), [
    ...     ("MAX_POOL_2D", [], ("p", [1, 2, 2, 1]), dict(padding="VALID", stride_w=2, stride_h=2,
    ...                                                filter_width=2, filter_height=2)),
    ...     ("RESHAPE", [dict(name="s", data=np.array([1, 4], np.int32))], ("y", [1, 4]), None)])
    >>> import tinylite
    >>> ip = tinylite.Interpreter(model_content=content); ip.allocate_tensors()
    >>> ip.set_tensor(0, np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)); ip.invoke()
    >>> ip.get_tensor(ip.get_output_details()[0]["index"]).tolist()
    [[5.0, 7.0, 13.0, 15.0]]
    """
    model = Model()
    sg = Subgraph()
    model.subgraphs.append(sg)
    sg.tensors.append(_tensor(model, x))
    sg.inputs = [0]
    current = 0
    for op_name, extra, output, options in ops:
        op_inputs = [current]
        for desc in extra:
            if desc is None:
                op_inputs.append(-1)
            else:
                sg.tensors.append(_tensor(model, desc))
                op_inputs.append(len(sg.tensors) - 1)
        sg.tensors.append(_tensor(model, output))
        current = len(sg.tensors) - 1
        _add_op(model, sg, op_name, op_inputs, [current], *_split_options(options))
    sg.outputs = [current]
    return _finish(model, sg, signature)


def graph_model(tensors: list, ops: list, outputs: list, signature: bool = True) -> bytes:
    """A model of several ops on named tensors, for ops that only make sense
    together (a hash table's create, import and find).  ``tensors``: the
    descriptions as for single_op_model (a ``dtype`` of ``"resource"`` makes a
    RESOURCE tensor); the ones that are neither constant nor written by an op
    become the model's inputs.  ``ops``: ``(op_name, input_names, output_names,
    options)`` run in order (``None`` for an omitted input); ``outputs``: the
    names of the model's outputs.  A custom op's options are bytes, as for chain_model.

    >>> content = graph_model([("x", [2]), ("y", [2]), ("z", [2])],
    ...                       [("ABS", ["x"], ["y"], None), ("NEG", ["y"], ["z"], None)], ["z"])
    >>> import tinylite
    >>> ip = tinylite.Interpreter(model_content=content); ip.allocate_tensors()
    >>> ip.set_tensor(0, np.array([-1.0, 2.0], np.float32)); ip.invoke()
    >>> ip.get_tensor(ip.get_output_details()[0]["index"]).tolist()
    [-1.0, -2.0]
    """
    model = Model()
    sg = Subgraph()
    model.subgraphs.append(sg)
    names = {}
    for desc in tensors:
        t = _tensor(model, desc)
        names[t.name] = len(sg.tensors)
        sg.tensors.append(t)
    written = {n for _, _, outs, _ in ops for n in outs}
    sg.inputs = [i for i, t in enumerate(sg.tensors) if t.buffer == 0 and t.name not in written and not t.is_variable]
    for op_name, ins, outs, options in ops:
        _add_op(model, sg, op_name, [-1 if n is None else names[n] for n in ins], [names[n] for n in outs],
                *_split_options(options))
    sg.outputs = [names[n] for n in outputs]
    return _finish(model, sg, signature)


def match_by_shape(arrays, details):
    """`arrays` reordered to follow `details` (input or output details), each
    matched by its shape past the batch axis: how the reference corpus pairs
    Keras's inputs and outputs with a converted file's."""
    pool, out = list(arrays), []
    for d in details:
        k = next(i for i, a in enumerate(pool) if a.shape[1:] == tuple(d["shape"][1:]))
        out.append(pool.pop(k))
    return out


def run_on_arrays(ip, xs, per_sample=False):
    """Run `ip` (tinylite's or LiteRT's interpreter) on the real-valued arrays
    `xs`, matched to its inputs by shape and quantized as each input stores
    values: one invoke for the whole batch, or one per sample.  Returns the
    outputs as stored (concatenated over samples) and the output details."""
    from .interpreter.tensor_values import quantize

    details = ip.get_input_details()
    feeds = match_by_shape(xs, details)
    rows = [slice(i, i + 1) for i in range(len(feeds[0]))] if per_sample else [slice(None)]
    outs = []
    for r in rows:
        for d, x in zip(details, feeds):
            if tuple(d["shape"]) != x[r].shape:
                ip.resize_tensor_input(d["index"], x[r].shape)
        ip.allocate_tensors()
        for d, x in zip(details, feeds):
            ip.set_tensor(d["index"], quantize(x[r], d))
        ip.invoke()
        outs.append([ip.get_tensor(d["index"]) for d in ip.get_output_details()])
    return [np.concatenate([o[k] for o in outs]) for k in range(len(outs[0]))], ip.get_output_details()


# Ops whose input at a position is an index into another input's dimension:
# op -> [(index input, indexed input, axis option or fixed axis)].
_INDEX_INPUTS = {
    "GATHER": [(1, 0, "axis")],
    "EMBEDDING_LOOKUP": [(0, 1, 0)],
    "GATHER_ND": [(1, 0, None)],
}
# Ops that pass their first input's values through unchanged in meaning.
_PASS_THROUGH = {"RESHAPE", "CAST", "SQUEEZE", "EXPAND_DIMS", "IDENTITY", "TRANSPOSE"}


def index_bounds(content: bytes) -> dict:
    """Exclusive upper bounds of the model inputs that are used as indices
    (GATHER's indices, EMBEDDING_LOOKUP's ids, GATHER_ND's, also through
    reshapes and casts), read from the shapes of the tensors they index:
    {input tensor index: bound}.  Random test inputs drawn below these are valid.

    >>> content = single_op_model("GATHER", [dict(name="p", data=np.ones((7, 3), np.float32)),
    ...                                      ("i", [4], np.int32)], [("y", [4, 3])], options=dict(axis=0))
    >>> index_bounds(content)
    {1: 7}
    """
    from .flatbuffer.reader import parse

    model = parse(content)
    sg = model.subgraphs[0]
    producers = {}
    for op in sg.operators:
        for o in op.outputs:
            producers[o] = op
    bounds = {}

    def source_input(t):
        seen = set()
        while t not in sg.inputs and t in producers and t not in seen:
            seen.add(t)
            op = producers[t]
            if model.op_name(op) not in _PASS_THROUGH or not len(op.inputs):
                return None
            t = op.inputs[0]
        return t if t in sg.inputs else None

    for op in sg.operators:
        for pos, indexed, axis in _INDEX_INPUTS.get(model.op_name(op), []):
            if pos >= len(op.inputs) or indexed >= len(op.inputs) or min(op.inputs[pos], op.inputs[indexed]) < 0:
                continue
            src = source_input(op.inputs[pos])
            if src is None:
                continue
            shape = [int(d) for d in sg.tensors[op.inputs[indexed]].shape]
            if not shape:
                continue
            if axis is None:
                bound = min(shape)
            elif isinstance(axis, str):
                a = int((op.builtin_options or {}).get(axis, 0))
                bound = shape[a % len(shape)]
            else:
                bound = shape[axis]
            bounds[src] = min(bound, bounds.get(src, bound))
    return bounds


def random_inputs(content: bytes, seed: int = 0) -> list:
    """Seeded random values for every input of a model, in input order:
    float inputs standard normal, integer inputs over their type's full range
    except index-like ones (see `index_bounds`), drawn in [0, bound); bools 50/50."""
    from .flatbuffer.reader import parse
    from .flatbuffer.schema import numpy_dtype

    model = parse(content)
    sg = model.subgraphs[0]
    bounds = index_bounds(content)
    rng = np.random.default_rng(seed)
    feeds = []
    for i in sg.inputs:
        t = sg.tensors[i]
        shape = [int(d) for d in t.shape]
        dtype = np.dtype(numpy_dtype(t.type))
        if dtype == np.bool_:
            feeds.append(rng.random(shape) < 0.5)
        elif dtype.kind == "f":
            feeds.append(rng.standard_normal(shape).astype(dtype))
        elif i in bounds:
            feeds.append(rng.integers(0, max(bounds[i], 1), shape).astype(dtype))
        else:
            info = np.iinfo(dtype)
            feeds.append(rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype))
    return feeds


QUANTIZATION_MODES = ("dynamic", "float16", "int8", "int16x8", "int8io")


def configure_quantization(converter, mode: str, representative_dataset=None):
    """Set a converter to one of TensorFlow's post-training quantization modes, by the names the
    corpus files carry: "dynamic" (int8 weights), "float16", "int8" (full integer, float
    fallback), "int16x8" (int16 activations, float fallback) or "int8io" (integer-only, int8
    input and output); the full-integer modes need `representative_dataset`.

    >>> import tinylite
    >>> c = tinylite.TFLiteConverter.from_keras_model_file("model.keras")   # doctest: +SKIP
    >>> configure_quantization(c, "int8io", lambda: ([x[i:i + 1]] for i in range(16)))  # doctest: +SKIP
    """
    from .converter.api import Optimize, OpsSet

    if mode not in QUANTIZATION_MODES:
        raise ValueError(f"quantization mode {mode!r}: expected one of {', '.join(QUANTIZATION_MODES)}")
    converter.optimizations = [Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [np.float16]
    if mode in ("int8", "int16x8", "int8io"):
        converter.representative_dataset = representative_dataset
    if mode == "int16x8":
        converter.target_spec.supported_ops = [OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                                               OpsSet.TFLITE_BUILTINS]
    if mode == "int8io":
        converter.target_spec.supported_ops = [OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = np.int8
