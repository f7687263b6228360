"""Session 41: gradients (and the ops they are made of) bit for bit as PyTorch 2.13 on the
CPU: each formula in PyTorch's order of operations, with its fused multiply-adds where
ATen's kernels are compiled with FMA contraction. Each test also checks a NumPy replay of
PyTorch's formula, so it runs without torch; with torch installed it compares with it."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit import Tensor
from gpujit.ops.fma import fma32, fma64

try:
    import torch as _torch
except ImportError:         # (CI: the NumPy replays alone)
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="needs torch")
# (the bits read from torch were its AVX512 kernels'; on a CPU without AVX512 torch runs
# its AVX2 code, whose exp / log differ in the last bit: those comparisons need AVX512)
TORCH_AVX512 = _torch is not None and _torch.backends.cpu.get_cpu_capability() == "AVX512"
FLOATS = (np.float32, np.float64)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _bits(a, b, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, what
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    assert same.all(), f"{what}: {(~same).sum()} of {a.size} differ, e.g. " \
        f"{a[~same][:3]!r} vs {b[~same][:3]!r}"


# ------------------------------------------------------------------------- addcmul

def _addcmul_numpy(s, t1, t2, value):
    p = (np.asarray(value, s.dtype) * t1) if value != 1 else t1
    if s.dtype == np.float32:
        return (s.astype(np.float64) + p.astype(np.float64) * t2).astype(np.float32)
    return fma64(p, t2, s)


def addcmul_fn(x: Tensor, y: Tensor, z: Tensor):
    return gpujit.addcmul(x * 1.0, y, z, value=0.7) * 1.0


@pytest.mark.parametrize("dtype", FLOATS)
def test_addcmul_rounds_once_in_float64_too(dtype):
    """PyTorch's addcmul is fma(value * t1, t2, self) in float64 as in float32 (gpujit's
    float64 rounded twice: 258 of 1000 elements an ulp off)."""
    rng = _rng(1)
    s, t, u = ((rng.standard_normal(1000) * k).astype(dtype) for k in (300, 30, 3))
    for value in (1, 0.3, -1):
        got = gpujit.addcmul(gpujit.tensor(s), gpujit.tensor(t), gpujit.tensor(u),
                             value=value).numpy()
        _bits(got, _addcmul_numpy(s, t, u, value), f"value={value}")
        if _torch is not None:
            want = _torch.addcmul(_torch.tensor(s), _torch.tensor(t), _torch.tensor(u),
                                  value=value).numpy()
            _bits(got, want, f"torch value={value}")
    a = gpujit.tensor(s)
    a.addcmul_(gpujit.tensor(t), gpujit.tensor(u), value=0.3)
    _bits(a.numpy(), _addcmul_numpy(s, t, u, 0.3), "addcmul_")


@pytest.mark.parametrize("dtype", FLOATS)
def test_fused_addcmul_is_eagers_one_rounding(dtype):
    """The fused kernel rounded value * t1 * t2 + self twice in float32 (504 of 4096
    elements differed from eager); now both are eager's one rounding."""
    rng = _rng(2)
    a, b, c = (gpujit.tensor((rng.standard_normal(4096) * k).astype(dtype))
               for k in (300, 30, 3))
    f = gpujit.jit.script(addcmul_fn)
    outs = [f(a, b, c) for _ in range(3)]
    assert "TensorExprGroup" in str(f.graph_for(a, b, c))
    want = _addcmul_numpy(a.numpy(), b.numpy(), c.numpy(), 0.7)
    for i, o in enumerate(outs):
        _bits(o.numpy(), want, f"call {i + 1}")


# ------------------------------------------------------- pointwise derivatives

def _fma(a, b, c):
    return fma32(a, b, c) if a.dtype == np.float32 else fma64(a, b, c)


def _grad_of(fn, x, g):
    """x's gradient of fn at x for the output gradient g (NumPy arrays), and fn(x)."""
    t = gpujit.tensor(x, requires_grad=True)
    y = fn(t)
    y.backward(gpujit.tensor(g))
    return t.grad.numpy(), y.detach().numpy()


