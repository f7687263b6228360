"""Session 26 edge hunt (a26): what PyTorch refuses or answers differently at the edges.
Expected values are written out or computed with NumPy; torch only behind importorskip."""
import numpy as np
import pytest

import gpujit
from gpujit.ops import registry as R


def _A():
    return gpujit.tensor([[1., 2, 3], [4, 5, 6.5], [7, 8.5, 9]], dtype=gpujit.float64,
                         requires_grad=True)


# ------------------------------------------------ 1. outputs that carry no gradient

def test_linalg_lu_P_is_not_differentiable():
    A = _A()
    P, L, U = gpujit.linalg.lu(A)
    assert not P.requires_grad and P.grad_fn is None
    assert L.requires_grad and U.requires_grad
    (L.sum() + U.sum()).backward()
    assert np.isfinite(A.grad.numpy()).all()


def test_lu_unpack_P_is_not_differentiable():
    A = _A()
    LU, piv = gpujit.linalg.lu_factor(A)
    P, L, U = gpujit.lu_unpack(LU, piv)
    assert not P.requires_grad and P.grad_fn is None
    assert L.requires_grad and U.requires_grad


def test_lstsq_singular_values_not_differentiable():
    A = _A()
    r = gpujit.linalg.lstsq(A, A.detach()[:, :2] * 1.0, driver="gelsd")
    assert r.solution.requires_grad
    assert not r.singular_values.requires_grad and r.singular_values.grad_fn is None


def test_nondiff_outputs_in_scripted_and_traced_code():
    @gpujit.jit.script
    def f(a):
        P, L, U = gpujit.linalg.lu(a)
        return P, L

    A = _A()
    for _ in range(3):          # (profiling runs, then the optimized graph)
        P, L = f(A)
        assert not P.requires_grad and L.requires_grad

    def g(a):
        P, L, U = gpujit.linalg.lu(a)
        return P * 2, L

    tg = gpujit.jit.trace(g, (A,))
    P, L = tg(A)
    assert not P.requires_grad and L.requires_grad


def test_native_norm_statistics_not_differentiable():
    x = gpujit.randn(2, 3, dtype=gpujit.float64, requires_grad=True)
    out, mean, rstd = gpujit.native_layer_norm(x, [3], None, None, 1e-5)
    assert out.requires_grad and not mean.requires_grad and not rstd.requires_grad
    out, m, s = gpujit.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)
    assert out.requires_grad and not m.requires_grad and not s.requires_grad


def test_nondiff_outputs_declaration():
    assert R.get("aten::linalg_lu").nondiff_outputs == frozenset({0})
    assert R.get("aten::linalg_lstsq").nondiff_outputs == frozenset({3})
    s = R.parse_schema("aten::_a26_probe(Tensor self) -> (Tensor a, Tensor b)")
    with pytest.raises(ValueError, match="no return named 'c'"):
        R._output_positions(s, ("c",))
    assert R._output_positions(s, ("b", 0)) == frozenset({0, 1})


def test_nondiff_outputs_match_torch():
    torch = pytest.importorskip("torch")
    a = [[1., 2, 3], [4, 5, 6.5], [7, 8.5, 9]]
    cases = [(lambda m, A: m.linalg.lu(A)),
             (lambda m, A: m.lu_unpack(*m.linalg.lu_factor(A))),
             (lambda m, A: m.linalg.lstsq(A, A.detach()[:, :2] * 1.0, driver="gelsd")),
             (lambda m, A: m.native_layer_norm(A, [3], None, None, 1e-5)),
             (lambda m, A: m.native_batch_norm(A, None, None, None, None, True, .1, 1e-5))]
    for f in cases:
        want = [t.requires_grad for t in f(torch, torch.tensor(a, dtype=torch.float64,
                                                                requires_grad=True))]
        got = [t.requires_grad for t in f(gpujit, gpujit.tensor(a, dtype=gpujit.float64,
                                                                 requires_grad=True))]
        assert got == want


# ------------------------------------- 2. Python numbers where PyTorch takes only Tensors

_X = gpujit.tensor([1.5, 2.0, 3.0])

