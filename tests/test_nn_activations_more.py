"""Hardshrink, Softshrink, Tanhshrink, Softsign, LogSigmoid, GLU and PReLU: the registry ops
(aten::hardshrink, aten::softshrink, aten::log_sigmoid, aten::prelu), the nn.functional
composites (tanhshrink, softsign, glu), the modules, their gradients, scripting and fusion.
Expected values and error messages are PyTorch's (checked by hand against torch 2.x)."""
import io
import math

import numpy as np
import pytest

import gpujit as torch
from gpujit import nn
from gpujit.nn import functional as F

RNG = np.random.default_rng(7)
FLOATS = [np.float16, np.float32, np.float64]
TOL = {np.float16: (2e-3, 2e-3), np.float32: (1e-6, 1e-6), np.float64: (1e-12, 1e-12)}
GDT = {np.float16: torch.float16, np.float32: torch.float32, np.float64: torch.float64}
EDGES = [-0.5, 0.5, -0.25, 0.25, 0.0, -0.0, 0.5078125, -0.5078125, 3.0, -3.0,
         math.inf, -math.inf, math.nan]


def T(a, dtype=None):
    return torch.tensor(np.asarray(a), dtype=dtype)


def npy(t):
    return t.detach().numpy()


def values(dt, *shape, scale=3.0):
    return np.concatenate([(RNG.standard_normal(shape).ravel() * scale),
                           np.array(EDGES)]).astype(dt)


# ------------------------------------------------------------------ NumPy references
# (inf and nan inputs: NumPy's warnings are expected there)

def _quiet(ref):
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return ref(*args, **kwargs)
    return quiet


@_quiet
def hardshrink_ref(x, lambd=0.5):
    x = x.astype(np.float64)
    return np.where((x >= -lambd) & (x <= lambd), 0.0, x)


@_quiet
def softshrink_ref(x, lambd=0.5):
    x = x.astype(np.float64)
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, x * 0))


@_quiet
def tanhshrink_ref(x):
    x = x.astype(np.float64)
    return x - np.tanh(x)


@_quiet
def softsign_ref(x):
    x = x.astype(np.float64)
    return x / (1 + np.abs(x))


@_quiet
def logsigmoid_ref(x):
    return -np.logaddexp(0.0, -x.astype(np.float64))


@_quiet
def glu_ref(x, dim=-1):
    a, b = np.split(x.astype(np.float64), 2, axis=dim)
    return a / (1 + np.exp(-b))


@_quiet
def prelu_ref(x, w):
    x, w = x.astype(np.float64), w.astype(np.float64)
    if x.ndim != w.ndim:
        shape = [1] * x.ndim
        if x.ndim > 1:
            shape[1] = w.size
        w = w.reshape(shape)
    return np.where(x > 0, x, w * x)


def close(out, ref, dt):
    assert out.dtype is GDT[dt]
    rtol, atol = TOL[dt]
    with np.errstate(all="ignore"):
        expected = np.asarray(ref).astype(dt)
    np.testing.assert_allclose(npy(out).astype(np.float64), expected.astype(np.float64),
                               rtol=rtol, atol=atol, equal_nan=True)


# ------------------------------------------------------------------ values

UNARY = [
    ("hardshrink", lambda x: F.hardshrink(x), hardshrink_ref),
    ("hardshrink 0.25", lambda x: F.hardshrink(x, 0.25), lambda x: hardshrink_ref(x, 0.25)),
    ("hardshrink lambd=1", lambda x: F.hardshrink(x, lambd=1), lambda x: hardshrink_ref(x, 1)),
    ("softshrink", lambda x: F.softshrink(x), softshrink_ref),
    ("softshrink 0.25", lambda x: F.softshrink(x, 0.25), lambda x: softshrink_ref(x, 0.25)),
    ("softshrink lambd=0", lambda x: F.softshrink(x, lambd=0), lambda x: softshrink_ref(x, 0)),
    ("tanhshrink", F.tanhshrink, tanhshrink_ref),
    ("softsign", F.softsign, softsign_ref),
    ("logsigmoid", F.logsigmoid, logsigmoid_ref),
]


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name, fn, ref", UNARY, ids=[u[0] for u in UNARY])
def test_unary_values_against_numpy(name, fn, ref, dt):
    x = values(dt, 4, 5)
    close(fn(T(x)), ref(x), dt)
    t = T(values(dt, 3, 4)[:12].reshape(3, 4)).t()     # non-contiguous
    close(fn(t), ref(npy(t)), dt)
    close(fn(T(np.array(dt(1.25)))), ref(np.array(dt(1.25))), dt)      # 0-dim
    assert tuple(fn(T(np.zeros((0, 3), dt))).shape) == (0, 3)


