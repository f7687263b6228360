"""Session 48 (b): float8 and quantization, part 2 (ops/float8.py, gpujit/quantized.py),
compared with values written here and, where torch is installed, with torch 2.13."""
import numpy as np
import pytest

import gpujit

try:
    import torch
except ImportError:         # (CI has no torch: the hand-written expectations still run)
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")

F8 = gpujit.float8_e4m3fn


def _bits(t):
    return t.detach().view(gpujit.uint8).tolist()


# ------------------------------------------------------------------ float8 autograd

# (op, torch 2.13's grad_fn name of its result for x.to(float8_e4m3fn) requiring grad)
_GRAD_FNS = [
    ("to8", lambda m, y: y, "ToCopyBackward0"),
    ("back", lambda m, y: y.to(m.float32), "ToCopyBackward0"),
    ("float", lambda m, y: y.float(), "ToCopyBackward0"),
    ("half", lambda m, y: y.half(), "ToCopyBackward0"),
    ("e5m2", lambda m, y: y.to(m.float8_e5m2), "ToCopyBackward0"),
    ("view", lambda m, y: y.view(2, 2), "ViewBackward0"),
    ("reshape", lambda m, y: y.reshape(2, 2), "ViewBackward0"),
    ("t", lambda m, y: y.view(2, 2).t(), "TBackward0"),
    ("mT", lambda m, y: y.view(2, 2).mT, "TransposeBackward0"),
    ("clone", lambda m, y: y.clone(), "CloneBackward0"),
    ("contiguous", lambda m, y: y.view(2, 2).t().contiguous(), "CloneBackward0"),
    ("cat", lambda m, y: m.cat([y, y]), "CatBackward0"),
    ("stack", lambda m, y: m.stack([y, y]), "StackBackward0"),
    ("slice", lambda m, y: y[1:3], "SliceBackward0"),
    ("select", lambda m, y: y[1], "SelectBackward0"),
    ("mul", lambda m, y: y * y, "MulBackward0"),
    ("abs", lambda m, y: y.abs(), "AbsBackward0"),
    ("mm", lambda m, y: y.view(2, 2) @ y.view(2, 2), "MmBackward0"),
    ("expand", lambda m, y: y.expand(2, 4), "ExpandBackward0"),
    ("unsqueeze", lambda m, y: y.unsqueeze(0), "UnsqueezeBackward0"),
    ("permute", lambda m, y: y.view(2, 2).permute(1, 0), "PermuteBackward0"),
    ("where", lambda m, y: m.where(y == y, y, y), "WhereBackward0"),
    ("index_select", lambda m, y: y.index_select(0, m.tensor([0, 2])), "IndexSelectBackward0"),
    ("repeat", lambda m, y: y.repeat(2), "RepeatBackward0"),
    ("split", lambda m, y: y.split(2)[0], "SplitBackward0"),
    ("unbind", lambda m, y: y.unbind()[0], "UnbindBackward0"),
    ("roll", lambda m, y: y.roll(1), "RollBackward0"),
    ("pad", lambda m, y: m.nn.functional.pad(y, (1, 1)), "ConstantPadNdBackward0"),
    ("diag", lambda m, y: y.diag(), "DiagEmbedBackward0"),
    ("fill_", lambda m, y: y.clone().fill_(1.0), "FillBackward2"),
    ("masked_select", lambda m, y: y.masked_select(m.tensor([True, False, True, False])),
     "MaskedSelectBackward0"),
    ("kron", lambda m, y: m.kron(y, y), "UnsafeViewBackward0"),
]


@pytest.mark.parametrize("name,fn,grad_fn", _GRAD_FNS, ids=[g[0] for g in _GRAD_FNS])
def test_float8_ops_record_autograd_nodes(name, fn, grad_fn):
    x = gpujit.tensor([1.0, 2.0, -3.0, 4.0], requires_grad=True)
    r = fn(gpujit, x.to(F8))
    assert r.requires_grad and type(r.grad_fn).__name__ == grad_fn
    if torch is not None:
        tx = torch.tensor([1.0, 2.0, -3.0, 4.0], requires_grad=True)
        tr = fn(torch, tx.to(torch.float8_e4m3fn))
        assert type(tr.grad_fn).__name__ == grad_fn
        assert str(tr.dtype).split(".")[1] == str(r.dtype).split(".")[1]