_REFUSED = [
    (lambda: gpujit.logaddexp(_X, 2), "logaddexp(): argument 'other' (position 2)"),
    (lambda: gpujit.logaddexp(2.5, _X), "logaddexp(): argument 'input' (position 1)"),
    (lambda: gpujit.logaddexp2(_X, 2.5), "logaddexp2"),
    (lambda: _X.logaddexp(2), "logaddexp"),
    (lambda: gpujit.fmax(_X, 2), "fmax"), (lambda: gpujit.fmin(2, _X), "fmin"),
    (lambda: gpujit.maximum(_X, True), "maximum"), (lambda: gpujit.minimum(_X, 0), "minimum"),
    (lambda: gpujit.heaviside(_X, 2), "heaviside(): argument 'values'"),
    (lambda: gpujit.atan2(_X, 2), "atan2"), (lambda: gpujit.arctan2(_X, 2), "^arctan2"),
    (lambda: gpujit.ldexp(_X, 2), "ldexp"), (lambda: gpujit.hypot(_X, 2), "hypot"),
    (lambda: gpujit.nextafter(_X, 2.0), "nextafter"), (lambda: gpujit.igamma(_X, 2), "igamma"),
    (lambda: gpujit.rsub(2, _X), "rsub"),
    (lambda: gpujit.logical_and(_X, True), "logical_and"),
    (lambda: gpujit.isclose(_X, 1.5), "isclose"),
    (lambda: gpujit.gcd(gpujit.tensor([4]), 2), "gcd"),
    (lambda: gpujit.addcmul(_X, _X, 2), "addcmul(): argument 'tensor2'"),
    (lambda: gpujit.addcdiv(_X, 2, _X), "addcdiv(): argument 'tensor1'"),
    (lambda: gpujit.diagonal_scatter(gpujit.ones(2, 2), 1.5), "diagonal_scatter"),
    (lambda: gpujit.slice_scatter(1.5, _X), "slice_scatter"),
]


@pytest.mark.parametrize("i", range(len(_REFUSED)))
def test_number_for_tensor_only_parameter_is_type_error(i):
    f, match = _REFUSED[i]
    with pytest.raises(TypeError, match="must be Tensor"):
        f()
    with pytest.raises(TypeError, match=match.replace("(", r"\(").replace(")", r"\)")):
        f()


# (session 45) ops with a Tensor-Scalar overload only: a number first matches none of
# their signatures, PyTorch's "invalid combination" (parser_errors._SCALAR_TWINS)
_REFUSED_COMBINATION = [lambda: gpujit.copysign(2, _X), lambda: gpujit.eq(2, _X),
                        lambda: gpujit.lt(2, _X), lambda: gpujit.fmod(2, _X)]


@pytest.mark.parametrize("i", range(len(_REFUSED_COMBINATION)))
def test_number_first_is_the_invalid_combination(i):
    with pytest.raises(TypeError) as ei:
        _REFUSED_COMBINATION[i]()
    msg = str(ei.value)
    assert "() received an invalid combination of arguments - got (int, Tensor), but " \
        "expected one of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n" in msg
    assert msg.endswith(" * (Tensor input, Number other, *, Tensor out = None)\n")


