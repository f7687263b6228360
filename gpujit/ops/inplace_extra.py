"""In-place forms PyTorch has of non-pointwise ops (cumsum_, cumprod_, addmm_, baddbmm_,
addmv_, addr_), addbmm / addbmm_, the incomplete gamma functions igamma / igammac (+ in
place; torch.special.gammainc / gammaincc), mvlgamma / mvlgamma_ and the random fills
log_normal_, cauchy_ and geometric_.

An in-place form (`declare_inplace`) is its out-of-place op's body written back into self,
with that op's shape rule and derivative (autograd saves self before the write).
"""
from __future__ import annotations

import math

import numpy as np

from ..device import device_of_array
from .kernel_names import kernel_name, not_implemented
from .. import dtypes as _dt
from .meta import TensorMeta, broadcast_shapes, same_as
from .registry import op, OPS, Derivative
from .registry import derivative as _derivative
from . import special as _special
from .random_ops import _check_continuous, _check_float, _gen_like, _write_serial, \
    _zeros_grad

_LA = {"linalg"}
_RI = {"random", "inplace"}


def _dtn(d):
    return d if isinstance(d, _dt.dtype) else _dt.from_numpy_dtype(d)


def declare_inplace(base_name, name):
    """aten::<name>(Tensor(a!) self, <base's other arguments>) -> Tensor(a!): the op
    `base_name` computed, checked to fit self (shape and dtype, as PyTorch's in-place
    kernels), and written into self."""
    base = OPS[base_name]
    s = base.schema
    text = str(s)
    args = text[text.index("(") + 1:text.rindex(") ->")]
    rest = args.split(",", 1)[1] if "," in args else ""
    schema = f"aten::{name}(Tensor(a!) self,{rest}) -> Tensor(a!)".replace(",)", ")")

    def meta(self, *a, **kw):
        m = base.meta(self, *a, **kw)
        _fits(name, tuple(self.shape), self.dtype, tuple(m.shape), m.dtype)
        return TensorMeta(self.dtype, tuple(self.shape), self.device)

    @op(schema, tags={"inplace"}, function=False, meta=meta)
    def impl(xp, self, *a, **kw):
        r = base.impl(xp, self, *a, **kw)
        _fits(name, tuple(self.shape), _dtn(self.dtype), tuple(r.shape), _dtn(r.dtype))
        self[...] = r
        return self
    impl.__name__ = name
    impl.op.derivative = base.derivative
    impl.op.inplace_of = base       # (functionalization and the in-place checks read it)
    return impl


def _fits(name, self_shape, self_dt, shape, dt):
    if None not in self_shape and None not in shape and self_shape != shape:
        raise RuntimeError(f"Bad in-place call: input tensor size {list(self_shape)} and output "
                           f"tensor size {list(shape)} should match")
    if dt is not self_dt and not _dt.can_cast(dt, self_dt):
        raise RuntimeError(f"result type {dt.short_name} can't be cast to the desired output "
                           f"type {self_dt.short_name}")


# ------------------------------------------------------------------ addbmm

def _addbmm_meta(self, batch1, batch2, beta=1, alpha=1):
    for n, t in (("batch1", batch1), ("batch2", batch2)):
        if len(t.shape) != 3:
            raise RuntimeError(f"{n} must be a 3D tensor")
    b1, b2 = tuple(batch1.shape), tuple(batch2.shape)
    if b1[0] != b2[0] and None not in (b1[0], b2[0]):
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {b1[0]} "
                           f"and {b2[0]}")
    if b1[2] != b2[1] and None not in (b1[2], b2[1]):
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({b1[1]}x{b1[2]} and "
                           f"{b2[1]}x{b2[2]})")
    from .linalg import addmm_dtypes   # (addmm's checks: self against batch2, then the batches)
    addmm_dtypes("addbmm", self.dtype, batch1.dtype, batch2.dtype)
    shape = broadcast_shapes(tuple(self.shape), (b1[1], b2[2]))
    if shape != (b1[1], b2[2]):
        raise RuntimeError(f"The expanded size of the tensor ({b2[2]}) must match the "
                           f"existing size ({self.shape[-1]}) at non-singleton dimension 1")
    return TensorMeta(self.dtype, (b1[1], b2[2]), self.device)


