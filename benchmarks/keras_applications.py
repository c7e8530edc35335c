"""Relative error of every keras.applications model converted by tinylite, in LiteRT and in
tinylite, against Keras (the measurements behind tests/converter/test_keras_applications.py,
which only asserts the 1e-4 bound):

    python benchmarks/keras_applications.py [--models MobileNet,EfficientNetV2S]

Same models, weights, inputs and files (.keras and .h5) as the test; one model at a time
(the largest need several GiB).  Prints one row per model: the largest relative error
(max abs error / max |Keras|) over both formats, per runtime, Keras's own sensitivity (its
output's relative change when the input moves by about one float32 ulp: the floor any float32
evaluation order can reach), and the seconds it took.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "numpy")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "converter")]

import numpy as np  # noqa: E402


def main(argv=None) -> int:
    import keras

    import test_keras_applications as apps
    import tinylite
    from oracle import run_litert, run_tinylite

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=None, help="comma-separated ids (default: the whole list)")
    args = p.parse_args(argv)
    wanted = set(args.models.split(",")) if args.models else None
    print(f"{'model':32s} {'LiteRT':>9s} {'tinylite':>9s} {'Keras':>9s} {'seconds':>8s}")
    worst = 0.0
    for case in apps.ALL:
        ident = apps._id(case)
        if wanted and ident not in wanted:
            continue
        name, size, kw = case
        start = time.perf_counter()
        keras.utils.set_random_seed(0)
        rng = np.random.default_rng(0)
        model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3), classes=10,
                                                  classifier_activation=None, **kw)
        apps._trained_looking(model, rng)
        x = rng.uniform(0, 255, (1, size, size, 3)).astype(np.float32)
        want = keras.ops.convert_to_numpy(model(x)).astype(np.float64)
        nudged = (x * (1 + 1e-7 * np.random.default_rng(1).standard_normal(x.shape))).astype(np.float32)
        sensitivity = apps._rel_error(keras.ops.convert_to_numpy(model(nudged)), want)
        errors = {"LiteRT": 0.0, "tinylite": 0.0}
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in ("keras", "h5"):
                path = Path(tmp) / f"{name}.{fmt}"
                model.save(path)
                content = tinylite.TFLiteConverter.from_keras_model_file(str(path)).convert()
                path.unlink()
                for runtime, run in (("LiteRT", run_litert), ("tinylite", run_tinylite)):
                    errors[runtime] = max(errors[runtime], apps._rel_error(run(content, [x])[0], want))
        worst = max(worst, *errors.values())
        seconds = time.perf_counter() - start
        print(f"{ident:32s} {errors['LiteRT']:9.2e} {errors['tinylite']:9.2e} {sensitivity:9.2e} {seconds:8.0f}",
              flush=True)
        del model
        gc.collect()
    print(f"\nworst relative error {worst:.2e} (bound 1e-4)")
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
