"""TFLite_Detection_PostProcess: SSD box decoding and non-max suppression, as
LiteRT's bundled custom op does it.

Inputs: box encodings [1, boxes, >=4] (y, x, h, w relative to the anchor),
class scores [1, boxes, classes (+1 background)], anchors [boxes, 4]
(y, x, h, w); float32, or uint8 (box encodings and anchors dequantized with
their own parameters, scores too).  Outputs (float32): boxes [1, N, 4]
(ymin, xmin, ymax, xmax), classes [1, N], scores [1, N], count [1], with
N = max_detections * max_classes_per_detection.

Options (FlexBuffer map): max_detections, max_classes_per_detection,
detections_per_class (default 100), use_regular_nms (default false),
nms_score_threshold, nms_iou_threshold, num_classes, y_scale, x_scale,
h_scale, w_scale.

- Decoding computes in double and rounds to float32, as LiteRT does.
- Fast NMS (the default): each box keeps its top max_classes_per_detection
  classes (LiteRT's partial sort: its order among equal scores is reproduced
  by running the same heap algorithm), one NMS over the boxes' best scores.
  Rows past the selected boxes are zero here; LiteRT leaves them unwritten.
- Regular NMS: one NMS per class (at most min(detections_per_class,
  max_detections) boxes each), merged by score (stable, earlier classes first
  on ties), the first max_detections kept; unused rows are zero.
- Each NMS keeps scores >= nms_score_threshold, sorts them stably by
  decreasing score and drops boxes whose float32 IoU with a kept one exceeds
  nms_iou_threshold.
"""
from __future__ import annotations

import numpy as np

from .._stl_heap import partial_sort
from ._options import flexbuffer_map
from .._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What this custom op's prepare computes for eval."""

    max_detections: int = None
    max_classes: int = None
    per_class: int = None
    regular: bool = None
    score_threshold: np.float32 = None
    iou_threshold: np.float32 = None
    num_classes: int = None
    scales: list = None

F32 = np.float32


def prepare(node):
    d = node.draft(OpData)
    opts = flexbuffer_map(node)
    missing = [k for k in ("max_detections", "max_classes_per_detection", "nms_score_threshold",
                           "nms_iou_threshold", "num_classes", "y_scale", "x_scale", "h_scale", "w_scale")
               if k not in opts]
    if missing:
        node.fail(f"custom options lack {', '.join(missing)}")
    d.max_detections = int(opts["max_detections"])
    d.max_classes = int(opts["max_classes_per_detection"])
    d.per_class = int(opts.get("detections_per_class", 100))
    d.regular = bool(opts.get("use_regular_nms", False))
    d.score_threshold = F32(opts["nms_score_threshold"])
    d.iou_threshold = F32(opts["nms_iou_threshold"])
    d.num_classes = int(opts["num_classes"])
    d.scales = [float(F32(opts[k])) for k in ("y_scale", "x_scale", "h_scale", "w_scale")]
    if len(node.inputs) != 3 or len(node.outputs) != 4:
        node.fail(f"expects 3 inputs and 4 outputs, got {len(node.inputs)} and {len(node.outputs)}")
    boxes, scores, anchors = node.inputs
    if len(boxes.shape) != 3 or len(scores.shape) != 3 or len(anchors.shape) != 2:
        node.fail(f"expects box encodings [1, boxes, 4], scores [1, boxes, classes] and anchors [boxes, 4], "
                  f"got shapes {list(boxes.shape)}, {list(scores.shape)} and {list(anchors.shape)}")
    if boxes.shape[0] != 1 or scores.shape[0] != 1:
        node.fail(f"supports batch 1 only (as LiteRT), got {boxes.shape[0]}")
    if boxes.shape[2] < 4 or anchors.shape[1] < 4:
        node.fail(f"box encodings and anchors need at least 4 values per box, got {boxes.shape[2]} and {anchors.shape[1]}")
    n = boxes.shape[1]
    if scores.shape[1] != n or anchors.shape[0] < n:
        node.fail(f"{n} boxes, but scores have {scores.shape[1]} rows and anchors {anchors.shape[0]}")
    with_bg = scores.shape[2]
    if not 0 <= with_bg - d.num_classes <= 1:
        node.fail(f"scores have {with_bg} classes for num_classes {d.num_classes} (at most one background class)")
    for spec in (boxes, scores, anchors):
        node.expect_dtype(spec, np.float32, np.uint8)
    if boxes.dtype == np.float32 and anchors.dtype != np.float32:
        node.fail(f"float box encodings need float anchors, got {anchors.dtype.name}")
    if not (0 < d.iou_threshold <= 1):
        node.fail(f"nms_iou_threshold must be in (0, 1], got {d.iou_threshold}")
    if d.regular and min(d.per_class, d.max_detections) <= 0:
        node.fail("detections_per_class and max_detections must be positive for regular NMS")
    if not d.regular and d.max_classes <= 0:
        node.fail(f"max_classes_per_detection must be positive, got {d.max_classes}")
    if d.max_detections < 0:
        node.fail(f"max_detections must not be negative, got {d.max_detections}")
    count = d.max_detections * d.max_classes
    for spec, shape in zip(node.outputs, [(1, count, 4), (1, count), (1, count), (1,)]):
        if spec.dtype != np.float32:
            node.fail(f"output {spec.name!r} must be float32, got {spec.dtype.name}")
        spec.shape = shape
    return eval_detection_postprocess


