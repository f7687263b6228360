"""OpInfos of gpujit/ops/windows.py (hann/hamming/blackman/bartlett/kaiser_window), against
NumPy's np.hanning / np.hamming / np.blackman / np.bartlett / np.kaiser (periodic: the
symmetric window over N + 1 points without its last)."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample


def _ref(symmetric):
    def ref(n, periodic=True, *extra, dtype=None, **kw):
        if n <= 1:
            return np.ones(n)
        return symmetric(n + 1, *extra)[:-1] if periodic else symmetric(n, *extra)
    return ref


def _hamming(m, alpha=0.54, beta=0.46):
    k = np.arange(m)
    return alpha - beta * np.cos(2 * np.pi * k / (m - 1))


def _samples(*extra):
    return [Sample(5), Sample(6, False, *extra), Sample(7, True, *extra, dtype=G.float64)
            .expect_dtype(G.float64), Sample(1), Sample(0, False)]


OPINFOS = [
    OpInfo("aten::hann_window", ref=_ref(np.hanning), samples=_samples(), errors=[
        ErrorSample(3, dtype=G.int64, match="hann_window expects floating point dtypes"),
        ErrorSample(-1, match="requires non-negative window_length")]),
    OpInfo("aten::hamming_window", ref=_ref(_hamming), samples=_samples(0.5, 0.3)),
    OpInfo("aten::blackman_window", ref=_ref(np.blackman), samples=_samples()),
    OpInfo("aten::bartlett_window", ref=_ref(np.bartlett), samples=_samples()),
    OpInfo("aten::kaiser_window", ref=_ref(lambda m, beta=12.0: np.kaiser(m, beta)), samples=[
        Sample(5), Sample(6, False, 3.0), Sample(7, True, 5.0, dtype=G.float64)
        .expect_dtype(G.float64), Sample(1), Sample(0, False)]),
]
