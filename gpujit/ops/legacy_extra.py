"""torch functions kept for old code and TorchScript: nuclear_norm / frobenius_norm
(deprecated, warn once as PyTorch), norm_except_dim (weight_norm's), matrix_rank (removed:
PyTorch's error), as_strided_ / resize_as_ as functions, empty_permuted, and the count
samplers poisson and binomial (generator=; the sample carries a zero gradient for poisson
as PyTorch's PoissonBackward, none for binomial).
"""
from __future__ import annotations

import numpy as np

from .kernel_names import not_implemented
from .. import dtypes as _dt
from .._frames import warn_at_user_frame
from ..device import cpu as _cpu, device as _device_cls, device_of_array
from .meta import TensorMeta, broadcast_shapes, int_list, wrap_dim
from .registry import op, OPS
from .registry import derivative as _derivative, nondifferentiable as _nondiff
from .derivatives import not_implemented as _not_implemented
from .creation import _default
from .random import generator_for
from .stats_ops import replay_derivative

PUBLIC = {}

_LA = {"linalg"}
_MN = OPS["aten::linalg_matrix_norm.str_ord"]
_VN = OPS["aten::linalg_vector_norm"]
_warned: set = set()


def _warn_once(name, instead):
    from ..runtime_flags import is_warn_always_enabled
    if name not in _warned or is_warn_always_enabled():
        _warned.add(name)
        warn_at_user_frame(f"at::{name} is deprecated and it is just left for JIT "
                           f"compatibility. It will be removed in a future PyTorch release. "
                           f"Please use `{instead}` instead")


# ------------------------------------------------------------------ nuclear / frobenius

@op("aten::nuclear_norm(Tensor self, bool keepdim=False) -> Tensor", tags=_LA,
    meta=lambda self, keepdim=False: _MN.meta(self, "nuc", [-2, -1], keepdim))
def nuclear_norm(xp, self, keepdim=False):
    """The sum of the singular values of the matrices in the last two dims (deprecated:
    linalg.matrix_norm(A, 'nuc'))."""
    _warn_once("nuclear_norm", "linalg.matrix_norm(A, 'nuc', dim, keepdim)")
    return _MN.impl(xp, self, "nuc", (-2, -1), keepdim)


@op("aten::nuclear_norm.dim(Tensor self, int[2] dim, bool keepdim=False) -> Tensor",
    tags=_LA, name="nuclear_norm",
    meta=lambda self, dim, keepdim=False: _MN.meta(self, "nuc", int_list(dim), keepdim))
def nuclear_norm_dim(xp, self, dim, keepdim=False):
    _warn_once("nuclear_norm", "linalg.matrix_norm(A, 'nuc', dim, keepdim)")
    return _MN.impl(xp, self, "nuc", tuple(int_list(dim)), keepdim)


# (at forward, as PyTorch's composite: matrix_norm 'nuc' keeps the SVD, not the input)
replay_derivative(nuclear_norm.op, lambda self, keepdim: _MN.public(
    self, "nuc", [-2, -1], keepdim), ("self",), ("self", "keepdim"), at_forward=True)
replay_derivative(nuclear_norm_dim.op, lambda self, dim, keepdim: _MN.public(
    self, "nuc", list(dim), keepdim), ("self",), ("self", "dim", "keepdim"), at_forward=True)


def _nuclear_composite(self, dim=(-2, -1), keepdim=False):
    """nuclear_norm recording gradients: PyTorch's linalg.matrix_norm(self, 'nuc', ...)
    (whose composite records SumBackward1 -> LinalgSvdBackward0 -> PermuteBackward0)."""
    if isinstance(dim, bool):       # (nuclear_norm(self, keepdim))
        dim, keepdim = (-2, -1), dim
    _warn_once("nuclear_norm", "linalg.matrix_norm(A, 'nuc', dim, keepdim)")
    return _MN.public(self, "nuc", list(int_list(dim)), keepdim)


nuclear_norm.op.composite = nuclear_norm_dim.op.composite = _nuclear_composite


def _fro_dims(dim):
    dim = int_list(dim)
    if len(dim) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dim)} dimensions "
                           f"instead.")
    return dim


def _fro_meta(self, dim, keepdim=False):
    if self.dtype.category != _dt.FLOATING:
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {self.dtype.short_name} instead.")
    return _VN.meta(self, 2, _fro_dims(dim) or None, keepdim)


@op("aten::frobenius_norm.dim(Tensor self, int[1] dim, bool keepdim=False) -> Tensor",
    tags=_LA, name="frobenius_norm", meta=_fro_meta)
