"""Keras layers lowered to TFLite operators (inference semantics, NHWC).

Each lowering takes the Context, the LayerSpec, the layer's inputs (Values, as
Keras passes them) and its call kwargs, and returns the output Value(s).  They
emit what TensorFlow's own converter emits for the same layer where practical;
the graph passes then fuse activations and fold BatchNorm.
"""
from __future__ import annotations

import numpy as np

from ...errors import ConverterError
from .ops import (
    batch_size,
    binary,
    bshape,
    conv_out,
    expand_dims,
    f32,
    i32,
    pool3d,
    reduce,
    reshape,
    separable_resize,
    squeeze,
    transpose,
    unary,
)

LOWERINGS: dict = {}

# Layers that do nothing at inference time.
IDENTITY_LAYERS = {
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity",
    # keras.applications.convnext's drop-path (KerasHub's DropPath alike): training only
    "StochasticDepth", "DropPath",
    # image augmentation: training only (Keras passes inputs through at inference)
    "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness",
    "RandomShear", "RandomHue", "RandomSaturation", "RandomSharpness", "RandomGrayscale", "RandomErasing",
    "RandomGaussianBlur", "RandomPerspective", "RandomColorJitter", "RandomColorDegeneration", "RandomInvert",
    "RandomPosterization", "RandomElasticTransform",
}

# Lowerings that take the call's keyword arguments (masks, initial states, flags):
# fn(ctx, layer, inputs, kwargs).  They check their tensor kwargs themselves.
KWARG_LOWERINGS: dict = {}

# Layers that take a mask in Keras but ignore it at inference.
MASK_IGNORING_LAYERS = {"BatchNormalization"}

# Layers whose inputs may be integer or boolean tensors.
ANY_DTYPE_LAYERS = {"Reshape", "Flatten", "Permute", "Concatenate", "RepeatVector",
                    "Cropping1D", "Cropping2D", "ZeroPadding1D", "ZeroPadding2D"}


# Lowerings few models need (sequence.py, attention.py) load on first use: importing them
# is a measurable part of converting a small model.  They load when a layer names one
# of LAZY_LAYERS, or a name no registry holds.  A name they register over an eager
# lowering must be listed here (sequence.py refuses to load otherwise).
LAZY_LAYERS = {"Embedding", "Masking", "LSTM", "GRU", "SimpleRNN", "ConvLSTM2D", "RNN", "Bidirectional", "TimeDistributed",
               "GlobalAveragePooling1D", "GlobalAvgPool1D", "MultiHeadAttention", "Attention",
               "AdditiveAttention"}


def load_lazy_lowerings() -> None:
    from . import attention, sequence  # noqa: F401  (they register themselves)


def lowering(*names):
    def register(fn):
        for n in names:
            LOWERINGS[n] = fn
        return fn
    return register


def fail(layer, message: str):
    raise ConverterError(f"layer {layer.name!r} ({layer.class_name}): {message}")


def supported_layers() -> list[str]:
    load_lazy_lowerings()
    return sorted(set(LOWERINGS) | set(KWARG_LOWERINGS) | IDENTITY_LAYERS)


def _flat(args):
    out = []
    for a in args:
        if isinstance(a, (list, tuple)):
            out.extend(_flat(a))
        elif hasattr(a, "index"):
            out.append(a)
    return out


def lower_layer(ctx, layer, args, kwargs):
    cls = layer.class_name
    if cls in LAZY_LAYERS or not (cls in LOWERINGS or cls in KWARG_LOWERINGS or cls in IDENTITY_LAYERS):
        load_lazy_lowerings()
    if cls not in LOWERINGS and cls not in KWARG_LOWERINGS and cls not in IDENTITY_LAYERS:
        # Keras 3 functional configs record keras.ops calls between layers (e.g. the
        # NotEqual that computes an Embedding's mask) as layers named by op class.
        from .keras_ops import OP_LOWERINGS, lower_op

        if cls in OP_LOWERINGS:
            return lower_op(ctx, layer, args, kwargs, kind=cls)
    inputs = _flat(args)
    if cls in KWARG_LOWERINGS:
        return KWARG_LOWERINGS[cls](ctx, layer, inputs, dict(kwargs or {}))
    for k, v in (kwargs or {}).items():
        if k in ("training",):
            continue
        if _flat([v]) and k != "mask":
            fail(layer, f"call argument {k!r} is a tensor; only positional inputs are supported")
        if k == "mask" and _flat([v]) and cls not in MASK_IGNORING_LAYERS:
            fail(layer, "masks are not supported by this layer (remove the Masking/mask_zero producer, or "
                        "stop the mask before it)")
    if cls in IDENTITY_LAYERS:
        return inputs[0]
    if cls in ("Lambda", "TFOpLambda", "SlicingOpLambda"):
        fail(layer, "a Lambda layer holds arbitrary Python code, which cannot be read from a file or "
                    "converted. Replace it with built-in Keras layers, or with a small subclass of "
                    "keras.layers.Layer whose call() uses keras.ops, and convert the live model with "
                    "tinylite.TFLiteConverter.from_keras_model(model).")
    fn = LOWERINGS.get(cls)
    if fn is None:
        fail(layer, f"layer class {cls} is not supported. {_suggestion(cls)} Supported layers: "
                    f"{', '.join(supported_layers())}.")
    cfg = layer.config
    fmt = cfg.get("data_format")
    if fmt not in (None, "channels_last"):
        fail(layer, f"option data_format={fmt!r} is not supported; TFLite is NHWC, use data_format='channels_last'")
    for v in inputs:
        if v.dtype != np.float32 and cls not in ANY_DTYPE_LAYERS:
            fail(layer, f"input dtype {v.dtype} is not supported (float32 only)")
    return fn(ctx, layer, inputs)


# Keras layers with no TFLite lowering, and the layer (or layers) that work instead.
_INSTEAD = {
    "LocallyConnected1D": "Conv1D", "LocallyConnected2D": "Conv2D",
    "ConvLSTM1D": "ConvLSTM2D over [batch, time, 1, steps, channels]",
    "ConvLSTM3D": "ConvLSTM2D, or TimeDistributed(Conv3D) followed by LSTM",
    "StringLookup": "the lookup outside the model (feed integer ids)",
    "TextVectorization": "the vectorization outside the model (feed integer ids)",
    "IntegerLookup": "the lookup outside the model", "Hashing": "the hashing outside the model",
    "CategoryEncoding": "keras.ops.one_hot outside the model, or an Embedding",
    "RandomCrop": "CenterCrop (RandomCrop center-crops at inference)",
}


def _suggestion(cls: str) -> str:
    if cls in _INSTEAD:
        return f"Use {_INSTEAD[cls]} instead."
    return ("If it is a custom layer, convert the live model with tinylite.TFLiteConverter.from_keras_model("
            "model): tinylite traces a custom layer's call() into keras layers and keras.ops (a file holds no "
            "code to trace). Otherwise replace it with built-in Keras layers.")


# -- activations ------------------------------------------------------------------------------

ACTIVATION_NAMES = ["linear", "relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "softmax", "log_softmax",
                    "elu", "selu", "gelu", "silu", "swish", "hard_silu", "hard_swish", "leaky_relu",
                    "softplus", "softsign", "exponential"]


def activation_name(spec) -> str:
    if spec is None:
        return "linear"
    if isinstance(spec, dict):
        inner = spec.get("config")
        spec = inner if isinstance(inner, str) else spec.get("class_name", "")
    return str(spec)


