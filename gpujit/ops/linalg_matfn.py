"""`torch.linalg` matrix functions and products: linalg.matrix_power, linalg.matrix_exp /
torch.matrix_exp, linalg.cross / torch.cross, linalg.vecdot, torch.trace,
linalg.multi_dot, and `linalg.norm` / the numeric-order `linalg.matrix_norm`, with their
derivatives. Checks and errors are linalg_decomp.py's.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import dtypes as _dt
from .kernel_names import kernel_name
from .meta import TensorMeta, broadcast_shapes, wrap_dim
from .reduction import _reduce_sum
from .registry import op, OPS
from . import linalg as _la
from . import linalg_norms as _ln
from .reduction import _keep
from .registry import derivative as _derivative
from .linalg_decomp import (_G, _check_float, _check_matrix, _check_square, _dtn, _eye_like,
                            _host, _inv, la_svd, linalg_inv)

_LA = {"linalg"}


# ------------------------------------------------------------------ matrix_power

def _mpow_meta(self, n):
    _check_square("linalg.matrix_power", tuple(self.shape))
    if n < 0:
        _check_float("linalg.inv", self.dtype)
    if n > 1:      # (its products are matmuls: mm's / bmm's errors)
        _la._check_matmul(self.dtype, self.dtype, tuple(self.shape), tuple(self.shape), self)
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


@op("aten::linalg_matrix_power(Tensor self, int n) -> Tensor", tags=_LA,
    function="matrix_power", method="matrix_power", meta=_mpow_meta)
def linalg_matrix_power(xp, self, n):
    _check_square("linalg.matrix_power", self.shape)
    if n < 0:
        self = linalg_inv(xp, self)
        n = -n
    if n == 0:
        return xp.broadcast_to(xp.eye(self.shape[-1], dtype=self.dtype), self.shape).copy()
    if n > 1:
        _la._check_matmul(_dtn(self.dtype), _dtn(self.dtype), self.shape, self.shape, xp)
    result, base = None, self
    while n:
        if n & 1:
            result = base if result is None else _la._product(xp, result, base)
        n >>= 1
        if n:
            base = _la._product(xp, base, base)
    return xp.array(result, copy=True) if result is self else result


def _mpow_composite(self, n):
    """linalg.matrix_power recording gradients: PyTorch's linalg_matrix_power_impl, n == 0
    a contiguous clone overwritten by the identity (CopyBackwards -> (CloneBackward0,
    None)), 1 a contiguous clone, -1 linalg.inv, else matmuls of (the inverse of) self by
    the binary decomposition of |n| (2: a @ a; 3: (a @ a) @ a; 5: a @ ((a @ a) @ (a @ a)))."""
    _mpow_meta(self, n)
    if n == 0:
        eye = _la._gpujit().eye(self.shape[-1], dtype=self.dtype, device=self.device)
        return self.clone(memory_format="contiguous_format").copy_(eye)
    if n == 1:
        return self.clone(memory_format="contiguous_format")
    a = OPS["aten::linalg_inv"].public(self) if n < 0 else self
    n = abs(n)
    if n == 1:
        return a
    if n == 2:
        return a.matmul(a)
    if n == 3:
        return a.matmul(a).matmul(a)
    z = result = None
    while n > 0:
        bit, n = n % 2, n // 2
        z = a if z is None else z.matmul(z)
        if bit:
            result = z if result is None else result.matmul(z)
    return result


linalg_matrix_power.op.composite = _mpow_composite


# ------------------------------------------------------------------ cross, vecdot, trace

def _cross_check(sa, sb, da, db, dim):
    if da is not db:
        raise RuntimeError(f"expected scalar type {da.short_name} but found {db.short_name}")
    if len(sa) != len(sb):
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = broadcast_shapes(tuple(sa), tuple(sb))
    d = wrap_dim(dim, len(shape))
    if sa[d] != 3 or sb[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{sa[d]} and {sb[d]}")
    if da is _dt.bool:
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    return shape, d


def _cross_default_dim(sa, sb):
    shape = broadcast_shapes(tuple(sa), tuple(sb))
    for i, s in enumerate(shape):
        if s == 3:
            return i
    raise RuntimeError("no dimension of size 3 in input")


def _cross(xp, a, b, d):
    shape = broadcast_shapes(a.shape, b.shape)
    a, b = xp.broadcast_to(a, shape), xp.broadcast_to(b, shape)

    def c(x, i):
        return xp.take(x, [i], axis=d)
    return xp.concatenate([c(a, 1) * c(b, 2) - c(a, 2) * c(b, 1),
                           c(a, 2) * c(b, 0) - c(a, 0) * c(b, 2),
                           c(a, 0) * c(b, 1) - c(a, 1) * c(b, 0)], axis=d)


def _lcross_meta(self, other, dim=-1):
    shape, _ = _cross_check(self.shape, other.shape, self.dtype, other.dtype, dim)
    return TensorMeta(self.dtype, shape, self.device)


@op("aten::linalg_cross(Tensor self, Tensor other, *, int dim=-1) -> Tensor", tags=_LA,
    method=False, function=False, meta=_lcross_meta)
def linalg_cross(xp, self, other, dim=-1):
    _, d = _cross_check(self.shape, other.shape, _dtn(self.dtype), _dtn(other.dtype), dim)
    return _cross(xp, self, other, d)


def _cross_meta(self, other, dim=None):
    if dim is None:
        dim = _cross_default_dim(self.shape, other.shape)
    return _lcross_meta(self, other, dim)


@op("aten::cross(Tensor self, Tensor other, int? dim=None) -> Tensor", tags=_LA,
    meta=_cross_meta)
def cross(xp, self, other, dim=None):
    """torch.cross: without dim, the first dimension of size 3 (deprecated by PyTorch, which
    warns; linalg.cross's default is the last dimension)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross."
                      "\nThe default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=3)
        dim = _cross_default_dim(self.shape, other.shape)
    return linalg_cross(xp, self, other, dim)


def _vecdot_check(sx, sy, dx, dy, dim):
    if dx.category != _dt.FLOATING:   # float16 is fine (a sum of products, no LAPACK)
        _check_float("linalg.vecdot", dx)
    if dx is not dy:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found "
                           f"x of type {dx.short_name} and y of type {dy.short_name} instead")
    shape = broadcast_shapes(tuple(sx), tuple(sy))
    d = wrap_dim(dim, len(shape))
    return shape[:d] + shape[d + 1:], d


