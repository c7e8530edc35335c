"""What tests share: where the corpus is and how a missing oracle is handled.

The oracles (ai-edge-litert, keras on its numpy backend, the shared corpus,
chromium, tflite-support) are optional on a developer's machine; tests that
need one skip with the reason.  CI sets TINYLITE_REQUIRE_ORACLES=1, which
turns every such skip into a failure so that a missing oracle can never pass
as green; conftest.py also fails any other skip then (an importorskip, a
skip from a library), so none can slip past this module.  (A plain module,
not conftest.py: several conftest.py files share that module name.)"""
import os
from pathlib import Path

import pytest

REQUIRE = os.environ.get("TINYLITE_REQUIRE_ORACLES") == "1"
CORPUS = Path(os.environ.get("TINYLITE_CORPUS", Path(__file__).resolve().parents[1].parent / "shared" / "corpus"))
WHERE_THE_CORPUS_COMES_FROM = (
    "the reference corpus is not in this repository: it is the folder of Keras models, inputs and "
    "TensorFlow/LiteRT outputs made with TensorFlow 2.x and ai-edge-litert 2.3; point TINYLITE_CORPUS at it "
    "(default: ../shared/corpus beside the checkout)")


def need(condition: bool, reason: str):
    """Skip (fail under TINYLITE_REQUIRE_ORACLES=1) unless `condition`; also at module level."""
    if not condition:
        if REQUIRE:
            pytest.fail(f"oracle missing in CI: {reason}", pytrace=False)
        pytest.skip(reason, allow_module_level=True)


def keras_oracle():
    """Keras 3 on its numpy backend, the converter's oracle, or a skip/fail saying why not.

    Keras picks its backend once, at its first import, so this sets
    KERAS_BACKEND=numpy unless the environment chose another; another backend
    is not the oracle and fails under TINYLITE_REQUIRE_ORACLES=1 (the tests
    must not vanish quietly because a shell exported KERAS_BACKEND=torch)."""
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    backend = os.environ["KERAS_BACKEND"]
    need(backend == "numpy", f"KERAS_BACKEND={backend}: the converter's oracle is Keras on the numpy backend "
                             "(unset KERAS_BACKEND or set it to numpy)")
    try:
        import keras
    except ImportError as e:
        need(False, f"keras cannot be imported ({e}); pip install '.[test]'")
    need(keras.backend.backend() == "numpy",
         f"keras was already imported with the {keras.backend.backend()!r} backend, not numpy")
    return keras


ZOO = Path(os.environ.get("TINYLITE_ZOO", CORPUS.parent / "zoo"))
