"""The compiled-call fast path's gate (gpujit/jit/objects.py): two plain reads, the
registry's dispatch hook and a process-wide count of open strict_fusion blocks, let a call
skip the thread-local reads. What each thread sees must not change: strict_fusion applies
to its own thread only, and the count is back to 0 however the blocks close."""
import threading

import numpy as np
import pytest

import gpujit
import gpujit as torch
from gpujit.fusers import strict as _strict
from gpujit.jit import StrictFusionError

X = gpujit.tensor([[0.5, -1.0], [2.0, 0.25]])
W = gpujit.tensor([[1.5, 0.5], [-0.5, 1.0]])
WANT = np.asarray(X.numpy()) @ np.asarray(W.numpy()) + 1


def matmul_plus_one(x, w):
    return torch.matmul(x, w) + 1


def test_strict_fusion_count_closes_on_exit_and_on_errors():
    assert _strict._entered[0] == 0
    with gpujit.strict_fusion():
        with gpujit.strict_fusion():
            assert _strict._entered[0] == 2
        assert _strict._entered[0] == 1
    assert _strict._entered[0] == 0
    with pytest.raises(ValueError):
        with gpujit.strict_fusion():
            raise ValueError("out of the block")
    assert _strict._entered[0] == 0 and not _strict.strict_fusion_active()


def test_strict_fusion_in_another_thread_leaves_this_one_alone():
    f = gpujit.jit.script(matmul_plus_one)
    np.testing.assert_allclose(np.asarray(f(X, W).numpy()), WANT, rtol=1e-6)
    with pytest.raises(StrictFusionError, match="aten::matmul"):
        with gpujit.strict_fusion():        # this thread: the unfused matmul raises
            f(X, W)
    inside, done = threading.Event(), threading.Event()

    def hold():
        with gpujit.strict_fusion():
            inside.set()
            done.wait(30)
    t = threading.Thread(target=hold)
    t.start()
    try:
        assert inside.wait(30) and _strict._entered[0] == 1
        for _ in range(3):      # another thread's block: not this thread's
            np.testing.assert_allclose(np.asarray(f(X, W).numpy()), WANT, rtol=1e-6)
        with pytest.raises(StrictFusionError, match="aten::matmul"):
            with gpujit.strict_fusion():
                f(X, W)
    finally:
        done.set()
        t.join(30)
    assert _strict._entered[0] == 0
    np.testing.assert_allclose(np.asarray(f(X, W).numpy()), WANT, rtol=1e-6)


def test_tracing_still_records_a_compiled_call():
    f = gpujit.jit.script(matmul_plus_one)
    f(X, W)

    def outer(x, w):
        return f(x, w) * 2
    traced = gpujit.jit.trace(outer, (X, W))
    assert "aten::matmul" in str(traced.inlined_graph)
    np.testing.assert_allclose(np.asarray(traced(X, W).numpy()), WANT * 2, rtol=1e-6)