def activation(ctx, x, spec, name, layer=None, axis=-1):
    kind = activation_name(spec)
    n = f"{name}/{kind}"
    if kind in ("linear", "None", ""):
        return x
    if kind == "relu":
        return unary(ctx, "RELU", x, n)
    if kind == "relu6":
        return unary(ctx, "RELU6", x, n)
    if kind == "sigmoid":
        return unary(ctx, "LOGISTIC", x, n)
    if kind == "tanh":
        return unary(ctx, "TANH", x, n)
    if kind == "softmax":
        return softmax(ctx, x, axis, n)
    if kind == "log_softmax":
        return _on_last_axis(ctx, x, axis, n, lambda v: unary(ctx, "LOG_SOFTMAX", v, n))
    if kind == "elu":
        return unary(ctx, "ELU", x, n)
    if kind == "selu":
        return _elu(ctx, x, 1.6732632423543772, n, scale=1.0507009873554805)
    if kind == "gelu":
        return unary(ctx, "GELU", x, n, {"approximate": False})
    if kind in ("silu", "swish"):
        return binary(ctx, "MUL", x, unary(ctx, "LOGISTIC", x, n + "/sigmoid"), n)
    if kind in ("hard_silu", "hard_swish"):
        return unary(ctx, "HARD_SWISH", x, n)
    if kind == "hard_sigmoid":
        if ctx.keras_major < 3:          # Keras 2: clip(0.2 x + 0.5, 0, 1)
            y = binary(ctx, "ADD", binary(ctx, "MUL", x, 0.2, n + "/mul"), 0.5, n + "/add")
            return binary(ctx, "MAXIMUM", binary(ctx, "MINIMUM", y, 1.0, n + "/min"), 0.0, n)
        y = unary(ctx, "RELU6", binary(ctx, "ADD", x, 3.0, n + "/add"), n + "/relu6")
        return binary(ctx, "MUL", y, 1.0 / 6.0, n)
    if kind == "leaky_relu":
        return unary(ctx, "LEAKY_RELU", x, n, {"alpha": 0.2})
    if kind == "softplus":
        # relu(x) + log(1 + exp(-|x|)): exact where exp(x) would overflow.
        r = unary(ctx, "RELU", x, n + "/relu")
        neg_abs = binary(ctx, "SUB", x, binary(ctx, "MUL", r, 2.0, n + "/2relu"), n + "/neg_abs")
        e = unary(ctx, "EXP", neg_abs, n + "/exp")
        return binary(ctx, "ADD", r, unary(ctx, "LOG", binary(ctx, "ADD", e, 1.0, n + "/1p"), n + "/log"), n)
    if kind == "softsign":
        r = unary(ctx, "RELU", x, n + "/relu")
        abs_x = binary(ctx, "SUB", binary(ctx, "MUL", r, 2.0, n + "/2relu"), x, n + "/abs")
        return binary(ctx, "DIV", x, binary(ctx, "ADD", abs_x, 1.0, n + "/1p"), n)
    if kind == "exponential":
        return unary(ctx, "EXP", x, n)
    where = f"layer {layer.name!r} ({layer.class_name}): " if layer is not None else ""
    raise ConverterError(f"{where}option activation={kind!r} is not supported. Supported activations: "
                         f"{', '.join(ACTIVATION_NAMES)}.")


def _elu(ctx, x, alpha, name, scale=1.0):
    """scale * (x if x > 0 else alpha * (exp(x) - 1)) = scale*(1-alpha)*relu(x) + scale*alpha*elu(x)."""
    e = unary(ctx, "ELU", x, name + "/elu")
    if alpha == 1.0 and scale == 1.0:
        return e
    a = binary(ctx, "MUL", e, scale * alpha, name + "/alpha")
    if alpha == 1.0:
        return a
    r = binary(ctx, "MUL", unary(ctx, "RELU", x, name + "/relu"), scale * (1.0 - alpha), name + "/pos")
    return binary(ctx, "ADD", a, r, name)


