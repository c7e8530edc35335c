"""AudioSpectrogram (LiteRT's bundled custom op; TensorFlow's
``tf.raw_ops.AudioSpectrogram``, as in the speech-commands models): the
magnitude (or squared magnitude) of the FFT of Hann-windowed frames of audio.

Input: float32 samples [samples, channels]. Output: float32
[channels, frames, 1 + fft_length / 2], frames = 1 + (samples - window_size) //
stride (0 when the audio is shorter than a window), fft_length the power of two
at or above window_size.  Options (FlexBuffer map): window_size, stride (read
as integers), magnitude_squared (bool).

As LiteRT computes it: frame k holds samples k * stride .. + window_size, times
the periodic Hann window 0.5 - 0.5 cos(2 pi i / window_size) in double, zero
padded to fft_length; the real FFT runs in double and re^2 + im^2 (double) is
rounded to float32, then float32's square root unless magnitude_squared.
LiteRT's FFT is Ooura's rdft, numpy's pocketfft: both in double, so the float32
outputs agree to the last bit or two (measured in tests/kernels/test_custom_audio.py).
"""
from __future__ import annotations

import math

import numpy as np

from ._options import as_bool, as_int, expect_io, flexbuffer_map
from .._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What this custom op's prepare computes for eval."""

    window: np.ndarray = None        # float64 [window_size], the periodic Hann window
    stride: int = None
    fft_length: int = None
    magnitude_squared: bool = None
    frames_per_chunk: int = None     # frames transformed at once (bounds the double scratch)


# Frames x fft_length doubles transformed per call: 8 MiB of scratch at most, whatever the audio's length.
CHUNK_VALUES = 1 << 20


def prepare(node):
    d = node.draft(OpData)
    opts = flexbuffer_map(node)
    window_size = as_int(node, opts, "window_size")
    stride = as_int(node, opts, "stride")
    expect_io(node, "1 input (samples)")
    x, out = node.inputs[0], node.outputs[0]
    node.expect_dtype(x, np.float32)
    node.expect_dtype(out, np.float32)
    if len(x.shape) != 2:
        node.fail(f"expects samples of shape [samples, channels], got shape {list(x.shape)}")
    # LiteRT's Spectrogram::Initialize refuses these (allocate_tensors fails there too).
    if window_size < 2:
        node.fail(f"window_size must be at least 2, got {window_size}")
    if stride < 1:
        node.fail(f"stride must be positive, got {stride}")
    if window_size > 1 << 30:
        node.fail(f"window_size {window_size} is implausibly large (the FFT length is a power of two "
                  "that must fit in 32 bits)")
    samples, channels = x.shape
    frames = 0 if samples < window_size else 1 + (samples - window_size) // stride
    fft_length = 1 << (window_size - 1).bit_length()
    d.window = hann(window_size) if frames else np.zeros(0)
    d.stride = stride
    d.fft_length = fft_length
    d.magnitude_squared = as_bool(node, opts, "magnitude_squared")
    d.frames_per_chunk = max(1, CHUNK_VALUES // fft_length)
    node.reserve([min(frames, d.frames_per_chunk), fft_length + 2], np.float64, "the FFT's frames")
    out.shape = (channels, frames, fft_length // 2 + 1)
    return eval_audio_spectrogram


def hann(n):
    """The periodic Hann window of n points in double, by the C library's cos (math.cos) as
    LiteRT's: numpy's vectorized cos may differ in the last bit.  Past 65536 points (a window
    longer than 4 s of 16 kHz audio) numpy's, to keep prepare quick."""
    if n > 1 << 16:
        return 0.5 - 0.5 * np.cos((2.0 * math.pi * np.arange(n)) / n)
    return np.array([0.5 - 0.5 * math.cos((2.0 * math.pi * i) / n) for i in range(n)])


def eval_audio_spectrogram(node, inputs, outputs):
    d = node.data
    x, out = inputs[0], outputs[0]
    channels, frames, _ = out.shape
    w = len(d.window)
    for c in range(channels):
        for f0 in range(0, frames, d.frames_per_chunk):
            f1 = min(frames, f0 + d.frames_per_chunk)
            starts = np.arange(f0, f1) * d.stride
            # float32 samples times the double window: the product in double, as LiteRT's.
            seg = x[starts[:, None] + np.arange(w), c].astype(np.float64) * d.window
            spec = np.fft.rfft(seg, n=d.fft_length, axis=-1)
            re, im = spec.real, spec.imag
            power = (re * re + im * im).astype(np.float32)
            if not d.magnitude_squared:
                np.sqrt(power, out=power)
            out[c, f0:f1] = power
