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


# ------------------------------------------------------------------ torch._scaled_mm

_A = [[1.0, 2.0, 3.0], [-4.0, 0.5, 6.0]]
_B = [[1.0, 0.25], [2.0, -1.0], [0.5, 3.0]]     # (A @ B * 2 * 0.5 = [[6.5, 7.25], [0, 16.5]])


def _mm_cases(m):
    F, E = m.float8_e4m3fn, m.float8_e5m2
    a, b = m.tensor(_A), m.tensor(_B)
    s1, s2 = m.tensor(2.0), m.tensor(0.5)
    sm = m._scaled_mm
    return [
        sm(a.to(F), b.to(F), s1, s2),                             # (mat_a's dtype)
        sm(a.to(F), b.to(F), s1, s2, out_dtype=m.float32),
        sm(a.to(F), b.to(F), s1, s2, out_dtype=m.bfloat16),
        sm(a.to(F), b.to(F), s1, s2, out_dtype=m.float16),
        sm(a.to(F), b.to(F), s1, s2, out_dtype=E),
        sm(a.to(F), b.to(E), s1, s2, out_dtype=m.float64),       # (mixed float8 types)
        sm(a.to(E), b.to(F), s1, s2, out_dtype=m.int32),         # (truncated as .to())
        sm(a.to(F), b.to(F), s1, s2, bias=m.tensor([1.0, 2.0]), out_dtype=m.float32),
        sm(a.to(F), b.to(F), s1, s2, bias=m.tensor([1, 2]), out_dtype=m.float32),
        sm(a.to(F), b.to(F), s1, s2, bias=m.tensor([1.0, 2.0])),
        # (scale_result divides only an explicit float8_e4m3fn / e5m2 out_dtype)
        sm(a.to(F), b.to(F), s1, s2, scale_result=m.tensor(2.0), out_dtype=F),
        sm(a.to(F), b.to(F), s1, s2, scale_result=m.tensor(4.0), out_dtype=E),
        sm(a.to(F), b.to(F), s1, s2, scale_result=m.tensor(2.0)),
        sm(a.to(F), b.to(F), s1, s2, scale_result=m.tensor([[2.0]]), out_dtype=m.bfloat16),
        # (row-wise scales: (M, 1) and (1, N) float32)
        sm(a.to(F), b.to(E), m.tensor([[1.0], [2.0]]), m.tensor([[1.0, 4.0]]),
           out_dtype=m.float32),
        sm(a.to(F), b.to(F), m.tensor([[1.0], [2.0]]), m.tensor([[1.0, 4.0]]),
           scale_result=m.tensor(2.0), out_dtype=F),
        sm(a.to(F), b.to(F), m.ones(2, 1), m.ones(2, 1).t(), out_dtype=m.float32),
        # (e4m3fn saturates at 448, e5m2 overflows to inf)
        sm(a.to(F), b.to(F), m.tensor(100.0), s1),
        sm(a.to(E), b.to(E), m.tensor(1e4), s1),
        sm(a.to(m.float8_e4m3fnuz), b.to(m.float8_e5m2fnuz), s1, s2, out_dtype=m.float32),
        sm(a.abs().to(m.float8_e8m0fnu), b.to(F), s1, s2, out_dtype=m.float32),
        sm(a.to(F), b.to(F), s1, s2, out_dtype=m.float8_e4m3fnuz),
        sm(m.zeros(0, 3).to(F), b.to(F), s1, s2),
        sm(m.zeros(2, 0).to(F), m.zeros(0, 2).to(F), s1, s2, out_dtype=m.float32),
        sm(b.t().to(F), b.to(F), s1, s2, out_dtype=m.float32),      # (a non-contiguous a)
    ]


