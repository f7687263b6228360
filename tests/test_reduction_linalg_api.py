"""Public surfaces of the reduction and linalg families: which overload PyTorch-style calls
reach (x.max(), x.max(1), torch.max(x, y), x.var(0), ...), the varargs Python functions
(einsum, norm) and named-tuple returns. Values are covered by tests/opinfo/."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn.functional as F
from gpujit.ops import registry


def _ops_called(fn):
    calls = []

    def hook(op, args):
        calls.append(op.name)
        return op.eager(*args)

    registry.dispatch_state.hook = hook
    try:
        out = fn()
    finally:
        registry.dispatch_state.refresh()    # the hook it had (autograd's, once active)
    return calls, out


X = torch.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4) - 5)
Y = torch.from_numpy(np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4))
YT = torch.from_numpy(np.ascontiguousarray(Y.numpy().T))


@pytest.mark.parametrize("call, name", [
    (lambda: X.sum(), "aten::sum"),
    (lambda: X.sum(dtype=torch.float64), "aten::sum"),
    (lambda: X.sum(1), "aten::sum.dim_IntList"),
    (lambda: torch.sum(X, dim=(0, 1), keepdim=True), "aten::sum.dim_IntList"),
    (lambda: X.sum(dim=None), "aten::sum.dim_IntList"),
    (lambda: X.mean(), "aten::mean"),
    (lambda: X.mean(-1, True), "aten::mean.dim"),
    (lambda: X.prod(1), "aten::prod.dim_int"),
    (lambda: X.max(), "aten::max"),
    (lambda: X.max(1), "aten::max.dim"),
    (lambda: X.max(dim=1, keepdim=True), "aten::max.dim"),
    (lambda: torch.max(X, Y), "aten::max.other"),
    (lambda: X.max(Y), "aten::max.other"),
    (lambda: torch.min(X, 0), "aten::min.dim"),
    (lambda: X.var(), "aten::var"),
    (lambda: X.var(0), "aten::var.dim"),
    (lambda: X.var(unbiased=False), "aten::var"),
    (lambda: X.var(0, True, True), "aten::var.dim"),
    (lambda: X.std(dim=1, correction=0), "aten::std.correction"),
    (lambda: X.std(correction=0), "aten::std.correction"),
    (lambda: torch.var_mean(X, 1), "aten::var_mean.dim"),
    (lambda: torch.std_mean(X, dim=1, correction=0), "aten::std_mean.correction"),
    (lambda: torch.all(X, 1), "aten::all.dim"),
    (lambda: torch.all(X, (0, 1)), "aten::all.dims"),
    (lambda: X.any(), "aten::any"),
    (lambda: X.argmax(), "aten::argmax"),
    (lambda: X.cumsum(0), "aten::cumsum"),
    (lambda: F.softmax(X, dim=1), "aten::softmax.int"),
    (lambda: X.log_softmax(-1), "aten::log_softmax.int"),
    (lambda: X @ YT, "aten::matmul"),
    (lambda: F.linear(X, Y), "aten::linear"),
    (lambda: torch.einsum("ij,kj", X, Y), "aten::einsum"),
    (lambda: X.norm(), "aten::linalg_vector_norm"),
    (lambda: torch.norm(X, "nuc"), "aten::linalg_matrix_norm.str_ord"),
])
def test_calls_reach_pytorchs_overload(call, name):
    calls, _ = _ops_called(call)
    assert calls == [name]


def test_max_dim_returns_a_named_tuple():
    r = X.max(1)
    assert r.values.tolist() == [-2.0, 2.0, 6.0] and r.indices.tolist() == [3, 3, 3]
    v, i = torch.min(X, dim=0, keepdim=True)
    assert v.shape == (1, 4) and i.dtype is torch.int64
    mm = torch.aminmax(X)
    assert (mm.min.item(), mm.max.item()) == (-5.0, 6.0)


def test_reductions_of_integers_and_bools():
    assert X.long().sum().dtype is torch.int64
    assert X.bool().sum().dtype is torch.int64
    assert X.int().cumsum(0).dtype is torch.int64
    assert X.to(torch.uint8).all().dtype is torch.uint8
    with pytest.raises(RuntimeError, match="could not infer output dtype"):
        X.long().mean()


def test_empty_reductions():
    e = torch.zeros(0, 3)
    assert e.sum().item() == 0 and e.prod().item() == 1
    assert e.sum(0).tolist() == [0.0, 0.0, 0.0]
    assert e.max(1).values.shape == (0,)
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim to be specified "
                       r"for input.numel\(\) == 0"):
        e.max()
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        e.max(0)


def test_nan_propagation():
    x = torch.tensor([1.0, float("nan"), 3.0])
    assert np.isnan(x.max().item()) and np.isnan(x.min().item())
    assert x.argmax().item() == 1 and x.argmin().item() == 1
    assert np.isnan(torch.max(x, torch.zeros(3))[1].item())


def test_einsum_call_forms_agree():
    a, b = torch.ones(2, 3), torch.ones(3, 4)
    r1 = torch.einsum("ij,jk->ik", a, b)
    r2 = torch.einsum("ij,jk->ik", [a, b])
    r3 = torch.einsum(a, [0, 1], b, [1, 2], [0, 2])
    r4 = torch.einsum(a, [..., 1], b, [1, 2])
    for r in (r2, r3, r4):
        assert r.shape == (2, 4) and np.array_equal(r.numpy(), r1.numpy())


def test_norm_forms():
    v = torch.tensor([[3.0, -4.0], [0.0, 0.0]])
    assert v.norm().item() == 5.0
    assert torch.norm(v, 1).item() == 7.0
    assert torch.norm(v, float("inf")).item() == 4.0
    assert torch.norm(v, dim=1).tolist() == [5.0, 0.0]
    assert torch.norm(v, p="fro", dim=(0, 1), keepdim=True).shape == (1, 1)
    assert torch.norm(v, p=2, dim=0, keepdim=True).shape == (1, 2)
    assert abs(torch.norm(v, "nuc").item() - 5.0) < 1e-6
    assert v.double().norm(dtype=torch.float64).dtype is torch.float64


def test_matmul_shapes():
    cases = [((4,), (4,), ()), ((3, 4), (4,), (3,)), ((4,), (4, 5), (5,)),
             ((2, 3, 4), (4,), (2, 3)), ((4,), (2, 4, 5), (2, 5)),
             ((2, 1, 3, 4), (5, 4, 6), (2, 5, 3, 6))]
    for sa, sb, so in cases:
        assert (torch.ones(*sa) @ torch.ones(*sb)).shape == so
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                       r"\(3x4 and 5x6\)"):
        torch.ones(3, 4) @ torch.ones(5, 6)
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but "
                       "got: float != double"):
        torch.mm(torch.ones(2, 2), torch.ones(2, 2, dtype=torch.float64))
    assert (torch.ones(2, 3, dtype=torch.int64) @ torch.ones(3, dtype=torch.int64)).dtype \
        is torch.int64
    assert (torch.ones(2, 3, dtype=torch.float16) @ torch.ones(3, 2, dtype=torch.float16)) \
        .dtype is torch.float16
