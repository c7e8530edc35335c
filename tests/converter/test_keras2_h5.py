"""Keras 2 (tf.keras) HDF5 layout: config with `batch_input_shape` and list-style
inbound nodes, weights named "<layer>/<variable>:0", a nested model's weights stored
under the outer layer's group.  The file is written here with h5py exactly as
Keras 2 lays it out, and the expected answer is computed with numpy."""
import json

import h5py

import numpy as np
import pytest

from keras_check import check_both

import tinylite

RNG = np.random.default_rng(3)


def _dense_cfg(name, units, activation="linear", use_bias=True):
    return {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
            "use_bias": use_bias}


def _write(path, config, weights):
    """weights: {top-level layer name: [(weight name, array)]}"""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([n.encode() for n in weights], dtype=object)
        for layer, ws in weights.items():
            lg = g.create_group(layer)
            lg.attrs["weight_names"] = np.array([n.encode() for n, _ in ws], dtype=object)
            for n, w in ws:
                lg.create_dataset(n, data=w)


def test_keras2_functional_with_nested_sequential(tmp_path):
    k1, b1 = RNG.normal(size=(4, 5)).astype(np.float32), RNG.normal(size=5).astype(np.float32)
    gamma, beta = RNG.uniform(0.5, 1.5, 5).astype(np.float32), RNG.normal(size=5).astype(np.float32)
    mean, var = RNG.normal(size=5).astype(np.float32), RNG.uniform(0.5, 2, 5).astype(np.float32)
    k2 = RNG.normal(size=(5, 3)).astype(np.float32)
    k3, b3 = RNG.normal(size=(4, 3)).astype(np.float32), RNG.normal(size=3).astype(np.float32)
    inner = {"class_name": "Sequential", "config": {"name": "inner", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32", "name": "inner_in"}},
        {"class_name": "Dense", "config": _dense_cfg("inner_dense", 3)}]}}
    config = {"class_name": "Functional", "config": {
        "name": "model",
        "layers": [
            {"class_name": "InputLayer", "name": "x",
             "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "name": "x"},
             "inbound_nodes": []},
            {"class_name": "Dense", "name": "d1", "config": _dense_cfg("d1", 5), "inbound_nodes": [[["x", 0, 0, {}]]]},
            {"class_name": "BatchNormalization", "name": "bn",
             "config": {"name": "bn", "axis": [1], "momentum": 0.99, "epsilon": 0.001, "center": True,
                        "scale": True}, "inbound_nodes": [[["d1", 0, 0, {}]]]},
            {"class_name": "LeakyReLU", "name": "lrelu", "config": {"name": "lrelu", "alpha": 0.2},
             "inbound_nodes": [[["bn", 0, 0, {}]]]},
            {"class_name": "Dense", "name": "d2", "config": _dense_cfg("d2", 3, "hard_sigmoid", use_bias=False),
             "inbound_nodes": [[["lrelu", 0, 0, {}]]]},
            dict(inner, name="inner", inbound_nodes=[[["x", 0, 0, {}]]]),
            {"class_name": "Add", "name": "add", "config": {"name": "add"},
             "inbound_nodes": [[["d2", 0, 0, {}], ["inner", 0, 0, {}]]]},
        ],
        "input_layers": [["x", 0, 0]],
        "output_layers": [["add", 0, 0]],
    }}
    weights = {
        "d1": [("d1/kernel:0", k1), ("d1/bias:0", b1)],
        "bn": [("bn/gamma:0", gamma), ("bn/beta:0", beta), ("bn/moving_mean:0", mean),
               ("bn/moving_variance:0", var)],
        "d2": [("d2/kernel:0", k2)],
        "inner": [("inner_dense/kernel:0", k3), ("inner_dense/bias:0", b3)],
    }
    path = tmp_path / "keras2.h5"
    _write(path, config, weights)

    x = RNG.normal(size=(3, 4)).astype(np.float32)
    h = x @ k1 + b1
    h = (h - mean) / np.sqrt(var + 1e-3) * gamma + beta
    h = np.where(h > 0, h, 0.2 * h)
    h = np.clip(0.2 * (h @ k2) + 0.5, 0, 1)           # Keras 2 hard_sigmoid
    want = h + (x @ k3 + b3)
    content = tinylite.TFLiteConverter.from_keras_model_file(str(path)).convert()
    check_both(content, [x], [want])


def test_keras2_sequential_without_input_layer(tmp_path):
    k, b = RNG.normal(size=(6, 2)).astype(np.float32), RNG.normal(size=2).astype(np.float32)
    config = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "Dense", "config": dict(_dense_cfg("dense", 2, "softmax"), batch_input_shape=[None, 6])}]}}
    path = tmp_path / "seq.h5"
    _write(path, config, {"dense": [("dense/kernel:0", k), ("dense/bias:0", b)]})
    x = RNG.normal(size=(3, 6)).astype(np.float32)
    z = x @ k + b
    want = np.exp(z - z.max(-1, keepdims=True))
    want /= want.sum(-1, keepdims=True)
    check_both(tinylite.TFLiteConverter.from_keras_model_file(str(path)).convert(), [x], [want])
