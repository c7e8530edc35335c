"""NON_MAX_SUPPRESSION_V4(boxes, scores, max_output_size, iou_threshold,
score_threshold): the indices of the kept boxes (padded with 0 to
max_output_size) and their count; see _nms.py."""
from ._nms import prepare_nms


def prepare(node):
    return prepare_nms(node, soft=False)
