"""Make the demo's embedded assets (dev-time only; the outputs are committed):

- tinylite/data/digits.npz: scikit-learn's 8x8 digits (uint8 0..16), split into
  train (first 1400) and a held-out test set (the rest).
- tinylite/data/digits_cnn.h5: a small Keras CNN trained on the train split,
  saved with `model.save(...h5)` exactly as the Keras mnist example does.

Run: KERAS_BACKEND=torch python scripts/make_demo_model.py   (needs keras,
torch and scikit-learn; the numpy backend of Keras cannot train).
"""
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "tinylite" / "data"
TRAIN = 1400


def main():
    digits = load_digits()
    images = digits.images.astype(np.uint8)          # [1797, 8, 8], values 0..16
    labels = digits.target.astype(np.uint8)
    np.savez_compressed(OUT / "digits.npz", images=images, labels=labels, train=np.int32(TRAIN))

    x = (images.astype(np.float32) / 16.0)[..., None]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8, 8, 1), name="image"),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(2, name="pool1"),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
        keras.layers.MaxPooling2D(2, name="pool2"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(64, activation="relu", name="dense1"),
        keras.layers.Dropout(0.25, name="dropout"),
        keras.layers.Dense(10, activation="softmax", name="probs"),
    ], name="digits_cnn")
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:TRAIN], labels[:TRAIN], batch_size=32, epochs=60, verbose=0)
    loss, acc = model.evaluate(x[TRAIN:], labels[TRAIN:], verbose=0)
    print(f"held-out accuracy {acc:.4f} on {len(x) - TRAIN} digits")
    model.save(OUT / "digits_cnn.h5")


if __name__ == "__main__":
    main()
