"""NON_MAX_SUPPRESSION_V4 and _V5 against LiteRT: distinct and tied scores,
hard and soft (sigma) suppression, thresholds."""
import numpy as np
import pytest

from oracle import run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


def boxes_scores(n, ties):
    c = rng.random((n, 2)).astype(np.float32)
    s = (rng.random((n, 2)) * 0.3 + 0.05).astype(np.float32)
    boxes = np.concatenate([c - s, c + s], axis=1).astype(np.float32)
    boxes[::5] = boxes[::5][:, [2, 3, 0, 1]]          # corners in the other order
    scores = (np.round(rng.random(n) * 5) / 5 if ties else rng.random(n)).astype(np.float32)
    return boxes, scores


def model(op, n, max_out, iou, score, sigma=None):
    ins = [("b", [n, 4]), ("s", [n]), dict(name="m", data=np.array(max_out, np.int32)),
           dict(name="i", data=np.array(iou, np.float32)), dict(name="t", data=np.array(score, np.float32))]
    outs = [dict(name="idx", shape=[max_out], dtype=np.int32)]
    if sigma is not None:
        ins.append(dict(name="g", data=np.array(sigma, np.float32)))
        outs.append(dict(name="sc", shape=[max_out], dtype=np.float32))
    outs.append(dict(name="n", shape=[], dtype=np.int32))
    return single_op_model(op, ins, outs)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("max_out,iou,score", [(10, 0.5, 0.0), (30, 0.3, 0.4), (5, 0.7, -1.0)])
def test_nms_v4(ties, max_out, iou, score):
    boxes, scores = boxes_scores(60, ties)
    content = model("NON_MAX_SUPPRESSION_V4", 60, max_out, iou, score)
    for g, w in zip(run_tinylite(content, [boxes, scores]), run_litert(content, [boxes, scores])):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("sigma", [0.0, 0.5])
@pytest.mark.parametrize("max_out,iou,score", [(10, 0.5, 0.0), (30, 0.6, 0.2)])
def test_nms_v5(ties, sigma, max_out, iou, score):
    boxes, scores = boxes_scores(60, ties)
    content = model("NON_MAX_SUPPRESSION_V5", 60, max_out, iou, score, sigma)
    got, want = run_tinylite(content, [boxes, scores]), run_litert(content, [boxes, scores])
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    np.testing.assert_array_equal(got[2], want[2])