@op("aten::addbmm(Tensor self, Tensor batch1, Tensor batch2, *, Scalar beta=1, "
    "Scalar alpha=1) -> Tensor", tags=_LA, meta=_addbmm_meta)
def addbmm(xp, self, batch1, batch2, beta=1, alpha=1):
    """beta * self + alpha * sum over the batch of batch1[i] @ batch2[i]."""
    _addbmm_meta(*(TensorMeta(_dtn(t.dtype), t.shape, None) for t in (self, batch1, batch2)))
    from .linalg import _add_product
    p = batch1.reshape(-1, 1, 1) if batch1.size == 0 else None
    if p is not None or batch1.shape[0] == 0:
        prod = xp.zeros((batch1.shape[1], batch2.shape[2]), dtype=self.dtype)
    elif self.dtype == np.float16:
        # ATen's: one addmm_ per batch into the result (beta on the first), each rounded
        # to float16 once from its float32 sum
        from .linalg import _product
        r = self
        for i in range(batch1.shape[0]):
            r = _add_product(xp, r, _product(xp, batch1[i], batch2[i], False),
                             beta if i == 0 else 1, alpha, self.dtype)
        return r
    else:
        a = xp.concatenate(list(batch1), axis=1)      # (n, b*m)
        b = xp.concatenate(list(batch2), axis=0)      # (b*m, p)
        prod = OPS["aten::mm"].impl(xp, a, b)
    return _add_product(xp, self, prod, beta, alpha)


@_derivative(addbmm, reads={"batch1": ("batch2",), "batch2": ("batch1",)})
def _addbmm_grad(grad, batch1, batch2, beta, alpha, needs_grad):
    # (each batch's gradient reads only the other; self's none: PyTorch keeps no more)
    g_self = grad * beta if beta != 1 else grad
    g = grad.unsqueeze(0)
    g1 = g.matmul(batch2.mT) if needs_grad[1] else None
    g2 = batch1.mT.matmul(g) if needs_grad[2] else None
    if alpha != 1:
        g1 = None if g1 is None else g1 * alpha
        g2 = None if g2 is None else g2 * alpha
    return g_self, g1, g2


addbmm_ = declare_inplace("aten::addbmm", "addbmm_")


def _declare_scan_inplace(base_name, name):
    """cumsum_ / cumprod_: the scan computed in self's dtype (PyTorch's cumsum_out into
    self: cumsum_ of an int32 tensor adds in int32, of a bool tensor is its kernel's
    NotImplementedError), and a `dtype` other than self's refused."""
    base = OPS[base_name]

    def check(self_dt, dtype):
        if dtype is not None and _dt.to_dtype(dtype) is not self_dt:
            raise RuntimeError(f"Bad in-place call: input tensor dtype "
                               f"{_dt.CPP_NAMES[self_dt.name]} and output tensor dtype "
                               f"{_dt.CPP_NAMES[_dt.to_dtype(dtype).name]} should match")

    def meta(self, dim, dtype=None):
        check(self.dtype, dtype)
        base.meta(self, dim, self.dtype)
        return TensorMeta(self.dtype, tuple(self.shape), self.device)

    @op(f"aten::{name}(Tensor(a!) self, int dim, *, ScalarType? dtype=None) -> Tensor(a!)",
        tags={"inplace"}, function=False, meta=meta)
    def impl(xp, self, dim, dtype=None):
        check(_dtn(self.dtype), dtype)
        self[...] = base.impl(xp, self, dim, _dtn(self.dtype))
        return self
    impl.__name__ = name
    impl.op.derivative = base.derivative
    impl.op.inplace_of = base
    return impl


