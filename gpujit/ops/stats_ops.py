"""Products and statistics PyTorch builds from other ops: inner, vdot, dist, cov, corrcoef,
renorm, msort, trapezoid / trapz, cumulative_trapezoid and histogram.

Each is a registry op (its eager body over `xp`) so scripting and tracing see one node.
The derivatives of the compositions (`replay_derivative`) rebuild the op from registry ops
on the saved inputs and take that graph's gradient: the same formula PyTorch's autograd
follows through its CompositeImplicit kernels, double backward included.
"""
from __future__ import annotations

import numpy as np

from ..device import device_of_array
from .kernel_names import kernel_name
from .. import dtypes as _dt
from .._frames import warn_at_user_frame
from .meta import TensorMeta, broadcast_shapes, wrap_dim
from .node_names import aten_scalars
from .registry import op, OPS, Derivative
from .registry import derivative as _derivative
from .derivatives import not_implemented as _not_implemented

_LA = {"linalg"}
_SHAPE = {"shape"}


def _dtn(d):
    return d if isinstance(d, _dt.dtype) else _dt.from_numpy_dtype(d)


class _Replay:
    """compose's outputs, recorded at forward time, and the gradient edges the op's `wrt`
    arguments had then (None for one that needs no gradient): a later in-place write
    gives a tensor a new grad_fn, which compose's graph does not reach."""
    __slots__ = ("outs", "edges")

    def __init__(self, outs, edges):
        self.outs, self.edges = outs, edges


def replay_derivative(opdef, compose, wrt, params, at_forward=False):
    """The derivative of `opdef` as the gradient of `compose(**args)` (registry ops; a tuple
    for several outputs) with respect to the `wrt` tensors: the saved inputs themselves
    when the backward records a graph (create_graph), else detached copies.

    at_forward: compose runs when the op is recorded (a `computes` value, with gradients
    recorded), as PyTorch's autograd follows a CompositeImplicit kernel: its graph keeps
    what each of its ops saves (intermediates), not the op's inputs, so a write into an
    input after the op is an error only where PyTorch's is. (Costs a second forward.)"""
    if at_forward:
        import inspect

        def run(**kw):
            import gpujit
            from ..autograd.recording import edge_of
            def edge(t):
                if isinstance(t, (list, tuple)):            # a Tensor[] argument
                    return [edge(x) for x in t]
                return (edge_of(t) if isinstance(t, gpujit.Tensor) and t.is_floating_point()
                        else None)
            edges = [edge(kw.get(w)) for w in wrt]
            with gpujit.enable_grad():
                out = compose(**kw)
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
            return _Replay(outs, edges)
        run.__signature__ = inspect.Signature(
            [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY) for p in params])

        def replayed(grad, replay, outs):
            import gpujit
            grads = list(grad) if isinstance(grad, (tuple, list)) else [grad]
            pairs = [(o, g) for o, g in zip(outs, grads)
                     if isinstance(o, gpujit.Tensor) and o.requires_grad and g is not None]
            from ..autograd.engine import run_backward
            capture = {}
            flat = [x for e in replay.edges for x in (e if isinstance(e, list) else [e])]
            for e in flat:
                if e is not None and e not in capture:
                    capture[e] = len(capture)
            got = run_backward([o for o, _ in pairs], [g for _, g in pairs], True,
                               gpujit.is_grad_enabled(), capture) if pairs and capture \
                else [None] * len(capture)

            def pick(e):            # (a list of gradients for a Tensor[] argument)
                if isinstance(e, list):
                    return [pick(x) for x in e]
                return got[capture[e]] if e is not None else None
            res = tuple(pick(e) for e in replay.edges)
            return res if len(res) > 1 else res[0]
        # (outs as saved tensors: the node frees the recorded graph once it has run)
        opdef.derivative = Derivative(replayed, wrt, ("replay", "outs"), computes={
            "replay": run, "outs": lambda replay: replay.outs})
        return

    def fn(grad, **kw):
        import gpujit
        record = gpujit.is_grad_enabled()
        args, leaves = dict(kw), []
        for w in wrt:
            t = kw.get(w)
            if t is None or not t.is_floating_point():
                leaves.append(None)
                continue
            if not (record and t.requires_grad):
                t = t.detach()
                t._set_requires_grad(True)
            args[w] = t
            leaves.append(t)
        with gpujit.enable_grad():
            out = compose(**args)
        live = [t for t in leaves if t is not None]
        outs, grads = (list(out), list(grad)) if isinstance(out, tuple) else ([out], [grad])
        gs = iter(gpujit.autograd.grad(outs, live, grads, create_graph=record,
                                       allow_unused=True) if live else ())
        res = tuple(next(gs) if t is not None else None for t in leaves)
        return res if len(res) > 1 else res[0]
    opdef.derivative = Derivative(fn, wrt, params)


# ------------------------------------------------------------------ inner, vdot

