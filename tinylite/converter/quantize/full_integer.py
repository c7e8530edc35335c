"""Full integer quantization (int8 activations, or 16x8: int16 activations with
int8 weights) of a float model, from calibrated ranges.

The float graph is rewritten in place of a copy:
- every op the rules (rules.py) can quantize gets integer inputs and outputs:
  activations asymmetric int8 (symmetric int16 for 16x8) from the calibrated
  min/max, weights symmetric per channel, biases int32 (int64 for 16x8), fixed
  output parameters for SOFTMAX/LOGISTIC/TANH, the input's parameters for
  same-scale ops (pooling, reshape, ...), and a requantizing QUANTIZE in front
  of a CONCATENATION/PACK input whose parameters differ from the output's;
- any other op stays float: a DEQUANTIZE feeds it and a QUANTIZE reads its
  result (TensorFlow's float fallback), or, in strict mode, the conversion
  fails naming the op and its Keras layer;
- float model inputs get a QUANTIZE, float outputs a DEQUANTIZE; int8/int16
  inputs and outputs carry the parameters directly, uint8 ones a QUANTIZE
  between uint8 (zero point + 128) and int8, as TensorFlow writes them.

After the rewrite the model is prepared in tinylite's interpreter: an op whose
quantized kernel refuses the parameters is moved back to float (or reported,
in strict mode), so a converted model always runs.
"""
from __future__ import annotations

import copy
import re

import numpy as np

from ...errors import ConverterError
from ...flatbuffer.schema import OP_CODES, tensor_type
from ...graph import Operator, QuantizationParameters, Tensor
from . import lstm as L
from . import weights as W
from .rules import FIXED, TYPE_FREE, Rule, layer_of, rule

FLOAT32 = tensor_type(np.float32)
# The integer LSTM: quantized by _emit_lstm, not by the generic rule machinery.
_LSTM_RULE = Rule()
# A softmax input bias this far below the scores (relative to their span) is a Keras mask
# (-1e9 on masked positions), not data: see _mask_bias_slots.
_MASK_BIAS_FACTOR = 1.0e3


class Plan:
    """What the rewrite decided, for the debugger and the error messages."""

    def __init__(self):
        self.quantized_ops: list[int] = []        # original op indices
        self.float_ops: list[int] = []
        self.tensor_map: dict[int, int] = {}      # original float tensor -> its tensor in the new model


# Ops that read only their input's shape: a quantized tensor serves them as well as its float one.
_SHAPE_READERS = frozenset({"SHAPE", "RANK"})



