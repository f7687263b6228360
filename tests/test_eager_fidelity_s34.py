"""Eager op fidelity against torch 2.13 (session 34, helper c34). Each find minimised, with
torch's answer written out (no torch import here).

1. ldexp computed every dtype pair as self * 2 ** other in the promoted dtype. PyTorch 2.13
   has two paths: a floating self with an integer exponent tensor takes its own kernel
   (C's ldexp, exact, the exponent read as a C int: an int64 wraps to int32), and every
   other pair is self * (2.0 ** other) with the power in other's own dtype (the default
   float for an integer other) before the product:
       torch.ldexp(torch.tensor([0., -3.], dtype=torch.float16),
                   torch.tensor([16., -25.], dtype=torch.float16))  -> [nan, -0.]
           (2 ** 16 is inf in float16; gpujit gave [0., -1.19e-07])
       torch.ldexp(torch.tensor([1.]), torch.tensor([16.], dtype=torch.float16)) -> [inf]
           (gpujit: 65536.)
       torch.ldexp(torch.tensor([-3, 0], dtype=torch.int32), torch.tensor([-150, 128]))
           -> [-0., nan]  (an int self takes the power path; gpujit: [-2.8e-45, 0.])
       torch.ldexp(torch.tensor([1.]), torch.tensor([2 ** 40])) -> [1.]  (gpujit: inf)
       torch.ldexp(torch.tensor([1.]), torch.tensor([127.])) -> [2 ** 127]
           (gpujit: NumPy's float32 exp2(127), 1.7014120e+38)
   The fix: OpDef.own_dtype (operands that promote but reach the impl and the fused
   expression in their own dtypes) and OpDef.scalar_for (the fused expression per operand
   dtypes); the scalar language has C's ldexp(x, n).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gpujit as torch
from gpujit import Tensor

nan, inf = math.nan, math.inf


# (`* 1.0`: ldexp's result is floating, and TorchScript's peephole drops `* 1`)
def _ldexp_fused(x: Tensor, e: Tensor):
    return torch.ldexp(x, e) * 1.0


def _ldexp_fused_b(x: Tensor, e: Tensor):
    return torch.ldexp(x, e) * 1.0


def _ldexp_inplace_fused(x: Tensor, e: Tensor):
    y = x * 1
    y.ldexp_(e)
    return y * 1.0


def _ldexp_inplace_fused_b(x: Tensor, e: Tensor):
    y = x * 1
    y.ldexp_(e)
    return y * 1.0


def _same(got, dtype, want):
    assert got.dtype == dtype, (got.dtype, dtype)
    g = got.numpy().astype(np.float64)
    w = np.asarray(want, np.float64)
    np.testing.assert_array_equal(g, w)
    zero = w == 0
    assert (np.signbit(g[zero]) == np.signbit(w[zero])).all(), "the sign of a zero"


T = torch.tensor
_LDEXP_CASES = [
    # (self, other, torch 2.13's dtype, torch 2.13's values)
    (lambda: (T([0., -3., 1.], dtype=torch.float16), T([16., -25., 0.5], dtype=torch.float16)),
     torch.float16, [nan, -0.0, 1.4140625]),
    (lambda: (T([1., 1., 0.]), T([16., 0.5, 16.], dtype=torch.float16)),
     torch.float32, [inf, 1.4140625, nan]),
    (lambda: (T([-3, 0, 5], dtype=torch.int32), T([-150, 128, 2])),
     torch.float32, [-0.0, nan, 20.0]),
    (lambda: (T([1., 0., -3.]), T([2 ** 40, 2 ** 31 - 1, -2 ** 40])),
     torch.float32, [1.0, 0.0, -3.0]),
    (lambda: (T([1., 0., 3.], dtype=torch.float16), T([2 ** 40, 2 ** 31 - 1, -25])),
     torch.float16, [1.0, 0.0, 1.1920928955078125e-07]),
    (lambda: (T([253, 0], dtype=torch.uint8), T([-150, 200], dtype=torch.int16)),
     torch.float32, [0.0, nan]),
    (lambda: (T([1., 3.], dtype=torch.float64), T([128., -150.], dtype=torch.float32)),
     torch.float64, [inf, 0.0]),
    (lambda: (T([0.5, 1.0, 0.3], dtype=torch.float16), T(16., dtype=torch.float64)),
     torch.float16, [32768.0, inf, 19664.0]),
    (lambda: (T([1., 1.5]), T([127., 127.])),
     torch.float32, [1.7014118346046923e+38, 2.5521177519070385e+38]),
    (lambda: (T([True, False]), T([1, 130])), torch.float32, [2.0, nan]),
    # exact: rounded once (-3 * 2 ** -150 is -2 ** -148 in float32; float64 likewise)
    (lambda: (T([-3., 1e-30]), T([-150, 130])),
     torch.float32, [-2.802596928649634e-45, 1361129472.0]),
    (lambda: (T([3.], dtype=torch.float64), T([-1075], dtype=torch.int32)),
     torch.float64, [1e-323]),
]


@pytest.mark.parametrize("case", range(len(_LDEXP_CASES)))
def test_ldexp_takes_torchs_two_paths(case):
    make, dtype, want = _LDEXP_CASES[case]
    x, e = make()
    _same(torch.ldexp(x, e), dtype, want)
    _same(x.ldexp(e), dtype, want)
    # (two functions: a scripted function fuses at most 8 signatures)
    s = torch.jit.script(_ldexp_fused if case < 6 else _ldexp_fused_b)
    for _ in range(3):                     # profiled, then the fused kernel
        _same(s(x, e), dtype, want)
    assert "TensorExprGroup" in str(s.graph_for(x, e))
    if dtype is x.dtype:
        y = x.clone()
        assert y.ldexp_(e) is y
        _same(y, dtype, want)
        si = torch.jit.script(_ldexp_inplace_fused if case < 6 else _ldexp_inplace_fused_b)
        for _ in range(3):
            _same(si(x, e), dtype, want)
    out = torch.empty(0, dtype=dtype)
    _same(torch.ldexp(x, e, out=out), dtype, want)


def test_ldexp_of_an_integer_self_in_place_refuses_as_torch():
    x = T([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        x.ldexp_(T([1, 2]))


def _exp2_two_precisions(x: Tensor, y: Tensor):
    return torch.exp2(x * 1) + torch.exp2(y * 1).float()


def test_exp2_of_float32_and_float64_in_one_fused_kernel():
    """2. (found through 1.) exp2 of a float32 and of a float64 tensor in one fusion group
    did not compile on the CPU (numba's np.exp2 declares an untyped llvm.exp2: "Type of #1
    arg mismatch: float != double"), so the group ran unfused with a FusionWarning; the
    CPU kernels now call LLVM's typed llvm.exp2.f32 / .f64. torch: 2 ** 1.5 + 2 ** 2.5."""
    import warnings
    s = torch.jit.script(_exp2_two_precisions)
    x, y = T([1.5, -1.0]), T([2.5, 0.0], dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            r = s(x, y)
    np.testing.assert_allclose(r.numpy(), [8.485281374238571, 1.5], rtol=1e-6)
    assert "TensorExprGroup" in str(s.graph_for(x, y))


def test_float16_prod_rounds_every_product_as_torch():
    """3. float16 prod accumulated in float32 and rounded once; PyTorch's CPU kernel
    (binary_kernel_reduce_vec) rounds every product to float16:
        torch.tensor([1.527, 3.59, 2.625], dtype=torch.float16).prod() -> 14.3984375
            (gpujit: 14.390625)
        torch.tensor([300., 300., 1/300., 1/300.], dtype=torch.float16).prod() -> inf
            (gpujit: 1.0)"""
    x = T([1.527, 3.59, 2.625], dtype=torch.float16)
    assert x.prod().item() == 14.3984375
    assert x.prod(0).item() == 14.3984375
    assert torch.prod(T([300., 300., 1 / 300., 1 / 300.], dtype=torch.float16)).item() == inf
    # prod(dtype=float16) of float32 input converts first, then rounds as float16
    assert T([300., 300., 1 / 300.]).prod(dtype=torch.float16).item() == inf


def test_float_prod_takes_torchs_vectorized_order():
    """4. prod of 64 or more contiguous floats: PyTorch multiplies 4 vectors of 32 bytes
    (16 float16 / 8 float32 / 4 float64 lanes) lane-wise over the blocks, then
    (v0 * v1) * (v2 * v3), the lanes in order, then the tail; NumPy's order differed:
        torch.tensor(np.linspace(0.9, 1.05, 100), dtype=torch.float16).prod()
            -> 0.07177734375 (gpujit 0.0718994140625)
        torch.tensor(np.linspace(0.5, 1.5, 100), dtype=torch.float32).prod()
            -> 0.009827123954892159 (gpujit 0.00982712209224701)
        torch.tensor(np.linspace(0.5, 1.5, 140).reshape(2, 70), dtype=torch.float32).prod(1)
            -> [3.8632452792342065e-10, 4167835.0]; its transpose made contiguous and
            transposed back (the reduced dim not contiguous) multiplies in order:
            [3.863244724122694e-10, 4167834.5]"""
    h = torch.tensor(np.linspace(0.9, 1.05, 100).astype(np.float16))
    assert h.prod().item() == 0.07177734375
    f = torch.tensor(np.linspace(0.5, 1.5, 100).astype(np.float32))
    assert f.prod().item() == 0.009827123954892159
    assert f.reshape(1, 100).prod(1, keepdim=True).item() == 0.009827123954892159
    d = torch.tensor(np.linspace(0.5, 1.5, 100))
    assert d.prod().item() == 0.009827120113713502
    c = torch.tensor(np.linspace(0.5, 1.5, 140).astype(np.float32).reshape(2, 70))
    assert c.prod(1).tolist() == [3.8632452792342065e-10, 4167835.0]
    ct = c.t().contiguous().t()
    assert ct.prod(1).tolist() == [3.863244724122694e-10, 4167834.5]
    assert c.prod(1, keepdim=True).shape == (2, 1)


def test_float32_cumsum_and_cumprod_accumulate_in_double_as_torch():
    """5. PyTorch's CPU cumsum / cumprod accumulate in at::acc_type<float, false>, double,
    and round each partial result to float32; gpujit accumulated in float32:
        torch.tensor([1e8, 1, -1e8, 1]).cumsum(0) -> [1e8, 1e8, 1., 2.]  (gpujit [.., 0., 1.])
        torch.tensor([3e-20, 3e-20, 1e20, 1e20]).cumprod(0)[3] -> 9.0"""
    x = T([1e8, 1, -1e8, 1])
    assert x.cumsum(0).tolist() == [100000000.0, 100000000.0, 1.0, 2.0]
    assert torch.cumsum(x, 0, dtype=torch.float32).tolist() == [1e8, 1e8, 1.0, 2.0]
    assert T([[1e8, 1], [-1e8, 1]]).cumsum(0).tolist() == [[1e8, 1.0], [0.0, 2.0]]
    y = T([3e-20, 3e-20, 1e20, 1e20]).cumprod(0)
    assert y.dtype == torch.float32
    assert y.tolist() == [2.9999999047965676e-20, 8.999993529957213e-40,
                          8.999999714389703e-20, 9.0]


_TIES = [2., 2., 0., 2., 2., 2., 2., 2., 1., 0., 0., 0., 2., 0., 0., 2., 1.]


def test_unstable_sort_and_topk_order_ties_as_torchs_cpu_kernels():
    """6. sort(stable=False) / argsort / topk were stable; PyTorch's CPU kernels run
    libstdc++'s std::sort (introsort, insertion sort below 17 elements) and topk's
    std::partial_sort (k * 64 <= n) or std::nth_element + std::sort, whose order among
    equal values is their own:
        torch.tensor(_TIES).sort()[1] -> [2, 14, 13, 11, 10, 9, 8, 16, 0, 7, 6, 5, 12, 4, 3,
                                          15, 1]  (gpujit: [2, 9, 10, 11, 13, 14, 8, ...])
        torch.tensor([2., 1., 2., 2., 1.]).topk(3)[1] -> [2, 3, 0]  (gpujit: [0, 2, 3])"""
    a = T(_TIES)
    assert a.sort()[1].tolist() == [2, 14, 13, 11, 10, 9, 8, 16, 0, 7, 6, 5, 12, 4, 3, 15, 1]
    assert a.sort(descending=True)[1].tolist() == [1, 0, 3, 4, 5, 6, 7, 15, 12, 16, 8, 10,
                                                   11, 9, 13, 14, 2]
    assert a.argsort().tolist() == a.sort()[1].tolist()
    assert a.sort(stable=True)[1].tolist() == [2, 9, 10, 11, 13, 14, 8, 16, 0, 1, 3, 4, 5,
                                               6, 7, 12, 15]
    assert a.reshape(1, 17).t().sort(0)[1].reshape(-1).tolist() == a.sort()[1].tolist()
    b = T([2., 1., 2., 2., 1.])
    assert b.topk(3)[1].tolist() == [2, 3, 0]
    assert b.topk(3, largest=False)[1].tolist() == [1, 4, 2]
    assert b.topk(1)[1].tolist() == [2]
    assert b.topk(5)[1].tolist() == [0, 2, 3, 4, 1]
    c = T([float(i % 3) for i in range(200)])     # k * 64 <= n: partial_sort
    assert c.topk(2)[1].tolist() == [5, 2]
    assert c.topk(2, largest=False)[1].tolist() == [3, 0]
    v, i = b.to(torch.float16).topk(3)
    assert v.dtype == torch.float16 and i.tolist() == [2, 3, 0]


def test_signed_zero_and_nan_ties_as_torch():
    """7. Equal values that print differently: max(dim) gave NumPy's max (0.) beside the
    index of -0.; cummax's values were the running maximum, not the element at the index;
    median() and unique() took a stable sort's element:
        z = torch.tensor([-0., -0., -0., 0., -1.])
        z.max(0) -> (-0., 0); z.cummax(0).values -> [-0., -0., -0., 0., 0.]
        torch.tensor([0., -0., 1.]).median() -> -0.
        torch.tensor([nan, 2., 1., 0., 2., nan, 2., 1.] * 3).unique(return_inverse=True)[1]
            -> [4, 2, 1, 0, 2, 7, 2, 1, 6, 2, 1, 0, 2, 3, 2, 1, 5, 2, 1, 0, 2, 8, 2, 1]"""
    z = T([-0., -0., -0., 0., -1.])
    v, i = z.max(0)
    assert i.item() == 0 and np.signbit(v.numpy())
    cv, ci = z.cummax(0)
    assert np.signbit(cv.numpy()).tolist() == [True, True, True, False, False]
    assert ci.tolist() == [0, 1, 2, 3, 3]
    assert np.signbit(T([0., -0., 1.]).median().numpy())
    assert not np.signbit(z.median().numpy())
    u = T([nan, 2., 1., 0., 2., nan, 2., 1.] * 3)
    assert u.unique(return_inverse=True)[1].tolist() == [4, 2, 1, 0, 2, 7, 2, 1, 6, 2, 1, 0,
                                                         2, 3, 2, 1, 5, 2, 1, 0, 2, 8, 2, 1]


def _pow_runtime_exponent(x: Tensor, e: int):
    return (x | 0) ** e


def test_pow_of_a_narrow_int_tensor_checks_its_python_int_exponent():
    """8. uint8 ** -3 wrapped the exponent to 253 before pow's check (gpujit gave
    [0, 1, 0, 19]); PyTorch refuses a negative exponent for an integer self, then converts
    it with c10::checked_convert:
        torch.tensor([0, 1, 2, 3], dtype=torch.uint8) ** -3
            -> RuntimeError: Integers to negative integer powers are not allowed.
        ... ** 256 -> RuntimeError: value cannot be converted to type uint8_t without
            overflow   (gpujit: [0, 1, 0, 1]); ** 255 -> [0, 1, 0, 171]
    Scripted with the exponent known only at run time likewise (the fused kernel wrapped)."""
    x = T([0, 1, 2, 3], dtype=torch.uint8)
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        x ** -3
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        x.pow_(-1)
    with pytest.raises(RuntimeError, match="cannot be converted to type uint8_t without"):
        x ** 256
    with pytest.raises(RuntimeError, match="cannot be converted to type int8_t without"):
        x.to(torch.int8) ** 200
    assert (x ** 255).tolist() == [0, 1, 0, 171]
    assert (x.to(torch.int8) ** 127).tolist() == [0, 1, 0, -85]
    s = torch.jit.script(_pow_runtime_exponent)
    for _ in range(3):
        assert s(x, 2).tolist() == [0, 1, 4, 9]
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        s(x, -1)
    with pytest.raises(RuntimeError, match="cannot be converted to type uint8_t"):
        s(x, 300)


def _isclose_program(x: Tensor, y: Tensor):
    return torch.isclose(x * 1, y * 1)


def test_isclose_refuses_two_dtypes_as_torch():
    """9. isclose promoted its operands; PyTorch's takes one dtype only:
        torch.isclose(torch.ones(2, dtype=torch.int32), torch.ones(2))
            -> RuntimeError: Int did not match Float   (gpujit: tensor([True, True]))
        torch.allclose(...) likewise, with no 'allclose: ' in front (gpujit had one)."""
    i, f = T([1, 2], dtype=torch.int32), T([1., 2.])
    with pytest.raises(RuntimeError, match="^Int did not match Float$"):
        torch.isclose(i, f)
    with pytest.raises(RuntimeError, match="^Bool did not match Byte$"):
        torch.isclose(T([True]), T([1], dtype=torch.uint8))
    with pytest.raises(RuntimeError, match="^Float did not match Double$"):
        torch.isclose(f, T(1., dtype=torch.float64))
    with pytest.raises(RuntimeError, match="^Int did not match Float$"):
        torch.allclose(i, f)
    with pytest.raises(RuntimeError) as e:      # (its note names the scripted line)
        torch.jit.script(_isclose_program)(i, f)
    # (scripted: the last line of torch 2.13's interpreter report)
    assert str(e.value).endswith("\nRuntimeError: Int did not match Float\n"), str(e.value)
    assert torch.isclose(f, f).tolist() == [True, True]


def test_isreal_is_laid_out_as_its_input():
    """10. isreal of a real tensor was C-contiguous; PyTorch's is ones_like(self, kBool):
        torch.ones(3, 2).t().isreal().stride() -> (1, 2)   (gpujit: (3, 1))"""
    r = torch.ones(3, 2).t().isreal()
    assert r.stride() == (1, 2) and r.dtype == torch.bool and r.all()
    assert T([1, 2, 3], dtype=torch.int32)[::2].isreal().tolist() == [True, True]


def test_kthvalue_of_a_zero_dim_bool_runs_no_kernel():
    """11. kthvalue refused every bool tensor first; PyTorch checks k, returns a 0-dim
    input as it is (no kernel runs), and only then refuses bool:
        torch.tensor(True).kthvalue(1) -> (tensor(True), tensor(0))
        torch.tensor([True]).kthvalue(2) -> RuntimeError: kthvalue(): selected number k out
            of range for dimension 0;  torch.tensor([True]).kthvalue(1) -> NotImplementedError"""
    v, i = T(True).kthvalue(1)
    assert v.item() is True and v.dtype == torch.bool and i.item() == 0
    with pytest.raises(RuntimeError, match="selected number k out of range"):
        T([True]).kthvalue(2)
    with pytest.raises(NotImplementedError, match="kthvalue_cpu"):
        T([True]).kthvalue(1)