def test_float8_backward_values_through_views():
    # the gradient goes back rounded to float8 (ToCopyBackward0 of float32 -> float8)
    x = gpujit.tensor([1.0, 2.5, -3.0, 4.0, 0.3, 100.0], requires_grad=True)
    out = x.to(F8).view(2, 3).t().float()
    g = gpujit.tensor([[0.37, 1.37], [2.37, 3.37], [4.37, 5.37]])
    out.backward(g)
    # e4m3fn rounding of g.t(): 0.37 -> 0.375, 1.37 -> 1.375, 2.37 -> 2.25, 3.37 -> 3.25,
    # 4.37 -> 4.5, 5.37 -> 5.5 (3 mantissa bits, ties to even)
    assert x.grad.dtype is gpujit.float32
    assert x.grad.tolist() == [0.375, 2.25, 4.5, 1.375, 3.25, 5.5]


def test_float8_leaf_gradient_is_float8_bits():
    leaf = gpujit.tensor([1.0, 2.0]).to(F8).requires_grad_()
    assert leaf.is_leaf and leaf.requires_grad
    leaf.view(2, 1).t().float().sum().backward()
    # (a non-contiguous gradient copied into .grad: the bits 0x38, 1.0, not the value 56.)
    assert leaf.grad.dtype is F8 and _bits(leaf.grad) == [0x38, 0x38]
    assert leaf.grad.float().tolist() == [1.0, 1.0]
    leaf2 = gpujit.tensor([1.0, 2.0]).to(F8).requires_grad_()
    (g,) = gpujit.autograd.grad(leaf2.float().sum(), leaf2)
    assert g.dtype is F8 and g.float().tolist() == [1.0, 1.0]


@pytest.mark.parametrize("fn,dtype", [
    (lambda m, x: (lambda y: (y * y).view(2, 3).t().float())(x.to(m.float8_e5m2)), "Float8_e5m2"),
    (lambda m, x: (lambda y: m.cat([y, y]).float())(x.to(m.float8_e4m3fn)), "Float8_e4m3fn"),
    (lambda m, x: x.to(m.float8_e4m3fn).expand(2, 6).float(), "sum_cpu"),
])
def test_float8_backward_refusals(fn, dtype):
    # two float8 gradients meet (add_stub), a broadcast is summed (sum_cpu): torch's
    # kernels refuse float8 there
    for m in (gpujit,) + ((torch,) if torch is not None else ()):
        x = m.tensor([1.0, 2.5, -3.0, 4.0, 0.3, 100.0], requires_grad=True)
        out = fn(m, x)
        with pytest.raises(NotImplementedError, match="not implemented for '"):
            out.backward(m.ones(out.shape))
        if dtype.startswith("Float8"):
            with pytest.raises(NotImplementedError, match=f'"add_stub" not implemented for '
                                                          f"'{dtype}'"):
                fn(m, x).backward(m.ones(out.shape))


def test_float8_alias_copies_keep_bits():
    # wrap_any: copies and aliases made from a float8 tensor's array are float8 tensors
    m = gpujit.nn.Module()
    m.b = gpujit.nn.Buffer(gpujit.tensor([1.0, -2.0, 0.5]).to(F8))
    assert type(m.b).__name__ == "Float8Tensor" and m.b.dtype is F8
    assert m.b.float().tolist() == [1.0, -2.0, 0.5]
    p = gpujit.nn.Parameter(gpujit.tensor([1.0, -2.0, 0.5]).to(F8))
    from gpujit.testing import _copy_to
    c = _copy_to(p.detach(), gpujit.device("cpu"))
    assert c.float().tolist() == [1.0, -2.0, 0.5] and _bits(c) == _bits(p)


def test_float8_slice_and_select_backward():
    # (ATen's slice_backward / select_backward: the float8 gradient copied into zeros)
    x = gpujit.tensor([1.0, 2.5, -3.0, 4.0, 0.3, 100.0], requires_grad=True)
    out = x.to(F8).clone()[1:4].float()
    out.backward(gpujit.tensor([0.37, 1.37, 2.37]))
    assert x.grad.tolist() == [0.0, 0.375, 1.375, 2.25, 0.0, 0.0]
    x.grad = None
    x.to(F8)[2].float().backward(gpujit.tensor(0.37))
    assert x.grad.tolist() == [0.0, 0.0, 0.375, 0.0, 0.0, 0.0]
    x.grad = None
    gpujit.stack([x.to(F8)[:3], x.to(F8)[3:]]).float().backward(gpujit.ones(2, 3))
    assert x.grad.tolist() == [1.0] * 6
    x.grad = None
    x.to(F8).narrow(0, 2, 2).float().backward(gpujit.tensor([2.0, 3.0]))
    assert x.grad.tolist() == [0.0, 0.0, 2.0, 3.0, 0.0, 0.0]


