"""Session 48 (e48): training-loop infrastructure as torch 2.13 has it (optimizers,
lr schedulers, data utilities, nn.utils, nn.init, autograd.functional, checkpoint).

Each test compares with hand-computed / NumPy values (CI has no torch) and, where torch is
importable, with torch itself."""
import numpy as np
import pytest

import gpujit


def _torch():
    return pytest.importorskip("torch")


# ---- clip_grad_norm_ / get_total_norm with norm_type=0 ----------------------------------

def _grads(lib, foreach):
    a = lib.nn.Parameter(lib.ones(3, 4))
    b = lib.nn.Parameter(lib.ones(5))
    a.grad = lib.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4))   # 11 nonzeros
    b.grad = lib.tensor(np.array([0.0, 2.0, 0.0, -3.0, 0.5], np.float32))  # 3 nonzeros
    return [a, b]


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_zero_norm_counts_tensors(foreach):
    # torch takes one norm per tensor (torch._foreach_norm), then the norm of the stacked
    # norms: the 0-"norm" of [11, 3] is 2 (tensors holding a nonzero), not 14 or 1
    ps = _grads(gpujit, foreach)
    total = gpujit.nn.utils.clip_grad_norm_(ps, 1.0, norm_type=0, foreach=foreach)
    assert total.dtype == gpujit.float32 and total.item() == 2.0
    coef = np.float32(1.0) / (np.float32(2.0) + np.float32(1e-6))
    np.testing.assert_array_equal(ps[1].grad.numpy(),
                                  np.array([0.0, 2.0, 0.0, -3.0, 0.5], np.float32) * coef)
    assert gpujit.nn.utils.get_total_norm([p.grad for p in ps], 0.0,
                                          foreach=foreach).item() == 2.0


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_zero_norm_vs_torch(foreach):
    torch = _torch()
    out = []
    for lib in (torch, gpujit):
        ps = _grads(lib, foreach)
        total = lib.nn.utils.clip_grad_norm_(ps, 1.0, norm_type=0, foreach=foreach)
        out.append((total.item(), [p.grad.numpy().tolist() for p in ps]))
    assert out[0] == out[1]