def _inner_meta(self, other):
    if self.dtype is not other.dtype:
        raise RuntimeError("both inputs should have same dtype")
    sa, sb = tuple(self.shape), tuple(other.shape)
    if not sa or not sb:
        return TensorMeta(self.dtype, sa or sb, self.device)
    if self.dtype is _dt.bool:      # (PyTorch's dot / mm kernels have no bool version)
        kernel = "dot" if len(sa) == len(sb) == 1 else kernel_name("addmm_impl_cpu_", self)
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if sa[-1] != sb[-1] and None not in (sa[-1], sb[-1]):
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(sa)} and {list(sb)}")
    return TensorMeta(self.dtype, sa[:-1] + sb[:-1], self.device)


@op("aten::inner(Tensor self, Tensor other) -> Tensor", tags=_LA, meta=_inner_meta)
def inner(xp, self, other):
    _inner_meta(TensorMeta(_dtn(self.dtype), self.shape, device_of_array(self)),
                TensorMeta(_dtn(other.dtype), other.shape, None))
    if self.ndim == 0 or other.ndim == 0:
        return (self * other).astype(self.dtype, copy=False)
    a, b = self, other
    if a.dtype == np.float16:
        a, b = a.astype(np.float32), b.astype(np.float32)
    r = xp.tensordot(a, b, axes=([-1], [-1]))
    return xp.asarray(r).astype(self.dtype, copy=False)


def _inner_composite(self, other):
    """inner recording gradients: PyTorch's, self * other for a 0-dim operand, else
    tensordot(self, other, [-1], [-1]) (whose composite records its mm or dot)."""
    _inner_meta(self, other)
    if self.dim() == 0 or other.dim() == 0:
        return NotImplemented       # (the op's MulBackward0)
    return OPS["aten::tensordot"].public(self, other, [-1], [-1])


inner.op.composite = _inner_composite


@_derivative(inner, reads={"self": ("other",), "other": ("self",)})
def _inner_grad(grad, self, other, self_shape, other_shape, needs_grad):
    # (each operand's gradient reads only the other, as PyTorch keeps them)
    if not self_shape or not other_shape:
        return (grad * other if needs_grad[0] else None,
                grad * self if needs_grad[1] else None)
    na, nb = len(self_shape) - 1, len(other_shape) - 1
    td = OPS["aten::tensordot"].public
    # grad: a-batch dims then b-batch dims
    ga = gb = None
    if needs_grad[0]:
        ga = td(grad, other, list(range(na, na + nb)), list(range(nb))) if nb else \
            grad.unsqueeze(-1) * other
    if needs_grad[1]:
        gb = td(grad, self, list(range(na)), list(range(na))) if na else \
            grad.unsqueeze(-1) * self
    return ga, gb


def _vdot_meta(self, other):
    if len(self.shape) != 1 or len(other.shape) != 1:
        raise RuntimeError(f"1D tensors expected, but got {len(self.shape)}D and "
                           f"{len(other.shape)}D tensors")
    if self.dtype is not other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{self.dtype.short_name} and {other.dtype.short_name}")
    n, m = self.shape[0], other.shape[0]
    if n != m and None not in (n, m):
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to "
                           f"have the same number of elements, but got {n} and {m} elements "
                           f"respectively")
    return TensorMeta(self.dtype, (), self.device)


@op("aten::vdot(Tensor self, Tensor other) -> Tensor", tags=_LA, meta=_vdot_meta)
def vdot(xp, self, other):
    """The dot product, self conjugated (of real vectors: no conjugation to do)."""
    _vdot_meta(TensorMeta(_dtn(self.dtype), self.shape, None),
               TensorMeta(_dtn(other.dtype), other.shape, None))
    if self.dtype.kind == "c":
        self = xp.conj(self)
    return OPS["aten::dot"].impl(xp, self, other)


@_derivative(vdot, reads={"self": ("other",), "other": ("self",)})
def _vdot_grad(grad, self, other, needs_grad):
    # (vdot conjugates self: its gradient is grad.conj() * other, derivatives.yaml's)
    return ((grad.conj() if grad._dtype.cplx else grad) * other if needs_grad[0] else None,
            grad * self if needs_grad[1] else None)


# ------------------------------------------------------------------ dist

def _dist_meta(self, other, p=2):
    # (PyTorch's dist: self - other, then norm(): a bool pair fails in the subtraction)
    if self.dtype is _dt.bool and other.dtype is _dt.bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if self.dtype is _dt.bool or other.dtype is _dt.bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    d = _dt.promote_types(self.dtype, other.dtype)
    if d.category != _dt.FLOATING:
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {d.short_name} instead.")
    from .meta import broadcast_shapes
    broadcast_shapes(tuple(self.shape), tuple(other.shape))
    return TensorMeta(d, (), self.device)


@op("aten::dist(Tensor self, Tensor other, Scalar p=2) -> Tensor", tags=_LA, meta=_dist_meta)
def dist(xp, self, other, p=2):
    """The p-norm of self - other (broadcast, in their promoted dtype)."""
    d = _dist_meta(TensorMeta(_dtn(self.dtype), self.shape, None),
                   TensorMeta(_dtn(other.dtype), other.shape, None)).dtype
    diff = xp.asarray(self.astype(d.np) - other.astype(d.np))
    return OPS["aten::linalg_vector_norm"].impl(xp, diff, p)


