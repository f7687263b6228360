"""The vector and matrix norms behind `gpujit.norm` / Tensor.norm: `aten::linalg_vector_norm`
(ord 2, 1, +-inf, 0 and any other p), `aten::linalg_matrix_norm.str_ord` ('fro', 'nuc'),
torch.norm's dispatch between them, and their derivatives (PyTorch's norm_backward; the
nuclear norm's through the SVD taken at forward time, as PyTorch's svdvals composite). linalg.norm and the numeric-order matrix norms
are linalg_matfn.py's, built on these."""
from __future__ import annotations

import math
import struct

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, wrap_dim
from .linalg import _LA, _F16, _F32, _dtn, _gpujit

_F64 = np.dtype(np.float64)
from .linalg_decomp import la_svd
from .reduction import _axes, _check_nonempty, _keep, _reduced
from .registry import op, OPS, tensor_method, derivative as _derivative

PUBLIC = {}


def _norm_dtype(self_dtype, dtype, name, low_precision=True):
    d = self_dtype if dtype is None else _dt.to_dtype(dtype)
    if self_dtype.category < _dt.FLOATING:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {self_dtype.short_name}")
    if not low_precision and self_dtype is _dt.float16:
        # (the SVD-based matrix norms, 'nuc' and +-2: ATen's checkFloatingOrComplex with
        # low_precision=false, of the input's dtype whatever dtype= says)
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got Half")
    if dtype is not None:
        if d.category < _dt.FLOATING:
            raise RuntimeError(f"{name}: dtype should be floating point or complex, but got "
                               f"{d.short_name}")
        if _dt.promote_types(self_dtype, d) is not d:
            raise RuntimeError(f"{name}: the dtype of the input ({self_dtype.short_name}) "
                               f"should be convertible without narrowing to the specified "
                               f"dtype ({d.short_name})")
    return d


def _vnorm_meta(self, ord=2, dim=None, keepdim=False, dtype=None):
    from .meta import reduce_shape
    d = _norm_dtype(self.dtype, dtype, "linalg.vector_norm").to_real()
    return TensorMeta(d, reduce_shape(tuple(self.shape), dim, keepdim), self.device)