@op("aten::linalg_vecdot(Tensor x, Tensor y, *, int dim=-1) -> Tensor", tags=_LA,
    method=False, function=False, contiguous=True,
    meta=lambda x, y, dim=-1: TensorMeta(
        x.dtype, _vecdot_check(x.shape, y.shape, x.dtype, y.dtype, dim)[0], x.device))
def linalg_vecdot(xp, x, y, dim=-1):
    _, d = _vecdot_check(x.shape, y.shape, _dtn(x.dtype), _dtn(y.dtype), dim)
    if x.dtype == np.float16:       # accumulated in float32, as PyTorch's reduced precision
        x, y = x.astype(np.float32), y.astype(np.float32)
        return xp.asarray((x * y).sum(d)).astype(np.float16)
    # (PyTorch: x.conj().mul(y).sum(dim), the sum in its CPU order: reduction_cascade)
    if x.dtype.kind == "c":
        x = xp.conj(x)
    return xp.asarray(_reduce_sum(x * y, (d,), x.dtype)).astype(x.dtype, copy=False)


def _vecdot_composite(x, y, dim=-1):
    """linalg.vecdot recording gradients: PyTorch's composite, vdot of two vectors
    (VdotBackward0), else (x * y).sum(dim) (SumBackward1 -> MulBackward0; a float16
    product rounded before the float32 sum, as its ops')."""
    _vecdot_check(x.shape, y.shape, x.dtype, y.dtype, dim)
    if x.dim() == 1 and y.dim() == 1:
        return OPS["aten::vdot"].public(x, y)
    return ((x.conj() if x._dtype.cplx else x) * y).sum(dim)


linalg_vecdot.op.composite = _vecdot_composite


def _trace_check(shape, d):
    if len(shape) != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {len(shape)}")
    _la._not_bool("trace", d)
    return d if d.category >= _dt.FLOATING else _dt.int64       # (complex: its own)


@op("aten::trace(Tensor self) -> Tensor", tags=_LA | {"reduction"},
    meta=lambda self: TensorMeta(_trace_check(self.shape, self.dtype), (), self.device))