def _bits(t):
    return [(v, math.copysign(1.0, v)) if v == v else "nan" for v in npy(t).tolist()]


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_shrink_edges_exactly(dt):
    x = T(np.array(EDGES, dt))
    # [-lambd, lambd] (both ends) gives +0 for hardshrink, x * 0 (a signed zero) for
    # softshrink; NaN and infinities pass through
    h = _bits(F.hardshrink(x, 0.5))
    assert h[:6] == [(0.0, 1.0)] * 6
    assert h[6:12] == [(0.5078125, 1.0), (-0.5078125, -1.0), (3.0, 1.0), (-3.0, -1.0),
                       (math.inf, 1.0), (-math.inf, -1.0)]
    assert h[12] == "nan"
    s = _bits(F.softshrink(x, 0.5))
    assert s[:6] == [(0.0, -1.0), (0.0, 1.0), (0.0, -1.0), (0.0, 1.0), (0.0, 1.0), (0.0, -1.0)]
    assert s[6:12] == [(0.0078125, 1.0), (-0.0078125, -1.0), (2.5, 1.0), (-2.5, -1.0),
                       (math.inf, 1.0), (-math.inf, -1.0)]
    assert s[12] == "nan"
    # lambd = 0: hardshrink keeps every value but -0.0 (compared equal to 0: +0)
    assert _bits(F.hardshrink(T(np.array([-0.0, 0.0, -1.0], dt)), 0)) == [
        (0.0, 1.0), (0.0, 1.0), (-1.0, -1.0)]
    # a negative lambd: hardshrink is the identity (PyTorch accepts it)
    np.testing.assert_array_equal(npy(F.hardshrink(T(np.array([0.25, -3.0], dt)), -1.0)),
                                  np.array([0.25, -3.0], dt))


def test_shrink_lambd_is_compared_in_the_input_dtype():
    # float32: 0.3 becomes float32(0.3), so x = float32(0.3) is inside [-lambd, lambd]
    x = T(np.array([0.3, -0.3, 0.30000004], np.float32))
    assert npy(F.hardshrink(x, 0.3)).tolist() == [0.0, 0.0, np.float32(0.30000004)]
    assert npy(F.softshrink(x, 0.3))[:2].tolist() == [0.0, 0.0]


def test_logsigmoid_is_stable_and_exact_at_the_ends():
    x = T(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0, -math.inf, math.inf, math.nan]))
    out = npy(F.logsigmoid(x))
    np.testing.assert_allclose(out[:5], [-1000.0, -40.0, -math.log(2), -math.exp(-40), 0.0],
                               rtol=1e-6)
    assert out[5] == -math.inf and out[6] == 0.0 and math.isnan(out[7])
    assert F.logsigmoid(T(np.array([-100.0], np.float16))).item() == -100.0


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_glu_values(dt):
    x = values(dt, 4, 6)[:24].reshape(4, 6)
    close(F.glu(T(x)), glu_ref(x), dt)
    close(F.glu(T(x), 0), glu_ref(x, 0), dt)
    close(F.glu(T(x), dim=-2), glu_ref(x, -2), dt)
    x3 = RNG.standard_normal((2, 4, 3)).astype(dt)
    close(F.glu(T(x3), 1), glu_ref(x3, 1), dt)
    assert tuple(F.glu(T(np.zeros((0, 4), dt))).shape) == (0, 2)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_prelu_values(dt):
    x = RNG.standard_normal((2, 3, 4)).astype(dt)
    for w in (np.array([0.1, -0.5, 2.0], dt), np.array([0.25], dt), np.array(0.25, dt)):
        close(F.prelu(T(x), T(w)), prelu_ref(x, w), dt)
    x1 = np.array(EDGES, dt)
    close(F.prelu(T(x1), T(np.array([0.25], dt))), prelu_ref(x1, np.array([0.25])), dt)
    close(F.prelu(T(np.array(-2.0, dt)), T(np.array([0.5], dt))), np.array(-1.0), dt)
    out = F.prelu(T(np.array(-2.0, dt)), T(np.array([0.5], dt)))
    assert out.dim() == 0                   # a 0-dim input stays 0-dim