def _dist_compose(self, other, p):
    return OPS["aten::linalg_vector_norm"].public(self - other, p)


# ------------------------------------------------------------------ cov, corrcoef

def _cov_meta(input, correction=1, fweights=None, aweights=None):
    nd = len(input.shape)
    if nd > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {nd} dimensions")
    if input.dtype is _dt.bool:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    n_obs = input.shape[-1] if nd else 1
    for name, w in (("fweights", fweights), ("aweights", aweights)):
        if w is None:
            continue
        if len(w.shape) > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but "
                               f"got {name} with {len(w.shape)} dimensions")
        wn = w.shape[0] if w.shape else 1
        if wn != n_obs and None not in (wn, n_obs):
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                               f"observations in the input but got {wn} != {n_obs}")
        if name == "fweights" and w.dtype.category != _dt.INTEGRAL:
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got "
                               f"fweights with {w.dtype.short_name} dtype")
        if name == "aweights" and w.dtype.category != _dt.FLOATING:
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but "
                               f"got aweights with {w.dtype.short_name} dtype")
    d = input.dtype
    if d.category != _dt.FLOATING:
        d = _dt.get_default_dtype()
    if aweights is not None:
        d = _dt.promote_types(d, aweights.dtype)
    shape = (input.shape[0],) * 2 if nd == 2 and input.shape[0] != 1 else ()
    return TensorMeta(d, shape, input.device)


def _dof_warning():
    warn_at_user_frame("cov(): degrees of freedom is <= 0. Correction should be strictly "
                       "less than the number of observations.")


@op("aten::cov(Tensor self, *, int correction=1, Tensor? fweights=None, "
    "Tensor? aweights=None) -> Tensor", tags=_LA,
    meta=lambda self, correction=1, fweights=None, aweights=None: _cov_meta(
        self, correction, fweights, aweights))
