"""nn ops: losses and cosine_similarity (nll_loss, nll_loss_nd and cross_entropy_loss are in
nn_loss_nll.py, which this module imports). `reduction` is ATen's int enum (0 none, 1 mean,
2 sum) or its name; `gpujit.nn.functional` maps PyTorch's Python arguments (reduction
strings, legacy size_average/reduce) onto these ops."""
from __future__ import annotations

import contextlib

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, broadcast_shapes, wrap_dim
from .nn import FLOATS, _NN, check_float, compute_dtype, dtype_of, kernel_of, not_implemented
from .reduction import _reduce_sum
from .registry import op
from . import memory_format as _mf

_LOSS = dict(tags=_NN, method=False, function=False, dtypes=FLOATS)
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum", "none": "none", "mean": "mean", "sum": "sum"}


def reduction_name(r):
    try:
        return _REDUCTIONS[r]
    except (KeyError, TypeError):
        raise ValueError(f"{r} is not a valid value for reduction") from None


def quiet(xp):
    """NumPy's floating point warnings off (CuPy has none)."""
    return np.errstate(all="ignore") if xp is np else contextlib.nullcontext()


def _div(xp, a, b):
    with quiet(xp):
        return xp.true_divide(a, b)


def _reduce(xp, loss, reduction, out_dtype, operands=()):
    r = reduction_name(reduction)
    if operands and loss.ndim > 1 and (r == "none" or loss.dtype == out_dtype):
        # laid out as TensorIterator lays out the operands' result (NumPy's order="K"
        # mostly agrees; CuPy's ufuncs are C-contiguous): 'none' returns it, and 'sum' /
        # 'mean' add it up in PyTorch's order for that layout (loss.sum(), .mean())
        loss = _mf.iterator_layout(xp, loss, operands)
    if r == "sum":
        loss = _reduce_sum(loss, None, loss.dtype)
    elif r == "mean":
        loss = _div(xp, _reduce_sum(loss, None, loss.dtype), loss.size)
    return xp.asarray(loss).astype(out_dtype, copy=False)


def _common_float(name, a, b):
    """PyTorch's promoted dtype of two loss operands; floating point only."""
    d = _dt.promote_types(dtype_of(a), dtype_of(b))
    if d.category != _dt.FLOATING:
        raise not_implemented(kernel_of(name, a), d)
    return d


def _pair_meta(name):
    def meta(self, target, reduction=1, *rest):
        d = _common_float(name, self, target)
        shape = broadcast_shapes(tuple(self.shape), tuple(target.shape))
        return TensorMeta(d, shape if reduction_name(reduction) == "none" else (),
                          self.device)
    return meta


_SAME_AS_COMPUTED = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


def _pair(xp, name, a, b):
    """Both operands cast to the computation dtype, broadcast; and the output dtype."""
    dt = a.dtype
    if dt == b.dtype and a.shape == b.shape and dt in _SAME_AS_COMPUTED:
        return a, b, dt     # (one shape, one float32 / float64 dtype: as they are)
    d = _common_float(name, a, b)
    ct = compute_dtype(xp, np.empty(0, d.np))
    shape = broadcast_shapes(a.shape, b.shape)
    a = xp.broadcast_to(a.astype(ct, copy=False), shape)
    return a, xp.broadcast_to(b.astype(ct, copy=False), shape), d.np


@op("aten::mse_loss(Tensor self, Tensor target, int reduction=Mean) -> Tensor",
    meta=_pair_meta("mse_loss"), **_LOSS)
def mse_loss(xp, self, target, reduction=1):
    """Mean squared error (self - target)**2, reduced."""
    a, b, odt = _pair(xp, "mse_loss", self, target)
    if odt == np.float16:
        # PyTorch's Half kernel rounds the difference and its square to float16 each (the
        # reduction then sums those in float32)
        d = (a - b).astype(np.float16)
        return _reduce(xp, (d * d).astype(a.dtype), reduction, odt, (self, target))
    return _reduce(xp, (a - b) ** 2, reduction, odt, (self, target))


def _l1_integral(self, target, reduction):
    """PyTorch's l1_loss is the composite (self - target).abs() then the reduction: for
    integer operands it computes (wrapping in their dtype; sum's result int64), their
    'mean' is mean()'s refusal, and two bools are sub's. The promoted dtype when it is not
    floating, else None."""
    from .pointwise import refuse_bool_subtraction
    refuse_bool_subtraction((dtype_of(self) is _dt.bool) + (dtype_of(target) is _dt.bool))
    d = _dt.promote_types(dtype_of(self), dtype_of(target))
    if d.category in (_dt.FLOATING, _dt.COMPLEX):    # (complex: |d| real, as the composite)
        return None
    if reduction_name(reduction) == "mean":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be "
                           f"either a floating point or complex dtype. Got: {d.short_name}")
    return d


def _l1_complex(self, target):
    """The real dtype of |self - target| for complex operands (else None)."""
    d = _dt.promote_types(dtype_of(self), dtype_of(target))
    if d.category != _dt.COMPLEX:
        return None
    return _dt.from_numpy_dtype(np.empty(0, d.np).real.dtype)


