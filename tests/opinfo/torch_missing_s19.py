"""OpInfos of the ops added in session 19 for torch.* names gpujit lacked
(gpujit/ops/legacy_extra.py, gradient_hist.py): the legacy norms, norm_except_dim,
as_strided_, empty_permuted, poisson / binomial (shapes and rough statistics) and the
seven overloads of aten::gradient (NumPy's np.gradient as the reference)."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, positive

F32, F64, I64 = np.float32, np.float64, np.int64
_TOL = dict(rtol=1e-4, atol=1e-4)


def _f(x):
    return np.asarray(x, dtype=np.float64)


def _nuc(x, keepdim=False, dim=(-2, -1)):
    m = np.moveaxis(_f(x), dim, (-2, -1))
    r = np.linalg.svd(m, compute_uv=False).sum(-1)
    if keepdim:
        for d in sorted(a % x.ndim for a in dim):
            r = np.expand_dims(r, d)
    return r


def _fro(x, dim, keepdim=False):
    axes = tuple(dim) if len(dim) else None
    return np.sqrt((_f(x) ** 2).sum(axis=axes, keepdims=keepdim))


def _nexd(v, pow=2, dim=0):
    if dim == -1:
        return (np.abs(_f(v)) ** pow).sum() ** (1 / pow)
    axes = tuple(k for k in range(v.ndim) if k != dim % v.ndim)
    return (np.abs(_f(v)) ** pow).sum(axis=axes, keepdims=True) ** (1 / pow)


def _as_strided_ref(x, size, stride, storage_offset=None):
    flat = np.ascontiguousarray(x).reshape(-1)[storage_offset or 0:]
    return np.lib.stride_tricks.as_strided(
        flat, shape=tuple(size), strides=tuple(s * flat.itemsize for s in stride)).copy()


def _permuted_check(sample, out):
    size, order = sample.args[0], sample.args[1]
    assert tuple(out.shape) == tuple(size)
    phys = [size[d] for d in order]
    st, k = [0] * len(size), 1
    for i in range(len(order) - 1, -1, -1):
        st[order[i]] = k
        k *= max(phys[i], 1)
    assert tuple(out.stride()) == tuple(st), (out.stride(), st)


def _poisson_check(sample, out):
    lam = sample.args[0]
    a = out.numpy()
    assert a.shape == lam.shape and a.dtype == lam.dtype
    assert (a >= 0).all() and (a == np.floor(a)).all()
    assert (a[lam == 0] == 0).all()
    if a.size >= 1000:
        assert abs(a.mean() - lam.mean()) < 0.2 * max(lam.mean(), 1)


def _gamma_check(sample, out):
    alpha = sample.args[0]
    a = out.numpy()
    assert a.shape == alpha.shape and a.dtype == alpha.dtype
    # at least the dtype's smallest normal (ATen's std::max(min, sample): an alpha <= 0 too)
    assert (a >= np.finfo(a.dtype).tiny).all() and np.isfinite(a).all()
    assert (a[alpha <= 0] == np.finfo(a.dtype).tiny).all()
    if a.size >= 1000:                  # Gamma(alpha, 1): mean alpha, variance alpha
        assert abs(a.mean() - alpha.mean()) < 5 * np.sqrt(alpha.mean() / a.size)


def _dirichlet_check(sample, out):
    alpha = sample.args[0]
    a = out.numpy()
    assert a.shape == alpha.shape and a.dtype == alpha.dtype
    assert (a > 0).all() and (a < 1).all()
    if a.ndim:
        assert np.allclose(a.astype(np.float64).sum(-1), 1.0, atol=1e-5)
    else:
        assert a == np.nextafter(a.dtype.type(1), a.dtype.type(0))  # (one category)
    if a.ndim == 2 and a.shape[0] >= 1000:   # mean alpha / alpha.sum() per category
        want = alpha[0] / alpha[0].sum()
        assert np.abs(a.mean(0) - want).max() < 0.02


def _binomial_check(sample, out):
    n, p = np.broadcast_arrays(*sample.args[:2])
    a = out.numpy()
    assert a.shape == n.shape and a.dtype == sample.args[0].dtype
    assert (a >= 0).all() and (a <= np.maximum(n, 0)).all() and (a == np.floor(a)).all()
    if a.size >= 1000:
        assert abs(a.mean() - (np.maximum(n, 0) * p).mean()) < 0.2


def _grad_ref(x, spacing=None, dim=None, edge_order=1):
    x = _f(x)
    dims = list(range(x.ndim)) if dim is None else ([dim] if isinstance(dim, int) else
                                                     list(dim))
    if spacing is None:
        sp = [1.0] * len(dims)
    elif isinstance(spacing, (list, tuple)):
        sp = [_f(s) if isinstance(s, np.ndarray) else s for s in spacing]
    else:
        sp = [spacing] * len(dims)
    return [np.gradient(x, h, axis=d, edge_order=edge_order) for d, h in zip(dims, sp)]


_GG_A = np.array([0.3, 1.0, 2.5, 10.0, 30.0, 30.0, 0.5, 4.0])
_GG_X = np.array([0.1, 0.5, 2.4, 9.5, 20.0, 40.0, 3.0, 0.7])
_GG_WANT = {
    (8,): [0.7894044031433252, 0.8069784920049818, 1.046918038539682, 0.990918561469184,
           0.8154193264259489, 1.1571513494803003, 2.913304453672477, 0.38360952875723],
    (2, 2): [[0.8069784641265869, 0.4980241060256958], [1.9378658533096313, 1.3217135667800903]],
    (2,): [0.0, np.nan]}


def _gamma_grad_check(sample, out):
    a = sample.args[0]
    assert out.dtype == {F32: G.float32, F64: G.float64}[a.dtype.type]
    np.testing.assert_allclose(out.numpy(), _GG_WANT[tuple(out.shape)],
                               rtol=1e-6 if a.dtype == F32 else 1e-12)


_X = np.array([0.0, 0.5, 1.5, 1.75, 3.0])

OPINFOS = [
    OpInfo("aten::nuclear_norm", ref=_nuc, **_TOL,
           samples=[Sample(rand(3, 4)), Sample(rand(2, 3, 4, dtype=F64), True)],
           errors=[ErrorSample(rand(3), match="at least 2 dimensions")]),
    OpInfo("aten::nuclear_norm.dim", ref=lambda x, dim, keepdim=False: _nuc(x, keepdim, dim),
           **_TOL, samples=[Sample(rand(2, 3, 4), [1, 2]),
                            Sample(rand(3, 4, 2, dtype=F64), [0, 1], True)]),
    OpInfo("aten::frobenius_norm.dim", ref=_fro, **_TOL,
           samples=[Sample(rand(3, 4), [0, 1]), Sample(rand(3, 4, dtype=F64), [1], True),
                    Sample(rand(2, 3), [])],
           errors=[ErrorSample(rand(2, 3, 4), [0, 1, 2], match="at most 2 dimensions"),
                   ErrorSample(rand(3, dtype=I64), [0], match="Got Long instead")]),
    OpInfo("aten::norm_except_dim", ref=_nexd, **_TOL,
           samples=[Sample(rand(3, 4, 5)), Sample(rand(3, 4, dtype=F64), 2, 1),
                    Sample(rand(3, 4), 3, -1), Sample(rand(2, 3, 4), 1, 2)],
           errors=[ErrorSample(rand(2, 3), 2, 5, exc=IndexError, match="out of range")]),
    # noncontiguous=False / meta=False: as_strided_ reads self's storage (as as_strided);
    # grad=False: the in-place view of a leaf (gradcheck's inputs) is refused as in PyTorch
    OpInfo("aten::as_strided_", ref=_as_strided_ref, noncontiguous=False, grad=False,
           samples=[Sample(rand(12), [3, 2], [2, 1]), Sample(rand(3, 4), [2, 2], [1, 4], 1),
                    Sample(rand(10, dtype=I64), [3, 3], [1, 1], 2)],
           errors=[ErrorSample(rand(12), [5], [3], match="out of bounds for storage")]),
    OpInfo("aten::empty_permuted", check=_permuted_check, gpu=False,
           samples=[Sample([2, 3, 5], [0, 2, 1]), Sample([2, 3], [1, 0], dtype=G.int32),
                    Sample([4], [0]), Sample([0, 3], [1, 0])],
           errors=[ErrorSample([2, 3], [0, 0], match="Duplicate dim not allowed"),
                   ErrorSample([2, 3], [0], match="physical_layout")]),
    OpInfo("aten::poisson", check=_poisson_check, gpu=False, grad=False,
           samples=[Sample(np.full(2000, 4.0, F32)), Sample(positive(3, 4, dtype=F64)),
                    Sample(np.zeros(5, F32))],
           errors=[ErrorSample(np.array([-1.0], F32), match="non-negative"),
                   ErrorSample(np.array([1], I64), exc=NotImplementedError,
                               match="'Long'")]),
    OpInfo("aten::_standard_gamma", check=_gamma_check, gpu=False, grad=False,
           samples=[Sample(np.full(2000, 2.5, F32)), Sample(np.full(2000, 0.3, F64)),
                    Sample(positive(3, 4, dtype=F64)), Sample(np.array([-1.0, 0.0], F32)),
                    Sample(np.array(4.0, F32))],
           errors=[ErrorSample(np.array([1], I64), exc=NotImplementedError,
                               match='"gamma_cpu" not implemented for \'Long\''),
                   ErrorSample(np.array([1.0], np.float16), exc=NotImplementedError,
                               match="'Half'")]),
    OpInfo("aten::_sample_dirichlet", check=_dirichlet_check, gpu=False, grad=False,
           samples=[Sample(np.tile(np.array([1.0, 2.0, 5.0], F32), (2000, 1))),
                    Sample(positive(3, 4, dtype=F64)), Sample(np.array([-1.0, 0.0], F32)),
                    Sample(np.array([[0.2, 0.7]], F64)), Sample(np.array(2.0, F32))],
           errors=[ErrorSample(np.array([1], I64), exc=NotImplementedError,
                               match='"dirichlet" not implemented for \'Long\'')]),
    # torch 2.13's values (all three branches of ATen's standard_gamma_grad_one; e40)
    OpInfo("aten::_standard_gamma_grad", check=_gamma_grad_check, gpu=False, grad=False,
           samples=[Sample(_GG_A, _GG_X), Sample(_GG_A.astype(F32), _GG_X.astype(F32)),
                    Sample(np.array([[1.0, 2.0]], F32), np.array([[0.5], [3.0]], F32)),
                    Sample(np.array([1.0, 0.0]), np.array([0.0, 1.0]))],
           errors=[ErrorSample(np.array([1], I64), np.array([1], I64),
                               exc=NotImplementedError,
                               match='"_standard_gamma_grad_cpu" not implemented for \'Long\''),
                   ErrorSample(np.array([1.0], F32), np.array([1.0]),
                               match="Found dtype Double but expected Float")]),
    OpInfo("aten::binomial", check=_binomial_check, gpu=False, grad=False,
           samples=[Sample(np.full(2000, 10.0, F32), np.full(2000, 0.3, F32)),
                    Sample(np.array([5.0, -2.0, 3.0]), np.array([0.5])),
                    Sample(np.array([4.0], F32), np.array([1.0], F32))],
           errors=[ErrorSample(np.array([5], I64), np.array([0.5], F32), exc=ValueError,
                               match="floating-point dtypes for count"),
                   ErrorSample(np.array([5.0], F32), np.array([0.5]),
                               match="Found dtype Double but expected Float")]),
    OpInfo("aten::gradient.scalarint", ref=_grad_ref, **_TOL,
           samples=[Sample(rand(4, 5)), Sample(rand(4, 5, dtype=F64), spacing=2.0, dim=1),
                    Sample(rand(6, dtype=F64), edge_order=2),
                    Sample(rand(5, dtype=I64)).expect_dtype(G.float32)],
           errors=[ErrorSample(rand(4, 5), edge_order=3, match="edge_order=1 and "
                               "edge_order=2"),
                   ErrorSample(rand(2, 4), dim=0, edge_order=2, match="at least "
                               "edge_order\\+1")]),
    OpInfo("aten::gradient.scalararray", ref=_grad_ref, **_TOL,
           samples=[Sample(rand(4, 5), spacing=0.5, dim=[0, 1]),
                    Sample(rand(3, 4, dtype=F64), spacing=2, dim=[1], edge_order=2)]),
    OpInfo("aten::gradient.array", ref=_grad_ref, **_TOL,
           samples=[Sample(rand(4, 5), dim=[1]), Sample(rand(3, 4, 5, dtype=F64), dim=[0, 2])]),
    OpInfo("aten::gradient.scalarrayint", ref=_grad_ref, **_TOL,
           samples=[Sample(rand(4, 5), spacing=[2.0, 3.0]),
                    Sample(rand(4, 5, dtype=F64), spacing=[0.5], dim=1, edge_order=2)],
           errors=[ErrorSample(rand(4, 5), spacing=[1.0, 2.0, 3.0],
                               match="list of length equal to 'self.dim\\(\\) = 2'")]),
    OpInfo("aten::gradient.scalarrayarray", ref=_grad_ref, **_TOL,
           samples=[Sample(rand(4, 5), spacing=[2.0, 3.0], dim=[0, 1]),
                    Sample(rand(4, 5, dtype=F64), spacing=[0.5], dim=[-1], edge_order=2)]),
    OpInfo("aten::gradient.tensorarrayint", ref=_grad_ref, **_TOL,
           samples=[Sample(rand(5, dtype=F64), spacing=[_X]),
                    Sample(rand(3, 5, dtype=F64), spacing=[_X], dim=1, edge_order=2)]),
    OpInfo("aten::gradient.tensorarray", ref=_grad_ref, **_TOL,
           samples=[Sample(rand(5, 4, dtype=F64), spacing=[_X], dim=[0]),
                    Sample(rand(5, 5, dtype=F64), spacing=[_X, _X], dim=[0, 1],
                           edge_order=2)]),
]

# x.is_sparse, x.is_meta ... in scripted code: False for every gpujit tensor
OPINFOS += [
    OpInfo(f"aten::{name}", ref=lambda a: False,
           samples=[Sample(np.array([1.0], F32)), Sample(rand(2, 3, dtype=I64))])
    for name in ("is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_meta",
                 "is_mkldnn", "is_xpu", "is_mps", "is_vulkan", "is_ipu", "is_maia", "is_mtia",
                 "is_xla")]