def cov(xp, self, correction=1, fweights=None, aweights=None):
    meta = _cov_meta(TensorMeta(_dtn(self.dtype), self.shape, None), correction,
                     None if fweights is None else TensorMeta(_dtn(fweights.dtype),
                                                              fweights.shape, None),
                     None if aweights is None else TensorMeta(_dtn(aweights.dtype),
                                                              aweights.shape, None))
    ct = meta.dtype.np
    x = self.reshape(1, -1) if self.ndim < 2 else self
    x = x.astype(np.float64 if ct == np.float16 else ct)
    if fweights is not None and xp is np and (fweights < 0).any():
        raise RuntimeError("cov(): fweights cannot be negative")
    if aweights is not None and xp is np and (aweights < 0).any():
        raise RuntimeError("cov(): aweights cannot be negative")
    w = None
    if fweights is not None:
        w = fweights.reshape(-1).astype(x.dtype)
    if aweights is not None:
        aw = aweights.reshape(-1).astype(x.dtype)
        w = aw if w is None else w * aw
    n = x.shape[1]
    w_sum = w.sum() if w is not None else x.dtype.type(n)
    if w is not None and xp is np and w_sum == 0:
        raise RuntimeError(_ZERO_WEIGHTS)
    avg = (x * w).sum(1) / w_sum if w is not None else x.mean(1)
    if w is not None and aweights is not None and correction != 0:
        norm = w_sum - correction * (w * aweights.reshape(-1).astype(x.dtype)).sum() / w_sum
    else:
        norm = w_sum - correction
    if float(norm) <= 0:
        _dof_warning()
        norm = 0
    xc = x - avg[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (xc @ (xc * w if w is not None else xc).T) / x.dtype.type(norm)
    return c.reshape(meta.shape).astype(ct, copy=False)


def _cov_compose(self, correction, fweights, aweights):
    """PyTorch's cov, in registry ops (for the derivative)."""
    x = self.reshape(1, -1) if self.dim() < 2 else self
    if not x.is_floating_point():
        x = x.to(_dt.get_default_dtype())
    w = None
    if fweights is not None:
        w = fweights.reshape(-1).to(x.dtype)
    if aweights is not None:
        w = aweights.reshape(-1) if w is None else w * aweights.reshape(-1)
        x = x.to(_dt.promote_types(x.dtype, w.dtype))
    n = x.shape[1]
    w_sum = w.sum() if w is not None else n
    avg = (x * w).sum(1) / w_sum if w is not None else x.mean(1)
    if w is not None and aweights is not None and correction != 0:
        norm = w_sum - correction * (w * aweights.reshape(-1)).sum() / w_sum
    else:
        norm = w_sum - correction
    norm = norm.clamp(min=0) if hasattr(norm, "clamp") else max(norm, 0)
    xc = x - avg.unsqueeze(1)
    c = xc.matmul((xc * w if w is not None else xc).t()) / norm
    return c.reshape(_cov_meta(self, correction, fweights, aweights).shape)


_ZERO_WEIGHTS = "cov(): weights sum to zero, can't be normalized"


def _cov_composite(self, correction=1, fweights=None, aweights=None):
    """cov recording gradients: PyTorch's (Correlation.cpp), whose nodes a user sees:
    (x - avg.unsqueeze(1)).mm(its (weighted) transpose) divided by the normalization
    factor (a 0-dim int64 tensor without weights), squeezed (SqueezeBackward0 ->
    DivBackward0 -> (MmBackward0 -> (SubBackward0, TBackward0), None))."""
    _cov_meta(self, correction, fweights, aweights)
    import gpujit
    x = self.view(1, -1) if self.dim() < 2 else self
    w = None
    if fweights is not None:
        if bool((fweights < 0).any()):
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights
    if aweights is not None:
        if bool((aweights < 0).any()):
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = gpujit.scalar_tensor(x.shape[1], dtype=gpujit.int64, device=x.device)
    else:
        w_sum = w.sum()
        if not bool(w_sum.ne(0)):
            raise RuntimeError(_ZERO_WEIGHTS)
    avg = (x * w if w is not None else x).sum(1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        with aten_scalars():        # (C++'s `correction * tensor`: MulBackward1)
            norm = w_sum - (w * aweights).sum().mul(correction) / w_sum
    else:
        norm = w_sum - correction
    if bool(norm.le(0)):
        _dof_warning()
        norm.zero_()
    x = x - avg.unsqueeze(1)
    return x.mm((x * w if w is not None else x).t()).true_divide(norm).squeeze()


cov.op.composite = _cov_composite


def _corrcoef_composite(self):
    """corrcoef recording gradients: PyTorch's, cov divided by its diagonal's square roots
    as a column and as a row, clipped to [-1, 1] (ClampBackward1 -> DivBackward0 ->
    (DivBackward0, ViewBackward0 -> SqrtBackward0 -> DiagonalBackward0)); c / c of a 0-dim
    covariance."""
    _corrcoef_meta(self)
    c = OPS["aten::cov"].public(self)
    if c.dim() == 0:
        return c / c
    stddev = c.diagonal().sqrt()
    c = c / stddev.view(-1, 1)
    c = c / stddev.view(1, -1)
    return c.clip(-1, 1)


def _corrcoef_meta(self):
    m = _cov_meta(self)
    return m


@op("aten::corrcoef(Tensor self) -> Tensor", tags=_LA, meta=_corrcoef_meta)
def corrcoef(xp, self):
    c = cov(xp, self)
    with np.errstate(divide="ignore", invalid="ignore"):
        if c.ndim == 0:
            return (c / c).astype(c.dtype, copy=False)
        s = xp.sqrt(xp.diagonal(c))
        r = c / s[:, None] / s[None, :]
        return xp.clip(r, -1, 1).astype(c.dtype, copy=False)


corrcoef.op.composite = _corrcoef_composite


def _corrcoef_compose(self):
    c = _cov_compose(self, 1, None, None)
    if c.dim() == 0:
        return c / c
    s = c.diagonal().sqrt()
    return (c / s.unsqueeze(1) / s.unsqueeze(0)).clamp(-1, 1)


# ------------------------------------------------------------------ renorm, msort

def _renorm_meta(self, p, dim, maxnorm):
    nd = len(self.shape)
    if nd < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    if not float(p) > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if not float(maxnorm) >= 0:     # (NaN too, as ATen's TORCH_CHECK(maxnorm >= 0))
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if self.dtype.category != _dt.FLOATING:
        raise RuntimeError(f"\"renorm\" not implemented for '{self.dtype.short_name}'")
    wrap_dim(dim, nd)
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


def _renorm_factor(xp, self, p, dim, maxnorm):
    d = wrap_dim(dim, self.ndim)
    axes = tuple(i for i in range(self.ndim) if i != d)
    x = self.astype(np.float32) if self.dtype == np.float16 else self
    norm = OPS["aten::linalg_vector_norm"].impl(xp, x, p, list(axes), True)
    with np.errstate(divide="ignore"):
        # PyTorch's kernel: maxnorm / (norm + 1e-7) where the norm exceeds maxnorm, the
        # norm of float16 in float32 and the factor a float16 tensor (self * factor then
        # rounds once more: 475 of 2048 elements differed with a float32 factor)
        return xp.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0).astype(self.dtype)


def _declare_renorm(inplace):
    name = "renorm_" if inplace else "renorm"
    sig = "Tensor(a!) self" if inplace else "Tensor self"
    ret = "Tensor(a!)" if inplace else "Tensor"

    @op(f"aten::{name}({sig}, Scalar p, int dim, Scalar maxnorm) -> {ret}",
        tags={"inplace"} if inplace else _SHAPE, function=not inplace, meta=_renorm_meta,
        contiguous=not inplace)
    def impl(xp, self, p, dim, maxnorm):
        _renorm_meta(TensorMeta(_dtn(self.dtype), self.shape, None), p, dim, maxnorm)
        r = (self * _renorm_factor(xp, self, p, dim, maxnorm)).astype(self.dtype, copy=False)
        if inplace:
            self[...] = r
            return self
        return r
    impl.__name__ = name
    return impl


renorm = _declare_renorm(False)
renorm_ = _declare_renorm(True)
renorm_.op.inplace_of = renorm.op


def _renorm_compose(self, p, dim, maxnorm):
    d = wrap_dim(dim, self.dim())
    axes = [i for i in range(self.dim()) if i != d]
    norm = OPS["aten::linalg_vector_norm"].public(self, p, axes, True)
    factor = (maxnorm / (norm + 1e-7)).where(norm > maxnorm, norm.new_ones(()))
    return self * factor


def _msort_meta(self):
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


@op("aten::msort(Tensor self) -> Tensor", tags=_SHAPE, meta=_msort_meta)
def msort(xp, self):
    """The values sorted along the first dimension (sort(self, 0).values)."""
    return OPS["aten::sort"].impl(xp, self, 0)[0]


# the sort's order taken at forward time (PyTorch's msort is sort(0), which keeps its
# indices, not the input)
@_derivative(msort, computes={"idx": lambda self: self.detach().sort(0)[1]})
def _msort_grad(grad, self_shape, idx):
    return grad.new_zeros(self_shape).scatter(0, idx, grad)


# ------------------------------------------------------------------ trapezoid

def _trap_dtype(d):
    return d if d.category >= _dt.FLOATING else _dt.get_default_dtype()    # (complex kept)


def _trap_empty(cumulative, y, dim):
    """trapezoid of no samples along dim: PyTorch's zeros in y's dtype (checked first)."""
    if cumulative or not len(y.shape):
        return False
    return y.shape[wrap_dim(dim, len(y.shape))] == 0


def _trap_x_shape(xs, nd, d):
    """The shape PyTorch views sample points x of shape xs as, for y of nd dims and dim d:
    a 1-D x along d, a shorter one with leading 1s, a longer one as it is."""
    if len(xs) == 1:
        return (1,) * d + tuple(xs) + (1,) * (nd - d - 1)
    return (1,) * (nd - len(xs)) + tuple(xs) if len(xs) < nd else tuple(xs)


def _trap_meta(name, cumulative):
    def meta(y, x=None, dx=None, dim=-1):
        if _trap_empty(cumulative, y, dim):
            shape = list(y.shape)
            del shape[wrap_dim(dim, len(shape))]
            return TensorMeta(y.dtype, tuple(shape), y.device)
        # (PyTorch refuses bool samples and spacings first; trapz is its trapezoid)
        if y.dtype is _dt.bool or (x is not None and x.dtype is _dt.bool):
            which = "`y`" if x is None else "`x` or `y`"
            raise RuntimeError(f"{'trapezoid' if name == 'trapz' else name}: received a bool "
                               f"input for {which}, but bool is not supported")
        nd = len(y.shape)
        if nd == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = wrap_dim(dim, nd)
        dt = _trap_dtype(y.dtype if x is None else _dt.promote_types(y.dtype, x.dtype))
        if x is not None and len(x.shape) == 1 and x.shape[0] != y.shape[d] and \
                None not in (x.shape[0], y.shape[d]):
            raise RuntimeError(f"{'trapezoid' if name == 'trapz' else name}: There must be "
                               f"one `x` value for each sample point")
        shape = list(y.shape)
        shape[d] = max(shape[d] - 1, 0) if shape[d] is not None else None
        if x is not None and len(x.shape) > 1:
            # (PyTorch's: (left + right) * x's differences along dim, broadcast; x not
            # broadcast to y first: x of (5, 2, 3) for y of (2, 3) is its size error)
            xs = list(_trap_x_shape(x.shape, nd, d))
            xs[d] = max(xs[d] - 1, 0) if xs[d] is not None else None
            shape = list(broadcast_shapes(shape, xs))
        if not cumulative:
            del shape[d]
        return TensorMeta(dt, tuple(shape), y.device)
    return meta


def _trap_eager(xp, name, cumulative, y, x, dx, dim):
    meta = _trap_meta(name, cumulative)(
        TensorMeta(_dtn(y.dtype), y.shape, None), None if x is None else
        TensorMeta(_dtn(x.dtype), x.shape, None), dx, dim)
    if _trap_empty(cumulative, y, dim):
        return xp.zeros(meta.shape, dtype=y.dtype)
    d = wrap_dim(dim, y.ndim)
    ct = meta.dtype.np
    if x is not None:
        return _trap_eager_x(xp, cumulative, y, x, d, ct)
    if y.dtype.kind in "iu":
        return _trap_eager_int(xp, cumulative, xp.moveaxis(y, d, -1), dx, d, ct)
    y = xp.moveaxis(y.astype(ct), d, -1)
    left, right = y[..., :-1], y[..., 1:]
    # (PyTorch's forms for a constant spacing: NaN from 0 * inf kept)
    h = ct.type(1 if dx is None else dx)
    if cumulative:
        r = xp.cumsum(h / 2 * (left + right), axis=-1)
    else:
        r = (y.sum(-1) - (y[..., 0] + y[..., -1]) * ct.type(0.5)) * h
    if cumulative:
        r = xp.moveaxis(r, -1, d)
    return xp.asarray(r).astype(ct, copy=False)


def _trap_eager_x(xp, cumulative, y, x, d, ct):
    """trapezoid with sample points x in PyTorch's layout: ((y[1:] + y[:-1]) * x's
    differences along d, broadcast).sum(d) / 2 (cumsum cumulatively). Integer samples sum
    neighbours in y's dtype (wrapping as PyTorch's), the products in the promoted dtype."""
    x = x.reshape(_trap_x_shape(x.shape, y.ndim, d))
    pre = (slice(None),) * d

    def part(a, lo, hi):
        return a[pre + (slice(lo, hi),)]
    if y.dtype.kind in "iu":
        pt = _dt.promote_types(_dtn(y.dtype), _dtn(x.dtype)).np
        pairs = (part(y, 1, None) + part(y, 0, -1)).astype(pt)
        acc = np.int64 if pt.kind in "iu" else pt
        spacing = (part(x, 1, None) - part(x, 0, -1)).astype(pt)
    else:
        y, x, acc = y.astype(ct), x.astype(ct), ct
        pairs = part(y, 1, None) + part(y, 0, -1)
        spacing = part(x, 1, None) - part(x, 0, -1)
    seg = pairs * spacing
    r = xp.cumsum(seg, axis=d, dtype=acc) if cumulative else seg.sum(d, dtype=acc)
    return xp.asarray(xp.asarray(r).astype(ct) / ct.type(2)).astype(ct, copy=False)


def _trap_eager_int(xp, cumulative, y, dx, d, ct):
    """trapezoid of integer samples y (d moved last) as PyTorch's integral.cpp computes it:
    the sums of neighbouring samples (and of the two ends) in y's dtype, wrapping as
    PyTorch's; sums over samples in int64; only then the float result dtype ct (float32 for
    the default dtype: y = [2**24 + 1, 1, 1, 3] gives 8388612, not the 8388610 of summing
    float32 samples; int8 [100, 100, 100] gives 328: 100 + 100 wraps to -56)."""
    pairs = y[..., :-1] + y[..., 1:]
    h = 1 if dx is None else dx
    if cumulative:      # (dx / 2. * (left + right)).cumsum(dim)
        r = xp.cumsum(ct.type(h / 2) * pairs.astype(ct), axis=-1)
    else:               # (y.sum(dim) - (y[0] + y[-1]) * 0.5) * dx
        ends = (y[..., 0] + y[..., -1]).astype(ct) * ct.type(0.5)
        r = (y.sum(-1, dtype=np.int64).astype(ct) - ends) * ct.type(h)
    if cumulative:
        r = xp.moveaxis(r, -1, d)
    return xp.asarray(r).astype(ct, copy=False)


def _trap_compose(cumulative):
    def compose(y, x=None, dx=None, dim=-1):
        d = wrap_dim(dim, y.dim())
        if _trap_empty(cumulative, y, d):
            return y.sum(d) * 0          # (zeros; PyTorch's need no gradient)
        yy = y.movedim(d, -1)
        left, right = yy[..., :-1], yy[..., 1:]
        if x is None:
            h = 1 if dx is None else dx
            if cumulative:
                return (h / 2 * (left + right)).cumsum(-1).movedim(-1, d)
            return (yy.sum(-1) - (yy[..., 0] + yy[..., -1]) * 0.5) * h
        x = x.reshape(_trap_x_shape(tuple(x.shape), y.dim(), d))     # (PyTorch's layout)
        n, m = y.shape[d], x.shape[d]
        seg = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * (
            x.narrow(d, 1, m - 1) - x.narrow(d, 0, m - 1))
        return seg.cumsum(d) / 2 if cumulative else seg.sum(d) / 2
    return compose


def _trap_torch(name, cumulative):
    """trapezoid / trapz / cumulative_trapezoid recording gradients: PyTorch's composites
    (Integration.cpp), whose nodes a user sees: a constant spacing (y.sum(dim) -
    (y.select(dim, 0) + y.select(dim, -1)) * 0.5) * dx (MulBackward1 -> SubBackward0 ->
    (SumBackward1, MulBackward1 -> AddBackward0 -> SelectBackward0s)), cumulatively
    (dx / 2. * (left + right)).cumsum(dim); sample points x viewed to y's rank (a 1-D x
    along dim, a shorter x padded with leading 1s), dx = x[1:] - x[:-1] along dim, then
    ((y[1:] + y[:-1]) * dx).sum(dim) / 2. ((left + right) * dx).cumsum(dim) / 2.
    cumulatively). No samples: the op's own path (trapezoid's fresh zeros)."""
    meta = _trap_meta(name, cumulative)

    def with_dx(y, dx=1, dim=-1):
        meta(y, None, None, dim)
        nd = y.dim()
        d = wrap_dim(dim, nd)
        n = y.shape[d]
        k = max(n - 1, 0)     # (slice(dim, 0, -1) and slice(dim, 1) of no samples: empty)
        if n == 0 and not cumulative:
            return NotImplemented
        with aten_scalars():
            if cumulative:
                return (y.narrow(d, 0, k) + y.narrow(d, min(n, 1), k)).mul(dx / 2.).cumsum(d)
            return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)).mul(0.5)).mul(dx)

    def with_x(y, x, dim=-1):
        meta(y, x, None, dim)
        nd = y.dim()
        d = wrap_dim(dim, nd)
        n = y.shape[d]
        if n == 0:
            return NotImplemented       # (trapezoid's fresh zeros; cumulative: its node)
        if x.dim() == 1:
            size = [1] * nd
            size[d] = x.shape[0]
            x = x.view(size)
        elif x.dim() < nd:
            x = x.view([1] * (nd - x.dim()) + list(x.shape))
        m = x.shape[d]
        spacing = x.narrow(d, 1, m - 1) - x.narrow(d, 0, m - 1)
        with aten_scalars():
            if cumulative:
                return ((y.narrow(d, 0, n - 1) + y.narrow(d, 1, n - 1)) * spacing).cumsum(
                    d).div(2.)
            return ((y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * spacing).sum(d).div(2.)
    return with_x, with_dx


def _trap_untracked(*impls):
    """trapezoid of no samples: PyTorch's fresh zeros, which carry no gradient
    (cumulative_trapezoid's empty result is computed, and tracked)."""
    for impl in impls:
        i = [a.name for a in impl.op.schema.arguments].index("dim")

        def when(*args, _i=i):
            return _trap_empty(False, args[0], args[_i] if len(args) > _i else -1)
        impl.op.untracked_when = when


def _declare_trap(name, cumulative):
    base = name
    x_meta = _trap_meta(base, cumulative)

    @op(f"aten::{name}.x(Tensor y, Tensor x, *, int dim=-1) -> Tensor", method=False,
        tags=_LA, contiguous=cumulative, meta=lambda y, x, dim=-1: x_meta(y, x, None, dim))
    def with_x(xp, y, x, dim=-1):
        return _trap_eager(xp, base, cumulative, y, x, None, dim)

    @op(f"aten::{name}.dx(Tensor y, *, Scalar dx=1, int dim=-1) -> Tensor", method=False,
        tags=_LA, contiguous=cumulative, meta=lambda y, dx=1, dim=-1: x_meta(y, None, dx, dim))
    def with_dx(xp, y, dx=1, dim=-1):
        return _trap_eager(xp, base, cumulative, y, None, dx, dim)
    with_x.__name__, with_dx.__name__ = f"{name}_x", f"{name}_dx"
    if not cumulative:
        _trap_untracked(with_x, with_dx)
    with_x.op.composite, with_dx.op.composite = _trap_torch(name, cumulative)
    comp = _trap_compose(cumulative)
    replay_derivative(with_x.op, lambda y, x, dim: comp(y, x, None, dim), ("y", "x"),
                      ("y", "x", "dim"), at_forward=True)
    replay_derivative(with_dx.op, lambda y, dx, dim: comp(y, None, dx, dim), ("y",),
                      ("y", "dx", "dim"), at_forward=True)
    return with_x, with_dx


trapezoid_x, trapezoid_dx = _declare_trap("trapezoid", False)
cumulative_trapezoid_x, cumulative_trapezoid_dx = _declare_trap("cumulative_trapezoid", True)


def _trapz_meta(y, x=None, dx=1.0, dim=-1):
    return _trap_meta("trapz", False)(y, x, dx, dim)


@op("aten::trapz.x(Tensor y, Tensor x, *, int dim=-1) -> Tensor", method=False, tags=_LA,
    meta=lambda y, x, dim=-1: _trapz_meta(y, x, None, dim))
def trapz_x(xp, y, x, dim=-1):
    return _trap_eager(xp, "trapz", False, y, x, None, dim)


@op("aten::trapz.dx(Tensor y, *, float dx=1, int dim=-1) -> Tensor", method=False, tags=_LA,
    meta=lambda y, dx=1.0, dim=-1: _trapz_meta(y, None, dx, dim))
def trapz_dx(xp, y, dx=1.0, dim=-1):
    return _trap_eager(xp, "trapz", False, y, None, dx, dim)


_tc = _trap_compose(False)
trapz_x.op.composite, trapz_dx.op.composite = _trap_torch("trapz", False)
_trap_untracked(trapz_x, trapz_dx)
replay_derivative(trapz_x.op, lambda y, x, dim: _tc(y, x, None, dim), ("y", "x"),
                  ("y", "x", "dim"), at_forward=True)
replay_derivative(trapz_dx.op, lambda y, dx, dim: _tc(y, None, dx, dim), ("y",),
                  ("y", "dx", "dim"), at_forward=True)
replay_derivative(dist.op, _dist_compose, ("self", "other"), ("self", "other", "p"))
replay_derivative(cov.op, _cov_compose, ("self", "fweights", "aweights"),
                  ("self", "correction", "fweights", "aweights"), at_forward=True)
replay_derivative(corrcoef.op, _corrcoef_compose, ("self",), ("self",), at_forward=True)
replay_derivative(renorm.op, _renorm_compose, ("self",), ("self", "p", "dim", "maxnorm"))
replay_derivative(renorm_.op, _renorm_compose, ("self",), ("self", "p", "dim", "maxnorm"))


# ------------------------------------------------------------------ histogram

def _hist_meta(self, bins, range=None, weight=None, density=False):
    if self.dtype.category != _dt.FLOATING:
        raise NotImplementedError(f"\"histogramdd\" not implemented for "
                                  f"'{self.dtype.short_name}'")
    if isinstance(bins, int):
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                               f"dimension 0")
        n_edges = bins + 1
    else:
        if bins.dtype is not self.dtype:
            raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have "
                               f"the same dtype, but got input with dtype "
                               f"{self.dtype.name} and bins for dimension 0 with dtype "
                               f"{bins.dtype.name}")
        n_edges = bins.shape[0] if bins.shape else 1
    if range is not None and float(range[0]) > float(range[1]):
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                           f"{range[0]:g} max {range[1]:g} for dimension 0")
    if weight is not None and tuple(weight.shape) != tuple(self.shape):
        raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have "
                           f"the same shape as the input tensor excluding its innermost "
                           f"dimension, but got input with shape {list(self.shape) + [1]} "
                           f"and weight with shape {list(weight.shape)}")
    return (TensorMeta(self.dtype, (None if n_edges is None else n_edges - 1,), self.device),
            TensorMeta(self.dtype, (n_edges,), self.device))


