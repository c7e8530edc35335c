"""What MediaPipe's custom ops share: options stored as a raw C struct
(TfLiteTransposeConvParams or TfLitePoolParams, little-endian int32 fields)
rather than a FlexBuffer, and TFLite's padding arithmetic."""
from __future__ import annotations

import numpy as np

PADDING = {1: "SAME", 2: "VALID"}
ACTIVATIONS = {0: None, 1: (0.0, np.inf), 2: (-1.0, 1.0), 3: (0.0, 6.0)}


def struct_fields(node, names):
    """The leading int32 fields of the options struct, by name."""
    raw = bytes(node.custom_options or b"")
    if len(raw) < 4 * len(names):
        node.fail(f"custom options hold {len(raw)} bytes, expected at least {4 * len(names)} "
                  f"(the int32 fields {', '.join(names)})")
    values = np.frombuffer(raw[:4 * len(names)], "<i4").tolist()
    fields = dict(zip(names, values))
    if fields.get("padding") not in PADDING:
        node.fail(f"padding {fields.get('padding')} is neither SAME (1) nor VALID (2)")
    for k in names:
        if k.startswith(("stride", "filter")) and fields[k] <= 0:
            node.fail(f"{k} must be positive, got {fields[k]}")
    return fields


def activation_bounds(node, code):
    if code in (4, 5, 6):     # TANH, SIGN_BIT, SIGMOID: TFLite's range calculation leaves these unclamped
        return None
    if code not in ACTIVATIONS:
        node.fail(f"unknown fused activation {code}")
    return ACTIVATIONS[code]


def compute_padding(stride, in_size, filter_size, out_size):
    """TFLite's ComputePadding (dilation 1)."""
    return max(((out_size - 1) * stride + filter_size - in_size) // 2, 0)