def frobenius_norm(xp, self, dim, keepdim=False):
    """The 2-norm over dims (at most two; deprecated: linalg.vector_norm(A, 2, dim))."""
    _fro_meta(TensorMeta(_dt.from_numpy_dtype(self.dtype), self.shape, None), dim, keepdim)
    _warn_once("frobenius_norm", "linalg.vector_norm(A, 2., dim, keepdim)")
    d = _fro_dims(dim)
    return _VN.impl(xp, self, 2, d or None, keepdim)


replay_derivative(frobenius_norm.op, lambda self, dim, keepdim: _VN.public(
    self, 2, list(dim) or None, keepdim), ("self",), ("self", "dim", "keepdim"))


# ------------------------------------------------------------------ aten::norm
# TorchScript's x.norm(p, dim, keepdim) (torch's graph: aten::norm; eager x.norm is the
# Python wrapper): linalg_vector_norm's numbers, p None the 2-norm

def _p(p):
    return 2 if p is None else p


@op("aten::norm.Scalar(Tensor self, Scalar p=2) -> Tensor", tags=_LA | {"reduction"},
    method=False, function=False, meta=lambda self, p=2: _VN.meta(self, p, None, False))
def norm_scalar(xp, self, p=2):
    return _VN.impl(xp, self, p, None, False)


@op("aten::norm.ScalarOpt_dim(Tensor self, Scalar? p, int[1] dim, bool keepdim=False) -> "
    "Tensor", tags=_LA | {"reduction"}, method=False, function=False,
    meta=lambda self, p, dim, keepdim=False: _VN.meta(self, _p(p), int_list(dim), keepdim))
def norm_opt_dim(xp, self, p, dim, keepdim=False):
    return _VN.impl(xp, self, _p(p), int_list(dim), keepdim)


@op("aten::norm.ScalarOpt_dim_dtype(Tensor self, Scalar? p, int[1] dim, bool keepdim, *, "
    "ScalarType dtype) -> Tensor", tags=_LA | {"reduction"}, method=False, function=False,
    meta=lambda self, p, dim, keepdim, dtype: _VN.meta(self, _p(p), int_list(dim), keepdim,
                                                       dtype))
def norm_opt_dim_dtype(xp, self, p, dim, keepdim, dtype):
    return _VN.impl(xp, self, _p(p), int_list(dim), keepdim, dtype)


@op("aten::norm.ScalarOpt_dtype(Tensor self, Scalar? p, *, ScalarType dtype) -> Tensor",
    tags=_LA | {"reduction"}, method=False, function=False,
    meta=lambda self, p, dtype: _VN.meta(self, _p(p), None, False, dtype))
def norm_opt_dtype(xp, self, p, dtype):
    return _VN.impl(xp, self, _p(p), None, False, dtype)


replay_derivative(norm_scalar.op, lambda self, p: _VN.public(self, p), ("self",),
                  ("self", "p"))
replay_derivative(norm_opt_dim.op, lambda self, p, dim, keepdim: _VN.public(
    self, _p(p), list(dim), keepdim), ("self",), ("self", "p", "dim", "keepdim"))
replay_derivative(norm_opt_dim_dtype.op, lambda self, p, dim, keepdim, dtype: _VN.public(
    self, _p(p), list(dim), keepdim, dtype=dtype), ("self",),
    ("self", "p", "dim", "keepdim", "dtype"))
replay_derivative(norm_opt_dtype.op, lambda self, p, dtype: _VN.public(
    self, _p(p), dtype=dtype), ("self",), ("self", "p", "dtype"))


# ------------------------------------------------------------------ norm_except_dim

def _except_axes(dim, ndim):
    if dim == -1:
        return None
    d = wrap_dim(dim, ndim)
    return [k for k in range(ndim) if k != d]


def _nexd_meta(v, pow=2, dim=0):
    axes = _except_axes(dim, len(v.shape))
    if axes is None:
        return _VN.meta(v, pow, None, False)
    return _VN.meta(v, pow, axes, True)


@op("aten::norm_except_dim(Tensor v, int pow=2, int dim=0) -> Tensor", tags=_LA,
    method=False, contiguous=True, meta=_nexd_meta)
def norm_except_dim(xp, v, pow=2, dim=0):
    """The pow-norm of v over every dim but `dim` (kept as size-1 dims); over all of v for
    dim=-1 (a 0-dim result), as weight_norm computes g."""
    axes = _except_axes(dim, v.ndim)
    if axes is None:
        return _VN.impl(xp, v, pow, None, False)
    return _VN.impl(xp, v, pow, axes, True) if axes else _VN.impl(xp, v, pow, [], True)