def test_method_and_function_bindings_as_pytorch():
    x = T(np.array([-1.0, -0.2, 0.2, 1.0], np.float32))
    assert npy(x.hardshrink(0.3)).tolist() == [-1.0, 0.0, 0.0, 1.0]
    assert npy(torch.hardshrink(x)).tolist() == [-1.0, 0.0, 0.0, 1.0]
    w = T(np.array([0.5], np.float32))
    np.testing.assert_array_equal(npy(x.prelu(w)), np.array([-0.5, -0.1, 0.2, 1.0],
                                                            np.float32))
    np.testing.assert_array_equal(npy(torch.prelu(x, w)), npy(x.prelu(w)))
    # keyword arguments by torch.nn.functional's names
    np.testing.assert_array_equal(npy(F.softshrink(input=x, lambd=0.1)),
                                  npy(F.softshrink(x, 0.1)))
    np.testing.assert_array_equal(npy(F.prelu(input=x, weight=w)), npy(F.prelu(x, w)))
    assert F.hardshrink.op.name == "aten::hardshrink"
    assert F.logsigmoid.op.name == "aten::log_sigmoid"
    assert F.prelu.op.name == "aten::prelu"
    for name in ("softshrink", "log_sigmoid", "glu"):       # nn-only in PyTorch
        assert not hasattr(torch.Tensor, name)


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("dt, bound, lambd, shown", [
    (np.float32, "3.40282e+38", -0.5, "-0.5"),
    (np.float32, "3.40282e+38", -1, "-1"),
    (np.float32, "3.40282e+38", 1e39, "1e+39"),
    (np.float32, "3.40282e+38", math.nan, "nan"),
    (np.float16, "65504", 7e4, "70000"),
    (np.float16, "65504", -1e-9, "-1e-09"),
    (np.float64, "1.79769e+308", math.inf, "inf"),
])
def test_softshrink_lambd_out_of_range(dt, bound, lambd, shown):
    name = {np.float16: "Half", np.float32: "Float", np.float64: "Double"}[dt]
    msg = f"lambda must be in range [0, {bound}] for input dtype {name}, but found {shown}"
    with pytest.raises(RuntimeError) as e:
        F.softshrink(T(np.ones(3, dt)), lambd)
    assert str(e.value) == msg
    with pytest.raises(RuntimeError, match="lambda must be in range"):
        nn.Softshrink(lambd)(T(np.ones(3, dt)))


def test_softshrink_lambd_range_depends_on_the_dtype():
    assert npy(F.softshrink(T(np.array([1e5], np.float32)), 7e4)).tolist() == [30000.0]
    assert npy(F.softshrink(T(np.array([1.0])), -0.0)).tolist() == [1.0]    # -0.0 >= 0


def test_glu_errors():
    with pytest.raises(RuntimeError) as e:
        F.glu(T(np.ones((3, 5), np.float32)))
    assert str(e.value) == "Halving dimension must be even, but dimension 1 is size 5"
    with pytest.raises(RuntimeError) as e:
        F.glu(T(np.ones((3, 4), np.float32)), 0)
    assert str(e.value) == "Halving dimension must be even, but dimension 0 is size 3"
    with pytest.raises(RuntimeError) as e:
        F.glu(T(np.float32(1)))
    assert str(e.value) == "glu does not support scalars because halving size must be even"
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                                         r"of \[-3, 2\], but got 5\)"):
        F.glu(T(np.ones((2, 3, 4), np.float32)), 5)