_MM_EXPECTED = [
    ("float8_e4m3fn", [[6.5, 7.0], [0.0, 16.0]]), ("float32", [[6.5, 7.25], [0.0, 16.5]]),
    ("bfloat16", [[6.5, 7.25], [0.0, 16.5]]), ("float16", [[6.5, 7.25], [0.0, 16.5]]),
    ("float8_e5m2", [[6.0, 7.0], [0.0, 16.0]]), ("float64", [[6.5, 7.25], [0.0, 16.5]]),
    ("int32", [[6, 7], [0, 16]]), ("float32", [[7.5, 9.25], [1.0, 18.5]]),
    ("float32", [[7.5, 9.25], [1.0, 18.5]]), ("float8_e4m3fn", [[7.5, 9.0], [1.0, 18.0]]),
    ("float8_e4m3fn", [[3.25, 3.5], [0.0, 8.0]]), ("float8_e5m2", [[1.5, 1.75], [0.0, 4.0]]),
    ("float8_e4m3fn", [[6.5, 7.0], [0.0, 16.0]]), ("bfloat16", [[6.5, 7.25], [0.0, 16.5]]),
    ("float32", [[6.5, 29.0], [0.0, 132.0]]), ("float8_e4m3fn", [[3.25, 14.0], [0.0, 64.0]]),
    ("float32", [[6.5, 7.25], [0.0, 16.5]]),
    ("float8_e4m3fn", [[448.0, 448.0], [0.0, 448.0]]),
    ("float8_e5m2", [[float("inf")] * 2, [0.0, float("inf")]]),
    ("float32", [[6.5, 7.25], [0.0, 16.5]]), ("float32", [[7.0, 10.25], [9.0, 24.5]]),
    ("float8_e4m3fnuz", [[6.5, 7.0], [0.0, 16.0]]), ("float8_e4m3fn", []),
    ("float32", [[0.0, 0.0], [0.0, 0.0]]), ("float32", [[5.25, -0.25], [-0.25, 10.0625]]),
]


def test_scaled_mm_values():
    got = _mm_cases(gpujit)
    assert len(got) == len(_MM_EXPECTED)
    for r, (dt, v) in zip(got, _MM_EXPECTED):
        assert str(r.dtype) == "gpujit." + dt
        assert (r.tolist() if dt == "int32" else r.float().tolist()) == v
        assert r.grad_fn is None


@needs_torch
def test_scaled_mm_matches_torch_emulated_kernel():
    # (torch's CPU kernel hands same-dtype calls to oneDNN on AMX CPUs: with mkldnn off it
    # runs the emulated kernel everywhere)
    with torch.backends.mkldnn.flags(enabled=False):
        want = _mm_cases(torch)
    for g, t in zip(_mm_cases(gpujit), want):
        assert str(g.dtype)[7:] == str(t.dtype)[6:]
        if t.element_size() == 1 and t.dtype.is_floating_point:
            assert g.view(gpujit.uint8).tolist() == t.view(torch.uint8).tolist()
        else:
            assert g.tolist() == t.tolist()


def _mm_errors(m):
    F, E = m.float8_e4m3fn, m.float8_e5m2
    a, b = m.tensor(_A), m.tensor(_B)
    s1, s2 = m.tensor(2.0), m.tensor(0.5)
    sm = m._scaled_mm
    return [
        (ValueError, lambda: sm(a, b.to(F), s1, s2)),
        (ValueError, lambda: sm(a.to(F), b.to(F), m.tensor([2.0, 2.0]), s2)),
        (ValueError, lambda: sm(a.to(F), b.to(E), m.tensor(2), s2, out_dtype=m.float32)),
        (ValueError, lambda: sm(a.to(F), b.to(F), m.ones(2, 1), s2)),
        (ValueError, lambda: sm(a.to(F), b.to(F), m.ones(2, 1, dtype=m.float64), m.ones(1, 2))),
        (ValueError, lambda: sm(a.to(F), b.to(F), m.ones(1, 1).expand(2, 1), m.ones(1, 2))),
        (ValueError, lambda: sm(a.to(F), b.to(F), m.ones(1, 2).t(), m.ones(1, 2))),
        (ValueError, lambda: sm(a.half(), b.half(), s1, s2)),
        (RuntimeError, lambda: sm(a.to(F).unsqueeze(0), b.to(F), s1, s2)),
        (RuntimeError, lambda: sm(a.to(F), b.to(F)[:, 0], s1, s2)),
        (RuntimeError, lambda: sm(a.to(F), a.to(F), s1, s2)),
        (RuntimeError, lambda: sm(a.to(F), b.to(F), s1, s2, bias=m.ones(3))),
        (RuntimeError, lambda: sm(a.to(F), b.to(F), s1, s2, scale_result=m.ones(2))),
        (RuntimeError, lambda: sm(a.to(F), b.to(F), s1, s2, scale_result=m.tensor(2.0).double())),
        (RuntimeError, lambda: sm(a.to(F), b.to(F), s1, s2, bias=m.ones(5),
                                  scale_result=m.ones(2))),
    ]