def trace(xp, self):
    out = _trace_check(self.shape, _dtn(self.dtype))
    k = min(self.shape)
    diag = self[xp.arange(k), xp.arange(k)]
    acc = np.float32 if out is _dt.float16 else out.np
    if xp is np and out.category == _dt.FLOATING:
        # ATen's trace_cpu: `sum += t[i * (stride0 + stride1)]` from 0, in order, in
        # acc_type<T, is_cuda=false> (float32's is double, Half's float)
        acc = np.dtype(np.float64 if out is _dt.float32 else acc)
        zero = acc.type(0)
        s = np.add.accumulate(diag.astype(acc))[-1] + zero if k else zero
        return np.asarray(s).astype(out.np)
    return xp.asarray(diag.astype(acc).sum()).astype(out.np)


# ------------------------------------------------------------------ multi_dot

def _multi_dot_check(shapes, dtypes):
    n = len(shapes)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    for i, d in enumerate(dtypes):
        if d is not dtypes[0]:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but "
                               f"tensor 0 is {_la._CNAME[dtypes[0].name]} and tensor {i} "
                               f"{_la._CNAME[d.name]}")
    for i, s in enumerate(shapes):
        if i == 0 and len(s) not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got "
                               f"{len(s)}D")
        if i == n - 1 and len(s) not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got "
                               f"{len(s)}D")
        if 0 < i < n - 1 and len(s) != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {len(s)}D")
    mats = [tuple(s) for s in shapes]
    if len(mats[0]) == 1:
        mats[0] = (1,) + mats[0]
    if len(mats[-1]) == 1:
        mats[-1] = mats[-1] + (1,)
    for i in range(n - 1):
        if mats[i][1] != mats[i + 1][0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(shapes[i])} and {list(shapes[i + 1])} cannot be "
                               f"multiplied")
    out = ()
    if len(shapes[0]) == 2:
        out += (shapes[0][0],)
    if len(shapes[-1]) == 2:
        out += (shapes[-1][1],)
    return out


@op("aten::linalg_multi_dot(Tensor[] tensors) -> Tensor", tags=_LA, method=False,
    function=False,
    meta=lambda tensors: TensorMeta(
        tensors[0].dtype if tensors else _dt.float32,
        _multi_dot_check([tuple(t.shape) for t in tensors], [t.dtype for t in tensors]),
        tensors[0].device if tensors else None))
def linalg_multi_dot(xp, tensors):
    shape = _multi_dot_check([t.shape for t in tensors], [_dtn(t.dtype) for t in tensors])
    if _dtn(tensors[0].dtype) is _dt.bool and 0 not in shape and all(
            t.shape[-1] for t in tensors[:-1]):       # (its products: mm's kernel)
        raise NotImplementedError(f"\"{kernel_name('addmm_impl_cpu_', xp)}\" not "
                                  f"implemented for 'Bool'")
    mats = _as_matrices(list(tensors), lambda t, d: xp.expand_dims(t, d))

    def product(node):
        if isinstance(node, int):
            return mats[node]
        return _la._product(xp, product(node[0]), product(node[1]))
    return xp.asarray(product(_chain_order([tuple(m.shape) for m in mats]))).reshape(shape)


def _as_matrices(tensors, unsqueeze):
    """multi_dot's operands as matrices: a 1-D first one a row, a 1-D last one a column."""
    if len(tensors[0].shape) == 1:
        tensors[0] = unsqueeze(tensors[0], 0)
    if len(tensors[-1].shape) == 1:
        tensors[-1] = unsqueeze(tensors[-1], -1)
    return tensors