cumsum_ = _declare_scan_inplace("aten::cumsum", "cumsum_")
cumprod_ = _declare_scan_inplace("aten::cumprod", "cumprod_")
addmm_ = declare_inplace("aten::addmm", "addmm_")
baddbmm_ = declare_inplace("aten::baddbmm", "baddbmm_")
addmv_ = declare_inplace("aten::addmv", "addmv_")
addr_ = declare_inplace("aten::addr", "addr_")


# ------------------------------------------------------------------ igamma / igammac

def _igamma_meta(self, other, kernel="igamma_cpu"):
    d = _dt.promote_types(self.dtype, other.dtype)
    if d.category != _dt.FLOATING:
        raise not_implemented(kernel, self, d.short_name)
    return TensorMeta(d, broadcast_shapes(tuple(self.shape), tuple(other.shape)),
                      self.device)


def _igamma(xp, a, x, upper):
    """The regularized incomplete gamma P(a, x) (or Q = 1 - P), in float64: the series for
    x < a + 1, else the continued fraction (Lentz), each run until every element converged.
    """
    a, x = xp.broadcast_arrays(xp.asarray(a, dtype=np.float64), xp.asarray(x, dtype=np.float64))
    lg = _special.lgamma(xp, a)
    with np.errstate(all="ignore"):
        front = xp.exp(a * xp.log(x) - x - lg)
        # series: P = front / a * sum_n x^n / ((a+1)...(a+n))
        term = 1.0 / a
        total = term.copy()
        ap = a.copy()
        for _ in range(2000):
            ap = ap + 1
            term = term * x / ap
            total = total + term
            if not bool(xp.any(xp.abs(term) > xp.abs(total) * 1e-17)):
                break
        p_series = front * total
        # continued fraction for Q (modified Lentz)
        tiny = 1e-300
        b = x + 1 - a
        c = xp.full(a.shape, 1 / tiny)
        d = 1 / xp.where(b == 0, tiny, b)
        h = d.copy()
        for i in range(1, 2000):
            an = -i * (i - a)
            b = b + 2
            d = an * d + b
            d = 1 / xp.where(xp.abs(d) < tiny, tiny, d)
            c = b + an / c
            c = xp.where(xp.abs(c) < tiny, tiny, c)
            delta = d * c
            h = h * delta
            if not bool(xp.any(xp.abs(delta - 1) > 1e-16)):
                break
        q_cf = front * h
        use_series = x < a + 1
        p = xp.where(use_series, p_series, 1 - q_cf)
        q = xp.where(use_series, 1 - p_series, q_cf)
        r = q if upper else p
        # edges as PyTorch's calc_igamma / calc_igammac, in its order (the last where
        # here is its first test): NaN for negative a or x; a == 0: P 1 for x > 0, else
        # NaN; x == 0: P 0; a == inf: NaN for x == inf, else P 0; x == inf: P 1
        p1, p0 = (0.0, 1.0) if upper else (1.0, 0.0)
        r = xp.where(xp.isinf(x), p1, r)
        r = xp.where(xp.isinf(a), xp.where(xp.isinf(x), np.nan, p0), r)
        r = xp.where(x == 0, p0, r)
        r = xp.where(a == 0, xp.where(x > 0, p1, np.nan), r)
        r = xp.where((a < 0) | (x < 0) | xp.isnan(a) | xp.isnan(x), np.nan, r)
    return r