_MM_ERROR_WORDS = [
    "Invalid scaling configuration.\n- For TensorWise scaling, a and b should be float8, "
    "scales should be float and singletons.\n- For RowWise scaling, a and b should be float8, "
    "scales should be float, scale_a should be (2, 1) and scale_b should be (1, 2), and both "
    "should be contiguous.\nGot mat_a.dtype()=Float, scale_a.dtype()=Float, scale_a.size()=[], "
    "scale_a.stride()=[], mat_b.dtype()=Float8_e4m3fn, scale_b.dtype()=Float, "
    "scale_b.size()=[] and scale_b.stride()=[]",
    "scale_a.size()=[2], scale_a.stride()=[1], mat_b.dtype()=Float8_e4m3fn",
    "scale_a.dtype()=Long",
    "scale_a.size()=[2, 1], scale_a.stride()=[1, 1], mat_b.dtype()=Float8_e4m3fn, "
    "scale_b.dtype()=Float, scale_b.size()=[] and scale_b.stride()=[]",
    "scale_a.dtype()=Double",
    "scale_a.stride()=[0, 1]",
    "expected scale_a.stride(1) to be 1, but got 2",
    "Got mat_a.dtype()=Half",
    "mat1 must be a matrix", "mat2 must be a matrix",
    "mat_a and mat_b shapes cannot be multiplied (2x3 and 2x3)",
    "Bias must be size 2 but got 3",
    "scale_result must be a float scalar", "scale_result must be a float scalar",
    "scale_result must be a float scalar",
]


def test_scaled_mm_errors():
    for m in (gpujit,) + ((torch,) if torch is not None else ()):
        cases = _mm_errors(m)
        assert len(cases) == len(_MM_ERROR_WORDS)
        for (cls, fn), words in zip(cases, _MM_ERROR_WORDS):
            if m is torch:
                with torch.backends.mkldnn.flags(enabled=False):
                    with pytest.raises(cls) as e:
                        fn()
            else:
                with pytest.raises(cls) as e:
                    fn()
            assert words in str(e.value), (m.__name__, words)


def test_scaled_mm_autograd_and_script():
    F = gpujit.float8_e4m3fn
    a = gpujit.tensor(_A).to(F).requires_grad_()
    r = gpujit._scaled_mm(a, gpujit.tensor(_B).to(gpujit.float8_e5m2), gpujit.tensor(2.0),
                          gpujit.tensor(0.5), out_dtype=gpujit.float32)
    assert type(r.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::_scaled_mm is not implemented"):
        r.sum().backward()

    def f(x, y, sx, sy):
        return gpujit._scaled_mm(x, y, sx, sy, out_dtype=gpujit.float32)
    s = gpujit.jit.script(f)
    assert "aten::_scaled_mm" in str(s.graph)
    got = s(a.detach(), gpujit.tensor(_B).to(F), gpujit.tensor(2.0), gpujit.tensor(0.5))
    assert got.tolist() == [[6.5, 7.25], [0.0, 16.5]]


# ------------------------------------------------------------------ quantized tensors saved

def _qtensors(m):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # (torch's deprecation of quantized tensors)
        x = m.tensor([-1.0, 0.0, 0.5, 2.0, 3.3])
        w = m.tensor([[-1.0, 0.5], [2.0, 3.3]])
        return {"q": m.quantize_per_tensor(x, 0.1, 3, m.quint8),
                "q8": m.quantize_per_tensor(x, 0.1, -3, m.qint8),
                "q32": m.quantize_per_tensor(x, 0.1, 3, m.qint32),
                "view": m.quantize_per_tensor(x, 0.1, 3, m.quint8)[1:4],
                "qc": m.quantize_per_channel(w, m.tensor([0.1, 0.2]), m.tensor([1, 2]), 0,
                                             m.qint8),
                "qc1": m.quantize_per_channel(w, m.tensor([0.1, 0.2]), m.tensor([1, 2]), 1,
                                              m.quint8),
                # (floating zero points: per_channel_affine_float_qparams, float32 qparams,
                # lrintf(x * inv_scale + zero_point))
                "qf": m.quantize_per_channel(w, m.tensor([0.1, 0.2]), m.tensor([0.5, 1.5]), 0,
                                             m.quint8),
                "qf8": m.quantize_per_channel(
                    m.tensor([[-1.0, 1e10], [float("nan"), float("inf")]]),
                    m.tensor([0.1, 0.0]), m.tensor([0.5, 1.5], dtype=m.float64), 0, m.qint8),
                # (lrintf's long kept in an int: past int32 it wraps, 2**32 + 200 is 0)
                "qfw": m.quantize_per_channel(m.tensor([[3e9, 5e9, -3e9, 2.0 ** 32 + 200]]),
                                              m.tensor([1.0]), m.tensor([0.0]), 0, m.qint8)}


_QBITS = {"q": [0, 3, 8, 23, 36], "q8": [-13, -3, 2, 17, 30], "q32": [-7, 3, 8, 23, 36],
          "view": [3, 8, 23], "qc": [[-9, 6], [12, 18]], "qc1": [[0, 4], [21, 18]],
          "qf": [[0, 6], [12, 18]], "qf8": [[-10, 127], [0, 0]], "qfw": [[-128, 127, 127, 0]]}


def _qfacts(t):
    f = [str(t.dtype).split(".")[1], str(t.qscheme()).split(".")[1], t.int_repr().tolist()]
    if str(t.qscheme()).endswith("per_tensor_affine"):
        return f + [t.q_scale(), t.q_zero_point()]
    return f + [t.q_per_channel_scales().tolist(), t.q_per_channel_zero_points().tolist(),
                t.q_per_channel_axis()]


def _roundtrip(save, load, obj):
    import io
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf)


