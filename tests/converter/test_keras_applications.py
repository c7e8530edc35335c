"""Every keras.applications architecture, built with random weights (and trained-looking
BatchNormalization statistics and layer scales) at its smallest valid input, saved as
.keras and as .h5, converted from each file, and run in LiteRT and in tinylite: the
outputs match Keras's own within 1e-4 relative (max abs error / max |reference|).

The classifier is built with 10 classes and no softmax: with random weights a softmax
is nearly uniform and would hide a wrong logit.

CI runs a representative subset (one model per family of layers and op nodes: 3.6 min
on a 2-core machine running several other test suites at once, ~1 min of CPU).
TINYLITE_ALL_APPLICATIONS=1 runs the whole list (42 models; ~25 min on that machine, the
largest ConvNeXt, NASNet and EfficientNet models need a few GiB of memory).
benchmarks/keras_applications.py prints each model's errors.  Last full run: all 42 models
within 4.1e-6 of Keras in LiteRT and in tinylite, from both formats (largest: ConvNeXtSmall
4.0e-6 in LiteRT, ConvNeXtXLarge 3.5e-6 in tinylite), and no model moves by more than 3.9e-6
when its input moves by one ulp."""
import os

import numpy as np
import pytest

from keras_check import missing_kernels  # noqa: I001  (sets KERAS_BACKEND before keras loads)
from oracle import run_litert, run_tinylite
from support import keras_oracle

keras = keras_oracle()

import tinylite  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore:__array__ implementation:DeprecationWarning")

# (application, input size, extra arguments): each at the smallest input it accepts.
ALL = [
    ("MobileNet", 32, {}),
    ("MobileNetV2", 32, {}),
    ("MobileNetV3Small", 32, {}),
    ("MobileNetV3Small", 32, {"minimalistic": True}),
    ("MobileNetV3Large", 32, {}),
    ("MobileNetV3Large", 32, {"minimalistic": True}),
    *[(f"EfficientNetB{k}", 32, {}) for k in range(8)],
    *[(f"EfficientNetV2{v}", 32, {}) for v in ("B0", "B1", "B2", "B3", "S", "M", "L")],
    *[(f"ResNet{d}{v}", 32, {}) for v in ("", "V2") for d in (50, 101, 152)],
    *[(f"DenseNet{d}", 32, {}) for d in (121, 169, 201)],
    ("NASNetMobile", 32, {}),
    ("NASNetLarge", 32, {}),
    ("Xception", 71, {}),
    ("InceptionV3", 75, {}),
    ("InceptionResNetV2", 75, {}),
    *[(f"ConvNeXt{s}", 32, {}) for s in ("Tiny", "Small", "Base", "Large", "XLarge")],
    ("VGG16", 32, {}),
    ("VGG19", 32, {}),
]

# One of each family: op nodes and hard sigmoid/swish (V3Small), squeeze-excite with swish
# and preprocessing layers (EfficientNetB0), concatenations with fused ReLUs and cropping
# (NASNetMobile), CustomScaleLayer (InceptionResNetV2 costs ~40 s: its stand-in here is
# the unit test in test_keras_graphs.py), LayerScale/LayerNorm/GELU (ConvNeXtTiny),
# dense blocks (DenseNet121), pre-activation residuals (ResNet50V2).
CI_SUBSET = {"MobileNetV3Small", "EfficientNetB0", "NASNetMobile", "ConvNeXtTiny", "DenseNet121", "ResNet50V2"}


def _id(case):
    name, size, kw = case
    return name + "".join(f"-{k}" for k, v in kw.items() if v)


FULL = os.environ.get("TINYLITE_ALL_APPLICATIONS") == "1"
CASES = [c for c in ALL if FULL or (c[0] in CI_SUBSET and not c[2])]


def _trained_looking(model, rng):
    """BatchNormalization statistics and layer scales away from their identity initial
    values, so that folding them is tested.

    Each BatchNormalization scales by gamma / sqrt(variance) < 1 (0.35 to 1), as a trained
    network's do on average: with gains around 1 and offsets from the moving means, the
    deepest random networks are chaotic, their output moving by up to 75% when the input
    moves by one float32 ulp (EfficientNetV2M with gamma in [0.5, 1.5] and variance in
    [0.5, 2]: Keras against itself on an input perturbed by 1e-7 relative), and no float32
    evaluation could match Keras's to 1e-4.  Here EfficientNetV2M's output moves by 5e-7."""
    for layer in model._flatten_layers(include_self=False):
        cls = type(layer).__name__
        if cls == "BatchNormalization":
            values = []
            for w in layer.weights:
                n = w.path.rsplit("/", 1)[-1]
                if "variance" in n:
                    values.append(rng.uniform(1.0, 2.0, w.shape))
                elif "mean" in n:
                    values.append(rng.normal(0, 0.5, w.shape))
                elif "gamma" in n:
                    values.append(rng.uniform(0.5, 1.0, w.shape))
                else:
                    values.append(rng.normal(0, 0.2, w.shape))
            layer.set_weights(values)
        elif cls == "LayerScale":
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape) for w in layer.weights])


def _rel_error(got, want):
    return float(np.max(np.abs(got.astype(np.float64) - want)) / max(float(np.max(np.abs(want))), 1e-30))


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_application(case, tmp_path):
    name, size, kw = case
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3), classes=10,
                                              classifier_activation=None, **kw)
    _trained_looking(model, rng)
    x = rng.uniform(0, 255, (1, size, size, 3)).astype(np.float32)
    want = keras.ops.convert_to_numpy(model(x)).astype(np.float64)
    # Keras against itself with the input moved by about one float32 ulp: a model this
    # sensitive could not be matched to 1e-4 by any float32 evaluation order.
    nudged = (x * (1 + 1e-7 * np.random.default_rng(1).standard_normal(x.shape))).astype(np.float32)
    sensitivity = _rel_error(keras.ops.convert_to_numpy(model(nudged)), want)
    assert sensitivity <= 1e-5, f"{_id(case)}: the test's weights make the model chaotic ({sensitivity:.1e})"
    errors = {}
    for fmt in ("keras", "h5"):
        path = tmp_path / f"{name}.{fmt}"
        model.save(path)
        content = tinylite.TFLiteConverter.from_keras_model_file(str(path)).convert()
        path.unlink()
        assert not missing_kernels(content), f"tinylite has no kernel for {missing_kernels(content)}"
        for runtime, run in (("LiteRT", run_litert), ("tinylite", run_tinylite)):
            got = run(content, [x])
            assert len(got) == 1 and got[0].shape == want.shape, f"{fmt} in {runtime}: output {got[0].shape}"
            errors[f"{fmt} in {runtime}"] = _rel_error(got[0], want)
    bad = {k: e for k, e in errors.items() if not e <= 1e-4}
    assert not bad, f"{_id(case)}: relative error above 1e-4: {bad} (all: {errors})"
