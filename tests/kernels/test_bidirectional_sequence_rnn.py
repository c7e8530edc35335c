"""BIDIRECTIONAL_SEQUENCE_RNN against LiteRT: float weights, merged and
separate outputs, batch- and time-major, state kept across invokes.  (Hybrid
weights are refused: not matched yet.)"""
import numpy as np
import pytest

from test_sequence_ops import _rnn_inputs, run_twice
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("merge", [False, True])
@pytest.mark.parametrize("act", ["TANH", "RELU"])
def test_bidirectional_sequence_rnn(time_major, merge, act, hybrid=False):
    n_batch, n_time, n_input, fw_units, bw_units = 2, 5, 3, 4, 6
    shape = [n_time, n_batch, n_input] if time_major else [n_batch, n_time, n_input]
    fw = _rnn_inputs(n_input, fw_units, n_batch, hybrid)
    bw = _rnn_inputs(n_input, bw_units, n_batch, hybrid)
    for d in bw:
        d["name"] = "bw_" + d["name"]
    outs = ([("y", shape[:2] + [fw_units + bw_units])] if merge else
            [("y", shape[:2] + [fw_units]), ("z", shape[:2] + [bw_units])])
    content = single_op_model("BIDIRECTIONAL_SEQUENCE_RNN", [("x", shape)] + fw + bw + [None, None, None], outs,
                              options=dict(time_major=time_major, merge_outputs=merge, fused_activation_function=act))
    feeds = [[rng.standard_normal(shape).astype(np.float32)] for _ in range(2)]
    run_twice(content, feeds)
