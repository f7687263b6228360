"""Session 52 (lead): bfloat16 softmax's gradient computed in float and rounded once, as
PyTorch's _softmax_backward_data (89 of 256 values of a (16, 16) softmax's gradient over
the last dim differed from torch 2.13's when each step rounded to bfloat16)."""
import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F

_CASES = [((16, 16), -1), ((16, 16), 0), ((3, 5, 7), 1), ((4, 33), -1)]


def _inputs(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32) * 2
    g = rng.standard_normal(shape).astype(np.float32)
    return x, g


def _bf16(a):
    return gpujit.from_numpy(np.ascontiguousarray(a, np.float32)).to(gpujit.bfloat16)


@pytest.mark.parametrize("shape,dim", _CASES)
def test_bfloat16_softmax_backward_rounds_once(shape, dim):
    x, g = _inputs(shape, 0)
    xt = _bf16(x).requires_grad_()
    y = F.softmax(xt, dim=dim)
    gt = _bf16(g)
    (gx,) = gpujit.autograd.grad(y, [xt], gt)
    assert gx.dtype == gpujit.bfloat16
    # the reference: the bfloat16 output and gradient as float32, y * (g - sum(g * y)) in
    # float32, rounded to bfloat16 once
    y32 = y.detach().float().numpy()
    g32 = gt.float().numpy()
    s = np.sum(g32 * y32, axis=dim, keepdims=True, dtype=np.float32)
    want = _bf16(y32 * (g32 - s)).float().numpy()
    got = gx.float().numpy()
    # (a float32 sum in another order can move a value across a bfloat16 rounding boundary:
    # at most one bfloat16 ulp, on at most a few of the values)
    diff = np.abs(got - want)
    ulp = np.abs(want) * 2.0 ** -7 + 1e-30
    assert np.all(diff <= ulp), (diff / ulp).max()
    assert (diff > 0).sum() <= max(2, got.size // 64)


@pytest.mark.parametrize("log", [False, True])
def test_bfloat16_softmax_backward_is_torchs(log):
    torch = pytest.importorskip("torch")
    for shape, dim in _CASES:
        x, g = _inputs(shape, 1)
        fn_t = torch.nn.functional.log_softmax if log else torch.nn.functional.softmax
        fn_g = F.log_softmax if log else F.softmax
        xt = torch.from_numpy(x).to(torch.bfloat16).requires_grad_()
        (want,) = torch.autograd.grad(fn_t(xt, dim=dim), [xt],
                                      torch.from_numpy(g).to(torch.bfloat16))
        xg = _bf16(x).requires_grad_()
        (got,) = gpujit.autograd.grad(fn_g(xg, dim=dim), [xg], _bf16(g))
        np.testing.assert_array_equal(got.float().numpy(), want.float().numpy(),
                                      err_msg=f"{shape} dim={dim}")