@pytest.mark.parametrize("x, w, exc, msg", [
    ((2, 3), (2,), RuntimeError, "Mismatch of parameter numbers and input channel size. "
                                 "Found parameter numbers = 2 and channel size = 3."),
    ((3,), (3,), RuntimeError, "Mismatch of parameter numbers and input channel size. "
                               "Found parameter numbers = 3 and channel size = 1."),
    ((), (2,), RuntimeError, "Not allow zero-dim input tensor."),
    ((2, 3), (1, 3), RuntimeError, "prelu: Expected `weight` to be a scalar or 1D tensor, "
                                   "but got: ndim = 2"),
])
def test_prelu_errors(x, w, exc, msg):
    with pytest.raises(exc) as e:
        F.prelu(T(np.ones(x, np.float32)), T(np.ones(w, np.float32)))
    assert str(e.value) == msg


def test_prelu_dtype_errors():
    with pytest.raises(RuntimeError) as e:
        F.prelu(T(np.ones(3, np.float32)), T(np.ones(1)))
    assert str(e.value) == "prelu: Type promoting not supported. Got Float and Double"
    with pytest.raises(RuntimeError) as e:
        F.prelu(T(np.ones(3, np.int64)), T(np.ones(1, np.int64)))
    assert str(e.value) == "\"prelu_cpu\" not implemented for 'Long'"
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        nn.PReLU(4)(T(np.ones((2, 3), np.float32)))


@pytest.mark.parametrize("fn, kernel", [(F.hardshrink, "hardshrink_cpu"),
                                        (F.softshrink, "softshrink_check"),
                                        (F.logsigmoid, "log_sigmoid_cpu")])
def test_integer_inputs_are_refused(fn, kernel):
    # (torch 2.13's words name its CPU kernel: tests/test_eager_fidelity_s36.py)
    with pytest.raises(NotImplementedError, match=f"\"{kernel}\" not implemented for 'Long'"):
        fn(T(np.arange(3)))


# ------------------------------------------------------------------ modules

def test_module_reprs_as_pytorch():
    assert repr(nn.Hardshrink()) == "Hardshrink(0.5)"
    assert repr(nn.Hardshrink(1)) == "Hardshrink(1)"
    assert repr(nn.Softshrink(0.3)) == "Softshrink(0.3)"
    assert repr(nn.Tanhshrink()) == "Tanhshrink()"
    assert repr(nn.Softsign()) == "Softsign()"
    assert repr(nn.LogSigmoid()) == "LogSigmoid()"
    assert repr(nn.GLU()) == "GLU(dim=-1)"
    assert repr(nn.GLU(1)) == "GLU(dim=1)"
    assert repr(nn.PReLU()) == "PReLU(num_parameters=1)"
    assert repr(nn.PReLU(3)) == "PReLU(num_parameters=3)"


def test_prelu_parameter_and_state_dict():
    m = nn.PReLU(3, init=0.1)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert tuple(m.weight.shape) == (3,) and m.init == 0.1 and m.num_parameters == 3
    np.testing.assert_allclose(npy(m.weight), [0.1] * 3, rtol=1e-6)
    sd = m.state_dict()
    assert list(sd) == ["weight"]
    np.testing.assert_allclose(npy(nn.PReLU().state_dict()["weight"]), [0.25])
    m2 = nn.PReLU(3)
    m2.load_state_dict(sd)
    np.testing.assert_allclose(npy(m2.weight), [0.1] * 3, rtol=1e-6)
    assert [n for n, _ in nn.Sequential(nn.Linear(2, 3), nn.PReLU(3)).named_parameters()] == [
        "0.weight", "0.bias", "1.weight"]
    assert nn.PReLU(2, dtype=torch.float64).weight.dtype is torch.float64
    for cls in (nn.Hardshrink, nn.Softshrink, nn.Tanhshrink, nn.Softsign, nn.LogSigmoid,
                nn.GLU):
        assert len(cls().state_dict()) == 0