def _l1_meta(self, target, reduction=1):
    d = _l1_integral(self, target, reduction)
    real = _l1_complex(self, target) if d is None else None
    if real is not None:           # (torch's composite: |self - target| is real, reduced)
        shape = broadcast_shapes(tuple(self.shape), tuple(target.shape))
        return TensorMeta(real, shape if reduction_name(reduction) == "none" else (),
                          self.device)
    if d is None:
        return _pair_meta("l1_loss")(self, target, reduction)
    shape = broadcast_shapes(tuple(self.shape), tuple(target.shape))
    return TensorMeta(d if reduction_name(reduction) == "none" else _dt.int64,
                      shape if reduction_name(reduction) == "none" else (), self.device)


@op("aten::l1_loss(Tensor self, Tensor target, int reduction=Mean) -> Tensor",
    meta=_l1_meta, **_LOSS)
def l1_loss(xp, self, target, reduction=1):
    """Mean absolute error |self - target|, reduced."""
    d = _l1_integral(self, target, reduction)
    if d is not None:
        diff = xp.abs(xp.subtract(self.astype(d.np, copy=False), target.astype(d.np, copy=False)))
        return diff if reduction_name(reduction) == "none" else \
            xp.asarray(diff.sum(dtype=np.int64))
    if self.dtype.kind == "c" or target.dtype.kind == "c":
        c = np.result_type(self.dtype, target.dtype)
        diff = xp.abs(xp.subtract(self.astype(c, copy=False), target.astype(c, copy=False)))
        return _reduce(xp, diff, reduction, diff.dtype, (self, target))
    a, b, odt = _pair(xp, "l1_loss", self, target)
    return _reduce(xp, xp.abs(a - b), reduction, odt, (self, target))


@op("aten::smooth_l1_loss(Tensor self, Tensor target, int reduction=Mean, float beta=1.0) "
    "-> Tensor", meta=_pair_meta("smooth_l1_loss"), **_LOSS)
def smooth_l1_loss(xp, self, target, reduction=1, beta=1.0):
    """0.5 * d**2 / beta where |d| < beta, else |d| - 0.5 * beta (beta=0: l1)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    a, b, odt = _pair(xp, "smooth_l1_loss", self, target)
    if odt == np.float16 and beta != 0:
        # PyTorch's Half kernel: beta a float16, each operation's result rounded to it
        z, bh, half = xp.abs(a - b).astype(np.float16), np.float16(beta), np.float16(0.5)
        loss = xp.where(z < bh, half * z * z / bh, z - half * bh).astype(a.dtype)
        return _reduce(xp, loss, reduction, odt, (self, target))
    z = xp.abs(a - b)
    if beta == 0:
        loss = z
    else:
        loss = xp.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)
    return _reduce(xp, loss, reduction, odt, (self, target))


@op("aten::huber_loss(Tensor self, Tensor target, int reduction=Mean, float delta=1.0) "
    "-> Tensor", meta=_pair_meta("huber_loss"), **_LOSS)
def huber_loss(xp, self, target, reduction=1, delta=1.0):
    """0.5 * d**2 where |d| < delta, else delta * (|d| - 0.5 * delta)."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    a, b, odt = _pair(xp, "huber_loss", self, target)
    z = xp.abs(a - b)
    loss = xp.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))
    return _reduce(xp, loss, reduction, odt, (self, target))


def _kl_integral(self, target):
    """PyTorch's kl_div refuses integer and bool operands first, in its own words."""
    if any(dtype_of(t).category != _dt.FLOATING for t in (self, target)):
        raise RuntimeError("kl_div: Integral inputs not supported.")


def _kl_meta(self, target, reduction=1, log_target=False):
    _kl_integral(self, target)
    return _pair_meta("kl_div")(self, target, reduction)


@op("aten::kl_div(Tensor self, Tensor target, int reduction=Mean, *, bool log_target=False) "
    "-> Tensor", meta=_kl_meta, **dict(_LOSS, function=True))
def kl_div(xp, self, target, reduction=1, log_target=False):
    """Pointwise KL divergence target * (log(target) - self) (0 where target is 0), or
    exp(target) * (target - self) with log_target."""
    _kl_integral(self, target)
    a, b, odt = _pair(xp, "kl_div", self, target)
    # (PyTorch's composite: each op's float16 result rounded, as its ops' are)
    r = (lambda v: v.astype(np.float16).astype(a.dtype)) if odt == np.float16 else \
        (lambda v: v)
    if log_target:
        loss = r(r(xp.exp(b)) * r(b - a))
    else:
        with quiet(xp):   # xlogy(t, t): 0 where t == 0, NaN for t < 0 (its Half kernel
            # rounds log(t) to float16 first)
            xlogy = xp.where(b == 0, 0, b * r(xp.log(xp.where(b == 0, 1, b))))
        loss = r(r(xlogy) - r(b * a))
    return _reduce(xp, loss, reduction, odt, (target, self))


# ---------------------------------------------------------------------- binary cross entropy