def _nexd_compose(v, pow, dim):
    axes = _except_axes(dim, v.dim())
    return _VN.public(v, pow, None, False) if axes is None else _VN.public(v, pow, axes, True)


replay_derivative(norm_except_dim.op, _nexd_compose, ("v",), ("v", "pow", "dim"))


# ------------------------------------------------------------------ matrix_rank (removed)

def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed.\n"
        "Please use the `torch.linalg.matrix_rank` function instead. "
        "The parameter 'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'.")


PUBLIC["matrix_rank"] = matrix_rank


# ------------------------------------------------------------------ as_strided_, resize_as_

_AS = OPS["aten::as_strided"]


@op("aten::as_strided_(Tensor(a!) self, SymInt[] size, SymInt[] stride, "
    "SymInt? storage_offset=None) -> Tensor(a!)", tags={"inplace", "inplace_view"},
    meta=lambda self, size, stride, storage_offset=None: _AS.meta(self, size, stride,
                                                                  storage_offset))
def as_strided_(xp, self, size, stride, storage_offset=None):
    """self made the (size, stride, storage_offset) view of its own storage, in place."""
    return _AS.impl(xp, self, size, stride, storage_offset)


as_strided_.op.derivative = _AS.derivative


def resize_as_(input, the_template, *, memory_format=None):
    """torch.resize_as_ (Tensor.resize_as_ as a function)."""
    return input.resize_as_(the_template, memory_format=memory_format)


PUBLIC.update(resize_as_=resize_as_)


# ------------------------------------------------------------------ empty_permuted

def _perm_check(size, physical_layout):
    size, layout = [int(s) for s in size], [int(d) for d in physical_layout]
    if len(size) != len(layout):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(size)} is not equal to "
                           f"len(physical_layout) = {len(layout)}")
    seen = set()
    for i, d in enumerate(layout):
        if not 0 <= d < len(size):
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and "
                               f"{len(size) - 1}, but got {d} at index {i}).  NB: negative "
                               f"dims not currently supported; file an issue if you want it.")
        if d in seen:
            raise RuntimeError("Duplicate dim not allowed")
        seen.add(d)
    return size, layout


@op("aten::empty_permuted(SymInt[] size, int[] physical_layout, *, ScalarType? dtype=None, "
    "Layout? layout=None, Device? device=None, bool? pin_memory=None) -> Tensor",
    tags={"factory"}, method=False,
    meta=lambda size, physical_layout, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_default(dtype), tuple(_perm_check(size, physical_layout)[0]),
               _cpu if device is None else _device_cls(device)))
def empty_permuted(xp, size, physical_layout, dtype=None, layout=None, device=None,
                   pin_memory=None):
    """An uninitialized tensor of `size` whose dims lie in memory in the order
    physical_layout (outermost first): empty_permuted((2, 3, 5), (0, 2, 1)) has strides
    (15, 1, 3)."""
    size, order = _perm_check(size, physical_layout)
    npdt = np.dtype(_default(dtype).np)
    if 0 in size:
        # no elements: the strides PyTorch gives (the physical layout's, each size taken
        # as at least 1), which NumPy would report as zeros
        st, k = [0] * len(size), 1
        for d in reversed(order):
            st[d] = k
            k *= max(size[d], 1)
        return xp.lib.stride_tricks.as_strided(xp.empty(1, dtype=npdt), shape=tuple(size),
                                               strides=tuple(s * npdt.itemsize for s in st))
    phys = xp.empty([size[d] for d in order], dtype=npdt)
    inv = [0] * len(order)
    for i, d in enumerate(order):
        inv[d] = i
    return phys.transpose(inv)


_nondiff(empty_permuted, reason="a factory: its values depend on no tensor")


# ------------------------------------------------------------------ poisson, binomial

def _poisson_meta(self, generator=None):
    if self.dtype.category != _dt.FLOATING:
        raise not_implemented("poisson_cpu", self, self.dtype.short_name)
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


@op("aten::poisson(Tensor self, Generator? generator=None) -> Tensor", tags={"random"},
    method=False, meta=_poisson_meta)
