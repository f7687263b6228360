"""Session 26's GPU-tier tests (tests/test_fake_gpu_finds_s26.py) against tests/fakecupy, a
NumPy-backed stand-in for CuPy (see test_fake_gpu.py), on machines without a GPU."""
from __future__ import annotations

from test_fake_gpu import run_fake_tier


def test_session_26_gpu_finds_against_a_numpy_backed_cupy(tmp_path):
    run_fake_tier(tmp_path, ["test_fake_gpu_finds_s26.py"])