@pytest.mark.parametrize("make, ref", [
    (lambda: nn.Hardshrink(0.7), lambda x: hardshrink_ref(x, 0.7)),
    (lambda: nn.Softshrink(), softshrink_ref),
    (lambda: nn.Tanhshrink(), tanhshrink_ref),
    (lambda: nn.Softsign(), softsign_ref),
    (lambda: nn.LogSigmoid(), logsigmoid_ref),
    (lambda: nn.GLU(), glu_ref),
    (lambda: nn.GLU(0), lambda x: glu_ref(x, 0)),
    (lambda: nn.PReLU(), lambda x: prelu_ref(x, np.array([0.25]))),
    (lambda: nn.PReLU(6, 0.5), lambda x: prelu_ref(x, np.full(6, 0.5))),
], ids=["Hardshrink", "Softshrink", "Tanhshrink", "Softsign", "LogSigmoid", "GLU", "GLU0",
        "PReLU", "PReLU6"])
def test_modules_against_numpy(make, ref):
    x = (RNG.standard_normal((4, 6)) * 3).astype(np.float32)
    close(make()(T(x)), ref(x), np.float32)


# ------------------------------------------------------------------ gradients

_KINKS = (0.0, 0.25, -0.25, 0.5, -0.5, 1.0, -1.0)      # every lambd the tests use


def _f64(*shape, low=-3.0, high=3.0):
    """Values at least 0.05 from every kink (finite differences step across none), drawn
    from a generator of their own (the order tests run in changes nothing)."""
    a = np.random.default_rng(sum(shape) + 7).uniform(low, high, shape)
    for k in _KINKS:
        near = np.abs(a - k) < 0.05
        a[near] = k + np.where(a[near] >= k, 0.1, -0.1)
    return torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda x: F.hardshrink(x), lambda x: F.hardshrink(x, 0.25), lambda x: F.softshrink(x),
    lambda x: F.softshrink(x, 1.0), F.tanhshrink, F.softsign, F.logsigmoid,
    lambda x: F.glu(x), lambda x: F.glu(x, 0)],
    ids=["hardshrink", "hardshrink0.25", "softshrink", "softshrink1", "tanhshrink",
         "softsign", "logsigmoid", "glu", "glu0"])
def test_gradcheck(fn):
    assert torch.autograd.gradcheck(fn, (_f64(4, 6),))
    assert torch.autograd.gradgradcheck(fn, (_f64(4, 6),))     # the backward is differentiable


@pytest.mark.parametrize("xs, ws", [((2, 3, 4), (3,)), ((2, 3), (1,)), ((5,), (1,)),
                                    ((2, 3), ()), ((), (1,)), ((3, 2, 2), (2,))])
def test_prelu_gradcheck_input_and_weight(xs, ws):
    x = _f64(*xs)
    w = torch.tensor(RNG.uniform(-1, 1, ws), requires_grad=True)
    assert torch.autograd.gradcheck(F.prelu, (x, w))
    assert torch.autograd.gradgradcheck(F.prelu, (x, w))