def _bce_dtypes(self, target):
    """PyTorch's binary_cross_entropy: a target of the input's dtype (TensorIterator's
    same-dtype check, before the kernel's float dispatch); a weight of any dtype."""
    di, dt = dtype_of(self), dtype_of(target)
    if dt != di:
        raise RuntimeError(f"Found dtype {dt.short_name} but expected {di.short_name}")
    check_float("binary_cross_entropy", self)


def _bce_meta(self, target, weight=None, reduction=1):
    _bce_dtypes(self, target)
    shape = broadcast_shapes(tuple(self.shape), tuple(target.shape))
    return TensorMeta(self.dtype, shape if reduction_name(reduction) == "none" else (),
                      self.device)


@op("aten::binary_cross_entropy(Tensor self, Tensor target, Tensor? weight=None, "
    "int reduction=Mean) -> Tensor", meta=_bce_meta, **_LOSS)
def binary_cross_entropy(xp, self, target, weight=None, reduction=1):
    """-w * (t * log(x) + (1 - t) * log(1 - x)), each log clamped at -100 as PyTorch."""
    _bce_dtypes(self, target)
    ct = compute_dtype(xp, self)
    x = self.astype(ct, copy=False)
    if x.size and bool(((x < 0) | (x > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    t = target.astype(ct, copy=False)
    if t.size and bool(((t < 0) | (t > 1)).any()):
        raise RuntimeError("all elements of target should be between 0 and 1")
    # PyTorch's kernel: (t - 1) * max(log1p(-x), -100) - t * max(log(x), -100), its Half
    # one rounding each operation's result to float16
    r = (lambda v: v.astype(np.float16).astype(ct)) if self.dtype == np.float16 else \
        (lambda v: v)
    with quiet(xp):
        l1x, lx = r(xp.maximum(xp.log1p(-x), -100)), r(xp.maximum(xp.log(x), -100))
    loss = r(r(r(t - 1) * l1x) - r(t * lx))
    if weight is not None:
        loss = r(loss * weight.astype(ct, copy=False))
    return _reduce(xp, loss, reduction, self.dtype, (self, target))


def _bcel_dtype(self, target, pos_weight):
    """The loss's dtype: PyTorch's composite is log_sigmoid(input), (pos_weight - 1) *
    target + 1, then (1 - target).mul_(input): the target's dtype, which an integer target
    cannot hold (torch raises; gpujit computed a float loss) and a bool target or
    pos_weight refuses the subtraction."""
    check_float("binary_cross_entropy_with_logits", self)
    from .pointwise import refuse_bool_subtraction
    if pos_weight is not None and dtype_of(pos_weight) is _dt.bool:
        refuse_bool_subtraction(1)
    dt = dtype_of(target)
    if dt is _dt.bool:
        refuse_bool_subtraction(2)
    if dt.category != _dt.FLOATING:
        r = _dt.promote_types(dt, dtype_of(self))
        raise RuntimeError(f"result type {r.short_name} can't be cast to the desired output "
                           f"type {dt.short_name}")
    return dt


def _bcel_meta(self, target, weight=None, pos_weight=None, reduction=1):
    dt = _bcel_dtype(self, target, pos_weight)
    shape = broadcast_shapes(*[tuple(t.shape) for t in (self, target, weight, pos_weight)
                               if t is not None])
    return TensorMeta(dt, shape if reduction_name(reduction) == "none" else (), self.device)


@op("aten::binary_cross_entropy_with_logits(Tensor self, Tensor target, Tensor? weight=None, "
    "Tensor? pos_weight=None, int reduction=Mean) -> Tensor", meta=_bcel_meta,
    **dict(_LOSS, function=True))
def binary_cross_entropy_with_logits(xp, self, target, weight=None, pos_weight=None,
                                     reduction=1):
    """binary_cross_entropy(sigmoid(x), t) computed stably from the logits:
    (1 - t) * x + (1 + (pos_weight - 1) * t) * (log(1 + exp(-|x|)) + max(-x, 0))."""
    odt = _bcel_dtype(self, target, pos_weight).np
    ct = compute_dtype(xp, np.empty(0, np.promote_types(self.dtype, odt)))
    x = self.astype(ct, copy=False)
    t = target.astype(ct, copy=False)
    if self.dtype == np.float16 or odt == np.float16:
        # PyTorch's composite, each op's result rounded to its dtype where that is Half:
        # ls = log_sigmoid(x) (input's) (* (1 + (pos_weight - 1) * t)); (1 - t) * x - ls
        # (* weight) (target's) (all Half: 1554 of 4096 random elements were 1-38 ulps
        # off computed in float32)
        def r(v):
            return v.astype(np.float16).astype(ct)

        def keep(v):
            return v
        rx = r if self.dtype == np.float16 else keep
        rt = r if odt == np.float16 else keep
        with quiet(xp):
            ls = rx(xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x))))
            if pos_weight is not None:
                pw = pos_weight.astype(ct, copy=False)
                rw = r if np.promote_types(pos_weight.dtype, odt) == np.float16 else keep
                ls = rx(ls * rw(rw(rw(pw - 1) * t) + 1))
            loss = rt(rt(rt(1 - t) * x) - ls)
            if weight is not None:
                loss = rt(loss * weight.astype(ct, copy=False))
        return _reduce(xp, loss, reduction, odt, (target, self))
    softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)   # -log(sigmoid(x))
    if pos_weight is not None:
        lw = 1 + (pos_weight.astype(ct, copy=False) - 1) * t
        loss = (1 - t) * x + lw * softplus_neg
    else:
        loss = (1 - t) * x + softplus_neg
    if weight is not None:
        loss = loss * weight.astype(ct, copy=False)
    return _reduce(xp, loss, reduction, odt, (target, self))


