"""The custom ops LiteRT's builtin resolver bundles besides
TFLite_Detection_PostProcess: AudioSpectrogram and Mfcc (TensorFlow's speech
models), NumericVerify (the converter's numeric-verification mode) and
aeq.hadamard_rotation (the AI Edge Quantizer's rotations), against LiteRT's
kernels in both resolvers where LiteRT has them.  Their outputs are float32
computed as LiteRT's are: compared bit for bit, not within a tolerance."""
import numpy as np
import pytest
from flatbuffers import flexbuffers

from oracle import litert_interpreter, run_litert, run_tinylite
from tinylite.testing import chain_model, single_op_model
import tinylite
from tinylite.errors import TinyliteError

rng = np.random.default_rng(0)
RESOLVERS = ["builtin", "ref"]


def same_bits(content, feeds, resolver):
    want = run_litert(content, feeds, resolver)
    got = run_tinylite(content, feeds, resolver)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_array_equal(g.view(np.uint8), w.view(np.uint8))
    return got


def both_fail(content, feeds, resolver, match):
    """LiteRT fails the invoke (or allocate) of this model, and tinylite fails clearly."""
    with pytest.raises(Exception):
        run_litert(content, feeds, resolver)
    with pytest.raises(Exception, match=match):
        run_tinylite(content, feeds, resolver)


# --- AudioSpectrogram ---

def spectrogram(samples, channels, window_size, stride, magnitude_squared):
    opts = dict(window_size=window_size, stride=stride, magnitude_squared=magnitude_squared)
    return single_op_model("AudioSpectrogram", [("audio", [samples, channels], np.float32)],
                           [("spectrogram", [1], np.float32)], custom_options=flexbuffers.Dumps(opts))