def test_analytic_gradients_and_kinks_as_pytorch():
    x = T(np.array(EDGES[:10] + [math.nan], np.float32)).requires_grad_()
    for fn in (F.hardshrink, F.softshrink):
        g, = torch.autograd.grad(fn(x).sum(), [x])
        # 0 on [-lambd, lambd] including its ends; 1 outside (and for NaN)
        assert npy(g).tolist() == [0.0] * 6 + [1.0] * 5
    # hardswish / hardsigmoid at their kinks +-3: hardswish' is 0 at -3 and 1 at 3,
    # hardsigmoid' is 0 at both (the open interval (-3, 3) only)
    x = T(np.array([-4.0, -3.0, 0.0, 3.0, 4.0], np.float32)).requires_grad_()
    g, = torch.autograd.grad(F.hardswish(x).sum(), [x])
    assert npy(g).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    g, = torch.autograd.grad(F.hardsigmoid(x).sum(), [x])
    np.testing.assert_allclose(npy(g), [0.0, 0.0, 1 / 6, 0.0, 0.0], rtol=1e-6)
    x = T(np.array([-math.inf, -2.0, 0.0, 2.0, math.inf])).requires_grad_()
    g, = torch.autograd.grad(F.logsigmoid(x).sum(), [x])
    np.testing.assert_allclose(npy(g), [1.0, 1 / (1 + math.exp(-2)), 0.5,
                                        1 / (1 + math.exp(2)), 0.0], rtol=1e-12)
    # PReLU: d/dx = 1 (x > 0) or w (x <= 0); d/dw = sum of x over x <= 0, per channel
    xv = np.array([[[-1.0, 2.0], [0.0, -3.0]], [[4.0, -5.0], [-0.5, 1.0]]])
    x = torch.tensor(xv, requires_grad=True)
    m = nn.PReLU(2, 0.25).double()
    m(x).sum().backward()
    np.testing.assert_allclose(npy(x.grad), np.where(xv > 0, 1.0, [[[0.25], [0.25]]]))
    np.testing.assert_allclose(npy(m.weight.grad), [-6.0, -3.5])


def test_float16_gradients():
    x = T(np.array([-2.0, -0.25, 1.0, 3.0], np.float16)).requires_grad_()
    for fn in (F.hardshrink, F.softshrink, F.logsigmoid, F.softsign, F.tanhshrink):
        g, = torch.autograd.grad(fn(x).sum(), [x])
        assert g.dtype is torch.float16
    w = T(np.array([0.5], np.float16)).requires_grad_()
    gx, gw = torch.autograd.grad(F.prelu(x, w).sum(), [x, w])
    assert gw.dtype is torch.float16 and tuple(gw.shape) == (1,)
    assert npy(gw).tolist() == [-2.25]


# ------------------------------------------------------------------ scripting and fusion

def pointwise_chain(x):
    return (F.softsign(x) + F.tanhshrink(x) + F.hardshrink(x, 0.3) + F.softshrink(x)
            + F.logsigmoid(x))


def _group_body(g, k=0):
    return g.split(f"with prim::TensorExprGroup_{k} = graph(")[1].split(
        "with prim::TensorExprGroup_")[0]


def elu_tail(x):
    return F.elu(x, 0.5, False) + F.celu(x, 0.5, False) + F.hardtanh(x, -0.5, 0.5, False)


def test_scripted_wrapper_arguments_bind_by_the_wrappers_signature():
    # F.elu(input, alpha, inplace) matched aten::elu(self, alpha, scale, input_scale)
    # positionally: `inplace` (False) became `scale`, and nn.ELU's forward returned 0 for
    # every positive input
    x = T(np.array([-3.0, -1.0, -0.2, 0.0, 0.5, 2.0], np.float32))
    f = torch.jit.script(elu_tail)
    m = torch.jit.script(nn.Sequential(nn.ELU(0.5), nn.Tanh()))
    for _ in range(3):
        np.testing.assert_allclose(npy(f(x)), npy(elu_tail(x)), rtol=1e-6)
        np.testing.assert_allclose(npy(m(x)), npy(torch.tanh(F.elu(x, 0.5))), rtol=1e-6)
    # (torch 2.13's graph calls F.elu, a prim::CallFunction; its body is torch's aten::elu
    # with scale and input_scale the same constant 1)
    import re
    assert 'prim::Constant[name="elu"]' in str(f.graph)
    assert re.search(r"aten::elu\(%x\.1, %\w+, %(\w+), %\1\)", str(f.inlined_graph))


def dropout_in_place(x, train: bool):
    y = x * 1.0
    F.dropout(y, 0.0, train, True)
    return F.dropout(y, 1.0, train, True)