def not_differentiable_words(fn, arg):
    """PyTorch's check_no_requires_grad error (OpDef.refuse_grad's message)."""
    return (f"The function '{fn}' is not differentiable with respect to argument '{arg}'. "
            f"This input cannot have requires_grad True.")


def _refused_args(fn, *names):
    """A refuse_grad for op `fn` (PyTorch's name) whose arguments `names` (in the order
    PyTorch checks them) take no gradient; positions follow the schema."""
    def refuse(*args):
        for n in names:
            v = args[_POS[fn][n]] if _POS[fn][n] < len(args) else None
            if v is not None and getattr(v, "requires_grad", False):
                return not_differentiable_words(fn, n)
        return None
    refuse.args = names
    return refuse


_POS = {"binary_cross_entropy": {"weight": 2},
        "binary_cross_entropy_with_logits": {"weight": 2, "pos_weight": 3}}
binary_cross_entropy.op.refuse_grad = _refused_args("binary_cross_entropy", "weight")
binary_cross_entropy_with_logits.op.refuse_grad = _refused_args(
    "binary_cross_entropy_with_logits", "weight", "pos_weight")


# ---------------------------------------------------------------------- nll / cross entropy
# nll_loss, nll_loss_nd and cross_entropy_loss are in nn_loss_nll.py, imported here so
# that they register between binary_cross_entropy_with_logits and cosine_similarity
from . import nn_loss_nll  # noqa: E402

_FAMILY = (nn_loss_nll,)


# ---------------------------------------------------------------------- cosine similarity

def _cos_meta(x1, x2, dim=1, eps=1e-08):
    d = _dt.promote_types(x1.dtype, x2.dtype)
    if d.category != _dt.FLOATING:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype "
                           f"is {d.short_name}")
    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    k = wrap_dim(dim, len(shape))
    return TensorMeta(d, tuple(s for i, s in enumerate(shape) if i != k), x1.device)


@op("aten::cosine_similarity(Tensor x1, Tensor x2, int dim=1, float eps=1e-08) -> Tensor",
    contiguous=True, tags=_NN, method=False, functional=True, dtypes=FLOATS, meta=_cos_meta)
def cosine_similarity(xp, x1, x2, dim=1, eps=1e-08):
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along dim (broadcast x1, x2)."""
    m = _cos_meta(TensorMeta(dtype_of(x1), x1.shape, None),
                  TensorMeta(dtype_of(x2), x2.shape, None), dim, eps)
    ct = compute_dtype(xp, np.empty(0, m.dtype.np))
    shape = broadcast_shapes(x1.shape, x2.shape)
    a = xp.broadcast_to(x1.astype(ct, copy=False), shape)
    b = xp.broadcast_to(x2.astype(ct, copy=False), shape)
    k = wrap_dim(dim, a.ndim)
    if m.dtype.np == np.float16:
        # PyTorch's composite in Half tensors: the norms (computed in float32), clamped
        # at eps, x / norm and the product rounded to half, the sum accumulated in float32
        # (gpujit's float32 computation differed in 42 of 64 rows, up to 113 ulps)
        def r(v):
            return v.astype(np.float16).astype(ct)
        with quiet(xp):
            e = r(xp.asarray(eps, ct))
            na = xp.maximum(r(xp.sqrt((a * a).sum(axis=k, keepdims=True))), e)
            nb = xp.maximum(r(xp.sqrt((b * b).sum(axis=k, keepdims=True))), e)
            return r(r(a / na) * r(b / nb)).sum(axis=k).astype(np.float16)
    if xp is np and ct in (np.float32, np.float64):
        # ATen's composite (Distance.cpp): linalg_vector_norm (its kernel's order where
        # the operand is contiguous over the trailing dims), clamp_min_(eps), the
        # quotients' product summed by its sum kernel: torch's bits
        from .linalg_norms import linalg_vector_norm
        from .reduction_cascade import cascade_sum
        with quiet(xp):
            na = np.maximum(linalg_vector_norm(np, a, 2, [k], True), ct.type(eps))
            nb = np.maximum(linalg_vector_norm(np, b, 2, [k], True), ct.type(eps))
            p = (a / na) * (b / nb)
            r = cascade_sum(p, (k,), False)
        if r is not None:
            return r
        return p.sum(axis=k)
    na = xp.maximum(xp.sqrt((a * a).sum(axis=k, keepdims=True)), eps)
    nb = xp.maximum(xp.sqrt((b * b).sum(axis=k, keepdims=True)), eps)
    return ((a / na) * (b / nb)).sum(axis=k).astype(m.dtype.np, copy=False)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops so that a backward can itself be
# recorded (create_graph=True). Formulas and kinks are PyTorch's (derivatives.yaml); the
# weights (weight, pos_weight) get their gradients too, where PyTorch refuses them.
from .registry import derivative as _derivative  # noqa: E402


def _shape(*tensors):
    return broadcast_shapes(*[tuple(t.shape) for t in tensors if t is not None])


def _per_element(grad, reduction, shape):
    """The output gradient as each loss element's: 'mean' spreads it over the elements."""
    if reduction_name(reduction) != "mean":
        return grad
    n = 1
    for s in shape:
        n *= s
    return grad / max(n, 1)


