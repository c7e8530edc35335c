"""NON_MAX_SUPPRESSION_V5: NON_MAX_SUPPRESSION_V4 plus soft_nms_sigma (scores
of overlapping boxes decay by exp(-0.5 * iou^2 / sigma) instead of being
dropped); outputs the kept indices, their scores and the count; see _nms.py."""
from ._nms import prepare_nms


def prepare(node):
    return prepare_nms(node, soft=True)
