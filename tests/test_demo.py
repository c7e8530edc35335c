"""`tinylite demo`, the README's main job, through the real console script."""
import re

import numpy as np

from test_cli import tinylite


def test_demo_pipeline_and_accuracy_matches_run(tmp_path):
    out = tmp_path / "demo"
    text = tinylite("demo", "-o", out).stdout
    table = {m.group(1): float(m.group(2)) for m in re.finditer(
        r"^(float|dynamic|float16|int8)\s+digits_\w+\.tflite\s+\S+\s+\S+\s+([\d.]+)%", text, re.M)}
    assert "float" in table, text
    for mode, acc in table.items():
        assert acc > 90.0, f"{mode}: accuracy {acc}% on held-out digits"
        assert (out / f"digits_{mode}.tflite").exists()
    assert (out / "report.html").exists() and (out / "digits_cnn.h5").exists()
    # The table's accuracy is what `tinylite run` gives on the same data.
    data = np.load(out / "digits_test.npz")
    for mode, acc in table.items():
        saved = tmp_path / f"{mode}_out.npz"
        tinylite("run", out / f"digits_{mode}.tflite", "--input", out / "digits_test.npz", "-o", saved)
        pred = np.load(saved)["output0"].argmax(-1)
        assert abs(100 * float(np.mean(pred == data["y"])) - acc) < 0.01, mode