def test_float8_index_select_backward_refused_as_torch():
    for m in (gpujit,) + ((torch,) if torch is not None else ()):
        x = m.tensor([1.0, 2.5, -3.0, 4.0], requires_grad=True)
        out = x.to(m.float8_e4m3fn).index_select(0, m.tensor([0, 2])).float()
        with pytest.raises(NotImplementedError,
                           match="\"index_add_\" not implemented for 'Float8_e4m3fn'"):
            out.sum().backward()


def test_float8_index_add_kernel_name_by_rank():
    idx = gpujit.tensor([1, 0])
    with pytest.raises(NotImplementedError, match="\"index_add_\" not implemented"):
        gpujit.zeros(4, dtype=F8).index_add(0, idx, gpujit.ones(2, dtype=F8))
    with pytest.raises(NotImplementedError, match="\"index_add_\" not implemented"):
        gpujit.zeros(4, dtype=F8).index_add_(0, idx, gpujit.ones(2, dtype=F8))
    with pytest.raises(NotImplementedError, match="\"scatter_gather_tensor_cpu\" not implemented"):
        gpujit.zeros(4, 3, dtype=F8).index_add(1, idx, gpujit.ones(4, 2, dtype=F8))
    with pytest.raises(NotImplementedError, match="\"sign_cpu\" not implemented"):
        gpujit.ones(2, dtype=F8).sgn()


def _scatters(m):
    F = m.float8_e4m3fn
    z = m.zeros(4, dtype=F)
    s = m.tensor([1.0, 2.0]).to(F)
    return [
        m.slice_scatter(z, s, 0, 1, 3),
        m.select_scatter(z, s[1], 0, 1),
        m.diagonal_scatter(m.zeros(2, 2, dtype=F), s),
        m.as_strided_scatter(z, s, (2,), (2,)),
        # (src of another dtype: copied into self's, saturating as a conversion)
        m.as_strided_scatter(z, m.tensor([500.0, float("inf")]), (2,), (1,)),
        m.select_scatter(z, m.tensor(3.0), 0, 1),
        m.diagonal_scatter(m.zeros(2, 2, dtype=F), m.ones(2, dtype=m.float16)),
        m.slice_scatter(z, s.to(m.float8_e5m2), 0, 1, 3),
        m.slice_scatter(m.zeros(4), s, 0, 1, 3),        # (float32 self: float32)
    ]


def test_float8_scatter_ops_move_bits():
    got = _scatters(gpujit)
    expected = [[0, 56, 64, 0], [0, 64, 0, 0], [[56, 0], [0, 64]], [56, 0, 64, 0],
                [126, 126, 0, 0], [0, 68, 0, 0], [[56, 0], [0, 56]], [0, 56, 64, 0]]
    for g, e in zip(got, expected):
        assert g.dtype is F8 and _bits(g) == e
    assert got[-1].dtype is gpujit.float32 and got[-1].tolist() == [0.0, 1.0, 2.0, 0.0]
    if torch is not None:
        for g, t in zip(got, _scatters(torch)):
            assert str(g.dtype)[7:] == str(t.dtype)[6:]
            a = g.view(gpujit.uint8) if g.dtype is F8 else g
            b = t.view(torch.uint8) if t.dtype == torch.float8_e4m3fn else t
            assert a.tolist() == b.tolist()
    with pytest.raises(RuntimeError, match="expected src to have a size equal to the slice"):
        gpujit.slice_scatter(gpujit.zeros(4, dtype=F8), gpujit.ones(1, dtype=F8), 0, 1, 3)


def test_float8_in_place_view_ops():
    x = gpujit.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).to(F8)
    bits = _bits(x)
    assert x.t_() is x and x.shape == (3, 2) and x.stride() == (1, 3)
    assert _bits(x) == [list(c) for c in zip(*bits)]
    assert x.transpose_(0, 1) is x and _bits(x) == bits
    assert x.unsqueeze_(0).shape == (1, 2, 3) and x.squeeze_(0).shape == (2, 3)
    assert x.swapaxes_(0, 1).shape == (3, 2) and x.swapdims_(0, 1).shape == (2, 3)
    y = gpujit.tensor([1.0, 2.0, 3.0, 4.0]).to(F8)
    assert y.as_strided_((2,), (2,)) is y and y.float().tolist() == [1.0, 3.0]
    r = gpujit.ones(1, 2, dtype=F8).resize_(2, 1)
    assert r.dtype is F8 and r.shape == (2, 1) and r.float().tolist() == [[1.0], [1.0]]
    r = gpujit.ones(1, 2, dtype=F8).resize_as_(gpujit.ones(2, dtype=F8))
    assert r.dtype is F8 and r.shape == (2,)