def test_scripted_in_place_dropout_binds_to_dropout_():
    # F.dropout(x, p, training, True) bound aten::dropout's `input` to dropout_, whose
    # first argument is `self`: the call did not compile
    f = torch.jit.script(dropout_in_place)
    x = T(np.array([1.0, -2.0, 3.0], np.float32))
    for _ in range(2):
        assert npy(f(x, True)).tolist() == [0.0, 0.0, 0.0]
        assert npy(f(x, False)).tolist() == [1.0, -2.0, 3.0]


def dropout_training_kw(x):
    return F.relu(F.dropout(x, training=False))


def dropout_training_flag(x, t: bool):
    return F.dropout(x, training=t)


def test_scripted_dropout_training_keyword_keeps_default_p():
    # F.dropout(x, training=False) (PyTorch's test_jit_fuser_te test_dropout): the call was
    # rebound by the wrapper's signature without its default p=0.5, and aten::dropout's p
    # is required: "missing argument 'p'"
    f = torch.jit.script(dropout_training_kw)
    g = torch.jit.script(dropout_training_flag)
    x = T(np.array([1.0, -2.0, 3.0], np.float32))
    for _ in range(3):
        assert npy(f(x)).tolist() == [1.0, 0.0, 3.0]
        assert npy(g(x, False)).tolist() == [1.0, -2.0, 3.0]
    assert "value=0.5" in str(f.graph)
    kept = npy(g(torch.ones(4000), True))
    assert set(np.unique(kept).tolist()) <= {0.0, 2.0} and 0.4 < (kept == 0).mean() < 0.6


def dropout_input_in_place(x, p: float, train: bool):
    return F.dropout(x, p, train, True)


@pytest.mark.parametrize("scripted", [False, True])
@pytest.mark.parametrize("train,p", [(True, 0.0), (False, 0.0), (False, 0.5), (False, 1.0)])
def test_in_place_dropout_that_changes_nothing_is_no_write(scripted, train, p):
    # dropout_ with p == 0 or not training returns its input untouched (ATen's early
    # `return input`): it bumped the version anyway (and recorded a node), so backward
    # through ReLU(inplace=True), which saves its result, failed
    m = nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=True), nn.Dropout(p, inplace=True))
    m.train(train)
    if scripted:
        m = torch.jit.script(m)
    x = torch.ones(2, 4, requires_grad=True)
    for _ in range(3):
        x.grad = None
        m(x).sum().backward()
        assert npy(x.grad).shape == (2, 4)
    f = torch.jit.script(dropout_input_in_place) if scripted else dropout_input_in_place
    with torch.no_grad():
        for _ in range(3):      # the compiled code too: no version bump of its input
            y = torch.ones(3)
            assert f(y, p, train) is y and y._version == 0
    z = torch.ones(3)
    assert F.dropout(z, 0.0, True) is z and F.dropout(z, 0.0, True, True) is z
    assert z._version == 0
    leaf = torch.ones(3, requires_grad=True)    # no write: no in-place-on-a-leaf error
    for _ in range(3):
        assert f(leaf, p, train) is leaf and leaf._version == 0


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_scripted_function_fuses_into_one_group(dt):
    f = torch.jit.script(pointwise_chain)
    x = T(values(dt, 5, 7))
    expected = pointwise_chain(x)
    for _ in range(3):
        out = f(x)
    np.testing.assert_allclose(npy(out), npy(expected), rtol=TOL[dt][0] * 4, atol=TOL[dt][1],
                               equal_nan=True)
    g = str(f.graph_for(x))
    assert g.count("prim::TensorExprGroup_0(") == 1 and "TensorExprGroup_1" not in g
    body = _group_body(g)
    for name in ("aten::hardshrink", "aten::softshrink", "aten::log_sigmoid", "aten::tanh",
                 "aten::abs", "aten::div"):
        assert name in body, name


