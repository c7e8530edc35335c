"""Mfcc (LiteRT's bundled custom op; TensorFlow's ``tf.raw_ops.Mfcc``, after
AudioSpectrogram in the speech-commands models): mel-frequency cepstral
coefficients of each spectrogram frame.

Inputs: a float32 spectrogram [channels, frames, bins] (squared magnitudes), the
sample rate (int32, one element).  Output: float32 [channels, frames,
dct_coefficient_count].  Options (FlexBuffer map, each read as an integer as
LiteRT reads them): upper_frequency_limit, lower_frequency_limit,
filterbank_channel_count, dct_coefficient_count.

Per frame, in double as LiteRT's (tflite/kernels/internal/mfcc*.cc): the square
roots of bins start..end are spread over triangular mel bands (each band's
terms summed in bin order), floored at 1e-12, logged, and a DCT-II (scaled by
sqrt(2 / bands), each coefficient summed in band order) gives the output,
rounded to float32.  The band design and the DCT's cosines use the C library's
log1p and cos (Python's math) and LiteRT's expressions term for term; the sums
run in LiteRT's order (cumulative sums, not numpy's pairwise ones), and the logs
are the C library's too, so the outputs are LiteRT's bit for bit.

LiteRT's edge cases are kept: a spectrogram with no more bins than the band
design's last bin gives zeros; a design LiteRT rejects (sample rate <= 0,
upper limit <= lower, fewer than 2 bins, ...) fails the invoke, as there.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ._options import as_int, expect_io, flexbuffer_map
from .._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What this custom op's prepare computes for eval."""

    upper: float = None
    lower: float = None
    bands: int = None
    coefficients: int = None
    dct: np.ndarray = None          # float64 [coefficients, bands]: sqrt(2/bands) cos(i pi/bands (j + 0.5))
    design: tuple = None            # the band design at prepare (constant sample rate), else None


def prepare(node):
    d = node.draft(OpData)
    opts = flexbuffer_map(node)
    expect_io(node, "2 inputs (spectrogram, sample rate)")
    spec, rate = node.inputs
    out = node.outputs[0]
    node.expect_dtype(spec, np.float32)
    node.expect_dtype(out, np.float32)
    node.expect_dtype(rate, np.int32)
    if len(spec.shape) != 3:
        node.fail(f"expects a spectrogram of shape [channels, frames, bins], got shape {list(spec.shape)}")
    if int(np.prod(rate.shape, dtype=np.int64)) != 1:
        node.fail(f"expects the sample rate as one int32 value, got shape {list(rate.shape)}")
    d.upper = float(as_int(node, opts, "upper_frequency_limit"))
    d.lower = float(as_int(node, opts, "lower_frequency_limit"))
    d.bands = as_int(node, opts, "filterbank_channel_count")
    d.coefficients = as_int(node, opts, "dct_coefficient_count")
    if d.coefficients < 0:
        node.fail(f"dct_coefficient_count must not be negative, got {d.coefficients}")
    if d.coefficients and not 1 <= d.coefficients <= d.bands:
        # LiteRT's DCT refuses these designs, and its invoke then fails.
        node.fail(f"dct_coefficient_count ({d.coefficients}) must be between 1 and "
                  f"filterbank_channel_count ({d.bands})")
    bins = spec.shape[2]
    # The band design holds a few doubles per band and per bin, the DCT coefficients x bands.
    if d.bands > max(1 << 16, 4 * bins) or d.coefficients * d.bands > 1 << 24:
        node.fail(f"filterbank_channel_count {d.bands} and dct_coefficient_count {d.coefficients} are "
                  f"implausibly large for a spectrogram of {bins} bins")
    d.dct = _dct(d.bands, d.coefficients) if d.coefficients else np.zeros((0, max(d.bands, 0)))
    if rate.data is not None and d.coefficients:
        d.design = _design(bins, int(np.asarray(rate.data).reshape(-1)[0]), d.bands, d.lower, d.upper)
    out.shape = (spec.shape[0], spec.shape[1], d.coefficients)
    return eval_mfcc


@lru_cache(maxsize=64)
def _dct(bands, coefficients):
    fnorm = math.sqrt(2.0 / bands)
    arg = (math.atan(1.0) * 4.0) / bands
    table = np.array([[fnorm * math.cos(i * arg * (j + 0.5)) for j in range(bands)] for i in range(coefficients)])
    table.setflags(write=False)      # shared by every node of this design (the cache)
    return table


def _mel(freq):
    return 1127.0 * math.log1p(freq / 700.0)