def _chain_order(shapes):
    """PyTorch's multi_dot order for matrices of `shapes`: a tree of operand indices (an
    int, or a (left, right) pair multiplied together): two in order; three by the cheaper
    of (AB)C and A(BC) ((AB)C on a tie); more by the matrix-chain dynamic program
    (Cormen et al. 15.2, the first cheapest split)."""
    n = len(shapes)
    if n == 1:
        return 0
    if n == 2:
        return (0, 1)
    if n == 3:
        a, b, c, d = shapes[0][0], shapes[1][0], shapes[2][0], shapes[2][1]
        return (0, (1, 2)) if a * c * (b + d) > b * d * (a + c) else ((0, 1), 2)
    p = [s[0] for s in shapes] + [shapes[-1][1]]
    m = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            m[i][j] = None
            for k in range(i, j):
                q = m[i][k] + m[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if m[i][j] is None or q < m[i][j]:
                    m[i][j], split[i][j] = q, k

    def tree(i, j):
        return i if i == j else (tree(i, split[i][j]), tree(split[i][j] + 1, j))
    return tree(0, n - 1)


# ------------------------------------------------------------------ norms

def _mnorm_num_check(ord):
    if ord not in (1, -1, 2, -2, math.inf, -math.inf):
        o = int(ord) if float(ord).is_integer() else ord
        raise RuntimeError(f"linalg.matrix_norm: Order {o} not supported.")


def _mnorm_num_meta(self, ord, dim=(-2, -1), keepdim=False, dtype=None):
    _mnorm_num_check(ord)
    return _ln._mnorm_meta(self, "fro", dim, keepdim, dtype, svd=abs(float(ord)) == 2)


def _matrix_norm_num(xp, x, ord, d, keepdim):
    m = xp.moveaxis(x, d, (-2, -1))
    ord = float(ord)
    pick = (lambda a: a.max(-1)) if ord > 0 else (lambda a: a.min(-1))
    if abs(ord) == 1:
        r = pick(xp.abs(m).sum(-2))
    elif math.isinf(ord):
        r = pick(xp.abs(m).sum(-1))
    else:
        r = pick(la_svd(xp, m, compute_uv=False))
    if keepdim:
        for i in sorted(d):
            r = xp.expand_dims(r, i)
    return r


@op("aten::linalg_matrix_norm(Tensor self, Scalar ord, int[] dim=[-2,-1], "
    "bool keepdim=False, *, ScalarType? dtype=None) -> Tensor", tags=_LA | {"reduction"},
    function=False, method=False, meta=_mnorm_num_meta)
def linalg_matrix_norm(xp, self, ord, dim=(-2, -1), keepdim=False, dtype=None):
    _mnorm_num_check(ord)
    if self.ndim < 2:
        _ln._mnorm_dims(dim, self.ndim)
    cd = _ln._norm_dtype(_dtn(self.dtype), dtype, "linalg.matrix_norm", abs(float(ord)) != 2)
    out = cd.to_real().np                   # (a complex matrix's norm is real)
    d = _ln._mnorm_dims(dim, self.ndim)
    x = self.astype(cd.np if cd.is_complex else np.float32 if out == np.float16 else out,
                    copy=False)
    if x.size == 0:     # PyTorch 2.x: the norms of empty matrices are 0 (max-based ords)
        if float(ord) < 0:      # (a minimum over nothing)
            raise IndexError("amin(): Expected reduction dim -1 to have non-zero size.")
        shape = [n for i, n in enumerate(x.shape) if i not in d] if not keepdim else \
            [1 if i in d else n for i, n in enumerate(x.shape)]
        return xp.zeros(tuple(shape), out)
    return xp.asarray(_matrix_norm_num(xp, x, ord, d, keepdim)).astype(out, copy=False)


def _norm_plan(ndim, ord, dim):
    """torch.linalg.norm's choice: ('vector', ord, dims or None) or ('matrix', ord, dims)."""
    if dim is not None:
        dim = [dim] if isinstance(dim, (int, np.integer)) else list(dim)
    if ord is None:     # (torch: the 2-norm, a vector norm over one or two dims)
        if dim is None or len(dim) in (1, 2):
            return "vector", 2, dim
    else:
        if dim is None:
            if ndim not in (1, 2):
                raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the "
                                   f"input must be 1D or 2D. Got {ndim}D.")
            dim = list(range(ndim))
        if isinstance(ord, str):
            return "matrix", ord, dim
        if len(dim) == 1:
            return "vector", ord, dim
        if len(dim) == 2:
            return "matrix", ord, dim
    raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got "
                       f"{dim}")


def _norm_meta(self, ord=None, dim=None, keepdim=False, dtype=None):
    kind, o, d = _norm_plan(len(self.shape), ord, dim)
    if kind == "vector":
        return _ln._vnorm_meta(self, o, d, keepdim, dtype)
    if isinstance(o, str):
        if len(self.shape) < 2:
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                               "dimensions.")
        return _ln._mnorm_meta(self, o, d, keepdim, dtype)
    return _mnorm_num_meta(self, o, d, keepdim, dtype)