def _declare_igamma(name, upper, inplace):
    opname = name + ("_" if inplace else "")
    sig, ret = ("Tensor(a!) self", "Tensor(a!)") if inplace else ("Tensor self", "Tensor")

    def meta(self, other):
        m = _igamma_meta(self, other, name + "_cpu")
        if inplace:
            _fits(opname, tuple(self.shape), self.dtype, tuple(m.shape), m.dtype)
            return TensorMeta(self.dtype, tuple(self.shape), self.device)
        return m

    @op(f"aten::{opname}({sig}, Tensor other) -> {ret}",
        tags={"inplace"} if inplace else {"pointwise", "no_fuse"}, function=not inplace,
        meta=meta)
    def impl(xp, self, other):
        m = meta(TensorMeta(_dtn(self.dtype), self.shape, device_of_array(self)),
                 TensorMeta(_dtn(other.dtype), other.shape, None))
        r = _igamma(xp, self, other, upper).astype(m.dtype.np)
        if inplace:
            self[...] = r
            return self
        return r
    impl.__name__ = opname

    def grad_fn(grad, self, other, needs_grad):
        if needs_grad[0]:
            raise RuntimeError(f"the derivative for '{name}: input' is not implemented.")
        # dP/dx = x^(a-1) e^-x / Gamma(a); dQ/dx is its negative
        import gpujit
        d = ((self - 1) * other.log() - other - gpujit.lgamma(self)).exp()
        return None, grad * (-d if upper else d)
    impl.op.derivative = Derivative(grad_fn, ("self", "other"), ("self", "other",
                                                                 "needs_grad"))
    return impl


igamma = _declare_igamma("igamma", False, False)
igamma_ = _declare_igamma("igamma", False, True)
igammac = _declare_igamma("igammac", True, False)
igammac_ = _declare_igamma("igammac", True, True)
igamma_.op.inplace_of, igammac_.op.inplace_of = igamma.op, igammac.op


# ------------------------------------------------------------------ mvlgamma

def _mvlgamma_meta(self, p):
    if self.dtype is _dt.bool:
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    d = self.dtype if self.dtype.category == _dt.FLOATING else _dt.get_default_dtype()
    return TensorMeta(d, tuple(self.shape), self.device)


def _mvlgamma(xp, self, p):
    """PyTorch's composite in the result dtype: arange(-p/2 + 1/2, 1/2, 1/2) + x, lgamma,
    sum over the p terms in order (float16 accumulates in float32), + p (p - 1) / 4
    log(pi) -- each op's result rounded to that dtype (float16 mvlgamma(x, 2) differed in
    1116 of 4096 random elements computed in float64)."""
    dt = self.dtype if self.dtype.kind == "f" else np.dtype(np.float64)
    ct = np.dtype(np.float32) if dt == np.float16 else dt

    def r(v):
        return v.astype(dt).astype(ct)
    x = self.astype(ct)
    total = None
    for k in range(p):
        # (lgamma in the dtype, as the composite's lgamma_: float16 rounds the float32
        # value, ops/special.lgamma)
        arg = r(x + ct.type(-p * 0.5 + 0.5 + k * 0.5))
        term = r(_special.lgamma(xp, arg.astype(dt)))
        total = term if total is None else total + term
    return r(r(total) + ct.type(dt.type(p * (p - 1) / 4 * math.log(math.pi))))


@op("aten::mvlgamma(Tensor self, int p) -> Tensor", tags={"pointwise", "no_fuse"},
    promote="float", meta=_mvlgamma_meta)
def mvlgamma(xp, self, p):
    """The log of the multivariate gamma function of dimension p: sum over j < p of
    lgamma(self - j / 2) + p (p - 1) / 4 log(pi)."""
    m = _mvlgamma_meta(TensorMeta(_dtn(self.dtype), self.shape, None), p)
    return _mvlgamma(xp, self, p).astype(m.dtype.np)


def _mvlgamma_inplace_meta(self, p):
    m = _mvlgamma_meta(self, p)
    _fits("mvlgamma_", tuple(self.shape), self.dtype, tuple(m.shape), m.dtype)
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


@op("aten::mvlgamma_(Tensor(a!) self, int p) -> Tensor(a!)", tags={"inplace"},
    function=False, meta=_mvlgamma_inplace_meta)
