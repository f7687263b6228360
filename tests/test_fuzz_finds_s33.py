"""Programs found in session 33 (helper a33: the program fuzzers with seeds 33001..33006 and
probes of op families the generators do not produce: scatter/gather, index_put_, cumsum/
cumprod, sort/topk, where with numbers, int/bool/float16 promotion, views of views written
in place, retain_grad), minimised; expected values are PyTorch 2.13's (x86-64), written out.

- `a.retain_grad()` in a scripted function: torch.jit.script compiles it to
  `= aten::retain_grad(%a)` (schema `retain_grad(Tensor(a!) self) -> ()`) and a later
  backward keeps a.grad, as eager; gpujit.jit.script refused the program ("gpujit has no
  Tensor method 'retain_grad'"). It is now an autograd call of scripted code
  (frontend/script/autograd_calls.py) the interpreter runs, printed back by .code as
  written and kept through jit.save / jit.load; on a tensor that does not require grad it
  raises PyTorch's RuntimeError "can't retain_grad on Tensor that has requires_grad=False".
- `torch.rot90(x, 1, [0, 1])` of a C-contiguous (3, 4): PyTorch composes it as
  flip(x, [1]).transpose_(0, 1) (k = 3: flip(x, [0]).transpose_, k = 2: flip(x, [0, 1]),
  flip laid out as its input; k = 0 a contiguous clone), so the (4, 3) result has strides
  (1, 4) and a permuted input's layout shows through; gpujit copied every result
  C-contiguous. rot90 now composes gpujit's flip the same way.
- `x.t().index_fill(0, i, 2.0)`: PyTorch's index_fill is
  self.clone(at::MemoryFormat::Preserve).index_fill_(...), so a transposed (4, 3) self
  gives strides (1, 4) (a permuted self its permuted strides); gpujit copied C-contiguous
  (eager and scripted alike).
"""
from __future__ import annotations

import io

import numpy as np
import pytest

import gpujit


def _retain(x, y):
    a = x * y
    a.retain_grad()
    b = a.sin()
    return b * 2, a


def _retain_in_branch(x, flag: bool):
    a = x.exp()
    if flag:
        a.retain_grad()
    return (a * a).sum(), a


def _saved_and_loaded(f):
    buf = io.BytesIO()
    gpujit.jit.save(f, buf)
    buf.seek(0)
    return gpujit.jit.load(buf)


@pytest.mark.parametrize("load", [False, True])
def test_retain_grad_in_a_scripted_function_keeps_the_grad_of_a_non_leaf(load):
    f = gpujit.jit.script(_retain)
    assert "aten::retain_grad" in str(f.graph)
    assert "a.retain_grad()" in f.code
    if load:
        f = _saved_and_loaded(f)
    for _ in range(3):          # (profiling and optimized calls alike)
        x = gpujit.tensor([0.5, 1.0, 2.0], requires_grad=True)
        y = gpujit.tensor([1.0, 2.0, 3.0])
        b, a = f(x, y)
        assert a.retains_grad and not a.is_leaf
        b.sum().backward()
        # PyTorch 2.13: a.grad = 2 * cos(x * y)
        np.testing.assert_allclose(a.grad.numpy(), [1.7551651, -0.8322937, 1.9203405],
                                   rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), [1.7551651, -1.6645874, 5.7610216],
                                   rtol=1e-6)


def test_retain_grad_under_control_flow_and_on_a_leaf():
    f = gpujit.jit.script(_retain_in_branch)
    x = gpujit.tensor([0.0, 1.0], requires_grad=True)
    s, a = f(x, True)
    s.backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 5.4365635], rtol=1e-6)
    s, a = f(x, False)
    s.backward()
    assert a.grad is None and not a.retains_grad


def test_retain_grad_of_a_tensor_without_grad_raises_as_pytorch():
    f = gpujit.jit.script(_retain)
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                                           "requires_grad=False"):
        f(gpujit.tensor([1.0]), gpujit.tensor([2.0]))


_X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


@pytest.mark.parametrize("view, k, dims, strides", [
    # PyTorch 2.13's strides of torch.rot90(view(x), k, dims), x = arange(24).view(2, 3, 4)
    ("c", 1, [0, 1], (4, 12, 1)), ("c", -1, [0, 1], (4, 12, 1)),
    ("c", 3, [2, 0], (1, 4, 12)), ("c", 2, [0, 1], (12, 4, 1)), ("c", 4, [0, 1], (12, 4, 1)),
    ("perm", 1, [0, 1], (12, 1, 4)), ("perm", 2, [0, 1], (1, 12, 4)),
    ("perm", 0, [0, 1], (6, 3, 1)), ("perm", 3, [2, 0], (4, 12, 1)),
    ("slice", 1, [0, 1], (2, 6, 1)), ("slice", 3, [2, 0], (1, 2, 6)),
])
def test_rot90_keeps_pytorchs_layout(view, k, dims, strides):
    x = gpujit.from_numpy(_X.copy())
    t = {"c": x, "perm": x.permute(2, 0, 1), "slice": x[:, :, ::2]}[view]
    r = gpujit.rot90(t, k, dims)
    assert r.stride() == strides
    np.testing.assert_array_equal(r.numpy(), np.rot90(t.numpy(), k, dims))


def _rot(x, k: int):
    y = gpujit.rot90(x * 2, k, [0, 1])
    return y, y + 1


def test_rot90_layout_in_scripted_code_and_its_gradient():
    f = gpujit.jit.script(_rot)
    x = gpujit.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4))
    for k, strides in ((1, (1, 4)), (2, (4, 1)), (3, (1, 4)), (0, (4, 1))):
        for _ in range(3):
            y, z = f(x, k)
            assert y.stride() == strides and z.stride() == strides
            np.testing.assert_array_equal(y.numpy(), np.rot90(x.numpy() * 2, k))
    xr = gpujit.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4)).requires_grad_()
    y = gpujit.rot90(xr, 1, [0, 1])
    (y * gpujit.arange(12.0).view(4, 3)).sum().backward()
    np.testing.assert_array_equal(xr.grad.numpy(), [[9, 6, 3, 0], [10, 7, 4, 1], [11, 8, 5, 2]])


def _fills(x, i):
    return (x[0].t().index_fill(0, i, 2.0), x[0].t().index_fill(1, i, gpujit.tensor(3.0)),
            x.permute(2, 0, 1).index_fill(2, i, -1.0), x[:, :, ::2].index_fill(0, i, 5.0))


def test_index_fill_keeps_selfs_layout_as_pytorch():
    # PyTorch 2.13's strides of the four results
    want = [(1, 4), (1, 4), (1, 12, 4), (6, 2, 1)]
    x = gpujit.from_numpy(_X.copy())
    i = gpujit.tensor([1, 0])
    f = gpujit.jit.script(_fills)
    for g in (_fills, f, f, f):
        r = g(x, i)
        assert [t.stride() for t in r] == want
        a = _X[0].T.copy()
        a[[1, 0], :] = 2.0
        np.testing.assert_array_equal(r[0].numpy(), a)
        b = _X.transpose(2, 0, 1).copy()
        b[:, :, [1, 0]] = -1.0
        np.testing.assert_array_equal(r[2].numpy(), b)
    np.testing.assert_array_equal(_X[0], np.arange(12).reshape(3, 4))     # (not written)