def _pair_grad(grad, self, target, reduction, d_loss):
    """Losses of d = self - target: d_loss(d) is the elementwise slope."""
    d = self - target
    g = d_loss(d) * _per_element(grad, reduction, tuple(d.shape))
    return g, -g


def _mse_grad_raw(xp, grad, self, target, reduction):
    # _pair_grad's registry calls on the arrays: sub's, mul's, div's and neg's ufuncs
    # (a Python number passed as it is, as their entry points pass it)
    from .derivatives import raw_operands
    if not raw_operands(self, target) or grad.dtype != self.dtype or (
            grad.ndim > 1 and not grad.flags.c_contiguous):
        return NotImplemented
    d = xp.subtract(self, target)
    pe = grad
    if reduction_name(reduction) == "mean":
        n = 1
        for s in d.shape:
            n *= s
        pe = xp.true_divide(grad, max(n, 1))
    elif grad.shape != d.shape:
        if grad.ndim:
            return NotImplemented
    if d.ndim and pe.shape in ((), d.shape):
        # (d is fresh: the products written into it, the same values)
        g = xp.multiply(xp.multiply(d, 2, out=d), pe, out=d)
    else:
        g = xp.multiply(xp.multiply(d, 2), pe)
    return g, xp.negative(g)


@_derivative(mse_loss, raw=_mse_grad_raw)
def _mse_grad(grad, self, target, reduction):
    return _pair_grad(grad, self, target, reduction, lambda d: 2 * d)


# PyTorch's l1_loss is (self - target).abs() reduced: abs saves the difference
@_derivative(l1_loss, computes={"diff": lambda self, target: self - target})
def _l1_grad(grad, diff, reduction):
    g = diff.sgn() * _per_element(grad, reduction, tuple(diff.shape))
    return g, -g


@_derivative(smooth_l1_loss)
def _smooth_l1_grad(grad, self, target, reduction, beta):
    return _pair_grad(grad, self, target, reduction,
                      lambda d: d.sign() if beta == 0 else (d / beta).clamp(-1, 1))


@_derivative(huber_loss)
def _huber_grad(grad, self, target, reduction, delta):
    return _pair_grad(grad, self, target, reduction, lambda d: d.clamp(-delta, delta))


# PyTorch's kl_div is target * (log(target) - input), or with log_target
# exp(target) * (target - input): it keeps the target and the input there, exp(target)
# and the difference here (never the target or the input themselves)
@_derivative(kl_div, computes={
    "tgt": lambda target, log_target: None if log_target else target,
    "inp": lambda self, log_target: None if log_target else self,
    "e": lambda target, log_target: target.exp() if log_target else None,
    "diff": lambda self, target, log_target: target - self if log_target else None},
    reads={"self": ("tgt", "e"), "target": ("tgt", "inp", "e", "diff")})
def _kl_div_grad(grad, self_shape, target_shape, reduction, log_target, tgt, inp, e, diff,
                 needs_grad):
    shape = broadcast_shapes(tuple(self_shape), tuple(target_shape))
    g = _per_element(grad, reduction, shape)
    if log_target:
        return ((-e * g).expand(shape) if needs_grad[0] else None,
                e * (diff + 1) * g if needs_grad[1] else None)
    # d/dt of t log t - t x: log t + 1 - x (-inf at t = 0, NaN below, as the loss)
    return ((-tgt * g).expand(shape) if needs_grad[0] else None,
            (tgt.log() + 1 - inp) * g if needs_grad[1] else None)


def _clamped_logs(x):
    """log(x) and log(1 - x), each clamped at -100 as binary_cross_entropy's forward."""
    return x.log().clamp_min(-100), (1 - x).log().clamp_min(-100)


def _mean_of(g, reduction, shape):
    """ATen's losses divide their elementwise gradient by the element count last, for
    'mean' (grad_input.div_(numel)): g / n, after the output gradient's product."""
    if reduction_name(reduction) != "mean":
        return g
    n = 1
    for s in shape:
        n *= s
    return g / max(n, 1)


@_derivative(binary_cross_entropy)
def _bce_grad(grad, self, target, weight, reduction):
    shape = _shape(self, target, weight)
    lx, l1x = _clamped_logs(self)
    g = _per_element(grad, reduction, shape)
    gw = None if weight is None else -(target * lx + (1 - target) * l1x) * g
    # binary_cross_entropy_backward's kernel: grad * (x - t) / max((1 - x) * x, 1e-12),
    # then times the weight, then / numel for 'mean'; the target's: -logit(x) * grad,
    # times the weight, / numel (binary_cross_entropy_target_backward)
    gx = grad * (self - target) / ((1 - self) * self).clamp_min(1e-12)
    gt = -self.logit() * grad
    if weight is not None:
        gx, gt = gx * weight, gt * weight
    return _mean_of(gx, reduction, shape), _mean_of(gt, reduction, shape), gw