def aten_norm2_rows(x):
    """The 2-norm of each row of a C-contiguous float32 / float64 NumPy matrix in the order
    of ATen's vectorized CPU kernel (norm_kernel_tensor_iterator_impl's reduce-lastdim path,
    its AVX2 build): 8 (float64: 4) lanes each adding x * x rounded (no FMA) over the
    whole vectors, the lanes added in order, then the tail: its multiples of 4 added as
    rounded squares (the compiler's 4-wide products), the rest each one fused multiply-add
    (the scalar loop's contraction); sqrt of the sum. Returns the row norms (ops/
    _norm2_kernel.norm2_lanes in numba for large calls, the same additions)."""
    rows, n = x.shape
    lanes = 8 if x.dtype == _F32 else 4
    m = n - n % lanes
    k = m + (n - m) // 4 * 4
    kernel = _KERNEL[0].fn if _KERNEL and _KERNEL[0].force is None else None
    if kernel is None:
        kernel = _norm2_kernel(x.size)
    with np.errstate(over="ignore", invalid="ignore"):
        if kernel is not None:
            total = np.empty(rows, x.dtype)
            kernel(x, lanes, total)
        else:
            sq = x * x
            if m:
                acc = sq[:, :m].reshape(rows, m // lanes, lanes).sum(axis=1)  # (in order)
                # (the lanes, then the tail's rounded squares, added in order: a
                # cumulative sum's last column is a sequential sum, one call)
                total = np.cumsum(acc if k == m else np.concatenate(
                    (acc, sq[:, m:k]), axis=1), axis=1)[:, -1]
            elif k:
                total = np.cumsum(sq[:, :k], axis=1)[:, -1]
            else:
                total = np.zeros(rows, x.dtype)
        if k < n and rows == 1 and x.dtype == _F32:
            # (one row, float32: Python floats, ~10x cheaper than the array emulation)
            t = float(total[0])
            for d in range(k, n):
                v = float(x[0, d])
                t = _fma32_scalar(v, v, t)
            total = np.array([t], _F32)
        elif k < n:
            from .fma import fma32, fma64
            fma = fma32 if x.dtype == _F32 else fma64
            for d in range(k, n):
                total = np.asarray(fma(x[:, d], x[:, d], total, np), x.dtype)
        return np.sqrt(total)


def _fma32_scalar(a, b, c):
    """float32 a * b + c with one rounding, of float32 values given as Python floats (a
    float back): the product is exact in float64, the sum rounded to odd there (two-sum's
    error), then to float32 -- one correct rounding, as ops/fma._fma_numpy32."""
    p = a * b
    s = p + c
    if s - s == 0:                              # (finite)
        bv = s - p
        err = (p - (s - bv)) + (c - bv)
        if err:
            bits = _I64.unpack(_F64S.pack(s))[0]
            if (err > 0) != (s > 0):
                bits -= 1
            s = _F64S.unpack(_I64.pack(bits | 1))[0]
    return float(np.float32(s))


_I64, _F64S = struct.Struct("<q"), struct.Struct("<d")


_KERNEL = []


def _norm2_kernel(n):
    """ops/_norm2_kernel.norm2_lanes (numba) for calls of 2^14 elements or more once numba
    is imported (2^22 before), and for every call once it is loaded (or small calls have
    done the work of a few large ones); None: the NumPy form."""
    if not _KERNEL:
        from .random import LazyKernel
        # (while numba is not imported, only for the work of its import: 2^22 elements)
        _KERNEL.append(LazyKernel("_norm2_kernel", "norm2_lanes", 1 << 14, 1 << 22))
    return _KERNEL[0].get(n)


def _aten_norm2(self, axes, keepdim):
    """linalg_vector_norm(ord=2) of a C-contiguous float32 / float64 NumPy array over its
    trailing dims in ATen's order (aten_norm2_rows), else None."""
    if type(self) is not np.ndarray or self.dtype not in (_F32, _F64) or \
            not self.flags.c_contiguous or self.size == 0:
        return None
    nd = self.ndim
    red = set(range(nd)) if axes is None else {a % nd for a in axes}
    if sorted(red) != list(range(nd - len(red), nd)):
        return None
    lead = self.shape[:nd - len(red)]
    rows = int(np.prod(lead)) if lead else 1
    r = aten_norm2_rows(self.reshape(rows, -1)).reshape(lead)
    if keepdim:
        r = r.reshape(tuple(1 if i in red else s for i, s in enumerate(self.shape)))
    return r


def _aten_norm1(self, axes, keepdim):
    """linalg_vector_norm(ord=1) of a C-contiguous float32 / float64 NumPy array in ATen's
    order (binary_kernel_reduce with NormOneOps: |x| added one by one, in the input's
    order, in its dtype) where each norm takes fewer than ATen's GRAIN_SIZE (32768)
    elements (one thread's loop), else None."""
    if type(self) is not np.ndarray or self.dtype not in (_F32, _F64) or \
            not self.flags.c_contiguous or self.size == 0:
        return None
    nd = self.ndim
    red = sorted(set(range(nd)) if axes is None else {a % nd for a in axes})
    keep = [i for i in range(nd) if i not in red]
    k = int(np.prod([self.shape[i] for i in red]))
    if not 0 < k < 32768:
        return None
    lead = tuple(self.shape[i] for i in keep)
    a = np.abs(np.transpose(self, keep + red)).reshape(-1, k)
    r = np.cumsum(a, axis=1)[:, -1].reshape(lead)          # (additions in order)
    if keepdim:
        r = r.reshape(tuple(1 if i in red else s for i, s in enumerate(self.shape)))
    return r


@op("aten::linalg_vector_norm(Tensor self, Scalar ord=2, int[1]? dim=None, "
    "bool keepdim=False, *, ScalarType? dtype=None) -> Tensor", tags=_LA | {"reduction"},
    function=False, method=False, meta=_vnorm_meta)
def linalg_vector_norm(xp, self, ord=2, dim=None, keepdim=False, dtype=None):
    d = _norm_dtype(_dtn(self.dtype), dtype, "linalg.vector_norm")
    out = d.to_real().np
    if d.is_complex:        # (of a complex tensor: the norm of its moduli, real, abs's)
        from .pointwise import _complex_abs
        self = _complex_abs(xp, self.astype(d.np, copy=False))
    x = self.astype(_F32 if out == _F16 else out, copy=False)
    axes = _axes(dim, x.ndim)
    ord = float(ord)
    r = None
    if x is self and x.ndim:
        r = _aten_norm2(x, axes, keepdim) if ord == 2 else \
            _aten_norm1(x, axes, keepdim) if ord == 1 else None
    if r is not None:
        return r
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if ord == 2:
            r = xp.sqrt((x * x).sum(axes, keepdims=keepdim))
        elif ord == 1:
            r = xp.abs(x).sum(axes, keepdims=keepdim)
        elif math.isinf(ord):
            if x.size == 0:
                _check_nonempty(x, axes, "linalg.vector_norm")
            a = xp.abs(x)
            r = a.max(axes, keepdims=keepdim) if ord > 0 else a.min(axes, keepdims=keepdim)
        elif ord == 0:
            r = (x != 0).sum(axes, keepdims=keepdim)
        else:
            r = (xp.abs(x) ** ord).sum(axes, keepdims=keepdim) ** (1.0 / ord)
    return xp.asarray(r).astype(out, copy=False)


def _mnorm_dims(dim, ndim):
    dims = tuple(dim)
    if ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dims)}")
    d = tuple(wrap_dim(x, ndim) for x in dims)
    if d[0] == d[1]:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d[0]}, {d[1]})")
    return d