@pytest.mark.parametrize("resolver", RESOLVERS)
@pytest.mark.parametrize("samples, channels, window_size, stride, squared", [
    (16000, 1, 480, 160, False),       # speech commands: 30 ms windows every 10 ms at 16 kHz
    (1000, 2, 100, 50, False),         # two channels, a window that is not a power of two
    (4000, 1, 256, 128, True),         # a power-of-two window, squared magnitudes
    (20, 1, 3, 1, False),              # the smallest FFT above a window of 3
    (299, 1, 300, 300, True),          # shorter than one window: no frames
])
def test_audio_spectrogram(resolver, samples, channels, window_size, stride, squared):
    audio = rng.uniform(-1, 1, (samples, channels)).astype(np.float32)
    got = same_bits(spectrogram(samples, channels, window_size, stride, squared), [audio], resolver)
    frames = 0 if samples < window_size else 1 + (samples - window_size) // stride
    assert got[0].shape == (channels, frames, (1 << (window_size - 1).bit_length()) // 2 + 1)


def test_audio_spectrogram_matches_numpy_definition():
    # Independent of LiteRT: the magnitude of the FFT of Hann-windowed frames.
    audio = rng.uniform(-1, 1, (1000, 1)).astype(np.float32)
    got = run_tinylite(spectrogram(1000, 1, 128, 64, False), [audio])[0]
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(128) / 128)
    frames = np.stack([audio[k * 64:k * 64 + 128, 0] * hann for k in range(got.shape[1])])
    np.testing.assert_allclose(got[0], np.abs(np.fft.rfft(frames, axis=-1)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("window_size, stride, match", [(1, 1, "window_size must be at least 2"),
                                                        (64, 0, "stride must be positive")])
def test_audio_spectrogram_bad_options(window_size, stride, match):
    content = spectrogram(1000, 1, window_size, stride, False)
    with pytest.raises(Exception):
        litert_interpreter(content).allocate_tensors()
    with pytest.raises(TinyliteError, match=match):
        tinylite.Interpreter(model_content=content).allocate_tensors()


# --- Mfcc ---

def mfcc(shape, rate, upper=4000.0, lower=20.0, bands=40, coefficients=13, constant_rate=True):
    opts = dict(upper_frequency_limit=upper, lower_frequency_limit=lower, filterbank_channel_count=bands,
                dct_coefficient_count=coefficients)
    r = dict(name="rate", shape=[], dtype=np.int32)
    if constant_rate:
        r["data"] = np.array(rate, np.int32)
    return single_op_model("Mfcc", [("spectrogram", shape, np.float32), r], [("mfcc", [1], np.float32)],
                           custom_options=flexbuffers.Dumps(opts))


def power(shape):
    return (rng.standard_normal(shape) ** 2 * 100).astype(np.float32)


@pytest.mark.parametrize("resolver", RESOLVERS)
@pytest.mark.parametrize("bins, rate, upper, lower, bands, coefficients", [
    (257, 16000, 4000.0, 20.0, 40, 13),      # the speech commands models' design (float options)
    (65, 16000, 4000, 20, 40, 13),           # integer options; a coarse spectrum (empty bands)
    (257, 16000, 7600, 125, 40, 20),
    (513, 44100, 8000, 20, 64, 30),
    (10, 16000, 4000, 20, 4, 2),             # the spectrum ends before the upper limit: zeros
    (129, 8000, 3999.9, 20.5, 26, 26),       # fractional limits, read as integers as LiteRT does
])
def test_mfcc(resolver, bins, rate, upper, lower, bands, coefficients):
    same_bits(mfcc([2, 7, bins], rate, upper, lower, bands, coefficients), [power((2, 7, bins))], resolver)


def test_mfcc_of_spectrogram_with_rate_as_input():
    content = mfcc([1, 49, 257], 16000, constant_rate=False)
    feeds = [power((1, 49, 257)), np.array(16000, np.int32)]
    for resolver in RESOLVERS:
        same_bits(content, feeds, resolver)
    feeds[1] = np.array(22050, np.int32)
    same_bits(content, feeds, "builtin")


def test_mfcc_zeros_and_tiny_values():
    # The filterbank's floor (1e-12 before the log) and exact zeros.
    x = power((1, 5, 257))
    x[0, 0] = 0
    x[0, 1] = 1e-30
    same_bits(mfcc([1, 5, 257], 16000), [x], "builtin")


def test_mfcc_without_coefficients_is_empty():
    got = same_bits(mfcc([1, 3, 65], 16000, coefficients=0), [power((1, 3, 65))], "builtin")
    assert got[0].shape == (1, 3, 0)


@pytest.mark.parametrize("rate, upper, lower, match", [
    (0, 4000, 20, "sample rate is 0"),
    (16000, 20, 4000, "must be above lower_frequency_limit"),
])
def test_mfcc_design_refused_at_invoke(rate, upper, lower, match):
    content = mfcc([1, 3, 65], rate, upper, lower, constant_rate=False)
    both_fail(content, [power((1, 3, 65)), np.array(rate, np.int32)], "builtin", match)


def test_mfcc_more_coefficients_than_bands():
    content = mfcc([1, 3, 65], 16000, bands=10, coefficients=13)
    with pytest.raises(Exception):
        run_litert(content, [power((1, 3, 65))])
    with pytest.raises(TinyliteError, match="dct_coefficient_count .13. must be between 1 and"):
        tinylite.Interpreter(model_content=content).allocate_tensors()


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_speech_front_end_chain(resolver):
    """AudioSpectrogram then Mfcc in one model, as TensorFlow's speech commands models run them."""
    content = chain_model(("audio", [16000, 1]), [
        ("AudioSpectrogram", [], ("spectrogram", [1, 98, 257]),
         flexbuffers.Dumps(dict(window_size=480, stride=160, magnitude_squared=True))),
        ("Mfcc", [dict(name="rate", data=np.array(16000, np.int32))], ("mfcc", [1, 98, 40]),
         flexbuffers.Dumps(dict(upper_frequency_limit=4000.0, lower_frequency_limit=20.0,
                                filterbank_channel_count=40, dct_coefficient_count=40)))])
    same_bits(content, [rng.uniform(-1, 1, (16000, 1)).astype(np.float32)], resolver)


# --- NumericVerify ---

def numeric_verify(dtype, quantization, n, tolerance, log_if_failed):
    x = dict(name="quantized", shape=[n], dtype=dtype)
    if quantization is not None:
        x["quantization"] = quantization
    return single_op_model("NumericVerify", [x, ("reference", [n], np.float32)], [("difference", [n], np.float32)],
                           custom_options=flexbuffers.Dumps(dict(tolerance=tolerance, log_if_failed=log_if_failed)))


CASES = [(np.int8, (0.1, 3)), (np.uint8, (0.05, 128)), (np.int16, (0.001, 0))]


def quantized_and_reference(dtype, q, n, noise):
    x = rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, n, endpoint=True).astype(dtype)
    ref = ((x.astype(np.float64) - q[1]) * q[0] + rng.uniform(-noise, noise, n) * q[0]).astype(np.float32)
    return x, ref


@pytest.mark.parametrize("resolver", RESOLVERS)
@pytest.mark.parametrize("dtype, q", CASES)
@pytest.mark.parametrize("tolerance, log_if_failed", [(5.0, True), (0.05, True), (1.0, False)])
def test_numeric_verify(resolver, dtype, q, tolerance, log_if_failed):
    # 37 values: blocks of 8 and a tail, where LiteRT's optimized dequantization differs.
    x, ref = quantized_and_reference(dtype, q, 37, 0.4)
    same_bits(numeric_verify(dtype, q, 37, tolerance, log_if_failed), [x, ref], resolver)


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_numeric_verify_float16(resolver):
    x = rng.standard_normal(20).astype(np.float16)
    ref = (x.astype(np.float32) + rng.standard_normal(20).astype(np.float32) * 1e-3)
    same_bits(numeric_verify(np.float16, None, 20, 1.0, False), [x, ref], resolver)


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_numeric_verify_mismatch_fails_the_invoke(resolver):
    x, ref = quantized_and_reference(np.int8, (0.1, 3), 37, 0.4)
    ref[20] += 0.08                      # 0.8 of a step off, the tolerance is half a step
    both_fail(numeric_verify(np.int8, (0.1, 3), 37, 0.5, True), [x, ref], resolver,
              r"Mismatch: .* is quantized to .* > 0.050000 \(tolerance\)")


def test_numeric_verify_logs_statistics(caplog):
    import logging
    x, ref = quantized_and_reference(np.int8, (0.1, 3), 16, 0.4)
    with caplog.at_level(logging.INFO, logger="tinylite"):
        run_tinylite(numeric_verify(np.int8, (0.1, 3), 16, 1.0, False), [x, ref])
    assert "std:" in caplog.text and "max_diff:" in caplog.text


# --- aeq.hadamard_rotation ---

def hadamard(shape, size, dtype=np.float32, out_shape=None):
    opts = dict(hadamard_size=size, random_binary_vector=[1, -1] * max(1, size // 2))
    return single_op_model("aeq.hadamard_rotation", [("x", shape, dtype)], [("y", out_shape or shape, dtype)],
                           custom_options=flexbuffers.Dumps(opts))


@pytest.mark.parametrize("shape, size", [
    ([2, 8], 4), ([2, 256], 256), ([3, 2, 128], 64),      # below, at and above LiteRT's unrolled block of 64
    ([1, 4, 512], 128), ([2, 24], 8),
    ([2, 12], 8),                                            # blocks across rows (LiteRT's flat layout)
    ([2, 16], 6), ([2, 16], 32), ([2, 16], -4), ([2, 16], 1),  # not a power of two; larger; negative; 1
    ([2, 3, 4, 8], 4),                                       # rank 4: LiteRT reads dims 0 and 1
])
def test_hadamard_rotation(shape, size):
    # LiteRT's reference resolver does not have this op.
    same_bits(hadamard(shape, size), [rng.standard_normal(shape).astype(np.float32)], "builtin")


def test_hadamard_rotation_is_orthonormal():
    x = rng.standard_normal((3, 64)).astype(np.float32)
    got = run_tinylite(hadamard([3, 64], 64), [x])[0]
    h = np.array([[1.0]])
    while len(h) < 64:
        h = np.block([[h, h], [h, -h]])
    np.testing.assert_allclose(got, x @ h.T / 8, rtol=1e-5, atol=1e-5)


def test_hadamard_rotation_int32_bytes():
    x = rng.standard_normal((2, 16)).astype(np.float32).view(np.int32)
    same_bits(hadamard([2, 16], 8, np.int32), [x], "builtin")


def test_hadamard_rotation_bad_models():
    with pytest.raises(TinyliteError, match="hadamard_size is 0"):
        tinylite.Interpreter(model_content=hadamard([2, 8], 0)).allocate_tensors()
    with pytest.raises(TinyliteError, match="must be the input's"):
        tinylite.Interpreter(model_content=hadamard([2, 8], 4, out_shape=[2, 4])).allocate_tensors()


def test_every_custom_op_litert_runs_by_default_is_bundled():
    from tinylite.interpreter.custom_ops import LITERT_BUNDLED, LITERT_XNNPACK
    from tinylite.kernels.custom import BUNDLED, kernel_for_custom
    assert set(LITERT_BUNDLED) | set(LITERT_XNNPACK) <= set(BUNDLED)
    for name in BUNDLED:
        assert callable(kernel_for_custom(name).prepare)