@_derivative(binary_cross_entropy_with_logits)
def _bce_logits_grad(grad, self, target, weight, pos_weight, reduction):
    """loss = (1 - t) x + l (-log sigmoid(x)), l = 1 + (pos_weight - 1) t, times weight.
    The input's and the target's gradients are ATen's
    binary_cross_entropy_with_logits(_target)_backward: sigmoid(x) - t (with pos_weight
    (pw t + 1 - t) sigmoid(x) - pw t) and -x (log_sigmoid(-x) - log_sigmoid(x) pw), times
    grad, times the weight, / numel for 'mean'."""
    shape = _shape(self, target, weight, pos_weight)
    g = _per_element(grad, reduction, shape)
    sig = self.sigmoid()
    neg_log_sig = (-self.abs()).exp().log1p() + (-self).clamp_min(0)
    lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    gw = None if weight is None else ((1 - target) * self + lw * neg_log_sig) * g
    if pos_weight is None:
        gx, gt = (sig - target) * grad, -self * grad
    else:
        import gpujit
        t = pos_weight * target
        gx = ((t + 1 - target) * sig - t) * grad
        logsig = gpujit.nn.functional.logsigmoid
        gt = (logsig(-self) - logsig(self) * pos_weight) * grad
    if weight is not None:
        gx, gt = gx * weight, gt * weight
    gx, gt = _mean_of(gx, reduction, shape), _mean_of(gt, reduction, shape)
    if pos_weight is None:
        return gx, gt, gw, None
    if weight is not None:
        g = g * weight
    return gx, gt, gw, target * neg_log_sig * g


# (cos recomputed from the inputs: PyTorch's composite keeps the inputs and their norms,
# not its output, so a write into the output after the op is no error)
@_derivative(cosine_similarity)
def _cosine_similarity_grad(grad, x1, x2, dim, eps):
    """cos = sum(a b) / (|a|' |b|') with |a|' = max(|a|, eps): d cos / da = b / (|a|' |b|')
    - cos a / (|a|' |a|). PyTorch's composite clamps the norms in place under no_grad, so
    the clamp has no derivative: |a|'s own (a / |a|, 0 where |a| is 0) flows through it
    also where it is clamped."""
    shape = _shape(x1, x2)
    k = wrap_dim(dim, len(shape))
    a, b = x1.expand(shape), x2.expand(shape)
    na, nb = a.pow(2).sum(k, keepdim=True).sqrt(), b.pow(2).sum(k, keepdim=True).sqrt()
    ca, cb = na.clamp_min(eps), nb.clamp_min(eps)
    g, cos = grad.unsqueeze(k), (a / ca * (b / cb)).sum(k, keepdim=True)
    ga = b / (ca * cb) - (cos * a / (ca * na)).masked_fill(na == 0, 0)
    gb = a / (ca * cb) - (cos * b / (cb * nb)).masked_fill(nb == 0, 0)
    return g * ga, g * gb


# (PyTorch's BCE nodes have edges for self and target only: weight / pos_weight are not
# differentiated in derivatives.yaml; gpujit's gradient for one that requires grad stays)
binary_cross_entropy.op.derivative.edgeless = ("weight",)
binary_cross_entropy_with_logits.op.derivative.edgeless = ("weight", "pos_weight")


# ---------------------------------------------------------------------- composites
# (recording gradients, PyTorch's CompositeImplicitAutograd kernels run as their ops, so
# the graph has their nodes and edges; the op's meta checks the call first)

def _reduced(out, reduction):
    r = reduction_name(reduction)
    return out.mean() if r == "mean" else out.sum() if r == "sum" else out


def _l1_composite(self, target, reduction=1):
    """(self - target).abs(), reduced: MeanBackward0 -> AbsBackward0 -> SubBackward0."""
    _l1_meta(self, target, reduction)
    return _reduced((self - target).abs(), reduction)


def _kl_composite(self, target, reduction=1, log_target=False):
    """exp(target) * (target - self) with log_target, else xlogy(target, target) -
    target * self; reduced."""
    import gpujit as g
    _kl_meta(self, target, reduction, log_target)
    # (the right operand first, as GCC evaluates ATen's `a - b` / `a * b` of tensors: the
    # later node's backward runs first, so the target's gradient adds xlogy's two parts
    # before -self, log(t) + 1 - x, as torch's; left first, 202 of 900 float64 differed)
    if log_target:
        d = target - self
        out = g.exp(target) * d
    else:
        ts = target * self
        out = g.xlogy(target, target) - ts
    return _reduced(out, reduction)