def mvlgamma_(xp, self, p):
    _mvlgamma_inplace_meta(TensorMeta(_dtn(self.dtype), self.shape, None), p)
    self[...] = _mvlgamma(xp, self, p)
    return self


mvlgamma_.op.inplace_of = mvlgamma.op


def _mvlgamma_kinds(kinds):
    # (the pointwise entry promotes a bool tensor to float before the body sees it)
    if kinds[0][0] is _dt.bool:
        raise RuntimeError("The input tensor may not be a boolean tensor.")


mvlgamma.op.check_kinds = _mvlgamma_kinds


@_derivative(mvlgamma, mvlgamma_)
def _mvlgamma_grad(grad, self, p):
    import gpujit
    d = gpujit.digamma(self)
    for j in range(1, p):
        d = d + gpujit.digamma(self - j / 2)
    return grad * d


# ------------------------------------------------------------------ random fills

@op("aten::log_normal_(Tensor(a!) self, float mean=1, float std=2, *, "
    "Generator? generator=None) -> Tensor(a!)", tags=_RI, function=False, meta=same_as(0))
def log_normal_(xp, self, mean=1, std=2, generator=None):
    _check_float(self, kernel_name("log_normal_cpu", xp))
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    # ATen's lognormal_distribution<double>: exp of its scalar normal sampler, in order
    g = _gen_like(self, None, generator)
    cpu = xp is np and hasattr(g, "u53")

    def draw(shape):            # (in memory order: _write_serial's view)
        v = g.normal_serial(int(np.prod(shape, dtype=np.int64))).reshape(shape)
        if cpu:                 # (the CPU stream: `v * std + mean` fused, C's exp)
            from .fma import fma64
            from .random import libm
            return libm("exp", fma64(v, float(std), float(mean))).astype(self.dtype)
        return xp.exp(v * float(std) + float(mean)).astype(self.dtype)
    return _write_serial(self, draw)


@op("aten::cauchy_(Tensor(a!) self, float median=0, float sigma=1, *, "
    "Generator? generator=None) -> Tensor(a!)", tags=_RI, function=False, meta=same_as(0))
def cauchy_(xp, self, median=0, sigma=1, generator=None):
    _check_continuous(self, "Cauchy", c_name=True)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    g = _gen_like(self, None, generator)
    cpu = xp is np and hasattr(g, "u53")

    def draw(shape):
        u = g.uniform(shape, np.dtype(np.float64))
        if cpu:                 # (the CPU stream: C's tan, `median + sigma * t` fused)
            from .fma import fma64
            from .random import libm
            return fma64(float(sigma), libm("tan", math.pi * (u - 0.5)),
                         float(median)).astype(self.dtype)
        return (median + sigma * xp.tan(math.pi * (u - 0.5))).astype(self.dtype)
    return _write_serial(self, draw)


@op("aten::geometric_(Tensor(a!) self, float p, *, Generator? generator=None) -> "
    "Tensor(a!)", tags=_RI, function=False, meta=same_as(0))
def geometric_(xp, self, p, generator=None):
    """The number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    if self.dtype == np.bool_:
        raise not_implemented("geometric_cpu", xp, "Bool")
    g = _gen_like(self, None, generator)
    cpu = xp is np and hasattr(g, "u53")

    def draw(shape):
        u = g.uniform(shape, np.dtype(np.float64))
        with np.errstate(divide="ignore"):      # (ATen's: log(u), not log1p(-u); C's log)
            if cpu:
                from .random import libm
                k = np.ceil(libm("log", u) / math.log1p(-p))
            else:
                k = xp.ceil(xp.log(u) / math.log1p(-p))
        return xp.maximum(k, 1).astype(self.dtype)
    return _write_serial(self, draw)


@_derivative(log_normal_, cauchy_, geometric_)
def _random_fill_grad(grad):
    """Zeros, as PyTorch's random fills (the drawn values do not depend on self's)."""
    return _zeros_grad(grad)