def _values(dtype, n, kind, seed):
    rng = _rng(seed)
    if kind == "unit":
        x = rng.uniform(-0.999, 0.999, n)
    elif kind == "pos":
        x = rng.uniform(0.01, 10, n)
    else:
        x = np.concatenate([rng.standard_normal(n // 2) * 4, rng.uniform(-9, 9, n - n // 2)])
    return x.astype(dtype), rng.standard_normal(n).astype(dtype)


# name: (gpujit function, NumPy replay of PyTorch's formula from (g, x, y), values)
DERIVATIVES = {
    # tanh_backward: a * (1 - b * b), contracted to an FMA
    "tanh": (lambda x: x.tanh(), lambda g, x, y: g * _fma(-y, y, y.dtype.type(1)), "wide"),
    # sigmoid_backward: a * (1 - b) * b
    "sigmoid": (lambda x: x.sigmoid(), lambda g, x, y: g * (1 - y) * y, "wide"),
    # -grad * (result * result)
    "reciprocal": (lambda x: x.reciprocal(), lambda g, x, y: -g * (y * y), "pos"),
    # -0.5 * grad * result.pow(3)
    "rsqrt": (lambda x: x.rsqrt(),
              lambda g, x, y: g * y.dtype.type(-0.5) * (y * y * y), "pos"),
    # grad * (exponent * self.pow(exponent - 1)), pow of 2 being x * x
    "pow3": (lambda x: x ** 3, lambda g, x, y: g * (y.dtype.type(3) * (x * x)), "wide"),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_pointwise_derivative_in_pytorchs_order(name, dtype):
    """Each gradient is PyTorch's formula in its order (and FMA) bit for bit, at sizes of a
    vector's tail and beyond (tanh's two roundings were an ulp off in ~60% of float64
    gradients; sigmoid's g * y * (1 - y), reciprocal's and rsqrt's orders ~35%)."""
    fn, replay, kind = DERIVATIVES[name]
    for n in (3, 8, 37, 1000):
        x, g = _values(dtype, n, kind, n)
        got, y = _grad_of(fn, x, g)
        _bits(got, replay(g, x, y), f"{name} n={n}")


@needs_torch
@pytest.mark.parametrize("dtype", FLOATS)
def test_tanh_and_sigmoid_backward_as_torchs_kernels(dtype):
    """torch.ops.aten.tanh_backward / sigmoid_backward of the same output values."""
    A = _torch.ops.aten
    for n in (5, 16, 1003):
        x, g = _values(dtype, n, "wide", n)
        for fn, kernel in ((lambda t: t.tanh(), A.tanh_backward),
                           (lambda t: t.sigmoid(), A.sigmoid_backward)):
            got, y = _grad_of(fn, x, g)
            _bits(got, kernel(_torch.tensor(g), _torch.tensor(y)).numpy(), f"n={n}")


@needs_torch
@pytest.mark.parametrize("dtype", FLOATS)
def test_reciprocal_rsqrt_pow_gradients_as_torch(dtype):
    for n in (7, 1000):
        x, g = _values(dtype, n, "pos", n)
        for name in ("reciprocal", "rsqrt", "pow3"):
            got, _ = _grad_of(DERIVATIVES[name][0], x, g)
            t = _torch.tensor(x, requires_grad=True)
            DERIVATIVES[name][0](t).backward(_torch.tensor(g))
            _bits(got, t.grad.numpy(), f"{name} n={n}")


def test_float16_tanh_gradient_in_float_rounded_once():
    """PyTorch's reduced-float tanh_backward computes float(a) * fma(-b, b, 1) in float and
    rounds once (gpujit's float16 arithmetic rounded each step: 397 of 1000 differed)."""
    x, g = _values(np.float16, 1000, "wide", 5)
    got, y = _grad_of(lambda t: t.tanh(), x, g)
    y32 = y.astype(np.float32)
    want = (g.astype(np.float32) * fma32(-y32, y32, np.float32(1))).astype(np.float16)
    _bits(got, want)
    if _torch is not None:
        _bits(got, _torch.ops.aten.tanh_backward(_torch.tensor(g), _torch.tensor(y)).numpy())


def test_erf_erfinv_gradients_constant_times_exponential_first():
    """2 / sqrt(pi) * exp(-x^2) * grad: the constant multiplies the exponential, then the
    gradient (gpujit multiplied the gradient first: ~1/3 of float64 values an ulp off)."""
    c, h = 2 / np.sqrt(np.pi), 0.5 * np.sqrt(np.pi)
    x, g = _values(np.float64, 1000, "wide", 11)
    got, _ = _grad_of(lambda t: t.erf(), x, g)
    _bits(got, np.exp(-(x * x)) * c * g, "erf")
    got, _ = _grad_of(lambda t: t.erfc(), x, g)
    _bits(got, np.exp(-(x * x)) * -c * g, "erfc")
    u, g = _values(np.float64, 1000, "unit", 12)
    got, y = _grad_of(lambda t: t.erfinv(), u, g)
    _bits(got, np.exp(y * y) * h * g, "erfinv")
    if TORCH_AVX512:
        # (erf's gradient reads no erf value; erfinv's reads the forward's, whose float64
        # values differ from ATen's in the last bit for ~1/3 of inputs: not compared)
        t = _torch.tensor(x, requires_grad=True)
        t.erf().backward(_torch.tensor(g))
        _bits(_grad_of(lambda v: v.erf(), x, g)[0], t.grad.numpy())


@pytest.mark.parametrize("dtype", FLOATS)
def test_celu_gradient_scales_by_one_over_float_alpha(dtype):
    """derivatives.yaml's celu: elu_backward(grad, alpha, 1, 1.0 / alpha.toFloat(), ...):
    the input scale of alpha rounded to float (gpujit took 1 / alpha in double: float64
    gradients off by ~1e-7 relative); negcoef alpha * scale in the kernel's type."""
    x, g = _values(dtype, 1000, "wide", 13)
    alpha = 0.7
    iscale = 1.0 / float(np.float32(alpha))
    got, _ = _grad_of(lambda t: gpujit.nn.functional.celu(t, alpha), x, g)
    neg = x <= 0
    ac = dtype(np.float32(alpha)) if dtype == np.float32 else alpha
    want = g * dtype(iscale) * ac * np.exp(x * dtype(iscale))
    _bits(got[neg], want[neg].astype(dtype))
    _bits(got[~neg], g[~neg])
    if _torch is not None and dtype == np.float64:
        t = _torch.tensor(x, requires_grad=True)
        _torch.celu(t, alpha).backward(_torch.tensor(g))
        # (ATen's exp is SLEEF's in its vector loop: the last bit may differ; the scale
        # of the alpha rounded to float is ~1e-7 relative)
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-14, atol=0)


def tanh_of(x: Tensor, y: Tensor):
    return gpujit.tanh(x * 0.5 + y)


def sigmoid_of(x: Tensor, y: Tensor):
    return gpujit.sigmoid(x * 0.5 + y)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("fn", [tanh_of, sigmoid_of], ids=["tanh", "sigmoid"])
def test_fused_backward_is_the_formula_of_the_fused_forward(fn, dtype):
    """A scripted call's fused backward computes PyTorch's formula (tanh's FMA through
    addcmul's fused form) of the output its fused forward gave, call after call. (The
    fused forward's tanh / sigmoid are the kernels' own, not NumPy's: they may differ
    from eager's in the last bit, so the replay reads the fused output.)"""
    rng = _rng(21)
    xs = [rng.uniform(-3, 3, 257).astype(dtype) for _ in range(2)]
    f = gpujit.jit.script(fn)
    for call in range(4):
        a, b = (gpujit.tensor(v, requires_grad=True) for v in xs)
        out = f(a, b)
        (out * gpujit.tensor(xs[1])).sum().backward()
    # (the 4th call runs the fused backward; the calls before it record op by op)
    y, g = out.detach().numpy(), xs[1]
    gy = g * _fma(-y, y, dtype(1)) if fn is tanh_of else g * (1 - y) * y
    _bits(b.grad.numpy(), gy)
    _bits(a.grad.numpy(), gy * dtype(0.5))
    assert "TensorExprGroup" in str(f.graph_for(a, b))


# ------------------------------------------------ nll_loss's cascade sum, by levels

def _cascade_reference(vals, ignored, dt):
    """LossNLL.cpp's loop, element by element: loss_partial_sums[0] -= x, then level j
    flushed into j + 1 while the index's j-th group of level_power bits is zero."""
    n = len(vals)
    levels = 8
    power = max(4, (n - 1).bit_length() // levels if n > 1 else 0)
    mask0 = (1 << power) - 1
    part = [dt.type(0)] * levels
    with np.errstate(over="ignore"):            # (float16 sums past 65504: inf, as Half's)
        return _cascade_loop(vals, ignored, dt, part, levels, power, mask0)


def _cascade_loop(vals, ignored, dt, part, levels, power, mask0):
    for b in range(len(vals)):
        if ignored[b]:
            continue
        part[0] = dt.type(part[0] - vals[b])
        for j in range(levels - 1):
            if b & (mask0 << (j * power)):
                break
            part[j + 1] = dt.type(part[j + 1] + part[j])
            part[j] = dt.type(0)
    total = dt.type(0)
    for p in part:
        total = dt.type(total + p)
    return total


@pytest.mark.parametrize("dtype", (np.float16, np.float32, np.float64))
def test_nll_loss_sum_by_whole_levels_is_the_element_cascade(dtype):
    """The cascade sum computed level by level (reshaped runs, one accumulate each: the
    common case of no ignored target) adds as the element-by-element loop, at the run
    boundaries (16, 256, 4096 targets) and past them; with ignored targets the general
    path."""
    rng = _rng(31)
    dt = np.dtype(dtype)
    for n in (1, 2, 16, 17, 255, 256, 257, 4096, 4097, 5000):
        lp = rng.uniform(-30, 0, (n, 3)).astype(dtype)
        t = rng.integers(0, 3, n)
        vals = lp[np.arange(n), t]
        for ignore in (False, True):
            tt = t.copy()
            if ignore:
                tt[rng.random(n) < 0.2] = -100
            got = gpujit.nn.functional.nll_loss(gpujit.tensor(lp), gpujit.tensor(tt),
                                                reduction="sum").numpy()
            want = _cascade_reference(vals, tt == -100, dt)
            _bits(got, np.asarray(want, dt), f"n={n} ignore={ignore}")
            if _torch is not None and dtype != np.float16:
                _bits(got, _torch.nn.functional.nll_loss(
                    _torch.tensor(lp), _torch.tensor(tt), reduction="sum").numpy())


# ------------------------------------------ activation kernels' backward formulas

def _np_fn(name):
    """gpujit's own elementwise function on a NumPy array (the replays read the same
    exp / tanh / erf values the derivative does)."""
    return lambda v: getattr(gpujit.tensor(v), name)().numpy()


def _activation_replays(dtype):
    exp, tanh, erf, log1p = (_np_fn(n) for n in ("exp", "tanh", "erf", "log1p"))
    c = dtype.type
    f32 = dtype == np.float32

    def sig(x):
        return c(1) / (exp(-x) + c(1))

    def gelu(g, x):
        cdf = (erf(x * c(np.sqrt(0.5))) + c(1)) * c(0.5)
        pdf = exp(x * x * c(-0.5)) * c(2 / np.sqrt(np.pi) * np.sqrt(0.5) * 0.5)
        return g * _fma(x, pdf, cdf)

    def gelu_tanh(g, x):
        beta, kappa = c(np.sqrt(2) * (2 / np.sqrt(np.pi)) * 0.5), c(0.044715)
        t = tanh((x + kappa * (x * x * x)) * beta)
        three_kappa = np.float32(3) * np.float32(0.044715) if f32 else c(3 * 0.044715)
        inner = _fma(x * x, np.full_like(x, three_kappa), c(1)) * beta
        return g * ((t + c(1)) * c(0.5) + x * c(0.5) * _fma(-t, t, c(1)) * inner)

    def silu(g, x):
        s = sig(x)
        return g * s * _fma(x, c(1) - s, c(1))

    def mish(g, x):
        t = tanh(log1p(exp(x)))
        return g * _fma(x * sig(x), _fma(-t, t, c(1)), t)

    def softplus(g, x, beta=2.5, threshold=7.0):
        xb = x * c(beta)
        z = exp(xb)
        with np.errstate(all="ignore"):
            return np.where(xb > c(threshold), g, g * z / (z + c(1)))

    def logsigmoid(g, x):
        b = exp(-np.abs(x))
        q = b / (b + c(1))
        return np.where(x < 0, c(1) - q, q) * g

    F = gpujit.nn.functional
    return {
        "gelu": (F.gelu, gelu),
        "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), gelu_tanh),
        "silu": (F.silu, silu),
        "mish": (F.mish, mish),
        "softplus": (lambda t: F.softplus(t, beta=2.5, threshold=7.0), softplus),
        "logsigmoid": (F.logsigmoid, logsigmoid),
    }


ACTIVATIONS = ("gelu", "gelu_tanh", "silu", "mish", "softplus", "logsigmoid")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_is_atens_kernel_formula(name, dtype):
    """gelu / silu / mish / softplus / logsigmoid backward as ATen's kernels write them
    (cpu/Activation.cpp), with the FMAs GCC contracts: silu's 1 + x * (1 - s), mish's
    tanh_sp + x * s * (1 - tanh_sp^2) and 1 - tanh_sp^2, gelu's cdf + x * pdf, gelu-tanh's
    1 - t^2 and 1 + 3 kappa x^2; softplus dy * z / (z + 1), logsigmoid through the
    buffer exp(-|x|). (gpujit's formulas differed from torch's in 30-50% of float64
    values; what differs now is SLEEF's exp / tanh / erf against NumPy's.)"""
    fn, replay = _activation_replays(np.dtype(dtype))[name]
    x, g = _values(dtype, 1000, "wide", 41)
    got, _ = _grad_of(fn, x, g)
    _bits(got, replay(g, x), name)


@needs_torch
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_close_to_torch_in_float64(name):
    """Against torch 2.13 itself: only the last bits SLEEF's vectorized exp / tanh / erf
    leave may differ (under 25% of the values -- mish's tanh(log1p(exp)) the most --, by
    a few ulp; before, 36-50%)."""
    fn, _ = _activation_replays(np.dtype(np.float64))[name]
    x, g = _values(np.float64, 2000, "wide", 43)
    got, _ = _grad_of(fn, x, g)
    t = _torch.tensor(x, requires_grad=True)
    tf = {"gelu": lambda v: _torch.nn.functional.gelu(v),
          "gelu_tanh": lambda v: _torch.nn.functional.gelu(v, approximate="tanh"),
          "silu": _torch.nn.functional.silu, "mish": _torch.nn.functional.mish,
          "softplus": lambda v: _torch.nn.functional.softplus(v, 2.5, 7.0),
          "logsigmoid": _torch.nn.functional.logsigmoid}[name]
    tf(t).backward(_torch.tensor(g))
    want = t.grad.numpy()
    # (gelu-tanh cancels in its far tails: a few 1e-15 absolute there)
    np.testing.assert_allclose(got, want, rtol=4e-15, atol=2e-14)
    assert (got != want).mean() < 0.25, (got != want).mean()


def test_float16_activation_backward_in_float_rounded_once():
    """float16 gradients are the float computation rounded once (ATen's reduced-float
    kernels), not float16 steps."""
    x, g = _values(np.float16, 500, "wide", 47)
    replays = _activation_replays(np.dtype(np.float32))
    for name in ("silu", "softplus", "gelu"):
        fn, replay = replays[name]
        got, _ = _grad_of(fn, x, g)
        want = replay(g.astype(np.float32), x.astype(np.float32)).astype(np.float16)
        _bits(got, want, name)
    # (logsigmoid's backward reads log_sigmoid_forward's buffer exp(-|x|), a float16
    # tensor: rounded to half before the float computation, as torch 2.13's)
    b = np.exp(-np.abs(x))
    q = b.astype(np.float32) / (b.astype(np.float32) + 1)
    want = (np.where(x < 0, 1 - q, q) * g.astype(np.float32)).astype(np.float16)
    _bits(_grad_of(gpujit.nn.functional.logsigmoid, x, g)[0], want, "logsigmoid buffer")


# ------------------------------------------------------- binary ops' derivatives

def _grads_of(fn, arrays, g):
    ts = [gpujit.tensor(a, requires_grad=True) for a in arrays]
    fn(gpujit, *ts).backward(gpujit.tensor(g))
    return [t.grad.numpy() for t in ts]


def _torch_grads_of(fn, arrays, g):
    ts = [_torch.tensor(a, requires_grad=True) for a in arrays]
    fn(_torch, *ts).backward(_torch.tensor(g))
    return [t.grad.numpy() for t in ts]


def _xyz(dtype, seed):
    rng = _rng(seed)
    return (rng.standard_normal(1000).astype(dtype), rng.uniform(0.5, 3, 1000).astype(dtype),
            rng.uniform(0.5, 3, 1000).astype(dtype), rng.standard_normal(1000).astype(dtype))


BINARY = {
    # div_tensor_other_backward: -grad * ((self / other) / other)
    "div": (lambda m, a, b: a / b, 2, lambda g, x, y, z, v: (g / y, -g * ((x / y) / y))),
    # grad * (tensor2 * value), grad * (tensor1 * value)
    "addcmul": (lambda m, a, b, c: m.addcmul(a, b, c, value=0.7), 3,
                lambda g, x, y, z, v: (g, g * (z * v), g * (y * v))),
    # grad * (value / tensor2) -- one division --, -grad * (value * tensor1 / tensor2^2)
    "addcdiv": (lambda m, a, b, c: m.addcdiv(a, b, c, value=0.7), 3,
                lambda g, x, y, z, v: (g, g * (v / z), -g * ((y * v) / (z * z)))),
    # a composite: x / (|x| + 1), through div's backward
    "softsign": (lambda m, a: m.nn.functional.softsign(a), 1, None),
    "log10": (lambda m, a: m.log10(a + 1.5), 1, None),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_derivatives_in_pytorchs_order(name, dtype):
    """div's gradient of the divisor is -grad * ((x / y) / y) (gpujit's
    (-grad * x) / (y * y) was an ulp off in ~45% of values: softsign, normalizations);
    addcmul / addcdiv scale the other tensor, not the gradient (~35%); log10 divides by
    derivatives.yaml's 2.3025850929940456, a double below math.log(10) (937 of 1000)."""
    fn, nargs, replay = BINARY[name]
    x, y, z, g = _xyz(dtype, 51)
    arrays = (x, y, z)[:nargs] if name not in ("log10",) else (y,)
    got = _grads_of(fn, arrays, g)
    if replay is not None:
        for i, (a, w) in enumerate(zip(got, replay(g, x, y, z, dtype(0.7)))):
            _bits(a, np.asarray(w, dtype), f"{name} input {i}")
    if name == "log10":
        _bits(got[0], (g / ((y + dtype(1.5)) * dtype(2.3025850929940456))).astype(dtype))
    if _torch is not None:
        for i, (a, w) in enumerate(zip(got, _torch_grads_of(fn, arrays, g))):
            _bits(a, w, f"{name} torch input {i}")


def test_sinc_gradient_divides_once_and_is_zero_where_the_square_is():
    """sinc_backward: grad * ((px * cos(px) - sin(px)) / (x * x * pi)), 0 where x * x * pi
    is 0 -- an x whose square underflows too (gpujit divided by px * x and masked only
    x == 0: NaN there)."""
    x, _, _, g = _xyz(np.float64, 53)
    x[:3] = (0.0, 1e-170, -1e-200)
    got = _grads_of(lambda m, a: m.sinc(a), (x,), g)[0]
    px = x * np.pi
    cos, sin = (_np_fn(n)(px) for n in ("cos", "sin"))
    sq = x * x * np.pi
    with np.errstate(all="ignore"):
        want = np.where(sq == 0, 0.0, g * ((px * cos - sin) / sq))
    _bits(got, want)
    assert (got[:3] == 0).all()
    if _torch is not None:
        w = _torch_grads_of(lambda m, a: m.sinc(a), (x,), g)[0]
        np.testing.assert_allclose(got, w, rtol=1e-13, atol=0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_glu_backward_order(dtype):
    """glu_backward_kernel: (1 - s) * s * a * grad for the gate's half, s * grad for the
    other (gpujit: grad * a * s * (1 - s))."""
    rng = _rng(55)
    x = rng.standard_normal((40, 30)).astype(dtype)
    g = rng.standard_normal((40, 15)).astype(dtype)
    t = gpujit.tensor(x, requires_grad=True)
    gpujit.nn.functional.glu(t, -1).backward(gpujit.tensor(g))
    s = _np_fn("sigmoid")(x[:, 15:])
    _bits(t.grad.numpy()[:, :15], s * g)
    _bits(t.grad.numpy()[:, 15:], (1 - s) * s * x[:, :15] * g)


# ------------------------------------------------- binary cross entropy's gradients

def _bce_case(dtype, seed=61):
    rng = _rng(seed)
    shape = (60, 15)            # 900 elements: 'mean' divides by a count not a power of 2
    x = rng.standard_normal(shape).astype(dtype)
    p = rng.uniform(0.01, 0.99, shape).astype(dtype)
    t = (rng.random(shape) > 0.5).astype(dtype)
    w = rng.uniform(0.5, 2, 15).astype(dtype)
    return x, p, t, w


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_gradients_as_atens_backward(dtype, reduction, weighted):
    """binary_cross_entropy_backward: grad * (x - t) / max((1 - x) x, 1e-12), times the
    weight, then / numel for 'mean' (gpujit divided the output gradient first: 1 / 900
    rounded, ~40% of values off); the target's -logit(x) * grad, times the weight, / numel
    (gpujit: clamped log(1 - x) - log(x))."""
    _, p, t, w = _bce_case(dtype)
    kw = {"weight": w} if weighted else {}

    def run(m):
        a, b = m.tensor(p, requires_grad=True), m.tensor(t, requires_grad=True)
        m.nn.functional.binary_cross_entropy(
            a, b, reduction=reduction, **{k: m.tensor(v) for k, v in kw.items()}).backward()
        return a.grad.numpy(), b.grad.numpy()

    gx, gt = run(gpujit)
    one, n = dtype(1), dtype(p.size)
    wx = one * (p - t) / np.maximum((one - p) * p, dtype(1e-12))
    wt = -_np_fn("logit")(p) * one
    if weighted:
        wx, wt = wx * w, wt * w
    if reduction == "mean":
        wx, wt = wx / n, wt / n
    _bits(gx, wx, "input")
    _bits(gt, wt, "target")
    if TORCH_AVX512:
        tx, tt = run(_torch)
        _bits(gx, tx, "torch input")
        if dtype == np.float64:       # (float32 logit: ATen's log is SLEEF's)
            _bits(gt, tt, "torch target")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("pos_weighted", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_with_logits_gradients_as_atens_backward(dtype, pos_weighted, weighted):
    """binary_cross_entropy_with_logits_backward: (sigmoid(x) - t) * grad (with pos_weight
    ((pw t + 1) - t) * sigmoid(x) - pw t), times the weight, / numel; the target's -x *
    grad (log_sigmoid(-x) - log_sigmoid(x) * pw), likewise (gpujit: times grad / numel,
    and lw * sigmoid(x) - pw t)."""
    x, _, t, w = _bce_case(dtype)
    pw = np.full(15, 1.5, dtype)
    kw = {}
    if weighted:
        kw["weight"] = w
    if pos_weighted:
        kw["pos_weight"] = pw

    def run(m):
        a, b = m.tensor(x, requires_grad=True), m.tensor(t, requires_grad=True)
        m.nn.functional.binary_cross_entropy_with_logits(
            a, b, **{k: m.tensor(v) for k, v in kw.items()}).backward()
        return a.grad.numpy(), b.grad.numpy()

    gx, gt = run(gpujit)
    s = _np_fn("sigmoid")(x)
    one = dtype(1)
    if pos_weighted:
        tp = pw * t
        wx = ((tp + one - t) * s - tp) * one
        ls = lambda v: gpujit.nn.functional.logsigmoid(gpujit.tensor(v)).numpy()  # noqa: E731
        wt = (ls(-x) - ls(x) * pw) * one
    else:
        wx, wt = (s - t) * one, -x * one
    if weighted:
        wx, wt = wx * w, wt * w
    n = dtype(x.size)
    _bits(gx, wx / n, "input")
    _bits(gt, wt / n, "target")
    if _torch is not None:      # (ATen's sigmoid / log_sigmoid: SLEEF's exp)
        tx, tt = run(_torch)
        tol = dict(rtol=1e-5, atol=1e-9) if dtype == np.float32 else dict(rtol=1e-13,
                                                                         atol=1e-18)
        np.testing.assert_allclose(gx, tx, **tol)
        np.testing.assert_allclose(gt, tt, **tol)


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_target_gradient_adds_in_torchs_order(log_target):
    """torch's kl_div composite computes its right operand first (GCC's order for ATen's
    `xlogy(t, t) - t * x` and `exp(t) * (t - x)`), so its later node's backward runs first
    and the target's gradient adds xlogy's two parts before -x: (log t + 1) - x (gpujit:
    (log t - x) + 1, 202 of 900 float64 values an ulp off)."""
    rng = _rng(71)
    x = rng.standard_normal((60, 15))
    p = rng.uniform(0.01, 0.99, (60, 15))
    t = np.log(p) if log_target else p

    def run(m):
        a, b = m.tensor(x, requires_grad=True), m.tensor(t, requires_grad=True)
        m.nn.functional.kl_div(a, b, reduction="sum", log_target=log_target).backward()
        return a.grad.numpy(), b.grad.numpy()

    gx, gt = run(gpujit)
    if log_target:
        e = _np_fn("exp")(t)
        want_t, want_x = (t - x) * e + e, -e
    else:
        want_t, want_x = (_np_fn("log")(t) + 1) - x, -t
    _bits(gt, want_t, "target")
    _bits(gx, want_x, "input")
    if TORCH_AVX512:
        tx, tt = run(_torch)
        _bits(gx, tx, "torch input")
        ok = gt == tt
        assert ok.mean() > 0.99, ok.mean()      # (log / exp: ATen's may differ in one)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("zeros", [0, 1, 2])
def test_prod_gradient_divides_the_result_when_there_is_no_zero(dtype, zeros):
    """prod_backward: grad * (result / x) when x holds no zero (gpujit used the exclusive
    cumulative products always: ~15% of values an ulp off), prod_safe_zeros_backward's
    grad * (left * right) otherwise."""
    rng = _rng(81)
    x = (rng.uniform(0.5, 1.5, (60, 5)) * np.sign(rng.standard_normal((60, 5)))).astype(dtype)
    if zeros:
        x[3, 1] = 0
    if zeros == 2:
        x[3, 2] = x[7, 0] = 0
    g = rng.standard_normal(60).astype(dtype)
    a = gpujit.tensor(x, requires_grad=True)
    out = a.prod(1)
    out.backward(gpujit.tensor(g))
    r = out.detach().numpy()
    if not zeros:
        want = g[:, None] * (r[:, None] / x)
    else:
        # (ATen's CPU cumprod carries its running product in double: acc_type)
        def cumprod(v):
            return np.cumprod(v.astype(np.float64), 1).astype(dtype)
        left = cumprod(np.concatenate([np.ones((60, 1), dtype), x[:, :-1]], 1))
        right = cumprod(np.concatenate([np.ones((60, 1), dtype), x[:, :0:-1]], 1))[:, ::-1]
        want = g[:, None] * (left * right)
    _bits(a.grad.numpy(), want)
    if _torch is not None:
        t = _torch.tensor(x, requires_grad=True)
        t.prod(1).backward(_torch.tensor(g))
        _bits(a.grad.numpy(), t.grad.numpy(), "torch")
