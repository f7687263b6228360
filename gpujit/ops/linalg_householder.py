"""Householder reflectors, as LAPACK stores them: torch.geqrf (the QR factorization in
reflector form: R on and above the diagonal, the reflectors' vectors below it, and their
scalars tau), linalg.householder_product / orgqr (Q = H_1 ... H_k, its first n columns)
and ormqr (Q or Q^H times a matrix), with H_i = I - tau_i v_i v_i^H, v_i = e_i + the
entries of column i below the diagonal (of real matrices v_i^H = v_i^T).

geqrf runs NumPy's / CuPy's `qr(mode="raw")` (LAPACK's geqrf); the products apply the
reflectors one by one (k small matrix-vector steps per batch). householder_product has
PyTorch's derivative; geqrf has none, as in PyTorch (its backward raises).
"""
from __future__ import annotations

from .kernel_names import linalg_kernel_name
from .linalg_decomp import _check_float, _dtn
from .meta import TensorMeta
from .parser_errors import tensor_args
from .registry import derivative as _derivative
from .registry import op, OPS, tensor_method

PUBLIC = {}

_LA = {"linalg"}


# ------------------------------------------------------------------ geqrf

def _geqrf_meta(self, where=None):
    _check_float("torch.geqrf", self.dtype, self if where is None else where,
                 tuple(self.shape))
    if len(self.shape) < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    m, n = self.shape[-2:]
    return (TensorMeta(self.dtype, tuple(self.shape), self.device),
            TensorMeta(self.dtype, tuple(self.shape[:-2]) + (min(m, n),), self.device))


@op("aten::geqrf(Tensor self) -> (Tensor a, Tensor tau)", tags=_LA, fortran=("a",), meta=_geqrf_meta,
    namedtuple_name="geqrf")
def geqrf(xp, self):
    _geqrf_meta(TensorMeta(_dtn(self.dtype), self.shape, None), self)
    m, n = self.shape[-2:]
    if self.size == 0:
        return self.copy(), xp.zeros(self.shape[:-2] + (min(m, n),), self.dtype)
    h, tau = xp.linalg.qr(self, mode="raw")          # h: the factor transposed (Fortran)
    return (xp.ascontiguousarray(xp.swapaxes(h, -1, -2)).astype(self.dtype, copy=False),
            tau.astype(self.dtype, copy=False))


@_derivative(geqrf)
def _geqrf_grad(grad):
    raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


# ------------------------------------------------------------------ householder_product

