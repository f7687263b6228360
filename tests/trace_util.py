"""Helpers the trace-fidelity test files share (tests/test_trace_s4*.py): torch or a skip,
a trace with TracerWarnings silenced, and a jit.save / jit.load round trip."""
from __future__ import annotations

import io
import warnings

import pytest


def real_torch():
    """PyTorch, or the test is skipped (CI has no torch)."""
    return pytest.importorskip("torch")


def quiet_trace(tr, fn, *args, **kw):
    """tr.jit.trace(fn, ...) (tr: torch or gpujit) with its warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tr.jit.trace(fn, *args, **kw)


def round_trip(tr, traced):
    """traced saved with tr.jit.save and loaded back."""
    b = io.BytesIO()
    tr.jit.save(traced, b)
    b.seek(0)
    return tr.jit.load(b)
