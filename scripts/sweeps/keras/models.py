"""Model definitions reused from scripts/sweeps/tf_converted/make.py (without TensorFlow)."""
import os
os.environ.setdefault("KERAS_BACKEND", "numpy")
SRC = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "tf_converted" / "make.py")
_src = open(SRC).read().replace("import tensorflow as tf\n", "")
_ns = {"__name__": "tf_converted_make", "__file__": os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_copy.py")}
exec(compile(_src, SRC, "exec"), _ns)
MODELS = _ns["MODELS"]
build = _ns["build"]
make_input = _ns["make_input"]

# Dynamic-batch twins (keras.Input(batch_size=None)) of every fixed-batch model: "dynb_B_<name>".
for _n in list(MODELS):
    if not _n.startswith("dynb_"):
        MODELS["dynb_B_" + _n] = MODELS[_n]
