"""The comparison coremltools' `compare_backend` makes, applied to our interpreter's outputs.

coremltools (converters/mil/testing_utils.py, `compare_backend`) compares Core ML's prediction with the
expected output by `np.testing.assert_allclose(got, expected, atol, rtol)` after widening the test's
tolerances when the model runs in fp16 or off the CPU: `atol = max(atol * 100, 0.5)`,
`rtol = max(rtol * 100, 0.05)`. A case may allow a ratio of elements out of tolerance
(`allow_mismatch_ratio`, used for compressed weights). Shapes must match, except that an expected
scalar may come back as shape (1,) (Core ML has no rank-0 outputs).
"""

import numpy as np


def tolerances(case):
    """The (atol, rtol) coremltools applies to `case` (a case.json dict)."""
    atol, rtol = case["atol"], case["rtol"]
    if case["precision"] == "fp16" or not case["compute_unit"].endswith("CPU_ONLY"):
        atol = max(atol * 100.0, 5e-1)
        rtol = max(rtol * 100.0, 5e-2)
    return atol, rtol


def compare_output(got, expected, atol, rtol, allow_mismatch_ratio=0.0, compare_shapes=True):
    """None when `got` agrees with `expected`, else a one-line reason."""
    got, expected = np.asarray(got), np.asarray(expected)
    if expected.shape == () and got.shape == (1,):
        got = got.reshape(())
    if got.shape != expected.shape:
        if compare_shapes or got.size != expected.size:
            return f"shape {list(got.shape)}, expected {list(expected.shape)}"
        got = got.reshape(expected.shape)
    if expected.dtype.kind in "OUS" or got.dtype.kind in "OUS":
        return None if np.array_equal(got, expected) else "non-numeric values differ"
    got64, expected64 = got.astype(np.float64), expected.astype(np.float64)
    close = np.isclose(got64, expected64, atol=atol, rtol=rtol, equal_nan=True)
    mismatched = int(close.size - np.count_nonzero(close))
    if mismatched == 0 or mismatched / close.size <= allow_mismatch_ratio:
        return None
    error = np.abs(got64 - expected64)
    error[close] = 0
    worst = np.unravel_index(int(np.nanargmax(np.where(np.isnan(error), np.inf, error))), error.shape)
    return (f"{mismatched}/{close.size} elements off (atol {atol:g}, rtol {rtol:g}); worst at "
            f"{list(map(int, worst))}: got {got64[worst]:.6g}, expected {expected64[worst]:.6g}")
