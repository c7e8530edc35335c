"""Graph passes over the in-memory model, one per module, run in this order."""
from __future__ import annotations

from . import (
    dedupe_buffers,
    drop_identity,
    fold_batchnorm,
    fold_constants,
    fold_input_scale,
    fold_pad,
    fuse_activation,
    remove_dead,
)

PASSES = [
    fold_constants.run,
    drop_identity.run,
    fold_pad.run,
    fold_batchnorm.run,
    fold_input_scale.run,
    fuse_activation.run,
    remove_dead.run,
    dedupe_buffers.run,
]


def run_passes(model) -> None:
    for p in PASSES:
        p(model)