def _hp_check(name, input_shape, tau_shape, dtype, tau_dtype, where=None):
    _check_float(name, dtype, where, input_shape)
    if len(input_shape) < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if len(tau_shape) != len(input_shape) - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {len(tau_shape)} and input.ndim is equal "
                           f"to {len(input_shape)}")
    if input_shape[-2] < input_shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           f"input.shape[-1]")
    if input_shape[-1] < tau_shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           f"tau.shape[-1]")
    if tuple(tau_shape[:-1]) != tuple(input_shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {tuple(tau_shape[:-1])}")
    if tau_dtype is not dtype:
        raise RuntimeError(f"{name}: tau dtype {tau_dtype.short_name} does not match input "
                           f"dtype {dtype.short_name}")


def _reflector(xp, a, i, **device):
    """v_i of the reflectors stored in a (..., m, n): 1 at row i, a's column i below it
    (xp: NumPy / CuPy on arrays, or gpujit on tensors in the derivative, which passes
    device=a.device: gpujit's factories make CPU tensors unless told)."""
    rows = xp.arange(a.shape[-2], **device)
    one = rows == i
    one = one.to(a.dtype) if hasattr(one, "to") else one.astype(a.dtype)
    return xp.where(rows > i, a[..., :, i], one)


def _cplx(a):
    return a.is_complex() if hasattr(a, "is_complex") else a.dtype.kind == "c"


def _apply(xp, v, t, x):
    """(I - t v v^H) x for a batch: v (..., m), t (...), x (..., m, n)."""
    vh = v[..., None, :]
    return x - (t[..., None, None] * v[..., :, None]) * ((vh.conj() if _cplx(v) else vh) @ x)


def _householder(xp, input, tau, name):
    _hp_check(name, input.shape, tau.shape, _dtn(input.dtype), _dtn(tau.dtype), input)
    m, n = input.shape[-2:]
    q = xp.broadcast_to(xp.eye(m, n, dtype=input.dtype), input.shape).copy()
    for i in reversed(range(tau.shape[-1])):        # H_0 (H_1 (... (H_{k-1} E)))
        q = _apply(xp, _reflector(xp, input, i), tau[..., i], q)
    return q


def _hp_meta(name):
    def meta(input, tau):
        _hp_check(name, tuple(input.shape), tuple(tau.shape), input.dtype, tau.dtype, input)
        return TensorMeta(input.dtype, tuple(input.shape), input.device)
    return meta


@op("aten::linalg_householder_product(Tensor input, Tensor tau) -> Tensor", tags=_LA, fortran=(0,),
    method=False, function=False, meta=_hp_meta("torch.linalg.householder_product"))
def linalg_householder_product(xp, input, tau):
    return _householder(xp, input, tau, "torch.linalg.householder_product")


@op("aten::orgqr(Tensor self, Tensor input2) -> Tensor", tags=_LA, fortran=(0,),
    meta=lambda self, input2: _hp_meta("torch.linalg.householder_product")(self, input2))
def orgqr(xp, self, input2):
    """torch.orgqr: linalg.householder_product under LAPACK's name."""
    return _householder(xp, self, input2, "torch.linalg.householder_product")


def _householder_grad(grad, input, tau, needs_grad):
    """Q = P_i H_i S_i (P_i = H_0..H_{i-1}, S_i = H_{i+1}..H_{k-1} E): with A_i = P_i^H G,
    dL/dH_i = A_i S_i^H, so dtau_i = -(A_i^H v)^H (S_i^H v) and
    dv = -(conj(tau_i) A_i (S_i^H v) + tau_i S_i (A_i^H v)); the stored column below the
    diagonal is v's free part (PyTorch's householder_product_backward, by reflector; of
    real matrices ^H is ^T and conj the identity)."""
    import gpujit as g
    cplx = input.is_complex()

    def h(x):
        return x.conj() if cplx else x
    m, n = input.shape[-2:]
    k = tau.shape[-1]
    vs = [_reflector(g, input, i, device=input.device) for i in range(k)]
    S = [None] * k
    s = g.eye(m, n, dtype=input.dtype, device=input.device).expand(*input.shape).clone()
    for i in reversed(range(k)):
        S[i] = s
        s = _apply(g, vs[i], tau[..., i], s)
    A = grad
    dvs, dtaus = [], []
    for i in range(k):
        v, t = vs[i], tau[..., i]
        Av = (h(v).unsqueeze(-2) @ A).squeeze(-2)          # v^H A_i   (..., n)
        Sv = (h(v).unsqueeze(-2) @ S[i]).squeeze(-2)       # v^H S_i   (..., n)
        dtaus.append(-(Av * h(Sv)).sum(-1))
        dvs.append(-(h(t).unsqueeze(-1) * (A @ h(Sv).unsqueeze(-1)).squeeze(-1)
                     + t.unsqueeze(-1) * (S[i] @ h(Av).unsqueeze(-1)).squeeze(-1)))
        A = _apply(g, v, h(t), A)                          # A_{i+1} = H_i^H A_i
    g_input = g.stack(dvs, -1).tril(-1) if k else g.zeros_like(input)[..., :0]
    if k < n:
        g_input = g.cat([g_input, g.zeros(*input.shape[:-1], n - k, dtype=input.dtype,
                                              device=input.device)], -1)
    g_tau = g.stack(dtaus, -1) if k else g.zeros_like(tau)
    return g_input, g_tau


_derivative(linalg_householder_product)(
    lambda grad, input, tau, needs_grad: _householder_grad(grad, input, tau, needs_grad))
_derivative(orgqr)(
    lambda grad, self, input2, needs_grad: _householder_grad(grad, self, input2, needs_grad))


# ------------------------------------------------------------------ ormqr

def ormqr(input, tau, other, left=True, transpose=False, *, out=None):
    """Q @ other (Q^H with transpose=True; other @ Q with left=False), Q the full square
    product of the reflectors in (input, tau) as geqrf stores them (a composition of
    registry ops: differentiable, eager)."""
    import gpujit as g
    tensor_args("ormqr", "input input2 input3", input, tau, other)   # (PyTorch's names)
    if left.__class__ is not bool or transpose.__class__ is not bool:
        # (torch.ormqr's binding, checked_bindings, words it as torch's parser)
        n, v = ("left", left) if left.__class__ is not bool else ("transpose", transpose)
        raise TypeError(f"ormqr(): argument '{n}' must be bool, not {type(v).__name__}")
    # (the ranks first, in torch 2.13's words: other.shape[-2] of a vector was an IndexError)
    for name, t in (("input", input), ("other", other)):
        if t.dim() < 2:
            raise RuntimeError(f"torch.ormqr: {name} must have at least 2 dimensions.")
    mn = other.shape[-2] if left else other.shape[-1]
    if input.shape[-2] != mn:
        side = "-2" if left else "-1"
        raise RuntimeError(f"torch.ormqr: other.shape[{side}] must be equal to "
                           f"input.shape[-2]")
    k = tau.shape[-1]
    if k > mn:
        raise RuntimeError("torch.ormqr: tau.shape[-1] must be less than or equal to "
                           "input.shape[-2]")
    if input.dtype not in (g.float32, g.float64) and not input.is_complex():
        # its kernel's error, not householder_product's ("orgmr_cuda" on cuda, as ATen)
        raise NotImplementedError(f"\"{linalg_kernel_name('ormqr_cpu', input)}\" not "
                                  f"implemented for '{input.dtype.short_name}'")
    # pad to a square (mn, mn) set of reflectors: a reflector with tau 0 is the identity
    a = input[..., :, :k]
    if k < mn:
        a = g.cat([a, g.zeros(*a.shape[:-1], mn - k, dtype=a.dtype, device=a.device)], -1)
        tau = g.cat([tau, g.zeros(*tau.shape[:-1], mn - k, dtype=tau.dtype,
                                  device=tau.device)], -1)
    q = OPS["aten::linalg_householder_product"].public(a, tau)
    q = q.mH if transpose else q
    r = q @ other if left else other @ q
    r = r.mT.contiguous().mT        # column-major per matrix, as PyTorch's LAPACK result
    if out is not None:
        out.resize_(r.shape).copy_(r)
        return out
    return r


PUBLIC["ormqr"] = ormqr
tensor_method("ormqr")(ormqr)