def test_quantized_pickle_deepcopy_and_save():
    import copy
    import pickle
    qs = _qtensors(gpujit)
    for k, t in qs.items():
        assert t.int_repr().tolist() == _QBITS[k]
        for r in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t),
                  _roundtrip(gpujit.save, gpujit.load, t)):
            assert r.is_quantized and _qfacts(r) == _qfacts(t)
            assert r.int_repr().tolist() == _QBITS[k]
    back = _roundtrip(gpujit.save, gpujit.load, qs)
    assert {k: _qfacts(v) for k, v in back.items()} == {k: _qfacts(v) for k, v in qs.items()}
    qf = qs["qf"]
    assert qf.qscheme() is gpujit.per_channel_affine_float_qparams
    assert qf.q_per_channel_scales().dtype is gpujit.float32
    assert qf.q_per_channel_zero_points().tolist() == [0.5, 1.5]
    q = np.float32([[0, 6], [12, 18]])
    assert qf.dequantize().tolist() == ((q - np.float32([[0.5], [1.5]])) *
                                        np.float32([[0.1], [0.2]])).tolist()
    c = qs["qc"].clone()
    assert c.qscheme() is gpujit.per_channel_affine and c.int_repr().tolist() == _QBITS["qc"]


@needs_torch
def test_quantized_save_load_with_torch_both_ways():
    g, t = _qtensors(gpujit), _qtensors(torch)
    assert {k: _qfacts(v) for k, v in g.items()} == {k: _qfacts(v) for k, v in t.items()}
    from_torch = _roundtrip(torch.save, gpujit.load, t)
    to_torch = _roundtrip(gpujit.save, torch.load, g)
    for k in g:
        assert _qfacts(from_torch[k]) == _qfacts(t[k])
        assert _qfacts(to_torch[k]) == _qfacts(g[k])
        assert to_torch[k].stride() == t[k].stride()


# ------------------------------------------------------------------ float8 data, refusals

def _tensor_from_float8(m):
    F = m.float8_e4m3fn
    x = m.tensor([1.0, 2.0, -0.5]).to(F)
    return [m.tensor([x[0], x[2:]]), m.tensor(((x[1],),)), m.tensor(x.detach()),
            m.tensor(x.detach(), dtype=m.float32), m.tensor(x.detach(), dtype=m.float8_e5m2),
            m.tensor([2.0, x[0]], dtype=m.float16), m.as_tensor(x),
            m.eye(2, 3, dtype=m.float8_e5m2), m.eye(2, dtype=m.float8_e8m0fnu),
            m.ones(3, 1, dtype=F).flip(1), m.ones(0, dtype=F).flip(0), m.ones(3, 1, dtype=F).fliplr()]