# LiteRT's quantized comparisons scale each input by its own scale with a multiplier that must be
# below 1 (it aborts otherwise): a grid step of 1 or more keeps the comparison in float.
_SCALED_COMPARISONS = {"GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "EQUAL", "NOT_EQUAL"}


def _scales_below_one(data_in, calibrated):
    """Whether every tensor input of a comparison gets a grid step below 1 (its constants take the
    first tensor input's grid)."""
    return all(float(calibrated(i).scale[0]) < 1.0 for i in data_in)


def _const_data(op, r, consts, tensors):
    """The first float constant among an op's data inputs (not its index operands), or None."""
    return next((i for j, i in enumerate(op.inputs) if i >= 0 and j not in r.int_inputs and i in consts
                 and tensors[i].type == FLOAT32), None)


def _const_params(values, qdtype):
    """A constant's own parameters: its range, with 0."""
    return _params(*W.affine_params(float(np.min(values, initial=0)), float(np.max(values, initial=0)), qdtype))

def _params(scale, zp):
    return QuantizationParameters(scale=np.array([scale], np.float32), zero_point=np.array([zp], np.int64))


def _key(p: QuantizationParameters):
    return (float(p.scale[0]), int(p.zero_point[0]))


def op_label(model, op_index: int) -> str:
    sg = model.subgraphs[0]
    op = sg.operators[op_index]
    name = model.op_name(op)
    out = sg.tensors[op.outputs[0]].name if op.outputs else ""
    return f"{name} (layer {layer_of(out)!r}, tensor {out!r})"


def quantize(model, ranges: dict, act: str = "int8", strict: bool = False, input_type: str = "float32",
             output_type: str = "float32", keep_float=lambda model, op_index: False, means: dict | None = None,
             correct: set | None = None, mask_bias: bool = True):
    """A new Model, and the Plan.  `keep_float(model, i)` forces op i to stay float.  With `means`
    (calibrated per-channel means of the activations), biases are corrected for the weights'
    rounding error (see _bias_correction), on the ops in `correct` (None: all).  `mask_bias`:
    give masked attention scores a grid of their own (see _mask_bias_slots)."""
    forced: set[int] = set()
    for _ in range(len(model.subgraphs[0].operators) + 1):
        new, plan, origin = _rewrite(model, ranges, act, strict, input_type, output_type, keep_float, forced,
                                     means, correct, mask_bias)
        bad = _first_refused(new)
        if bad is None:
            return new, plan
        node, message, kernels = bad
        src = origin[node] if 0 <= node < len(origin) else None
        if src is None or src in forced:
            raise ConverterError(f"the quantized model does not run in tinylite: {message}")
        if strict:
            raise ConverterError(
                f"{op_label(model, src)} cannot be quantized to {act}: {kernels.format(act=act)} "
                f"({message}). Allow float fallback (add OpsSet.TFLITE_BUILTINS to "
                "target_spec.supported_ops) or keep this layer in float (denylisted_layers).")
        forced.add(src)
    raise ConverterError("quantization did not converge")  # pragma: no cover - bounded by the op count


def _first_refused(model):
    """(node index, message, which kernels) of the first op tinylite cannot prepare, with its
    default kernels or with LiteRT's reference ones, or None.  The reference kernels refuse a few
    parameters the default ones take (an int8 SOFTMAX over a collapsed input scale): LiteRT's
    reference resolver and TFLite Micro, whose kernels are LiteRT's reference ones, would abort
    on such a file, so those ops stay float too."""
    from ...flatbuffer.writer import write_model
    from ...interpreter import Interpreter, OpResolverType

    content = write_model(model)
    for resolver, kernels in ((OpResolverType.BUILTIN, "tinylite's {act} kernels cannot run it with these parameters"),
                              (OpResolverType.BUILTIN_REF, "LiteRT's reference {act} kernel (TFLite Micro's too) "
                                                           "cannot run it with these parameters")):
        try:
            Interpreter(model_content=content, experimental_op_resolver_type=resolver).allocate_tensors()
        except Exception as e:  # noqa: BLE001 - every refusal is reported or undone below
            m = re.search(r"Node number (\d+)", str(e))
            return (int(m.group(1)) if m else -1), str(e), kernels
    return None


def _bias_correction(name, w, deq, mean_x):
    """The expected output shift that rounding the weights causes, E[(Wq - W) x], per output
    channel (Nagel et al. 2019, "Data-Free Quantization", analytic bias correction with the
    calibrated input means).  None where it does not apply (grouped convolutions)."""
    eps = deq.astype(np.float64) - w.astype(np.float64)
    mean_x = np.asarray(mean_x, np.float64)
    if name == "FULLY_CONNECTED" and eps.shape[1] == mean_x.shape[0]:
        return eps @ mean_x
    if name == "CONV_2D" and eps.shape[3] == mean_x.shape[0]:
        return np.einsum("ohwi,i->o", eps, mean_x)
    if name == "DEPTHWISE_CONV_2D" and eps.shape[3] % mean_x.shape[0] == 0:
        mult = eps.shape[3] // mean_x.shape[0]
        return eps[0].sum(axis=(0, 1)) * np.repeat(mean_x, mult)
    return None


def _rewrite(model, ranges, act, strict, input_type, output_type, keep_float, forced, means=None, correct=None,
             mask_bias=True):
    m = copy.deepcopy(model)
    sg = m.subgraphs[0]
    qdtype = np.dtype(np.int16 if act == "int16" else np.int8)
    qtype = tensor_type(qdtype)
    bias_dtype = np.int64 if act == "int16" else np.int32
    tensors = sg.tensors
    consts = {i: m.buffer_array(t) for i, t in enumerate(tensors)}
    consts = {i: a for i, a in consts.items() if a is not None}
    plan = Plan()

    def is_float_data(i):
        return i >= 0 and tensors[i].type == FLOAT32 and i not in consts

    def calibrated(i):
        r = ranges.get(i)
        if r is None:
            return None
        return _params(*W.affine_params(r[0], r[1], qdtype))

    # -- which ops are quantized --
    quantized: dict[int, object] = {}
    for k, op in enumerate(sg.operators):
        name = m.op_name(op)
        r = rule(name, act)
        floats_out = [o for o in op.outputs if tensors[o].type == FLOAT32]
        if r is None or (not floats_out and r.output != "none") or k in forced or keep_float(model, k):
            continue
        data_in = [i for j, i in enumerate(op.inputs) if is_float_data(i) and j not in r.weights and j != r.bias]
        if r.output == "none" and not data_in:
            continue
        if any(tensors[o].is_variable for o in op.outputs):
            continue           # a FILL zeroing a sequence op's state: the LSTM plans below own those
        if name in _SCALED_COMPARISONS and not _scales_below_one(data_in, calibrated):
            continue
        if any(i not in ranges for i in data_in) or any(o not in ranges for o in floats_out):
            continue
        if any(tensors[i].type != FLOAT32 and i not in consts and j in r.weights for j, i in enumerate(op.inputs)
               if i >= 0):
            continue
        quantized[k] = r

    # -- fused LSTMs: the integer LSTM (int8), with the FILLs that zero its states --
    lstm_plans: dict[int, dict] = {}
    state_fills: dict[int, tuple[int, int]] = {}      # FILL op -> (its LSTM, state slot)
    fill_owner: dict[int, int] = {}                   # FILL op -> its LSTM (for error messages)
    for k, op in enumerate(sg.operators):
        if m.op_name(op) != L.NAME:
            continue
        for slot in (L.H_STATE, L.C_STATE):
            src = L.state_source(m, k, slot)
            if src is not None and src[0] == "fill":
                fill_owner[src[1]] = k
        if act != "int8" or k in forced or keep_float(model, k):
            continue
        lp = _lstm_plan(m, k, ranges, consts)
        if lp is None:
            continue
        lstm_plans[k] = lp
        quantized[k] = _LSTM_RULE
        for slot, src in lp["states"].items():
            if src[0] == "fill":
                state_fills[src[1]] = (k, slot)

    if strict:
        for k, op in enumerate(sg.operators):
            name = m.op_name(op)
            uses_float = any(tensors[i].type == FLOAT32 for i in list(op.inputs) + list(op.outputs) if i >= 0)
            if k not in quantized and k not in state_fills and uses_float and name not in TYPE_FREE:
                k = fill_owner.get(k, k)          # a state FILL stays float because its LSTM does
                name = m.op_name(sg.operators[k])
                why = ("it is kept in float by the denylist" if keep_float(model, k) else
                       "LiteRT has no UNIDIRECTIONAL_SEQUENCE_LSTM with int16 activations" if name == L.NAME
                       and act == "int16" else
                       "only a Keras-style LSTM (tanh, no peepholes, projection or layer norm) with a cell "
                       f"range under {2 ** L.MAX_CELL_INT_BITS} becomes an integer LSTM" if name == L.NAME else
                       f"tinylite has no {act} kernel for {name}" if rule(name, act) is None else
                       ("an input's range is so wide that its grid step is 1 or more: LiteRT's quantized "
                        "comparisons need a grid step below 1")
                       if name in _SCALED_COMPARISONS and all(i in ranges for i in op.inputs if is_float_data(i)) else
                       "its tensors were never reached by the representative dataset")
                raise ConverterError(
                    f"{op_label(model, k)} cannot be quantized to {act} in strict mode ({why}). Allow float "
                    "fallback (add OpsSet.TFLITE_BUILTINS to target_spec.supported_ops) or remove the layer.")

    mask_slots, ranges = _mask_bias_slots(m, ranges, consts, quantized, act) if mask_bias else ({}, ranges)
    ranges = _shared_concat_ranges(m, ranges, quantized, consts)

    # -- parameters of every quantized tensor (original index -> params) --
    qparams: dict[int, QuantizationParameters] = {}
    need: dict[tuple[int, int], QuantizationParameters] = {}   # (op, slot) -> params the op needs there
    for k, op in enumerate(sg.operators):
        r = quantized.get(k)
        if r is None:
            continue
        name = m.op_name(op)
        data_slots = [0] if k in lstm_plans else [j for j, i in enumerate(op.inputs)
                                                  if is_float_data(i) and j not in r.weights and j != r.bias]
        for j in data_slots:
            i = op.inputs[j]
            if i not in qparams:
                qparams[i] = calibrated(i)
        out = op.outputs[0]
        if r.output == "none":
            if name in _SCALED_COMPARISONS and data_slots:
                # A constant compared with a tensor takes the tensor's grid: its own could be too
                # coarse for LiteRT's kernel (a constant 0 has a step of 1), and one grid compares
                # exactly what the two grids would.
                for j, i in enumerate(op.inputs):
                    if i >= 0 and i in consts and tensors[i].type == FLOAT32:
                        need[(k, j)] = qparams[op.inputs[data_slots[0]]]
            continue
        if r.output == "fixed":
            p = _params(*FIXED[name][act])
        elif r.output == "same" and data_slots:
            p = qparams[op.inputs[data_slots[0]]]
        elif r.output == "same" and (table := _const_data(op, r, consts, tensors)) is not None:
            # A GATHER from a constant table, a FILL with a constant: the constant's own grid.
            p = _const_params(consts[table], qdtype)
        else:
            p = calibrated(out)
        for o in op.outputs:
            if tensors[o].type == FLOAT32:
                qparams[o] = p
        if r.same_inputs:
            for j in data_slots:
                if _key(qparams[op.inputs[j]]) != _key(p):
                    need[(k, j)] = p
        for j in mask_slots.get(k, ()):
            # The mask bias is requantized onto the masked scores' grid: masked
            # positions saturate to its lowest value, attended ones (0) stay exact.
            need[(k, j)] = p
    # Model inputs read as integers get the calibrated parameters even if no quantized op reads them.
    if input_type != "float32":
        for i in sg.inputs:
            if tensors[i].type == FLOAT32 and i not in qparams and i in ranges:
                qparams[i] = calibrated(i)
    if output_type != "float32":
        for i in sg.outputs:
            if tensors[i].type == FLOAT32 and i not in qparams and i in ranges:
                qparams[i] = calibrated(i)

    # -- the rewrite --
    producer = {o: k for k, op in enumerate(sg.operators) for o in op.outputs}
    home: dict[int, str] = {}
    for i in qparams:
        k = producer.get(i)
        home[i] = "q" if (k in quantized) or (k is None and i in sg.inputs and input_type != "float32") else "f"
    versions: dict[tuple, int] = {}
    new_ops: list[Operator] = []
    origin: list[int | None] = []
    orig_name = {i: t.name for i, t in enumerate(tensors)}

    def add_tensor(like: int, ttype: int, q, name: str) -> int:
        t = tensors[like]
        tensors.append(Tensor(name=name, shape=np.array(t.shape), type=ttype, buffer=0, quantization=q,
                              shape_signature=None if t.shape_signature is None else np.array(t.shape_signature),
                              has_rank=t.has_rank))
        return len(tensors) - 1

    def emit(op_name, inputs, outputs, src=None):
        new_ops.append(Operator(m.opcode_index(OP_CODES[op_name]), list(inputs), list(outputs)))
        origin.append(src)

    def to_int(i):
        """Make tensor i itself the quantized version (its home)."""
        t = tensors[i]
        t.type = qtype
        t.quantization = copy.deepcopy(qparams[i])

    for i, h in home.items():
        if h == "q":
            to_int(i)
            versions[(i, _key(qparams[i]))] = i
        else:
            versions[(i, "f")] = i

    def get(i, want):
        """The index of tensor i's version `want` ("f" or params), emitting a conversion if needed."""
        if i not in home:
            return i
        key = (i, "f") if want == "f" else (i, _key(want))
        if key in versions:
            return versions[key]
        if want == "f":
            src = versions[(i, _key(qparams[i]))]
            new = add_tensor(i, FLOAT32, None, orig_name[i] + "_float")
            emit("DEQUANTIZE", [src], [new])
        else:
            src = versions.get((i, _key(qparams[i]))) if home[i] == "q" else versions[(i, "f")]
            new = add_tensor(i, qtype, copy.deepcopy(want), orig_name[i] + f"_{act}"
                             + ("" if _key(want) == _key(qparams[i]) else "_requantized"))
            emit("QUANTIZE", [src], [new])
        versions[key] = new
        return new

    # Quantized model inputs first, as TensorFlow orders them.
    if input_type == "float32":
        for i in sg.inputs:
            if i in home and any(k in quantized and i in sg.operators[k].inputs for k in range(len(sg.operators))):
                get(i, qparams[i])

    for k, op in enumerate(sg.operators):
        r = quantized.get(k)
        name = m.op_name(op)
        if k in state_fills:
            lk, slot = state_fills[k]
            params, dtype = lstm_plans[lk]["state_params"][slot]
            _set_type(tensors, op.outputs[0], dtype, params)
            zero = np.array(int(params.zero_point[0]), dtype)
            op.inputs = [op.inputs[0], _const(m, tensors, op.inputs[1], zero, tensor_type(dtype),
                                              copy.deepcopy(params))]
            new_ops.append(op)
            origin.append(k)
            plan.quantized_ops.append(k)
            continue
        if k in lstm_plans:
            op.inputs = [get(op.inputs[0], qparams[op.inputs[0]])] + list(op.inputs[1:])
            _emit_lstm(m, tensors, op, lstm_plans[k], consts, qparams[op.outputs[0]])
            new_ops.append(op)
            origin.append(k)
            plan.quantized_ops.append(k)
            continue
        if r is None:
            # An op left in float reads the float version of every quantized tensor it takes (a
            # comparison or a cast too, whose outputs are not float); only shape readers need not.
            if name not in _SHAPE_READERS:
                op.inputs = [get(i, "f") if i >= 0 and i in home else i for i in op.inputs]
            new_ops.append(op)
            origin.append(k)
            plan.float_ops.append(k)
            continue
        plan.quantized_ops.append(k)
        inputs = list(op.inputs)
        x_scale = None
        for j, i in enumerate(inputs):
            if i < 0:
                continue
            if j in r.weights and i in consts and tensors[i].type == FLOAT32:
                axis = r.weights[j]
                # PRELU's alpha is int8 in 16x8 too: LiteRT's int16 PRELU reads an int16 alpha
                # differently from tinylite (see the report in the rules docstring).
                qv, scale = W.symmetric_int8(consts[i], axis)
                inputs[j] = _const(m, tensors, i, qv, tensor_type(np.int8), W.weight_params(scale, axis))
                if (means is not None and r.bias is not None and op.inputs[0] in means and j == 1
                        and r.bias < len(inputs) and inputs[r.bias] >= 0 and (correct is None or k in correct)):
                    shape = [1] * qv.ndim
                    shape[axis] = -1
                    corr = _bias_correction(name, consts[i], qv * scale.reshape(shape), means[op.inputs[0]])
                    if corr is not None:
                        # Only existing biases are corrected: a new one would grow the file.
                        bi = inputs[r.bias]
                        consts[bi] = (consts[bi].astype(np.float64) - corr).astype(np.float32)
            elif j == r.bias:
                continue
            elif i in consts and tensors[i].type == FLOAT32:
                data_p = need.get((k, j)) or _const_params(consts[i], qdtype)
                if r.same_inputs:
                    data_p = qparams[op.outputs[0]]
                inputs[j] = _const(m, tensors, i, W.quantize_values(consts[i], data_p.scale[0],
                                                                    int(data_p.zero_point[0]), qdtype),
                                   qtype, copy.deepcopy(data_p))
            elif i in home:
                inputs[j] = get(i, need.get((k, j), qparams[i]))
            if x_scale is None and j == 0 and inputs[j] >= 0 and tensors[inputs[j]].quantization is not None:
                x_scale = float(tensors[inputs[j]].quantization.scale[0])
        if r.bias is not None and r.bias < len(inputs) and inputs[r.bias] >= 0:
            bi = inputs[r.bias]
            wq = tensors[inputs[1]].quantization
            xi = inputs[0] if name != "TRANSPOSE_CONV" else inputs[2]
            xs = float(tensors[xi].quantization.scale[0])
            qb, bscale = W.quantize_bias(consts[bi], xs, wq.scale, bias_dtype)
            inputs[r.bias] = _const(m, tensors, bi, qb, tensor_type(bias_dtype), W.weight_params(bscale, 0))
        op.inputs = inputs
        if act == "int16" and op.builtin_options and "quantized_bias_type" in op.builtin_options:
            op.builtin_options["quantized_bias_type"] = tensor_type(np.int64)
        new_ops.append(op)
        origin.append(k)

    # Model outputs.
    outs = []
    for i in sg.outputs:
        if i not in home:
            outs.append(i)
        elif output_type == "float32":
            if home[i] == "f":
                outs.append(i)
            else:
                # The float output keeps the tensor's name; the integer one is renamed.
                f = get(i, "f")
                tensors[f].name, tensors[i].name = orig_name[i], orig_name[i] + f"_{act}"
                outs.append(f)
        else:
            qi = get(i, qparams[i])
            if output_type == "uint8":
                p = qparams[i]
                u = add_tensor(i, tensor_type(np.uint8), _params(float(p.scale[0]), int(p.zero_point[0]) + 128),
                               orig_name[i] + "_uint8")
                emit("QUANTIZE", [qi], [u])
                tensors[u].name, tensors[qi].name = orig_name[i], orig_name[i] + f"_{act}"
                qi = u
            outs.append(qi)
    # Model inputs read as integers.
    ins = list(sg.inputs)
    if input_type != "float32":
        prefix: list[Operator] = []
        prefix_origin: list = []
        for n, i in enumerate(sg.inputs):
            if i not in home:
                continue
            if input_type == "uint8":
                p = qparams[i]
                u = add_tensor(i, tensor_type(np.uint8), _params(float(p.scale[0]), int(p.zero_point[0]) + 128),
                               orig_name[i])
                tensors[i].name = orig_name[i] + f"_{act}"
                prefix.append(Operator(m.opcode_index(OP_CODES["QUANTIZE"]), [u], [i]))
                prefix_origin.append(None)
                ins[n] = u
        new_ops = prefix + new_ops
        origin = prefix_origin + origin
    sg.operators = new_ops
    for sd in m.signature_defs:
        for tm, i in zip(sd.inputs, ins):
            tm.tensor_index = i
        for tm, i in zip(sd.outputs, outs):
            tm.tensor_index = i
    sg.inputs, sg.outputs = ins, outs
    plan.tensor_map = {i: versions.get((i, _key(qparams[i])), i) for i in qparams}
    plan.qparams = qparams
    for op, src in zip(sg.operators, origin):
        op._origin = src
    _compact(m, plan)
    origin = [op.__dict__.pop("_origin", None) for op in sg.operators]
    return m, plan, origin


def _shared_concat_ranges(m, ranges, quantized, consts):
    """Ranges unified over the tensors that must share one grid: the inputs and output of a
    CONCATENATION/PACK, and the input and output of a same-scale op (pooling, reshape, pad,
    slice, ...), transitively.  Each group gets the union of its members' calibrated ranges.

    Calibrated separately, a concatenation's inputs each get a finer grid than its output and
    need a requantizing QUANTIZE in front of it; in concatenation-heavy models (DenseNet,
    Inception) those are dozens of extra ops whose double rounding costs several dB.  With the
    union, the producers write straight onto the shared grid, as TensorFlow's quantizer does by
    propagating a same-scale op's statistics to its operands.  Tensors with fixed parameters
    (SOFTMAX, LOGISTIC, TANH outputs) and the integer LSTM's output and states (_lstm_plan sets
    their grids) keep theirs: the rewrite still requantizes those where they meet a group."""
    sg = m.subgraphs[0]
    tensors = sg.tensors
    pinned = {i for k, r in quantized.items() if r is _LSTM_RULE
              for i in list(sg.operators[k].outputs) + list(sg.operators[k].inputs)}
    parent: dict[int, int] = {}

    def find(i):
        while parent.get(i, i) != i:
            parent[i] = parent.get(parent[i], parent[i])
            i = parent[i]
        return i

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    for k, r in quantized.items():
        if r.output != "same" and not r.same_inputs:
            continue
        op = sg.operators[k]
        data = [i for j, i in enumerate(op.inputs) if i >= 0 and i not in consts and j not in r.weights
                and j != r.bias and j not in r.int_inputs and tensors[i].type == FLOAT32 and i in ranges]
        if r.output == "same":
            data = data[:1]
        outs = [o for o in op.outputs if tensors[o].type == FLOAT32 and o in ranges]
        members = [i for i in data + outs if i not in pinned]
        for i in members:
            parent.setdefault(i, i)
        for a, b in zip(members, members[1:]):
            union(a, b)
    if not parent:
        return ranges
    span: dict[int, list] = {}
    for i in parent:
        lo, hi = ranges[i]
        root = find(i)
        s = span.setdefault(root, [lo, hi])
        s[0], s[1] = min(s[0], lo), max(s[1], hi)
    new = dict(ranges)
    for i in parent:
        lo, hi = span[find(i)]
        new[i] = (lo, hi)
    return new


def _lstm_plan(m, k, ranges, consts):
    """What the integer LSTM op k needs (its states' sources and parameters), or None when
    it stays float: not a Keras-style tanh LSTM, uncalibrated, or a cell range too wide."""
    sg = m.subgraphs[0]
    op = sg.operators[k]
    if L.activation(op) != "TANH" or L.float_cell_layout(m, op) is None:
        return None
    x, out = op.inputs[0], op.outputs[0]
    c = op.inputs[L.C_STATE] if len(op.inputs) > L.C_STATE else -1
    if x < 0 or x in consts or sg.tensors[x].type != FLOAT32 or x not in ranges or out not in ranges or c < 0 \
            or c not in ranges:
        return None
    scale = L.cell_scale(*ranges[c])
    if scale is None:
        return None
    states = {slot: L.state_source(m, k, slot) for slot in (L.H_STATE, L.C_STATE)}
    if any(s is None for s in states.values()):
        return None
    h_params = _params(*W.affine_params(*ranges[out], np.int8))
    return {"states": states,
            "state_params": {L.H_STATE: (h_params, np.int8), L.C_STATE: (_params(scale, 0), np.int16)}}


def _set_type(tensors, i, dtype, params):
    tensors[i].type = tensor_type(dtype)
    tensors[i].quantization = copy.deepcopy(params)


_INTERMEDIATES = ("input_to_input_intermediate", "input_to_forget_intermediate", "input_to_cell_intermediate",
                  "input_to_output_intermediate", "effective_hidden_scale_intermediate")


def _emit_lstm(m, tensors, op, lp, consts, out_params):
    """Rewrite op (its input already integer) into TFLite's 8x8->16 integer LSTM."""
    inputs = list(op.inputs)
    x_scale = float(tensors[inputs[0]].quantization.scale[0])
    w_scales = {}
    for j in L.INPUT_WEIGHTS + L.RECURRENT_WEIGHTS:
        i = inputs[j]
        if i < 0:
            continue
        qv, scale = W.symmetric_int8(consts[i], None)
        inputs[j] = _const(m, tensors, i, qv, tensor_type(np.int8), W.weight_params(scale, None))
        w_scales[j] = scale
    for gate, j in enumerate(L.BIASES):
        i = inputs[j]
        if i < 0:
            continue
        qb, bscale = W.quantize_bias(consts[i], x_scale, w_scales[L.INPUT_WEIGHTS[gate]], np.int32)
        inputs[j] = _const(m, tensors, i, qb, tensor_type(np.int32), W.weight_params(bscale[:1], None))
    for slot in (L.H_STATE, L.C_STATE):
        params, dtype = lp["state_params"][slot]
        _set_type(tensors, inputs[slot], dtype, params)
    # The output (a copy of the hidden state at each step) and the hidden state share
    # one grid; intermediate 4 carries it too (without a projection it is the output).
    out_params = lp["state_params"][L.H_STATE][0]
    _set_type(tensors, op.outputs[0], np.int8, out_params)
    layer = layer_of(tensors[op.outputs[0]].name)
    ids = []
    for n, name in enumerate(_INTERMEDIATES):
        hidden = n == len(_INTERMEDIATES) - 1
        tensors.append(Tensor(name=f"{layer}/{name}", shape=np.zeros(0, np.int32),
                              type=tensor_type(np.int8) if hidden else FLOAT32, buffer=0,
                              quantization=copy.deepcopy(out_params) if hidden else None))
        ids.append(len(tensors) - 1)
    op.inputs = inputs
    op.intermediates = ids
    if op.builtin_options is not None:
        op.builtin_options["asymmetric_quantize_inputs"] = False


def has_mask_bias(model, ranges) -> bool:
    """Whether _mask_bias_slots finds a masked-softmax ADD in the float model."""
    sg = model.subgraphs[0]
    consts = {i: a for i, a in ((i, model.buffer_array(t)) for i, t in enumerate(sg.tensors)) if a is not None}
    adds = {k for k, op in enumerate(sg.operators) if model.op_name(op) == "ADD"}
    return bool(_mask_bias_slots(model, ranges, consts, adds, "int8")[0])


def _mask_bias_slots(m, ranges, consts, quantized, act):
    """Keras masks add -1e9 to the masked attention scores before SOFTMAX.  Calibrated
    as data, that bias stretches the scores' grid over 1e9: masking stays exact but
    every score lands on one value.  For such an ADD (one input a bias far below the
    other's span, the result read only by SOFTMAX), the result's range becomes the
    scores' range widened below just enough that a masked score saturating at the
    bottom still gets probability 0 at the softmax output's resolution (all N of them
    together under half its last bit: ln(2 * levels * N)), and the bias input is
    requantized onto that grid (returned as {op: [bias slots]}).  When the scores span
    much less than that margin this costs them resolution, so quantize_model keeps
    whichever of the two treatments reproduces the float model better.  Returns the
    slots and the adjusted ranges."""
    sg = m.subgraphs[0]
    readers: dict[int, list[str]] = {}
    for op in sg.operators:
        for i in op.inputs:
            readers.setdefault(i, []).append(m.op_name(op))
    slots: dict[int, list[int]] = {}
    new = None
    for k, op in enumerate(sg.operators):
        if k not in quantized or m.op_name(op) != "ADD" or len(op.inputs) != 2:
            continue
        out = op.outputs[0]
        if out in sg.outputs or not readers.get(out) or any(r != "SOFTMAX" for r in readers[out]):
            continue
        spans = []
        for i in op.inputs:
            if i in consts:
                spans.append((float(np.min(consts[i])), float(np.max(consts[i]))))
            else:
                spans.append(ranges.get(i))
        if any(s is None for s in spans):
            continue
        keys = int(sg.tensors[out].shape[-1]) if len(sg.tensors[out].shape) else 1
        margin = float(np.log(2.0 * (32768 if act == "int16" else 256) * max(keys, 1)))
        for j in (0, 1):
            (blo, bhi), (slo, shi) = spans[j], spans[1 - j]
            if bhi <= 0 and blo < -_MASK_BIAS_FACTOR * max(shi - slo, 1.0):
                new = dict(ranges) if new is None else new
                new[out] = (slo - margin, shi)
                slots.setdefault(k, []).append(j)
                break
    return slots, (ranges if new is None else new)


def _const(m, tensors, like: int, values, ttype: int, q) -> int:
    t = tensors[like]
    tensors.append(Tensor(name=t.name, shape=np.array(values.shape, np.int32), type=ttype,
                          buffer=m.add_buffer(np.ascontiguousarray(values)), quantization=q, has_rank=True))
    return len(tensors) - 1


def _compact(m, plan):
    """Drop tensors and buffers nobody uses (the float weights), keeping index maps right."""
    from ..passes import remove_dead

    sg = m.subgraphs[0]
    # remove_dead renumbers tensors; track the plan's indices through a marker attribute.
    for i, t in enumerate(sg.tensors):
        t._orig_index = i
    remove_dead.run(m)
    where = {t._orig_index: k for k, t in enumerate(sg.tensors)}
    for t in sg.tensors:
        del t._orig_index
    plan.tensor_map = {a: where[b] for a, b in plan.tensor_map.items() if b in where}