def _norm(xp, self, ord, dim, keepdim, dtype):
    kind, o, d = _norm_plan(self.ndim, ord, dim)
    if kind == "vector":
        return _ln.linalg_vector_norm(xp, self, o, d, keepdim, dtype)
    if isinstance(o, str):
        if self.ndim < 2:
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                               "dimensions.")
        return _ln.linalg_matrix_norm(xp, self, o, d, keepdim, dtype)
    return linalg_matrix_norm(xp, self, o, d, keepdim, dtype)


@op("aten::linalg_norm(Tensor self, Scalar? ord=None, int[1]? dim=None, bool keepdim=False, "
    "*, ScalarType? dtype=None) -> Tensor", tags=_LA | {"reduction"}, function=False,
    method=False, meta=_norm_meta)
def linalg_norm(xp, self, ord=None, dim=None, keepdim=False, dtype=None):
    return _norm(xp, self, ord, dim, keepdim, dtype)


@op("aten::linalg_norm.ord_str(Tensor self, str ord, int[1]? dim=None, bool keepdim=False, "
    "*, ScalarType? dtype=None) -> Tensor", tags=_LA | {"reduction"}, function=False,
    method=False, meta=_norm_meta)
def linalg_norm_ord_str(xp, self, ord, dim=None, keepdim=False, dtype=None):
    return _norm(xp, self, ord, dim, keepdim, dtype)


# (recording gradients: PyTorch's linalg_matrix_norm composite, so the graph has its nodes)

def _matrix_norm_composite(self, ord="fro", dim=(-2, -1), keepdim=False, dtype=None):
    """'nuc' and +-2: svdvals of A permuted with the two dims last, then sum / amax / amin
    of the last dim (with keepdim: unsqueezed and permuted back): SumBackward1 ->
    LinalgSvdBackward0 -> PermuteBackward0; +-1 / +-inf: amax / amin of vector_norm(A, 1)
    over one dim (AmaxBackward0 -> LinalgVectorNormBackward0). 'fro' (one vector norm) and
    empty matrices (zeros) are the op's own node."""
    if isinstance(ord, str):
        _ln._mnorm_meta(self, ord, dim, keepdim, dtype)
    else:
        _mnorm_num_meta(self, ord, dim, keepdim, dtype)
    if self.numel() == 0 or ord == "fro":
        return NotImplemented
    d0, d1 = _ln._mnorm_dims(dim, self.dim())
    if ord == "nuc" or abs(float(ord)) == 2:
        nd = self.dim()
        perm = [i for i in range(nd) if i not in (d0, d1)] + [d0, d1]
        a = self if dtype is None else self.to(dtype)
        sv = OPS["aten::linalg_svdvals"].public(a.permute(perm))
        if ord == "nuc":
            r = sv.sum(-1, keepdim)
        else:
            r = sv.amax(-1, keepdim) if float(ord) > 0 else sv.amin(-1, keepdim)
        if keepdim:
            rev = [0] * nd
            for i, q in enumerate(perm):
                rev[q] = i
            r = r.unsqueeze(-1).permute(rev)
        return r
    if math.isinf(float(ord)):
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    v = OPS["aten::linalg_vector_norm"].public(self, 1.0, [d0], keepdim, dtype=dtype)
    return v.amax(d1, keepdim) if float(ord) > 0 else v.amin(d1, keepdim)


def _norm_composite(self, ord=None, dim=None, keepdim=False, dtype=None):
    """linalg.norm recording gradients: the matrix norm's composite for a matrix ord."""
    kind, o, d = _norm_plan(self.dim(), ord, dim)
    if kind == "vector" or (isinstance(o, str) and self.dim() < 2):
        return NotImplemented
    return _matrix_norm_composite(self, o, d, keepdim, dtype)


linalg_matrix_norm.op.composite = _matrix_norm_composite
_ln.linalg_matrix_norm.op.composite = _matrix_norm_composite
linalg_norm.op.composite = linalg_norm_ord_str.op.composite = _norm_composite


# ------------------------------------------------------------------ matrix_exp