def _cos_composite(x1, x2, dim=1, eps=1e-08):
    """PyTorch's cosine_similarity: integer operands converted, both expanded to one shape
    where they differ, each divided by its 2-norm along dim (a clone, clamped to eps in
    place with no gradient), the products summed: SumBackward1 -> MulBackward0 ->
    DivBackward0 -> (x, CloneBackward0 -> LinalgVectorNormBackward0)."""
    import gpujit as g
    d = _cos_meta(x1, x2, dim, eps).dtype
    x1 = x1 if x1.dtype.category == _dt.FLOATING else x1.to(d)
    x2 = x2 if x2.dtype.category == _dt.FLOATING else x2.to(d)
    if tuple(x1.shape) != tuple(x2.shape):
        shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
        x1, x2 = x1.expand(shape), x2.expand(shape)
    n1 = g.linalg.vector_norm(x1, 2, dim=dim, keepdim=True).clone()
    n2 = g.linalg.vector_norm(x2, 2, dim=dim, keepdim=True).clone()
    with g.no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


l1_loss.op.composite = _l1_composite
kl_div.op.composite = _kl_composite
cosine_similarity.op.composite = _cos_composite


# ---------------------------------------------------------------------- soft margin

def _soft_margin_meta(self, target, reduction=1):
    """ATen's soft_margin_loss writes neg(self) * target into a tensor of self's shape and
    dtype: a target that broadcasts it larger, or an integral self, is refused."""
    shape = broadcast_shapes(tuple(self.shape), tuple(target.shape))
    if shape != tuple(self.shape):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                           f"broadcast shape {list(shape)}")
    if self.dtype.category != _dt.FLOATING:
        got = _dt.promote_types(target.dtype, _dt.float32) \
            if target.dtype.category != _dt.FLOATING else target.dtype
        raise RuntimeError(f"result type {got.short_name} can't be cast to the desired "
                           f"output type {self.dtype.short_name}")
    return TensorMeta(self.dtype, tuple(self.shape) if reduction_name(reduction) == "none"
                      else (), self.device)


@op("aten::soft_margin_loss(Tensor self, Tensor target, int reduction=Mean) -> Tensor",
    meta=_soft_margin_meta, **_LOSS)
def soft_margin_loss(xp, self, target, reduction=1):
    """log(1 + exp(-target * self)), reduced: ATen's neg_out(self).mul_(target).exp_()
    .log1p_(), each step rounded to self's dtype."""
    _soft_margin_meta(TensorMeta(_dt.from_numpy_dtype(self.dtype), self.shape, None),
                      TensorMeta(_dt.from_numpy_dtype(target.dtype), target.shape, None),
                      reduction)
    dt = self.dtype
    p = (xp.negative(self) * target).astype(dt, copy=False)
    loss = xp.log1p(xp.exp(p)).astype(dt, copy=False)
    return _reduce(xp, loss.astype(compute_dtype(xp, self), copy=False), reduction, dt,
                   (self,))


_POS["soft_margin_loss"] = {"target": 1}
soft_margin_loss.op.refuse_grad = _refused_args("soft_margin_loss", "target")


# ATen's soft_margin_loss_backward: z = exp(-target * self), (target * z * -norm) / (z + 1)
# * grad, in that order (norm 1 / numel for 'mean'); the target takes no gradient
# (F.soft_margin_loss refuses one requiring it)
@_derivative(soft_margin_loss, wrt=("self",))
def _soft_margin_grad(grad, self, target, reduction):
    n = 1
    for s in self.shape:
        n *= s
    norm = 1.0 / n if reduction_name(reduction) == "mean" and n else 1.0
    z = (-target * self).exp()
    return (target * z * -norm) / (z + 1) * grad


# ---------------------------------------------------------------------- multi margin

def _multi_margin_meta(self, target, p=1, margin=1, weight=None, reduction=1):
    n = 1 if len(self.shape) <= 1 else self.shape[0]
    shape = () if len(self.shape) <= 1 and len(target.shape) == 0 else (n,)
    return TensorMeta(self.dtype, shape if reduction_name(reduction) == "none" else (),
                      self.device)


@op("aten::multi_margin_loss(Tensor self, Tensor target, Scalar p=1, Scalar margin=1, "
    "Tensor? weight=None, int reduction=Mean) -> Tensor", meta=_multi_margin_meta, **_LOSS)
def multi_margin_loss(xp, self, target, p=1, margin=1, weight=None, reduction=1):
    """Per sample, the sum over classes j != y of max(0, margin - x[y] + x[j])^p (times
    weight[y]), divided by the class count; reduced. (F.multi_margin_loss checks the
    arguments first, in torch's words.)"""
    n = 1 if self.ndim <= 1 else self.shape[0]
    c = self.size if self.ndim <= 1 else self.shape[1]
    x = self.reshape(n, c)
    y = target.reshape(n).astype(np.int64)
    rows = xp.arange(n)
    z = xp.maximum(margin - x[rows, y][:, None] + x, 0).astype(self.dtype, copy=False)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.reshape(-1)[y][:, None]
    z[rows, y] = 0
    loss = (z.sum(axis=1) / c).astype(self.dtype, copy=False)
    if self.ndim <= 1 and target.ndim == 0:
        loss = loss.reshape(())
    return _reduce(xp, loss, reduction, self.dtype)