@lru_cache(maxsize=64)
def _design(bins, rate, bands, lower, upper):
    """(start, end, left, right), the triangular bands as LiteRT's MfccMelFilterbank designs
    them, as index arrays for summing in its order: left[c] / right[c] are the bins (padded
    with -1) whose (sqrt - weighted) / weighted terms band c adds up; or a string saying why
    LiteRT refuses the design."""
    if bands < 1:
        return f"filterbank_channel_count is {bands}, expected at least 1"
    if rate <= 0:
        return f"the sample rate is {rate}, expected a positive number of samples per second"
    if bins < 2:
        return f"the spectrogram has {bins} bins, expected at least 2"
    if lower < 0:
        return f"lower_frequency_limit is {lower:g}, expected at least 0"
    if upper <= lower:
        return f"upper_frequency_limit ({upper:g}) must be above lower_frequency_limit ({lower:g})"
    mel_low = _mel(lower)
    spacing = (_mel(upper) - mel_low) / float(bands + 1)
    centers = [mel_low + (spacing * (i + 1)) for i in range(bands + 1)]
    hz_per_bin = 0.5 * rate / float(bins - 1)
    start = int(1.5 + (lower / hz_per_bin))
    end = int(upper / hz_per_bin)
    mapper, weights = [], []
    channel = 0
    for i in range(bins):
        melf = _mel(i * hz_per_bin)
        if i < start or i > end:
            mapper.append(-2)
            weights.append(0.0)
            continue
        while channel < bands and centers[channel] < melf:
            channel += 1
        band = channel - 1
        mapper.append(band)
        if band >= 0:
            weights.append((centers[band + 1] - melf) / (centers[band + 1] - centers[band]))
        else:
            weights.append((centers[0] - melf) / (centers[0] - mel_low))
    # Band c gets (sqrt - weighted) from the bins mapped to c - 1, then weighted from those mapped
    # to c: the mapping rises with the bin, so that is bin order.
    by_band = [[] for _ in range(bands + 1)]          # bins mapped to band b - 1 (b = 0: to -1)
    for i, band in enumerate(mapper):
        if band >= -1:
            by_band[band + 1].append(i)
    left, right = by_band[:bands], by_band[1:]
    width = max([len(a) for a in left + right] + [1])

    def padded(rows):
        m = np.full((bands, width), -1, np.intp)
        for c, row in enumerate(rows):
            m[c, :len(row)] = row
        return m
    arrays = (np.array(weights), padded(left), padded(right))
    for a in arrays:
        a.setflags(write=False)
    return (start, end) + arrays


def eval_mfcc(node, inputs, outputs):
    d = node.data
    spec, out = inputs[0], outputs[0]
    if d.coefficients == 0:
        return
    design = d.design
    if design is None:
        design = _design(spec.shape[2], int(inputs[1].reshape(-1)[0]), d.bands, d.lower, d.upper)
    if isinstance(design, str):
        raise ValueError(f"Mfcc (node {node.index}): LiteRT's band design refuses this op: {design}")
    _, end, weights, left, right = design
    bins = spec.shape[2]
    if bins <= end:
        # LiteRT's filterbank then writes nothing, and its DCT of no values is zeros.
        out.fill(0)
        return
    rows = spec.reshape(-1, bins)
    result = out.reshape(-1, d.coefficients)
    # Rows per chunk: the band terms (bands x 2 x widest band, doubles) stay near 32 MiB at most.
    step = max(1, (1 << 22) // (left.size + right.size))
    for r0 in range(0, len(rows), step):
        result[r0:r0 + step] = _coefficients(rows[r0:r0 + step], weights, left, right, d.dct)


def _coefficients(rows, weights, left, right, dct):
    x = np.sqrt(rows.astype(np.float64))
    weighted = x * weights
    rest = x - weighted
    zero = np.zeros((len(x), 1))
    # Each band's terms side by side, a zero past its last one (adding 0.0 changes no sum), then
    # summed in order: left terms (bins mapped to the band below), right terms.
    terms = np.concatenate([np.concatenate([rest, zero], axis=1)[:, left],
                            np.concatenate([weighted, zero], axis=1)[:, right]], axis=2)
    bands = np.cumsum(terms, axis=2)[:, :, -1]
    logs = np.where(bands < 1e-12, 1e-12, bands)
    logs = np.fromiter(map(math.log, logs.reshape(-1)), np.float64, logs.size).reshape(logs.shape)
    return np.cumsum(logs[:, None, :] * dct[None, :, :], axis=2)[:, :, -1]