_PADE = {
    3: (120., 60., 12., 1.),
    5: (30240., 15120., 3360., 420., 30., 1.),
    7: (17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.),
    9: (17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160., 110880.,
        3960., 90., 1.),
    13: (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
         129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
         40840800., 960960., 16380., 182., 1.)}
# the largest 1-norm for which the degree-m Pade approximant is accurate to double precision
# (Higham 2005, as scipy.linalg.expm and PyTorch)
_THETA = ((3, 1.495585217958292e-2), (5, 2.539398330063230e-1), (7, 9.504178996162932e-1),
          (9, 2.097847961257068), (13, 5.371920351148152))


def _expm(xp, A):
    """Scaling and squaring with a Pade approximant, batched: one degree for the batch (the
    smallest that suits its largest norm), a scaling 2^-s per matrix."""
    n = A.shape[-1]
    norm = xp.abs(A).sum(-2).max(-1)                  # 1-norms, (batch...)
    big = float(_host(norm.max())) if norm.size else 0.0
    m = next((m for m, t in _THETA if big <= t), 13)
    s = xp.zeros(norm.shape, np.int64)
    if m == 13:
        with np.errstate(divide="ignore"):
            s = xp.maximum(0, xp.ceil(xp.log2(norm / _THETA[-1][1]))).astype(np.int64)
        A = A / (2.0 ** s).astype(A.dtype)[..., None, None]
    b = _PADE[m]
    eye = xp.broadcast_to(xp.eye(n, dtype=A.dtype), A.shape)
    A2 = xp.matmul(A, A)
    if m < 13:
        powers = [eye, A2]
        while len(powers) < (m + 1) // 2:
            powers.append(xp.matmul(powers[-1], A2))
        U = xp.matmul(A, sum(b[2 * i + 1] * p for i, p in enumerate(powers)))
        V = sum(b[2 * i] * p for i, p in enumerate(powers))
    else:
        A4 = xp.matmul(A2, A2)
        A6 = xp.matmul(A4, A2)
        U = xp.matmul(A, xp.matmul(A6, b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 +
                      b[5] * A4 + b[3] * A2 + b[1] * eye)
        V = (xp.matmul(A6, b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 +
             b[2] * A2 + b[0] * eye)
    R = xp.linalg.solve(V - U, V + U)
    smax = int(_host(s.max())) if s.size else 0
    for i in range(smax):
        R = xp.where((s > i)[..., None, None], xp.matmul(R, R), R)
    return R


def _matrix_exp_check(name, shape, d):
    _check_matrix(name, shape)
    if d.category < _dt.FLOATING:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {d.short_name}")
    _check_square(name, shape)


def _matrix_exp_meta(self):
    _matrix_exp_check("linalg.matrix_exp", tuple(self.shape), self.dtype)
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


def _matrix_exp(xp, self):
    _matrix_exp_check("linalg.matrix_exp", self.shape, _dtn(self.dtype))
    if self.size == 0:
        return self.copy()
    # float16: computed in float32 (PyTorch's CPU kernel overflows in half precision)
    a = self.astype(np.float32) if self.dtype == np.float16 else self
    return xp.ascontiguousarray(_expm(xp, a).astype(self.dtype, copy=False))


@op("aten::linalg_matrix_exp(Tensor self) -> Tensor", tags=_LA, method=False,
    function=False, meta=_matrix_exp_meta)
def linalg_matrix_exp(xp, self):
    return _matrix_exp(xp, self)


@op("aten::matrix_exp(Tensor self) -> Tensor", tags=_LA, meta=_matrix_exp_meta)
def matrix_exp(xp, self):
    """torch.matrix_exp / Tensor.matrix_exp: linalg.matrix_exp."""
    return _matrix_exp(xp, self)


# --------------------------------------------------------------------------------------
# derivatives (PyTorch's formulas, tools/autograd/derivatives.yaml / FunctionsManual.cpp),
# written with registry ops


def _mpow_backward(grad, A, n):
    """sum_k (A^T)^k grad (A^T)^(n-1-k)."""
    if n == 0:
        return grad * 0
    powers = [None] * n
    At = A.mT
    powers[0] = _eye_like(A)
    for k in range(1, n):
        powers[k] = powers[k - 1].matmul(At)
    out = None
    for k in range(n):
        t = powers[k].matmul(grad).matmul(powers[n - 1 - k])
        out = t if out is None else out + t
    return out


# as PyTorch's composite: n = 0 and 1 read nothing (eye, a clone), a negative n the
# inverse taken at forward time (powers of it), not the input; for n = -1 the inverse is
# the output itself (kept as inv keeps it: writing it before backward raises)
@_derivative(linalg_matrix_power, computes={
    "base": lambda self, n: self if n > 1 else _inv(self) if n < -1 else None,
    "inverse": lambda n, result: result if n == -1 else None})
def _mpow_grad(grad, base, inverse, n):
    if n == -1:
        base = inverse
    if n == 1:
        return grad
    if n >= 0:
        return _mpow_backward(grad, base, n)
    gB = _mpow_backward(grad, base, -n)
    return -(base.mT.matmul(gB).matmul(base.mT))


@_derivative(linalg_cross, reads={"self": ("other",), "other": ("self",)})
def _lcross_grad(grad, self, other, dim, needs_grad):
    c = OPS["aten::linalg_cross"].public
    return (c(other, grad, dim=dim) if needs_grad[0] else None,
            c(grad, self, dim=dim) if needs_grad[1] else None)


@_derivative(cross, reads={"self": ("other",), "other": ("self",)})
def _cross_grad(grad, self, other, dim, self_shape, other_shape, needs_grad):
    if dim is None:
        dim = _cross_default_dim(tuple(self_shape), tuple(other_shape))
    return _lcross_grad(grad, self, other, dim, needs_grad)


@_derivative(linalg_vecdot, reads={"x": ("y",), "y": ("x",)})
def _vecdot_grad(grad, x, y, x_shape, y_shape, dim, needs_grad):
    full = broadcast_shapes(tuple(x_shape), tuple(y_shape))
    if not full:        # two 0-dim tensors: a plain product
        return grad * y if needs_grad[0] else None, grad * x if needs_grad[1] else None
    g = grad.unsqueeze(wrap_dim(dim, len(full)))
    # expanded to the broadcast shape: a 0-dim or size-1 operand leaves the other's
    # gradient smaller than its input (the engine sums a gradient down, never up)
    return (g * y).expand(list(full)) if needs_grad[0] else None, \
        (g * x).expand(list(full)) if needs_grad[1] else None


@_derivative(trace)
def _trace_grad(grad, self_shape):
    m, n = self_shape
    return grad * _G().eye(m, n, dtype=grad.dtype, device=grad.device)


def _chain_kept(tensors, tensors_needs_grad):
    """What multi_dot's products keep for backward, as PyTorch's chain of mm: for each
    product (left, right) of its order (depth first), the left factor when the right needs
    a gradient and the right when the left does (an operand, or a partial product computed
    here at forward time): [left or None, right or None, ...]."""
    if len(tensors) < 2:
        return []
    mats = _as_matrices(list(tensors), lambda t, d: t.unsqueeze(d))
    need = list(tensors_needs_grad)
    kept = []

    def value(node):
        return mats[node] if isinstance(node, int) else value(node[0]).matmul(value(node[1]))

    def walk(node):
        """whether the node needs a gradient"""
        if isinstance(node, int):
            return need[node]
        slot = len(kept)
        kept.extend([None, None])
        ln, rn = walk(node[0]), walk(node[1])
        kept[slot] = value(node[0]) if rn else None
        kept[slot + 1] = value(node[1]) if ln else None
        return ln or rn
    walk(_chain_order([tuple(m.shape) for m in mats]))
    return kept


def _chain_backward(grad, tensors_shape, kept, tensors_needs_grad):
    shapes = list(tensors_shape)
    if len(shapes) == 1:
        return [grad]
    first_vec, last_vec = len(shapes[0]) == 1, len(shapes[-1]) == 1
    mshapes = [tuple(s) for s in shapes]
    if first_vec:
        mshapes[0] = (1,) + mshapes[0]
        grad = grad.unsqueeze(0)
    if last_vec:
        mshapes[-1] = mshapes[-1] + (1,)
        grad = grad.unsqueeze(-1)
    need = list(tensors_needs_grad)
    out = [None] * len(shapes)
    slots = iter(range(0, len(kept), 2))

    def needs(node):
        return need[node] if isinstance(node, int) else needs(node[0]) or needs(node[1])

    def walk(node, g):
        if isinstance(node, int):
            out[node] = None if g is None else g.reshape(shapes[node])
            return
        k = next(slots)
        left, right = kept[k], kept[k + 1]
        gl = g.matmul(right.mT) if g is not None and needs(node[0]) else None
        walk(node[0], gl)
        gr = left.mT.matmul(g) if g is not None and needs(node[1]) else None
        walk(node[1], gr)
    walk(_chain_order(mshapes), grad)
    return out


@_derivative(linalg_multi_dot, computes={"kept": _chain_kept})
def _multi_dot_grad(grad, tensors_shape, kept, tensors_needs_grad):
    return _chain_backward(grad, tensors_shape, kept, tensors_needs_grad)


def _matrix_norm_num_backward(grad, src, uv, nd, result, ord, dim, keepdim):
    d = _ln._mnorm_dims(dim, nd)
    ord = float(ord)
    if abs(ord) == 2:
        return _ln.svd_norm_backward(grad, uv, d, keepdim, nd, "max" if ord > 0 else "min")
    gk = _keep(grad, nd, list(d), keepdim).movedim(d, (-2, -1))
    rk = _keep(result, nd, list(d), keepdim).movedim(d, (-2, -1))
    m = src.movedim(d, (-2, -1))
    ax = -2 if abs(ord) == 1 else -1       # 1: column sums; inf: row sums
    other = -1 if ax == -2 else -2
    sums = m.abs().sum(ax, keepdim=True)
    mask = sums == rk
    w = mask / mask.sum(other, keepdim=True)
    gx = m.sign() * gk * w
    return gx.movedim((-2, -1), d)


def _svd_norm(kind, o):
    """Whether a norm of linalg.norm's plan (kind, ord) is made from singular values
    (nuclear, 2, -2): PyTorch's svdvals composites, which save the decomposition and not
    the input."""
    return kind == "matrix" and (o == "nuc" or not isinstance(o, str) and abs(float(o)) == 2)


@_derivative(linalg_matrix_norm, computes={
    "src": lambda self, ord: None if _svd_norm("matrix", ord) else self,
    "uv": lambda self, ord, dim: _ln.svd_factors(self, dim) if _svd_norm("matrix", ord)
    else None})
def _mnorm_num_grad(grad, self_shape, result, ord, dim, keepdim, src, uv):
    return _matrix_norm_num_backward(grad, src, uv, len(self_shape), result, ord, dim,
                                     keepdim)


def _norm_uv(self, ord, dim):
    kind, o, d = _norm_plan(self.dim(), ord, dim)
    return _ln.svd_factors(self, d) if _svd_norm(kind, o) else None


@_derivative(linalg_norm, linalg_norm_ord_str, computes={
    "src": lambda self, ord, dim: None if _svd_norm(*_norm_plan(self.dim(), ord, dim)[:2])
    else self,
    "uv": _norm_uv,
    # (PyTorch's nuclear norm, a sum, keeps no output; its 2-norm's amax does)
    "result_": lambda result, ord: None if ord == "nuc" else result})
def _norm_grad(grad, self_shape, result_, ord, dim, keepdim, src, uv):
    result = result_
    nd = len(self_shape)
    kind, o, d = _norm_plan(nd, ord, dim)
    if kind == "vector":
        return _ln._vector_norm_backward(grad, src, result, o, d, keepdim)
    if o == "fro":
        return _ln._vector_norm_backward(grad, src, result, 2, d, keepdim)
    if o == "nuc":
        return _ln.svd_norm_backward(grad, uv, d, keepdim, nd)
    return _matrix_norm_num_backward(grad, src, uv, nd, result, o, d, keepdim)


@_derivative(linalg_matrix_exp, matrix_exp)
def _matrix_exp_grad(grad, self):
    """PyTorch's differential of exp at A^H in the direction grad: the upper-right block
    of exp([[A^H, G], [0, A^H]])."""
    G = _G()
    n = self.shape[-1]
    At = self.mT
    top = G.cat([At, grad], -1)
    bottom = G.cat([G.zeros_like(grad), At], -1)
    big = OPS["aten::linalg_matrix_exp"].public(G.cat([top, bottom], -2))
    return big[..., :n, n:]