def _dequantize(spec, values):
    # (float(x) - zero_point) * scale in float32, as LiteRT's Dequantizer.
    return ((values.astype(F32) - F32(spec.zero_point)) * F32(spec.scale)).astype(F32)


def decode(node, boxes, anchors):
    """[boxes, 4] float32 corners (ymin, xmin, ymax, xmax)."""
    b, a = node.inputs[0], node.inputs[2]
    n = boxes.shape[1]
    enc = boxes[0, :, :4]
    anc = anchors[:n, :4]
    if b.dtype == np.uint8:
        enc, anc = _dequantize(b, enc), _dequantize(a, anc)
    e, an = enc.astype(np.float64), anc.astype(np.float64)
    sy, sx, sh, sw = node.data.scales
    yc = (e[:, 0] / sy * an[:, 2] + an[:, 0]).astype(F32)
    xc = (e[:, 1] / sx * an[:, 3] + an[:, 1]).astype(F32)
    hh = (0.5 * np.exp(e[:, 2] / sh) * an[:, 2]).astype(F32)
    hw = (0.5 * np.exp(e[:, 3] / sw) * an[:, 3]).astype(F32)
    return np.stack([yc - hh, xc - hw, yc + hh, xc + hw], axis=1).astype(F32)


def _iou(boxes, i, js):
    """float32 IoU of box i with boxes js, as LiteRT computes it (0 for empty boxes)."""
    bi, bj = boxes[i], boxes[js]
    area_i = (bi[2] - bi[0]) * (bi[3] - bi[1])
    area_j = (bj[:, 2] - bj[:, 0]) * (bj[:, 3] - bj[:, 1])
    h = np.maximum(np.minimum(bi[2], bj[:, 2]) - np.maximum(bi[0], bj[:, 0]), F32(0))
    w = np.maximum(np.minimum(bi[3], bj[:, 3]) - np.maximum(bi[1], bj[:, 1]), F32(0))
    inter = h * w
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / (area_i + area_j - inter)
    return np.where((area_i <= 0) | (area_j <= 0), F32(0), iou)


def nms(node, boxes, scores, max_out):
    """Indices of the boxes one NMS keeps, best first."""
    keep = np.flatnonzero(scores >= node.data.score_threshold)
    order = keep[np.argsort(-scores[keep], kind="stable")]
    selected = []
    active = np.ones(len(order), bool)
    for i in range(len(order)):
        if len(selected) >= min(len(order), max_out) or not active[i:].any():
            break
        if not active[i]:
            continue
        selected.append(order[i])
        active[i] = False
        rest = np.flatnonzero(active[i + 1:]) + i + 1
        if len(rest):
            active[rest[_iou(boxes, order[i], order[rest]) > node.data.iou_threshold]] = False
    return selected


def _partial_sort_desc(values, k):
    """The first k indices of libstdc++'s std::partial_sort of 0..n-1 by decreasing
    value, which orders equal values its own way."""
    v = values.tolist()
    return partial_sort(list(range(len(v))), k, lambda a, b: v[a] > v[b])


def _top_classes(row, k):
    if k == 1:
        return [int(np.argmax(row))]          # LiteRT's ArgMaxVector: first of equal maxima
    top = np.argsort(-row, kind="stable")[:k]
    # Only ties at or across the cut make the heap order matter.
    kth = row[top[-1]]
    if len(np.unique(row[top])) == k and np.count_nonzero(row == kth) == 1:
        return [int(t) for t in top]
    return _partial_sort_desc(row, k)


def eval_detection_postprocess(node, inputs, outputs):
    data = node.data
    box_enc, class_scores, anchors = inputs
    out_boxes, out_classes, out_scores, out_count = outputs
    decoded = decode(node, box_enc, anchors)
    if np.any(decoded[:, 0] > decoded[:, 2]) or np.any(decoded[:, 1] > decoded[:, 3]):
        raise ValueError(f"{node.op_name} (node {node.index}): a decoded box has ymin > ymax or xmin > xmax "
                         "(negative scales or NaN encodings); LiteRT fails this invoke too")
    scores = class_scores[0]
    if node.inputs[1].dtype == np.uint8:
        scores = _dequantize(node.inputs[1], scores)
    offset = scores.shape[1] - data.num_classes
    scores = scores[:, offset:]
    for out in outputs:
        out.fill(0)
    if data.regular:
        per_class = min(data.per_class, data.max_detections)
        found = []            # (score, box, class), kept sorted by score, stable
        for c in range(data.num_classes):
            col = scores[:, c]
            sel = nms(node, decoded, col, per_class)
            new = [(float(col[i]), int(i), c) for i in sel]
            merged = sorted(found + new, key=lambda t: -t[0])   # stable: earlier classes first
            found = merged[:data.max_detections]
        for k, (score, box, c) in enumerate(found):
            out_boxes[0, k] = decoded[box]
            out_classes[0, k] = c
            out_scores[0, k] = score
        out_count[0] = len(found)
        return
    k = min(data.max_classes, data.num_classes)
    top = [_top_classes(row, k) for row in scores] if k > 1 else np.argmax(scores, axis=1)[:, None]
    best = scores[np.arange(len(scores)), [t[0] for t in top]]
    selected = nms(node, decoded, best, data.max_detections)
    for n, box in enumerate(selected):
        for col in range(k):
            slot = data.max_classes * n + col
            out_boxes[0, slot] = decoded[box]
            out_classes[0, slot] = top[box][col]
            out_scores[0, slot] = scores[box, top[box][col]]
    out_count[0] = len(selected)