def poisson(xp, self, generator=None):
    """A Poisson sample with rate self (elementwise), in self's dtype."""
    _poisson_meta(TensorMeta(_dt.from_numpy_dtype(self.dtype), self.shape,
                             device_of_array(self)))
    if self.size and bool((self < 0).any()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    st = generator_for(device_of_array(self), generator)
    return xp.asarray(st.poisson(self.astype(np.float64))).astype(self.dtype)  # (0-dim: an int)


@_derivative(poisson)
def _poisson_grad(grad):
    import gpujit
    return gpujit.zeros_like(grad)


def _standard_gamma_meta(self, generator=None, _kernel="gamma_cpu"):
    if self.dtype.category != _dt.FLOATING or self.dtype.np.itemsize < 4:
        raise not_implemented(_kernel, self, self.dtype.short_name)
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


def _dirichlet_meta(self, generator=None):
    return _standard_gamma_meta(self, generator, "dirichlet")


@op("aten::_standard_gamma(Tensor self, Generator? generator=None) -> Tensor",
    tags={"random"}, method=False, meta=_standard_gamma_meta)
def _standard_gamma(xp, self, generator=None):
    """Gamma(self, 1) samples elementwise, in self's dtype (at least its smallest normal
    number): ATen's sampler on the CPU, NumPy's / CuPy's seeded from the stream elsewhere."""
    _standard_gamma_meta(TensorMeta(_dt.from_numpy_dtype(self.dtype), self.shape,
                                    device_of_array(self)))
    st = generator_for(device_of_array(self), generator)
    if hasattr(st, "standard_gamma"):
        return st.standard_gamma(np.asarray(self, order="C"), self.dtype)
    seed = int(st.integers(0, 1 << 62, (1,))[0])
    x = xp.random.default_rng(seed).standard_gamma(self.astype(np.float64)) if xp is np \
        else xp.random.RandomState(seed).standard_gamma(self.astype(np.float64))
    return xp.maximum(x, np.finfo(self.dtype).tiny).astype(self.dtype)


@op("aten::_sample_dirichlet(Tensor self, Generator? generator=None) -> Tensor",
    tags={"random"}, method=False, meta=_dirichlet_meta)
def _sample_dirichlet(xp, self, generator=None):
    """Dirichlet(self) samples over the last dimension, as ATen's: Gamma(alpha, 1) draws
    in double (at least its smallest normal), normalized in double, cast back and kept
    within [smallest normal, the float below 1]."""
    _dirichlet_meta(TensorMeta(_dt.from_numpy_dtype(self.dtype), self.shape,
                               device_of_array(self)))
    st = generator_for(device_of_array(self), generator)
    a = self.astype(np.float64)
    if hasattr(st, "standard_gamma"):
        g = st.standard_gamma(np.asarray(a, order="C"), np.dtype(np.float64))
    else:
        g = _standard_gamma(xp, a, generator)
    x = (g / g.sum(-1, keepdims=True)).astype(self.dtype)
    one = self.dtype.type(1)
    return xp.clip(x, np.finfo(self.dtype).tiny, np.nextafter(one, self.dtype.type(0)))


def _standard_gamma_grad_meta(self, output):
    if self.dtype.category != _dt.FLOATING or self.dtype.np.itemsize < 4:
        raise not_implemented("_standard_gamma_grad_cpu", self, self.dtype.short_name)
    if output.dtype is not self.dtype:
        raise RuntimeError(f"Found dtype {output.dtype.short_name} but expected "
                           f"{self.dtype.short_name}")
    return TensorMeta(self.dtype, broadcast_shapes(self.shape, output.shape), self.device)


_GAMMA_GRAD_COEF_UV = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343,
     1, 0.32668115, 0.10406089, 0.0014179084),
    (0.53487893, 0.1298071, 0.065735949, -0.0015649758,
     0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
    (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
     0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07),
)


@op("aten::_standard_gamma_grad(Tensor self, Tensor output) -> Tensor", method=False,
    meta=_standard_gamma_grad_meta)