def _histogram(xp, self, bins, range, weight, density):
    _hist_meta(TensorMeta(_dtn(self.dtype), self.shape, None),
               bins if isinstance(bins, int) else TensorMeta(_dtn(bins.dtype),
                                                             bins.shape, None),
               range, None if weight is None else TensorMeta(None, weight.shape, None))
    dt = self.dtype
    x = self.reshape(-1).astype(np.float64)
    w = None if weight is None else weight.reshape(-1).astype(np.float64)
    if isinstance(bins, int):
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif x.size:
            lo, hi = float(x.min()), float(x.max())
        else:
            lo, hi = 0.0, 1.0
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = xp.linspace(lo, hi, bins + 1).astype(dt).astype(np.float64)
    else:
        edges = bins.reshape(-1).astype(np.float64)
        if edges.size > 1 and bool((edges[1:] < edges[:-1]).any()):
            return _histogram_unsorted(xp, x, w, edges, density).astype(dt), edges.astype(dt)
    hist, _ = xp.histogram(x, bins=edges, weights=w, density=density)
    return hist.astype(dt), edges.astype(dt)


def _histogram_unsorted(xp, x, w, edges, density):
    """Bins that do not increase, counted as ATen's histogramdd kernel counts them (NumPy
    refuses them: its ValueError leaked): a value between the first and the last edge goes
    to the bin its binary search (upper bound) finds, the last edge inclusive."""
    nb = edges.size - 1
    keep = (x >= edges[0]) & (x <= edges[-1])
    v = x[keep]
    # (std::upper_bound's steps, element-wise: NumPy's searchsorted halves otherwise on
    # edges that are not sorted)
    first = xp.zeros(v.shape, np.int64)
    count = xp.full(v.shape, edges.size, np.int64)
    while bool((count > 0).any()):
        step = count // 2
        it = first + step
        go = (count > 0) & ~(v < edges[xp.minimum(it, edges.size - 1)])
        first = xp.where(go, it + 1, first)
        count = xp.where(count > 0, xp.where(go, count - step - 1, step), 0)
    pos = first - 1
    pos = xp.where(pos == nb, nb - 1, pos)
    ok = (pos >= 0) & (pos < nb)
    wk = None if w is None else w[keep][ok]
    hist = xp.bincount(pos[ok], weights=wk, minlength=nb).astype(np.float64)[:nb]
    if density:
        hist = hist / (hist.sum() * (edges[1:] - edges[:-1]))
    return hist