def _mnorm_meta(self, ord="fro", dim=(-2, -1), keepdim=False, dtype=None, svd=None):
    _mnorm_check_ord(ord)
    if len(self.shape) < 2:         # (checkIsMatrix before the dtype checks, as ATen's)
        _mnorm_dims(dim, len(self.shape))
    d = _norm_dtype(self.dtype, dtype, "linalg.matrix_norm",
                    not (ord == "nuc" if svd is None else svd))
    dims = _mnorm_dims(dim, len(self.shape))
    shape = tuple(1 if i in dims else s for i, s in enumerate(self.shape) if keepdim or
                  i not in dims)
    return TensorMeta(d.to_real(), shape, self.device)      # (a complex matrix's: real)


def _mnorm_check_ord(ord):
    if ord not in ("fro", "nuc"):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


@op("aten::linalg_matrix_norm.str_ord(Tensor self, str ord='fro', int[] dim=[-2,-1], "
    "bool keepdim=False, *, ScalarType? dtype=None) -> Tensor", tags=_LA | {"reduction"},
    function=False, method=False, meta=_mnorm_meta)
def linalg_matrix_norm(xp, self, ord="fro", dim=(-2, -1), keepdim=False, dtype=None):
    _mnorm_check_ord(ord)
    if self.ndim < 2:
        _mnorm_dims(dim, self.ndim)
    cd = _norm_dtype(_dtn(self.dtype), dtype, "linalg.matrix_norm", ord != "nuc")
    out = cd.to_real().np
    d = _mnorm_dims(dim, self.ndim)
    x = self.astype(cd.np if cd.is_complex else _F32 if out == _F16 else out, copy=False)
    if ord == "fro" and cd.is_complex:      # (of the moduli, abs's)
        from .pointwise import _complex_abs
        x = _complex_abs(xp, x)
    if ord == "fro":
        # (torch's 'fro' is linalg_vector_norm(2) over the two dims: its kernel's order)
        r = _aten_norm2(x, d, keepdim) if x is self else None
        if r is None:
            r = xp.sqrt((x * x).sum(d, keepdims=keepdim))
    else:
        m = xp.moveaxis(x, d, (-2, -1))
        r = la_svd(xp, m, compute_uv=False).sum(-1) if m.size else \
            xp.zeros(m.shape[:-2], m.dtype)
        if keepdim:
            for i in sorted(d):
                r = xp.expand_dims(r, i)
    return xp.asarray(r).astype(out, copy=False)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """gpujit.norm / Tensor.norm, as torch.norm: vector norms (p a number, 'fro' over at
    most two dims) through linalg_vector_norm, 'nuc' through linalg_matrix_norm; out= as
    torch's, passed on to them (gpujit.linalg's, which take it)."""
    _dim = [dim] if isinstance(dim, (int, np.integer)) else dim
    if out is not None:
        from .. import linalg as _la
        vector, matrix = _la.vector_norm, _la.matrix_norm
        kw = {"dtype": dtype, "out": out}
    else:
        vector = OPS["aten::linalg_vector_norm"].public
        matrix = OPS["aten::linalg_matrix_norm.str_ord"].public
        kw = {"dtype": dtype}
    if isinstance(p, str):
        if p == "fro" and (_dim is None or len(_dim) <= 2):
            return vector(input, 2, _dim, keepdim, **kw)
        if _dim is None:
            _dim = list(range(input.ndim))
        return matrix(input, p, _dim, keepdim, **kw)
    return vector(input, 2.0 if p is None else p, _dim, keepdim, **kw)