def test_scripted_composites_compile_from_source():
    @torch.jit.script
    def f(x):
        return F.softsign(x) + F.tanhshrink(x)

    x = T(RNG.standard_normal(16).astype(np.float32))
    f(x)
    g = str(f.graph_for(x))
    assert "prim::TensorExprGroup" in g
    body = _group_body(g)
    assert "aten::tanh" in body and "aten::abs" in body
    np.testing.assert_allclose(npy(f(x)), npy(F.softsign(x) + F.tanhshrink(x)), rtol=1e-6)
    # a bare name imported from nn.functional, and keyword arguments
    from gpujit.nn.functional import glu, tanhshrink

    @torch.jit.script
    def h(x):
        return tanhshrink(glu(x, dim=0)) + F.glu(input=x, dim=0)

    x2 = T(RNG.standard_normal((4, 3)).astype(np.float32))
    np.testing.assert_allclose(npy(h(x2)), npy(F.tanhshrink(F.glu(x2, 0)) + F.glu(x2, 0)),
                               rtol=1e-6)


def test_scripted_errors_match_eager():
    @torch.jit.script
    def f(x, lambd: float):
        return F.glu(x, 1) + F.softshrink(x[:, :1], lambd)

    x = T(np.ones((2, 4), np.float32))
    np.testing.assert_allclose(npy(f(x, 0.5)), npy(F.glu(x, 1) + F.softshrink(x[:, :1])))
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 "
                                           "is size 3"):
        f(T(np.ones((2, 3), np.float32)), 0.5)
    with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, 3.40282e\+38\]"):
        f(x, -1.0)

    @torch.jit.script
    def p(x, w):
        return F.prelu(x, w)

    with pytest.raises(RuntimeError, match="Found parameter numbers = 2 and channel size = 4"):
        p(x, T(np.ones(2, np.float32)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.prelu = nn.PReLU(4)
        self.acts = nn.Sequential(nn.Hardshrink(0.3), nn.Softshrink(0.2), nn.Tanhshrink(),
                                  nn.Softsign(), nn.LogSigmoid())
        self.glu = nn.GLU(1)

    def forward(self, x):
        return self.acts(self.prelu(x)) + self.glu(torch.cat([x, x], 1))


def test_scripted_module_fuses_and_matches_eager():
    m = Net()
    with torch.no_grad():
        m.prelu.weight.copy_(T(np.array([0.1, -0.2, 0.3, 2.0], np.float32)))
    s = torch.jit.script(m)
    x = T(RNG.standard_normal((2, 4, 3)).astype(np.float32) * 2)
    with torch.no_grad():
        for _ in range(3):
            out = s(x)
        np.testing.assert_allclose(npy(out), npy(m(x)), rtol=1e-6, atol=1e-6)
        g = str(s.graph_for(x))
    assert "aten::prelu" in g                # not fusible: the weight runs along dim 1
    groups = [_group_body(g, k) for k in range(g.count("with prim::TensorExprGroup_"))]
    assert any(all(n in b for n in ("aten::hardshrink", "aten::softshrink", "aten::tanh",
                                    "aten::abs", "aten::log_sigmoid")) for b in groups)
    # (F.glu is ATen's one aten::glu op, as torch 2.13's script graph shows it: unfused)
    assert "aten::glu" in g and not any("aten::glu" in b for b in groups)
    # save / load keeps the composites and the PReLU weight
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    with torch.no_grad():
        np.testing.assert_allclose(npy(loaded(x)), npy(m(x)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(npy(loaded.state_dict()["prelu.weight"]),
                               [0.1, -0.2, 0.3, 2.0], rtol=1e-6)


def test_scripted_module_backward_matches_eager():
    m = Net()
    s = torch.jit.script(m)
    xv = RNG.standard_normal((2, 4, 3)) * 2
    grads = []
    for fn in (m, s, s, s):
        x = T(xv.astype(np.float32)).requires_grad_()
        m.zero_grad()
        fn(x).sum().backward()
        grads.append((npy(x.grad), npy(m.prelu.weight.grad)))
    for gx, gw in grads[1:]:
        np.testing.assert_allclose(gx, grads[0][0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(gw, grads[0][1], rtol=1e-5, atol=1e-6)
