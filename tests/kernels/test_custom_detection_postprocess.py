"""TFLite_Detection_PostProcess against LiteRT's bundled kernel: float and
uint8 inputs, fast NMS (one or several classes per box, with the tied scores
uint8 gives), regular NMS (detections_per_class), box scales, with and
without a background class."""
import numpy as np
import pytest
from flatbuffers import flexbuffers

from oracle import run_litert, run_tinylite
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


def model(n, classes, dtype, background=True, **opts):
    options = dict(max_detections=10, max_classes_per_detection=1, nms_score_threshold=0.3,
                   nms_iou_threshold=0.5, num_classes=classes, y_scale=10.0, x_scale=10.0,
                   h_scale=5.0, w_scale=5.0)
    options.update(opts)
    q = {}
    if dtype == np.uint8:
        q = dict(boxes=(0.05, 128), scores=(1 / 255, 0), anchors=(0.004, 0))
    width = classes + (1 if background else 0)

    def spec(name, shape):
        d = dict(name=name, shape=shape, dtype=dtype)
        if name in q:
            d["quantization"] = q[name]
        return d
    outs = [dict(name=f"o{i}", shape=[1], dtype=np.float32) for i in range(4)]
    return single_op_model("TFLite_Detection_PostProcess",
                           [spec("boxes", [1, n, 4]), spec("scores", [1, n, width]), spec("anchors", [n, 4])],
                           outs, custom_options=flexbuffers.Dumps(options))


def feeds(n, width, dtype):
    if dtype == np.uint8:
        return [rng.integers(0, 256, (1, n, 4)).astype(np.uint8),
                rng.integers(0, 256, (1, n, width)).astype(np.uint8),
                rng.integers(20, 250, (n, 4)).astype(np.uint8)]
    anchors = np.concatenate([rng.random((n, 2)), rng.random((n, 2)) * 0.3 + 0.05], axis=1)
    return [rng.standard_normal((1, n, 4)).astype(np.float32),
            rng.random((1, n, width)).astype(np.float32), anchors.astype(np.float32)]


def check(content, xs, per_box):
    want = run_litert(content, xs)
    got = run_tinylite(content, xs)
    count = int(want[3][0])
    assert int(got[3][0]) == count
    assert count > 0
    rows = count * per_box      # LiteRT leaves the rows past these unwritten
    for g, w in zip(got[:3], want[:3]):
        assert g.shape == w.shape
        np.testing.assert_array_equal(g[0, :rows], w[0, :rows])


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
@pytest.mark.parametrize("per_box", [1, 3])
@pytest.mark.parametrize("background", [True, False])
def test_fast_nms(dtype, per_box, background):
    n, classes = 300, 7
    content = model(n, classes, dtype, background, max_classes_per_detection=per_box)
    check(content, feeds(n, classes + background, dtype), per_box)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
@pytest.mark.parametrize("per_class", [1, 3, 100])
def test_regular_nms(dtype, per_class):
    n, classes = 200, 5
    content = model(n, classes, dtype, use_regular_nms=True, detections_per_class=per_class, max_detections=12)
    check(content, feeds(n, classes + 1, dtype), 1)


@pytest.mark.parametrize("scales", [(1.0, 1.0, 1.0, 1.0), (10.0, 5.0, 2.0, 3.0)])
@pytest.mark.parametrize("iou,threshold", [(0.3, 0.1), (1.0, 0.6)])
def test_scales_and_thresholds(scales, iou, threshold):
    n, classes = 150, 4
    y, x, h, w = scales
    content = model(n, classes, np.float32, y_scale=y, x_scale=x, h_scale=h, w_scale=w,
                    nms_iou_threshold=iou, nms_score_threshold=threshold)
    check(content, feeds(n, classes + 1, np.float32), 1)


def test_default_detections_per_class_and_fast_default():
    # No detections_per_class / use_regular_nms in the options: 100 and fast NMS.
    n = 120
    content = model(n, 3, np.uint8, max_classes_per_detection=2)
    check(content, feeds(n, 4, np.uint8), 2)


def test_bad_options_are_reported():
    import tinylite

    content = single_op_model("TFLite_Detection_PostProcess",
                              [("b", [1, 4, 4]), ("s", [1, 4, 3]), ("a", [4, 4])],
                              [dict(name=f"o{i}", shape=[1]) for i in range(4)],
                              custom_options=flexbuffers.Dumps(dict(max_detections=3)))
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(Exception, match="custom options lack"):
        ip.allocate_tensors()