def test_float8_tensor_from_float8_data():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # (torch's copy-construct warning)
        got = _tensor_from_float8(gpujit)
        want = _tensor_from_float8(torch) if torch is not None else None
    # (the values, not the bits read as integers: torch.tensor(x) gave 56., 64., 176.)
    expected = [("float8_e4m3fn", [1.0, -0.5]), ("float8_e4m3fn", [[2.0]]),
                ("float8_e4m3fn", [1.0, 2.0, -0.5]), ("float32", [1.0, 2.0, -0.5]),
                ("float8_e5m2", [1.0, 2.0, -0.5]), ("float16", [2.0, 1.0]),
                ("float8_e4m3fn", [1.0, 2.0, -0.5]),
                ("float8_e5m2", [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
                ("float8_e8m0fnu", [[1.0, 2.0 ** -127], [2.0 ** -127, 1.0]]),
                ("float8_e4m3fn", [[1.0]] * 3), ("float8_e4m3fn", []),
                ("float8_e4m3fn", [[1.0]] * 3)]
    for i, (g, (dt, v)) in enumerate(zip(got, expected)):
        assert str(g.dtype) == "gpujit." + dt and g.float().tolist() == v
        if want is not None:
            assert str(want[i].dtype) == "torch." + dt and want[i].float().tolist() == v


@pytest.mark.parametrize("fn,exc,words", [
    (lambda m, x: m.tensor([x[0], 2]), RuntimeError,
     "attempted to promote Float8_e4m3fn and Long"),
    (lambda m, x: m.tensor([x[0], True]), RuntimeError,
     "attempted to promote Float8_e4m3fn and Bool"),
    (lambda m, x: m.tensor([2.0, x[0]]), RuntimeError,
     "attempted to promote Float and Float8_e4m3fn"),
    (lambda m, x: m.tensor([x[0], x[0].to(m.float8_e5m2)]), RuntimeError,
     "attempted to promote Float8_e4m3fn and Float8_e5m2"),
    (lambda m, x: m.tensor([x, x]), ValueError,
     "only one element tensors can be converted to Python scalars"),
    (lambda m, x: x.lerp(x, 0.5), NotImplementedError, '"lerp_kernel_scalar" not implemented'),
    (lambda m, x: x.lerp(x, x), NotImplementedError, '"lerp_kernel_tensor" not implemented'),
    (lambda m, x: m.rand_like(x), NotImplementedError, '"check_uniform_bounds" not implemented'),
    (lambda m, x: m.randn_like(x), NotImplementedError, '"normal_kernel_cpu" not implemented'),
    (lambda m, x: m.view_as_real(x), RuntimeError,
     "view_as_real is only supported for complex tensors"),
    (lambda m, x: x.flip(0), NotImplementedError, '"flip_cpu" not implemented'),
    (lambda m, x: m.ones(1, 3, dtype=m.float8_e4m3fn).flip(0, 1), NotImplementedError,
     '"flip_cpu" not implemented'),
    (lambda m, x: m.ones(2, 3, dtype=m.float8_e4m3fn).fliplr(), NotImplementedError,
     '"flip_cpu" not implemented'),
    (lambda m, x: m.ones(2, 2, dtype=m.float8_e4m3fn).rot90(), NotImplementedError,
     '"flip_cpu" not implemented'),
])
def test_float8_refusals_as_torch(fn, exc, words):
    for m in (gpujit,) + ((torch,) if torch is not None else ()):
        x = m.tensor([1.0, 2.0, -0.5]).to(m.float8_e4m3fn)
        with pytest.raises(exc, match=words.replace("(", r"\(").replace(")", r"\)")):
            fn(m, x)


# ------------------------------------------------------------------ float8 DLPack

def _dl_code(capsule):
    from gpujit.ops.dlpack import _dtype_code_address
    import ctypes
    return ctypes.c_uint8.from_address(_dtype_code_address(capsule)).value


@pytest.mark.parametrize("name,code", [("float8_e4m3fn", 10), ("float8_e4m3fnuz", 11),
                                       ("float8_e5m2", 12), ("float8_e5m2fnuz", 13),
                                       ("float8_e8m0fnu", 14)])
def test_float8_dlpack_codes_and_round_trip(name, code):
    d = getattr(gpujit, name)
    x = gpujit.tensor([1.0, 2.0, 0.5]).to(d)
    # (DLPack's float8 type codes, as torch 2.13 exports them; NumPy refuses them rather
    # than reading the bits as integers)
    assert _dl_code(x.__dlpack__()) == code
    assert _dl_code(x.__dlpack__(max_version=(1, 0))) == code
    assert _dl_code(gpujit.utils.dlpack.to_dlpack(x)) == code
    with pytest.raises(RuntimeError, match="Unsupported dtype in DLTensor"):
        np.from_dlpack(x)
    y = gpujit.from_dlpack(gpujit.utils.dlpack.to_dlpack(x))
    assert y.dtype is d and y.float().tolist() == [1.0, 2.0, 0.5]
    assert y.data_ptr() == x.data_ptr()
    if torch is not None:
        t = torch.from_dlpack(x)
        assert t.dtype == getattr(torch, name) and t.view(torch.uint8).tolist() == _bits(x)
        assert _dl_code(t.__dlpack__()) == code
        g = gpujit.from_dlpack(t)
        assert g.dtype is d and _bits(g) == t.view(torch.uint8).tolist()
        g.view(gpujit.uint8)[0] = 0         # (shared memory, both ways)
        assert t.view(torch.uint8).tolist()[0] == 0 and _bits(x)[0] == 0


def test_masked_select_backward_is_masked_scatter():
    # (ATen's masked_select_backward: zeros, masked_scatter_ of the gradient; its double
    # backward node MaskedScatterBackward0, and float8 gradients refused by masked_scatter)
    x = gpujit.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True)
    y = x.masked_select(gpujit.tensor([True, False, True]))
    g = gpujit.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    (gx,) = gpujit.autograd.grad(y, x, g, create_graph=True)
    assert gx.tolist() == [[1.0, 0.0, 2.0], [3.0, 0.0, 4.0]]
    assert type(gx.grad_fn).__name__ == "MaskedScatterBackward0"
    assert gpujit.autograd.grad(gx.sum(), g)[0].tolist() == [1.0] * 4
    for m in (gpujit,) + ((torch,) if torch is not None else ()):
        x = m.tensor([1.0, 2.5, -3.0, 4.0], requires_grad=True)
        out = x.to(m.float8_e4m3fn).masked_select(x > 1).float()
        with pytest.raises(NotImplementedError, match='"masked_scatter" not implemented'):
            out.backward(m.ones(out.shape))


def test_quantized_tensor_cannot_require_grad():
    for m in (gpujit,) + ((torch,) if torch is not None else ()):
        q = _qtensors(m)["q"]
        with pytest.raises(RuntimeError, match="^only Tensors of floating point dtype can "
                                               "require gradients$"):
            q.requires_grad_()
        with pytest.raises(RuntimeError, match="^only Tensors of floating point and complex "
                                               "dtype can require gradients$"):
            q.requires_grad = True
        assert q.requires_grad_(False) is q and not q.requires_grad


_X8 = [[1.0, -2.0, 0.5], [3.0, 0.0, -0.25]]

# (call, the kernel torch 2.13's CPU refusal names: '"<kernel>" not implemented for ...')
_F8_KERNELS = [
    (lambda m, x: x.exp(), "exp_vml_cpu"), (lambda m, x: x.tan(), "tan_vml_cpu"),
    (lambda m, x: x.log1p(), "log1p_vml_cpu"), (lambda m, x: x.erfinv(), "erfinv_vml_cpu"),
    (lambda m, x: x.ceil(), "ceil_vml_cpu"), (lambda m, x: x.exp2(), "exp2"),
    (lambda m, x: x.sigmoid(), "sigmoid_cpu_reduced_float"), (lambda m, x: x.square(), "pow"),
    (lambda m, x: x.pow(x), "pow"), (lambda m, x: x.amax(), "max_values_cpu"),
    (lambda m, x: x.logsumexp(0), "max_values_cpu"), (lambda m, x: x.cumprod(0), "cumprod_out_cpu"),
    (lambda m, x: x.softmax(1), "softmax_lastdim_kernel_impl"),
    (lambda m, x: x.softmax(-1), "softmax_lastdim_kernel_impl"),
    (lambda m, x: x.softmax(0), "softmax_kernel_impl"),
    (lambda m, x: x.log_softmax(1), "log_softmax_lastdim_kernel_impl"),
    (lambda m, x: x.log_softmax(0), "log_softmax_kernel_impl"),
    (lambda m, x: x.max(0), "max_cpu"), (lambda m, x: x.min(0), "min_cpu"),
    (lambda m, x: x.max(), "max_all"), (lambda m, x: x.max(x), "maximum_cpu"),
    (lambda m, x: x.std(0), "std_cpu"), (lambda m, x: x.var(1), "std_cpu"),
    (lambda m, x: x.clamp_min(0.0), "clamp_min_scalar_cpu"),
    (lambda m, x: x.clamp_min(x), "maximum_cpu"), (lambda m, x: x.clamp(x, x), "clamp_cpu"),
    (lambda m, x: x / 2, "div_cpu_reduced_float"), (lambda m, x: x / x, "div_cpu"),
    (lambda m, x: x.clone().div_(2), "div_cpu_reduced_float"),
    (lambda m, x: m.div(x, 2, rounding_mode="floor"), "div_floor_cpu_reduced_float"),
    (lambda m, x: m.div(x, x, rounding_mode="trunc"), "div_trunc_cpu"),
    (lambda m, x: x // x, "div_floor_cpu"), (lambda m, x: x.mv(x[0]), "addmv_impl_cpu"),
    (lambda m, x: x.cross(x, dim=1), "cross"), (lambda m, x: x.scatter(0, m.tensor([[0]]), 1.0),
                                                "scatter_gather_scalar_cpu"),
    (lambda m, x: m.bucketize(x, x[0]), "searchsorted_out_cpu"), (lambda m, x: x.histc(),
                                                                   "aminmax_cpu"),
    (lambda m, x: x.diff(), "add_stub"), (lambda m, x: m.nn.functional.gelu(x), "GeluKernelImpl"),
    (lambda m, x: m.nn.functional.selu(x), "elu_cpu"),
    (lambda m, x: m.nn.functional.layer_norm(x, (3,)), "LayerNormKernelImpl"),
    (lambda m, x: m.nn.functional.pad(x, (1, 1), mode="reflect"), "reflection_pad1d"),
    (lambda m, x: m.nn.functional.pad(x[None, None], (1, 1, 1, 1), mode="replicate"),
     "replication_pad2d"),
]


@pytest.mark.parametrize("fn,kernel", _F8_KERNELS, ids=[k for _, k in _F8_KERNELS])
def test_float8_refusals_name_torchs_kernels(fn, kernel):
    for m in (gpujit,) + ((torch,) if torch is not None else ()):
        x = m.tensor(_X8).to(m.float8_e4m3fn)
        with pytest.raises(NotImplementedError,
                           match='^"' + kernel + '" not implemented for .Float8_e4m3fn.$'):
            fn(m, x)


def test_float8_more_moves_and_words():
    x = gpujit.tensor(_X8).to(F8)
    for r in (x.H, x.mH, x.adjoint()):
        assert r.dtype is F8 and r.float().tolist() == [list(c) for c in zip(*_X8)]
    assert x.positive().float().tolist() == _X8
    e = gpujit.nn.functional.embedding(gpujit.tensor([1, 0]), x, padding_idx=0)
    assert e.dtype is F8 and e.float().tolist() == [_X8[1], _X8[0]]
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with "
                                           "non-complex dtypes"):
        x.imag


def test_scaled_mm_out_takes_outs_dtype():
    F = gpujit.float8_e4m3fn
    a, b = gpujit.tensor(_A).to(F), gpujit.tensor(_B).to(F)
    s1, s2 = gpujit.tensor(2.0), gpujit.tensor(0.5)
    o = gpujit.empty(2, 2)
    r = gpujit._scaled_mm(a, b, s1, s2, out=o)      # (out_dtype: out's, float32)
    assert r is o and o.tolist() == [[6.5, 7.25], [0.0, 16.5]]
    o8 = gpujit.empty(2, 2, dtype=gpujit.float8_e5m2)
    gpujit._scaled_mm(a, b, s1, s2, out=o8)
    assert o8.float().tolist() == [[6.0, 7.0], [0.0, 16.0]]
    with pytest.raises(ValueError, match="^out_dtype must match output matrix type$"):
        gpujit._scaled_mm(a, b, s1, s2, out_dtype=gpujit.float32,
                          out=gpujit.empty(2, 2, dtype=gpujit.float16))