def _standard_gamma_grad(xp, self, output):
    """d x / d alpha of a Gamma(alpha = self, 1) draw x = output (implicit
    reparameterization), broadcast: ATen's standard_gamma_grad_one elementwise in double
    (a Taylor series of the CDF for x < 0.8, NaN there read as 0; Rice's saddle-point
    expansion for alpha > 8; else a bivariate rational approximation), cast back."""
    from . import special as _special
    _standard_gamma_grad_meta(TensorMeta(_dt.from_numpy_dtype(self.dtype), self.shape, None),
                              TensorMeta(_dt.from_numpy_dtype(output.dtype), output.shape,
                                         None))
    shape = broadcast_shapes(self.shape, output.shape)
    a = xp.broadcast_to(self.astype(np.float64), shape)
    x = xp.broadcast_to(output.astype(np.float64), shape)
    with np.errstate(all="ignore"):
        # x < 0.8: the series of the CDF and of its alpha derivative
        numer = xp.ones(shape)
        denom = a.copy()
        series1 = numer / denom
        series2 = numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x / i)
            denom = denom + 1
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = x ** a
        gamma_pdf = x ** (a - 1) * xp.exp(-x)
        gamma_cdf = pow_x_alpha * series1
        gamma_cdf_alpha = (xp.log(x) - _special.digamma(xp, a)) * gamma_cdf \
            - pow_x_alpha * series2
        small = -gamma_cdf_alpha / gamma_pdf
        small = xp.where(xp.isnan(small), 0.0, small)
        # alpha > 8: Rice's saddle point (its polynomial form near the mode)
        near = (0.9 * a <= x) & (x <= 1.1 * a)
        near_value = (1 + 24 * a * (1 + 12 * a)) * (
            1440 * (a * a) + 6 * x * (53 - 120 * x) - 65 * x * x / a + a * (107 + 3600 * x)) \
            / (1244160 * (a * a) * (a * a))
        den = xp.sqrt(8 * a)
        term2 = den / (a - x)
        term3 = (x - a - a * xp.log(x / a)) ** -1.5
        term23 = xp.where(x < a, term2 - term3, term2 + term3)
        term1 = xp.log(x / a) * term23 - xp.sqrt(2 / a) * (a + x) / ((a - x) * (a - x))
        stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
        large = xp.where(near, near_value, -stirling * (x * term1) / den)
        # otherwise: a rational function of log(x / alpha) and log(alpha)
        u = xp.log(x / a)
        v = xp.log(a)
        c = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_GAMMA_GRAD_COEF_UV)]
        p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
        q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
        rational = xp.exp(p / q)
        out = xp.where(x < 0.8, small, xp.where(a > 8.0, large, rational))
    return out.astype(self.dtype)


@_derivative(_standard_gamma_grad, wrt=("self",))     # (output: not differentiable)
def _standard_gamma_grad_grad(grad):
    raise NotImplementedError("the derivative for '_standard_gamma_grad' is not implemented.")


# a Gamma(alpha, 1) draw's implicit reparameterization gradient (derivatives.yaml:
# grad * _standard_gamma_grad(self, result)); the Dirichlet sampler has no derivative
@_derivative(_standard_gamma, wrt=("self",))
def _standard_gamma_backward(grad, self, result):
    return grad * _standard_gamma_grad.op.public(self, result)


_not_implemented(_sample_dirichlet,
                 message="derivative for aten::_sample_dirichlet is not implemented")


def _binomial_meta(count, prob, generator=None):
    if count.dtype.category != _dt.FLOATING:
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{count.dtype.short_name}")
    if prob.dtype is not count.dtype:
        raise RuntimeError(f"Found dtype {prob.dtype.short_name} but expected "
                           f"{count.dtype.short_name}")
    return TensorMeta(count.dtype, broadcast_shapes(count.shape, prob.shape), count.device)


@op("aten::binomial(Tensor count, Tensor prob, Generator? generator=None) -> Tensor",
    tags={"random"}, method=False, meta=_binomial_meta)
def binomial(xp, count, prob, generator=None):
    """A binomial sample: successes in `count` trials of probability `prob` (broadcast), in
    count's dtype; a count below 0 gives 0."""
    _binomial_meta(TensorMeta(_dt.from_numpy_dtype(count.dtype), count.shape, None),
                   TensorMeta(_dt.from_numpy_dtype(prob.dtype), prob.shape, None))
    shape = broadcast_shapes(count.shape, prob.shape)
    n = xp.broadcast_to(xp.maximum(xp.floor(count.astype(np.float64)), 0), shape)
    p = xp.broadcast_to(xp.clip(prob.astype(np.float64), 0.0, 1.0), shape)
    st = generator_for(device_of_array(count), generator)
    if hasattr(st, "binomial_t"):      # the CPU: ATen's sampler on the raw values
        c = np.broadcast_to(count, shape)
        return st.binomial_t(np.asarray(c, order="C"),
                             np.asarray(np.broadcast_to(prob, shape), order="C"), count.dtype)
    return xp.asarray(st.binomial(n.astype(np.int64), p)).astype(count.dtype).reshape(shape)


# (a sample of counts: PyTorch records it and refuses the backward)
_not_implemented(binomial, message="derivative for aten::binomial is not implemented")