@op("aten::histogram.bin_ct(Tensor self, int bins=100, *, float[]? range=None, "
    "Tensor? weight=None, bool density=False) -> (Tensor hist, Tensor bin_edges)",
    tags=_LA, meta=_hist_meta, namedtuple_name="histogram")
def histogram_bin_ct(xp, self, bins=100, range=None, weight=None, density=False):
    """Counts (or weight sums; a density with density=True) in `bins` equal bins over range
    (the input's min and max by default), and the bins' edges."""
    return _histogram(xp, self, bins, range, weight, density)


@op("aten::histogram.bins_tensor(Tensor self, Tensor bins, *, Tensor? weight=None, "
    "bool density=False) -> (Tensor hist, Tensor bin_edges)", tags=_LA,
    meta=lambda self, bins, weight=None, density=False: _hist_meta(self, bins, None, weight,
                                                                    density),
    namedtuple_name="histogram")
def histogram_bins_tensor(xp, self, bins, weight=None, density=False):
    """As histogram.bin_ct, with the bins' edges given (increasing)."""
    return _histogram(xp, self, bins, None, weight, density)


# (counts of values in bins: PyTorch records them and refuses the backward)
_not_implemented(histogram_bin_ct, histogram_bins_tensor,
                 message="derivative for aten::histogram is not implemented")
