"""Parametrizations of torch.nn.utils.parametrizations: weight_norm, spectral_norm and
orthogonal, registered through parametrize.register_parametrization (so `weight` is
recomputed from `parametrizations.weight.original*` on each access)."""
from __future__ import annotations

from enum import Enum, auto

import gpujit as _g
from .. import functional as F
from ..module import Module
from . import parametrize
from .spectral_norm import _default_dim
from .weight_norm import _weight_norm

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ---------------------------------------------------------------------- orthogonal

def _is_orthogonal(Q):
    n, k = Q.size(-2), Q.size(-1)
    eye = _g.eye(k, dtype=Q.dtype, device=Q.device)
    return _g.allclose(Q.mH @ Q, eye, atol=10.0 * n * _g.finfo(Q.dtype).eps)


def _make_orthogonal(A):
    """The Q of A's QR decomposition whose R has a non-negative diagonal (PyTorch takes it
    from geqrf's Householder form and fixes the signs: the same matrix)."""
    Q, R = _g.linalg.qr(A)
    s = R.diagonal(dim1=-2, dim2=-1).sgn()
    return Q * _g.where(s == 0, _g.ones_like(s), s).unsqueeze(-2)


def _householder_product(A, tau):
    """The first k columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H, v_i column i of A
    below the diagonal with a 1 on it (torch.linalg.householder_product), composed of
    differentiable ops."""
    n, k = A.size(-2), A.size(-1)
    eye = _g.eye(n, dtype=A.dtype, device=A.device)
    Q = eye[:, :k].expand(*A.shape[:-2], n, k)
    below = _g.tril(_g.ones(n, k, dtype=_g.bool, device=A.device), diagonal=-1)
    V = _g.where(below, A, _g.zeros_like(A)) + eye[:, :k]      # the v_i as columns
    for i in reversed(range(k)):            # H_i (H_{i+1} ... H_k E), E: I's first k columns
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i:i + 1].unsqueeze(-1) * (v @ (v.mH @ Q))
    return Q


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                X = _g.cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = _g.matrix_exp(A)
            else:
                eye = _g.eye(n, dtype=A.dtype, device=A.device)
                Q = _g.linalg.solve(_g.add(eye, A, alpha=-0.5), _g.add(eye, A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        with _g.no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q):
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        Q_init = Q
        n, k = Q.size(-2), Q.size(-1)
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False.")
            A, tau = _geqrf(Q)
            d = A.diagonal(dim1=-2, dim2=-1)
            d.copy_(_g.where(tau == 0.0, -d.sign(), d.sign()))
            return A.mT if transpose else A
        if n == k:
            Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
        else:
            N = _g.randn(*(tuple(Q.size()[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(_g.cat([Q, N], dim=-1))
        self.base = Q
        neg_eye = _g.zeros_like(Q_init)
        neg_eye.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_eye


def _geqrf(Q):
    """LAPACK's geqrf of Q (a batch of n x k matrices, n >= k): R on and above the
    diagonal, the Householder vectors below it, and tau (torch.geqrf), from NumPy's
    qr(mode='raw') on the host."""
    import numpy as np
    a = Q.detach().cpu().numpy()
    batch = a.shape[:-2]
    flat = a.reshape((-1,) + a.shape[-2:])
    hs, taus = [], []
    for m in flat:
        h, tau = np.linalg.qr(m, mode="raw")
        hs.append(h.T)
        taus.append(tau)
    h = np.stack(hs).reshape(batch + a.shape[-2:])
    tau = np.stack(taus).reshape(batch + (taus[0].shape[0],))
    return (_g.from_numpy(np.ascontiguousarray(h)).to(Q.device),
            _g.from_numpy(np.ascontiguousarray(tau)).to(Q.device))


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain matrix (or batch of matrices) `name` of module to be orthogonal, as the
    image of an unconstrained matrix under orthogonal_map ("matrix_exp" and "cayley" for
    square weights by default, else "householder")."""
    weight = getattr(module, name, None)
    if not isinstance(weight, _g.Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.size(-2) == weight.size(-1) else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# ---------------------------------------------------------------------- weight_norm

class _WeightNorm(Module):
    def __init__(self, dim=0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _g.norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """`name` = g * v / ||v|| with g = parametrizations.<name>.original0 and v = original1;
    a state_dict of the older hook form (name_g, name_v) loads into it."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _compat(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_compat)
    return module


# ---------------------------------------------------------------------- spectral_norm

class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._reshape_weight_to_matrix(weight)
            h, w = mat.size()
            with _g.no_grad():
                u = mat.new_empty(h).normal_(0, 1)
                v = mat.new_empty(w).normal_(0, 1)
                self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
                self._power_method(mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, mat, n_power_iterations):
        with _g.no_grad():
            for _ in range(n_power_iterations):
                self._u = F.normalize(_g.mv(mat, self._v), dim=0, eps=self.eps, out=self._u)
                self._v = F.normalize(_g.mv(mat.H, self._u), dim=0, eps=self.eps, out=self._v)

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        u = self._u.clone(memory_format=_g.contiguous_format)
        v = self._v.clone(memory_format=_g.contiguous_format)
        sigma = _g.vdot(u, _g.mv(mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """`name` divided by its spectral norm, estimated by power iteration (one step per
    access in training mode; dim 1 for transposed convolutions)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, _g.Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, _default_dim(module, dim), eps))
    return module