PUBLIC["norm"] = norm


def _tensor_norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    return norm(self, p, dim, keepdim, dtype=dtype)


_tensor_norm.__name__ = "norm"
_tensor_norm.__qualname__ = "Tensor.norm"     # (Python's TypeErrors name it, as torch's)
tensor_method("norm")(_tensor_norm)


# derivatives (gpujit.autograd), written with registry ops; PyTorch's formulas

def _vector_norm_backward(grad, self, norm, ord, dim, keepdim):
    """PyTorch's norm_backward: 0 for ord 0; at |x| == 0 the kinks give 0; ord=+-inf shares
    the gradient evenly among the elements whose |x| is the norm."""
    nd = self.dim()
    g, n = _keep(grad, nd, dim, keepdim), _keep(norm, nd, dim, keepdim)
    p = float(ord)
    if p == 0:
        return _gpujit().zeros_like(self)
    sign = self.sgn if self._dtype.cplx else self.sign      # (sgn: z / |z|, as torch's)
    if p == 1:
        return sign() * g
    if p == 2:
        return g * (self / n).masked_fill(n == 0, 0)
    a = self.abs()
    if math.isinf(p):
        mask = (a == n).logical_or(a.isnan())
        return sign() * mask * (g / mask.sum(_reduced(nd, dim), keepdim=True))
    if p < 1:
        return sign() * a.pow(p - 1).masked_fill(self == 0, 0) * g * n.pow(1 - p)
    scaled = sign() * a.pow(p - 1) if p < 2 else self * a.pow(p - 2)
    return scaled * (g / n.pow(p - 1)).masked_fill(n == 0, 0)


@_derivative(linalg_vector_norm)
def _vector_norm_grad(grad, self, result, ord, dim, keepdim):
    return _vector_norm_backward(grad, self, result, ord, dim, keepdim)


def svd_factors(self, dim):
    """[U, S, Vh] (reduced) of self's matrices over `dim` (moved last), computed at
    forward time for a derivative's `computes`: PyTorch's nuclear and spectral norms are
    svdvals composites, whose backward keeps the decomposition, not the input (half
    precision is decomposed in float32)."""
    d = _mnorm_dims(dim, self.dim())
    m = self.movedim(d, (-2, -1))
    if m.dtype is _dt.float16:
        m = m.float()
    return list(OPS["aten::linalg_svd"].public(m, False))


def svd_norm_backward(grad, uv, dim, keepdim, nd, which=None):
    """The gradient of a norm made from the singular values S of `uv` ([U, S, Vh]): their
    sum (nuclear; `which` None) or their max / min (`which` 'max' / 'min': PyTorch's amax /
    amin backward, the gradient shared evenly among the values equal to the extreme)."""
    U, S, Vh = uv
    d = _mnorm_dims(dim, nd)
    g = _keep(grad, nd, list(d), keepdim).movedim(d, (-2, -1))      # (..., 1, 1)
    if which is None:
        w = g.squeeze(-1)                                            # (..., 1)
    else:
        mask = S == (S.amax(-1, keepdim=True) if which == "max" else S.amin(-1, keepdim=True))
        w = g.squeeze(-1) * mask / mask.sum(-1, keepdim=True)
    return (U * w.unsqueeze(-2)).matmul(Vh).movedim((-2, -1), d)


# the nuclear norm (a sum of svdvals) keeps no output either: a write into it after the
# op is no error, as in PyTorch
@_derivative(linalg_matrix_norm, computes={
    "src": lambda self, ord: self if ord == "fro" else None,
    "uv": lambda self, ord, dim: svd_factors(self, dim) if ord == "nuc" else None,
    "norm": lambda result, ord: result if ord == "fro" else None})
def _matrix_norm_grad(grad, self_shape, ord, dim, keepdim, src, uv, norm):
    if ord == "fro":
        return _vector_norm_backward(grad, src, norm, 2, dim, keepdim)
    return svd_norm_backward(grad, uv, dim, keepdim, len(self_shape))