def test_numbers_where_pytorch_takes_them():
    x = _X
    np.testing.assert_allclose(gpujit.add(2, x).numpy(), [3.5, 4, 5])
    np.testing.assert_allclose((2 - x).numpy(), [0.5, 0, -1])
    np.testing.assert_allclose(gpujit.rsub(x, 2).numpy(), [0.5, 0, -1])
    np.testing.assert_allclose(gpujit.pow(2, x).numpy(), 2 ** x.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gpujit.xlogy(2, x).numpy(), 2 * np.log(x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(gpujit.remainder(5, x).numpy(), np.mod(5, x.numpy()))
    assert gpujit.eq(x, 2).tolist() == [False, True, False]
    assert (2 < x).tolist() == [False, False, True]
    assert gpujit.where(x > 2, x, 0.).tolist() == [0, 0, 3]
    assert gpujit.where(x > 2, 1., 0.).tolist() == [0, 0, 1]
    assert gpujit.clamp_min(x, 2).tolist() == [2, 2, 3]
    assert gpujit.copysign(x, -1).tolist() == [-1.5, -2, -3]
    assert gpujit.bitwise_and(6, gpujit.tensor([3])).tolist() == [2]


def test_number_for_tensor_only_parameter_in_script():
    from gpujit.frontend.script.errors import FrontendError
    with pytest.raises(FrontendError, match="'other' expected a Tensor, got int"):
        @gpujit.jit.script
        def f(x):
            return gpujit.maximum(x, 2)

    @gpujit.jit.script
    def g(x):
        return gpujit.eq(x, 2), gpujit.where(x > 2, x, 0.), gpujit.pow(2, x)

    a, b, c = g(_X)
    assert a.tolist() == [False, True, False] and b.tolist() == [0, 0, 3]


def test_number_operands_declaration():
    from gpujit.ops.number_operands import number_operands
    assert R.get("aten::logaddexp").number_operands == frozenset()
    assert R.get("aten::eq.Tensor").number_operands == frozenset({"other"})
    assert R.get("aten::add.Tensor").number_operands == frozenset({"self", "other"})
    assert R.get("aten::add_.Tensor").number_operands == frozenset({"self", "other"})
    assert R.get("aten::where.self").number_operands == frozenset({"self", "other"})
    assert number_operands(R.get("aten::pow_.Tensor_Tensor").schema) == \
        R.get("aten::pow.Tensor_Tensor").number_operands == frozenset({"self", "exponent"})


def test_refused_numbers_match_torch():
    torch = pytest.importorskip("torch")
    for name, args in [("logaddexp", ("t", 2)), ("maximum", ("t", 2.5)), ("eq", (2, "t")),
                       ("eq", ("t", 2)), ("atan2", ("t", 1)), ("pow", (2, "t")),
                       ("xlogy", (2, "t")), ("fmod", ("t", 2)), ("fmod", (2, "t")),
                       ("copysign", ("t", -1)), ("hypot", (2, "t")), ("add", (2, "t"))]:
        outcomes = []
        for m in (torch, gpujit):
            t = m.tensor([1.5, 2.0, 3.0])
            try:
                getattr(m, name)(*[t if a == "t" else a for a in args])
                outcomes.append("ok")
            except TypeError:
                outcomes.append("TypeError")
        assert outcomes[0] == outcomes[1], (name, args, outcomes)


# ------------------------------------------------ 3. bool inputs PyTorch's kernels refuse

_b = gpujit.tensor([True, False, True])
_i = gpujit.tensor([0, 1, 1])
_F = gpujit.nn.functional

_BOOL_REFUSED = [
    (lambda: gpujit.trapezoid(_b), RuntimeError,
     "trapezoid: received a bool input for `y`, but bool is not supported"),
    (lambda: gpujit.trapezoid(gpujit.ones(3), _b), RuntimeError, "for `x` or `y`"),
    (lambda: gpujit.trapz(_b), RuntimeError, "^trapezoid: received a bool"),
    (lambda: gpujit.cumulative_trapezoid(_b), RuntimeError, "cumulative_trapezoid: received"),
    (lambda: gpujit.cov(_b.reshape(1, 3)), RuntimeError, "cov\\(\\): bool dtype is not supported"),
    (lambda: gpujit.corrcoef(_b.reshape(1, 3)), RuntimeError, "cov\\(\\): bool dtype"),
    (lambda: gpujit.isin(_b, _b), RuntimeError, "Unsupported input type encountered for isin"),
    (lambda: gpujit.isin(_i, True), RuntimeError, "isin\\(\\): Bool"),
    (lambda: gpujit.isin(True, _i), RuntimeError, "isin\\(\\): Bool"),
    (lambda: gpujit.searchsorted(_b, _b), NotImplementedError, "searchsorted_out_cpu"),
    (lambda: gpujit.searchsorted(_b, True), NotImplementedError, "searchsorted_out_cpu"),
    (lambda: gpujit.bucketize(_b, _b), NotImplementedError, "searchsorted_out_cpu"),
    (lambda: gpujit.bucketize(True, _b), NotImplementedError, "searchsorted_out_cpu"),
    (lambda: gpujit.inner(_b, _b), NotImplementedError, "\"dot\" not implemented for 'Bool'"),
    (lambda: gpujit.inner(_b.reshape(1, 3), _b), NotImplementedError, "addmm_impl_cpu_"),
    (lambda: gpujit.gradient(_b), RuntimeError, "Subtraction, the `-` operator, with two bool"),
    (lambda: gpujit.gradient(gpujit.ones(3), spacing=(_b,)), RuntimeError,
     "Negation, the `-` operator, on a bool tensor"),
    (lambda: gpujit.mvlgamma(_b, 1), RuntimeError, "may not be a boolean tensor"),
    (lambda: _b.clone().mvlgamma_(1), RuntimeError, "may not be a boolean tensor"),
    (lambda: gpujit.cumsum(gpujit.ones(2), 0, dtype=gpujit.bool), NotImplementedError,
     "\"cumsum_out_cpu\" not implemented for 'Bool'"),
    (lambda: gpujit.cumprod(_b, 0, dtype=gpujit.bool), NotImplementedError, "cumprod_out_cpu"),
    (lambda: _b.clone().cumsum_(0), NotImplementedError, "cumsum_out_cpu"),
    (lambda: _b.clone().cumprod_(0), NotImplementedError, "cumprod_out_cpu"),
    (lambda: gpujit.ones(2).cumsum_(0, dtype=gpujit.bool), RuntimeError,
     "Bad in-place call: input tensor dtype float and output tensor dtype bool should match"),
    (lambda: _F.glu(gpujit.ones(2, 4, dtype=gpujit.bool)), NotImplementedError,
     "\"glu_cpu\" not implemented for 'Bool'"),
    (lambda: _F.glu(gpujit.ones(2, 4, dtype=gpujit.int64)), NotImplementedError, "'Long'"),
    (lambda: _F.pad(_b.reshape(1, 1, 3), (1, 1), mode="reflect"), NotImplementedError,
     "\"reflection_pad1d\" not implemented for 'Bool'"),
    (lambda: _F.pad(gpujit.ones(1, 1, 2, 2, dtype=gpujit.bool), (1, 1, 1, 1),
                    mode="replicate"), NotImplementedError, "replication_pad2d"),
]


@pytest.mark.parametrize("i", range(len(_BOOL_REFUSED)))
def test_bool_inputs_refused(i):
    f, exc, match = _BOOL_REFUSED[i]
    with pytest.raises(exc, match=match):
        f()


def test_bool_neighbours_still_work():
    assert gpujit.searchsorted(_i, _b).tolist() == [1, 0, 1]
    assert gpujit.searchsorted(_b, 1).tolist() == 2
    assert gpujit.bucketize(1, _b).tolist() == 2
    assert gpujit.inner(gpujit.tensor(True), gpujit.tensor(True)).tolist() is True
    assert gpujit.cumsum(_b, 0).tolist() == [1, 1, 2]
    assert _F.pad(_b.reshape(1, 1, 3), (1, 1), mode="circular").tolist() == \
        [[[True, True, False, True, True]]]
    # cumsum_ adds in self's dtype (int8 wraps), as PyTorch's cumsum_out into self
    x = gpujit.full((2,), 100, dtype=gpujit.int8)
    assert x.cumsum_(0).tolist() == [100, -56] and x.dtype is gpujit.int8
    np.testing.assert_allclose(_F.glu(gpujit.ones(2, 4)).numpy(), np.full((2, 2), 0.7310586),
                               rtol=1e-6)


def test_glu_int_refused_in_script():
    @gpujit.jit.script
    def f(x):
        return _F.glu(x)

    with pytest.raises(NotImplementedError, match="glu_cpu"):
        f(gpujit.ones(2, 4, dtype=gpujit.int32))


def test_bool_refusals_match_torch():
    torch = pytest.importorskip("torch")
    cases = [lambda m, b: m.trapezoid(b), lambda m, b: m.cov(b.reshape(1, 3)),
             lambda m, b: m.isin(b, b), lambda m, b: m.searchsorted(b, b),
             lambda m, b: m.inner(b, b), lambda m, b: m.gradient(b),
             lambda m, b: m.mvlgamma(b, 1), lambda m, b: b.clone().cumsum_(0),
             lambda m, b: m.nn.functional.glu(b[:2]),
             lambda m, b: m.nn.functional.pad(b.reshape(1, 1, 3), (1, 1), mode="reflect")]
    for f in cases:
        got = []
        for m in (torch, gpujit):
            try:
                f(m, m.tensor([True, False, True]))
                got.append(None)
            except Exception as e:
                got.append(NotImplementedError if isinstance(e, NotImplementedError)
                           else type(e))
        assert got[0] == got[1], got