def _on_last_axis(ctx, x, axis, name, fn):
    axis = axis % x.rank
    if axis == x.rank - 1:
        return fn(x)
    perm = list(range(x.rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    y = fn(transpose(ctx, x, perm, name + "/to_last"))
    return transpose(ctx, y, perm, name + "/from_last")


def softmax(ctx, x, axis, name):
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise ConverterError(f"{name}: softmax over several axes {axis} is not supported")
        axis = axis[0]
    return _on_last_axis(ctx, x, axis, name, lambda v: unary(ctx, "SOFTMAX", v, name, {"beta": 1.0}))


def identity_copy(ctx, x, name):
    """A distinct tensor equal to x (a model output that is also an input)."""
    return ctx.b.op("RESHAPE", [x, i32(ctx, [-1 if d is None else d for d in x.shape], name + "/shape")],
                    x.shape, name)


@lowering("Activation")
def _activation_layer(ctx, layer, inputs):
    return activation(ctx, inputs[0], layer.config.get("activation"), layer.name, layer)


@lowering("ReLU")
def _relu(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    max_value = cfg.get("max_value")
    slope = float(cfg.get("negative_slope", 0.0) or 0.0)
    threshold = float(cfg.get("threshold", 0.0) or 0.0)
    n = layer.name
    if threshold != 0.0:
        # x where x >= threshold, else negative_slope * (x - threshold); then the cap.
        keep = ctx.b.op("GREATER_EQUAL", [x, f32(ctx, threshold, n + "/threshold")], x.shape, n + "/above",
                        out_dtypes=np.bool_)
        below = binary(ctx, "MUL", binary(ctx, "SUB", x, threshold, n + "/shifted"), slope, n + "/sloped")
        y = ctx.b.op("SELECT_V2", [keep, x, below], x.shape, n if max_value is None else n + "/select",
                     out_dtypes=x.dtype)
        return y if max_value is None else binary(ctx, "MINIMUM", y, float(max_value), n)
    if slope == 0.0:
        if max_value is None:
            return unary(ctx, "RELU", x, n)
        if float(max_value) == 6.0:
            return unary(ctx, "RELU6", x, n)
        return binary(ctx, "MINIMUM", unary(ctx, "RELU", x, n + "/relu"), float(max_value), n)
    y = unary(ctx, "LEAKY_RELU", x, n if max_value is None else n + "/leaky", {"alpha": slope})
    return y if max_value is None else binary(ctx, "MINIMUM", y, float(max_value), n)


@lowering("LeakyReLU")
def _leaky(ctx, layer, inputs):
    cfg = layer.config
    alpha = cfg.get("negative_slope", cfg.get("alpha", 0.3))
    return unary(ctx, "LEAKY_RELU", inputs[0], layer.name, {"alpha": float(alpha)})


@lowering("ELU")
def _elu_layer(ctx, layer, inputs):
    return _elu(ctx, inputs[0], float(layer.config.get("alpha", 1.0)), layer.name)


@lowering("Softmax")
def _softmax_layer(ctx, layer, inputs):
    return softmax(ctx, inputs[0], layer.config.get("axis", -1), layer.name)


@lowering("PReLU")
def _prelu(ctx, layer, inputs):
    x = inputs[0]
    alpha = layer.weight("alpha", 0).astype(np.float32)
    return ctx.b.op("PRELU", [x, f32(ctx, alpha, layer.name + "/alpha")], x.shape, layer.name)


# -- core -------------------------------------------------------------------------------------

@lowering("Dense")
def _dense(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    if cfg.get("lora_rank"):
        fail(layer, "option lora_rank is set; merge the LoRA weights first (layer.disable_lora / a plain Dense)")
    kernel = layer.weight("kernel", 0)
    units = kernel.shape[1]
    bias = layer.weight("bias", 1, required=False) if cfg.get("use_bias", True) else None
    w = f32(ctx, kernel.T, layer.name + "/MatMul")
    # TensorFlow drops an all-zero bias (the op then adds nothing).
    b = f32(ctx, bias, layer.name + "/BiasAdd") if bias is not None and np.any(bias) else None
    out_shape = x.shape[:-1] + (units,)
    y = ctx.b.op("FULLY_CONNECTED", [x, w, b], out_shape, layer.name + "/MatMul",
                 {"keep_num_dims": x.rank > 2})
    return activation(ctx, y, cfg.get("activation"), layer.name, layer)


def _tuple(v, n):
    if isinstance(v, (list, tuple)):
        return tuple(int(a) for a in v)
    return (int(v),) * n


def _conv_geometry(layer, rank):
    cfg = layer.config
    strides = _tuple(cfg.get("strides", 1), rank)
    dilation = _tuple(cfg.get("dilation_rate", 1), rank)
    padding = str(cfg.get("padding", "valid")).lower()
    if padding not in ("valid", "same", "causal"):
        fail(layer, f"option padding={padding!r} is not supported (valid, same, causal)")
    if padding == "causal" and rank != 1:
        fail(layer, "option padding='causal' is only for 1D convolutions")
    if any(s > 1 for s in strides) and any(d > 1 for d in dilation):
        fail(layer, f"options strides={strides} with dilation_rate={dilation}: Keras does not allow both > 1")
    return strides, dilation, padding


def _to_2d(ctx, x, name):
    """[B, W, C] -> [B, 1, W, C]."""
    return expand_dims(ctx, x, 1, name + "/ExpandDims")


def _causal_pad(ctx, x, amount, name):
    pads = np.zeros((x.rank, 2), np.int32)
    pads[1, 0] = amount
    shape = list(x.shape)
    shape[1] = None if shape[1] is None else shape[1] + amount
    return ctx.b.op("PAD", [x, i32(ctx, pads, name + "/paddings")], tuple(shape), name + "/Pad")


def _conv2d_op(ctx, name, x, filt, bias, strides, dilation, padding, activation_spec=None):
    """CONV_2D with an OHWI filter on NHWC x."""
    kh, kw = filt.shape[1], filt.shape[2]
    out_shape = (x.shape[0], conv_out(x.shape[1], kh, strides[0], dilation[0], padding),
                 conv_out(x.shape[2], kw, strides[1], dilation[1], padding), filt.shape[0])
    return ctx.b.op("CONV_2D", [x, f32(ctx, filt, name + "/filter"), f32(ctx, bias, name + "/bias")], out_shape,
                    name + "/Conv2D",
                    {"padding": padding.upper(), "stride_h": strides[0], "stride_w": strides[1],
                     "dilation_h_factor": dilation[0], "dilation_w_factor": dilation[1]})


def _lift_1d(ctx, x, kernel_size, strides, dilation, padding, name):
    """A 1-D conv as a 2-D one over [n, 1, steps, c]: causal padding applied up
    front, strides and dilations prefixed with 1 for the new height axis."""
    if padding == "causal":
        x = _causal_pad(ctx, x, dilation[0] * (kernel_size - 1), name)
        padding = "valid"
    return _to_2d(ctx, x, name), (1,) + strides, (1,) + dilation, padding


@lowering("Conv1D", "Conv2D")
def _conv(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    rank = 1 if layer.class_name == "Conv1D" else 2
    strides, dilation, padding = _conv_geometry(layer, rank)
    kernel = layer.weight("kernel", 0)
    cout = kernel.shape[-1]
    bias = layer.weight("bias", 1, required=False) if cfg.get("use_bias", True) else None
    if bias is None:
        bias = np.zeros(cout, np.float32)
    groups = int(cfg.get("groups", 1) or 1)
    if groups > 1 and kernel.shape[-2] * groups != x.shape[-1]:
        fail(layer, f"option groups={groups} does not divide the {x.shape[-1]} input channels")
    n = layer.name
    if rank == 1:
        x, strides, dilation, padding = _lift_1d(ctx, x, kernel.shape[0], strides, dilation, padding, n)
        kernel = kernel[None]
    filt = np.ascontiguousarray(np.transpose(kernel, (3, 0, 1, 2)))
    y = _conv2d_op(ctx, n, x, filt, bias, strides, dilation, padding)
    if rank == 1:
        y = squeeze(ctx, y, 1, n + "/Squeeze")
    return activation(ctx, y, cfg.get("activation"), n, layer)


@lowering("Conv3D")
def _conv3d(ctx, layer, inputs):
    """CONV_3D: Keras's (kd, kh, kw, cin, cout) kernel is TFLite's filter layout as it is."""
    x, cfg = inputs[0], layer.config
    if str(cfg.get("data_format", "channels_last") or "channels_last") != "channels_last":
        fail(layer, f"option data_format={cfg.get('data_format')!r} is not supported (channels_last)")
    if int(cfg.get("groups", 1) or 1) != 1:
        fail(layer, f"option groups={cfg.get('groups')} is not supported (only 1)")
    strides, dilation, padding = _conv_geometry(layer, 3)
    kernel = layer.weight("kernel", 0)
    bias = layer.weight("bias", 1, required=False) if cfg.get("use_bias", True) else None
    n = layer.name
    shape = (x.shape[0],) + tuple(conv_out(x.shape[1 + i], kernel.shape[i], strides[i], dilation[i], padding)
                                  for i in range(3)) + (kernel.shape[-1],)
    ins = [x, f32(ctx, kernel, n + "/filter")] + ([f32(ctx, bias, n + "/bias")] if bias is not None else [None])
    y = ctx.b.op("CONV_3D", ins, shape, n + "/Conv3D" if cfg.get("activation") not in (None, "linear") else n,
                 {"padding": padding.upper(), "stride_d": strides[0], "stride_h": strides[1], "stride_w": strides[2],
                  "dilation_d_factor": dilation[0], "dilation_h_factor": dilation[1],
                  "dilation_w_factor": dilation[2]})
    return activation(ctx, y, cfg.get("activation"), n, layer)


def _depthwise_op(ctx, name, x, kernel, bias, strides, dilation, padding):
    """DEPTHWISE_CONV_2D from a Keras (kh, kw, cin, multiplier) kernel."""
    kh, kw, cin, mult = kernel.shape
    filt = kernel.reshape(1, kh, kw, cin * mult)
    if bias is None:
        bias = np.zeros(cin * mult, np.float32)
    out_shape = (x.shape[0], conv_out(x.shape[1], kh, strides[0], dilation[0], padding),
                 conv_out(x.shape[2], kw, strides[1], dilation[1], padding), cin * mult)
    return ctx.b.op("DEPTHWISE_CONV_2D", [x, f32(ctx, filt, name + "/filter"), f32(ctx, bias, name + "/bias")],
                    out_shape, name + "/depthwise",
                    {"padding": padding.upper(), "stride_h": strides[0], "stride_w": strides[1],
                     "depth_multiplier": int(mult), "dilation_h_factor": dilation[0],
                     "dilation_w_factor": dilation[1]})


@lowering("DepthwiseConv1D", "DepthwiseConv2D")
def _depthwise(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    rank = 1 if layer.class_name.endswith("1D") else 2
    strides, dilation, padding = _conv_geometry(layer, rank)
    kernel = layer.weight(("depthwise_kernel", "kernel"), 0)
    bias = layer.weight("bias", 1, required=False) if cfg.get("use_bias", True) else None
    n = layer.name
    if rank == 1:
        x, strides, dilation, padding = _lift_1d(ctx, x, kernel.shape[0], strides, dilation, padding, n)
        kernel = kernel[None]
    y = _depthwise_op(ctx, n, x, kernel, bias, strides, dilation, padding)
    if rank == 1:
        y = squeeze(ctx, y, 1, n + "/Squeeze")
    return activation(ctx, y, cfg.get("activation"), n, layer)


@lowering("SeparableConv1D", "SeparableConv2D")
def _separable(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    rank = 1 if layer.class_name.endswith("1D") else 2
    strides, dilation, padding = _conv_geometry(layer, rank)
    dw = layer.weight("depthwise_kernel", 0)
    pw = layer.weight("pointwise_kernel", 1)
    bias = layer.weight("bias", 2, required=False) if cfg.get("use_bias", True) else None
    cout = pw.shape[-1]
    if bias is None:
        bias = np.zeros(cout, np.float32)
    n = layer.name
    if rank == 1:
        x, strides, dilation, padding = _lift_1d(ctx, x, dw.shape[0], strides, dilation, padding, n)
        dw, pw = dw[None], pw[None]
    y = _depthwise_op(ctx, n, x, dw, None, strides, dilation, padding)
    filt = np.ascontiguousarray(np.transpose(pw, (3, 0, 1, 2)))
    y = _conv2d_op(ctx, n + "/pointwise", y, filt, bias, (1, 1), (1, 1), "valid")
    if rank == 1:
        y = squeeze(ctx, y, 1, n + "/Squeeze")
    return activation(ctx, y, cfg.get("activation"), n, layer)


def _output_padding(layer, rank, strides):
    """A transposed convolution's output_padding per axis, or None."""
    op = layer.config.get("output_padding")
    if op is None:
        return None
    op = _tuple(op, rank)
    if any(not 0 <= p < s for p, s in zip(op, strides)):
        fail(layer, f"option output_padding={layer.config['output_padding']} must be below the strides {strides}")
    return op


def _transposed_length(layer, size, k, s, padding, extra):
    """Keras's output length of a transposed convolution (its deconv_output_length, dilation 1):
    with output_padding, (size - 1) * s + k - 2 * pad + extra, pad = k // 2 for 'same'."""
    if size is None:
        fail(layer, "inputs with unknown spatial dimensions are not supported")
    if extra is None:
        return size * s + max(k - s, 0) if padding == "valid" else size * s
    return (size - 1) * s + k - (2 * (k // 2) if padding == "same" else 0) + extra


def _output_shape_tensor(ctx, x, out_shape, n):
    """The output_shape input of a transposed convolution: a constant, or with a run-time batch,
    the batch packed with the static dimensions."""
    if x.shape[0] is not None:
        return i32(ctx, out_shape, n + "/output_shape")
    dims = [batch_size(ctx, x, n)] + [i32(ctx, v, f"{n}/output_shape/{k}") for k, v in enumerate(out_shape[1:], 1)]
    return ctx.b.op("PACK", dims, (len(out_shape),), n + "/output_shape", {"values_count": len(out_shape), "axis": 0},
                    out_dtypes=np.int32)


@lowering("Conv3DTranspose")
def _conv3d_transpose(ctx, layer, inputs):
    """CONV_3D_TRANSPOSE: Keras's (kd, kh, kw, cout, cin) kernel is TFLite's filter layout as it is."""
    x, cfg = inputs[0], layer.config
    strides, dilation, padding = _conv_geometry(layer, 3)
    if any(d != 1 for d in dilation):
        fail(layer, f"option dilation_rate={dilation} is not supported (only 1)")
    kernel = layer.weight("kernel", 0)
    extra = _output_padding(layer, 3, strides)
    bias = layer.weight("bias", 1, required=False) if cfg.get("use_bias", True) else None
    n = layer.name
    out_shape = (x.shape[0],) + tuple(
        _transposed_length(layer, x.shape[1 + i], kernel.shape[i], strides[i], padding,
                           None if extra is None else extra[i]) for i in range(3)) + (kernel.shape[3],)
    ins = [_output_shape_tensor(ctx, x, out_shape, n), f32(ctx, kernel, n + "/filter"), x] + (
        [f32(ctx, bias, n + "/bias")] if bias is not None else [])
    y = ctx.b.op("CONV_3D_TRANSPOSE", ins, out_shape, n + "/conv3d_transpose",
                 {"padding": padding.upper(), "stride_d": strides[0], "stride_h": strides[1], "stride_w": strides[2]},
                 out_dtypes=x.dtype)
    return activation(ctx, y, cfg.get("activation"), n, layer)


@lowering("Conv1DTranspose", "Conv2DTranspose")
def _conv_transpose(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    rank = 1 if layer.class_name == "Conv1DTranspose" else 2
    strides, dilation, padding = _conv_geometry(layer, rank)
    if any(d != 1 for d in dilation):
        fail(layer, f"option dilation_rate={dilation} is not supported (TRANSPOSE_CONV has no dilation)")
    kernel = layer.weight("kernel", 0)                # (kh, kw, cout, cin), or (k, cout, cin) in 1-D
    extra = _output_padding(layer, rank, strides)
    if rank == 1:
        # Over [n, 1, steps, c], as Conv1D; the height axis is squeezed away after.
        x, strides, kernel = _to_2d(ctx, x, layer.name), (1,) + tuple(strides), kernel[None]
        extra = None if extra is None else (0,) + extra
    kh, kw, cout, _ = kernel.shape
    bias = layer.weight("bias", 1, required=False) if cfg.get("use_bias", True) else None
    n = layer.name
    h, w = (_transposed_length(layer, x.shape[1 + i], k, strides[i], padding, None if extra is None else extra[i])
            for i, k in enumerate((kh, kw)))
    out_shape = (x.shape[0], h, w, cout)
    shape_t = _output_shape_tensor(ctx, x, out_shape, n)
    filt = np.ascontiguousarray(np.transpose(kernel, (2, 0, 1, 3)))
    ins = [shape_t, f32(ctx, filt, n + "/filter"), x]
    if bias is not None:
        ins.append(f32(ctx, bias, n + "/bias"))
    y = ctx.b.op("TRANSPOSE_CONV", ins, out_shape, n + "/conv2d_transpose",
                 {"padding": padding.upper(), "stride_h": strides[0], "stride_w": strides[1]}, out_dtypes=x.dtype)
    if rank == 1:
        y = squeeze(ctx, y, 1, n + "/Squeeze")
    return activation(ctx, y, cfg.get("activation"), n, layer)


@lowering("EinsumDense")
def _einsum_dense(ctx, layer, inputs):
    """EinsumDense: einsum(equation, x, kernel) (keras/ops.einsum), then the bias over `bias_axes`
    (broadcast from the first of them in the output to its end) and the activation.  A leading
    ellipsis stands for x's leading axes."""
    from .ops import einsum

    x, cfg = inputs[0], layer.config
    eq = str(cfg["equation"]).replace(" ", "")
    lhs, out = eq.split("->")
    a, b = lhs.split(",")
    if "..." in b or ("..." in a) != ("..." in out) or (a.count("...") and not (a.startswith("...")
                                                                             and out.startswith("..."))):
        fail(layer, f"equation {eq!r} is not supported (an ellipsis only at the start of the input and output)")
    if a.startswith("..."):
        spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq][:x.rank - (len(a) - 3)]
        a, out = "".join(spare) + a[3:], "".join(spare) + out[3:]
    n = layer.name
    kernel = layer.weight("kernel", 0)
    y = einsum(ctx, f"{a},{b}->{out}", [x, f32(ctx, kernel, n + "/kernel")], n + "/einsum")
    bias_axes = cfg.get("bias_axes")
    if bias_axes:
        first = min(out.index(c) for c in bias_axes)
        shape = [y.shape[i] if c in bias_axes else 1 for i, c in enumerate(out) if i >= first]
        y = binary(ctx, "ADD", y, f32(ctx, layer.weight("bias", 1).reshape(shape), n + "/bias"), n + "/add")
    return activation(ctx, y, cfg.get("activation"), n, layer)


# -- pooling ----------------------------------------------------------------------------------

@lowering("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")
def _pool(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    rank = 1 if layer.class_name.endswith("1D") else 2
    pool = _tuple(cfg.get("pool_size", 2), rank)
    strides = cfg.get("strides")
    strides = pool if strides is None else _tuple(strides, rank)
    padding = str(cfg.get("padding", "valid")).lower()
    if padding not in ("valid", "same"):
        fail(layer, f"option padding={padding!r} is not supported (valid, same)")
    n = layer.name
    if rank == 1:
        x = _to_2d(ctx, x, n)
        pool, strides = (1,) + pool, (1,) + strides
    op = "MAX_POOL_2D" if layer.class_name.startswith("Max") else "AVERAGE_POOL_2D"
    out_shape = (x.shape[0], conv_out(x.shape[1], pool[0], strides[0], 1, padding),
                 conv_out(x.shape[2], pool[1], strides[1], 1, padding), x.shape[3])
    y = ctx.b.op(op, [x], out_shape, n + ("/MaxPool2d" if op == "MAX_POOL_2D" else "/AvgPool2d"),
                 {"padding": padding.upper(), "stride_h": strides[0], "stride_w": strides[1],
                  "filter_height": pool[0], "filter_width": pool[1]})
    if rank == 1:
        y = squeeze(ctx, y, 1, n + "/Squeeze")
    return y


@lowering("MaxPooling3D", "AveragePooling3D", "MaxPool3D", "AvgPool3D")
def _pool3d(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    pool = _tuple(cfg.get("pool_size", 2), 3)
    strides = cfg.get("strides")
    strides = pool if strides is None else _tuple(strides, 3)
    padding = str(cfg.get("padding", "valid")).lower()
    if padding not in ("valid", "same"):
        fail(layer, f"option padding={padding!r} is not supported (valid, same)")
    if x.rank != 5 or any(d is None for d in x.shape[1:]):
        fail(layer, f"input shape {x.shape} is not supported (expected [batch, depth, height, width, channels] "
                    "with static depth, height and width)")
    op = "MAX_POOL_2D" if layer.class_name.startswith("Max") else "AVERAGE_POOL_2D"
    return pool3d(ctx.b, x, op, pool, strides, padding, layer.name)


def _adaptive_windows(size, out):
    """Keras's adaptive pooling windows over an axis of `size` into `out`: (start, length) each, the
    length ceil(size / out), or one more where PyTorch's window [floor(i * size / out),
    ceil((i + 1) * size / out)) is that long."""
    small = -(-size // out)
    starts = [(i * size) // out for i in range(out)]
    ends = [-(-((i + 1) * size) // out) for i in range(out)]
    return [(a, small + 1 if b - a == small + 1 else small) for a, b in zip(starts, ends)]


@lowering("AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D")
def _adaptive_pool(ctx, layer, inputs):
    """Pooling to a fixed output size over a static input size.  Windows of one length at a
    regular stride are the pooling builtin; otherwise the average is a weight matrix per axis
    (separable_resize: each output the mean of its window) and the max a REDUCE_MAX per window,
    concatenated (an axis at a time, as Keras pools)."""
    x, cfg, n = inputs[0], layer.config, layer.name
    rank = 1 if layer.class_name.endswith("1D") else 2
    out = _tuple(cfg["output_size"], rank)
    if any(d is None for d in x.shape[1:]):
        fail(layer, f"input shape {x.shape} needs a static size besides the batch")
    if rank == 1:
        x = _to_2d(ctx, x, n)
        out = (1,) + out
    sizes = x.shape[1:3]
    windows = [_adaptive_windows(s, o) for s, o in zip(sizes, out)]
    average = "Average" in layer.class_name
    uniform = all(len({w for _, w in ws}) == 1 and all(a == i * ws[1][0] for i, (a, _) in enumerate(ws))
                  if len(ws) > 1 else True for ws in windows)
    if uniform:
        k = [ws[0][1] for ws in windows]
        stride = [ws[1][0] if len(ws) > 1 else ws[0][1] for ws in windows]
        y = ctx.b.op("AVERAGE_POOL_2D" if average else "MAX_POOL_2D", [x], (x.shape[0],) + tuple(out) + (x.shape[3],),
                     n + "/pool", {"padding": "VALID", "stride_h": stride[0], "stride_w": stride[1],
                                   "filter_height": k[0], "filter_width": k[1]})
    elif average:
        mats = []
        for s, ws in zip(sizes, windows):
            m = np.zeros((len(ws), s))
            for i, (a, w) in enumerate(ws):
                m[i, a:a + w] = 1.0 / w
            mats.append(m)
        y = separable_resize(ctx.b, x, mats[0], mats[1], n + "/average")
    else:
        y = x
        for axis, ws in ((1, windows[0]), (2, windows[1])):
            if len(ws) == y.shape[axis] and all(w == 1 for _, w in ws):
                continue
            parts = []
            for i, (a, w) in enumerate(ws):
                begin, size = [0, 0, 0, 0], [-1, -1, -1, -1]
                begin[axis], size[axis] = a, w
                shape = list(y.shape)
                shape[axis] = w
                part = ctx.b.op("SLICE", [y, i32(ctx, begin, f"{n}/a{axis}_{i}/begin"),
                                          i32(ctx, size, f"{n}/a{axis}_{i}/size")], tuple(shape), f"{n}/a{axis}_{i}")
                parts.append(reduce(ctx, "REDUCE_MAX", part, [axis], True, f"{n}/a{axis}_{i}/max"))
            shape = list(y.shape)
            shape[axis] = len(ws)
            y = ctx.b.op("CONCATENATION", parts, tuple(shape), f"{n}/axis{axis}", {"axis": axis}) \
                if len(parts) > 1 else parts[0]
    return squeeze(ctx, y, 1, n + "/Squeeze") if rank == 1 else y


@lowering("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
          "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
          "GlobalAveragePooling3D", "GlobalMaxPooling3D", "GlobalAvgPool3D", "GlobalMaxPool3D")
def _global_pool(ctx, layer, inputs):
    x = inputs[0]
    axes = [1] if layer.class_name.endswith("1D") else [1, 2, 3] if layer.class_name.endswith("3D") else [1, 2]
    op = "REDUCE_MAX" if "Max" in layer.class_name else "MEAN"
    return reduce(ctx, op, x, axes, bool(layer.config.get("keepdims", False)), layer.name)


# -- shapes -----------------------------------------------------------------------------------

@lowering("Flatten")
def _flatten(ctx, layer, inputs):
    x = inputs[0]
    if any(d is None for d in x.shape[1:]):
        fail(layer, f"input shape {x.shape} has unknown dimensions besides the batch")
    if x.rank == 2:
        return x
    return reshape(ctx, x, (x.shape[0], int(np.prod(x.shape[1:]))), layer.name + "/Reshape")


@lowering("Reshape")
def _reshape(ctx, layer, inputs):
    x = inputs[0]
    target = [int(d) for d in layer.config["target_shape"]]
    if any(d is None for d in x.shape[1:]):
        fail(layer, f"input shape {x.shape} has unknown dimensions besides the batch")
    total = int(np.prod(x.shape[1:]))
    if -1 in target:
        known = int(np.prod([d for d in target if d != -1]))
        target[target.index(-1)] = total // known
    if int(np.prod(target)) != total:
        fail(layer, f"option target_shape={layer.config['target_shape']} does not fit input shape {x.shape}")
    return reshape(ctx, x, (x.shape[0],) + tuple(target), layer.name + "/Reshape")


@lowering("Permute")
def _permute(ctx, layer, inputs):
    dims = [int(d) for d in layer.config["dims"]]
    return transpose(ctx, inputs[0], [0] + dims, layer.name + "/transpose")


@lowering("RepeatVector")
def _repeat(ctx, layer, inputs):
    x = inputs[0]
    n = int(layer.config["n"])
    y = expand_dims(ctx, x, 1, layer.name + "/ExpandDims")
    return ctx.b.op("TILE", [y, i32(ctx, [1, n, 1], layer.name + "/multiples")], (x.shape[0], n, x.shape[1]),
                    layer.name + "/Tile")


def _pairs(v, n):
    """Keras padding/cropping specs -> n (before, after) pairs."""
    if isinstance(v, int):
        return [(v, v)] * n
    v = list(v)
    if n == 1 and len(v) == 2 and all(isinstance(a, int) for a in v):
        return [(int(v[0]), int(v[1]))]
    out = []
    for a in v:
        out.append((int(a), int(a)) if isinstance(a, int) else (int(a[0]), int(a[1])))
    return out


@lowering("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def _zero_pad(ctx, layer, inputs):
    x = inputs[0]
    k = x.rank - 2
    pads = _pairs(layer.config.get("padding", 1), k)
    table = np.array([(0, 0)] + pads + [(0, 0)], np.int32)
    shape = [x.shape[0]] + [None if d is None else d + a + b for d, (a, b) in zip(x.shape[1:-1], pads)] + [x.shape[-1]]
    return ctx.b.op("PAD", [x, i32(ctx, table, layer.name + "/paddings")], tuple(shape), layer.name + "/Pad")


@lowering("Cropping1D", "Cropping2D", "Cropping3D")
def _crop(ctx, layer, inputs):
    x = inputs[0]
    return _crop_op(ctx, x, _pairs(layer.config.get("cropping", 1), x.rank - 2), layer.name)


@lowering("CenterCrop")
def _center_crop(ctx, layer, inputs):
    """Keras's CenterCrop of an image at least the target's size: (size - target) // 2 off the
    top and left, the rest off the bottom and right.  (A smaller image Keras resizes first.)"""
    x, cfg = inputs[0], layer.config
    if x.rank != 4 or str(cfg.get("data_format", "channels_last") or "channels_last") != "channels_last":
        fail(layer, f"takes channels-last images [batch, height, width, channels], got rank {x.rank} "
                    f"({cfg.get('data_format')})")
    target = (int(cfg["height"]), int(cfg["width"]))
    crops = []
    for d, t in zip(x.shape[1:3], target):
        if d is None or d < t:
            fail(layer, f"the image is {list(x.shape[1:3])} for a {list(target)} crop; only images at least the "
                        "crop's size (known when converting) are supported: give the input a fixed size, or "
                        "resize first (keras.layers.Resizing)")
        crops.append(((d - t) // 2, d - t - (d - t) // 2))
    return _crop_op(ctx, x, crops, layer.name)


def _crop_op(ctx, x, crops, n):
    """STRIDED_SLICE taking crops [(before, after), ...] off the spatial axes of x."""
    begin, end, end_mask = [0], [0], 1
    shape = [x.shape[0]]
    for axis, ((a, b), d) in enumerate(zip(crops, x.shape[1:-1]), 1):
        begin.append(a)
        if b == 0:
            end.append(0)
            end_mask |= 1 << axis
        else:
            end.append(-b)
        shape.append(None if d is None else d - a - b)
    begin.append(0)
    end.append(0)
    end_mask |= 1 << (x.rank - 1)
    shape.append(x.shape[-1])
    begin_mask = 1 | (1 << (x.rank - 1))
    return ctx.b.op("STRIDED_SLICE", [x, i32(ctx, begin, n + "/begin"), i32(ctx, end, n + "/end"),
                                      i32(ctx, [1] * x.rank, n + "/strides")], tuple(shape), n + "/strided_slice",
                    {"begin_mask": begin_mask, "end_mask": end_mask})


def _resize(ctx, x, size, method, name, half_pixel):
    op = "RESIZE_BILINEAR" if method == "bilinear" else "RESIZE_NEAREST_NEIGHBOR"
    return ctx.b.op(op, [x, i32(ctx, size, name + "/size")], (x.shape[0], size[0], size[1], x.shape[3]),
                    name + ("/resize_bilinear" if method == "bilinear" else "/resize_nearest"),
                    {"align_corners": False, "half_pixel_centers": half_pixel})


@lowering("UpSampling3D")
def _upsample3d(ctx, layer, inputs):
    """Each voxel repeated (sd, sh, sw) times: a nearest-neighbour resize over (height, width)
    with the depth folded into the batch, then each depth slice tiled."""
    x, n = inputs[0], layer.name
    sd, sh, sw = _tuple(layer.config.get("size", 2), 3)
    if x.rank != 5 or any(d is None for d in x.shape[1:]):
        fail(layer, f"input shape {x.shape} is not supported (static depth, height, width and channels)")
    b, d, h, w, c = x.shape
    y = reshape(ctx, x, (None if b is None else b * d, h, w, c), n + "/planes")
    if (sh, sw) != (1, 1):
        y = _resize(ctx, y, (h * sh, w * sw), "nearest", n, False)
    y = reshape(ctx, y, (b, d, 1, h * sh * w * sw * c), n + "/slices")
    if sd != 1:
        y = ctx.b.op("TILE", [y, i32(ctx, [1, 1, sd, 1], n + "/multiples")], (b, d, sd, y.shape[3]), n + "/tile")
    return reshape(ctx, y, (b, d * sd, h * sh, w * sw, c), n)


@lowering("UpSampling1D", "UpSampling2D")
def _upsample(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    method = str(cfg.get("interpolation", "nearest"))
    n = layer.name
    if layer.class_name == "UpSampling2D" and method not in ("nearest", "bilinear"):
        sh, sw = _tuple(cfg.get("size", 2), 2)
        return _resize_any(ctx, layer, x, (x.shape[1] * sh, x.shape[2] * sw), method, False, n)
    if method not in ("nearest", "bilinear"):
        fail(layer, f"option interpolation={method!r} is not supported (nearest, bilinear)")
    if layer.class_name == "UpSampling1D":
        s = int(cfg.get("size", 2))
        y = expand_dims(ctx, x, 2, n + "/ExpandDims")      # [B, W, 1, C]
        if x.shape[1] is None:
            fail(layer, "inputs with an unknown length are not supported")
        y = _resize(ctx, y, (x.shape[1] * s, 1), "nearest", n, False)
        return squeeze(ctx, y, 2, n + "/Squeeze")
    sh, sw = _tuple(cfg.get("size", 2), 2)
    if x.shape[1] is None or x.shape[2] is None:
        fail(layer, "inputs with unknown height or width are not supported")
    # Integer nearest upscaling repeats pixels with or without half-pixel centers;
    # bilinear follows tf.image.resize (half-pixel centers).
    return _resize(ctx, x, (x.shape[1] * sh, x.shape[2] * sw), method, n, method == "bilinear")


# Keras's interpolations TFLite has no builtin for, as ScaleAndTranslate kernels (resample.py).
_RESAMPLED = {"bicubic": "keyscubic", "lanczos3": "lanczos3", "lanczos5": "lanczos5"}


def _resize_any(ctx, layer, x, size, method, antialias, name):
    """Keras's resize (its numpy and JAX backends' definition): nearest and bilinear as the
    builtins, bicubic, Lanczos and antialiased bilinear as two weight matrices over a static
    image size (separable_resize)."""
    if method not in ("nearest", "bilinear") and method not in _RESAMPLED:
        fail(layer, f"option interpolation={method!r} is not supported (nearest, bilinear, "
                    f"{', '.join(_RESAMPLED)})")
    if antialias and method == "nearest":
        antialias = False                        # Keras ignores it for nearest
    if method in ("nearest", "bilinear") and not antialias:
        return _resize(ctx, x, size, method, name, True)
    h, w = x.shape[1], x.shape[2]
    if h is None or w is None:
        fail(layer, f"interpolation={method!r}{' with antialias' if antialias else ''} needs a static image size")
    from ..resample import scale_translate_matrix

    kernel = _RESAMPLED.get(method, "triangle")
    rows = np.eye(h) if size[0] == h else scale_translate_matrix(h, size[0], kernel, antialias)
    cols = np.eye(w) if size[1] == w else scale_translate_matrix(w, size[1], kernel, antialias)
    return separable_resize(ctx.b, x, rows, cols, name)


@lowering("Resizing")
def _resizing(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    method = str(cfg.get("interpolation", "bilinear"))
    if x.rank != 4:
        fail(layer, f"input rank {x.rank} is not supported (batched NHWC images)")
    th, tw = int(cfg["height"]), int(cfg["width"])
    if cfg.get("crop_to_aspect_ratio") or cfg.get("pad_to_aspect_ratio"):
        x = _to_aspect_ratio(ctx, layer, x, th, tw, bool(cfg.get("crop_to_aspect_ratio")))
    return _resize_any(ctx, layer, x, (th, tw), method, bool(cfg.get("antialias")), layer.name)


def _to_aspect_ratio(ctx, layer, x, th, tw, crop):
    """Keras's crop_to_aspect_ratio (the centered largest window of the target's aspect ratio)
    or pad_to_aspect_ratio (fill_value rows or columns on both sides, as many on each) before
    the resize, with Keras's integer arithmetic, on a static image size."""
    h, w = x.shape[1], x.shape[2]
    if h is None or w is None:
        fail(layer, "crop_to_aspect_ratio / pad_to_aspect_ratio need a static image height and width")
    n = layer.name
    if crop:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        top, left = int(float(h - ch) / 2), int(float(w - cw) / 2)
        if (ch, cw) == (h, w):
            return x
        return ctx.b.op("SLICE", [x, i32(ctx, [0, top, left, 0], n + "/crop/begin"),
                                  i32(ctx, [-1, ch, cw, -1], n + "/crop/size")], (x.shape[0], ch, cw, x.shape[3]),
                        n + "/crop")
    ph, pw = max(h, int(float(w * th) / tw)), max(w, int(float(h * tw) / th))
    top, left = int(float(ph - h) / 2), int(float(pw - w) / 2)
    if top > 0:
        left = 0
    if not (top or left):
        return x
    pads = i32(ctx, [[0, 0], [top, top], [left, left], [0, 0]], n + "/pad/paddings")
    fill = f32(ctx, float(layer.config.get("fill_value", 0.0)), n + "/pad/value")
    return ctx.b.op("PADV2", [x, pads, fill], (x.shape[0], h + 2 * top, w + 2 * left, x.shape[3]), n + "/pad")


# -- normalization and scaling ----------------------------------------------------------------

def _channel_const(x, axis, values):
    """Per-channel constants along `axis`, shaped to broadcast against x."""
    values = np.asarray(values, np.float32).reshape(-1)
    axis = axis % x.rank
    if axis == x.rank - 1:
        return values
    shape = [1] * (x.rank - axis)
    shape[0] = values.size
    return values.reshape(shape)


def _scale_shift(ctx, x, scale, shift, name):
    """x * scale + shift as MUL then ADD (the passes fold them into a conv/dense before)."""
    y = x
    if scale is not None:
        y = binary(ctx, "MUL", y, f32(ctx, scale, name + "/mul/y"), name + "/mul")
    if shift is not None:
        y = binary(ctx, "ADD", y, f32(ctx, shift, name + "/add/y"), name + "/add")
    return y


def _single_axis(layer, axis, rank):
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            fail(layer, f"option axis={axis} is not supported (one axis)")
        axis = axis[0]
    axis = int(axis) % rank
    if axis == 0:
        fail(layer, "option axis=0 (the batch axis) is not supported")
    return axis


@lowering("BatchNormalization")
def _batchnorm(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    if cfg.get("renorm"):
        fail(layer, "option renorm=True is not supported")
    axis = _single_axis(layer, cfg.get("axis", -1), x.rank)
    c = x.shape[axis]
    pos = 0
    gamma = beta = None
    if cfg.get("scale", True):
        gamma = layer.weight("gamma", pos)
        pos += 1
    if cfg.get("center", True):
        beta = layer.weight("beta", pos)
        pos += 1
    mean = layer.weight("moving_mean", pos)
    var = layer.weight("moving_variance", pos + 1)
    eps = float(cfg.get("epsilon", 1e-3))
    gamma = np.ones(c, np.float32) if gamma is None else gamma.astype(np.float32)
    beta = np.zeros(c, np.float32) if beta is None else beta.astype(np.float32)
    scale = (gamma / np.sqrt(var.astype(np.float64) + eps)).astype(np.float32)
    shift = (beta - mean * scale).astype(np.float32)
    return _scale_shift(ctx, x, _channel_const(x, axis, scale), _channel_const(x, axis, shift),
                        layer.name + "/batchnorm")


def _norm_axes(layer, x):
    axes = layer.config.get("axis", -1)
    axes = sorted(int(a) % x.rank for a in (axes if isinstance(axes, (list, tuple)) else [axes]))
    if 0 in axes:
        fail(layer, "normalizing over the batch axis is not supported")
    pshape = [1] * x.rank
    for a in axes:
        pshape[a] = x.shape[a]
    return axes, pshape[min(axes):]          # the parameters' shape, broadcasting from the right


def _times_rsqrt(ctx, x, sq, axes, eps, n):
    """x * rsqrt(mean(sq) + eps) over `axes`."""
    inv = unary(ctx, "RSQRT", binary(ctx, "ADD", reduce(ctx, "MEAN", sq, axes, True, n + "/mean_square"), eps,
                                     n + "/add_eps"), n + "/rsqrt")
    return binary(ctx, "MUL", x, inv, n + "/normalized")


@lowering("RMSNormalization")
def _rmsnorm(ctx, layer, inputs):
    """Keras's RMSNormalization: x * rsqrt(mean(x^2) + epsilon) * scale."""
    x, n = inputs[0], layer.name
    axes, pshape = _norm_axes(layer, x)
    y = _times_rsqrt(ctx, x, binary(ctx, "MUL", x, x, n + "/square"), axes,
                     float(layer.config.get("epsilon", 1e-6) or 1e-6), n)
    scale = layer.weight("scale", 0, required=False)
    return y if scale is None else binary(ctx, "MUL", y, f32(ctx, scale.reshape(pshape), n + "/scale"), n)


@lowering("LayerNormalization")
def _layernorm(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    axes, pshape = _norm_axes(layer, x)
    eps = float(cfg.get("epsilon", 1e-3))
    n = layer.name
    mean = reduce(ctx, "MEAN", x, axes, True, n + "/mean")
    centered = binary(ctx, "SUB", x, mean, n + "/sub")
    square = binary(ctx, "MUL", centered, centered, n + "/square")
    if cfg.get("rms_scaling"):
        # Keras's rms_scaling: x (not centred) over the root of its variance, times gamma; no beta.
        y = _times_rsqrt(ctx, x, square, axes, eps, n)
        if cfg.get("scale", True):
            y = binary(ctx, "MUL", y, f32(ctx, layer.weight("gamma", 0).reshape(pshape), n + "/gamma"), n + "/scale")
        return y
    y = _times_rsqrt(ctx, centered, square, axes, eps, n)
    pos = 0
    if cfg.get("scale", True):
        gamma = layer.weight("gamma", pos).reshape(pshape)
        y = binary(ctx, "MUL", y, f32(ctx, gamma, n + "/gamma"), n + "/scale")
        pos += 1
    if cfg.get("center", True):
        beta = layer.weight("beta", pos).reshape(pshape)
        y = binary(ctx, "ADD", y, f32(ctx, beta, n + "/beta"), n + "/center")
    return y


@lowering("GroupNormalization")
def _groupnorm(ctx, layer, inputs):
    """Keras's GroupNormalization: the channel axis split into [groups, channels // groups],
    moments over every axis but the batch and the group, x * inv + (beta - mean * inv)
    with inv = gamma * rsqrt(variance + epsilon) (the variance of the centred values)."""
    x, cfg = inputs[0], layer.config
    axis = _single_axis(layer, cfg.get("axis", -1), x.rank)
    groups = int(cfg.get("groups", 32))
    c = x.shape[axis]
    if groups < 1 or c is None or c % groups:
        fail(layer, f"groups={groups} must divide the {c} channels of axis {axis}")
    if any(d is None for d in x.shape[1:]):
        fail(layer, f"input shape {list(x.shape)} has unknown dimensions besides the batch; "
                    "give the model's Input a fixed shape")
    n = layer.name
    shape = list(x.shape[:axis]) + [groups, c // groups] + list(x.shape[axis + 1:])
    g = reshape(ctx, x, shape, n + "/groups")
    axes = [a for a in range(1, g.rank) if a != axis]
    mean = reduce(ctx, "MEAN", g, axes, True, n + "/mean")
    centered = binary(ctx, "SUB", g, mean, n + "/sub")
    var = reduce(ctx, "MEAN", binary(ctx, "MUL", centered, centered, n + "/square"), axes, True, n + "/variance")
    inv = unary(ctx, "RSQRT", binary(ctx, "ADD", var, float(cfg.get("epsilon", 1e-3)), n + "/add_eps"), n + "/rsqrt")
    pshape = [1] * (g.rank - axis)
    pshape[0], pshape[1] = groups, c // groups
    pos = 0
    if cfg.get("scale", True):
        gamma = layer.weight("gamma", pos).astype(np.float32).reshape(pshape)
        inv = binary(ctx, "MUL", inv, f32(ctx, gamma, n + "/gamma"), n + "/inv_gamma")
        pos += 1
    y = binary(ctx, "MUL", centered, inv, n + "/normalized")
    if cfg.get("center", True):
        beta = layer.weight("beta", pos).astype(np.float32).reshape(pshape)
        y = binary(ctx, "ADD", y, f32(ctx, beta, n + "/beta"), n + "/center")
    return reshape(ctx, y, x.shape, n + "/ungroup")


@lowering("UnitNormalization")
def _unitnorm(ctx, layer, inputs):
    """keras.ops.normalize(x, axis, order=2, epsilon=1e-12): x * min(rsqrt(sum(x * x)), 1e12)
    (LiteRT's L2_NORMALIZATION clamps the norm at 1e-6 instead, and takes the last axis only)."""
    x, axes = inputs[0], layer.config.get("axis", -1)
    axes = sorted({int(a) % x.rank for a in (axes if isinstance(axes, (list, tuple)) else [axes])})
    if 0 in axes:
        fail(layer, "normalizing over the batch axis is not supported")
    n = layer.name
    total = reduce(ctx, "SUM", binary(ctx, "MUL", x, x, n + "/square"), axes, True, n + "/sum")
    inv = binary(ctx, "MINIMUM", unary(ctx, "RSQRT", total, n + "/rsqrt"), 1e12, n + "/clamp")
    return binary(ctx, "MUL", x, inv, n + "/normalized")


@lowering("Rescaling")
def _rescaling(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    scale = np.asarray(_plain(cfg.get("scale", 1.0)), np.float32)
    offset = np.asarray(_plain(cfg.get("offset", 0.0)), np.float32)
    y = x
    if not np.all(scale == 1):
        y = binary(ctx, "MUL", y, f32(ctx, scale, layer.name + "/scale"), layer.name + "/mul")
    if not np.all(offset == 0):
        y = binary(ctx, "ADD", y, f32(ctx, offset, layer.name + "/offset"), layer.name + "/add")
    if y is x:
        return x
    return y


def _plain(v):
    # Keras serializes array-valued options as {"class_name": "__numpy__", "config": {"value": ...}}.
    if isinstance(v, dict):
        cfg = v.get("config", v)
        return cfg.get("value", cfg)
    return v


@lowering("Normalization")
def _normalization(ctx, layer, inputs):
    x, cfg = inputs[0], layer.config
    axis = cfg.get("axis", -1)
    axes = [axis] if not isinstance(axis, (list, tuple)) else list(axis)
    if len(axes) != 1:
        fail(layer, f"option axis={axis} is not supported (one axis)")
    mean, var = _plain(cfg.get("mean")), _plain(cfg.get("variance"))
    if mean is None or var is None:
        mean = layer.weight("mean", 0)
        var = layer.weight("variance", 1)
    mean = np.asarray(mean, np.float32)
    var = np.asarray(var, np.float32)
    c = x.shape[int(axes[0]) % x.rank]
    mean = np.broadcast_to(mean.reshape(-1) if mean.size > 1 else mean.reshape(1), (c,))
    var = np.broadcast_to(var.reshape(-1) if var.size > 1 else var.reshape(1), (c,))
    std = np.maximum(np.sqrt(var), np.float32(1e-7)).astype(np.float32)
    if cfg.get("invert"):
        scale, shift = std, mean
    else:
        scale, shift = 1.0 / std, -mean / std
    axis = int(axes[0])
    return _scale_shift(ctx, x, _channel_const(x, axis, scale), _channel_const(x, axis, shift), layer.name)


# -- merging ----------------------------------------------------------------------------------

def _chain(ctx, op, inputs, name):
    y = inputs[0]
    for k, v in enumerate(inputs[1:], 1):
        y = binary(ctx, op, y, v, name if k == len(inputs) - 1 else f"{name}_{k}")
    return y


@lowering("Add")
def _add(ctx, layer, inputs):
    return _chain(ctx, "ADD", inputs, layer.name + "/add")


@lowering("Subtract")
def _subtract(ctx, layer, inputs):
    if len(inputs) != 2:
        fail(layer, f"Subtract takes exactly 2 inputs, got {len(inputs)}")
    return binary(ctx, "SUB", inputs[0], inputs[1], layer.name + "/sub")


@lowering("Multiply")
def _multiply(ctx, layer, inputs):
    return _chain(ctx, "MUL", inputs, layer.name + "/mul")


@lowering("Average")
def _average(ctx, layer, inputs):
    s = _chain(ctx, "ADD", inputs, layer.name + "/add")
    return binary(ctx, "MUL", s, 1.0 / len(inputs), layer.name + "/mean")


@lowering("Maximum")
def _maximum(ctx, layer, inputs):
    return _chain(ctx, "MAXIMUM", inputs, layer.name + "/maximum")


@lowering("Minimum")
def _minimum(ctx, layer, inputs):
    return _chain(ctx, "MINIMUM", inputs, layer.name + "/minimum")


@lowering("Concatenate")
def _concat(ctx, layer, inputs):
    axis = int(layer.config.get("axis", -1)) % inputs[0].rank
    shape = list(inputs[0].shape)
    for v in inputs[1:]:
        a, b = shape[axis], v.shape[axis]
        shape[axis] = None if a is None or b is None else a + b
        for i in range(len(shape)):
            if i != axis and shape[i] is None:
                shape[i] = v.shape[i]
    return ctx.b.op("CONCATENATION", inputs, tuple(shape), layer.name + "/concat", {"axis": axis})


@lowering("Dot")
def _dot(ctx, layer, inputs):
    x, y = inputs
    axes = layer.config.get("axes", -1)
    axes = [axes, axes] if isinstance(axes, int) else [int(a) for a in axes]
    ax, ay = axes[0] % x.rank, axes[1] % y.rank
    n = layer.name
    if layer.config.get("normalize"):
        if ax != x.rank - 1 or ay != y.rank - 1:
            fail(layer, "option normalize=True is only supported along the last axis")
        x = unary(ctx, "L2_NORMALIZATION", x, n + "/l2_normalize_x")
        y = unary(ctx, "L2_NORMALIZATION", y, n + "/l2_normalize_y")
    if x.rank == 2 and y.rank == 2:
        return reduce(ctx, "SUM", binary(ctx, "MUL", x, y, n + "/mul"), [1], True, n + "/sum")
    if x.rank == 3 and y.rank == 3 and ax in (1, 2) and ay in (1, 2):
        adj_x, adj_y = ax == 1, ay == 2
        rows = x.shape[2] if adj_x else x.shape[1]
        cols = y.shape[1] if adj_y else y.shape[2]
        return ctx.b.op("BATCH_MATMUL", [x, y], (bshape(x.shape[:1], y.shape[:1])[0], rows, cols), n + "/MatMul",
                        {"adj_x": adj_x, "adj_y": adj_y})
    fail(layer, f"inputs of rank {x.rank} and {y.rank} with axes={axes} are not supported "
                "(rank 2 with axes 1, or rank 3 with axes in 1..2)")


@lowering("InputLayer")
def _input(ctx, layer, inputs):
    return inputs[0]



# -- helper layers that keras.applications defines ----------------------------------------------

@lowering("CustomScaleLayer")
def _custom_scale(ctx, layer, inputs):
    """keras.applications.inception_resnet_v2: inputs[0] + inputs[1] * scale."""
    if len(inputs) != 2:
        fail(layer, f"takes [shortcut, residual], got {len(inputs)} inputs")
    x, r = inputs
    n = layer.name
    scaled = binary(ctx, "MUL", r, float(layer.config["scale"]), n + "/mul")
    return binary(ctx, "ADD", x, scaled, n + "/add")


@lowering("LayerScale")
def _layer_scale(ctx, layer, inputs):
    """keras.applications.convnext (and KerasHub's): x * gamma, one factor per channel."""
    x = inputs[0]
    gamma = layer.weight(("gamma", "variable"), 0).astype(np.float32)
    if gamma.ndim != 1 or (x.shape[-1] is not None and gamma.shape[0] not in (1, x.shape[-1])):
        fail(layer, f"scale of shape {gamma.shape} does not fit input {x.shape}")
    return binary(ctx, "MUL", x, f32(ctx, gamma, layer.name + "/gamma"), layer.name + "/mul")