_POS["multi_margin_loss"] = {"weight": 4}
multi_margin_loss.op.refuse_grad = _refused_args("multi_margin_loss", "weight")


def _times_output_grad(g, grad, reduction, n):
    """A margin loss's per-element gradient g [n, c] times the output gradient: per sample
    for 'none', / n for 'mean', as is for 'sum'."""
    r = reduction_name(reduction)
    if r == "none":
        return g * grad.reshape(n, 1)
    return g * (grad / n if r == "mean" else grad)


# ATen's multi_margin_loss_backward: for j != y with margin - x[y] + x[j] > 0, h = 1 (p 1)
# or 2 (margin - x[y] + x[j]) (p 2), times weight[y]: x[j] gets h / c, x[y] minus their
# sum; times the output gradient (per sample for 'none', / n for 'mean'); the weight
# takes no gradient
@_derivative(multi_margin_loss, wrt=("self",))
def _multi_margin_grad(grad, self, target, p, margin, weight, reduction):
    import gpujit
    shape = tuple(self.shape)
    n = 1 if self.dim() <= 1 else shape[0]
    c = self.numel() if self.dim() <= 1 else shape[1]
    x = self.reshape(n, c)
    y = target.reshape(n, 1)
    z = margin - x.gather(1, y) + x
    hot = gpujit.nn.functional.one_hot(y.reshape(-1), c) != 0
    h = gpujit.where((z > 0) & ~hot, z * 2 if p == 2 else gpujit.ones_like(z),
                     gpujit.zeros_like(z))
    if weight is not None:
        h = h * weight.reshape(-1)[y.reshape(-1)].unsqueeze(1)
    h = h / c
    g = h - hot.to(h.dtype) * h.sum(1, keepdim=True)
    return _times_output_grad(g, grad, reduction, n).reshape(shape)


# ---------------------------------------------------------------------- multilabel margin

def _multilabel_margin_meta(self, target, reduction=1):
    shape = () if len(self.shape) <= 1 else (self.shape[0],)
    return TensorMeta(self.dtype, shape if reduction_name(reduction) == "none" else (),
                      self.device)


def _multilabel_parts(xp, x, t):
    """valid (the target slots before the first -1), their class indices, is_target."""
    c = x.shape[1]
    valid = xp.cumprod(t >= 0, axis=1).astype(bool)
    idx = xp.where(valid, xp.maximum(t, 0), 0).astype(np.int64)
    is_target = xp.zeros(x.shape, dtype=bool)
    rows = xp.broadcast_to(xp.arange(x.shape[0])[:, None], idx.shape)
    is_target[rows[valid], idx[valid]] = True
    return valid, idx, is_target, c


@op("aten::multilabel_margin_loss(Tensor self, Tensor target, int reduction=Mean) -> Tensor",
    meta=_multilabel_margin_meta, **_LOSS)
def multilabel_margin_loss(xp, self, target, reduction=1):
    """Per sample, the sum over its target classes j (target's entries before the first -1)
    and non-target classes i of max(0, 1 - (x[j] - x[i])), divided by the class count;
    reduced. (F.multilabel_margin_loss checks the arguments first, in torch's words.)"""
    c = self.size if self.ndim <= 1 else self.shape[1]
    x = self.reshape(-1, c)
    valid, idx, is_target, _ = _multilabel_parts(xp, x, target.reshape(-1, c))
    xj = xp.take_along_axis(x, idx, axis=1)
    pair = xp.maximum(1 - xj[:, :, None] + x[:, None, :], 0)
    keep = valid[:, :, None] & ~is_target[:, None, :]
    loss = (xp.where(keep, pair, 0).sum(axis=(1, 2)) / c).astype(self.dtype, copy=False)
    if self.ndim <= 1:
        loss = loss.reshape(())
    return _reduce(xp, loss, reduction, self.dtype)


# ATen's multilabel_margin_loss_backward: each pair (target j, non-target i) with
# 1 - x[j] + x[i] > 0 adds 1 / c to x[i] and takes it from x[j]; times the output
# gradient (per sample for 'none', / n for 'mean'); the target takes none
@_derivative(multilabel_margin_loss, wrt=("self",))
def _multilabel_margin_grad(grad, self, target, reduction):
    import gpujit
    shape = tuple(self.shape)
    c = self.numel() if self.dim() <= 1 else shape[1]
    x = self.reshape(-1, c)
    t = target.reshape(-1, c)
    n = x.shape[0]
    valid = (t >= 0).long().cumprod(1) != 0
    idx = t.clamp_min(0) * valid.long()
    is_target = (gpujit.nn.functional.one_hot(idx, c) * valid.long().unsqueeze(2)).sum(1) > 0
    xj = x.gather(1, idx)
    keep = valid.unsqueeze(2) & (~is_target).unsqueeze(1)
    h = ((1 - xj.unsqueeze(2) + x.unsqueeze(1)) > 0) & keep
    h = h.to(x.dtype) / c
    g = h.sum(1) - gpujit.zeros_like(x).scatter_add(1, idx, h.sum(2))
    return _times_output_grad(g, grad, reduction, n).reshape(shape)

