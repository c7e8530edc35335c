"""NON_MAX_SUPPRESSION_V4 and _V5 (soft NMS): LiteRT's reference algorithm,
a priority queue of candidates above score_threshold (libstdc++'s heap order
among equal scores), float32 IoU of corner boxes given in either order."""
from __future__ import annotations

import numpy as np

from ._stl_heap import PriorityQueue
from ._base import OpDataBase, op_data


@op_data
class NmsData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    soft: bool = None

F32 = np.float32


def iou(boxes, i, j):
    bi, bj = boxes[i], boxes[j]
    iy0, iy1 = min(bi[0], bi[2]), max(bi[0], bi[2])
    ix0, ix1 = min(bi[1], bi[3]), max(bi[1], bi[3])
    jy0, jy1 = min(bj[0], bj[2]), max(bj[0], bj[2])
    jx0, jx1 = min(bj[1], bj[3]), max(bj[1], bj[3])
    area_i = F32(iy1 - iy0) * F32(ix1 - ix0)
    area_j = F32(jy1 - jy0) * F32(jx1 - jx0)
    if area_i <= 0 or area_j <= 0:
        return F32(0)
    inter = max(F32(min(iy1, jy1) - max(iy0, jy0)), F32(0)) * max(F32(min(ix1, jx1) - max(ix0, jx0)), F32(0))
    return F32(inter / F32(area_i + area_j - inter))


def prepare_nms(node, soft):
    d = node.draft(NmsData)
    boxes, scores, max_out, iou_t, score_t = node.inputs[:5]
    node.expect_dtype(boxes, np.float32)
    node.expect_dtype(scores, np.float32)
    node.expect_dtype(max_out, np.int32)
    node.expect_dtype(iou_t, np.float32)
    node.expect_dtype(score_t, np.float32)
    if len(boxes.shape) != 2 or boxes.shape[1] != 4 or tuple(scores.shape) != (boxes.shape[0],):
        node.fail(f"expects boxes [n, 4] and scores [n], got {list(boxes.shape)} and {list(scores.shape)}")
    n = int(np.asarray(node.value(2)).reshape(-1)[0])
    if n < 0:
        node.fail(f"max_output_size must not be negative, got {n}")
    node.outputs[0].shape = (n,)
    if soft:
        node.outputs[1].shape = (n,)
        node.outputs[2].shape = ()
    else:
        node.outputs[1].shape = ()
    d.soft = soft
    return eval_nms


def eval_nms(node, inputs, outputs):
    data = node.data
    boxes, scores = inputs[0], inputs[1]
    max_out = int(inputs[2].reshape(-1)[0])
    iou_t = F32(inputs[3].reshape(-1)[0])
    score_t = F32(inputs[4].reshape(-1)[0])
    sigma = F32(inputs[5].reshape(-1)[0]) if data.soft else F32(0)
    if sigma < 0:
        raise ValueError(f"{node.op_name} (node {node.index}): soft_nms_sigma must not be negative, got {sigma}")
    queue = PriorityQueue(lambda a, b: a[1] < b[1])
    for i, s in enumerate(scores):
        if s > score_t:
            queue.push((i, F32(s), 0))
    selected, selected_scores = [], []
    count = min(len(queue), max_out)
    scale = F32(-0.5 / float(sigma)) if sigma > 0 else F32(0)
    while len(selected) < count and len(queue):
        index, score, begin = queue.top()
        original = score
        queue.pop()
        hard = False
        for j in range(len(selected) - 1, begin - 1, -1):
            v = iou(boxes, index, selected[j])
            if v >= iou_t:
                hard = True
                break
            if sigma > 0:
                score = F32(score * np.exp(F32(F32(scale * v) * v)))
            if score <= score_t:
                break
        begin = len(selected)
        if not hard:
            if score == original:
                selected.append(index)
                selected_scores.append(score)
            if score > score_t:
                queue.push((index, score, begin))
    indices = outputs[0]
    indices.fill(0)
    indices[:len(selected)] = selected
    if data.soft:
        outputs[1].fill(0)
        outputs[1][:len(selected)] = selected_scores
        outputs[2][...] = len(selected)
    else:
        outputs[1][...] = len(selected)
